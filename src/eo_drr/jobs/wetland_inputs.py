"""The wetlands job's inputs from its config: the Sentinel-2 stack and the wetland polygons
(the job's file, or derived from the extent), on the job grid."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pystac
from odc.geo.geobox import GeoBox

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, WetlandsProduct, required
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.load import load_s2
from eo_drr.load.grid import crs_wkt
from eo_drr.load.sentinel2 import S2_COMMON_NAMES
from eo_drr.products import wetlands as wl
from eo_drr.sendai import wetland_stats as ws

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WetlandStack:
    """The Sentinel-2 stack: reflectance (0-1) by common band name, ``(time, y, x)``; the
    dates (ISO) and how many of them belong to the reference period (``time.pre``)."""

    bands: dict[str, np.ndarray]
    dates: list[str]
    n_pre: int


def load_wetland_stack(
    cfg: JobConfig, items: Sequence[pystac.Item], n_pre: int, geobox: GeoBox
) -> WetlandStack:
    """Load ``items`` (the first ``n_pre`` of the reference period) on ``geobox``."""
    bands = required(cfg.sources.s2, "sources.s2").bands
    ds = load_s2(items, bands, geobox, chunks=cfg.grid.chunks).compute()
    return WetlandStack(
        {S2_COMMON_NAMES[b]: ds[b].values for b in S2_COMMON_NAMES},
        [str(np.datetime_as_string(t, unit="D")) for t in ds.time.values],
        len({f"{item_datetime(it):%Y-%m-%d}" for it in items[:n_pre]}),
    )


@dataclass(frozen=True)
class WetlandPolygons:
    """The polygons kept (``id``, ``name``, geometry), their int32 labels on the grid (0: none,
    k: row k-1), their areas in pixels and the ids dropped for lying outside the data."""

    polys: gpd.GeoDataFrame
    labels: np.ndarray
    expected_px: np.ndarray
    outside: list[str]


def wetland_polygons(
    cfg: JobConfig, path: str | None, extent: np.ndarray, geobox: GeoBox, min_px: int
) -> WetlandPolygons:
    """The job's polygons (``products.wetlands.polygons``, the file at ``path``) or, without
    one, those of ``extent`` (uint8 1 wetland) of at least ``min_px`` pixels; rasterised on
    ``geobox``. Polygons outside the data are dropped (refused when all are)."""
    crs, transform = crs_wkt(geobox), geobox.transform
    if path:
        wp = cfg.products.wetlands or WetlandsProduct()
        pc = required(wp.polygons, "products.wetlands.polygons")
        polys = ws.read_polygons(
            path, layer=pc.layer, id_field=pc.id_field, name_field=pc.name_field
        )
    else:
        polys = wl.derive_polygons(extent, transform, crs, min_px=min_px)
    labels, expected, outside = ws.rasterize_polygons(
        polys, transform, (geobox.shape.y, geobox.shape.x), crs
    )
    if len(outside) == len(polys):
        raise InputError(
            _("products.wetlands.polygons: every polygon lies outside the data ({outside})").format(
                outside=", ".join(outside[:10])
            )
        )
    if outside:
        log.warning(
            _("wetland polygons outside the data, dropped: {ids}").format(ids=", ".join(outside))
        )
    keep = ~polys["id"].isin(outside).to_numpy()
    remap = np.zeros(len(polys) + 1, np.int32)
    remap[1:][keep] = np.arange(1, keep.sum() + 1)
    return WetlandPolygons(
        polys[keep].reset_index(drop=True), remap[labels], expected[keep], outside
    )
