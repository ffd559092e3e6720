"""Shared pieces of the numba CPU spectral kernels (:mod:`eo_drr.kernels.spectral_cpu`,
:mod:`eo_drr.kernels.wofs_cpu`): the nodata comparison domain and the blocks threads run over.

The nodata comparison runs on :func:`key` of each value, with ``nodata`` given in the same
domain by :func:`nodata_key`: for dtypes that float32 holds exactly (8/16-bit integers,
float16/32) that is the float32 value, so the mask has the width of the arithmetic and the loop
vectorises without widening; for wider dtypes it is the float64 value (exact up to 2**53). "No
nodata value" is a NaN ``nodata``, which no value equals, so the kernels carry no runtime flag.
The two together took NDWI on a full tile from 0.78 to 0.92 of the memory bound.

Threads run over blocks of BLOCK elements of the flat arrays (the rows of a 2-D view); each
block is taken as a slice (:func:`_span`), so the inner loop indexes from 0 and LLVM can prove
its indices non-negative: indexing the flat array at ``blk * BLOCK + k`` instead keeps numba's
negative-index wraparound in the loop, which does not vectorise (2-3x slower, issue 21).
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from eo_drr.kernels._jit import njit_serial

#: elements per parallel block
BLOCK = 1 << 16


def float32_exact(dtype) -> bool:
    """True when every value of ``dtype`` converts to float32 without rounding."""
    dtype = np.dtype(dtype)
    return (dtype.kind in "iu" and dtype.itemsize <= 2) or dtype in (np.float16, np.float32)


def nodata_key(nodata, use_nodata: bool, dtype):
    """``nodata`` in the domain :func:`key` compares in for bands of ``dtype`` (NaN: none)."""
    value = nodata if use_nodata else np.nan
    return np.float32(value) if float32_exact(dtype) else np.float64(value)


def key(v):  # pragma: no cover - replaced by the overload inside numba
    """The value a band's raw ``v`` is compared with nodata as (see the module docstring)."""
    return v


@overload(key, jit_options=dict(cache=True))  # type: ignore[typeddict-unknown-key]
def _key_overload(v):
    if (isinstance(v, types.Integer) and v.bitwidth <= 16) or v in (types.float16, types.float32):
        return lambda v: np.float32(v)
    return lambda v: np.float64(v)


@njit_serial
def _span(n, blk):
    """(start, stop) of block ``blk`` of a flat array of ``n`` elements (BLOCK per block)."""
    start = blk * BLOCK
    return start, min(n, start + BLOCK)
