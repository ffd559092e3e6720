"""Flood extent from dask-backed Sentinel-1 rasters, chunk by chunk with bounded memory.

The same product as :func:`eo_drr.products.flood.flood_extent`, pixel for pixel, composed
from the lazy steps of :mod:`eo_drr.products.water_dask`:

1. **reference scene**: the per-pixel temporal median of the pre-event scenes in linear
   power (:func:`eo_drr.indices.sar.temporal_median`; the time axis is put in one chunk);
2. **water after the event and reference water**: :func:`~eo_drr.products.water_dask.water_layers_dask`
   on each (speckle filter through ``map_overlap``, the scene thresholds from histogram
   passes, computed when :func:`flood_extent_dask` is called; region growing as connected
   components across chunks);
3. **change-detected water**, the **log ratio** (dB), the **exclusion** layers (HAND,
   slope, land cover), the Sentinel-2 fusion and the JRC seasonality: elementwise, chunk by
   chunk; every ancillary layer may be numpy or dask on the SAR grid and is read lazily;
4. the flood's **minimum mapping unit**: connected components across chunks (one labelling
   pass now, the relabelling lazy).

The per-scene quality flags need the finished maps, so they are not computed: the
thresholds' ``quality`` holds the input notes only (:func:`eo_drr.products.water.quality_flags`
on computed layers gives the flags), and no warning is logged for an empty flood extent.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.indices.sar import temporal_median
from eo_drr.products.change import CHANGE_MARGIN_DB, CHANGE_PROVENANCE_BIT
from eo_drr.products.flood import (
    EXCLUDED_HAND,
    EXCLUDED_SLOPE,
    FLOOD,
    NO_SENSITIVITY_CLASSES,
    NO_SENSITIVITY_FOREST,
    NO_SENSITIVITY_URBAN,
    NODATA,
    NOT_FLOOD,
    STILL_WATER,
    Ancillary,
    FloodLayers,
    FloodParams,
    FloodThresholds,
    _as_2d,
    flood_dataset,
    split_options,
)
from eo_drr.products.water_dask import LazyWater, _components, water_layers_dask
from eo_drr.products.water_s2 import FROM_S1, fuse_water

_U8 = np.uint8


def _dask(a: Any, chunks: tuple, name: str) -> da.Array:
    """``a`` (DataArray, dask or numpy) as a dask array in ``chunks`` (2-D: the SAR grid)."""
    v = a.data if isinstance(a, xr.DataArray) else a
    v = v if isinstance(v, da.Array) else da.from_array(np.asarray(v))
    shape = tuple(sum(c) for c in chunks)
    if v.shape[-2:] != shape[-2:] or v.ndim != len(shape):
        raise InputError(
            _("{name}: grid {shape} differs from the SAR grid {shape2}").format(
                name=name, shape=v.shape, shape2=shape
            )
        )
    return v.rechunk(chunks)


def _median(stack: da.Array) -> da.Array:
    """Reference scene (linear power, float32) of a ``(time, y, x)`` stack, as
    :func:`eo_drr.products.change.s1_flood` takes it."""
    stack = stack.astype(np.float32)
    return temporal_median(stack.rechunk({0: -1})) if stack.shape[0] > 1 else stack[0]


def _log_ratio_db(post: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """10 log10(post / reference) (dB, float32, NaN no data) of one chunk (linear power)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        lr = (10 * np.log10(post.astype(np.float32) / ref)).astype(np.float32)
    lr[~np.isfinite(lr)] = np.nan
    return lr


def _with_change(post: LazyWater, ref: LazyWater, decrease_db: float | None) -> LazyWater:
    """Post-event water with change-detected water added
    (:func:`eo_drr.products.change._change_water`, margin :data:`CHANGE_MARGIN_DB`)."""
    if decrease_db is None or post.threshold.polarisation != ref.threshold.polarisation:
        return post
    f, t = post.decided_db, post.threshold.threshold_db
    added = ((f - ref.decided_db) <= -abs(decrease_db)) & (f <= t + CHANGE_MARGIN_DB)
    added &= post.water == 0
    return replace(
        post,
        water=da.where(added, _U8(1), post.water),
        provenance=post.provenance | da.where(added, _U8(CHANGE_PROVENANCE_BIT), _U8(0)),
    )


def _fused(s1: np.ndarray, s2: np.ndarray, part: int) -> np.ndarray:
    """Part ``part`` (0 water, 1 source) of :func:`eo_drr.products.water_s2.fuse_water`."""
    return fuse_water(s1, s2)[part]


def _exclusion(lay: Ancillary, p: FloodParams, chunks: tuple) -> da.Array:
    """uint8 bits of :data:`eo_drr.products.flood.EXCLUSION_CLASSES`, lazily."""
    shape = tuple(sum(c) for c in chunks)
    out = da.zeros(shape, dtype=_U8, chunks=chunks)
    if lay.hand is not None:
        h = _dask(lay.hand, chunks, "hand")
        out |= da.where(da.isfinite(h) & (h > p.hand_max_m), _U8(EXCLUDED_HAND), _U8(0))
    if lay.slope is not None and p.slope_max_deg is not None:
        s = _dask(lay.slope, chunks, "slope")
        out |= da.where(da.isfinite(s) & (s > p.slope_max_deg), _U8(EXCLUDED_SLOPE), _U8(0))
    if lay.landcover is not None:
        lc = _dask(lay.landcover, chunks, "landcover")
        for cls in p.no_sensitivity_classes:
            out |= da.where(lc == cls, _U8(NO_SENSITIVITY_CLASSES[cls]), _U8(0))
    return out


def flood_extent_dask(
    pre: xr.DataArray,
    post: xr.DataArray,
    *,
    pre_vh: xr.DataArray | None = None,
    post_vh: xr.DataArray | None = None,
    params: FloodParams | None = None,
    **options: Any,
) -> tuple[xr.Dataset, FloodThresholds]:
    """:func:`eo_drr.products.flood.flood_extent` (same arguments: backscatter in **linear
    power**, ancillary layers and settings) with dask-backed ``post`` or ``pre``: the
    Dataset's layers are lazy dask arrays in the chunks of ``post`` (else of ``pre``); the
    scene thresholds (dB) and the minimum mapping units' labelling passes run now."""
    p, lay = split_options(params, options)
    post = _as_2d(post, "post")
    pre = pre if "time" in pre.dims else pre.expand_dims(time=1)
    if pre.shape[1:] != post.shape:
        raise InputError(
            _("pre and post are on different grids: {shape} vs {shape2}").format(
                shape=pre.shape[1:], shape2=post.shape
            )
        )
    src = post.data if isinstance(post.data, da.Array) else pre.data
    chunks = src.chunks[-2:]
    stack_chunks = ((1,) * pre.shape[0], *chunks)
    post_vv, ref_vv = _dask(post, chunks, "post"), _median(_dask(pre, stack_chunks, "pre"))
    post_vh_d = ref_vh = None
    if pre_vh is not None and post_vh is not None:
        post_vh_d = _dask(_as_2d(post_vh, "post_vh"), chunks, "post_vh")
        pre_vh = pre_vh if "time" in pre_vh.dims else pre_vh.expand_dims(time=1)
        ref_vh = _median(_dask(pre_vh, ((1,) * pre_vh.shape[0], *chunks), "pre_vh"))
    settings: dict[str, Any] = {
        "speckle": p.speckle,
        "speckle_window": p.speckle_window,
        "threshold_method": p.threshold_method,
    }
    ref = water_layers_dask(ref_vv, ref_vh, units="linear", **settings)
    res = _with_change(
        water_layers_dask(post_vv, post_vh_d, units="linear", min_mapping_unit_px=1, **settings),
        ref,
        p.change_decrease_db,
    )
    water = res.water
    source = da.where(water != NODATA, _U8(FROM_S1), _U8(0))
    if lay.s2_water is not None:
        s2 = _dask(lay.s2_water, chunks, "s2_water")
        water, source = (
            da.map_blocks(partial(_fused, part=i), res.water, s2, dtype=_U8) for i in (0, 1)
        )
    reference = ref.water
    if lay.gsw_seasonality is not None:
        months = _dask(lay.gsw_seasonality, chunks, "gsw_seasonality").astype(np.float32)
        seasonal = da.isfinite(months) & (months >= p.gsw_min_months) & (months <= 12)
        reference = da.where(seasonal, _U8(FLOOD), reference)
    exclusion = _exclusion(lay, p, chunks)
    blind = ((exclusion & (NO_SENSITIVITY_URBAN | NO_SENSITIVITY_FOREST)) != 0) & (
        source == FROM_S1
    )
    flooded = (water == FLOOD) & (reference != FLOOD)
    flooded &= ((exclusion & (EXCLUDED_HAND | EXCLUDED_SLOPE)) == 0) & ~blind
    if p.min_mapping_unit_px > 1:
        mmu = p.min_mapping_unit_px
        flooded = _components(flooded, None, lambda seeded, size: size >= mmu)
    flood = da.where(flooded, _U8(FLOOD), _U8(NOT_FLOOD))
    flood = da.where((water == FLOOD) & (reference == FLOOD), _U8(STILL_WATER), flood)
    flood = da.where((water == NODATA) | (reference == NODATA) | blind, _U8(NODATA), flood)
    log_ratio = da.map_blocks(_log_ratio_db, post_vv, ref_vv, dtype=np.float32)

    layers = FloodLayers(
        flood, water, source, reference, exclusion, res.likelihood, res.provenance, log_ratio
    )
    ds = flood_dataset(layers, post, p)
    thresholds = FloodThresholds(
        post=res.threshold.summary({"input_notes": res.notes, "warnings": res.notes}),
        reference=ref.threshold.summary({"input_notes": ref.notes, "warnings": ref.notes}),
        post_fallback=None,
        reference_fallback=None,
    )
    return ds, thresholds
