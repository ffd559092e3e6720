"""Resolve a job's inputs: the AOI, the catalogue, ``demo://`` paths, item searches and grids.

These helpers turn a validated :class:`~eo_drr.config.JobConfig` into concrete things the
library layers take (a geometry, a :class:`Catalog`, items, a GeoBox). Errors name the job
file's key (``aoi.file``, ``time.post``, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

import pystac
from odc.geo import CRS
from odc.geo.geobox import GeoBox
from odc.geo.geom import BoundingBox, Geometry
from shapely.geometry import box as shapely_box

from eo_drr.catalog import Catalog, SearchQuery, open_catalog
from eo_drr.config import CATALOG_PRESETS, JobConfig, Window, required
from eo_drr.errors import ConfigError, CorruptInputError, InputError
from eo_drr.i18n import gettext as _
from eo_drr.load.grid import utm_crs
from eo_drr.load.stac import check_bands

DEMO_SCHEME = "demo://"


def demo_scene(cfg: JobConfig):
    """The demo scene the job's ``sources.demo`` options describe (generated on first use)."""
    from eo_drr.demo import ensure_demo_scene

    d = cfg.sources.demo
    return ensure_demo_scene(seed=d.seed, size=d.size, landscape=d.landscape)


def resolve_path(cfg: JobConfig, value: str, key: str) -> Path:
    """A path from the job file: ``demo://NAME`` inside the demo scene, relative paths from the
    job file's folder. Raises :class:`ConfigError` naming ``key`` when the file is missing."""
    if value.startswith(DEMO_SCHEME):
        p = demo_scene(cfg).root / value[len(DEMO_SCHEME) :]
    else:
        p = Path(cfg.resolve_path(value))
    if not p.exists():
        raise ConfigError(_("{what}: no such file {path}").format(what=key, path=p))
    return p


def job_catalog(cfg: JobConfig) -> Catalog:
    """Open the job's catalogue (``sources.catalog``)."""
    if cfg.sources.catalog == "demo":
        d = cfg.sources.demo
        return open_catalog("demo", demo_options=d.model_dump())
    cat = cfg.sources.catalog
    if cat.startswith(DEMO_SCHEME):  # a catalogue inside the demo scene (its S1 series)
        return open_catalog(str(resolve_path(cfg, cat, "sources.catalog")))
    named = (
        cat in CATALOG_PRESETS or cat == "cdse-odata" or cat.startswith(("cdse-odata:", "dhus:"))
    )
    if not named and "://" not in cat:  # a static catalogue: relative to the job file
        cat = cfg.resolve_path(cat)
    return open_catalog(cat)


def aoi_geometry(cfg: JobConfig) -> Geometry:
    """The AOI as an odc-geo Geometry in EPSG:4326."""
    if cfg.aoi.bbox is not None:
        return Geometry(shapely_box(*cfg.aoi.bbox), crs="EPSG:4326")
    import geopandas as gpd
    import pyogrio

    path = resolve_path(
        cfg, required(cfg.aoi.file, "aoi.file", "give aoi.bbox or aoi.file"), "aoi.file"
    )
    try:
        gdf = gpd.read_file(path, layer=cfg.aoi.layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise CorruptInputError(
            _("aoi.file: cannot read {path} ({exc})").format(path=path, exc=exc)
        ) from exc
    if gdf.empty:
        raise ConfigError(_("aoi.file: {path} has no features (empty AOI)").format(path=path))
    if gdf.crs is None:
        raise ConfigError(_("aoi.file: {path} has no CRS").format(path=path))
    geom = gdf.to_crs("EPSG:4326").geometry.make_valid().union_all()
    if geom.is_empty or geom.area == 0:
        raise ConfigError(_("aoi.file: {path} has an empty area").format(path=path))
    return Geometry(geom, crs="EPSG:4326")


def aoi_bbox(aoi: Geometry) -> tuple[float, float, float, float]:
    """West, south, east, north (degrees) of the AOI."""
    b = aoi.boundingbox
    return (b.left, b.bottom, b.right, b.top)


def job_geobox(cfg: JobConfig, aoi: Geometry, items: list[pystac.Item] | None = None) -> GeoBox:
    """The job's output grid: ``grid.crs`` (``auto``: the CRS of the data when all items share
    one projected CRS, else the AOI's UTM zone), ``grid.resolution`` metres, edges aligned to
    multiples of the resolution, covering the AOI."""
    crs = cfg.grid.crs
    if crs == "auto":
        codes = {_item_epsg(it) for it in (items or [])}
        codes.discard(None)
        if len(codes) == 1 and CRS(f"EPSG:{next(iter(codes))}").projected:
            crs = f"EPSG:{codes.pop()}"
        else:
            c = aoi.centroid.coords[0]
            crs = utm_crs(c[0], c[1])
    try:
        target = CRS(crs)
    except Exception as exc:
        raise ConfigError(
            _("grid.crs: unknown CRS {crs!r} ({exc})").format(crs=crs, exc=exc)
        ) from exc
    if target.geographic and cfg.grid.resolution > 0.05:
        raise ConfigError(
            _(
                "grid.crs: {crs} is in degrees, but grid.resolution is {resolution:g} "
                "({resolution:g}-degree pixels, the resolution is read in the CRS's units): use "
                "grid.crs: auto (the UTM zone, metres) or a resolution in degrees (0.0001 is "
                "about 10 m)"
            ).format(crs=crs, resolution=cfg.grid.resolution)
        )
    b = aoi.to_crs(target).boundingbox
    geobox = GeoBox.from_bbox(
        BoundingBox(b.left, b.bottom, b.right, b.top, crs=target),
        crs=target,
        resolution=cfg.grid.resolution,
        anchor="edge",
        tight=False,
    )
    check_grid_size(cfg, geobox)
    return geobox


#: memory of a whole (untiled) job: the process itself, then bytes per output pixel (measured:
#: the demo flood job at 512 and 1024 px peaks at 0.50 and 0.64 GB, about 170 B per pixel)
BASE_BYTES = 0.5 * 2**30
BYTES_PER_PIXEL = 200
#: more tiles than this is a mistake in the grid, not a job
MAX_TILES = 1_000_000


def machine_memory() -> int:
    """Physical memory of this machine in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_grid_size(cfg: JobConfig, geobox: GeoBox) -> None:
    """Refuse, before any work, a grid whose whole-job memory (or tile count) cannot fit: a
    ``ConfigError`` naming ``grid.resolution`` with the pixels, the estimate and the machine."""
    ny, nx = geobox.shape.y, geobox.shape.x
    px = ny * nx
    res = cfg.grid.resolution
    where = f"grid.resolution: {res:g} gives {nx:,} x {ny:,} px ({px / 1e6:,.1f} Mpx) over the AOI"
    if cfg.tiling is not None:
        size = cfg.tiling.tile_size_px
        tiles = -(-nx // size) * -(-ny // size)
        if tiles > MAX_TILES:
            raise ConfigError(
                _("{where}: {tiles:,} tiles of {size} px; is the resolution in metres?").format(
                    where=where, tiles=tiles, size=size
                )
            )
        return
    need, have = BASE_BYTES + px * BYTES_PER_PIXEL, machine_memory()
    if need > 0.8 * have:
        raise ConfigError(
            _(
                "{where}: about {need:,.1f} GiB in one piece, this machine has {have:,.1f} "
                "GiB; add a tiling: section (e.g. tiling: {{tile_size_px: 2048}}) or coarsen the "
                "resolution (metres)"
            ).format(where=where, need=need / 2**30, have=have / 2**30)
        )


def native_geobox(item: pystac.Item, asset: str, aoi: Geometry) -> GeoBox:
    """The item's own pixel grid (from ``proj:*``) cropped to the AOI: used for layers that
    must not be resampled (population counts)."""
    check_bands([item], [asset])
    a = item.assets[asset]
    tr = a.extra_fields.get("proj:transform") or item.properties.get("proj:transform")
    epsg = _item_epsg(item, asset)
    if tr is None or epsg is None:
        raise InputError(
            _("item {id}: asset {asset!r} has no proj:transform / proj:code").format(
                id=item.id, asset=asset
            )
        )
    res = abs(tr[0])
    target = CRS(f"EPSG:{epsg}")
    b = aoi.to_crs(target).boundingbox
    x0, y0 = tr[2], tr[5]
    import math

    left = x0 + math.floor((b.left - x0) / res) * res
    right = x0 + math.ceil((b.right - x0) / res) * res
    top = y0 - math.floor((y0 - b.top) / res) * res
    bottom = y0 - math.ceil((y0 - b.bottom) / res) * res
    return GeoBox.from_bbox((left, bottom, right, top), crs=target, resolution=res, tight=True)


def _item_epsg(item: pystac.Item, asset: str | None = None) -> int | None:
    fields = [item.properties]
    if asset is not None and asset in item.assets:
        fields.insert(0, item.assets[asset].extra_fields)
    for f in fields:
        if f.get("proj:epsg"):
            return int(f["proj:epsg"])
        code = f.get("proj:code")
        if code and str(code).upper().startswith("EPSG:"):
            return int(str(code).split(":")[1])
    return None


def search_window(
    catalog: Catalog,
    collection: str,
    aoi: Geometry,
    window: Window,
    key: str,
    **filters,
) -> list[pystac.Item]:
    """Items of ``collection`` over the AOI within ``window`` (inclusive days). Raises an
    :class:`InputError` naming the job keys when nothing is found."""
    q = SearchQuery.for_days(collection, window.start, window.end, bbox=aoi_bbox(aoi), **filters)
    items = catalog.search(q)
    if not items:
        extra = ", ".join(f"{k}={v}" for k, v in filters.items() if v is not None)
        raise InputError(
            _(
                "no {collection} items in catalogue {name} for aoi {bbox} and {key} "
                "{start}..{end}{extra}: check aoi, time and sources"
            ).format(
                collection=collection,
                name=catalog.name,
                bbox=tuple(round(v, 4) for v in aoi_bbox(aoi)),
                key=key,
                start=window.start,
                end=window.end,
                extra=" (" + extra + ")" if extra else "",
            )
        )
    return items


def search_static(catalog: Catalog, collection: str, aoi: Geometry, key: str) -> list[pystac.Item]:
    """The newest item of a static layer (DEM, HAND, population) over the AOI, as a 1-list."""
    items = catalog.search(SearchQuery(collections=(collection,), bbox=aoi_bbox(aoi)))
    if not items:
        raise InputError(
            _("{key}: no {collection} items in catalogue {name} over the aoi {bbox}").format(
                key=key,
                collection=collection,
                name=catalog.name,
                bbox=tuple(round(v, 4) for v in aoi_bbox(aoi)),
            )
        )
    return items[-1:]
