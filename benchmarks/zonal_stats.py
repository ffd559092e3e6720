"""Zonal statistics benchmark: Sendai EO-proxy indicators for many admin units over a large
grid, against the time it takes to read the same rasters once.

Target (issue 7): 1,000 units over a 10980 x 10980 grid (a Sentinel-2 tile at 10 m) within 3x
the time of reading the rasters once. The rasters are a uint8 flood extent (1/0/255) and a
uint8 land-cover map at 10 m and a float32 population grid at 100 m, written as COGs (DEFLATE)
to a temporary folder; the units are a Voronoi partition of the grid. "Read" is opening the
three COGs and decoding every pixel into memory; "zonal" is
:func:`eo_drr.sendai.indicators.indicators_by_unit` on the arrays already in memory (flooded
area, observed share, cropland, built-up, population and exposed population per unit).

    python benchmarks/zonal_stats.py                 # full size: 10980 px, 1000 units
    python benchmarks/zonal_stats.py --quick         # CI: 2048 px, 200 units
    python benchmarks/zonal_stats.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import rioxarray  # noqa: F401
import shapely
import xarray as xr
from affine import Affine

from eo_drr.io import write_cog
from eo_drr.sendai.indicators import indicators_by_unit

CRS = "EPSG:32615"
ORIGIN = (500000.0, 2000000.0)


def _smooth(rng, n: int, coarse: int) -> np.ndarray:
    """Smooth-ish noise on an n x n grid (blocky upsampling of a coarse random field)."""
    c = rng.standard_normal((coarse, coarse)).astype(np.float32)
    k = int(np.ceil(n / coarse))
    return np.repeat(np.repeat(c, k, 0), k, 1)[:n, :n]


def make_inputs(n: int, units: int, folder: Path, seed: int = 0) -> dict[str, Path | gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    tr = Affine(10.0, 0, ORIGIN[0], 0, -10.0, ORIGIN[1])
    f = _smooth(rng, n, 64) + 0.5 * _smooth(rng, n, 512)
    flood = np.where(f > 0.8, 1, 0).astype(np.uint8)
    flood[_smooth(rng, n, 32) > 1.6] = 255  # ~5 % unobserved
    lc = np.where(_smooth(rng, n, 256) > 0.3, 40, 30).astype(np.uint8)
    lc[_smooth(rng, n, 128) > 1.2] = 50
    m = int(np.ceil(n / 10))
    pop = np.abs(_smooth(rng, m, 64) * 20).astype(np.float32)
    paths = {}
    for name, arr, t, nod in (("flood", flood, tr, 255), ("landcover", lc, tr, 0),
                              ("population", pop, Affine(100.0, 0, ORIGIN[0], 0, -100.0, ORIGIN[1]), -200.0)):
        paths[name] = write_cog(arr, folder / f"{name}.tif", crs=CRS, transform=t, nodata=nod)
    ext = n * 10.0
    frame = shapely.box(ORIGIN[0], ORIGIN[1] - ext, ORIGIN[0] + ext, ORIGIN[1])
    pts = shapely.points(rng.uniform(ORIGIN[0], ORIGIN[0] + ext, units), rng.uniform(ORIGIN[1] - ext, ORIGIN[1], units))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    gdf = gpd.GeoDataFrame({"code": [f"U{i:05d}" for i in range(len(cells))],
                            "name": [f"Unit {i}" for i in range(len(cells))]}, geometry=cells, crs=CRS)
    return {**paths, "units": gdf}


def read_all(paths: dict) -> dict[str, np.ndarray]:
    out = {}
    for name in ("flood", "landcover", "population"):
        with rasterio.open(paths[name]) as src:
            out[name] = src.read(1)
    return out


def as_dataarray(path: Path, arr: np.ndarray) -> xr.DataArray:
    with rasterio.open(path) as src:
        tr, crs, nod = src.transform, src.crs, src.nodata
    h, w = arr.shape
    da = xr.DataArray(arr, dims=("y", "x"),
                      coords={"y": tr.f + tr.e * (np.arange(h) + 0.5), "x": tr.c + tr.a * (np.arange(w) + 0.5)})
    return da.rio.write_crs(crs).rio.write_nodata(nod)


def run(n: int, units: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="eo-drr-zonal-") as tmp:
        t0 = time.perf_counter()
        inputs = make_inputs(n, units, Path(tmp))
        t_make = time.perf_counter() - t0
        reads, zonals = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            arrays = read_all(inputs)
            reads.append(time.perf_counter() - t0)
            das = {k: as_dataarray(inputs[k], v) for k, v in arrays.items()}
            t0 = time.perf_counter()
            table = indicators_by_unit(das["flood"], inputs["units"], population=das["population"],
                                       landcover=das["landcover"])
            zonals.append(time.perf_counter() - t0)
        total_pop = float(arrays["population"][arrays["population"] >= 0].sum())
    t_read, t_zonal = min(reads), min(zonals)
    return {
        "size_px": n, "units": int(len(table)), "repeat": repeat,
        "make_inputs_s": round(t_make, 2),
        "read_s": round(t_read, 3), "zonal_s": round(t_zonal, 3),
        "ratio": round(t_zonal / t_read, 2), "target_ratio": 3.0,
        "flooded_ha": round(float(table["flooded_ha"].sum()), 1),
        "population_in_units": round(float(table["population"].sum()), 1),
        "population_grid_total": round(total_pop, 1),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI size: 2048 px, 200 units")
    ap.add_argument("--size", type=int, default=None, help="pixels per side (default 10980)")
    ap.add_argument("--units", type=int, default=None, help="number of units (default 1000)")
    ap.add_argument("--repeat", type=int, default=None, help="runs; the best time is kept")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    a = ap.parse_args(argv)
    n = a.size or (2048 if a.quick else 10980)
    k = a.units or (200 if a.quick else 1000)
    r = a.repeat or (3 if a.quick else 2)
    res = run(n, k, r)
    print(f"{'grid':>12} {'units':>6} {'read s':>8} {'zonal s':>8} {'ratio':>6} {'target':>7}")
    print(f"{n:>7} px^2 {res['units']:>6} {res['read_s']:>8.3f} {res['zonal_s']:>8.3f} {res['ratio']:>6.2f} {'<= 3':>7}")
    print(f"people in units {res['population_in_units']:.1f} of {res['population_grid_total']:.1f} on the grid")
    if a.json:
        a.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
