"""Job configuration: YAML job files validated by pydantic models.

A job file says *where* (``aoi``), *when* (``time``), *from what* (``sources``), *what to make*
(``products``, ``exposure``), *where to put it* (``outputs``) and *on what* (``cluster``).
Files are read with ``yaml.safe_load`` only; nothing a user writes is ever evaluated.
Unknown keys, wrong types, impossible dates or an empty AOI raise :class:`ConfigError` with the
file and the dotted key, e.g. ``configs/x.yaml: time.post.end: must not be before start``.

Relative paths in a job file are relative to the job file's folder. ``demo://NAME`` paths
point into the bundled demo scene (generated on first use).

The package's modules, one job each: :mod:`~eo_drr.config.inputs` (AOI, time, sources, grid),
:mod:`~eo_drr.config.products` (product settings, exposure), :mod:`~eo_drr.config.execution`
(outputs, cluster, tiling), :mod:`~eo_drr.config.job` (the whole job file) and
:mod:`~eo_drr.config.loader` (YAML reading and error messages).
"""

from eo_drr.config.execution import ClusterConfig, Outputs, TilingConfig
from eo_drr.config.inputs import (
    AOI,
    CATALOG_PRESETS,
    DemoOptions,
    GridConfig,
    RasterSource,
    S1Source,
    S2Source,
    Sources,
    TimeWindows,
    Window,
)
from eo_drr.config.job import JobConfig, required
from eo_drr.config.loader import MAX_YAML_VALUES, load_config, parse_config
from eo_drr.config.products import (
    AdminUnits,
    BuiltupThresholds,
    Exposure,
    FloodProduct,
    HazardSource,
    Products,
    SpeckleFilter,
    UrbanGrowthProduct,
    VectorInput,
    WetlandPolygons,
    WetlandsProduct,
)

__all__ = [
    "AOI",
    "CATALOG_PRESETS",
    "MAX_YAML_VALUES",
    "AdminUnits",
    "BuiltupThresholds",
    "ClusterConfig",
    "DemoOptions",
    "Exposure",
    "FloodProduct",
    "GridConfig",
    "HazardSource",
    "JobConfig",
    "Outputs",
    "Products",
    "RasterSource",
    "S1Source",
    "S2Source",
    "Sources",
    "SpeckleFilter",
    "TilingConfig",
    "TimeWindows",
    "UrbanGrowthProduct",
    "VectorInput",
    "WetlandPolygons",
    "WetlandsProduct",
    "Window",
    "load_config",
    "parse_config",
    "required",
]
