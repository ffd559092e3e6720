"""Histogram thresholds: histograms, Otsu, Kittler-Illingworth, split-based (tiled) thresholds.

- :func:`histogram` counts values in one pass: numba with per-block private histograms on
  the CPU, atomics on the GPU, per-chunk histograms summed for dask. NaN and +-inf are no data
  everywhere here (histograms, ranges, tiles): a stray infinite pixel is ignored, not binned.
- :func:`otsu` (Otsu 1979, IEEE Trans. SMC 9(1):62-66) and :func:`kittler_illingworth`
  (minimum error thresholding, Kittler & Illingworth 1986, Pattern Recognition 19(1):41-47)
  work on a histogram ``(counts, edges)``; :func:`otsu_threshold` and :func:`ki_threshold`
  take the array.
- :func:`split_based_threshold`: the threshold from the tiles whose histograms are bimodal
  (Martinis et al. 2009, NHESS 9:303-314; Chini et al. 2017, IEEE TGRS 55(12):6975-6988),
  with its tiling and tile tests in :class:`SplitBasedOptions`.

The counting lives in :mod:`eo_drr.indices._histogram`, the criteria on histograms in
:mod:`eo_drr.indices._criteria`.

Threshold convention (as ``skimage.filters.threshold_otsu``): the threshold returned is the
*centre* of the last bin of the lower class, so ``x <= t`` is the lower class (e.g. water in
SAR dB) up to the bin width. Thresholds are in the units of the input (dB for SAR in dB).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any, Literal

import numpy as np

from eo_drr.errors import InputError, NoDataError
from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _
from eo_drr.indices import _histogram as H
from eo_drr.indices._common import unwrap
from eo_drr.indices._criteria import bimodality, ki_index, otsu_index
from eo_drr.kernels._dispatch import array_kind

log = logging.getLogger(__name__)

__all__ = [
    "ThresholdResult",
    "SplitBasedOptions",
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
    bins = H.check_bins(bins)
    rng = H.check_range(range)
    data, _coords = unwrap(x, "x")
    kind = array_kind(data)
    if rng is None:
        rng = H.data_range(data, kind, "x")
    lo, hi, edges = H.uniform_edges(rng[0], rng[1], bins)
    return H.counts(data, kind, lo, hi, edges), edges


# --------------------------------------------------------------------------------------------
# thresholds from histograms (vectorised over leading axes: (..., bins))


def _check_hist(counts: Any, edges: Any) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(counts)
    e = np.asarray(edges, dtype=np.float64)
    if c.ndim < 1 or e.ndim != 1 or e.size != c.shape[-1] + 1:
        raise InputError(
            _(
                "counts, edges: expected counts of n bins and n + 1 edges, got shapes {shape} "
                "and {shape2}"
            ).format(shape=c.shape, shape2=e.shape)
        )
    if c.shape[-1] < 2:
        raise InputError(_("counts: at least 2 bins are needed for a threshold"))
    if c.dtype.kind not in "iuf" or (c.size and np.nanmin(c) < 0):
        raise InputError(_("counts: expected non-negative counts"))
    return c.astype(np.float64), e


def _threshold_from_hist(c: np.ndarray, e: np.ndarray, method: str) -> float:
    centres = 0.5 * (e[:-1] + e[1:])
    total = c.sum()
    if total <= 0:
        raise NoDataError(_("counts: the histogram is empty (no valid value)"))
    nonzero = np.flatnonzero(c)
    if nonzero.size == 1:  # one populated bin: nothing to separate, return it (as skimage)
        return float(centres[nonzero[0]])
    if method == "otsu":
        idx = otsu_index(c, centres)
    else:
        idx = ki_index(c, centres, float(e[1] - e[0]))
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
    ``eo_drr.indices._criteria.ki_index``). Same return convention and errors as :func:`otsu`.
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


@dataclasses.dataclass(frozen=True)
class SplitBasedOptions:
    """Tiling and tile tests of :func:`split_based_threshold` (Martinis et al. 2009; Chini et
    al. 2017); its defaults are these. Raises InputError for a value out of range.

    tile: tile size (pixels; edge tiles are the remainders). min_tile: None for one level of
    tiles; otherwise the smallest tile (pixels) of the hierarchical splitting of Chini et al.
    (2017), with ``tile`` = ``min_tile * 2**k``. bins, range: the bins shared by every tile's
    histogram over ``(min, max)`` (units of the input; None: min and max of its finite
    values). min_valid_fraction: share (0-1] of a tile's pixels that must be valid for it to
    be tested. ashman_d: Ashman's D (Ashman et al. 1994) of the two fitted Gaussians must
    exceed it. min_class_fraction: each fitted class weight must be at least this (0-0.5).
    max_tile_threshold: when given, a tile's own threshold must be <= it (units of the input,
    e.g. 0 dB, so that a land/land contrast is not taken for water/land).
    """

    tile: int = 256
    min_tile: int | None = None
    bins: int = 256
    range: tuple[float, float] | None = None
    min_valid_fraction: float = 0.5
    ashman_d: float = 2.0
    min_class_fraction: float = 0.1
    max_tile_threshold: float | None = None

    def __post_init__(self) -> None:
        tile = self.tile
        if isinstance(tile, bool) or not isinstance(tile, (int, np.integer)) or tile < 2:
            raise InputError(
                _("tile: expected an integer >= 2 (pixels), got {tile!r}").format(tile=tile)
            )
        tile = int(tile)
        object.__setattr__(self, "tile", tile)
        min_tile = self.min_tile
        if min_tile is not None:
            if (
                isinstance(min_tile, bool)
                or not isinstance(min_tile, (int, np.integer))
                or min_tile < 2
                or min_tile > tile
            ):
                raise InputError(
                    _(
                        "min_tile: expected an integer 2 <= min_tile <= tile, got {min_tile!r}"
                    ).format(min_tile=min_tile)
                )
            ratio = tile // int(min_tile)
            if ratio * int(min_tile) != tile or ratio & (ratio - 1):
                raise InputError(
                    _(
                        "min_tile: tile ({tile}) must be min_tile ({min_tile}) times a power of 2"
                    ).format(tile=tile, min_tile=min_tile)
                )
        if not (0.0 <= float(self.min_class_fraction) < 0.5):
            raise InputError(
                _("min_class_fraction: expected 0 <= value < 0.5, got {min_class_fraction}").format(
                    min_class_fraction=self.min_class_fraction
                )
            )
        if not (0.0 < float(self.min_valid_fraction) <= 1.0):
            raise InputError(
                _("min_valid_fraction: expected 0 < value <= 1, got {min_valid_fraction}").format(
                    min_valid_fraction=self.min_valid_fraction
                )
            )
        object.__setattr__(self, "bins", H.check_bins(self.bins))
        object.__setattr__(self, "range", H.check_range(self.range))

    @property
    def levels(self) -> int:
        """Levels of splitting below ``tile`` (0 without ``min_tile``)."""
        if self.min_tile is None:
            return 0
        return (self.tile // int(self.min_tile)).bit_length() - 1


def split_based_threshold(
    x: Any,
    options: SplitBasedOptions | None = None,
    method: Method = "otsu",
    *,
    if_none_selected: Literal["global", "nan", "raise"] = "global",
) -> ThresholdResult:
    """Split-based threshold: pool the histograms of the bimodal tiles only.

    Following Martinis et al. (2009, NHESS 9:303-314) and Chini et al. (2017, IEEE TGRS
    55(12):6975-6988), a global threshold over a large scene fails when one class (water) is a
    small fraction of it; tiles where both classes are well represented are bimodal, and their
    pooled histogram gives a reliable threshold. Here, with ``options`` (default:
    ``SplitBasedOptions()``):

    1. the 2-D raster ``x`` (e.g. backscatter in dB) is cut into ``tile`` x ``tile`` tiles
       (edge tiles are the remainders); all histograms share ``bins`` bins over ``range``
       (default: min, max of the finite values of ``x``; NaN and +-inf are not counted);
    2. tiles with at least ``min_valid_fraction`` of their pixels valid are tested: the tile's
       own ``method`` threshold splits its histogram in two classes, which start an EM fit of
       two Gaussians to the histogram (``eo_drr.indices._criteria.EM_ITERATIONS``); the tile
       is selected when the fitted Ashman's D = sqrt(2) |m1 - m2| / sqrt(s1**2 + s2**2) >
       ``ashman_d`` (Ashman et al. 1994), each fitted class weight is at least
       ``min_class_fraction`` and, when ``max_tile_threshold`` is given, the tile's own
       threshold is <= it (e.g. 0 dB, so that a land/land contrast is not taken for water/land);
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
        raise InputError(_("method: expected 'otsu' or 'ki', got {method!r}").format(method=method))
    if if_none_selected not in ("global", "nan", "raise"):
        raise InputError(
            _(
                "if_none_selected: expected 'global', 'nan' or 'raise', got {if_none_selected!r}"
            ).format(if_none_selected=if_none_selected)
        )
    opt = SplitBasedOptions() if options is None else options
    data, _template = unwrap(x, "x")
    if data.ndim != 2:
        raise InputError(
            _("x: expected a 2-D raster (y, x), got shape {shape}").format(shape=tuple(data.shape))
        )
    kind = array_kind(data)
    rng = opt.range
    if rng is None:
        rng = H.data_range(data, kind, "x")
    lo, hi, edges = H.uniform_edges(rng[0], rng[1], opt.bins)
    fine = H.tile_counts(data, kind, opt.tile >> opt.levels, lo, hi, edges)
    pooled, n_tiles, n_selected = _pool_bimodal_tiles(fine, data.shape, edges, method, opt)
    if n_selected:
        threshold = _threshold_from_hist(pooled, edges, method)
        return ThresholdResult(threshold, method, n_tiles, n_selected, None)
    return _no_tile_selected(fine, edges, method, opt, n_tiles, if_none_selected)


def _pool_bimodal_tiles(
    fine: np.ndarray, shape: tuple[int, int], edges: np.ndarray, method: str, opt: SplitBasedOptions
) -> tuple[np.ndarray, int, int]:
    """The summed histogram of the selected tiles, the number of tiles tested and selected
    (steps 2-3 of :func:`split_based_threshold`), from the histograms of the finest tiles."""
    levels = opt.levels
    finest = opt.tile >> levels
    bins = edges.size - 1
    n_rows, n_cols = shape
    heights = np.minimum(finest, n_rows - np.arange(fine.shape[0]) * finest)
    widths = np.minimum(finest, n_cols - np.arange(fine.shape[1]) * finest)
    fine_area = heights[:, None] * widths[None, :]
    centres = 0.5 * (edges[:-1] + edges[1:])
    width = float(edges[1] - edges[0])

    pooled = np.zeros(bins, dtype=np.float64)
    n_tiles = 0
    n_selected = 0
    candidates = None  # tiles of the current level still to test (all, at the top level)
    for level in range(levels, -1, -1):
        f = 1 << level
        th = H.coarsen(fine, f) if f > 1 else fine
        area = H.coarsen(fine_area, f) if f > 1 else fine_area
        if candidates is None:
            candidates = np.ones(area.shape, dtype=bool)
        c = th.reshape(-1, bins).astype(np.float64)
        valid = c.sum(axis=1)
        tested = candidates.reshape(-1) & (valid > 0)
        tested &= valid >= float(opt.min_valid_fraction) * area.reshape(-1)
        selected = np.zeros(c.shape[0], dtype=bool)
        if tested.any():
            ct = c[tested]
            idx = otsu_index(ct, centres) if method == "otsu" else ki_index(ct, centres, width)
            d, frac = bimodality(ct, centres, idx, width)
            ok = (d > float(opt.ashman_d)) & (frac >= float(opt.min_class_fraction))
            if opt.max_tile_threshold is not None:
                ok &= centres[idx] <= float(opt.max_tile_threshold)
            selected[np.flatnonzero(tested)[ok]] = True
        n_tiles += int(tested.sum())
        n_selected += int(selected.sum())
        if selected.any():
            pooled += c[selected].sum(axis=0)
        if level:
            # unselected tiles split into quadrants (children of the next, finer level)
            rest = candidates & ~selected.reshape(candidates.shape)
            child_shape = H.coarsen(fine_area, f >> 1).shape if f > 2 else fine_area.shape
            up = np.repeat(np.repeat(rest, 2, axis=0), 2, axis=1)
            candidates = up[: child_shape[0], : child_shape[1]]
    return pooled, n_tiles, n_selected


def _no_tile_selected(
    fine: np.ndarray,
    edges: np.ndarray,
    method: str,
    opt: SplitBasedOptions,
    n_tiles: int,
    if_none_selected: str,
) -> ThresholdResult:
    """The fallback of :func:`split_based_threshold` when no tile is bimodal."""
    tile = opt.tile
    levels = opt.levels
    finest = tile >> levels
    bins = edges.size - 1
    sizes = N_("{tile} px tiles") if not levels else N_("{tile} to {finest} px tiles")
    why = N_(
        "no bimodal tile among {n} tested ({sizes}, Ashman's D > {d}, class fraction >= {share})"
    )
    figures = {"n": n_tiles, "d": opt.ashman_d, "share": opt.min_class_fraction}
    # in English for the result (run.json), in the user's language for the messages
    reason = why.format(sizes=sizes.format(tile=tile, finest=finest), **figures)
    said = _(why).format(sizes=_(sizes).format(tile=tile, finest=finest), **figures)
    if if_none_selected == "raise":
        raise NoDataError(_("x: {reason}").format(reason=said))
    if if_none_selected == "nan":  # the caller asked for NaN and handles it: not a warning
        log.info(_("split-based threshold: {reason}; returning NaN").format(reason=said))
        return ThresholdResult(math.nan, method, n_tiles, 0, f"{reason}: threshold is NaN")
    log.warning(
        _("split-based threshold: {reason}; using the global {method} threshold").format(
            reason=said, method=method
        )
    )
    everything = fine.reshape(-1, bins).sum(axis=0).astype(np.float64)
    threshold = _threshold_from_hist(everything, edges, method)
    return ThresholdResult(
        threshold,
        method,
        n_tiles,
        0,
        f"{reason}: global {method} threshold over all valid pixels (not split-based)",
    )
