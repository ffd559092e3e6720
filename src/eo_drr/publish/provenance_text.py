"""The report's "Sources and method" section as readable text: which scenes, which dates,
which method and thresholds (rounded to one or two decimals). The full record, with every
number unrounded, stays in the run's ``run.json``."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pystac

from eo_drr.catalog import item_datetime
from eo_drr.publish.report_text import _


def _scene(item: pystac.Item) -> str:
    return f"{item.id} ({item_datetime(item):%Y-%m-%d})"


def _threshold(th: Mapping[str, Any]) -> str:
    """One threshold record of ``FloodThresholds.as_dict()`` in words."""
    if th.get("threshold_db") is None:
        return _("not computed")
    if th.get("scene_threshold_db") is None:
        how = _("a typical water level from the literature: the scene showed no clear split")
    elif round(th["threshold_db"], 1) != round(th.get("prior_db", math.nan), 1):
        how = _("the scene's own split between water and land")
    else:
        how = _("the scene's own split, close to the typical water level")
    return _("{pol} below {db} dB ({how})").format(
        pol=str(th.get("polarisation", "")).upper(), db=f"{float(th['threshold_db']):.1f}", how=how
    )


def flood_provenance(
    post_item: pystac.Item, pre_items: Sequence[pystac.Item], thresholds: Mapping[str, Any]
) -> dict[str, str]:
    """The flood report's sources and method: scenes with dates, the water thresholds (or
    the note that tiles have their own), the method in one sentence."""
    out = {
        _("Sentinel-1 scene after the event"): _scene(post_item),
        _("Sentinel-1 scenes before the event"): ", ".join(_scene(it) for it in pre_items),
        _("Method"): _(
            "Water is where the radar backscatter is below a threshold; flood is water after "
            "the event that was not water before. Figures per unit count what lies inside "
            "the flood extent (Earth-observation proxies, not reported Sendai values)."
        ),
    }
    for key, label in (
        ("post", _("Water threshold after the event")),
        ("reference", _("Water threshold before the event")),
    ):
        if isinstance(thresholds.get(key), Mapping):
            out[label] = _threshold(thresholds[key])
    if "note" in thresholds:
        out[_("Water thresholds")] = _(str(thresholds["note"]))
    return out


# -- any mapping as nested lists ------------------------------------------------------------
def _words(key: Any) -> str:
    text = str(key).replace("_", " ")
    return text[:1].upper() + text[1:]


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if v is None:
        return _("none")
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:,.2f}".rstrip("0").rstrip(".")
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    return str(v)


def provenance_html(provenance: Mapping[str, Any]) -> str:
    """``provenance`` (label -> text, number or nested mapping) as an HTML definition list,
    numbers rounded to two decimals, text escaped."""
    rows = []
    for key, v in provenance.items():
        if isinstance(v, Mapping):
            inner = provenance_html(v) if v else html.escape(_("none"))
            rows.append(f"<dt>{html.escape(_words(key))}</dt><dd>{inner}</dd>")
        else:
            rows.append(f"<dt>{html.escape(_words(key))}</dt><dd>{html.escape(_value(v))}</dd>")
    return '<dl class="provenance">' + "".join(rows) + "</dl>"
