"""Numba CPU kernels for histogram thresholding: finite min/max, histograms, tile histograms.

Bins follow ``numpy.histogram`` exactly for uniform bins: ``bins`` equal bins between
``lo`` and ``hi`` (edges from ``numpy.linspace``), half-open ``[e_k, e_k+1)`` except the last one,
which is closed; values outside ``[lo, hi]``, NaN and +-inf are not counted. The bin index is
computed with one multiply and then corrected against the edges, as numpy does, so no value
lands in a different bin than with numpy (values taken as float64: numpy 2 itself compares
float32 data with a range that is no float32 number in float32). Float32 data get that
multiply in float32 (16 values per vector instruction) where its error provably stays far
below a bin (:func:`_float32_params`); indices near an edge, within the error bound of the
arithmetic used, are re-checked either way. Whatever ``lo``, ``hi`` and values the kernels get
(NaN or infinite ones included), they never write outside their output: a value whose bin
cannot be computed goes to the "not counted" column.

Each parallel block of rows counts into its own private histogram (rows of the ``scratch``
array from the caller, several interleaved copies per block to break the store-to-load chain on
repeated bins); the caller sums them. Scratch arrays come from the caller (numpy), never from
numba.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from eo_drr.kernels._jit import njit_inner, njit_serial, threaded

#: interleaved private copies per block (breaks the dependency on runs of equal bins)
LANES = 4


@threaded(lambda *a: a[-1].shape[0])
def key_minmax(start, stop, keys, expm, expv, flip, shift, out):
    """Per-block (min, max) of the order keys of the finite values of ``keys`` into ``out``.

    ``keys``: the flat data as integers: integer data itself, float data viewed as the signed
    integers of its width (float32 as int32...). A value is not finite when
    ``bits & expm == expv`` (floats: ``expm = expv`` = the bits of +inf; integers: ``expm = 0,
    expv = 1``, never). Its order key is ``bits ^ ((bits >> shift) & flip)`` (floats:
    ``flip`` = the largest integer of the width, which makes the integer order the float
    order, -0.0 just below +0.0; integers: ``flip = 0``, the value itself). Integer min/max
    reductions vectorise where float ones with NaN checks do not (one read pass, issue 21).

    ``out``: (nblocks, 2) of the keys' dtype, filled by the caller with (max, min) of that
    dtype; a block with no finite value keeps them. ``expm``, ``expv``, ``flip`` and ``shift``
    (width - 1) are scalars of the keys' dtype (mixed signed/unsigned 64-bit would be float).
    """
    n = keys.size
    nb = out.shape[0]
    step = (n + nb - 1) // nb
    for b in range(start, stop):
        start = min(n, b * step)
        kb = keys[start : min(n, start + step)]
        top = out[b, 0]
        bottom = out[b, 1]
        lo = top
        hi = bottom
        for k in range(kb.size):
            v = kb[k]
            ok = (v & expm) != expv
            key = v ^ ((v >> shift) & flip)
            lo = min(lo, key if ok else top)
            hi = max(hi, key if ok else bottom)
        out[b, 0] = lo
        out[b, 1] = hi


#: elements per inner chunk of :func:`histogram` (its index buffer stays in L1)
CHUNK = 1024
#: least |fraction of a bin| below which an index is re-checked against the edges (float64)
EDGE_TOL = 1e-7
#: bit set in an index that must be re-checked against the edges
RECHECK = np.int32(1 << 30)


def _is_float32(x):  # pragma: no cover - replaced by the overload inside numba
    """True for a float32 array (a compile-time constant in numba)."""
    return x.dtype == np.float32


@overload(_is_float32, jit_options=dict(cache=True))  # type: ignore[typeddict-unknown-key]
def _is_float32_overload(x):
    flag = x.dtype == types.float32
    return lambda x: flag


@njit_serial
def _float32_params(lo, hi, bins):
    """(lo32, hi32, scale32, tol32, ok) for float32 values: ``lo32`` the smallest float32 >=
    ``lo`` and ``hi32`` the largest <= ``hi`` (so ``lo32 <= v <= hi32`` iff ``lo <= v <= hi``
    for a float32 v), the bin scale, and the bound on how far the float32 fractional bin
    ``(v - lo32) * scale32`` can be from the exact one (numpy's edges): 2**-23 scale |lo|
    (lo32), 3 2**-24 bins (a subtraction, the rounded scale, a multiply; the fraction is
    <= bins), 2**-51 scale (|lo| + |hi|) (linspace edges), taken 4 times over, with room for
    fast-math reassociation (which may turn the product into v scale - lo scale, still within
    2**-22 scale (|lo| + |hi|)). ``ok``: float32 is usable (finite, scale of a normal float32,
    tol <= 0.25)."""
    lo32 = np.float32(lo)
    if np.float64(lo32) < lo:
        lo32 = np.nextafter(lo32, np.float32(np.inf))
    hi32 = np.float32(hi)
    if np.float64(hi32) > hi:
        hi32 = np.nextafter(hi32, np.float32(-np.inf))
    scale = bins / (hi - lo)
    tol = 2.0**-21 * (scale * (abs(lo) + abs(hi)) + bins)
    ok = (2.0**-100 <= scale <= 2.0**100) & (tol <= 0.25) & (abs(lo) + abs(hi) <= 2.0**100)
    return lo32, hi32, np.float32(scale), np.float32(tol), ok


@njit_inner
def _index_chunk(xs, lo, hi, scale, tol, c, bins, buf):
    """Bin indices of the values ``xs`` (a slice, at most ``buf.size`` long) into
    buf[:xs.size] (bins + 1 for NaN / out of range), in the arithmetic of the constants
    ``c`` = (0, 1, bins, bins + 1, bins - 0.5): float32 for float32 values (parameters from
    :func:`_float32_params`), else float64.

    A branch-free, vectorised pass computes ``int((v - lo) * scale)``; an index whose
    fractional bin lies within ``tol`` of a bin edge gets the RECHECK bit, for :func:`_settle`
    to decide against the edges as numpy does. Every index is in [0, bins) or is bins + 1,
    whatever lo, hi and scale are: a value whose fractional bin ``(v - lo) * scale`` is NaN
    (an infinite or NaN range) is not counted. Counting the re-checks here instead, as a
    reduction, made LLVM vectorise this loop at half width (issue 21).
    """
    zero, one, fbins, dump, top = c
    mark = np.int32(RECHECK)
    none = np.int32(0)
    for t in range(xs.size):
        v = xs[t] + zero
        f = (v - lo) * scale
        ok = (v >= lo) & (v <= hi) & (f >= zero)  # False for NaN (value, range or bin)
        fi = min(f, top) if ok else dump
        d = fi - np.floor(fi)
        near = ok & ((d < tol) | (d > one - tol))  # NaN / out of range: not binned
        buf[t] = np.int32(fi) | (mark if near else none)


@njit_inner
def _settle(i, v, edges, bins):
    """The bin of value ``v`` from its index ``i`` (:func:`_index_chunk`): with RECHECK set,
    moved by one where ``v`` lies across the edges, as numpy does."""
    if i < RECHECK:
        return i
    i -= RECHECK
    v = np.float64(v)
    if v < edges[i]:
        i -= 1
    elif i < bins - 1 and v >= edges[i + 1]:
        i += 1
    return i if i >= 0 else np.int32(bins + 1)


@njit_inner
def _index(x, lo, hi, edges, bins, buf, fast, p32):
    """:func:`_index_chunk` of ``x`` in float32 (``fast``, parameters ``p32`` of
    :func:`_float32_params`) or float64."""
    if fast:
        f = np.float32(bins)
        c32 = (np.float32(0.0), np.float32(1.0), f, f + np.float32(1.0), f - np.float32(0.5))
        _index_chunk(x, p32[0], p32[1], p32[2], p32[3], c32, bins, buf)
    else:
        c64 = (0.0, 1.0, np.float64(bins), bins + 1.0, bins - 0.5)
        scale = bins / (hi - lo)
        # the float64 error, as _float32_params bounds the float32 one (ranges far from 0)
        tol = max(EDGE_TOL, 2.0**-50 * (abs(scale) * (abs(lo) + abs(hi)) + bins))
        _index_chunk(x, lo, hi, scale, tol, c64, bins, buf)


@threaded(lambda *a: a[4].shape[0])
def histogram(start, stop, x, lo, hi, edges, scratch, ibuf):
    """Counts of the flat array ``x`` into ``scratch`` (nblocks, LANES, bins + 2), zeroed here.

    Column ``bins + 1`` collects NaN and out-of-range values (the caller drops it; column
    ``bins`` stays 0). ``ibuf``: int32 (nblocks, CHUNK) scratch for bin indices.

    One pass: block ``b`` (one contiguous share of ``x``) counts into its private
    ``scratch[b]``, chunk by chunk: the bin indices of CHUNK values (:func:`_index_chunk`, on a
    slice so that it vectorises; float32 arithmetic for float32 data, 16 values per
    instruction, where :func:`_float32_params` allows), then a scatter pass that increments
    LANES interleaved copies of the histogram (so runs of equal bins do not wait on each
    other), settling the few marked indices (:func:`_settle`). The caller sums the private
    histograms. At 10980^2 float32 the float32 indices and the marks in place of a count took
    the kernel from 4.4 to 3.4 read passes (56 to 44 ms; the plainest loop of this work,
    ``benchmarks/_bounds.histogram_floor``: 2.1; issue 21).
    """
    n = x.size
    nb = scratch.shape[0]
    bins = scratch.shape[2] - 2
    if (
        scratch.shape[1] != LANES
        or ibuf.shape[1] < CHUNK
        or ibuf.shape[0] < nb
        or bins < 1
        or edges.size != bins + 1
    ):
        raise ValueError(
            "histogram: scratch (nblocks, LANES, bins + 2), ibuf (nblocks, CHUNK), edges (bins + 1)"
        )
    p32 = _float32_params(lo, hi, bins)
    fast = p32[4] and _is_float32(x)
    step = (n + nb - 1) // nb
    for b in range(start, stop):
        h = scratch[b]
        h[:, :] = 0
        h0 = h[0]  # LANES == 4, unrolled by hand
        h1 = h[1]
        h2 = h[2]
        h3 = h[3]
        buf = ibuf[b]
        start = min(n, b * step)
        stop = min(n, start + step)
        for c0 in range(start, stop, CHUNK):
            m = min(CHUNK, stop - c0)
            xs = x[c0 : c0 + m]
            _index(xs, lo, hi, edges, bins, buf, fast, p32)
            t = 0
            while t + 4 <= m:
                i0 = buf[t]
                i1 = buf[t + 1]
                i2 = buf[t + 2]
                i3 = buf[t + 3]
                if (i0 | i1 | i2 | i3) >= RECHECK:  # rare: one test for four
                    i0 = _settle(i0, xs[t], edges, bins)
                    i1 = _settle(i1, xs[t + 1], edges, bins)
                    i2 = _settle(i2, xs[t + 2], edges, bins)
                    i3 = _settle(i3, xs[t + 3], edges, bins)
                # unsigned indices: numba adds no negative-index wraparound
                h0[np.uint32(i0)] += 1
                h1[np.uint32(i1)] += 1
                h2[np.uint32(i2)] += 1
                h3[np.uint32(i3)] += 1
                t += 4
            while t < m:
                h0[np.uint32(_settle(buf[t], xs[t], edges, bins))] += 1
                t += 1


@njit_inner
def _scatter(buf, xs, m, h, edges, bins):
    """Increments ``h`` at the bins buf[:m] of the values ``xs`` (:func:`_settle` on the
    marked ones; one test per four indices, as the marks are rare)."""
    t = 0
    while t + 4 <= m:
        i0 = buf[t]
        i1 = buf[t + 1]
        i2 = buf[t + 2]
        i3 = buf[t + 3]
        if (i0 | i1 | i2 | i3) >= RECHECK:
            i0 = _settle(i0, xs[t], edges, bins)
            i1 = _settle(i1, xs[t + 1], edges, bins)
            i2 = _settle(i2, xs[t + 2], edges, bins)
            i3 = _settle(i3, xs[t + 3], edges, bins)
        h[np.uint32(i0)] += 1
        h[np.uint32(i1)] += 1
        h[np.uint32(i2)] += 1
        h[np.uint32(i3)] += 1
        t += 4
    while t < m:
        h[np.uint32(_settle(buf[t], xs[t], edges, bins))] += 1
        t += 1


@threaded(lambda *a: a[6].shape[0])
def tile_histograms(start, stop, x, tile, lo, hi, edges, ibuf, out):
    """Histogram of every ``tile`` x ``tile`` tile of the 2-D ``x`` into out (nty, ntx, bins + 2)
    (zeroed here; the last two columns are scratch). Edge tiles are the smaller remainders.
    ``ibuf``: int32 (nty, tile) scratch for bin indices (float32 arithmetic for float32 data,
    as :func:`histogram`)."""
    H, W = x.shape
    nty = out.shape[0]
    ntx = out.shape[1]
    bins = out.shape[2] - 2
    if ibuf.shape[0] < nty or ibuf.shape[1] < tile or bins < 1 or edges.size != bins + 1:
        raise ValueError(
            "tile_histograms: out (nty, ntx, bins + 2), ibuf (nty, tile), edges (bins + 1)"
        )
    p32 = _float32_params(lo, hi, bins)
    fast = p32[4] and _is_float32(x)
    for ty in range(start, stop):
        o = out[ty]
        o[:, :] = 0
        buf = ibuf[ty]
        for i in range(ty * tile, min(H, (ty + 1) * tile)):
            row = x[i]
            for tx in range(ntx):
                j0 = tx * tile
                m = min(W, j0 + tile) - j0
                xs = row[j0 : j0 + m]
                _index(xs, lo, hi, edges, bins, buf, fast, p32)
                _scatter(buf, xs, m, o[tx], edges, bins)
