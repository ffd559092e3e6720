"""Water frequency on the demo Sentinel-1 series against its truth, and the cost of appending
one acquisition to a 30-date cube against mapping that acquisition alone.

    python benchmarks/frequency_accuracy.py [--size 512] [--seed 42] [--repeats 3]

Runs ``configs/demo_frequency.yaml`` on the demo scene of that size (generated on first use),
then prints the mean absolute error of ``water_frequency.tif`` against the scene's truth
``water_frequency`` over pixels with >= 3 valid observations (target <= 0.10), and the median
seconds of (a) mapping the series' last acquisition alone (load + ``s1_water``) and (b) the
same plus appending it to a copy of the cube holding the other 30 dates and recomputing the
frequency from the cube (target: b / a <= 1.5).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from eo_drr.config import load_config
    from eo_drr.engine.run import run_job
    from eo_drr.io import zarr_cube
    from eo_drr.jobs.inputs import demo_scene
    from eo_drr.pipelines import water_series as ws
    from eo_drr.products import frequency as fq

    tmp = Path(tempfile.mkdtemp(prefix="eo-drr-frequency-"))
    try:
        data = yaml.safe_load((ROOT / "configs" / "demo_frequency.yaml").read_text())
        data["sources"]["demo"] = {"seed": args.seed, "size": args.size, "landscape": "floodplain"}
        job = tmp / "job.yaml"
        job.write_text(yaml.safe_dump(data))
        cfg = load_config(job)
        scene = demo_scene(cfg)
        t0 = time.perf_counter()
        res = run_job(cfg, tmp / "out")
        seconds = time.perf_counter() - t0
        with rasterio.open(scene.truth["water_frequency"]) as f:
            truth = f.read(1)
        with rasterio.open(res.outputs["frequency"]) as f:
            freq = f.read(1)
        with rasterio.open(res.outputs["observations"]) as f:
            n_obs = f.read(1)
        ok = n_obs >= 3
        mae = float(np.abs(freq[ok] - truth[ok]).mean())
        print(
            f"demo series: {res.summary['dates']} dates, {args.size} x {args.size} px, run {seconds:.1f} s"
        )
        print(
            f"frequency MAE vs truth (>= 3 valid obs, {ok.mean():.1%} of pixels): {mae:.4f} (target <= 0.10)"
        )
        print("class areas (ha):", res.summary["class_ha"])

        plan = ws.plan(cfg)
        last = plan.acquisitions[-1]
        cube = tmp / "out" / "water_series.zarr"
        base = tmp / "base30.zarr"
        ds = zarr_cube.open_cube(cube)
        assert ds is not None
        from eo_drr.load.grid import crs_wkt

        crs = crs_wkt(plan.geobox)
        values = ds["water"].values[:-1]
        zarr_cube.append_slices(
            base, values, list(ds["time"].values[:-1]), crs=crs, transform=plan.geobox.transform
        )
        alone, append = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            ws.map_acquisition(cfg, plan, last)
            alone.append(time.perf_counter() - t)
            trial = tmp / "trial.zarr"
            shutil.rmtree(trial, ignore_errors=True)
            shutil.copytree(base, trial)
            t = time.perf_counter()
            water = ws.map_acquisition(cfg, plan, last)
            zarr_cube.append_slices(
                trial,
                water[None],
                [ws.cube_time(last.time)],
                crs=crs,
                transform=plan.geobox.transform,
            )
            again = zarr_cube.open_cube(trial)
            assert again is not None
            fq.water_frequency(again["water"])
            append.append(time.perf_counter() - t)
        a, b = statistics.median(alone), statistics.median(append)
        print(
            f"map one acquisition alone: {a:.2f} s; map + append to the 30-date cube + frequency: {b:.2f} s"
        )
        print(f"append cost ratio: {b / a:.2f} (target <= 1.5)")
        return 0 if mae <= 0.10 and b / a <= 1.5 else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
