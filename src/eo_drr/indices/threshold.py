"""Histogram thresholds: histograms, Otsu, Kittler-Illingworth, split-based (tiled) thresholds.

- :func:`histogram` counts values in one pass: numba with per-block private histograms on
  the CPU, atomics on the GPU, per-chunk histograms summed for dask. NaN and +-inf are no data
  everywhere here (histograms, ranges, tiles): a stray infinite pixel is ignored, not binned.
- :func:`otsu` (Otsu 1979, IEEE Trans. SMC 9(1):62-66) and :func:`kittler_illingworth`
  (minimum error thresholding, Kittler & Illingworth 1986, Pattern Recognition 19(1):41-47)
  work on a histogram ``(counts, edges)``; :func:`otsu_threshold` and :func:`ki_threshold`
  take the array.
- :func:`split_based_threshold`: the threshold from the tiles whose histograms are bimodal
  (Martinis et al. 2009, NHESS 9:303-314; Chini et al. 2017, IEEE TGRS 55(12):6975-6988).

Threshold convention (as ``skimage.filters.threshold_otsu``): the threshold returned is the
*centre* of the last bin of the lower class, so ``x <= t`` is the lower class (e.g. water in
SAR dB) up to the bin width. Thresholds are in the units of the input (dB for SAR in dB).
"""

from __future__ import annotations

import builtins
import dataclasses
import logging
import math
from typing import Any, Literal

import numpy as np

from eo_drr.errors import InputError, NoDataError
from eo_drr.indices._common import unwrap
from eo_drr.kernels import threshold_cpu
from eo_drr.kernels._dispatch import array_kind, gpu_launch_config_1d, guard_parallel

log = logging.getLogger(__name__)

__all__ = [
    "ThresholdResult",
    "histogram",
    "otsu",
    "kittler_illingworth",
    "otsu_threshold",
    "ki_threshold",
    "split_based_threshold",
]

Method = Literal["otsu", "ki"]


# --------------------------------------------------------------------------------------------
# histograms


def _check_bins(bins: Any) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise InputError(f"bins: expected an integer >= 2, got {bins!r}")
    return int(bins)


def _edges(lo: float, hi: float, bins: int) -> tuple[float, float, np.ndarray]:
    """numpy.histogram's uniform edges (an empty range is widened by 0.5 each side)."""
    lo = float(lo)
    hi = float(hi)
    if lo == hi:
        lo -= 0.5
        hi += 0.5
    return lo, hi, np.linspace(lo, hi, bins + 1, endpoint=True, dtype=np.float64)


def _check_range(range: Any) -> tuple[float, float] | None:
    if range is None:
        return None
    try:
        lo, hi = (float(v) for v in range)
    except (TypeError, ValueError):
        raise InputError(f"range: expected (min, max), got {range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise InputError(f"range: expected finite min <= max, got {range!r}")
    return lo, hi


def _np_minmax(x: np.ndarray) -> tuple[float, float]:
    import numba

    flat = np.ascontiguousarray(x).reshape(-1)
    nb = max(1, min(numba.get_num_threads() * 4, flat.size // 65536 or 1))
    out = np.empty((nb, 2), dtype=np.float64)
    threshold_cpu.nan_minmax(flat, out)
    return float(out[:, 0].min()), float(out[:, 1].max())


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


def _data_range(data: Any, kind: str, name: str) -> tuple[float, float]:
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
        raise NoDataError(f"{name}: no finite value (all NaN or +-inf) for a histogram range")
    return lo, hi


def histogram(
    x: Any, bins: int = 256, range: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of ``x`` (numpy, dask, cupy or DataArray), NaN and +-inf ignored.

    Returns ``(counts, edges)``: int64 counts of ``bins`` equal bins and their float64 edges,
    exactly as ``numpy.histogram(x[isfinite(x)], bins, range)`` would. ``range=None`` uses
    the min and max of the finite values of ``x`` (one extra pass; for dask the min/max are
    computed first, then the per-chunk histograms, which are summed). Raises NoDataError when
    ``range`` is None and ``x`` has no finite value.
    """
    bins = _check_bins(bins)
    rng = _check_range(range)
    data, _ = unwrap(x, "x")
    kind = array_kind(data)
    if rng is None:
        rng = _data_range(data, kind, "x")
    lo, hi, edges = _edges(rng[0], rng[1], bins)
    if kind == "numpy":
        counts = _np_hist(data, lo, hi, edges)
    elif kind == "dask":
        import dask

        block_hist = guard_parallel(_np_hist)
        parts = [dask.delayed(block_hist)(b, lo, hi, edges) for b in data.to_delayed().ravel()]
        counts = np.sum(dask.compute(*parts), axis=0).astype(np.int64)
    else:
        counts = _gpu_hist(data, lo, hi, edges)
    return counts.astype(np.int64, copy=False), edges


# --------------------------------------------------------------------------------------------
# thresholds from histograms (vectorised over leading axes: (..., bins))


def _check_hist(counts: Any, edges: Any) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(counts)
    e = np.asarray(edges, dtype=np.float64)
    if c.ndim < 1 or e.ndim != 1 or e.size != c.shape[-1] + 1:
        raise InputError(
            f"counts, edges: expected counts of n bins and n + 1 edges, got shapes "
            f"{c.shape} and {e.shape}"
        )
    if c.shape[-1] < 2:
        raise InputError("counts: at least 2 bins are needed for a threshold")
    if c.dtype.kind not in "iuf" or (c.size and np.nanmin(c) < 0):
        raise InputError("counts: expected non-negative counts")
    return c.astype(np.float64), e


def _class_moments(c: np.ndarray, centres: np.ndarray):
    """Cumulative weight, first and second moments of the lower (<= bin k) and upper classes."""
    w1 = np.cumsum(c, axis=-1)
    s1 = np.cumsum(c * centres, axis=-1)
    q1 = np.cumsum(c * centres * centres, axis=-1)
    total_w = w1[..., -1:]
    return w1, s1, q1, total_w - w1, s1[..., -1:] - s1, q1[..., -1:] - q1


def _otsu_index(c: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the last lower-class bin maximising the between-class variance (Otsu 1979)."""
    w1 = np.cumsum(c, axis=-1)
    w2 = np.cumsum(c[..., ::-1], axis=-1)[..., ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        m1 = np.cumsum(c * centres, axis=-1) / w1
        m2 = (np.cumsum((c * centres)[..., ::-1], axis=-1) / w2[..., ::-1])[..., ::-1]
        between = w1[..., :-1] * w2[..., 1:] * (m1[..., :-1] - m2[..., 1:]) ** 2
    between = np.where(np.isnan(between), -np.inf, between)
    return np.argmax(between, axis=-1)


def _ki_index(c: np.ndarray, centres: np.ndarray, width: float) -> np.ndarray:
    """Index minimising Kittler & Illingworth's (1986) criterion

        J(t) = 1 + 2 [P1 ln s1 + P2 ln s2] - 2 [P1 ln P1 + P2 ln P2]

    (P: class prior, s: class standard deviation from the histogram). Each class variance gets
    width**2 / 12 added (the variance of a value spread uniformly over its bin), so that a
    class made of a single bin has a finite criterion instead of ln 0.
    """
    w1, s1, q1, w2, s2, q2 = _class_moments(c, centres)
    total = w1[..., -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = w1 / total
        p2 = w2 / total
        m1 = s1 / w1
        m2 = s2 / w2
        v1 = np.maximum(q1 / w1 - m1 * m1, 0.0) + width * width / 12.0
        v2 = np.maximum(q2 / w2 - m2 * m2, 0.0) + width * width / 12.0
        j = 1.0 + (p1 * np.log(v1) + p2 * np.log(v2)) - 2.0 * (p1 * np.log(p1) + p2 * np.log(p2))
    valid = (w1 > 0) & (w2 > 0)
    j = np.where(valid & np.isfinite(j), j, np.inf)[..., :-1]
    return np.argmin(j, axis=-1)


def _threshold_from_hist(c: np.ndarray, e: np.ndarray, method: str) -> float:
    centres = 0.5 * (e[:-1] + e[1:])
    total = c.sum()
    if total <= 0:
        raise NoDataError("counts: the histogram is empty (no valid value)")
    nonzero = np.flatnonzero(c)
    if nonzero.size == 1:  # one populated bin: nothing to separate, return it (as skimage)
        return float(centres[nonzero[0]])
    if method == "otsu":
        idx = _otsu_index(c, centres)
    else:
        idx = _ki_index(c, centres, float(e[1] - e[0]))
    return float(centres[int(idx)])


def otsu(counts: Any, edges: Any) -> float:
    """Otsu's (1979) threshold from a histogram: maximises the between-class variance.

    Returns the centre of the last bin of the lower class (skimage's convention). Raises
    NoDataError for an empty histogram; a histogram with one populated bin returns its centre.
    """
    c, e = _check_hist(counts, edges)
    return _threshold_from_hist(c, e, "otsu")


def kittler_illingworth(counts: Any, edges: Any) -> float:
    """Kittler & Illingworth's (1986) minimum-error threshold from a histogram.

    Fits two Gaussian classes and minimises the classification-error criterion J(t) (see
    ``_ki_index``). Same return convention and errors as :func:`otsu`.
    """
    c, e = _check_hist(counts, edges)
    return _threshold_from_hist(c, e, "ki")


def otsu_threshold(x: Any, bins: int = 256, range: tuple[float, float] | None = None) -> float:
    """Otsu's threshold of the valid values of ``x`` (numpy, dask, cupy or DataArray)."""
    return otsu(*histogram(x, bins=bins, range=range))


def ki_threshold(x: Any, bins: int = 256, range: tuple[float, float] | None = None) -> float:
    """Kittler-Illingworth minimum-error threshold of the valid values of ``x``."""
    return kittler_illingworth(*histogram(x, bins=bins, range=range))


# --------------------------------------------------------------------------------------------
# split-based


@dataclasses.dataclass(frozen=True)
class ThresholdResult:
    """Result of :func:`split_based_threshold`.

    threshold: the threshold (units of the input; NaN only with ``if_none_selected="nan"``).
    method: "otsu" or "ki". n_tiles: tiles with enough valid pixels to be tested.
    n_selected: tiles found bimodal and pooled. fallback: None when the threshold comes from
    selected tiles; otherwise a sentence saying what was done instead and why.
    """

    threshold: float
    method: str
    n_tiles: int
    n_selected: int
    fallback: str | None


#: EM iterations of the two-Gaussian fit of a tile histogram (separated classes converge in
#: ~10-20; from a unimodal tile's split, D falls below 2 by ~10 and is ~1.35 after 20)
EM_ITERATIONS = 20


def _bimodality(c: np.ndarray, centres: np.ndarray, idx: np.ndarray, width: float):
    """Ashman's D and the smaller class weight of two Gaussians fitted to each histogram.

    The fit is EM on the histogram (rows of ``c``), started from the two classes that the
    tile's own threshold (bin ``idx``) makes. The class moments of a threshold split are not
    used directly: splitting a single Gaussian at its mean already gives D ~ 2.7. Runs in
    float32 (D is compared with 2, not needed to 1e-7) over blocks of tiles.
    """
    d = np.empty(c.shape[0])
    frac = np.empty(c.shape[0])
    for s0 in builtins.range(0, c.shape[0], _EM_BLOCK):
        s1 = min(c.shape[0], s0 + _EM_BLOCK)
        d[s0:s1], frac[s0:s1] = _bimodality_block(c[s0:s1], centres, idx[s0:s1], width)
    return d, frac


_EM_BLOCK = 1024


def _bimodality_block(c: np.ndarray, centres: np.ndarray, idx: np.ndarray, width: float):
    n = c.sum(axis=1, keepdims=True)
    w1, s1, q1, w2, s2, q2 = _class_moments(c, centres)
    rows = np.arange(c.shape[0])
    floor = np.float32(width * width / 12.0)
    f32 = np.float32
    x = centres[None, :].astype(f32)
    cf = c.astype(f32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        n1, n2 = w1[rows, idx][:, None], w2[rows, idx][:, None]
        m1, m2 = s1[rows, idx][:, None] / n1, s2[rows, idx][:, None] / n2
        v1 = np.maximum(q1[rows, idx][:, None] / n1 - m1 * m1, 0.0) + floor
        v2 = np.maximum(q2[rows, idx][:, None] / n2 - m2 * m2, 0.0) + floor
        p1 = n1 / n
        m1, m2, v1, v2, p1, nf = (a.astype(f32) for a in (m1, m2, v1, v2, p1, n))
        for _ in builtins.range(EM_ITERATIONS):
            g1 = p1 * np.exp(f32(-0.5) * (x - m1) ** 2 / v1) / np.sqrt(v1)
            g2 = (f32(1.0) - p1) * np.exp(f32(-0.5) * (x - m2) ** 2 / v2) / np.sqrt(v2)
            r1 = g1 / np.maximum(g1 + g2, f32(1e-30))
            a = cf * r1
            b = cf - a
            sa = a.sum(axis=1, keepdims=True)
            sb = b.sum(axis=1, keepdims=True)
            p1 = sa / nf
            m1 = (a * x).sum(axis=1, keepdims=True) / sa
            m2 = (b * x).sum(axis=1, keepdims=True) / sb
            v1 = (a * (x - m1) ** 2).sum(axis=1, keepdims=True) / sa + floor
            v2 = (b * (x - m2) ** 2).sum(axis=1, keepdims=True) / sb + floor
        d = np.sqrt(2.0) * np.abs(m1 - m2) / np.sqrt(v1 + v2)
        frac = np.minimum(p1, 1.0 - p1)
    d = np.where(np.isfinite(d), d, 0.0)[:, 0]
    frac = np.where(np.isfinite(frac), frac, 0.0)[:, 0]
    return d, frac


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


def _coarsen(fine: np.ndarray, f: int) -> np.ndarray:
    """Sum ``f`` x ``f`` blocks of the leading two axes (zero padded at the far edges)."""
    ny = -(-fine.shape[0] // f)
    nx = -(-fine.shape[1] // f)
    pad = [(0, ny * f - fine.shape[0]), (0, nx * f - fine.shape[1])]
    pad += [(0, 0)] * (fine.ndim - 2)
    p = np.pad(fine, pad)
    return p.reshape((ny, f, nx, f) + fine.shape[2:]).sum(axis=(1, 3))


def split_based_threshold(
    x: Any,
    tile: int = 256,
    method: Method = "otsu",
    *,
    bins: int = 256,
    range: tuple[float, float] | None = None,
    min_class_fraction: float = 0.1,
    ashman_d: float = 2.0,
    min_valid_fraction: float = 0.5,
    min_tile: int | None = None,
    max_tile_threshold: float | None = None,
    if_none_selected: Literal["global", "nan", "raise"] = "global",
) -> ThresholdResult:
    """Split-based threshold: pool the histograms of the bimodal tiles only.

    Following Martinis et al. (2009, NHESS 9:303-314) and Chini et al. (2017, IEEE TGRS
    55(12):6975-6988), a global threshold over a large scene fails when one class (water) is a
    small fraction of it; tiles where both classes are well represented are bimodal, and their
    pooled histogram gives a reliable threshold. Here:

    1. the 2-D raster ``x`` (e.g. backscatter in dB) is cut into ``tile`` x ``tile`` tiles
       (edge tiles are the remainders); all histograms share ``bins`` bins over ``range``
       (default: min, max of the finite values of ``x``; NaN and +-inf are not counted);
    2. tiles with at least ``min_valid_fraction`` of their pixels valid are tested: the tile's
       own ``method`` threshold splits its histogram in two classes, which start an EM fit of
       two Gaussians to the histogram (``EM_ITERATIONS``); the tile is selected when the fitted
       Ashman's D = sqrt(2) |m1 - m2| / sqrt(s1**2 + s2**2) > ``ashman_d`` (Ashman et al.
       1994), each fitted class weight is at least ``min_class_fraction`` and, when
       ``max_tile_threshold`` is given, the tile's own threshold is <= it (e.g. 0 dB, so that a
       land/land contrast is not taken for water/land);
    3. hierarchical splitting (Chini et al. 2017), only when ``min_tile`` is given: a tile that
       is not selected is split into four quadrants, tested in turn, down to ``min_tile``
       pixels (``tile`` must be ``min_tile * 2**k``). Without ``min_tile``: one level of tiles;
    4. the threshold is ``method`` applied to the sum of the selected tiles' histograms
       (selected tiles never overlap).

    ``n_tiles`` counts the tiles tested (all levels), ``n_selected`` the tiles pooled.

    Fallback when no tile is selected (``if_none_selected``): ``"global"`` (default) applies
    ``method`` to the histogram of the whole raster, and says so in ``result.fallback`` (and a
    warning in the log): that threshold is NOT split-based and may be poor when water is rare;
    ``"nan"`` returns threshold NaN with the reason (logged at INFO only: the caller asked for
    it); ``"raise"`` raises NoDataError.
    """
    if method not in ("otsu", "ki"):
        raise InputError(f"method: expected 'otsu' or 'ki', got {method!r}")
    if if_none_selected not in ("global", "nan", "raise"):
        raise InputError(
            f"if_none_selected: expected 'global', 'nan' or 'raise', got {if_none_selected!r}"
        )
    if isinstance(tile, bool) or not isinstance(tile, (int, np.integer)) or tile < 2:
        raise InputError(f"tile: expected an integer >= 2 (pixels), got {tile!r}")
    tile = int(tile)
    levels = 0
    if min_tile is not None:
        if (
            isinstance(min_tile, bool)
            or not isinstance(min_tile, (int, np.integer))
            or min_tile < 2
            or min_tile > tile
        ):
            raise InputError(
                f"min_tile: expected an integer 2 <= min_tile <= tile, got {min_tile!r}"
            )
        ratio = tile // int(min_tile)
        if ratio * int(min_tile) != tile or ratio & (ratio - 1):
            raise InputError(
                f"min_tile: tile ({tile}) must be min_tile ({min_tile}) times a power of 2"
            )
        levels = ratio.bit_length() - 1
    if not (0.0 <= float(min_class_fraction) < 0.5):
        raise InputError(f"min_class_fraction: expected 0 <= value < 0.5, got {min_class_fraction}")
    if not (0.0 < float(min_valid_fraction) <= 1.0):
        raise InputError(f"min_valid_fraction: expected 0 < value <= 1, got {min_valid_fraction}")
    bins = _check_bins(bins)
    data, _ = unwrap(x, "x")
    if data.ndim != 2:
        raise InputError(f"x: expected a 2-D raster (y, x), got shape {tuple(data.shape)}")
    kind = array_kind(data)
    rng = _check_range(range)
    if rng is None:
        rng = _data_range(data, kind, "x")
    lo, hi, edges = _edges(rng[0], rng[1], bins)
    finest = tile >> levels
    if kind == "numpy":
        fine = _tile_hists_np(data, finest, lo, hi, edges)
    elif kind == "dask":
        fine = _tile_hists_dask(data, finest, lo, hi, edges)
    else:  # GPU: tiles are small work; bring the raster to the host once
        fine = _tile_hists_np(_to_host(data), finest, lo, hi, edges)

    H, W = data.shape
    heights = np.minimum(finest, H - np.arange(fine.shape[0]) * finest)
    widths = np.minimum(finest, W - np.arange(fine.shape[1]) * finest)
    fine_area = heights[:, None] * widths[None, :]
    centres = 0.5 * (edges[:-1] + edges[1:])
    width = float(edges[1] - edges[0])

    pooled = np.zeros(bins, dtype=np.float64)
    n_tiles = 0
    n_selected = 0
    candidates = None  # tiles of the current level still to test (all, at the top level)
    for level in (int(v) for v in np.arange(levels, -1, -1)):  # ``range`` is an argument here
        f = 1 << level
        th = _coarsen(fine, f) if f > 1 else fine
        area = _coarsen(fine_area, f) if f > 1 else fine_area
        if candidates is None:
            candidates = np.ones(area.shape, dtype=bool)
        c = th.reshape(-1, bins).astype(np.float64)
        valid = c.sum(axis=1)
        tested = candidates.reshape(-1) & (valid > 0)
        tested &= valid >= float(min_valid_fraction) * area.reshape(-1)
        selected = np.zeros(c.shape[0], dtype=bool)
        if tested.any():
            ct = c[tested]
            idx = _otsu_index(ct, centres) if method == "otsu" else _ki_index(ct, centres, width)
            d, frac = _bimodality(ct, centres, idx, width)
            ok = (d > float(ashman_d)) & (frac >= float(min_class_fraction))
            if max_tile_threshold is not None:
                ok &= centres[idx] <= float(max_tile_threshold)
            selected[np.flatnonzero(tested)[ok]] = True
        n_tiles += int(tested.sum())
        n_selected += int(selected.sum())
        if selected.any():
            pooled += c[selected].sum(axis=0)
        if level:
            # unselected tiles split into quadrants (children of the next, finer level)
            rest = candidates & ~selected.reshape(candidates.shape)
            child_shape = _coarsen(fine_area, f >> 1).shape if f > 2 else fine_area.shape
            up = np.repeat(np.repeat(rest, 2, axis=0), 2, axis=1)
            candidates = up[: child_shape[0], : child_shape[1]]
    if n_selected:
        threshold = _threshold_from_hist(pooled, edges, method)
        return ThresholdResult(threshold, method, n_tiles, n_selected, None)

    sizes = f"{tile} px tiles" if not levels else f"{tile} to {finest} px tiles"
    reason = (
        f"no bimodal tile among {n_tiles} tested ({sizes}, Ashman's D > {ashman_d}, "
        f"class fraction >= {min_class_fraction})"
    )
    if if_none_selected == "raise":
        raise NoDataError(f"x: {reason}")
    if if_none_selected == "nan":  # the caller asked for NaN and handles it: not a warning
        log.info("split-based threshold: %s; returning NaN", reason)
        return ThresholdResult(math.nan, method, n_tiles, 0, f"{reason}: threshold is NaN")
    log.warning("split-based threshold: %s; using the global %s threshold", reason, method)
    everything = fine.reshape(-1, bins).sum(axis=0).astype(np.float64)
    threshold = _threshold_from_hist(everything, edges, method)
    return ThresholdResult(
        threshold,
        method,
        n_tiles,
        0,
        f"{reason}: global {method} threshold over all valid pixels (not split-based)",
    )


def _to_host(data: Any) -> np.ndarray:
    if hasattr(data, "copy_to_host"):
        return data.copy_to_host()
    return data.get()  # cupy
