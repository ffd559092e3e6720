"""One honest end-to-end run: the demo job through the real command, checked against the
scene's known truth."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from test_cli import eo_drr, small_demo_job

from eo_drr.io import validate_cog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, small_demo_scene):
    tmp = tmp_path_factory.mktemp("demo-run")
    job = small_demo_job(tmp)
    out = tmp / "out"
    res = eo_drr("run", job, "-o", out)
    assert res.returncode == 0, res.stdout + res.stderr
    return out, res, small_demo_scene


def _read(path):
    with rasterio.open(path) as src:
        return src.read(1), src.profile


def iou(pred: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    p, t = pred[valid], truth[valid]
    union = np.logical_or(p, t).sum()
    return float(np.logical_and(p, t).sum() / union) if union else 1.0


def test_outputs_exist_and_are_valid_cogs(demo_run):
    out, res, _ = demo_run
    names = sorted(p.name for p in out.iterdir())
    tifs = [
        "flood_extent.tif",
        "observed_water.tif",
        "water_source.tif",
        "reference_water.tif",
        "exclusion_mask.tif",
        "water_likelihood.tif",
        "water_provenance.tif",
        "log_ratio_db.tif",
        "flood_depth.tif",
        "flood_hazard.tif",
    ]
    assert names == sorted(
        tifs
        + [
            "flood_by_unit.csv",
            "flood_by_unit.parquet",
            "flood_by_depth.csv",
            "flood_by_depth.parquet",
            "run.json",
            "report.html",
            "sendai_eo_proxies.csv",
            "sendai_eo_proxies.parquet",
            "sendai_eo_proxies.gpkg",
            "catalog.json",
            "outputs.item.json",
        ]
    )
    # the STAC catalogue lists every other file, each with its size and checksum
    import json

    from eo_drr.io.atomic import sha256_file

    item = json.loads((out / "outputs.item.json").read_text())
    listed = {a["href"].lstrip("./"): a for a in item["assets"].values()}
    assert sorted(listed) == sorted(set(names) - {"catalog.json", "outputs.item.json"})
    for name, a in listed.items():
        assert a["file:size"] == (out / name).stat().st_size
        assert a["file:checksum"] == "1220" + sha256_file(out / name)
    sfm = pd.read_csv(out / "sendai_eo_proxies.csv")
    assert (sfm["method"] == "EO proxy").all() and {"EO-B1", "EO-C2", "EO-D4"} <= set(
        sfm["indicator_code"]
    )
    for tif in tifs:
        ok, errors, _warnings = validate_cog(out / tif)
        assert ok, (tif, errors)
    flood, prof = _read(out / "flood_extent.tif")
    assert prof["dtype"] == "uint8" and prof["nodata"] == 255 and prof["crs"] is not None
    # 0 no water, 1 flood, 2 reference water still water after the event, 255 no data
    assert set(np.unique(flood)) <= {0, 1, 2, 255} and (flood == 2).any()
    ref, _ = _read(out / "reference_water.tif")
    water, _ = _read(out / "observed_water.tif")
    assert np.array_equal(flood == 2, (ref == 1) & (water == 1) & (flood != 255))
    # the quality flags of both scenes are in run.json
    import json

    th = json.loads((out / "run.json").read_text())["summary"]["thresholds"]
    assert {"bimodal", "contrast_db", "warnings", "reliable"} <= set(th["post"]["quality"])
    # the summary names each output and the headline figures
    for word in ("flooded area", "exposed population", "flood_extent.tif", "flood_by_unit.csv"):
        assert word in res.stdout


def test_flood_matches_truth(demo_run):
    out, _, scene = demo_run
    flood, prof = _read(out / "flood_extent.tif")
    truth, tprof = _read(scene.truth["flood_observable"])
    assert flood.shape == truth.shape and prof["transform"] == tprof["transform"]
    valid = (flood != 255) & (truth != 255)
    score = iou(flood == 1, truth == 1, valid)
    print(f"demo flood IoU against truth (observable flood): {score:.3f}")
    assert score > 0.80


def test_table_against_truth(demo_run):
    out, _, scene = demo_run
    table = pd.read_csv(out / "flood_by_unit.csv")
    units = gpd.read_file(scene.admin_units, layer="level2")
    assert sorted(table["code"]) == sorted(units["code"])
    assert (table["flooded_ha"] >= 0).all() and (table["observed_share"] <= 1.0001).all()
    flood, _ = _read(out / "flood_extent.tif")
    assert table["flooded_ha"].sum() == pytest.approx((flood == 1).sum() * 0.01, rel=0.01)
    gp = gpd.read_parquet(out / "flood_by_unit.parquet")
    assert gp.crs is not None and len(gp) == len(table)
    # population is preserved (the grid is never resampled)
    with (
        rasterio.open(scene.root / "population_total.tif")
        if (scene.root / "population_total.tif").exists()
        else rasterio.open(_population_path(scene)) as src
    ):
        pop = src.read(1, masked=True)
    assert table["population"].sum() == pytest.approx(float(pop.sum()), rel=0.01)
    assert 0 < table["exposed_population"].sum() < table["population"].sum()
    # per unit: nobody is exposed where nothing flooded, never more people than live there
    assert (table["exposed_population"] <= table["population"] * 1.0001 + 1e-6).all()
    assert (table.loc[table["flooded_ha"] == 0, "exposed_population"] == 0).all()


def _population_path(scene):
    import pystac

    cat = pystac.read_file(str(scene.catalog_path))
    for item in cat.get_items(recursive=True):
        if item.collection_id == "demo-population":
            return item.assets["total"].get_absolute_href()
    raise AssertionError("no population item")


def test_manifest(demo_run):
    out, _, _ = demo_run
    man = json.loads((out / "run.json").read_text())
    assert man["pipeline"] == "flood" and man["summary"]["post_item"]
    assert len(man["summary"]["pre_items"]) >= 2
    assert "GDAL" in man["versions"]


def test_rerun_is_reproducible(demo_run, tmp_path):
    out, _, _ = demo_run
    job = small_demo_job(tmp_path)
    res = eo_drr("run", job, "-o", tmp_path / "again")
    assert res.returncode == 0, res.stderr
    assert (out / "flood_by_unit.csv").read_bytes() == (
        tmp_path / "again" / "flood_by_unit.csv"
    ).read_bytes()
    a, _ = _read(out / "flood_extent.tif")
    b, _ = _read(tmp_path / "again" / "flood_extent.tif")
    assert np.array_equal(a, b)
