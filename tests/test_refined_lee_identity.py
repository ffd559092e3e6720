"""Issue 21 ("fast first run"): the refined Lee filter's border path
(``_scalar.refined_lee_in_direction``) takes the centre pixel as float64, so that numba compiles
one ``kuan_value``/``mmse_value`` for both paths of the CPU kernel instead of a float32 and a
float64 one, and the CPU kernel's helpers are compiled without Python wrappers; the sub-window
means of a row are computed without border tests inside the raster and the edge directions of
a row in a loop of their own (both vectorise); the half-window sums of the pixels of a row are
grouped by direction, two pixels at a time, without the validity selects in rows with no NaN
or infinity (``refined_lee_grouped``, for large rasters). The output must not change: the former kernel below (its border path verbatim, with the float32 centre) runs
beside :func:`eo_drr.kernels.refined_lee_cpu.refined_lee` on random rasters with NaN, +-inf, zeros,
constant patches, step edges and every border, and on the real Sentinel-1 chip; every output
pixel must be bit-identical."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from eo_drr.kernels import refined_lee_cpu
from eo_drr.kernels._jit import NOGIL
from eo_drr.kernels._scalar import (
    NAN,
    _in_direction,
    _mean3,
    direction_from_means,
    is_valid,
    kuan_value,
)
from eo_drr.settings import shared_data_dir

_REF = {k: v for k, v in NOGIL.items() if k != "cache"}


@numba.extending.register_jitable
def old_in_direction(x, i, j, direction, cu2):
    v = x[i, j]
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


@numba.extending.register_jitable
def old_interior(x, i, j, span, cu2):
    s = 0.0
    q = 0.0
    c = 0.0
    for di in range(7):
        row = x[i - 3 + di]
        for jj in range(j + span[di, 0], j + span[di, 1] + 1):
            u = np.float64(row[jj])
            ok = np.abs(u) < np.inf
            u = u if ok else 0.0
            s += u
            q += u * u
            c += 1.0 if ok else 0.0
    return kuan_value(np.float64(x[i, j]), s, q, c, cu2)


@numba.njit(**_REF)
def old_means_row(x, k, dst):
    W = x.shape[1]
    for jj in range(-2, W + 2):
        dst[jj + 2] = _mean3(x, k, jj)


@numba.njit(**_REF)
def old_refined_lee(x, cu2, ring, spans, out):
    H, W = x.shape
    nb = ring.shape[0]
    band = (H + nb - 1) // nb
    for b in range(nb):
        i0 = b * band
        i1 = min(H, i0 + band)
        if i0 >= i1:
            continue
        rg = ring[b]
        for k in range(i0 - 2, i0 + 2):
            old_means_row(x, k, rg[k % 5])
        for i in range(i0, i1):
            old_means_row(x, i + 2, rg[(i + 2) % 5])
            top = rg[(i - 2) % 5]
            mid = rg[i % 5]
            bot = rg[(i + 2) % 5]
            xi = x[i]
            oi = out[i]
            for j in range(W):
                if not is_valid(xi[j]):
                    oi[j] = np.nan
                    continue
                c = j + 2
                direction = direction_from_means(
                    top[c - 2],
                    top[c],
                    top[c + 2],
                    mid[c - 2],
                    mid[c],
                    mid[c + 2],
                    bot[c - 2],
                    bot[c],
                    bot[c + 2],
                )
                if 3 <= i < H - 3 and 3 <= j < W - 3:
                    oi[j] = old_interior(x, i, j, spans[direction], cu2)
                else:
                    oi[j] = old_in_direction(x, i, j, direction, cu2)


def _both(x, enl=4.4):
    x = np.ascontiguousarray(x, dtype=np.float32)
    cu2 = 1.0 / enl
    spans = refined_lee_cpu.direction_spans()
    new = np.full(x.shape, 7.0, np.float32)
    grouped = np.full(x.shape, 7.0, np.float32)
    ref = np.full(x.shape, 7.0, np.float32)
    refined_lee_cpu.refined_lee(x, cu2, refined_lee_cpu.refined_scratch(x.shape), spans, new)
    scratch = refined_lee_cpu.grouped_scratch(x.shape)
    refined_lee_cpu.refined_lee_grouped(x, cu2, *scratch, spans, grouped)
    old_refined_lee(x, cu2, refined_lee_cpu.refined_scratch(x.shape), spans, ref)
    _assert_same(grouped, new)  # the grouped kernel gives the kernel's bits
    return new, ref


def _assert_same(new, ref):
    diff = np.argwhere(new.view(np.uint32) != ref.view(np.uint32))
    assert diff.size == 0, (diff[:5], new[tuple(diff[:5].T)], ref[tuple(diff[:5].T)])


@pytest.mark.parametrize("shape", [(7, 7), (9, 13), (64, 50), (131, 97)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bits_equal_the_former_kernel(shape, seed):
    rng = np.random.default_rng(seed * 100 + shape[0])
    x = rng.gamma(4.4, 1 / 4.4, shape).astype(np.float32)
    x[rng.random(shape) < 0.05] = np.nan
    x[rng.random(shape) < 0.01] = np.inf
    x[rng.random(shape) < 0.01] = -np.inf
    x[rng.random(shape) < 0.03] = 0.0
    x[: shape[0] // 3, : shape[1] // 2] = 1.5  # a constant patch (var_y 0) touching two borders
    x[:, -3:] *= 20.0  # a step edge along the right border
    new, ref = _both(x)
    _assert_same(new, ref)
    for enl in (1.0, 9.7):
        _assert_same(*_both(x, enl))


@pytest.mark.parametrize("seed", [0, 1])
def test_bits_equal_in_clean_rows_and_beside_nodata(seed):
    """Rows whose windows hold no NaN or infinity take the sums without validity selects:
    speckle over edges of every orientation (all nine directions, many pixels of each per
    row), with NaN, an infinity and zeros in a few rows only."""
    rng = np.random.default_rng(seed)
    h, w = 203, 181
    ii, jj = np.mgrid[0:h, 0:w]
    base = np.where(((ii + jj) // 23) % 2 == 0, 0.2, 0.03)
    base = base * np.where((ii // 31) % 2 == 0, 1.0, 4.0) * np.where((jj // 17) % 2 == 0, 1.0, 2.5)
    base = base * np.where(((ii - jj) // 29) % 2 == 0, 1.0, 0.4)
    x = (base * rng.gamma(4.4, 1 / 4.4, (h, w))).astype(np.float32)
    x[60:63, 20:40] = np.nan
    x[120, 77] = np.inf
    x[150:155, :9] = 0.0
    x[170:, 100:] = 0.5  # constant: the whole square (direction 8)
    new, ref = _both(x)
    _assert_same(new, ref)
    assert np.isfinite(new).mean() > 0.99


def test_float32_squares_at_the_border_keep_their_rounding():
    # values whose float32 squares round: the border path squares in float32, as before
    rng = np.random.default_rng(7)
    x = (1.0 + rng.random((20, 23)) * 1e-3).astype(np.float32) * np.float32(3.3e7)
    _assert_same(*_both(x))


@pytest.mark.shared_data
def test_real_sentinel1_chip_matches():
    rasterio = pytest.importorskip("rasterio")
    path = shared_data_dir() / "sen1floods11-sample" / "Spain_7370579_S1Hand.tif"
    if not path.exists():
        pytest.skip(f"Sen1Floods11 chip not found at {path} (set EO_DRR_SHARED_DATA)")
    with rasterio.open(path) as src:
        db = src.read(1).astype(np.float32)  # VV, dB
    lin = np.power(np.float32(10.0), db / np.float32(10.0))
    new, ref = _both(lin)
    _assert_same(new, ref)
    assert np.isfinite(new).mean() > 0.5
