"""Sentinel-1 flood by comparison with a pre-event reference, GFM-style.

Observed water after the event comes from :func:`eo_drr.products.water.s1_water`; the
reference water is the same rule applied to the per-pixel median of the pre-event scenes
(same relative orbit; Schlaffer et al. 2015, Int. J. Appl. Earth Obs. Geoinf. 38:15-24, use a
multi-temporal reference). As in Copernicus GFM, *observed flood extent = observed water -
reference water*.

Change detection adds to the single-date water, never subtracts from it: a pixel whose
speckle-filtered backscatter of the deciding channel (VH, else VV; the water rule's filter)
fell by at least ``ChangeRule.decrease_db`` (default 3 dB, the power halved; decrease-only
log-ratio logic as in Giustarini et al. 2013, IEEE TGRS 51(4):2417-2430) *and* that is,
after the event, no more than ``ChangeRule.margin_db`` (default 3 dB) brighter than the post-event
water threshold of that channel, is observed water even when the single-date rule missed it
(shallow water under wind roughening, flooded fields near the threshold). Both defaults are
round physical numbers fixed before any benchmark ran. No labelled data here has a pre-event
scene with VH (Sen1Floods11 chips are single-date, OMBRIA is one band), so on VH the rule is
untested against labels; on OMBRIA (VV) it changes the pooled IoU by +0.001.
The log-ratio 10*log10(post/pre) in dB is returned too; a decrease-only criterion on the flood
itself (``ChangeRule.min_flood_decrease_db``, default None = off) can be required in addition.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from eo_drr import indices
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.kernels._dispatch import wants_gpu
from eo_drr.products.water import WaterResult, remove_small_objects, s1_water

#: minimum decrease (dB) of filtered backscatter, reference -> post, for change-detected water
CHANGE_DECREASE_DB = 3.0
#: change-detected water may be at most this much (dB) above the post-event VV water threshold
CHANGE_MARGIN_DB = 3.0


@dataclass(frozen=True)
class ChangeRule:
    """Change detection against the pre-event reference (dB; module docstring):
    ``decrease_db`` the decrease of filtered backscatter that adds change-detected water (None:
    off), ``margin_db`` how far above the post-event water threshold such water may be, and
    ``min_flood_decrease_db`` a decrease the flood itself must also show (None: off)."""

    decrease_db: float | None = CHANGE_DECREASE_DB
    margin_db: float = CHANGE_MARGIN_DB
    min_flood_decrease_db: float | None = None


@dataclass
class FloodResult:
    flood: np.ndarray  # uint8 1 flood, 0 not, 255 no data
    water: WaterResult  # post-event water
    reference: WaterResult  # reference (pre-event) water
    log_ratio_db: np.ndarray
    #: uint8: 1 where change detection added water that the single-date rule missed
    change_added: np.ndarray | None = None


def s1_flood(
    pre_vv: list[np.ndarray],
    post_vv: np.ndarray,
    pre_vh: list[np.ndarray] | None = None,
    post_vh: np.ndarray | None = None,
    *,
    units: str = "db",
    min_mapping_unit_px: int = 1,
    change: ChangeRule = ChangeRule(),
    **water_options,
) -> FloodResult:
    """Flood extent from pre-event scenes (lists of 2-D arrays) and one post-event scene.

    ``units``: "db" or "linear" power for all inputs. ``water_options`` (``speckle``,
    ``speckle_window``, ``threshold_method``, ...) go to :func:`eo_drr.products.water.s1_water`
    for both scenes. ``ChangeRule(decrease_db=None)`` turns the change-detected water off (see
    the module docstring); the returned ``water`` then is the single-date rule alone.
    """
    if not pre_vv:
        raise InputError(_("pre: give at least one pre-event scene"))
    shapes = {np.shape(a) for a in [*pre_vv, post_vv]}
    if len(shapes) != 1:
        raise InputError(
            _("pre and post scenes are on different grids: shapes {shapes}").format(
                shapes=sorted(shapes)
            )
        )

    def lin(a):
        a = np.asarray(a, dtype=np.float32)
        return 10 ** (a / 10) if units == "db" else a

    def median_db(stack):
        """Per-pixel median in linear power, returned in the input units."""
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels
            m = (
                indices.sar.temporal_median(np.stack([lin(a) for a in stack]))
                if len(stack) > 1
                else lin(stack[0])
            )
        out = 10 * np.log10(m) if units == "db" else m
        return out.astype(np.float32, copy=False)

    ref_vv = median_db(pre_vv)
    ref_vh = median_db(pre_vh) if pre_vh else None
    scenes = (
        lambda: s1_water(
            post_vv, post_vh, units=units, min_mapping_unit_px=min_mapping_unit_px, **water_options
        ),
        lambda: s1_water(ref_vv, ref_vh, units=units, **water_options),
    )
    threads = numba.get_num_threads()  # this thread's share of the cores (a tile worker: 1)
    if threads < 2 or wants_gpu(ref_vv):  # a GPU worker's CUDA launches stay on this thread
        post, ref = (scene() for scene in scenes)
    else:
        # the two scenes are independent: mapped side by side, so that the single-threaded
        # parts (scipy's labelling, the tile statistics, numpy's element-wise passes) of one
        # overlap the other's (issue 21); each result is what a serial call gives (no shared
        # state; numpy's errstate is per thread). The scene threads keep this thread's
        # numba thread count (set per thread).
        with ThreadPoolExecutor(
            2, "eo-drr-scene", initializer=numba.set_num_threads, initargs=(threads,)
        ) as pool:
            post, ref = (job.result() for job in [pool.submit(scene) for scene in scenes])
    with np.errstate(invalid="ignore", divide="ignore"):
        lr = (10 * np.log10(lin(post_vv) / lin(ref_vv))).astype(np.float32)
    lr[~np.isfinite(lr)] = np.nan  # +-inf inputs (or a zero) are no data, as in every other layer
    added = None
    if change.decrease_db is not None:
        added = _change_water(post, ref, change.decrease_db, change.margin_db, min_mapping_unit_px)
        if added is not None:
            post.water[added] = 1
            post.provenance[added] |= CHANGE_PROVENANCE_BIT
    flood = (post.water == 1) & (ref.water != 1)
    if change.min_flood_decrease_db is not None:
        flood &= lr <= -abs(change.min_flood_decrease_db)
    out = flood.astype(np.uint8)  # 1 flood, 0 not
    out[(post.water == 255) | (ref.water == 255)] = 255
    added_u8 = None if added is None else added.astype(np.uint8)
    return FloodResult(out, post, ref, lr, added_u8)


#: provenance bit of water added by change detection (after the single-date methods' bits)
CHANGE_PROVENANCE_BIT = 8


def _change_water(
    post: WaterResult, ref: WaterResult, decrease_db: float, margin_db: float, mmu: int
) -> np.ndarray | None:
    """Pixels that darkened by >= ``decrease_db`` in the deciding channel (filtered, dB) and lie
    within ``margin_db`` of the post-event water threshold, not already water; None when the
    two scenes were decided on different channels. Uses the filtered images the water rule
    saw (same speckle filter)."""
    if (
        post.decided_db is None
        or ref.decided_db is None
        or post.threshold.polarisation != ref.threshold.polarisation
    ):
        return None
    fpost = post.decided_db
    t = post.threshold.threshold_db
    with np.errstate(invalid="ignore"):
        added = ((fpost - ref.decided_db) <= -abs(decrease_db)) & (fpost <= t + margin_db)
    added &= post.water == 0
    return remove_small_objects(added, mmu) if mmu > 1 else added
