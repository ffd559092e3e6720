"""Numba CPU kernels for SAR backscatter: dB conversions, log-ratio and the temporal median of
a stack (the speckle filters are in :mod:`eo_drr.kernels.speckle_cpu`).

Every kernel writes into an ``out`` array that the caller allocated with numpy. Pointwise
kernels work on flat (raveled, C-contiguous) arrays split into blocks of rows; the temporal
median on a 3-D ``(t, y, x)`` stack, rows on threads (``_jit.threaded``). NaN marks nodata everywhere
(see ``as_float32`` for integer inputs).
"""

from __future__ import annotations

import math

import numpy as np

from eo_drr.kernels._jit import njit_inner, threaded
from eo_drr.kernels._scalar import db_of, is_nodata, linear_of, log_ratio_of

#: Elements per parallel block of the pointwise kernels ("rows" of the flat view).
BLOCK = 1 << 16


# --------------------------------------------------------------------------------------------
# pointwise


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def as_float32(start, stop, x, nodata, use_nodata, out):
    """out = float32(x), NaN where x is NaN or equals ``nodata`` (when ``use_nodata``).

    Blocks as slices and nodata as a select, so that the loop vectorises (see
    :func:`to_db_f32`)."""
    n = x.size
    nan = np.float32(np.nan)
    for b in range(start, stop):
        k0 = b * BLOCK
        k1 = min(n, k0 + BLOCK)
        xb = x[k0:k1]
        ob = out[k0:k1]
        for k in range(k1 - k0):
            v = xb[k]
            bad = (v != v) | (use_nodata & (v == nodata))
            ob[k] = nan if bad else np.float32(v)


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def to_db(start, stop, x, nodata, use_nodata, out):
    """out = 10 log10(x); NaN for x <= 0, NaN or nodata."""
    n = x.size
    for b in range(start, stop):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            v = x[k]
            if is_nodata(v, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = db_of(np.float64(v))


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def to_linear(start, stop, x, nodata, use_nodata, out):
    """out = 10 ** (x / 10); NaN for NaN or nodata."""
    n = x.size
    for b in range(start, stop):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            v = x[k]
            if is_nodata(v, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = linear_of(np.float64(v))


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def log_ratio(start, stop, post, pre, nodata, use_nodata, out):
    """out = 10 log10(post / pre) (dB); NaN where either is NaN, <= 0 or nodata."""
    n = post.size
    for b in range(start, stop):
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            a = post[k]
            c = pre[k]
            if is_nodata(a, nodata, use_nodata) or is_nodata(c, nodata, use_nodata):
                out[k] = np.nan
            else:
                out[k] = log_ratio_of(np.float64(a), np.float64(c))


# --------------------------------------------------------------------------------------------
# pointwise, float32 fast path
#
# ``math.log10`` is a libm call that LLVM cannot vectorise. For float32 input we read the bits
# (a uint32 view of the same memory) and compute log(x) = e ln 2 + ln(m) with m in
# [sqrt(1/2), sqrt(2)) and ln(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, from its odd
# series up to s**9 (truncation < 4e-10 in ln m, far below float32 resolution). Everything is
# arithmetic and selects, so the loop vectorises. Subnormal inputs (< 1.2e-38) take the exact
# scalar path in a second pass over the block (only when the block has any).

_DB_PER_LN = 10.0 / math.log(10.0)
_LN2 = math.log(2.0)
_SQRT2 = math.sqrt(2.0)
_MANT = 1.0 / 8388608.0  # 2**-23


@njit_inner
def _db_bits32(u):
    """10 log10(x) from the bits ``u`` of a float32 x; NaN for x <= 0 or NaN, +inf for +inf.
    Subnormals give NaN here (the caller fixes them)."""
    # signed 32-bit integers convert to float in SIMD registers (unsigned ones do not on AVX2)
    e_raw = np.int32((u >> np.uint32(23)) & np.uint32(0xFF))
    m = np.float64(np.int32(u & np.uint32(0x7FFFFF))) * _MANT + 1.0
    big = m > _SQRT2
    m = m * 0.5 if big else m
    e = e_raw - np.int32(127) + (np.int32(1) if big else np.int32(0))
    f = m - 1.0
    z = f / (2.0 + f)
    z2 = z * z
    ln_m = 2.0 * z * (1.0 + z2 * (1.0 / 3.0 + z2 * (0.2 + z2 * (1.0 / 7.0 + z2 / 9.0))))
    db = _DB_PER_LN * (ln_m + np.float64(e) * _LN2)
    positive = (u >> np.uint32(31)) == np.uint32(0)
    normal = (e_raw != 0) & (e_raw != 255)
    special = np.inf if u == np.uint32(0x7F800000) else np.nan
    return db if (positive & normal) else special


@njit_inner
def _is_subnormal32(u):
    return ((u & np.uint32(0x7F800000)) == np.uint32(0)) & ((u & np.uint32(0x7FFFFF)) != 0)


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def to_db_f32(start, stop, x, bits, nodata, use_nodata, out):
    """:func:`to_db` for float32 ``x``; ``bits`` is ``x.view(np.uint32)``.

    Each block is taken as slices indexed from 0, so LLVM can prove the indices non-negative
    and drops numba's negative-index wraparound, which kept the loop scalar (issue 21; see
    ``spectral_cpu``). Nodata is a select, NaN nodata (``use_nodata`` False) compares false.
    """
    n = x.size
    nd = np.float32(nodata) if use_nodata else np.float32(np.nan)
    nan = np.float32(np.nan)
    for b in range(start, stop):
        k0 = b * BLOCK
        k1 = min(n, k0 + BLOCK)
        xb = x[k0:k1]
        ub = bits[k0:k1]
        ob = out[k0:k1]
        nsub = 0
        for k in range(k1 - k0):
            u = ub[k]
            db = np.float32(_db_bits32(u))
            nsub += _is_subnormal32(u)
            ob[k] = nan if xb[k] == nd else db
        if nsub:
            for k in range(k1 - k0):
                if _is_subnormal32(ub[k]) and not (xb[k] == nd):
                    ob[k] = db_of(np.float64(xb[k]))


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def log_ratio_f32(start, stop, post, pre, post_bits, pre_bits, nodata, use_nodata, out):
    """:func:`log_ratio` for float32 inputs as dB(post) - dB(pre) (bit views and slices as in
    :func:`to_db_f32`)."""
    n = post.size
    nd = np.float32(nodata) if use_nodata else np.float32(np.nan)
    nan = np.float32(np.nan)
    for b in range(start, stop):
        k0 = b * BLOCK
        k1 = min(n, k0 + BLOCK)
        pa = post[k0:k1]
        pb = pre[k0:k1]
        ua_ = post_bits[k0:k1]
        ub_ = pre_bits[k0:k1]
        ob = out[k0:k1]
        nsub = 0
        for k in range(k1 - k0):
            ua = ua_[k]
            ub = ub_[k]
            r = np.float32(_db_bits32(ua) - _db_bits32(ub))
            nsub += _is_subnormal32(ua) | _is_subnormal32(ub)
            ob[k] = nan if ((pa[k] == nd) | (pb[k] == nd)) else r
        if nsub:
            for k in range(k1 - k0):
                if _is_subnormal32(ua_[k]) or _is_subnormal32(ub_[k]):
                    a = pa[k]
                    c = pb[k]
                    if a == nd or c == nd:
                        continue
                    ob[k] = log_ratio_of(np.float64(a), np.float64(c))


# --------------------------------------------------------------------------------------------
# temporal median of a stack (pre-event reference)
@threaded(lambda *a: a[-1].shape[0])
def nanmedian_time(start, stop, stack, bufs, out):
    """``out[i, j]`` = median over ``t`` of the finite ``stack[t, i, j]`` (NaN where none).

    ``stack``: float32 ``(t, y, x)``; ``bufs``: float32 scratch ``(y, t)`` (a row's sort
    buffer, from the caller: an ``np.empty`` in the kernel cost ~0.1 s more numba compilation
    of a cold first run, issue 21). Even counts give the mean of the two middle values
    (numpy's ``nanmedian``). An insertion sort of the few finite values per pixel: time
    stacks are short (a handful of pre-event scenes), so this is O(t**2) per pixel without
    numpy's masked-array sort of the whole stack.
    """
    T, H, W = stack.shape
    for i in range(start, stop):
        buf = bufs[i]
        for j in range(W):
            n = 0
            for t in range(T):
                v = stack[t, i, j]
                if v == v and abs(v) != np.inf:
                    k = n
                    while k > 0 and buf[k - 1] > v:
                        buf[k] = buf[k - 1]
                        k -= 1
                    buf[k] = v
                    n += 1
            if n == 0:
                out[i, j] = np.nan
            elif n % 2 == 1:
                out[i, j] = buf[n // 2]
            else:
                out[i, j] = np.float32(0.5) * (buf[n // 2 - 1] + buf[n // 2])
