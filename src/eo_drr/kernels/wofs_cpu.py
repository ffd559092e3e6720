"""Numba CPU kernels for the WOfS water classification (Mueller et al. 2016; the tree is
``eo_drr.kernels._scalar.wofs_of``): :func:`wofs` picks the division-free integer kernel where
its arithmetic is exact, the division-free float32 one (exact fix-up of the pixels it cannot
decide) for float32 bands, else the float64 one. Flat C-contiguous bands, float32 out, as the
kernels of :mod:`eo_drr.kernels.spectral_cpu` (nodata and blocks: :mod:`._spectral_loop`).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from eo_drr.kernels._jit import njit_serial, threaded
from eo_drr.kernels._scalar import (
    WOFS_BLUE_N2,
    WOFS_BLUE_N8,
    WOFS_BLUE_N13,
    WOFS_BLUE_N18,
    WOFS_BLUE_N22,
    WOFS_BLUE_N29,
    WOFS_BLUE_N30,
    WOFS_BLUE_N37,
    WOFS_BLUE_N43,
    WOFS_NDI43_N5,
    WOFS_NDI43_N9,
    WOFS_NDI43_N16,
    WOFS_NDI43_N24,
    WOFS_NDI43_N39,
    WOFS_NDI52_N21,
    WOFS_NDI52_N26,
    WOFS_NDI52_N35,
    WOFS_NDI52_ROOT,
    WOFS_NDI72_N12,
    WOFS_RED_N28,
    WOFS_RED_N41,
    WOFS_SWIR2_N4,
    wofs_select_of,
    wofs_tree_of,
)
from eo_drr.kernels._spectral_loop import BLOCK, _span, key

#: the normalised-difference thresholds of ``_scalar.wofs_tree_of`` as the decimal fractions
#: p / r they stand for (-0.01 -> -1/100): ``repr`` is the shortest decimal that rounds back
#: to the float64, so each threshold is the float64 nearest its p / r
_WOFS_FRACTIONS = [
    [Fraction(repr(t)) for t in ts]
    for ts in (
        (WOFS_NDI52_ROOT, WOFS_NDI52_N21, WOFS_NDI52_N26, WOFS_NDI52_N35),
        (WOFS_NDI43_N5, WOFS_NDI43_N9, WOFS_NDI43_N16, WOFS_NDI43_N24, WOFS_NDI43_N39),
        (WOFS_NDI72_N12,),
    )
]
#: common denominator R of those fractions (100)
_WOFS_DEN = math.lcm(*(f.denominator for fs in _WOFS_FRACTIONS for f in fs))
#: their numerators over R: R p / r
_WOFS_NDI52, _WOFS_NDI43, (_WOFS_NDI72,) = (
    tuple(float(f * _WOFS_DEN) for f in fs) for fs in _WOFS_FRACTIONS
)
#: the blue thresholds of ``_scalar.wofs_tree_of`` (N2, N8, N13, N18, N22, N29, N30, N37, N43)
#: and their floors: for integers x, x <= t iff x <= floor(t)
_WOFS_BLUE = (
    WOFS_BLUE_N2,
    WOFS_BLUE_N8,
    WOFS_BLUE_N13,
    WOFS_BLUE_N18,
    WOFS_BLUE_N22,
    WOFS_BLUE_N29,
    WOFS_BLUE_N30,
    WOFS_BLUE_N37,
    WOFS_BLUE_N43,
)
_WOFS_BLUE_FLOOR = tuple(math.floor(t) for t in _WOFS_BLUE)
#: largest |band value x 10 000| :func:`wofs_integer` takes: R |a - b| and R |a + b| stay
#: integers below 2**24, exact in float32 (83 886)
WOFS_INTEGER_LIMIT = 2**24 // (2 * _WOFS_DEN)


def wofs(blue, green, red, nir, swir1, swir2, scale, offset, nodata, out):
    """WOfS water classification (``_scalar.wofs_of``): 1.0 water, 0.0 not, NaN nodata.

    Reflectance (``value * scale + offset``) is multiplied by 10 000 to the paper's units.
    Runs :func:`wofs_integer` where its arithmetic is exact (8/16-bit integer bands, scale
    1e-4, an offset of whole units: Sentinel-2 L1C/L2A digital numbers), else
    :func:`wofs_reflectance`; both give the same answer there, bit for bit. At 6 x 4096^2
    uint16 the integer kernel took half the time of the float64 one (one thread: 29 ms
    against 59 ms; issue 21, ``benchmarks/bench_kernels.py --size 4096 --only wofs``).
    Float32 bands (the reflectance ``products.water_s2`` passes) with a scale and offset x
    10 000 of at most 2**100 in magnitude (and the scale at least 2**-100) go to
    :func:`wofs_float32`, which gives :func:`wofs_reflectance`'s answer, bit for bit.
    """
    bands = (blue, green, red, nir, swir1, swir2)
    of = np.float64(offset) * 10000.0  # as wofs_reflectance computes it
    if np.float64(scale) * 10000.0 == 1.0 and of == np.floor(of):
        ranges = [np.iinfo(b.dtype) for b in bands if b.dtype.kind in "iu" and b.itemsize <= 2]
        if len(ranges) == len(bands) and all(
            max(abs(r.min + of), abs(r.max + of)) <= WOFS_INTEGER_LIMIT for r in ranges
        ):
            wofs_integer(*bands, np.float32(of), nodata, out)
            return
    sc = np.float64(scale) * 10000.0
    if (
        all(b.dtype == np.float32 for b in bands)
        and 2.0**-100 <= abs(sc) <= 2.0**100
        and abs(of) <= 2.0**100
    ):
        wofs_float32(*bands, scale, offset, nodata, out)
        return
    wofs_reflectance(*bands, scale, offset, nodata, out)


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def wofs_reflectance(blk0, blk1, blue, green, red, nir, swir1, swir2, scale, offset, nodata, out):
    """:func:`wofs` on any bands: the tree on float64 reflectance x 10 000, evaluated
    branch-free (``_scalar.wofs_select_of``). The loop vectorises (16 pixels per iteration,
    six ``vdivpd zmm``); its three correctly rounded float64 divisions per pixel bound it at
    about 0.3 of the memory bound, which is why :func:`wofs_integer` and :func:`wofs_float32`
    exist."""
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


@njit_serial
def _scaled_pair(a, b, twice_offset):
    """(R (a - b), a + b + 2 offset) (R: ``_WOFS_DEN``), both negated where the sum is < 0, so
    the sum is >= 0 and the ratio keeps its value."""
    s = a + b + twice_offset
    d = np.float32(_WOFS_DEN) * (a - b)
    return (-d if s < 0 else d), abs(s)


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def wofs_integer(blk0, blk1, blue, green, red, nir, swir1, swir2, offset, nodata, out):
    """:func:`wofs` for integer bands at scale 1e-4 with ``offset`` (x 10 000) a whole number,
    |band + offset| <= WOFS_INTEGER_LIMIT: the same decisions without a division.

    Band values x = v + offset are integers, exact in float32, and so is every sum, difference
    and product below (integers < 2**24); each margin of ``_scalar.wofs_tree_of`` is one more
    difference of two such integers, rounded at most once, which keeps its sign and does not
    make it 0: ``t - x`` becomes ``floor(t) - x``, ``ndi <= p / r`` becomes
    ``R p / r (a + b) - R (a - b)`` (``a + b > 0``, common denominator R = 100), and the
    negated tests subtract one more. The loop vectorises (16 pixels per iteration, no
    division, ``vminps``/``vmaxps``/``vfmsub``); at 6 x 4096^2 uint16 it takes half the time
    of :func:`wofs_reflectance` but is still bound by arithmetic, not memory, on 2 cores. That
    these are :func:`wofs_reflectance`'s decisions: for integers n, d (0 < |d| <= D) and a
    threshold T, the float64 nearest p / r, ``round64(n / d) <= T`` holds iff n / d <= p / r:
    n / d = p / r rounds to T itself; any other n / d lies at least 1 / (r D) > 3e-8 from p / r
    (D < 2**18, r <= 100), far beyond the 1e-17 between p / r, T and the next float64, and
    rounding is monotonic. :func:`wofs_reflectance` divides in float64 (``vdivpd``, correctly
    rounded) with exact sums (scale 1.0 in these units); a zero sum is NaN in both.
    """
    n = blue.size
    of = offset
    of2 = offset + offset
    nd = nodata
    nan = np.float32(np.nan)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    p52 = (
        np.float32(_WOFS_NDI52[0]),
        np.float32(_WOFS_NDI52[1]),
        np.float32(_WOFS_NDI52[2]),
        np.float32(_WOFS_NDI52[3]),
    )
    p43 = (
        np.float32(_WOFS_NDI43[0]),
        np.float32(_WOFS_NDI43[1]),
        np.float32(_WOFS_NDI43[2]),
        np.float32(_WOFS_NDI43[3]),
        np.float32(_WOFS_NDI43[4]),
    )
    p72 = np.float32(_WOFS_NDI72)
    # x + of <= t iff (floor(t) - of) - x >= 0; x + of > t iff x - (floor(t) + 1 - of) >= 0
    blue_le = (
        np.float32(_WOFS_BLUE_FLOOR[0]) - of,
        np.float32(_WOFS_BLUE_FLOOR[1]) - of,
        np.float32(_WOFS_BLUE_FLOOR[2]) - of,
        np.float32(_WOFS_BLUE_FLOOR[3]) - of,
        np.float32(_WOFS_BLUE_FLOOR[4]) - of,
        np.float32(_WOFS_BLUE_FLOOR[5]) - of,
        np.float32(_WOFS_BLUE_FLOOR[6]) - of,
        np.float32(_WOFS_BLUE_FLOOR[7]) - of,
        np.float32(_WOFS_BLUE_FLOOR[8]) - of,
    )
    blue_n8_up = np.float32(_WOFS_BLUE_FLOOR[1] + 1) - of
    red_le = np.float32(math.floor(WOFS_RED_N28)) - of
    red_up = np.float32(math.floor(WOFS_RED_N28) + 1) - of
    red_n41 = np.float32(math.floor(WOFS_RED_N41)) - of
    swir2_le = np.float32(math.floor(WOFS_SWIR2_N4)) - of
    swir2_up = np.float32(math.floor(WOFS_SWIR2_N4) + 1) - of
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
            bad = (
                (key(v0) == nd)
                | (key(v1) == nd)
                | (key(v2) == nd)
                | (key(v3) == nd)
                | (key(v4) == nd)
                | (key(v5) == nd)
            )
            fb = np.float32(v0)
            fg = np.float32(v1)
            fr = np.float32(v2)
            fs = np.float32(v5)
            n52, d52 = _scaled_pair(np.float32(v4), fg, of2)
            n43, d43 = _scaled_pair(np.float32(v3), fr, of2)
            n72, d72 = _scaled_pair(fs, fg, of2)
            bad |= min(d52, min(d43, d72)) == zero
            margin = wofs_tree_of(
                (
                    p52[0] * d52 - n52,
                    (n52 - one) - p52[0] * d52,
                    p52[1] * d52 - n52,
                    (n52 - one) - p52[1] * d52,
                    p52[2] * d52 - n52,
                    p52[3] * d52 - n52,
                ),
                (
                    p43[0] * d43 - n43,
                    p43[1] * d43 - n43,
                    p43[2] * d43 - n43,
                    p43[3] * d43 - n43,
                    p43[4] * d43 - n43,
                ),
                (p72 * d72 - n72, (n72 - one) - p72 * d72),
                (
                    blue_le[0] - fb,
                    blue_le[1] - fb,
                    fb - blue_n8_up,
                    blue_le[2] - fb,
                    blue_le[3] - fb,
                    blue_le[4] - fb,
                    blue_le[5] - fb,
                    blue_le[6] - fb,
                    blue_le[7] - fb,
                    blue_le[8] - fb,
                ),
                (red_le - fr, fr - red_up, red_n41 - fr),
                (swir2_le - fs, fs - swir2_up),
            )
            ob[k] = nan if bad else (one if margin >= zero else zero)


#: elements per sub-block of :func:`wofs_float32` (its seven streams stay in L1)
SUB = 1024
#: float32 constants of :func:`wofs_float32`: ``R p / r`` of the ratio thresholds, band
#: thresholds x 64 (blue N2 .. N43, red N28, N41, swir2 N4)
_F32_NDI52 = tuple(np.float32(v) for v in _WOFS_NDI52)
_F32_NDI43 = tuple(np.float32(v) for v in _WOFS_NDI43)
_F32_BLUE = tuple(np.float32(64.0 * t) for t in _WOFS_BLUE)
_F32_BANDS = tuple(np.float32(64.0 * t) for t in (WOFS_RED_N28, WOFS_RED_N41, WOFS_SWIR2_N4))


@njit_serial
def _pair(a, b):
    """(R (a - b), |a + b|) of float32 a, b (R: ``_WOFS_DEN``), the first negated where
    a + b < 0, so that the ratio keeps its value (:func:`wofs_float32`)."""
    s = a + b
    d = np.float32(_WOFS_DEN) * (a - b)
    return (-d if s < 0 else d), abs(s)


@threaded(lambda *a: -(-a[-1].size // BLOCK))
def wofs_float32(blk0, blk1, blue, green, red, nir, swir1, swir2, scale, offset, nodata, out):
    """:func:`wofs_reflectance` for float32 bands, its decisions in float32 without a division.

    The margins of ``_scalar.wofs_tree_of`` are computed in float32 from x = v sc + o (sc, o:
    scale and offset x 10 000 in float32): ``ndi <= p / r`` as ``R p / r |a + b| - sign(a +
    b) R (a - b)``, the band margins x 64, so that one error bound covers all. With u =
    2**-24, each x is within 4 u (|x| + 2 |o|) of :func:`wofs_reflectance`'s float64 x (sc
    and o rounded to float32, a product and a sum), hence each margin within 2**12 u M of
    the exact margin of those (M = sum |x| + 6 |o|; on a pair (R + |p|) 16 u (|a| + |b| +
    |o|) with R + |p| <= 161; on a band 64 (5 u M + 2084 u)), whose sign is the reference's
    correctly rounded float64 decision except within 2**-50 M of a tie. A min/max tree moves
    no more than its leaves, and a nonzero result does not depend on the sign of a zero
    leaf: where the tree's margin exceeds e = 2**-10 M + 2**-6 in magnitude and every pair
    sum exceeds e / R (its sign is then sure), the float32 answer is the reference's (e is
    four times the bound: room for fast-math reassociation). The other pixels (ties and
    near-ties, zero or unsure sums, infinities, float32 overflow; 3 in 10 000 on random
    digital numbers, 6 of 262 144 on the Sen1Floods11 chip) are marked 2.0 and recomputed with the
    reference formula, one sub-block of SUB pixels at a time while it is in L1. The loop
    vectorises (16 pixels per iteration); the marked pixels are counted by a second loop,
    since that count inside the first one made LLVM drop to 8. At 6 x 4096^2 float32 it took
    0.70 the time of :func:`wofs_reflectance` (``benchmarks/bench_kernels.py --size 4096
    --only wofs``).
    """
    n = blue.size
    sc = np.float32(np.float64(scale) * 10000.0)
    of = np.float32(np.float64(offset) * 10000.0)
    scd = np.float64(scale) * 10000.0  # as wofs_reflectance computes it
    ofd = np.float64(offset) * 10000.0
    of6 = np.float32(6.0) * abs(of)
    nd = nodata
    nan = np.float32(np.nan)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    redo = np.float32(2.0)
    rel = np.float32(2.0**-10)
    floor = np.float32(2.0**-6)
    den = np.float32(_WOFS_DEN)
    p52 = _F32_NDI52
    p43 = _F32_NDI43
    p72 = np.float32(_WOFS_NDI72)
    tb = _F32_BLUE
    red_n28, red_n41, swir2_n4 = _F32_BANDS
    g = np.float32(64.0)
    for blk in range(blk0, blk1):
        start, stop = _span(n, blk)
        for c0 in range(start, stop, SUB):
            c1 = min(stop, c0 + SUB)
            b0 = blue[c0:c1]
            b1 = green[c0:c1]
            b2 = red[c0:c1]
            b3 = nir[c0:c1]
            b4 = swir1[c0:c1]
            b5 = swir2[c0:c1]
            ob = out[c0:c1]
            for k in range(c1 - c0):
                v0, v1, v2, v3, v4, v5 = b0[k], b1[k], b2[k], b3[k], b4[k], b5[k]
                bad = (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3) | (v4 != v4)
                bad |= (v5 != v5) | (key(v0) == nd) | (key(v1) == nd) | (key(v2) == nd)
                bad |= (key(v3) == nd) | (key(v4) == nd) | (key(v5) == nd)
                x0, x1, x2 = v0 * sc + of, v1 * sc + of, v2 * sc + of
                x3, x4, x5 = v3 * sc + of, v4 * sc + of, v5 * sc + of
                e = rel * (abs(x0) + abs(x1) + abs(x2) + abs(x3) + abs(x4) + abs(x5) + of6)
                e += floor
                n52, d52 = _pair(x4, x1)
                n43, d43 = _pair(x3, x2)
                n72, d72 = _pair(x5, x1)
                fb = g * x0
                fr = g * x2
                fs = g * x5
                margin = wofs_tree_of(
                    (
                        p52[0] * d52 - n52,
                        n52 - p52[0] * d52,
                        p52[1] * d52 - n52,
                        n52 - p52[1] * d52,
                        p52[2] * d52 - n52,
                        p52[3] * d52 - n52,
                    ),
                    (
                        p43[0] * d43 - n43,
                        p43[1] * d43 - n43,
                        p43[2] * d43 - n43,
                        p43[3] * d43 - n43,
                        p43[4] * d43 - n43,
                    ),
                    (p72 * d72 - n72, n72 - p72 * d72),
                    (tb[0] - fb, tb[1] - fb, fb - tb[1], tb[2] - fb, tb[3] - fb)
                    + (tb[4] - fb, tb[5] - fb, tb[6] - fb, tb[7] - fb, tb[8] - fb),
                    (red_n28 - fr, fr - red_n28, red_n41 - fr),
                    (swir2_n4 - fs, fs - swir2_n4),
                )
                sure = (abs(margin) > e) & (den * min(d52, min(d43, d72)) > e)
                ob[k] = nan if bad else ((one if margin >= zero else zero) if sure else redo)
            marked = 0
            for k in range(c1 - c0):
                marked += ob[k] == redo
            k = 0
            while marked > 0:  # not a counted loop: LLVM leaves it scalar, as it should
                if ob[k] == redo:
                    w = wofs_select_of(
                        np.float64(b0[k]) * scd + ofd,
                        np.float64(b1[k]) * scd + ofd,
                        np.float64(b2[k]) * scd + ofd,
                        np.float64(b3[k]) * scd + ofd,
                        np.float64(b4[k]) * scd + ofd,
                        np.float64(b5[k]) * scd + ofd,
                    )
                    ob[k] = np.float32(w)
                    marked -= 1
                k += 1
