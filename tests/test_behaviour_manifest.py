"""The jobs' results do not change by accident: the demo flood job (whole and tiled), the urban
job and the wetlands job at test size are compared with a recorded manifest of their outputs.

Each raster is fingerprinted by its decoded pixels (SHA-256 of the array bytes, so that a GDAL
update that re-encodes the same pixels does not fail), each table by its rows with floats
rounded to 6 significant digits. A deliberate change of results is recorded again with

    python tests/test_behaviour_manifest.py --record

and the new manifest is committed with the change that explains it. The test session runs on
pinned CPU code paths (x86-64-v3: ``CPU_PINS`` in conftest.py), so that the fingerprints do
not depend on the CPU that runs the tests; a run that cannot be pinned fails (numpy imported
too early) or skips (no AVX2/FMA) with the reason.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest import CPU_UNPINNED  # noqa: E402

MANIFEST = Path(__file__).parent / "data" / "behaviour_manifest.json"
JOBS = {
    "flood": ("demo.yaml", {}),
    "flood_tiled": ("demo.yaml", {"tiling": {"tile_size_px": 128}}),
    "urban_growth": ("urban_growth_demo.yaml", {}),
    "wetlands": ("wetlands_demo.yaml", {}),
}


def recorded(job: str) -> dict[str, str]:
    """The manifest's fingerprints of ``job``, where this session's results can be compared
    with them bit for bit (fails or skips with the reason where they cannot)."""
    if CPU_UNPINNED:
        if CPU_UNPINNED.startswith("numpy was imported"):
            pytest.fail(CPU_UNPINNED)
        pytest.skip(CPU_UNPINNED)
    return json.loads(MANIFEST.read_text())[job]


def _raster(path: Path) -> str:
    import rasterio

    with rasterio.open(path) as f:
        a = f.read()
    return hashlib.sha256(
        np.ascontiguousarray(a).tobytes() + str((a.dtype, a.shape)).encode()
    ).hexdigest()[:16]


def _table(path: Path) -> str:
    import pandas as pd

    df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    df = df.drop(columns=[c for c in ("geometry",) if c in df.columns])
    text = df.to_csv(index=False, float_format="%.6g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(folder: Path) -> dict[str, str]:
    """``{relative path: fingerprint}`` of the rasters and tables under ``folder``."""
    out = {}
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder).as_posix()
        if rel.startswith(".") or "/." in rel or "tiles/" in rel:
            continue
        if f.suffix == ".tif":
            out[rel] = _raster(f)
        elif f.suffix in (".csv", ".parquet"):
            out[rel] = _table(f)
    return out


def run_jobs(tmp: Path) -> dict[str, dict[str, str]]:
    from test_cli import eo_drr, small_demo_job

    result = {}
    for name, (config, changes) in JOBS.items():
        (tmp / name).mkdir(parents=True)
        job = small_demo_job(tmp / name, config, **changes)
        res = eo_drr("run", job, "-o", tmp / name / "out")
        if res.returncode != 0:
            raise AssertionError(f"{name}: {res.stderr}")
        result[name] = fingerprint(tmp / name / "out")
    return result


@pytest.mark.slow
def test_results_match_the_recorded_manifest(tmp_path, small_demo_scene):
    want = {name: recorded(name) for name in JOBS}
    got = run_jobs(tmp_path)
    for name in JOBS:
        assert got[name].keys() == want[name].keys(), name
        changed = sorted(k for k in got[name] if got[name][k] != want[name][k])
        assert not changed, (
            f"{name}: results changed: {changed} (if on purpose, record again: see the module docstring)"
        )


if __name__ == "__main__" and "--record" in sys.argv:
    import os
    import tempfile

    from conftest import CPU_PINS

    if any(os.environ.get(k) != v for k, v in CPU_PINS.items()):  # numpy is imported: re-run
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **CPU_PINS})
    if CPU_UNPINNED:
        sys.exit(f"cannot record on pinned CPU code paths: {CPU_UNPINNED}")

    os.environ.setdefault("EO_DRR_CACHE", tempfile.mkdtemp())
    from conftest import DEMO_TEST_SEED, DEMO_TEST_SIZE

    from eo_drr.demo import ensure_demo_scene

    ensure_demo_scene(seed=DEMO_TEST_SEED, size=DEMO_TEST_SIZE)
    with tempfile.TemporaryDirectory() as d:
        MANIFEST.parent.mkdir(exist_ok=True)
        MANIFEST.write_text(json.dumps(run_jobs(Path(d)), indent=1, sort_keys=True) + "\n")
    print(f"recorded {MANIFEST}")
