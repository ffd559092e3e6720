"""eo-drr: Copernicus Sentinel-1/-2 imagery to disaster-risk monitoring layers.

The package follows the flow of the data, one sub-package per layer::

    catalog  -> search and fetch Sentinel items (STAC APIs, DHuS, local folders)
    load     -> lazy, dask-backed xarray on a common grid
    kernels  -> numba CPU / CUDA raster kernels (no xarray, no geography)
    indices  -> one public function per spectral index, any array backend
    products -> flood, urban growth, wetlands
    sendai   -> hazard x exposure per administrative unit (EO proxies)
    publish  -> COG / GeoParquet / CSV / STAC outputs, reports
    jobs     -> cluster and job ledger
    engine   -> one job lifecycle (plan, lock, run, manifest, commit) under every face
    api      -> the Python API (below); cli -> the ``eo-drr`` command

Lower layers never import higher ones (checked by ``tests/test_architecture.py``).

Python API (imported on first use, so ``import eo_drr`` stays light)::

    import eo_drr
    job = eo_drr.demo_job(size=256)          # or eo_drr.load_job("job.yaml")
    result = eo_drr.run(job, "out")          # .outputs, .tables, .summary, .quality
    water = eo_drr.water("s1.tif")           # xarray in, georeferenced xarray out
    depth = eo_drr.depth("flood.tif", "dem.tif")  # flood water depth (m), FwDET v2 or HAND
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("eo-drr")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from eo_drr.api import __all__ as _API  # noqa: E402  (light: names load on first use)

__all__ = ["__version__", "indices", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        import eo_drr.api

        return getattr(eo_drr.api, name)
    if name == "indices":
        import importlib

        return importlib.import_module("eo_drr.indices")
    raise AttributeError(f"module 'eo_drr' has no attribute {name!r}")
