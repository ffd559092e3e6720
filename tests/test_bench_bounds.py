"""The benchmark's same-traffic bounds (benchmarks/_bounds.py) are real bounds: never slower
than a plain numba ``prange`` loop or an ``np.copyto`` moving the same bytes, timed side by
side in this process (best of several calls; ratios only, generous slack for shared cores)."""

from __future__ import annotations

import sys
from pathlib import Path

import numba
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import _bounds  # noqa: E402

SLACK = 1.3  # bound time <= SLACK x the reference's best time
ROUNDS = 3  # a round passes, or the next one is tried (load from other processes)


@numba.njit(parallel=True, error_model="numpy", fastmath=_bounds.FASTMATH)
def _plain_sum2(a, b, out):
    for i in numba.prange(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = np.float32(a[i, j]) + np.float32(b[i, j])


@numba.njit(parallel=True, error_model="numpy", fastmath=_bounds.FASTMATH)
def _plain_read(a, part):
    for i in numba.prange(a.shape[0]):
        s = np.float32(0.0)
        for j in range(a.shape[1]):
            s += a[i, j]
        part[i] = s


def _bound_vs(bound: _bounds.Bound, refs: dict) -> dict[str, float]:
    """Best time of the bound (the faster of its candidates) over each reference's."""
    best = {}
    for _ in range(ROUNDS):
        t = _bounds.best_times({**bound.candidates, **refs}, repeats=9)
        b = min(t[k] for k in bound.candidates)
        best = {k: b / t[k] for k in refs}
        if max(best.values()) <= SLACK:
            break
    return best


def test_two_band_bound_is_as_fast_as_a_plain_loop_and_a_copy():
    rng = np.random.default_rng(0)
    a = rng.integers(1, 10000, (512, 1024), dtype=np.uint16)
    b = rng.integers(1, 10000, (512, 1024), dtype=np.uint16)
    bound = _bounds.Bound([a, b])
    assert bound.traffic == a.nbytes + b.nbytes + a.size * 4
    src = np.ones(a.size * 4, np.uint8)  # the same bytes: 4 read and 4 written per pixel
    ratios = _bound_vs(
        bound,
        {
            "plain loop": lambda: _plain_sum2(a, b, np.empty(a.shape, np.float32)),
            "copyto": lambda: np.copyto(np.empty(src.size, np.uint8), src),
        },
    )
    assert max(ratios.values()) <= SLACK, ratios


def test_read_bound_is_as_fast_as_a_plain_read_and_a_copy():
    x = np.random.default_rng(1).normal(size=(512, 1024)).astype(np.float32)
    bound = _bounds.Bound([x], out_itemsize=0)
    assert bound.traffic == x.nbytes
    part = np.empty(x.shape[0], np.float32)
    src = np.ones(x.nbytes // 2, np.uint8)
    dst = np.empty_like(src)
    ratios = _bound_vs(
        bound,
        {"plain read": lambda: _plain_read(x, part), "copyto": lambda: np.copyto(dst, src)},
    )
    assert max(ratios.values()) <= SLACK, ratios


def test_loop_bounds_compute_what_they_say():
    rng = np.random.default_rng(2)
    bands = [rng.integers(0, 100, (4, 64), dtype=np.uint16) for _ in range(6)]
    out = np.empty((4, 64), np.float32)
    _bounds._rows_sum6(*bands, out)
    assert np.array_equal(out, np.sum(bands, axis=0, dtype=np.float32))
    part = np.empty(4, np.float32)
    _bounds._rows_read(bands[0].astype(np.float32), part)
    assert np.array_equal(part, bands[0].sum(axis=1).astype(np.float32))
    assert _bounds.as_rows(np.zeros(128)).shape == (64, 2)
    assert _bounds.gbps(2_000_000_000, 2.0) == pytest.approx(1.0)


def test_histogram_floor_counts_every_value_once_in_chunks():
    """The histogram floor does the histogram's work: every value counted once, in-range ones
    in the bin of one multiply, rows longer than a chunk and ending mid-chunk included."""
    rng = np.random.default_rng(2)
    x = rng.normal(-8, 9, (37, 3 * _bounds.HIST_CHUNK + 5)).astype(np.float32)
    x[::5, ::7] = np.nan
    out = np.empty((numba.get_num_threads() * 4, 4, 257), np.int32)
    scale = np.float32(256 / 50.0)
    _bounds._rows_histogram(x, np.float32(-40.0), scale, out)
    counts = out.sum(axis=(0, 1))
    f = (x[np.isfinite(x)] - np.float32(-40.0)) * scale
    inside = f[(f >= 0) & (f < 256)].astype(np.int64)
    assert counts.sum() == x.size
    np.testing.assert_array_equal(counts[:256], np.bincount(inside, minlength=256))
