"""Kernels run on threads over parts of their outer loop (``eo_drr.kernels._jit.threaded``):
every iteration runs exactly once whatever the thread count, errors reach the caller, and the
kernels of the package are built that way (serial numba code, so that a first run compiles
about twice as fast as with ``parallel=True``)."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from eo_drr.kernels import _jit, sar_cpu, spectral_cpu, threshold_cpu, zonal_cpu
from eo_drr.kernels._jit import run_parts, threaded


@threaded(lambda *a: a[0].size)
def _mark(start, stop, out):
    for i in range(start, stop):
        out[i] += i + 1


@threaded(lambda *a: a[0].size)
def _fail(start, stop, out):
    for i in range(start, stop):
        if i == out.size - 1:
            raise ValueError("last part")


@pytest.mark.parametrize("n", [0, 1, 3, 7, 64, 1001])
@pytest.mark.parametrize("threads", [1, 2])
def test_every_iteration_runs_once(n, threads):
    out = np.zeros(n, dtype=np.int64)
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        _mark(out)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(out, np.arange(1, n + 1))


def test_error_in_a_part_reaches_the_caller():
    with pytest.raises(ValueError, match="last part"):
        _fail(np.zeros(50))


def test_parts_cover_the_range_in_order():
    seen = []
    run_parts(lambda a, b, acc: acc.append((a, b)), 10, (seen,))
    seen.sort()
    assert seen[0][0] == 0 and seen[-1][1] == 10
    assert all(b == c for (_, b), (c, _) in zip(seen, seen[1:]))


def test_package_kernels_are_serial_numba_code():
    for k in (
        spectral_cpu.normalized_difference,
        sar_cpu.to_db_f32,
        threshold_cpu.histogram,
        zonal_cpu.interior_counts,
    ):
        opts = k.kernel.targetoptions
        assert opts.get("nogil") and not opts.get("parallel")
    assert not hasattr(_jit, "njit_parallel")
