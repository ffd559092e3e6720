"""Shared numba settings for the CPU kernels.

``FASTMATH`` lists the LLVM fast-math flags we allow. ``nnan`` and ``ninf`` are deliberately
absent: with them LLVM may fold ``v != v`` (our NaN test) to ``False`` and NaN nodata would leak
into sums. ``nsz`` (ignore the sign of zero), ``arcp`` (reciprocal for division), ``contract``
(fused multiply-add) and ``reassoc`` (lets reductions vectorise) do not change NaN handling.
"""

from __future__ import annotations

import numba

FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

#: Options of every parallel CPU kernel (see the module docstring for ``fastmath``).
PARALLEL = dict(parallel=True, error_model="numpy", cache=True, fastmath=FASTMATH)
#: Options of small serial helpers that numba inlines into the kernels.
SERIAL = dict(error_model="numpy", cache=True, fastmath=FASTMATH)


def njit_parallel(func):
    """``numba.njit(parallel=True, error_model="numpy", cache=True, fastmath=FASTMATH)``."""
    return numba.njit(**PARALLEL)(func)


def njit_serial(func):
    """``numba.njit`` for helpers called from the parallel kernels (inlined by LLVM)."""
    return numba.njit(**SERIAL)(func)
