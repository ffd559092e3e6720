"""Numba CPU kernels for histogram thresholding: NaN-aware min/max, histograms, tile histograms.

Bins follow ``numpy.histogram`` exactly for uniform bins: ``bins`` equal bins between
``lo`` and ``hi`` (edges from ``numpy.linspace``), half-open ``[e_k, e_k+1)`` except the last one,
which is closed; values outside ``[lo, hi]`` and NaN are not counted. The bin index is computed
with one multiply and then corrected against the edges, as numpy does, so no value lands in a
different bin than with numpy.

Each parallel block of rows counts into its own private histogram (rows of the ``scratch``
array from the caller, several interleaved copies per block to break the store-to-load chain on
repeated bins); the caller sums them.
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


@njit_parallel
def histogram(x, lo, hi, edges, scratch):
    """Counts of the flat array ``x`` into ``scratch`` (nblocks, LANES, bins), zeroed here."""
    n = x.size
    nb = scratch.shape[0]
    bins = scratch.shape[2]
    scale = bins / (hi - lo)
    step = (n + nb - 1) // nb
    for b in numba.prange(nb):
        h = scratch[b]
        h[:, :] = 0
        start = b * step
        stop = min(n, start + step)
        k = start
        while k + LANES <= stop:
            for lane in range(LANES):
                idx = _bin_index(np.float64(x[k + lane]), lo, hi, scale, edges, bins)
                if idx >= 0:
                    h[lane, idx] += 1
            k += LANES
        while k < stop:
            idx = _bin_index(np.float64(x[k]), lo, hi, scale, edges, bins)
            if idx >= 0:
                h[0, idx] += 1
            k += 1


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
