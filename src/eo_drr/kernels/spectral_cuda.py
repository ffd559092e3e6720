"""CUDA kernels for spectral indices (numba.cuda), flat arrays, one thread per pixel.

Same formulas as ``spectral_cpu`` (shared through ``_scalar``). Imported lazily for GPU arrays.
"""

from __future__ import annotations

import math

from numba import cuda

from eo_drr.kernels._scalar import bsi_of, nd_of, wofs_of


@cuda.jit(device=True)
def _bad(v, nodata, use_nodata):
    return v != v or (use_nodata and v == nodata)


@cuda.jit
def normalized_difference(a, b, scale, offset, nodata, use_nodata, out):
    k = cuda.grid(1)
    if k < a.size:
        va = a[k]
        vb = b[k]
        if _bad(va, nodata, use_nodata) or _bad(vb, nodata, use_nodata):
            out[k] = math.nan
        else:
            out[k] = nd_of(float(va) * scale + offset, float(vb) * scale + offset)


@cuda.jit
def bui(swir1, nir, red, scale, offset, nodata, use_nodata, out):
    k = cuda.grid(1)
    if k < swir1.size:
        vs = swir1[k]
        vn = nir[k]
        vr = red[k]
        if (
            _bad(vs, nodata, use_nodata)
            or _bad(vn, nodata, use_nodata)
            or _bad(vr, nodata, use_nodata)
        ):
            out[k] = math.nan
        else:
            fs = float(vs) * scale + offset
            fn = float(vn) * scale + offset
            fr = float(vr) * scale + offset
            out[k] = nd_of(fs, fn) - nd_of(fn, fr)


@cuda.jit
def bsi(blue, red, nir, swir1, scale, offset, nodata, use_nodata, out):
    k = cuda.grid(1)
    if k < blue.size:
        vb = blue[k]
        vr = red[k]
        vn = nir[k]
        vs = swir1[k]
        if (
            _bad(vb, nodata, use_nodata)
            or _bad(vr, nodata, use_nodata)
            or _bad(vn, nodata, use_nodata)
            or _bad(vs, nodata, use_nodata)
        ):
            out[k] = math.nan
        else:
            out[k] = bsi_of(
                float(vb) * scale + offset,
                float(vr) * scale + offset,
                float(vn) * scale + offset,
                float(vs) * scale + offset,
            )


@cuda.jit
def linear_combination(stack, coefs, scale, offset, nodata, use_nodata, out):
    """out = sum_k coefs[k] * (stack[k] * scale + offset); ``stack``: (nbands, n)."""
    k = cuda.grid(1)
    if k < out.size:
        acc = 0.0
        for i in range(stack.shape[0]):
            v = stack[i, k]
            if _bad(v, nodata, use_nodata):
                out[k] = math.nan
                return
            acc += coefs[i] * (float(v) * scale + offset)
        out[k] = acc


@cuda.jit
def copy_into_row(src, dst, row):
    """dst[row, :] = src (flat); builds the band stack of :func:`linear_combination`."""
    k = cuda.grid(1)
    if k < src.size:
        dst[row, k] = src[k]


@cuda.jit
def wofs(blue, green, red, nir, swir1, swir2, scale, offset, nodata, use_nodata, out):
    k = cuda.grid(1)
    if k < blue.size:
        v0 = blue[k]
        v1 = green[k]
        v2 = red[k]
        v3 = nir[k]
        v4 = swir1[k]
        v5 = swir2[k]
        if (
            _bad(v0, nodata, use_nodata)
            or _bad(v1, nodata, use_nodata)
            or _bad(v2, nodata, use_nodata)
            or _bad(v3, nodata, use_nodata)
            or _bad(v4, nodata, use_nodata)
            or _bad(v5, nodata, use_nodata)
        ):
            out[k] = math.nan
        else:
            sc = scale * 10000.0
            of = offset * 10000.0
            out[k] = wofs_of(
                float(v0) * sc + of,
                float(v1) * sc + of,
                float(v2) * sc + of,
                float(v3) * sc + of,
                float(v4) * sc + of,
                float(v5) * sc + of,
            )
