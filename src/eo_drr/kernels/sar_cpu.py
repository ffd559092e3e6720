"""Numba CPU kernels for SAR backscatter: dB conversions, log-ratio, boxcar, Lee filters.

Every kernel writes into an ``out`` array that the caller allocated with numpy; scratch
buffers are allocated by the caller too. Pointwise kernels work on flat (raveled, C-contiguous)
arrays split into blocks of rows; windowed kernels on 2-D arrays, ``numba.prange`` over bands
of rows. NaN marks nodata everywhere (see ``as_float32`` for integer inputs).
"""

from __future__ import annotations

import numba
import numpy as np

from eo_drr.kernels._jit import njit_parallel, njit_serial
from eo_drr.kernels._scalar import (
    db_of,
    is_nodata,
    lee_value,
    linear_of,
    log_ratio_of,
    refined_lee_value,
)

#: Elements per parallel block of the pointwise kernels ("rows" of the flat view).
BLOCK = 1 << 16


# --------------------------------------------------------------------------------------------
# pointwise


@njit_parallel
def as_float32(x, nodata, use_nodata, out):
    """out = float32(x), NaN where x is NaN or equals ``nodata`` (when ``use_nodata``)."""
    n = x.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            v = x[k]
            if is_nodata(v, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = v


@njit_parallel
def to_db(x, nodata, use_nodata, out):
    """out = 10 log10(x); NaN for x <= 0, NaN or nodata."""
    n = x.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            v = x[k]
            if is_nodata(v, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = db_of(np.float64(v))


@njit_parallel
def to_linear(x, nodata, use_nodata, out):
    """out = 10 ** (x / 10); NaN for NaN or nodata."""
    n = x.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            v = x[k]
            if is_nodata(v, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = linear_of(np.float64(v))


@njit_parallel
def log_ratio(post, pre, nodata, use_nodata, out):
    """out = 10 log10(post / pre) (dB); NaN where either is NaN, <= 0 or nodata."""
    n = post.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            a = post[k]
            c = pre[k]
            if is_nodata(a, nodata, use_nodata) or is_nodata(c, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = log_ratio_of(np.float64(a), np.float64(c))


# --------------------------------------------------------------------------------------------
# windowed: separable sums
#
# For output row i the kernel keeps, in a ring of w = 2r + 1 slots, the horizontal window sums
# (sum, sum of squares, count of valid pixels) of input rows i - r .. i + r; each new row is
# summed once (r + 1 + r adds per pixel, vectorised over columns) and the vertical sum adds the
# w slots in row order. Every output pixel is therefore computed from its own window only, in
# a fixed order: the result does not depend on where a band (or a dask chunk) starts, so dask
# and numpy agree bit for bit. Pixels outside the raster and NaN pixels are skipped (their
# count is 0): at the edges the mean is over the in-raster part of the window.

MODE_BOXCAR = 0
MODE_LEE = 1


@njit_serial
def _horizontal_sums(x, ii, r, s, q, c, need_q):
    """Window sums along row ``ii`` of ``x`` into s, q, c (length W); zeros outside the raster."""
    H, W = x.shape
    for j in range(W):
        s[j] = 0.0
        q[j] = 0.0
        c[j] = 0.0
    if ii < 0 or ii >= H:
        return
    row = x[ii]
    for d in range(-r, r + 1):
        lo = max(0, -d)
        hi = min(W, W - d)
        if need_q:
            for j in range(lo, hi):
                v = np.float64(row[j + d])
                ok = v == v
                vv = v if ok else 0.0
                s[j] += vv
                q[j] += vv * vv
                c[j] += 1.0 if ok else 0.0
        else:
            for j in range(lo, hi):
                v = np.float64(row[j + d])
                ok = v == v
                s[j] += v if ok else 0.0
                c[j] += 1.0 if ok else 0.0


@njit_parallel
def window_filter(x, r, mode, cu2, scratch, out):
    """Boxcar mean (mode 0) or Lee filter (mode 1) over a (2r+1)^2 window.

    x: 2-D float array, NaN = nodata. scratch: float64 (nbands, 3, 2r+2, W) from the caller
    (one ring per band of rows, plus one accumulator slot). out: float32 like x.
    """
    H, W = x.shape
    w = 2 * r + 1
    nb = scratch.shape[0]
    band = (H + nb - 1) // nb
    need_q = mode == MODE_LEE
    for b in numba.prange(nb):
        i0 = b * band
        i1 = min(H, i0 + band)
        if i0 >= i1:
            continue
        S = scratch[b, 0]
        Q = scratch[b, 1]
        C = scratch[b, 2]
        for ii in range(i0 - r, i0 + r):
            k = ii % w
            _horizontal_sums(x, ii, r, S[k], Q[k], C[k], need_q)
        for i in range(i0, i1):
            k = (i + r) % w
            _horizontal_sums(x, i + r, r, S[k], Q[k], C[k], need_q)
            sa = S[w]
            qa = Q[w]
            ca = C[w]
            k0 = (i - r) % w
            for j in range(W):
                sa[j] = S[k0, j]
                qa[j] = Q[k0, j]
                ca[j] = C[k0, j]
            for d in range(1, w):
                k = (i - r + d) % w
                for j in range(W):
                    sa[j] += S[k, j]
                    ca[j] += C[k, j]
                if need_q:
                    for j in range(W):
                        qa[j] += Q[k, j]
            xi = x[i]
            oi = out[i]
            if mode == MODE_BOXCAR:
                for j in range(W):
                    v = xi[j]
                    if v == v and ca[j] > 0.0:
                        oi[j] = sa[j] / ca[j]
                    else:
                        oi[j] = np.nan
            else:
                for j in range(W):
                    oi[j] = lee_value(np.float64(xi[j]), sa[j], qa[j], ca[j], cu2)


def window_scratch(shape, r, nbands=None):
    """Scratch buffer for :func:`window_filter` (allocated by numpy, outside numba)."""
    H, W = shape
    if nbands is None:
        nbands = numba.get_num_threads() * 4
    # bands of at least 4 w rows keep the ring warm-up (2r rows per band) cheap
    nbands = max(1, min(nbands, H // max(1, 4 * (2 * r + 1)) or 1))
    return np.empty((nbands, 3, 2 * r + 2, W), dtype=np.float64)


@njit_parallel
def refined_lee(x, cu2, out):
    """Lee (1981) refined filter, 7 x 7 edge-aligned windows (see ``_scalar.refined_lee_value``)."""
    H, W = x.shape
    for i in numba.prange(H):
        for j in range(W):
            out[i, j] = refined_lee_value(x, i, j, cu2)
