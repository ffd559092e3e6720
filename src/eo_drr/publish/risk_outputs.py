"""The flood job's risk files and report layers: the water depth and hazard-class rasters
(COG), the per-unit exposure-by-depth table (CSV, GeoParquet), and the depth and hazard maps
of the report."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from odc.geo.geobox import GeoBox

from eo_drr.io.cog import CogStyle
from eo_drr.products import hazard as hz
from eo_drr.publish.rasters import write_on_grid
from eo_drr.publish.report import MapLayer
from eo_drr.publish.staging import OutputFolder
from eo_drr.publish.unit_tables import write_unit_table

#: output keys of the risk rasters and of the exposure-by-depth table
DEPTH_TABLE_KEYS = {"depth_csv": "table_csv", "depth_parquet": "table_parquet"}
#: the depth map's colour scale (m): 0 to the Swiss "strong" intensity (products.hazard)
DEPTH_MAP_MAX_M = hz.DEPTH_BREAKS_M[-1]


def write_risk_rasters(
    depth: np.ndarray,
    hazard: np.ndarray,
    geobox: GeoBox,
    out: OutputFolder,
    outputs: Mapping[str, str],
) -> None:
    """Write ``depth`` (float32 m, NaN off the flood) as ``outputs["depth"]`` and ``hazard``
    (uint8, :data:`~eo_drr.products.hazard.CLASS_NAMES`) as ``outputs["hazard"]``, COGs on
    ``geobox``, each when ``outputs`` names it."""
    if "depth" in outputs:
        style = CogStyle(["depth"], None, {"units": "m"}, "average")
        write_on_grid(depth.astype(np.float32), out.path(outputs["depth"]), geobox, np.nan, style)
    if "hazard" in outputs:
        style = CogStyle(["hazard"], hz.HAZARD_COLORS, {"classes": hz.HAZARD_CLASSES})
        write_on_grid(hazard, out.path(outputs["hazard"]), geobox, hz.NODATA, style)


def write_depth_table(
    table: pd.DataFrame, units: gpd.GeoDataFrame, out: OutputFolder, outputs: Mapping[str, str]
) -> None:
    """Write the exposure-by-depth table (:func:`~eo_drr.sendai.depth_exposure.exposure_by_depth`:
    one row per unit x depth class, ``code`` column) as ``outputs["depth_csv"]`` and, with the
    units' polygons, ``outputs["depth_parquet"]``: each when ``outputs`` names it."""
    named = {DEPTH_TABLE_KEYS[k]: v for k, v in outputs.items() if k in DEPTH_TABLE_KEYS}
    if named:
        write_unit_table(table.set_index("code"), units, out, named)


def risk_layers(depth: xr.DataArray | None, hazard: xr.DataArray | None) -> list[MapLayer]:
    """The report's map layers of the water depth (m, continuous) and the hazard classes
    (both with a CRS), each when given; shown off at first (the flood extent is on top)."""
    layers = []
    if depth is not None:
        layers.append(
            MapLayer(
                "Water depth",
                depth,
                cmap="Blues",
                vmin=0.0,
                vmax=DEPTH_MAP_MAX_M,
                show=False,
                legend=f"m, 0 to {DEPTH_MAP_MAX_M:g}+ (modelled from the extent and the DEM)",
            )
        )
    if hazard is not None:
        names = ", ".join(f"{hz.CLASS_NAMES[c]}" for c in (hz.LOW, hz.MEDIUM, hz.HIGH))
        layers.append(
            MapLayer(
                "Flood hazard classes",
                hazard,
                colors={k: v for k, v in hz.HAZARD_COLORS.items() if k not in (0, hz.NODATA)},
                show=False,
                legend=f"{names} (yellow, blue, red; Swiss depth intensity classes)",
            )
        )
    return layers
