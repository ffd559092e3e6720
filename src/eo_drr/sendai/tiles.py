"""Tiles of a job: where a tile lies in the job's grid, the share of a population cell's area
inside a tile, and the tiles' tables combined into one per unit.

When the hazard raster is one tile of a job grid (``job_grid``), a cell cut by a tile border
contributes, in each tile, the share of its persons that lies there: on an aligned grid by
pixel count, out of its pixels in the job grid (then weighted within that part,
:func:`eo_drr.sendai.population.cell_grid`), with people placed on the 10 m pixels; on any
other grid by area, out of its area inside the job grid (:func:`tile_area_share`). The tiles'
tables then add up (:func:`combine_tile_tables`) to the table of the whole job grid computed
the same way: exactly for evenly spread people on an aligned grid; with dasymetric weights each
cell's total is kept, its split between units near a tile border moves a little (< 1 % per
unit on the demo), because each tile knows the weights on its side only; on other grids the
flooded share of a cut cell is each tile's own (GDAL's average over its part).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
import xarray as xr
from affine import Affine
from pyproj import CRS

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.sendai.grids import georef


def job_window(job_grid, ftr: Affine, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(row, col, height, width)``: where the job grid starts, in the tile's pixel
    coordinates (<= 0), and its size. The tile must lie on the job grid."""
    jtr = job_grid.transform
    jh, jw = (int(v) for v in job_grid.shape)
    if not (np.isclose(jtr.a, ftr.a) and np.isclose(jtr.e, ftr.e)):
        raise InputError(_("job_grid: its pixel size differs from the flood raster's"))
    c = (jtr.c - ftr.c) / ftr.a
    r = (jtr.f - ftr.f) / ftr.e
    if abs(c - round(c)) > 1e-6 or abs(r - round(r)) > 1e-6:
        raise InputError(_("job_grid: the flood raster is not aligned with the job grid"))
    r0, c0 = int(round(r)), int(round(c))
    if r0 > 0 or c0 > 0 or r0 + jh < shape[0] or c0 + jw < shape[1]:
        raise InputError(_("job_grid: the flood raster is not inside the job grid"))
    return r0, c0, jh, jw


def tile_area_share(
    template: xr.DataArray, ftr: Affine, fcrs: CRS, fshape: tuple[int, int], job_grid
) -> np.ndarray:
    """Per population cell (its grid, float64): area of the cell inside the tile raster's
    extent / area inside the job grid's extent, both extents taken into the population CRS
    (densified); 0 where the cell does not reach the job grid."""
    from pyproj import Transformer
    from shapely.geometry import box

    pcrs, ptr, (ph, pw) = georef(template, "population")
    h, w = fshape
    tile_box = box(ftr.c, ftr.f + ftr.e * h, ftr.c + ftr.a * w, ftr.f)
    jtr = job_grid.transform
    jh, jw = (int(v) for v in job_grid.shape)
    job_box = box(jtr.c, jtr.f + jtr.e * jh, jtr.c + jtr.a * jw, jtr.f)
    if pcrs != fcrs:
        to_pop = Transformer.from_crs(fcrs, pcrs, always_xy=True).transform

        def reproject(g: shapely.Geometry) -> shapely.Geometry:
            return shapely.transform(g, lambda xy: np.column_stack(to_pop(xy[:, 0], xy[:, 1])))

        tile_box = reproject(tile_box.segmentize(min(abs(ftr.a) * w, abs(ftr.e) * h) / 64))
        job_box = reproject(job_box.segmentize(min(abs(jtr.a) * jw, abs(jtr.e) * jh) / 64))
    cols, rows = np.meshgrid(np.arange(pw), np.arange(ph))
    x0, y0 = ptr.c + ptr.a * cols, ptr.f + ptr.e * rows
    cells = shapely.box(
        np.minimum(x0, x0 + ptr.a),
        np.minimum(y0, y0 + ptr.e),
        np.maximum(x0, x0 + ptr.a),
        np.maximum(y0, y0 + ptr.e),
    )
    in_tile = shapely.area(shapely.intersection(cells, tile_box))
    in_job = shapely.area(shapely.intersection(cells, job_box))
    return np.divide(in_tile, in_job, out=np.zeros(in_tile.shape), where=in_job > 0)


#: columns of :func:`~eo_drr.sendai.indicators.indicators_by_unit` that describe the unit
#: itself (not what a tile observed): every tile of a job reports the same value, so tiles are
#: not summed over them
UNIT_COLUMNS = ("name", "level", "area_ha", "health_facilities", "education_facilities", "road_km")


def combine_tile_tables(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One row per unit from the tables of the tiles of a job (each from
    :func:`~eo_drr.sendai.indicators.indicators_by_unit` on one tile, with ``job_grid`` given,
    indexed by ``code``): observed quantities (ha, persons, flooded facilities and road km)
    are summed over the tiles, the unit's own (:data:`UNIT_COLUMNS`) taken once, and
    ``observed_share`` / ``nodata_share`` recomputed from the sums. Units keep the order of the
    first table."""
    if not tables:
        raise RuntimeError("combine_tile_tables: no tables")
    frames = [t.drop(columns=["tile"], errors="ignore") for t in tables]
    allt = pd.concat(frames)
    order = list(dict.fromkeys(c for f in frames for c in f.index))
    first = [c for c in UNIT_COLUMNS if c in allt.columns]
    skip = set(first) | {"observed_share", "nodata_share"}
    summed = [c for c in allt.columns if c not in skip]
    g = allt.groupby(level=0, sort=False)
    out = pd.concat([g[first].first(), g[summed].sum()], axis=1).loc[order]
    out.index.name = "code"
    out.insert(
        out.columns.get_loc("observed_ha") + 1,
        "observed_share",
        np.clip(out["observed_ha"] / out["area_ha"], 0.0, 1.0),
    )
    out.insert(
        out.columns.get_loc("observed_share") + 1, "nodata_share", 1.0 - out["observed_share"]
    )
    return out[[c for c in frames[0].columns if c in out.columns]]
