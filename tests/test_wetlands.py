"""WIT-style wetland classes, per-polygon fractions, extent change, polygons and pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import Polygon, box

from eo_drr.errors import ConfigError, InputError, NoDataError
from eo_drr.products import wetlands as wl
from eo_drr.sendai import wetland_stats as ws

BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")
# reflectance 0-1, written here from library spectra shapes (not the generator's table)
SPECTRA = {
    "water": (0.05, 0.045, 0.025, 0.012, 0.005, 0.003),
    "wet_marsh": (0.04, 0.06, 0.04, 0.12, 0.07, 0.03),
    "grass": (0.04, 0.08, 0.05, 0.35, 0.23, 0.12),
    "dry_grass": (0.08, 0.11, 0.15, 0.25, 0.35, 0.26),
    "soil": (0.14, 0.19, 0.26, 0.31, 0.42, 0.38),
}


def _bands(names):
    return {b: np.array([[SPECTRA[n][i] for n in names]], np.float32) for i, b in enumerate(BANDS)}


def test_classes_of_reference_spectra():
    names = list(SPECTRA)
    b = _bands(names)
    tcw = wl.tc_wetness(b)[0]
    # tasseled-cap wetness (Crist 1985 coefficients) computed independently here
    coef = np.array([0.0315, 0.2021, 0.3102, 0.1594, -0.6806, -0.6109])
    np.testing.assert_allclose(tcw, [float(np.dot(coef, SPECTRA[n])) for n in names], atol=1e-5)
    got = dict(zip(names, wl.wit_classes(b)[0]))
    assert got == {
        "water": wl.WATER,
        "wet_marsh": wl.WET,
        "grass": wl.GREEN_VEG,
        "dry_grass": wl.DRY_VEG,
        "soil": wl.BARE,
    }
    b["nir"][0, 2] = np.nan
    assert wl.wit_classes(b)[0, 2] == wl.NODATA


def test_threshold_out_of_range():
    with pytest.raises(InputError, match="tcw_wet_threshold"):
        wl.wit_classes(_bands(["water"]), tcw_wet_threshold=-3.5)
    with pytest.raises(InputError, match="ndvi_green_min"):
        wl.wit_classes(_bands(["water"]), ndvi_green_min=1.5)


def test_calibration_is_the_first_percentile_of_open_water():
    rng = np.random.default_rng(1)
    tcw = np.concatenate([rng.normal(0.04, 0.02, 5000), rng.normal(-0.15, 0.05, 5000)]).astype(
        np.float32
    )
    water = np.arange(10000) < 5000
    assert wl.calibrate_tcw_wet_threshold(tcw, water) == pytest.approx(
        np.percentile(tcw[:5000], 1), abs=1e-6
    )
    with pytest.raises(InputError, match="100 open-water"):
        wl.calibrate_tcw_wet_threshold(tcw[:50], water[:50])


def test_time_series_fractions_and_missing_rule():
    rng = np.random.default_rng(5)
    classes = rng.integers(0, 5, size=(4, 10, 10)).astype(np.uint8)
    classes[1, :2, :5] = ws.NODATA  # polygon 1 loses 10 of 50 px on date 1 (20 %)
    classes[2, 0, :5] = ws.NODATA  # polygon 1 loses 5 of 50 px on date 2 (10 %: kept)
    classes[3, 5:, :] = ws.NODATA  # polygon 2 fully missing on date 3
    labels = np.zeros((10, 10), np.int32)
    labels[:5, :] = 1
    labels[5:, :] = 2
    df = ws.wit_time_series(classes, labels, ["a", "b"], ["d0", "d1", "d2", "d3"])
    kept = set(zip(df["id"], df["date"]))
    assert ("a", "d1") not in kept and ("a", "d2") in kept and ("b", "d3") not in kept
    assert len(df) == 6
    for _, r in df.iterrows():  # independent count
        t = int(r["date"][1])
        sel = classes[t][labels == (1 if r["id"] == "a" else 2)]
        sel = sel[sel != ws.NODATA]
        for k, name in enumerate(ws.CLASS_NAMES):
            assert r[name] == pytest.approx((sel == k).mean())
    assert np.allclose(df[list(ws.CLASS_NAMES)].sum(axis=1), 1.0)


def test_frequency_extent_and_change():
    c = np.array([[[0, 2]], [[0, 1]], [[2, 255]], [[0, 255]]], np.uint8)  # (4, 1, 2)
    f, n = wl.inundation_frequency(c)
    np.testing.assert_allclose(f[0], [0.75, 0.0])
    assert list(n[0]) == [4, 2]
    assert list(wl.wetland_extent(c, 0.5, min_observations=1)[0]) == [1, 1]
    assert list(wl.wetland_extent(c, 0.5)[0]) == [1, 0]  # pixel 2: wet on one date only
    assert list(wl.extent_change(np.array([1, 0, 1, 255]), np.array([1, 1, 0, 0]))) == [
        1,
        2,
        3,
        255,
    ]
    with pytest.raises(NoDataError, match="cloud-free"):
        wl.wetland_extent(np.full((2, 3, 3), 255, np.uint8))


def test_one_wet_date_does_not_make_a_wetland():
    """Four clear dates, one flooded: frequency 0.25 alone would call the flood a wetland."""
    flood_once = np.array([2, 2, 2, 0], np.uint8)  # farmland, flooded on the last date
    marsh = np.array([1, 2, 1, 0], np.uint8)  # wet on three dates
    seen_once = np.array([255, 255, 255, 0], np.uint8)  # one clear date: cannot tell
    never = np.array([255, 255, 255, 255], np.uint8)
    c = np.stack([flood_once, marsh, seen_once, never], axis=1)[:, None, :]  # (4, 1, 4)
    assert list(wl.wetland_extent(c, 0.25, min_observations=1)[0]) == [1, 1, 1, wl.NODATA]
    assert list(wl.wetland_extent(c, 0.25)[0]) == [0, 1, wl.NODATA, wl.NODATA]
    assert list(wl.wetland_extent(c, 0.25, min_observations=3)[0]) == [0, 1, wl.NODATA, wl.NODATA]
    assert list(wl.wetland_extent(c, 0.25, min_observations=4)[0]) == [0, 0, wl.NODATA, wl.NODATA]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="extent_min_observations"):
            wl.wetland_extent(c, 0.25, min_observations=bad)
    with pytest.raises(NoDataError, match="time.pre.*5 clear dates"):
        wl.wetland_extent(c, 0.25, min_observations=5, what="time.pre")


def _gdf(geoms, ids):
    import geopandas as gpd

    return gpd.GeoDataFrame({"id": ids, "name": ids}, geometry=geoms, crs="EPSG:32615")


def test_polygon_checks():
    with pytest.raises(InputError, match="overlapping polygons.*a/b"):
        ws.check_polygons(_gdf([box(0, 0, 10, 10), box(5, 5, 15, 15)], ["a", "b"]))
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    fixed = ws.check_polygons(_gdf([bowtie, box(20, 20, 30, 30)], ["x", "y"]))
    assert fixed.attrs["repaired_geometries"] == 1 and fixed.geometry.is_valid.all()
    with pytest.raises(InputError, match="duplicate ids"):
        ws.check_polygons(_gdf([box(0, 0, 1, 1), box(2, 2, 3, 3)], ["a", "a"]))
    with pytest.raises(InputError, match="empty geometry"):
        ws.check_polygons(_gdf([Polygon(), box(2, 2, 3, 3)], ["e", "f"]))


def test_rasterize_reports_polygons_outside():
    g = _gdf([box(0, -50, 50, 0), box(1000, 1000, 1100, 1100)], ["in", "out"])
    labels, expected, outside = ws.rasterize_polygons(
        g, Affine(10, 0, 0, 0, -10, 0), (10, 10), "EPSG:32615"
    )
    assert outside == ["out"] and (labels == 1).sum() == 25 and expected[0] == pytest.approx(25)


def _job(tmp_path: Path, **changes) -> Path:
    from test_cli import small_demo_job

    return small_demo_job(tmp_path, "wetlands_demo.yaml", **changes)


def test_config_threshold_out_of_range(tmp_path):
    from eo_drr.config import load_config

    with pytest.raises(ConfigError, match="products.wetlands.tcw_wet_threshold.*sensible range"):
        load_config(_job(tmp_path, **{"products.wetlands.tcw_wet_threshold": -350}))
    with pytest.raises(ConfigError, match="products.wetlands.extent_min_observations"):
        load_config(_job(tmp_path, **{"products.wetlands.extent_min_observations": 0}))
    assert load_config(_job(tmp_path)).products.wetlands.extent_min_observations == 2


def _run(tmp_path, cfg_path):
    from eo_drr.config import load_config
    from eo_drr.pipelines import get_pipeline
    from eo_drr.publish import OutputFolder

    cfg = load_config(cfg_path)
    pl = get_pipeline("wetlands")
    out = OutputFolder(tmp_path / "out")
    out.open()
    try:
        s = pl.run(cfg, pl.plan(cfg), out)
    except BaseException:
        out.abort()
        raise
    out.commit()
    return s, tmp_path / "out"


def test_pipeline_with_user_polygons(tmp_path, small_demo_scene):
    import geopandas as gpd
    import rasterio

    sc = small_demo_scene
    w, s, e, n = sc.bbox
    cx = (w + e) / 2
    polys = gpd.GeoDataFrame(
        {"site": ["left", "right", "far"]},
        geometry=[box(w, s, cx, n), box(cx, s, e, n), box(e + 1e4, s, e + 2e4, n)],
        crs=sc.crs,
    )
    polys.to_file(tmp_path / "sites.gpkg", layer="sites")
    job = _job(
        tmp_path,
        **{
            "products.wetlands.polygons": {
                "file": str(tmp_path / "sites.gpkg"),
                "layer": "sites",
                "id_field": "site",
            }
        },
    )
    summary, root = _run(tmp_path, job)
    assert summary["polygons_outside_data"] == ["far"] and summary["polygons"] == 2
    series = pd.read_csv(root / "wit_time_series.csv")
    assert np.allclose(series[list(ws.CLASS_NAMES)].sum(axis=1), 1.0, atol=0.01)
    assert (series["valid_fraction"] >= 0.9 - 1e-9).all()
    # water fraction against the truth: permanent water share of each half on the cloud-free
    # date (2 of the 6 demo dates: cloud target 0), independent of the product
    with rasterio.open(sc.truth["permanent_water"]) as f:
        pw = f.read(1) == 1
    clear_date = str(sc.s2_dates[1])
    for pid, half in (("left", pw[:, : pw.shape[1] // 2]), ("right", pw[:, pw.shape[1] // 2 :])):
        row = series[(series["id"] == pid) & (series["date"] == clear_date)]
        assert len(row) == 1
        assert row["water"].iloc[0] == pytest.approx(half.mean(), abs=0.02)
    for name in (
        "wit_classes.tif",
        "inundation_frequency.tif",
        "wetland_extent.tif",
        "wetland_extent_change.tif",
        "wit_time_series.parquet",
        "wetlands_summary.csv",
        "wetlands_summary.parquet",
        "plots/wit_left.png",
    ):
        assert (root / name).is_file(), name


def test_all_polygons_outside_is_an_error(tmp_path, small_demo_scene):
    import geopandas as gpd

    w, s, e, n = small_demo_scene.bbox
    gpd.GeoDataFrame(
        {"id": ["x"]}, geometry=[box(e + 1e4, s, e + 2e4, n)], crs=small_demo_scene.crs
    ).to_file(tmp_path / "p.gpkg")
    job = _job(tmp_path, **{"products.wetlands.polygons": {"file": str(tmp_path / "p.gpkg")}})
    with pytest.raises(InputError, match="every polygon lies outside"):
        _run(tmp_path, job)


def test_cli_runs_the_wetlands_demo_config(tmp_path, small_demo_scene):
    from test_cli import eo_drr

    res = eo_drr("run", _job(tmp_path), "-o", tmp_path / "o")
    assert res.returncode == 0, res.stderr
    out = tmp_path / "o"
    for name in (
        "wit_classes.tif",
        "inundation_frequency.tif",
        "wit_time_series.csv",
        "wetlands_summary.parquet",
        "run.json",
    ):
        assert (out / name).is_file(), name
    assert list((out / "plots").glob("wit_W*.png"))


def test_demo_wetland_extent_excludes_the_flood(tmp_path, small_demo_scene):
    """Monitoring period = 4 clear-ish dates, the last one flooded. The flooded farmland
    (truth flood minus truth wetland and permanent water) must not become wetland, while the
    marsh (seasonally wet on several dates) and the permanent water stay in the extent."""
    import rasterio
    from scipy import ndimage

    sc = small_demo_scene
    summary, root = _run(tmp_path, _job(tmp_path))
    assert summary["extent_rule"] == {"min_frequency": 0.25, "min_observations": 2}

    def read(path, band=None):
        with rasterio.open(path) as f:
            assert f.transform == sc.transform and f.shape == sc.shape
            return f.read() if band is None else f.read(band)

    truth = {k: read(sc.truth[k], 1) == 1 for k in ("flood", "wetland", "permanent_water")}
    flood_only = truth["flood"] & ~truth["wetland"] & ~truth["permanent_water"]
    assert flood_only.sum() > 1000
    ext = read(root / "wetland_extent.tif", 1)
    decided = ext != wl.NODATA
    flood_in = float((ext[flood_only & decided] == 1).mean())
    # the marsh away from its edge (20 m SWIR mixes the edge pixels with the farmland)
    marsh = ndimage.binary_erosion(truth["wetland"], iterations=2)
    marsh_recall = float((ext[marsh & decided] == 1).mean())
    water_recall = float((ext[truth["permanent_water"] & decided] == 1).mean())
    print(
        f"flood-only in extent {flood_in:.3f}, marsh recall {marsh_recall:.3f}, water recall {water_recall:.3f}"
    )
    assert flood_in <= 0.02
    assert marsh_recall >= 0.75 and water_recall >= 0.9
    assert decided.mean() >= 0.9
    # the same classes with the frequency rule alone: the flood becomes "wetland"
    classes = read(root / "wit_classes.tif")
    n_pre = len(summary["reference_dates"])
    alone = wl.wetland_extent(classes[n_pre:], 0.25, min_observations=1)
    assert float((alone[flood_only] == 1).mean()) > 0.3
