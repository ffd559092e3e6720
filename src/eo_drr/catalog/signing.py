"""URL signing and href preparation for reading assets in place.

Planetary Computer assets are Azure blobs that need a SAS token; tokens expire (typically
after about an hour), so a long job must sign at *read* time, not at search time. odc-stac
calls ``patch_url`` for every read: :func:`planetary_computer_patch_url` signs there (the
``planetary-computer`` package caches tokens and renews them before expiry).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pystac

from eo_drr.catalog.fetch import https_href
from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _


def planetary_computer_patch_url() -> Callable[[str], str]:
    """A ``patch_url`` that signs each URL when it is read (needs the ``pc`` extra)."""
    try:
        import planetary_computer
    except ImportError:
        raise ConfigError(
            _("Planetary Computer assets must be signed: pip install 'eo-drr[pc]'")
        ) from None
    return planetary_computer.sign_url


def use_https_hrefs(items: Sequence[pystac.Item]) -> list[pystac.Item]:
    """Copies of ``items`` whose ``s3://`` asset hrefs are replaced by their https alternates
    (CDSE STAC), so GDAL reads them over HTTPS."""
    out = []
    for item in items:
        it = item.clone()
        for asset in it.assets.values():
            try:
                asset.href = https_href(asset)
            except Exception:  # assets without an https form (metadata) stay as they are
                pass
        out.append(it)
    return out
