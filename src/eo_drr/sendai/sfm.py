"""The Sendai Framework Monitor (SFM) shaped table of EO proxies: one row per event x unit x
indicator (x disaggregation), with CSV, GeoParquet and GeoPackage writers.

The SFM collects absolute counts per hazardous event, per year and per country, disaggregated
by hazard, geography, sex and age (0-14, 15-64, 65+). This table has the same shape so that a
national focal point can line it up with SFM records, but **every value is an Earth-observation
proxy** (``method = "EO proxy"``; the Sendai indicator it stands in for, e.g. ``B-1``, is in
the column ``proxy_for``, and our own code, e.g. ``EO-B1``, in ``indicator_code``): people, cropland, built-up area, facilities and roads
*inside an observed flood footprint*, not people affected, losses or damage as SFM defines them.

Hazards are coded with the UNDRR-ISC Hazard Information Profiles (HIPs; UNDRR and ISC,
"Hazard Information Profiles: Supplement to UNDRR-ISC Hazard Definition & Classification
Review", 2020, updated 2025): ``MH0600`` Flooding (chapeau), ``MH0601`` Coastal flood,
``MH0603`` Flash flood, ``MH0604`` Fluvial (riverine) flood, ``MH0605`` Groundwater flood,
``MH0608`` Pluvial flood (surface water flooding).

Rows of the same shape for exposure trends and wetland change: :mod:`eo_drr.sendai.sfm_trends`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eo_drr.errors import InputError
from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _

#: UNDRR-ISC HIP codes for floods (HIP 2020, MH06xx "Flooding" cluster).
HIP_FLOOD: dict[str, str] = {
    "MH0600": "Flooding (chapeau)",
    "MH0601": "Coastal flood",
    "MH0603": "Flash flood",
    "MH0604": "Fluvial (riverine) flood",
    "MH0605": "Groundwater flood",
    "MH0608": "Pluvial flood",
}
METHOD = "EO proxy"
#: What every row says about itself (never a reported Sendai value).
VALUE_NOTE = (
    "Earth-observation proxy inside the observed hazard footprint; not a reported Sendai value"
)


@dataclass(frozen=True)
class Indicator:
    """One EO-proxy indicator: the column of the indicator table it comes from."""

    code: str  #: our indicator code, e.g. ``"EO-B1"``
    proxy_for: str  #: the Sendai indicator it stands in for, e.g. ``"B-1"``
    column: str  #: column of :func:`eo_drr.sendai.indicators.indicators_by_unit`
    unit: str
    description: str  #: in English (the files' text); marked for translation (``N_``)
    disaggregation: str = "total"  #: ``total``, ``sex:female``, ``age:0-14``, ...


#: The indicators, in table order (rows are written only for columns present).
INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "EO-B1",
        "B-1",
        "exposed_population",
        "persons",
        N_("People living inside the observed flood extent"),
    ),
    Indicator(
        "EO-B1",
        "B-1",
        "exposed_population_female",
        "persons",
        N_("People living inside the observed flood extent"),
        "sex:female",
    ),
    Indicator(
        "EO-B1",
        "B-1",
        "exposed_population_male",
        "persons",
        N_("People living inside the observed flood extent"),
        "sex:male",
    ),
    Indicator(
        "EO-B1",
        "B-1",
        "exposed_population_age_0_14",
        "persons",
        N_("People living inside the observed flood extent"),
        "age:0-14",
    ),
    Indicator(
        "EO-B1",
        "B-1",
        "exposed_population_age_15_64",
        "persons",
        N_("People living inside the observed flood extent"),
        "age:15-64",
    ),
    Indicator(
        "EO-B1",
        "B-1",
        "exposed_population_age_65_plus",
        "persons",
        N_("People living inside the observed flood extent"),
        "age:65+",
    ),
    Indicator(
        "EO-C2", "C-2", "flooded_cropland_ha", "ha", N_("Cropland inside the observed flood extent")
    ),
    Indicator(
        "EO-C4",
        "C-4",
        "flooded_builtup_ha",
        "ha",
        N_("Built-up area inside the observed flood extent"),
    ),
    Indicator(
        "EO-D2",
        "D-2",
        "flooded_health",
        "count",
        N_("Health facilities inside the observed flood extent"),
    ),
    Indicator(
        "EO-D3",
        "D-3",
        "flooded_education",
        "count",
        N_("Educational facilities inside the observed flood extent"),
    ),
    Indicator(
        "EO-D4", "D-4", "flooded_road_km", "km", N_("Road length inside the observed flood extent")
    ),
    Indicator(
        "EO-TREND",
        "",
        "new_builtup_flooded_ha",
        "ha",
        N_("Built-up area added since the earlier epoch, inside the flood extent (exposure trend)"),
    ),
    Indicator("EO-HAZ", "G-5", "flooded_ha", "ha", N_("Observed flood extent")),
    Indicator(
        "EO-OBS",
        "",
        "observed_share",
        "fraction",
        N_("Share of the unit observed by the hazard layer (coverage)"),
    ),
    Indicator(
        "EO-NODATA",
        "",
        "nodata_share",
        "fraction",
        N_("Share of the unit not observed (cloud, radar shadow, outside the scene)"),
    ),
)

#: Columns of the SFM-shaped table, in order.
COLUMNS = (
    "event_id",
    "hazard_code",
    "hazard_name",
    "admin_level",
    "admin_code",
    "admin_name",
    "date",
    "indicator_code",
    "proxy_for",
    "indicator",
    "disaggregation",
    "value",
    "unit",
    "method",
    "observed_share",
    "nodata_share",
    "uncertainty",
    "note",
)


def sfm_table(
    indicators: pd.DataFrame,
    *,
    event_id: str,
    date: dt.date | str,
    hazard_code: str = "MH0600",
    admin_level: int | str | None = None,
) -> pd.DataFrame:
    """The long SFM-shaped table from :func:`~eo_drr.sendai.indicators.indicators_by_unit`.

    One row per unit x indicator (x sex/age band), units in the table's order, indicators in
    :data:`INDICATORS` order; a unit with nothing flooded has rows with value 0 (never missing
    rows). ``date`` is the event (observation) date, ISO ``YYYY-MM-DD``; ``admin_level`` is
    taken from the table's ``level`` column when not given. ``observed_share`` and
    ``nodata_share`` repeat the unit's hazard coverage on every row; ``uncertainty`` says how
    the value bounds the truth (``lower bound``: unobserved pixels count as not flooded).
    """
    key = event_key(event_id, date, hazard_code, admin_level)
    if "observed_share" not in indicators.columns or "name" not in indicators.columns:
        raise InputError(
            _(
                "indicator table: needs the 'name' and 'observed_share' columns of "
                "indicators_by_unit"
            )
        )
    present = [ind for ind in INDICATORS if ind.column in indicators.columns]
    bound = [
        "exact" if ind.column in ("observed_share", "nodata_share") else "lower bound"
        for ind in present
    ]
    return long_rows(
        indicators,
        present,
        key,
        observed=indicators["observed_share"].to_numpy(dtype=np.float64),
        uncertainty=bound,
        note=VALUE_NOTE,
    )


@dataclass(frozen=True)
class EventKey:
    """What every row of one table repeats: the event, its date (ISO ``YYYY-MM-DD``), its
    UNDRR-ISC HIP code and the admin level (None: the table's ``level`` column)."""

    event_id: str
    day: str
    hazard_code: str
    admin_level: int | str | None


def event_key(
    event_id: str, date: dt.date | str, hazard_code: str, admin_level: int | str | None
) -> EventKey:
    """The checked :class:`EventKey`: ``hazard_code`` a HIP flood code, ``event_id`` not empty,
    ``date`` a day (:class:`datetime.date` or ISO ``YYYY-MM-DD...``)."""
    if hazard_code not in HIP_FLOOD:
        raise InputError(
            _("hazard code {hazard_code!r} is not a UNDRR-ISC HIP flood code ({hip_flood})").format(
                hazard_code=hazard_code, hip_flood=", ".join(HIP_FLOOD)
            )
        )
    if not str(event_id).strip():
        raise InputError(_("event id is empty"))
    text = date if isinstance(date, str) else date.isoformat()
    try:
        day = dt.date.fromisoformat(str(text)[:10]).isoformat()
    except ValueError as exc:
        raise InputError(_("event date {date!r} is not YYYY-MM-DD").format(date=date)) from exc
    return EventKey(event_id, day, hazard_code, admin_level)


def long_rows(
    table: pd.DataFrame,
    present: Sequence[Indicator],
    key: EventKey,
    *,
    observed: Sequence[float] | np.ndarray,
    uncertainty: str | Sequence[str],
    note: str,
) -> pd.DataFrame:
    """One row per unit (``table``'s rows, in order) x indicator (``present``, in order), with
    the :data:`COLUMNS`; ``observed`` is each unit's observed share (0-1), ``uncertainty`` one
    string or one per indicator."""
    n_units, n_ind = len(table), len(present)
    if key.admin_level is not None:
        level = np.full(n_units, str(key.admin_level), dtype=object)
    elif "level" in table.columns:
        level = table["level"].astype(str).to_numpy()
    else:
        level = np.full(n_units, "", dtype=object)
    values = (
        np.column_stack([table[ind.column].to_numpy(dtype=np.float64) for ind in present])
        if n_ind
        else np.zeros((n_units, 0))
    )
    rep = lambda a: np.repeat(np.asarray(a, dtype=object), n_ind)  # noqa: E731
    til = lambda a: np.tile(np.asarray(a, dtype=object), n_units)  # noqa: E731
    obs = np.asarray(observed, dtype=np.float64)
    return pd.DataFrame(
        {
            "event_id": str(key.event_id),
            "hazard_code": key.hazard_code,
            "hazard_name": HIP_FLOOD[key.hazard_code],
            "admin_level": rep(level),
            "admin_code": rep(table.index.astype(str)),
            "admin_name": rep(table["name"].astype(str)),
            "date": key.day,
            "indicator_code": til([ind.code for ind in present]),
            "proxy_for": til([ind.proxy_for for ind in present]),
            "indicator": til([ind.description for ind in present]),
            "disaggregation": til([ind.disaggregation for ind in present]),
            "value": np.nan_to_num(values.reshape(-1), nan=0.0),
            "unit": til([ind.unit for ind in present]),
            "method": METHOD,
            "observed_share": np.repeat(obs, n_ind),
            "nodata_share": np.repeat(1.0 - obs, n_ind),
            "uncertainty": uncertainty if isinstance(uncertainty, str) else til(uncertainty),
            "note": note,
        },
        columns=list(COLUMNS),
    )
