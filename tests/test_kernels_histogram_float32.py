"""Float32 data take float32 bin arithmetic in ``kernels.threshold_cpu`` (issue 21): counts,
tile counts and thresholds stay exactly the float64 path's, which is ``numpy.histogram`` of the
finite values as float64 (numpy 2 compares float32 data with a Python-float range in float32,
so for a range that is no float32 number it counts a value just past ``hi`` that the kernels,
before and after, leave out), including values on and next to every edge, ranges that are not
float32 numbers, narrow ranges far from 0, NaN, +-inf and -0.0."""

from __future__ import annotations

import numpy as np
import pytest

from eo_drr.indices import _histogram as H
from eo_drr.indices import threshold as T
from eo_drr.kernels import threshold_cpu as K


def _edge_heavy(rng, lo, hi, bins, n):
    """float32 values: uniform over [lo, hi] and a bit beyond, plus every edge rounded to
    float32 and its two float32 neighbours, NaN, +-inf and -0.0."""
    edges = np.linspace(lo, hi, bins + 1)
    e32 = edges.astype(np.float32)
    near = np.concatenate(
        [e32, np.nextafter(e32, np.float32(np.inf)), np.nextafter(e32, np.float32(-np.inf))]
    )
    width = hi - lo
    x = rng.uniform(lo - 0.05 * width, hi + 0.05 * width, n).astype(np.float32)
    x[: near.size * 3] = np.tile(near, 3)
    x[-8:] = [np.nan, np.inf, -np.inf, -0.0, 0.0, np.nan, lo, hi]
    return rng.permutation(x)


RANGES = [(-40.0, 10.0), (-40.1, 10.3), (0.0, 1.0), (-1.0, 1e-3), (1000.0, 1000.5), (-3e5, 7e4)]


@pytest.mark.parametrize("lo, hi", RANGES)
@pytest.mark.parametrize("bins", [2, 7, 256, 1000])
def test_float32_counts_equal_numpy_and_the_float64_path(lo, hi, bins):
    rng = np.random.default_rng(bins)
    x = _edge_heavy(rng, lo, hi, bins, 70_001)
    finite = x[np.isfinite(x)].astype(np.float64)
    c, e = T.histogram(x, bins=bins, range=(lo, hi))
    rc, re = np.histogram(finite, bins, (lo, hi))
    np.testing.assert_array_equal(c, rc)
    np.testing.assert_array_equal(e, re)
    np.testing.assert_array_equal(T.histogram(x.astype(np.float64), bins, (lo, hi))[0], rc)
    # the range from the data (the min and max are float32 numbers)
    c, e = T.histogram(x, bins=bins)
    np.testing.assert_array_equal(c, np.histogram(finite, bins)[0])


@pytest.mark.parametrize("lo, hi", RANGES[:3])
def test_float32_tile_counts_and_thresholds_equal_the_float64_path(lo, hi):
    rng = np.random.default_rng(7)
    x = _edge_heavy(rng, lo, hi, 64, 300 * 217).reshape(300, 217)
    lo_, hi_, edges = H.uniform_edges(lo, hi, 64)
    t32 = H.tile_counts(x, "numpy", 50, lo_, hi_, edges)
    t64 = H.tile_counts(x.astype(np.float64), "numpy", 50, lo_, hi_, edges)
    np.testing.assert_array_equal(t32, t64)
    finite = x[np.isfinite(x)].astype(np.float64)
    x64 = x.astype(np.float64)
    assert T.otsu_threshold(x) == T.otsu(*np.histogram(finite, 256)) == T.otsu_threshold(x64)
    assert T.ki_threshold(x, bins=100) == T.ki_threshold(x64, bins=100)


def test_float32_parameters():
    """lo32 / hi32 bracket the range from inside; float32 is refused where its error would
    not stay well below a bin, or its numbers would overflow."""
    rng = np.random.default_rng(3)
    for lo, hi in zip(rng.normal(0, 100, 200), rng.normal(500, 100, 200)):
        lo32, hi32, scale, tol, ok = K._float32_params(lo, hi, 256)
        assert ok and 0 < tol < 1e-3
        assert lo32 >= lo and np.nextafter(lo32, np.float32(-np.inf)) < lo
        assert hi32 <= hi and np.nextafter(hi32, np.float32(np.inf)) > hi
    assert not K._float32_params(1e6, 1e6 + 0.01, 256)[4]  # bins far below float32 spacing
    assert not K._float32_params(0.0, 1e-300, 8)[4]  # scale beyond float32
    assert not K._float32_params(-3e38, 3e38, 8)[4]
    assert not K._float32_params(np.nan, 1.0, 8)[4]


@pytest.mark.parametrize("lo, hi, bins", [(1e12, 1e12 + 3, 1000), (-1e8, -1e8 + 0.01, 64)])
def test_float64_counts_on_narrow_ranges_far_from_zero_equal_numpy(lo, hi, bins):
    """The float64 path re-checks within its own error bound too: on a range far narrower
    than its distance from 0 a fixed 1e-7 bin missed values numpy bins one over."""
    rng = np.random.default_rng(1)
    edges = np.linspace(lo, hi, bins + 1)
    x = rng.uniform(lo, hi, 300_000)
    x[: edges.size] = edges
    np.testing.assert_array_equal(
        T.histogram(x, bins, (lo, hi))[0], np.histogram(x, bins, (lo, hi))[0]
    )
