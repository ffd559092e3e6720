"""The Python API: the same engine and products as the ``eo-drr`` command, for notebooks and
schedulers (see :mod:`eo_drr.api.jobs` and :mod:`eo_drr.api.rasters`). The names are imported
on first use, so that the command's light modules (:mod:`eo_drr.api.data`, ...) stay light."""

from importlib import import_module
from typing import Any

_WHERE = {
    "Job": "jobs",
    "demo_job": "jobs",
    "depth": "flood_depth",
    "load_job": "jobs",
    "open_series": "series",
    "run": "jobs",
    "search": "jobs",
    "flood": "rasters",
    "growth": "rasters",
    "water": "rasters",
}
__all__ = [
    "Job",
    "demo_job",
    "depth",
    "flood",
    "growth",
    "load",
    "load_job",
    "open_series",
    "run",
    "search",
    "water",
]


def __getattr__(name: str) -> Any:
    if name == "load":
        return import_module("eo_drr.load").load_stac
    if name in _WHERE:
        return getattr(import_module(f"eo_drr.api.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'eo_drr.api' has no attribute {name!r}")
