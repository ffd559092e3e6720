"""Cloud-Optimized GeoTIFF writing and validation.

:func:`write_cog` writes a 2-D or 3-D array (numpy, dask or an xarray ``DataArray`` carrying
rioxarray georeferencing) as a COG with nodata, CRS, internal tiling, overviews and an optional
colour table. The data are first streamed block by block into a temporary tiled GeoTIFF in the
destination folder, then GDAL's COG driver copies it (building overviews) into a second
temporary file that is renamed onto the destination: a crash never leaves a partial COG.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eo_drr.errors import InputError, OutputError
from eo_drr.i18n import gettext as _
from eo_drr.io.atomic import atomic_path

#: GDAL settings used for every write (explicit, so a user's environment cannot change them).
GDAL_WRITE_ENV = {"GDAL_NUM_THREADS": "ALL_CPUS", "GDAL_TIFF_INTERNAL_MASK": "YES"}
#: in-memory arrays up to this size (bytes) are staged in memory rather than in a temporary file
MEMORY_STAGING_MAX_BYTES = 1 << 30

_OVERVIEWS: ContextVar[bool] = ContextVar("eo_drr_cog_overviews", default=True)


@contextlib.contextmanager
def without_overviews() -> Iterator[None]:
    """COGs written in the block get no overviews. For intermediate rasters that are mosaicked
    later (the tiles of a tiled job): the mosaic builds its own overviews, so building them per
    tile is work thrown away. A COG without overviews is still a valid COG."""
    token = _OVERVIEWS.set(False)
    try:
        yield
    finally:
        _OVERVIEWS.reset(token)


def _as_array_and_georef(data: Any, crs: Any, transform: Any, nodata: Any):
    """Split ``data`` into (array-like with a band axis, crs, transform, nodata, descriptions)."""
    descriptions = None
    if hasattr(data, "rio") and hasattr(data, "dims"):  # xarray.DataArray with rioxarray
        crs = crs if crs is not None else data.rio.crs
        transform = transform if transform is not None else data.rio.transform(recalc=True)
        if nodata is None:
            nodata = data.rio.nodata if data.rio.nodata is not None else data.rio.encoded_nodata
        if data.ndim == 3:
            band_dim = data.dims[0]
            descriptions = [str(v) for v in data[band_dim].values]
        arr = data.data
    else:
        arr = data
    if arr.ndim == 2:
        arr = arr[None, ...]
    if arr.ndim != 3:
        raise InputError(
            _("write_cog: expected a 2-D or 3-D raster, got shape {shape}").format(shape=arr.shape)
        )
    if crs is None:
        raise InputError(_("write_cog: the raster has no CRS (pass crs= or set it with rioxarray)"))
    if transform is None:
        raise InputError(_("write_cog: the raster has no geotransform (pass transform=)"))
    return arr, crs, transform, nodata, descriptions


@dataclass(frozen=True)
class CogStyle:
    """What a COG's bands mean to a reader.

    ``band_descriptions``: one name per band (``"VV"``, ``"flood"``), written as GDAL band
    descriptions (default: the DataArray's band coordinate, if any). ``colormap``:
    ``{value: (r, g, b[, a])}`` colour table (0-255) for single-band ``uint8`` class rasters.
    ``tags``: dataset-level metadata tags (units, scale, provenance). ``overview_resampling``:
    ``"nearest"`` for classes, ``"average"`` for continuous values.
    """

    band_descriptions: Sequence[str] | None = None
    colormap: Mapping[int, Sequence[int]] | None = None
    tags: Mapping[str, Any] | None = None
    overview_resampling: str = "nearest"


@dataclass(frozen=True)
class CogEncoding:
    """How a COG is encoded: ``compress`` (GDAL codec name), ``blocksize`` (internal tile side,
    px) and ``predictor`` (GDAL predictor; None: 3 for floats, 2 for integers)."""

    compress: str = "DEFLATE"
    blocksize: int = 512
    predictor: int | None = None


def write_cog(
    data: Any,
    path: str | os.PathLike,
    *,
    crs: Any = None,
    transform: Any = None,
    nodata: float | int | None = None,
    style: CogStyle | None = None,
    encoding: CogEncoding | None = None,
) -> Path:
    """Write ``data`` to ``path`` as a Cloud-Optimized GeoTIFF, atomically.

    Parameters
    ----------
    data
        ``(y, x)`` or ``(band, y, x)`` array: numpy, dask, or an ``xarray.DataArray`` whose
        ``.rio`` accessor gives CRS, transform and nodata. Dask arrays are written block by
        block (peak memory is one row of blocks, not the raster).
    crs, transform, nodata
        Georeferencing (transform in the CRS's units, nodata in the data's units); taken from
        the DataArray when not given.
    style
        Band names, colour table, tags and overview resampling (:class:`CogStyle`).
    encoding
        Compression, block size and predictor (:class:`CogEncoding`).
    """
    import rasterio
    import rasterio.shutil
    from rasterio._err import CPLE_BaseError
    from rasterio.windows import Window

    style = style or CogStyle()
    encoding = encoding or CogEncoding()
    arr, crs, transform, nodata, descriptions = _as_array_and_georef(data, crs, transform, nodata)
    if style.band_descriptions is not None:
        descriptions = list(style.band_descriptions)
    colormap, tags, blocksize = style.colormap, style.tags, encoding.blocksize
    count, height, width = arr.shape
    dtype = np.dtype(arr.dtype)
    if dtype == np.bool_:
        arr, dtype = arr.astype(np.uint8), np.dtype(np.uint8)
    path = Path(path)
    predictor = encoding.predictor
    if predictor is None:
        predictor = 3 if dtype.kind == "f" else 2
    profile = {
        "driver": "GTiff",
        "count": count,
        "height": height,
        "width": width,
        "dtype": dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": blocksize,
        "blockysize": blocksize,
        "compress": "NONE",
        "BIGTIFF": "IF_SAFER",
    }
    if colormap is not None and (count != 1 or dtype != np.uint8):
        raise InputError(_("write_cog: a colour table needs a single uint8 band"))
    cog_options = dict(
        driver="COG",
        COMPRESS=encoding.compress,
        PREDICTOR="YES" if predictor else "NO",
        BLOCKSIZE=blocksize,
        OVERVIEWS="AUTO" if _OVERVIEWS.get() else "NONE",
        OVERVIEW_RESAMPLING=style.overview_resampling.upper(),
        BIGTIFF="IF_SAFER",
        NUM_THREADS="ALL_CPUS",
    )

    def fill(dst) -> None:
        _write_blocks(dst, arr, blocksize, Window)
        if descriptions:
            for i, name in enumerate(descriptions[:count], start=1):
                dst.set_band_description(i, str(name))
        if colormap is not None:
            dst.write_colormap(1, {int(k): tuple(v) for k, v in colormap.items()})
        if tags:
            dst.update_tags(**{str(k): str(v) for k, v in tags.items()})

    # an array already in memory is staged in memory (no temporary file to write and read
    # back); a dask array streams block by block through a temporary file
    in_memory = isinstance(arr, np.ndarray) and arr.nbytes <= MEMORY_STAGING_MAX_BYTES
    try:
        with rasterio.Env(**GDAL_WRITE_ENV), atomic_path(path) as final_tmp:
            if in_memory:
                with rasterio.MemoryFile() as mem, mem.open(**profile) as dst:
                    fill(dst)
                    rasterio.shutil.copy(dst, final_tmp, **cog_options)
            else:
                staging = final_tmp.with_name(final_tmp.name + ".stage.tif")
                try:
                    with rasterio.open(staging, "w", **profile) as dst:
                        fill(dst)
                    rasterio.shutil.copy(staging, final_tmp, **cog_options)
                finally:
                    with contextlib.suppress(OSError):
                        staging.unlink()
    except OutputError:  # atomic_path's own line: the final path and the OS error
        raise
    except (rasterio.errors.RasterioError, CPLE_BaseError, OSError) as exc:
        # a full disk or a vanished folder shows up as a GDAL error (CPLE_*) or an OSError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        full = "No space left" in str(exc) or getattr(exc, "errno", None) == errno.ENOSPC
        why = _("the disk is full") if full else first

        raise OutputError(
            _("cannot write {path}: {why} (nothing was written under that name)").format(
                path=path, why=why
            )
        ) from None
    return path


def _write_blocks(dst, arr, blocksize: int, Window) -> None:
    """Stream ``arr`` into ``dst`` one row of blocks at a time (computes dask lazily)."""
    count, height, width = arr.shape
    rows = max(blocksize, 1)
    for y0 in range(0, height, rows):
        y1 = min(height, y0 + rows)
        block = arr[:, y0:y1, :]
        if hasattr(block, "compute"):
            block = block.compute()
        block = np.asarray(block)
        if block.dtype == np.bool_:
            block = block.astype(np.uint8)
        dst.write(block, window=Window(0, y0, width, y1 - y0))


def validate_cog(path: str | os.PathLike) -> tuple[bool, list[str], list[str]]:
    """Validate a COG with rio-cogeo: returns ``(is_valid, errors, warnings)``."""
    from rio_cogeo.cogeo import cog_validate

    if not Path(path).exists():
        raise OutputError(_("no such file: {path}").format(path=path))
    return cog_validate(str(path), quiet=True)
