"""The water series job run tiled on a local dask cluster: time and peak memory per worker
against the number of dates and of tiles, side by side in one run.

    python benchmarks/series_tiled.py [--size 1024] [--dates 4,8,16,32,60] [--tiles 1,4,16]
                                      [--workers 2] [--seed 42]

The grid is the largest square of the demo scene of ``--size`` px at 10 m (generated on
first use) that sits on the tile grid's fixed origin (:func:`eo_drr.jobs.tiling.tile_grid`:
tiles start at multiples of their size), so that tiles of its side, half and quarter make
exactly 1, 4 and 16 tiles: 852 px (8.52 km x 8.52 km) in the 1024 px scene, a little under
the issue's 10 km x 10 km. A year of Sentinel-1 with two satellites is about 60 acquisitions (a
6-day repeat); the demo series has 31 dates (12 days apart), so the benchmark's catalogue
holds ``max(--dates)`` dates 6 days apart whose rasters are the demo series' own, in turn
(date i reads the demo's date i mod 31): each date costs what a real one does (a load of
the two bands and ``s1_water``).

Each (dates, tiles) pair runs in a fresh process on a fresh ``LocalCluster`` of
``--workers`` single-threaded worker processes (``cluster.kind: processes``), into a new
folder. Per run: wall seconds (plan, tiles, mosaics, report), seconds per date, the peak
resident memory of the busiest worker (``ru_maxrss`` of the worker processes, as the job
ledger records it) and the driver's (the mosaics and the report).

Every tile maps one date at a time into its own cube (``pipelines/water_series.py``), so a
worker's peak should follow the tile size, not the number of dates, and the time grow about
linearly with the dates.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
#: days between the benchmark's dates (Sentinel-1A and -1C together)
REPEAT_DAYS = 6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dates", default="4,8,16,32,60")
    ap.add_argument("--tiles", default="1,4,16")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--one", help=argparse.SUPPRESS)  # "dates,tiles,catalogue": one child run
    args = ap.parse_args()
    if args.one:
        n, tiles, catalog = args.one.split(",", 2)
        return _one_run(args.size, args.seed, int(n), int(tiles), Path(catalog), args.workers)
    dates = [int(n) for n in args.dates.split(",")]
    tiles = [int(n) for n in args.tiles.split(",")]
    return _matrix(args.size, args.seed, dates, tiles, args.workers)


def _scene(size: int, seed: int):
    """The demo scene of ``size`` px (generated on first use)."""
    from eo_drr.demo import ensure_demo_scene

    return ensure_demo_scene(seed=seed, size=size)


def _catalog(scene_root: Path, n_dates: int, dest: Path) -> Path:
    """A static catalogue of ``n_dates`` Sentinel-1 items :data:`REPEAT_DAYS` apart whose
    assets are the demo series' (date i: the demo's date i mod 31)."""
    import datetime as dt

    import pystac

    from eo_drr.demo import catalog as cat

    demo = pystac.Catalog.from_file(str(scene_root / "s1-series" / "catalog.json"))
    base = sorted(demo.get_items(recursive=True), key=lambda it: it.datetime)
    first = base[0].datetime
    items = []
    for i in range(n_dates):
        src = base[i % len(base)].full_copy()
        src.make_asset_hrefs_absolute()
        when = first + dt.timedelta(days=REPEAT_DAYS * i)
        item = src.clone()
        item.id = cat.s1_item_id(when, item.properties["sat:relative_orbit"])
        item.datetime = when
        item.clear_links()
        items.append(item)
    return cat.save_catalog(dest, "series-benchmark", "series benchmark", {"sentinel-1-rtc": items})


def _square(scene_root: Path, max_px: int) -> tuple[int, tuple[float, float, float, float], str]:
    """The side (px), bounds (CRS units) and CRS of the largest square of the scene, of at
    most ``max_px`` px a side divisible by 4, whose corners sit on multiples of its side."""
    import rasterio

    with rasterio.open(scene_root / "s1-series" / "water_frequency.tif") as f:
        b, res, crs = f.bounds, f.res[0], f.crs.to_string()
    for side in range(max_px - max_px % 4, 31, -4):
        m = side * res
        x0, y0 = math.ceil(b.left / m) * m, math.ceil(b.bottom / m) * m
        if x0 + m <= b.right and y0 + m <= b.top:
            return side, (x0, y0, x0 + m, y0 + m), crs
    raise SystemExit(f"no aligned square in the scene at {scene_root}")


def _aoi(dest: Path, bounds: tuple[float, float, float, float], crs: str, res: float) -> Path:
    """A GeoPackage of the square inset by half a pixel (the job grid snaps out to it)."""
    import geopandas as gpd
    from shapely.geometry import box

    x0, y0, x1, y1 = bounds
    square = box(x0 + res / 2, y0 + res / 2, x1 - res / 2, y1 - res / 2)
    gpd.GeoDataFrame(geometry=[square], crs=crs).to_file(dest, driver="GPKG")
    return dest


def _job(tmp: Path, catalog: Path, aoi: Path, n_dates: int, tile_px: int, workers: int) -> Path:
    """``configs/demo_frequency.yaml`` on ``catalog`` over ``aoi``, its first ``n_dates``
    dates, tiled at ``tile_px`` px on a local cluster."""
    import datetime as dt

    import pystac

    data = yaml.safe_load((ROOT / "configs" / "demo_frequency.yaml").read_text())
    items = pystac.Catalog.from_file(str(catalog)).get_items(recursive=True)
    start = min(it.datetime for it in items if it.datetime is not None).date()
    data["aoi"] = {"file": str(aoi)}
    data["time"]["post"] = {
        "start": start.isoformat(),
        "end": (start + dt.timedelta(days=REPEAT_DAYS * (n_dates - 1))).isoformat(),
    }
    data["sources"].pop("demo")
    data["sources"]["catalog"] = str(catalog)
    data["tiling"] = {"tile_size_px": tile_px}
    data["cluster"] = {
        "kind": "processes",
        "n_workers": workers,
        "threads_per_worker": 1,
        "dashboard": False,
    }
    job = tmp / "job.yaml"
    job.write_text(yaml.safe_dump(data))
    return job


def _one_run(size: int, seed: int, n: int, tiles: int, catalog: Path, workers: int) -> int:
    """One tiled run; prints a JSON line."""
    from eo_drr.config import load_config
    from eo_drr.engine.run import run_job

    scene = _scene(size, seed)
    side, bounds, crs = _square(scene.root, size)
    tile_px = side // round(math.sqrt(tiles))
    with tempfile.TemporaryDirectory(prefix="eo-drr-series-tiled-") as tmp:
        aoi = _aoi(Path(tmp) / "aoi.gpkg", bounds, crs, 10.0)
        job = _job(Path(tmp), catalog, aoi, n, tile_px, workers)
        t0 = time.perf_counter()
        res = run_job(load_config(job), Path(tmp) / "out")
        seconds = time.perf_counter() - t0
        import rasterio

        with rasterio.open(res.outputs["frequency"]) as f:
            n_dates = int(f.tags()["dates"])
            shape = f.shape
    rss = res.summary["peak_rss_mb_per_worker"]
    print(
        json.dumps(
            {
                "dates": n_dates,
                "tiles": res.summary["tiles"],
                "tile_px": tile_px,
                "shape": list(shape),
                "seconds": seconds,
                "worker_peak_mb": max(rss.values()),
                "workers": len(rss),
                "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )
    return 0


def _matrix(size: int, seed: int, dates: list[int], tiles: list[int], workers: int) -> int:
    """Every (dates, tiles) pair, each in a fresh process; a table and a fit per tiling."""
    scene = _scene(size, seed)  # generated once, before timing
    side = _square(scene.root, size)[0]
    print(
        f"water series job, tiled, on {side} x {side} px (10 m) of the {size} px demo, "
        f"{workers} worker processes; dates {REPEAT_DAYS} days apart, each run in a fresh "
        "process"
    )
    print(
        f"{'dates':>5} {'tiles':>5} {'tile px':>7} {'seconds':>8} {'s/date':>7} "
        f"{'worker peak MiB':>15} {'driver peak MiB':>15}"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="eo-drr-series-cat-") as tmp:
        catalog = _catalog(scene.root, max(dates), Path(tmp) / "catalog")
        for t in tiles:
            for n in dates:
                one = f"{n},{t},{catalog}"
                cmd = [sys.executable, __file__, "--one", one, "--size", str(size)]
                cmd += ["--seed", str(seed), "--workers", str(workers)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                rows.append(r)
                print(
                    f"{r['dates']:>5} {r['tiles']:>5} {r['tile_px']:>7} {r['seconds']:>8.1f} "
                    f"{r['seconds'] / r['dates']:>7.2f} {r['worker_peak_mb']:>15.0f} "
                    f"{r['driver_peak_mb']:>15.0f}",
                    flush=True,
                )
    for t in tiles:
        part = [r for r in rows if r["tile_px"] == side // round(math.sqrt(t))]
        if len(part) > 1:  # least squares: seconds = fixed + per_date * dates
            per_date, fixed = np.polyfit(
                [r["dates"] for r in part], [r["seconds"] for r in part], 1
            )
            peaks = [r["worker_peak_mb"] for r in part]
            print(
                f"{part[0]['tiles']} tile(s) of {part[0]['tile_px']} px: time ~ {fixed:.1f} s + "
                f"{per_date:.2f} s x dates; worker peak {min(peaks):.0f}-{max(peaks):.0f} MiB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
