"""Fixtures of the hostile-input suite (see README.md in this folder).

The parent ``tests/`` folder is made importable so that the suite reuses its helpers
(``test_cli.eo_drr``, ``small_demo_job``, ``assert_user_error``) and its session fixtures
(``small_demo_scene`` and the isolated cache come from ``tests/conftest.py``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))

from hostile.helpers import cli_inproc, synthetic_s1, write_s1  # noqa: E402


@pytest.fixture
def good_s1(tmp_path) -> Path:
    """A plausible 64 x 64 VV/VH dB GeoTIFF with a square lake."""
    vv, vh = synthetic_s1()
    return write_s1(tmp_path / "good.tif", vv, vh)


@pytest.fixture
def pre_s1(tmp_path) -> Path:
    """A pre-event image on the grid of ``good_s1`` with a smaller lake."""
    vv, vh = synthetic_s1(seed=1, lake=8)
    return write_s1(tmp_path / "pre.tif", vv, vh)


@pytest.fixture
def scene_copy(tmp_path, small_demo_scene) -> Path:
    """A private copy of the test-size demo scene (a static STAC catalogue with its COGs) in
    ``tmp_path/scene``: tests may break it freely."""
    dest = tmp_path / "scene"
    shutil.copytree(small_demo_scene.root, dest)
    return dest


@pytest.fixture
def eo(capsys, monkeypatch):
    """``eo(*args)``: the command run in-process (see ``helpers.cli_inproc``)."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    return lambda *args: cli_inproc(*args, capsys=capsys)
