"""SFM-shaped rows (the columns of :func:`eo_drr.sendai.sfm.sfm_table`) of exposure trends and
ecosystem change per unit: urban growth between two built-up epochs (``EO-TREND-BU``,
``EO-TREND-HZ``) and wetland-extent change (``EO-WET``). No Sendai indicator stands behind
them (``proxy_for`` is empty); every row says so in its ``note``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.sendai.sfm import EventKey, Indicator, event_key, long_rows

#: Exposure-trend indicators from :func:`eo_drr.sendai.growth.growth_by_unit` (no Sendai
#: indicator stands behind them: ``proxy_for`` is empty). Settlement added between two built-up
#: epochs, and the part of it inside hazard zones (split into formal / informal areas when
#: the growth table has them).
GROWTH_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "EO-TREND-BU",
        "",
        "new_builtup_ha",
        "ha",
        "Built-up area added between the two epochs (exposure trend)",
    ),
    Indicator(
        "EO-TREND-BU",
        "",
        "new_builtup_formal_ha",
        "ha",
        "Built-up area added between the two epochs (exposure trend)",
        "settlement:formal",
    ),
    Indicator(
        "EO-TREND-BU",
        "",
        "new_builtup_informal_ha",
        "ha",
        "Built-up area added between the two epochs (exposure trend)",
        "settlement:informal",
    ),
    Indicator(
        "EO-TREND-HZ",
        "",
        "new_builtup_hazard_ha",
        "ha",
        "Built-up area added inside hazard zones (exposure trend)",
    ),
    Indicator(
        "EO-TREND-HZ",
        "",
        "new_builtup_hazard_formal_ha",
        "ha",
        "Built-up area added inside hazard zones (exposure trend)",
        "settlement:formal",
    ),
    Indicator(
        "EO-TREND-HZ",
        "",
        "new_builtup_hazard_informal_ha",
        "ha",
        "Built-up area added inside hazard zones (exposure trend)",
        "settlement:informal",
    ),
)

#: Wetland-extent change (ecosystem buffer: wetlands store flood water; no Sendai indicator
#: stands behind it, ``proxy_for`` is empty), from a per-unit table of hectares gained and
#: lost between a reference period and the later one.
WETLAND_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "EO-WET",
        "",
        "gained_ha",
        "ha",
        "Wetland area gained since the reference period (ecosystem buffer)",
        "change:gained",
    ),
    Indicator(
        "EO-WET",
        "",
        "lost_ha",
        "ha",
        "Wetland area lost since the reference period (ecosystem buffer)",
        "change:lost",
    ),
    Indicator(
        "EO-WET",
        "",
        "net_change_ha",
        "ha",
        "Net wetland area change since the reference period (ecosystem buffer)",
        "change:net",
    ),
)

#: The note on exposure-trend and ecosystem rows.
TREND_NOTE = (
    "Earth-observation measure of exposure trend or ecosystem change; no Sendai "
    "indicator behind it; not a reported Sendai value"
)
#: How trend values bound the truth: pixels unobserved at either epoch count in no class.
TREND_BOUND = "observed pixels only (lower bound)"


def _trend_rows(
    table: pd.DataFrame,
    indicators: Sequence[Indicator],
    key: EventKey,
    *,
    what: str,
    observed: np.ndarray,
) -> pd.DataFrame:
    if "name" not in table.columns:
        raise InputError(_("{what}: needs a 'name' column").format(what=what))
    present = [ind for ind in indicators if ind.column in table.columns]
    return long_rows(
        table, present, key, observed=observed, uncertainty=TREND_BOUND, note=TREND_NOTE
    )


def growth_rows(
    growth: pd.DataFrame,
    *,
    event_id: str,
    date: dt.date | str,
    hazard_code: str = "MH0600",
    admin_level: int | str | None = None,
    area_ha: pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """SFM-shaped rows (same columns as :func:`sfm_table`) of urban growth per unit, from
    :func:`eo_drr.sendai.growth.growth_by_unit` (indexed by unit code, hectares): settlement
    added between the epochs (``EO-TREND-BU``) and inside hazard zones (``EO-TREND-HZ``),
    with ``settlement:formal`` / ``settlement:informal`` rows when the table splits them.
    ``date`` is the later epoch; ``hazard_code`` the hazard of the zones. ``observed_share``
    is ``observed_ha / area_ha`` (0-1) when the unit areas are given (``area_ha``, or an
    ``area_ha`` column), else NaN (unknown)."""
    if "new_builtup_ha" not in growth.columns:
        raise InputError(_("growth table: needs the 'new_builtup_ha' column of growth_by_unit"))
    area = growth["area_ha"] if area_ha is None and "area_ha" in growth.columns else area_ha
    if area is not None and "observed_ha" in growth.columns:
        area = np.asarray(area, dtype=np.float64)
        obs = np.clip(
            np.divide(
                growth["observed_ha"].to_numpy(dtype=np.float64),
                area,
                out=np.zeros(len(growth)),
                where=area > 0,
            ),
            0.0,
            1.0,
        )
    else:
        obs = np.full(len(growth), np.nan)
    return _trend_rows(
        growth,
        GROWTH_INDICATORS,
        event_key(event_id, date, hazard_code, admin_level),
        what="growth table",
        observed=obs,
    )


def wetland_rows(
    change: pd.DataFrame,
    *,
    event_id: str,
    date: dt.date | str,
    hazard_code: str = "MH0600",
    admin_level: int | str | None = "wetland",
) -> pd.DataFrame:
    """SFM-shaped rows (same columns as :func:`sfm_table`) of wetland-extent change per unit
    (``EO-WET``: ``change:gained``, ``change:lost`` and ``change:net`` = gained - lost, ha).

    ``change`` is indexed by unit code (an admin unit, or a wetland polygon id as in the
    wetlands pipeline's summary, where ``admin_level`` says ``wetland``) with ``name``,
    ``gained_ha`` and ``lost_ha`` (hectares, pixels observed in both periods only); an
    ``area_ha`` and ``observed_ha`` pair gives ``observed_share``, else it is NaN (unknown).
    A unit with no change gets zero rows, never missing rows; negative hectares are refused.
    """
    for col in ("gained_ha", "lost_ha"):
        if col not in change.columns:
            raise InputError(
                _("wetland change table: no {col!r} column (columns: {columns})").format(
                    col=col, columns=", ".join(map(str, change.columns))
                )
            )
    t = change.copy()
    if "name" not in t.columns:
        t["name"] = t.index.astype(str)
    gained = t["gained_ha"].to_numpy(dtype=np.float64)
    lost = t["lost_ha"].to_numpy(dtype=np.float64)
    if (np.nan_to_num(gained) < 0).any() or (np.nan_to_num(lost) < 0).any():
        raise InputError(_("wetland change table: negative hectares gained or lost"))
    t["net_change_ha"] = np.nan_to_num(gained) - np.nan_to_num(lost)
    if {"area_ha", "observed_ha"} <= set(t.columns):
        area = t["area_ha"].to_numpy(dtype=np.float64)
        obs = np.clip(
            np.divide(
                t["observed_ha"].to_numpy(dtype=np.float64),
                area,
                out=np.zeros(len(t)),
                where=area > 0,
            ),
            0.0,
            1.0,
        )
    else:
        obs = np.full(len(t), np.nan)
    return _trend_rows(
        t,
        WETLAND_INDICATORS,
        event_key(event_id, date, hazard_code, admin_level),
        what="wetland change table",
        observed=obs,
    )
