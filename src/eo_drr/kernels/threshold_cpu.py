"""Numba CPU kernels for histogram thresholding: NaN-aware min/max, histograms, tile histograms.

Bins follow ``numpy.histogram`` exactly for uniform bins: ``bins`` equal bins between
``lo`` and ``hi`` (edges from ``numpy.linspace``), half-open ``[e_k, e_k+1)`` except the last one,
which is closed; values outside ``[lo, hi]`` and NaN are not counted. The bin index is computed
with one multiply and then corrected against the edges, as numpy does, so no value lands in a
different bin than with numpy.

Each parallel block of rows counts into its own private histogram (rows of the ``scratch``
array from the caller, several interleaved copies per block to break the store-to-load chain on
repeated bins); the caller sums them. Scratch arrays come from the caller (numpy), never from
numba.
"""

from __future__ import annotations

import numba
import numpy as np

from eo_drr.kernels._jit import njit_parallel, njit_serial

#: interleaved private copies per block (breaks the dependency on runs of equal bins)
LANES = 4


@njit_parallel
def nan_minmax(x, out):
    """Per-block NaN-ignoring (min, max) of the flat array ``x`` into ``out`` (nblocks, 2).

    A block with no valid value gets (+inf, -inf).
    """
    n = x.size
    nb = out.shape[0]
    step = (n + nb - 1) // nb
    for b in numba.prange(nb):
        lo = np.inf
        hi = -np.inf
        for k in range(b * step, min(n, (b + 1) * step)):
            v = np.float64(x[k])
            if v == v:
                lo = min(lo, v)
                hi = max(hi, v)
        out[b, 0] = lo
        out[b, 1] = hi


@njit_serial
def _bin_index(v, lo, hi, scale, edges, bins):
    """numpy.histogram's bin of ``v`` (float64), or -1 when outside [lo, hi] or NaN."""
    if not (v >= lo and v <= hi):
        return -1
    k = np.intp((v - lo) * scale)
    if k >= bins:
        k = bins - 1
    elif k < 0:
        k = 0
    if v < edges[k]:
        k -= 1
    elif k != bins - 1 and v >= edges[k + 1]:
        k += 1
    return k


#: elements per inner chunk of :func:`histogram` (its index buffer stays in L1)
CHUNK = 2048
#: |fraction of a bin| below which an index is re-checked against the edges
EDGE_TOL = 1e-7


@njit_parallel
def histogram(x, lo, hi, edges, scratch, ibuf):
    """Counts of the flat array ``x`` into ``scratch`` (nblocks, LANES, bins + 2), zeroed here.

    Column ``bins + 1`` collects NaN and out-of-range values (the caller drops it; column
    ``bins`` stays 0). ``ibuf``: int32 (nblocks, CHUNK) scratch for bin indices.

    Two passes per chunk of CHUNK values: (1) a branch-free, vectorised pass computes the bin
    index ``int((v - lo) * bins / (hi - lo))`` and counts values lying within EDGE_TOL of a
    bin edge; (2) only when there are such values, they are re-checked against ``edges``
    exactly as numpy does; then (3) a scatter pass increments LANES interleaved copies of the
    histogram (so runs of equal bins do not wait on each other).
    """
    n = x.size
    nb = scratch.shape[0]
    bins = scratch.shape[2] - 2
    scale = bins / (hi - lo)
    step = (n + nb - 1) // nb
    fbins = np.float64(bins)
    dump = fbins + 1.0
    top = fbins - 0.5
    for b in numba.prange(nb):
        h = scratch[b]
        h[:, :] = 0
        buf = ibuf[b]
        start = b * step
        stop = min(n, start + step)
        for c0 in range(start, stop, CHUNK):
            m = min(CHUNK, stop - c0)
            near = 0
            for t in range(m):
                v = np.float64(x[c0 + t])
                ok = (v >= lo) & (v <= hi)  # False for NaN
                f = (v - lo) * scale
                fi = min(max(f, 0.0), top) if ok else dump
                i = np.int32(fi)
                d = fi - i
                near += np.int32((d < EDGE_TOL) | (d > 1.0 - EDGE_TOL))
                buf[t] = i
            if near:
                for t in range(m):
                    i = buf[t]
                    if i < bins:
                        v = np.float64(x[c0 + t])
                        if v < edges[i]:
                            i -= 1
                        elif i < bins - 1 and v >= edges[i + 1]:
                            i += 1
                        buf[t] = i if i >= 0 else bins + 1
            t = 0
            while t + LANES <= m:
                for lane in range(LANES):
                    h[lane, buf[t + lane]] += 1
                t += LANES
            while t < m:
                h[0, buf[t]] += 1
                t += 1


@njit_parallel
def tile_histograms(x, tile, lo, hi, edges, out):
    """Histogram of every ``tile`` x ``tile`` tile of the 2-D ``x`` into out (nty, ntx, bins)
    (zeroed here). Edge tiles are the smaller remainders."""
    H, W = x.shape
    nty = out.shape[0]
    bins = out.shape[2]
    scale = bins / (hi - lo)
    for ty in numba.prange(nty):
        o = out[ty]
        o[:, :] = 0
        for i in range(ty * tile, min(H, (ty + 1) * tile)):
            row = x[i]
            for j in range(W):
                idx = _bin_index(np.float64(row[j]), lo, hi, scale, edges, bins)
                if idx >= 0:
                    o[j // tile, idx] += 1
