"""Catalogue backends: static catalogues and a STAC API replayed on loopback from real
recorded responses."""

from __future__ import annotations

import datetime as dt
import json

import pystac
import pytest

from eo_drr.catalog import SearchQuery, StacApiCatalog, StaticCatalog, open_catalog
from eo_drr.errors import InputError

CDSE = "https://stac.dataspace.copernicus.eu/v1"


def _pc_s1_items(shared_data):
    d = json.loads(
        (
            shared_data / "stac-items" / "planetary-computer" / "sentinel-1-rtc-pc.items.json"
        ).read_text()
    )
    return [pystac.Item.from_dict(x) for x in d]


@pytest.fixture
def pc_static_catalog(tmp_path, shared_data):
    """The 4 real Planetary Computer sentinel-1-rtc items as a static catalogue on disk."""
    cat = pystac.Catalog(id="pc-sample", description="recorded PC items")
    for it in _pc_s1_items(shared_data):
        it.set_collection(None)
        it.collection_id = "sentinel-1-rtc"
        cat.add_item(it)
    cat.normalize_hrefs(str(tmp_path / "cat"))
    cat.save(pystac.CatalogType.SELF_CONTAINED)
    return StaticCatalog(tmp_path / "cat")


def test_static_catalog_filters(pc_static_catalog, shared_data):
    items = _pc_s1_items(shared_data)
    all_found = pc_static_catalog.search(SearchQuery(collections=("sentinel-1-rtc",)))
    assert sorted(i.id for i in all_found) == sorted(i.id for i in items)
    orbit = items[0].properties["sat:relative_orbit"]
    same = pc_static_catalog.search(
        SearchQuery(collections=("sentinel-1-rtc",), relative_orbit=orbit)
    )
    assert same and all(i.properties["sat:relative_orbit"] == orbit for i in same)
    direction = items[0].properties["sat:orbit_state"]
    other = "ascending" if direction == "descending" else "descending"
    assert all(
        i.properties["sat:orbit_state"] == other
        for i in pc_static_catalog.search(
            SearchQuery(collections=("sentinel-1-rtc",), orbit_direction=other)
        )
    )
    # bbox far away, and a time window before the acquisitions: nothing
    assert (
        pc_static_catalog.search(
            SearchQuery(collections=("sentinel-1-rtc",), bbox=(-80, -10, -79, -9))
        )
        == []
    )
    q = SearchQuery.for_days("sentinel-1-rtc", dt.date(2020, 1, 1), dt.date(2020, 1, 2))
    assert pc_static_catalog.search(q) == []


def test_parsed_catalogue_is_shared_only_inside_the_block(pc_static_catalog, tmp_path):
    from eo_drr.catalog import reuse_parsed_catalogs

    q = SearchQuery(collections=("sentinel-1-rtc",))
    path = tmp_path / "cat"
    with reuse_parsed_catalogs():
        a = StaticCatalog(path).search(q)
        b = StaticCatalog(path).search(q)
        assert a and all(x is y for x, y in zip(a, b))  # one parse, shared
    # outside the block a new catalogue object reads the files again (sees later additions)
    c = StaticCatalog(path).search(q)
    assert [x.id for x in c] == [x.id for x in a] and all(x is not y for x, y in zip(a, c))


def test_open_catalog_errors(tmp_path):
    with pytest.raises(InputError, match="unknown catalogue"):
        open_catalog("no-such-catalogue")
    bad = tmp_path / "catalog.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not a readable STAC catalogue"):
        StaticCatalog(bad).search(SearchQuery(collections=("x",)))


@pytest.fixture
def cdse_stac_api(httpserver, shared_data):
    """A loopback STAC API replaying CDSE's recorded landing page and search response, with
    the recorded absolute links pointed at the loopback server."""
    root = shared_data / "stac-items" / "cdse-v1"
    base = httpserver.url_for("/v1").rstrip("/")

    def body(name):
        return json.loads((root / name).read_text().replace(CDSE, base))

    landing = body("landing__2025-07-09.json")
    search = body("search__sentinel-2-l2a__bbox_9.0_47.0_9.1_47.1__2020-07-01_2020-07-05.json")
    httpserver.expect_request("/v1/").respond_with_json(landing)
    httpserver.expect_request("/v1").respond_with_json(landing)
    httpserver.expect_request("/v1/search", method="POST").respond_with_json(search)
    httpserver.expect_request("/v1/search", method="GET").respond_with_json(search)
    return base


def test_stac_api_search_on_recorded_cdse(cdse_stac_api):
    cat = StacApiCatalog(cdse_stac_api)
    q = SearchQuery.for_days(
        "sentinel-2-l2a", dt.date(2020, 7, 1), dt.date(2020, 7, 5), bbox=(9.0, 47.0, 9.1, 47.1)
    )
    items = cat.search(q)
    assert len(items) == 4
    assert all(i.collection_id == "sentinel-2-l2a" for i in items)
    times = [i.datetime for i in items]
    assert times == sorted(times)
    # a filter the server did not apply is applied locally
    q2 = SearchQuery.for_days(
        "sentinel-2-l2a", dt.date(2020, 7, 1), dt.date(2020, 7, 5), relative_orbit=108
    )
    assert {i.properties["sat:relative_orbit"] for i in cat.search(q2)} == {108}


def test_stac_api_unreachable():
    cat = StacApiCatalog("http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(InputError, match="cannot open the STAC API"):
        cat.search(SearchQuery(collections=("x",)))
