"""Sentinel-1 flood extent by change detection against a pre-event reference.

Method (the first, simple published chain; the flood issue deepens it into a GFM-style
ensemble):

1. Speckle filtering of linear gamma0 with the Lee filter (Lee 1980, IEEE TPAMI 2(2):165-168).
2. Pre-event reference: per-pixel median of the filtered pre-event scenes of the same
   relative orbit (Schlaffer et al. 2015, Int. J. Appl. Earth Obs. Geoinf. 38:15-24, use a
   multi-temporal reference to suppress single-date noise).
3. Log-ratio change image ``10*log10(post/pre)`` in dB (Bazi, Bruzzone & Melgani 2005, IEEE
   TGRS 43(4):874-887): flooding lowers backscatter, so only *decreases* count.
4. Automatic thresholds, never hand-tuned: a split-based threshold (Martinis et al. 2009,
   NHESS 9:303-314) of the post-event dB image separates open water; the same on the log-ratio
   image separates strong decreases. A pixel is flooded when it is open water after the
   event, shows a decrease of at least ``MIN_DECREASE_DB`` and beyond the change threshold,
   and was not water in the reference (permanent / reference water).
5. Exclusion of terrain that cannot flood: height above nearest drainage (HAND) above
   ``hand_max_m`` (default 15 m, as in the HAND exclusion mask of Copernicus GFM; Twele et al.
   2016, Int. J. Remote Sens. 37(13):2990-3004; HAND after Nobre et al. 2011, J. Hydrol.
   404:13-29).
6. A minimum mapping unit removes isolated speckle pixels (8-connected components smaller
   than ``min_mapping_unit_px`` pixels).

Output classes (uint8): 1 flood, 0 not flooded, 255 no data (no valid SAR pre or post).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr

from eo_drr.errors import InputError, NoDataError
from eo_drr.indices import sar, threshold

log = logging.getLogger(__name__)

FLOOD, NOT_FLOOD, NODATA = 1, 0, 255
#: A change of less than 3 dB is within the speckle/seasonal noise of filtered gamma0;
#: flooding of open land lowers VV by 10 dB or more (Twele et al. 2016; UN-SPIDER's
#: recommended practice uses a post/pre ratio threshold for the same reason).
MIN_DECREASE_DB = -3.0
#: Plausibility bounds of water thresholds in dB (Martinis et al. 2015, ISPRS J. 104:203-212,
#: report VV water/land splits between about -23 and -14 dB for Sentinel-1/TerraSAR-X).
WATER_DB_RANGE = (-26.0, -12.0)

CLASS_COLORS = {NOT_FLOOD: (0, 0, 0, 0), FLOOD: (0, 92, 230, 255), NODATA: (128, 128, 128, 0)}


@dataclass(frozen=True)
class FloodThresholds:
    """Thresholds the run derived (all in dB) and how."""

    water_db: float
    change_db: float
    water_method: str
    change_method: str
    water_fallback: str | None
    change_fallback: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def _check_db_range(da: xr.DataArray, name: str) -> None:
    """Catch linear values declared as dB (or the reverse) before they give a silent map."""
    sample = da.isel(y=slice(None, None, max(1, da.sizes["y"] // 64)), x=slice(None, None, max(1, da.sizes["x"] // 64)))
    med = float(np.nanmedian(np.asarray(sample)))
    if np.isnan(med):
        raise NoDataError(f"{name}: no valid backscatter (all pixels are nodata)")
    if not (-40.0 < med < 10.0):
        raise InputError(f"{name}: median {med:.3g} dB is implausible for gamma0 in dB; are the values linear?")


def _split_threshold(img_db: xr.DataArray, method: str, what: str):
    res = threshold.split_based_threshold(img_db, method=method)
    return float(res.threshold), res


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


def flood_extent(
    pre: xr.DataArray,
    post: xr.DataArray,
    *,
    hand: xr.DataArray | None = None,
    hand_max_m: float = 15.0,
    speckle: str = "lee",
    window: int = 5,
    threshold_method: str = "otsu",
    min_mapping_unit_px: int = 4,
) -> tuple[xr.Dataset, FloodThresholds]:
    """Flood extent from Sentinel-1 gamma0 before and after an event.

    Parameters
    ----------
    pre
        Pre-event backscatter, **linear power**, dims ``(time, y, x)`` or ``(y, x)``, NaN nodata.
    post
        Post-event backscatter, **linear power**, dims ``(y, x)`` (or a 1-long time axis).
    hand
        Height above nearest drainage in **metres** on the same grid, or None.
    speckle, window
        ``"lee"``, ``"refined_lee"``, ``"boxcar"`` or ``"none"``; odd window size in pixels.

    Returns
    -------
    (dataset, thresholds): ``flood`` (uint8: 1 flood, 0 not, 255 no data), ``reference_water``
    (uint8, same coding), ``exclusion`` (uint8, 1 where HAND excludes), ``log_ratio`` (float32 dB),
    and the thresholds used.
    """
    if "time" in post.dims:
        if post.sizes["time"] != 1:
            raise InputError("post: give exactly one post-event scene (a 1-long time axis)")
        post = post.isel(time=0, drop=True)
    if "time" not in pre.dims:
        pre = pre.expand_dims(time=1)
    if pre.shape[1:] != post.shape:
        raise InputError(f"pre and post are on different grids: {pre.shape[1:]} vs {post.shape}")

    filt = _speckle_fn(speckle, window)
    post_f = filt(post)
    pre_f = xr.concat([filt(pre.isel(time=i)) for i in range(pre.sizes["time"])], dim="time")
    pre_ref = pre_f.median("time", skipna=True) if pre_f.sizes["time"] > 1 else pre_f.isel(time=0)
    pre_ref = pre_ref.astype(np.float32)

    post_db = sar.to_db(post_f)
    pre_db = sar.to_db(pre_ref)
    lr = sar.log_ratio(post_f, pre_ref)

    # The thresholds need the data: compute the three dB images once, in memory.
    post_db, pre_db, lr = (a.compute() for a in (post_db, pre_db, lr))
    _check_db_range(post_db, "post-event backscatter")
    _check_db_range(pre_db, "pre-event backscatter")

    t_water, r_water = _split_threshold(post_db, threshold_method, "water")
    t_water = float(np.clip(t_water, *WATER_DB_RANGE))
    # Change threshold on decreases only: the histogram of negative log-ratios.
    decreases = lr.where(lr < 0)
    if int(np.isfinite(decreases.values).sum()) > 100:
        t_change, r_change = _split_threshold(decreases, threshold_method, "change")
    else:
        t_change, r_change = MIN_DECREASE_DB, None
    t_change = float(min(t_change, MIN_DECREASE_DB))

    valid = np.isfinite(post_db.values) & np.isfinite(pre_db.values)
    water_post = post_db.values < t_water
    ref_water = pre_db.values < t_water
    decrease = lr.values < t_change
    flooded = valid & water_post & decrease & ~ref_water
    excluded = np.zeros_like(valid)
    if hand is not None:
        hand_v = np.asarray(hand.values if hasattr(hand, "values") else hand, dtype=np.float32)
        if hand_v.shape != valid.shape:
            raise InputError(f"hand: grid {hand_v.shape} differs from the SAR grid {valid.shape}")
        excluded = np.isfinite(hand_v) & (hand_v > hand_max_m)
        flooded &= ~excluded
    flooded = remove_small_objects(flooded, min_mapping_unit_px)
    if not flooded.any():
        log.warning("no flooded pixel found: the flood extent is empty")

    def coded(mask: np.ndarray) -> np.ndarray:
        out = np.where(mask, FLOOD, NOT_FLOOD).astype(np.uint8)
        out[~valid] = NODATA
        return out

    coords = {k: v for k, v in post.coords.items() if k != "time"}
    dims = post.dims
    ds = xr.Dataset(
        {
            "flood": xr.DataArray(coded(flooded), dims=dims, coords=coords),
            "reference_water": xr.DataArray(coded(ref_water), dims=dims, coords=coords),
            "exclusion": xr.DataArray(excluded.astype(np.uint8), dims=dims, coords=coords),
            "log_ratio": lr.astype(np.float32),
        }
    )
    for name in ("flood", "reference_water"):
        ds[name].attrs.update(nodata=NODATA, classes="1 flood/water, 0 not, 255 no data")
    ds["log_ratio"].attrs["units"] = "dB"
    thresholds = FloodThresholds(
        water_db=t_water,
        change_db=t_change,
        water_method=f"split-based {threshold_method}",
        change_method=f"split-based {threshold_method} on decreases",
        water_fallback=getattr(r_water, "fallback", None),
        change_fallback=getattr(r_change, "fallback", None) if r_change is not None else "too few decreases",
    )
    return ds, thresholds


def _speckle_fn(kind: str, window: int):
    if kind == "none":
        return lambda a: a.astype(np.float32)
    if kind == "lee":
        return lambda a: sar.lee(a, window=window)
    if kind == "refined_lee":
        return lambda a: sar.refined_lee(a, window=window)
    if kind == "boxcar":
        return lambda a: sar.boxcar(a, window=window)
    raise InputError(f"speckle: unknown filter {kind!r} (use none, boxcar, lee, refined_lee)")
