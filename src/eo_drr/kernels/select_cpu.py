"""Exact medians by radix selection: ``numpy.median``'s value without sorting the data.

``numpy.median`` partitions a copy of the data (introselect, several passes with data-dependent
branches, after a boolean-mask copy per class); on the flood product's 2048 x 2048 scenes
these were the largest single cost (issue 21's profile: 137 ms of 594 ms). Here the median of
the finite float32 values of each class of a boolean mask is found in two counting passes
over the data, without copying it:

1. a histogram of the 16 high bits of each value's *order key* (the float's bits as an
   integer whose order is the float order: ``bits ^ ((bits >> 31) & 0x7fffffff)``, shifted to
   unsigned), one per class, counted by blocks of the data into private histograms; its
   cumulative sum names the high bits of the middle order statistics;
2. a histogram of the 16 low bits of the values with those high bits, which gives the whole
   32-bit key, hence the value, of each middle order statistic (no NaN or +-inf shares high
   bits with a finite value: their exponent bits are all ones).

The k-th smallest value is the same whatever the algorithm, so the result is numpy's: for an
even count the two middle values are averaged in float32 as ``numpy.median`` does
(``numpy.mean`` of two float32). One exception that cannot matter for backscatter: numpy does
not tell -0.0 from +0.0, the keys do (-0.0 just below +0.0), so a median that is exactly zero
may come back with the other sign.
"""

from __future__ import annotations

import numpy as np

from eo_drr.kernels._jit import njit_inner, threaded

#: high bits of the order key counted in the first pass (65 536 bins per class)
HIGH_BITS = 16
_SHIFT = 32 - HIGH_BITS
_BINS = 1 << HIGH_BITS
#: elements per block (each block counts into its own histograms)
BLOCK = 1 << 20


@njit_inner
def _ukey(bits):
    """Unsigned order key of float32 ``bits`` (int32): its order is the float order."""
    key = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))
    return np.uint32(np.int64(key) + np.int64(0x80000000))


@threaded(lambda *a: a[-1].shape[0])
def class_key_counts(start, stop, bits, mask, counts):
    """counts[b, c, h]: finite values of block ``b`` (BLOCK elements of the flat float32 data
    viewed as int32 ``bits``) in class ``c`` (0: ``mask`` False, 1: True) whose order key has
    high bits ``h``. ``counts`` is int32 (nblocks, 2, 65536), zeroed here."""
    n = bits.size
    inf_bits = np.int32(0x7F800000)
    for b in range(start, stop):
        cb = counts[b]
        cb[:, :] = 0
        c0 = cb[0]
        c1 = cb[1]
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            v = bits[k]
            if (v & inf_bits) != inf_bits:
                h = _ukey(v) >> np.uint32(_SHIFT)
                if mask[k]:
                    c1[h] += 1
                else:
                    c0[h] += 1


@threaded(lambda *a: a[-1].shape[0])
def low_key_counts(start, stop, bits, mask, cls, h0, h1, counts):
    """counts[b, s, l]: values of block ``b`` in class ``cls`` whose order key has high bits
    ``h0`` (s = 0) or ``h1`` (s = 1) and low bits ``l``: the second pass, which finds the
    whole key of an order statistic. ``counts`` is int32 (nblocks, 2, 65536), zeroed here."""
    n = bits.size
    want = cls == 1
    low = np.uint32(_BINS - 1)
    for b in range(start, stop):
        cb = counts[b]
        cb[:, :] = 0
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            u = _ukey(bits[k])
            h = u >> np.uint32(_SHIFT)
            if (h == h0 or h == h1) and mask[k] == want:  # NaN, +-inf: keys above any h
                cb[np.uint32(h != h0), u & low] += 1


def _value(ukey: int) -> float:
    """The float32 value of an unsigned order key (the key map is its own inverse)."""
    key = np.array([ukey - 0x80000000], dtype=np.int64).astype(np.int32)
    bits = key ^ ((key >> 31) & np.int32(0x7FFFFFFF))
    return bits.view(np.float32)[0]


def _order_stats(bits, mask, counts, cls, ranks) -> list:
    """float32 values of the given 0-based ``ranks`` (ascending, at most two) among the
    finite values of class ``cls``, from the first pass's ``counts``."""
    cum = np.cumsum(counts[:, cls, :].sum(axis=0, dtype=np.int64))
    highs = [int(h) for h in np.searchsorted(cum, np.asarray(ranks), side="right")]
    low = np.empty_like(counts)
    low_key_counts(bits, mask, np.int64(cls), np.uint32(highs[0]), np.uint32(highs[-1]), low)
    values = []
    for r, h in zip(ranks, highs):
        below = int(cum[h - 1]) if h else 0
        lcum = np.cumsum(low[:, int(h != highs[0]), :].sum(axis=0, dtype=np.int64))
        lo_bits = int(np.searchsorted(lcum, r - below, side="right"))
        values.append(_value((h << _SHIFT) | lo_bits))
    return values


#: below this many values numpy.median is as fast (and the kernels need not be compiled):
#: measured on 2 cores, numpy 0.55 / 2.2 / 13.8 ms and the kernels 0.46 / 0.96 / 3.0 ms at
#: 2^16 / 2^18 / 2^20 float32 values (the unit checks of a 1024 px tile take 2^20)
NUMPY_BELOW = 1 << 18


def _numpy_medians(
    flat: np.ndarray, m: np.ndarray
) -> tuple[tuple[float | None, float | None], tuple[int, int]]:
    """:func:`class_medians` by ``numpy.median`` (small arrays)."""
    fin = np.isfinite(flat)
    low, high = flat[fin & ~m], flat[fin & m]
    medians = [float(np.median(v)) if v.size else None for v in (low, high)]
    return (medians[0], medians[1]), (int(low.size), int(high.size))


def class_medians(
    x: np.ndarray, mask: np.ndarray
) -> tuple[tuple[float | None, float | None], tuple[int, int]]:
    """((median where ``mask`` is False, median where it is True), (their counts)) over the
    finite values of the float32 array ``x`` (units of ``x``); a median is None for a class
    without a finite value. The medians equal ``numpy.median(x[isfinite(x) & ~mask])`` and
    ``...(x[isfinite(x) & mask])`` (see the module docstring for the sign of a zero median)."""
    if x.dtype != np.float32:
        raise ValueError(f"class_medians: float32 data expected, got {x.dtype}")
    flat = np.ascontiguousarray(x).reshape(-1)
    m = np.ascontiguousarray(mask, dtype=np.bool_).reshape(-1)
    if m.size != flat.size:
        raise ValueError("class_medians: x and mask differ in size")
    if flat.size < NUMPY_BELOW:
        return _numpy_medians(flat, m)
    bits = flat.view(np.int32)
    nblocks = max(1, -(-flat.size // BLOCK))
    counts = np.empty((nblocks, 2, _BINS), dtype=np.int32)
    class_key_counts(bits, m, counts)
    medians: list[float | None] = []
    totals: list[int] = []
    for cls in (0, 1):
        total = int(counts[:, cls, :].sum(dtype=np.int64))
        totals.append(total)
        if not total:
            medians.append(None)
            continue
        half = total // 2
        ranks = [half - 1, half] if total % 2 == 0 else [half]
        values = _order_stats(bits, m, counts, cls, ranks)
        medians.append(float(np.mean(np.array(values, dtype=np.float32))))
    return (medians[0], medians[1]), (totals[0], totals[1])
