"""CUDA kernels for histograms (numba.cuda, global atomics). Imported lazily for GPU arrays."""

from __future__ import annotations

from numba import cuda


@cuda.jit
def nan_minmax(x, out):
    """out[0] = nanmin(x), out[1] = nanmax(x); out must hold (+inf, -inf) on entry."""
    k = cuda.grid(1)
    if k < x.size:
        v = float(x[k])
        if v == v:
            cuda.atomic.min(out, 0, v)
            cuda.atomic.max(out, 1, v)


@cuda.jit
def histogram(x, lo, hi, edges, counts):
    """numpy.histogram-compatible uniform bins (see ``threshold_cpu``); counts zeroed by caller."""
    k = cuda.grid(1)
    if k >= x.size:
        return
    v = float(x[k])
    if not (v >= lo and v <= hi):
        return
    bins = counts.shape[0]
    idx = int((v - lo) * (bins / (hi - lo)))
    if idx >= bins:
        idx = bins - 1
    elif idx < 0:
        idx = 0
    if v < edges[idx]:
        idx -= 1
    elif idx != bins - 1 and v >= edges[idx + 1]:
        idx += 1
    cuda.atomic.add(counts, idx, 1)
