"""Tables: CSV and GeoParquet, written atomically and byte-reproducibly."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from eo_drr.io.atomic import atomic_path

#: a text cell starting with one of these is a formula to a spreadsheet (OWASP, CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and text index) that a spreadsheet would run as a
    formula start with an apostrophe (OWASP's CSV-injection advice): unit names come from the
    user's files. Numbers are untouched."""

    def fix(v: object) -> object:
        return "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v

    def texts(values: pd.Series | pd.Index) -> bool:
        return pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)

    out = df.copy()
    for col in out.columns:
        if texts(out[col]):
            out[col] = out[col].map(fix)
    if texts(out.index):
        out.index = out.index.map(fix)
    return out


def write_csv(df: pd.DataFrame, path: str | Path, *, float_format: str = "%.6g") -> Path:
    """Write ``df`` as UTF-8 CSV (index included when named), atomically; text cells made
    safe for spreadsheets (:func:`spreadsheet_safe`)."""
    path = Path(path)
    df = spreadsheet_safe(df)
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
