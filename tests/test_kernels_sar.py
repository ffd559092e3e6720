"""SAR kernels (eo_drr.indices.sar) against plain numpy references, on numpy, dask, xarray."""

from __future__ import annotations

import os

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage

from eo_drr.errors import InputError
from eo_drr.indices import sar

RNG = np.random.default_rng(20240601)


def speckle(shape, looks=4.4, seed=0, nan_frac=0.0):
    rng = np.random.default_rng(seed)
    x = rng.gamma(looks, 1.0 / looks, shape).astype(np.float32)
    x *= np.where(np.arange(shape[1]) < shape[1] // 2, 0.05, 0.5).astype(np.float32)
    if nan_frac:
        x[rng.random(shape) < nan_frac] = np.nan
    return x


# ---------------------------------------------------------------- plain numpy references


def ref_window_stats(x, w):
    """(sum, sum of squares, count) of valid pixels over the in-raster part of each window."""
    r = w // 2
    x = x.astype(np.float64)
    H, W = x.shape
    valid = ~np.isnan(x)
    v = np.where(valid, x, 0.0)
    s = np.zeros_like(v)
    q = np.zeros_like(v)
    c = np.zeros_like(v)
    for i in range(H):
        for j in range(W):
            sl = (slice(max(0, i - r), i + r + 1), slice(max(0, j - r), j + r + 1))
            s[i, j] = v[sl].sum()
            q[i, j] = (v[sl] ** 2).sum()
            c[i, j] = valid[sl].sum()
    return s, q, c


def ref_boxcar(x, w):
    s, _, c = ref_window_stats(x, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = s / c
    out[np.isnan(x) | (c == 0)] = np.nan
    return out


def ref_lee_from_stats(x, s, q, c, enl, kuan=False):
    """Lee (W = 1 - Cu^2/Ci^2) or, with ``kuan``, Kuan (W = (1 - Cu^2/Ci^2) / (1 + Cu^2)),
    clipped to [0, 1], from window sums."""
    cu2 = 1.0 / enl
    x = x.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = s / c
        var_y = q / c - m * m
        var_x = var_y - m * m * cu2
        if kuan:
            var_x = var_x / (1 + cu2)
        k = np.clip(var_x / var_y, 0, 1)
    k = np.where(var_y > 0, k, 0.0)
    out = m + k * (x - m)
    out[np.isnan(x) | (c == 0)] = np.nan
    return out


def ref_lee(x, w, enl, kuan=False):
    s, q, c = ref_window_stats(x, w)
    return ref_lee_from_stats(x, s, q, c, enl, kuan)


def ref_kuan(x, w, enl):
    return ref_lee(x, w, enl, kuan=True)


def ref_refined_lee(x, enl):
    """Straightforward transcription of Lee (1981): 3x3 sub-window means, 4 gradient masks,
    8 edge-aligned half windows of the 7x7 window."""
    H, W = x.shape
    xp = np.full((H + 6, W + 6), np.nan)
    xp[3:-3, 3:-3] = x
    di, dj = np.mgrid[-3:4, -3:4]
    halves = [dj <= 0, dj >= 0, di <= 0, di >= 0, dj >= di, dj <= di, di + dj <= 0, di + dj >= 0]
    masks = [
        np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
        np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
        np.array([[0, 1, 1], [-1, 0, 1], [-1, -1, 0]]),
        np.array([[1, 1, 0], [1, 0, -1], [0, -1, -1]]),
    ]
    sides = [((1, 0), (1, 2)), ((0, 1), (2, 1)), ((0, 2), (2, 0)), ((0, 0), (2, 2))]
    out = np.full((H, W), np.nan)
    for i in range(H):
        for j in range(W):
            if np.isnan(x[i, j]):
                continue
            win = xp[i : i + 7, j : j + 7]  # 7x7 centred on (i, j)
            m = np.empty((3, 3))
            for a in range(3):
                for b in range(3):
                    blk = win[2 * a : 2 * a + 3, 2 * b : 2 * b + 3]  # centres 2 px apart
                    m[a, b] = np.nanmean(blk) if np.any(~np.isnan(blk)) else np.nan
            grads = [abs((mk * m).sum()) for mk in masks]
            best, sel = -1.0, None
            for g_i, g in enumerate(grads):
                if g > best:
                    best = g
                    (a1, b1), (a2, b2) = sides[g_i]
                    d1, d2 = abs(m[1, 1] - m[a1, b1]), abs(m[1, 1] - m[a2, b2])
                    sel = halves[2 * g_i] if (d1 <= d2 or np.isnan(d2)) else halves[2 * g_i + 1]
            sel = np.ones((7, 7), bool) if sel is None else sel
            vals = win[sel]
            vals = vals[~np.isnan(vals)]
            s, q, c = vals.sum(), (vals**2).sum(), vals.size
            out[i, j] = ref_lee_from_stats(  # the refined filter's weight is Kuan's
                np.array([[x[i, j]]]),
                np.array([[s]]),
                np.array([[q]]),
                np.array([[c]]),
                enl,
                kuan=True,
            )[0, 0]
    return out


# ---------------------------------------------------------------- pointwise


def test_to_db_matches_numpy_with_zero_negative_nan():
    x = np.array([[1.0, 10.0, 0.0, -1.0], [np.nan, 1e-4, 0.5, np.inf]], dtype=np.float32)
    out = sar.to_db(x)
    assert out.dtype == np.float32
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.where(x > 0, 10 * np.log10(x.astype(np.float64)), np.nan)
    np.testing.assert_allclose(out, ref, rtol=1e-6)


def test_to_db_float32_fast_path_special_values_and_accuracy():
    rng = np.random.default_rng(11)
    x = np.concatenate(
        [
            rng.gamma(2.0, 0.05, 50_000),
            10.0 ** rng.uniform(-37.9, 38.4, 50_000),  # the whole normal float32 range
            [
                0.0,
                -0.0,
                -1.0,
                np.inf,
                -np.inf,
                np.nan,
                1e-40,
                1.4e-45,
                3.4e38,
                1.0,
                10.0,
                0.5,
                np.sqrt(2.0),
                np.nextafter(np.sqrt(2.0), 2.0),
                1 / np.sqrt(2.0),
            ],
        ]
    ).astype(np.float32)
    out = sar.to_db(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.where(x > 0, 10 * np.log10(x.astype(np.float64)), np.nan)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    ok = np.isfinite(ref)
    # within one float32 rounding of the float64 reference (subnormals included)
    np.testing.assert_allclose(out[ok], ref[ok], rtol=1.2e-7, atol=1e-6)
    assert out[np.isinf(x) & (x > 0)][0] == np.inf
    assert sar.to_db(np.float32(1.0)) == 0.0 and sar.to_db(np.float32(10.0)) == 10.0
    y = np.roll(x, 7)
    lr = sar.log_ratio(x, y)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ref = np.where((x > 0) & (y > 0), 10 * np.log10(x.astype(np.float64) / y), np.nan)
    ok = np.isfinite(ref)
    np.testing.assert_array_equal(np.isnan(lr[~np.isinf(ref)]), np.isnan(ref[~np.isinf(ref)]))
    np.testing.assert_allclose(lr[ok], ref[ok], rtol=1e-6, atol=2e-5)
    # float64 input takes the scalar path: same results to float32 rounding
    np.testing.assert_allclose(sar.to_db(x.astype(np.float64))[ok], out[ok], rtol=1.2e-7, atol=1e-6)
    nod = sar.to_db(np.array([2.0, -9999.0], np.float32), nodata=2.0)
    assert np.isnan(nod).all()


def test_to_db_integer_input_zero_is_nodata_and_no_wrap():
    x = np.array([0, 1, 10, 65535], dtype=np.uint16)
    out = sar.to_db(x)
    assert np.isnan(out[0])
    np.testing.assert_allclose(out[1:], 10 * np.log10([1.0, 10.0, 65535.0]), rtol=1e-6)
    out2 = sar.to_db(x, nodata=10)
    assert np.isnan(out2[2]) and out2[1] == 0.0  # 0 is log-invalid anyway


def test_to_linear_roundtrip_and_nodata():
    x = speckle((17, 13))
    np.testing.assert_allclose(sar.to_linear(sar.to_db(x)), x, rtol=1e-5)
    assert np.isnan(sar.to_linear(np.array([np.nan], np.float32))[0])
    assert sar.to_linear(np.float32(-10.0)) == pytest.approx(0.1)


def test_log_ratio_reference_and_nan():
    post = speckle((9, 11), seed=1)
    pre = speckle((9, 11), seed=2)
    post[0, 0] = np.nan
    pre[1, 1] = 0.0
    post[2, 2] = -1.0
    out = sar.log_ratio(post, pre)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = 10 * np.log10(post.astype(np.float64) / pre)
    ref[(post <= 0) | (pre <= 0) | np.isnan(post) | np.isnan(pre)] = np.nan
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    assert np.isnan(out[0, 0]) and np.isnan(out[1, 1]) and np.isnan(out[2, 2])


def test_log_ratio_errors():
    with pytest.raises(InputError, match="post and pre"):
        sar.log_ratio(np.ones((3, 3)), np.ones((3, 4)))
    with pytest.raises(InputError, match="post and pre"):
        sar.log_ratio(np.ones((4, 4)), da.ones((4, 4)))
    with pytest.raises(InputError, match="post"):
        sar.log_ratio(np.ones((2, 2), dtype=bool), np.ones((2, 2)))


def test_pointwise_one_pixel_and_empty():
    assert sar.to_db(np.ones((1, 1), np.float32)).shape == (1, 1)
    assert sar.to_db(np.ones((0, 5), np.float32)).shape == (0, 5)


# ---------------------------------------------------------------- windowed


@pytest.mark.parametrize("w", [3, 5, 7, 9])
def test_boxcar_interior_matches_scipy_uniform_filter(w):
    x = speckle((64, 53), seed=w)
    out = sar.boxcar(x, w)
    ref = ndimage.uniform_filter(x.astype(np.float64), w, mode="constant")
    r = w // 2
    np.testing.assert_allclose(out[r:-r, r:-r], ref[r:-r, r:-r], rtol=2e-6)


@pytest.mark.parametrize("shape,w", [((3, 3), 3), ((5, 17), 5), ((23, 7), 7), ((12, 12), 3)])
def test_boxcar_edges_and_nan_match_reference(shape, w):
    x = speckle(shape, seed=3, nan_frac=0.2)
    np.testing.assert_allclose(sar.boxcar(x, w), ref_boxcar(x, w), rtol=2e-6)


@pytest.mark.parametrize("shape,w,enl", [((31, 29), 7, 4.4), ((9, 40), 5, 1.0), ((7, 7), 7, 10)])
@pytest.mark.parametrize("name", ["lee", "kuan"])
def test_lee_matches_plain_numpy(shape, w, enl, name):
    x = speckle(shape, seed=4, nan_frac=0.1)
    ref = ref_lee(x, w, enl, kuan=name == "kuan")
    np.testing.assert_allclose(getattr(sar, name)(x, w, enl), ref, rtol=2e-5, atol=1e-7)


def test_refined_lee_matches_reference():
    x = speckle((26, 31), seed=5, nan_frac=0.05)
    x[10:, 10:20] *= 8.0  # a bright block: edges in all orientations
    np.testing.assert_allclose(
        sar.refined_lee(x, 7, 4.4), ref_refined_lee(x, 4.4), rtol=2e-5, atol=1e-7
    )


def test_refined_lee_keeps_a_step_edge_that_lee_blurs():
    x = np.ones((21, 21), np.float32)
    x[:, 11:] = 10.0
    rl = sar.refined_lee(x)
    ll = sar.lee(x)
    # edge-aligned windows never straddle the step (away from the outermost ring of pixels,
    # where the 3x3 sub-windows of one side of the 7x7 window lie wholly outside the raster)
    np.testing.assert_array_equal(rl[1:-1], x[1:-1])
    assert not np.allclose(ll[:, 9:13], x[:, 9:13])


def test_windowed_constant_and_all_nan():
    c = np.full((8, 9), 2.5, np.float32)
    for f in (sar.boxcar, sar.lee, sar.kuan):
        np.testing.assert_allclose(f(c, 3), c)
    np.testing.assert_allclose(sar.refined_lee(c), c)
    n = np.full((8, 9), np.nan, np.float32)
    for f in (sar.boxcar, sar.lee, sar.kuan, sar.refined_lee):
        assert np.isnan(f(n, 7)).all()


def test_windowed_inf_is_nodata():
    x = speckle((15, 16), seed=9)
    xi = x.copy()
    xi[4, 5] = np.inf
    xi[9, 9] = -np.inf
    xn = x.copy()
    xn[4, 5] = np.nan
    xn[9, 9] = np.nan
    for f in (sar.boxcar, sar.lee, sar.kuan, sar.refined_lee):
        np.testing.assert_array_equal(f(xi, 7), f(xn, 7))
    np.testing.assert_allclose(sar.lee(xi, 5), ref_lee(xn, 5, 4.4), rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(sar.kuan(xi, 5), ref_kuan(xn, 5, 4.4), rtol=2e-5, atol=1e-7)


def test_windowed_large_raster_matches_reference_in_every_band():
    # many parallel bands of rows: the band starts must not show
    x = speckle((300, 41), seed=10, nan_frac=0.02)
    r = 2
    ref = ndimage.uniform_filter(np.nan_to_num(x).astype(np.float64), 5, mode="constant")
    cnt = ndimage.uniform_filter((~np.isnan(x)).astype(np.float64), 5, mode="constant")
    ref = np.where(np.isnan(x), np.nan, ref / cnt)
    np.testing.assert_allclose(sar.boxcar(x, 5)[r:-r, r:-r], ref[r:-r, r:-r], rtol=1e-5)


def test_windowed_integer_input_zero_is_nodata():
    x = (speckle((12, 10)) * 1000).astype(np.uint16)
    x[3, 3] = 0
    out = sar.boxcar(x, 3)
    xf = x.astype(np.float64)
    xf[x == 0] = np.nan
    np.testing.assert_allclose(out, ref_boxcar(xf, 3), rtol=1e-6)
    assert np.isnan(out[3, 3])


@pytest.mark.parametrize("window", [1, 2, 4, 0, -3, 3.0, "7", True])
def test_windowed_bad_window(window):
    with pytest.raises(InputError, match="window"):
        sar.boxcar(np.ones((10, 10), np.float32), window)


def test_windowed_window_larger_than_raster_and_shape_errors():
    with pytest.raises(InputError, match="window: 5 is larger"):
        sar.lee(np.ones((4, 40), np.float32), 5)
    with pytest.raises(InputError, match="window: 3 is larger"):
        sar.boxcar(np.ones((1, 1), np.float32), 3)
    with pytest.raises(InputError, match="2-D"):
        sar.boxcar(np.ones((2, 9, 9), np.float32), 3)
    with pytest.raises(InputError, match="window: only 7"):
        sar.refined_lee(np.ones((9, 9), np.float32), 5)
    with pytest.raises(InputError, match="enl"):
        sar.lee(np.ones((9, 9), np.float32), 3, enl=0)


# ---------------------------------------------------------------- dask and xarray


@pytest.mark.parametrize("chunks", [(16, 16), (7, 11), (3, 2), (64, 5)])
@pytest.mark.parametrize(
    "func",
    [sar.to_db, sar.boxcar, sar.lee, sar.kuan, sar.refined_lee, lambda a: sar.boxcar(a, 9)],
)
def test_dask_equals_numpy_across_chunks(func, chunks):
    x = speckle((40, 37), seed=6, nan_frac=0.05)
    ref = func(x)
    out = func(da.from_array(x, chunks=chunks))
    assert isinstance(out, da.Array) and out.dtype == np.float32
    got = out.compute()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=0)


def test_dask_log_ratio_and_integer_windowed():
    a = speckle((30, 20), seed=7)
    b = speckle((30, 20), seed=8)
    out = sar.log_ratio(da.from_array(a, chunks=7), da.from_array(b, chunks=(9, 4)))
    np.testing.assert_array_equal(out.compute(), sar.log_ratio(a, b))
    xi = (a * 1000).astype(np.uint16)
    np.testing.assert_allclose(
        sar.lee(da.from_array(xi, chunks=8)).compute(), sar.lee(xi), rtol=1e-6
    )


def test_xarray_keeps_coords_attrs_and_crs():
    rioxarray = pytest.importorskip("rioxarray")  # noqa: F841
    x = speckle((12, 10))
    arr = xr.DataArray(
        x,
        dims=("y", "x"),
        name="vv",
        coords={"y": np.arange(12) * -10.0 + 500, "x": np.arange(10) * 10.0},
        attrs={"units": "linear", "_FillValue": 0, "scale_factor": 1.0},
    ).rio.write_crs(32719)
    for f in (sar.to_db, sar.boxcar, sar.lee, sar.kuan, sar.refined_lee):
        out = f(arr)
        assert isinstance(out, xr.DataArray) and out.dtype == np.float32
        assert out.dims == arr.dims and out.name == "vv"
        xr.testing.assert_equal(out.coords.to_dataset(), arr.coords.to_dataset())
        assert out.rio.crs.to_epsg() == 32719
        assert out.attrs["units"] == "linear" and np.isnan(out.attrs["_FillValue"])
        assert "scale_factor" not in out.attrs
    lr = sar.log_ratio(arr, arr)
    assert isinstance(lr, xr.DataArray) and float(np.nanmax(np.abs(lr))) == 0.0
    lazy = sar.lee(arr.chunk({"y": 5}))
    assert isinstance(lazy.data, da.Array)
    np.testing.assert_allclose(lazy.values, sar.lee(x), rtol=1e-6)


# ---------------------------------------------------------------- properties

finite_pos = st.floats(2.0**-20, 2.0**20, width=32)
rasters = hnp.arrays(
    np.float32,
    st.tuples(st.integers(3, 12), st.integers(3, 12)),
    elements=st.one_of(finite_pos, st.just(np.nan)),
)


@settings(max_examples=60, deadline=None)
@given(rasters, st.sampled_from([3, 5]))
def test_property_boxcar_and_lee_bounded_by_window_values(x, w):
    if w > min(x.shape):
        w = 3
    if np.isnan(x).all():
        lo = hi = 0.0
    else:
        lo, hi = np.nanmin(x), np.nanmax(x)
    for out in (sar.boxcar(x, w), sar.lee(x, w), sar.kuan(x, w)):
        assert np.array_equal(np.isnan(out), np.isnan(x))
        ok = out[~np.isnan(out)]
        assert np.all(ok >= lo * (1 - 1e-5)) and np.all(ok <= hi * (1 + 1e-5))


@settings(max_examples=60, deadline=None)
@given(rasters)
def test_property_db_roundtrip(x):
    back = sar.to_linear(sar.to_db(x))
    np.testing.assert_allclose(back, x, rtol=1e-5)


sar_like = hnp.arrays(  # linear sigma0 from -40 dB to +30 dB, with nodata
    np.float32,
    st.tuples(st.integers(3, 12), st.integers(3, 12)),
    elements=st.one_of(st.floats(2.0**-13, 2.0**10, width=32), st.just(np.nan)),
)


@settings(max_examples=40, deadline=None)
@given(sar_like, st.integers(2, 6), st.integers(2, 6))
def test_property_dask_lee_equals_numpy(x, cy, cx):
    for f in (sar.lee, sar.kuan):
        got = f(da.from_array(x, chunks=(cy, cx)), 3).compute()
        ref = f(x, 3)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_allclose(got, ref, rtol=1e-5)


def test_dask_threads_do_not_crash_the_workqueue_threading_layer():
    """numba's fallback threading layer aborts on concurrent parallel launches; dask's threaded
    scheduler makes them. The block functions serialise themselves (``guard_parallel``)."""
    import subprocess
    import sys

    code = (
        "import dask, dask.array as da, numpy as np, numba\n"
        "import eo_drr.indices as I\n"
        "x = da.from_array(np.random.default_rng(0).gamma(4, .05, (256, 256))"
        ".astype(np.float32), chunks=32)\n"
        "with dask.config.set(scheduler='threads', num_workers=8):\n"
        "    I.sar.lee(x).compute(); I.sar.to_db(x).compute(); I.sar.refined_lee(x).compute()\n"
        "    I.sar.log_ratio(x, x).compute(); I.ndwi(x, x).compute()\n"
        "    I.threshold.otsu_threshold(x); I.threshold.split_based_threshold("
        "x, I.threshold.SplitBasedOptions(tile=64))\n"
        "assert numba.threading_layer() == 'workqueue', numba.threading_layer()\n"
        "print('ok')\n"
    )
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-3000:]


@pytest.mark.parametrize("t", [1, 2, 3, 4, 7])
def test_temporal_median_matches_numpy_nanmedian(t):
    import warnings

    rng = np.random.default_rng(t)
    a = rng.gamma(4.4, 0.05, (t, 61, 47)).astype(np.float32)
    a[rng.random(a.shape) < 0.25] = np.nan
    a[:, 0, 0] = np.nan  # a pixel no date saw
    a[0, 1, 1] = np.inf  # +-inf is nodata, like NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.nanmedian(np.where(np.isinf(a), np.nan, a), axis=0)
    got = sar.temporal_median(a)
    assert got.dtype == np.float32 and got.shape == a.shape[1:]
    np.testing.assert_allclose(got, ref, rtol=1e-6, equal_nan=True)
    assert np.isnan(got[0, 0])
    # dask (one chunk in time, several in space) and xarray agree with numpy
    d = da.from_array(a, chunks=(t, 20, 20))
    np.testing.assert_allclose(sar.temporal_median(d).compute(), got, equal_nan=True)
    x = xr.DataArray(a, dims=("time", "y", "x"), coords={"time": np.arange(t)})
    out = sar.temporal_median(x)
    assert out.dims == ("y", "x")
    np.testing.assert_allclose(out.values, got, equal_nan=True)


def test_temporal_median_errors():
    with pytest.raises(InputError, match="time, y, x"):
        sar.temporal_median(np.zeros((4, 4), np.float32))
    d = da.zeros((4, 8, 8), chunks=(2, 8, 8), dtype=np.float32)
    with pytest.raises(InputError, match="one chunk along time"):
        sar.temporal_median(d)


# ---------------------------------------------------------------- Lee vs Kuan gain


def ref_speckle_uniform(x, w, enl, kuan):
    """Lee / Kuan from scipy's box moments (no NaN; valid away from the borders only)."""
    x = x.astype(np.float64)
    m = ndimage.uniform_filter(x, w, mode="constant")
    var_y = ndimage.uniform_filter(x * x, w, mode="constant") - m * m
    cu2 = 1.0 / enl
    with np.errstate(invalid="ignore", divide="ignore"):
        ci2 = var_y / (m * m)
        k = 1.0 - cu2 / ci2
        if kuan:
            k = k / (1.0 + cu2)
    k = np.where(var_y > 0, np.clip(k, 0.0, 1.0), 0.0)
    return m + k * (x - m)


def _point_target(bright=1000.0, size=21):
    x = np.ones((size, size), np.float32)
    x[size // 2, size // 2] = bright
    return x


@pytest.mark.parametrize("backend", ["numpy", "dask"])
def test_lee_keeps_a_point_target_that_kuan_pulls_toward_the_mean(backend):
    x = _point_target()
    c = x.shape[0] // 2
    w, enl = 7, 4.4
    cu2 = 1.0 / enl
    win = x[c - 3 : c + 4, c - 3 : c + 4].astype(np.float64)
    m, ci2 = win.mean(), win.var() / win.mean() ** 2
    conv = (lambda a: a) if backend == "numpy" else (lambda a: da.from_array(a, chunks=8))
    lee = np.asarray(sar.lee(conv(x), w, enl))
    kuan = np.asarray(sar.kuan(conv(x), w, enl))
    # Lee: W = 1 - Cu^2/Ci^2 -> 1, the target keeps its value (within 1 %)
    assert lee[c, c] == pytest.approx(x[c, c], rel=0.01)
    assert lee[c, c] == pytest.approx(m + (1 - cu2 / ci2) * (x[c, c] - m), rel=1e-5)
    # Kuan: W = (1 - Cu^2/Ci^2) / (1 + Cu^2) <= 1 / (1 + Cu^2) = 0.815 at ENL 4.4
    w_kuan = (1 - cu2 / ci2) / (1 + cu2)
    assert kuan[c, c] == pytest.approx(m + w_kuan * (x[c, c] - m), rel=1e-5)
    pull = (x[c, c] - kuan[c, c]) / (x[c, c] - m)  # fraction of the way toward the mean
    assert 0.18 <= pull <= 0.19 and pull >= cu2 / (1 + cu2) - 1e-6
    # the background far from the target is homogeneous: both give the local mean
    np.testing.assert_allclose(lee[:4, :4], 1.0, rtol=1e-6)
    np.testing.assert_allclose(kuan[:4, :4], 1.0, rtol=1e-6)


@pytest.mark.parametrize("name", ["lee", "kuan"])
@pytest.mark.parametrize("w", [3, 5, 7, 9])
def test_speckle_filters_constant_image_give_the_mean(name, w):
    c = np.full((13, 17), 0.037, np.float32)
    f = getattr(sar, name)
    np.testing.assert_allclose(f(c, w), c, rtol=1e-6)
    np.testing.assert_allclose(f(da.from_array(c, chunks=5), w).compute(), c, rtol=1e-6)


@pytest.mark.parametrize("name", ["lee", "kuan"])
@pytest.mark.parametrize("w,enl", [(3, 1.0), (5, 4.4), (7, 4.4), (9, 10.0)])
def test_speckle_filters_match_uniform_filter_reference(name, w, enl):
    x = speckle((120, 97), looks=enl, seed=w)
    x[40:70, 30:60] *= 9.0  # a bright block: texture and edges
    x[100, 20] *= 200.0  # a point target
    got = getattr(sar, name)(x, w, enl)
    ref = ref_speckle_uniform(x, w, enl, kuan=name == "kuan")
    r = w // 2
    np.testing.assert_allclose(got[r:-r, r:-r], ref[r:-r, r:-r], rtol=2e-5, atol=1e-7)


def test_lee_and_kuan_differ_by_the_factor_one_plus_cu2_where_not_clipped():
    x = speckle((60, 60), seed=21)
    x[20:40, 20:40] *= 12.0
    enl = 4.4
    ml = np.asarray(sar.boxcar(x, 7), np.float64)
    wl = (sar.lee(x, 7, enl) - ml) / (x - ml)
    wk = (sar.kuan(x, 7, enl) - ml) / (x - ml)
    sel = (np.abs(x - ml) > 0.2 * ml) & (wl > 0.05) & (wl < 0.95)
    assert sel.sum() > 50
    np.testing.assert_allclose(wk[sel], wl[sel] / (1 + 1 / enl), rtol=1e-3)
    assert np.nanmax(wk) <= 1 / (1 + 1 / enl) + 1e-4


@pytest.mark.parametrize("name", ["lee", "kuan"])
def test_speckle_filters_nan_stays_nan_and_is_left_out(name):
    x = speckle((30, 28), seed=22, nan_frac=0.15)
    f = getattr(sar, name)
    out = f(x, 5)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(x))
    np.testing.assert_allclose(out, ref_lee(x, 5, 4.4, kuan=name == "kuan"), rtol=2e-5, atol=1e-7)
    got = f(da.from_array(x, chunks=(7, 9)), 5).compute()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(x))
    np.testing.assert_allclose(got, out, rtol=1e-6)
