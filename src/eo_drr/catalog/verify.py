"""Ingest checks: a downloaded raster must decode completely *now*, not fail at compute time.

A truncated Cloud-Optimized GeoTIFF often opens (its header and IFDs sit at the start) and
fails only when a missing tile is read, deep inside a job. :func:`check_raster_decodes` reads
every block of every band (and overview) once.
"""

from __future__ import annotations

from pathlib import Path

from eo_drr.errors import CorruptInputError
from eo_drr.i18n import gettext as _

RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".nc")


def check_raster_decodes(path: str | Path, *, overviews: bool = True) -> None:
    """Decode every block of ``path``; raise :class:`CorruptInputError` naming the file."""
    import rasterio
    from rasterio.errors import RasterioError

    path = Path(path)
    try:
        with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"), rasterio.open(path) as src:
            for band in range(1, src.count + 1):
                for _ij, window in src.block_windows(band):
                    src.read(band, window=window)
            if overviews and src.count:
                for factor in src.overviews(1):
                    src.read(
                        1, out_shape=(max(1, src.height // factor), max(1, src.width // factor))
                    )
    except (RasterioError, OSError) as exc:
        raise CorruptInputError(
            _("{path}: the raster does not decode completely ({exc})").format(path=path, exc=exc)
        ) from None
