"""CUDA kernels for SAR backscatter (numba.cuda). Imported lazily, only for GPU arrays.

The scalar formulas are the CPU ones (``_scalar``: ``lee_gain_value``, ``kuan_value``, the
formulas of ``speckle_cpu.window_filter``), so CPU and GPU agree. Pointwise kernels take
flat arrays; windowed kernels are two passes (horizontal then vertical window sums, each
O(window) per pixel) through float64 temporaries (no running sums: every GPU thread sums its
own window), so GPU and CPU agree to float32 rounding.
Tested under ``NUMBA_ENABLE_CUDASIM=1``.
"""

from __future__ import annotations

import math

from numba import cuda

from eo_drr.kernels._scalar import (
    db_of,
    is_nodata,
    is_valid,
    kuan_value,
    lee_gain_value,
    linear_of,
    log_ratio_of,
    refined_lee_value,
)

# the same codes as ``speckle_cpu`` (which this module does not import)
MODE_BOXCAR = 0
MODE_LEE = 1
MODE_KUAN = 2


@cuda.jit
def as_float32(x, nodata, use_nodata, out):
    k = cuda.grid(1)
    if k < x.size:
        v = x[k]
        out[k] = math.nan if is_nodata(v, nodata, use_nodata) else v


@cuda.jit
def to_db(x, nodata, use_nodata, out):
    k = cuda.grid(1)
    if k < x.size:
        v = x[k]
        out[k] = math.nan if is_nodata(v, nodata, use_nodata) else db_of(float(v))


@cuda.jit
def to_linear(x, nodata, use_nodata, out):
    k = cuda.grid(1)
    if k < x.size:
        v = x[k]
        out[k] = math.nan if is_nodata(v, nodata, use_nodata) else linear_of(float(v))


@cuda.jit
def log_ratio(post, pre, nodata, use_nodata, out):
    k = cuda.grid(1)
    if k < post.size:
        a = post[k]
        c = pre[k]
        if is_nodata(a, nodata, use_nodata) or is_nodata(c, nodata, use_nodata):
            out[k] = math.nan
        else:
            out[k] = log_ratio_of(float(a), float(c))


@cuda.jit
def window_horizontal(x, r, s, q, c):
    """Horizontal window sums of every row (valid pixels only) into s, q, c (float64)."""
    i, j = cuda.grid(2)
    H, W = x.shape
    if i >= H or j >= W:
        return
    ss = 0.0
    qq = 0.0
    cc = 0.0
    for d in range(-r, r + 1):
        jj = j + d
        if 0 <= jj < W:
            v = float(x[i, jj])
            if is_valid(v):
                ss += v
                qq += v * v
                cc += 1.0
    s[i, j] = ss
    q[i, j] = qq
    c[i, j] = cc


@cuda.jit
def window_vertical(x, r, mode, cu2, s, q, c, out):
    """Vertical sums of the horizontal ones, then the boxcar mean (``MODE_BOXCAR``), the Lee
    filter (``MODE_LEE``: ``_scalar.lee_gain_value``) or the Kuan filter (``MODE_KUAN``:
    ``_scalar.kuan_value``)."""
    i, j = cuda.grid(2)
    H, W = x.shape
    if i >= H or j >= W:
        return
    ss = 0.0
    qq = 0.0
    cc = 0.0
    for d in range(-r, r + 1):
        ii = i + d
        if 0 <= ii < H:
            ss += s[ii, j]
            qq += q[ii, j]
            cc += c[ii, j]
    v = float(x[i, j])
    if mode == MODE_BOXCAR:
        out[i, j] = ss / cc if (is_valid(v) and cc > 0.0) else math.nan
    elif mode == MODE_KUAN:
        out[i, j] = kuan_value(v, ss, qq, cc, cu2)
    else:
        out[i, j] = lee_gain_value(v, ss, qq, cc, cu2)


@cuda.jit
def refined_lee(x, cu2, out):
    i, j = cuda.grid(2)
    if i < x.shape[0] and j < x.shape[1]:
        out[i, j] = refined_lee_value(x, i, j, cu2)
