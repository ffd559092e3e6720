"""How much of a first ``eo-drr demo`` is numba compilation: cold (empty cache) and warm.

    python benchmarks/compile_time.py [--size 256] [--json out.json] [--top 25]

Runs ``eo-drr demo --size N`` twice in fresh processes sharing one new, empty numba cache
folder (``NUMBA_CACHE_DIR``): the first run compiles every kernel it calls (cold), the second
loads them from that cache (warm, as every later run does). Inside each run every
``Dispatcher.compile`` call (one per kernel signature: a compile or a cache load, callee
kernels included in their caller's time) is timed; the report gives, per kernel, the seconds
spent outermost in it, the number of signatures and whether they came from the cache, plus
the run's wall time. Numba's one-off set-up in a process (loading its typing and lowering
registries, ~0.3 s, cold or warm) is timed on its own first (a row of its own): otherwise the
first kernel compiled or loaded carries it (a warm ``hydro_cpu.slope_degrees`` took 0.3 s).
Seconds are wall seconds (perf_counter); the demo scene itself is cached in a temporary
EO_DRR_CACHE shared by both runs (generated before the timed runs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

#: code run in the child: time Dispatcher.compile, then run the CLI in-process
_CHILD = r"""
import json, sys, threading, time
from numba.core import dispatcher

INIT = "(numba set-up: target registries)"
_local = threading.local()
_rec = {}
_orig = dispatcher.Dispatcher.compile
_orig_add = dispatcher.Dispatcher.add_overload


def _add(self, cres):
    # marks the innermost timed call of this thread as one that compiled or loaded: a call
    # that waited on numba's compiler lock while another thread compiled is not counted
    if getattr(_local, "stack", None):
        _local.stack[-1] = True
    return _orig_add(self, cres)


def _timed(self, sig):
    name = f"{self.py_func.__module__}.{self.py_func.__qualname__}"
    hits = sum(self._cache_hits.values())
    stack = _local.__dict__.setdefault("stack", [])
    stack.append(False)
    t0 = time.perf_counter()
    try:
        return _orig(self, sig)
    finally:
        dt = time.perf_counter() - t0
        worked = stack.pop()
        if worked:
            r = _rec.setdefault(name, {"outer_s": 0.0, "sigs": 0, "cache_hits": 0})
            if not stack:
                r["outer_s"] += dt
            r["sigs"] += 1
            r["cache_hits"] += sum(self._cache_hits.values()) > hits


dispatcher.Dispatcher.add_overload = _add
dispatcher.Dispatcher.compile = _timed
from eo_drr.cli.main import main

t0 = time.perf_counter()
from numba.core.registry import cpu_target  # numba's one-off set-up, timed on its own

t1 = time.perf_counter()
cpu_target.target_context.refresh()
_rec[INIT] = {"outer_s": time.perf_counter() - t1, "sigs": 0, "cache_hits": 0}
record, sys.argv = sys.argv[1], ["eo-drr", *sys.argv[2:]]
error = None
try:
    main()
except SystemExit as e:
    error = None if e.code in (0, None) else f"exit {e.code}"
except Exception as e:  # noqa: BLE001 - reported with the timings
    error = repr(e)
with open(record, "w") as fh:
    json.dump({"wall_s": time.perf_counter() - t0, "kernels": _rec, "error": error}, fh)
"""


def run_demo(size: int, out: str, env: dict, record: str) -> dict:
    """One ``eo-drr demo`` in a fresh process; returns the child's record (seconds)."""
    cmd = [sys.executable, "-c", _CHILD, record, "demo", "--size", str(size), "-o", out]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process_s = time.perf_counter() - t0
    with open(record, encoding="utf-8") as fh:
        rec = json.load(fh)
    rec["process_s"] = process_s
    rec["compile_s"] = sum(k["outer_s"] for k in rec["kernels"].values())
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=256, help="demo scene side, pixels")
    ap.add_argument("--json", metavar="PATH", help="write both records as JSON")
    ap.add_argument("--top", type=int, default=25, help="kernels listed (slowest first)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="eo-drr-compile-") as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(tmp, "numba"))
        env["EO_DRR_CACHE"] = os.path.join(tmp, "scene")
        # generate the scene (and compile) once in a throw-away numba cache
        warmup_env = dict(env, NUMBA_CACHE_DIR=os.path.join(tmp, "numba-warmup"))
        run_demo(args.size, os.path.join(tmp, "o0"), warmup_env, os.path.join(tmp, "r0.json"))
        runs = {}
        for label in ("cold", "warm"):
            out = os.path.join(tmp, f"out-{label}")
            runs[label] = run_demo(args.size, out, env, os.path.join(tmp, f"{label}.json"))
    cold, warm = runs["cold"], runs["warm"]
    print(f"eo-drr demo --size {args.size}: compile (numba) s / run wall s / process s")
    for label, r in runs.items():
        print(f"  {label:<5} {r['compile_s']:8.2f} {r['wall_s']:8.2f} {r['process_s']:8.2f}")
        if r["error"]:
            print(f"  (the {label} run stopped early: {r['error']})")
    print(f"{'kernel':<58}{'cold s':>8}{'sigs':>5}{'warm s':>8}{'hits':>5}")
    names = sorted(cold["kernels"], key=lambda k: -cold["kernels"][k]["outer_s"])
    for name in names[: args.top]:
        c = cold["kernels"][name]
        w = warm["kernels"].get(name, {"outer_s": 0.0, "cache_hits": 0})
        short = name.removeprefix("eo_drr.")
        print(
            f"{short:<58}{c['outer_s']:8.2f}{c['sigs']:5d}{w['outer_s']:8.3f}{w['cache_hits']:5d}"
        )
    several = {n: k["sigs"] for n, k in cold["kernels"].items() if k["sigs"] > 1}
    if several:  # helpers included: each signature is a compile of its own (~0.02-1 s)
        listed = ", ".join(f"{n.removeprefix('eo_drr.')} ({k})" for n, k in several.items())
        print(f"compiled for several signatures (cold): {listed}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"size": args.size, **runs}, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
