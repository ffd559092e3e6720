"""Sendai-framework EO-proxy indicators per administrative unit and event.

Earth observation cannot count deaths, damage or losses; it can count what lies inside an
*observed* flood footprint. Every figure here is an **EO proxy** for a Sendai Framework
indicator, never a reported Sendai value:

======================  ============================================  =========
column                  proxy for                                     unit
======================  ============================================  =========
exposed_population      B-1 (directly affected people)                persons
exposed_population_*    B-1 disaggregated by sex / age band            persons
flooded_cropland_ha     C-2 (agricultural land affected)              ha
flooded_builtup_ha      C-4 (housing affected; built-up area)         ha
flooded_health          D-2 (health facilities affected)              count
flooded_education       D-3 (educational facilities affected)         count
flooded_road_km         D-4 (critical infrastructure: roads)          km
new_builtup_flooded_ha  exposure trend: settlement added since the    ha
                        earlier built-up epoch, inside the flood
observed_share          hazard coverage: share of the unit observed   0-1
nodata_share            not observed (cloud, radar shadow, outside)   0-1
======================  ============================================  =========

Zonal statistics are exact: each pixel counts by the share of it inside the unit (a pixel half
inside counts half). Two implementations give the same numbers (to floating-point rounding;
tested against each other):

* ``method="fast"`` (default): one scanline walk per unit over its signed-area edge deltas
  (:mod:`eo_drr.kernels.zonal_cpu`, units in parallel) gives the row spans of the pixels
  each unit covers wholly (no label raster) and the exact coverage of the pixels its border
  crosses (border records, grouped by raster row); one fused, parallel numba pass over the
  hazard, land cover and built-up layers (each read once) counts the packed class code of
  every pixel per unit (bit 0 observed, bit 1 flooded, bit 2 cropland, bit 3 built-up, bit 4 new built-up), adds
  the border records coverage-weighted, checks the flood values, sums each population cell's
  pixel weight, flooded weight and label, and places the persons of cells cut by unit
  borders as soon as their cell row is complete. Units that overlap are handled in separate
  layers.
* ``method="exact"``: the reference, exactextract (Baston 2019) coverage fractions for every
  pixel of each unit, over the packed class codes and over the pixels labelled with their
  population cell.

The population grid is **never resampled** and people are never moved between cells. When the
population grid is an aligned multiple of the hazard grid (GHS-POP 100 m over a 10 m flood,
same CRS), each cell's persons are shared among its hazard pixels inside the raster, evenly or
(``dasymetric``, the default when a built-up layer is known) in proportion to a weight of 1 on
built-up and :data:`DASYMETRIC_FLOOR` elsewhere (binary dasymetric mapping, Mennis 2003;
Stevens et al. 2015), so that town people are not counted as exposed because the flood covers
the empty, low part of their cell; exposed people are the persons on a unit's flooded pixels,
coverage-weighted. Any other population grid (another CRS or resolution) gets the hazard
aggregated onto it as the (weighted) flooded share of each cell, and exposed = persons x
flooded share, summed per unit with coverage weights on the population grid in its own CRS.
People are conserved: the units' population sums to the grid's total inside the units. When
the hazard raster is one tile of a job grid (``job_grid``), a cell cut by a tile border
contributes, in each tile, the share of its persons that lies there: on an aligned grid by
pixel count, out of its pixels in the job grid (then weighted within that part), with people
placed on the 10 m pixels; on any other grid by area, out of its area inside the job grid.
The tiles' tables then add up to the table of the whole job grid computed the same way:
exactly for evenly spread people on an aligned grid; with dasymetric weights each cell's
total is kept, its split between units near a tile border moves a little (< 1 % per unit on
the demo), because each tile knows the weights on its side only; on other grids the flooded
share of a cut cell is each tile's own (GDAL's average over its part).
Unobserved pixels count as not flooded, so every count is a lower bound; ``observed_share``
says how much of the unit the hazard layer actually saw.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from dataclasses import dataclass

import geopandas as gpd
import numba
import numpy as np
import odc.geo.xr  # noqa: F401  (registers the .odc accessor)
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import shapely
import xarray as xr
from affine import Affine
from pyproj import CRS

from eo_drr.errors import InputError

log = logging.getLogger(__name__)

#: ESA WorldCover class codes (v200): cropland and built-up.
WORLDCOVER_CROPLAND = 40
WORLDCOVER_BUILTUP = 50
#: Facility ``type`` values -> the output columns (D-2 health, D-3 education).
FACILITY_TYPES: dict[str, str] = {"health": "health", "education": "education"}

# bits of the packed per-pixel class code (the kernels use the same: eo_drr.kernels.zonal_cpu)
_OBSERVED, _FLOODED, _CROP, _BUILT, _NEW_BUILT = 1, 2, 4, 8, 16

#: Dasymetric weight of a pixel that is not built-up, relative to a built-up pixel (weight 1).
#: Binary dasymetric mapping (Mennis 2003, Prof. Geogr. 55(1):31-42, doi:10.1111/0033-0124.10042;
#: Eicher and Brewer 2001, Cartogr. Geogr. Inf. Sci. 28(2):125-138) shares a census count over
#: its inhabited and uninhabited parts by a density ratio; WorldPop's random-forest weights
#: (Stevens et al. 2015, PLoS ONE 10(2):e0107042, doi:10.1371/journal.pone.0107042) put most
#: people on built-up land too. 0.02 (rural land 1/50 as dense as built-up) is our assumption,
#: not a value from those papers: with 10 000 persons/km2 in towns it leaves 200 persons/km2
#: on open land, above the usual rural densities, so sparse rural people are not wiped out.
DASYMETRIC_FLOOR = 0.02

#: Output columns in order (population band columns follow ``exposed_population``).
BASE_COLUMNS = (
    "name", "area_ha", "observed_ha", "observed_share", "nodata_share", "flooded_ha",
)


# ---------------------------------------------------------------------------------------------
# inputs


def check_units(units: gpd.GeoDataFrame, *, what: str = "admin units") -> gpd.GeoDataFrame:
    """Validate administrative units for zonal statistics; return a clean copy.

    Needs columns ``code`` and ``name`` (as :func:`eo_drr.sendai.units.read_units` gives) and a
    CRS. Units without a code and duplicate codes raise :class:`InputError` naming them.
    Invalid geometries are repaired (``make_valid``, polygonal parts kept) and counted in
    ``attrs["repaired_geometries"]``, never dropped; a unit that is empty after repair is an
    error.
    """
    if not isinstance(units, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(units).__name__}")
    if units.crs is None:
        raise InputError(f"{what}: the units have no CRS")
    for col in ("code", "name"):
        if col not in units.columns:
            raise InputError(f"{what}: no {col!r} column (columns: {', '.join(map(str, units.columns))})")
    if units.empty:
        raise InputError(f"{what}: no units")
    codes = units["code"]
    blank = codes.isna() | (codes.astype(str).str.strip() == "")
    if blank.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(blank.to_numpy())[:10])
        raise InputError(f"{what}: {int(blank.sum())} unit(s) without a code (rows {rows})")
    codes = codes.astype(str)
    dup = codes[codes.duplicated()].unique()
    if len(dup):
        raise InputError(f"{what}: duplicate codes: {', '.join(dup[:10])}")
    out = units.copy()
    out["code"] = codes.to_numpy()
    out["name"] = out["name"].fillna("").astype(str)
    geoms = out.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
        log.warning("%s: repaired %d invalid geometr%s (%s)", what, int(invalid.sum()),
                    "y" if invalid.sum() == 1 else "ies", ", ".join(out["code"][invalid][:10]))
    empty = out.geometry.is_empty | out.geometry.isna()
    if empty.any():
        raise InputError(f"{what}: unit(s) with an empty geometry: {', '.join(out['code'][empty][:10])}")
    out.attrs["repaired_geometries"] = int(invalid.sum()) + int(units.attrs.get("repaired_geometries", 0))
    return out


def _polygonal(geom):
    """The polygonal part of a repaired geometry (make_valid may add stray lines/points)."""
    if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _georef(da: xr.DataArray, what: str) -> tuple[CRS, Affine, tuple[int, int]]:
    crs = da.rio.crs
    if crs is None:
        raise InputError(f"{what}: the raster has no CRS")
    tr = da.rio.transform(recalc=True)
    if tr.b != 0 or tr.d != 0:
        raise InputError(f"{what}: rotated grids are not supported")
    return CRS.from_user_input(crs), tr, (da.sizes[da.rio.y_dim], da.sizes[da.rio.x_dim])


def _numpy(da: xr.DataArray) -> np.ndarray:
    return np.asarray(da.data.compute() if hasattr(da.data, "compute") else da.data)


def _on_grid(da: xr.DataArray, like: xr.DataArray, what: str) -> np.ndarray:
    """``da`` as a numpy array on ``like``'s grid: as is when the grids match, else reprojected
    by nearest neighbour (classes cannot be averaged; use only for categorical layers)."""
    crs, tr, shape = _georef(da, what)
    lcrs, ltr, lshape = _georef(like, "flood")
    if crs == lcrs and shape == lshape and tr.almost_equals(ltr, precision=1e-6 * abs(ltr.a)):
        return _numpy(da)
    from odc.geo.xr import xr_reproject

    nod = da.rio.nodata if da.rio.nodata is not None else da.rio.encoded_nodata
    src = da.copy()
    src.attrs, src.encoding = {}, {}
    src = src.rio.write_crs(crs)
    out = xr_reproject(src.odc.assign_crs(crs), like.odc.geobox, resampling="nearest",
                       dst_nodata=0 if nod is None else nod)
    log.info("%s: reprojected to the hazard grid (nearest, categorical)", what)
    return _numpy(out)


def _population_bands(population: xr.DataArray | xr.Dataset) -> tuple[dict[str, np.ndarray], xr.DataArray]:
    """``{band: float64 persons per cell, NaN nodata}`` and one band as the grid template."""
    if isinstance(population, xr.Dataset):
        arrays = {str(k): population[k] for k in population.data_vars}
    elif population.ndim == 3:
        dim = population.dims[0]
        arrays = {str(v): population.sel({dim: v}, drop=True) for v in population[dim].values}
    elif population.ndim == 2:
        arrays = {"total": population}
    else:
        raise InputError(f"population: expected a 2-D grid or bands, got dims {population.dims}")
    if "total" not in arrays:
        if len(arrays) == 1:
            arrays = {"total": next(iter(arrays.values()))}
        else:
            raise InputError(f"population: no 'total' band among {', '.join(arrays)}")
    template = arrays["total"]
    if template.rio.crs is None and getattr(population, "rio", None) is not None and population.rio.crs is not None:
        template = template.rio.write_crs(population.rio.crs)
    out = {}
    for name, da in arrays.items():
        v = _numpy(da).astype(np.float64)
        nod = da.rio.nodata if da.rio.nodata is not None else da.rio.encoded_nodata
        if nod is not None and not np.isnan(nod):
            v = np.where(v == nod, np.nan, v)
        if (v < 0).any():
            raise InputError(f"population: band {name!r} has negative persons (undeclared nodata?)")
        out[name] = v
    return out, template


# ---------------------------------------------------------------------------------------------
# zonal statistics


def _source(arr: np.ndarray, tr: Affine, crs: CRS, name: str, nodata=None):
    from exactextract.raster import NumPyRasterSource

    h, w = arr.shape
    xmin, ymax = tr.c, tr.f
    xmax, ymin = xmin + w * tr.a, ymax + h * tr.e
    if tr.e > 0:  # south-up grid
        arr = arr[::-1]
        ymin, ymax = tr.f, tr.f + h * tr.e
    return NumPyRasterSource(np.ascontiguousarray(arr), xmin, ymin, xmax, ymax, name=name,
                             srs_wkt=crs.to_wkt(), nodata=nodata)


def _unique_counts(codes: np.ndarray, tr: Affine, crs: CRS, units: gpd.GeoDataFrame,
                   nodata: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per unit (in order): the distinct codes and their covered pixel counts (partial pixels
    count by the share inside the unit)."""
    from exactextract import exact_extract

    src = _source(codes, tr, crs, "cls", nodata=nodata)
    df = exact_extract(src, units[["code", "geometry"]], ["unique", "frac", "count"],
                       include_cols=["code"], output="pandas")
    out = []
    for vals, frac, count in zip(df["unique"], df["frac"], df["count"]):
        vals = np.asarray(vals if vals is not None else [], dtype=np.int64)
        if not count or not len(vals):
            out.append((np.zeros(0, np.int64), np.zeros(0)))
            continue
        out.append((vals, np.asarray(frac, dtype=np.float64) * float(count)))
    return out


def _sums(arrays: Mapping[str, np.ndarray], tr: Affine, crs: CRS, units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Coverage-weighted sums per unit of each array (NaN = nodata, ignored)."""
    from exactextract import exact_extract

    srcs = [_source(a, tr, crs, name) for name, a in arrays.items()]
    df = exact_extract(srcs, units[["code", "geometry"]], ["sum"], include_cols=["code"], output="pandas")
    df = df.set_index("code")
    if len(srcs) == 1:
        df.columns = [f"{next(iter(arrays))}_sum"]
    return pd.DataFrame({name: df[f"{name}_sum"].to_numpy(dtype=np.float64) for name in arrays}, index=df.index)


def flooded_share_on_grid(
    flood: np.ndarray, flood_tr: Affine, flood_crs: CRS, template: xr.DataArray, *, nodata: int = 255,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """Flooded share (0-1, float64) of every cell of ``template``'s grid (the population grid).

    The share is the mean of the 1/0 flood pixels inside the cell (weighted by ``weight``, a
    per-pixel dasymetric weight on the hazard grid, when given: sum of weight x flooded / sum
    of weight), with unobserved pixels counted as not flooded; cells beyond the hazard raster
    get 0, and a cell cut by the raster's edge gets the share of its part inside the raster.
    When the cell grid is an aligned integer multiple of the hazard grid in the same CRS
    (GHS-POP 100 m over a 10 m flood) the mean is computed exactly by block sums; otherwise
    GDAL's area-weighted ``average`` resampling is used, of the flooded weight and of the
    weight separately, over a hazard padded with a zero-weight margin (the hazard, never the
    population, is resampled).
    """
    pcrs, ptr, pshape = _georef(template, "population")
    fl = (flood == 1).astype(np.float32)
    wt = None if weight is None else np.asarray(weight, np.float32)
    if pcrs == flood_crs and ptr.b == 0 and ptr.d == 0:
        fx, fy = ptr.a / flood_tr.a, ptr.e / flood_tr.e
        ox, oy = (ptr.c - flood_tr.c) / flood_tr.a, (ptr.f - flood_tr.f) / flood_tr.e
        ints = [fx, fy, ox, oy]
        if all(abs(v - round(v)) < 1e-6 for v in ints) and round(fx) >= 1 and round(fy) >= 1:
            return _block_share(fl, int(round(fx)), int(round(fy)), int(round(ox)), int(round(oy)), pshape, wt)
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import xr_reproject, xr_coords

    # pad the hazard with a zero-weight margin wider than a cell: GDAL's average then sees
    # whole cells, and a cell cut by the raster's edge gets the flooded share of its part
    # inside the raster (numerator and denominator both averaged over the whole cell)
    from pyproj import Transformer

    tb = template.odc.geobox.boundingbox
    fx0, fy0, fx1, fy1 = Transformer.from_crs(pcrs, flood_crs, always_xy=True).transform_bounds(*tb, densify_pts=21)
    cell = max((fx1 - fx0) / max(pshape[1], 1), (fy1 - fy0) / max(pshape[0], 1))
    pad = int(np.ceil(cell / min(abs(flood_tr.a), abs(flood_tr.e)))) + 2
    h, w = fl.shape
    fbox = GeoBox((h + 2 * pad, w + 2 * pad), flood_tr * Affine.translation(-pad, -pad), flood_crs)

    def avg(a: np.ndarray) -> np.ndarray:
        padded = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
        padded[pad:pad + h, pad:pad + w] = a
        src = xr.DataArray(padded, coords=xr_coords(fbox), dims=("y", "x")).odc.assign_crs(flood_crs)
        out = xr_reproject(src, template.odc.geobox, resampling="average", dst_nodata=np.nan)
        return np.nan_to_num(_numpy(out).astype(np.float64), nan=0.0)

    w8 = np.ones(fl.shape, np.float32) if wt is None else wt
    num, den = avg(fl * w8), avg(w8)
    return np.clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0), 0.0, 1.0)


def _block_share(fl: np.ndarray, fx: int, fy: int, ox: int, oy: int, pshape,
                 weight: np.ndarray | None = None) -> np.ndarray:
    """(Weighted) mean of the flood pixels inside each (fy x fx) cell, over the pixels the
    raster has."""
    ph, pw = pshape
    # the window of flood pixels covered by the population grid, padded to whole cells
    y0, x0 = oy, ox
    h, w = ph * fy, pw * fx
    val = np.zeros((h, w), np.float32)
    cnt = np.zeros((h, w), np.float32)
    sy0, sx0 = max(0, y0), max(0, x0)
    sy1, sx1 = min(fl.shape[0], y0 + h), min(fl.shape[1], x0 + w)
    if sy1 > sy0 and sx1 > sx0:
        wt = 1.0 if weight is None else weight[sy0:sy1, sx0:sx1]
        val[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = fl[sy0:sy1, sx0:sx1] * wt
        cnt[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = wt
    s = val.reshape(ph, fy, pw, fx).sum(axis=(1, 3), dtype=np.float64)
    n = cnt.reshape(ph, fy, pw, fx).sum(axis=(1, 3), dtype=np.float64)
    return np.divide(s, n, out=np.zeros_like(s), where=n > 0)


def _aligned_cells(flood_tr: Affine, flood_crs: CRS, fshape, template: xr.DataArray):
    """``(factor_x, factor_y, offset_x, offset_y)`` when the population grid is an aligned
    integer multiple of the hazard grid in the same CRS (cells of whole hazard pixels), else
    None. Offsets are the hazard pixel of the population grid's corner (may be negative)."""
    pcrs, ptr, pshape = _georef(template, "population")
    if pcrs != flood_crs:
        return None
    vals = [ptr.a / flood_tr.a, ptr.e / flood_tr.e,
            (ptr.c - flood_tr.c) / flood_tr.a, (ptr.f - flood_tr.f) / flood_tr.e]
    if not all(abs(v - round(v)) < 1e-6 for v in vals) or round(vals[0]) < 1 or round(vals[1]) < 1:
        return None
    fx, fy, ox, oy = (int(round(v)) for v in vals)
    if pshape[0] * pshape[1] >= 2**31 - 1:
        return None
    return fx, fy, ox, oy


# ---------------------------------------------------------------------------------------------
# fast exact zonal statistics: unit labels for interior pixels, exact coverage on borders


def _blocks(h: int) -> int:
    """Row blocks (private accumulators) of the parallel passes."""
    return max(1, min(h, numba.get_num_threads() * 2))


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


@dataclass
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


def unit_coverage(geoms: np.ndarray, tr: Affine, shape: tuple[int, int]) -> Coverage:
    """Exact coverage of non-overlapping polygons on a north-up grid: the pixels each covers
    wholly (spans) and in part (records with the covered share, 0-1); see :class:`Coverage`.
    Coverage-weighted sums of ``v`` are then ``sum over spans of v[row, c0:c1] + bincount(unit,
    weight * v[pixel])``. From one scanline walk over each unit's signed-area deltas
    (:func:`eo_drr.kernels.zonal_cpu.unit_coverage`, units in parallel): no GDAL
    rasterisation, no comparison sort, no label raster."""
    from eo_drr.kernels import zonal_cpu as K

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
    rows, cols, vals = np.empty(size, np.int32), np.empty(size, np.int32), np.empty(size, np.float64)
    scols, svals = np.empty(size, np.int32), np.empty(size, np.float64)
    counts = np.zeros(n, np.int64)
    K.ring_deltas(xs, ys, ring_start, exterior, unit_ring_start, unit_off, w, h, rows, cols, vals, counts)
    nslot = int(row_off[-1])
    row_cnt, span_cnt = np.zeros(nslot, np.int64), np.zeros(nslot, np.int64)
    args = (rows, cols, vals, unit_off, counts, w, row_lo, row_off, np.zeros(nslot, np.int64), row_cnt,
            scols, svals, span_cnt)
    e64, e32 = np.empty(0, np.int64), np.empty(0, np.int32)
    K.unit_coverage(*args, e64, e32, e32, e32, e64, e64, np.empty(0), 0)
    rec_row_off = np.zeros(h + 1, np.int64)
    K.record_offsets(row_lo, row_off, row_cnt, rec_row_off, np.empty(h, np.int64))
    span_row_off = np.zeros(h + 1, np.int64)
    K.record_offsets(row_lo, row_off, span_cnt, span_row_off, np.empty(h, np.int64))
    m, k = int(rec_row_off[-1]), int(span_row_off[-1])
    cov = Coverage(shape, span_row_off, np.empty(k, np.int64), np.empty(k, np.int32), np.empty(k, np.int32),
                   np.empty(k, np.int32), rec_row_off, np.empty(m, np.int64), np.empty(m, np.int64),
                   np.empty(m, np.float64))
    K.unit_coverage(*args, cov.span_unit, cov.span_row, cov.span_c0, cov.span_c1, cov.rec_unit, cov.rec_pix,
                    cov.rec_w, 1)
    return cov


def _fast_sums(arrays: Mapping[str, np.ndarray], tr: Affine, crs: CRS, units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Coverage-weighted sums per unit of each array (NaN = nodata, ignored): the same numbers
    as :func:`_sums` (exactextract), from the units' spans (as a label raster: the population
    grid is small) plus the border records."""
    geoms = units.geometry.to_numpy()
    n = len(geoms)
    shape = next(iter(arrays.values())).shape
    if tr.e > 0 or tr.a < 0:
        raise InputError("population: only north-up grids are supported by the fast zonal statistics")
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


@dataclass
class _Pixels:
    """The 10 m layers as the kernels take them (see :func:`eo_drr.kernels.zonal_cpu._span_codes`)."""

    flood: np.ndarray
    lc: np.ndarray
    lut: np.ndarray
    bu: np.ndarray
    bb: np.ndarray
    has_lc: bool
    has_bu: bool
    has_bb: bool
    nodata: int
    built_known: bool  #: built-up from ``bu`` or from the land-cover LUT

    def args(self) -> tuple:
        return (self.flood, self.lc, self.lut, self.bu, self.bb, self.has_lc, self.has_bu,
                self.has_bb, self.nodata)


@dataclass
class _Cells:
    """Population cells aligned on the hazard grid (each cell = fy x fx hazard pixels)."""

    row: np.ndarray  #: cell row of every hazard row (-1 outside), int64
    col: np.ndarray  #: cell column of every hazard column (-1 outside), int64
    persons: np.ndarray  #: (cells, bands) persons per cell, NaN as 0
    pw: int  #: cells per row (0: no population grid)
    fx: int
    fy: int
    ox: int  #: hazard column of the cell grid's corner
    oy: int
    bu_weight: int  #: 1: dasymetric (built-up 1, others ``floor``); 0: every pixel 1
    floor: float

    def per_weight(self, wsum: np.ndarray) -> np.ndarray:
        """Persons per unit of pixel weight, (cells, bands): a cell's persons (in a tile of a
        job, the tile's share, see :func:`_cells`) are shared among its pixels inside the
        hazard raster in proportion to their weight (people conserved; a cell with no pixel
        inside the raster places nobody)."""
        return np.divide(self.persons, wsum[:, None], out=np.zeros_like(self.persons),
                         where=wsum[:, None] > 0)


def _cell_index(n: int, off: int, f: int, m: int) -> np.ndarray:
    idx = (np.arange(n, dtype=np.int64) - off) // f
    return np.where((idx >= 0) & (idx < m), idx, -1)


def _cells(px: _Pixels, bands: dict[str, np.ndarray], aligned, dasym: bool, floor: float,
           job_window: tuple[int, int, int, int] | None = None) -> _Cells:
    fx, fy, ox, oy = aligned
    ph, pw = bands["total"].shape
    h, w = px.flood.shape
    per = np.column_stack([np.nan_to_num(v, nan=0.0).ravel() for v in bands.values()])
    row, col = _cell_index(h, oy, fy, ph), _cell_index(w, ox, fx, pw)
    if job_window is not None:
        # this raster is one tile of a job's grid: a cell cut by a tile border keeps the
        # share of its persons (by pixel count) on its pixels in this tile, out of its pixels
        # in the whole job grid, so adjacent tiles add up to the untiled job's totals instead
        # of each placing the whole cell on its own side of the border
        r0, c0, jh, jw = job_window
        tile_px = np.outer(np.bincount(row[row >= 0], minlength=ph), np.bincount(col[col >= 0], minlength=pw))
        jrow, jcol = _cell_index(jh, oy - r0, fy, ph), _cell_index(jw, ox - c0, fx, pw)
        job_px = np.outer(np.bincount(jrow[jrow >= 0], minlength=ph), np.bincount(jcol[jcol >= 0], minlength=pw))
        per *= np.divide(tile_px, job_px, out=np.zeros(tile_px.shape), where=job_px > 0).ravel()[:, None]
    return _Cells(row, col, np.ascontiguousarray(per), pw, fx, fy, ox, oy, int(dasym), float(floor))


def _job_window(job_grid, ftr: Affine, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(row, col, height, width)``: where the job grid starts, in the tile's pixel
    coordinates (<= 0), and its size. The tile must lie on the job grid."""
    jtr = job_grid.transform
    jh, jw = (int(v) for v in job_grid.shape)
    if not (np.isclose(jtr.a, ftr.a) and np.isclose(jtr.e, ftr.e)):
        raise InputError("job_grid: its pixel size differs from the flood raster's")
    c = (jtr.c - ftr.c) / ftr.a
    r = (jtr.f - ftr.f) / ftr.e
    if abs(c - round(c)) > 1e-6 or abs(r - round(r)) > 1e-6:
        raise InputError("job_grid: the flood raster is not aligned with the job grid")
    r0, c0 = int(round(r)), int(round(c))
    if r0 > 0 or c0 > 0 or r0 + jh < shape[0] or c0 + jw < shape[1]:
        raise InputError("job_grid: the flood raster is not inside the job grid")
    return r0, c0, jh, jw


def _tile_area_share(template: xr.DataArray, ftr: Affine, fcrs: CRS, fshape: tuple[int, int],
                     job_grid) -> np.ndarray:
    """Per population cell (its grid, float64): area of the cell inside the tile raster's
    extent / area inside the job grid's extent, both extents taken into the population CRS
    (densified); 0 where the cell does not reach the job grid."""
    import shapely
    from pyproj import Transformer
    from shapely.geometry import box
    from shapely.ops import transform as reproject

    pcrs, ptr, (ph, pw) = _georef(template, "population")
    h, w = fshape
    tile_box = box(ftr.c, ftr.f + ftr.e * h, ftr.c + ftr.a * w, ftr.f)
    jtr = job_grid.transform
    jh, jw = (int(v) for v in job_grid.shape)
    job_box = box(jtr.c, jtr.f + jtr.e * jh, jtr.c + jtr.a * jw, jtr.f)
    if pcrs != fcrs:
        to_pop = Transformer.from_crs(fcrs, pcrs, always_xy=True).transform
        tile_box = reproject(to_pop, tile_box.segmentize(min(abs(ftr.a) * w, abs(ftr.e) * h) / 64))
        job_box = reproject(to_pop, job_box.segmentize(min(abs(jtr.a) * jw, abs(jtr.e) * jh) / 64))
    cols, rows = np.meshgrid(np.arange(pw), np.arange(ph))
    x0, y0 = ptr.c + ptr.a * cols, ptr.f + ptr.e * rows
    cells = shapely.box(np.minimum(x0, x0 + ptr.a), np.minimum(y0, y0 + ptr.e),
                        np.maximum(x0, x0 + ptr.a), np.maximum(y0, y0 + ptr.e))
    in_tile = shapely.area(shapely.intersection(cells, tile_box))
    in_job = shapely.area(shapely.intersection(cells, job_box))
    return np.divide(in_tile, in_job, out=np.zeros(in_tile.shape), where=in_job > 0)


def _no_cells(px: _Pixels) -> _Cells:
    h, w = px.flood.shape
    return _Cells(np.full(h, -1, np.int64), np.full(w, -1, np.int64), np.zeros((0, 0)), 0, 1, 1, 0, 0, 0, 1.0)


def _row_blocks(h: int, cells: _Cells) -> np.ndarray:
    """Row offsets of the parallel blocks; with a population grid on whole cell rows."""
    nb = _blocks(h)
    if cells.pw == 0:
        return np.linspace(0, h, nb + 1).round().astype(np.int64)
    ph = int(cells.row.max()) + 1 if (cells.row >= 0).any() else 0
    k = np.linspace(0, ph, nb + 1).round().astype(np.int64)
    bounds = np.clip(cells.oy + k * cells.fy, 0, h)
    bounds[0], bounds[-1] = 0, h
    return np.maximum.accumulate(bounds)


def _fast_classes(px: _Pixels, cells: _Cells, tr: Affine, geoms: np.ndarray, want_pop: bool
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: covered pixels of every class code (n, 32), persons placed on its pixels and
    on its flooded pixels (n, bands each), coverage-weighted.

    Per layer of non-overlapping units: :func:`unit_coverage` (spans + border records), then
    one fused pass (:func:`eo_drr.kernels.zonal_cpu.interior_counts`) that counts class codes
    over each unit's spans and adds the border records; population: it sums each cell's pixel weights (all,
    flooded) and notes the one unit label its pixels carry, places the persons of cells cut
    by unit borders (a few per cent) and of the border records pixel by pixel at the end of
    each cell row; a cell inside one unit gives that unit ``persons x flooded weight /
    weight`` (here, vectorised)."""
    from eo_drr.kernels import zonal_cpu as K

    n = len(geoms)
    nbands = cells.persons.shape[1]
    ncell = cells.persons.shape[0]
    areas = np.zeros((n, K.N_CODES))
    pop = np.zeros((n, nbands))
    exp = np.zeros((n, nbands))
    h, w = px.flood.shape
    rows = _row_blocks(h, cells)
    nb = len(rows) - 1
    fy = cells.fy if cells.pw else 1
    codes = np.zeros((nb, fy, w), np.uint8)
    lrows = np.zeros((nb, fy, w), np.int32)
    acc = np.zeros((nb, 5, w), np.int32)
    per_cell = cells.persons if nbands else np.zeros((1, 0))
    for li, layer in enumerate(unit_layers(geoms)):
        g = geoms[layer]
        m = len(g)
        cov = unit_coverage(g, tr, px.flood.shape)
        hist = np.zeros((nb, m, K.N_CODES), np.int64)
        ab = np.zeros((nb, m, K.N_CODES))
        pb = np.zeros((nb, m, nbands))
        eb = np.zeros((nb, m, nbands))
        wsum = np.zeros(ncell)
        fsum = np.zeros(ncell)
        clab = np.full(ncell, -1, np.int64)
        bad = np.zeros(nb, np.int64)
        if li:
            acc[:] = 0
        K.interior_counts(*px.args(), cells.row, cells.col, cells.pw, cells.ox, cells.fx, cells.bu_weight,
                          cells.floor, per_cell, bool(want_pop), cov.span_row_off, cov.span_unit, cov.span_c0,
                          cov.span_c1, cov.rec_row_off, cov.rec_unit, cov.rec_pix, cov.rec_w, rows, hist, ab,
                          pb, eb, wsum, fsum, clab, bad, codes, lrows, acc)
        if bad.max() > 1:  # the flood values, checked in the same pass: name the bad ones
            _check_flood_values(px.flood, px.nodata)
        del cov
        areas[layer] += hist.sum(axis=0) + ab.sum(axis=0)
        p = pb.sum(axis=0)
        e = eb.sum(axis=0)
        if nbands:  # cells inside one unit: its persons x (flooded) weight / weight
            per = cells.per_weight(wsum)
            pure = clab > 0
            for b in range(nbands):
                e[:, b] += np.bincount(clab[pure] - 1, weights=per[pure, b] * fsum[pure], minlength=m)
                if want_pop:
                    p[:, b] += np.bincount(clab[pure] - 1, weights=per[pure, b] * wsum[pure], minlength=m)
        pop[layer] += p
        exp[layer] += e
    return areas, pop, exp


# ---------------------------------------------------------------------------------------------
# vectors: facilities and roads


def _sample(flood: np.ndarray, tr: Affine, xs: np.ndarray, ys: np.ndarray, nodata: int) -> np.ndarray:
    """Flood class at map points (``nodata`` outside the raster)."""
    inv = ~tr
    cols, rows = inv * (np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
    cols, rows = np.floor(cols).astype(np.int64), np.floor(rows).astype(np.int64)
    inside = (rows >= 0) & (rows < flood.shape[0]) & (cols >= 0) & (cols < flood.shape[1])
    out = np.full(len(cols), nodata, dtype=flood.dtype)
    out[inside] = flood[rows[inside], cols[inside]]
    return out


def facility_counts(
    facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, flood: np.ndarray, tr: Affine,
    crs: CRS, *, type_field: str = "type", nodata: int = 255,
) -> tuple[pd.DataFrame, int]:
    """Facilities per unit and those inside the flood extent, by type (counts).

    Columns ``{t}_facilities`` (all) and ``flooded_{t}`` (on a flooded pixel) for each ``t`` of
    :data:`FACILITY_TYPES`. A point belongs to the unit that contains it (on a shared border: the
    first unit in order). Returns the table and the number of facilities outside every unit
    (logged, not counted).
    """
    if type_field not in facilities.columns:
        raise InputError(f"facilities: no {type_field!r} column (columns: {', '.join(map(str, facilities.columns))})")
    if facilities.crs is None:
        raise InputError("facilities: no CRS")
    pts = facilities.to_crs(crs)
    pts = pts[~(pts.geometry.is_empty | pts.geometry.isna())]
    if not pts.empty and not (pts.geometry.geom_type == "Point").all():
        raise InputError("facilities: expected points")
    cols = {}
    for t in FACILITY_TYPES.values():
        cols[f"{t}_facilities"] = np.zeros(len(units), np.int64)
        cols[f"flooded_{t}"] = np.zeros(len(units), np.int64)
    out = pd.DataFrame(cols, index=units["code"].to_numpy())
    if pts.empty:
        return out, 0
    tree = shapely.STRtree(units.geometry.to_numpy())
    p_idx, u_idx = tree.query(pts.geometry.to_numpy(), predicate="intersects")
    first = pd.Series(u_idx).groupby(p_idx).min()  # one unit per point
    owner = np.full(len(pts), -1, np.int64)
    owner[first.index.to_numpy()] = first.to_numpy()
    outside = int((owner < 0).sum())
    if outside:
        log.warning("facilities: %d point(s) outside every admin unit (not counted)", outside)
    cls = _sample(flood, tr, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), nodata)
    kinds = pts[type_field].astype(str).str.strip().str.lower().map(FACILITY_TYPES).to_numpy()
    for t in FACILITY_TYPES.values():
        sel = (kinds == t) & (owner >= 0)
        out[f"{t}_facilities"] = np.bincount(owner[sel], minlength=len(units))
        out[f"flooded_{t}"] = np.bincount(owner[sel & (cls == 1)], minlength=len(units))
    return out, outside


def flag_flooded_points(points: gpd.GeoDataFrame, flood: xr.DataArray, *, nodata: int = 255) -> gpd.GeoDataFrame:
    """A copy of ``points`` with ``flooded`` (bool: on a flooded pixel) and ``observed`` (bool:
    on an observed pixel) columns, e.g. facilities for the report's map."""
    fcrs, ftr, _ = _georef(flood, "flood")
    pts = points.to_crs(fcrs)
    cls = _sample(_numpy(flood), ftr, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), nodata)
    return _with_flags(points, cls, nodata)


def flag_flooded_points_in_file(points: gpd.GeoDataFrame, path, *, nodata: int = 255) -> gpd.GeoDataFrame:
    """As :func:`flag_flooded_points`, sampling a class raster file (a job's flood mosaic) at
    the points, at full resolution, without reading the whole raster."""
    import rasterio

    with rasterio.open(path) as src:
        pts = points.to_crs(src.crs)
        xs, ys = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
        cols, rows = ~src.transform * (xs, ys)
        cols, rows = np.floor(cols).astype(np.int64), np.floor(rows).astype(np.int64)
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        cls = np.full(len(xs), nodata, dtype=np.int64)
        if inside.any():
            cls[inside] = [v[0] for v in src.sample(list(zip(xs[inside], ys[inside])), indexes=1)]
    return _with_flags(points, cls, nodata)


def _with_flags(points: gpd.GeoDataFrame, cls: np.ndarray, nodata: int) -> gpd.GeoDataFrame:
    out = points.copy()
    out["flooded"] = cls == 1
    out["observed"] = cls != nodata
    return out


def _flood_polygons(flood: np.ndarray, tr: Affine, bounds) -> list:
    """Polygons of flooded pixels (value 1) within map ``bounds`` (xmin, ymin, xmax, ymax)."""
    import rasterio.features
    from rasterio.windows import from_bounds

    win = from_bounds(*bounds, transform=tr)
    r0, c0 = max(0, int(np.floor(win.row_off)) - 1), max(0, int(np.floor(win.col_off)) - 1)
    r1 = min(flood.shape[0], int(np.ceil(win.row_off + win.height)) + 1)
    c1 = min(flood.shape[1], int(np.ceil(win.col_off + win.width)) + 1)
    if r1 <= r0 or c1 <= c0:
        return []
    sub = (flood[r0:r1, c0:c1] == 1).astype(np.uint8)
    if not sub.any():
        return []
    wtr = tr * Affine.translation(c0, r0)
    return [shapely.geometry.shape(g) for g, v in rasterio.features.shapes(sub, mask=sub.astype(bool), transform=wtr) if v == 1]


def road_lengths(
    roads: gpd.GeoDataFrame, units: gpd.GeoDataFrame, flood: np.ndarray, tr: Affine, crs: CRS
) -> pd.DataFrame:
    """Road length per unit and the part on flooded pixels, in km (columns ``road_km``,
    ``flooded_road_km``), measured on the hazard's projected grid. Exact: the lines are cut by
    the unit polygons and by the polygons of the flooded pixels."""
    if roads.crs is None:
        raise InputError("roads: no CRS")
    lines = roads.to_crs(crs).geometry
    lines = lines[~(lines.is_empty | lines.isna())]
    out = pd.DataFrame({"road_km": 0.0, "flooded_road_km": 0.0}, index=units["code"].to_numpy())
    if lines.empty:
        return out
    if not lines.geom_type.isin(["LineString", "MultiLineString"]).all():
        raise InputError("roads: expected lines")
    ugeoms = units.geometry.to_numpy()
    tree = shapely.STRtree(lines.to_numpy())
    polys = _flood_polygons(flood, tr, lines.total_bounds)
    ftree = shapely.STRtree(polys) if polys else None
    for i, ug in enumerate(ugeoms):
        hit = tree.query(ug, predicate="intersects")
        if not len(hit):
            continue
        pieces = shapely.intersection(lines.to_numpy()[hit], ug)
        out.iloc[i, 0] = float(shapely.length(pieces).sum()) / 1000.0
        if ftree is None:
            continue
        merged = shapely.union_all(pieces)
        fhit = ftree.query(merged, predicate="intersects")
        if len(fhit):
            out.iloc[i, 1] = float(shapely.length(shapely.intersection(merged, np.asarray(polys, dtype=object)[fhit])).sum()) / 1000.0
    return out


# ---------------------------------------------------------------------------------------------
# the indicators


def indicators_by_unit(
    flood: xr.DataArray,
    units: gpd.GeoDataFrame,
    *,
    population: xr.DataArray | xr.Dataset | None = None,
    landcover: xr.DataArray | None = None,
    builtup: xr.DataArray | None = None,
    builtup_before: xr.DataArray | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    nodata: int = 255,
    cropland_classes: Sequence[int] = (WORLDCOVER_CROPLAND,),
    builtup_classes: Sequence[int] = (WORLDCOVER_BUILTUP,),
    facility_type_field: str = "type",
    dasymetric: bool | None = None,
    dasymetric_floor: float = DASYMETRIC_FLOOR,
    method: str = "fast",
    job_grid: Any = None,
) -> pd.DataFrame:
    """EO-proxy Sendai indicators per administrative unit for one event.

    Parameters
    ----------
    flood
        Hazard extent, uint8 (1 flooded, 0 not flooded, ``nodata`` unobserved) on a projected
        metre grid with a CRS (rioxarray); numpy- or dask-backed.
    units
        Admin units (GeoDataFrame, any CRS) with ``code`` and ``name`` (and optionally
        ``level``), e.g. from :func:`eo_drr.sendai.units.read_units`; checked by
        :func:`check_units`.
    population
        Persons per cell (GHS-POP/WorldPop style), any CRS and resolution: a 2-D DataArray
        (total) or bands (a Dataset, or a DataArray with a leading band dimension) with a
        ``total`` band and optional ``female``, ``male``, ``age_0_14``, ``age_15_64``,
        ``age_65_plus``. Nodata as NaN or the raster's nodata value.
    landcover
        Land-cover classes (ESA WorldCover codes) for cropland (``cropland_classes``) and, when
        ``builtup`` is None, built-up (``builtup_classes``). Categorical: put on the hazard grid
        by nearest neighbour when its grid differs.
    builtup, builtup_before
        Built-up 1/0 at the event and at an earlier epoch (e.g. our urban product); the pair
        gives new settlement inside the flood.
    facilities
        Points with a ``type`` column (``health``, ``education``; others are ignored).
    roads
        Lines.
    dasymetric
        Share each population cell's persons among its hazard pixels in proportion to a
        built-up weight (1 on built-up, ``dasymetric_floor`` elsewhere; see
        :data:`DASYMETRIC_FLOOR`) instead of evenly. None (default): on when a built-up layer
        is known (``builtup``, or ``landcover`` with its built-up classes). True without one is
        an error.
    method
        ``"fast"`` (default): the units' spans of whole pixels, a fused numba pass over the
        rasters and exact coverage on unit borders only (:mod:`eo_drr.kernels.zonal_cpu`);
        ``"exact"``: the reference, exactextract coverage for every pixel. Both give the same
        numbers (coverage-weighted, to floating-point rounding).
    job_grid
        When ``flood`` is one tile of a tiled job: the job's whole grid (an odc-geo
        ``GeoBox``, same CRS and pixel size, the tile inside it). Population cells cut by
        tile borders are then shared between the tiles (see the module docstring).

    Returns
    -------
    DataFrame indexed by unit ``code`` in the units' order, one row per unit (also when nothing
    is flooded: zeros, never missing rows), with ``name`` (and ``level``), ``area_ha`` (unit
    area on the hazard grid's CRS), ``observed_ha``, ``observed_share`` and ``nodata_share``
    (0-1 of the unit area), ``flooded_ha``; with population ``population`` and
    ``exposed_population`` (persons, B-1) plus ``population_<band>`` and
    ``exposed_population_<band>`` per extra band; with land cover ``cropland_ha`` and
    ``flooded_cropland_ha`` (C-2); with built-up ``builtup_ha`` and ``flooded_builtup_ha``
    (C-4), and with both epochs ``new_builtup_ha`` and ``new_builtup_flooded_ha``; with
    facilities ``health_facilities``, ``flooded_health`` (D-2), ``education_facilities``,
    ``flooded_education`` (D-3); with roads ``road_km``, ``flooded_road_km`` (D-4).
    ``attrs``: ``repaired_geometries``, ``facilities_outside_units``, ``pixel_area_m2``,
    ``zonal_method``, ``dasymetric`` (bool), ``dasymetric_floor``.
    """
    if method not in ("fast", "exact"):
        raise InputError(f"method: expected 'fast' or 'exact', got {method!r}")
    if not 0.0 < dasymetric_floor <= 1.0:
        raise InputError(f"dasymetric_floor: expected 0 < floor <= 1, got {dasymetric_floor}")
    fcrs, ftr, fshape = _georef(flood, "flood")
    if not fcrs.is_projected:
        raise InputError("flood: the hazard raster must be on a projected (metre) grid")
    if method == "fast" and (ftr.a < 0 or ftr.e > 0):
        raise InputError("flood: the fast zonal statistics need a north-up grid (use method='exact')")
    units = check_units(units)
    fl = _numpy(flood)
    if fl.ndim != 2:
        raise InputError(f"flood: expected a 2-D raster, got shape {fl.shape}")
    if method == "exact" or fl.dtype != np.uint8:
        _check_flood_values(fl, nodata)  # the fast path checks uint8 values in its fused pass
    if not 0 <= nodata <= 255:
        raise InputError(f"flood: nodata must be 0-255 for a class raster, got {nodata}")
    fl = fl.astype(np.uint8, copy=False)
    up = units.to_crs(fcrs)
    px_ha = abs(ftr.a * ftr.e) / 1e4

    lc = _on_grid(landcover, flood, "landcover") if landcover is not None else None
    px = _pixels(fl, nodata, lc, builtup, builtup_before, flood, cropland_classes, builtup_classes)
    if dasymetric is None:
        dasymetric = px.built_known
    elif dasymetric and not px.built_known:
        raise InputError("dasymetric: needs a built-up layer (builtup=, or landcover with built-up classes)")
    bands = template = aligned = None
    if population is not None:
        bands, template = _population_bands(population)
        aligned = _aligned_cells(ftr, fcrs, fl.shape, template)
    window = _job_window(job_grid, ftr, fl.shape) if job_grid is not None else None
    if window is not None and bands is not None and aligned is None:
        # a grid not aligned with the job's (another CRS or cell size): each cell keeps the
        # share of its persons whose area lies in this tile, out of its area in the job grid
        share = _tile_area_share(template, ftr, fcrs, fl.shape, job_grid)
        bands = {k: v * share for k, v in bands.items()}
    cells = (_cells(px, bands, aligned, bool(dasymetric), dasymetric_floor, window)
             if aligned is not None else _no_cells(px))
    # people per unit on the fine grid: dasymetric, or a tile of a job (its own part of each
    # unit's people, so that tiles add up)
    want_pop = (bool(dasymetric) or window is not None) and aligned is not None
    geoms = up.geometry.to_numpy()
    if method == "fast":
        counts, pop_fine, exp_fine = _fast_classes(px, cells, ftr, geoms, want_pop)
    else:
        counts, pop_fine, exp_fine = _exact_classes(px, cells, ftr, fcrs, up, want_pop)
    areas = counts * px_ha  # ha per class code per unit
    codes = np.arange(32)

    def ha(*want: int) -> np.ndarray:
        m = np.ones(32, bool)
        for b in want:
            m &= (codes & b) != 0
        return areas[:, m].sum(axis=1)

    out = pd.DataFrame(index=pd.Index(up["code"].to_numpy(), name="code"))
    out["name"] = up["name"].to_numpy()
    if "level" in up.columns:
        out["level"] = up["level"].to_numpy()
    out["area_ha"] = up.geometry.area.to_numpy() / 1e4
    out["observed_ha"] = ha(_OBSERVED)
    out["observed_share"] = np.clip(out["observed_ha"] / out["area_ha"], 0.0, 1.0)
    out["nodata_share"] = 1.0 - out["observed_share"]
    out["flooded_ha"] = ha(_FLOODED)

    if bands is not None:
        pcrs, ptr, _ = _georef(template, "population")
        arrays = {} if want_pop else {f"pop_{name}": v for name, v in bands.items()}
        if aligned is None:  # hazard aggregated onto the population grid
            share = flooded_share_on_grid(fl, ftr, fcrs, template, nodata=nodata,
                                          weight=_weights(px, dasymetric_floor) if dasymetric else None)
            arrays.update({f"exp_{name}": v * share for name, v in bands.items()})
        sums = None
        if arrays:
            zonal = _fast_sums if method == "fast" else _sums
            sums = zonal(arrays, ptr, pcrs, units.to_crs(pcrs)).fillna(0.0)
        for b, (name, v) in enumerate(bands.items()):
            suffix = "" if name == "total" else f"_{name}"
            out[f"population{suffix}"] = pop_fine[:, b] if want_pop else sums[f"pop_{name}"].to_numpy()
            out[f"exposed_population{suffix}"] = (exp_fine[:, b] if aligned is not None
                                                  else sums[f"exp_{name}"].to_numpy())
    if px.has_lc:
        out["cropland_ha"] = ha(_CROP)
        out["flooded_cropland_ha"] = ha(_CROP, _FLOODED)
    if px.built_known:
        out["builtup_ha"] = ha(_BUILT)
        out["flooded_builtup_ha"] = ha(_BUILT, _FLOODED)
        if px.has_bb:
            out["new_builtup_ha"] = ha(_NEW_BUILT)
            out["new_builtup_flooded_ha"] = ha(_NEW_BUILT, _FLOODED)
    outside = 0
    if facilities is not None:
        fc, outside = facility_counts(facilities, up, fl, ftr, fcrs, type_field=facility_type_field, nodata=nodata)
        for col in fc.columns:
            out[col] = fc[col].to_numpy()
    if roads is not None:
        rl = road_lengths(roads, up, fl, ftr, fcrs)
        for col in rl.columns:
            out[col] = rl[col].to_numpy()
    out.attrs = {
        "repaired_geometries": int(units.attrs.get("repaired_geometries", 0)),
        "facilities_outside_units": int(outside),
        "pixel_area_m2": float(abs(ftr.a * ftr.e)),
        "zonal_method": method,
        "dasymetric": bool(dasymetric) if population is not None else False,
        "dasymetric_floor": float(dasymetric_floor),
    }
    return out


def _check_flood_values(fl: np.ndarray, nodata: int) -> None:
    """Refuse values other than 0, 1, 2 and ``nodata`` (one histogram pass for uint8); 2 is the
    flood product's reference water still water after the event: observed, not flooded."""
    if fl.dtype == np.uint8:
        from eo_drr.kernels import zonal_cpu as K

        hist = np.zeros((_blocks(fl.shape[0]), 256), np.int64)
        K.value_counts_u8(fl.reshape(-1), hist)
        present = np.flatnonzero(hist.sum(axis=0))
    else:
        present = np.unique(fl)
    bad = present[~np.isin(present, [0, 1, 2, nodata])]
    if len(bad):
        raise InputError(f"flood: values other than 0, 1, 2 and nodata {nodata}: {bad[:5].tolist()}")


def _u8(a: np.ndarray) -> np.ndarray:
    """A 1/0 (or class) layer as uint8 without a copy when it already is one."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.view(np.uint8)
    return np.nan_to_num(a, nan=0).astype(np.uint8) if a.dtype.kind == "f" else a.astype(np.uint8)


def _pixels(fl, nodata, lc, builtup, builtup_before, flood, cropland_classes, builtup_classes) -> _Pixels:
    from eo_drr.kernels import zonal_cpu as K

    dummy = np.zeros((1, 1), np.uint8)
    lut = np.zeros(256, np.uint8)
    has_lc = lc is not None
    if has_lc:
        if lc.dtype.kind in "iu" and lc.size and (lc.min() < 0 or lc.max() > 255):
            raise InputError("landcover: class codes must be 0-255")
        for c in cropland_classes:
            lut[int(c)] |= K.CROP
        for c in builtup_classes:
            lut[int(c)] |= K.BUILT
        lc = _u8(lc)
    bu = bb = None
    if builtup is not None:
        bu = (_on_grid(builtup, flood, "builtup") == 1).view(np.uint8)
    built_known = bu is not None or (has_lc and len(builtup_classes) > 0)
    if builtup_before is not None and built_known:
        bb = (_on_grid(builtup_before, flood, "builtup_before") == 1).view(np.uint8)
    return _Pixels(fl, lc if has_lc else dummy, lut, bu if bu is not None else dummy,
                   bb if bb is not None else dummy, has_lc, bu is not None, bb is not None, nodata,
                   built_known)




def _code_raster(px: _Pixels) -> np.ndarray:
    """Packed class code of every pixel (uint8; numpy, the reference for the kernels' rules)."""
    fl = px.flood
    bits = np.where(fl != px.nodata, _OBSERVED, 0).astype(np.uint8)
    bits |= np.where(fl == 1, _FLOODED, 0).astype(np.uint8)
    built = None
    if px.has_lc:
        lb = px.lut[px.lc]
        bits |= lb & _CROP
        built = (lb & _BUILT) != 0
    if px.has_bu:
        built = px.bu != 0
    if px.built_known and built is not None:
        bits |= np.where(built, _BUILT, 0).astype(np.uint8)
        if px.has_bb:
            bits |= np.where(built & (px.bb == 0), _NEW_BUILT, 0).astype(np.uint8)
    return bits


def _weights(px: _Pixels, floor: float) -> np.ndarray:
    """Dasymetric weight of every pixel (float32): 1 on built-up, ``floor`` elsewhere."""
    return np.where((_code_raster(px) & _BUILT) != 0, 1.0, floor).astype(np.float32)


def _cell_class_ids(codes: np.ndarray, cells: _Cells, flooded_only: bool) -> np.ndarray:
    """``cell * 2 + built`` of every pixel in a population cell (-1 elsewhere, or off the
    flood with ``flooded_only``); ``built`` is 0 unless the weights are dasymetric."""
    h, w = codes.shape
    ids = np.full((h, w), -1, np.int64)
    cols = cells.col[None, :]
    for r0 in range(0, h, 1024):  # in row blocks: no full-size temporaries
        c = codes[r0:r0 + 1024]
        r = cells.row[r0:r0 + 1024, None]
        ok = (r >= 0) & (cols >= 0)
        if flooded_only:
            ok = ok & ((c & _FLOODED) != 0)
        blk = (r * cells.pw + cols) * 2
        if cells.bu_weight:
            blk = blk + ((c & _BUILT) != 0)
        ids[r0:r0 + 1024][ok] = blk[ok]
    return ids


def _exact_classes(px: _Pixels, cells: _Cells, tr: Affine, crs: CRS, up: gpd.GeoDataFrame,
                   want_pop: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_fast_classes` by exactextract (the reference): covered pixels per class code,
    and persons placed on each unit's pixels / flooded pixels, from the distinct values of
    packed rasters and their covered pixel counts."""
    n = len(up)
    codes = _code_raster(px)
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


#: columns of :func:`indicators_by_unit` that describe the unit itself (not what a tile
#: observed): every tile of a job reports the same value, so tiles are not summed over them
UNIT_COLUMNS = ("name", "level", "area_ha", "health_facilities", "education_facilities", "road_km")


def combine_tile_tables(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One row per unit from the tables of the tiles of a job (each from
    :func:`indicators_by_unit` on one tile, with ``job_grid`` given, indexed by ``code``):
    observed quantities (ha, persons, flooded facilities and road km) are summed over the
    tiles, the unit's own (:data:`UNIT_COLUMNS`) taken once, and ``observed_share`` /
    ``nodata_share`` recomputed from the sums. Units keep the order of the first table."""
    if not tables:
        raise InputError("combine_tile_tables: no tables")
    frames = [t.drop(columns=["tile"], errors="ignore") for t in tables]
    allt = pd.concat(frames)
    order = list(dict.fromkeys(c for f in frames for c in f.index))
    first = [c for c in UNIT_COLUMNS if c in allt.columns]
    skip = set(first) | {"observed_share", "nodata_share"}
    summed = [c for c in allt.columns if c not in skip]
    g = allt.groupby(level=0, sort=False)
    out = pd.concat([g[first].first(), g[summed].sum()], axis=1).loc[order]
    out.index.name = "code"
    out.insert(out.columns.get_loc("observed_ha") + 1, "observed_share",
               np.clip(out["observed_ha"] / out["area_ha"], 0.0, 1.0))
    out.insert(out.columns.get_loc("observed_share") + 1, "nodata_share", 1.0 - out["observed_share"])
    return out[[c for c in frames[0].columns if c in out.columns]]
