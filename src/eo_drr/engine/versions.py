"""Versions of everything that matters for a bug report (like rioxarray's show_versions)."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

PACKAGES = (
    "eo-drr",
    "numpy",
    "xarray",
    "dask",
    "distributed",
    "rioxarray",
    "rasterio",
    "odc-stac",
    "odc-geo",
    "pystac",
    "pystac-client",
    "geopandas",
    "pyogrio",
    "shapely",
    "pyproj",
    "numba",
    "numba-cuda",
    "exactextract",
    "rio-cogeo",
    "pyarrow",
    "pydantic",
    "typer",
    "sentinelsat",
    "planetary-computer",
)


def collect_versions() -> dict[str, str]:
    """Python, platform, GDAL, PROJ, GEOS and package versions (``not installed`` if absent)."""
    info = {"python": sys.version.split()[0], "platform": platform.platform()}
    try:
        import rasterio

        info["GDAL"] = rasterio.__gdal_version__
    except ImportError:  # pragma: no cover
        info["GDAL"] = "not installed"
    try:
        import pyproj

        info["PROJ"] = pyproj.proj_version_str
    except ImportError:  # pragma: no cover
        info["PROJ"] = "not installed"
    try:
        import shapely

        info["GEOS"] = shapely.geos_version_string
    except ImportError:  # pragma: no cover
        info["GEOS"] = "not installed"
    for pkg in PACKAGES:
        try:
            info[pkg] = version(pkg)
        except PackageNotFoundError:
            info[pkg] = "not installed"
    return info
