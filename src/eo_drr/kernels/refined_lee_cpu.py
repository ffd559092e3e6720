"""Numba CPU kernel of the Lee (1981) refined speckle filter: 7 x 7 edge-aligned windows
(the scalar rules, shared with the GPU kernel: :mod:`eo_drr.kernels._scalar`).

Each band of rows (on threads, ``_jit.threaded``) keeps the 3 x 3 sub-window means of five
consecutive rows in a ring (:func:`refined_scratch`), finds the edge direction of every pixel
of a row from them in a loop of its own, then sums each pixel's half window. The kernel writes
into an ``out`` array that the caller allocated with numpy; NaN and +-inf mark nodata.
Issue 21: the means inside the raster and the directions of a row vectorise (about 1.2x the
former kernel on one thread). The half-window sums, 28 float64 additions per pixel in a
fixed order that the results depend on, were latency-bound (one chain of dependent additions
per pixel); the pixels of a row are now grouped by direction and summed four at a time (four
independent chains, the same order within each), without the validity selects where the
seven rows of the window hold no NaN or infinity: about 1.7x the former kernel on one
thread, bit-identical (``tests/test_refined_lee_identity.py`` keeps the former kernel).
"""

from __future__ import annotations

import numba
import numpy as np

from eo_drr.kernels._jit import njit_inner, threaded
from eo_drr.kernels._scalar import (
    _mean3,
    direction_from_means,
    kuan_value,
    refined_lee_in_direction,
)


@njit_inner
def _refined_interior(x, i, j, span, cu2):
    """``refined_lee_in_direction`` for a pixel at least 3 from the raster edge: ``span``
    (7 x 2) gives, per window row, the first and last column offset inside the half window
    (``direction_spans``), so only its 28 pixels are read. Same summation order as the full
    7 x 7 loop (row-major), so the sums are identical to it."""
    s = 0.0
    q = 0.0
    c = 0.0
    for di in range(7):
        row = x[i - 3 + di]
        for jj in range(j + span[di, 0], j + span[di, 1] + 1):
            u = np.float64(row[jj])
            ok = np.abs(u) < np.inf
            u = u if ok else 0.0
            s += u
            q += u * u
            c += 1.0 if ok else 0.0
    return kuan_value(np.float64(x[i, j]), s, q, c, cu2)


def direction_spans():
    """(9, 7, 2) int64: per direction code (``_scalar._in_direction``) and window row
    (di = -3 .. 3), the first and last column offset dj inside the half window (last < first:
    the row is outside it)."""
    w = direction_weights()
    out = np.zeros((9, 7, 2), dtype=np.int64)
    for d in range(9):
        for r in range(7):
            cols = np.flatnonzero(w[d, r]) - 3
            if cols.size:
                assert np.array_equal(cols, np.arange(cols[0], cols[-1] + 1))  # contiguous
                out[d, r] = cols[0], cols[-1]
            else:
                out[d, r] = 1, 0
    return out


def direction_weights():
    """(9, 7, 7) float64: 1 inside the half window of each direction code (``_in_direction``)."""
    di, dj = np.mgrid[-3:4, -3:4]
    masks = [
        dj <= 0,
        dj >= 0,
        di <= 0,
        di >= 0,
        dj >= di,
        dj <= di,
        di + dj <= 0,
        di + dj >= 0,
        np.ones((7, 7), bool),
    ]
    return np.array(masks, dtype=np.float64)


@threaded(lambda *a: a[2].shape[0])
def refined_lee(start, stop, x, cu2, ring, cols, counts, bad, spans, out):
    """Lee (1981) refined filter, 7 x 7 edge-aligned windows (see ``_scalar``). The weight
    over the half window is ``_scalar.kuan_value``'s, i.e. Kuan's gain (``speckle_cpu.MODE_KUAN``).

    ``spans``: :func:`direction_spans`. ``ring``, ``cols``, ``counts``, ``bad``: scratch from
    :func:`refined_scratch`, one slot per band of rows. ``ring`` (nbands, 6, W + 4) float64:
    the 3 x 3 sub-window means (``_scalar._mean3``, same summation order as the GPU kernel,
    so results are identical) of 5 consecutive rows, for columns -2 .. W + 1: one new row of
    means per output row instead of nine means per pixel; its sixth row holds the edge
    direction of each pixel of the current row. ``cols`` (nbands, 9, W) int64 and ``counts``
    (nbands, 9) int64: the interior pixels of the row by direction; ``bad`` (nbands, rows of
    a band + 6) uint8: 1 for each row of the band and its three neighbours on either side
    that holds a NaN or an infinity.
    """
    H, W = x.shape
    nb = ring.shape[0]
    band = (H + nb - 1) // nb
    for b in range(start, stop):
        i0 = b * band
        i1 = min(H, i0 + band)
        if i0 >= i1:
            continue
        rg = ring[b]
        dirs = rg[5]
        cb = cols[b]
        cnt = counts[b]
        bd = bad[b]
        for k in range(i0 - 3, min(H, i1 + 3)):
            bd[k - i0 + 3] = _row_bad(x, k) if k >= 0 else 0
        for k in range(i0 - 2, i0 + 2):
            _means_row(x, k, rg[k % 5])
        for i in range(i0, i1):
            _means_row(x, i + 2, rg[(i + 2) % 5])
            _directions_row(rg[(i - 2) % 5], rg[i % 5], rg[(i + 2) % 5], dirs)
            xi = x[i]
            oi = out[i]
            inner = 3 <= i < H - 3
            for d in range(9):
                cnt[d] = 0
            for j in range(W):
                if not abs(xi[j]) < np.inf:  # ``is_valid``, written out: compiled once less
                    oi[j] = np.nan
                    continue
                direction = np.int64(dirs[j])
                if inner and 3 <= j < W - 3:
                    cb[direction, cnt[direction]] = j
                    cnt[direction] += 1
                else:
                    oi[j] = refined_lee_in_direction(x, i, j, direction, cu2)
            if not inner:
                continue
            r = i - i0 + 3
            clean = (bd[r - 3] | bd[r - 2] | bd[r - 1] | bd[r] | bd[r + 1] | bd[r + 2]) == 0
            clean &= bd[r + 3] == 0
            for d in range(9):
                _direction_group(x, i, cb[d], cnt[d], spans[d], cu2, clean, oi)


@njit_inner
def _row_bad(x, k):
    """1 where row ``k`` of ``x`` holds a NaN or an infinity, else 0 (a sum, so it
    vectorises)."""
    n = 0
    row = x[k]
    for j in range(row.size):
        n += not (abs(row[j]) < np.inf)
    return np.uint8(1) if n else np.uint8(0)


@njit_inner
def _direction_group(x, i, js, n, span, cu2, clean, oi):
    """The ``n`` interior pixels ``js[:n]`` of row ``i`` whose half window is ``span``: four
    at a time (:func:`_interior4`), the rest one by one (:func:`_refined_interior`)."""
    t = 0
    while t + 4 <= n:
        _interior4(x, i, js, t, span, cu2, clean, oi)
        t += 4
    while t < n:
        j = js[t]
        oi[j] = _refined_interior(x, i, j, span, cu2)
        t += 1


@njit_inner
def _add(u, s, q, c, clean):
    """One pixel ``u`` into a half window's sums: as :func:`_refined_interior` adds it, the
    validity selects left out where the window is ``clean`` (no NaN or infinity in its rows,
    so that they select ``u`` and 1.0 anyway)."""
    if clean:
        return s + u, q + u * u, c + 1.0
    ok = np.abs(u) < np.inf
    u = u if ok else 0.0
    return s + u, q + u * u, c + (1.0 if ok else 0.0)


@njit_inner
def _interior4(x, i, js, t, span, cu2, clean, oi):
    """:func:`_refined_interior` of the four pixels ``js[t:t + 4]`` of row ``i``, which share
    the half window ``span``: four independent chains of additions, each in the order of
    :func:`_refined_interior`, so the sums are its sums (unsigned indices: no wraparound
    test)."""
    j0 = np.uint64(js[t])
    j1 = np.uint64(js[t + 1])
    j2 = np.uint64(js[t + 2])
    j3 = np.uint64(js[t + 3])
    three = np.uint64(3)
    b0, b1, b2, b3 = j0 - three, j1 - three, j2 - three, j3 - three  # interior: j >= 3
    s0 = q0 = c0 = s1 = q1 = c1 = s2 = q2 = c2 = s3 = q3 = c3 = 0.0
    for di in range(7):
        row = x[np.uint64(i - 3 + di)]
        for o in range(np.uint64(span[di, 0] + 3), np.uint64(span[di, 1] + 4)):
            s0, q0, c0 = _add(np.float64(row[o + b0]), s0, q0, c0, clean)
            s1, q1, c1 = _add(np.float64(row[o + b1]), s1, q1, c1, clean)
            s2, q2, c2 = _add(np.float64(row[o + b2]), s2, q2, c2, clean)
            s3, q3, c3 = _add(np.float64(row[o + b3]), s3, q3, c3, clean)
    xi = x[np.uint64(i)]
    oi[j0] = kuan_value(np.float64(xi[j0]), s0, q0, c0, cu2)
    oi[j1] = kuan_value(np.float64(xi[j1]), s1, q1, c1, cu2)
    oi[j2] = kuan_value(np.float64(xi[j2]), s2, q2, c2, cu2)
    oi[j3] = kuan_value(np.float64(xi[j3]), s3, q3, c3, cu2)


@njit_inner
def _means_row(x, k, dst):
    """dst[jj + 2] = _mean3(x, k, jj) for jj = -2 .. W + 1. Inside the raster the same
    additions in the same order, without ``_mean3``'s border tests and with selects for its
    validity branch, so that the loop vectorises (issue 21: 10 -> 3 ms a megapixel)."""
    H, W = x.shape
    if k < 1 or k > H - 2 or W < 3:
        for jj in range(-2, W + 2):
            dst[jj + 2] = _mean3(x, k, jj)
        return
    for jj in (-2, -1, 0, W - 1, W, W + 1):
        dst[jj + 2] = _mean3(x, k, jj)
    for jj in range(1, W - 1):
        s = 0.0
        c = 0.0
        for a in range(k - 1, k + 2):
            row = x[a]
            for b in range(jj - 1, jj + 2):
                v = np.float64(row[b])
                ok = np.abs(v) < np.inf
                s += v if ok else 0.0  # adds +0.0: s is never -0.0, so s is unchanged
                c += 1.0 if ok else 0.0
        dst[jj + 2] = s / c if c > 0.0 else np.nan


@njit_inner
def _directions_row(top, mid, bot, dirs):
    """dirs[j]: ``direction_from_means`` of the sub-window means around column j (ring
    columns j .. j + 4), for the whole row in one loop apart from the filter itself, which
    lets it vectorise (issue 21: 19 -> 2 ms a megapixel); codes as float64 (the ring's row)."""
    for j in range(dirs.size - 4):
        c = j + 2
        dirs[j] = direction_from_means(
            top[c - 2],
            top[c],
            top[c + 2],
            mid[c - 2],
            mid[c],
            mid[c + 2],
            bot[c - 2],
            bot[c],
            bot[c + 2],
        )


def refined_scratch(shape, nbands=None):
    """Scratch buffers ``(ring, cols, counts, bad)`` for :func:`refined_lee` (allocated by
    numpy, outside numba)."""
    H, W = shape
    if nbands is None:
        nbands = numba.get_num_threads() * 4
    nbands = max(1, min(nbands, H // 16))
    band = -(-H // nbands)
    return (
        np.empty((nbands, 6, W + 4), dtype=np.float64),
        np.empty((nbands, 9, W), dtype=np.int64),
        np.empty((nbands, 9), dtype=np.int64),
        np.empty((nbands, band + 6), dtype=np.uint8),
    )
