"""Sentinel-1 flood by comparison with a pre-event reference, GFM-style.

Observed water after the event comes from :func:`eo_drr.products.water.s1_water`; the
reference water is the same ensemble applied to the per-pixel median of the pre-event scenes
(same relative orbit; Schlaffer et al. 2015 use a multi-temporal reference). As in Copernicus
GFM, *observed flood extent = observed water - reference water*. The log-ratio change
10*log10(post/pre) in dB is returned too; a decrease-only criterion (``min_decrease_db``,
default None = off) can be required in addition.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from eo_drr.errors import InputError
from eo_drr.products.water import WaterResult, s1_water


@dataclass
class FloodResult:
    flood: np.ndarray  # uint8 1 flood, 0 not, 255 no data
    water: WaterResult  # post-event water
    reference: WaterResult  # reference (pre-event) water
    log_ratio_db: np.ndarray


def s1_flood(
    pre_vv: list[np.ndarray],
    post_vv: np.ndarray,
    pre_vh: list[np.ndarray] | None = None,
    post_vh: np.ndarray | None = None,
    *,
    units: str = "db",
    min_decrease_db: float | None = None,
    min_mapping_unit_px: int = 1,
    **water_options,
) -> FloodResult:
    """Flood extent from pre-event scenes (lists of 2-D arrays) and one post-event scene.
    ``water_options`` (``speckle``, ``speckle_window``, ``threshold_method``, ...) go to
    :func:`eo_drr.products.water.s1_water` for both scenes."""
    if not pre_vv:
        raise InputError("pre: give at least one pre-event scene")
    shapes = {np.shape(a) for a in [*pre_vv, post_vv]}
    if len(shapes) != 1:
        raise InputError(f"pre and post scenes are on different grids: shapes {sorted(shapes)}")

    def lin(a):
        a = np.asarray(a, dtype=np.float32)
        return 10 ** (a / 10) if units == "db" else a

    def median_db(stack):
        """Per-pixel median in linear power, returned in the input units."""
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels
            m = np.nanmedian(np.stack([lin(a) for a in stack]), axis=0) if len(stack) > 1 else lin(stack[0])
        return (10 * np.log10(m)).astype(np.float32) if units == "db" else m.astype(np.float32)

    ref_vv = median_db(pre_vv)
    ref_vh = median_db(pre_vh) if pre_vh else None
    post = s1_water(post_vv, post_vh, units=units, min_mapping_unit_px=min_mapping_unit_px, **water_options)
    ref = s1_water(ref_vv, ref_vh, units=units, **water_options)
    with np.errstate(invalid="ignore", divide="ignore"):
        lr = (10 * np.log10(lin(post_vv) / lin(ref_vv))).astype(np.float32)
    flood = (post.water == 1) & (ref.water != 1)
    if min_decrease_db is not None:
        flood &= lr <= -abs(min_decrease_db)
    out = np.where(flood, 1, 0).astype(np.uint8)
    out[(post.water == 255) | (ref.water == 255)] = 255
    return FloodResult(out, post, ref, lr)
