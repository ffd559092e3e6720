"""The exposure inputs of a job (``exposure:`` and ``sources.population``): admin units,
the population grid, facilities and roads; found at plan time, read at run time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.catalog import Catalog
from eo_drr.config import JobConfig, required
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.jobs import inputs
from eo_drr.load import load_items, load_raster_file, nodata_to_nan
from eo_drr.load.grid import crs_wkt
from eo_drr.sendai.indicators import indicators_by_unit
from eo_drr.sendai.units import read_units, read_vector


@dataclass(frozen=True)
class ExposureSources:
    """Where a job's exposure comes from, resolved at plan time: the admin units file, and
    the population as catalogue items or as a file (or neither)."""

    units_path: str
    population_items: list[pystac.Item]
    population_path: str | None


@dataclass(frozen=True)
class Exposure:
    """A job's exposure layers, read: admin units (``code``, ``name``), the population grid
    (persons per cell, on its own grid) and the facilities (points) and roads (lines)."""

    units: gpd.GeoDataFrame
    population: xr.DataArray | None
    facilities: gpd.GeoDataFrame | None
    roads: gpd.GeoDataFrame | None


def exposure_sources(cfg: JobConfig, catalog: Catalog, aoi: Geometry) -> ExposureSources | None:
    """The job's exposure inputs (searched over ``aoi``); None without ``exposure:``."""
    if cfg.exposure is None:
        return None
    units = inputs.resolve_path(cfg, cfg.exposure.admin_units.file, "exposure.admin_units.file")
    pop = cfg.sources.population
    items: list[pystac.Item] = []
    path = None
    if pop is not None and pop.collection:
        items = inputs.search_static(catalog, pop.collection, aoi, "sources.population")
    elif pop is not None and pop.file:
        path = str(inputs.resolve_path(cfg, pop.file, "sources.population.file"))
    return ExposureSources(str(units), items, path)


def admin_units(cfg: JobConfig, path: str | None, aoi: Geometry | None) -> gpd.GeoDataFrame:
    """The admin units (``exposure.admin_units``) of ``path``. With ``aoi``, refused when none
    overlaps it (a table of zeros would read as "no one exposed"); a tile of a tiled job may
    hold no unit and passes None."""
    au = required(cfg.exposure, "exposure").admin_units
    units = read_units(
        required(path, "exposure.admin_units.file"),
        layer=au.layer,
        code_field=au.code_field,
        name_field=au.name_field,
    )
    if aoi is not None and not units.geometry.intersects(aoi.to_crs(units.crs).geom).any():
        raise InputError(
            _(
                "exposure.admin_units.file: none of the {n} units of {path} overlaps the AOI "
                "(another place, or another CRS declared wrongly?)"
            ).format(n=len(units), path=path)
        )
    return units


def population_grid(
    cfg: JobConfig, items: Sequence[pystac.Item], path: str | None, aoi: Geometry
) -> xr.DataArray | None:
    """The population grid (persons per cell) over ``aoi``, on its own (native) grid: counts
    are never resampled. From ``path`` (a file) or ``items``; None without either."""
    if path:
        return _population_file(path, aoi)
    if not items:
        return None
    asset = required(cfg.sources.population, "sources.population").asset
    gbox = inputs.native_geobox(items[0], asset, aoi)
    population = nodata_to_nan(
        load_items(list(items), [asset], gbox, groupby=None)[asset].isel(time=0, drop=True)
    ).compute()
    return population.rio.write_crs(crs_wkt(gbox))


def _population_file(path: str, aoi: Geometry) -> xr.DataArray:
    """A population raster file cut to the AOI; refused when it does not overlap it."""
    from rioxarray.exceptions import NoDataInBounds, OneDimensionalRaster

    da = load_raster_file(path, what="sources.population.file")
    b = aoi.to_crs(da.rio.crs).boundingbox
    try:
        return da.rio.clip_box(b.left, b.bottom, b.right, b.top).compute()
    except (NoDataInBounds, OneDimensionalRaster):
        raise InputError(
            _("sources.population.file: {path} does not overlap the AOI").format(path=path)
        ) from None


def vector_input(cfg: JobConfig, key: str) -> gpd.GeoDataFrame | None:
    """The vector input ``exposure.<key>`` (``facilities``, ``roads``), or None."""
    src = getattr(required(cfg.exposure, "exposure"), key)
    if src is None:
        return None
    what = f"exposure.{key}.file"
    return read_vector(inputs.resolve_path(cfg, src.file, what), layer=src.layer, what=what)


def read_exposure(
    cfg: JobConfig, sources: ExposureSources, aoi: Geometry, whole_job: bool
) -> Exposure:
    """Read the exposure layers of ``sources`` over ``aoi``. ``whole_job``: False for a tile
    of a tiled job (its units are not checked against its own AOI)."""
    return Exposure(
        admin_units(cfg, sources.units_path, aoi if whole_job else None),
        population_grid(cfg, sources.population_items, sources.population_path, aoi),
        vector_input(cfg, "facilities"),
        vector_input(cfg, "roads"),
    )


def flood_exposure_table(
    flood: xr.DataArray,
    ex: Exposure,
    landcover: xr.DataArray | None,
    job_grid: GeoBox | None,
) -> pd.DataFrame:
    """The EO-proxy indicators per unit of ``flood`` (uint8 classes with a CRS):
    :func:`~eo_drr.sendai.indicators.indicators_by_unit` over the exposure layers. With a land
    cover (on the flood grid), each population cell's people go on its WorldCover built-up
    (50) pixels first (``population.DASYMETRIC_FLOOR`` elsewhere); in a tile of a tiled job
    (``job_grid``: the whole job's grid), cells cut by tile borders are shared."""
    lc = landcover.rio.write_crs(flood.rio.crs) if landcover is not None else None
    return indicators_by_unit(
        flood,
        ex.units,
        population=ex.population,
        landcover=lc,
        facilities=ex.facilities,
        roads=ex.roads,
        dasymetric=lc is not None,
        job_grid=job_grid,
    )
