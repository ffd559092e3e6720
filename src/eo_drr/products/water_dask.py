"""Open water from dask-backed Sentinel-1 rasters, chunk by chunk with bounded memory.

The same rule as :func:`eo_drr.products.water.s1_water`, pixel for pixel, composed from
steps that each read one chunk (plus a halo) at a time, as xarray-spatial does:

1. **Plausibility** of units and band order on a regular sample of the scene
   (:func:`eo_drr.load.s1_checks.check_backscatter`; at most :data:`SAMPLE_PX` pixels read);
2. **speckle filter** through ``map_overlap`` (depth = window // 2, NaN boundary:
   :mod:`eo_drr.indices.sar`), giving the filtered dB of the deciding channel, lazily;
3. **scene threshold** from histogram passes over the chunks (the split-based threshold's
   per-tile histograms, :func:`eo_drr.indices.threshold.split_based_threshold` on dask):
   the only values computed when :func:`s1_water_dask` is called. Each pass re-reads and
   re-filters the input; ``persist()`` the input first where it fits in memory;
4. **region growing** and the **minimum mapping unit** as 8-connected components across
   chunk borders: a labelling pass labels each chunk on its own (scipy) and keeps only its
   edge labels, seeded components and sizes; the edges glue the chunks' components into the
   scene's (a union of equivalences, as in two-pass block labelling); the result relabels
   each chunk lazily and looks up which of its components stay. ``dask_image``'s ``label``
   does the same job but builds a graph of ~3,000 tasks per chunk; this one has one task per
   chunk and pass.

The result is a lazy uint8 dask array with the codes of ``s1_water`` (1 water, 0 not,
255 no data); :func:`water_layers_dask` also gives the lazy likelihood (the table lookup
on ``f - t``, elementwise), provenance and filtered dB of the deciding channel, which the
lazy flood (:mod:`eo_drr.products.flood_dask`) composes. The per-scene quality flags need the finished map, so they are not computed
here: :func:`eo_drr.products.water.quality_flags` on the computed map gives them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import dask
import dask.array as da
import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.products.water import (
    GROWN,
    PRIOR_DECIDED,
    SEED,
    SceneThreshold,
    scene_threshold,
    speckle_db,
)
from eo_drr.products.water_settings import WaterParams, likelihood_bin, water_params

#: pixels read (on a regular grid) for the unit and band-order checks of a lazy scene
SAMPLE_PX = 1_000_000
#: 8-connectivity, as :func:`eo_drr.products.water.grow_regions`
EIGHT = np.ones((3, 3), dtype=bool)


def sample(a: da.Array) -> np.ndarray:
    """float32 values of ``a`` on a regular grid of at most :data:`SAMPLE_PX` pixels, for
    the unit and band-order checks (:func:`eo_drr.load.s1_checks.check_backscatter`)."""
    step = max(1, int(np.ceil(np.sqrt(a.size / SAMPLE_PX))))
    return np.asarray(a[::step, ::step].compute(), dtype=np.float32)


def _finite(a: da.Array) -> da.Array:
    """float32 with NaN for every NaN or +-inf pixel (inf is no data)."""
    a = a.astype(np.float32)
    return da.where(da.isfinite(a), a, np.float32(np.nan))


@dataclass(frozen=True)
class _Block:
    """What the labelling pass keeps of one chunk: its component count, the labels along
    its four edges, the components holding a seed pixel and the pixels per component."""

    n: int
    top: np.ndarray
    bottom: np.ndarray
    left: np.ndarray
    right: np.ndarray
    seeded: np.ndarray
    sizes: np.ndarray


def _label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=EIGHT)
    return labels, int(n)


def _summarise(mask: np.ndarray, seeds: np.ndarray | None) -> _Block:
    labels, n = _label(mask)
    seeded = np.unique(labels[seeds & mask]) if seeds is not None else np.empty(0, np.int64)
    return _Block(
        n,
        labels[0].copy(),
        labels[-1].copy(),
        labels[:, 0].copy(),
        labels[:, -1].copy(),
        seeded[seeded > 0],
        np.bincount(labels.ravel(), minlength=n + 1),
    )


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label pairs touching across a border: ``a[k]`` meets ``b[k-1]``, ``b[k]``,
    ``b[k+1]`` (8-connectivity); labels 0 (background) are no pair."""
    out_a, out_b = [], []
    for shift in (-1, 0, 1):
        x = a[max(0, -shift) : len(a) - max(0, shift)]
        y = b[max(0, shift) : len(b) - max(0, -shift)]
        both = (x > 0) & (y > 0)
        out_a.append(x[both])
        out_b.append(y[both])
    return np.concatenate(out_a), np.concatenate(out_b)


def _component_tables(
    blocks: dict[tuple[int, int], _Block], rule: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> dict[tuple[int, int], np.ndarray]:
    """Per chunk, ``keep[local label]`` for the components that cross chunks: the edges
    glue local labels into scene components (``scipy.sparse.csgraph``), and ``rule(seeded
    per component, pixels per component)`` says which components stay."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    keys = sorted(blocks)
    offset, total = {}, 0
    for k in keys:
        offset[k] = total
        total += blocks[k].n
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []

    def glue(k1: tuple[int, int], a: np.ndarray, k2: tuple[int, int], b: np.ndarray) -> None:
        pa, pb = _pairs(a, b)
        src.append(pa - 1 + offset[k1])
        dst.append(pb - 1 + offset[k2])

    for i, j in keys:
        b = blocks[i, j]
        if (i, j + 1) in blocks:
            glue((i, j), b.right, (i, j + 1), blocks[i, j + 1].left)
        if (i + 1, j) in blocks:
            glue((i, j), b.bottom, (i + 1, j), blocks[i + 1, j].top)
        if (i + 1, j + 1) in blocks:
            glue((i, j), b.bottom[-1:], (i + 1, j + 1), blocks[i + 1, j + 1].top[:1])
        if (i + 1, j - 1) in blocks:
            glue((i, j), b.bottom[:1], (i + 1, j - 1), blocks[i + 1, j - 1].top[-1:])
    s, d = (np.concatenate(src), np.concatenate(dst)) if src else (np.empty(0, int),) * 2
    graph = coo_matrix((np.ones(s.size, np.int8), (s, d)), shape=(total, total))
    _n, comp = connected_components(graph, directed=False)
    seeded = np.zeros(total, dtype=bool)
    sizes = np.zeros(total, dtype=np.int64)
    for k in keys:
        seeded[blocks[k].seeded - 1 + offset[k]] = True
        sizes[offset[k] : offset[k] + blocks[k].n] = blocks[k].sizes[1:]
    ncomp = int(comp.max()) + 1 if total else 0
    keep = rule(
        np.bincount(comp, weights=seeded, minlength=ncomp) > 0,
        np.bincount(comp, weights=sizes, minlength=ncomp).astype(np.int64),
    )[comp]
    return {k: np.concatenate([[False], keep[offset[k] : offset[k] + blocks[k].n]]) for k in keys}


def _components(
    mask: da.Array,
    seeds: da.Array | None,
    rule: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> da.Array:
    """``mask`` reduced to the 8-connected components (across chunks) that ``rule`` keeps.

    One labelling pass over the chunks runs now (each chunk labelled on its own, only its
    edges, seeded components and sizes kept); the result relabels each chunk lazily and
    looks its components up, so memory stays bounded by the chunks."""
    masks = mask.to_delayed()
    seeds_d = seeds.to_delayed() if seeds is not None else None
    index = list(np.ndindex(masks.shape))
    parts = [
        dask.delayed(_summarise)(masks[k], None if seeds_d is None else seeds_d[k]) for k in index
    ]
    blocks = {k: v for k, v in zip(index, dask.compute(*parts), strict=True)}
    tables = _component_tables(blocks, rule)

    def lookup(m: np.ndarray, block_id: tuple[int, int] | None = None) -> np.ndarray:
        assert block_id is not None
        return tables[block_id][_label(m)[0]]

    return da.map_blocks(lookup, mask, dtype=bool)


def _likelihood(f_db: np.ndarray, threshold_db: float, table: np.ndarray) -> np.ndarray:
    """The likelihood table (uint8 0-100) read at ``f_db - threshold_db`` (dB), as
    :func:`eo_drr.products.water.classify` reads it (no data not yet marked)."""
    with np.errstate(invalid="ignore"):
        return table[likelihood_bin(f_db - threshold_db)]


def classify_dask(
    f_db: da.Array, t: SceneThreshold, params: WaterParams
) -> tuple[da.Array, da.Array, da.Array]:
    """``(water, likelihood, provenance)`` of a lazily filtered scene (dB), as
    :func:`eo_drr.products.water.s1_water` gives them: uint8 water (1), not (0), no data
    (255); likelihood 0-100 (255 no data); provenance bits. Runs one labelling pass for
    region growing and one for the minimum mapping unit now."""
    valid = da.isfinite(f_db)
    seeds = f_db < t.threshold_db
    grown = seeds
    if params.grow_db > 0:
        candidates = seeds | (f_db < t.threshold_db + params.grow_db)
        grown = _components(candidates, seeds, lambda seeded, size: seeded)
    water = grown & valid
    if params.min_mapping_unit_px > 1:
        mmu = params.min_mapping_unit_px
        water = _components(water, None, lambda seeded, size: size >= mmu)
    table = np.round(100.0 * np.asarray(params.likelihood_table)).astype(np.uint8)
    lookup = partial(_likelihood, threshold_db=t.threshold_db, table=table)
    likelihood = da.map_blocks(lookup, f_db, dtype=np.uint8)
    prov = da.where(seeds, np.uint8(SEED), np.uint8(0)) | da.where(
        grown & ~seeds, np.uint8(GROWN), np.uint8(0)
    )
    if t.threshold_db == t.prior_db:
        prov = prov | da.where(grown, np.uint8(PRIOR_DECIDED), np.uint8(0))
    return (
        da.where(valid, water.astype(np.uint8), np.uint8(255)),
        da.where(valid, likelihood, np.uint8(255)),
        da.where(valid, prov, np.uint8(0)),
    )


@dataclass(frozen=True)
class LazyWater:
    """The layers of :class:`eo_drr.products.water.WaterResult`, lazy: ``water`` (uint8 1/0/255),
    ``likelihood`` (uint8 0-100, 255 no data), ``provenance`` (uint8 bits), ``decided_db`` (the
    filtered backscatter of the deciding channel, float32 dB, NaN no data); ``threshold`` (dB)
    and the input ``notes`` are computed."""

    water: da.Array
    likelihood: da.Array
    provenance: da.Array
    decided_db: da.Array
    threshold: SceneThreshold
    notes: list[str]


def s1_water_dask(
    vv: da.Array,
    vh: da.Array | None = None,
    *,
    units: str = "db",
    params: WaterParams | None = None,
    **overrides: Any,
) -> tuple[da.Array, SceneThreshold, list[str]]:
    """``(water, threshold, input notes)`` of :func:`water_layers_dask`."""
    r = water_layers_dask(vv, vh, units=units, params=params, **overrides)
    return r.water, r.threshold, r.notes


def water_layers_dask(
    vv: da.Array,
    vh: da.Array | None = None,
    *,
    units: str = "db",
    params: WaterParams | None = None,
    **overrides: Any,
) -> LazyWater:
    """The lazy layers of one Sentinel-1 acquisition given as 2-D dask arrays (VV and
    optionally VH on one grid and chunking, in ``units`` "db" or "linear" power), pixel for
    pixel those of :func:`eo_drr.products.water.s1_water`; the threshold (dB) is computed now
    from histogram passes over the chunks."""
    from eo_drr.load.s1_checks import check_backscatter

    if units not in ("db", "linear"):
        raise InputError(_("units: use 'db' or 'linear'"))
    if vv.ndim != 2:
        raise InputError(_("vv: expected a 2-D raster, got shape {shape}").format(shape=vv.shape))
    if vh is not None and vh.shape != vv.shape:
        raise InputError(
            _("vh: shape {shape} differs from vv {shape2}").format(shape=vh.shape, shape2=vv.shape)
        )
    _vv_sample, vh_sample, notes = check_backscatter(
        sample(vv), None if vh is None else sample(vh), units=units
    )
    vv = _finite(vv)
    vh = None if vh is None or vh_sample is None else _finite(vh).rechunk(vv.chunks)
    p = water_params(params or _defaults("vh" if vh is not None else "vv"), **overrides)
    window = 7 if p.speckle == "refined_lee" else p.speckle_window
    if min(vv.shape) < window:
        raise InputError(
            _(
                "vv: a raster of {height} x {width} px is smaller than the {window} x {window} "
                "speckle window: too small to map"
            ).format(height=vv.shape[0], width=vv.shape[1], window=window)
        )
    fvv = cast(da.Array, speckle_db(cast(np.ndarray, vv), units=units, params=p))
    use_vh = p.polarisation == "vh" and vh is not None
    f = fvv
    if use_vh and vh is not None:
        fvh = speckle_db(cast(np.ndarray, vh), units=units, params=p)
        f = da.where(da.isfinite(fvv), fvh, np.float32(np.nan))
    t = scene_threshold(cast(np.ndarray, f), "vh" if use_vh else "vv", p)
    water, likelihood, prov = classify_dask(f, t, p)
    return LazyWater(water, likelihood, prov, f, t, notes)


def _defaults(channel: str) -> WaterParams:
    from eo_drr.products.water_settings import DEFAULTS

    return DEFAULTS[channel]
