"""New built-up between two Sentinel-2 images (and optionally Sentinel-1 VV of the same dates):
the shipped urban-growth model (:mod:`eo_drr.products.urban_change`) on one co-registered pair,
with clouds and their shadows masked first.

Clouds: Level-2A images with a scene classification (SCL) band lose its cloud, shadow,
saturated and no-data classes (:data:`eo_drr.products.water_s2.SCL_MASKED`). Level-1C images
that carry the ten bands of the s2cloudless detector (B01, B02, B04, B05, B08, B8A, B09, B10,
B11, B12; Zupanc 2017, Sentinel Hub's gradient-boosted cloud detector, the ``s2cloudless``
package) are masked by it at 60 m (6 x 6 block means; the model works on per-pixel TOA
reflectance and was trained on coarse data), probability >= 0.4 (its published default), the
mask grown by one 60 m cell. Other images go through the Fmask-style spectral tests of
:func:`eo_drr.products.water_s2.cloud_shadow_mask` (Zhu & Woodcock 2012). Measured on the 12
clear OSCD Level-1C images (``python benchmarks/urban_clouds.py``): the Fmask-style tests mask
5.3 % of the pixels (half of central Paris: bright roofs) and 7.0 % of the labelled new
built-up; s2cloudless at 60 m 4.7 % and 6.5 % at 0.7 s per megapixel; s2cloudless at 10 m
(its 10 m settings) 2.8 % and 2.4 % but 15 s per megapixel, too slow for the 10 s target of a
1000 x 1000 pair. A masked pixel is no data (255) in the growth map, never "no growth".

A job's epoch (``time.pre``, ``time.post``) holds several dates: :func:`epoch_composite`
reduces its cloud-masked Sentinel-2 dates to one image (per-pixel median of the clear dates,
as in Flood 2013, Remote Sens. 5:6481-6500) and :func:`vv_epoch_db` its Sentinel-1 VV to one
multi-temporal mean (averaging N dates divides the speckle variance by about N; Quegan & Yu
2001, IEEE TGRS 39:2373-2379), so that a job and ``eo-drr growth`` run the same model on
the same kind of input.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.products import urban_change
from eo_drr.products.water_s2 import SCL_MASKED, cloud_shadow_mask

#: ESA band name -> the common names the cloud test takes
_COMMON = {
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B08": "nir",
    "B11": "swir16",
    "B12": "swir22",
}
#: the growth map's classes and colour table (the command and the job write the same)
NODATA = 255
GROWTH_CLASSES = (
    "1 new built-up between the two dates, 0 not, 255 no data (cloud, shadow or missing)"
)
GROWTH_COLORS = {0: (0, 0, 0, 0), 1: (230, 60, 20, 255), 255: (128, 128, 128, 0)}


@dataclass
class GrowthResult:
    """``growth`` uint8 (1 new built-up, 0 not, 255 no data), ``probability`` float32 0-1 (NaN
    no data), the decision ``threshold`` and ``min_mapping_unit_px`` used, whether Sentinel-1
    took part, and the share of the valid area masked as cloud or shadow per date."""

    growth: np.ndarray
    probability: np.ndarray
    threshold: float
    min_mapping_unit_px: int
    with_s1: bool
    cloud_share: tuple[float, float]


#: the s2cloudless detector's bands, in its order; its settings on 60 m block means
S2CLOUDLESS_BANDS = ("B01", "B02", "B04", "B05", "B08", "B8A", "B09", "B10", "B11", "B12")
S2CLOUDLESS_BLOCK_PX = 6
S2CLOUDLESS_THRESHOLD = 0.4


def s2cloudless_mask(bands: dict[str, np.ndarray]) -> np.ndarray:
    """Cloud mask of a Level-1C image (TOA reflectance 0-1 by ESA band name) by s2cloudless on
    6 x 6 block means (60 m), probability >= 0.4, grown by one block (see the module docstring)."""
    from s2cloudless import S2PixelCloudDetector

    x = np.stack([np.nan_to_num(bands[b], nan=0.0) for b in S2CLOUDLESS_BANDS], axis=-1).astype(
        np.float32
    )
    h, w = x.shape[:2]
    f = S2CLOUDLESS_BLOCK_PX
    hh, ww = -(-h // f) * f, -(-w // f) * f
    xs = (
        np.pad(x, ((0, hh - h), (0, ww - w), (0, 0)), mode="edge")
        .reshape(hh // f, f, ww // f, f, -1)
        .mean(axis=(1, 3))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the detector warns about its own defaults
        det = S2PixelCloudDetector(
            threshold=S2CLOUDLESS_THRESHOLD, average_over=1, dilation_size=1, all_bands=False
        )
        m = det.get_cloud_masks(xs[None])[0].astype(bool)
    return np.repeat(np.repeat(m, f, axis=0), f, axis=1)[:h, :w]


def cloud_mask(bands: dict[str, np.ndarray], level: str) -> np.ndarray:
    """Boolean mask of cloud and cloud shadow (see the module docstring)."""
    if level == "L2A" and "SCL" in bands:
        scl = bands["SCL"]
        return np.isin(np.nan_to_num(scl, nan=0).astype(np.int16), SCL_MASKED) & np.isfinite(scl)
    if level == "L1C" and all(b in bands for b in S2CLOUDLESS_BANDS):
        return s2cloudless_mask(bands)
    cloud, shadow = cloud_shadow_mask(
        {_COMMON[b]: bands[b] for b in _COMMON}, cirrus=bands.get("B10")
    )
    return cloud | shadow


def _masked(bands: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {
        k: np.where(mask, np.nan, v).astype(np.float32)
        for k, v in bands.items()
        if k in urban_change.BANDS
    }


@dataclass(frozen=True)
class PairImage:
    """One date of a pair: Sentinel-2 ``bands`` (reflectance 0-1 by ESA band name, NaN no
    data), their processing ``level`` ("L1C" or "L2A"), what messages call the image
    (``name``), and optionally Sentinel-1 VV of the same date on the same grid (``vv_db``, dB)."""

    bands: dict[str, np.ndarray]
    level: str
    name: str
    vv_db: np.ndarray | None = None


def new_builtup(
    before: PairImage,
    after: PairImage,
    *,
    model: dict[str, Any] | None = None,
    min_mapping_unit_px: int | None = None,
) -> GrowthResult:
    """New built-up between ``before`` and ``after`` (one grid), with Sentinel-1 VV when both
    images have it. ``model``: from :func:`urban_change.load_model` (default: the shipped
    one). ``min_mapping_unit_px``: smallest patch of new built-up kept (default: the model's,
    chosen by leave-one-city-out)."""
    if (before.vv_db is None) != (after.vv_db is None):
        raise InputError(_("Sentinel-1: give VV for both dates or for neither"))
    shape = next(iter(before.bands.values())).shape
    if any(v.shape != shape for v in [*before.bands.values(), *after.bands.values()]):
        raise InputError(_("before and after: the bands are not on one grid"))
    model = model if model is not None else urban_change.load_model()
    masks = (cloud_mask(before.bands, before.level), cloud_mask(after.bands, after.level))
    shares = []
    for image, m in zip((before, after), masks, strict=True):
        ok = np.isfinite(image.bands["B04"])
        shares.append(float((m & ok).sum() / max(int(ok.sum()), 1)))
    clear = np.ones(shape, bool)
    for image, m in zip((before, after), masks, strict=True):
        clear &= ~m & np.all([np.isfinite(image.bands[b]) for b in urban_change.BANDS], axis=0)
    if not clear.any():
        raise InputError(
            _(
                "{name}, {name2}: no pixel is clear and valid on both dates (cloud or shadow: "
                "{before:.0f} % before, {after:.0f} % after)"
            ).format(
                name=before.name, name2=after.name, before=100 * shares[0], after=100 * shares[1]
            )
        )
    feats, fnames = urban_change.change_features(
        _masked(before.bands, masks[0]), _masked(after.bands, masks[1]), before.vv_db, after.vv_db
    )
    prob = urban_change.growth_probability(feats, model, fnames)
    with_s1 = urban_change.has_s1(feats, fnames)
    threshold, mmu = urban_change.decision_settings(model, with_s1, min_mapping_unit_px)
    growth = urban_change.growth_map(prob, threshold, mmu)
    return GrowthResult(growth, prob, threshold, mmu, with_s1, (shares[0], shares[1]))


def epoch_composite(stack: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One image from an epoch's dates: per-pixel median over the clear dates.

    ``stack``: reflectance (0-1) ``(time, y, x)`` by band name, NaN where a date is cloudy
    or missing (e.g. after the SCL mask). Returns ``(y, x)`` float32 arrays, NaN where no
    date is clear."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels stay NaN
        return {
            k: np.nanmedian(np.asarray(v, dtype=np.float32), axis=0).astype(np.float32)
            for k, v in stack.items()
        }


def vv_epoch_db(vv_linear: np.ndarray) -> np.ndarray:
    """Sentinel-1 VV of an epoch in dB: 10 log10 of the temporal mean of linear power
    ``(time, y, x)`` (NaN no data); NaN where no date has a positive value."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.asarray(vv_linear, dtype=np.float32), axis=0)
        return np.where(mean > 0, 10 * np.log10(mean), np.nan).astype(np.float32)
