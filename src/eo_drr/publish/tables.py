"""Tables: CSV and GeoParquet, written atomically and byte-reproducibly."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from eo_drr.io.atomic import atomic_path


def write_csv(df: pd.DataFrame, path: str | Path, *, float_format: str = "%.6g") -> Path:
    """Write ``df`` as UTF-8 CSV (index included when named), atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        df.to_csv(
            tmp, index=df.index.name is not None, float_format=float_format, lineterminator="\n"
        )
    return path


def write_geoparquet(gdf: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write a GeoDataFrame as GeoParquet (geometry as WKB, CRS in the metadata), atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        gdf.to_parquet(tmp, index=gdf.index.name is not None, compression="zstd")
    return path
