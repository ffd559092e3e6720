"""Same-traffic bounds for ``bench_kernels.py``: how fast the kernel's memory traffic can go.

A kernel that reads R bytes and writes W bytes (a freshly allocated output, as the kernels
allocate theirs on every call) is compared with the faster of two plain programs moving the
same bytes, timed in the same run:

- a *loop*: ``numba.prange`` over the rows of 2-D views, a contiguous inner loop doing almost
  no arithmetic (float32 sum of the inputs into the output, or a float32 sum per row for a
  read-only kernel), ``error_model="numpy"`` and the kernels' fast-math flags, so that it
  vectorises;
- a *copy*: ``np.copyto`` of (R + W) / 2 bytes, so R + W bytes move, of which W are
  written into an array allocated per call when the kernel allocates its output.

The bound is the faster of the two; ``bound / kernel`` is 1.0 for a kernel at the memory
bound. Times in seconds, traffic in bytes, GB/s = 1e9 bytes per second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from eo_drr.kernels._jit import FASTMATH

_OPTS = dict(parallel=True, error_model="numpy", fastmath=FASTMATH)


@numba.njit(**_OPTS)
def _rows_cast(a, out):
    for i in numba.prange(a.shape[0]):
        ra = a[i]
        ro = out[i]
        for j in range(ra.size):
            ro[j] = np.float32(ra[j])


@numba.njit(**_OPTS)
def _rows_sum2(a, b, out):
    for i in numba.prange(a.shape[0]):
        ra = a[i]
        rb = b[i]
        ro = out[i]
        for j in range(ra.size):
            ro[j] = np.float32(ra[j]) + np.float32(rb[j])


@numba.njit(**_OPTS)
def _rows_sum6(a, b, c, d, e, f, out):
    for i in numba.prange(a.shape[0]):
        ra, rb, rc, rd, re, rf = a[i], b[i], c[i], d[i], e[i], f[i]
        ro = out[i]
        for j in range(ra.size):
            ro[j] = (
                np.float32(ra[j])
                + np.float32(rb[j])
                + np.float32(rc[j])
                + np.float32(rd[j])
                + np.float32(re[j])
                + np.float32(rf[j])
            )


@numba.njit(**_OPTS)
def _rows_read(a, part):
    for i in numba.prange(a.shape[0]):
        ra = a[i]
        s = np.float32(0.0)
        for j in range(ra.size):
            s += ra[j]
        part[i] = s


_LOOPS = {1: _rows_cast, 2: _rows_sum2, 6: _rows_sum6}


#: values per chunk of :func:`_rows_histogram` (its bin buffer stays in L1)
HIST_CHUNK = 1024


@numba.njit(**_OPTS)
def _rows_histogram(a, lo, scale, out):
    """The plainest fast histogram loop: per chunk of HIST_CHUNK values of a row, the bin of
    every value by one multiply into a buffer (a loop that vectorises; no edge correction;
    NaN and out of range into the last column), then one increment per value into 4
    interleaved private histograms; ``out`` (nblocks, 4, bins + 1) int32, one per block of
    rows. A buffer of a whole row (43 KB at 10980 columns, more than L1) was slower: 2.9
    against 2.1 read passes at 10980^2 (issue 21)."""
    nb = out.shape[0]
    bins = out.shape[2] - 1
    rows = (a.shape[0] + nb - 1) // nb
    for b in numba.prange(nb):
        h = out[b]
        h[:, :] = 0
        h0, h1, h2, h3 = h[0], h[1], h[2], h[3]
        buf = np.empty(HIST_CHUNK, np.uint32)
        for i in range(b * rows, min(a.shape[0], (b + 1) * rows)):
            row = a[i]
            for c0 in range(0, row.size, HIST_CHUNK):
                r = row[c0 : c0 + HIST_CHUNK]
                for j in range(r.size):
                    f = (r[j] - lo) * scale
                    buf[j] = np.uint32(f) if (f >= 0) & (f < bins) else np.uint32(bins)
                j = 0
                while j + 4 <= r.size:
                    h0[buf[j]] += 1
                    h1[buf[j + 1]] += 1
                    h2[buf[j + 2]] += 1
                    h3[buf[j + 3]] += 1
                    j += 4
                while j < r.size:
                    h0[buf[j]] += 1
                    j += 1


def histogram_floor(x: np.ndarray, lo: float, hi: float, bins: int) -> Callable[[], Any]:
    """The fastest plain loop of a histogram's work over ``x`` (the same reads, one bin
    increment per value): what counting costs beyond a read pass on this machine. Its
    increments hit the same few bins again and again, a chain of dependent stores that no
    vector unit removes; a read pass has none."""
    rows = as_rows(x)
    out = np.empty((numba.get_num_threads() * 4, 4, bins + 1), np.int32)
    scale = np.float32(bins / (hi - lo))
    lo32 = np.float32(lo)
    return lambda: _rows_histogram(rows, lo32, scale, out)


def as_rows(a: np.ndarray) -> np.ndarray:
    """A C-contiguous 2-D view of ``a`` (rows of its last axis; 1-D: 64 rows if it splits)."""
    a = np.ascontiguousarray(a)
    if a.ndim >= 2:
        return a.reshape(-1, a.shape[-1])
    rows = 64 if a.size % 64 == 0 else 1
    return a.reshape(rows, -1)


def loop_bound(inputs: list[np.ndarray], write: bool = True) -> Callable[[], Any]:
    """The plain row loop over ``inputs``: float32 out (allocated per call) when ``write``,
    else a read-only sum per row (1, 2 or 6 inputs when writing; 1 when reading)."""
    rows = [as_rows(a) for a in inputs]
    if not write:
        (a,) = rows
        part = np.empty(a.shape[0], np.float32)
        return lambda: _rows_read(a, part)
    loop = _LOOPS[len(rows)]
    shape = rows[0].shape
    return lambda: loop(*rows, np.empty(shape, np.float32))


def copy_bound(read_bytes: int, write_bytes: int, fresh_bytes: int) -> Callable[[], Any]:
    """``np.copyto`` of (read + write) / 2 bytes; ``fresh_bytes`` of the destination are
    allocated per call (the kernel's output), the rest is a buffer allocated once."""
    half = (read_bytes + write_bytes) // 2
    fresh = min(fresh_bytes, half)
    src = np.ones(half, np.uint8)
    kept = np.empty(half - fresh, np.uint8)

    def run():
        np.copyto(np.empty(fresh, np.uint8), src[:fresh])
        np.copyto(kept, src[fresh:])

    return run


class Bound:
    """The same-traffic bound of one kernel: ``candidates`` (loop, copy) and ``traffic``
    (bytes read + written per call)."""

    def __init__(self, inputs: list[np.ndarray], out_itemsize: int = 4):
        """``inputs``: the arrays the kernel reads; ``out_itemsize``: bytes per element of its
        freshly allocated output (0: the kernel writes nothing of that size, e.g. a
        histogram)."""
        read = sum(a.nbytes for a in inputs)
        write = inputs[0].size * out_itemsize
        self.traffic = read + write
        self.candidates: dict[str, Callable[[], Any]] = {
            "loop": loop_bound(inputs, write=out_itemsize > 0),
            "copy": copy_bound(read, write, write),
        }


def best_times(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Best (min) wall time of each function, seconds, calling them in turn ``repeats`` times
    after one warm-up call each (so that load from other processes hits all of them)."""
    for fn in fns.values():
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def gbps(traffic: int, seconds: float) -> float:
    """GB/s (1e9 bytes per second) of ``traffic`` bytes moved in ``seconds``."""
    return traffic / seconds / 1e9
