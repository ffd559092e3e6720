"""Exact coverage of administrative units on a north-up grid: which units overlap (layers of
units rasterised together) and, per layer, the row spans of the pixels each unit covers
wholly and the covered share of the pixels its border crosses (border records), from one
scanline walk per unit over its signed-area edge deltas (:mod:`eo_drr.kernels.coverage_cpu`,
units in parallel; no GDAL rasterisation, no label raster). exactextract (Baston 2019)
computes the same coverage fractions, for every pixel of each unit's bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine

from eo_drr.kernels import coverage_cpu as K


def unit_layers(geoms: np.ndarray) -> list[np.ndarray]:
    """Groups of unit indices whose interiors do not overlap (greedy colouring of the overlap
    graph): each group is rasterised once. One group for a partition (one admin level)."""
    n = len(geoms)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a):
        inner = shapely.relate_pattern(geoms[a], geoms[b], "T********")  # interiors meet
        a, b = a[inner], b[inner]
    if not len(a):
        return [np.arange(n)]
    nbrs: dict[int, list[int]] = {}
    for i, j in zip(a.tolist(), b.tolist()):
        nbrs.setdefault(i, []).append(j)
        nbrs.setdefault(j, []).append(i)
    colour = np.full(n, -1, np.int64)
    for i in range(n):
        used = {int(colour[j]) for j in nbrs.get(i, ()) if colour[j] >= 0}
        c = 0
        while c in used:
            c += 1
        colour[i] = c
    return [np.flatnonzero(colour == c) for c in range(int(colour.max()) + 1)]


@dataclass(frozen=True)
class Coverage:
    """Exact coverage of non-overlapping units on a grid (:func:`unit_coverage`): spans of
    pixels wholly inside a unit and records of pixels partly inside, each grouped by raster
    row (row ``r``'s spans are ``span_row_off[r]:span_row_off[r + 1]``, units in order within
    a row; the same for records)."""

    shape: tuple[int, int]
    span_row_off: np.ndarray  #: (height + 1,) int64
    span_unit: np.ndarray  #: unit index, int64
    span_row: np.ndarray  #: raster row, int32
    span_c0: np.ndarray  #: first column, int32
    span_c1: np.ndarray  #: column after the last, int32
    rec_row_off: np.ndarray  #: (height + 1,) int64
    rec_unit: np.ndarray  #: unit index, int64
    rec_pix: np.ndarray  #: flat pixel index, int64
    rec_w: np.ndarray  #: covered share of the pixel, 0-1, float64

    def labels(self) -> np.ndarray:
        """Label raster: unit index + 1 on its whole pixels, 0 elsewhere (int32)."""
        out = np.zeros(self.shape, np.int32)
        n = (self.span_c1 - self.span_c0).astype(np.int64)
        if n.sum():
            start = self.span_row.astype(np.int64) * self.shape[1] + self.span_c0
            first = np.repeat(np.cumsum(n) - n, n)
            idx = np.repeat(start, n) + np.arange(int(n.sum())) - first
            out.reshape(-1)[idx] = np.repeat(self.span_unit + 1, n)
        return out

    def kernel_args(self) -> tuple:
        """``coverage`` of :class:`eo_drr.sendai.zonal.InteriorPass`."""
        return (
            self.span_row_off,
            self.span_unit,
            self.span_c0,
            self.span_c1,
            self.rec_row_off,
            self.rec_unit,
            self.rec_pix,
            self.rec_w,
        )


def unit_coverage(geoms: np.ndarray, tr: Affine, shape: tuple[int, int]) -> Coverage:
    """Exact coverage of non-overlapping polygons on a north-up grid: the pixels each covers
    wholly (spans) and in part (records with the covered share, 0-1); see :class:`Coverage`.
    Coverage-weighted sums of ``v`` are then ``sum over spans of v[row, c0:c1] + bincount(unit,
    weight * v[pixel])``. From one scanline walk over each unit's signed-area deltas
    (:func:`eo_drr.kernels.coverage_cpu.unit_coverage`, units in parallel): no GDAL
    rasterisation, no comparison sort, no label raster."""
    h, w = shape
    n = len(geoms)
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    rings, ridx = shapely.get_rings(parts, return_index=True)
    exterior = np.ones(len(rings), np.uint8)
    if len(rings) > 1:
        exterior[1:] = (ridx[1:] != ridx[:-1]).astype(np.uint8)  # a part's first ring
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    xs = (coords[:, 0] - tr.c) / tr.a  # pixel units: column, row
    ys = (coords[:, 1] - tr.f) / tr.e
    ring_start = np.searchsorted(cidx, np.arange(len(rings) + 1)).astype(np.int64)
    ring_unit = pidx[ridx]
    unit_ring_start = np.searchsorted(ring_unit, np.arange(n + 1)).astype(np.int64)
    vert_unit = ring_unit[cidx] if len(cidx) else np.zeros(0, np.int64)
    if len(xs) > 1:
        bound = np.where(cidx[:-1] == cidx[1:], K.delta_bound(xs, ys), 0)
        per_unit = np.bincount(vert_unit[:-1], weights=bound, minlength=n).astype(np.int64)
    else:
        per_unit = np.zeros(n, np.int64)
    # the rows each unit's deltas can fall on (its vertices' row span, clipped to the grid)
    row_lo = np.full(n, float(h))
    row_hi = np.zeros(n)
    np.minimum.at(row_lo, vert_unit, np.floor(ys))
    np.maximum.at(row_hi, vert_unit, np.ceil(ys))
    row_lo = np.clip(row_lo, 0, h).astype(np.int64)
    nrows = np.maximum(np.clip(row_hi, 0, h).astype(np.int64) - row_lo, 0)
    row_off = np.zeros(n + 1, np.int64)
    np.cumsum(nrows + 1, out=row_off[1:])
    unit_off = np.zeros(n + 1, np.int64)
    np.cumsum(per_unit, out=unit_off[1:])
    size = int(unit_off[-1])
    rows, cols, vals = (
        np.empty(size, np.int32),
        np.empty(size, np.int32),
        np.empty(size, np.float64),
    )
    scols, svals = np.empty(size, np.int32), np.empty(size, np.float64)
    counts = np.zeros(n, np.int64)
    K.ring_deltas(
        xs, ys, ring_start, exterior, unit_ring_start, unit_off, w, h, rows, cols, vals, counts
    )
    nslot = int(row_off[-1])
    row_cnt, span_cnt = np.zeros(nslot, np.int64), np.zeros(nslot, np.int64)
    args = (
        rows,
        cols,
        vals,
        unit_off,
        counts,
        w,
        row_lo,
        row_off,
        np.zeros(nslot, np.int64),
        row_cnt,
        scols,
        svals,
        span_cnt,
    )
    e64, e32 = np.empty(0, np.int64), np.empty(0, np.int32)
    K.unit_coverage(*args, e64, e32, e32, e32, e64, e64, np.empty(0), 0)
    rec_row_off = np.zeros(h + 1, np.int64)
    K.record_offsets(row_lo, row_off, row_cnt, rec_row_off, np.empty(h, np.int64))
    span_row_off = np.zeros(h + 1, np.int64)
    K.record_offsets(row_lo, row_off, span_cnt, span_row_off, np.empty(h, np.int64))
    m, k = int(rec_row_off[-1]), int(span_row_off[-1])
    cov = Coverage(
        shape,
        span_row_off,
        np.empty(k, np.int64),
        np.empty(k, np.int32),
        np.empty(k, np.int32),
        np.empty(k, np.int32),
        rec_row_off,
        np.empty(m, np.int64),
        np.empty(m, np.int64),
        np.empty(m, np.float64),
    )
    K.unit_coverage(
        *args,
        cov.span_unit,
        cov.span_row,
        cov.span_c0,
        cov.span_c1,
        cov.rec_unit,
        cov.rec_pix,
        cov.rec_w,
        1,
    )
    return cov
