"""Flood water depth accuracy on the demo scene, against its true depth (``flood_depth``).

    python benchmarks/depth_accuracy.py [--size 512] [--seed 42] [--no-job] [--json out.json]

Depth is mapped with FwDET v2 (on the 30 m DEM) and with the HAND method (on the scene's 30 m
HAND layer, and on HAND computed from the DEM), from the TRUE flood extent (permanent water
as the blocking mask) and from the flood job's MAPPED extent (``flood_extent.tif`` of the demo
flood job: its still-water and no-data codes block edges; and once more with WorldCover
forest and built-up as FwDET v2's exclusion mask, where SAR misses flooding). Scores over the pixels flooded in
both the truth and the map, where the estimate is finite: median absolute error and bias
(mean of estimate - truth), metres; targets: median absolute error <= 0.25 m, |bias| <= 0.10 m.
The scene and the job's output go to a temporary folder (the scene into EO_DRR_CACHE if set).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import rioxarray

import eo_drr
from eo_drr.demo import ensure_demo_scene
from eo_drr.errors import NoDataError

TARGET_MAE_M, TARGET_BIAS_M = 0.25, 0.10


def _read(path: Path) -> np.ndarray:
    return np.asarray(rioxarray.open_rasterio(path).squeeze("band", drop=True).values)


def _score(depth: np.ndarray, truth: np.ndarray, flooded: np.ndarray) -> dict[str, float]:
    ok = flooded & np.isfinite(depth)
    err = depth[ok].astype(np.float64) - truth[ok]
    return {
        "pixels": int(ok.sum()),
        "coverage": round(float(ok.sum() / max(flooded.sum(), 1)), 4),
        "median_abs_error_m": round(float(np.median(np.abs(err))), 4),
        "bias_m": round(float(err.mean()), 4),
        "p90_abs_error_m": round(float(np.quantile(np.abs(err), 0.9)), 4),
    }


def _mapped_extent(size: int, seed: int, out: Path) -> Path:
    job = eo_drr.demo_job(size=size, seed=seed)
    eo_drr.run(job, out)
    return out / "flood_extent.tif"


def _forest_built(scene):
    """WorldCover tree cover (10) and built-up (50) as a 1/0 DataArray."""
    lc = rioxarray.open_rasterio(next((scene.root / "esa-worldcover").glob("*/map.tif")))
    lc = lc.squeeze("band", drop=True)
    return lc.isin([10, 50]).astype(np.uint8).rio.write_crs(lc.rio.crs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-job", action="store_true", help="score the true extent only")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    scene = ensure_demo_scene(seed=args.seed, size=args.size)
    truth = _read(scene.truth["flood_depth"])
    true_flood = _read(scene.truth["flood"]) == 1
    dem = next((scene.root / "cop-dem-glo-30").glob("*/data.tif"))
    hand = next((scene.root / "demo-hand").glob("*/data.tif"))
    variants = {
        "fwdet (DEM)": {"method": "fwdet"},
        "hand (scene HAND)": {"method": "hand", "hand": hand},
        "hand (HAND from DEM)": {"method": "hand"},
    }
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        extents = {"true extent": (scene.truth["flood"], scene.truth["permanent_water"])}
        if not args.no_job:
            t0 = time.perf_counter()
            mapped = _mapped_extent(args.size, args.seed, Path(tmp) / "job")
            extents["mapped extent (flood job)"] = (mapped, None)
            # v2's exclusion mask: SAR misses flooding under forest and among buildings, so
            # the map's edges there are no evidence of the water surface
            extents["mapped extent, forest + built-up excluded"] = (mapped, _forest_built(scene))
            print(f"flood job: {time.perf_counter() - t0:.1f} s")
        for ext_name, (flood, mask) in extents.items():
            map_flood = _read(Path(flood)) == 1
            both = map_flood & true_flood
            print(
                f"\n{ext_name}: {int(map_flood.sum())} px mapped, {int(true_flood.sum())} true, "
                f"{int(both.sum())} in both"
            )
            for name, kw in variants.items():
                t0 = time.perf_counter()
                try:
                    masks = {
                        "exclude" if ext_name.endswith("excluded") else "permanent_water": mask
                    }
                    d = eo_drr.depth(flood, dem, **masks, **kw).values
                except NoDataError as exc:
                    print(f"  {name:22s} no estimate: {exc}")
                    continue
                s = _score(d, truth, both)
                s["seconds"] = round(time.perf_counter() - t0, 2)
                s["meets_targets"] = bool(
                    s["median_abs_error_m"] <= TARGET_MAE_M and abs(s["bias_m"]) <= TARGET_BIAS_M
                )
                results[f"{ext_name} / {name}"] = s
                print(
                    f"  {name:22s} median |err| {s['median_abs_error_m']:.3f} m  "
                    f"bias {s['bias_m']:+.3f} m  p90 |err| {s['p90_abs_error_m']:.3f} m  "
                    f"coverage {s['coverage']:.3f}  ({s['seconds']:.1f} s)"
                    + ("" if s["meets_targets"] else "  [misses a target]")
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
