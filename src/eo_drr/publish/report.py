"""One self-contained HTML report per run: a web map, the indicator table, plots, provenance.

The file works offline and on its own (e-mail it, open it from a USB stick): Leaflet 1.9.4 is
inlined from ``eo_drr/publish/static/leaflet`` (vendored, BSD-2-Clause), rasters are warped to
Web Mercator and embedded as PNG overlays (data URIs), vectors as GeoJSON, plots as PNG. There
is no basemap: background tiles would need the internet. The page writes nothing to the browser
console; ``tests/test_report.py`` checks that in a headless Chromium.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eo_drr.errors import InputError
from eo_drr.io.atomic import atomic_write_text

#: Largest side (px) of an embedded raster overlay; bigger rasters are decimated for display.
MAX_OVERLAY_PX = 1600
#: Flood classes: 1 flooded (blue), 0 not flooded (transparent), 255 no data (grey).
FLOOD_COLORS: dict[int, tuple[int, int, int, int]] = {
    1: (0, 92, 230, 220),
    2: (20, 40, 110, 200),
    255: (150, 150, 150, 140),
}


@dataclass(frozen=True)
class MapLayer:
    """A raster shown on the map.

    ``data``: a 2-D DataArray with a CRS (rioxarray). Class rasters give ``colors``
    (value -> RGBA 0-255; values not listed are transparent); continuous rasters give ``cmap``
    (a matplotlib colormap name) and ``vmin``/``vmax`` in the data's units (NaN and
    ``nodata`` transparent).
    """

    name: str
    data: Any
    colors: Mapping[int, Sequence[int]] | None = None
    cmap: str | None = None
    vmin: float | None = None
    vmax: float | None = None
    nodata: float | None = None
    opacity: float = 0.8
    show: bool = True
    legend: str = ""


def _static(name: str) -> str:
    text = (resources.files("eo_drr.publish") / "static" / "leaflet" / name).read_text(
        encoding="utf-8"
    )
    if name.endswith(".css"):  # marker and layer-control images are not shipped: no requests
        text = re.sub(r"url\(images/[^)]*\)", "none", text)
    return text


def _png_data_uri(rgba: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _overlay(layer: MapLayer) -> dict[str, Any]:
    """Warp ``layer`` to Web Mercator, colour it, return ``{name, url, bounds, ...}``."""
    import rasterio.warp
    from pyproj import Transformer
    from rasterio.enums import Resampling

    da = layer.data
    if getattr(da, "rio", None) is None or da.rio.crs is None:
        raise InputError(f"report layer {layer.name!r}: the raster has no CRS")
    arr = np.asarray(da.values)
    if arr.ndim != 2:
        raise InputError(f"report layer {layer.name!r}: expected a 2-D raster, got {arr.shape}")
    src_crs, src_tr = da.rio.crs, da.rio.transform(recalc=True)
    h, w = arr.shape
    left, bottom, right, top = rasterio.transform.array_bounds(h, w, src_tr)
    dst_tr, dw, dh = rasterio.warp.calculate_default_transform(
        src_crs, "EPSG:3857", w, h, left, bottom, right, top
    )
    scale = max(dw, dh) / MAX_OVERLAY_PX
    if scale > 1:
        dw, dh = int(np.ceil(dw / scale)), int(np.ceil(dh / scale))
        dst_tr = dst_tr @ dst_tr.scale(scale, scale)
    colors = layer.colors
    if colors is not None:
        fill = 0 if 0 not in colors else max(set(range(256)) - set(colors))
        src = arr.astype(np.uint8)
        dst = np.full((dh, dw), fill, np.uint8)
        rasterio.warp.reproject(
            src,
            dst,
            src_transform=src_tr,
            src_crs=src_crs,
            dst_transform=dst_tr,
            dst_crs="EPSG:3857",
            resampling=Resampling.nearest,
            dst_nodata=fill,
        )
        rgba = np.zeros((dh, dw, 4), np.uint8)
        for value, color in colors.items():
            c = tuple(color) + ((255,) if len(color) == 3 else ())
            rgba[dst == int(value)] = c
    else:
        import matplotlib

        src = arr.astype(np.float32)
        if layer.nodata is not None:
            src = np.where(src == layer.nodata, np.nan, src)
        dst = np.full((dh, dw), np.nan, np.float32)
        rasterio.warp.reproject(
            src,
            dst,
            src_transform=src_tr,
            src_crs=src_crs,
            src_nodata=np.nan,
            dst_transform=dst_tr,
            dst_crs="EPSG:3857",
            resampling=Resampling.average if scale > 1 else Resampling.nearest,
            dst_nodata=np.nan,
        )
        vmin = (
            layer.vmin
            if layer.vmin is not None
            else float(np.nanmin(dst))
            if np.isfinite(dst).any()
            else 0.0
        )
        vmax = (
            layer.vmax
            if layer.vmax is not None
            else float(np.nanmax(dst))
            if np.isfinite(dst).any()
            else 1.0
        )
        norm = np.clip((dst - vmin) / ((vmax - vmin) or 1.0), 0, 1)
        rgba = (matplotlib.colormaps[layer.cmap or "viridis"](np.nan_to_num(norm)) * 255).astype(
            np.uint8
        )
        rgba[~np.isfinite(dst)] = 0
    wb, sb, eb, nb = rasterio.transform.array_bounds(dh, dw, dst_tr)
    to_ll = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    (w_, e_), (s_, n_) = zip(*[to_ll.transform(x, y) for x, y in ((wb, sb), (eb, nb))])
    return {
        "name": layer.name,
        "url": _png_data_uri(rgba),
        "bounds": [[s_, w_], [n_, e_]],
        "opacity": layer.opacity,
        "show": layer.show,
    }


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


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>{leaflet_css}</style>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 1.5em 2em; color: #222; }}
#map {{ width: 100%; height: 560px; background: #eef2f5; border: 1px solid #bbb; }}
table.indicators {{ border-collapse: collapse; font-size: 12px; }}
table.indicators th, table.indicators td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
.note {{ background: #fff6d6; border-left: 4px solid #e0b000; padding: .5em 1em; }}
pre {{ background: #f4f4f4; padding: 1em; overflow: auto; font-size: 12px; }}
.legend {{ background: white; padding: 4px 8px; font-size: 12px; line-height: 18px; }}
.legend i {{ width: 14px; height: 14px; float: left; margin-right: 6px; opacity: .8; }}
</style></head>
<body>
<h1>{title}</h1>
<p class="note">All figures are <b>Earth-observation proxies</b> computed inside the observed hazard
footprint. They are not reported Sendai Framework values: EO cannot count deaths, injuries or
damage. Unobserved areas count as not flooded, so counts are lower bounds; see the observed share.</p>
{warnings}
<h2>Map</h2>
<div id="map"></div>
<h2>Indicators per administrative unit</h2>
{table}
<h2>Plots</h2>
{plots}
<h2>Provenance</h2>
<pre>{provenance}</pre>
<script>{leaflet_js}</script>
<script>
(function () {{
  var data = {data};
  var map = L.map("map", {{zoomSnap: 0.1, attributionControl: false}});
  var overlays = {{}};
  var bounds = null;
  data.rasters.forEach(function (r) {{
    var lyr = L.imageOverlay(r.url, r.bounds, {{opacity: r.opacity}});
    if (r.show) lyr.addTo(map);
    overlays[r.name] = lyr;
    var b = L.latLngBounds(r.bounds);
    bounds = bounds ? bounds.extend(b) : b;
  }});
  if (data.units) {{
    var u = L.geoJSON(data.units, {{
      style: function () {{ return {{color: "#222", weight: 1.5, fill: false}}; }},
      onEachFeature: function (f, l) {{ l.bindPopup(f.properties.popup); }}
    }}).addTo(map);
    overlays["Administrative units"] = u;
    bounds = bounds ? bounds.extend(u.getBounds()) : u.getBounds();
  }}
  if (data.points) {{
    var p = L.geoJSON(data.points, {{
      pointToLayer: function (f, ll) {{
        return L.circleMarker(ll, {{radius: 5, weight: 1, color: "#000",
          fillColor: f.properties.flooded ? "#e31a1c" : "#ffffff", fillOpacity: 0.9}});
      }},
      onEachFeature: function (f, l) {{ l.bindPopup(f.properties.popup); }}
    }}).addTo(map);
    overlays[data.points_name] = p;
  }}
  L.control.layers(null, overlays, {{collapsed: false}}).addTo(map);
  L.control.scale().addTo(map);
  var legend = L.control({{position: "bottomleft"}});
  legend.onAdd = function () {{
    var d = L.DomUtil.create("div", "legend");
    d.innerHTML = data.legend;
    return d;
  }};
  legend.addTo(map);
  if (bounds) map.fitBounds(bounds); else map.setView([0, 0], 2);
  document.body.setAttribute("data-map-ready", "1");
}})();
</script>
</body></html>
"""


def _json_for_script(obj: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>`` breakout)."""
    return (
        json.dumps(obj, separators=(",", ":"), allow_nan=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        x = float(v)
        return f"{x:,.2f}" if abs(x) >= 1 or x == 0 else f"{x:.3g}"
    return str(v)


#: the table columns shown in a unit's popup on the map (those the table has)
POPUP_COLUMNS = ("exposed_population", "flooded_ha", "flooded_cropland_ha", "observed_share")


@dataclass(frozen=True)
class ReportContent:
    """What a run's report shows.

    ``layers``: rasters for the map (:class:`MapLayer`), e.g. the flood extent with
    :data:`FLOOD_COLORS` and exposed population with a colormap. ``units``: admin units
    (GeoDataFrame with ``code``, ``name``), drawn as outlines with a popup of ``popup_columns``
    from ``table`` (joined on ``code``). ``table``: the per-unit indicator table (index = unit
    code); shown in full. ``plots``: ``{caption: matplotlib Figure | PNG bytes | PNG path}``.
    ``provenance``: run manifest or any JSON-able mapping (config, versions, inputs,
    checksums). ``points``: facilities (GeoDataFrame of points); a boolean ``flooded`` column
    colours them; ``points_name`` names them in the layer control. ``warnings``:
    plain-language quality warnings (e.g. the flood product's per-scene flags), shown above
    the map.
    """

    title: str = "eo-drr run report"
    layers: Sequence[MapLayer] = ()
    units: Any = None
    table: pd.DataFrame | None = None
    plots: Mapping[str, Any] | None = None
    provenance: Mapping[str, Any] | None = None
    points: Any = None
    points_name: str = "Facilities (red: in the flood extent)"
    warnings: Sequence[str] = ()
    popup_columns: Sequence[str] = POPUP_COLUMNS


def write_report(path: str | os.PathLike, content: ReportContent) -> Path:
    """Write the run's self-contained HTML report of ``content`` atomically and return its
    path."""
    c = content
    layers, units, table, points = c.layers, c.units, c.table, c.points
    rasters = [_overlay(layer) for layer in layers]
    data: dict[str, Any] = {
        "rasters": rasters,
        "units": None,
        "points": None,
        "points_name": c.points_name,
    }
    if units is not None:
        u = units[["code", "name", "geometry"]].to_crs("EPSG:4326").copy()
        rows = table.reindex(u["code"].astype(str)) if table is not None else None
        popups = []
        for i, (code, name) in enumerate(zip(u["code"], u["name"])):
            lines = [f"<b>{html.escape(str(name))}</b> ({html.escape(str(code))})"]
            if rows is not None:
                for key in c.popup_columns:
                    if key in rows.columns and pd.notna(rows[key].iloc[i]):
                        lines.append(f"{html.escape(key)}: {html.escape(_fmt(rows[key].iloc[i]))}")
            popups.append("<br>".join(lines))
        u["popup"] = popups
        data["units"] = json.loads(u[["popup", "geometry"]].to_json(drop_id=True))
    if points is not None and len(points):
        pt = points.to_crs("EPSG:4326").copy()
        flooded = (
            pt["flooded"].astype(bool) if "flooded" in pt else pd.Series(False, index=pt.index)
        )
        label = pt["name"].astype(str) if "name" in pt else pd.Series("", index=pt.index)
        kind = pt["type"].astype(str) if "type" in pt else pd.Series("", index=pt.index)
        pt = pt[["geometry"]].assign(
            flooded=flooded.to_numpy(),
            popup=[
                f"{html.escape(n)} ({html.escape(k)}){' - flooded' if f else ''}"
                for n, k, f in zip(label, kind, flooded)
            ],
        )
        data["points"] = json.loads(pt.to_json(drop_id=True))
    legend = []
    for layer in layers:
        if layer.colors:
            for v, col in layer.colors.items():
                rgb = ",".join(str(int(x)) for x in tuple(col)[:3])
                name = (
                    {1: "flooded", 0: "not flooded", 255: "no data"}.get(int(v), str(v))
                    if layer.legend == ""
                    else f"{layer.legend} {v}"
                )
                legend.append(
                    f'<i style="background:rgb({rgb})"></i>{html.escape(layer.name)}: {html.escape(name)}'
                )
        elif layer.legend:
            legend.append(html.escape(f"{layer.name}: {layer.legend}"))
    data["legend"] = "<br>".join(legend)
    if table is not None:
        shown = table.copy()
        table_html = shown.to_html(
            classes="indicators", float_format=lambda v: _fmt(v), escape=True, border=0
        )
    else:
        table_html = "<p>No indicator table.</p>"
    figs = []
    for caption, fig in (c.plots or {}).items():
        figs.append(
            f'<figure><img alt="{html.escape(caption)}" src="{_figure_uri(fig)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    page = _PAGE.format(
        title=html.escape(c.title),
        leaflet_css=_static("leaflet.css"),
        leaflet_js=_static("leaflet.js"),
        table=table_html,
        plots="\n".join(figs) or "<p>No plots.</p>",
        warnings="".join(
            f'<p class="note warning">Quality warning: {html.escape(w)}</p>' for w in c.warnings
        ),
        provenance=html.escape(
            json.dumps(c.provenance or {}, indent=2, sort_keys=True, default=str)
        ),
        data=_json_for_script(data),
    )
    return atomic_write_text(Path(path), page)
