"""Numba CPU kernels for SAR backscatter: dB conversions, log-ratio, boxcar, Lee filters.

Every kernel writes into an ``out`` array that the caller allocated with numpy; scratch
buffers are allocated by the caller too. Pointwise kernels work on flat (raveled, C-contiguous)
arrays split into blocks of rows; windowed kernels on 2-D arrays, ``numba.prange`` over bands
of rows. NaN marks nodata everywhere (see ``as_float32`` for integer inputs).
"""

from __future__ import annotations

import numba
import numpy as np

from eo_drr.kernels._jit import njit_parallel, njit_serial
from eo_drr.kernels._scalar import (
    db_of,
    is_nodata,
    lee_value,
    linear_of,
    log_ratio_of,
    refined_lee_value,
)

#: Elements per parallel block of the pointwise kernels ("rows" of the flat view).
BLOCK = 1 << 16


# --------------------------------------------------------------------------------------------
# pointwise


@njit_parallel
def as_float32(x, nodata, use_nodata, out):
    """out = float32(x), NaN where x is NaN or equals ``nodata`` (when ``use_nodata``)."""
    n = x.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            v = x[k]
            if is_nodata(v, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = v


@njit_parallel
def to_db(x, nodata, use_nodata, out):
    """out = 10 log10(x); NaN for x <= 0, NaN or nodata."""
    n = x.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            v = x[k]
            if is_nodata(v, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = db_of(np.float64(v))


@njit_parallel
def to_linear(x, nodata, use_nodata, out):
    """out = 10 ** (x / 10); NaN for NaN or nodata."""
    n = x.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            v = x[k]
            if is_nodata(v, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = linear_of(np.float64(v))


@njit_parallel
def log_ratio(post, pre, nodata, use_nodata, out):
    """out = 10 log10(post / pre) (dB); NaN where either is NaN, <= 0 or nodata."""
    n = post.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            a = post[k]
            c = pre[k]
            if is_nodata(a, nodata, use_nodata) or is_nodata(c, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = log_ratio_of(np.float64(a), np.float64(c))


# --------------------------------------------------------------------------------------------
# windowed: separable running sums
#
# Each parallel band of rows keeps, for every column, the sums over the window's rows (sum,
# sum of squares, count of valid pixels): moving one row down adds the entering row and
# subtracts the leaving one (O(1) per pixel, vectorised over columns). Along the row, a running
# window sum of these column sums gives the horizontal sums (O(1) per pixel). Pixels outside
# the raster, NaN and +-inf pixels contribute nothing (count 0): at the edges the statistics
# are over the valid in-raster part of the window.
#
# Precision: sums are float64, and every ANCHOR rows (columns) the running sums are recomputed
# directly from the window, so rounding left behind by a bright pixel that has left the window
# cannot pile up over a long row or column. Because anchors sit at fixed offsets from where a
# band (or dask chunk) starts, dask and numpy agree to float32 rounding, not always bit for bit.

MODE_BOXCAR = 0
MODE_LEE = 1
#: rows / columns between direct recomputations of the running sums
ANCHOR = 64


@njit_serial
def _col_add(row, sign, cs, cq, cc, need_q):
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
def _col_add_sub(row_in, row_out, cs, cq, cc, need_q):
    """Column sums += row_in - row_out (valid values only), one pass."""
    for j in range(row_in.shape[0]):
        a = np.float64(row_in[j])
        b = np.float64(row_out[j])
        oka = np.abs(a) < np.inf
        okb = np.abs(b) < np.inf
        a = a if oka else 0.0
        b = b if okb else 0.0
        cs[j] += a - b
        cc[j] += (1.0 if oka else 0.0) - (1.0 if okb else 0.0)
    if need_q:
        for j in range(row_in.shape[0]):
            a = np.float64(row_in[j])
            b = np.float64(row_out[j])
            a = a if np.abs(a) < np.inf else 0.0
            b = b if np.abs(b) < np.inf else 0.0
            cq[j] += a * a - b * b


@njit_serial
def _col_direct(x, i, r, cs, cq, cc, need_q):
    """Column sums over rows i - r .. i + r (clipped to the raster), from scratch."""
    H = x.shape[0]
    cs[:] = 0.0
    cq[:] = 0.0
    cc[:] = 0.0
    for ii in range(max(0, i - r), min(H, i + r + 1)):
        _col_add(x[ii], 1.0, cs, cq, cc, need_q)


@njit_serial
def _row_window_sums(cpad, r, W, h):
    """h[j] = sum(cpad[j : j + 2r + 1]) for j < W (cpad: column sums with r zeros each side)."""
    w = 2 * r + 1
    for j0 in range(0, W, ANCHOR):
        acc = 0.0
        for k in range(j0, j0 + w):
            acc += cpad[k]
        h[j0] = acc
        for j in range(j0 + 1, min(W, j0 + ANCHOR)):
            acc += cpad[j + w - 1] - cpad[j - 1]
            h[j] = acc


@njit_serial
def _row_window_sums3(sp, qp, cp, r, W, hs, hq, hc):
    """:func:`_row_window_sums` of three rows at once (three independent add chains)."""
    w = 2 * r + 1
    for j0 in range(0, W, ANCHOR):
        a = 0.0
        q = 0.0
        c = 0.0
        for k in range(j0, j0 + w):
            a += sp[k]
            q += qp[k]
            c += cp[k]
        hs[j0] = a
        hq[j0] = q
        hc[j0] = c
        for j in range(j0 + 1, min(W, j0 + ANCHOR)):
            a += sp[j + w - 1] - sp[j - 1]
            q += qp[j + w - 1] - qp[j - 1]
            c += cp[j + w - 1] - cp[j - 1]
            hs[j] = a
            hq[j] = q
            hc[j] = c


@njit_parallel
def window_filter(x, r, mode, cu2, scratch, out):
    """Boxcar mean (mode 0) or Lee filter (mode 1) over a (2r+1)^2 window.

    x: 2-D float array (NaN/inf = nodata). scratch: float64 (nbands, 6, W + 2r) from
    :func:`window_scratch`. out: float32, same shape as x. A nodata centre gives NaN.
    Lee: see ``_scalar.lee_value`` (same formula; the weight is evaluated in float32 after the
    float64 mean and variance, so that it vectorises).
    """
    H, W = x.shape
    nb = scratch.shape[0]
    band = (H + nb - 1) // nb
    need_q = mode == MODE_LEE
    inv = np.float32(1.0 / (1.0 + cu2))
    cu2f = np.float32(cu2)
    zero = np.float32(0.0)
    one = np.float32(1.0)
    for b in numba.prange(nb):
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
        cs = sp[r:r + W]
        cq = qp[r:r + W]
        cc = cp[r:r + W]
        hs = scratch[b, 3, :W]
        hq = scratch[b, 4, :W]
        hc = scratch[b, 5, :W]
        for i in range(i0, i1):
            if (i - i0) % ANCHOR == 0:
                _col_direct(x, i, r, cs, cq, cc, need_q)
            else:
                enter = i + r
                leave = i - r - 1
                if enter < H and leave >= 0:
                    _col_add_sub(x[enter], x[leave], cs, cq, cc, need_q)
                elif enter < H:
                    _col_add(x[enter], 1.0, cs, cq, cc, need_q)
                elif leave >= 0:
                    _col_add(x[leave], -1.0, cs, cq, cc, need_q)
            xi = x[i]
            oi = out[i]
            if mode == MODE_BOXCAR:
                _row_window_sums(sp, r, W, hs)
                _row_window_sums(cp, r, W, hc)
                for j in range(W):
                    n = hc[j]
                    v = xi[j]
                    ok = (np.abs(v) < np.inf) & (n > 0.5)
                    oi[j] = hs[j] / n if ok else np.nan
            else:
                _row_window_sums3(sp, qp, cp, r, W, hs, hq, hc)
                for j in range(W):
                    n = hc[j]
                    rc = 1.0 / n
                    m64 = hs[j] * rc
                    var_y = np.float32(hq[j] * rc - m64 * m64)
                    m = np.float32(m64)
                    var_x = (var_y - m * m * cu2f) * inv
                    k = min(max(var_x / var_y, zero), one)
                    k = k if var_y > zero else zero
                    v = np.float32(xi[j])
                    ok = (np.abs(v) < np.inf) & (n > 0.5)
                    oi[j] = m + k * (v - m) if ok else np.nan


def window_scratch(shape, r, nbands=None):
    """Scratch buffer for :func:`window_filter` (allocated by numpy, outside numba)."""
    H, W = shape
    if nbands is None:
        nbands = numba.get_num_threads() * 4
    # bands of at least 4 windows of rows keep the per-band warm-up (2r rows) cheap
    nbands = max(1, min(nbands, H // (4 * (2 * r + 1))))
    return np.empty((nbands, 6, W + 2 * r), dtype=np.float64)


@njit_parallel
def refined_lee(x, cu2, out):
    """Lee (1981) refined filter, 7 x 7 edge-aligned windows (see ``_scalar.refined_lee_value``)."""
    H, W = x.shape
    for i in numba.prange(H):
        for j in range(W):
            out[i, j] = refined_lee_value(x, i, j, cu2)
