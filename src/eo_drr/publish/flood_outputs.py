"""The flood job's files: the rasters of :func:`~eo_drr.products.flood.flood_extent` (COG,
with colour tables and tags), the per-unit and SFM-shaped tables, and the report's content
(flood map, reference water, population, facilities, per-unit bar charts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, required
from eo_drr.i18n import N_
from eo_drr.io.cog import CogStyle
from eo_drr.products import flood as fp
from eo_drr.publish.demo_marks import items_are_synthetic
from eo_drr.publish.headline import flood_headline
from eo_drr.publish.provenance_text import flood_provenance
from eo_drr.publish.rasters import write_on_grid
from eo_drr.publish.report import FLOOD_COLORS, MapLayer, ReportContent, write_report
from eo_drr.publish.report_plots import indicator_plots
from eo_drr.publish.report_text import flood_title
from eo_drr.publish.risk_outputs import risk_layers, risk_plots
from eo_drr.publish.sfm_files import write_sfm
from eo_drr.publish.staging import OutputFolder
from eo_drr.publish.unit_tables import write_unit_table
from eo_drr.sendai.sfm import sfm_table


@dataclass(frozen=True)
class RasterStyle:
    """How one variable of the flood dataset is written: its nodata, colour table and
    overview resampling; ``units`` tags a continuous raster (None: the variable's ``classes``
    attribute is its tag)."""

    nodata: float | None = None
    colormap: Mapping[int, Sequence[int]] | None = None
    units: str | None = None
    overview_resampling: str = "nearest"


#: the raster outputs (output key = dataset variable), in the order they are written
RASTERS = {
    "flood": RasterStyle(fp.NODATA, fp.FLOOD_COLORS),
    "water": RasterStyle(fp.NODATA, fp.CLASS_COLORS),
    "water_source": RasterStyle(colormap=fp.SOURCE_COLORS),
    "reference_water": RasterStyle(fp.NODATA, fp.CLASS_COLORS),
    "exclusion": RasterStyle(colormap=fp.EXCLUSION_COLORS),
    "likelihood": RasterStyle(fp.NODATA, units="percent"),
    "provenance": RasterStyle(),
    "log_ratio": RasterStyle(float("nan"), units="dB", overview_resampling="average"),
}


def write_flood_rasters(
    ds: xr.Dataset, geobox: GeoBox, out: OutputFolder, outputs: Mapping[str, str]
) -> None:
    """Write the variables of ``ds`` (on ``geobox``) that ``outputs`` names, as COGs."""
    for key, st in RASTERS.items():
        if key not in outputs:
            continue
        da = ds[key]
        tags = {"units": st.units} if st.units else {"classes": da.attrs["classes"]}
        style = CogStyle([key], st.colormap, tags, st.overview_resampling)
        write_on_grid(da.values, out.path(outputs[key]), geobox, st.nodata, style)


def event_date(post_item: pystac.Item) -> str:
    """The event's date (ISO ``YYYY-MM-DD``): the post-event acquisition's."""
    return f"{item_datetime(post_item):%Y-%m-%d}"


def write_flood_tables(
    cfg: JobConfig,
    table: pd.DataFrame,
    units: gpd.GeoDataFrame,
    date: str,
    out: OutputFolder,
    outputs: Mapping[str, str],
    sfm: bool,
    depth_rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The per-unit table (CSV, GeoParquet) and, with ``sfm``, the SFM-shaped EO-proxy table
    of the event on ``date``, followed by ``depth_rows`` (its rows by depth class, when the
    job maps depth). Returns the table as written: with the ``level`` column of
    ``exposure.admin_units.level`` when the job sets one."""
    ex = required(cfg.exposure, "exposure")
    au = ex.admin_units
    if au.level is not None:
        table = table.assign(level=au.level)
    write_unit_table(table, units, out, outputs)
    if sfm:
        rows = sfm_table(
            table,
            event_id=ex.event_id or cfg.name,
            date=date,
            hazard_code=ex.hazard_code,
            admin_level=au.level,
        )
        if depth_rows is not None:
            rows = pd.concat([rows, depth_rows], ignore_index=True)
        write_sfm(rows, out.path(""), units=units, stem=outputs["sendai"])
    return table


def table_summary(table: pd.DataFrame, date: str) -> dict[str, Any]:
    """The run summary's per-unit figures: units, event date, exposed population (persons)."""
    summary: dict[str, Any] = {"units": int(len(table)), "event_date": date}
    if "exposed_population" in table:
        summary["exposed_population"] = float(table["exposed_population"].sum())
    return summary


@dataclass(frozen=True)
class FloodReport:
    """What the flood report shows: the job's name and scenes, the flood extent and the
    reference water (uint8 classes with a CRS), the units and their table, the thresholds
    (dB, :meth:`~eo_drr.products.flood.FloodThresholds.as_dict`), and optionally the
    population (persons per cell), the facilities flagged ``flooded``, the water depth (m)
    and the hazard classes (:mod:`eo_drr.products.hazard`)."""

    job: str
    post_item: pystac.Item
    pre_items: Sequence[pystac.Item]
    flood: xr.DataArray
    reference_water: xr.DataArray | None
    units: gpd.GeoDataFrame | None
    table: pd.DataFrame | None
    thresholds: Mapping[str, Any]
    population: xr.DataArray | None = None
    points: gpd.GeoDataFrame | None = None
    depth: xr.DataArray | None = None
    hazard: xr.DataArray | None = None


def write_flood_report(path: Path, r: FloodReport) -> Path:
    """Write the flood report (HTML) at ``path``."""
    layers = [
        MapLayer(N_("Flood extent"), r.flood, colors=FLOOD_COLORS, nodata=None),
        MapLayer(
            N_("Reference water"),
            r.reference_water,
            colors={1: (120, 120, 255, 255)},
            legend=N_("water before the event"),
            missing=N_("The water map before the event was not written."),
        ),
    ]
    if r.population is not None:
        layers.append(
            MapLayer(
                N_("Population"),
                r.population,
                cmap="magma",
                show=False,
                legend=N_("persons per cell"),
            )
        )
    layers += risk_layers(r.depth, r.hazard)
    synthetic, date = items_are_synthetic([r.post_item, *r.pre_items]), event_date(r.post_item)
    content = ReportContent(
        title=flood_title(r.job, date, synthetic),
        layers=layers,
        units=r.units,
        table=r.table,
        plots={
            **(indicator_plots(r.table) if r.table is not None else {}),
            **risk_plots(r.flood, r.depth, r.hazard),
        },
        provenance=flood_provenance(r.post_item, r.pre_items, r.thresholds),
        points=r.points,
        warnings=fp.quality_warnings(dict(r.thresholds)),
        synthetic=synthetic,
        headline=flood_headline(r.flood, r.table),
        data_date=date,
    )
    return write_report(path, content)


def read_tile_tables(tile_outputs: Mapping[str, Mapping[str, Path]]) -> list[pd.DataFrame]:
    """The per-unit tables the tiles of a tiled job wrote (``tile_outputs``: output key ->
    ``{tile id: path}``), in tile order: from GeoParquet (full precision) when written, else
    from CSV; empty when the tiles wrote neither."""
    if "table_parquet" in tile_outputs:
        return [
            pd.read_parquet(path).drop(columns="geometry", errors="ignore")
            for _, path in sorted(tile_outputs["table_parquet"].items())
        ]
    if "table_csv" in tile_outputs:  # codes and names stay text ("NA" is Namibia)
        return [
            pd.read_csv(
                path, dtype={"code": str, "name": str}, keep_default_na=False, na_values=[]
            ).set_index("code")
            for _, path in sorted(tile_outputs["table_csv"].items())
        ]
    return []
