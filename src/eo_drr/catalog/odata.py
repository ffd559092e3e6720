"""CDSE OData catalogue: whole products (SAFE zips) with their MD5/BLAKE3 checksums.

Search: ``GET {base}/Products?$filter=...&$top=...&$expand=Attributes`` following
``@odata.nextLink``; download: ``{download}/Products(<Id>)/$value`` with a bearer token
(see :mod:`eo_drr.catalog.credentials`). Results are returned as :class:`pystac.Item` with one
asset ``product`` carrying ``file:size`` and the checksums, so the downloader treats them like
any STAC asset.
"""

from __future__ import annotations

import datetime as dt
import logging

import pystac
import requests
from shapely import wkt
from shapely.geometry import mapping

from eo_drr.catalog.base import SearchQuery, matches, sort_items
from eo_drr.catalog.net import in_words
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)

CDSE_ODATA = "https://catalogue.dataspace.copernicus.eu/odata/v1"
CDSE_DOWNLOAD = "https://download.dataspace.copernicus.eu/odata/v1"
#: STAC-like collection names -> OData Collection/Name
COLLECTIONS = {"sentinel-1": "SENTINEL-1", "sentinel-2": "SENTINEL-2", "sentinel-3": "SENTINEL-3"}


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def odata_filter(query: SearchQuery) -> str:
    """The ``$filter`` expression for ``query`` (collection, time, bbox, product type)."""
    parts = []
    if query.collections:
        names = [COLLECTIONS.get(c.lower(), c.upper()) for c in query.collections]
        parts.append("(" + " or ".join(f"Collection/Name eq '{n}'" for n in names) + ")")
    if query.start is not None:
        parts.append(f"ContentDate/Start ge {_iso(query.start)}")
    if query.end is not None:
        parts.append(f"ContentDate/Start le {_iso(query.end)}")
    if query.bbox is not None:
        w, s, e, n = query.bbox
        poly = f"POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))"
        parts.append(f"OData.CSC.Intersects(area=geography'SRID=4326;{poly}')")
    if query.relative_orbit is not None:
        parts.append(
            "Attributes/OData.CSC.IntegerAttribute/any(att:att/Name eq 'relativeOrbitNumber' "
            f"and att/OData.CSC.IntegerAttribute/Value eq {int(query.relative_orbit)})"
        )
    if query.orbit_direction is not None:
        parts.append(
            "Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'orbitDirection' "
            f"and att/OData.CSC.StringAttribute/Value eq '{query.orbit_direction.upper()}')"
        )
    if query.max_cloud_cover is not None:
        parts.append(
            "Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' "
            f"and att/OData.CSC.DoubleAttribute/Value le {float(query.max_cloud_cover)})"
        )
    return " and ".join(parts)


def product_to_item(rec: dict, download_base: str = CDSE_DOWNLOAD) -> pystac.Item:
    """One OData product record as a STAC item (properties from its Attributes)."""
    attrs = {a["Name"]: a.get("Value") for a in rec.get("Attributes", [])}
    start = dt.datetime.fromisoformat(rec["ContentDate"]["Start"].replace("Z", "+00:00"))
    geom = None
    if rec.get("GeoFootprint"):
        geom = rec["GeoFootprint"]
    elif rec.get("Footprint"):
        text = rec["Footprint"].split(";", 1)[-1].rstrip("'")
        geom = mapping(wkt.loads(text))
    bbox = None
    if geom is not None:
        from shapely.geometry import shape

        bbox = list(shape(geom).bounds)
    props = {
        "odata:name": rec["Name"],
        "odata:online": rec.get("Online"),
        "sat:relative_orbit": attrs.get("relativeOrbitNumber"),
        "sat:orbit_state": str(attrs.get("orbitDirection", "")).lower() or None,
        "eo:cloud_cover": attrs.get("cloudCover"),
        "product:type": attrs.get("productType"),
    }
    item = pystac.Item(
        id=rec["Name"].removesuffix(".SAFE"),
        geometry=geom,
        bbox=bbox,
        datetime=start,
        properties={k: v for k, v in props.items() if v is not None},
        collection=str(attrs.get("platformShortName", "")).lower() or None,
    )
    item.add_asset(
        "product",
        pystac.Asset(
            href=f"{download_base}/Products({rec['Id']})/$value",
            media_type="application/zip",
            roles=["data", "archive"],
            extra_fields={
                "file:size": rec.get("ContentLength"),
                "eo_drr:checksums": [
                    {"algorithm": c["Algorithm"], "value": c["Value"]}
                    for c in rec.get("Checksum", [])
                ],
                "file:local_path": rec["Name"] + ".zip",
            },
        ),
    )
    return item


class CdseODataCatalog:
    """Search the CDSE OData catalogue for whole products."""

    def __init__(
        self,
        url: str = CDSE_ODATA,
        download_url: str = CDSE_DOWNLOAD,
        *,
        page_size: int = 100,
        timeout: float = 60.0,
        session: requests.Session | None = None,
        name: str = "cdse-odata",
    ):
        self.url = url.rstrip("/")
        self.download_url = download_url.rstrip("/")
        self.page_size = page_size
        self.timeout = timeout
        self.session = session or requests.Session()
        self.name = name

    def search(self, query: SearchQuery) -> list[pystac.Item]:
        params = {
            "$filter": odata_filter(query),
            "$top": str(min(self.page_size, query.limit or self.page_size)),
            "$expand": "Attributes",
            "$orderby": "ContentDate/Start asc",
        }
        url: str | None = f"{self.url}/Products"
        items: list[pystac.Item] = []
        while url:
            try:
                r = self.session.get(url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                raise InputError(
                    _("cannot reach the CDSE OData catalogue at {url}: {why}").format(
                        url=self.url, why=in_words(exc, self.url)
                    )
                ) from None
            if r.status_code != 200:
                raise InputError(
                    _("CDSE OData search failed: HTTP {status_code}: {text}").format(
                        status_code=r.status_code, text=r.text[:200]
                    )
                )
            body = r.json()
            items += [product_to_item(rec, self.download_url) for rec in body.get("value", [])]
            url, params = body.get("@odata.nextLink"), {}
            if query.limit and len(items) >= query.limit:
                break
        # The collection of an OData product is its platform; do not refilter by collection.
        q = SearchQuery(
            bbox=None,
            collections=(),
            start=query.start,
            end=query.end,
            max_cloud_cover=query.max_cloud_cover,
            orbit_direction=query.orbit_direction,
            relative_orbit=query.relative_orbit,
            ids=query.ids,
        )
        found = sort_items(it for it in items if matches(it, q))
        return found[: query.limit] if query.limit else found
