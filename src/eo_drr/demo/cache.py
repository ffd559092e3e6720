"""``ensure_demo_scene``: generate a demo scene once into the cache, reuse it afterwards.

The scene is generated into a temporary sibling folder and moved into place with one
``os.rename``: a reader never sees half a scene. If two processes race, the first rename wins;
the loser discards its copy and uses the winner's.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import uuid
from pathlib import Path

from eo_drr.demo import generate as _generate
from eo_drr.demo.scene import SCENE_FILE, DemoScene
from eo_drr.errors import OutputError
from eo_drr.i18n import gettext as _
from eo_drr.settings import cache_dir as _default_cache_dir

log = logging.getLogger(__name__)


def scene_folder(cache_root: str | Path | None, *, seed: int, size: int, landscape: str) -> Path:
    """``<cache>/demo/<landscape>-s<seed>-n<size>-v<GENERATOR_VERSION>``."""
    base = Path(cache_root) if cache_root is not None else _default_cache_dir()
    name = f"{landscape}-s{int(seed)}-n{int(size)}-v{_generate.GENERATOR_VERSION}"
    return base.expanduser() / "demo" / name


def ensure_demo_scene(
    seed: int = 42,
    size: int = 1024,
    landscape: str = "floodplain",
    cache_dir: str | Path | None = None,
) -> DemoScene:
    """The demo scene for (``seed``, ``size``, ``landscape``), generated on first use.

    ``cache_dir`` defaults to :func:`eo_drr.settings.cache_dir` (``EO_DRR_CACHE``); the scene
    lies in ``<cache_dir>/demo/<landscape>-s<seed>-n<size>-v<version>/``.
    """
    final = scene_folder(cache_dir, seed=seed, size=size, landscape=landscape)
    if (final / SCENE_FILE).is_file():
        return DemoScene.load(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            _("cannot create the demo cache folder {folder}: {exc}").format(
                folder=final.parent, exc=exc
            )
        ) from exc
    if final.exists():  # a folder without scene.json: not ours to trust; move it aside
        stale = final.with_name(f".stale-{final.name}-{uuid.uuid4().hex[:8]}")
        with contextlib.suppress(OSError):
            os.rename(final, stale)
            shutil.rmtree(stale, ignore_errors=True)
    tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    log.info("generating demo scene %s", final)
    try:
        _generate.generate_scene(tmp, seed=seed, size=size, landscape=landscape)
        try:
            os.rename(tmp, final)
        except OSError as exc:
            if (
                exc.errno not in (errno.EEXIST, errno.ENOTEMPTY)
                or not (final / SCENE_FILE).is_file()
            ):
                raise
            log.info("another process generated %s first; using its copy", final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return DemoScene.load(final)
