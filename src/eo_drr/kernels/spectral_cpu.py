"""Numba CPU kernels for spectral indices (pointwise, flat C-contiguous arrays).

Every kernel reads raw band values (any integer or float dtype), turns them into reflectance
``value * scale + offset`` in float32, and writes float32 into ``out`` (allocated by the
caller). A pixel is nodata (NaN out) when any band is NaN or equals ``nodata``, compared as
:func:`~eo_drr.kernels._spectral_loop.key` (see there, with the blocks threads run over). The
loops are branch-free selects so that LLVM vectorises them. WOfS lives in
:mod:`eo_drr.kernels.wofs_cpu`.
"""

from __future__ import annotations

import numpy as np

from eo_drr.kernels._jit import threaded
from eo_drr.kernels._scalar import bsi_of
from eo_drr.kernels._spectral_loop import BLOCK, _span, float32_exact, key, nodata_key
from eo_drr.kernels.wofs_cpu import wofs, wofs_integer, wofs_reflectance

__all__ = [
    "BLOCK",
    "bsi",
    "bui",
    "float32_exact",
    "linear_combination",
    "nodata_key",
    "normalized_difference",
    "wofs",
    "wofs_integer",
    "wofs_reflectance",
]


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


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def linear_combination(blk0, blk1, bands, coefs, scale, offset, nodata, out):
    """out = sum_k coefs[k] * (bands[k] * scale + offset), float32 accumulation.

    ``bands``: a tuple of flat arrays of one dtype; ``coefs``: float32, one per band. Used by
    AWEI and the tasseled cap. The band loop has a trip count known at compile time
    (the tuple's length), so LLVM unrolls it and the loop over pixels vectorises; the tuple's
    arrays are indexed with an unsigned index (numba does not wrap it around, see
    :mod:`._spectral_loop`: a tuple of arrays cannot be sliced per block). Issue 21: a
    threaded kernel without ``literal_unroll`` compiles in less than half the time of the
    former ``prange`` one (one copy of the loop body, no parfor passes); same bits
    (``tests/test_linear_combination_identity.py``), same speed on one thread.
    """
    n = out.size
    sc = np.float32(scale)
    of = np.float32(offset)
    nd = nodata
    nan = np.float32(np.nan)
    for blk in range(blk0, blk1):
        start, stop = _span(n, blk)
        ob = out[start:stop]
        base = np.uint64(start)
        for k in range(stop - start):
            u = base + np.uint64(k)
            acc = np.float32(0.0)
            bad = False
            for i in range(len(bands)):
                v = bands[i][u]
                bad |= (v != v) | (key(v) == nd)
                acc += coefs[i] * (np.float32(v) * sc + of)
            ob[k] = nan if bad else acc
