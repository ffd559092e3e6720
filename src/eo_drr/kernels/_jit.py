"""Shared numba settings for the CPU kernels.

``FASTMATH`` lists the LLVM fast-math flags we allow. ``nnan`` and ``ninf`` are deliberately
absent: with them LLVM may fold ``v != v`` (our NaN test) to ``False`` and NaN nodata would leak
into sums. ``nsz`` (ignore the sign of zero), ``arcp`` (reciprocal for division), ``contract``
(fused multiply-add) and ``reassoc`` (lets reductions vectorise) do not change NaN handling.

Kernels run on every core through :func:`threaded` (issue 21, "fast first run"): a serial,
GIL-free kernel over a part ``[start, stop)`` of its outer loop (blocks of rows or elements,
units), run on ``numba.get_num_threads()`` Python threads. It compiles about twice as fast as
the same kernel with ``parallel=True`` and ``numba.prange`` (no parfor passes, no gufunc
compiled and optimised on top of the kernel), and numba compilation was most of a cold first
run; every part of the loop computes what the ``prange`` iteration did, so results are
identical (the same fast-math flags, the same code per block).
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba

FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

#: Options of small serial helpers that numba inlines into the kernels. Nothing here is
#: called through a C function pointer: no C-callable wrapper (issue 21: one wrapper less for
#: numba to compile per kernel).
SERIAL = dict(error_model="numpy", cache=True, fastmath=FASTMATH, no_cfunc_wrapper=True)
#: Options of the kernels run by :func:`threaded` (serial, releasing the GIL).
NOGIL = dict(SERIAL, nogil=True)
#: parts of the outer loop per thread (:func:`threaded`; later parts go to idle threads)
PARTS_PER_THREAD = 4


def njit_serial(func):
    """``numba.njit`` for helpers called from the kernels (inlined by LLVM)."""
    return numba.njit(**SERIAL)(func)


def njit_inner(func):
    """:func:`njit_serial` for helpers called only from numba code, never from Python: no
    CPython or C-callable wrapper is built around them (numba compiles each helper on its own
    before LLVM inlines it; issue 21: ~0.05-0.15 s less of a cold first run per helper)."""
    return numba.njit(no_cpython_wrapper=True, **SERIAL)(func)


_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The process-wide pool (as many threads as numba may use: ``NUMBA_NUM_THREADS``)."""
    with _POOL_LOCK:
        if not _POOL:
            size = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
            _POOL.append(ThreadPoolExecutor(size, thread_name_prefix="eo-drr-kernel"))
        return _POOL[0]


def run_parts(kernel: Callable[..., Any], n: int, args: tuple) -> None:
    """``kernel(start, stop, *args)`` over parts of ``range(n)`` on ``numba.get_num_threads()``
    threads (this one included); each thread takes the next part until none is left."""
    threads = min(numba.get_num_threads(), n)
    if threads <= 1:
        kernel(0, n, *args)
        return
    parts = min(n, threads * PARTS_PER_THREAD)
    edges = [n * k // parts for k in range(parts + 1)]
    nxt = itertools.count()  # next() on a count is atomic under the GIL

    def work() -> None:
        k = next(nxt)
        while k < parts:
            kernel(edges[k], edges[k + 1], *args)
            k = next(nxt)

    futures = [_pool().submit(work) for _ in range(threads - 1)]
    try:
        work()
    finally:
        for f in futures:
            f.result()


def threaded(
    extent: Callable[..., int], **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``func(start, stop, *args)`` runs iterations ``start .. stop - 1`` of its
    outer loop; the decorated function takes ``*args`` and runs all ``extent(*args)``
    iterations on threads (:func:`run_parts`). ``options`` override :data:`NOGIL`'s numba
    options; the compiled kernel is the decorated function's ``kernel``."""

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        kernel = numba.njit(**{**NOGIL, **options})(func)

        @functools.wraps(func)
        def run(*args: Any) -> None:
            run_parts(kernel, extent(*args), args)

        run.kernel = kernel  # type: ignore[attr-defined]
        return run

    return wrap
