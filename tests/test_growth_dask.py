"""Lazy new built-up (dask) against the in-memory model, pixel for pixel."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

import eo_drr
from eo_drr.errors import InputError
from eo_drr.products.growth_dask import _medians

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
SHAPE = (150, 170)


def _image(rng: np.random.Generator, built: bool) -> xr.Dataset:
    """Vegetated scene (reflectance 0-1) with, after, bright built-up patches; SCL clouds."""
    base = {"B02": 0.04, "B03": 0.07, "B04": 0.05, "B08": 0.35, "B11": 0.18, "B12": 0.09}
    urban = {"B02": 0.12, "B03": 0.13, "B04": 0.15, "B08": 0.2, "B11": 0.3, "B12": 0.27}
    patch = np.zeros(SHAPE, bool)
    if built:
        for y, x, h, w in ((10, 30, 30, 35), (60, 90, 22, 60), (110, 5, 25, 25), (38, 45, 4, 3)):
            patch[y : y + h, x : x + w] = True
    data = {}
    for b in BANDS:
        v = base[b] + 0.01 * rng.standard_normal(SHAPE)
        v = np.where(patch, urban[b] + 0.02 * rng.standard_normal(SHAPE), v)
        data[b] = (("y", "x"), np.clip(v, 0.001, 1).astype(np.float32))
    data["B04"][1][5, 7] = np.nan
    scl = np.full(SHAPE, 4, np.float32)
    scl[120:140, 100:150] = 9 if built else 8
    scl[0:3, 0:3] = 3
    data["SCL"] = (("y", "x"), scl)
    return xr.Dataset(data, attrs={"PROCESSING_LEVEL": "L2A"})


@pytest.fixture(scope="module")
def pair() -> tuple[xr.Dataset, xr.Dataset, xr.DataArray, xr.DataArray]:
    rng = np.random.default_rng(7)
    vb = xr.DataArray(
        -12 + rng.standard_normal(SHAPE).astype(np.float32), dims=("y", "x"), name="VV"
    )
    va = (vb + 3 * (_image(rng, True)["B11"] > 0.25)).rename("VV")
    return _image(rng, False), _image(rng, True), vb, va


@pytest.mark.parametrize("with_s1", [False, True])
def test_lazy_growth_is_pixel_identical(pair, with_s1):
    before, after, vb, va = pair
    s1 = {"s1_before": vb, "s1_after": va} if with_s1 else {}
    eager = eo_drr.growth(before, after, **s1)
    lazy_s1 = {k: v.chunk({"y": 40, "x": 45}) for k, v in s1.items()}
    lazy = eo_drr.growth(
        before.chunk({"y": 40, "x": 45}), after.chunk({"y": 40, "x": 45}), **lazy_s1
    )
    assert isinstance(lazy.data, da.Array) and lazy.data.numblocks == (4, 4)
    got = lazy.compute()
    np.testing.assert_array_equal(got.values, eager.values)
    assert (eager.values == 1).sum() > 100 and (eager.values == 255).any()
    for k in ("probability_threshold", "sentinel1", "cloud_share"):
        assert lazy.attrs[k] == eager.attrs[k]
    assert lazy.attrs["sentinel1"] is with_s1


def test_exact_medians_match_numpy():
    rng = np.random.default_rng(3)
    for n in (7, 8):
        x = rng.standard_normal((n, 5)).astype(np.float32)
        x[0, 0], x[1, 1] = np.nan, -0.0
        got = _medians([da.from_array(x, chunks=3)])[0]
        assert got == np.median(x[np.isfinite(x)]) and np.asarray(got).dtype == np.float32
    assert np.isnan(_medians([da.full((4, 4), np.nan, chunks=2)])[0])


def test_lazy_growth_refuses_a_fully_clouded_pair(pair):
    before, after, _, _ = pair
    cloudy = after.assign(SCL=after["SCL"] * 0 + 9).chunk({"y": 40})
    with pytest.raises(InputError, match="no pixel is clear"):
        eo_drr.growth(before.chunk({"y": 40}), cloudy)


def test_lazy_probability_matches_the_model_exactly(pair):
    from eo_drr.products.growth_dask import new_builtup_dask
    from eo_drr.products.growth_pair import PairImage, new_builtup

    before, after, vb, va = pair

    def image(ds: xr.Dataset, vv: xr.DataArray, name: str, chunked: bool) -> PairImage:
        def arr(v: xr.DataArray):
            return da.from_array(v.values, chunks=(33, 41)) if chunked else v.values

        return PairImage({k: arr(v) for k, v in ds.data_vars.items()}, "L2A", name, arr(vv))

    eager = new_builtup(image(before, vb, "b", False), image(after, va, "a", False))
    lazy = new_builtup_dask(image(before, vb, "b", True), image(after, va, "a", True))
    np.testing.assert_array_equal(lazy.probability.compute(), eager.probability)
    np.testing.assert_array_equal(lazy.growth.compute(), eager.growth)
    assert lazy.min_mapping_unit_px == eager.min_mapping_unit_px > 1


def test_lazy_growth_without_scl_masks_clouds_eagerly(pair):
    """No SCL band: the spectral cloud tests run on the whole scene, the rest lazily."""
    before, after, _, _ = pair
    b, a = before.drop_vars("SCL"), after.drop_vars("SCL")
    eager = eo_drr.growth(b, a)
    lazy = eo_drr.growth(b.chunk({"y": 50, "x": 60}), a.chunk({"y": 50, "x": 60}))
    assert isinstance(lazy.data, da.Array)
    np.testing.assert_array_equal(lazy.values, eager.values)
