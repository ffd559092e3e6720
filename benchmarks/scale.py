"""Scale benchmark of tiled jobs: wall time, throughput and peak memory vs the number of tiles.

On the synthetic demo scene (its COGs are the inputs), the flood job is run with ``eo-drr run``
in a fresh process per case over an AOI of 1, 2x2 and 4x4 tiles of the fixed tile grid:

- tiled (``--tile-size``), tiles one after another in the CLI process (``cluster.kind:
  threads``): peak RSS of that process must stay flat as the AOI grows;
- the same AOIs untiled (one grid for the whole AOI), for contrast;
- the largest AOI on a ``LocalCluster`` of 2 worker processes (1 thread each) vs threads:
  throughput, and each worker's peak RSS as recorded in the job ledger.

Peak RSS is the process's ``ru_maxrss`` (``os.wait4``); worker peaks come from the ledger's
``peak_rss_mb``. Wall time includes starting Python and importing eo-drr (about 5-7 s here).

    python benchmarks/scale.py [--quick] [--json out.json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _scene(size: int, seed: int):
    from eo_drr.demo import ensure_demo_scene

    return ensure_demo_scene(seed=seed, size=size)


def _aoi_for_tiles(scene, tile_px: int, k: int, res: float = 10.0) -> list[float]:
    """WGS84 bbox of k x k whole tiles of the fixed grid inside the scene (inset by a pixel)."""
    import rasterio
    from pyproj import Transformer

    vv = next(scene.root.glob("sentinel-1-rtc/*/vv.tif"))
    with rasterio.open(vv) as src:
        b, epsg = src.bounds, src.crs.to_epsg()
    size = tile_px * res
    ix0, iy0 = math.ceil(b.left / size), math.ceil(b.bottom / size)
    if (ix0 + k) * size > b.right or (iy0 + k) * size > b.top:
        raise SystemExit(f"the scene is too small for {k}x{k} tiles of {tile_px} px")
    x0, x1 = ix0 * size + res, (ix0 + k) * size - res
    y0, y1 = iy0 * size + res, (iy0 + k) * size - res
    tf = Transformer.from_crs(epsg, 4326, always_xy=True)
    (w, e), (s, n) = tf.transform([x0, x1], [y0, y1])
    return [w, s, e, n]


def _job(folder: Path, size: int, seed: int, bbox, cluster: dict, tile_px: int | None) -> Path:
    data = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
    data["sources"]["demo"] = {"seed": seed, "size": size, "landscape": "floodplain"}
    data["aoi"] = {"bbox": list(bbox)}
    data.pop("exposure", None)
    data["cluster"] = cluster
    if tile_px:
        data["tiling"] = {"tile_size_px": tile_px}
    p = folder / f"job-{len(list(folder.glob('job-*.yaml')))}.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _run(job: Path, out: Path) -> dict:
    exe = Path(sys.executable).with_name("eo-drr")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(exe), "run", str(job), "-o", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close(), proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"eo-drr run {job} failed:\n{stderr[-3000:]}")
    manifest = json.loads((out / "run.json").read_text())
    res = {"wall_s": round(wall, 2), "job_s": manifest["summary"].get("seconds"),
           "cli_peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}
    ledger = out / ".eo-drr-ledger.sqlite"
    if ledger.exists():
        con = sqlite3.connect(ledger)
        rows = con.execute("SELECT worker, peak_rss_mb, seconds FROM tiles WHERE current=1").fetchall()
        con.close()
        per_worker: dict[str, float] = {}
        for w, rss, _ in rows:
            per_worker[w] = max(per_worker.get(w, 0.0), rss or 0.0)
        res["tile_peak_rss_mb"] = round(max(per_worker.values()), 1)
        res["workers"] = len(per_worker)
        res["tile_seconds_mean"] = round(sum(r[2] for r in rows) / len(rows), 2)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small scene and tiles (CI)")
    ap.add_argument("--json", type=Path, help="write the results as JSON")
    ap.add_argument("--keep", type=Path, help="keep the outputs in this folder")
    args = ap.parse_args(argv)
    size, tile_px = (384, 64) if args.quick else (1280, 256)
    seed = 7
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="eo-drr-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"demo scene {size} px (generating on first use) ...", flush=True)
    scene = _scene(size, seed)
    threads = {"kind": "threads"}
    procs = {"kind": "processes", "n_workers": 2, "threads_per_worker": 1, "dashboard": False}
    cases = []
    for k in (1, 2, 4):
        bbox = _aoi_for_tiles(scene, tile_px, k)
        for mode, cluster, tiled in (("tiled, threads", threads, True), ("untiled, threads", threads, False)):
            cases.append((k * k, mode, bbox, cluster, tiled))
    cases.append((16, "tiled, 2 worker processes", _aoi_for_tiles(scene, tile_px, 4), procs, True))
    results = []
    for n, mode, bbox, cluster, tiled in cases:
        out = work / f"out-{n}-{mode.replace(' ', '').replace(',', '-')}"
        shutil.rmtree(out, ignore_errors=True)
        job = _job(work, size, seed, bbox, cluster, tile_px if tiled else None)
        r = _run(job, out)
        mpx = n * tile_px * tile_px / 1e6
        r.update({"tiles": n, "mode": mode, "megapixels": round(mpx, 3),
                  "mpx_per_s": round(mpx / r["job_s"], 3) if r.get("job_s") else None})
        results.append(r)
        print(f"  {n:>2} tiles  {mode:<27} wall {r['wall_s']:6.1f} s  job {r['job_s']:6.1f} s  "
              f"CLI peak {r['cli_peak_rss_mb']:6.0f} MiB  tile peak {r.get('tile_peak_rss_mb', '-')!s:>6} MiB",
              flush=True)
    print()
    print(f"| tiles ({tile_px} px) | mode | job s | Mpx/s | peak RSS CLI (MiB) | peak RSS per tile worker (MiB) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['tiles']} | {r['mode']} | {r['job_s']} | {r['mpx_per_s']} | {r['cli_peak_rss_mb']} | "
              f"{r.get('tile_peak_rss_mb', '-')} |")
    tiled = [r for r in results if r["mode"] == "tiled, threads"]
    flat = tiled[-1]["tile_peak_rss_mb"] / tiled[0]["tile_peak_rss_mb"]
    untiled = [r for r in results if r["mode"] == "untiled, threads"]
    grow = untiled[-1]["cli_peak_rss_mb"] / untiled[0]["cli_peak_rss_mb"]
    t16 = next(r for r in results if r["mode"] == "tiled, threads" and r["tiles"] == 16)
    p16 = next(r for r in results if r["mode"].startswith("tiled, 2 worker"))
    summary = {
        "scene_px": size, "tile_px": tile_px, "cores": os.cpu_count(),
        "tiled_peak_rss_16_over_1": round(flat, 3),
        "untiled_peak_rss_16_over_1": round(grow, 3),
        "processes_over_threads_throughput_16_tiles": round(t16["job_s"] / p16["job_s"], 3),
        "cases": results,
    }
    print(f"\npeak RSS, 16 tiles / 1 tile: tiled {flat:.2f}x, untiled {grow:.2f}x; "
          f"2 worker processes vs threads (16 tiles): {summary['processes_over_threads_throughput_16_tiles']:.2f}x "
          f"throughput on {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
