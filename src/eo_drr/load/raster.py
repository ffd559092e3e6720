"""Single raster files supplied by a user (a HAND layer, a population grid, a land-cover map)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from eo_drr.errors import CorruptInputError, InputError
from eo_drr.i18n import gettext as _


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
        raise InputError(_("{what}: no such file {path}").format(what=what, path=path))
    try:
        da = rioxarray.open_rasterio(
            path, chunks={"x": chunks, "y": chunks} if chunks else None, masked=True
        )
    except (rasterio.errors.RasterioIOError, OSError, UnicodeDecodeError) as exc:
        raise CorruptInputError(
            _("{what}: {path} is not a readable raster ({exc})").format(
                what=what, path=path, exc=exc
            )
        ) from exc
    if not isinstance(da, xr.DataArray):
        raise InputError(
            _("{what}: {path} holds several subdatasets; give one raster").format(
                what=what, path=path
            )
        )
    if "band" in da.dims:
        if band > da.sizes["band"]:
            raise InputError(
                _("{what}: {path} has {n_bands} band(s), asked for band {band}").format(
                    what=what, path=path, n_bands=da.sizes["band"], band=band
                )
            )
        da = da.isel(band=band - 1, drop=True)
    if da.rio.crs is None:
        raise InputError(
            _("{what}: {path} has no CRS; set one (e.g. gdal_edit.py -a_srs EPSG:XXXX)").format(
                what=what, path=path
            )
        )
    return da.astype(np.float32)


def read_for_display(path: str | Path, max_px: int = 2048) -> xr.DataArray:
    """A single-band class raster read at most ``max_px`` on its longer side (from the COG's
    overviews, nearest neighbour), with its georeferencing (rioxarray CRS): for a map of a
    large mosaic (the report), never the full resolution."""
    import rasterio
    import rioxarray  # noqa: F401  (registers the .rio accessor)
    from rasterio.enums import Resampling

    with rasterio.open(path) as src:
        f = max(1.0, max(src.width, src.height) / max_px)
        shape = (max(1, round(src.height / f)), max(1, round(src.width / f)))
        data = src.read(1, out_shape=shape, resampling=Resampling.nearest)
        tr = src.transform @ src.transform.scale(src.width / shape[1], src.height / shape[0])
        crs = src.crs.to_wkt()
    ys = tr.f + tr.e * (np.arange(shape[0]) + 0.5)
    xs = tr.c + tr.a * (np.arange(shape[1]) + 0.5)
    return xr.DataArray(data, dims=("y", "x"), coords={"y": ys, "x": xs}).rio.write_crs(crs)
