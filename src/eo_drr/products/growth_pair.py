"""New built-up between two Sentinel-2 images (and optionally Sentinel-1 VV of the same dates):
the shipped urban-growth model (:mod:`eo_drr.products.urban_change`) on one co-registered pair,
with clouds and their shadows masked first.

Clouds: Level-2A images with a scene classification (SCL) band lose its cloud, shadow,
saturated and no-data classes (:data:`eo_drr.products.water_s2.SCL_MASKED`); Level-1C images
(and Level-2A without SCL) go through the Fmask-style spectral cloud and cloud-shadow tests of
:func:`eo_drr.products.water_s2.cloud_shadow_mask` (Zhu & Woodcock 2012; with B10 cirrus when
present). A masked pixel is no data (255) in the growth map, never "no growth".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from eo_drr.errors import InputError
from eo_drr.products import urban_change
from eo_drr.products.water_s2 import SCL_MASKED, cloud_shadow_mask

#: ESA band name -> the common names the cloud test takes
_COMMON = {"B02": "blue", "B03": "green", "B04": "red", "B08": "nir", "B11": "swir16", "B12": "swir22"}


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


def cloud_mask(bands: dict[str, np.ndarray], level: str) -> np.ndarray:
    """Boolean mask of cloud and cloud shadow (see the module docstring)."""
    if level == "L2A" and "SCL" in bands:
        scl = bands["SCL"]
        return np.isin(np.nan_to_num(scl, nan=0).astype(np.int16), SCL_MASKED) & np.isfinite(scl)
    cloud, shadow = cloud_shadow_mask({_COMMON[b]: bands[b] for b in _COMMON}, cirrus=bands.get("B10"))
    return cloud | shadow


def _masked(bands: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: np.where(mask, np.nan, v).astype(np.float32) for k, v in bands.items() if k in urban_change.BANDS}


def new_builtup(
    before: dict[str, np.ndarray],
    after: dict[str, np.ndarray],
    *,
    level_before: str,
    level_after: str,
    vv_before: np.ndarray | None = None,
    vv_after: np.ndarray | None = None,
    model: dict[str, Any] | None = None,
    names: tuple[str, str] = ("before", "after"),
) -> GrowthResult:
    """New built-up between ``before`` and ``after`` (reflectance 0-1 by ESA band name, NaN no
    data, one grid; ``level_*``: "L1C" or "L2A"), optionally with Sentinel-1 VV in dB of both
    dates on the same grid. ``model``: from :func:`urban_change.load_model` (default: the
    shipped one). ``names``: how messages call the two images (e.g. their files)."""
    if (vv_before is None) != (vv_after is None):
        raise InputError("Sentinel-1: give VV for both dates or for neither")
    shape = next(iter(before.values())).shape
    if any(v.shape != shape for v in [*before.values(), *after.values()]):
        raise InputError("before and after: the bands are not on one grid")
    model = model if model is not None else urban_change.load_model()
    masks = (cloud_mask(before, level_before), cloud_mask(after, level_after))
    shares = []
    for bands, m in zip((before, after), masks, strict=True):
        ok = np.isfinite(bands["B04"])
        shares.append(float((m & ok).sum() / max(int(ok.sum()), 1)))
    clear = np.ones(shape, bool)
    for bands, m in zip((before, after), masks, strict=True):
        clear &= ~m & np.all([np.isfinite(bands[b]) for b in urban_change.BANDS], axis=0)
    if not clear.any():
        raise InputError(f"{names[0]}, {names[1]}: no pixel is clear and valid on both dates (cloud or "
                         f"shadow: {100 * shares[0]:.0f} % before, {100 * shares[1]:.0f} % after)")
    feats, fnames = urban_change.change_features(_masked(before, masks[0]), _masked(after, masks[1]),
                                                 vv_before, vv_after)
    prob = urban_change.growth_probability(feats, model, fnames)
    with_s1 = urban_change.has_s1(feats, fnames)
    threshold, mmu = urban_change.decision_settings(model, with_s1)
    growth = urban_change.growth_map(prob, threshold, mmu)
    return GrowthResult(growth, prob, threshold, mmu, with_s1, (shares[0], shares[1]))
