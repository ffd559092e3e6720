"""Scenes that run the zonal kernels through :func:`eo_drr.sendai.indicators.indicators_by_unit`
for the bit-identity tests of issue 21 ("fast first run": kernels restructured so that numba
compiles them faster, results unchanged): :func:`shadow` runs a kernel and its old
formulation on copies of the same arguments and asserts that every array comes out
bit-identical, on every call the pipeline makes."""

from __future__ import annotations

import copy
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr
from shapely.geometry import Polygon, box

NE_ADMIN1 = Path("/work/shared/data/admin-boundaries-ne/ne_50m_admin_1_states_provinces.geojson")


def shadow(new, old, calls: list):
    """``new`` wrapped: each call also runs ``old`` on deep copies of the arguments and
    compares every array argument afterwards byte for byte; appends to ``calls``."""

    def run(*args):
        ref = copy.deepcopy(args)
        old(*ref)
        new(*args)
        for i, (a, b) in enumerate(zip(args, ref)):
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and a.shape == b.shape, i
                assert a.tobytes() == b.tobytes(), f"argument {i} differs"
        calls.append(len(args))

    return run


def _grid(data, x0, y0, px, crs):
    h, w = data.shape
    return xr.DataArray(
        data,
        dims=("y", "x"),
        coords={"y": y0 - px / 2 - px * np.arange(h), "x": x0 + px / 2 + px * np.arange(w)},
    ).rio.write_crs(crs)


def random_layers(rng, h, w, x0, y0, px, crs, cell=10):
    """Flood (0/1, 255 nodata), land cover (crop 40, built-up 50, other 10), built-up
    before/after and a population grid of ``cell`` x ``cell`` pixels (two bands) that sticks
    out of the raster on the right and bottom."""
    flood = np.where(rng.random((h, w)) < 0.35, 1, 0).astype(np.uint8)
    flood[rng.random((h, w)) < 0.08] = 255
    flood[:3] = 255  # a nodata border
    lc = np.where(rng.random((h, w)) < 0.3, 50, 40).astype(np.uint8)
    lc[rng.random((h, w)) < 0.2] = 10
    bu = (rng.random((h, w)) < 0.25).astype(np.uint8)
    bb = bu * (rng.random((h, w)) < 0.6).astype(np.uint8)
    ph, pw = -(-h // cell) + 1, -(-w // cell) + 1
    cpx = px * cell
    pop = xr.Dataset(
        {
            b: _grid(rng.random((ph, pw)) * s, x0, y0, cpx, crs)
            for b, s in (("total", 80.0), ("female", 40.0))
        }
    )
    g = {k: _grid(v, x0, y0, px, crs) for k, v in dict(flood=flood, lc=lc, bu=bu, bb=bb).items()}
    return g, pop


def awkward_units(rng, x0, y0, crs):
    """Voronoi cells with a hole and a multipolygon, plus boxes with edges along pixel
    centres and pixel edges (10 m pixels), one off the grid, one sticking out (overlaps: the
    units fall in several layers)."""
    pts = shapely.points(rng.uniform(x0 - 300, x0 + 3400, 25), rng.uniform(y0 - 2700, y0 + 300, 25))
    frame = box(x0 - 500, y0 - 2900, x0 + 3600, y0 + 500)
    parts = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    cells = list(shapely.intersection(parts, frame))
    cells[0] = cells[0].difference(cells[0].centroid.buffer(180))
    cells[1] = shapely.union(cells[1], box(x0 + 3000, y0 - 200, x0 + 3050, y0 - 100))
    extra = [
        box(x0 + 5, y0 - 405, x0 + 205, y0 - 5),
        box(x0 + 100, y0 - 800, x0 + 400, y0 - 500),
        box(x0 + 8000, y0 - 500, x0 + 8100, y0 - 400),
        Polygon([(x0 - 50, y0 + 20), (x0 + 700, y0 - 1333), (x0 + 1500, y0 + 40)]),
    ]
    geoms = cells + extra
    return gpd.GeoDataFrame(
        {"code": [f"U{i}" for i in range(len(geoms))], "name": ""}, geometry=geoms, crs=crs
    )


def brazil_units():
    """Natural Earth admin-1 states of Brazil (real borders: islands, long coasts)."""
    g = gpd.read_file(NE_ADMIN1)
    g = g[g["admin"] == "Brazil"].reset_index(drop=True)
    return gpd.GeoDataFrame(
        {"code": g["iso_3166_2"].astype(str), "name": g["name"].astype(str)},
        geometry=g.geometry,
        crs=g.crs,
    )


def run_scenes(indicators_by_unit, demo: dict | None) -> None:
    """The indicators on the demo scene (when given) and on random rasters under awkward and
    real units, dasymetric and even population, with and without built-up layers."""
    if demo is not None:
        for das in (False, True):
            indicators_by_unit(demo["flood"], demo["units"], dasymetric=das, **demo["layers"])
    rng = np.random.default_rng(21)
    x0, y0, crs = 500000.0, 2000000.0, "EPSG:32615"
    g, pop = random_layers(rng, 240, 310, x0, y0, 10.0, crs)
    units = awkward_units(rng, x0, y0, crs)
    for das in (False, True):
        indicators_by_unit(
            g["flood"], units, population=pop, landcover=g["lc"], builtup=g["bu"],
            builtup_before=g["bb"], dasymetric=das, method="fast",
        )  # fmt: skip
    indicators_by_unit(g["flood"], units, landcover=g["lc"], method="fast")
    if NE_ADMIN1.exists():  # south-east Brazil on a 2 km grid (Brazil Polyconic, metres)
        x0, y0, crs = 4500000.0, 8000000.0, "EPSG:5880"
        g, pop = random_layers(rng, 400, 450, x0, y0, 2000.0, crs, cell=7)
        indicators_by_unit(
            g["flood"], brazil_units(), population=pop, landcover=g["lc"], builtup=g["bu"],
            dasymetric=True, method="fast",
        )  # fmt: skip
