"""A real recorded Sentinel-2 item from each of CDSE, Earth Search and Planetary Computer:
search on a loopback STAC API -> lazy load over HTTP (GDAL range reads from a loopback
server) -> an index. The items are the recorded ones; only their asset links point at local
COGs placed inside each item's own grid (a 256 x 256 crop at its upper-left corner)."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pystac
import pytest
from affine import Affine
from loopback import serve_stac_landing
from werkzeug import Request, Response

from eo_drr.catalog import SearchQuery, StacApiCatalog
from eo_drr.catalog.signing import use_https_hrefs
from eo_drr.io import write_cog
from eo_drr.load import load_s2
from eo_drr.load.sentinel2 import boa_offset

CASES = {
    "cdse": (
        "cdse-v1/sentinel-2-l2a__S2A_MSIL2A_20241107T113311_N0511_R080_T32VKR_20241107T123948.json",
        None,
        "B04_10m",
        "B08_10m",
    ),
    "earth-search": (
        "earth-search-v1/sentinel-2-c1-l2a__S2B_T24MUV_20250731T130245_L2A.json",
        None,
        "red",
        "nir",
    ),
    "planetary-computer": ("planetary-computer/sentinel-2-l2a-pc.items.json", 0, "B04", "B08"),
}
RED_REFL, NIR_REFL = 0.05, 0.40  # dense green vegetation: NDVI = 0.778


def _grid(item: pystac.Item, band: str):
    a = item.assets[band]
    tr = a.extra_fields.get("proj:transform") or item.properties.get("proj:transform")
    code = (
        a.extra_fields.get("proj:code")
        or item.properties.get("proj:code")
        or f"EPSG:{item.properties.get('proj:epsg')}"
    )
    return Affine(*tr[:6]), code


@pytest.fixture
def stac_api(httpserver):
    """A minimal STAC API on loopback: landing page + /search returning the items given."""
    state = {"items": [], "signed_reads": 0, "unsigned_reads": 0}
    base = httpserver.url_for("").rstrip("/")
    serve_stac_landing(httpserver, base)
    httpserver.expect_request("/search").respond_with_handler(
        lambda r: Response(
            json.dumps({"type": "FeatureCollection", "features": state["items"]}),
            content_type="application/geo+json",
        )
    )
    files: dict[str, bytes] = {}

    def serve(request: Request) -> Response:
        data = files.get(request.path)
        if data is None:
            return Response("nope", status=404)
        if "sig" in parse_qs(urlsplit(request.url).query):
            state["signed_reads"] += 1
        else:
            state["unsigned_reads"] += 1
        headers = {"Accept-Ranges": "bytes", "Content-Type": "image/tiff"}
        if request.method == "HEAD":  # werkzeug keeps Content-Length and drops the body
            return Response(data, headers=headers)
        rng = request.headers.get("Range")
        if rng:
            a, b = rng.split("=")[1].split("-")
            a, b = int(a), min(int(b) if b else len(data) - 1, len(data) - 1)
            headers["Content-Range"] = f"bytes {a}-{b}/{len(data)}"
            return Response(data[a : b + 1], status=206, headers=headers)
        return Response(data, headers=headers)

    httpserver.expect_request(re.compile("^/files/.*")).respond_with_handler(serve)
    state["files"], state["base"] = files, base
    return state


@pytest.mark.parametrize("provider", list(CASES))
def test_recorded_item_search_load_index(provider, stac_api, shared_data, tmp_path):
    from eo_drr.indices import ndvi

    rel, index, red, nir = CASES[provider]
    raw = json.loads((shared_data / "stac-items" / rel).read_text())
    raw = raw[index] if index is not None else raw
    item = pystac.Item.from_dict(raw)
    offset = boa_offset(item, red)  # the DN offset this provider's pixels carry
    transform, crs = _grid(item, red)
    base = stac_api["base"]
    for band, refl in ((red, RED_REFL), (nir, NIR_REFL)):
        dn = np.full((256, 256), round(refl * 10000 - offset), dtype=np.uint16)
        cog = write_cog(dn, tmp_path / f"{band}.tif", crs=crs, transform=transform, nodata=0)
        path = f"/files/{provider}/{band}.tif"
        stac_api["files"][path] = cog.read_bytes()
        asset = raw["assets"][band]
        if provider == "cdse":  # CDSE lists s3:// hrefs with zipper https alternates
            asset["alternate"]["https"]["href"] = base + path
        else:
            asset["href"] = base + path
    stac_api["items"] = [raw]

    found = StacApiCatalog(base + "/").search(SearchQuery(collections=(raw["collection"],)))
    assert [i.id for i in found] == [raw["id"]]
    items = use_https_hrefs(found)
    x0, y0 = transform.c, transform.f
    from odc.geo.geobox import GeoBox

    gbox = GeoBox.from_bbox((x0, y0 - 2560, x0 + 2560, y0), crs=crs, resolution=10)
    patch = None
    if provider == "planetary-computer":  # re-signed at every read
        patch = lambda url: url + ("&" if "?" in url else "?") + "sig=fake-token"  # noqa: E731
    ds = load_s2(items, [red, nir], gbox, chunks=128, mask_scl=False, patch_url=patch)
    assert ds[red].data.__class__.__module__.startswith("dask")  # lazy
    v = ndvi(nir=ds[nir], red=ds[red]).compute()
    expected = (NIR_REFL - RED_REFL) / (NIR_REFL + RED_REFL)
    np.testing.assert_allclose(np.asarray(v), expected, atol=1e-4)
    if provider == "planetary-computer":
        assert stac_api["signed_reads"] > 0 and stac_api["unsigned_reads"] == 0
