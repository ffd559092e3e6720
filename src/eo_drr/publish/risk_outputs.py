"""The flood job's risk files and report content: the water depth and hazard-class rasters
(COG), the per-unit exposure-by-depth table (CSV, GeoParquet), and the depth and hazard maps
of the report (map layers, and a figure of the extent, depth and classes side by side)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from odc.geo.geobox import GeoBox

from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _
from eo_drr.io.cog import CogStyle
from eo_drr.products import flood as fp
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
                N_("Water depth"),
                depth,
                cmap="Blues",
                vmin=0.0,
                vmax=DEPTH_MAP_MAX_M,
                show=False,
                legend=_("m, 0 to {max:g}+ (modelled from the extent and the DEM)").format(
                    max=DEPTH_MAP_MAX_M
                ),
            )
        )
    if hazard is not None:
        names = ", ".join(_(hz.CLASS_NAMES[c]) for c in (hz.LOW, hz.MEDIUM, hz.HIGH))
        layers.append(
            MapLayer(
                N_("Flood hazard classes"),
                hazard,
                colors={k: v for k, v in hz.HAZARD_COLORS.items() if k not in (0, hz.NODATA)},
                show=False,
                legend=_("{names} (yellow, blue, red; Swiss depth intensity classes)").format(
                    names=names
                ),
            )
        )
    return layers


#: longest side (px) of a panel of :func:`risk_plots` (larger rasters are subsampled)
PANEL_MAX_PX = 1000


def _rgba(values: np.ndarray, colors: Mapping[int, Sequence[int]]) -> np.ndarray:
    """Class codes coloured by ``colors`` (RGBA 0-255; others transparent), ``(y, x, 4)``."""
    out = np.zeros((*values.shape, 4), dtype=np.uint8)
    for code, rgba in colors.items():
        out[values == code] = (*rgba[:3], rgba[3] if len(rgba) > 3 else 255)
    return out


def risk_plots(
    flood: xr.DataArray, depth: xr.DataArray | None, hazard: xr.DataArray | None
) -> dict[str, Any]:
    """The flood extent, the water depth (m) and the hazard classes side by side (one
    matplotlib Figure, subsampled to :data:`PANEL_MAX_PX`); empty without depth and
    hazard. Returns ``{caption: Figure}`` for :class:`~eo_drr.publish.report.ReportContent`."""
    if depth is None and hazard is None:
        return {}
    # a bare Figure (no pyplot) renders anywhere without switching the caller's backend
    # (matplotlib.use("Agg") here turned a notebook's inline plots off after a run)
    from matplotlib.figure import Figure

    panels = [
        (_("Flood extent"), flood),
        (_("Water depth (m)"), depth),
        (_("Hazard class"), hazard),
    ]
    shown = [(t, da) for t, da in panels if da is not None]
    step = max(1, -(-max(flood.shape) // PANEL_MAX_PX))
    fig = Figure(figsize=(4.2 * len(shown), 4.4))
    for ax, (title, da) in zip(fig.subplots(1, len(shown), squeeze=False)[0], shown):
        v = np.asarray(da.values)[::step, ::step]
        if da is depth:
            im = ax.imshow(v, cmap="Blues", vmin=0.0, vmax=DEPTH_MAP_MAX_M)
            fig.colorbar(im, ax=ax, shrink=0.7, label="m")
        elif da is hazard:
            ax.imshow(_rgba(v, {k: c for k, c in hz.HAZARD_COLORS.items() if k != hz.NO_FLOOD}))
            low, medium, high = (_(hz.CLASS_NAMES[c]) for c in (hz.LOW, hz.MEDIUM, hz.HIGH))
            ax.set_xlabel(
                _("yellow {low}, blue {medium}, red {high}").format(
                    low=low, medium=medium, high=high
                )
            )
        else:
            ax.imshow(_rgba(v, {**fp.FLOOD_COLORS, fp.NODATA: (128, 128, 128, 255)}))
            ax.set_xlabel(_("blue flood, dark still water, grey no data"))
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return {_("Flood extent, modelled water depth and hazard classes"): fig}
