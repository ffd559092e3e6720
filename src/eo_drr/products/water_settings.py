"""Settings of the Sentinel-1 open-water rule (:func:`eo_drr.products.water.s1_water`): the
:class:`WaterParams`, their selected :data:`DEFAULTS` per deciding channel (dB unless stated),
the checked overrides (:func:`water_params`) and the likelihood calibration
(:func:`likelihood_table_from`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

#: smallest quadtree tile tested, pixels (0.64 km at 10 m)
MIN_TILE = 64


@dataclass(frozen=True)
class WaterParams:
    """Settings of :func:`s1_water` (dB unless stated). Their defaults live in
    :data:`DEFAULTS`, one set per deciding channel: what ``benchmarks/flood_accuracy.py``'s
    selection function picks on all shared labelled events (its leave-one-event-out table
    shows what each held-out event would have got); the VH prior is published."""

    #: speckle filter on linear power: refined_lee (7 x 7 only), lee, kuan, boxcar, none
    speckle: str
    speckle_window: int
    #: channel that decides when both are given: "vh" or "vv"
    polarisation: str
    #: prior thresholds per channel, dB
    prior_vh_db: float
    prior_vv_db: float
    #: how far the scene's split-based threshold may move the prior, dB
    adapt_db: float
    #: region growing: connected pixels up to this much above the threshold join, dB
    grow_db: float
    #: water share (0-1) per bin of ``f - t`` (:data:`LIKELIHOOD_EDGES_DB`; below the first
    #: edge, each bin, above the last edge), learnt by ``benchmarks/flood_eval.py``
    likelihood_table: tuple[float, ...]
    #: "ki" (Kittler-Illingworth) or "otsu" for the split-based threshold
    threshold_method: str = "ki"
    min_tile: int = MIN_TILE
    #: water bodies smaller than this (8-connected pixels) are dropped
    min_mapping_unit_px: int = 1

    def prior_db(self, pol: str) -> float:
        return self.prior_vh_db if pol == "vh" else self.prior_vv_db


#: bin edges (dB from the threshold) of the likelihood table: -6 to +6 dB, 0.5 dB apart
LIKELIHOOD_EDGES_DB = tuple(float(v) for v in np.arange(-6.0, 6.01, 0.5))
#: elements per block of :func:`by_blocks` (a block's temporaries stay in cache)
BLOCK = 1 << 16


def by_blocks(func: Callable[[np.ndarray], Any], x: Any, dtype: Any) -> np.ndarray:
    """``func`` applied to consecutive flat blocks of :data:`BLOCK` elements of ``x``, written
    into one new array of ``dtype`` and ``x``'s shape (cast as assignment casts). Whatever
    ``func`` allocates (float64 distances, the intp indices numpy makes for ``take``) then
    exists a block at a time, never at full size: at 10980^2 such whole-array temporaries
    cost seconds a scene (issue 21). ``func`` must work element by element."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(flat.size, dtype=dtype)
    for start in range(0, flat.size, BLOCK):
        out[start : start + BLOCK] = func(flat[start : start + BLOCK])
    return out.reshape(np.shape(x))


def likelihood_bin(distance_db: np.ndarray) -> np.ndarray:
    """The likelihood-table bin of each distance (dB from the threshold; NaN counts as 0 dB):
    the number of :data:`LIKELIHOOD_EDGES_DB` at or below it, as
    ``np.searchsorted(LIKELIHOOD_EDGES_DB, np.nan_to_num(d), side="right")`` gives it
    (uint8).

    Computed arithmetically, block by block, since the edges are uniform:
    ``floor(d / 0.5) + 13`` clipped to 0..25. Dividing by a power of two, ``floor`` and adding
    a small integer are exact in floating point (``d`` is first clipped to +-1e6 dB, far
    beyond the edges), so the bins are the search's on and next to every edge
    (tests/test_water.py); float32 stays float32. About 10x faster than the search."""
    d = np.asarray(distance_db)
    edges = np.asarray(LIKELIHOOD_EDGES_DB)
    step = float(edges[1] - edges[0])
    offset = 1.0 - float(edges[0]) / step  # the bin of 0 <= d - edges[0] < step
    dtype = np.float32 if d.dtype == np.float32 else np.float64

    def bins(block: np.ndarray) -> np.ndarray:
        x = np.nan_to_num(block.astype(dtype), copy=False)
        np.clip(x, -1e6, 1e6, out=x)
        x /= step
        np.floor(x, out=x)
        x += offset
        np.clip(x, 0, edges.size, out=x)
        return x  # 0..25, cast to uint8 by by_blocks

    return by_blocks(bins, d, np.uint8)


def likelihood_of(f_db: np.ndarray, threshold_db: Any, table: np.ndarray) -> np.ndarray:
    """``np.take(table, likelihood_bin(f_db - threshold_db))`` computed block by block
    (:func:`by_blocks`): neither the distances nor the bins exist at full size. The same
    expression per block, so the same dtypes and values as the whole-array form."""
    return by_blocks(
        lambda block: np.take(table, likelihood_bin(block - threshold_db)), f_db, table.dtype
    )


def likelihood_table_from(distance_db: np.ndarray, is_water: np.ndarray) -> tuple[float, ...]:
    """Histogram-binning calibration: the water share per distance bin, made non-increasing
    with the distance above the threshold by pool-adjacent-violators (isotonic regression,
    Ayer et al. 1955) weighted by the bins' pixel counts; empty bins take their neighbours'
    value; non-finite distances are ignored."""
    ok = np.isfinite(distance_db)
    idx = likelihood_bin(distance_db[ok])
    nbins = len(LIKELIHOOD_EDGES_DB) + 1
    n = np.bincount(idx, minlength=nbins).astype(np.float64)
    w = np.bincount(idx, weights=is_water[ok].astype(np.float64), minlength=nbins)
    blocks: list[list[float]] = []  # [share, weight, first bin, last bin], non-increasing
    for k in np.flatnonzero(n):
        blocks.append([float(w[k] / n[k]), float(n[k]), int(k), int(k)])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            b = blocks.pop()
            a = blocks[-1]
            a[0] = (a[0] * a[1] + b[0] * b[1]) / (a[1] + b[1])
            a[1] += b[1]
            a[3] = b[3]
    share = np.full(nbins, np.nan)
    for v, _weight, first, last in blocks:
        share[int(first) : int(last) + 1] = v
    if not blocks:
        return (0.5,) * nbins
    filled = np.flatnonzero(np.isfinite(share))
    share = np.interp(np.arange(nbins), filled, share[filled])
    return tuple(round(float(v), 4) for v in share)


#: likelihood tables of the defaults (learnt with them by the selection on all shared events)
_TABLE_VH = (
    0.9693,
    0.9693,
    0.9693,
    0.9693,
    0.9693,
    0.9693,
    0.9546,
    0.9231,
    0.8631,
    0.7956,
    0.7281,
    0.641,
    0.5483,
    0.4708,
    0.3847,
    0.311,
    0.25,
    0.1872,
    0.1221,
    0.0767,
    0.0491,
    0.0317,
    0.0235,
    0.0198,
    0.0188,
    0.0188,
)
_TABLE_VV = (
    0.9511,
    0.9443,
    0.9408,
    0.9331,
    0.9273,
    0.9201,
    0.9106,
    0.8881,
    0.859,
    0.8125,
    0.763,
    0.7047,
    0.6581,
    0.5843,
    0.5138,
    0.4418,
    0.3645,
    0.2859,
    0.2046,
    0.133,
    0.0803,
    0.0501,
    0.0341,
    0.0266,
    0.0214,
    0.011,
)
#: Bonafilia et al. (2020): median of the 12 Sen1Floods11 events' VH Otsu thresholds, dB
PRIOR_VH_DB = -21.625
#: The defaults, per deciding channel, as selected on the shared events (VH: dual-polarised
#: scenes, VH decides; VV: single-polarised scenes). Selected by ``python
#: benchmarks/flood_accuracy.py`` ("selected on all events"); change them only with it.
DEFAULTS = {
    "vh": WaterParams(
        speckle="lee",
        speckle_window=9,
        polarisation="vh",
        prior_vh_db=PRIOR_VH_DB,
        prior_vv_db=-17.0,
        adapt_db=0.0,
        grow_db=1.0,
        likelihood_table=_TABLE_VH,
    ),
    "vv": WaterParams(
        speckle="lee",
        speckle_window=9,
        polarisation="vv",
        prior_vh_db=PRIOR_VH_DB,
        prior_vv_db=-17.0,
        adapt_db=2.0,
        grow_db=2.0,
        threshold_method="otsu",
        likelihood_table=_TABLE_VV,
    ),
}
SPECKLE_FILTERS = ("refined_lee", "lee", "kuan", "boxcar", "none")


def water_params(base: WaterParams | None = None, **overrides: Any) -> WaterParams:
    """``base`` (default ``DEFAULTS["vh"]``) with ``overrides``; unknown names and bad values
    raise :class:`~eo_drr.errors.InputError` naming the setting."""
    base = DEFAULTS["vh"] if base is None else base
    names = {f.name for f in dataclasses.fields(WaterParams)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise InputError(
            _("water settings: unknown {unknown} (known: {names})").format(
                unknown=", ".join(unknown), names=", ".join(sorted(names))
            )
        )
    p = dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})
    if p.speckle not in SPECKLE_FILTERS:
        raise InputError(
            _("speckle: unknown filter {speckle!r} (use {speckle_filters})").format(
                speckle=p.speckle, speckle_filters=", ".join(SPECKLE_FILTERS)
            )
        )
    if p.threshold_method not in ("ki", "otsu"):
        raise InputError(
            _("threshold_method: use 'ki' or 'otsu', not {threshold_method!r}").format(
                threshold_method=p.threshold_method
            )
        )
    if p.polarisation not in ("vh", "vv"):
        raise InputError(
            _("polarisation: use 'vh' or 'vv', not {polarisation!r}").format(
                polarisation=p.polarisation
            )
        )
    for name in ("adapt_db", "grow_db"):
        if not 0 <= getattr(p, name) <= 10:
            raise InputError(
                _("{name}: expected 0-10 dB, got {value!r}").format(
                    name=name, value=getattr(p, name)
                )
            )
    if len(p.likelihood_table) != len(LIKELIHOOD_EDGES_DB) + 1 or not all(
        0 <= v <= 1 for v in p.likelihood_table
    ):
        raise InputError(
            _("likelihood_table: expected {n} shares 0-1").format(n=len(LIKELIHOOD_EDGES_DB) + 1)
        )
    return p
