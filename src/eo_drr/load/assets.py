"""Check that the local files of STAC items exist and open, before a lazy load is built.

A lazy load (odc-stac, dask) reads its files only when computed: a missing or broken asset
then ends in GDAL's bare ``RasterioIOError`` far from the call that named it. Local files
(a path, or a ``file://`` URL) are cheap to check at once, header only; remote assets
(``http(s)://``, ``s3://``) are left to the read.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

import pystac

from eo_drr.errors import CorruptInputError, InputError
from eo_drr.i18n import gettext as _


def _local_path(href: str) -> Path | None:
    """The file an asset ``href`` names on this machine; None for a remote URL."""
    url = urlparse(href)
    if url.scheme == "file":
        return Path(unquote(url.path))
    if url.scheme and len(url.scheme) > 1:  # one letter: a Windows drive (C:\\...)
        return None
    return Path(href)


def check_local_assets(items: Sequence[pystac.Item], bands: Sequence[str]) -> None:
    """Raise :class:`InputError` naming the item, the band and the file when a local asset of
    ``bands`` is missing, and :class:`CorruptInputError` when GDAL cannot open it."""
    import rasterio

    for item in items:
        for band in bands:
            asset = item.assets.get(band)
            if asset is None:
                continue  # check_bands names it
            href = asset.get_absolute_href() or asset.href
            path = _local_path(href)
            if path is None:
                continue
            where = _("item {item} ({collection}), band {band}").format(
                item=item.id, collection=item.collection_id, band=band
            )

            if not path.is_file():
                raise InputError(_("{what}: no such file {path}").format(what=where, path=path))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
                    with rasterio.open(path):
                        pass
            except rasterio.errors.RasterioError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise CorruptInputError(
                    _("{where}: {path} is not a readable raster ({first})").format(
                        where=where, path=path, first=first
                    )
                ) from None
