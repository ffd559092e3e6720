"""Sentinel-1 loading: units, nodata, and GRD items that would be misplaced."""

from __future__ import annotations

import json

import numpy as np
import pystac
import pytest

from eo_drr.errors import InputError
from eo_drr.load import load_s1
from eo_drr.load.sentinel1 import check_s1_georeferencing


def test_earth_search_grd_bbox_geotransform_refused(shared_data):
    d = json.loads(
        (
            shared_data
            / "stac-items"
            / "earth-search-v1"
            / "sentinel-1-grd__S1A_IW_GRDH_1SSH_20250731T135702_20250731T135722_060328_077F7E.json"
        ).read_text()
    )
    with pytest.raises(InputError, match="derived from its bounding box"):
        check_s1_georeferencing([pystac.Item.from_dict(d)])


def test_cdse_grd_cog_without_projection_refused(shared_data):
    d = json.loads(
        (
            shared_data
            / "stac-items"
            / "cdse-v1"
            / "eometadatatool-generated"
            / "sentinel-1-grd__S1A_IW_GRDH_1SDV_20240607T000653_20240607T000718_054210_0697DA_6EE4_COG.json"
        ).read_text()
    )
    with pytest.raises(InputError, match="GCPs only"):
        check_s1_georeferencing([pystac.Item.from_dict(d)])


def test_planetary_computer_rtc_accepted(shared_data):
    d = json.loads(
        (
            shared_data / "stac-items" / "planetary-computer" / "sentinel-1-rtc-pc.items.json"
        ).read_text()
    )
    check_s1_georeferencing([pystac.Item.from_dict(x) for x in d])


def test_demo_rtc_in_db_and_linear(small_demo_scene):
    from odc.geo.geobox import GeoBox

    from eo_drr.catalog import SearchQuery, StaticCatalog

    items = StaticCatalog(small_demo_scene.catalog_path).search(
        SearchQuery(collections=("sentinel-1-rtc",), relative_orbit=165)
    )
    gbox = GeoBox.from_bbox(small_demo_scene.bbox, crs=small_demo_scene.crs, resolution=10)
    lin = load_s1(items[:1], ["vv"], gbox, units="linear")["vv"]
    db = load_s1(items[:1], ["vv"], gbox, units="db")["vv"]
    assert lin.attrs["units"] == "linear power" and db.attrs["units"] == "dB"
    a, b = lin.values, db.values
    assert np.nanmin(a) > 0 and -40 < np.nanmedian(b) < 5
    np.testing.assert_allclose(b, 10 * np.log10(a), rtol=1e-5, atol=1e-4)
    assert lin.dtype == np.float32


def test_demo_s2_harmonised_and_scl_masked_but_water_kept(small_demo_scene):
    """Reflectance = (DN - 1000) / 10000; clouds and shadows masked; SCL water (6) kept."""
    import rasterio
    from odc.geo.geobox import GeoBox

    from eo_drr.catalog import SearchQuery, StaticCatalog
    from eo_drr.load import load_s2

    cat = StaticCatalog(small_demo_scene.catalog_path)
    items = cat.search(SearchQuery(collections=("sentinel-2-l2a",)))
    cloudy = max(items, key=lambda it: it.properties["eo:cloud_cover"])
    gbox = GeoBox.from_bbox(small_demo_scene.bbox, crs=small_demo_scene.crs, resolution=10)
    ds = load_s2([cloudy], ["B03", "B08", "SCL"], gbox).isel(time=0).compute()
    scl = ds["SCL"].values
    with rasterio.open(cloudy.assets["B03"].get_absolute_href()) as src:
        dn = src.read(1).astype("float64")
    valid = ~np.isin(scl, [0, 1, 3, 8, 9, 10])
    np.testing.assert_allclose(ds["B03"].values[valid], ((dn - 1000) / 10000)[valid], atol=1e-6)
    assert np.isnan(ds["B03"].values[~valid]).all()
    assert (scl == 6).any() and np.isfinite(ds["B08"].values[scl == 6]).all()
    assert ds["B03"].attrs["units"] == "reflectance (0-1)"
