"""Exact medians by radix selection (kernels.select_cpu) equal numpy.median, value for value."""

from __future__ import annotations

import numpy as np
import pytest

from eo_drr.kernels import select_cpu
from eo_drr.kernels.select_cpu import BLOCK, class_medians


@pytest.fixture(params=["kernels", "numpy"])
def path(request, monkeypatch):
    """Both paths of class_medians: the radix kernels (forced on small arrays) and numpy."""
    if request.param == "kernels":
        monkeypatch.setattr(select_cpu, "NUMPY_BELOW", 0)
    return request.param


def _reference(x, mask):
    fin = np.isfinite(x)
    out = []
    for sel in (fin & ~mask, fin & mask):
        out.append(float(np.median(x[sel])) if sel.any() else None)
    return tuple(out), (int((fin & ~mask).sum()), int((fin & mask).sum()))


def _data(rng, n, kind):
    if kind == "normal_db":
        x = rng.normal(-12, 5, n)
    elif kind == "ties":
        x = rng.integers(-3, 4, n).astype(float)
    elif kind == "linear":
        x = rng.gamma(1.0, 1e-3, n)
    elif kind == "wide":
        x = np.exp(rng.normal(0, 20, n))
    else:  # tiny, subnormal float32 included
        x = rng.normal(0, 1e-40, n)
    with np.errstate(over="ignore"):
        x = x.astype(np.float32)
    x[rng.random(n) < 0.1] = np.nan
    x[rng.random(n) < 0.01] = np.inf
    x[rng.random(n) < 0.01] = -np.inf
    return x


@pytest.mark.parametrize("kind", ["normal_db", "ties", "linear", "wide", "tiny"])
def test_equals_numpy_median(kind, path):
    rng = np.random.default_rng(7)
    for n in [1, 2, 3, 4, 5, 100, 1001, 65_537]:
        for share in (0.0, 0.3, 1.0):
            x = _data(rng, n, kind)
            mask = rng.random(n) < share
            assert class_medians(x, mask) == _reference(x, mask), (kind, n, share)


def test_several_blocks_and_2d():
    rng = np.random.default_rng(3)
    x = _data(rng, 5 * (2 * BLOCK // 5 + 10_000), "normal_db").reshape(-1, 5)[:, :4].copy()
    mask = x < -14
    assert class_medians(x, mask) == _reference(x, mask)


def test_no_finite_value_and_wrong_dtype(path):
    x = np.full(10, np.nan, dtype=np.float32)
    assert class_medians(x, np.zeros(10, bool)) == ((None, None), (0, 0))
    with pytest.raises(ValueError, match="float32"):
        class_medians(np.zeros(3), np.zeros(3, bool))
