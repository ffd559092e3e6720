"""DHuS mirrors through sentinelsat (optional extra ``dhus``).

The Copernicus Open Access Hub (SciHub/apihub) that sentinelsat was written for closed in
October 2023, and sentinelsat does not work with the Copernicus Data Space Ecosystem. It still
works with national mirrors that run the DHuS software (set ``api_url``). Products are whole
SAFE zips; the OData ``Checksum`` (MD5) is attached to each item's ``product`` asset so the
downloader verifies it.
"""

from __future__ import annotations

import logging

import pystac
from shapely import wkt as shapely_wkt
from shapely.geometry import box, mapping

from eo_drr.catalog.base import SearchQuery, matches, sort_items
from eo_drr.catalog.credentials import Credentials
from eo_drr.errors import ConfigError, InputError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)

#: collection -> DHuS platformname
PLATFORMS = {"sentinel-1": "Sentinel-1", "sentinel-2": "Sentinel-2", "sentinel-3": "Sentinel-3"}


class DhusCatalog:
    """Search (and describe for download) a DHuS mirror with sentinelsat."""

    def __init__(
        self,
        api_url: str,
        credentials: Credentials,
        *,
        product_type: str | None = None,
        timeout: float = 60,
    ):
        try:
            from sentinelsat import SentinelAPI
        except ImportError:
            raise ConfigError(
                _("the DHuS backend needs sentinelsat: pip install 'eo-drr[dhus]'")
            ) from None
        self.api_url = api_url.rstrip("/") + "/"
        self.name = f"dhus:{self.api_url}"
        self.product_type = product_type
        self._api = SentinelAPI(
            credentials.username,
            str(credentials.password),
            self.api_url,
            show_progressbars=False,
            timeout=timeout,
        )

    def search(self, query: SearchQuery) -> list[pystac.Item]:
        from sentinelsat.exceptions import SentinelAPIError

        kw: dict = {}
        if query.collections:
            names = {PLATFORMS.get(c.lower(), c) for c in query.collections}
            kw["platformname"] = names.pop() if len(names) == 1 else None
        if self.product_type:
            kw["producttype"] = self.product_type
        if query.relative_orbit is not None:
            kw["relativeorbitnumber"] = query.relative_orbit
        if query.orbit_direction is not None:
            kw["orbitdirection"] = query.orbit_direction.upper()
        if query.max_cloud_cover is not None:
            kw["cloudcoverpercentage"] = (0, query.max_cloud_cover)
        kw = {k: v for k, v in kw.items() if v is not None}
        area = box(*query.bbox).wkt if query.bbox is not None else None
        date = (query.start or "*", query.end or "NOW") if (query.start or query.end) else None
        try:
            products = self._api.query(area=area, date=date, limit=query.limit, **kw)
        except SentinelAPIError as exc:
            raise InputError(
                _("DHuS search at {api_url} failed: {why}").format(
                    api_url=self.api_url, why=exc.msg if hasattr(exc, "msg") else exc
                )
            ) from None
        items = [self._to_item(uuid, p) for uuid, p in products.items()]
        q = SearchQuery(
            collections=(),
            start=query.start,
            end=query.end,
            ids=query.ids,
            relative_orbit=query.relative_orbit,
            orbit_direction=query.orbit_direction,
        )
        return sort_items(it for it in items if matches(it, q))

    def _to_item(self, uuid: str, p: dict) -> pystac.Item:
        geom = mapping(shapely_wkt.loads(p["footprint"])) if p.get("footprint") else None
        bbox = list(shapely_wkt.loads(p["footprint"]).bounds) if p.get("footprint") else None
        props = {
            "sat:relative_orbit": p.get("relativeorbitnumber"),
            "sat:orbit_state": str(p.get("orbitdirection", "")).lower() or None,
            "eo:cloud_cover": p.get("cloudcoverpercentage"),
            "product:type": p.get("producttype"),
            "dhus:uuid": uuid,
        }
        item = pystac.Item(
            id=p.get("identifier") or p["title"],
            geometry=geom,
            bbox=bbox,
            datetime=p["beginposition"],
            properties={k: v for k, v in props.items() if v is not None},
            collection=str(p.get("platformname", "")).lower() or None,
        )
        item.add_asset(
            "product",
            pystac.Asset(
                href=f"{self.api_url}odata/v1/Products('{uuid}')/$value",
                media_type="application/zip",
                roles=["data", "archive"],
                extra_fields={
                    "file:local_path": p.get("filename", p["title"]).removesuffix(".SAFE") + ".zip"
                },
            ),
        )
        return item

    def add_checksums(self, item: pystac.Item) -> pystac.Item:
        """Fill the ``product`` asset's size and MD5 from the product's OData record."""
        from sentinelsat.exceptions import SentinelAPIError

        try:
            info = self._api.get_product_odata(item.properties["dhus:uuid"])
        except SentinelAPIError as exc:
            raise InputError(
                _("DHuS product {item}: {exc}").format(item=item.id, exc=exc)
            ) from None
        asset = item.assets["product"]
        asset.extra_fields["file:size"] = info.get("size")
        if info.get("md5"):
            asset.extra_fields["eo_drr:checksums"] = [
                {"algorithm": "MD5", "value": info["md5"].lower()}
            ]
        return item
