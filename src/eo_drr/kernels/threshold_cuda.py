"""CUDA kernels for histograms (numba.cuda, global atomics). Imported lazily for GPU arrays.

Same rules as ``threshold_cpu``: NaN and +-inf are no data, and no lo, hi or value makes a
kernel write outside its output.
"""

from __future__ import annotations

import math

from numba import cuda


@cuda.jit
def nan_minmax(x, out):
    """out[0] = min, out[1] = max of the finite values of x; out must hold (+inf, -inf) on entry."""
    k = cuda.grid(1)
    if k < x.size:
        v = float(x[k])
        if math.isfinite(v):
            cuda.atomic.min(out, 0, v)
            cuda.atomic.max(out, 1, v)


@cuda.jit
def histogram(x, lo, hi, edges, counts):
    """numpy.histogram-compatible uniform bins (see ``threshold_cpu``); counts zeroed by caller.

    ``edges`` must hold ``counts.shape[0] + 1`` values. A value whose bin is NaN (an infinite
    or NaN range) is not counted.
    """
    k = cuda.grid(1)
    if k >= x.size:
        return
    v = float(x[k])
    bins = counts.shape[0]
    f = (v - lo) * (bins / (hi - lo))
    if not (v >= lo and v <= hi and f >= 0.0):  # False for NaN (value, range or bin)
        return
    idx = int(min(f, bins - 1.0))
    if idx > 0 and v < edges[idx]:
        idx -= 1
    elif idx < bins - 1 and v >= edges[idx + 1]:
        idx += 1
    cuda.atomic.add(counts, idx, 1)
