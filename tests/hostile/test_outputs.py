"""Hostile output paths: ``--out`` / ``-o`` equal to an input, a link to one, a folder, a
device, a missing or unwritable folder, a full disk, and the input catalogue's own folder.
Inputs must stay byte for byte; a failure leaves no file, staging folder or temp file."""

from __future__ import annotations

import os
import resource
import signal

import pytest

from hostile.helpers import (
    cli,
    one_error,
    partial_files,
    small_demo_job,
    snapshot,
)


def _disk_full_after(limit: int):
    """preexec_fn: files may not grow past ``limit`` bytes (writes fail with EFBIG, as on a
    full disk; SIGXFSZ ignored so the process lives to report it)."""

    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


@pytest.mark.parametrize("command", ["water", "flood-post", "flood-pre", "flood-hand"])
def test_out_equal_to_an_input_is_refused(eo, tmp_path, good_s1, pre_s1, command):
    """The issue: `--out` equal to the input overwrote the input (the `water` case runs as a
    real process, the others in-process)."""
    hand = tmp_path / "hand.tif"
    hand.write_bytes(good_s1.read_bytes())
    args = {
        "water": ["water", "--s1", good_s1, "--out", good_s1],
        "flood-post": ["flood", "--pre-s1", pre_s1, "--post-s1", good_s1, "--out", good_s1],
        "flood-pre": ["flood", "--pre-s1", pre_s1, "--post-s1", good_s1, "--out", pre_s1],
        "flood-hand": [
            "flood",
            "--pre-s1",
            pre_s1,
            "--post-s1",
            good_s1,
            "--hand",
            hand,
            "--out",
            hand,
        ],
    }[command]
    before = snapshot(tmp_path)
    one_error((cli if command == "water" else eo)(*args), "--out", "one of the inputs")
    assert snapshot(tmp_path) == before


def test_out_through_a_symlink_or_dotdot_is_refused(eo, tmp_path, good_s1):
    link = tmp_path / "link.tif"
    link.symlink_to(good_s1)
    before = good_s1.read_bytes()
    one_error(eo("water", "--s1", good_s1, "--out", link), "--out", "one of the inputs")
    one_error(
        eo("water", "--s1", good_s1, "--out", tmp_path / "x" / ".." / "good.tif"),
        "--out",
        "one of the inputs",
    )
    assert good_s1.read_bytes() == before and link.is_symlink()


def test_out_a_hard_link_of_the_input_leaves_the_input_whole(tmp_path, good_s1):
    """A hard link is a different name: the output replaces the name atomically, the input's
    bytes stay as they were."""
    hard = tmp_path / "hard.tif"
    os.link(good_s1, hard)
    before = good_s1.read_bytes()
    res = cli("water", "--s1", good_s1, "--out", hard)
    assert res.returncode == 0, res.stderr
    assert good_s1.read_bytes() == before and hard.read_bytes() != before


@pytest.mark.parametrize("target", ["folder", "/dev/null", "/dev/full"])
def test_out_a_folder_or_a_device_is_refused(tmp_path, good_s1, target):
    """The issue: `--out /dev/full` was among the destroyed files, and `--out` an existing
    folder gave a traceback. Real processes."""
    out = tmp_path / "a_folder" if target == "folder" else target
    if target == "folder":
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    before = snapshot(tmp_path)
    one_error(cli("water", "--s1", good_s1, "--out", out), "--out", str(out), "not a regular file")
    assert snapshot(tmp_path) == before


def test_out_in_a_missing_folder_is_created(tmp_path, good_s1):
    out = tmp_path / "new" / "deeper" / "w.tif"
    res = cli("water", "--s1", good_s1, "--out", out)
    assert res.returncode == 0, res.stderr
    assert out.is_file() and partial_files(tmp_path) == []


def test_out_below_a_regular_file_is_one_line(eo, tmp_path, good_s1):
    before = good_s1.read_bytes()
    one_error(eo("water", "--s1", good_s1, "--out", good_s1 / "w.tif"), "good.tif")
    assert good_s1.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder_is_one_line(tmp_path, good_s1):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        one_error(cli("water", "--s1", good_s1, "--out", ro / "w.tif"), "ro")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


# ---------------------------------------------------------------- a full disk


def test_full_disk_during_water_leaves_nothing(tmp_path, good_s1):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    res = cli(
        "water", "--s1", good_s1, "--out", out_dir / "w.tif", preexec_fn=_disk_full_after(1500)
    )
    assert res.returncode != 0
    assert list(out_dir.iterdir()) == []  # no output, no temp file


def test_full_disk_during_water_is_one_line(tmp_path, good_s1):
    """The issue: three lines of libtiff's own "_tiffSeekProc: File too large." came before the
    error line, which named GDAL's later symptom. libtiff's messages are now routed to the log
    (eo_drr.io.tiff_errors) and the line gives the OS error they reported."""
    out = tmp_path / "out" / "w.tif"
    out.parent.mkdir()
    res = cli("water", "--s1", good_s1, "--out", out, preexec_fn=_disk_full_after(1500))
    one_error(res, f"cannot write {out}", "file too large", "nothing was written")
    assert "_tiff" not in res.stderr and "TIFF" not in res.stderr, res.stderr
    assert list(out.parent.iterdir()) == []


def test_full_disk_during_a_run_leaves_nothing(tmp_path, small_demo_scene):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("from before")
    before = snapshot(out)
    res = cli("run", small_demo_job(tmp_path), "-o", out, preexec_fn=_disk_full_after(4000))
    assert res.returncode != 0
    assert snapshot(out) == before and partial_files(out) == []


def test_full_disk_during_a_run_is_one_line(tmp_path, small_demo_scene):
    """The issue: libtiff's lines came first, and the error line named a file inside the hidden
    staging folder. It names the output where the run would have put it."""
    out = tmp_path / "out"
    res = cli("run", small_demo_job(tmp_path), "-o", out, preexec_fn=_disk_full_after(4000))
    line = one_error(res, f"cannot write {out}{os.sep}", "file too large")
    assert ".eo-drr-staging" not in line and "_tiff" not in res.stderr, res.stderr
    assert not out.exists() or partial_files(out) == []


# ---------------------------------------------------------------- job outputs over inputs


def test_run_into_the_input_catalogue_folder_is_refused(tmp_path, scene_copy):
    """`-o` the input catalogue's folder overwrote its catalog.json with the output catalogue
    (found while writing this suite)."""
    job = small_demo_job(tmp_path, **{"sources.catalog": str(scene_copy / "catalog.json")})
    before = snapshot(scene_copy)
    one_error(cli("run", job, "-o", scene_copy), str(scene_copy), "catalog.json")
    assert snapshot(scene_copy) == before


def test_failed_run_keeps_the_previous_outputs(tmp_path, small_demo_scene):
    """A run that fails late (after the flood rasters were computed) over a folder holding a
    previous run's outputs leaves them byte for byte."""
    out = tmp_path / "out"
    res = cli("run", small_demo_job(tmp_path), "-o", out)
    assert res.returncode == 0, res.stderr
    before = snapshot(out)
    assert "flood_extent.tif" in before and partial_files(out) == []
    job = small_demo_job(tmp_path, **{"exposure.admin_units.code_field": "no_such_field"})
    one_error(cli("run", job, "-o", out), "no_such_field")
    assert snapshot(out) == before and partial_files(out) == []
