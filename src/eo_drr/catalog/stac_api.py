"""STAC API backends (pystac-client): named presets for the public Sentinel catalogues.

- ``cdse``: Copernicus Data Space Ecosystem, https://stac.dataspace.copernicus.eu/v1
  (the older ``/stac`` address is deprecated).
- ``earth-search``: Element84 Earth Search v1, https://earth-search.aws.element84.com/v1
  (``sentinel-2-c1-l2a`` is free and carries a SHA-256 ``file:checksum`` per asset).
- ``planetary-computer``: https://planetarycomputer.microsoft.com/api/stac/v1 (assets must be
  signed; :func:`eo_drr.catalog.signing.planetary_computer_patch_url` re-signs at read time).
"""

from __future__ import annotations

import logging

import pystac

from eo_drr.catalog.base import SearchQuery, matches, sort_items
from eo_drr.catalog.net import in_words
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)

PRESETS: dict[str, str] = {
    "cdse": "https://stac.dataspace.copernicus.eu/v1",
    "earth-search": "https://earth-search.aws.element84.com/v1",
    "planetary-computer": "https://planetarycomputer.microsoft.com/api/stac/v1",
}


class StacApiCatalog:
    """Search a STAC API with pystac-client; filters the server cannot apply are applied here."""

    def __init__(self, url: str, name: str | None = None, *, timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.name = name or self.url
        self.timeout = timeout
        self._client = None

    def _open(self):
        if self._client is None:
            from pystac_client import Client
            from pystac_client.exceptions import APIError

            try:
                self._client = Client.open(self.url, timeout=self.timeout)
            except (APIError, OSError, ValueError) as exc:
                raise InputError(
                    _("cannot open the STAC API at {url}: {why}").format(
                        url=self.url, why=in_words(exc, self.url)
                    )
                ) from None
        return self._client

    def search(self, query: SearchQuery) -> list[pystac.Item]:
        from pystac_client.exceptions import APIError

        client = self._open()
        params: dict = {"collections": list(query.collections)}
        if query.bbox is not None:
            params["bbox"] = list(query.bbox)
        if query.datetime is not None:
            params["datetime"] = query.datetime
        if query.ids:
            params["ids"] = list(query.ids)
        if query.max_cloud_cover is not None:
            params["query"] = {"eo:cloud_cover": {"lte": query.max_cloud_cover}}
        if query.limit:
            params["max_items"] = query.limit
        try:
            items = list(client.search(**params).items())
        except (APIError, OSError) as exc:
            raise InputError(
                _("search failed at {url}: {why}").format(url=self.url, why=in_words(exc, self.url))
            ) from None
        # Orbit filters are applied locally: not every server supports them as queryables.
        return sort_items(it for it in items if matches(it, query))
