"""``eo-drr depth`` on files: a flood extent as ``eo-drr flood`` writes it and a DEM on a
surface with a closed-form depth; the flood's grid is the output grid; outputs never overwrite
an input; errors name the option."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from test_cli import assert_user_error, eo_drr

from eo_drr.api.flood_depth import depth
from eo_drr.io import write_cog

PX, X0, Y0, CRS = 10.0, 500_000.0, 2_000_000.0, "EPSG:32615"


@pytest.fixture
def plane(tmp_path):
    """Ground rising eastwards by 1 % from 0 m; water at 1 m west of the shoreline (x = 100 m):
    depth ``1 - z``. The flood extent in the codes of ``eo-drr flood`` (uint8, 255 no data,
    a no-data strip on the east side), the DEM as float32 metres."""
    n = 60
    z = np.tile(0.01 * (np.arange(n) + 0.5) * PX, (n, 1))
    flood = np.where(z < 1.0, 1, 0).astype(np.uint8)
    flood[:, -3:] = 255
    flood[:5, :3] = 2  # reference water still water: no edge evidence
    t = Affine(PX, 0, X0, 0, -PX, Y0)
    paths = {
        "flood": write_cog(flood, tmp_path / "flood.tif", crs=CRS, transform=t, nodata=255),
        "dem": write_cog(z.astype(np.float32), tmp_path / "dem.tif", crs=CRS, transform=t),
    }
    coarse = z.reshape(n // 2, 2, n // 2, 2).mean(axis=(1, 3)).astype(np.float32)
    paths["dem20"] = write_cog(
        coarse, tmp_path / "dem20.tif", crs=CRS, transform=Affine(2 * PX, 0, X0, 0, -2 * PX, Y0)
    )
    return paths, np.where(flood == 1, 1.0 - z, np.nan)


def test_depth_writes_a_float32_cog_in_metres_on_the_flood_grid(plane, tmp_path):
    paths, truth = plane
    out = tmp_path / "depth.tif"
    res = eo_drr("depth", "--flood", paths["flood"], "--dem", paths["dem"], "--out", out)
    assert res.returncode == 0, res.stderr
    assert "depth (fwdet):" in res.stdout and "max" in res.stdout and str(out) in res.stdout
    with rasterio.open(out) as f, rasterio.open(paths["flood"]) as fl:
        d = f.read(1)
        assert (f.crs, f.transform, f.shape) == (fl.crs, fl.transform, fl.shape)
        assert f.dtypes[0] == "float32" and np.isnan(f.nodata)
        assert f.tags()["units"] == "m" and f.tags()["method"] == "fwdet"
        assert f.profile["tiled"]  # a COG layout
    # the file is the API's result; NaN off the flood; close to the closed form
    api = depth(paths["flood"], paths["dem"]).values
    np.testing.assert_array_equal(d, api)
    assert np.array_equal(np.isnan(d), np.isnan(truth))
    assert np.nanmean(np.abs(d - truth)) < 0.1


def test_depth_resamples_a_dem_on_another_grid_and_runs_the_hand_method(plane, tmp_path):
    """A 20 m DEM is resampled onto the 10 m flood grid (a note says so); the HAND method on
    a given HAND (the plane's height above its river at x = 0) gives the same closed form."""
    paths, truth = plane
    outs = tmp_path / "fwdet.tif", tmp_path / "hand.tif"
    args = ("depth", "--flood", paths["flood"], "--dem", paths["dem20"])
    res = eo_drr(*args, "-o", outs[0])
    assert res.returncode == 0, res.stderr
    assert "note: --dem: not on the flood's grid; reprojected onto it (bilinear)" in res.stderr
    res = eo_drr(*args, "-o", outs[1], "--method", "hand", "--hand", paths["dem"])
    assert res.returncode == 0, res.stderr
    for out, method in zip(outs, ("fwdet", "hand")):
        with rasterio.open(out) as f:
            d = f.read(1)
            assert f.shape == truth.shape and f.tags()["method"] == method
        assert np.array_equal(np.isnan(d), np.isnan(truth))
        assert np.nanmean(np.abs(d - truth)) < 0.15


def test_depth_guards_its_output_and_names_the_option(plane, tmp_path):
    paths, _ = plane
    flood, dem = paths["flood"], paths["dem"]
    before = flood.read_bytes()
    res = eo_drr("depth", "--flood", flood, "--dem", dem, "--out", flood)
    assert_user_error(res, "--out", "is one of the inputs")
    assert flood.read_bytes() == before
    res = eo_drr("depth", "--flood", flood, "--dem", dem, "--out", tmp_path)
    assert_user_error(res, "--out", "not a regular file")
    res = eo_drr(
        "depth", "--flood", flood, "--dem", tmp_path / "none.tif", "-o", tmp_path / "o.tif"
    )
    assert_user_error(res, "--dem: no such file")
    res = eo_drr("depth", "--flood", flood, "--dem", dem, "-o", tmp_path / "o.tif", "--method", "x")
    assert_user_error(res, "--method: use fwdet or hand")
    res = eo_drr("depth", "--flood", flood, "--dem", dem, "-o", tmp_path / "o.tif", "--hand", dem)
    assert_user_error(res, "--hand: only --method hand")
    # a DEM as the flood extent: values other than the flood codes, said in the command's words
    res = eo_drr("depth", "--flood", dem, "--dem", dem, "-o", tmp_path / "o.tif")
    assert_user_error(res, "--flood: values other than 0, 1, 2", "eo-drr flood")
    assert not (tmp_path / "o.tif").exists()
