"""The urban-growth job's inputs from its config: each epoch's Sentinel-2 and Sentinel-1
stacks on the job grid, the hazard zones and the formal (planned) areas."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pystac
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_reproject

from eo_drr.config import JobConfig, UrbanGrowthProduct, required
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.jobs.layers import load_static
from eo_drr.load import load_raster_file, load_s1, load_s2
from eo_drr.load.grid import crs_wkt
from eo_drr.load.sentinel1 import check_loaded
from eo_drr.load.sentinel2 import S2_COMMON_NAMES
from eo_drr.products import hazard_zones
from eo_drr.products.terrain import slope_degrees
from eo_drr.products.water_s2 import s2_water

log = logging.getLogger(__name__)


def load_s2_epoch(items, bands, geobox, chunks) -> dict[str, np.ndarray]:
    """Sentinel-2 reflectance (0-1, SCL-masked) as ``(time, y, x)`` arrays by ESA band name."""
    ds = load_s2(items, bands, geobox, chunks=chunks).compute()
    return {b: ds[b].values for b in bands if b in S2_COMMON_NAMES and b in ds}


@dataclass(frozen=True)
class S1Epoch:
    """One epoch's Sentinel-1 backscatter (linear power, ``(time, y, x)``), or None per band."""

    vv: np.ndarray | None
    vh: np.ndarray | None


def load_s1_epoch(
    cfg: JobConfig, items: Sequence[pystac.Item], geobox: GeoBox, what: str
) -> S1Epoch:
    """The epoch's Sentinel-1 ``items`` on ``geobox``; the first date is checked against the
    units and band order of the job's files (``what`` names the window in messages)."""
    if not items:
        return S1Epoch(None, None)
    s1cfg = required(cfg.sources.s1, "sources.s1")
    s1 = load_s1(
        items, s1cfg.bands, geobox, stored_units=s1cfg.units, chunks=cfg.grid.chunks
    ).compute()
    vv = s1["vv"].values if "vv" in s1 else None
    vh = s1["vh"].values if "vh" in s1 else None
    if vv is not None:  # units and band order of the job's files, first date
        for note in check_loaded(
            vv[0],
            None if vh is None else vh[0],
            stored_units=s1cfg.units,
            what=f"{what} Sentinel-1 {items[0].id}",
        ):
            log.warning("%s", note)
    return S1Epoch(vv, vh)


@dataclass(frozen=True)
class HazardSources:
    """Where the job's hazard zones come from, resolved at plan time: a hazard raster file,
    and the HAND and DEM items of the HAND / slope rules (empty: the rule is off)."""

    path: str | None
    hand_items: Sequence[pystac.Item]
    dem_items: Sequence[pystac.Item]


def job_hazard(
    cfg: JobConfig, sources: HazardSources, geobox: GeoBox, composite_t1: dict[str, np.ndarray]
) -> np.ndarray:
    """The union of the job's hazard zones (uint8 1 / 0 / 255) on ``geobox``: the hazard file,
    HAND <= ``hand_max_m`` (m), slope >= ``slope_min_deg`` (degrees) and near the epoch-1
    water (``composite_t1``: reflectance by ESA band name) within ``water_distance_m``."""
    hz = required(
        required(cfg.products.urban_growth, "products.urban_growth").hazard,
        "products.urban_growth.hazard",
    )
    parts = []
    if sources.path:
        src = load_raster_file(sources.path, what="products.urban_growth.hazard.file")
        h = xr_reproject(src.astype(np.float32), geobox, resampling="nearest").values
        nodata = src.rio.nodata
        missing = (h == nodata) if nodata is not None and np.isfinite(nodata) else ~np.isfinite(h)
        parts.append(hazard_zones.from_raster(np.where(missing, np.nan, h)))
    if sources.hand_items:
        asset = required(cfg.sources.hand, "sources.hand").asset
        hand = load_static(sources.hand_items, asset, geobox, "bilinear").values
        max_m = required(hz.hand_max_m, "products.urban_growth.hazard.hand_max_m")
        parts.append(hazard_zones.from_hand(hand, max_m))
    if sources.dem_items:
        asset = required(cfg.sources.dem, "sources.dem").asset
        dem = load_static(sources.dem_items, asset, geobox, "bilinear").values
        min_deg = required(hz.slope_min_deg, "products.urban_growth.hazard.slope_min_deg")
        parts.append(hazard_zones.from_slope(slope_degrees(dem, abs(geobox.resolution.x)), min_deg))
    if hz.water_distance_m is not None:
        water, _stats = s2_water({S2_COMMON_NAMES[b]: v for b, v in composite_t1.items()})
        parts.append(hazard_zones.near_water(water, hz.water_distance_m, abs(geobox.resolution.x)))
    return hazard_zones.union(parts)


def formal_areas(up: UrbanGrowthProduct, path: str | None, geobox: GeoBox) -> np.ndarray | None:
    """Formal / planned areas (``products.urban_growth.formal_areas``, the file at ``path``)
    rasterised on ``geobox`` (True inside), or None."""
    if not path:
        return None
    from rasterio import features

    fa = gpd.read_file(
        path, layer=required(up.formal_areas, "products.urban_growth.formal_areas").layer
    )
    if fa.crs is None:
        raise InputError(
            _("products.urban_growth.formal_areas.file: {path} has no CRS").format(path=path)
        )
    fa = fa.to_crs(crs_wkt(geobox))
    return features.rasterize(
        ((g, 1) for g in fa.geometry.make_valid() if not g.is_empty),
        out_shape=geobox.shape,
        transform=geobox.transform,
        fill=0,
        dtype="uint8",
    ).astype(bool)
