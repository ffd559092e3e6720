"""The Python API: the same engine and products as the ``eo-drr`` command, for notebooks and
schedulers (see :mod:`eo_drr.api.jobs` and :mod:`eo_drr.api.rasters`)."""

from eo_drr.api.jobs import Job, demo_job, load_job, run, search
from eo_drr.api.rasters import flood, growth, water
from eo_drr.load import load_stac as load

__all__ = ["Job", "demo_job", "flood", "growth", "load", "load_job", "run", "search", "water"]
