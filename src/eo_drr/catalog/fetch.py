"""From found items to files on disk: which assets, which URL, which credentials."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import pystac

from eo_drr.catalog.checksums import asset_checksums
from eo_drr.catalog.download import DownloadRequest
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)

CDSE_HOSTS = ("dataspace.copernicus.eu",)


def https_href(asset: pystac.Asset) -> str:
    """An http(s) URL for ``asset``: its href, or an ``alternate`` https href when the main one
    is ``s3://`` (CDSE STAC lists zipper URLs under ``alternate.https``)."""
    href = asset.get_absolute_href() or asset.href
    if href.startswith(("http://", "https://", "/")) or "://" not in href:
        return href
    for alt in (asset.extra_fields.get("alternate") or {}).values():
        if str(alt.get("href", "")).startswith(("http://", "https://")):
            return alt["href"]
    raise InputError(
        _("asset {href}: no http(s) address (only {scheme}://)").format(
            href=asset.href, scheme=href.split("://")[0]
        )
    )


def default_assets(item: pystac.Item) -> list[str]:
    """Asset keys with the ``data`` role (all assets when no roles are declared)."""
    keys = [k for k, a in item.assets.items() if "data" in (a.roles or [])]
    return keys or list(item.assets)


def download_requests(
    items: Sequence[pystac.Item], outdir: str | Path, assets: Sequence[str] | None = None
) -> list[DownloadRequest]:
    """One request per (item, asset), into ``outdir/<item id>/<file name>``."""
    outdir = Path(outdir)
    reqs = []
    for item in items:
        keys = list(assets) if assets else default_assets(item)
        missing = [k for k in keys if k not in item.assets]
        if missing:
            raise InputError(
                _("item {item} has no asset(s) {missing}; it has {assets}").format(
                    item=item.id, missing=", ".join(missing), assets=", ".join(sorted(item.assets))
                )
            )
        for key in keys:
            asset = item.assets[key]
            url = https_href(asset)
            if not url.startswith(("http://", "https://")):
                raise InputError(
                    _(
                        "item {item}, asset {key}: a local file ({url}), nothing to "
                        "download: jobs read a local catalogue's files in place"
                    ).format(item=item.id, key=key, url=url.removeprefix("file://"))
                )
            name = asset.extra_fields.get("file:local_path") or Path(urlsplit(url).path).name or key
            if name in ("$value", ""):
                name = f"{key}.bin"
            reqs.append(
                DownloadRequest(
                    url=url,
                    dest=outdir / item.id / Path(name).name,
                    size=asset.extra_fields.get("file:size"),
                    checksums=asset_checksums(asset),
                    name=f"{item.id}/{key}",
                )
            )
    return reqs


def needs_cdse_token(url: str) -> bool:
    host = urlsplit(url).netloc
    return any(host.endswith(h) for h in CDSE_HOSTS)
