"""Sentinel-1 single-date open water: an ensemble of published automatic thresholding methods.

Each method looks at one speckle-filtered backscatter image in **dB** and either returns a
water mask or *abstains* (no bimodal histogram anywhere: it cannot tell water from land). The
ensemble is combined GFM-style (Copernicus Global Flood Monitoring): a pixel is water when the
majority of the methods that returned a result say so; the likelihood (0-100) is the share of
those methods voting water. Per-pixel provenance records which methods voted.

Methods
-------
``hsba_vv`` / ``hsba_vh``
    Hierarchical split-based approach (Chini et al. 2017, IEEE TGRS 55(12):6975-6988): the
    image is split quadtree-wise until tiles are bimodal (Ashman's D > 2 of a two-Gaussian fit,
    both classes >= 10 %; Ashman et al. 1994), down to ``min_tile`` pixels; the
    Kittler-Illingworth minimum-error threshold (Kittler & Illingworth 1986) of the pooled
    histogram of the selected tiles (as in Martinis et al. 2009, NHESS 9:303-314) separates
    water (below) from land. Abstains when no tile is bimodal.
``fuzzy_vv``
    Fuzzy thresholding after Martinis et al. (2015, ISPRS J. Photogramm. 104:203-212): the
    backscatter membership is a standard S-function that is 1 at the mean water backscatter
    and 0 at the threshold plus the distance from the water mean to the threshold; the
    "size" membership of a connected water body rises linearly from 0 at 1 pixel to 1 at
    ``min_body_px`` pixels; pixels are water where the mean membership is >= 0.5. Needs the
    ``hsba_vv`` threshold, so it abstains with it.

Fallback when every method abstains: no water is mapped, ``fallback`` in the result says why
(a scene with no bimodal backscatter is either water-free or entirely water; SAR alone cannot
tell which). A global Otsu threshold is never used silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from eo_drr.errors import InputError, NoDataError
from eo_drr.indices import sar, threshold

log = logging.getLogger(__name__)

#: smallest quadtree tile tested, pixels (0.64 km at 10 m)
MIN_TILE = 64
#: bimodality criteria (Chini et al. 2017 use Ashman's D > 2)
ASHMAN_D = 2.0
MIN_CLASS_FRACTION = 0.1
#: connected water bodies of this many pixels or more get full "size" membership
MIN_BODY_PX = 25
HIST_BINS = 256
#: A tile's lower mode is only water when its split lies below these bounds (dB). Calm open
#: water is specular: VV gamma0 typically -18 to -25 dB, VH -25 to -30 dB (Twele et al. 2016,
#: Int. J. Remote Sens. 37(13):2990-3004; Martinis et al. 2015 report VV splits of -23 to
#: -14 dB). A bimodal tile split above -10 dB VV / -16 dB VH separates two kinds of land
#: (fields and towns, say), not water from land.
MAX_SPLIT_DB = {"vv": -10.0, "vh": -16.0}
#: bits of the provenance byte
PROVENANCE_BITS = {"hsba_vv": 1, "hsba_vh": 2, "fuzzy_vv": 4}


@dataclass
class MethodResult:
    name: str
    mask: np.ndarray | None
    threshold_db: float | None
    n_tiles: int = 0
    note: str | None = None


@dataclass
class WaterResult:
    """``water`` uint8 (1 water, 0 not, 255 no data), ``likelihood`` uint8 0-100 (255 no data),
    ``provenance`` uint8 bit mask of the methods voting water (see ``PROVENANCE_BITS``)."""

    water: np.ndarray
    likelihood: np.ndarray
    provenance: np.ndarray
    methods: list[MethodResult] = field(default_factory=list)
    fallback: str | None = None
    #: the speckle-filtered VV in dB the methods saw (float32, NaN nodata)
    vv_db_filtered: np.ndarray | None = None

    def summary(self) -> dict:
        return {
            "methods": {m.name: {"threshold_db": m.threshold_db, "tiles": m.n_tiles, "note": m.note} for m in self.methods},
            "fallback": self.fallback,
        }


def remove_small_objects(mask: np.ndarray, min_size: int) -> np.ndarray:
    """Drop 8-connected True components smaller than ``min_size`` pixels."""
    if min_size <= 1 or not mask.any():
        return mask
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= min_size
    keep[0] = False
    return keep[labels]


def _quantiles(x: np.ndarray, qs: tuple[float, ...], bins: int = 4096) -> tuple[float, ...]:
    """Quantiles of the finite values of ``x`` to 1/``bins`` of their range, from one fast
    histogram (:func:`eo_drr.indices.threshold.histogram`) instead of a sort: used for the
    histogram range and plausibility checks, where that precision is ample."""
    counts, edges = threshold.histogram(x, bins=bins)
    cdf = np.cumsum(counts) / max(int(counts.sum()), 1)
    out = []
    for q in qs:  # the bin holding the quantile: its lower edge below the median, upper above
        i = min(int(np.searchsorted(cdf, q)), bins - 1)
        out.append(float(edges[i] if q < 0.5 else edges[i + 1]))
    return tuple(out)


def hsba_threshold(
    img_db: np.ndarray, *, min_tile: int = MIN_TILE, method: str = "ki", max_split_db: float = 0.0
) -> tuple[float | None, int]:
    """Hierarchical split-based threshold of a dB image: ``(threshold or None, tiles used)``.
    Tiles whose own split lies above ``max_split_db`` do not count as water/land bimodal."""
    finite = np.isfinite(img_db)
    if finite.sum() < min_tile * min_tile // 2:
        return None, 0
    lo, hi = _quantiles(img_db, (0.001, 0.999))
    if not hi > lo:
        return None, 0

    # Chini et al. (2017): start from the largest tile and split non-bimodal tiles into
    # quadrants down to ``min_tile``. The fine histograms are taken once (one pass over the
    # image) and summed into the coarser levels, so every level costs no further pass.
    levels = max(0, int(np.floor(np.log2(max(img_db.shape) / min_tile))))
    r = threshold.split_based_threshold(
        img_db, tile=min_tile * 2**levels, min_tile=min_tile, method=method, range=(lo, hi),
        bins=HIST_BINS, min_class_fraction=MIN_CLASS_FRACTION, ashman_d=ASHMAN_D,
        max_tile_threshold=max_split_db, if_none_selected="nan",
    )
    if not np.isfinite(r.threshold):
        return None, 0
    return float(r.threshold), r.n_selected


def _s_function(x: np.ndarray, a: float, c: float) -> np.ndarray:
    """Zadeh's standard S-function rising from 0 at ``a`` to 1 at ``c`` (b = midpoint)."""
    b = 0.5 * (a + c)
    z = np.zeros_like(x, dtype=np.float32)
    m1 = (x > a) & (x <= b)
    m2 = (x > b) & (x < c)
    z[m1] = 2 * ((x[m1] - a) / (c - a)) ** 2
    z[m2] = 1 - 2 * ((x[m2] - c) / (c - a)) ** 2
    z[x >= c] = 1
    return z


def _fuzzy(vv_db: np.ndarray, t: float, min_body_px: int) -> np.ndarray | None:
    from scipy import ndimage

    water0 = vv_db < t
    if not water0.any():
        return None
    mean_w = float(np.nanmean(vv_db[water0]))
    if not t > mean_w:
        return None
    # backscatter membership: 1 at the water mean, 0 at t + (t - mean_w)
    m_sigma = 1.0 - _s_function(np.nan_to_num(vv_db, nan=np.inf), mean_w, t + (t - mean_w))
    cand = m_sigma >= 0.5
    labels, n = ndimage.label(cand, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1).astype(np.float32)
    m_size = np.clip(sizes[labels] / float(min_body_px), 0, 1)
    m_size[labels == 0] = 0
    return ((m_sigma + m_size) / 2.0 >= 0.5) & np.isfinite(vv_db)


def s1_water(
    vv: np.ndarray,
    vh: np.ndarray | None = None,
    *,
    units: str = "db",
    speckle: str = "refined_lee",
    speckle_window: int = 7,
    threshold_method: str = "ki",
    min_tile: int = MIN_TILE,
    min_body_px: int = MIN_BODY_PX,
    min_mapping_unit_px: int = 1,
) -> WaterResult:
    """Open water from one Sentinel-1 acquisition (2-D arrays; VV and optionally VH).

    ``units``: ``"db"`` or ``"linear"`` (power) for the given arrays; NaN is nodata.
    ``speckle``: ``"refined_lee"`` (default; 7 x 7 only, Lee 1981: edge-aligned windows, the
    filter of the Sentinel-1 analysis-ready-data framework of Mullissa et al. 2021, Remote Sens.
    13(10):1954), ``"lee"``, ``"boxcar"`` (window ``speckle_window``) or ``"none"``, on linear
    power. Measured on the Sen1Floods11 chips (``benchmarks/flood_accuracy.py``), pooled water
    IoU by filter: refined Lee 7 0.79, Lee 9 0.72, Lee 7 0.63, boxcar 7 0.60, Lee 5 0.46; the
    result is sensitive to the filter, which is why the note of every run records it. ``threshold_method``: ``"ki"`` (Kittler-Illingworth, as
    Martinis et al. 2009) or ``"otsu"`` for the pooled split-based histogram.
    """
    filters = {
        "lee": lambda a: sar.lee(a, window=speckle_window),
        "refined_lee": lambda a: sar.refined_lee(a, window=7),
        "boxcar": lambda a: sar.boxcar(a, window=speckle_window),
        "none": lambda a: a,
    }
    if speckle not in filters:
        raise InputError(f"speckle: unknown filter {speckle!r} (use {', '.join(filters)})")
    if threshold_method not in ("ki", "otsu"):
        raise InputError(f"threshold_method: use 'ki' or 'otsu', not {threshold_method!r}")
    if units not in ("db", "linear"):
        raise InputError("units: use 'db' or 'linear'")
    vv = np.asarray(vv, dtype=np.float32)
    if vv.ndim != 2:
        raise InputError(f"vv: expected a 2-D raster, got shape {vv.shape}")
    if vh is not None:
        vh = np.asarray(vh, dtype=np.float32)
        if vh.shape != vv.shape:
            raise InputError(f"vh: shape {vh.shape} differs from vv {vv.shape}")
    if not np.isfinite(vv).any():
        raise NoDataError("vv: all pixels are nodata")

    def filtered_db(x):
        lin = sar.to_linear(x) if units == "db" else x
        return np.asarray(sar.to_db(filters[speckle](lin)))

    med = _quantiles(vv, (0.5,))[0]
    if units == "db" and not (-40 < med < 10):
        raise InputError(f"vv: median {med:.3g} is implausible for dB (linear values declared as dB?)")
    if units == "linear" and not (0 < med < 10):
        raise InputError(f"vv: median {med:.3g} is implausible for linear power (dB declared as linear?)")
    fvv = filtered_db(vv)
    fvh = filtered_db(vh) if vh is not None and np.isfinite(vh).any() else None
    valid = np.isfinite(fvv)

    methods: list[MethodResult] = []
    t_vv, n_vv = hsba_threshold(fvv, min_tile=min_tile, method=threshold_method, max_split_db=MAX_SPLIT_DB["vv"])
    methods.append(MethodResult("hsba_vv", (fvv < t_vv) & valid if t_vv is not None else None, t_vv, n_vv,
                                None if t_vv is not None else "no bimodal tile"))
    if fvh is not None:
        t_vh, n_vh = hsba_threshold(fvh, min_tile=min_tile, method=threshold_method, max_split_db=MAX_SPLIT_DB["vh"])
        methods.append(MethodResult("hsba_vh", (fvh < t_vh) & valid if t_vh is not None else None, t_vh, n_vh,
                                    None if t_vh is not None else "no bimodal tile"))
    fz = _fuzzy(fvv, t_vv, min_body_px) if t_vv is not None else None
    methods.append(MethodResult("fuzzy_vv", fz, t_vv, n_vv, None if fz is not None else "needs the hsba_vv threshold"))

    voting = [m for m in methods if m.mask is not None]
    votes = np.zeros(vv.shape, dtype=np.uint8)
    prov = np.zeros(vv.shape, dtype=np.uint8)
    for m in voting:
        votes += m.mask
        prov |= np.where(m.mask, PROVENANCE_BITS[m.name], 0).astype(np.uint8)
    fallback = None
    if voting:
        water = votes * 2 > len(voting)
        likelihood = np.round(100.0 * votes / len(voting)).astype(np.uint8)
    else:
        fallback = "no method found a bimodal backscatter histogram: no water mapped"
        log.warning("s1_water: %s", fallback)
        water = np.zeros(vv.shape, dtype=bool)
        likelihood = np.zeros(vv.shape, dtype=np.uint8)
    if min_mapping_unit_px > 1:
        water = remove_small_objects(water, min_mapping_unit_px)
    out = np.where(water, 1, 0).astype(np.uint8)
    out[~valid] = 255
    likelihood[~valid] = 255
    prov[~valid] = 0
    return WaterResult(out, likelihood, prov, methods, fallback, fvv)
