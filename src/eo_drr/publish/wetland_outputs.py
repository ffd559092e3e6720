"""The wetlands job's files: WIT classes per date, inundation frequency, wetland extent and
its change (COG), the time series and summary per polygon (CSV, GeoParquet) and a PNG time
series plot per wetland."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from odc.geo.geobox import GeoBox

from eo_drr.i18n import gettext as _
from eo_drr.io.cog import CogStyle
from eo_drr.products import wetlands as wl
from eo_drr.publish.rasters import write_on_grid
from eo_drr.publish.staging import OutputFolder
from eo_drr.publish.tables import write_csv, write_geoparquet
from eo_drr.sendai import wetland_stats as ws

#: the folder of the per-wetland plots in the output folder
PLOT_DIR = "plots"


@dataclass(frozen=True)
class WetlandMaps:
    """The run's maps on the job grid: WIT ``classes`` ``(date, y, x)`` (uint8, 255 no data),
    inundation ``frequency`` (0-1, NaN never clear), wetland ``extent`` of the monitoring
    period and, with a reference period, ``extent_pre`` and the ``change`` between them."""

    classes: np.ndarray
    frequency: np.ndarray
    extent: np.ndarray
    extent_pre: np.ndarray | None = None
    change: np.ndarray | None = None


def write_wetland_rasters(
    maps: WetlandMaps,
    dates: Sequence[str],
    min_observations: int,
    geobox: GeoBox,
    out: OutputFolder,
    outputs: Mapping[str, str],
) -> None:
    """Write the maps ``outputs`` names as COGs on ``geobox`` (one band of the classes per
    date of ``dates``; frequency in percent); the extent's no data is a pixel with fewer than
    ``min_observations`` clear dates."""
    freq = maps.frequency
    freq_u8 = np.where(np.isfinite(freq), np.round(100 * freq), wl.NODATA).astype(np.uint8)
    ext_tags = {"classes": f"1 wetland, 0 not, 255 fewer than {min_observations} clear dates"}
    styled: dict[str, tuple[np.ndarray | None, CogStyle]] = {
        "classes": (
            maps.classes,
            CogStyle(list(dates), tags={"classes": str(dict(enumerate(ws.CLASS_NAMES)))}),
        ),
        "frequency": (
            freq_u8,
            CogStyle(["inundation_frequency"], tags={"units": "percent of clear dates"}),
        ),
        "extent": (maps.extent, CogStyle(["wetland_extent"], tags=ext_tags)),
        "extent_pre": (
            maps.extent_pre,
            CogStyle(["wetland_extent_reference"], tags=ext_tags),
        ),
        "change": (
            maps.change,
            CogStyle(
                ["extent_change"],
                colormap=wl.CHANGE_COLORS,
                tags={"classes": str(wl.CHANGE_CLASSES)},
            ),
        ),
    }
    for key, (values, style) in styled.items():
        if key in outputs and values is not None:
            write_on_grid(values, out.path(outputs[key]), geobox, wl.NODATA, style)


def write_wetland_tables(
    series: pd.DataFrame,
    summary: pd.DataFrame,
    polys: gpd.GeoDataFrame,
    out: OutputFolder,
    outputs: Mapping[str, str],
) -> None:
    """The time series (one row per polygon and date) and the summary (index ``id``) as CSV
    and GeoParquet (with the polygons), each when ``outputs`` names it."""
    geom = polys.set_index("id").geometry
    if "series_csv" in outputs:
        write_csv(series, out.path(outputs["series_csv"]))
    if "series_parquet" in outputs:
        write_geoparquet(
            gpd.GeoDataFrame(series, geometry=geom.loc[series["id"]].to_numpy(), crs=polys.crs),
            out.path(outputs["series_parquet"]),
        )
    if "summary_csv" in outputs:
        write_csv(summary, out.path(outputs["summary_csv"]))
    if "summary_parquet" in outputs:
        write_geoparquet(
            gpd.GeoDataFrame(summary, geometry=geom.loc[summary.index].to_numpy(), crs=polys.crs),
            out.path(outputs["summary_parquet"]),
        )


def write_wetland_plots(
    series: pd.DataFrame, polys: gpd.GeoDataFrame, out: OutputFolder
) -> dict[Any, str]:
    """One PNG time series per polygon in :data:`PLOT_DIR`; returns ``{id: final path}``."""
    plots = {}
    for pid, name in zip(polys["id"], polys["name"]):
        rel = f"{PLOT_DIR}/wit_{pid}.png"
        plot_wetland(
            series[series["id"] == pid],
            _("{name}: Wetlands Insight Tool fractions").format(name=name),
            out.path(rel),
        )
        plots[pid] = str(out.final(rel))
    return plots


def plot_wetland(series: pd.DataFrame, title: str, path) -> None:
    """Stacked-area plot of the WIT fractions of one wetland over time (PNG)."""
    # a bare Figure (no pyplot) renders anywhere without switching the caller's backend
    # (matplotlib.use("Agg") here turned a notebook's inline plots off after a run)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.2), dpi=100)
    ax = fig.subplots()
    colors = [(r / 255, g / 255, b / 255) for r, g, b, _ in (wl.CLASS_COLORS[k] for k in range(5))]
    if len(series):
        d = pd.to_datetime(series["date"])
        ax.stackplot(
            d,
            *(100 * series[c].to_numpy() for c in ws.CLASS_NAMES),
            labels=ws.CLASS_NAMES,
            colors=colors,
        )
    else:
        ax.text(
            0.5,
            0.5,
            _("no observation with <= 10 % missing"),
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_ylim(0, 100)
    ax.set_ylabel(_("share of the wetland (%)"))
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
