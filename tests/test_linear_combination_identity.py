"""``spectral_cpu.linear_combination`` (issue 21: a threaded kernel whose band loop LLVM
unrolls, no ``prange``, no ``literal_unroll``) gives bit-identical output to the kernel it
replaced, kept here as the reference: the bands of a ``literal_unroll``ed tuple summed in a
``prange`` loop.

Random bands of every dtype the callers pass (uint16 and int16 digital numbers, float32
reflectance), NaN and nodata in any band, zeros (signed zeros from negative coefficients),
+-inf, values whose products round, lengths that end mid-vector and mid-block, one to six
bands with the AWEI and tasseled-cap coefficients and random ones; the public AWEI on the
real Sen1Floods11 Sentinel-2 L1C chip.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from eo_drr import indices as I
from eo_drr.kernels import spectral_cpu
from eo_drr.kernels._jit import FASTMATH
from eo_drr.kernels._spectral_loop import BLOCK, _span, key, nodata_key
from eo_drr.settings import shared_data_dir


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH)
def _ref_linear_combination(bands, coefs, scale, offset, nodata, out):
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


COEFS = [
    (1.0, 2.5, -1.5, -1.5, -0.25),  # AWEI_sh
    (4.0, -0.25, -4.0, -2.75),  # AWEI_nsh
    (0.3510, 0.3813, 0.3437, 0.7196, 0.2396, 0.1949),  # a tasseled cap row
    (-0.7,),
    (0.1, -0.1),
]


def _both(bands, coefs, scale, offset, nodata, use_nodata):
    bands = tuple(np.ascontiguousarray(b) for b in bands)
    c = np.asarray(coefs, np.float32)
    nd = nodata_key(nodata, use_nodata, bands[0].dtype)
    new = np.full(bands[0].size, 7.0, np.float32)  # the kernel must overwrite every pixel
    ref = np.empty(bands[0].size, np.float32)
    spectral_cpu.linear_combination(bands, c, scale, offset, nd, new)
    _ref_linear_combination(bands, c, scale, offset, nd, ref)
    return new, ref


def _assert_same(new, ref):
    assert new.shape == ref.shape
    diff = np.flatnonzero(new.view(np.uint32) != ref.view(np.uint32))
    assert diff.size == 0, (diff[:5], new[diff[:5]], ref[diff[:5]])


def _bands(rng, n, dtype, k, nodata):
    out = []
    for _ in range(k):
        if dtype == np.float32:
            b = rng.uniform(-0.2, 1.2, n).astype(np.float32)
            b[rng.random(n) < 0.02] = np.nan
            b[rng.random(n) < 0.005] = np.inf
            b[rng.random(n) < 0.005] = -np.inf
            b[rng.random(n) < 0.03] = 0.0
            b[rng.random(n) < 0.01] = -0.0
        else:
            info = np.iinfo(dtype)
            b = rng.integers(max(info.min, -3000), min(info.max, 12000), n).astype(dtype)
            b[rng.random(n) < 0.05] = 0
        b[rng.random(n) < 0.02] = nodata
        out.append(b)
    return out


@pytest.mark.parametrize("coefs", COEFS)
@pytest.mark.parametrize(
    ("dtype", "scale", "offset", "nodata", "use"),
    [
        (np.uint16, 1e-4, 0.0, 0, True),
        (np.uint16, 1e-4, -0.1, 0, True),
        (np.int16, 1e-4, 0.0, -9999, True),
        (np.uint16, 2.75e-5, -0.2, 0, False),
        (np.float32, 1.0, 0.0, -1.0, True),
        (np.float32, 1.0, 0.0, 0.0, False),
        (np.float32, 0.5, 0.25, 0.0, True),
    ],
)
def test_bits_equal_the_former_kernel(coefs, dtype, scale, offset, nodata, use):
    rng = np.random.default_rng(len(coefs) * 31 + int(scale * 1e5))
    for n in (1, 7, 1000, BLOCK - 3, 2 * BLOCK + 17):
        bands = _bands(rng, n, dtype, len(coefs), nodata if use else 1)
        new, ref = _both(bands, coefs, scale, offset, nodata, use)
        _assert_same(new, ref)


def test_zero_sums_and_rounding_ties():
    # bands whose terms cancel exactly (signed zeros) or round at the last bit
    rng = np.random.default_rng(5)
    n = 3 * BLOCK + 5
    a = rng.integers(0, 4, n).astype(np.uint16)
    bands = (a, a.copy(), (3 - a).astype(np.uint16), np.zeros(n, np.uint16))
    for coefs in ((1.0, -1.0, 0.5, -0.5), (-1.0, 1.0, -1.0, 1.0), (0.1, 0.2, 0.3, -0.6)):
        for offset in (0.0, -1e-4, 1e-4):
            new, ref = _both(bands, coefs, 1e-4, offset, 0, False)
            _assert_same(new, ref)
    f = rng.uniform(0, 1, n).astype(np.float32)
    bands = (f, np.nextafter(f, np.float32(2)), -f)
    new, ref = _both(bands, (1.0, -1.0, 3.0), 1.0, 0.0, 0.0, False)
    _assert_same(new, ref)


def test_empty_raster():
    e = np.empty(0, np.uint16)
    new, ref = _both((e, e), (1.0, 2.0), 1e-4, 0.0, 0, True)
    assert new.size == 0 and ref.size == 0


@pytest.mark.shared_data
def test_real_s2_l1c_chip_awei_matches():
    rasterio = pytest.importorskip("rasterio")
    path = shared_data_dir() / "sen1floods11-sample" / "Spain_7370579_S2Hand.tif"
    if not path.exists():
        pytest.skip(f"Sen1Floods11 chip not found at {path} (set EO_DRR_SHARED_DATA)")
    with rasterio.open(path) as src:
        s2 = src.read()  # int16, L1C TOA x 10 000, nodata 0
    # blue, green, nir, swir16, swir22 (AWEI_sh's bands)
    raw = [np.ascontiguousarray(s2[i]) for i in (1, 2, 7, 11, 12)]
    names = ("blue", "green", "nir", "swir16", "swir22")
    out = I.awei_sh(dict(zip(names, raw)))
    for offset, nodata, use in ((0.0, 0, True), (-0.1, 0, True), (0.0, 0, False)):
        new, ref = _both([r.ravel() for r in raw], COEFS[0], 1e-4, offset, nodata, use)
        _assert_same(new, ref)
    assert np.isfinite(out).mean() > 0.5
