"""Numba CPU kernels for histogram thresholding: finite min/max, histograms, tile histograms.

Bins follow ``numpy.histogram`` exactly for uniform bins: ``bins`` equal bins between
``lo`` and ``hi`` (edges from ``numpy.linspace``), half-open ``[e_k, e_k+1)`` except the last one,
which is closed; values outside ``[lo, hi]``, NaN and +-inf are not counted. The bin index is
computed with one multiply and then corrected against the edges, as numpy does, so no value
lands in a different bin than with numpy. Whatever ``lo``, ``hi`` and values the kernels get
(NaN or infinite ones included), they never write outside their output: a value whose bin
cannot be computed goes to the "not counted" column.

Each parallel block of rows counts into its own private histogram (rows of the ``scratch``
array from the caller, several interleaved copies per block to break the store-to-load chain on
repeated bins); the caller sums them. Scratch arrays come from the caller (numpy), never from
numba.
"""

from __future__ import annotations

import numpy as np

from eo_drr.kernels._jit import njit_inner, threaded

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
#: |fraction of a bin| below which an index is re-checked against the edges
EDGE_TOL = 1e-7


@njit_inner
def _index_chunk(xs, lo, hi, scale, edges, bins, buf):
    """Bin indices of the values ``xs`` (a slice, at most ``buf.size`` long) into
    buf[:xs.size] (bins + 1 for NaN / out of range).

    A branch-free, vectorised pass computes ``int((v - lo) * scale)`` and counts the values
    lying within EDGE_TOL of a bin edge; only when there are some, a second pass re-checks them
    against ``edges`` exactly as numpy does. Every index is in [0, bins) or is bins + 1,
    whatever lo, hi and scale are: a value whose fractional bin ``(v - lo) * scale`` is NaN
    (an infinite or NaN range) is not counted.
    """
    m = xs.size
    fbins = np.float64(bins)
    dump = fbins + 1.0
    top = fbins - 0.5
    near = 0
    for t in range(m):
        v = np.float64(xs[t])
        f = (v - lo) * scale
        ok = (v >= lo) & (v <= hi) & (f >= 0.0)  # False for NaN (value, range or bin)
        fi = min(f, top) if ok else dump
        i = np.int32(fi)
        d = fi - i
        near += ok & ((d < EDGE_TOL) | (d > 1.0 - EDGE_TOL))  # NaN / out of range: not binned
        buf[t] = i
    if near:
        for t in range(m):
            i = buf[t]
            if i < bins:
                v = np.float64(xs[t])
                if v < edges[i]:
                    i -= 1
                elif i < bins - 1 and v >= edges[i + 1]:
                    i += 1
                buf[t] = i if i >= 0 else bins + 1


@threaded(lambda *a: a[4].shape[0])
def histogram(start, stop, x, lo, hi, edges, scratch, ibuf):
    """Counts of the flat array ``x`` into ``scratch`` (nblocks, LANES, bins + 2), zeroed here.

    Column ``bins + 1`` collects NaN and out-of-range values (the caller drops it; column
    ``bins`` stays 0). ``ibuf``: int32 (nblocks, CHUNK) scratch for bin indices.

    One pass: block ``b`` (one contiguous share of ``x``) counts into its private
    ``scratch[b]``, chunk by chunk: the bin indices of CHUNK values (:func:`_index_chunk`, on a
    slice so that it vectorises), then a scatter pass that increments LANES interleaved copies
    of the histogram (so runs of equal bins do not wait on each other). The caller sums the
    private histograms.
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
    scale = bins / (hi - lo)
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
            _index_chunk(x[c0 : c0 + m], lo, hi, scale, edges, bins, buf)
            t = 0
            while t + 4 <= m:  # unsigned indices: numba adds no negative-index wraparound
                h0[np.uint32(buf[t])] += 1
                h1[np.uint32(buf[t + 1])] += 1
                h2[np.uint32(buf[t + 2])] += 1
                h3[np.uint32(buf[t + 3])] += 1
                t += 4
            while t < m:
                h0[np.uint32(buf[t])] += 1
                t += 1


@threaded(lambda *a: a[6].shape[0])
def tile_histograms(start, stop, x, tile, lo, hi, edges, ibuf, out):
    """Histogram of every ``tile`` x ``tile`` tile of the 2-D ``x`` into out (nty, ntx, bins + 2)
    (zeroed here; the last two columns are scratch). Edge tiles are the smaller remainders.
    ``ibuf``: int32 (nty, tile) scratch for bin indices."""
    H, W = x.shape
    nty = out.shape[0]
    ntx = out.shape[1]
    bins = out.shape[2] - 2
    if ibuf.shape[0] < nty or ibuf.shape[1] < tile or bins < 1 or edges.size != bins + 1:
        raise ValueError(
            "tile_histograms: out (nty, ntx, bins + 2), ibuf (nty, tile), edges (bins + 1)"
        )
    scale = bins / (hi - lo)
    for ty in range(start, stop):
        o = out[ty]
        o[:, :] = 0
        buf = ibuf[ty]
        for i in range(ty * tile, min(H, (ty + 1) * tile)):
            row = x[i]
            for tx in range(ntx):
                j0 = tx * tile
                m = min(W, j0 + tile) - j0
                _index_chunk(row[j0 : j0 + m], lo, hi, scale, edges, bins, buf)
                ot = o[tx]
                for t in range(m):
                    ot[np.uint32(buf[t])] += 1
