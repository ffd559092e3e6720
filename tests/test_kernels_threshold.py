"""Histogram thresholds (eo_drr.indices.threshold) against numpy / skimage references."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import subprocess
import sys

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from eo_drr.errors import InputError, NoDataError
from eo_drr.indices import threshold as T


def bimodal(n=100_000, water=0.3, seed=0, nan_every=97):
    rng = np.random.default_rng(seed)
    nw = int(n * water)
    x = np.concatenate([rng.normal(-20, 2, nw), rng.normal(-8, 2, n - nw)]).astype(np.float32)
    rng.shuffle(x)
    if nan_every:
        x[::nan_every] = np.nan
    return x


def np_hist(x, bins, range=None):
    v = np.asarray(x, dtype=np.float64).ravel()
    v = v[~np.isnan(v)]
    if range is None:
        range = (v.min(), v.max())
    return np.histogram(v, bins, range=range)


def plain_otsu(counts, edges):
    centres = (edges[:-1] + edges[1:]) / 2
    best, t = -1.0, None
    for k in range(len(counts) - 1):
        w1, w2 = counts[: k + 1].sum(), counts[k + 1 :].sum()
        if w1 == 0 or w2 == 0:
            continue
        m1 = (counts[: k + 1] * centres[: k + 1]).sum() / w1
        m2 = (counts[k + 1 :] * centres[k + 1 :]).sum() / w2
        between = w1 * w2 * (m1 - m2) ** 2
        if between > best:
            best, t = between, centres[k]
    return t


def plain_ki(counts, edges):
    centres = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    n = counts.sum()
    best, t = np.inf, None
    for k in range(len(counts) - 1):
        c1, c2 = counts[: k + 1], counts[k + 1 :]
        if c1.sum() == 0 or c2.sum() == 0:
            continue
        p1, p2 = c1.sum() / n, c2.sum() / n
        m1 = (c1 * centres[: k + 1]).sum() / c1.sum()
        m2 = (c2 * centres[k + 1 :]).sum() / c2.sum()
        v1 = (c1 * (centres[: k + 1] - m1) ** 2).sum() / c1.sum() + width**2 / 12
        v2 = (c2 * (centres[k + 1 :] - m2) ** 2).sum() / c2.sum() + width**2 / 12
        j = (
            1
            + 2 * (p1 * math.log(math.sqrt(v1)) + p2 * math.log(math.sqrt(v2)))
            - 2 * (p1 * math.log(p1) + p2 * math.log(p2))
        )
        if j < best:
            best, t = j, centres[k]
    return t


# ---------------------------------------------------------------- histogram


@pytest.mark.parametrize("bins", [2, 7, 256, 1000])
def test_histogram_matches_numpy(bins):
    x = bimodal()
    counts, edges = T.histogram(x, bins=bins)
    rc, re = np_hist(x, bins)
    assert counts.dtype == np.int64 and edges.dtype == np.float64
    np.testing.assert_array_equal(edges, re)
    np.testing.assert_array_equal(counts, rc)


def test_histogram_range_excludes_outside_and_includes_last_edge():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 1.0000001, np.nan, 0.25], dtype=np.float64)
    counts, edges = T.histogram(x, bins=4, range=(0.0, 1.0))
    np.testing.assert_array_equal(counts, np.histogram(x[~np.isnan(x)], 4, (0, 1))[0])
    assert counts.sum() == 4


def test_histogram_integer_and_constant_input():
    xi = np.random.default_rng(1).integers(0, 10000, (50, 60)).astype(np.uint16)
    c, e = T.histogram(xi, bins=64)
    rc, re = np_hist(xi, 64)
    np.testing.assert_array_equal(c, rc)
    c, e = T.histogram(np.full(10, 3.0))
    rc, re = np.histogram(np.full(10, 3.0), 256)
    np.testing.assert_array_equal(c, rc)
    np.testing.assert_array_equal(e, re)


def test_histogram_dask_and_xarray_equal_numpy():
    x = bimodal().reshape(250, 400)
    ref = T.histogram(x)
    for arr in (
        da.from_array(x, chunks=(33, 71)),
        xr.DataArray(x, dims=("y", "x")),
        xr.DataArray(da.from_array(x, chunks=100), dims=("y", "x")),
    ):
        c, e = T.histogram(arr)
        np.testing.assert_array_equal(c, ref[0])
        np.testing.assert_array_equal(e, ref[1])


def test_histogram_errors():
    with pytest.raises(NoDataError, match="x"):
        T.histogram(np.full((4, 4), np.nan))
    with pytest.raises(InputError, match="bins"):
        T.histogram(np.ones(4), bins=1)
    with pytest.raises(InputError, match="range"):
        T.histogram(np.ones(4), range=(2, 1))
    with pytest.raises(InputError, match="x"):
        T.histogram(np.ones(4, dtype=bool))
    # an all-NaN array with an explicit range is an empty histogram, not an error
    c, _ = T.histogram(np.full(5, np.nan), bins=4, range=(0, 1))
    assert c.sum() == 0


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        st.integers(1, 300),
        elements=st.one_of(st.floats(-1e4, 1e4, width=32), st.just(np.nan)),
    ),
    st.integers(2, 50),
)
def test_property_histogram_equals_numpy(x, bins):
    if np.isnan(x).all():
        return
    c, e = T.histogram(x, bins=bins)
    rc, re = np_hist(x, bins)
    np.testing.assert_array_equal(c, rc)
    assert c.sum() == np.count_nonzero(~np.isnan(x))


# ---------------------------------------------------------------- otsu / KI


def test_otsu_matches_skimage_and_plain_reference():
    x = bimodal()
    counts, edges = T.histogram(x)
    t = T.otsu(counts, edges)
    assert t == pytest.approx(plain_otsu(counts, edges))
    skf = pytest.importorskip("skimage.filters")
    v = x[~np.isnan(x)]
    assert t == pytest.approx(skf.threshold_otsu(v.astype(np.float64), nbins=256))
    assert T.otsu_threshold(x) == t
    assert -16 < t < -12


@pytest.mark.parametrize("water", [0.05, 0.3, 0.6])
def test_ki_matches_plain_reference_and_is_near_min_error_point(water):
    x = bimodal(water=water, seed=2)
    counts, edges = T.histogram(x, bins=200)
    t = T.kittler_illingworth(counts, edges)
    assert t == pytest.approx(plain_ki(counts, edges))
    assert T.ki_threshold(x, bins=200) == t
    # equal variances: the minimum-error boundary is (m1 + m2)/2 + s^2 ln(p1/p2)/(m2 - m1)
    expect = -14 + 4 * math.log(water / (1 - water)) / 12
    assert abs(t - expect) < 0.6


def test_thresholds_degenerate_histograms():
    edges = np.linspace(0, 1, 5)
    with pytest.raises(NoDataError):
        T.otsu(np.zeros(4), edges)
    assert T.otsu(np.array([0, 5, 0, 0]), edges) == pytest.approx(0.375)
    assert T.kittler_illingworth(np.array([0, 5, 0, 0]), edges) == pytest.approx(0.375)
    assert T.otsu(np.array([3, 0, 0, 3]), edges) == pytest.approx(0.125)
    assert T.kittler_illingworth(np.array([3, 0, 0, 3]), edges) in (0.125, 0.375, 0.625)
    with pytest.raises(InputError, match="counts"):
        T.otsu(np.ones(4), np.linspace(0, 1, 4))
    with pytest.raises(InputError, match="counts"):
        T.otsu(np.array([1, -1, 2]), np.linspace(0, 1, 4))


# ---------------------------------------------------------------- split-based


def scene_with_rare_water(seed=3, size=512, lake=(64, 64)):
    """Land everywhere (-8 dB +- 2.5), a few small lakes (-20 dB +- 2): ~2 % water."""
    rng = np.random.default_rng(seed)
    x = rng.normal(-8, 2.5, (size, size)).astype(np.float32)
    for i, j in [(40, 40), (300, 100), (200, 400)]:
        sl = (slice(i, i + lake[0]), slice(j, j + lake[1]))
        x[sl] = rng.normal(-20, 2, lake).astype(np.float32)
    return x


def test_split_based_selects_bimodal_tiles_and_beats_global():
    x = scene_with_rare_water()
    res = T.split_based_threshold(x, T.SplitBasedOptions(tile=64), method="otsu")
    assert isinstance(res, T.ThresholdResult) and res.fallback is None
    assert res.n_tiles == 64 and 0 < res.n_selected < 20
    assert -16 < res.threshold < -12
    res_ki = T.split_based_threshold(x, T.SplitBasedOptions(tile=64), method="ki")
    assert res_ki.fallback is None and -17 < res_ki.threshold < -11
    # pooled histogram of the selected tiles only: recompute by hand
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.threshold = 0  # frozen


def test_split_based_dask_and_xarray_equal_numpy():
    x = scene_with_rare_water()
    opt = T.SplitBasedOptions(tile=64)
    ref = T.split_based_threshold(x, opt)
    for arr in (da.from_array(x, chunks=(100, 130)), xr.DataArray(x, dims=("y", "x"))):
        assert T.split_based_threshold(arr, opt) == ref


def test_split_based_fallback_is_reported(caplog):
    x = np.random.default_rng(4).normal(-8, 2, (256, 256)).astype(np.float32)  # unimodal
    opt = T.SplitBasedOptions(tile=64)
    with caplog.at_level(logging.WARNING, logger="eo_drr.indices.threshold"):
        res = T.split_based_threshold(x, opt)
    assert res.n_selected == 0 and res.n_tiles == 16
    assert res.fallback is not None and "global otsu" in res.fallback
    assert "not split-based" in res.fallback and "no bimodal tile" in caplog.text
    assert res.threshold == pytest.approx(T.otsu_threshold(x))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="eo_drr.indices.threshold"):
        res = T.split_based_threshold(x, opt, if_none_selected="nan")
    assert math.isnan(res.threshold) and "NaN" in res.fallback
    assert not caplog.records  # asked-for NaN is not a warning
    with pytest.raises(NoDataError, match="no bimodal tile"):
        T.split_based_threshold(x, opt, if_none_selected="raise")


def test_split_based_nodata_tiles_are_not_tested():
    x = scene_with_rare_water()
    x[:256] = np.nan
    res = T.split_based_threshold(x, T.SplitBasedOptions(tile=64))
    assert res.n_tiles == 32


def scene_with_small_lakes(seed=6, size=512, lake=40):
    """One 40 x 40 lake per 256-px tile (2.4 % water: below min_class_fraction at 256 px)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(-8, 2.0, (size, size)).astype(np.float32)
    for i in (60, 316):
        for j in (100, 356):
            x[i : i + lake, j : j + lake] = rng.normal(-20, 2.0, (lake, lake))
    return x


def test_split_based_hierarchical_finds_small_water_bodies():
    x = scene_with_small_lakes()
    flat = T.split_based_threshold(x, T.SplitBasedOptions(tile=256), if_none_selected="nan")
    assert flat.n_selected == 0 and math.isnan(flat.threshold)
    hier = T.SplitBasedOptions(tile=256, min_tile=64)
    res = T.split_based_threshold(x, hier)
    assert res.fallback is None and res.n_selected >= 4
    assert res.n_tiles > 4  # the four 256-px tiles, then their quadrants...
    assert -16 < res.threshold < -12
    # same tiles, same threshold with dask
    lazy = T.split_based_threshold(da.from_array(x, chunks=(100, 130)), hier)
    assert lazy == res
    # min_tile == tile is the flat case
    one_level = T.SplitBasedOptions(tile=256, min_tile=256)
    assert T.split_based_threshold(x, one_level, if_none_selected="nan").n_selected == 0


def test_split_based_max_tile_threshold_rejects_land_land_contrast():
    rng = np.random.default_rng(7)
    x = rng.normal(-8, 1.0, (256, 256)).astype(np.float32)
    x[:, 128:] = rng.normal(2, 1.0, (256, 128))  # bright urban/slopes next to fields
    assert T.split_based_threshold(x, T.SplitBasedOptions(tile=256)).fallback is None  # land/land
    opt = T.SplitBasedOptions(tile=256, max_tile_threshold=-10.0)
    res = T.split_based_threshold(x, opt, if_none_selected="nan")
    assert res.n_selected == 0


@pytest.mark.parametrize(
    "options,kwargs,match",
    [
        ({"tile": 256, "min_tile": 48}, {}, "min_tile"),
        ({"tile": 256, "min_tile": 512}, {}, "min_tile"),
        ({}, {"method": "kmeans"}, "method"),
        ({"tile": 1}, {}, "tile"),
        ({"min_class_fraction": 0.7}, {}, "min_class_fraction"),
        ({}, {"if_none_selected": "otsu"}, "if_none_selected"),
    ],
)
def test_split_based_errors(options, kwargs, match):
    with pytest.raises(InputError, match=match):
        opt = T.SplitBasedOptions(**options)
        T.split_based_threshold(np.ones((8, 8), np.float32), opt, **kwargs)


# ---------------------------------------------------------------- +-inf is no data


def with_bad_pixels(x, seed=11):
    """x with about 1 % each of +inf, -inf and NaN at random places (and the cleaned copy)."""
    x = np.array(x, dtype=np.float32)
    flat = x.reshape(-1)
    idx = np.random.default_rng(seed).permutation(flat.size)[: 3 * (flat.size // 100)]
    for k, bad in enumerate((np.inf, -np.inf, np.nan)):
        flat[idx[k::3]] = bad
    clean = x.copy()
    clean[~np.isfinite(clean)] = np.nan
    return x, clean


def test_inf_is_no_data_in_histograms_and_thresholds():
    x, clean = with_bad_pixels(bimodal())
    assert np.isposinf(x).any() and np.isneginf(x).any()
    ref = T.histogram(clean)
    for arr in (x, da.from_array(x, chunks=7001), xr.DataArray(x, dims=("i",))):
        c, e = T.histogram(arr)
        np.testing.assert_array_equal(c, ref[0])
        np.testing.assert_array_equal(e, ref[1])
    v = clean[np.isfinite(clean)].astype(np.float64)
    np.testing.assert_array_equal(
        T.histogram(x, bins=50, range=(-30, 0))[0], np.histogram(v, 50, (-30, 0))[0]
    )
    assert T.otsu_threshold(x) == T.otsu_threshold(clean)
    assert T.ki_threshold(x) == T.ki_threshold(clean)


def test_inf_is_no_data_in_split_based_threshold():
    x, clean = with_bad_pixels(scene_with_small_lakes())
    for options, method in (
        ({"tile": 64}, "otsu"),
        ({"tile": 256, "min_tile": 64}, "otsu"),
        ({"tile": 64}, "ki"),
    ):
        opt = T.SplitBasedOptions(**options)
        ref = T.split_based_threshold(clean, opt, method)
        assert ref.fallback is None
        assert T.split_based_threshold(x, opt, method) == ref
        assert T.split_based_threshold(da.from_array(x, chunks=(100, 130)), opt, method) == ref


def test_all_inf_raises_no_data():
    for bad in (
        np.full(100, np.inf),
        np.full((8, 8), -np.inf, np.float32),
        np.array([np.inf, -np.inf, np.nan] * 10),
    ):
        with pytest.raises(NoDataError, match="no finite value"):
            T.histogram(bad)
    with pytest.raises(NoDataError):
        T.split_based_threshold(np.full((64, 64), np.inf, np.float32), T.SplitBasedOptions(tile=32))
    with pytest.raises(NoDataError):
        T.histogram(da.from_array(np.full(100, np.inf), chunks=30))


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        st.integers(1, 300),
        elements=st.one_of(
            st.floats(-1e4, 1e4, width=32), st.sampled_from([np.nan, np.inf, -np.inf])
        ),
    ),
    st.integers(2, 50),
)
def test_property_histogram_ignores_non_finite(x, bins):
    finite = x[np.isfinite(x)]
    if not finite.size:
        with pytest.raises(NoDataError):
            T.histogram(x, bins=bins)
        return
    c, e = T.histogram(x, bins=bins)
    rc, re = np_hist(finite, bins)
    np.testing.assert_array_equal(c, rc)
    np.testing.assert_array_equal(e, re)


@pytest.mark.parametrize(
    "lo,hi",
    [
        (-np.inf, np.inf),
        (0.0, np.inf),
        (-np.inf, 0.0),
        (np.nan, 1.0),
        (0.0, np.nan),
        (1.0, 1.0),
        (5.0, -5.0),
        (0.0, 1e-300),
    ],
)
def test_kernels_never_write_out_of_bounds(lo, hi):
    """The raw kernels with absurd ranges and values: no crash, every count in its bins."""
    from eo_drr.kernels import threshold_cpu as K

    x = np.array([np.inf, -np.inf, np.nan, 0.0, 1e38, -1e38, 0.5, 1e-300] * 300)
    bins = 8
    edges = np.linspace(lo, hi, bins + 1) if np.isfinite([lo, hi]).all() else np.full(bins + 1, lo)
    scratch = np.full((3, K.LANES, bins + 2), -1, dtype=np.int64)
    ibuf = np.empty((3, K.CHUNK), dtype=np.int32)
    K.histogram(x, lo, hi, edges, scratch, ibuf)
    assert scratch.min() >= 0 and scratch.sum() == x.size and not scratch[:, :, bins].any()
    out = np.full((2, 3, bins + 2), -1, dtype=np.int64)
    K.tile_histograms(x.reshape(40, 60), 20, lo, hi, edges, np.empty((2, 20), np.int32), out)
    assert out.min() >= 0 and out.sum() == x.size and not out[:, :, bins].any()
    with pytest.raises(ValueError, match="edges"):
        K.histogram(x, 0.0, 1.0, edges[:-1], scratch, ibuf)
    with pytest.raises(ValueError, match="ibuf"):
        K.tile_histograms(x.reshape(40, 60), 20, 0.0, 1.0, edges, np.empty((2, 10), np.int32), out)


def test_cuda_kernels_treat_inf_as_no_data_under_simulator():
    """The CUDA twins (numba CUDA simulator, in a child process: see test_kernels_cuda)."""
    code = (
        "import numpy as np\n"
        "from numba import cuda\n"
        "from eo_drr.errors import NoDataError\n"
        "from eo_drr.indices import threshold as T\n"
        "from eo_drr.kernels import threshold_cuda as K\n"
        "x = np.random.default_rng(0).normal(-10, 3, 60).astype(np.float32)\n"
        "x[[3, 9]] = np.inf; x[[4, 20]] = -np.inf; x[7] = np.nan\n"
        "clean = np.where(np.isfinite(x), x, np.nan)\n"
        "c, e = T.histogram(cuda.to_device(x), bins=16)\n"
        "rc, re = T.histogram(clean, bins=16)\n"
        "assert (c == rc).all() and (e == re).all(), (c, rc)\n"
        "try:\n"
        "    T.histogram(cuda.to_device(np.full(8, np.inf)))\n"
        "    raise SystemExit('no NoDataError')\n"
        "except NoDataError:\n"
        "    pass\n"
        "for lo, hi in [(-np.inf, np.inf), (np.nan, 1.0), (0.0, np.inf)]:\n"
        "    counts = cuda.to_device(np.zeros(4, np.int64))\n"
        "    K.histogram[1, 64](cuda.to_device(x), lo, hi, cuda.to_device(np.zeros(5)), counts)\n"
        "    assert counts.copy_to_host().sum() <= x.size\n"
        "print('ok')\n"
    )
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
