"""The ``eo-drr`` command as a user runs it (a real subprocess for exit codes and stderr)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import DEMO_TEST_SEED, DEMO_TEST_SIZE

ROOT = Path(__file__).resolve().parents[1]


def eo_drr(*args, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    """Run the installed console script (same interpreter), capturing output."""
    exe = Path(sys.executable).with_name("eo-drr")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "eo_drr.cli.main"]
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        cmd + [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def small_demo_job(tmp_path: Path, config: str = "demo.yaml", **changes) -> Path:
    """``configs/<config>`` at test size (same scene as the session fixture), with changes
    given as dotted keys, written to ``tmp_path/job.yaml``."""
    data = yaml.safe_load((ROOT / "configs" / config).read_text())
    data["sources"]["demo"] = {
        "seed": DEMO_TEST_SEED,
        "size": DEMO_TEST_SIZE,
        "landscape": "floodplain",
    }
    for dotted, value in changes.items():
        node = data
        keys = dotted.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    p = tmp_path / "job.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def assert_user_error(res: subprocess.CompletedProcess, *fragments: str) -> None:
    assert res.returncode != 0, res.stdout + res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    # one plain "error:" line (log warnings of the steps that ran before may precede it)
    assert sum(line.startswith("error: ") for line in res.stderr.splitlines()) == 1, res.stderr
    assert all(
        line.startswith(("error: ", "       ", "WARNING "))
        for line in res.stderr.splitlines()
        if line
    ), res.stderr
    for f in fragments:
        assert f in res.stderr, f"{f!r} not in: {res.stderr}"


def test_help_reads_well():
    res = eo_drr("--help")
    assert res.returncode == 0
    for cmd in ("run", "demo", "versions"):
        assert cmd in res.stdout
    res = eo_drr("run", "--help")
    assert res.returncode == 0 and "--dry-run" in res.stdout and "--output" in res.stdout


def test_versions_json():
    res = eo_drr("versions", "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    for key in ("python", "GDAL", "PROJ", "xarray", "numba", "eo-drr"):
        assert key in info


def test_missing_job_file(tmp_path):
    res = eo_drr("run", tmp_path / "nope.yaml", "-o", tmp_path / "out")
    assert_user_error(res, "nope.yaml", "no such job file")
    assert res.returncode == 2
    assert not (tmp_path / "out").exists()


def test_malformed_yaml(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\naoi: [1, 2\n")
    res = eo_drr("run", p, "-o", tmp_path / "out")
    assert_user_error(res, "bad.yaml:", "malformed YAML")
    assert not (tmp_path / "out").exists()


def test_unknown_key(tmp_path):
    job = small_demo_job(tmp_path, **{"products.flood.hand_max": 10})
    res = eo_drr("run", job, "-o", tmp_path / "out")
    assert_user_error(res, "job.yaml", "products.flood.hand_max", "unknown key")


def test_wrong_type(tmp_path):
    job = small_demo_job(tmp_path, **{"grid.resolution": "ten metres"})
    res = eo_drr("run", job, "-o", tmp_path / "out")
    assert_user_error(res, "job.yaml", "grid.resolution")


def test_missing_input_file(tmp_path, small_demo_scene):
    job = small_demo_job(tmp_path, **{"exposure.admin_units.file": "units_missing.gpkg"})
    out = tmp_path / "out"
    res = eo_drr("run", job, "-o", out)
    assert_user_error(res, "exposure.admin_units.file", "units_missing.gpkg")
    assert not out.exists() or not any(out.iterdir())


def test_aoi_outside_the_data(tmp_path, small_demo_scene):
    job = small_demo_job(
        tmp_path, **{"aoi.file": None, "aoi.layer": None, "aoi.bbox": [-60.0, -10.0, -59.9, -9.9]}
    )
    out = tmp_path / "out"
    res = eo_drr("run", job, "-o", out)
    assert_user_error(res, "no sentinel-1-rtc items", "aoi", "time.post")
    assert not out.exists()


def test_output_folder_not_writable(tmp_path, small_demo_scene):
    job = small_demo_job(tmp_path)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    res = eo_drr("run", job, "-o", blocker / "out")
    assert_user_error(res, "output folder", "a_file")
    res = eo_drr("run", job, "-o", "/proc/eo-drr-out")
    assert_user_error(res, "output folder", "/proc/eo-drr-out", "not writable")


def test_dry_run_writes_nothing(tmp_path, small_demo_scene):
    job = small_demo_job(tmp_path)
    out = tmp_path / "out"
    res = eo_drr("run", job, "-o", out, "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "dry run" in res.stdout
    assert "post-event S1" in res.stdout and "flood_extent.tif" in res.stdout
    assert not out.exists()


def test_failure_mid_run_leaves_no_partial_output(tmp_path, small_demo_scene):
    """The population asset is missing: the run fails after the flood COGs were staged;
    nothing may appear in the output folder."""
    job = small_demo_job(tmp_path, **{"sources.population.asset": "no_such_band"})
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("a file from before")
    res = eo_drr("run", job, "-o", out)
    assert_user_error(res, "no_such_band")
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize(
    "args,words",
    [
        (["demo", "--size", "63"], "greater than or equal to 64"),
        (["search", "--catalog", "demo", "--max-cloud", "200"], "less than or equal to 100"),
        (["search", "--catalog", "demo", "--relative-orbit", "0"], "greater than or equal to 1"),
    ],
)
def test_out_of_range_options_are_usage_errors_not_tracebacks(args, words):
    res = eo_drr(*args)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert words in res.stderr


def test_linear_backscatter_declared_as_db_in_a_job_is_refused(tmp_path, small_demo_scene):
    """The demo's Sentinel-1 files hold linear power: a job saying dB gets one line naming the
    item and the key, not a confident map of everything (a silent wrong answer before)."""
    job = small_demo_job(tmp_path, **{"sources.s1.units": "db"})
    res = eo_drr("run", job, "-o", tmp_path / "out")
    assert_user_error(
        res, "looks like linear power", "sources.s1.units='linear'", "post-event Sentinel-1"
    )
    assert not (tmp_path / "out").exists()
