"""Facilities and roads in the hazard footprint: facilities (points) per unit and on flooded
pixels (D-2 health, D-3 education; counts), points flagged flooded / observed for the report's
map, and road length per unit and on flooded pixels (D-4; km)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from affine import Affine
from pyproj import CRS

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.sendai.grids import georef, to_numpy

log = logging.getLogger(__name__)

#: Facility ``type`` values -> the output columns (D-2 health, D-3 education).
FACILITY_TYPES: dict[str, str] = {"health": "health", "education": "education"}


def _sample(
    flood: np.ndarray, tr: Affine, xs: np.ndarray, ys: np.ndarray, nodata: int
) -> np.ndarray:
    """Flood class at map points (``nodata`` outside the raster)."""
    inv = ~tr
    cols, rows = inv @ (np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
    # a point without coordinates (empty geometry) falls outside: -1
    cols, rows = (np.floor(np.nan_to_num(v, nan=-1.0)).astype(np.int64) for v in (cols, rows))
    inside = (rows >= 0) & (rows < flood.shape[0]) & (cols >= 0) & (cols < flood.shape[1])
    out = np.full(len(cols), nodata, dtype=flood.dtype)
    out[inside] = flood[rows[inside], cols[inside]]
    return out


def facility_counts(
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    flood: np.ndarray,
    tr: Affine,
    crs: CRS,
    *,
    type_field: str = "type",
    nodata: int = 255,
) -> tuple[pd.DataFrame, int]:
    """Facilities per unit and those inside the flood extent, by type (counts).

    Columns ``{t}_facilities`` (all) and ``flooded_{t}`` (on a flooded pixel) for each ``t`` of
    :data:`FACILITY_TYPES`. A point belongs to the unit that contains it (on a shared border: the
    first unit in order). Returns the table and the number of facilities outside every unit
    (logged, not counted).
    """
    if type_field not in facilities.columns:
        raise InputError(
            _("facilities: no {type_field!r} column (columns: {columns})").format(
                type_field=type_field, columns=", ".join(map(str, facilities.columns))
            )
        )
    if facilities.crs is None:
        raise InputError(_("facilities: no CRS"))
    pts = facilities.to_crs(crs)
    pts = pts[~(pts.geometry.is_empty | pts.geometry.isna())]
    if not pts.empty and not (pts.geometry.geom_type == "Point").all():
        raise InputError(_("facilities: expected points"))
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
        log.warning(
            _("facilities: {n} point(s) outside every admin unit (not counted)").format(n=outside)
        )
    cls = _sample(flood, tr, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), nodata)
    kinds = pts[type_field].astype(str).str.strip().str.lower().map(FACILITY_TYPES).to_numpy()
    for t in FACILITY_TYPES.values():
        sel = (kinds == t) & (owner >= 0)
        out[f"{t}_facilities"] = np.bincount(owner[sel], minlength=len(units))
        out[f"flooded_{t}"] = np.bincount(owner[sel & (cls == 1)], minlength=len(units))
    return out, outside


def flag_flooded_points(
    points: gpd.GeoDataFrame, flood: xr.DataArray, *, nodata: int = 255
) -> gpd.GeoDataFrame:
    """A copy of ``points`` with ``flooded`` (bool: on a flooded pixel) and ``observed`` (bool:
    on an observed pixel) columns, e.g. facilities for the report's map."""
    fcrs, ftr, _shape = georef(flood, "flood")
    pts = points.to_crs(fcrs)
    cls = _sample(
        to_numpy(flood), ftr, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), nodata
    )
    return _with_flags(points, cls, nodata)


def flag_flooded_points_in_file(
    points: gpd.GeoDataFrame, path, *, nodata: int = 255
) -> gpd.GeoDataFrame:
    """As :func:`flag_flooded_points`, sampling a class raster file (a job's flood mosaic) at
    the points, at full resolution, without reading the whole raster."""
    import rasterio

    with rasterio.open(path) as src:
        pts = points.to_crs(src.crs)
        xs, ys = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
        cols, rows = ~src.transform @ (xs, ys)
        cols, rows = (np.floor(np.nan_to_num(v, nan=-1.0)).astype(np.int64) for v in (cols, rows))
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
    wtr = tr @ Affine.translation(c0, r0)
    return [
        shapely.geometry.shape(g)
        for g, v in rasterio.features.shapes(sub, mask=sub.astype(bool), transform=wtr)
        if v == 1
    ]


def road_lengths(
    roads: gpd.GeoDataFrame, units: gpd.GeoDataFrame, flood: np.ndarray, tr: Affine, crs: CRS
) -> pd.DataFrame:
    """Road length per unit and the part on flooded pixels, in km (columns ``road_km``,
    ``flooded_road_km``), measured on the hazard's projected grid. Exact: the lines are cut by
    the unit polygons and by the polygons of the flooded pixels."""
    if roads.crs is None:
        raise InputError(_("roads: no CRS"))
    lines = roads.to_crs(crs).geometry
    lines = lines[~(lines.is_empty | lines.isna())]
    out = pd.DataFrame({"road_km": 0.0, "flooded_road_km": 0.0}, index=units["code"].to_numpy())
    if lines.empty:
        return out
    if not lines.geom_type.isin(["LineString", "MultiLineString"]).all():
        raise InputError(_("roads: expected lines"))
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
            out.iloc[i, 1] = (
                float(
                    shapely.length(
                        shapely.intersection(merged, np.asarray(polys, dtype=object)[fhit])
                    ).sum()
                )
                / 1000.0
            )
    return out
