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
    cli      -> the ``eo-drr`` command

Lower layers never import higher ones (checked by ``tests/test_architecture.py``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("eo-drr")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
