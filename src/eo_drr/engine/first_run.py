"""What a first run says before it starts: that it generates the demo scene and compiles the
numerical kernels, and that later runs reuse both. The checks are cheap (a few directory
listings; numba is not imported)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from eo_drr.config import JobConfig
from eo_drr.engine.events import Event, Reporter
from eo_drr.i18n import gettext as _

#: about how long the first compile of the kernels takes (s; 24-38 s measured on 2 busy cores)
COMPILE_S = 15
#: about how long the demo scene takes to generate at 1024 px (s; 21 s on 2 busy cores)
SCENE_S = 20


def kernel_cache_folders() -> list[Path]:
    """Where numba keeps the compiled kernels of ``eo_drr.kernels`` (``cache=True``): the
    folder ``NUMBA_CACHE_DIR`` names, else ``__pycache__`` next to the sources and the
    user-wide cache numba falls back to when that is read-only."""
    spec = importlib.util.find_spec("eo_drr.kernels")
    sources = [os.path.abspath(p) for p in (spec.submodule_search_locations or [])] if spec else []
    # numba's sub-folder of a cache root: the folder's name and the SHA-1 of its path
    mirrored = [f"{os.path.basename(p)}_{hashlib.sha1(p.encode()).hexdigest()}" for p in sources]
    if os.environ.get("NUMBA_CACHE_DIR"):
        return [Path(os.environ["NUMBA_CACHE_DIR"]) / m for m in mirrored]
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"
    return [Path(p) / "__pycache__" for p in sources] + [user / m for m in mirrored]


def kernels_compiled() -> bool:
    """True when numba's cache holds compiled kernels of eo-drr (an index file)."""
    return any(next(f.glob("*.nbi"), None) for f in kernel_cache_folders() if f.is_dir())


def _scene_missing(cfg: JobConfig) -> Path | None:
    """The folder the job's demo scene will be generated into, or None when the job uses no
    demo scene or it is there already."""
    if cfg.sources.catalog != "demo":
        return None
    from eo_drr.demo.cache import scene_folder
    from eo_drr.demo.scene import SCENE_FILE

    d = cfg.sources.demo
    folder = scene_folder(None, seed=d.seed, size=d.size, landscape=d.landscape)
    return None if (folder / SCENE_FILE).is_file() else folder


def first_run_notes(cfg: JobConfig, report: Reporter) -> None:
    """Say (``note`` events) what a first run does that later runs skip."""
    folder = _scene_missing(cfg)
    if folder is not None:
        text = _("first run: generating the demo scene, about {s} s; it is kept in {folder}")
        seconds = max(1, round(SCENE_S * (cfg.sources.demo.size / 1024) ** 2))
        report(Event("note", text.format(s=seconds, folder=folder)))
    if not kernels_compiled():
        text = _("first run: compiling the numerical kernels, about {s} s; later runs reuse them")
        report(Event("note", text.format(s=COMPILE_S)))
