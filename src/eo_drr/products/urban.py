"""Built-up probability per epoch and urban growth, from Sentinel-2 and Sentinel-1 temporal
statistics (World Settlement Footprint style).

Method
------
The World Settlement Footprint 2019 (Marconcini et al. 2020, Sci. Data 7:242) classifies
*temporal statistics* of Sentinel-1 backscatter and Sentinel-2 indices over a year, so that
single dates, clouds and phenology do not decide. We follow that design with a transparent
rule instead of its random forest (no labelled training data ship with the toolkit):

Sentinel-2 (surface reflectance 0-1, SCL clouds/shadows masked; class 6 water never masked):
per date NDVI (Rouse et al. 1974), NDBI (Zha et al. 2003), BUI (He et al. 2010), BSI
(Rikimaru et al. 2002), MNDWI (Xu 2006), then per pixel the median, 10th and 90th
percentiles over the epoch's clear dates (:func:`s2_temporal_stats`).

Sentinel-1 (linear gamma0): per date a 3 x 3 boxcar (multi-looking), then the temporal mean
of VV and VH in dB and the temporal standard deviation of VV in dB, the "stability"
(:func:`s1_temporal_stats`). Settlements are bright (double bounce of walls) *and* stable.

Rule (:func:`builtup_probability`): each condition is a logistic membership around its
threshold (half-width ``softness``), the probability is their minimum (fuzzy AND), and a
pixel is built-up where the probability is >= 0.5, i.e. exactly where every condition holds:

==========================  ===========  ======================================================
condition                   threshold    source
==========================  ===========  ======================================================
NDVI median <               0.30         between impervious surfaces (0.1-0.25) and sparse
                                         green cover; soil/vegetation NDVI 0.2/0.5 of Sobrino
                                         et al. 2004 (Remote Sens. Environ. 90:434-440)
MNDWI median <              0.0          Xu 2006 water threshold (not water)
NDBI median >               0.0          Zha et al. 2003 built-up threshold
BSI median <                0.15         bare soil and dry riverbeds are *not* built-up:
                                         ECOSTRESS/ASTER urban materials give BSI 0.0-0.1,
                                         soils and sand 0.18-0.25 (Meerdink et al. 2019;
                                         Baldridge et al. 2009); the midpoint
VV temporal mean (dB) >     -5.0         built-up -3 to 0 dB, forest -7 to -8 dB, open land
                                         below -10 dB at C band (Ulaby & Long 2014, ch. 11);
                                         the gap between built-up and forest
VV temporal std (dB) <      2.5          stable scatterers (WSF2019); multi-looked speckle
                                         alone gives ~1 dB, crops and seasonal water > 3 dB
==========================  ===========  ======================================================

The Sentinel-1 conditions apply only where Sentinel-1 covers the epoch; an epoch without
Sentinel-1 is mapped from Sentinel-2 alone (the result says so in ``sources``). The BSI
condition is what keeps desert soil and gravel riverbeds (high NDBI like towns) out.

These per-epoch maps describe where the town is; new built-up between two dates is the
urban-growth model's (:mod:`eo_drr.products.growth_pair`), which is measured on real cities.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from eo_drr import indices
from eo_drr.errors import InputError, NoDataError
from eo_drr.i18n import gettext as _
from eo_drr.products.water import remove_small_objects

log = logging.getLogger(__name__)

#: uint8 nodata of every class raster written by this module
NODATA = 255
#: smallest built-up patch of a job's built-up maps (px; 400 m2 at 10 m, a few houses)
BUILTUP_MIN_MAPPING_UNIT_PX = 4
BUILTUP_COLORS = {0: (240, 240, 240, 255), 1: (200, 30, 30, 255), 255: (0, 0, 0, 0)}
#: a built-up share of the observed area above this is flagged as implausible. Even dense
#: city cores rarely exceed it over a whole job area: on the real Sentinel-2 crop of the
#: Patagonian steppe (no settlement) the Sentinel-2-only rule maps 99.5 % built-up
IMPLAUSIBLE_BUILTUP_SHARE = 0.6
#: percentiles (0-100) of the Sentinel-2 temporal statistics
PERCENTILES = (10, 50, 90)
S2_INDICES = ("ndvi", "ndbi", "bui", "bsi", "mndwi")


@dataclass(frozen=True)
class BuiltupRule:
    """Thresholds of the built-up rule (see the module docstring for each source).

    Indices are unitless; backscatter thresholds in dB (gamma0); ``softness`` is the
    logistic half-width in units of each quantity's typical spread (index units: 0.05;
    dB: 1.0) and only shapes the probability, not the 0.5 decision.
    """

    ndvi_max: float = 0.30
    mndwi_max: float = 0.0
    ndbi_min: float = 0.0
    bsi_max: float = 0.15
    vv_mean_min_db: float = -5.0
    vv_std_max_db: float = 2.5
    index_softness: float = 0.03
    db_softness: float = 0.7

    def __post_init__(self) -> None:
        for name in ("ndvi_max", "mndwi_max", "ndbi_min", "bsi_max"):
            v = getattr(self, name)
            if not -1.0 <= v <= 1.0:
                raise InputError(
                    _(
                        "{name}: a normalised-difference threshold must be in [-1, 1], got {v}"
                    ).format(name=name, v=v)
                )
        if not -30.0 <= self.vv_mean_min_db <= 10.0:
            raise InputError(
                _(
                    "vv_mean_min_db: expected a gamma0 in dB in [-30, 10], got {vv_mean_min_db}"
                ).format(vv_mean_min_db=self.vv_mean_min_db)
            )
        if not 0.0 < self.vv_std_max_db <= 20.0:
            raise InputError(
                _("vv_std_max_db: expected (0, 20] dB, got {vv_std_max_db}").format(
                    vv_std_max_db=self.vv_std_max_db
                )
            )
        if not (self.index_softness > 0 and self.db_softness > 0):
            raise InputError(_("softness: must be positive"))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class BuiltupResult:
    """One epoch: ``probability`` (float32 0-1, NaN no data), ``builtup`` (uint8 1/0/255),
    the temporal statistics used (``stats``: name -> float32 array), the number of clear
    Sentinel-2 observations per pixel (``n_clear``) and which sensors decided (``sources``)."""

    probability: np.ndarray
    builtup: np.ndarray
    stats: dict[str, np.ndarray]
    n_clear: np.ndarray
    sources: list[str] = field(default_factory=list)
    #: plain-language warnings about this epoch's map (e.g. an implausible built-up share)
    warnings: list[str] = field(default_factory=list)


def nan_percentiles(stack: np.ndarray, qs=PERCENTILES) -> list[np.ndarray]:
    """Percentiles (0-100) along axis 0 ignoring NaN, linear interpolation (numpy's default
    method), vectorised: one sort instead of numpy's per-pixel ``nanpercentile`` loop.
    NaN where a pixel has no finite value. float32."""
    a = np.sort(np.asarray(stack, dtype=np.float32), axis=0)  # NaN sorts last
    n = np.isfinite(a).sum(axis=0)
    out = []
    for q in qs:
        pos = (np.maximum(n, 1) - 1) * (q / 100.0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = (pos - lo).astype(np.float32)
        v_lo = np.take_along_axis(a, lo[None], axis=0)[0]
        v_hi = np.take_along_axis(a, hi[None], axis=0)[0]
        out.append(np.where(n > 0, v_lo + (v_hi - v_lo) * frac, np.nan).astype(np.float32))
    return out


def s2_temporal_stats(
    bands: dict[str, np.ndarray], *, what: str = "sentinel-2"
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-pixel temporal statistics of the Sentinel-2 indices over one epoch.

    ``bands``: reflectance (0-1, NaN for clouds/no data) arrays ``(time, y, x)`` named blue,
    green, red, nir, swir16. Returns ``({"ndvi_p10": ..., "ndvi_p50": ..., ...}, n_clear)``:
    float32 statistics (NaN where no clear date) and the count of clear dates (int16).
    Raises :class:`NoDataError` when no pixel has a single clear observation.
    """
    need = ("blue", "green", "red", "nir", "swir16")
    missing = [b for b in need if b not in bands]
    if missing:
        raise InputError(
            _("{what}: bands missing for the built-up indices: {missing}").format(
                what=what, missing=", ".join(missing)
            )
        )
    b = {k: np.asarray(bands[k], dtype=np.float32) for k in need}
    if b["red"].ndim != 3:
        raise InputError(
            _("{what}: expected (time, y, x) arrays, got shape {shape}").format(
                what=what, shape=b["red"].shape
            )
        )
    per_date = {
        "ndvi": indices.ndvi(b["nir"], b["red"]),
        "ndbi": indices.ndbi(b["swir16"], b["nir"]),
        "bui": indices.bui(b["swir16"], b["nir"], b["red"]),
        "bsi": indices.bsi(b["blue"], b["red"], b["nir"], b["swir16"]),
        "mndwi": indices.mndwi(b["green"], b["swir16"]),
    }
    clear = np.isfinite(per_date["bsi"]) & np.isfinite(per_date["mndwi"])
    n_clear = clear.sum(axis=0).astype(np.int16)
    if not n_clear.any():
        raise NoDataError(
            _("{what}: no cloud-free Sentinel-2 observation in the epoch").format(what=what)
        )
    stats = {}
    for name, stack in per_date.items():
        for q, arr in zip(PERCENTILES, nan_percentiles(np.asarray(stack))):
            stats[f"{name}_p{q}"] = arr
    return stats, n_clear


def s1_temporal_stats(
    vv: np.ndarray, vh: np.ndarray | None = None, *, window: int = 3
) -> dict[str, np.ndarray]:
    """Temporal mean (dB) and stability of Sentinel-1 backscatter over one epoch.

    ``vv``/``vh``: linear gamma0 ``(time, y, x)``, NaN no data. Each date is multi-looked with a
    ``window`` x ``window`` boxcar (linear power), then converted to dB. Returns float32
    ``vv_mean_db``, ``vv_std_db`` (temporal standard deviation, dB; NaN with < 2 dates) and,
    with ``vh``, ``vh_mean_db``.
    """
    out = {}
    for name, stack in (("vv", vv), ("vh", vh)):
        if stack is None:
            continue
        stack = np.asarray(stack, dtype=np.float32)
        if stack.ndim != 3:
            raise InputError(
                _("{name}: expected (time, y, x) linear gamma0, got shape {shape}").format(
                    name=name, shape=stack.shape
                )
            )
        look = (
            np.stack([np.asarray(indices.sar.boxcar(s, window)) for s in stack])
            if window > 1
            else stack
        )
        db = np.asarray(indices.sar.to_db(look))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean_lin = np.nanmean(look, axis=0)
            out[f"{name}_mean_db"] = np.asarray(indices.sar.to_db(mean_lin.astype(np.float32)))
            if name == "vv":
                n = np.isfinite(db).sum(axis=0)
                std = (
                    np.nanstd(db, axis=0, ddof=1)
                    if stack.shape[0] > 1
                    else np.full(db.shape[1:], np.nan)
                )
                out["vv_std_db"] = np.where(n >= 2, std, np.nan).astype(np.float32)
    return out


def _member(x: np.ndarray, threshold: float, softness: float, above: bool) -> np.ndarray:
    """Logistic membership: 0.5 at ``threshold``, -> 1 on the accepted side."""
    z = (x - threshold) / softness
    with np.errstate(over="ignore"):
        m = 1.0 / (1.0 + np.exp(-z if above else z))
    return m.astype(np.float32)


def builtup_probability(
    s2_stats: dict[str, np.ndarray],
    s1_stats: dict[str, np.ndarray] | None = None,
    rule: BuiltupRule | None = None,
) -> np.ndarray:
    """Built-up probability (float32, 0-1; NaN where Sentinel-2 never saw the ground) from
    the temporal statistics of :func:`s2_temporal_stats` and, optionally,
    :func:`s1_temporal_stats`. The fuzzy AND (minimum) of the rule's conditions."""
    rule = rule or BuiltupRule()
    si, sd = rule.index_softness, rule.db_softness
    conds = [
        _member(s2_stats["ndvi_p50"], rule.ndvi_max, si, above=False),
        _member(s2_stats["mndwi_p50"], rule.mndwi_max, si, above=False),
        _member(s2_stats["ndbi_p50"], rule.ndbi_min, si, above=True),
        _member(s2_stats["bsi_p50"], rule.bsi_max, si, above=False),
    ]
    if s1_stats:
        vv = s1_stats["vv_mean_db"]
        m_vv = _member(vv, rule.vv_mean_min_db, sd, above=True)
        m_vv = np.where(np.isfinite(vv), m_vv, 1.0)  # no S1 here: S2 alone decides
        conds.append(m_vv)
        if "vv_std_db" in s1_stats:
            st = s1_stats["vv_std_db"]
            conds.append(
                np.where(np.isfinite(st), _member(st, rule.vv_std_max_db, sd, above=False), 1.0)
            )
    p = np.minimum.reduce([np.asarray(c, dtype=np.float32) for c in conds])
    valid = np.isfinite(s2_stats["ndvi_p50"]) & np.isfinite(s2_stats["bsi_p50"])
    return np.where(valid, p, np.nan).astype(np.float32)


def builtup_epoch(
    s2_bands: dict[str, np.ndarray],
    s1_vv: np.ndarray | None = None,
    s1_vh: np.ndarray | None = None,
    *,
    rule: BuiltupRule | None = None,
    min_mapping_unit_px: int = 1,
    what: str = "epoch",
) -> BuiltupResult:
    """Built-up probability and map of one epoch (see the module docstring).

    ``s2_bands``: reflectance (0-1) ``(time, y, x)`` by common name (NaN: cloud / no data);
    ``s1_vv``/``s1_vh``: linear gamma0 ``(time, y, x)`` on the same grid, or None.
    ``builtup``: uint8 1 built-up (probability >= 0.5), 0 not, 255 no clear observation;
    components smaller than ``min_mapping_unit_px`` pixels are removed.
    """
    stats, n_clear = s2_temporal_stats(s2_bands, what=what)
    s1 = None
    sources = ["sentinel-2"]
    if s1_vv is not None:
        if np.shape(s1_vv)[1:] != n_clear.shape:
            raise InputError(
                _("{what}: Sentinel-1 grid {shape} differs from Sentinel-2 {shape2}").format(
                    what=what, shape=np.shape(s1_vv)[1:], shape2=n_clear.shape
                )
            )
        s1 = s1_temporal_stats(s1_vv, s1_vh)
        stats.update(s1)
        sources.append("sentinel-1")
    p = builtup_probability(stats, s1, rule)
    built = p >= 0.5
    built = remove_small_objects(built, int(min_mapping_unit_px))
    out = np.where(built, 1, 0).astype(np.uint8)
    out[~np.isfinite(p)] = NODATA
    notes = []
    valid = out != NODATA
    share = float((out[valid] == 1).mean()) if valid.any() else 0.0
    if share > IMPLAUSIBLE_BUILTUP_SHARE:
        text = (
            _(
                "{what}: {share} of the observed area is mapped built-up, which is "
                "implausible for a Sentinel-2-only map: bare and sparsely vegetated land (steppe, "
                "desert) has the spectral indices of built-up surfaces; add Sentinel-1 "
                "(sources.s1), whose bright-and-stable condition separates them"
            )
            if s1 is None
            else _(
                "{what}: {share} of the observed area is mapped built-up, which is "
                "implausible even with Sentinel-1; check the inputs and the rule thresholds"
            )
        )
        notes.append(text.format(what=what, share=f"{100 * share:.0f} %"))
        log.warning("%s", notes[-1])
    return BuiltupResult(p, out, stats, n_clear, sources, notes)
