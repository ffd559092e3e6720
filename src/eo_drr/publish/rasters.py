"""Rasters of a run on its grid: numpy arrays in, Cloud-Optimized GeoTIFFs out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_zeros

from eo_drr.io.cog import CogStyle, write_cog
from eo_drr.load.grid import crs_wkt


def write_on_grid(
    values: np.ndarray,
    path: Path,
    geobox: GeoBox,
    nodata: float | None = None,
    style: CogStyle | None = None,
) -> Path:
    """Write ``values`` (``(y, x)`` or ``(band, y, x)``, the shape of ``geobox``) as a COG at
    ``path`` with the grid's CRS and transform: no per-raster georeferencing work."""
    return write_cog(
        values, path, crs=crs_wkt(geobox), transform=geobox.transform, nodata=nodata, style=style
    )


def grid_array(values: np.ndarray, name: str, geobox: GeoBox) -> xr.DataArray:
    """``values`` (``(y, x)``, the shape of ``geobox``) as a DataArray named ``name`` with the
    grid's coordinates and CRS (rioxarray), for the per-unit statistics and the report."""
    template = xr_zeros(geobox, "uint8")
    return template.copy(data=values).rename(name).rio.write_crs(crs_wkt(geobox))
