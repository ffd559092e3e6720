"""Urban growth (new buildings and roads) from one Sentinel-2 pair, optionally with Sentinel-1
VV, by a small gradient-boosted tree model trained on real labelled cities.

Method
------
Features (:func:`change_features`) are built to hold across processing levels (L1C
top-of-atmosphere or L2A surface reflectance), seasons and scene composition. Every change is
measured against the scene's own typical change: the before/after difference of each band is
standardised by its scene median and robust spread (1.4826 x median absolute deviation), so
offsets and gains common to the scene (atmosphere, L1C vs L2A, sun angle, phenology) do not
read as change, and a coastal scene (sea + desert + city, a wide spread of *levels*) is
scaled like an inland one. (Standardising each date's levels instead, then differencing, was
tried: Abu Dhabi's wide level spread shrank its real changes and the leave-one-city-out F1
dropped from 0.35 to 0.25.)

- ``m_<band>``: standardised band differences (after - before, unitless, scene MADs), bands
  B02 B03 B04 B08 B11 B12;
- ``cvam``: change-vector magnitude (Malila 1980, LARS Symposium paper 385) of those;
- NDVI (Rouse et al. 1974, NASA SP-351), NDBI (Zha et al. 2003, Int. J. Remote Sens.
  24:583-594), MNDWI (Xu 2006, Int. J. Remote Sens. 27:3025-3033) and BSI (Rikimaru et al.
  2002, Tropical Ecology 43:39-47) before and after (unitless, -1 ... 1) and their
  differences centred on the scene median of the difference;
- neighbourhood means (``scipy.ndimage.uniform_filter``, NaN-aware) over 5 x 5 and 15 x 15
  pixels (50 m, 150 m at 10 m) of the change features and of NDBI / NDVI after:
  construction sites are patches, not pixels;
- with Sentinel-1: VV (dB) before, after, the difference (new buildings brighten by double
  bounce) and its 5 x 5 and 15 x 15 means. Without Sentinel-1 these are NaN: the LightGBM
  model (Ke et al. 2017, NeurIPS) was trained with a share of samples whose Sentinel-1
  features were removed, so one model serves both cases (a missing value follows the learned
  default branch of each split), with its own decision threshold for each.

The probability (:func:`growth_probability`) is the model's output smoothed by a 3 x 3
NaN-aware mean; :func:`growth_map` thresholds it and drops components smaller than the
minimum mapping unit (8-connected).

The model, its decision threshold and minimum mapping unit are chosen by leave-one-city-out
on the OSCD cities (Daudt et al. 2018, IGARSS) by ``benchmarks/urban_accuracy.py``; see
``models/URBAN_GROWTH_MODEL.md``. The OSCD labels are CC BY-NC-SA 4.0, and so is the
shipped model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from eo_drr import indices
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.products.water import remove_small_objects

MODEL_FORMAT_VERSION = 1
MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_PATH = MODEL_DIR / "urban_growth_lgbm.txt"

#: bands used (reflectance 0-1); others passed in are ignored
BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
_EPS = 1e-6
#: features whose 5 x 5 and 15 x 15 neighbourhood means are added
_CONTEXT = (
    "cvam",
    "m_B04",
    "m_B08",
    "m_B11",
    "ndvi_diff",
    "ndbi_diff",
    "mndwi_diff",
    "bsi_diff",
    "ndbi_after",
    "ndvi_after",
)


@dataclass(frozen=True)
class SceneStats:
    """Scene statistics of the change features: per band the median and scale (1.4826 MAD,
    or the standard deviation where the MAD vanishes) of the after - before difference
    (reflectance 0-1), per index the median of its difference; all over finite pixels."""

    band_median: tuple[Any, ...]
    band_scale: tuple[float, ...]
    index_median: tuple[Any, ...]


def _mad(x: np.ndarray) -> tuple[Any, float]:
    """(median, scale) of the finite values: scale 1.4826 MAD (Rousseeuw & Croux 1993), or
    the standard deviation (1.0 when 0) where the MAD vanishes; (NaN, 1.0) when none."""
    v = x[np.isfinite(x)]
    if v.size == 0:
        return np.float32(np.nan), 1.0
    med = np.median(v)
    scale = 1.4826 * float(np.median(np.abs(v - med)))
    if not scale > _EPS:
        scale = float(np.std(v)) or 1.0
    return med, scale


def _median(x: np.ndarray) -> Any:
    """Median of the finite values (0.0 when none)."""
    v = x[np.isfinite(x)]
    return np.median(v) if v.size else 0.0


def scene_stats(pre: dict[str, np.ndarray], post: dict[str, np.ndarray]) -> SceneStats:
    """:class:`SceneStats` of a masked pair (float32 reflectance by band, NaN no data)."""
    mads = [_mad(post[b] - pre[b]) for b in BANDS]
    ib, ia = _indices(pre), _indices(post)
    return SceneStats(
        tuple(m for m, _ in mads),
        tuple(sc for _, sc in mads),
        tuple(_median(ia[k] - ib[k]) for k in ib),
    )


def _nanmean_filter(x: np.ndarray, size: int) -> np.ndarray:
    """Mean over a size x size window of the finite pixels (normalised convolution); NaN
    where the centre pixel is NaN."""
    ok = np.isfinite(x)
    num = ndimage.uniform_filter(np.where(ok, x, 0).astype(np.float32), size, mode="reflect")
    den = ndimage.uniform_filter(ok.astype(np.float32), size, mode="reflect")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~ok] = np.nan
    return out.astype(np.float32)


def _indices(b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """NDVI, NDBI, MNDWI and BSI from the project's index kernels (:mod:`eo_drr.indices`)."""
    swir, nir, red, green, blue = b["B11"], b["B08"], b["B04"], b["B03"], b["B02"]
    return {
        "ndvi": np.asarray(indices.ndvi(nir, red)),
        "ndbi": np.asarray(indices.ndbi(swir, nir)),
        "mndwi": np.asarray(indices.mndwi(green, swir)),
        "bsi": np.asarray(indices.bsi(blue, red, nir, swir)),
    }


def change_features(
    before: dict[str, np.ndarray],
    after: dict[str, np.ndarray],
    vv_before: np.ndarray | None = None,
    vv_after: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Per-pixel change features of one co-registered image pair.

    ``before`` / ``after``: Sentinel-2 reflectance (0-1, NaN = no data) by band name; at
    least B02, B03, B04, B08, B11, B12, all the same 2-D shape (10 m grid). ``vv_before`` /
    ``vv_after``: Sentinel-1 VV backscatter in dB on the same grid (NaN = no data), or
    None. Returns ``(features (n, H, W) float32, names)``; a pixel with no data in any used
    band of either date is NaN in every feature (the Sentinel-1 features are NaN wherever
    Sentinel-1 is absent, which the model accepts).
    """
    for name, d in (("before", before), ("after", after)):
        missing = [b for b in BANDS if b not in d]
        if missing:
            raise InputError(
                _("change_features: {name} lacks band(s) {missing}").format(
                    name=name, missing=", ".join(missing)
                )
            )
    shape = np.shape(before[BANDS[0]])
    if len(shape) != 2:
        raise InputError(
            _("change_features: bands must be 2-D, got shape {shape}").format(shape=shape)
        )
    for d in (before, after):
        for b in BANDS:
            if np.shape(d[b]) != shape:
                raise InputError(
                    _("change_features: band {band} has shape {shape}, expected {shape2}").format(
                        band=b, shape=np.shape(d[b]), shape2=shape
                    )
                )
    pre = {b: np.asarray(before[b], np.float32) for b in BANDS}
    post = {b: np.asarray(after[b], np.float32) for b in BANDS}
    valid = np.ones(shape, bool)
    for d in (pre, post):
        for b in BANDS:
            valid &= np.isfinite(d[b])
    if not valid.any():
        raise InputError(_("change_features: no pixel has data in every band of both dates"))
    for d in (pre, post):
        for b in BANDS:
            d[b] = np.where(valid, d[b], np.nan).astype(np.float32)

    if vv_before is not None and vv_after is not None:
        vb, va = np.asarray(vv_before, np.float32), np.asarray(vv_after, np.float32)
        if vb.shape != shape or va.shape != shape:
            raise InputError(
                _("change_features: VV shapes {shape}/{shape2}, expected {shape3}").format(
                    shape=vb.shape, shape2=va.shape, shape3=shape
                )
            )
    else:
        vb = va = np.full(shape, np.nan, np.float32)
    return features_with(pre, post, (vb, va), valid, scene_stats(pre, post))


def features_with(
    pre: dict[str, np.ndarray],
    post: dict[str, np.ndarray],
    vv: tuple[np.ndarray, np.ndarray],
    valid: np.ndarray,
    stats: SceneStats,
) -> tuple[np.ndarray, list[str]]:
    """The per-pixel part of :func:`change_features`, given the scene's statistics: masked
    reflectance by band (NaN off ``valid``), VV before and after (dB, NaN where absent).
    Also what the chunked path (:mod:`eo_drr.products.growth_dask`) runs per chunk."""
    feats: dict[str, np.ndarray] = {}
    diffs = []
    for b, med, scale in zip(BANDS, stats.band_median, stats.band_scale, strict=True):
        diffs.append((((post[b] - pre[b]) - med) / scale).astype(np.float32))
        feats[f"m_{b}"] = diffs[-1]
    feats["cvam"] = np.sqrt(np.sum(np.square(diffs), axis=0)).astype(np.float32)
    ib, ia = _indices(pre), _indices(post)
    for k, med in zip(ib, stats.index_median, strict=True):
        feats[f"{k}_before"] = ib[k]
        feats[f"{k}_after"] = ia[k]
        feats[f"{k}_diff"] = ((ia[k] - ib[k]) - med).astype(np.float32)
    for k in _CONTEXT:
        feats[f"{k}_m5"] = _nanmean_filter(feats[k], 5)
        feats[f"{k}_m15"] = _nanmean_filter(feats[k], 15)
    vb, va = vv
    vdiff = va - vb
    feats["vv_before"], feats["vv_after"], feats["vv_diff"] = vb, va, vdiff
    feats["vv_diff_m5"] = _nanmean_filter(vdiff, 5)
    feats["vv_diff_m15"] = _nanmean_filter(vdiff, 15)

    names = list(feats)
    out = np.empty((len(names), *valid.shape), np.float32)
    for i, k in enumerate(names):
        f = feats[k]
        if not k.startswith("vv_"):
            f = np.where(valid, f, np.nan)
        out[i] = f
    out[:, ~valid] = np.nan
    return out, names


def _model_paths(path: str | Path | None) -> tuple[Path, Path]:
    model = Path(path) if path is not None else MODEL_PATH
    return model, model.with_suffix(".json")


def load_model(path: str | Path | None = None) -> dict[str, Any]:
    """Load the LightGBM urban-growth model (text format) and its JSON sidecar.

    ``path``: the model ``.txt`` (default: the shipped ``models/urban_growth_lgbm.txt``); the
    sidecar is the same name with ``.json``. Returns a dict with ``booster`` and the sidecar's
    fields (``feature_names``, ``threshold``, ``threshold_no_s1``, ``min_mapping_unit_px``,
    ``loco`` ...). Raises :class:`InputError` for a missing file, an unreadable sidecar, another
    model format version, or feature names that differ from :func:`change_features`.
    """
    model_path, side_path = _model_paths(path)
    for f in (model_path, side_path):
        if not f.is_file():
            raise InputError(_("urban growth model: file not found: {path}").format(path=f))
    try:
        meta = json.loads(side_path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(
            _("urban growth model: cannot read sidecar {side_path}: {exc}").format(
                side_path=side_path, exc=exc
            )
        ) from exc
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version != MODEL_FORMAT_VERSION:
        raise InputError(
            _(
                "urban growth model: {side_path} has format_version {version!r}, this eo-drr "
                "reads {model_format_version}; retrain with benchmarks/urban_accuracy.py "
                "--train-final"
            ).format(
                side_path=side_path, version=version, model_format_version=MODEL_FORMAT_VERSION
            )
        )
    import lightgbm as lgb

    try:
        booster = lgb.Booster(model_file=str(model_path))
    except Exception as exc:  # lightgbm raises its own LightGBMError
        raise InputError(
            _("urban growth model: cannot load {model_path}: {exc}").format(
                model_path=model_path, exc=exc
            )
        ) from exc
    if list(meta.get("feature_names", [])) != booster.feature_name():
        raise InputError(
            _("urban growth model: feature names in {side_path} do not match {model_path}").format(
                side_path=side_path, model_path=model_path
            )
        )
    return {**meta, "booster": booster, "path": str(model_path)}


def smooth_probability(p: np.ndarray, size: int = 3) -> np.ndarray:
    """NaN-aware size x size mean of a probability map (float32)."""
    return p if size <= 1 else _nanmean_filter(p, size)


def growth_probability(
    features: np.ndarray, model: dict[str, Any] | Any, names: list[str] | None = None
) -> np.ndarray:
    """Probability (0-1, float32, NaN = no data) of new built-up per pixel.

    ``features``: ``(n, H, W)`` from :func:`change_features`; ``model``: from
    :func:`load_model` (or a bare LightGBM booster). ``names`` (optional) are checked against
    the model's feature names. The output is smoothed by the model's ``smooth_px`` window.
    """
    booster = model["booster"] if isinstance(model, dict) else model
    smooth = int(model.get("smooth_px", 3)) if isinstance(model, dict) else 3
    if features.ndim != 3 or features.shape[0] != booster.num_feature():
        raise InputError(
            _(
                "growth_probability: features of shape {shape}, model expects {num_feature} "
                "features"
            ).format(shape=features.shape, num_feature=booster.num_feature())
        )
    if names is not None and list(names) != booster.feature_name():
        raise InputError(_("growth_probability: feature names differ from the model's"))
    return smooth_probability(predict_raw(booster, features), smooth)


def predict_raw(booster: Any, features: np.ndarray) -> np.ndarray:
    """The model's unsmoothed growth probability (0-1, float32; NaN where the first feature
    is not finite) of ``features`` ``(n_features, y, x)``."""
    n, h, w = features.shape
    x = features.reshape(n, -1).T
    valid = np.isfinite(x[:, 0])
    p = np.full(h * w, np.nan, np.float32)
    if valid.any():
        p[valid] = booster.predict(np.ascontiguousarray(x[valid])).astype(np.float32)
    return p.reshape(h, w)


def has_s1(features: np.ndarray, names: list[str]) -> bool:
    """Whether the Sentinel-1 features hold any value (selects the decision threshold)."""
    return bool(np.isfinite(features[names.index("vv_diff")]).any())


def decision_settings(
    model: dict[str, Any], with_s1: bool, min_mapping_unit_px: int | None = None
) -> tuple[float, int]:
    """(threshold, min_mapping_unit_px) of the model for inputs with / without Sentinel-1;
    ``min_mapping_unit_px`` (pixels, >= 1), when given, replaces the model's."""
    if with_s1:
        threshold, mmu = float(model["threshold"]), int(model["min_mapping_unit_px"])
    else:
        threshold = float(model["threshold_no_s1"])
        mmu = int(model.get("min_mapping_unit_px_no_s1", model["min_mapping_unit_px"]))
    if min_mapping_unit_px is None:
        return threshold, mmu
    if min_mapping_unit_px < 1:
        raise InputError(
            _("min_mapping_unit_px: must be >= 1, got {min_mapping_unit_px}").format(
                min_mapping_unit_px=min_mapping_unit_px
            )
        )
    return threshold, int(min_mapping_unit_px)


def growth_map(prob: np.ndarray, threshold: float, min_mapping_unit_px: int = 0) -> np.ndarray:
    """uint8 map: 1 new built-up (``prob >= threshold``), 0 not, 255 no data (NaN).

    Connected components (8-connectivity) smaller than ``min_mapping_unit_px`` pixels are
    dropped (100 m2 each at 10 m)."""
    prob = np.asarray(prob)
    valid = np.isfinite(prob)
    hit = remove_small_objects(
        valid & (np.nan_to_num(prob, nan=0.0) >= threshold), min_mapping_unit_px
    )
    out = hit.astype(np.uint8)
    out[~valid] = 255
    return out
