"""benchmarks/bench_gpu.py, the script a session lent a GPU runs once, keeps working: its
64 x 64 smoke run under numba's CUDA simulator (a child process: the simulator must be set
before numba is imported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gpu.py"


def test_gpu_benchmark_runs_under_the_simulator(tmp_path):
    out = tmp_path / "gpu.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--simulator", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    kernels = [r["kernel"] for r in res["rows"]]
    assert kernels == ["ndwi", "ndvi", "lee 7x7", "histogram(range)", "otsu_threshold"]
    for r in res["rows"]:
        assert r["best_s"] > 0 and r["copy_s"] > 0 and r["traffic_bytes"] > 0
        assert r["of_copy"] == r["gbps"] / r["copy_gbps"]
    assert "otsu_threshold" in proc.stdout
