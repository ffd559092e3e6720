"""The numba depth kernels (eo_drr.kernels.depth_cpu) give scipy's values bit for bit.

:func:`eo_drr.products.depth.flood_depth` runs rasters of at least ``KERNELS_FROM`` cells
through the kernels and smaller ones through scipy; both paths are run here on the same
scenes (``KERNELS_FROM`` moved either way) and must agree to the last bit, including NaN,
no-data terrain, blocked cells, enclosed dry patches, ties between equally near edge cells
and the raster's border. The feature transform is compared with
``scipy.ndimage.distance_transform_edt`` directly on scenes made of ties.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from eo_drr.errors import NoDataError
from eo_drr.kernels import depth_cpu as K
from eo_drr.products import depth as D


def _feature_transform(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fy = np.empty(edges.shape, dtype=np.int32)
    iy = np.empty(edges.shape, dtype=np.int32)
    ix = np.empty(edges.shape, dtype=np.int32)
    K.nearest_in_columns(edges, fy)
    K.nearest_in_rows(fy, iy, ix)
    return iy, ix


def _edges(rng: np.random.Generator, trial: int) -> np.ndarray:
    h, w = (int(v) for v in rng.integers(1, 48, 2))
    if trial % 3 == 0:  # a regular lattice: every cell between two sites is a tie
        e = np.zeros((h, w), dtype=bool)
        e[:: int(rng.integers(1, 7)), :: int(rng.integers(1, 7))] = True
    elif trial % 3 == 1:  # a diagonal: ties along both axes
        e = np.eye(h, w, k=int(rng.integers(-3, 4)), dtype=bool)
    else:
        e = rng.random((h, w)) < rng.choice([0.002, 0.02, 0.2, 0.8])
    if not e.any():
        e[int(rng.integers(h)), int(rng.integers(w))] = True
    return e


def test_feature_transform_is_scipys_including_ties():
    rng = np.random.default_rng(20261206)
    for trial in range(240):
        e = _edges(rng, trial)
        ry, rx = ndimage.distance_transform_edt(~e, return_distances=False, return_indices=True)
        iy, ix = _feature_transform(e)
        np.testing.assert_array_equal(iy, ry, err_msg=f"trial {trial}, rows")
        np.testing.assert_array_equal(ix, rx, err_msg=f"trial {trial}, columns")


def _scene(seed: int, size: int = 96):
    """A terrain with a valley flooded in part, no-data holes, blocked cells (permanent water,
    an exclusion), dry islands inside the flood and flood touching the raster's border."""
    rng = np.random.default_rng(seed)
    dem = ndimage.gaussian_filter(rng.normal(0.0, 20.0, (size, size + 7)), 4)
    dem += np.linspace(0.0, 8.0, size + 7)[None, :]
    flood = dem < np.quantile(dem, rng.uniform(0.2, 0.6))
    flood &= rng.random(flood.shape) > 0.05  # speckle: small dry holes
    dem[rng.random(dem.shape) < 0.01] = np.nan
    blocked = np.zeros(flood.shape, dtype=bool)
    blocked[: size // 6, : size // 5] = True
    blocked |= rng.random(flood.shape) < 0.01
    flood[:, :2] = True  # the flood goes on beyond the raster's border
    dem = np.round(dem, 1)  # ties of level between neighbours
    return flood, dem, blocked


def _both(monkeypatch, flood, dem, blocked, options):
    monkeypatch.setattr(D, "KERNELS_FROM", 1 << 60)
    ref = D.flood_depth(flood, dem, blocked=blocked, options=options)
    monkeypatch.setattr(D, "KERNELS_FROM", 0)
    new = D.flood_depth(flood, dem, blocked=blocked, options=options)
    return ref, new


@pytest.mark.parametrize(
    "options",
    [
        D.DepthOptions(),
        D.DepthOptions(lowpass_px=5),
        D.DepthOptions(edge_elevation="edge_cell"),
        D.DepthOptions(enclosed_dry_is_evidence=True, lowpass_px=7),
    ],
    ids=["default", "lowpass5", "edge_cell", "enclosed_evidence_lowpass7"],
)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_kernel_path_gives_scipys_depth_bit_for_bit(monkeypatch, options, seed):
    flood, dem, blocked = _scene(seed)
    ref, new = _both(monkeypatch, flood, dem, blocked, options)
    assert ref.dtype == new.dtype == np.float32
    assert np.isfinite(ref).sum() > 100  # the scene has a depth to compare
    np.testing.assert_array_equal(new.view(np.int32), ref.view(np.int32))


def test_kernel_path_on_a_non_contiguous_terrain(monkeypatch):
    flood, dem, blocked = _scene(5)
    wide = np.repeat(dem, 2, axis=1)[:, ::2]  # the same values, not C-contiguous
    ref, new = _both(monkeypatch, flood, wide, blocked, D.DepthOptions())
    np.testing.assert_array_equal(new.view(np.int32), ref.view(np.int32))


@pytest.mark.parametrize("edge", ["shoreline", "edge_cell"])
def test_kernel_path_takes_float32_terrain_as_its_float64_copy(monkeypatch, edge):
    """float32 terrain goes to the kernels without a float64 copy (issue 21): the depth is
    the one of its float64 copy, bit for bit, and the one scipy's steps give."""
    flood, dem, blocked = _scene(4)
    dem32 = dem.astype(np.float32)
    opt = D.DepthOptions(edge_elevation=edge)
    ref, new = _both(monkeypatch, flood, dem32.astype(np.float64), blocked, opt)
    got = D.flood_depth(flood, dem32, blocked=blocked, options=opt)  # KERNELS_FROM 0
    np.testing.assert_array_equal(got.view(np.int32), new.view(np.int32))
    np.testing.assert_array_equal(got.view(np.int32), ref.view(np.int32))
    assert np.isfinite(got).sum() > 100


def test_kernel_path_refuses_a_flood_without_evidence(monkeypatch):
    flood = np.zeros((40, 40), dtype=bool)
    flood[10:30, 10:30] = True
    blocked = ~flood  # every edge touches an excluded area
    monkeypatch.setattr(D, "KERNELS_FROM", 0)
    with pytest.raises(NoDataError, match="no flood edge"):
        D.flood_depth(flood, np.zeros((40, 40)), blocked=blocked)


def test_enclosed_are_binary_fill_holes_holes():
    rng = np.random.default_rng(7)
    for _ in range(40):
        around = rng.random(tuple(int(v) for v in rng.integers(1, 60, 2))) < rng.uniform(0.3, 0.8)
        want = ndimage.binary_fill_holes(around) & ~around
        np.testing.assert_array_equal(D.enclosed(around), want)
