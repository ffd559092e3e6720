"""``eo-drr init``: the demo job and the event jobs, written from the installed package into a
folder, never over an existing file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from test_cli import assert_user_error, eo_drr

from eo_drr.api import load_job
from eo_drr.api.job_files import event_names

ROOT = Path(__file__).resolve().parents[1]


def test_init_writes_the_demo_job_and_never_overwrites(tmp_path):
    res = eo_drr("init", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    written = tmp_path / "demo.yaml"
    assert written.read_text() == (ROOT / "configs" / "demo.yaml").read_text()
    assert load_job(written).name == "demo-flood-villahermosa"
    assert "eo-drr run demo.yaml" in res.stdout
    written.write_text("# my edits\n")
    again = eo_drr("init", cwd=tmp_path)
    assert_user_error(again)
    assert "demo.yaml exists" in again.stderr and "never overwrites" in again.stderr
    assert written.read_text() == "# my edits\n"


def test_init_event_into_a_new_folder(tmp_path):
    name = event_names()[0]
    folder = tmp_path / "jobs" / "floods"
    res = eo_drr("init", "--event", name, "--dir", folder)
    assert res.returncode == 0, res.stderr
    written = folder / f"{name}.yaml"
    assert written.read_text() == (ROOT / "configs" / "events" / f"{name}.yaml").read_text()
    job = load_job(written)
    assert job.name == name
    bbox = ",".join(f"{v:g}" for v in job.aoi.bbox)
    assert f"eo-drr dates --bbox {bbox} --around {job.time.post.start}" in res.stdout


def test_unknown_event_lists_the_known_ones_and_a_file_is_no_folder(tmp_path):
    res = eo_drr("init", "--event", "atlantis-2099", "--dir", tmp_path)
    assert_user_error(res, "--event")
    assert "atlantis-2099" in res.stderr and all(n in res.stderr for n in event_names())
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("")
    res = eo_drr("init", "--dir", tmp_path / "f")
    assert_user_error(res)
    assert "--dir" in res.stderr and "not a folder" in res.stderr


def test_the_packaged_job_files_are_the_repository_configs(monkeypatch):
    """A pip install reads the jobs from the package (eo_drr.configs), not from a checkout:
    the package data setuptools builds with (pyproject.toml's table wins over setup.py's)
    ships configs/*.yaml and configs/events/*.yaml."""
    import warnings

    from setuptools._distutils.core import run_setup

    pkg = resources.files("eo_drr.configs")
    for rel in ["demo.yaml", *(f"events/{n}.yaml" for n in event_names())]:
        assert pkg.joinpath(rel).read_text() == (ROOT / "configs" / rel).read_text()
    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dist = run_setup(str(ROOT / "setup.py"), stop_after="config")
    assert {"*.yaml", "events/*.yaml"} <= set(dist.package_data["eo_drr.configs"])


def test_help_points_to_init_not_the_repository():
    res = eo_drr("--help")
    assert "eo-drr init" in res.stdout and "configs/demo.yaml" not in res.stdout
