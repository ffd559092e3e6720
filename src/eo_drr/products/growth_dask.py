"""New built-up from dask-backed Sentinel-2 (and Sentinel-1 VV) pairs, chunk by chunk.

The same product as :func:`eo_drr.products.growth_pair.new_builtup`, pixel for pixel,
composed from steps that each read one chunk (plus a halo) at a time:

1. **cloud masks**: the Level-2A SCL classes, elementwise (``map_blocks``). Other images
   (the s2cloudless detector at 60 m for Level-1C, or the Fmask-style tests) are masked
   **eagerly**: s2cloudless works on 6 x 6 block means and grows its mask by one block, so
   it is not chunk-local; those bands are computed whole, and memory is that of the scene;
2. the **cloud shares** per date, whether any pixel is clear on both dates, whether
   Sentinel-1 takes part and the **scene statistics** of the change features (the medians
   and median absolute deviations of :func:`eo_drr.products.urban_change.change_features`,
   exact: a radix selection on the float32 bit patterns, two histogram passes of 65,536
   bins over the chunks): computed when :func:`new_builtup_dask` is called. Where a band's
   spread is degenerate (MAD <= 1e-6) its standard deviation is taken from the whole
   difference, computed then;
3. the **change features** and the model's **raw probability**: ``map_overlap`` with a
   7-pixel halo (the 15 x 15 neighbourhood means; ``reflect`` at the scene edges, as
   ``scipy.ndimage.uniform_filter`` there), the LightGBM model applied per pixel;
4. the 3 x 3 **smoothing** of the probability: ``map_overlap`` with a 1-pixel halo;
5. the **threshold** (elementwise) and the **minimum mapping unit**: 8-connected
   components across chunks (:func:`eo_drr.products.water_dask._components`; one labelling
   pass now, which runs steps 3 and 4 once, the relabelling lazy).

The Level-2A path holds at most a few chunks (with halo) at a time; the feature stack of a
chunk is 44 float32 layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import dask
import dask.array as da
import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.products import urban_change
from eo_drr.products.growth_pair import NODATA, PairImage, cloud_mask
from eo_drr.products.water_dask import _components

#: halo (px) of the change features: half the widest neighbourhood mean (15 x 15)
FEATURE_DEPTH = 7
_SIGN = np.uint32(0x80000000)


@dataclass(frozen=True)
class LazyGrowth:
    """:class:`eo_drr.products.growth_pair.GrowthResult` with lazy maps: ``growth`` (uint8
    1 new built-up, 0 not, 255 no data) and ``probability`` (float32 0-1, NaN no data)
    dask arrays; ``threshold`` (probability 0-1), ``min_mapping_unit_px`` (pixels),
    ``with_s1`` and ``cloud_share`` (share 0-1 of the valid area, before and after) computed."""

    growth: da.Array
    probability: da.Array
    threshold: float
    min_mapping_unit_px: int
    with_s1: bool
    cloud_share: tuple[float, float]


def _keys(block: np.ndarray) -> np.ndarray:
    """Order-preserving uint32 keys of the finite float32 values of ``block``."""
    v = block[np.isfinite(block)].astype(np.float32)
    bits = v.view(np.uint32)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN).astype(np.uint32)


def _hist(block: np.ndarray, prefix: int | None) -> np.ndarray:
    """65,536-bin histogram of the keys' high half (``prefix`` None) or of the low half of
    the keys whose high half is ``prefix``."""
    k = _keys(block)
    part = k >> 16 if prefix is None else (k[(k >> 16) == prefix] & 0xFFFF)
    return np.bincount(part.astype(np.int64), minlength=65536)


def _histograms(arrays: list[da.Array], prefixes: list[int | None]) -> list[np.ndarray]:
    """The histograms of :func:`_hist` over all chunks, for each array and prefix, in one pass."""
    tasks = [
        [dask.delayed(_hist)(b, p) for b in a.to_delayed().ravel()]
        for a, p in zip(arrays, prefixes, strict=True)
    ]
    (counts,) = dask.compute(tasks)
    return [np.sum(c, axis=0) for c in counts]


def _from_key(key: int) -> np.float32:
    k = np.uint32(key)
    bits = k ^ _SIGN if k & _SIGN else ~k
    return np.array([bits], np.uint32).view(np.float32)[0]


def _medians(arrays: list[da.Array]) -> list[Any]:
    """``np.median`` of the finite values of each array (NaN where none), exactly: the
    middle rank(s) located by a high-half histogram pass, then a low-half pass; an even
    count takes the float32 mean of the two middle values, as numpy does."""
    high = _histograms(arrays, [None] * len(arrays))
    wanted: list[tuple[int, int, int]] = []  # (array, rank within its high bin, high bin)
    for i, h in enumerate(high):
        n = int(h.sum())
        cum = np.cumsum(h)
        for r in sorted({(n - 1) // 2, n // 2}) if n else []:
            b = int(np.searchsorted(cum, r, side="right"))
            wanted.append((i, r - int(cum[b - 1] if b else 0), b))
    low = _histograms([arrays[i] for i, _, _ in wanted], [b for _, _, b in wanted])
    values: list[list[np.float32]] = [[] for _ in arrays]
    for (i, r, b), h in zip(wanted, low, strict=True):
        lo = int(np.searchsorted(np.cumsum(h), r, side="right"))
        values[i].append(_from_key((b << 16) | lo))
    return [
        np.float32(np.nan) if not v else np.mean(np.array(v, np.float32)) if len(v) == 2 else v[0]
        for v in values
    ]


def _stats(diffs: list[da.Array], index_diffs: list[da.Array]) -> urban_change.SceneStats:
    """:class:`~eo_drr.products.urban_change.SceneStats` of the chunked differences, as
    :func:`~eo_drr.products.urban_change.scene_stats` computes them in memory."""
    meds = _medians([*diffs, *index_diffs])
    band_med, index_med = meds[: len(diffs)], meds[len(diffs) :]
    mads = _medians([abs(d - m) for d, m in zip(diffs, band_med, strict=True)])
    scales = []
    for d, mad in zip(diffs, mads, strict=True):
        scale = 1.4826 * float(mad)
        if not scale > urban_change._EPS:
            x = np.asarray(d.compute())
            scale = float(np.std(x[np.isfinite(x)])) or 1.0
        scales.append(scale)
    index_med = [np.float32(0.0) if np.isnan(m) else m for m in index_med]
    return urban_change.SceneStats(tuple(band_med), tuple(scales), tuple(index_med))


def _features(
    *blocks: np.ndarray, stats: urban_change.SceneStats, with_vv: bool
) -> tuple[np.ndarray, list[str]]:
    """:func:`~eo_drr.products.urban_change.features_with` of one chunk (plus halo): blocks
    are the bands before, the bands after (urban_change.BANDS order, reflectance 0-1) and,
    with ``with_vv``, VV before and after (dB). Returns (features, names)."""
    n = len(urban_change.BANDS)
    valid = np.all([np.isfinite(x) for x in blocks[: 2 * n]], axis=0)
    pre, post = (
        {
            b: np.where(valid, x, np.nan).astype(np.float32)
            for b, x in zip(urban_change.BANDS, part, strict=True)
        }
        for part in (blocks[:n], blocks[n : 2 * n])
    )
    if with_vv:
        vv = (blocks[2 * n].astype(np.float32), blocks[2 * n + 1].astype(np.float32))
    else:
        vv = (np.full(valid.shape, np.nan, np.float32),) * 2
    return urban_change.features_with(pre, post, vv, valid, stats)


def _raw_probability(
    *blocks: np.ndarray, stats: urban_change.SceneStats, with_vv: bool, booster: Any
) -> np.ndarray:
    """The model's unsmoothed probability (0-1, float32, NaN no data) of one chunk (plus halo),
    as :func:`eo_drr.products.urban_change.growth_probability` predicts it."""
    feats, _names = _features(*blocks, stats=stats, with_vv=with_vv)
    return urban_change.predict_raw(booster, feats)


def _index_diff(*blocks: np.ndarray, key: str) -> np.ndarray:
    """Index ``key`` after minus before (unitless) of one chunk: the bands before, then
    after, in urban_change.BANDS order (reflectance 0-1)."""
    n = len(urban_change.BANDS)
    ib = urban_change._indices(dict(zip(urban_change.BANDS, blocks[:n], strict=True)))
    ia = urban_change._indices(dict(zip(urban_change.BANDS, blocks[n:], strict=True)))
    return ia[key] - ib[key]


def _masked(bands: dict[str, da.Array], mask: da.Array) -> list[da.Array]:
    return [da.where(mask, np.nan, bands[b]).astype(np.float32) for b in urban_change.BANDS]


def _cloud(bands: dict[str, da.Array], level: str, chunks: tuple) -> da.Array:
    """Cloud and shadow mask of one date: SCL lazily, else computed now (module docstring)."""
    if level == "L2A" and "SCL" in bands:
        return da.map_blocks(lambda s: cloud_mask({"SCL": s}, "L2A"), bands["SCL"], dtype=bool)
    eager = {k: np.asarray(v.compute()) for k, v in bands.items()}
    return da.from_array(cloud_mask(eager, level), chunks=chunks)


def _as_dask(a: Any, chunks: Any) -> da.Array:
    return (a if isinstance(a, da.Array) else da.from_array(np.asarray(a))).rechunk(chunks)


def new_builtup_dask(
    before: PairImage,
    after: PairImage,
    *,
    model: dict[str, Any] | None = None,
    min_mapping_unit_px: int | None = None,
) -> LazyGrowth:
    """:func:`eo_drr.products.growth_pair.new_builtup` (same arguments) with dask arrays (or
    numpy, read lazily) as bands and VV: lazy maps in the chunks of ``before``'s B04; the
    cloud shares, scene statistics and labelling pass run now (module docstring)."""
    if (before.vv_db is None) != (after.vv_db is None):
        raise InputError(_("Sentinel-1: give VV for both dates or for neither"))
    ref = before.bands["B04"]
    shape = ref.shape
    if any(v.shape != shape for v in [*before.bands.values(), *after.bands.values()]):
        raise InputError(_("before and after: the bands are not on one grid"))
    chunks = ref.chunks if isinstance(ref, da.Array) else _as_dask(ref, "auto").chunks
    model = model if model is not None else urban_change.load_model()
    images = [{k: _as_dask(v, chunks) for k, v in im.bands.items()} for im in (before, after)]
    masks = [_cloud(im, p.level, chunks) for im, p in zip(images, (before, after), strict=True)]
    ok = [da.isfinite(im["B04"]) for im in images]
    clear = da.all(
        da.stack(
            [~m for m in masks] + [da.isfinite(im[b]) for im in images for b in urban_change.BANDS]
        ),
        axis=0,
    )
    vv = (
        []
        if before.vv_db is None
        else [_as_dask(v, chunks).astype(np.float32) for v in (before.vv_db, after.vv_db)]
    )
    bands = [*_masked(images[0], masks[0]), *_masked(images[1], masks[1])]
    n = len(urban_change.BANDS)
    valid = da.all(da.stack([da.isfinite(b) for b in bands]), axis=0)
    s1_any = (valid & da.isfinite(vv[1] - vv[0])).any() if vv else False
    counts = dask.compute(
        [(m & k).sum() for m, k in zip(masks, ok, strict=True)],
        [k.sum() for k in ok],
        clear.any(),
        valid.any(),
        s1_any,
    )
    shares = [float(c / max(int(t), 1)) for c, t in zip(counts[0], counts[1], strict=True)]
    if not counts[2]:
        raise InputError(
            _(
                "{name}, {name2}: no pixel is clear and valid on both dates (cloud or shadow: "
                "{before:.0f} % before, {after:.0f} % after)"
            ).format(
                name=before.name, name2=after.name, before=100 * shares[0], after=100 * shares[1]
            )
        )
    if not counts[3]:
        raise InputError(_("change_features: no pixel has data in every band of both dates"))
    pre = [da.where(valid, b, np.nan).astype(np.float32) for b in bands[:n]]
    post = [da.where(valid, b, np.nan).astype(np.float32) for b in bands[n:]]
    stats = _stats(
        [q - p for p, q in zip(pre, post, strict=True)],
        [
            da.map_blocks(partial(_index_diff, key=k), *pre, *post, dtype=np.float32)
            for k in ("ndvi", "ndbi", "mndwi", "bsi")
        ],
    )
    with_s1 = bool(counts[4])
    booster = model["booster"]
    dummy = [np.zeros((1, 1), np.float32)] * (2 * n + len(vv))
    if _features(*dummy, stats=stats, with_vv=bool(vv))[1] != booster.feature_name():
        raise InputError(_("growth_probability: feature names differ from the model's"))
    raw = da.map_overlap(
        partial(_raw_probability, stats=stats, with_vv=bool(vv), booster=booster),
        *bands,
        *vv,
        depth=FEATURE_DEPTH,
        boundary="reflect",
        dtype=np.float32,
    )
    smooth = int(model.get("smooth_px", 3))
    prob = (
        raw
        if smooth <= 1
        else da.map_overlap(
            partial(urban_change.smooth_probability, size=smooth),
            raw,
            depth=smooth // 2,
            boundary="reflect",
            dtype=np.float32,
        )
    )
    threshold, mmu = urban_change.decision_settings(model, with_s1, min_mapping_unit_px)
    ok_p = da.isfinite(prob)
    hit = ok_p & (prob >= threshold)
    if mmu > 1:
        hit = _components(hit, None, lambda seeded, size: size >= mmu)
    growth = da.where(ok_p, hit.astype(np.uint8), np.uint8(NODATA))
    return LazyGrowth(growth, prob, threshold, mmu, with_s1, (shares[0], shares[1]))
