"""One self-contained HTML report per run: key figures, a web map, the indicator table,
plots, sources and method.

The file works offline and on its own (e-mail it, open it from a USB stick): Leaflet 1.9.4 is
inlined from ``eo_drr/publish/static/leaflet`` (vendored, BSD-2-Clause), rasters are warped to
Web Mercator and embedded as PNG overlays (data URIs), vectors as GeoJSON, plots as PNG. The
admin units carry their names on the map wherever a name fits inside its unit, so the map reads
without a background. Served from a web server (http or https) and online, the page adds
OpenStreetMap tiles as a background once one tile has loaded
(:func:`~eo_drr.publish.report_map.basemap`); opened from a file or offline it asks for nothing.
The page writes nothing to the browser console, fits a phone's width and prints on A4;
``tests/test_report.py`` checks that in a headless Chromium, and ``tests/test_report_basemap.py``
the background map with a loopback tile server. Layout: :mod:`~eo_drr.publish.report_page`; words:
:mod:`~eo_drr.publish.report_text`; map layers: :mod:`~eo_drr.publish.report_map`; charts:
:mod:`~eo_drr.publish.report_plots`; the PDF: :mod:`~eo_drr.publish.report_pdf`. Every word
is in the current language (:func:`eo_drr.i18n.set_language`, the command line's ``--lang``),
which the page also declares (``<html lang>``).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from eo_drr import __version__
from eo_drr.i18n import N_, language
from eo_drr.io.atomic import atomic_write_text
from eo_drr.publish import report_text as rt
from eo_drr.publish.headline import KeyFigure
from eo_drr.publish.provenance_text import provenance_html
from eo_drr.publish.report_map import (
    MAX_OVERLAY_PX,
    MapLayer,
    _overlay,
    basemap,
    layer_problem,
    legend_rows,
)
from eo_drr.publish.report_page import PAGE, SCRIPT, STYLE
from eo_drr.publish.report_plots import indicator_of
from eo_drr.publish.report_text import _
from eo_drr.sendai.names import indicator_label

__all__ = ["FLOOD_COLORS", "MAX_OVERLAY_PX", "MapLayer", "ReportContent", "write_report"]

#: Flood classes: 1 flooded (blue), 2 water before and after (dark blue), 255 no data (grey).
FLOOD_COLORS: dict[int, tuple[int, int, int, int]] = {
    1: (0, 92, 230, 220),
    2: (20, 40, 110, 200),
    255: (150, 150, 150, 140),
}
#: the table columns shown in a unit's popup on the map (those the table has)
POPUP_COLUMNS = ("exposed_population", "flooded_ha", "flooded_cropland_ha", "observed_share")


@dataclass(frozen=True)
class ReportContent:
    """What a run's report shows.

    ``layers``: rasters for the map (:class:`MapLayer`), e.g. the flood extent with
    :data:`FLOOD_COLORS` and exposed population with a colormap. ``units``: admin units
    (GeoDataFrame with ``code``, ``name``), drawn as outlines named on the map (where the name
    fits inside the unit at the zoom shown) with a popup of ``popup_columns`` from ``table``
    (joined on ``code``). ``table``: the per-unit indicator table (index = unit
    code); shown in full with human headers. ``plots``: ``{caption: matplotlib Figure | PNG
    bytes | PNG path}``. ``provenance``: sources and method as label -> text (nested mappings
    allowed; numbers are rounded for reading, the full record is ``run.json``). ``points``:
    facilities (GeoDataFrame of points); a boolean ``flooded`` column colours them;
    ``points_name`` names them in the layer control. ``warnings``: plain-language quality
    warnings (e.g. the flood product's per-scene flags), shown above the map.

    ``synthetic``: the data are eo-drr's synthetic demo (a banner says so, and the footer
    credits no real satellite data). ``headline``: key figures at the top
    (:mod:`~eo_drr.publish.headline`). ``data_date``: the date of the data (ISO; its year goes
    into the Copernicus attribution). ``data_sources``: what -> where from and licence (e.g.
    ``"Administrative units": "geoBoundaries, CC BY 4.0"``), named in the footer.
    ``exposure_help``: show how to add admin units and population (default: when there is
    no table).
    """

    title: str = "eo-drr run report"
    layers: Sequence[MapLayer] = ()
    units: Any = None
    table: pd.DataFrame | None = None
    plots: Mapping[str, Any] | None = None
    provenance: Mapping[str, Any] | None = None
    points: Any = None
    points_name: str = N_("Facilities (red: in the flood extent)")
    warnings: Sequence[str] = ()
    popup_columns: Sequence[str] = POPUP_COLUMNS
    synthetic: bool = False
    headline: Sequence[KeyFigure] = ()
    data_date: str = ""
    data_sources: Mapping[str, str] = field(default_factory=dict)
    exposure_help: bool | None = None


def _static(name: str) -> str:
    text = (resources.files("eo_drr.publish") / "static" / "leaflet" / name).read_text(
        encoding="utf-8"
    )
    if name.endswith(".css"):  # marker and layer-control images are not shipped: no requests
        text = re.sub(r"url\(images/[^)]*\)", "none", text)
    return text


def _figure_uri(fig: Any) -> str:
    if isinstance(fig, (bytes, bytearray)):
        data = bytes(fig)
    elif isinstance(fig, (str, os.PathLike)):
        data = Path(fig).read_bytes()
    else:  # a matplotlib Figure; no timestamp or version in the PNG, so reruns match
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
        data = buf.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _json_for_script(obj: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>`` breakout)."""
    return (
        json.dumps(obj, separators=(",", ":"), allow_nan=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _cell(key: str, v: Any) -> str:
    """A table value as read: people rounded, shares in percent, at most two decimals."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if key in rt.PEOPLE_COLUMNS:
        return rt.number(rt.round_people(float(v)))
    if key in rt.SHARE_COLUMNS:
        return rt.percent(float(v))
    return rt.number(v.item() if hasattr(v, "item") else v)


def _header(column: str, text_cols: set[str]) -> str:
    """A column header in words; an indicator's column also shows its EO code."""
    ind = indicator_of(column)
    code = f'<span class="code">{html.escape(ind.code)}</span>' if ind else ""
    return (
        f'<th scope="col"{" class=text" if column in text_cols else ""}>'
        f"{html.escape(rt.column_label(column))}{code}</th>"
    )


def _indicator_names(columns: Sequence[str]) -> str:
    """The names of the indicators whose codes the table shows: EO code, the Sendai
    indicator it is a proxy for and that indicator's official name."""
    found = [ind for c in columns if (ind := indicator_of(c)) is not None]
    if not found:
        return ""
    items = "".join(f"<li>{html.escape(indicator_label(ind))}</li>" for ind in found)
    title = html.escape(_("Indicators in this table"))
    return f'<details class="indicator-names" open><summary>{title}</summary><ul>{items}</ul></details>'


def _table_html(table: pd.DataFrame) -> str:
    """The per-unit table: place name first, then the code, human headers with units (and
    the EO codes of indicators, named in full below the table)."""
    t = table.reset_index()
    first = [c for c in ("name", "code") if c in t.columns]
    cols = first + [c for c in t.columns if c not in first]
    text_cols = {"name", "code", "level"}
    head = "".join(_header(str(c), text_cols) for c in cols)
    rows = []
    for rec in t[cols].itertuples(index=False):
        cells = "".join(
            f"<td{' class=text' if c in text_cols else ''}>{html.escape(_cell(str(c), v))}</td>"
            for c, v in zip(cols, rec)
        )
        rows.append(f"<tr>{cells}</tr>")
    title = html.escape(_("Figures per administrative unit"))
    return (
        f"<h2>{title}</h2>"
        f'<div class="table-wrap" tabindex="0"><table class="indicators"><thead><tr>{head}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        + _indicator_names([str(c) for c in cols])
    )


def _units_json(c: ReportContent) -> Any:
    u = c.units[["code", "name", "geometry"]].to_crs("EPSG:4326").copy()
    rows = c.table.reindex(u["code"].astype(str)) if c.table is not None else None
    popups = []
    for i, (code, name) in enumerate(zip(u["code"], u["name"])):
        lines = [f"<b>{html.escape(str(name))}</b> ({html.escape(str(code))})"]
        if rows is not None:
            for key in c.popup_columns:
                if key in rows.columns and pd.notna(rows[key].iloc[i]):
                    label, value = rt.column_label(key), _cell(key, rows[key].iloc[i])
                    lines.append(f"{html.escape(label)}: {html.escape(value)}")
        popups.append("<br>".join(lines))
    u["popup"] = popups
    u["label"] = u["name"].fillna("").astype(str)  # the page sets it as text, not HTML
    return json.loads(u[["popup", "label", "geometry"]].to_json(drop_id=True))


def _points_json(points: Any) -> Any:
    pt = points.to_crs("EPSG:4326").copy()
    flooded = pt["flooded"].astype(bool) if "flooded" in pt else pd.Series(False, index=pt.index)
    label = pt["name"].astype(str) if "name" in pt else pd.Series("", index=pt.index)
    kind = pt["type"].astype(str) if "type" in pt else pd.Series("", index=pt.index)
    flooded_words = _("in the flood extent")
    pt = pt[["geometry"]].assign(
        flooded=flooded.to_numpy(),
        popup=[
            f"{html.escape(n)} ({html.escape(k)}){' - ' + flooded_words if f else ''}"
            for n, k, f in zip(label, kind, flooded)
        ],
    )
    return json.loads(pt.to_json(drop_id=True))


def _map_data(c: ReportContent, drawn: Sequence[MapLayer]) -> dict[str, Any]:
    legend = [
        "<div>"
        + "".join(f'<i style="background:{col}"></i>' for col in cols)
        + f"{html.escape(words)}</div>"
        for layer in drawn
        for cols, words in legend_rows(layer)
    ]
    return {
        "rasters": [_overlay(layer) for layer in drawn],
        "units": _units_json(c) if c.units is not None else None,
        "units_name": _("Administrative units"),
        "points": _points_json(c.points) if c.points is not None and len(c.points) else None,
        "points_name": _(c.points_name),
        "legend": "".join(legend),
        "legend_title": _("Legend"),
        "layers_title": _("Layers"),
        "basemap": basemap(),
    }


def _banner(synthetic: bool) -> str:
    if not synthetic:
        return ""
    return (
        f'<div class="banner" role="alert" id="demo-banner"><strong>'
        f"{html.escape(_(rt.DEMO_BANNER))}</strong>{html.escape(_(rt.DEMO_EXPLAINED))}</div>"
    )


#: a key figure whose value has a word this long takes a phone's whole width (no word is cut)
LONG_WORD = 11


def _card_class(value: str) -> str:
    wide = max((len(w) for w in value.split()), default=0) > LONG_WORD
    return "card wide" if wide else "card"


def _headline(figures: Sequence[KeyFigure]) -> str:
    if not figures:
        return ""
    title = html.escape(_("Key figures"))
    cards = "".join(
        f'<div class="{_card_class(f.value)}"><dt>{html.escape(f.label)}</dt><dd>'
        f'<span class="value">'
        f"{html.escape(f.value)}</span>"
        + (f'<span class="detail">{html.escape(f.detail)}</span>' if f.detail else "")
        + "</dd></div>"
        for f in figures
    )
    return f'<section id="headline"><h2>{title}</h2><dl class="cards">{cards}</dl></section>'


def _warnings(warnings: Sequence[str]) -> str:
    if not warnings:
        return ""
    each = _("Quality warning: {text}")
    items = "".join(f"<li>{html.escape(each.format(text=w))}</li>" for w in warnings)
    title = html.escape(_("Quality warnings"))
    return f'<section class="warnings"><h2>{title}</h2><ul>{items}</ul></section>'


def _howto() -> str:
    rows = "".join(
        f"<li><b>{html.escape(name)}</b> ({html.escape(_(what))}): {html.escape(_(lic))}, "
        f"{html.escape(url)}</li>"
        for name, what, lic, url in rt.EXPOSURE_SOURCES
    )
    title = html.escape(_("How to add admin units and population"))
    sources = html.escape(_("Free sources and their licences:"))
    return (
        f'<section class="howto"><h2>{title}</h2><p>{html.escape(_(rt.EXPOSURE_HOWTO))}</p>'
        f"<p>{sources}</p><ul>{rows}</ul></section>"
    )


def _today() -> str:
    """Today (UTC), or the date of ``SOURCE_DATE_EPOCH`` for reproducible files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else None
    return f"{now or dt.datetime.now(dt.timezone.utc):%Y-%m-%d}"


def _footer(c: ReportContent) -> str:
    if c.synthetic:
        credit = _("Synthetic data generated by the eo-drr demo; no real satellite data.")
    else:
        year = c.data_date[:4] or _("[year]")
        credit = _(
            "Contains modified Copernicus Sentinel data {year}, processed by eo-drr."
        ).format(year=year)
    lines = [
        _("Report written {date} by eo-drr {version}.").format(date=_today(), version=__version__),
        credit,
    ]
    lines += [f"{_(what)}: {src}" for what, src in c.data_sources.items()]
    lines.append(_("Full record of the run (every setting and number): run.json."))
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)


def _plots(plots: Mapping[str, Any] | None) -> str:
    figs = [
        f'<figure><img alt="{html.escape(caption)}" src="{_figure_uri(fig)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, fig in (plots or {}).items()
    ]
    if not figs:
        return ""
    title = html.escape(_("Charts"))
    return f"<h2>{title}</h2>" + "\n".join(figs)


def write_report(path: str | os.PathLike, content: ReportContent) -> Path:
    """Write the run's self-contained HTML report of ``content`` atomically and return its
    path."""
    c = content
    problems = {id(layer): layer_problem(layer) for layer in c.layers}
    drawn = [layer for layer in c.layers if problems[id(layer)] is None]
    notes = [p for p in problems.values() if p]
    help_box = c.exposure_help if c.exposure_help is not None else c.table is None
    page = PAGE.format(
        lang=language(),
        title=html.escape(c.title),
        leaflet_css=_static("leaflet.css"),
        style=STYLE,
        banner=_banner(c.synthetic),
        proxy_note=html.escape(_(rt.PROXY_NOTE)),
        headline=_headline(c.headline),
        warnings=_warnings(c.warnings),
        h_map=html.escape(_("Map")),
        layer_notes="".join(f'<p class="layer-notes">{html.escape(n)}</p>' for n in notes),
        howto=_howto() if help_box else "",
        table=_table_html(c.table) if c.table is not None else "",
        plots=_plots(c.plots),
        h_provenance=html.escape(_("Sources and method")),
        provenance=provenance_html(c.provenance or {}),
        footer=_footer(c),
        leaflet_js=_static("leaflet.js"),
        script=SCRIPT % _json_for_script(_map_data(c, drawn)),
    )
    return atomic_write_text(Path(path), page)
