"""Issue 21: :func:`eo_drr.kernels.coverage_cpu.unit_coverage` merges the rows with more than 16
unsorted deltas in one direction (into the scratch, then back) instead of swapping its
buffers between passes, so that numba compiles it faster. Its results (sorted deltas, counts,
spans, records and the scratch it leaves) must not change: the former kernel
(``old_unit_coverage`` of ``test_coverage_kernel_identity``) runs beside it on zigzag polygons
whose rows hold 17 to several hundred unsorted deltas (one to five merge passes, odd and even
counts), with holes, vertices on pixel edges and centres, and parts off the raster."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from kernel_identity_scenes import shadow
from test_coverage_kernel_identity import old_unit_coverage

from eo_drr.kernels import coverage_cpu
from eo_drr.sendai.coverage import unit_coverage


def _zigzag(rng, w, h, teeth, snap):
    """A polygon whose left and right sides zigzag across many columns of every row."""
    ys = np.linspace(-2.0, h + 2.0, teeth)
    left = rng.uniform(-3.0, w * 0.45, teeth)
    right = rng.uniform(w * 0.55, w + 3.0, teeth)
    if snap:
        left, right, ys = np.round(left * 2) / 2, np.round(right * 2) / 2, np.round(ys * 2) / 2
    ring = list(zip(left, ys)) + list(zip(right[::-1], ys[::-1]))
    poly = shapely.Polygon(ring)
    if not poly.is_valid:
        poly = shapely.make_valid(poly)
    hole = shapely.box(w * 0.4, h * 0.3, w * 0.6, h * 0.5)
    return shapely.difference(poly, hole)


@pytest.mark.parametrize("seed", range(6))
def test_merges_bit_identical_to_the_former_kernel(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    calls: list = []
    monkeypatch.setattr(
        coverage_cpu, "unit_coverage", shadow(coverage_cpu.unit_coverage, old_unit_coverage, calls)
    )
    w, h = 300 + 40 * seed, 60
    tr = Affine(1.0, 0.0, 0.0, 0.0, -1.0, float(h))  # north-up, 1 unit per pixel
    for teeth in (30, 120, 400):
        geoms = np.array([_zigzag(rng, w, h, teeth, snap=seed % 2 == 0)])
        cov = unit_coverage(geoms, tr, (h, w))
        assert cov.rec_w.size > 0
    assert len(calls) == 6  # count and fill pass of each polygon
