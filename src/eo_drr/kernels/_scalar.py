"""Scalar formulas shared by the CPU (``numba.njit``) and CUDA (``numba.cuda.jit``) kernels.

``register_jitable`` makes a plain Python function callable from both targets, so each formula
is written once and the CPU and GPU results agree. Nothing here touches an array as a whole.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

NAN = math.nan


@register_jitable
def is_nodata(v, nodata, use_nodata):
    """True for NaN, or for ``v == nodata`` when a nodata value is in force."""
    return (v != v) or (use_nodata and v == nodata)


@register_jitable
def db_of(v):
    """10 log10(v) for v > 0; NaN for v <= 0 or NaN."""
    if v > 0.0:
        return 10.0 * math.log10(v)
    return NAN


@register_jitable
def linear_of(v_db):
    """10 ** (v_db / 10); NaN stays NaN."""
    return math.pow(10.0, v_db * 0.1)


@register_jitable
def log_ratio_of(post, pre):
    """10 log10(post / pre) in dB; NaN when either is NaN or <= 0."""
    if post > 0.0 and pre > 0.0:
        return 10.0 * math.log10(post / pre)
    return NAN


@register_jitable
def is_valid(v):
    """Finite (neither NaN nor +-inf): what the windowed filters count as data."""
    return abs(v) < math.inf


@register_jitable
def mmse_value(v, s, q, c, cu2, scale):
    """MMSE speckle estimate of the centre pixel ``v`` from window sums.

    ``s``, ``q``, ``c``: sum, sum of squares and number of the valid pixels of the window.
    ``cu2`` = Cu**2 = 1 / ENL, the squared coefficient of variation of the speckle. Weight
    k = ``scale`` * (1 - Cu**2 / Ci**2) clipped to [0, 1], Ci**2 = var_y / mean**2; estimate
    = mean + k * (v - mean); the mean where var_y <= 0. ``scale`` 1: Lee's gain (Lee 1980,
    IEEE TPAMI 2(2):165-168); 1 / (1 + Cu**2): Kuan's (Kuan et al. 1985, IEEE TPAMI
    7(2):165-177), never above 1 / (1 + Cu**2).
    """
    if not is_valid(v) or c <= 0.0:
        return NAN
    m = s / c
    var_y = q / c - m * m
    if var_y <= 0.0:
        return m
    k = scale * (var_y - m * m * cu2) / var_y
    if k < 0.0:
        k = 0.0
    elif k > 1.0:
        k = 1.0
    return m + k * (v - m)


@register_jitable
def kuan_value(v, s, q, c, cu2):
    """Kuan et al. (1985) estimate: :func:`mmse_value` with scale 1 / (1 + Cu**2)."""
    return mmse_value(v, s, q, c, cu2, 1.0 / (1.0 + cu2))


@register_jitable
def lee_gain_value(v, s, q, c, cu2):
    """Lee (1980) estimate: :func:`mmse_value` with scale 1."""
    return mmse_value(v, s, q, c, cu2, 1.0)


@register_jitable
def _mean3(x, ci, cj):
    """NaN-aware mean of the 3 x 3 block centred on (ci, cj); pixels outside the raster are
    ignored; NaN when no pixel is valid."""
    H = x.shape[0]
    W = x.shape[1]
    s = 0.0
    c = 0.0
    for a in range(ci - 1, ci + 2):
        if a < 0 or a >= H:
            continue
        for b in range(cj - 1, cj + 2):
            if b < 0 or b >= W:
                continue
            v = x[a, b]
            if is_valid(v):
                s += v
                c += 1.0
    if c == 0.0:
        return NAN
    return s / c


@register_jitable
def _in_direction(direction, di, dj):
    """Is offset (di, dj) of the 7 x 7 window inside the edge-aligned window ``direction``?

    0/1: left/right of a vertical edge; 2/3: above/below a horizontal edge; 4/5: upper-right /
    lower-left of an edge along the main diagonal; 6/7: upper-left / lower-right of an edge
    along the anti-diagonal; 8: the whole square (no edge found). Each half window keeps the
    edge line itself: 28 of the 49 pixels.
    """
    if direction == 0:
        return dj <= 0
    if direction == 1:
        return dj >= 0
    if direction == 2:
        return di <= 0
    if direction == 3:
        return di >= 0
    if direction == 4:
        return dj >= di
    if direction == 5:
        return dj <= di
    if direction == 6:
        return di + dj <= 0
    if direction == 7:
        return di + dj >= 0
    return True


@register_jitable
def _closer(m_centre, m_a, m_b, dir_a, dir_b):
    """The side (direction code) whose sub-window mean is closer to the centre mean."""
    da = abs(m_centre - m_a)
    db = abs(m_centre - m_b)
    if da <= db or db != db:
        return dir_a
    return dir_b


@register_jitable
def direction_from_means(m00, m01, m02, m10, m11, m12, m20, m21, m22):
    """Edge direction (0-8, see ``_in_direction``) from the 3 x 3 matrix of sub-window means.

    Four gradient masks on the means (vertical, horizontal and the two diagonal edges) give
    edge strengths; the strongest one picks the edge orientation, and the side whose sub-window
    mean is closer to the centre one picks the half window. NaN means disable the masks that
    use them; when no mask is usable the whole square is used (code 8).
    """
    # masks [-1 0 1]x3, [1 1 1; 0 0 0; -1 -1 -1], [0 1 1; -1 0 1; -1 -1 0], [1 1 0; 1 0 -1; 0 -1 -1]
    g_vertical = abs((m02 + m12 + m22) - (m00 + m10 + m20))
    g_horizontal = abs((m00 + m01 + m02) - (m20 + m21 + m22))
    g_diag = abs((m01 + m02 + m12) - (m10 + m20 + m21))
    g_anti = abs((m00 + m01 + m10) - (m12 + m21 + m22))
    best = -1.0
    direction = 8
    if g_vertical > best:
        best = g_vertical
        direction = _closer(m11, m10, m12, 0, 1)
    if g_horizontal > best:
        best = g_horizontal
        direction = _closer(m11, m01, m21, 2, 3)
    if g_diag > best:
        best = g_diag
        direction = _closer(m11, m02, m20, 4, 5)
    if g_anti > best:
        best = g_anti
        direction = _closer(m11, m00, m22, 6, 7)
    return direction


@register_jitable
def refined_lee_direction(x, i, j):
    """Edge direction of Lee's (1981) refined filter at pixel (i, j), 7 x 7 window.

    The 7 x 7 window is covered by nine 3 x 3 sub-windows centred 2 pixels apart; their means
    (``_mean3``) form the 3 x 3 matrix of :func:`direction_from_means`. Sub-windows wholly
    outside the raster (only on its outermost ring of pixels) have NaN means.
    """
    return direction_from_means(
        _mean3(x, i - 2, j - 2),
        _mean3(x, i - 2, j),
        _mean3(x, i - 2, j + 2),
        _mean3(x, i, j - 2),
        _mean3(x, i, j),
        _mean3(x, i, j + 2),
        _mean3(x, i + 2, j - 2),
        _mean3(x, i + 2, j),
        _mean3(x, i + 2, j + 2),
    )


@register_jitable
def refined_lee_in_direction(x, i, j, direction, cu2):
    """Lee's weight over the edge-aligned half window ``direction`` of the 7 x 7 window.
    ``v`` is taken as float64 (``* 1.0``, exact), as :func:`kuan_value` promotes it anyway, so
    numba compiles no float32 variant of :func:`kuan_value` and :func:`mmse_value` (issue 21)."""
    v = x[i, j] * 1.0
    if not is_valid(v):
        return NAN
    H = x.shape[0]
    W = x.shape[1]
    s = 0.0
    q = 0.0
    c = 0.0
    for di in range(-3, 4):
        a = i + di
        if a < 0 or a >= H:
            continue
        for dj in range(-3, 4):
            b = j + dj
            if b < 0 or b >= W:
                continue
            if not _in_direction(direction, di, dj):
                continue
            u = x[a, b]
            if is_valid(u):
                s += u
                q += u * u
                c += 1.0
    return kuan_value(v, s, q, c, cu2)


@register_jitable
def refined_lee_value(x, i, j, cu2):
    """Refined Lee (1981) estimate at (i, j): Lee's weight over the edge-aligned half window."""
    if not is_valid(x[i, j]):
        return NAN
    return refined_lee_in_direction(x, i, j, refined_lee_direction(x, i, j), cu2)


# --------------------------------------------------------------------------------------------
# spectral indices (reflectance in, float32-friendly)


@register_jitable
def nd_of(a, b):
    """Normalised difference (a - b) / (a + b); NaN where a + b == 0."""
    s = a + b
    return (a - b) / s if s != 0 else NAN


@register_jitable
def bsi_of(blue, red, nir, swir1):
    """Bare soil index (Rikimaru et al. 2002): ((swir1 + red) - (nir + blue)) / (sum of all)."""
    return nd_of(swir1 + red, nir + blue)


# WOfS decision tree (Mueller et al. 2016, Remote Sens. Environ. 174:341-352, Fig. 3; the same
# nodes as Geoscience Australia's wofs/classifier.py). Thresholds are in the paper's units:
# surface reflectance x 10 000 for bands, unitless for the normalised differences. Landsat
# TM/ETM+ bands 1, 2, 3, 4, 5, 7 -> Sentinel-2 B02, B03, B04, B08, B11, B12.
WOFS_NDI52_ROOT = -0.01  # N1: ndi(swir1, green)
WOFS_BLUE_N2 = 2083.5
WOFS_SWIR2_N4 = 323.5
WOFS_NDI43_N5 = 0.61
WOFS_BLUE_N8 = 1400.5
WOFS_NDI43_N9 = -0.01
WOFS_NDI72_N12 = -0.23
WOFS_BLUE_N13 = 379.0
WOFS_NDI43_N16 = 0.22
WOFS_BLUE_N18 = 473.0
WOFS_NDI52_N21 = 0.23
WOFS_BLUE_N22 = 334.5
WOFS_NDI43_N24 = 0.54
WOFS_NDI52_N26 = 0.12
WOFS_RED_N28 = 364.5
WOFS_BLUE_N29 = 129.5
WOFS_BLUE_N30 = 300.5
WOFS_NDI52_N35 = 0.34
WOFS_BLUE_N37 = 249.5
WOFS_NDI43_N39 = 0.45
WOFS_RED_N41 = 364.5
WOFS_BLUE_N43 = 129.5


@register_jitable
def wofs_of(blue, green, red, nir, swir1, swir2):
    """WOfS water test for one pixel; bands as reflectance x 10 000. 1.0 water, 0.0 not."""
    ndi52 = nd_of(swir1, green)
    ndi43 = nd_of(nir, red)
    ndi72 = nd_of(swir2, green)
    if ndi52 != ndi52 or ndi43 != ndi43 or ndi72 != ndi72:
        return NAN
    if ndi52 <= WOFS_NDI52_ROOT:  # N1, left branch
        if blue > WOFS_BLUE_N2:
            return 0.0  # N3
        if swir2 <= WOFS_SWIR2_N4:
            return 1.0 if ndi43 <= WOFS_NDI43_N5 else 0.0  # N6 / N7
        if blue > WOFS_BLUE_N8:
            return 1.0 if ndi43 <= WOFS_NDI43_N9 else 0.0  # N10 / N11
        if ndi72 > WOFS_NDI72_N12:
            return 1.0 if blue <= WOFS_BLUE_N13 else 0.0  # N14 / N15
        if ndi43 <= WOFS_NDI43_N16:
            return 1.0  # N17
        return 1.0 if blue <= WOFS_BLUE_N18 else 0.0  # N19 / N20
    if ndi52 <= WOFS_NDI52_N21:  # N21, right branch
        if blue > WOFS_BLUE_N22:
            return 0.0  # N23
        if ndi43 > WOFS_NDI43_N24:
            return 0.0  # N25
        if ndi52 <= WOFS_NDI52_N26:
            return 1.0  # N27
        if red <= WOFS_RED_N28:
            return 1.0 if blue <= WOFS_BLUE_N29 else 0.0  # N31 / N32
        return 1.0 if blue <= WOFS_BLUE_N30 else 0.0  # N33 / N34
    if ndi52 > WOFS_NDI52_N35:
        return 0.0  # N36
    if blue > WOFS_BLUE_N37:
        return 0.0  # N38
    if ndi43 > WOFS_NDI43_N39:
        return 0.0  # N40
    if red > WOFS_RED_N41:
        return 0.0  # N42
    return 1.0 if blue <= WOFS_BLUE_N43 else 0.0  # N44 / N45


@register_jitable
def _all(a, b):
    """AND of two margins (the smaller; written out: the builtin ``min`` compiles slower)."""
    return a if a < b else b


@register_jitable
def _any(a, b):
    """OR of two margins (the larger)."""
    return a if a > b else b


@register_jitable
def wofs_tree_of(ndi52, ndi43, ndi72, blue, red, swir2):
    """:func:`wofs_of` without branches: the same nodes, each given as a *margin*, a number
    that is >= 0 exactly where the node's test holds; AND is then the smaller margin, OR the
    larger, and the pixel is water where the result is >= 0. Every margin is evaluated, so a
    CPU loop over pixels vectorises (the tree's branches mispredict on real scenes). Used by
    ``wofs_cpu.wofs_integer``, whose margins are exact integers; tested equal to the float64
    :func:`wofs_select_of`.

    Margins, tuples in node order (``x <= t``: e.g. ``t - x``; ``above``: the negated test
    ``x > t``):
    ``ndi52``: N1 root, above N1, N21, above N21, N26, N35; ``ndi43``: N5, N9, N16, N24, N39;
    ``ndi72``: N12, above N12; ``blue``: N2, N8, above N8, N13, N18, N22, N29, N30, N37, N43;
    ``red``: N28, above N28, N41; ``swir2``: N4, above N4.
    """
    root, above_root, n21, above_n21, n26, n35 = ndi52
    n5, n9, n16, n24, n39 = ndi43
    n12, above_n12 = ndi72
    b2, b8, above_b8, b13, b18, b22, b29, b30, b37, b43 = blue
    r28, above_r28, r41 = red
    s4, above_s4 = swir2
    # N2 -> N4 (N5) | above N4 -> N8 (above: N9 | N12 (above: N13 | N16 | N18))
    left = _all(
        b2,
        _any(
            _all(s4, n5),
            _all(
                above_s4,
                _any(
                    _all(above_b8, n9),
                    _all(b8, _any(_all(above_n12, b13), _all(n12, _any(n16, b18)))),
                ),
            ),
        ),
    )
    # N21 -> N22, N24, (N26 | N28 -> N29 | above N28 -> N30) | above N21 -> N35 .. N43
    right = _any(
        _all(_all(n21, b22), _all(n24, _any(n26, _any(_all(r28, b29), _all(above_r28, b30))))),
        _all(_all(_all(above_n21, n35), _all(b37, n39)), _all(r41, b43)),
    )
    return _any(_all(root, left), _all(above_root, right))


@register_jitable
def wofs_select_of(blue, green, red, nir, swir1, swir2):
    """:func:`wofs_of` as boolean algebra: every test evaluated, no branches, so that a CPU
    loop over pixels vectorises (the tree's branches mispredict on real scenes). Same nodes,
    same thresholds; tested equal to :func:`wofs_of`."""
    ndi52 = nd_of(swir1, green)
    ndi43 = nd_of(nir, red)
    ndi72 = nd_of(swir2, green)
    left_branch = ndi52 <= WOFS_NDI52_ROOT
    swir2_n4 = swir2 <= WOFS_SWIR2_N4
    blue_n8 = blue <= WOFS_BLUE_N8
    ndi72_n12 = ndi72 <= WOFS_NDI72_N12
    left = (blue <= WOFS_BLUE_N2) & (
        (swir2_n4 & (ndi43 <= WOFS_NDI43_N5))
        | (
            (not swir2_n4)
            & (
                ((not blue_n8) & (ndi43 <= WOFS_NDI43_N9))
                | (
                    blue_n8
                    & (
                        ((not ndi72_n12) & (blue <= WOFS_BLUE_N13))
                        | (ndi72_n12 & ((ndi43 <= WOFS_NDI43_N16) | (blue <= WOFS_BLUE_N18)))
                    )
                )
            )
        )
    )
    ndi52_n21 = ndi52 <= WOFS_NDI52_N21
    red_n28 = red <= WOFS_RED_N28
    right = (
        ndi52_n21
        & (blue <= WOFS_BLUE_N22)
        & (ndi43 <= WOFS_NDI43_N24)
        & (
            (ndi52 <= WOFS_NDI52_N26)
            | (red_n28 & (blue <= WOFS_BLUE_N29))
            | ((not red_n28) & (blue <= WOFS_BLUE_N30))
        )
    ) | (
        (not ndi52_n21)
        & (ndi52 <= WOFS_NDI52_N35)
        & (blue <= WOFS_BLUE_N37)
        & (ndi43 <= WOFS_NDI43_N39)
        & (red <= WOFS_RED_N41)
        & (blue <= WOFS_BLUE_N43)
    )
    wet = (left_branch & left) | ((not left_branch) & right)
    bad = (ndi52 != ndi52) | (ndi43 != ndi43) | (ndi72 != ndi72)
    return NAN if bad else (1.0 if wet else 0.0)
