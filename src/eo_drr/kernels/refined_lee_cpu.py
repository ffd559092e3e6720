"""Numba CPU kernel of the Lee (1981) refined speckle filter: 7 x 7 edge-aligned windows
(the scalar rules, shared with the GPU kernel: :mod:`eo_drr.kernels._scalar`).

Each band of rows (on threads, ``_jit.threaded``) keeps the 3 x 3 sub-window means of five
consecutive rows in a ring (:func:`refined_scratch`), finds the edge direction of every pixel
of a row from them in a loop of its own, then sums each pixel's half window. The kernel writes
into an ``out`` array that the caller allocated with numpy; NaN and +-inf mark nodata.
Issue 21: the means inside the raster and the directions of a row vectorise (about 1.2x the
former kernel on one thread, bit-identical: ``tests/test_refined_lee_identity.py`` keeps it).
The half-window sums, 28 float64 additions per pixel in a fixed order that the results depend
on, are most of the time: one chain of dependent additions per pixel, bound by the latency of
an addition. :func:`refined_lee_grouped` groups the pixels of a row by direction and sums two
at a time (two independent chains, each in the same order), without the validity selects in
rows whose windows hold no NaN or infinity: 1.6-1.7x :func:`refined_lee` at 2048 x 2048 on 2
threads, bit-identical, but about 1.7 s more numba compilation on a cold cache, so rasters
from :data:`GROUPED_FROM` pixels take it and smaller ones (the demo's 1 Mpx, 1024 px tiles)
:func:`refined_lee`: a cold first demo run compiles no more than before.
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

#: rasters of at least this many pixels go to :func:`refined_lee_grouped` (module docstring)
GROUPED_FROM = 1 << 21


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
def refined_lee(start, stop, x, cu2, ring, spans, out):
    """Lee (1981) refined filter, 7 x 7 edge-aligned windows (see ``_scalar``). The weight
    over the half window is ``_scalar.kuan_value``'s, i.e. Kuan's gain (``speckle_cpu.MODE_KUAN``).

    ``spans``: :func:`direction_spans`.
    ``ring``: float64 scratch (nbands, 6, W + 4) from :func:`refined_scratch`. Each band of
    rows keeps the 3 x 3 sub-window means (``_scalar._mean3``, same summation order as the GPU
    kernel, so results are identical) of 5 consecutive rows, for columns -2 .. W + 1: one new
    row of means per output row instead of nine means per pixel; its sixth row holds the
    edge direction of each pixel of the current row.
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
        for k in range(i0 - 2, i0 + 2):
            _means_row(x, k, rg[k % 5])
        for i in range(i0, i1):
            _means_row(x, i + 2, rg[(i + 2) % 5])
            _directions_row(rg[(i - 2) % 5], rg[i % 5], rg[(i + 2) % 5], dirs)
            xi = x[i]
            oi = out[i]
            for j in range(W):
                if not abs(xi[j]) < np.inf:  # ``is_valid``, written out: compiled once less
                    oi[j] = np.nan
                    continue
                direction = np.int64(dirs[j])
                if 3 <= i < H - 3 and 3 <= j < W - 3:
                    oi[j] = _refined_interior(x, i, j, spans[direction], cu2)
                else:
                    oi[j] = refined_lee_in_direction(x, i, j, direction, cu2)


@threaded(lambda *a: a[2].shape[0])
def refined_lee_grouped(start, stop, x, cu2, ring, cols, counts, bad, spans, out):
    """:func:`refined_lee` with the pixels of a row grouped by direction and summed two at a
    time (:func:`_interior2`) in rows whose windows hold no NaN or infinity: the same sums in
    the same order, bit-identical (``tests/test_refined_lee_identity.py``).

    ``spans``: :func:`direction_spans`. ``ring``, ``cols``, ``counts``, ``bad``: scratch from
    :func:`grouped_scratch`, one slot per band of rows; ``ring`` as in :func:`refined_lee`;
    ``cols`` (nbands, 9, W) int64 and ``counts``
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
    """The ``n`` interior pixels ``js[:n]`` of row ``i`` whose half window is ``span``: in a
    ``clean`` row two at a time (:func:`_interior2`), else (and the last) one by one
    (:func:`_refined_interior`)."""
    two = n - n % 2 if clean else 0
    for t in range(0, two, 2):  # loop variables: one signature of _interior2 (no literal 0)
        _interior2(x, i, js[t], js[t + 1], span, cu2, oi)
    for t in range(two, n):
        j = js[t]
        oi[j] = _refined_interior(x, i, j, span, cu2)


@njit_inner
def _interior2(x, i, ja, jb, span, cu2, oi):
    """:func:`_refined_interior` of the pixels ``ja`` and ``jb`` of row ``i``, which share the
    half window ``span``, in a row whose window holds no NaN or infinity (the validity
    selects of :func:`_refined_interior` would select each value and 1.0): two independent
    chains of additions, each in the order of :func:`_refined_interior`, so the sums are its
    sums (unsigned indices: no wraparound test)."""
    a = np.uint64(ja - 3)  # interior: j >= 3
    b = np.uint64(jb - 3)
    sa = qa = ca = sb = qb = cb = 0.0
    for di in range(7):
        row = x[np.uint64(i - 3 + di)]
        for o in range(np.uint64(span[di, 0] + 3), np.uint64(span[di, 1] + 4)):
            u = np.float64(row[o + a])
            v = np.float64(row[o + b])
            sa += u
            qa += u * u
            ca += 1.0
            sb += v
            qb += v * v
            cb += 1.0
    xi = x[np.uint64(i)]
    oi[ja] = kuan_value(np.float64(xi[ja]), sa, qa, ca, cu2)
    oi[jb] = kuan_value(np.float64(xi[jb]), sb, qb, cb, cu2)


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
    """Scratch buffer for :func:`refined_lee` (allocated by numpy, outside numba)."""
    H, W = shape
    if nbands is None:
        nbands = numba.get_num_threads() * 4
    nbands = max(1, min(nbands, H // 16))
    return np.empty((nbands, 6, W + 4), dtype=np.float64)


def grouped_scratch(shape, nbands=None):
    """Scratch buffers ``(ring, cols, counts, bad)`` for :func:`refined_lee_grouped`
    (allocated by numpy, outside numba)."""
    ring = refined_scratch(shape, nbands)
    nb, H, W = ring.shape[0], shape[0], shape[1]
    return (
        ring,
        np.empty((nb, 9, W), dtype=np.int64),
        np.empty((nb, 9), dtype=np.int64),
        np.empty((nb, -(-H // nb) + 6), dtype=np.uint8),
    )
