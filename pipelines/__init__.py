"""Pipeline definitions: short, readable compositions of library calls.

Each pipeline module exposes ``plan(config) -> Plan`` (search and resolve; writes nothing)
and ``run(config, plan, output_folder, steps) -> summary``. Installed as
``eo_drr.pipelines``; the CLI finds a pipeline by the job file's ``pipeline:`` key.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from eo_drr.errors import ConfigError

PIPELINES = {
    "flood": "eo_drr.pipelines.flood",
    "urban_growth": "eo_drr.pipelines.urban_growth",
    "wetlands": "eo_drr.pipelines.wetlands",
}


def get_pipeline(name: str) -> ModuleType:
    """The pipeline module for ``name`` (the ``pipeline:`` key of a job file)."""
    try:
        return importlib.import_module(PIPELINES[name])
    except KeyError:
        raise ConfigError(
            f"pipeline: unknown pipeline {name!r} (known: {', '.join(PIPELINES)})"
        ) from None
