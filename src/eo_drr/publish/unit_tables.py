"""Per-unit tables of a run: CSV, and GeoParquet with the units' polygons."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from eo_drr.publish.staging import OutputFolder
from eo_drr.publish.tables import write_csv, write_geoparquet


def write_unit_table(
    table: pd.DataFrame, units: gpd.GeoDataFrame, out: OutputFolder, outputs: Mapping[str, str]
) -> gpd.GeoDataFrame:
    """Write ``table`` (index = unit code) as ``outputs["table_csv"]`` and, with the polygons
    of ``units`` (``code``, geometry), ``outputs["table_parquet"]``: each when ``outputs``
    names it. Returns the table with the polygons (in the units' CRS)."""
    gtable = gpd.GeoDataFrame(
        table, geometry=units.set_index("code").loc[table.index].geometry, crs=units.crs
    )
    if "table_csv" in outputs:
        write_csv(table, out.path(outputs["table_csv"]))
    if "table_parquet" in outputs:
        write_geoparquet(gtable, out.path(outputs["table_parquet"]))
    return gtable
