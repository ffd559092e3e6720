"""The WOfS CPU kernels (issue 21: division-free integer path, margins tree, float32 path
with exact fix-up) give bit-identical output to the formulation they replaced, kept here as
the reference: float64 reflectance x 10 000, three float64 normalised differences, the tree as
boolean algebra.

Random bands around every threshold, exact normalised-difference ties (p / r hit exactly),
zero sums, nodata, negative values (signed dtypes, offsets), lengths that end mid-vector and
mid-block; and the real Sen1Floods11 Sentinel-2 L1C chip (int16 digital numbers).
"""

from __future__ import annotations

from fractions import Fraction

import numba
import numpy as np
import pytest

from eo_drr import indices as I
from eo_drr.kernels import _scalar as S
from eo_drr.kernels import spectral_cpu, wofs_cpu
from eo_drr.kernels._jit import NOGIL
from eo_drr.kernels._spectral_loop import BLOCK, _span, key, nodata_key
from eo_drr.settings import shared_data_dir

_REF = {k: v for k, v in NOGIL.items() if k != "cache"}
NAN = np.nan


@numba.njit(**_REF)
def _ref_nd(a, b):
    s = a + b
    return (a - b) / s if s != 0 else NAN


@numba.njit(**_REF)
def _ref_select(blue, green, red, nir, swir1, swir2):
    ndi52 = _ref_nd(swir1, green)
    ndi43 = _ref_nd(nir, red)
    ndi72 = _ref_nd(swir2, green)
    left_branch = ndi52 <= S.WOFS_NDI52_ROOT
    swir2_n4 = swir2 <= S.WOFS_SWIR2_N4
    blue_n8 = blue <= S.WOFS_BLUE_N8
    ndi72_n12 = ndi72 <= S.WOFS_NDI72_N12
    left = (blue <= S.WOFS_BLUE_N2) & (
        (swir2_n4 & (ndi43 <= S.WOFS_NDI43_N5))
        | (
            (not swir2_n4)
            & (
                ((not blue_n8) & (ndi43 <= S.WOFS_NDI43_N9))
                | (
                    blue_n8
                    & (
                        ((not ndi72_n12) & (blue <= S.WOFS_BLUE_N13))
                        | (ndi72_n12 & ((ndi43 <= S.WOFS_NDI43_N16) | (blue <= S.WOFS_BLUE_N18)))
                    )
                )
            )
        )
    )
    ndi52_n21 = ndi52 <= S.WOFS_NDI52_N21
    red_n28 = red <= S.WOFS_RED_N28
    right = (
        ndi52_n21
        & (blue <= S.WOFS_BLUE_N22)
        & (ndi43 <= S.WOFS_NDI43_N24)
        & (
            (ndi52 <= S.WOFS_NDI52_N26)
            | (red_n28 & (blue <= S.WOFS_BLUE_N29))
            | ((not red_n28) & (blue <= S.WOFS_BLUE_N30))
        )
    ) | (
        (not ndi52_n21)
        & (ndi52 <= S.WOFS_NDI52_N35)
        & (blue <= S.WOFS_BLUE_N37)
        & (ndi43 <= S.WOFS_NDI43_N39)
        & (red <= S.WOFS_RED_N41)
        & (blue <= S.WOFS_BLUE_N43)
    )
    wet = (left_branch & left) | ((not left_branch) & right)
    bad = (ndi52 != ndi52) | (ndi43 != ndi43) | (ndi72 != ndi72)
    return NAN if bad else (1.0 if wet else 0.0)


@numba.njit(**_REF)
def _ref_wofs(blue, green, red, nir, swir1, swir2, scale, offset, nodata, out):
    n = blue.size
    sc = np.float64(scale) * 10000.0
    of = np.float64(offset) * 10000.0
    nd = nodata
    nan = np.float32(np.nan)
    for blk in range(-(-n // BLOCK)):
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
            w = _ref_select(
                np.float64(v0) * sc + of,
                np.float64(v1) * sc + of,
                np.float64(v2) * sc + of,
                np.float64(v3) * sc + of,
                np.float64(v4) * sc + of,
                np.float64(v5) * sc + of,
            )
            ob[k] = nan if bad else np.float32(w)


def _both(bands, scale, offset, nodata, use_nodata=True, integer=None):
    """(kernel output, reference output) for flat bands, as ``_np_apply`` calls them; with
    ``integer`` (the offset x 10 000) the integer kernel, run directly, must agree too."""
    nd = nodata_key(nodata, use_nodata, bands[0].dtype)
    new = np.full(bands[0].size, -7.0, np.float32)
    ref = np.full(bands[0].size, -7.0, np.float32)
    spectral_cpu.wofs(*bands, scale, offset, nd, new)
    _ref_wofs(*bands, scale, offset, nd, ref)
    if integer is not None:
        direct = np.full(bands[0].size, -7.0, np.float32)
        wofs_cpu.wofs_integer(*bands, np.float32(integer), nd, direct)
        _assert_same(direct, ref)
    if all(b.dtype == np.float32 for b in bands):
        direct = np.full(bands[0].size, -7.0, np.float32)
        wofs_cpu.wofs_float32(*bands, scale, offset, nd, direct)
        _assert_same(direct, ref)
    return new, ref


def _assert_same(new, ref):
    """Bit-identical float32 (NaN included), as integers."""
    np.testing.assert_array_equal(new.view(np.uint32), ref.view(np.uint32))


_RATIOS = [
    Fraction(repr(t))
    for t in (
        S.WOFS_NDI52_ROOT,
        S.WOFS_NDI52_N21,
        S.WOFS_NDI52_N26,
        S.WOFS_NDI52_N35,
        S.WOFS_NDI43_N5,
        S.WOFS_NDI43_N9,
        S.WOFS_NDI43_N16,
        S.WOFS_NDI43_N24,
        S.WOFS_NDI43_N39,
        S.WOFS_NDI72_N12,
    )
]
_BAND_T = (
    S.WOFS_BLUE_N2,
    S.WOFS_BLUE_N8,
    S.WOFS_BLUE_N13,
    S.WOFS_BLUE_N18,
    S.WOFS_BLUE_N22,
    S.WOFS_BLUE_N29,
    S.WOFS_BLUE_N30,
    S.WOFS_BLUE_N37,
    S.WOFS_BLUE_N43,
)


def _bands(rng, n, dtype, of):
    """Six raw bands (blue, green, red, nir, swir1, swir2) of ``dtype`` whose values + ``of``
    sit on and around every threshold, with exact ratio ties and zero sums."""
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -3000 - of), min(info.max, 6000 - of)
    b = [rng.integers(lo, hi, n, endpoint=True).astype(np.int64) for _ in range(6)]
    b[0][: n // 2] = rng.integers(max(lo, -of), min(hi, 700 - of), n // 2)
    b[5][: n // 4] = rng.integers(max(lo, -of), min(hi, 700 - of), n // 4)
    thr = np.array([int(np.floor(t)) + d for t in _BAND_T for d in (0, 1)])
    b[0][::7] = rng.choice(thr, b[0][::7].size) - of
    b[2][::5] = rng.choice([364, 365], b[2][::5].size) - of
    b[5][::11] = rng.choice([323, 324], b[5][::11].size) - of
    # exact ties (x - y) / (x + y) = p / r: x = m (r + p), y = m (r - p), every 6th pixel per pair
    pairs = (((4, 1), _RATIOS[:4], 3), ((3, 2), _RATIOS[4:9], 4), ((5, 1), _RATIOS[9:], 5))
    signs = [1, -1] if lo + of < 0 else [1]
    for (i, j), ratios, first in pairs:
        k = np.arange(first, n, 6)
        p = np.array([ratios[c % len(ratios)].numerator for c in range(k.size)])
        r = np.array([ratios[c % len(ratios)].denominator for c in range(k.size)])
        m = rng.integers(1, np.maximum(1, (hi + of) // (r + np.abs(p))), endpoint=True)
        m *= rng.choice(signs, k.size)
        b[i][k], b[j][k] = m * (r + p) - of, m * (r - p) - of
    # zero sums (x + y = 0 with the offset) and zeros (nodata)
    b[4][::17], b[1][::17] = -of, -of
    b[3][::19] = 0
    for v in b:
        np.clip(v, info.min, info.max, out=v)
    return [v.astype(dtype) for v in b]


@pytest.mark.parametrize(
    "dtype, offset",
    [(np.uint16, 0.0), (np.uint16, -0.1), (np.int16, 0.0), (np.int16, -0.1), (np.uint8, 0.0)],
)
@pytest.mark.parametrize("nodata", [0, 1400, None])
def test_integer_path_matches_the_float64_formulation(dtype, offset, nodata):
    rng = np.random.default_rng(21)
    n = 2 * BLOCK + 77  # ends mid-vector and mid-block
    of = int(round(offset * 10000))
    bands = _bands(rng, n, dtype, of)
    nd = 0 if nodata is None else nodata
    new, ref = _both(bands, 1e-4, offset, nd, nodata is not None, integer=of)
    _assert_same(new, ref)
    # the test data reaches both answers, NaN and the exact ties
    assert 0.05 < np.nanmean(ref) < 0.95 and np.isnan(ref).any()


def test_exhaustive_ties_and_neighbours_of_every_ratio_threshold():
    """Every x, y in 0..600 (uint16, offset 0 and -1000): all ties n / d = p / r there."""
    g = np.arange(601, dtype=np.uint16)
    x, y = (a.ravel() for a in np.meshgrid(g, g))
    for offset in (0.0, -0.03):
        for pair in ((4, 1), (3, 2), (5, 1)):
            bands = [np.full(x.size, 300, np.uint16) for _ in range(6)]
            bands[0][:] = 100  # blue low: most nodes reachable
            bands[pair[0]], bands[pair[1]] = x, y
            new, ref = _both(bands, 1e-4, offset, 0, False, integer=offset * 1e4)
            _assert_same(new, ref)


@pytest.mark.parametrize(
    "scale, offset, dtype",
    [(1e-4, -0.00005, np.uint16), (2e-4, 0.0, np.uint16), (1.0, 0.0, np.float32)],
)
def test_float_path_matches_the_float64_formulation(scale, offset, dtype):
    """Bands the integer path does not take (a half-unit offset, another scale, floats)."""
    rng = np.random.default_rng(5)
    n = BLOCK + 33
    if dtype == np.float32:
        bands = [rng.uniform(0, 0.3, n).astype(np.float32) for _ in range(6)]
        bands[0][::7] = np.float32(S.WOFS_BLUE_N8 / 1e4)
        bands[1][::13] = np.nan
        bands[4][::17] = bands[1][::17] = 0.0
    else:
        bands = _bands(rng, n, dtype, 0)
    new, ref = _both(bands, scale, offset, 0, dtype != np.float32)
    _assert_same(new, ref)


def test_public_function_takes_the_integer_path_and_matches():
    rng = np.random.default_rng(8)
    names = ("blue", "green", "red", "nir", "swir16", "swir22")
    bands = _bands(rng, 90 * 97, np.uint16, 0)
    grids = {k: v.reshape(90, 97) for k, v in zip(names, bands)}
    out = I.wofs(grids)
    ref = np.empty(out.size, np.float32)
    _ref_wofs(*bands, 1e-4, 0.0, np.float32(0), ref)
    _assert_same(out.ravel(), ref)
    # every uint16 digital number takes the integer kernel
    assert wofs_cpu.WOFS_INTEGER_LIMIT >= np.iinfo(np.uint16).max


@pytest.mark.shared_data
def test_real_s2_l1c_chip_matches():
    rasterio = pytest.importorskip("rasterio")
    path = shared_data_dir() / "sen1floods11-sample" / "Spain_7370579_S2Hand.tif"
    if not path.exists():
        pytest.skip(f"Sen1Floods11 chip not found at {path} (set EO_DRR_SHARED_DATA)")
    with rasterio.open(path) as src:
        s2 = src.read()  # int16, L1C TOA x 10 000, nodata 0
    bands = [np.ascontiguousarray(s2[i]).ravel() for i in (1, 2, 3, 7, 11, 12)]
    for offset, nodata in ((0.0, 0), (-0.1, 0), (0.0, None)):
        nd = 0 if nodata is None else nodata
        new, ref = _both(bands, 1e-4, offset, nd, nodata is not None, integer=offset * 1e4)
        _assert_same(new, ref)
    assert 0.05 < np.nanmean(ref) < 0.95
    # the float path on the same chip as reflectance (what products.water_s2 passes)
    fl = [(b / np.float32(1e4)).astype(np.float32) for b in bands]
    new, ref = _both(fl, 1.0, 0.0, 0, False)
    _assert_same(new, ref)


def _as_loader_reflectance(bands, of):
    """float32 reflectance as ``load.sentinel2.load_s2`` makes it: (DN + offset) / 10 000."""
    return [(b.astype(np.float32) + np.float32(of)) / np.float32(10000.0) for b in bands]


@pytest.mark.parametrize("of", [0, -1000])
@pytest.mark.parametrize("nodata", [0.0, None])
def test_float32_path_on_reflectance_with_ties_matches(of, nodata):
    """The float32 kernel on loader-style reflectance (what ``products.water_s2`` passes):
    exact ratio ties, band thresholds, zero sums, NaN, +-inf, float32 overflow, subnormals."""
    rng = np.random.default_rng(34)
    n = 2 * BLOCK + 1029  # ends mid-vector, mid-sub-block and mid-block
    bands = _as_loader_reflectance(_bands(rng, n, np.uint16, 0), of)
    bands[2][::23] = np.nan
    bands[3][::29] = np.inf
    bands[1][::31] = -np.inf
    bands[4][::37] = np.float32(3e38)  # x 10 000 overflows float32, not float64
    bands[5][::41] = np.float32(1e-42)  # subnormal
    bands[0][::43] = -bands[0][::43]
    nd = 0.0 if nodata is None else nodata
    new, ref = _both(bands, 1.0, 0.0, nd, nodata is not None)
    _assert_same(new, ref)
    assert 0.05 < np.nanmean(ref) < 0.95 and np.isnan(ref).any()


@pytest.mark.parametrize("scale, offset", [(1.0, 0.0), (1e-4, 0.0), (1e-4, -0.1), (3e-4, 0.02)])
def test_float32_path_exhaustive_ties_matches(scale, offset):
    """Every x, y in 0..600 as float32 (reflectance or digital numbers, with offsets): every
    ratio tie there is decided as the float64 formulation decides it."""
    g = np.arange(601, dtype=np.float32)
    x, y = (a.ravel() for a in np.meshgrid(g, g))
    div = np.float32(1e4 if scale == 1.0 else 1.0)
    for pair in ((4, 1), (3, 2), (5, 1)):
        bands = [np.full(x.size, 300, np.float32) for _ in range(6)]
        bands[0][:] = 100  # blue low: most nodes reachable
        bands[pair[0]], bands[pair[1]] = x.copy(), y.copy()
        bands = [b / div for b in bands]
        new, ref = _both(bands, scale, offset, 0.0, False)
        _assert_same(new, ref)


def test_float32_path_is_taken_for_float32_bands_only(monkeypatch):
    """Dispatch: float32 bands at ordinary scales take the float32 kernel; float64 bands and
    extreme scales (float32 sc or offset out of range) the float64 one."""
    taken = []
    for name in ("wofs_float32", "wofs_reflectance"):
        kernel = getattr(wofs_cpu, name)
        monkeypatch.setattr(
            wofs_cpu, name, lambda *a, _k=kernel, _n=name: (taken.append(_n), _k(*a))
        )
    rng = np.random.default_rng(55)
    f32 = _as_loader_reflectance(_bands(rng, 5000, np.uint16, 0), 0)
    cases = [
        (f32, 1.0, 0.0, "wofs_float32"),
        (f32, 1e-120, 0.0, "wofs_reflectance"),
        (f32, 1.0, 1e120, "wofs_reflectance"),
        ([b.astype(np.float64) for b in f32], 1.0, 0.0, "wofs_reflectance"),
    ]
    for bands, scale, offset, kernel in cases:
        taken.clear()
        new, ref = _both(bands, scale, offset, 0.0, False)
        _assert_same(new, ref)
        assert taken[0] == kernel
