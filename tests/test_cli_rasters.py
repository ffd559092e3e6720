"""``eo-drr water`` / ``eo-drr flood`` on real chips (Sen1Floods11 GeoTIFF, OMBRIA PNG)."""

from __future__ import annotations

import numpy as np
import rasterio

from test_cli import eo_drr


def test_water_on_sen1floods11_chip(shared_data, tmp_path):
    src = shared_data / "sen1floods11-sample" / "Spain_7370579_S1Hand.tif"
    out = tmp_path / "water.tif"
    res = eo_drr("water", "--s1", src, "--out", out)
    assert res.returncode == 0, res.stderr
    with rasterio.open(out) as w, rasterio.open(src) as s, rasterio.open(shared_data / "sen1floods11-sample" / "Spain_7370579_LabelHand.tif") as lab:
        water = w.read(1)
        assert w.crs == s.crs and w.transform == s.transform and w.dtypes[0] == "uint8" and w.nodata == 255
        label = lab.read(1)
    valid = (label >= 0) & (water != 255)
    t, p = (label == 1) & valid, (water == 1) & valid
    assert (t & p).sum() / (t | p).sum() > 0.3
    assert "hsba_vv" in res.stdout


def test_flood_on_ombria_png_without_crs(shared_data, tmp_path):
    root = shared_data / "ombria-guyana-2021" / "Sentinel1"
    out = tmp_path / "flood.tif"
    args = ["flood", "--pre-s1", root / "BEFORE" / "imbefore_10.png", "--post-s1", root / "AFTER" / "imafter_10.png",
            "--out", out, "--s1-bands", "VV"]
    res = eo_drr(*args)
    assert res.returncode != 0 and "--s1-8bit-range" in res.stderr  # 8-bit needs the mapping
    res = eo_drr(*args, "--s1-8bit-range=-30,0")
    assert res.returncode == 0, res.stderr
    assert "no CRS" in res.stderr
    with rasterio.open(out) as f:
        flood = f.read(1)
    assert flood.shape == (256, 256) and set(np.unique(flood)) <= {0, 1, 255} and (flood == 1).any()


def test_bad_inputs(shared_data, tmp_path):
    src = shared_data / "sen1floods11-sample" / "Spain_7370579_S1Hand.tif"
    res = eo_drr("water", "--s1", tmp_path / "none.tif", "--out", tmp_path / "o.tif")
    assert res.returncode != 0 and "no such file" in res.stderr
    res = eo_drr("water", "--s1", src, "--out", tmp_path / "o.tif", "--s1-units", "linear")
    assert res.returncode != 0 and "implausible for linear" in res.stderr and "Traceback" not in res.stderr
    res = eo_drr("water", "--s1", src, "--out", tmp_path / "o.tif", "--s1-bands", "HH,HV")
    assert res.returncode != 0 and "no VV band" in res.stderr
    bad = tmp_path / "corrupt.tif"
    bad.write_bytes(src.read_bytes()[:5000])
    res = eo_drr("water", "--s1", bad, "--out", tmp_path / "o.tif")
    assert res.returncode != 0 and "corrupt.tif" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o.tif").exists()
    chip = shared_data / "sen1floods11-chips" / "S1Hand" / "Paraguay_34417_S1Hand.tif"
    res = eo_drr("water", "--s1", chip, "--out", tmp_path / "o.tif")
    assert res.returncode != 0 and "all pixels are nodata" in res.stderr
