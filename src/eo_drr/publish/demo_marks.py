"""Whether a job's data are eo-drr's synthetic demo scene, so the report, the terminal
summary and ``run.json`` can say so.

The demo scene marks itself: its STAC catalogue's id starts with ``eo-drr-demo-`` (see
:mod:`eo_drr.demo.generate` and :mod:`eo_drr.demo.series`). The mark survives copying the
catalogue elsewhere, where the job names it by path rather than ``catalog: demo``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pystac

#: the id prefix of every demo scene's root catalogue
DEMO_CATALOG_PREFIX = "eo-drr-demo-"


def items_are_synthetic(items: Iterable[pystac.Item]) -> bool:
    """True when any of ``items`` comes from a demo scene's catalogue."""
    for item in items:
        root = item.get_root()
        if root is not None and root.id.startswith(DEMO_CATALOG_PREFIX):
            return True
    return False


def catalog_is_synthetic(catalog: str, path: Path | None = None) -> bool:
    """True for ``catalog: demo``, or for a static catalogue file at ``path`` (a
    ``catalog.json`` or its folder) whose id marks a demo scene."""
    if catalog == "demo":
        return True
    if path is None:
        return False
    file = path / "catalog.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and str(data.get("id", "")).startswith(DEMO_CATALOG_PREFIX)
