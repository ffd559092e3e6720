"""Pipeline definitions: short, readable compositions of library calls.

Each pipeline module exposes ``plan(config) -> Plan`` (search and resolve; writes nothing)
and ``run(config, plan, output_folder, steps) -> summary``. Installed as
``eo_drr.pipelines``; the CLI finds a pipeline by the job file's ``pipeline:`` key.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, cast

from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _


class Pipeline(Protocol):
    """What a pipeline module provides: its output files by key (``OUTPUTS``), ``plan``
    (search and resolve, a dataclass with ``geobox``, ``aoi``, ``outputs`` and
    ``describe()``; writes nothing), ``check`` (the run's checks of its inputs without the
    computation: what ``--dry-run`` adds to the plan) and ``run`` (compose the library into the staged
    folder; returns the run summary)."""

    OUTPUTS: dict[str, str]

    def plan(self, cfg: Any) -> Any: ...

    def check(self, cfg: Any, p: Any, out: Any) -> None: ...

    def run(self, cfg: Any, p: Any, out: Any, steps: Any = None) -> dict: ...


PIPELINES = {
    "flood": "eo_drr.pipelines.flood",
    "urban_growth": "eo_drr.pipelines.urban_growth",
    "wetlands": "eo_drr.pipelines.wetlands",
    "water_series": "eo_drr.pipelines.water_series",
}


def get_pipeline(name: str) -> Pipeline:
    """The pipeline module for ``name`` (the ``pipeline:`` key of a job file)."""
    try:
        return cast(Pipeline, importlib.import_module(PIPELINES[name]))
    except KeyError:
        raise ConfigError(
            _("pipeline: unknown pipeline {name!r} (known: {pipelines})").format(
                name=name, pipelines=", ".join(PIPELINES)
            )
        ) from None
