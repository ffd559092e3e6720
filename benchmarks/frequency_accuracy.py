"""Water frequency on the demo Sentinel-1 series against its truth, the cost of appending
one acquisition to a 30-date cube against mapping that acquisition alone, and how the series
job's time and memory grow with the number of dates.

    python benchmarks/frequency_accuracy.py [--size 512] [--seed 42] [--repeats 3]
    python benchmarks/frequency_accuracy.py --dates 4,8,16,31 [--size 256]

Runs ``configs/demo_frequency.yaml`` on the demo scene of that size (generated on first use),
then prints the mean absolute error of ``water_frequency.tif`` against the scene's truth
``water_frequency`` over pixels with >= 3 valid observations (target <= 0.10), and the median
seconds of (a) mapping the series' last acquisition alone (load + ``s1_water``) and (b) the
same plus appending it to a copy of the cube holding the other 30 dates and recomputing the
frequency from the cube's counts (target: b / a <= 1.5), and the best milliseconds of opening
the 31-date cube and reading one pixel's series.

``--dates``: the job on the first N dates of the series, for each N, each in a fresh process
(its own peak memory): wall seconds of the whole run (plan, map, append, frequency, COGs,
report), seconds per date, and the peak resident memory (MiB, ``ru_maxrss``). The cube is
appended date by date and the frequency taken from its counts, so the peak should stay flat as
N grows and the time grow about linearly.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
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
    ap.add_argument("--dates", help="numbers of dates to time, comma-separated (e.g. 4,8,16,31)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one run of --dates (a child)
    args = ap.parse_args()
    if args.one:
        return _one_run(args.size, args.seed, args.one)
    if args.dates:
        return _dates_axis(args.size, args.seed, [int(n) for n in args.dates.split(",")])

    from eo_drr.config import load_config
    from eo_drr.engine.run import run_job
    from eo_drr.io import zarr_cube
    from eo_drr.jobs.inputs import demo_scene
    from eo_drr.pipelines import water_series as ws
    from eo_drr.products import frequency as fq

    tmp = Path(tempfile.mkdtemp(prefix="eo-drr-frequency-"))
    try:
        cfg = load_config(_job(tmp, args.size, args.seed))
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
                [zarr_cube.cube_time(last.time)],
                crs=crs,
                transform=plan.geobox.transform,
            )
            again = zarr_cube.open_cube(trial)
            assert again is not None
            n = zarr_cube.counts(again)
            fq.from_counts(n["water_count"], n["valid_count"])
            append.append(time.perf_counter() - t)
        a, b = statistics.median(alone), statistics.median(append)
        print(
            f"map one acquisition alone: {a:.3f} s; map + append to the 30-date cube + frequency: {b:.3f} s"
        )
        print(f"append cost ratio: {b / a:.2f} (target <= 1.5)")
        print(f"one pixel's 31-date series (open_zarr + read): {_pixel_read(trial):.1f} ms")
        return 0 if mae <= 0.10 and b / a <= 1.5 else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pixel_read(cube: Path, repeats: int = 7) -> float:
    """Best of ``repeats`` milliseconds to open the cube with ``xarray.open_zarr`` and read
    one pixel's whole series (the cube's per-pixel time read)."""
    import xarray as xr

    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        water = xr.open_zarr(cube)["water"]
        water[:, water.shape[1] // 2, water.shape[2] // 3].load()
        best = min(best, time.perf_counter() - t)
    return best * 1e3


def _job(tmp: Path, size: int, seed: int, n_dates: int | None = None) -> Path:
    """``configs/demo_frequency.yaml`` on the demo of ``size`` px, on its first ``n_dates``
    dates (None: all)."""
    data = yaml.safe_load((ROOT / "configs" / "demo_frequency.yaml").read_text())
    data["sources"]["demo"] = {"seed": seed, "size": size, "landscape": "floodplain"}
    job = tmp / "job.yaml"
    job.write_text(yaml.safe_dump(data))
    if n_dates is not None:
        from eo_drr.config import load_config
        from eo_drr.pipelines import water_series as ws

        acqs = ws.plan(load_config(job)).acquisitions
        data["time"]["post"]["end"] = acqs[min(n_dates, len(acqs)) - 1].time.date().isoformat()
        job.write_text(yaml.safe_dump(data))
    return job


def _one_run(size: int, seed: int, n_dates: int) -> int:
    """One run of the job on its first ``n_dates`` dates; prints a JSON line."""
    from eo_drr.config import load_config
    from eo_drr.engine.run import run_job

    with tempfile.TemporaryDirectory(prefix="eo-drr-dates-") as tmp:
        job = _job(Path(tmp), size, seed, n_dates)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        res = run_job(load_config(job), Path(tmp) / "out")
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "dates": res.summary["dates"],
                "seconds": seconds,
                "peak_mb": peak,
                "before_mb": before,
            }
        )
    )
    return 0


def _dates_axis(size: int, seed: int, counts: list[int]) -> int:
    """The job on the first N dates for each N of ``counts``, each in a fresh process."""
    from eo_drr.config import load_config
    from eo_drr.jobs.inputs import demo_scene

    with tempfile.TemporaryDirectory(prefix="eo-drr-dates-") as tmp:
        demo_scene(load_config(_job(Path(tmp), size, seed)))  # generated once, before timing
    print(f"water series job on the demo at {size} x {size} px, each N in a fresh process")
    print(f"{'dates':>5} {'seconds':>8} {'s/date':>7} {'peak MiB':>9} {'at start':>9}")
    rows = []
    for n in counts:
        cmd = [sys.executable, __file__, "--one", str(n), "--size", str(size), "--seed", str(seed)]
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(line.strip().splitlines()[-1])
        rows.append(r)
        print(
            f"{r['dates']:>5} {r['seconds']:>8.1f} {r['seconds'] / r['dates']:>7.2f} "
            f"{r['peak_mb']:>9.0f} {r['before_mb']:>9.0f}"
        )
    if len(rows) > 1:  # least squares: seconds = fixed + per_date * dates
        per_date, fixed = np.polyfit([r["dates"] for r in rows], [r["seconds"] for r in rows], 1)
        peaks = [r["peak_mb"] for r in rows]
        print(f"time ~ {fixed:.1f} s + {per_date:.2f} s x dates (least squares)")
        print(f"peak memory {min(peaks):.0f}-{max(peaks):.0f} MiB over {counts} dates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
