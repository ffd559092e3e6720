"""Shared fixtures.

- ``shared_data``: the real data folder (EO_DRR_SHARED_DATA, default ../shared/data); tests
  that need it skip with the reason when it is absent.
- ``demo_scene``: a small demo scene (256 x 256 px) generated once per session into a
  temporary cache, so tests never touch the user's cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eo_drr.settings import shared_data_dir

# tests read English messages whatever the developer's locale (tests/test_i18n.py sets others)
os.environ.setdefault("EO_DRR_LANG", "en")

DEMO_TEST_SIZE = 256
DEMO_TEST_SEED = 7


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"real data folder not found at {root} (set EO_DRR_SHARED_DATA)")
    return root


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Point EO_DRR_CACHE at a session temp folder (unless the caller set one)."""
    if "EO_DRR_TEST_KEEP_CACHE" in os.environ and "EO_DRR_CACHE" in os.environ:
        yield Path(os.environ["EO_DRR_CACHE"])
        return
    cache = tmp_path_factory.mktemp("eo-drr-cache")
    old = os.environ.get("EO_DRR_CACHE")
    os.environ["EO_DRR_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("EO_DRR_CACHE", None)
    else:
        os.environ["EO_DRR_CACHE"] = old


@pytest.fixture(scope="session")
def small_demo_scene(_isolated_cache):
    """The demo scene at test size, generated once into the session cache."""
    from eo_drr.demo import ensure_demo_scene

    return ensure_demo_scene(seed=DEMO_TEST_SEED, size=DEMO_TEST_SIZE)
