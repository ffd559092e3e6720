"""Single-band layers of a job on its grid: HAND, DEM, land cover, JRC seasonality, hazard
rasters; from catalogue items (``sources.<key>.collection``) or a file (``sources.<key>.file``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.catalog import Catalog
from eo_drr.config import JobConfig
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.jobs import inputs
from eo_drr.load import load_items, load_raster_file, nodata_to_nan


def load_static(
    items: Sequence[pystac.Item], asset: str, geobox: GeoBox, resampling: str
) -> xr.DataArray:
    """The first item's ``asset`` on ``geobox`` (in the asset's units, no data as NaN),
    computed; ``resampling``: ``"bilinear"`` for heights, ``"nearest"`` for classes."""
    da = load_items(list(items), [asset], geobox, resampling=resampling, groupby=None)[asset]
    return nodata_to_nan(da.isel(time=0, drop=True)).compute()


def source_layer(
    cfg: JobConfig,
    key: str,
    items: Sequence[pystac.Item],
    geobox: GeoBox,
    resampling: str,
) -> xr.DataArray | None:
    """The job's ``sources.<key>`` on ``geobox`` (in the source's units): from ``items`` (its
    collection's, found by the plan) or its file, reprojected; None when the job has none.
    A file with no valid pixel over the grid is refused (it would silently do nothing)."""
    src = getattr(cfg.sources, key)
    if src is None:
        return None
    if items:
        return load_static(items, src.asset, geobox, resampling)
    from odc.geo.xr import xr_reproject

    path = inputs.resolve_path(cfg, src.file, f"sources.{key}.file")
    da = xr_reproject(
        load_raster_file(path, what=f"sources.{key}.file"), geobox, resampling=resampling
    ).compute()
    if not np.isfinite(da.values).any():
        raise InputError(
            _(
                "sources.{key}.file: {path} has no valid pixel over the job's grid (it does not "
                "overlap the AOI, or it is all no data / infinite)"
            ).format(key=key, path=path)
        )
    return da


def search_sources(
    cfg: JobConfig, catalog: Catalog, aoi: Geometry, keys: Sequence[str]
) -> dict[str, list[pystac.Item]]:
    """The newest item over ``aoi`` of each ``sources.<key>`` (of ``keys``) the job gives as a
    collection, by key."""
    found = {}
    for key in keys:
        src = getattr(cfg.sources, key)
        if src is not None and src.collection:
            found[key] = inputs.search_static(catalog, src.collection, aoi, f"sources.{key}")
    return found
