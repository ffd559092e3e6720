"""The zonal engine: coverage-weighted sums per unit of the packed class codes, of the persons
placed on the hazard pixels and of arrays on another grid.

Zonal statistics are exact: each pixel counts by the share of it inside the unit (a pixel half
inside counts half). Two implementations give the same numbers (to floating-point rounding;
tested against each other):

* fast (:func:`fast_classes`, :func:`fast_sums`): one scanline walk per unit over its
  signed-area edge deltas (:func:`eo_drr.sendai.coverage.unit_coverage`, units in parallel)
  gives the row spans of the pixels each unit covers wholly (no label raster) and the exact
  coverage of the pixels its border crosses (border records, grouped by raster row); one
  fused, parallel numba pass over the hazard, land cover and built-up layers (each read once;
  :func:`eo_drr.kernels.zonal_cpu.interior_counts`) counts the packed class code of every
  pixel per unit (:mod:`eo_drr.sendai.footprint`), adds the border records coverage-weighted,
  checks the flood values, sums each population cell's pixel weight, flooded weight and
  label, and places the persons of cells cut by unit borders as soon as their cell row is
  complete. Units that overlap are handled in separate layers.
* exact (:func:`exact_classes`, :func:`exact_sums`): the reference, exactextract (Baston 2019)
  coverage fractions for every pixel of each unit, over the packed class codes and over the
  pixels labelled with their population cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.kernels import zonal_cpu as K
from eo_drr.kernels.zonal_cpu import BUILT, FLOODED
from eo_drr.sendai.coverage import unit_coverage, unit_layers
from eo_drr.sendai.footprint import Pixels, check_flood_values, code_raster
from eo_drr.sendai.population import Cells

# ---------------------------------------------------------------------------------------------
# exact: exactextract, the reference


def _source(arr: np.ndarray, tr: Affine, crs: CRS, name: str, nodata=None):
    from exactextract.raster import NumPyRasterSource

    h, w = arr.shape
    xmin, ymax = tr.c, tr.f
    xmax, ymin = xmin + w * tr.a, ymax + h * tr.e
    if tr.e > 0:  # south-up grid
        arr = arr[::-1]
        ymin, ymax = tr.f, tr.f + h * tr.e
    return NumPyRasterSource(
        np.ascontiguousarray(arr),
        xmin,
        ymin,
        xmax,
        ymax,
        name=name,
        srs_wkt=crs.to_wkt(),
        nodata=nodata,
    )


def _unique_counts(
    codes: np.ndarray, tr: Affine, crs: CRS, units: gpd.GeoDataFrame, nodata: int | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per unit (in order): the distinct codes and their covered pixel counts (partial pixels
    count by the share inside the unit)."""
    from exactextract import exact_extract

    src = _source(codes, tr, crs, "cls", nodata=nodata)
    df = exact_extract(
        src,
        units[["code", "geometry"]],
        ["unique", "frac", "count"],
        include_cols=["code"],
        output="pandas",
    )
    out = []
    for vals, frac, count in zip(df["unique"], df["frac"], df["count"]):
        vals = np.asarray(vals if vals is not None else [], dtype=np.int64)
        if not count or not len(vals):
            out.append((np.zeros(0, np.int64), np.zeros(0)))
            continue
        out.append((vals, np.asarray(frac, dtype=np.float64) * float(count)))
    return out


def exact_sums(
    arrays: Mapping[str, np.ndarray], tr: Affine, crs: CRS, units: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Coverage-weighted sums per unit of each array (NaN = nodata, ignored)."""
    from exactextract import exact_extract

    srcs = [_source(a, tr, crs, name) for name, a in arrays.items()]
    df = exact_extract(
        srcs, units[["code", "geometry"]], ["sum"], include_cols=["code"], output="pandas"
    )
    df = df.set_index("code")
    if len(srcs) == 1:
        df.columns = [f"{next(iter(arrays))}_sum"]
    return pd.DataFrame(
        {name: df[f"{name}_sum"].to_numpy(dtype=np.float64) for name in arrays}, index=df.index
    )


def _cell_class_ids(codes: np.ndarray, cells: Cells, flooded_only: bool) -> np.ndarray:
    """``cell * 2 + built`` of every pixel in a population cell (-1 elsewhere, or off the
    flood with ``flooded_only``); ``built`` is 0 unless the weights are dasymetric."""
    h, w = codes.shape
    ids = np.full((h, w), -1, np.int64)
    cols = cells.col[None, :]
    for r0 in range(0, h, 1024):  # in row blocks: no full-size temporaries
        c = codes[r0 : r0 + 1024]
        r = cells.row[r0 : r0 + 1024, None]
        ok = (r >= 0) & (cols >= 0)
        if flooded_only:
            ok = ok & ((c & FLOODED) != 0)
        blk = (r * cells.pw + cols) * 2
        if cells.bu_weight:
            blk = blk + ((c & BUILT) != 0)
        ids[r0 : r0 + 1024][ok] = blk[ok]
    return ids


def exact_classes(
    px: Pixels, cells: Cells, tr: Affine, crs: CRS, up: gpd.GeoDataFrame, want_pop: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fast_classes` by exactextract (the reference): covered pixels per class code,
    and persons placed on each unit's pixels / flooded pixels, from the distinct values of
    packed rasters and their covered pixel counts."""
    n = len(up)
    codes = code_raster(px)
    areas = np.zeros((n, 32))
    for i, (vals, cnt) in enumerate(_unique_counts(codes, tr, crs, up)):
        if len(vals):
            areas[i] = np.bincount(vals, weights=cnt, minlength=32)
    nbands = cells.persons.shape[1]
    pop = np.zeros((n, nbands))
    exp = np.zeros((n, nbands))
    if nbands:
        wt = np.array([cells.floor, 1.0]) if cells.bu_weight else np.ones(2)
        ids = _cell_class_ids(codes, cells, flooded_only=False).ravel()
        ids = ids[ids >= 0]
        wsum = np.bincount(ids // 2, weights=wt[ids % 2], minlength=len(cells.persons))
        del ids
        per = cells.per_weight(wsum)
        per_id = (per[:, None, :] * wt[None, :, None]).reshape(-1, nbands)  # id = cell*2+built
        for target, flooded_only in ((exp, True), (pop, False)):
            if not flooded_only and not want_pop:
                continue
            ids = _cell_class_ids(codes, cells, flooded_only)
            for i, (vals, cnt) in enumerate(_unique_counts(ids, tr, crs, up, nodata=-1)):
                if len(vals):
                    target[i] = cnt @ per_id[vals]
            del ids
    return areas, pop, exp


# ---------------------------------------------------------------------------------------------
# fast: unit spans, a fused numba pass, exact coverage on unit borders only


def fast_sums(
    arrays: Mapping[str, np.ndarray], tr: Affine, crs: CRS, units: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Coverage-weighted sums per unit of each array (NaN = nodata, ignored): the same numbers
    as :func:`exact_sums` (exactextract), from the units' spans (as a label raster: the
    population grid is small) plus the border records."""
    geoms = units.geometry.to_numpy()
    n = len(geoms)
    shape = next(iter(arrays.values())).shape
    if tr.e > 0 or tr.a < 0:
        raise InputError(
            _("population: only north-up grids are supported by the fast zonal statistics")
        )
    vals = {k: np.nan_to_num(np.asarray(v, np.float64), nan=0.0).ravel() for k, v in arrays.items()}
    out = {k: np.zeros(n) for k in arrays}
    for layer in unit_layers(geoms):
        g = geoms[layer]
        cov = unit_coverage(g, tr, shape)
        flat = cov.labels().ravel()
        unit, pix, w = cov.rec_unit, cov.rec_pix, cov.rec_w
        for k, v in vals.items():
            s = np.bincount(flat, weights=v, minlength=len(g) + 1)[1:]
            s += np.bincount(unit, weights=w * v[pix], minlength=len(g))
            out[k][layer] += s
    return pd.DataFrame(out, index=pd.Index(units["code"].to_numpy()))


@dataclass(frozen=True)
class InteriorOut:
    """The outputs and scratch of :func:`eo_drr.kernels.zonal_cpu.interior_counts` (see
    there), in its argument order."""

    hist: np.ndarray  #: int64 (n_blocks, n_units, 32)
    areas: np.ndarray  #: float64 (n_blocks, n_units, 32)
    pop: np.ndarray  #: float64 (n_blocks, n_units, n_bands)
    exp: np.ndarray  #: float64 (n_blocks, n_units, n_bands)
    cell_wsum: np.ndarray  #: float64 (n_cells,)
    cell_fsum: np.ndarray  #: float64 (n_cells,)
    cell_label: np.ndarray  #: int64 (n_cells,), -1
    bad: np.ndarray  #: int64 (n_blocks,)
    codes: np.ndarray  #: scratch, uint8 (n_blocks, hazard rows per cell row, width)
    lrows: np.ndarray  #: scratch, int32 (n_blocks, hazard rows per cell row, width)
    acc: np.ndarray  #: scratch, int32 (n_blocks, 5, width)

    @classmethod
    def zeros(
        cls, n_blocks: int, n_units: int, n_cells: int, n_bands: int, cell_rows: int, width: int
    ) -> InteriorOut:
        """Fresh accumulators (``cell_label`` -1, the others 0); ``cell_rows``: hazard rows
        per cell row (1 without a population grid)."""
        nb, m = n_blocks, n_units
        return cls(
            np.zeros((nb, m, K.N_CODES), np.int64),
            np.zeros((nb, m, K.N_CODES)),
            np.zeros((nb, m, n_bands)),
            np.zeros((nb, m, n_bands)),
            np.zeros(n_cells),
            np.zeros(n_cells),
            np.full(n_cells, -1, np.int64),
            np.zeros(nb, np.int64),
            np.zeros((nb, cell_rows, width), np.uint8),
            np.zeros((nb, cell_rows, width), np.int32),
            np.zeros((nb, 5, width), np.int32),
        )


@dataclass(frozen=True)
class InteriorPass:
    """The inputs of the fused pass (:func:`eo_drr.kernels.zonal_cpu.interior_counts`, 38
    positional arguments) by group; :meth:`run` builds its argument list, in one place.

    ``pixels``: ``(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata)``
    (:meth:`eo_drr.sendai.footprint.Pixels.kernel_args`); ``cells``: ``(cell_row, cell_col,
    pw, ox, fx, bu_weight, floor, persons)`` (:meth:`eo_drr.sendai.population.Cells.kernel_args`);
    ``coverage``: ``(span_row_off, span_unit, span_c0, span_c1, rec_row_off, rec_unit,
    rec_pix, rec_w)`` (:meth:`eo_drr.sendai.coverage.Coverage.kernel_args`); ``row_start``:
    the blocks' first rows (n_blocks + 1, :func:`row_blocks`).
    """

    pixels: tuple
    cells: tuple
    want_pop: bool
    coverage: tuple
    row_start: np.ndarray

    def __post_init__(self):
        for name, n in (("pixels", 9), ("cells", 8), ("coverage", 8)):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"InteriorPass.{name}: expected {n} values, got {len(getattr(self, name))}"
                )

    def run(self, out: InteriorOut) -> InteriorOut:
        """One fused pass into ``out`` (accumulated: pass fresh zeros); returns ``out``."""
        K.interior_counts(
            *self.pixels,
            *self.cells,
            self.want_pop,
            *self.coverage,
            self.row_start,
            *(getattr(out, f.name) for f in fields(out)),
        )
        return out


def row_blocks(h: int, cells: Cells) -> np.ndarray:
    """Row offsets of the parallel blocks; with a population grid on whole cell rows."""
    nb = K.blocks(h)
    if cells.pw == 0:
        return np.linspace(0, h, nb + 1).round().astype(np.int64)
    ph = int(cells.row.max()) + 1 if (cells.row >= 0).any() else 0
    k = np.linspace(0, ph, nb + 1).round().astype(np.int64)
    bounds = np.clip(cells.oy + k * cells.fy, 0, h)
    bounds[0], bounds[-1] = 0, h
    return np.maximum.accumulate(bounds)


def fast_classes(
    px: Pixels, cells: Cells, tr: Affine, geoms: np.ndarray, want_pop: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: covered pixels of every class code (n, 32), persons placed on its pixels and
    on its flooded pixels (n, bands each), coverage-weighted.

    Per layer of non-overlapping units: :func:`~eo_drr.sendai.coverage.unit_coverage` (spans +
    border records), then one fused pass (:func:`eo_drr.kernels.zonal_cpu.interior_counts`)
    that counts class codes over each unit's spans and adds the border records; population:
    it sums each cell's pixel weights (all, flooded) and notes the one unit label its pixels
    carry, places the persons of cells cut by unit borders (a few per cent) and of the border
    records pixel by pixel at the end of each cell row; a cell inside one unit gives that unit
    ``persons x flooded weight / weight`` (here, vectorised)."""
    n = len(geoms)
    nbands = cells.persons.shape[1]
    ncell = cells.persons.shape[0]
    areas = np.zeros((n, K.N_CODES))
    pop = np.zeros((n, nbands))
    exp = np.zeros((n, nbands))
    h, w = px.flood.shape
    rows = row_blocks(h, cells)
    nb = len(rows) - 1
    fy = cells.fy if cells.pw else 1
    for layer in unit_layers(geoms):
        g = geoms[layer]
        m = len(g)
        cov = unit_coverage(g, tr, px.flood.shape)
        o = InteriorPass(
            px.kernel_args(), cells.kernel_args(), bool(want_pop), cov.kernel_args(), rows
        ).run(InteriorOut.zeros(nb, m, ncell, nbands, fy, w))
        if o.bad.max() > 1:  # a value other than 0, 1, 2, nodata (same pass): name them
            check_flood_values(px.flood, px.nodata)
        del cov
        areas[layer] += o.hist.sum(axis=0) + o.areas.sum(axis=0)
        p = o.pop.sum(axis=0)
        e = o.exp.sum(axis=0)
        if nbands:  # cells inside one unit: its persons x (flooded) weight / weight
            per = cells.per_weight(o.cell_wsum)
            pure = o.cell_label > 0
            wsum, fsum, clab = o.cell_wsum, o.cell_fsum, o.cell_label
            for b in range(nbands):
                e[:, b] += np.bincount(
                    clab[pure] - 1, weights=per[pure, b] * fsum[pure], minlength=m
                )
                if want_pop:
                    p[:, b] += np.bincount(
                        clab[pure] - 1, weights=per[pure, b] * wsum[pure], minlength=m
                    )
        pop[layer] += p
        exp[layer] += e
    return areas, pop, exp
