"""Issue 21: the speckle window kernels (``speckle_cpu.window_filter``: boxcar, Lee, Kuan) give
bit for bit the outputs of their formulation before issue 21, kept below as the reference
(``ref_window_filter``, compiled with the same numba options), on numpy and dask inputs.

The data are chosen so that a change in the order of a floating-point sum shows in the output:
near-constant windows (the variance comes from the last bits of the float64 sum of squares),
values over 60 decades, bright pixels that enter and leave the running column sums, NaN and
+-inf nodata, rasters whose width is not a multiple of the vector width, one row, narrow rasters,
all the windows the products use (3, 5, 7, 9) and wider ones (11, 19) that first sum their
first columns in passes.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from eo_drr.indices import sar
from eo_drr.kernels import speckle_cpu
from eo_drr.kernels._jit import njit_serial, threaded

_REF_ANCHOR = 64
_REF_SEG = 512


@njit_serial
def _ref_col_add(row, sign, cs, cq, cc, need_q):
    """Column sums += sign * (valid values, their squares, 1) of ``row``."""
    for j in range(row.shape[0]):
        v = np.float64(row[j])
        ok = np.abs(v) < np.inf
        v = v if ok else 0.0
        cs[j] += sign * v
        cc[j] += sign if ok else 0.0
    if need_q:
        for j in range(row.shape[0]):
            v = np.float64(row[j])
            v = v if np.abs(v) < np.inf else 0.0
            cq[j] += sign * (v * v)


@njit_serial
def _ref_col_add_sub(row_in, row_out, cs, cq, cc, need_q):
    """Column sums += row_in - row_out (valid values only), one pass."""
    if need_q:
        for j in range(row_in.shape[0]):
            a = np.float64(row_in[j])
            b = np.float64(row_out[j])
            oka = np.abs(a) < np.inf
            okb = np.abs(b) < np.inf
            a = a if oka else 0.0
            b = b if okb else 0.0
            cs[j] += a - b
            cq[j] += a * a - b * b
            cc[j] += (1.0 if oka else 0.0) - (1.0 if okb else 0.0)
    else:
        for j in range(row_in.shape[0]):
            a = np.float64(row_in[j])
            b = np.float64(row_out[j])
            oka = np.abs(a) < np.inf
            okb = np.abs(b) < np.inf
            a = a if oka else 0.0
            b = b if okb else 0.0
            cs[j] += a - b
            cc[j] += (1.0 if oka else 0.0) - (1.0 if okb else 0.0)


@njit_serial
def _ref_col_direct(x, i, r, cs, cq, cc, need_q):
    """Column sums over rows i - r .. i + r (clipped to the raster), from scratch."""
    H = x.shape[0]
    cs[:] = 0.0
    cq[:] = 0.0
    cc[:] = 0.0
    for ii in range(max(0, i - r), min(H, i + r + 1)):
        _ref_col_add(x[ii], 1.0, cs, cq, cc, need_q)


@njit_serial
def _ref_row_window_sums(cpad, r, j0, hb):
    """hb[j] = sum(cpad[j0 + j : j0 + j + 2r + 1]) for j < hb.size (cpad: column sums with r
    zeros each side; the segment of columns j0 .. j0 + hb.size - 1).

    Direct sums, vectorised over j: one pass adds the first 1 or 3 offsets of the window
    (w = 2r + 1 is odd), then one pass per further 4 offsets, so hb is stored (w + 1) // 4
    times instead of once per offset; no running sum, so no rounding carried along the row
    (issue 21: a running sum along the row is one dependent add per pixel and kept the
    filters at a tenth of the memory bound).
    """
    w = 2 * r + 1
    m = hb.size
    c0 = cpad[j0 : j0 + m]
    if w % 4 == 3:
        c1 = cpad[j0 + 1 : j0 + 1 + m]
        c2 = cpad[j0 + 2 : j0 + 2 + m]
        for j in range(m):
            hb[j] = c0[j] + c1[j] + c2[j]
    else:
        for j in range(m):
            hb[j] = c0[j]
    for k in range(3 if w % 4 == 3 else 1, w, 4):
        d0 = cpad[j0 + k : j0 + k + m]
        d1 = cpad[j0 + k + 1 : j0 + k + 1 + m]
        d2 = cpad[j0 + k + 2 : j0 + k + 2 + m]
        d3 = cpad[j0 + k + 3 : j0 + k + 3 + m]
        for j in range(m):
            hb[j] += (d0[j] + d1[j]) + (d2[j] + d3[j])


@threaded(lambda *a: a[4].shape[0])
def ref_window_filter(start, stop, x, r, mode, cu2, scratch, out):
    """``speckle_cpu.window_filter`` before issue 21 (the reference; same arguments)."""
    H, W = x.shape
    nb = scratch.shape[0]
    band = (H + nb - 1) // nb
    need_q = mode != speckle_cpu.MODE_BOXCAR
    # Kuan divides Lee's gain by (1 + Cu**2); multiplying by 1 leaves Lee's bits unchanged
    scale = np.float32(1.0 / (1.0 + cu2)) if mode == speckle_cpu.MODE_KUAN else np.float32(1.0)
    cu2f = np.float32(cu2)
    zero = np.float32(0.0)
    one = np.float32(1.0)
    for b in range(start, stop):
        i0 = b * band
        i1 = min(H, i0 + band)
        if i0 >= i1:
            continue
        # column sums live in the middle of zero-padded rows: cpad[r + j] is column j
        sp = scratch[b, 0]
        qp = scratch[b, 1]
        cp = scratch[b, 2]
        sp[:] = 0.0
        qp[:] = 0.0
        cp[:] = 0.0
        cs = sp[r : r + W]
        cq = qp[r : r + W]
        cc = cp[r : r + W]
        for i in range(i0, i1):
            if (i - i0) % _REF_ANCHOR == 0:
                _ref_col_direct(x, i, r, cs, cq, cc, need_q)
            else:
                enter = i + r
                leave = i - r - 1
                if enter < H and leave >= 0:
                    _ref_col_add_sub(x[enter], x[leave], cs, cq, cc, need_q)
                elif enter < H:
                    _ref_col_add(x[enter], 1.0, cs, cq, cc, need_q)
                elif leave >= 0:
                    _ref_col_add(x[leave], -1.0, cs, cq, cc, need_q)
            # per segment of SEG columns: window sums, then the output, all in L1
            for j0 in range(0, W, _REF_SEG):
                m = min(W, j0 + _REF_SEG) - j0
                xi = x[i, j0 : j0 + m]
                oi = out[i, j0 : j0 + m]
                hs = scratch[b, 3, :m]
                hq = scratch[b, 4, :m]
                hc = scratch[b, 5, :m]
                _ref_row_window_sums(sp, r, j0, hs)
                _ref_row_window_sums(cp, r, j0, hc)
                if mode == speckle_cpu.MODE_BOXCAR:
                    for j in range(m):
                        n = hc[j]
                        v = xi[j]
                        ok = (np.abs(v) < np.inf) & (n > 0.5)
                        oi[j] = hs[j] / n if ok else np.nan
                    continue
                _ref_row_window_sums(qp, r, j0, hq)
                for j in range(m):
                    n = hc[j]
                    rc = 1.0 / n
                    m64 = hs[j] * rc
                    var_y = np.float32(hq[j] * rc - m64 * m64)
                    mf = np.float32(m64)
                    num = (var_y - mf * mf * cu2f) * scale
                    k = min(max(num / var_y, zero), one)
                    k = k if var_y > zero else zero
                    v = np.float32(xi[j])
                    ok = (np.abs(v) < np.inf) & (n > 0.5)
                    oi[j] = mf + k * (v - mf) if ok else np.nan


def _run(kernel, x, r, mode, cu2=1 / 4.4, nbands=None):
    out = np.empty(x.shape, np.float32)
    kernel(x, r, mode, cu2, speckle_cpu.window_scratch(x.shape, r, nbands), out)
    return out


def _same_bits(a, b):
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
    diff = a.view(np.int32) != b.view(np.int32)
    assert not diff.any(), (
        f"{int(diff.sum())} of {a.size} pixels differ, first at {np.argwhere(diff)[0]}"
    )


def _rasters():
    rng = np.random.default_rng(21)
    yield "gamma", rng.gamma(4.4, 1 / 4.4, (150, 301)).astype(np.float32)
    steps = rng.integers(-3, 4, (130, 263)).astype(np.float32)
    yield "near-constant", (np.float32(3.7) * (1 + steps * np.float32(2**-23))).astype(np.float32)
    signs = rng.choice([-1.0, 1.0], (90, 203))
    yield "60 decades", (signs * 10.0 ** rng.uniform(-30, 30, (90, 203))).astype(np.float32)
    g = rng.gamma(4.4, 1 / 4.4, (140, 257)).astype(np.float32)
    g[rng.random(g.shape) < 0.05] = np.nan
    g[rng.random(g.shape) < 0.01] = np.inf
    g[rng.random(g.shape) < 0.01] = -np.inf
    g[rng.random(g.shape) < 0.02] = 1e30  # bright pixels through the running sums
    g[rng.random(g.shape) < 0.02] = 0.0
    g[rng.random(g.shape) < 0.01] = 1e-38
    g[30:60, 40:120] = 2.5  # constant area: variance 0
    g[:, 200:215] = np.nan  # nodata stripe
    g[100:, :] = g[100:, :] * np.float32(1e6)
    yield "mixed nodata", g
    yield "narrow", rng.gamma(2.0, 1.0, (75, 5)).astype(np.float32)
    yield "one row", rng.gamma(2.0, 1.0, (1, 133)).astype(np.float32)
    yield "one column", rng.gamma(2.0, 1.0, (67, 1)).astype(np.float32)
    yield "float64", rng.gamma(2.0, 1.0, (40, 131)) * 10.0 ** rng.uniform(-3, 3, (40, 131))
    yield "all nodata", np.full((20, 23), np.nan, np.float32)


RASTERS = dict(_rasters())


@pytest.mark.parametrize("name", list(RASTERS))
@pytest.mark.parametrize(
    "mode", [speckle_cpu.MODE_BOXCAR, speckle_cpu.MODE_LEE, speckle_cpu.MODE_KUAN]
)
def test_window_filter_bits_equal_the_former_formulation(name, mode):
    x = RASTERS[name]
    for r in (1, 2, 3, 4, 5, 9):
        for nbands in (None, 1, 3):
            _same_bits(
                _run(speckle_cpu.window_filter, x, r, mode, nbands=nbands),
                _run(ref_window_filter, x, r, mode, nbands=nbands),
            )


@pytest.mark.parametrize("mode", [speckle_cpu.MODE_LEE, speckle_cpu.MODE_KUAN])
def test_window_filter_bits_where_the_weight_hangs_on_the_last_bits(mode):
    """A large offset with small noise and Cu**2 near the local Ci**2: the weight k, so the
    output, follows the last bits of the float64 variance q / n - m**2, so of the order of the
    additions in the sums of squares (a reversed order changes about 1 pixel in 3000)."""
    rng = np.random.default_rng(9)
    x = (1e6 + rng.gamma(1.0, 1.0, (200, 403))).astype(np.float32)
    ci2 = x.var() / x.mean() ** 2
    for cu2 in (ci2, 0.3 * ci2):
        for r in (1, 2, 3, 4, 5):
            _same_bits(
                _run(speckle_cpu.window_filter, x, r, mode, cu2),
                _run(ref_window_filter, x, r, mode, cu2),
            )


def test_window_filter_bits_long_columns_and_wide_rows():
    """Several anchors down a band, rows wider than the former segments."""
    rng = np.random.default_rng(5)
    x = rng.gamma(1.0, 1.0, (300, 1200)).astype(np.float32)
    x[rng.random(x.shape) < 0.001] = np.float32(3e7)
    x[rng.random(x.shape) < 0.002] = np.nan
    for mode in (speckle_cpu.MODE_BOXCAR, speckle_cpu.MODE_LEE, speckle_cpu.MODE_KUAN):
        for r in (1, 3, 4):
            _same_bits(
                _run(speckle_cpu.window_filter, x, r, mode, nbands=2),
                _run(ref_window_filter, x, r, mode, nbands=2),
            )


@pytest.mark.parametrize("func", [sar.boxcar, sar.lee, sar.kuan])
@pytest.mark.parametrize("window", [3, 7, 9])
def test_public_filters_numpy_and_dask_bits_equal_the_former_formulation(func, window, monkeypatch):
    x = RASTERS["mixed nodata"]
    dx = da.from_array(x, chunks=(50, 90))
    new_np, new_dask = func(x, window), func(dx, window).compute()
    monkeypatch.setattr(speckle_cpu, "window_filter", ref_window_filter)
    _same_bits(new_np, func(x, window))
    _same_bits(new_dask, func(dx, window).compute())


def test_real_sentinel1_chip_bits_equal_the_former_formulation(shared_data):
    rasterio = pytest.importorskip("rasterio")
    path = shared_data / "sen1floods11-sample" / "Spain_7370579_S1Hand.tif"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with rasterio.open(path) as src:
        db = src.read().astype(np.float32)  # VV, VH in dB (Sen1Floods11), NaN nodata
    for band in db:
        lin = (10.0 ** (band / 10.0)).astype(np.float32)
        for mode in (speckle_cpu.MODE_BOXCAR, speckle_cpu.MODE_LEE, speckle_cpu.MODE_KUAN):
            for r in (1, 3, 4):
                _same_bits(
                    _run(speckle_cpu.window_filter, lin, r, mode),
                    _run(ref_window_filter, lin, r, mode),
                )
