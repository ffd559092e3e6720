"""The report's charts of the per-unit indicator table, in the current language, each
captioned with the names of the Sendai indicators its bars stand in for
(:func:`eo_drr.sendai.names.indicator_label`): EO proxies, never reported Sendai values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from eo_drr.i18n import N_
from eo_drr.publish.report_text import _
from eo_drr.sendai.names import indicator_label
from eo_drr.sendai.sfm import INDICATORS, Indicator

#: the bars of the land-use chart: table column -> the words of its bars
LAND_BARS = {
    "flooded_cropland_ha": N_("cropland"),
    "flooded_builtup_ha": N_("built-up"),
}


def indicator_of(column: str) -> Indicator | None:
    """The (total, not disaggregated) EO-proxy indicator of a table column, or None."""
    return next((i for i in INDICATORS if i.column == column and i.disaggregation == "total"), None)


def _caption(text: str, columns: list[str]) -> str:
    labels = [indicator_label(ind) for c in columns if (ind := indicator_of(c)) is not None]
    return " — ".join([text, *labels])


def _bar_words(column: str) -> str:
    ind, words = indicator_of(column), _(LAND_BARS[column])
    return f"{words} ({ind.code})" if ind else words


def indicator_plots(table: pd.DataFrame) -> dict[str, Any]:
    """Bar charts per unit from :func:`eo_drr.sendai.indicators.indicators_by_unit`: exposed
    population (persons) and flooded cropland / built-up (ha). Returns ``{caption: Figure}``;
    each caption names the indicators (EO code, Sendai code and official name)."""
    # a bare Figure (no pyplot) renders anywhere without switching the caller's backend
    # (matplotlib.use("Agg") here turned a notebook's inline plots off after a run)
    from matplotlib.figure import Figure

    out = {}
    labels = [f"{c}\n{n}" for c, n in zip(table.index.astype(str), table["name"].astype(str))]
    if "exposed_population" in table:
        fig = Figure(figsize=(8, 3.2))
        ax = fig.subplots()
        ax.bar(labels, table["exposed_population"], color="#005ce6")
        ax.set_ylabel(_("persons"))
        ax.set_title(
            _("People inside the observed flood extent (EO proxy for {code})").format(code="B-1")
        )
        ax.tick_params(axis="x", labelsize=7)
        caption = _("People in the flooded area per unit (persons)")
        out[_caption(caption, ["exposed_population"])] = fig
    cols = [c for c in LAND_BARS if c in table]
    if cols:
        fig = Figure(figsize=(8, 3.2))
        ax = fig.subplots()
        x = np.arange(len(labels))
        wdt = 0.8 / len(cols)
        for i, c in enumerate(cols):
            ax.bar(x + i * wdt, table[c], wdt, label=_bar_words(c))
        ax.set_xticks(x + wdt * (len(cols) - 1) / 2, labels, fontsize=7)
        ax.set_ylabel(_("ha"))
        ax.set_title(_("Flooded cropland and built-up area (EO proxies)"))
        ax.legend()
        caption = _("Flooded cropland and built-up area per unit (ha)")
        out[_caption(caption, cols)] = fig
    return out
