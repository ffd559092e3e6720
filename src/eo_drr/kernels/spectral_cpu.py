"""Numba CPU kernels for spectral indices (pointwise, flat C-contiguous arrays).

Every kernel reads raw band values (any integer or float dtype), turns them into reflectance
``value * scale + offset`` in float32, and writes float32 into ``out`` (allocated by the
caller). A pixel is nodata (NaN out) when any band is NaN or equals ``nodata``. The
comparison runs on :func:`key` of each value, with ``nodata`` given in the same domain by
:func:`nodata_key`: for dtypes that float32 holds exactly (8/16-bit integers, float16/32) that
is the float32 value, so the mask has the width of the arithmetic and the loop vectorises
without widening; for wider dtypes it is the float64 value (exact up to 2**53). "No nodata
value" is a NaN ``nodata``, which no value equals, so the kernels carry no runtime flag. The two
together took NDWI on a full tile from 0.78 to 0.92 of the memory bound.

The loops are branch-free selects so that LLVM vectorises them. Threads run over blocks of
BLOCK elements of the flat arrays (the rows of a 2-D view); each block is taken as a slice
(:func:`_span`), so the inner loop indexes from 0 and LLVM can prove its indices non-negative:
indexing the flat array at ``blk * BLOCK + k`` instead keeps numba's negative-index
wraparound in the loop, which does not vectorise (2-3x slower, issue 21).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload

from eo_drr.kernels._jit import FASTMATH, njit_serial, threaded
from eo_drr.kernels._scalar import bsi_of, wofs_select_of

#: elements per parallel block
BLOCK = 1 << 16


def float32_exact(dtype) -> bool:
    """True when every value of ``dtype`` converts to float32 without rounding."""
    dtype = np.dtype(dtype)
    return (dtype.kind in "iu" and dtype.itemsize <= 2) or dtype in (np.float16, np.float32)


def nodata_key(nodata, use_nodata: bool, dtype):
    """``nodata`` in the domain :func:`key` compares in for bands of ``dtype`` (NaN: none)."""
    value = nodata if use_nodata else np.nan
    return np.float32(value) if float32_exact(dtype) else np.float64(value)


def key(v):  # pragma: no cover - replaced by the overload inside numba
    """The value a band's raw ``v`` is compared with nodata as (see the module docstring)."""
    return v


@overload(key, jit_options=dict(cache=True))  # type: ignore[typeddict-unknown-key]
def _key_overload(v):
    if (isinstance(v, types.Integer) and v.bitwidth <= 16) or v in (types.float16, types.float32):
        return lambda v: np.float32(v)
    return lambda v: np.float64(v)


@njit_serial
def _span(n, blk):
    """(start, stop) of block ``blk`` of a flat array of ``n`` elements (BLOCK per block)."""
    start = blk * BLOCK
    return start, min(n, start + BLOCK)


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def normalized_difference(blk0, blk1, a, b, scale, offset, nodata, out):
    """out = (A - B) / (A + B), A = a * scale + offset (same for B); NaN for nodata or A + B = 0.

    Computed as (a - b) / (a + b + 2 offset / scale), which is the same ratio with the scale
    cancelled: one add per pixel fewer, and exact sums for integer bands. ``a`` and ``b`` may
    differ in dtype (each is converted to float32 in the loop).
    """
    n = a.size
    c = np.float32(2.0 * offset / scale)
    nd = nodata
    nan = np.float32(np.nan)
    zero = np.float32(0.0)
    for blk in range(blk0, blk1):
        start, stop = _span(n, blk)
        ab = a[start:stop]
        bb = b[start:stop]
        ob = out[start:stop]
        for k in range(stop - start):
            va = ab[k]
            vb = bb[k]
            fa = np.float32(va)
            fb = np.float32(vb)
            s = fa + fb + c
            r = (fa - fb) / s
            bad = (fa != fa) | (fb != fb) | (key(va) == nd) | (key(vb) == nd)
            ob[k] = nan if (bad | (s == zero)) else r


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def bui(blk0, blk1, swir1, nir, red, scale, offset, nodata, out):
    """Built-up index (He et al. 2010): NDBI - NDVI."""
    n = swir1.size
    sc = np.float32(scale)
    of = np.float32(offset)
    nd = nodata
    nan = np.float32(np.nan)
    zero = np.float32(0.0)
    for blk in range(blk0, blk1):
        start, stop = _span(n, blk)
        sb = swir1[start:stop]
        nb = nir[start:stop]
        rb = red[start:stop]
        ob = out[start:stop]
        for k in range(stop - start):
            vs = sb[k]
            vn = nb[k]
            vr = rb[k]
            bad = (vs != vs) | (vn != vn) | (vr != vr)
            bad |= (key(vs) == nd) | (key(vn) == nd) | (key(vr) == nd)
            fs = np.float32(vs) * sc + of
            fn = np.float32(vn) * sc + of
            fr = np.float32(vr) * sc + of
            s1 = fs + fn
            s2 = fn + fr
            r = (fs - fn) / s1 - (fn - fr) / s2
            ob[k] = nan if (bad | (s1 == zero) | (s2 == zero)) else r


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def bsi(blk0, blk1, blue, red, nir, swir1, scale, offset, nodata, out):
    """Bare soil index (Rikimaru et al. 2002)."""
    n = blue.size
    sc = np.float32(scale)
    of = np.float32(offset)
    nd = nodata
    nan = np.float32(np.nan)
    for blk in range(blk0, blk1):
        start, stop = _span(n, blk)
        bb = blue[start:stop]
        rb = red[start:stop]
        nb = nir[start:stop]
        sb = swir1[start:stop]
        ob = out[start:stop]
        for k in range(stop - start):
            vb = bb[k]
            vr = rb[k]
            vn = nb[k]
            vs = sb[k]
            bad = (vb != vb) | (vr != vr) | (vn != vn) | (vs != vs)
            bad |= (key(vb) == nd) | (key(vr) == nd) | (key(vn) == nd) | (key(vs) == nd)
            r = bsi_of(
                np.float32(vb) * sc + of,
                np.float32(vr) * sc + of,
                np.float32(vn) * sc + of,
                np.float32(vs) * sc + of,
            )
            ob[k] = nan if bad else r


@numba.njit(parallel=True, error_model="numpy", cache=True, fastmath=FASTMATH)
def linear_combination(bands, coefs, scale, offset, nodata, out):
    """out = sum_k coefs[k] * (bands[k] * scale + offset), float32 accumulation.

    ``bands``: a tuple of flat arrays of one dtype (unrolled at compile time, so the loop
    vectorises); ``coefs``: float32, one per band. Used by AWEI and the tasseled cap.
    A tuple of arrays cannot be sliced per block, so its elements are indexed with an unsigned
    index (which numba does not wrap around, see the module docstring).

    The one kernel left on numba's ``prange`` (not :func:`~eo_drr.kernels._jit.threaded`):
    run as a serial ``nogil`` kernel over parts, this tuple-unrolled loop does not vectorise
    and took 4x as long (AWEI at 4096^2: 42 ms against 10 ms, 0.28 against 1.0 of the
    bound, ``benchmarks/bench_kernels.py --size 4096 --only awei_sh``).
    """
    n = bands[0].size
    sc = np.float32(scale)
    of = np.float32(offset)
    nd = nodata
    nan = np.float32(np.nan)
    for blk in numba.prange((n + BLOCK - 1) // BLOCK):
        start, stop = _span(n, blk)
        ob = out[start:stop]
        base = np.uint64(start)
        for k in range(stop - start):
            u = base + np.uint64(k)
            acc = np.float32(0.0)
            bad = False
            i = 0
            for arr in numba.literal_unroll(bands):
                v = arr[u]
                bad |= (v != v) | (key(v) == nd)
                acc += coefs[i] * (np.float32(v) * sc + of)
                i += 1
            ob[k] = nan if bad else acc


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def wofs(blk0, blk1, blue, green, red, nir, swir1, swir2, scale, offset, nodata, out):
    """WOfS water classification (``_scalar.wofs_of``, evaluated branch-free as
    ``_scalar.wofs_select_of``): 1.0 water, 0.0 not, NaN nodata.

    Reflectance (``value * scale + offset``) is multiplied by 10 000 to the paper's units.
    """
    n = blue.size
    sc = np.float64(scale) * 10000.0
    of = np.float64(offset) * 10000.0
    nd = nodata
    nan = np.float32(np.nan)
    for blk in range(blk0, blk1):
        start, stop = _span(n, blk)
        b0 = blue[start:stop]
        b1 = green[start:stop]
        b2 = red[start:stop]
        b3 = nir[start:stop]
        b4 = swir1[start:stop]
        b5 = swir2[start:stop]
        ob = out[start:stop]
        for k in range(stop - start):
            v0 = b0[k]
            v1 = b1[k]
            v2 = b2[k]
            v3 = b3[k]
            v4 = b4[k]
            v5 = b5[k]
            bad = (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3) | (v4 != v4) | (v5 != v5)
            bad |= (
                (key(v0) == nd)
                | (key(v1) == nd)
                | (key(v2) == nd)
                | (key(v3) == nd)
                | (key(v4) == nd)
                | (key(v5) == nd)
            )
            w = wofs_select_of(
                np.float64(v0) * sc + of,
                np.float64(v1) * sc + of,
                np.float64(v2) * sc + of,
                np.float64(v3) * sc + of,
                np.float64(v4) * sc + of,
                np.float64(v5) * sc + of,
            )
            ob[k] = nan if bad else np.float32(w)
