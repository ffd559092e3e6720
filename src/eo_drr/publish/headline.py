"""The report's key figures: a few numbers in words at the top of the page.

A figure has a range only where the data give one. For the flooded area they do: the
satellite did not see part of the area (no data), so the true flooded area lies between
what was seen flooded and that plus every unseen hectare. For people, land, facilities and
roads the tables hold no count inside the unseen part, so those figures are told as lower
bounds ("at least") without an invented range.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from eo_drr.publish.report_text import _, area_text, number, people_text, percent


@dataclass(frozen=True)
class KeyFigure:
    """One key figure: ``label`` (what), ``value`` (the number in words), ``detail`` (its
    range or a short qualifier; may be empty)."""

    label: str
    value: str
    detail: str = ""


def _sum(table: pd.DataFrame, col: str) -> float | None:
    return float(table[col].sum()) if col in table else None


def _pixel_ha(da: Any) -> float:
    res = da.rio.resolution()
    return abs(float(res[0]) * float(res[1])) / 1e4


def flood_area_figures(flood: Any, nodata: int = 255) -> list[KeyFigure]:
    """The hazard over the whole raster ``flood`` (uint8 classes, 1 flooded, ``nodata`` not
    observed, with a CRS in metres): flooded area with its range, and the observed share."""
    v = np.asarray(flood.values)
    px = _pixel_ha(flood)
    flooded = float((v == 1).sum()) * px
    unseen = float((v == nodata).sum()) * px
    observed = float((v != nodata).mean()) if v.size else 0.0
    return [
        KeyFigure(_("Flooded area"), area_text(flooded), _range_text(flooded, unseen)),
        KeyFigure(_("Area observed by the satellite"), percent(observed)),
    ]


def _range_text(flooded: float, unseen: float) -> str:
    if unseen <= 0:
        return _("the whole area was observed")
    return _("between {low} and {high}: {unseen} were not observed").format(
        low=area_text(flooded), high=area_text(flooded + unseen), unseen=area_text(unseen)
    )


def flood_headline(flood: Any, table: pd.DataFrame | None) -> list[KeyFigure]:
    """The flood report's key figures: from the per-unit ``table`` when there is one (its
    sums match the tables), else from the ``flood`` raster over the whole area."""
    if table is None or "flooded_ha" not in table:
        return flood_area_figures(flood)
    flooded = float(table["flooded_ha"].sum())
    unseen = float((table["area_ha"] - table["observed_ha"]).clip(lower=0).sum())
    figures = [KeyFigure(_("Flooded area"), area_text(flooded), _range_text(flooded, unseen))]
    at_least = _("at least: unobserved areas count as not flooded")
    people = _sum(table, "exposed_population")
    if people is not None:
        figures.append(KeyFigure(_("People in the flooded area"), people_text(people), at_least))
    for col, label in (
        ("flooded_builtup_ha", _("Built-up area flooded")),
        ("flooded_cropland_ha", _("Cropland flooded")),
    ):
        ha = _sum(table, col)
        if ha is not None:
            figures.append(KeyFigure(label, area_text(ha), at_least))
    figures += _facility_figures(table, at_least)
    km = _sum(table, "flooded_road_km")
    if km is not None:
        figures.append(KeyFigure(_("Roads flooded"), _("{x} km").format(x=f"{km:,.1f}"), at_least))
    return figures


def _facility_figures(table: pd.DataFrame, at_least: str) -> list[KeyFigure]:
    out = []
    for flooded_col, all_col, label in (
        ("flooded_health", "health_facilities", _("Health facilities flooded")),
        ("flooded_education", "education_facilities", _("Schools flooded")),
    ):
        n = _sum(table, flooded_col)
        if n is None:
            continue
        total = _sum(table, all_col)
        value = (
            _("{n} of {total}").format(n=number(round(n)), total=number(round(total)))
            if total is not None
            else number(round(n))
        )
        out.append(KeyFigure(label, value, at_least))
    return out


def summary_figures(headline: Mapping[str, Any]) -> list[KeyFigure]:
    """Key figures from a pipeline's ``headline`` mapping (what -> text), as the run
    summary shows them."""
    return [KeyFigure(_(str(k)).capitalize(), str(v)) for k, v in headline.items()]
