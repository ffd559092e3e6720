"""The grids of the indicator inputs: a raster's georeference (CRS, north-up affine transform,
shape), its pixels as numpy, and a categorical layer put on the hazard grid."""

from __future__ import annotations

import logging

import numpy as np
import odc.geo.xr  # noqa: F401  (registers the .odc accessor)
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from pyproj import CRS

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)


def georef(da: xr.DataArray, what: str) -> tuple[CRS, Affine, tuple[int, int]]:
    """CRS, transform and ``(height, width)`` of a raster; no CRS or a rotated grid is an
    :class:`InputError` starting with ``what``."""
    crs = da.rio.crs
    if crs is None:
        raise InputError(_("{what}: the raster has no CRS").format(what=what))
    tr = da.rio.transform(recalc=True)
    if tr.b != 0 or tr.d != 0:
        raise InputError(_("{what}: rotated grids are not supported").format(what=what))
    return CRS.from_user_input(crs), tr, (da.sizes[da.rio.y_dim], da.sizes[da.rio.x_dim])


def to_numpy(da: xr.DataArray) -> np.ndarray:
    """The raster's values as numpy (dask-backed arrays computed)."""
    return np.asarray(da.data.compute() if hasattr(da.data, "compute") else da.data)


def on_grid(da: xr.DataArray, like: xr.DataArray, what: str) -> np.ndarray:
    """``da`` as a numpy array on ``like``'s grid: as is when the grids match, else reprojected
    by nearest neighbour (classes cannot be averaged; use only for categorical layers)."""
    crs, tr, shape = georef(da, what)
    lcrs, ltr, lshape = georef(like, "flood")
    if crs == lcrs and shape == lshape and tr.almost_equals(ltr, precision=1e-6 * abs(ltr.a)):
        return to_numpy(da)
    from odc.geo.xr import xr_reproject

    nod = da.rio.nodata if da.rio.nodata is not None else da.rio.encoded_nodata
    src = da.copy()
    src.attrs, src.encoding = {}, {}
    src = src.rio.write_crs(crs)
    out = xr_reproject(
        src.odc.assign_crs(crs),
        like.odc.geobox,
        resampling="nearest",
        dst_nodata=0 if nod is None else nod,
    )
    log.info(_("{what}: reprojected to the hazard grid (nearest, categorical)").format(what=what))
    return to_numpy(out)
