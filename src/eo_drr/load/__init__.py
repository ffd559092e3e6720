"""Load layer: lazy, dask-backed xarray on one common grid (odc-stac)."""

from eo_drr.load.grid import make_geobox, utm_crs
from eo_drr.load.raster import load_raster_file, read_for_display
from eo_drr.load.sentinel1 import load_s1
from eo_drr.load.sentinel2 import boa_offset, load_s2, processing_level
from eo_drr.load.stac import check_bands, load_items, nodata_to_nan

__all__ = [
    "boa_offset",
    "check_bands",
    "load_items",
    "load_raster_file",
    "load_s1",
    "load_s2",
    "make_geobox",
    "nodata_to_nan",
    "processing_level",
    "read_for_display",
    "utm_crs",
]
