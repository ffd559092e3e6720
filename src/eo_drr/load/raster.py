"""Single raster files supplied by a user (a HAND layer, a population grid, a land-cover map)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from eo_drr.errors import CorruptInputError, InputError


def load_raster_file(
    path: str | Path, *, band: int = 1, chunks: int | None = 1024, what: str = "raster"
) -> xr.DataArray:
    """Open band ``band`` of a GeoTIFF (or any GDAL raster) lazily with rioxarray.

    Nodata becomes NaN (float32). Raises :class:`InputError` for a missing file or a raster
    without CRS, :class:`CorruptInputError` for a file GDAL cannot open or decode.
    """
    import rasterio
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    path = Path(path)
    if not path.exists():
        raise InputError(f"{what}: no such file {path}")
    try:
        da = rioxarray.open_rasterio(path, chunks={"x": chunks, "y": chunks} if chunks else None, masked=True)
    except (rasterio.errors.RasterioIOError, OSError) as exc:
        raise CorruptInputError(f"{what}: {path} is not a readable raster ({exc})") from exc
    if "band" in da.dims:
        if band > da.sizes["band"]:
            raise InputError(f"{what}: {path} has {da.sizes['band']} band(s), asked for band {band}")
        da = da.isel(band=band - 1, drop=True)
    if da.rio.crs is None:
        raise InputError(f"{what}: {path} has no CRS; set one (e.g. gdal_edit.py -a_srs EPSG:XXXX)")
    return da.astype(np.float32)
