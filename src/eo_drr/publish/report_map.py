"""The report's map layers: rasters warped to Web Mercator and coloured as PNG overlays, the
legend of each layer in words, what to say when a layer has nothing to show, and the background
map (OpenStreetMap tiles) the page adds when it can load them."""

from __future__ import annotations

import base64
import html
import io
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eo_drr.errors import InputError
from eo_drr.publish.report_text import _, class_words

log = logging.getLogger(__name__)

#: Largest side (px) of an embedded raster overlay; bigger rasters are decimated for display.
MAX_OVERLAY_PX = 1600
#: Flood classes: 1 flooded (blue), 0 not flooded (transparent), 255 no data (grey).
FLOOD_COLORS: dict[int, tuple[int, int, int, int]] = {
    1: (0, 92, 230, 220),
    2: (20, 40, 110, 200),
    255: (150, 150, 150, 140),
}


#: OpenStreetMap's standard tiles: 256 px Web Mercator tiles, zoom 0 to 19, used under the OSM
#: Foundation's tile usage policy (https://operations.osmfoundation.org/policies/tiles/), which
#: asks for the attribution below, linked to the copyright page, and a Referer on every request
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_MAX_ZOOM = 19
OSM_COPYRIGHT = "https://www.openstreetmap.org/copyright"
#: the background map: ``osm`` (default), ``none``, or a tile URL template with ``{z}``, ``{x}``
#: and ``{y}`` in OSM's place (tests: a loopback server; OSM mirrors)
BASEMAP_ENV = "EO_DRR_REPORT_BASEMAP"


def basemap() -> dict[str, Any] | None:
    """The report's background map as the page's script takes it (``url`` template,
    ``max_zoom``, ``attribution`` HTML, ``name`` in the layer control; words in the current
    language), or None when ``EO_DRR_REPORT_BASEMAP`` is ``none`` (or no tile URL: a warning).

    The page asks for it only when it is served over http(s) and one tile loads (see
    :data:`~eo_drr.publish.report_page.SCRIPT`): a report opened from a file sends no Referer,
    which the OSM tile usage policy requires, and offline there is nothing to load; the map then
    stands on its own, the admin units named on it."""
    url = os.environ.get(BASEMAP_ENV, "osm").strip() or "osm"
    if url.lower() == "none":
        return None
    if url.lower() == "osm":
        url = OSM_TILES
    elif not all(k in url for k in ("{z}", "{x}", "{y}")):  # a slip: the run's work stands
        text = _(
            "{var} is {value!r}: expected osm, none or a tile URL such as {example}; "
            "the report has no background map"
        )
        log.warning(text.format(var=BASEMAP_ENV, value=url, example=OSM_TILES))
        return None
    credit = html.escape(_("© OpenStreetMap contributors"))
    return {
        "url": url,
        "max_zoom": OSM_MAX_ZOOM,
        "attribution": f'<a href="{OSM_COPYRIGHT}">{credit}</a>',
        "name": _("Background map (OpenStreetMap)"),
    }


@dataclass(frozen=True)
class MapLayer:
    """A raster shown on the map.

    ``data``: a 2-D DataArray with a CRS (rioxarray). Class rasters give ``colors``
    (value -> RGBA 0-255; values not listed are transparent); continuous rasters give ``cmap``
    (a matplotlib colormap name) and ``vmin``/``vmax`` in the data's units (NaN and
    ``nodata`` transparent). ``labels``: words of each class for the legend (default: the
    flood classes' words, or ``legend`` for a layer of one class); ``legend``: the words of a
    continuous layer's values (e.g. "persons per cell"). ``data`` None: the layer could not
    be made; the report says so in words (``missing`` says why). ``name``, ``legend``,
    ``labels`` and ``missing`` are English, marked with :func:`~eo_drr.i18n.N_` where they are
    written; the report shows them in the current language.
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
    labels: Mapping[int, str] | None = None
    missing: str = ""


def _png_data_uri(rgba: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    # zlib's default level, not optimize=True: on a 2048^2 flood overlay that search took
    # 3.0 s for a file 16 % smaller (376 against 449 KiB), 9 % of a whole job (issue 21)
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _overlay(layer: MapLayer) -> dict[str, Any]:
    """Warp ``layer`` to Web Mercator, colour it, return ``{name, url, bounds, ...}``."""
    import rasterio.warp
    from pyproj import Transformer
    from rasterio.enums import Resampling

    da = layer.data
    if getattr(da, "rio", None) is None or da.rio.crs is None:
        raise InputError(_("report layer {name!r}: the raster has no CRS").format(name=layer.name))
    arr = np.asarray(da.values)
    if arr.ndim != 2:
        raise InputError(
            _("report layer {name!r}: expected a 2-D raster, got {shape}").format(
                name=layer.name, shape=arr.shape
            )
        )
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
        "name": _(layer.name),
        "url": _png_data_uri(rgba),
        "bounds": [[s_, w_], [n_, e_]],
        "opacity": layer.opacity,
        "show": layer.show,
    }


def legend_rows(layer: MapLayer) -> list[tuple[tuple[str, ...], str]]:
    """``(css colours, words)`` rows of ``layer``'s legend, in the current language. Class
    layers: one row per class in words (``labels``, else the flood classes' words), or one row
    of all colours with ``legend`` when the layer has no ``labels`` but a ``legend``.
    Transparent classes (not flooded, no data drawn clear) are left out: they are not on the
    map."""
    name = _(layer.name)
    if not layer.colors:
        return [((), f"{name}: {_(layer.legend)}")] if layer.legend else []
    shown = {int(v): tuple(c) for v, c in layer.colors.items() if len(c) == 3 or c[3] > 0}
    css = {v: f"rgb({','.join(str(int(x)) for x in c[:3])})" for v, c in shown.items()}
    if not layer.labels and layer.legend:
        return [(tuple(css.values()), f"{name}: {_(layer.legend)}")]
    labels = layer.labels or {}
    return [
        ((css[v],), f"{name}: {_(labels[v]) if v in labels else class_words(v)}") for v in shown
    ]


def layer_problem(layer: MapLayer) -> str | None:
    """Why ``layer`` shows nothing, in words (the current language), or None when it has
    something to show."""
    name = _(layer.name)
    if layer.data is None:
        why = _(layer.missing) if layer.missing else ""
        return _("{name}: not available for this run. {why}").format(name=name, why=why).strip()
    arr = np.asarray(layer.data.values)
    if layer.colors is not None:
        drawn = [int(v) for v, c in layer.colors.items() if len(c) == 3 or c[3] > 0]
        if arr.size == 0 or (arr == 255).all():
            return _("{name}: could not be made (no valid data).").format(name=name)
        if not np.isin(arr, drawn).any():
            return _("{name}: nothing to show in this area.").format(name=name)
        return None
    finite = np.isfinite(arr) & (arr != layer.nodata if layer.nodata is not None else True)
    if not finite.any():
        return _("{name}: could not be made (no valid data).").format(name=name)
    return None
