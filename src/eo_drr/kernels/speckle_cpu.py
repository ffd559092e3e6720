"""Numba CPU kernels for SAR speckle filters: boxcar mean, Lee (1980) and Kuan (1985)
filters over square windows (the Lee (1981) refined filter over edge-aligned windows:
:mod:`eo_drr.kernels.refined_lee_cpu`).

Every kernel writes into an ``out`` array that the caller allocated with numpy; scratch
buffers come from :func:`window_scratch` (numpy, outside numba).
Kernels work on 2-D arrays, bands of rows on threads (``_jit.threaded``); NaN and +-inf mark nodata.

Windowed filters use separable running sums: each parallel band of rows keeps, for every
column, the sums over the window's rows (sum and sum of squares in float64, count of valid
pixels in float32, exact for these small integers): moving one row down adds the entering row
and subtracts the leaving one in one pass over the columns (O(1) per pixel, vectorised).
Along the row, each window sum is a direct left-to-right sum of the 2r + 1 column sums (no
running sum), in the loop that writes the output pixel (:func:`_out_span`: the window sums
never go through memory; one compiled loop per window width 3, 5, 7, 9); wider windows first
sum their first 2r - 7 columns in passes over the row (:func:`_row_window_sums`). Where every
window of a row lies in the raster and holds only valid pixels (:func:`_full`), the count
(2r + 1)**2 is not summed. Pixels outside the raster, NaN and +-inf pixels contribute nothing
(count 0): at the edges the statistics are over the valid in-raster part of the window.

Precision: sums are float64; along a row they are direct window sums (no running sum), and
every ANCHOR rows the running column sums are recomputed directly from the window, so
rounding left behind by a bright pixel that has left the window cannot pile up down a long
column. Because anchors sit at fixed offsets from where a band (or dask chunk) starts, dask
and numpy agree to float32 rounding, not always bit for bit. Issue 21 made these filters about
twice as fast with bit-identical outputs (tests/test_kernels_speckle_identity.py keeps the
former kernel as reference): every floating-point operation, and the order of the additions
(fast-math ``reassoc`` had compiled the former row sums as left-to-right sums), is unchanged.
"""

from __future__ import annotations

import numba
import numpy as np

from eo_drr.kernels._jit import njit_inner, threaded

MODE_BOXCAR = 0
#: Lee's gain, W = 1 - Cu**2 / Ci**2 clipped to [0, 1] (Lee 1980; Lopes et al. 1990)
MODE_LEE = 1
#: Kuan's gain, W = (1 - Cu**2 / Ci**2) / (1 + Cu**2) clipped at 0 (Kuan et al. 1985)
MODE_KUAN = 2
#: rows between direct recomputations of the running column sums
ANCHOR = 64


@njit_inner
def _col_add(row, sign, cs, cq, cc, need_q):
    """Column sums += sign * (valid values, their squares, 1) of ``row``."""
    signf = np.float32(sign)
    zero = np.float32(0.0)
    if need_q:
        for j in range(row.shape[0]):
            v = np.float64(row[j])
            ok = np.abs(v) < np.inf
            v = v if ok else 0.0
            cs[j] += sign * v
            cq[j] += sign * (v * v)
            cc[j] += signf if ok else zero
    else:
        for j in range(row.shape[0]):
            v = np.float64(row[j])
            ok = np.abs(v) < np.inf
            v = v if ok else 0.0
            cs[j] += sign * v
            cc[j] += signf if ok else zero


@njit_inner
def _col_add_sub(row_in, row_out, cs, cq, cc, need_q):
    """Column sums += row_in - row_out (valid values only), one pass."""
    one = np.float32(1.0)
    zero = np.float32(0.0)
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
            cc[j] += (one if oka else zero) - (one if okb else zero)
    else:
        for j in range(row_in.shape[0]):
            a = np.float64(row_in[j])
            b = np.float64(row_out[j])
            oka = np.abs(a) < np.inf
            okb = np.abs(b) < np.inf
            a = a if oka else 0.0
            b = b if okb else 0.0
            cs[j] += a - b
            cc[j] += (one if oka else zero) - (one if okb else zero)


@njit_inner
def _col_sums(x, i, anchor, r, cs, cq, cc, need_q):
    """Column sums (cs, cq: float64; cc: float32) over rows i - r .. i + r (clipped to the
    raster) from those of row i - 1, or from scratch where ``anchor``."""
    H = x.shape[0]
    if anchor:
        cs[:] = 0.0
        cq[:] = 0.0
        cc[:] = 0.0
        for ii in range(max(0, i - r), min(H, i + r + 1)):
            _col_add(x[ii], 1.0, cs, cq, cc, need_q)
        return
    enter = i + r
    leave = i - r - 1
    if enter < H and leave >= 0:
        _col_add_sub(x[enter], x[leave], cs, cq, cc, need_q)
    elif enter < H:
        _col_add(x[enter], 1.0, cs, cq, cc, need_q)
    elif leave >= 0:
        _col_add(x[leave], -1.0, cs, cq, cc, need_q)


@njit_inner
def _mmse(s, q, n, v, cu2f, scale):
    """Lee/Kuan estimate (float32) of the centre ``v`` from window sums s, q and count n
    (float64); see :func:`window_filter`. The weight is float32 so that it vectorises."""
    zero = np.float32(0.0)
    one = np.float32(1.0)
    rc = 1.0 / n
    m64 = s * rc
    var_y = np.float32(q * rc - m64 * m64)
    mf = np.float32(m64)
    num = (var_y - mf * mf * cu2f) * scale
    k = min(max(num / var_y, zero), one)
    k = k if var_y > zero else zero
    v = np.float32(v)
    ok = (np.abs(v) < np.inf) & (n > 0.5)
    return mf + k * (v - mf) if ok else np.float32(np.nan)


@njit_inner
def _mean(s, n, v):
    """Boxcar mean s / n of the window; NaN for a nodata centre or an empty window."""
    ok = (np.abs(v) < np.inf) & (n > 0.5)
    return s / n if ok else np.nan


@njit_inner
def _out_span(taps, ps, sp, pq, qp, pc, cp, xi, oi, lo, hi, nfull, mode, cu2f, scale):
    """oi[lo:hi]. The window sums of pixel j are left-to-right sums ps[j] + sp[j + 1] + ... +
    sp[j + len(taps) - 1] (sum; sum of squares from pq, qp; count from pc, cp, or ``nfull``
    if > 0) in the loop that writes oi[j]: ``taps`` is a tuple whose length is a compile-time
    constant, so the inner loop unrolls and the loop over j vectorises."""
    ps, sp, pq, qp, pc, cp = ps[lo:], sp[lo:], pq[lo:], qp[lo:], pc[lo:], cp[lo:]
    xi = xi[lo:hi]
    oi = oi[lo:hi]
    if mode == MODE_BOXCAR:
        for j in range(oi.size):
            s = ps[j]
            n = pc[j]
            for k in range(1, len(taps)):
                s = s + sp[j + k]
                n = n + cp[j + k]
            oi[j] = _mean(s, np.float64(n), xi[j])
    elif nfull > 0.0:
        for j in range(oi.size):
            s = ps[j]
            q = pq[j]
            for k in range(1, len(taps)):
                s = s + sp[j + k]
                q = q + qp[j + k]
            oi[j] = _mmse(s, q, nfull, xi[j], cu2f, scale)
    else:
        for j in range(oi.size):
            s = ps[j]
            q = pq[j]
            n = pc[j]
            for k in range(1, len(taps)):
                s = s + sp[j + k]
                q = q + qp[j + k]
                n = n + cp[j + k]
            oi[j] = _mmse(s, q, np.float64(n), xi[j], cu2f, scale)


@njit_inner
def _full(cc, w):
    """Does every column count w valid pixels? (each count <= w; a float64 sum of these
    small integers is exact)"""
    tot = 0.0
    for j in range(cc.size):
        tot += np.float64(cc[j])
    return tot == np.float64(w) * cc.size


@njit_inner
def _row_window_sums(cpad, w, hb):
    """hb[j] = cpad[j] + ... + cpad[j + w - 1], left to right (w >= 3 odd), for j < hb.size:
    one pass for the first 3 column offsets, one per further 4 (and 2)."""
    for j in range(hb.size):
        hb[j] = cpad[j] + cpad[j + 1] + cpad[j + 2]
    k = 3
    while k + 4 <= w:
        d = cpad[k:]
        for j in range(hb.size):
            hb[j] = hb[j] + d[j] + d[j + 1] + d[j + 2] + d[j + 3]
        k += 4
    if k < w:
        d = cpad[k:]
        for j in range(hb.size):
            hb[j] = hb[j] + d[j] + d[j + 1]


def window_filter(x, r, mode, cu2, scratch, out):
    """Boxcar mean (``MODE_BOXCAR``), Lee filter (``MODE_LEE``) or Kuan filter (``MODE_KUAN``)
    over a (2r+1)^2 window.

    x: 2-D float array (NaN/inf = nodata). scratch: float64 (nbands, 6, W + 2r) from
    :func:`window_scratch` (padded column sums, then window sums of the first columns for
    windows wider than 9). out: float32, same shape as x. A nodata centre gives NaN.
    With the window mean m, variance var_y and ``cu2`` = Cu**2 = 1 / ENL, both speckle filters
    give ``m + k * (x - m)`` with ``k = clip((var_y - m**2 * cu2) * scale / var_y, 0, 1)``
    (k = 0 where var_y <= 0): ``scale = 1`` for Lee (k = 1 - Cu**2 / Ci**2), ``scale =
    1 / (1 + cu2)`` for Kuan (k = (1 - Cu**2 / Ci**2) / (1 + Cu**2), the formula of
    ``_scalar.kuan_value``). The weight is evaluated in float32 after the float64 mean and
    variance, so that it vectorises.
    """
    # one compiled kernel per number of terms of the window sums along the row, and one
    # with the passes of windows wider than 9 (``wide`` None: numba leaves them out)
    w = 2 * r + 1
    _window_kernel(x, r, mode, cu2, scratch, out, (0,) * min(w, 9), True if w > 9 else None)


@threaded(lambda *a: a[4].shape[0])
def _window_kernel(start, stop, x, r, mode, cu2, scratch, out, taps, wide):
    """:func:`window_filter`; ``taps``: a tuple of min(2r + 1, 9) elements (:func:`_out_span`),
    ``wide``: True for 2r + 1 > 9, else None."""
    H, W = x.shape
    nb = scratch.shape[0]
    band = (H + nb - 1) // nb
    need_q = mode != MODE_BOXCAR
    # Kuan divides Lee's gain by (1 + Cu**2); multiplying by 1 leaves Lee's bits unchanged
    scale = np.float32(1.0 / (1.0 + cu2)) if mode == MODE_KUAN else np.float32(1.0)
    cu2f = np.float32(cu2)
    w = 2 * r + 1
    nfull = np.float64(w * w)
    for b in range(start, stop):
        i0 = b * band
        i1 = min(H, i0 + band)
        if i0 >= i1:
            continue
        # column sums live in the middle of zero-padded rows: cpad[r + j] is column j
        sp = scratch[b, 0]
        qp = scratch[b, 1]
        cp = scratch[b, 2].view(np.float32)[: W + 2 * r]
        sp[:] = 0.0
        qp[:] = 0.0
        cp[:] = 0.0
        cs = sp[r : r + W]
        cq = qp[r : r + W]
        cc = cp[r : r + W]
        hs = scratch[b, 3, :W]
        hq = scratch[b, 4, :W]
        hc = scratch[b, 5].view(np.float32)[:W]
        for i in range(i0, i1):
            _col_sums(x, i, (i - i0) % ANCHOR == 0, r, cs, cq, cc, need_q)
            # w > 9: the sums over the first w - 8 columns first, then the last 8 columns
            ps, pq, pc = sp, qp, cp
            if wide is not None:
                ps, pq, pc = hs, hq, hc
                _row_window_sums(sp, w - 8, hs)
                _row_window_sums(cp, w - 8, hc)
                if need_q:
                    _row_window_sums(qp, w - 8, hq)
            k = w - len(taps)
            s, q, c = sp[k:], qp[k:], cp[k:]
            # all windows of the row inside the raster and full of valid pixels: count w * w
            # (part 0, the whole row), then the r pixels at each end again with their counts
            full = need_q and r <= i < H - r and W > 2 * r and _full(cc, w)
            for part in range(3 if full else 1):
                lo = W - r if part == 2 else 0
                hi = r if part == 1 else W
                nf = nfull if full and part == 0 else 0.0
                _out_span(taps, ps, s, pq, q, pc, c, x[i], out[i], lo, hi, nf, mode, cu2f, scale)


def window_scratch(shape, r, nbands=None):
    """Scratch buffer for :func:`window_filter` (allocated by numpy, outside numba)."""
    H, W = shape
    if nbands is None:
        nbands = numba.get_num_threads() * 4
    # bands of at least 4 windows of rows keep the per-band warm-up (2r rows) cheap
    nbands = max(1, min(nbands, H // (4 * (2 * r + 1))))
    return np.empty((nbands, 6, W + 2 * r), dtype=np.float64)
