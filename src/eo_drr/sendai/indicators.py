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

Zonal statistics are exact: exactextract weights each pixel by the share of it inside the
unit (a pixel half inside counts half). The hazard, land cover and built-up layers (10 m
classes) are read in **one pass**: they are packed into one uint8 code per pixel (bit 0
observed, bit 1 flooded, bit 2 cropland, bit 3 built-up, bit 4 new built-up) and exactextract
returns the covered area of every code per unit. The population grid is **never resampled**
and people are never moved between cells. When the population grid is an aligned multiple of
the hazard grid (GHS-POP 100 m over a 10 m flood, same CRS), each cell's persons are spread
evenly over its hazard pixels and a second exactextract pass over the flooded pixels only
(labelled with their population cell) gives, per unit, the covered flooded pixels of every
cell: exposed = sum over cells of persons / pixels in cell x flooded pixels in the unit. Any
other population grid (another CRS or resolution) gets the hazard aggregated onto it as the
flooded share of each cell (area-weighted average; unobserved pixels count as not flooded), and
exposed = persons x flooded share, summed per unit with coverage weights on the population grid
in its own CRS. People are conserved: the units' population sums to the grid's
total inside the units. Unobserved pixels count as not flooded, so every count is a lower bound;
``observed_share`` says how much of the unit the hazard layer actually saw.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import geopandas as gpd
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

# bits of the packed per-pixel class code
_OBSERVED, _FLOODED, _CROP, _BUILT, _NEW_BUILT = 1, 2, 4, 8, 16

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
    flood: np.ndarray, flood_tr: Affine, flood_crs: CRS, template: xr.DataArray, *, nodata: int = 255
) -> np.ndarray:
    """Flooded share (0-1, float64) of every cell of ``template``'s grid (the population grid).

    The share is the mean of the 1/0 flood pixels inside the cell, with unobserved pixels
    counted as not flooded; cells beyond the hazard raster get 0. When the cell grid is an
    aligned integer multiple of the hazard grid in the same CRS (GHS-POP 100 m over a 10 m
    flood) the mean is computed exactly by block sums; otherwise GDAL's area-weighted
    ``average`` resampling is used (the hazard, never the population, is resampled).
    """
    pcrs, ptr, pshape = _georef(template, "population")
    fl = (flood == 1).astype(np.float32)
    if pcrs == flood_crs and ptr.b == 0 and ptr.d == 0:
        fx, fy = ptr.a / flood_tr.a, ptr.e / flood_tr.e
        ox, oy = (ptr.c - flood_tr.c) / flood_tr.a, (ptr.f - flood_tr.f) / flood_tr.e
        ints = [fx, fy, ox, oy]
        if all(abs(v - round(v)) < 1e-6 for v in ints) and round(fx) >= 1 and round(fy) >= 1:
            return _block_share(fl, int(round(fx)), int(round(fy)), int(round(ox)), int(round(oy)), pshape)
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import xr_reproject, xr_coords

    fbox = GeoBox(fl.shape, flood_tr, flood_crs)
    src = xr.DataArray(fl, coords=xr_coords(fbox), dims=("y", "x"))
    src = src.odc.assign_crs(flood_crs)
    out = xr_reproject(src, template.odc.geobox, resampling="average", dst_nodata=np.nan)
    return np.clip(np.nan_to_num(_numpy(out).astype(np.float64), nan=0.0), 0.0, 1.0)


def _block_share(fl: np.ndarray, fx: int, fy: int, ox: int, oy: int, pshape) -> np.ndarray:
    """Mean of the flood pixels inside each (fy x fx) cell, over the pixels the raster has."""
    ph, pw = pshape
    # the window of flood pixels covered by the population grid, padded to whole cells
    y0, x0 = oy, ox
    h, w = ph * fy, pw * fx
    val = np.zeros((h, w), np.float32)
    cnt = np.zeros((h, w), np.float32)
    sy0, sx0 = max(0, y0), max(0, x0)
    sy1, sx1 = min(fl.shape[0], y0 + h), min(fl.shape[1], x0 + w)
    if sy1 > sy0 and sx1 > sx0:
        val[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = fl[sy0:sy1, sx0:sx1]
        cnt[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = 1.0
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


def _flooded_cell_ids(flooded: np.ndarray, fx: int, fy: int, ox: int, oy: int, pshape) -> tuple[np.ndarray, np.ndarray]:
    """Population cell id (row-major) of every flooded hazard pixel, -1 elsewhere (int32),
    and the number of hazard pixels in each cell (float64, ``ph*pw`` long)."""
    h, w = flooded.shape
    ph, pw = pshape
    rows = (np.arange(h) - oy) // fy
    cols = (np.arange(w) - ox) // fx
    rows = np.where((rows >= 0) & (rows < ph), rows, -1).astype(np.int32)
    cols = np.where((cols >= 0) & (cols < pw), cols, -1).astype(np.int32)
    ids = np.full((h, w), -1, np.int32)
    for r0 in range(0, h, 1024):  # in row blocks: no full-size temporaries
        r = rows[r0:r0 + 1024, None]
        blk = r * np.int32(pw) + cols[None, :]
        ok = flooded[r0:r0 + 1024] & (r >= 0) & (cols[None, :] >= 0)
        ids[r0:r0 + 1024][ok] = blk[ok]
    per_row = np.bincount(rows[rows >= 0], minlength=ph).astype(np.float64)
    per_col = np.bincount(cols[cols >= 0], minlength=pw).astype(np.float64)
    return ids, np.outer(per_row, per_col).ravel()


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
    ``attrs``: ``repaired_geometries``, ``facilities_outside_units``, ``pixel_area_m2``.
    """
    fcrs, ftr, fshape = _georef(flood, "flood")
    if not fcrs.is_projected:
        raise InputError("flood: the hazard raster must be on a projected (metre) grid")
    units = check_units(units)
    fl = _numpy(flood)
    if fl.ndim != 2:
        raise InputError(f"flood: expected a 2-D raster, got shape {fl.shape}")
    bad = ~np.isin(np.unique(fl), [0, 1, nodata])
    if bad.any():
        raise InputError(f"flood: values other than 0, 1 and nodata {nodata}: {np.unique(fl)[bad][:5].tolist()}")
    up = units.to_crs(fcrs)
    px_ha = abs(ftr.a * ftr.e) / 1e4

    # one pass over the 10 m layers: a packed class code per pixel
    bits = np.where(fl != nodata, _OBSERVED, 0).astype(np.uint8)
    bits |= np.where(fl == 1, _FLOODED, 0).astype(np.uint8)
    lc = _on_grid(landcover, flood, "landcover") if landcover is not None else None
    if lc is not None:
        bits |= np.where(np.isin(lc, list(cropland_classes)), _CROP, 0).astype(np.uint8)
    if builtup is not None:
        bu = _on_grid(builtup, flood, "builtup") == 1
    elif lc is not None:
        bu = np.isin(lc, list(builtup_classes))
    else:
        bu = None
    if bu is not None:
        bits |= np.where(bu, _BUILT, 0).astype(np.uint8)
        if builtup_before is not None:
            before = _on_grid(builtup_before, flood, "builtup_before") == 1
            bits |= np.where(bu & ~before, _NEW_BUILT, 0).astype(np.uint8)
    bands = template = aligned = None
    if population is not None:
        bands, template = _population_bands(population)
        aligned = _aligned_cells(ftr, fcrs, fl.shape, template)
    counts = _unique_counts(bits, ftr, fcrs, up)
    cell_counts = None
    if aligned is not None:  # second pass over the flooded pixels only: their population cell
        ids, npx = _flooded_cell_ids(fl == 1, *aligned, bands["total"].shape)
        cell_counts = _unique_counts(ids, ftr, fcrs, up, nodata=-1)
        del ids
    del bits
    areas = np.zeros((len(up), 32))
    for i, (vals, cnt) in enumerate(counts):
        if len(vals):
            areas[i] = np.bincount(vals, weights=cnt, minlength=32)
    areas *= px_ha  # ha per class code per unit
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
        arrays = {f"pop_{name}": v for name, v in bands.items()}
        if aligned is None:  # hazard aggregated onto the population grid
            share = flooded_share_on_grid(fl, ftr, fcrs, template, nodata=nodata)
            arrays.update({f"exp_{name}": v * share for name, v in bands.items()})
        sums = _sums(arrays, ptr, pcrs, units.to_crs(pcrs)).fillna(0.0)
        for name, v in bands.items():
            suffix = "" if name == "total" else f"_{name}"
            out[f"population{suffix}"] = sums[f"pop_{name}"].to_numpy()
            if aligned is None:
                exposed = sums[f"exp_{name}"].to_numpy()
            else:  # each cell's persons spread evenly over its hazard pixels (people conserved)
                per_px = np.nan_to_num(v, nan=0.0).ravel() / np.maximum(npx, 1.0)
                exposed = np.array([float(np.dot(per_px[vals], cnt)) for vals, cnt in cell_counts])
            out[f"exposed_population{suffix}"] = exposed
    if lc is not None:
        out["cropland_ha"] = ha(_CROP)
        out["flooded_cropland_ha"] = ha(_CROP, _FLOODED)
    if bu is not None:
        out["builtup_ha"] = ha(_BUILT)
        out["flooded_builtup_ha"] = ha(_BUILT, _FLOODED)
        if builtup_before is not None:
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
    }
    return out
