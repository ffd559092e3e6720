"""Histogram counting for the thresholds of :mod:`eo_drr.indices.threshold`: value ranges and
uniform bin edges (as ``numpy.histogram``), whole-array counts and per-tile counts, on numpy
(numba kernels with per-block private histograms), dask (per-chunk histograms, summed) and
GPU arrays (atomics). NaN and +-inf are no data everywhere here: never binned, never in a
range. Values and edges are in the units of the input (dB for SAR in dB).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from eo_drr.errors import InputError, NoDataError
from eo_drr.i18n import gettext as _
from eo_drr.kernels import threshold_cpu
from eo_drr.kernels._dispatch import gpu_launch_config_1d, guard_parallel


def check_bins(bins: Any) -> int:
    """The number of bins as an int; InputError unless an integer >= 2."""
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise InputError(_("bins: expected an integer >= 2, got {bins!r}").format(bins=bins))
    return int(bins)


def uniform_edges(lo: float, hi: float, bins: int) -> tuple[float, float, np.ndarray]:
    """numpy.histogram's uniform edges (an empty range is widened by 0.5 each side)."""
    lo = float(lo)
    hi = float(hi)
    if lo == hi:
        lo -= 0.5
        hi += 0.5
    return lo, hi, np.linspace(lo, hi, bins + 1, endpoint=True, dtype=np.float64)


def check_range(range: Any) -> tuple[float, float] | None:
    """``range`` as ``(min, max)`` floats (units of the data), or None; InputError unless
    finite with min <= max."""
    if range is None:
        return None
    try:
        lo, hi = (float(v) for v in range)
    except (TypeError, ValueError):
        raise InputError(
            _("range: expected (min, max), got {range!r}").format(range=range)
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise InputError(_("range: expected finite min <= max, got {range!r}").format(range=range))
    return lo, hi


def _np_minmax(x: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite values of ``x`` ((inf, -inf) if none), in one vectorised pass
    over order keys (see ``threshold_cpu.key_minmax``)."""
    import numba

    flat = np.ascontiguousarray(x).reshape(-1)
    if flat.dtype == np.bool_:
        flat = flat.view(np.uint8)
    if flat.dtype.kind == "f":
        ktype = np.dtype(f"i{flat.dtype.itemsize}")
        keys = flat.view(ktype)
        inf_bits = int(np.array(np.inf, dtype=flat.dtype).view(ktype)[()])
        expm, expv, flip = inf_bits, inf_bits, np.iinfo(ktype).max
    else:
        ktype, keys = flat.dtype, flat
        expm, expv, flip = 0, 1, 0
    nb = max(1, min(numba.get_num_threads() * 4, flat.size // 65536 or 1))
    info = np.iinfo(ktype)
    out = np.empty((nb, 2), dtype=ktype)
    out[:, 0] = info.max
    out[:, 1] = info.min
    shift = 8 * ktype.itemsize - 1
    scalars = (ktype.type(v) for v in (expm, expv, flip, shift))
    threshold_cpu.key_minmax(keys, *scalars, out)
    lo, hi = out[:, 0].min(), out[:, 1].max()
    if lo > hi:
        return math.inf, -math.inf
    if flat.dtype.kind != "f":
        return float(lo), float(hi)
    ends = np.array([lo, hi], dtype=ktype)
    ends ^= (ends >> shift) & ktype.type(flip)
    lo, hi = ends.view(flat.dtype)
    return float(lo), float(hi)


def _np_hist(x: np.ndarray, lo: float, hi: float, edges: np.ndarray) -> np.ndarray:
    import numba

    flat = np.ascontiguousarray(x).reshape(-1)
    nblocks = max(1, min(numba.get_num_threads() * 4, flat.size // 65536 or 1))
    bins = edges.size - 1
    scratch = np.empty((nblocks, threshold_cpu.LANES, bins + 2), dtype=np.int64)
    ibuf = np.empty((nblocks, threshold_cpu.CHUNK), dtype=np.int32)
    threshold_cpu.histogram(flat, lo, hi, edges, scratch, ibuf)
    return scratch[:, :, :bins].sum(axis=(0, 1))


def _gpu_minmax(x: Any) -> tuple[float, float]:
    from numba import cuda

    from eo_drr.kernels import threshold_cuda

    out = cuda.to_device(np.array([np.inf, -np.inf], dtype=np.float64))
    blocks, threads = gpu_launch_config_1d(x.size)
    threshold_cuda.nan_minmax[blocks, threads](x.ravel(), out)
    lo, hi = out.copy_to_host()
    return float(lo), float(hi)


def _gpu_hist(x: Any, lo: float, hi: float, edges: np.ndarray) -> np.ndarray:
    from numba import cuda

    from eo_drr.kernels import threshold_cuda

    counts = cuda.to_device(np.zeros(edges.size - 1, dtype=np.int64))
    blocks, threads = gpu_launch_config_1d(x.size)
    threshold_cuda.histogram[blocks, threads](x.ravel(), lo, hi, cuda.to_device(edges), counts)
    return counts.copy_to_host()


def data_range(data: Any, kind: str, name: str) -> tuple[float, float]:
    """(min, max) of the finite values of ``data`` (array kind ``kind``; units of the data);
    NoDataError when there is none."""
    if kind == "numpy":
        lo, hi = _np_minmax(data) if data.size else (math.inf, -math.inf)
    elif kind == "dask":
        import dask
        import dask.array as da

        @guard_parallel
        def block_minmax(b):
            return np.array(_np_minmax(b) if b.size else (math.inf, -math.inf)).reshape(1, 2)

        parts = [dask.delayed(block_minmax)(b) for b in data.to_delayed().ravel()]
        arr = np.concatenate(dask.compute(*parts), axis=0) if parts else np.empty((0, 2))
        lo = float(arr[:, 0].min()) if arr.size else math.inf
        hi = float(arr[:, 1].max()) if arr.size else -math.inf
        del da
    else:
        lo, hi = _gpu_minmax(data)
    if not (lo <= hi):
        raise NoDataError(
            _("{name}: no finite value (all NaN or +-inf) for a histogram range").format(name=name)
        )
    return lo, hi


def counts(data: Any, kind: str, lo: float, hi: float, edges: np.ndarray) -> np.ndarray:
    """int64 counts of the finite values of ``data`` (array kind ``kind``) in the bins
    ``edges`` (``lo``, ``hi``: the outer edges)."""
    if kind == "numpy":
        out = _np_hist(data, lo, hi, edges)
    elif kind == "dask":
        import dask

        block_hist = guard_parallel(_np_hist)
        parts = [dask.delayed(block_hist)(b, lo, hi, edges) for b in data.to_delayed().ravel()]
        out = np.sum(dask.compute(*parts), axis=0).astype(np.int64)
    else:
        out = _gpu_hist(data, lo, hi, edges)
    return out.astype(np.int64, copy=False)


def tile_counts(data: Any, kind: str, tile: int, lo: float, hi: float, edges: np.ndarray):
    """int64 (tile rows, tile columns, bins): counts of each ``tile`` x ``tile`` tile of the
    2-D ``data`` (edge tiles are the remainders). GPU arrays come to the host once (tiles are
    small work)."""
    if kind == "numpy":
        return _tile_hists_np(data, tile, lo, hi, edges)
    if kind == "dask":
        return _tile_hists_dask(data, tile, lo, hi, edges)
    return _tile_hists_np(_to_host(data), tile, lo, hi, edges)


def _tile_hists_np(x: np.ndarray, tile: int, lo: float, hi: float, edges: np.ndarray):
    x = np.ascontiguousarray(x)
    nty = -(-x.shape[0] // tile)
    ntx = -(-x.shape[1] // tile)
    bins = edges.size - 1
    out = np.empty((nty, ntx, bins + 2), dtype=np.int64)
    ibuf = np.empty((nty, tile), dtype=np.int32)
    threshold_cpu.tile_histograms(x, tile, lo, hi, edges, ibuf, out)
    return out[:, :, :bins]


def _tile_hists_dask(x: Any, tile: int, lo: float, hi: float, edges: np.ndarray):
    """Chunks re-aligned on multiples of ``tile`` so that no tile straddles two chunks."""

    def aligned(chunks):
        size = max(tile, (max(chunks) // tile) * tile)
        return size

    xa = x.rechunk((aligned(x.chunks[0]), aligned(x.chunks[1])))
    bins = edges.size - 1
    chunks = (
        tuple(-(-c // tile) for c in xa.chunks[0]),
        tuple(-(-c // tile) for c in xa.chunks[1]),
        (bins,),
    )
    res = xa.map_blocks(
        guard_parallel(_tile_hists_np),
        tile,
        lo,
        hi,
        edges,
        dtype=np.int64,
        chunks=chunks,
        new_axis=2,
        meta=np.empty((0, 0, 0), np.int64),
    )
    return res.compute()


def coarsen(fine: np.ndarray, f: int) -> np.ndarray:
    """Sum ``f`` x ``f`` blocks of the leading two axes (zero padded at the far edges)."""
    ny = -(-fine.shape[0] // f)
    nx = -(-fine.shape[1] // f)
    pad = [(0, ny * f - fine.shape[0]), (0, nx * f - fine.shape[1])]
    pad += [(0, 0)] * (fine.ndim - 2)
    p = np.pad(fine, pad)
    return p.reshape((ny, f, nx, f) + fine.shape[2:]).sum(axis=(1, 3))


def _to_host(data: Any) -> np.ndarray:
    if hasattr(data, "copy_to_host"):
        return data.copy_to_host()
    return data.get()  # cupy
