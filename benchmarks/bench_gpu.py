"""The CUDA kernels on a real card against its memory bandwidth (issue 21, "GPU for real").

    python benchmarks/bench_gpu.py [--size 8192] [--repeats 10] [--json out.json]

For a session lent a GPU: one short run that records, for each kernel called through the
public API on numba device arrays (``eo_drr.indices``: NDWI, NDVI, Lee 7 x 7, the histogram
with a range, Otsu), its best time over ``--repeats`` calls (``cuda.synchronize`` after each),
its memory traffic (bytes read + written, GB/s = 1e9 bytes per second) and two ratios:

- ``of peak``: GB/s over the card's theoretical bandwidth, 2 x memory clock x bus width (from
  the device attributes; issue 21's target for the indices is at least 0.75);
- ``of copy``: GB/s over a device-to-device copy of the same bytes timed in the same run (what
  the card really moves; the faster bound).

The kernels allocate their outputs on every call (``cuda.device_array``, no memory pool), as
the library does; the copy reuses its destination. ``--simulator`` runs a 64 x 64 smoke test
under numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, no figures worth reading), which is
how ``tests/test_bench_gpu.py`` keeps this script working on machines without a GPU. The CUDA
tests themselves run on the card with ``EO_DRR_CUDASIM_CHILD=1 python -m pytest
tests/test_kernels_cuda.py -k "sim_ and not sim_environment"`` (without
``NUMBA_ENABLE_CUDASIM`` they use the device; ``sim_environment`` checks the simulator).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _peak_gbps(dev: Any) -> float | None:
    """Theoretical bandwidth (GB/s) from the device attributes (kHz, bits); None if unknown."""
    try:
        clock_khz = int(dev.MEMORY_CLOCK_RATE)
        bus_bits = int(dev.GLOBAL_MEMORY_BUS_WIDTH)
    except (AttributeError, TypeError, ValueError, KeyError):
        return None
    return 2.0 * clock_khz * 1e3 * bus_bits / 8 / 1e9 if clock_khz and bus_bits else None


def _best(fn: Callable[[], Any], repeats: int) -> float:
    """Best wall time (s) of ``fn`` followed by a device synchronisation, after one warm-up."""
    from numba import cuda

    fn()
    cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def run(size: int, repeats: int) -> dict:
    from numba import cuda

    from eo_drr.indices import sar, spectral
    from eo_drr.indices import threshold as thr

    dev = cuda.get_current_device()
    peak = _peak_gbps(dev)
    rng = np.random.default_rng(0)
    g = rng.integers(1, 10000, (size, size), dtype=np.uint16)
    n = rng.integers(1, 10000, (size, size), dtype=np.uint16)
    x = rng.gamma(4.4, 1 / 4.4, (size, size)).astype(np.float32)
    db = (10 * np.log10(x) - 10).astype(np.float32)
    d_g, d_n, d_x, d_db = (cuda.to_device(a) for a in (g, n, x, db))
    px = size * size
    cases: list[tuple[str, Callable[[], Any], int]] = [
        ("ndwi", lambda: spectral.ndwi(d_g, d_n), px * (2 + 2 + 4)),
        ("ndvi", lambda: spectral.ndvi(d_n, d_g), px * (2 + 2 + 4)),
        ("lee 7x7", lambda: sar.lee(d_x, 7), px * (4 + 4)),
        ("histogram(range)", lambda: thr.histogram(d_db, 256, range=(-40, 10)), px * 4),
        ("otsu_threshold", lambda: thr.otsu_threshold(d_db), px * 4 * 2),
    ]
    rows = []
    for name, fn, traffic in cases:
        src = cuda.device_array(traffic // 2, dtype=np.uint8)
        dst = cuda.device_array(traffic // 2, dtype=np.uint8)
        t = _best(fn, repeats)
        t_copy = _best(lambda s=src, d=dst: d.copy_to_device(s), repeats)
        gbps = traffic / t / 1e9
        copy_gbps = traffic / t_copy / 1e9
        rows.append(
            {
                "kernel": name,
                "best_s": t,
                "traffic_bytes": traffic,
                "gbps": gbps,
                "copy_s": t_copy,
                "copy_gbps": copy_gbps,
                "of_copy": gbps / copy_gbps,
                "of_peak": gbps / peak if peak else None,
            }
        )
        del src, dst
    name = getattr(dev, "name", "CUDA simulator")
    name = name.decode() if isinstance(name, bytes) else str(name)
    return {"device": name, "peak_gbps": peak, "size": size, "rows": rows}


def _print(res: dict) -> None:
    peak = res["peak_gbps"]
    print(
        f"{res['device']}, {res['size']}^2, theoretical bandwidth "
        + (f"{peak:.0f} GB/s" if peak else "unknown")
    )
    print(f"{'kernel':<18}{'best ms':>9}{'GB/s':>9}{'copy GB/s':>11}{'of copy':>9}{'of peak':>9}")
    for r in res["rows"]:
        of_peak = f"{r['of_peak']:.2f}" if r["of_peak"] is not None else "-"
        print(
            f"{r['kernel']:<18}{r['best_s'] * 1e3:9.3f}{r['gbps']:9.0f}{r['copy_gbps']:11.0f}"
            f"{r['of_copy']:9.2f}{of_peak:>9}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=8192, help="side of the rasters (pixels)")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--simulator", action="store_true", help="64 x 64 smoke test, no GPU")
    args = ap.parse_args(argv)
    if args.simulator:
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
        args.size, args.repeats = 64, 1
    from numba import cuda

    if not cuda.is_available():
        print("no usable CUDA device (numba.cuda.is_available() is False)", file=sys.stderr)
        return 2
    res = run(args.size, args.repeats)
    _print(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
