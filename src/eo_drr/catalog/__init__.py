"""Catalogue layer: find Sentinel items (STAC APIs, static catalogues, the demo scene).

``open_catalog(name_or_url)`` resolves a preset name (``demo``, ``cdse``, ``earth-search``,
``planetary-computer``, ``cdse-odata`` for whole CDSE products, ``dhus:URL`` for a DHuS mirror), an http(s) STAC API URL, or a path to a static catalogue, into an
object with ``search(SearchQuery) -> list[pystac.Item]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eo_drr.catalog.base import Catalog, SearchQuery, item_datetime, matches, sort_items
from eo_drr.catalog.odata import CDSE_ODATA, CdseODataCatalog
from eo_drr.catalog.stac_api import PRESETS, StacApiCatalog
from eo_drr.catalog.static import StaticCatalog, reuse_parsed_catalogs
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _


def open_catalog(name_or_url: str, *, demo_options: dict[str, Any] | None = None) -> Catalog:
    """Open a catalogue by preset name, STAC API URL or local path.

    ``demo`` generates the bundled demo scene on first use (``demo_options`` are passed to
    :func:`eo_drr.demo.ensure_demo_scene`, e.g. ``{"size": 256, "seed": 1}``).
    """
    if name_or_url == "demo":
        from eo_drr.demo import ensure_demo_scene

        scene = ensure_demo_scene(**(demo_options or {}))
        return StaticCatalog(scene.catalog_path, name="demo")
    if name_or_url == "cdse-odata" or name_or_url.startswith("cdse-odata:"):
        url = name_or_url.partition(":")[2] or CDSE_ODATA
        download = url.replace("catalogue.", "download.") if url == CDSE_ODATA else url
        return CdseODataCatalog(url, download)
    if name_or_url.startswith("dhus:"):
        from urllib.parse import urlsplit

        from eo_drr.catalog.credentials import find_credentials
        from eo_drr.catalog.dhus import DhusCatalog

        url = name_or_url[len("dhus:") :]
        return DhusCatalog(url, find_credentials(urlsplit(url).hostname or url, "DHUS"))
    if name_or_url in PRESETS:
        return StacApiCatalog(PRESETS[name_or_url], name=name_or_url)
    if name_or_url.startswith(("http://", "https://")):
        return StacApiCatalog(name_or_url)
    path = Path(name_or_url).expanduser()
    if path.exists():
        return StaticCatalog(path)
    raise InputError(
        _(
            "unknown catalogue {name_or_url!r}: use one of {choices}, an http(s) STAC API "
            "URL, or the path of a static catalogue"
        ).format(name_or_url=name_or_url, choices=", ".join(["demo", "cdse-odata", *PRESETS]))
    )


__all__ = [
    "Catalog",
    "CdseODataCatalog",
    "PRESETS",
    "SearchQuery",
    "StacApiCatalog",
    "StaticCatalog",
    "item_datetime",
    "matches",
    "open_catalog",
    "reuse_parsed_catalogs",
    "sort_items",
]
