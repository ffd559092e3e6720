"""Sentinel-1 single-date open water: a scene threshold anchored to a published prior, grown
from confident seeds, with a calibrated likelihood and per-scene quality flags.

Open water is a specular reflector: its backscatter sits near the sensor's noise floor,
far below land, in the cross-polarised channel most of all (VH of calm or wind-roughened
water stays low where VV can rise to the level of fields; Twele et al. 2016, Int. J. Remote
Sens. 37(13):2990-3004; Clement et al. 2018, J. Flood Risk Manag. 11:152-168). The rule, on
speckle-filtered backscatter in **dB**:

1. **Channel**: VH when the scene has it, else VV (``WaterParams.polarisation``).
2. **Scene threshold**: the hierarchical split-based Kittler-Illingworth threshold (Chini et
   al. 2017, IEEE TGRS 55(12):6975-6988: tiles split quadtree-wise until bimodal, Ashman's
   D > 2, both classes >= 10 % of the tile, so either class may be the minority of the
   scene; KI after Kittler & Illingworth 1986 on the pooled histogram, as Martinis et al.
   2009, NHESS 9:303-314).
3. **Prior**: the scene threshold may move at most ``adapt_db`` from the prior threshold of
   the channel; with no bimodal tile (a scene of scarce water, no water or only water) the
   prior decides alone and the quality flags say so. On dual-polarised scenes the selection
   keeps ``adapt_db = 0``: the published VH prior beat every scene-adaptive variant held out
   (the scene split still sets the quality flags). On VV-only scenes the selected prior is
   -17 dB, moved up to 2 dB by the scene's split-based Otsu threshold (Otsu 1979). The VH prior, -21.6 dB, is the median
   of the per-event VH Otsu thresholds published with Sen1Floods11 (Bonafilia et al. 2020,
   CVPR Workshops 210-211: 12 events on five continents, -25.1 to -19.6 dB). The VV prior
   and the other settings are chosen by leave-one-event-out selection on labelled floods
   (``benchmarks/flood_accuracy.py``), never by looking at one scene.
4. **Region growing** (Martinis et al. 2015, ISPRS J. Photogramm. 104:203-212; Chini et
   al. 2017; Twele et al. 2016): pixels below the threshold are seeds; 8-connected pixels
   up to ``grow_db`` above it join their water body (flooded fields a little brighter than
   open water, next to it): 1 dB for VH, 2 dB for VV-only scenes.
5. **Likelihood** (0-100): the share of labelled water among pixels at the same distance
   ``f - t`` (dB) from the threshold, read from a table of 0.5 dB bins learnt on labelled floods
   (histogram-binning calibration, Zadrozny & Elkan 2001, ICML 609-616; made non-increasing
   with distance). The benchmark prints the observed water share per likelihood decile on
   held-out events.

Provenance bits: 1 seed (below the threshold), 2 grown (region growing), 4 the threshold is
the prior's (no bimodal tile, or the scene split held at the prior, as always with VH). :mod:`eo_drr.products.change` adds 8 (change detection).

The settings, their selected defaults and the likelihood calibration live in
:mod:`eo_drr.products.water_settings`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.indices import sar, threshold
from eo_drr.kernels.select_cpu import class_medians
from eo_drr.products.water_settings import (
    BLOCK,
    DEFAULTS,
    MIN_TILE,
    WaterParams,
    by_blocks,
    likelihood_of,
    water_params,
)

log = logging.getLogger(__name__)

#: bimodality criteria (Chini et al. 2017 use Ashman's D > 2)
ASHMAN_D = 2.0
MIN_CLASS_FRACTION = 0.1
HIST_BINS = 256
#: A tile's lower mode is only water when its split lies below these bounds (dB): a bimodal
#: tile split above them separates two kinds of land (fields and towns), not water from land
#: (calm water: VV -18 to -25 dB, VH -25 to -30 dB; Twele et al. 2016).
MAX_SPLIT_DB = {"vv": -10.0, "vh": -16.0}
#: bits of the provenance byte
SEED, GROWN, PRIOR_DECIDED = 1, 2, 4
PROVENANCE_BITS = {"seed": SEED, "grown": GROWN, "prior_decided": PRIOR_DECIDED}
#: below this contrast (dB) between the mapped water and land, a map is flagged unreliable
LOW_CONTRAST_DB = 3.0
#: a scene split this far (dB) above the prior is flagged: water brighter than water usually is
#: (wind, rain, miscalibration). Far below it is not: very calm water (VH -27 to -30 dB) splits
#: low, and the prior threshold then still lies between water and land.
FAR_FROM_PRIOR_DB = 4.0


@dataclass
class SceneThreshold:
    """How the threshold of one scene came about (dB)."""

    polarisation: str
    threshold_db: float
    scene_db: float | None  # the split-based threshold, None when no tile was bimodal
    prior_db: float
    tiles_used: int
    tiles_share: float  # share of the tested tiles that were bimodal

    def summary(self, quality: dict) -> dict:
        """The threshold's figures (dB, rounded to 0.01) with the scene's ``quality`` flags."""
        return {
            "polarisation": self.polarisation,
            "threshold_db": round(self.threshold_db, 2),
            "scene_threshold_db": None if self.scene_db is None else round(self.scene_db, 2),
            "prior_db": self.prior_db,
            "tiles_used": self.tiles_used,
            "quality": quality,
        }


@dataclass
class WaterResult:
    """``water`` uint8 (1 water, 0 not, 255 no data), ``likelihood`` uint8 0-100 (255 no
    data), ``provenance`` uint8 bits (:data:`PROVENANCE_BITS`), ``quality`` the per-scene
    flags (:func:`quality_flags`)."""

    water: np.ndarray
    likelihood: np.ndarray
    provenance: np.ndarray
    threshold: SceneThreshold
    quality: dict = field(default_factory=dict)
    #: the speckle-filtered backscatter in dB of the deciding channel (float32, NaN nodata)
    decided_db: np.ndarray | None = None

    @property
    def fallback(self) -> str | None:
        return self.quality.get("fallback")

    def summary(self) -> dict:
        return self.threshold.summary(self.quality)


def remove_small_objects(mask: np.ndarray, min_size: int) -> np.ndarray:
    """Drop 8-connected True components smaller than ``min_size`` pixels."""
    if min_size <= 1 or not mask.any():
        return mask
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    flat = labels.reshape(-1)
    sizes = np.zeros(n + 1, dtype=np.int64)
    for start in range(0, flat.size, BLOCK):  # bincount casts its input to intp: by blocks
        sizes += np.bincount(flat[start : start + BLOCK], minlength=n + 1)
    keep = sizes >= min_size
    keep[0] = False
    return by_blocks(keep.take, labels, bool)  # keep[labels], intp indices by blocks


def grow_regions(seeds: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """8-connected components of ``candidates`` that hold at least one seed (hysteresis)."""
    from scipy import ndimage

    cand = candidates | seeds
    labels, n = ndimage.label(cand, structure=np.ones((3, 3), dtype=bool))
    keep = np.zeros(n + 1, dtype=bool)
    keep[labels[seeds]] = True
    keep[0] = False
    return by_blocks(keep.take, labels, bool)  # keep[labels], intp indices by blocks


def _quantiles(x: np.ndarray, qs: tuple[float, ...], bins: int = 4096) -> tuple[float, ...]:
    """Quantiles of the finite values of ``x`` to 1/``bins`` of their range, from one fast
    histogram (:func:`eo_drr.indices.threshold.histogram`) instead of a sort."""
    counts, edges = threshold.histogram(x, bins=bins)
    cdf = np.cumsum(counts) / max(int(counts.sum()), 1)
    out = []
    for q in qs:  # the bin holding the quantile: its lower edge below the median, upper above
        i = min(int(np.searchsorted(cdf, q)), bins - 1)
        out.append(float(edges[i] if q < 0.5 else edges[i + 1]))
    return tuple(out)


def hsba_threshold(
    img_db: np.ndarray, *, min_tile: int = MIN_TILE, method: str = "ki", max_split_db: float = 0.0
) -> tuple[float | None, int, float]:
    """Hierarchical split-based threshold of a dB image (Chini et al. 2017):
    ``(threshold or None, tiles used, their share of the tiles tested)``. Tiles whose own
    split lies above ``max_split_db`` do not count as water/land bimodal."""
    finite = np.isfinite(img_db)
    n_valid = int(finite.sum())
    if n_valid < min_tile * min_tile // 2:
        return None, 0, 0.0
    lo, hi = _quantiles(img_db, (0.001, 0.999))
    if not hi > lo:
        return None, 0, 0.0
    levels = max(0, int(np.floor(np.log2(max(img_db.shape) / min_tile))))
    options = threshold.SplitBasedOptions(
        tile=min_tile * 2**levels,
        min_tile=min_tile,
        bins=HIST_BINS,
        range=(lo, hi),
        ashman_d=ASHMAN_D,
        min_class_fraction=MIN_CLASS_FRACTION,
        max_tile_threshold=max_split_db,
    )
    r = threshold.split_based_threshold(
        img_db,
        options,
        method=method,  # type: ignore[arg-type]
        if_none_selected="nan",
    )
    if not np.isfinite(r.threshold):
        return None, 0, 0.0
    return float(r.threshold), r.n_selected, r.n_selected / max(r.n_tiles, 1)


def speckle_db(x: np.ndarray, *, units: str, params: WaterParams) -> np.ndarray:
    """Speckle-filtered backscatter in dB (float32, NaN nodata) from ``x`` in ``units``."""
    filters = {
        "lee": lambda a: sar.lee(a, window=params.speckle_window),
        "kuan": lambda a: sar.kuan(a, window=params.speckle_window),
        "refined_lee": lambda a: sar.refined_lee(a, window=7),
        "boxcar": lambda a: sar.boxcar(a, window=params.speckle_window),
        "none": lambda a: a,
    }
    lin = sar.to_linear(x) if units == "db" else x
    return sar.to_db(filters[params.speckle](lin)).astype(np.float32, copy=False)  # lazy on dask


def scene_threshold(f_db: np.ndarray, pol: str, params: WaterParams) -> SceneThreshold:
    """The threshold of one filtered scene: split-based, within ``adapt_db`` of the prior."""
    prior = params.prior_db(pol)
    t_scene, n, share = hsba_threshold(
        f_db,
        min_tile=params.min_tile,
        method=params.threshold_method,
        max_split_db=MAX_SPLIT_DB[pol],
    )
    t = (
        prior
        if t_scene is None
        else float(np.clip(t_scene, prior - params.adapt_db, prior + params.adapt_db))
    )
    return SceneThreshold(pol, t, t_scene, prior, n, share)


def classify(
    f_db: np.ndarray, t: SceneThreshold, params: WaterParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(water bool, likelihood uint8 0-100, provenance uint8)`` of a filtered scene."""
    valid = np.isfinite(f_db)
    with np.errstate(invalid="ignore"):
        seeds = f_db < t.threshold_db
        water = (
            grow_regions(seeds, f_db < t.threshold_db + params.grow_db)
            if params.grow_db > 0
            else seeds
        )
    table = np.round(100.0 * np.asarray(params.likelihood_table)).astype(np.uint8)
    with np.errstate(invalid="ignore"):
        likelihood = likelihood_of(f_db, t.threshold_db, table)
    # the flags as uint8 arithmetic on the masks (0/1 bytes), no wider temporaries
    prov = seeds.view(np.uint8) * np.uint8(SEED)
    prov |= (water & ~seeds).view(np.uint8) * np.uint8(GROWN)
    if t.threshold_db == t.prior_db:
        prov |= water.view(np.uint8) * np.uint8(PRIOR_DECIDED)
    invalid = ~valid
    likelihood[invalid] = 255
    prov[invalid] = 0
    return water & valid, likelihood, prov


def quality_flags(f_db: np.ndarray, water: np.ndarray, t: SceneThreshold) -> dict:
    """Per-scene flags: was the histogram bimodal, share of the tested tiles that were, the
    contrast (dB) between the median mapped land and water, the fallback and a plain-language
    warning when the map should not be trusted."""
    (land_db, water_db), (n_l, n_w) = class_medians(f_db, water)  # numpy.median's values
    contrast = None
    if land_db is not None and water_db is not None:  # in float32, as numpy's medians were
        contrast = float(np.float32(land_db) - np.float32(water_db))
    fallback = None
    warnings: list[str] = []
    if t.scene_db is None:
        fallback = (
            f"no tile had a bimodal {t.polarisation.upper()} histogram: the published prior "
            f"threshold ({t.prior_db:g} dB) decided alone"
        )
        warnings.append(
            "No clear water/land contrast was found in this scene; the map relies on a "
            "typical water backscatter level and may miss or over-map water."
        )
    elif t.scene_db - t.prior_db > FAR_FROM_PRIOR_DB:
        warnings.append(
            f"The scene's own water/land split ({t.scene_db:.1f} dB) lies far above the typical "
            f"level of water ({t.prior_db:g} dB): wind, rain or a calibration problem; water may "
            "be missed. Check the calibration and units of the input."
        )
    if contrast is not None and contrast < LOW_CONTRAST_DB:
        warnings.append(
            f"Water and land differ by only {contrast:.1f} dB: shallow or wind-roughened "
            "water may be missed; treat the map as unreliable."
        )
    share = n_w / max(n_w + n_l, 1)
    if share > 0.9:
        warnings.append(
            f"{100 * share:.0f} % of the scene is mapped as water: check that the input is "
            "backscatter in the declared units."
        )
    return {
        "bimodal": t.scene_db is not None,
        "tiles_used": t.tiles_used,
        "tiles_share": round(t.tiles_share, 3),
        "contrast_db": None if contrast is None else round(contrast, 2),
        "water_share": round(share, 4),
        "fallback": fallback,
        "reliable": not warnings,
        "warnings": warnings,
    }


def s1_water(
    vv: np.ndarray,
    vh: np.ndarray | None = None,
    *,
    units: str = "db",
    params: WaterParams | None = None,
    **overrides: Any,
) -> WaterResult:
    """Open water from one Sentinel-1 acquisition (2-D arrays; VV and optionally VH).

    ``units``: ``"db"`` or ``"linear"`` (power) for the given arrays; NaN and +-inf are no
    data. ``params`` (default: :data:`DEFAULTS` of the deciding channel, VH when ``vh`` has
    data) and keyword ``overrides`` of its fields (``speckle=``, ``speckle_window=``, ...)
    set the rule (module docstring).
    """
    from eo_drr.load.s1_checks import check_backscatter

    if units not in ("db", "linear"):
        raise InputError(_("units: use 'db' or 'linear'"))
    vv = np.asarray(vv, dtype=np.float32)
    if vv.ndim != 2:
        raise InputError(_("vv: expected a 2-D raster, got shape {shape}").format(shape=vv.shape))
    if vh is not None and np.shape(vh) != vv.shape:
        raise InputError(
            _("vh: shape {shape} differs from vv {shape2}").format(
                shape=np.shape(vh), shape2=vv.shape
            )
        )
    vv, vh, notes = check_backscatter(vv, vh, units=units)
    has_vh = vh is not None
    p = water_params(params or DEFAULTS["vh" if has_vh else "vv"], **overrides)
    window = 7 if p.speckle == "refined_lee" else p.speckle_window
    if min(vv.shape) < window:
        raise InputError(
            _(
                "vv: a raster of {height} x {width} px is smaller than the {window} x {window} "
                "speckle window: too small to map"
            ).format(height=vv.shape[0], width=vv.shape[1], window=window)
        )
    fvv = speckle_db(vv, units=units, params=p)
    use_vh = p.polarisation == "vh" and has_vh
    f = speckle_db(vh, units=units, params=p) if use_vh and vh is not None else fvv
    if use_vh:
        f = np.where(np.isfinite(fvv), f, np.float32(np.nan))  # float32, no copy after
    t = scene_threshold(f, "vh" if use_vh else "vv", p)
    water, likelihood, prov = classify(f, t, p)
    if p.min_mapping_unit_px > 1:
        water = remove_small_objects(water, p.min_mapping_unit_px)
    valid = np.isfinite(f)
    out = water.astype(np.uint8)  # 1 water, 0 not (an int64 np.where took 8x the memory)
    out[~valid] = 255
    quality = quality_flags(f, water, t)
    quality["warnings"] = notes + quality["warnings"]
    quality["input_notes"] = notes
    quality["reliable"] = not quality["warnings"]
    if quality["fallback"]:
        log.info("s1_water: %s", quality["fallback"])
    return WaterResult(out, likelihood, prov, t, quality, f)
