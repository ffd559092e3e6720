"""The DHuS backend (sentinelsat) against the real recorded apihub exchanges, replayed on a
loopback server."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
import yaml
from werkzeug import Request, Response

pytest.importorskip("sentinelsat", reason="the DHuS backend needs the 'dhus' extra (sentinelsat)")

from eo_drr.catalog import SearchQuery  # noqa: E402
from eo_drr.catalog.checksums import asset_checksums  # noqa: E402
from eo_drr.catalog.credentials import Credentials, Secret  # noqa: E402
from eo_drr.catalog.dhus import DhusCatalog  # noqa: E402

APIHUB = "https://apihub.copernicus.eu/apihub"


def replay(httpserver, cassette_path):
    """Serve every recorded response by path (+ the OData key): the loopback server answers
    what apihub answered."""
    data = yaml.safe_load(cassette_path.read_text())
    by_path: dict[str, list] = {}
    for inter in data["interactions"]:
        u = urlsplit(inter["request"]["uri"])
        by_path.setdefault(u.path, []).append(inter["response"])

    def handle(request: Request) -> Response:
        responses = by_path.get(request.path)
        if not responses:
            return Response("not recorded", status=404)
        resp = responses[0] if len(responses) == 1 else responses.pop(0)
        body = resp["body"]["string"]
        headers = {
            k: v[0] for k, v in resp.get("headers", {}).items() if k.lower() in ("content-type",)
        }
        return Response(body, status=resp["status"]["code"], headers=headers)

    httpserver.expect_request(__import__("re").compile(".*")).respond_with_handler(handle)
    return httpserver.url_for("/apihub/")


def test_dhus_search_on_recorded_apihub(httpserver, shared_data):
    url = replay(httpserver, shared_data / "dhus-api-responses" / "test_footprints_s1.yaml")
    cat = DhusCatalog(url, Credentials("user", Secret("pw")), product_type="GRD")
    q = SearchQuery.for_days(
        "sentinel-1",
        dt.date(2014, 10, 10),
        dt.date(2014, 12, 31),
        bbox=(-66.2695, -8.0592, -57.3047, 0.7031),
    )
    items = cat.search(q)
    assert len(items) == 19
    assert all(i.properties["product:type"] == "GRD" for i in items)
    assert all(i.assets["product"].href.startswith(url) for i in items)
    times = [i.datetime for i in items]
    assert times == sorted(times)
    assert all(i.geometry is not None for i in items)


def test_dhus_checksums_from_recorded_odata(httpserver, shared_data):
    url = replay(
        httpserver, shared_data / "dhus-api-responses" / "test_get_product_odata_full.yaml"
    )
    cat = DhusCatalog(url, Credentials("user", Secret("pw")))
    import pystac

    item = pystac.Item(
        "x",
        None,
        None,
        dt.datetime(2015, 1, 1),
        {"dhus:uuid": "11af8bd9-24d0-4401-9789-b7b73786e122"},
    )
    item.add_asset("product", pystac.Asset(href="x"))
    cat.add_checksums(item)
    cs = asset_checksums(item.assets["product"])
    assert cs and cs[0].algorithm == "md5" and len(cs[0].hexdigest) == 32
    assert item.assets["product"].extra_fields["file:size"] > 0
