"""Runtime of the full flood product against reading its inputs once (target: <= 4x).

Issue 21's target for the product is 4x; the whole tiled job's (benchmarks/scale.py) is 3x.

Writes a synthetic Sentinel-1 pair (pre and post, VV and VH, linear gamma0 float32, tiled
deflate GeoTIFFs like an RTC product: land at -8 dB, a river and, after the event, a flood;
gamma speckle ENL 4.4) into a temporary folder, then times, alternately in the same run:

* ``read``: reading the four rasters once into memory (rasterio, the same call the product's
  loaders end in);
* ``flood``: reading them and running :func:`eo_drr.products.flood.flood_extent` (speckle
  filter, split-based thresholds for both scenes, region growing, change detection, masks).

    python benchmarks/flood_runtime.py             # 10980 x 10980 (one S2-tile-sized pair)
    python benchmarks/flood_runtime.py --size 2048 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
from rasterio.transform import from_origin


def _scene(n: int, seed: int, flooded: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    river = np.abs(yy - 0.5 - 0.1 * np.sin(6 * xx)) < 0.02
    flood = np.abs(yy - 0.5 - 0.1 * np.sin(6 * xx)) < 0.12
    water = flood if flooded else river
    vv_db = np.where(water, -21.0, -8.0).astype(np.float32)
    speck = lambda: rng.gamma(4.4, 1 / 4.4, (n, n)).astype(np.float32)  # noqa: E731
    vv = (10 ** (vv_db / 10) * speck()).astype(np.float32)
    vh = (10 ** ((vv_db - 7) / 10) * speck()).astype(np.float32)
    return vv, vh


def _write(path: Path, a: np.ndarray) -> Path:
    prof = dict(
        driver="GTiff",
        width=a.shape[1],
        height=a.shape[0],
        count=1,
        dtype="float32",
        crs="EPSG:32615",
        transform=from_origin(500000, 2000000, 10, 10),
        tiled=True,
        blockxsize=512,
        blockysize=512,
        compress="deflate",
        nodata=float("nan"),
    )
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(a, 1)
    return path


def _read(paths: list[Path]) -> list[np.ndarray]:
    out = []
    for p in paths:
        with rasterio.open(p) as src:
            out.append(src.read(1))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10980)
    ap.add_argument("--quick", action="store_true", help="2048 x 2048 (CI)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    n = 2048 if args.quick else args.size

    from eo_drr.products.flood import flood_extent

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = []
        for name, (seed, flooded) in {"pre": (1, False), "post": (2, True)}.items():
            vv, vh = _scene(n, seed, flooded)
            paths += [
                _write(Path(tmp) / f"{name}_vv.tif", vv),
                _write(Path(tmp) / f"{name}_vh.tif", vh),
            ]
            del vv, vh
        print(f"wrote a {n} x {n} S1 pair (VV+VH, float32) in {time.perf_counter() - t0:.1f} s")

        def run_flood():
            pre_vv, pre_vh, post_vv, post_vh = (
                xr.DataArray(a, dims=("y", "x")) for a in _read(paths)
            )
            ds, _ = flood_extent(pre_vv, post_vv, pre_vh=pre_vh, post_vh=post_vh)
            return ds

        ds = run_flood()  # warm-up (numba compilation, page cache)
        truth_flood = None
        reads, floods = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            _read(paths)
            reads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ds = run_flood()
            floods.append(time.perf_counter() - t0)
        r, f = statistics.median(reads), statistics.median(floods)
        flooded = float((ds["flood"].values == 1).mean())
        del truth_flood
    print(f"read inputs once  {r:8.2f} s")
    print(
        f"full flood        {f:8.2f} s   ratio {f / r:.2f}x (target <= 4x)   flooded share {flooded:.3f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "size": n,
                    "read_s": r,
                    "flood_s": f,
                    "ratio": f / r,
                    "reads": reads,
                    "floods": floods,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
