"""Load layer: lazy, dask-backed xarray on one common grid (odc-stac).

The package is also callable: ``eo_drr.load(items, bands, ...)`` is :func:`load_stac` (the
Python API's loader; ``eo_drr.load`` is both this package and that function).
"""

import sys
import types
from collections.abc import Sequence

import pystac
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.load.assets import check_local_assets
from eo_drr.load.grid import make_geobox, utm_crs
from eo_drr.load.raster import load_raster_file, read_for_display
from eo_drr.load.sentinel1 import load_s1
from eo_drr.load.sentinel2 import boa_offset, load_s2, processing_level
from eo_drr.load.stac import check_bands, load_items, nodata_to_nan

__all__ = [
    "boa_offset",
    "check_bands",
    "check_local_assets",
    "load_items",
    "load_raster_file",
    "load_s1",
    "load_s2",
    "load_stac",
    "make_geobox",
    "nodata_to_nan",
    "processing_level",
    "read_for_display",
    "utm_crs",
]


def load_stac(
    items: Sequence[pystac.Item],
    bands: Sequence[str],
    *,
    bbox: Sequence[float] | None = None,
    crs: str = "auto",
    resolution: float = 10.0,
    chunks: int = 1024,
) -> xr.Dataset:
    """``bands`` of ``items`` as a lazy, dask-backed Dataset ``(time, y, x)`` on one grid
    (odc-stac): ``bbox`` in degrees (default: the items' extent), ``crs`` (``auto`` = the UTM
    zone of the centre), ``resolution`` in the CRS's units (metres for UTM). Pixel values are
    as stored (e.g. Sentinel-2 DN, Sentinel-1 RTC linear power); items of one solar day are
    fused into one time step. Local asset files are checked at once (missing, unreadable:
    :func:`check_local_assets`), not when the load is computed."""
    items = list(items)
    if not items:
        raise InputError(_("items: nothing to load (the search found no item)"))
    check_bands(items, list(bands))
    check_local_assets(items, list(bands))
    if bbox is None:
        boxes = [it.bbox for it in items if it.bbox]
        if not boxes:
            raise InputError(_("bbox: the items carry no bbox; give one"))
        bbox = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
    if len(bbox) != 4:
        raise InputError(
            _("bbox: expected west, south, east, north in degrees, got {bbox}").format(
                bbox=tuple(bbox)
            )
        )
    w, s, e, n = (float(v) for v in bbox)
    return load_items(
        items, list(bands), make_geobox((w, s, e, n), crs=crs, resolution=resolution), chunks=chunks
    )


class _CallableLoad(types.ModuleType):
    def __call__(self, *args, **kwargs) -> xr.Dataset:
        return load_stac(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableLoad
