"""Paths the toolkit reads from the environment (one place, so tests and users agree).

- ``EO_DRR_CACHE``: cache folder (demo scene, downloads ledger). Default ``~/.cache/eo-drr``
  (``$XDG_CACHE_HOME/eo-drr`` when that is set).
- ``EO_DRR_SHARED_DATA``: the real Sentinel data used by tests and benchmarks.
  Default ``../shared/data`` relative to the repository root.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Folder for cached inputs (the demo scene, the download ledger)."""
    env = os.environ.get("EO_DRR_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "eo-drr"


def shared_data_dir() -> Path:
    """Folder with the real data for tests and benchmarks (may not exist)."""
    env = os.environ.get("EO_DRR_SHARED_DATA")
    if env:
        return Path(env).expanduser()
    return (_REPO_ROOT / ".." / "shared" / "data").resolve()
