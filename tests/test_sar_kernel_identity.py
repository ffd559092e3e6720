"""Issue 21 ("fast first run"): the float32 dB helpers of :mod:`eo_drr.kernels.sar_cpu` are
built without CPython/C wrappers (:func:`eo_drr.kernels._jit.njit_inner`) and the temporal
median takes its sort buffers from the caller, so that numba compiles them faster. The values
must not change: the old formulations below (verbatim, docstrings dropped) and the kernels must
agree bit for bit on random float32 backscatter with NaN, infinities, zeros, negatives,
subnormals and nodata, and on a real Sentinel-1 chip (Sen1Floods11, dB turned back to linear
power)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from eo_drr.kernels import sar_cpu
from eo_drr.kernels._jit import njit_serial, threaded
from eo_drr.kernels._scalar import db_of, log_ratio_of
from eo_drr.kernels.sar_cpu import BLOCK

CHIP = Path("/work/shared/data/sen1floods11-chips/S1Hand/Ghana_53713_S1Hand.tif")


_DB_PER_LN = 10.0 / math.log(10.0)
_LN2 = math.log(2.0)
_SQRT2 = math.sqrt(2.0)
_MANT = 1.0 / 8388608.0  # 2**-23


@njit_serial
def _db_bits32(u):
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


@njit_serial
def _is_subnormal32(u):
    return ((u & np.uint32(0x7F800000)) == np.uint32(0)) & ((u & np.uint32(0x7FFFFF)) != 0)


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def old_to_db_f32(start, stop, x, bits, nodata, use_nodata, out):
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
def old_log_ratio_f32(start, stop, post, pre, post_bits, pre_bits, nodata, use_nodata, out):
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


@threaded(lambda *a: a[-1].shape[0])
def old_nanmedian_time(start, stop, stack, out):
    T, H, W = stack.shape
    for i in range(start, stop):
        buf = np.empty(T, dtype=np.float32)
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


def _random(seed, n=300_000):
    rng = np.random.default_rng(seed)
    p = [0.9, 0.05, 0.05]
    x = (rng.lognormal(-3, 3, n) * rng.choice([1, -1, 0], n, p=p)).astype(np.float32)
    for share, v in ((0.02, np.nan), (0.01, np.inf), (0.01, 1e-40), (0.01, -9999.0)):
        x[rng.random(n) < share] = np.float32(v)
    return x


def _linear_chip():
    import rasterio

    with rasterio.open(CHIP) as f:
        db = f.read().astype(np.float32).ravel()
    return (10.0 ** (db / 10.0)).astype(np.float32)


@pytest.mark.parametrize("source", ["random", "sen1floods11"])
@pytest.mark.parametrize(("nodata", "use_nodata"), [(-9999.0, True), (np.nan, False)])
def test_db_kernels_are_bit_identical_to_the_old_formulation(source, nodata, use_nodata):
    if source == "sen1floods11" and not CHIP.exists():
        pytest.skip(f"{CHIP} is not here")
    x = _random(1) if source == "random" else _linear_chip()
    y = np.roll(x, 7).copy()
    xb, yb = x.view(np.uint32), y.view(np.uint32)
    new, old = np.empty_like(x), np.empty_like(x)
    sar_cpu.to_db_f32(x, xb, nodata, use_nodata, new)
    old_to_db_f32(x, xb, nodata, use_nodata, old)
    assert new.tobytes() == old.tobytes()
    sar_cpu.log_ratio_f32(x, y, xb, yb, nodata, use_nodata, new)
    old_log_ratio_f32(x, y, xb, yb, nodata, use_nodata, old)
    assert new.tobytes() == old.tobytes()


@pytest.mark.parametrize("t", [0, 1, 2, 5, 6])
def test_temporal_median_is_bit_identical_to_the_old_formulation(t):
    stack = _random(2, t * 120 * 130).reshape(t, 120, 130)
    new, old = np.empty((120, 130), np.float32), np.empty((120, 130), np.float32)
    sar_cpu.nanmedian_time(stack, np.empty((120, t), np.float32), new)
    old_nanmedian_time(stack, old)
    assert new.tobytes() == old.tobytes()
