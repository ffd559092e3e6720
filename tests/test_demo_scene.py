"""Tests of the demo scene generator (eo_drr.demo): physics, truth, vectors, STAC, caching."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pystac
import pytest
import rasterio
import rasterio.features
import rasterio.transform
import shapely
import shapely.geometry

from eo_drr.demo import LANDSCAPES, DemoScene, ensure_demo_scene, generate_scene
from eo_drr.demo import generate as gen_mod
from eo_drr.demo.physics import SCL
from eo_drr.errors import InputError
from eo_drr.io import validate_cog

SIZE = 256
COLLECTIONS = {
    "sentinel-1-rtc": {"vv", "vh"},
    "sentinel-2-l2a": {"B02", "B03", "B04", "B08", "B11", "B12", "SCL"},
    "cop-dem-glo-30": {"data"},
    "demo-hand": {"data"},
    "demo-population": {"total", "female", "male", "age_0_14", "age_15_64", "age_65_plus"},
    "esa-worldcover": {"map"},
    "demo-truth": {
        "flood",
        "flood_observable",
        "permanent_water",
        "builtup_t1",
        "builtup_t2",
        "new_builtup",
        "wetland",
        "landcover",
    },
}


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> DemoScene:
    return generate_scene(tmp_path_factory.mktemp("demo") / "scene", seed=42, size=SIZE)


@pytest.fixture(scope="module")
def desert(tmp_path_factory) -> DemoScene:
    return generate_scene(
        tmp_path_factory.mktemp("desert") / "scene", seed=3, size=192, landscape="desert_city"
    )


def _items(scene: DemoScene, collection: str) -> list[pystac.Item]:
    cat = scene.open_catalog()
    return sorted(
        cat.get_child(collection).get_items(),
        key=lambda i: i.datetime or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
    )


def _read(item: pystac.Item, key: str) -> np.ndarray:
    with rasterio.open(item.assets[key].get_absolute_href()) as src:
        return src.read(1)


def _truth(scene: DemoScene, name: str) -> np.ndarray:
    with rasterio.open(scene.truth[name]) as src:
        return src.read(1)


def _db(lin: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(lin)))


def _all_arrays(root: Path) -> dict[str, bytes]:
    out = {}
    for tif in sorted(root.rglob("*.tif")):
        with rasterio.open(tif) as src:
            out[tif.relative_to(root).as_posix()] = src.read().tobytes()
    return out


# -- the DemoScene description ---------------------------------------------------------------


def test_scene_fields(scene: DemoScene) -> None:
    assert LANDSCAPES == ("floodplain", "desert_city")
    assert scene.crs == "EPSG:32615" and scene.resolution == 10.0
    assert scene.shape == (SIZE, SIZE) and scene.size == SIZE and scene.landscape == "floodplain"
    t = scene.transform
    assert (t.a, t.e) == (10.0, -10.0) and t.c % 100 == 0 and t.f % 100 == 0
    assert scene.bbox == (t.c, t.f - 10 * SIZE, t.c + 10 * SIZE, t.f)
    w, s, e, n = scene.bbox_wgs84
    assert w < -92.93 < e and s < 17.99 < n  # centred on Villahermosa
    assert scene.catalog_path == scene.root / "catalog.json" and scene.catalog_path.is_file()
    assert scene.event_date == dt.date(2024, 11, 5) == scene.post_date
    assert len(scene.pre_dates) == 3 and all(d < scene.event_date for d in scene.pre_dates)
    # Sentinel-1 of built-up epoch 1: a year before, on the reference track's 12-day cycle
    assert [(d - scene.event_date).days for d in scene.s1_epoch1_dates] == [-348, -336, -324]
    assert all((d - scene.pre_dates[0]).days % 12 == 0 for d in scene.s1_epoch1_dates)
    assert len(scene.s2_dates) == 6 and scene.s2_pre_date < scene.event_date < scene.s2_post_date
    assert set(scene.truth) == COLLECTIONS["demo-truth"] | {"flood_depth", "water_frequency"}
    assert DemoScene.load(scene.root) == scene
    doc = json.loads((scene.root / "scene.json").read_text())
    assert doc["generator_version"] == gen_mod.GENERATOR_VERSION
    assert [doc["s1_builtup_epoch"][d.isoformat()] for d in scene.s1_epoch1_dates] == [1, 1, 1]
    assert {doc["s1_builtup_epoch"][d.isoformat()] for d in scene.pre_dates} == {2}
    assert "s2_reflectance" in doc["physics"] and "s1_gamma0_db_vv_vh" in doc["physics"]


def test_load_rejects_a_folder_without_scene(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        DemoScene.load(tmp_path)
    with pytest.raises(InputError):
        generate_scene(tmp_path / "x", size=128, landscape="moon")
    with pytest.raises(InputError):
        generate_scene(tmp_path / "x", size=10)


# -- truth and terrain ---------------------------------------------------------------------------


def test_truth_layers_consistent(scene: DemoScene) -> None:
    flood, obs = _truth(scene, "flood"), _truth(scene, "flood_observable")
    water, t1, t2 = (
        _truth(scene, "permanent_water"),
        _truth(scene, "builtup_t1"),
        _truth(scene, "builtup_t2"),
    )
    lc, wet = _truth(scene, "landcover"), _truth(scene, "wetland")
    np.testing.assert_array_equal(_truth(scene, "new_builtup"), t2 & (1 - t1))
    for a in (flood, obs, water, t1, t2, wet):
        assert a.dtype == np.uint8 and set(np.unique(a)) <= {0, 1}
    assert 0.10 <= flood.mean() <= 0.25
    assert not (flood & water).any()
    assert not (obs & ~flood.astype(bool)).any()
    hidden = (flood & ~obs).sum() / flood.sum()
    assert 0 < hidden < 0.15  # flooded forest / built-up: a small share
    assert not (t1 & ~t2.astype(bool)).any() and t2.sum() > t1.sum()
    assert (t2 & ~t1 & flood).any()  # some growth in flood-prone ground
    assert set(np.unique(lc)) <= {10, 20, 30, 40, 50, 60, 80, 90}
    assert np.array_equal(lc == 80, water == 1) and np.array_equal(lc == 90, wet == 1)
    assert np.array_equal(lc == 50, t2 == 1)


def test_hand_and_dem(scene: DemoScene) -> None:
    (dem_item,), (hand_item,) = _items(scene, "cop-dem-glo-30"), _items(scene, "demo-hand")
    dem, hand = _read(dem_item, "data"), _read(hand_item, "data")
    assert dem.dtype == np.float32 and dem.shape == hand.shape == (86, 86)  # ceil(256 / 3)
    with rasterio.open(dem_item.assets["data"].get_absolute_href()) as src:
        assert src.nodata == -9999 and src.res == (30.0, 30.0)
    assert hand.min() >= 0 and hand.max() > 15 and (hand < 0.5).any()
    profile = (dem - hand).astype(np.float64)  # the river profile: a gentle plane
    yy, xx = np.mgrid[0 : profile.shape[0], 0 : profile.shape[1]]
    A = np.column_stack([np.ones(profile.size), xx.ravel(), yy.ravel()])
    coef, *_ = np.linalg.lstsq(A, profile.ravel(), rcond=None)
    assert np.abs(A @ coef - profile.ravel()).max() < 0.05
    assert coef[1] < 0  # falls downstream (east)


# -- Sentinel-2 -----------------------------------------------------------------------------------


def test_sentinel2_physics(scene: DemoScene) -> None:
    items = _items(scene, "sentinel-2-l2a")
    assert len(items) == 6
    lc, water = _truth(scene, "landcover"), _truth(scene, "permanent_water").astype(bool)
    for item in items:
        b04, b08 = _read(item, "B04"), _read(item, "B08")
        scl, b11 = _read(item, "SCL"), _read(item, "B11")
        assert b04.dtype == np.uint16 and b04.shape == (SIZE, SIZE)
        assert b11.shape == scl.shape == (SIZE // 2, SIZE // 2)
        red, nir = (b04 - 1000.0) / 1e4, (b08 - 1000.0) / 1e4
        assert red.min() >= 0 and nir.max() <= 1
        clear = np.kron(np.isin(scl, [4, 5, 6, 7]), np.ones((2, 2), bool))[:SIZE, :SIZE]
        assert nir[water & clear].mean() < 0.05
        tree = (lc == 10) & clear
        ndvi = (nir - red) / (nir + red)
        assert ndvi[tree].mean() > 0.7
        # Water at 20 m is SCL 6 unless a cloud, shadow or cirrus covers it.
        w20 = water[::2, ::2]
        assert set(np.unique(scl[w20])) <= {SCL["water"], 3, 8, 9, 10}
        covered = np.isin(scl, [8, 9, 10]).mean() * 100
        assert abs(covered - item.properties["eo:cloud_cover"]) < 3
    assert max(i.properties["eo:cloud_cover"] for i in items) > 5
    assert any((_read(i, "SCL") == SCL["thin_cirrus"]).any() for i in items)
    assert any((_read(i, "SCL") == SCL["cloud_shadow"]).any() for i in items)
    # Post-event: the observable flood is water in the SCL where clear.
    post = items[-1]
    scl = _read(post, "SCL")
    obs = _truth(scene, "flood_observable").astype(bool)[::2, ::2]
    clear = np.isin(scl, [4, 5, 6, 7])
    assert (scl[obs & clear] == SCL["water"]).mean() > 0.95


def test_builtup_epochs_in_sentinel2(scene: DemoScene) -> None:
    items = _items(scene, "sentinel-2-l2a")
    growth = (_truth(scene, "builtup_t2") & ~_truth(scene, "builtup_t1")).astype(bool)
    first, pre = items[0], items[-2]
    ndvi = []
    for it in (first, pre):
        red, nir = _read(it, "B04").astype(float), _read(it, "B08").astype(float)
        clear = np.kron(np.isin(_read(it, "SCL"), [4, 5]), np.ones((2, 2), bool))
        ndvi.append(((nir - red) / (nir + red - 2000))[growth & clear].mean())
    assert ndvi[0] > 0.4 > ndvi[1]  # vegetation at epoch 1, built-up at epoch 2


def test_marsh_holds_seasonal_water_in_sentinel2(scene: DemoScene) -> None:
    """The marsh is wet (tasseled-cap wetness up, NIR down) on the high-water dates and dry on
    the low-water one, and stays green vegetation to the SCL, not open water."""
    from eo_drr.demo.sensors import marsh_wet_share
    from eo_drr.demo.sites import SITES

    doc = json.loads((scene.root / "scene.json").read_text())
    shares = doc["s2_marsh_inundated_share"]
    site = SITES["floodplain"]
    assert [shares[d.isoformat()] for d in scene.s2_dates] == [
        round(marsh_wet_share(site, d), 4) for d in scene.s2_dates
    ]
    marsh = _truth(scene, "wetland") == 1
    coef = np.array([0.0315, 0.2021, 0.3102, 0.1594, -0.6806, -0.6109])  # Crist 1985 wetness
    tcw = {}
    for item in _items(scene, "sentinel-2-l2a")[:-1]:  # before the flood
        scl = np.kron(_read(item, "SCL"), np.ones((2, 2), np.uint8))[:SIZE, :SIZE]
        bands = []
        for b in ("B02", "B03", "B04", "B08", "B11", "B12"):
            v = (_read(item, b).astype(float) - 1000) / 1e4
            bands.append(np.kron(v, np.ones((2, 2)))[:SIZE, :SIZE] if v.shape[0] < SIZE else v)
        w = np.tensordot(coef, np.stack(bands), axes=1)
        core = marsh & (scl == SCL["vegetation"])
        if core.sum() >= 50:  # enough clear marsh on this date
            tcw.setdefault(shares[item.datetime.date().isoformat()], []).append(
                float(np.median(w[core]))
            )
    wettest, driest = max(tcw), min(tcw)
    assert wettest >= 0.99 and driest <= 0.01
    assert min(tcw[wettest]) > -0.03 > max(tcw[driest])  # the WIT wet threshold lies between


# -- Sentinel-1 -----------------------------------------------------------------------------------


def test_sentinel1_physics(scene: DemoScene) -> None:
    items = _items(scene, "sentinel-1-rtc")
    assert len(items) == 8
    ref = [i for i in items if i.properties["sat:relative_orbit"] == 165]
    other = [i for i in items if i.properties["sat:relative_orbit"] == 99]
    assert (
        len(ref) == 7 and len(other) == 1 and other[0].properties["sat:orbit_state"] == "ascending"
    )
    assert [i.datetime.date() for i in ref] == [
        *scene.s1_epoch1_dates,
        *scene.pre_dates,
        scene.post_date,
    ]
    water = _truth(scene, "permanent_water").astype(bool)
    flood, obs = _truth(scene, "flood").astype(bool), _truth(scene, "flood_observable").astype(bool)
    t1, t2 = _truth(scene, "builtup_t1").astype(bool), _truth(scene, "builtup_t2").astype(bool)
    growth = t2 & ~t1 & ~flood
    assert growth.sum() > 100
    lc = _truth(scene, "landcover")
    for item in ref:
        vv, vh = _read(item, "vv"), _read(item, "vh")
        assert vv.dtype == np.float32 and (vv > 0).all()
        assert _db(vv[water]) < -18 and _db(vh[water]) < -24
        epoch1 = item.datetime.date() in scene.s1_epoch1_dates
        assert _db(vv[(t1 if epoch1 else t2) & ~flood]) > -6
        # the ground built on between the epochs: open land (dark) at epoch 1, town at epoch 2
        assert (_db(vv[growth]) < -8) if epoch1 else (_db(vv[growth]) > -6), item.id
    post = ref[-1]
    assert post.datetime.date() == scene.event_date
    vv_post, vv_pre = _read(post, "vv"), _read(ref[-2], "vv")
    assert _db(vv_post[obs]) < -15 < _db(vv_pre[obs])
    forest_flooded = flood & (lc == 10)
    if forest_flooded.sum() > 50:
        assert _db(vv_post[forest_flooded]) - _db(vv_pre[forest_flooded]) > 1.5
    # Speckle: ENL ~ 4.4 on the calm lake (plus a little texture).
    lake = water & (_truth(scene, "landcover") == 80)
    x = vv_pre[lake]
    assert 3.0 < x.mean() ** 2 / x.var() < 5.5
    with rasterio.open(post.assets["vv"].get_absolute_href()) as src:
        assert src.nodata == -32768
    assert (_read(other[0], "vv") == -32768).any()  # the other track misses a wedge


def test_search_s1_by_datetime_and_track(scene: DemoScene) -> None:
    items = list(scene.open_catalog().get_items(recursive=True))
    day = dt.timedelta(days=1)
    start = dt.datetime.combine(scene.event_date - 40 * day, dt.time(), tzinfo=dt.timezone.utc)
    end = dt.datetime.combine(scene.event_date, dt.time(), tzinfo=dt.timezone.utc)

    def search(collection, t0, t1, orbit=None):
        return sorted(
            i.id
            for i in items
            if i.collection_id == collection
            and i.datetime is not None
            and t0 <= i.datetime < t1
            and (orbit is None or i.properties["sat:relative_orbit"] == orbit)
        )

    pre_any = search("sentinel-1-rtc", start, end)
    pre_ref = search("sentinel-1-rtc", start, end, orbit=scene.relative_orbit)
    assert len(pre_any) == 4 and len(pre_ref) == 3
    assert [dt.datetime.strptime(i[17:25], "%Y%m%d").date() for i in pre_ref] == list(
        scene.pre_dates
    )
    post = search("sentinel-1-rtc", end, end + day, orbit=scene.relative_orbit)
    assert len(post) == 1 and post[0].startswith("S1A_IW_GRDH_1SDV_20241105T")
    assert post[0].endswith("_rtc")
    s2_post = search("sentinel-2-l2a", end, end + 3 * day)
    assert len(s2_post) == 1 and "_N0510_R" in s2_post[0] and s2_post[0].startswith("S2")


def test_flood_job_and_monitor_ignore_the_epoch1_s1(tmp_path: Path, small_demo_scene) -> None:
    """The Sentinel-1 dates of built-up epoch 1 lie outside configs/demo.yaml's windows: the
    flood job still plans the three pre-event dates and the event date, the monitor still
    finds the event date only, and an urban-growth job's epoch 1 gets exactly the new ones."""
    from test_cli import small_demo_job

    from eo_drr.config import load_config
    from eo_drr.jobs.ledger import JobLedger
    from eo_drr.jobs.monitor import scan
    from eo_drr.pipelines import get_pipeline

    sc = small_demo_scene
    cfg = load_config(small_demo_job(tmp_path))
    p = get_pipeline("flood").plan(cfg)
    assert [i.datetime.date() for i in p.pre_items] == list(sc.pre_dates)
    assert p.post_item.datetime.date() == sc.event_date
    assert {i.properties["sat:relative_orbit"] for i in [*p.pre_items, p.post_item]} == {165}
    found = scan(cfg, JobLedger(tmp_path / "ledger")).new
    assert [(a.day, a.relative_orbit, len(a.items)) for a in found] == [(sc.event_date, 165, 1)]
    (tmp_path / "u").mkdir()
    up = get_pipeline("urban_growth").plan(
        load_config(small_demo_job(tmp_path / "u", "urban_growth_demo.yaml"))
    )
    assert [i.datetime.date() for i in up.s1_items[1]] == list(sc.s1_epoch1_dates)
    assert [i.datetime.date() for i in up.s1_items[2]] == [*sc.pre_dates, sc.event_date]


# -- population -----------------------------------------------------------------------------------


def test_population(scene: DemoScene) -> None:
    (item,) = _items(scene, "demo-population")
    bands = {k: _read(item, k).astype(np.float64) for k in COLLECTIONS["demo-population"]}
    total = bands["total"]
    assert total.shape == (26, 26) and total.min() >= 0  # ceil(256 / 10) cells of 100 m
    np.testing.assert_allclose(bands["female"] + bands["male"], total, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(
        bands["age_0_14"] + bands["age_15_64"] + bands["age_65_plus"], total, rtol=1e-5, atol=1e-3
    )
    assert bands["female"].sum() / total.sum() == pytest.approx(0.512, abs=1e-4)  # INEGI 2020
    built = _truth(scene, "builtup_t2").astype(float)
    frac = np.pad(built, ((0, 4), (0, 4))).reshape(26, 10, 26, 10).mean(axis=(1, 3))
    dense = total[frac > 0.8]
    assert dense.size and 50 <= np.median(dense) <= 150  # 5,000-15,000 persons / km^2
    assert np.median(total[frac == 0]) < 5
    with rasterio.open(item.assets["total"].get_absolute_href()) as src:
        assert src.nodata == -200 and src.res == (100.0, 100.0)


# -- vectors --------------------------------------------------------------------------------------


def test_admin_units_nest_and_cover(scene: DemoScene) -> None:
    l1 = gpd.read_file(scene.admin_units, layer="level1")
    l2 = gpd.read_file(scene.admin_units, layer="level2")
    assert l1.crs.to_epsg() == 4326 and l2.crs.to_epsg() == 4326
    assert len(l1) == 2 and 6 <= len(l2) <= 9
    assert {"code", "name", "level", "parent_code"} <= set(l2.columns)
    assert set(l2.parent_code) == set(l1.code) and l2.code.is_unique
    assert all(c.startswith("MX27-") for c in l1.code)
    p1, p2 = l1.to_crs(scene.crs), l2.to_crs(scene.crs)
    footprint = shapely.box(*scene.bbox)
    assert abs(p2.area.sum() - footprint.area) < 1.0  # no overlaps
    assert shapely.union_all(p2.geometry).symmetric_difference(footprint).area < 1.0  # no gaps
    for _, parent in p1.iterrows():
        kids = p2[p2.parent_code == parent.code]
        assert abs(kids.area.sum() - parent.geometry.area) < 1.0
        assert shapely.union_all(kids.geometry).symmetric_difference(parent.geometry).area < 1.0


def test_facilities_and_roads(scene: DemoScene) -> None:
    fac = gpd.read_file(scene.facilities)
    assert 20 <= len(fac) <= 40 and set(fac["type"]) == {"health", "education"}
    assert fac.crs.to_epsg() == 4326
    pts = fac.to_crs(scene.crs).geometry
    rows, cols = rasterio.transform.rowcol(scene.transform, pts.x.values, pts.y.values)
    flood, built = _truth(scene, "flood"), _truth(scene, "builtup_t2")
    rows, cols = np.asarray(rows), np.asarray(cols)
    assert flood[rows, cols].sum() >= 3 and built[rows, cols].mean() > 0.5
    roads = gpd.read_file(scene.roads)
    assert {"primary", "secondary", "residential"} <= set(roads["class"])
    flood_poly = [
        shapely.geometry.shape(g)
        for g, v in rasterio.features.shapes(flood, transform=scene.transform)
        if v == 1
    ]
    assert roads.to_crs(scene.crs).intersects(shapely.union_all(flood_poly)).any()


# -- STAC catalogue and odc-stac ------------------------------------------------------------------


def test_catalog_assets_are_valid_cogs(scene: DemoScene) -> None:
    cat = pystac.Catalog.from_file(str(scene.catalog_path))
    assert {c.id for c in cat.get_children()} == set(COLLECTIONS)
    raw = json.loads(scene.catalog_path.read_text())
    assert all(not link["href"].startswith("/") for link in raw["links"])
    for col in cat.get_children():
        for item in col.get_items():
            assert set(item.assets) == COLLECTIONS[col.id]
            assert item.properties["proj:code"] == scene.crs
            on_disk = json.loads(Path(item.get_self_href()).read_text())
            assert (
                on_disk["properties"]["proj:epsg"] == scene.epsg
            )  # PC style (pystac migrates it away)
            assert "proj:transform" in item.properties and "proj:shape" in item.properties
            w, s, e, n = item.bbox
            assert -180 <= w < e <= 180 and -90 <= s < n <= 90
            for asset in item.assets.values():
                assert not asset.href.startswith("/")
                path = Path(asset.get_absolute_href())
                assert path.is_file(), path
                ok, errors, _ = validate_cog(path)
                assert ok, (path, errors)
                (band,) = asset.extra_fields["raster:bands"]
                with rasterio.open(path) as src:
                    assert src.dtypes[0] == band["data_type"] and src.nodata == band["nodata"]
                    assert src.crs.to_epsg() == scene.epsg
                    assert list(src.shape) == asset.extra_fields["proj:shape"]
    s2 = next(cat.get_child("sentinel-2-l2a").get_items())
    assert (
        s2.properties["s2:processing_baseline"] == "05.10"
        and s2.properties["s2:mgrs_tile"] == "15QWV"
    )
    b02 = s2.assets["B02"].extra_fields["raster:bands"][0]
    assert b02 == {
        "nodata": 0,
        "data_type": "uint16",
        "scale": 0.0001,
        "offset": -0.1,
        "spatial_resolution": 10,
    }
    assert s2.assets["B11"].extra_fields["raster:bands"][0]["spatial_resolution"] == 20
    assert "scale" not in s2.assets["SCL"].extra_fields["raster:bands"][0]
    s1 = next(cat.get_child("sentinel-1-rtc").get_items())
    assert s1.properties["sar:looks_equivalent_number"] == 4.4
    assert (
        s1.properties["sar:polarizations"] == ["VV", "VH"]
        and s1.properties["sar:instrument_mode"] == "IW"
    )
    assert "linear" in s1.assets["vv"].description


def test_odc_stac_loads_s1_and_s2_on_one_grid(scene: DemoScene) -> None:
    odc_stac = pytest.importorskip("odc.stac")
    s1 = [i for i in _items(scene, "sentinel-1-rtc") if i.properties["sat:relative_orbit"] == 165]
    s2 = _items(scene, "sentinel-2-l2a")
    ds1 = odc_stac.load(
        s1, bands=["vv", "vh"], crs=scene.crs, resolution=10, chunks={"x": 128, "y": 128}
    )
    ds2 = odc_stac.load(
        s2,
        bands=["B04", "B08", "B11", "SCL"],
        crs=scene.crs,
        resolution=10,
        chunks={"x": 128, "y": 128},
    )
    assert np.array_equal(ds1.x, ds2.x) and np.array_equal(ds1.y, ds2.y)  # one 10 m grid
    assert ds1.vv.shape == (7, SIZE, SIZE) and ds2.B11.shape == (6, SIZE, SIZE)
    assert float(ds1.x[0]) == scene.transform.c + 5 and float(ds1.y[0]) == scene.transform.f - 5
    np.testing.assert_array_equal(ds1.vv.isel(time=-1).values, _read(s1[-1], "vv"))
    np.testing.assert_array_equal(ds2.B04.isel(time=0).values, _read(s2[0], "B04"))
    b11 = _read(s2[0], "B11")
    np.testing.assert_array_equal(ds2.B11.isel(time=0).values[::2, ::2], b11)


# -- determinism and caching ----------------------------------------------------------------------


def test_cache_reuses_and_is_deterministic(scene: DemoScene, tmp_path: Path, monkeypatch) -> None:
    cached = ensure_demo_scene(seed=42, size=SIZE, cache_dir=tmp_path)
    assert (
        cached.root
        == (tmp_path / "demo" / f"floodplain-s42-n{SIZE}-v{gen_mod.GENERATOR_VERSION}").resolve()
    )
    assert not [p for p in (tmp_path / "demo").iterdir() if p.name.startswith(".")]  # no temp left
    # Same seed -> identical bytes of every raster.
    assert _all_arrays(cached.root) == _all_arrays(scene.root)

    def boom(*args, **kwargs):
        raise AssertionError("the cached scene was regenerated")

    monkeypatch.setattr(gen_mod, "generate_scene", boom)
    again = ensure_demo_scene(seed=42, size=SIZE, cache_dir=tmp_path)
    assert again == cached


def test_cache_race_loser_uses_winner(tmp_path: Path, monkeypatch) -> None:
    real = gen_mod.generate_scene

    def racing(out_dir, **kw):  # another process finishes first while we generate
        from eo_drr.demo.cache import scene_folder

        final = scene_folder(tmp_path, seed=kw["seed"], size=kw["size"], landscape=kw["landscape"])
        real(final, **kw)
        (final / "winner").write_text("1")
        return real(out_dir, **kw)

    monkeypatch.setattr(gen_mod, "generate_scene", racing)
    got = ensure_demo_scene(seed=1, size=64, cache_dir=tmp_path)
    assert (got.root / "winner").is_file()
    assert [p.name for p in (tmp_path / "demo").iterdir()] == [
        f"floodplain-s1-n64-v{gen_mod.GENERATOR_VERSION}"
    ]


def test_different_seed_differs(tmp_path: Path, scene: DemoScene) -> None:
    from eo_drr.demo.landscape import build_landscape
    from eo_drr.demo.sites import SITES

    a = build_landscape(SITES["floodplain"], 42, SIZE)
    b = build_landscape(SITES["floodplain"], 43, SIZE)
    assert np.array_equal(a.flood.astype(np.uint8), _truth(scene, "flood"))
    assert not np.array_equal(a.flood, b.flood) and not np.array_equal(a.hand_m, b.hand_m)


# -- the desert city ------------------------------------------------------------------------------


def test_desert_city_riverbed_is_not_builtup(desert: DemoScene) -> None:
    assert desert.crs == "EPSG:32719" and desert.landscape == "desert_city"
    w, s, e, n = desert.bbox_wgs84
    assert w < -71.54 < e and s < -16.40 < n
    flood = _truth(desert, "flood")
    assert 0.05 <= flood.mean() <= 0.2 and _truth(desert, "permanent_water").any()
    lc, built = _truth(desert, "landcover"), _truth(desert, "builtup_t2").astype(bool)
    # The dry riverbed: bare ground (60) inside the flood.
    riverbed = (lc == 60) & flood.astype(bool)
    assert riverbed.sum() > 100
    s2 = _items(desert, "sentinel-2-l2a")[-2]
    clear = np.kron(np.isin(_read(s2, "SCL"), [4, 5]), np.ones((2, 2), bool))[
        : desert.size, : desert.size
    ]
    nir = _read(s2, "B08").astype(float) - 1000
    swir = np.kron(_read(s2, "B11").astype(float) - 1000, np.ones((2, 2)))[
        : desert.size, : desert.size
    ]
    ndbi = (swir - nir) / (swir + nir)
    bare = (lc == 60) & ~flood.astype(bool)
    # High-NDBI bare soil and riverbed (the classic confusion) ...
    assert ndbi[bare & clear].mean() > ndbi[built & clear].mean() - 0.02
    assert ndbi[riverbed & clear].mean() > 0.1
    # ... but SAR tells them apart: no double bounce on the riverbed.
    s1 = [i for i in _items(desert, "sentinel-1-rtc") if i.datetime.date() in desert.pre_dates]
    vv = _read(s1[0], "vv")
    assert _db(vv[riverbed]) < -10 and _db(vv[built & ~flood.astype(bool)]) > -6
