"""The water series job under `eo-drr monitor` (new acquisitions appended to the one cube of
the output folder, old dates not mapped again, a killed append completed by the next monitor
run), a tiled run refused in the folder of an untiled series, and its HTML report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from eo_drr.io import zarr_cube

sys.path.insert(0, str(Path(__file__).parent))

EARLY = {"time.post.end": "2024-02-28"}  # the first 10 dates of the demo series


def _cube_dates(out: Path) -> int:
    return xr.open_zarr(out / "water_series.zarr").sizes["time"]


def test_monitor_appends_only_the_new_dates_to_the_one_cube(
    tmp_path, small_demo_scene, monkeypatch
):
    from test_cli import small_demo_job

    from eo_drr.config import load_config
    from eo_drr.engine.monitor import run_monitor, scan_new
    from eo_drr.engine.run import run_job
    from eo_drr.pipelines import water_series as ws

    out = tmp_path / "out"
    early = load_config(small_demo_job(tmp_path, "demo_frequency.yaml", **EARLY))
    first = run_job(early, out)
    assert first.summary["dates"] == 10
    with rasterio.open(out / "water_frequency.tif") as f:
        freq_before = f.read(1)

    found = scan_new(early, out)  # monitor: time.post is open-ended, the cube is the record
    assert len(found.new) == 21 and found.since.startswith("2024-02-")
    assert {a.folder for a in found.new} == {"water_series.zarr"}

    mapped = []
    original = ws.map_acquisition

    def counting(cfg, p, acq):
        mapped.append(acq.time)
        return original(cfg, p, acq)

    monkeypatch.setattr(ws, "map_acquisition", counting)
    scans = []
    _, results = run_monitor(early, out, on_scan=scans.append)
    assert len(mapped) == 21 and min(mapped) > max(a.time for a in ws.plan(early).acquisitions)
    assert len(scans) == 1 and len(results) == 1 and results[0]["folder"] == str(out)
    assert results[0]["summary"]["dates"] == 31 and _cube_dates(out) == 31
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["water_series.zarr"]
    with rasterio.open(out / "water_frequency.tif") as f:
        assert f.tags()["dates"] == "31" and not np.array_equal(f.read(1), freq_before)
    times = xr.open_zarr(out / "water_series.zarr")["time"].values
    assert len(set(times)) == 31 and (np.diff(times) > np.timedelta64(0)).all()

    mapped.clear()
    _, again = run_monitor(early, out)  # nothing new: no run, nothing mapped
    assert again == [] and mapped == []
    assert scan_new(early, out).new == ()


def test_monitor_completes_an_append_killed_mid_way(tmp_path, small_demo_scene, monkeypatch):
    from test_cli import small_demo_job

    from eo_drr.config import load_config
    from eo_drr.engine.monitor import run_monitor
    from eo_drr.engine.run import run_job

    out = tmp_path / "out"
    early = load_config(small_demo_job(tmp_path, "demo_frequency.yaml", **EARLY))
    run_job(early, out)
    commit, calls = zarr_cube._commit, {"n": 0}

    def dies_on_fourth(p):  # the process dies after the slices, before the commit point
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("killed mid-append")
        commit(p)

    monkeypatch.setattr(zarr_cube, "_commit", dies_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        run_monitor(early, out)
    monkeypatch.undo()
    assert _cube_dates(out) == 13  # 10 + the 3 appends committed before the kill
    with rasterio.open(out / "water_frequency.tif") as f:
        assert f.tags()["dates"] == "10"  # the killed run committed no layer
    _, results = run_monitor(early, out)
    assert len(results[0]["summary"]["new_dates"]) == 18 and _cube_dates(out) == 31


def test_monitor_process_killed_mid_append(tmp_path, small_demo_scene):
    """A real kill (SIGKILL) of a monitor process while it appends; the next one completes."""
    from test_cli import small_demo_job

    from eo_drr.config import load_config
    from eo_drr.engine.run import run_job

    out = tmp_path / "out"
    job = small_demo_job(tmp_path, "demo_frequency.yaml", **EARLY)
    run_job(load_config(job), out)
    marker = tmp_path / "appending"
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from eo_drr.config import load_config
        from eo_drr.engine.monitor import run_monitor
        from eo_drr.io import zarr_cube

        commit, n = zarr_cube._commit, [0]

        def slow(p):
            n[0] += 1
            if n[0] == 3:  # the third new slice is written, its commit point not yet
                Path({str(marker)!r}).write_text("x")
                time.sleep(120)
            commit(p)

        zarr_cube._commit = slow
        run_monitor(load_config({str(job)!r}), {str(out)!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, "the monitor ended before the kill"
            assert time.monotonic() < deadline, "the monitor never reached the append"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _cube_dates(out) == 12  # readable: the committed dates only
    from eo_drr.engine.monitor import run_monitor

    _, results = run_monitor(load_config(job), out)  # the lock of the killed run is free
    assert len(results[0]["summary"]["new_dates"]) == 19 and _cube_dates(out) == 31
    ds = xr.open_zarr(out / "water_series.zarr")
    assert ds["water"].shape[0] == len(set(ds["time"].values)) == 31


def test_tiled_run_in_the_folder_of_an_untiled_series_is_refused(tmp_path, small_demo_scene):
    from test_cli import assert_user_error, eo_drr, small_demo_job

    from eo_drr.config import load_config
    from eo_drr.engine.run import run_job

    job = small_demo_job(tmp_path, "demo_frequency.yaml", **EARLY)
    run_job(load_config(job), tmp_path / "out")
    res = eo_drr("monitor", job, "-o", tmp_path / "out", "--tile-size", "128")
    assert_user_error(res, "run without tiling", "--tile-size", "tiling:")
    assert not (tmp_path / "out" / "tiles").exists() and _cube_dates(tmp_path / "out") == 10


def test_series_report(tmp_path, small_demo_scene):
    from test_cli import small_demo_job

    from eo_drr.config import load_config
    from eo_drr.engine.run import run_job

    res = run_job(
        load_config(small_demo_job(tmp_path, "demo_frequency.yaml", **EARLY)), tmp_path / "out"
    )
    page = Path(res.outputs["report"]).read_text()
    assert 'id="demo-banner"' in page and "synthetic demo scene" in page
    for words in (
        "Water frequency",
        "Surface-water classes",
        "Dates in the series",
        "permanent water: water on 83 % or more of the valid observations",
        "seasonal water: water on 8.3 % to 83 % of the valid observations",
        "less than a year",  # 10 dates 12 days apart cover 120 days
        "fewer than 3 valid observations",
    ):
        assert words in page, words
    assert "How to add admin units" not in page
