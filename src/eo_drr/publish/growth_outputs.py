"""The urban-growth job's files: built-up probability and classes per epoch, new built-up,
hazard zones and growth in them (COG), the per-unit and SFM-shaped tables, the report, and
the run summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pystac
from odc.geo.geobox import GeoBox

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, required
from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _
from eo_drr.io.cog import CogStyle, write_cog
from eo_drr.load.grid import crs_wkt
from eo_drr.products import growth_pair, hazard_zones, urban
from eo_drr.publish.demo_marks import items_are_synthetic
from eo_drr.publish.headline import summary_figures
from eo_drr.publish.rasters import grid_array
from eo_drr.publish.report import MapLayer, ReportContent, write_report
from eo_drr.publish.report_text import growth_title
from eo_drr.publish.sfm_files import write_sfm
from eo_drr.publish.staging import OutputFolder
from eo_drr.publish.unit_tables import write_unit_table
from eo_drr.sendai.sfm_trends import growth_rows

EPOCHS = (1, 2)


@dataclass(frozen=True)
class GrowthMaps:
    """The run's maps: built-up per epoch (``builtup``: epoch 1 / 2 -> result), new built-up
    (``grown``), the epochs' processing levels, and with a hazard, the hazard zones and the
    new built-up in them (uint8 1 / 0 / 255)."""

    builtup: Mapping[int, urban.BuiltupResult]
    grown: growth_pair.GrowthResult
    levels: Sequence[str]
    hazard: np.ndarray | None = None
    growth_hazard: np.ndarray | None = None


def write_growth_rasters(
    maps: GrowthMaps, geobox: GeoBox, out: OutputFolder, outputs: Mapping[str, str]
) -> None:
    """Write the maps ``outputs`` names as COGs on ``geobox``."""
    for e in EPOCHS:
        r = maps.builtup[e]
        prob = np.where(
            np.isfinite(r.probability), np.round(100 * r.probability), urban.NODATA
        ).astype(np.uint8)
        if f"probability_t{e}" in outputs:
            write_cog(
                grid_array(prob, "builtup_probability", geobox),
                out.path(outputs[f"probability_t{e}"]),
                nodata=urban.NODATA,
                style=CogStyle(
                    band_descriptions=["builtup_probability"],
                    tags={"units": "percent", "sources": ",".join(r.sources)},
                ),
            )
        if f"builtup_t{e}" in outputs:
            write_cog(
                grid_array(r.builtup, "builtup", geobox),
                out.path(outputs[f"builtup_t{e}"]),
                nodata=urban.NODATA,
                style=CogStyle(
                    band_descriptions=["builtup"],
                    colormap=urban.BUILTUP_COLORS,
                    tags={"classes": "1 built-up, 0 not, 255 no clear observation"},
                ),
            )
    grown = maps.grown
    growth_tags = {
        "classes": growth_pair.GROWTH_CLASSES,
        "threshold": f"{grown.threshold:.3f}",
        "sentinel1": str(grown.with_s1).lower(),
    }
    layers: list[tuple[str, np.ndarray | None, dict | None, dict[str, Any]]] = [
        ("growth", grown.growth, growth_pair.GROWTH_COLORS, growth_tags),
        ("hazard", maps.hazard, None, {"classes": "1 hazard zone, 0 not, 255 no data"}),
        (
            "growth_hazard",
            maps.growth_hazard,
            None,
            {"classes": "1 new built-up in a hazard zone, 0 not, 255 no data"},
        ),
    ]
    for key, values, cmap, tags in layers:
        if key in outputs and values is not None:
            write_cog(
                grid_array(values, key, geobox),
                out.path(outputs[key]),
                nodata=hazard_zones.NODATA,
                style=CogStyle(band_descriptions=[key], colormap=cmap, tags=tags),
            )


def growth_summary(
    maps: GrowthMaps,
    rule: urban.BuiltupRule,
    s2_items: Mapping[int, Sequence[pystac.Item]],
    s1_items: Mapping[int, Sequence[pystac.Item]],
    geobox: GeoBox,
) -> dict[str, Any]:
    """The run summary: the rule and model, per epoch its scenes and built-up (ha), the new
    built-up (ha; in hazard zones too) and the headline figures."""
    px_ha = abs(geobox.resolution.x * geobox.resolution.y) / 1e4
    grown, growth = maps.grown, maps.grown.growth
    summary: dict[str, Any] = {
        "rule": rule.as_dict(),
        "model": {
            "threshold": grown.threshold,
            "min_mapping_unit_px": grown.min_mapping_unit_px,
            "sentinel1": grown.with_s1,
            "cloud_share": list(grown.cloud_share),
            "levels": list(maps.levels),
        },
        "epochs": {
            e: {
                "s2_items": [it.id for it in s2_items[e]],
                "s1_items": [it.id for it in s1_items.get(e, [])],
                "sources": maps.builtup[e].sources,
                "builtup_ha": float((maps.builtup[e].builtup == 1).sum() * px_ha),
                "observed_share": float((maps.builtup[e].builtup != urban.NODATA).mean()),
            }
            for e in EPOCHS
        },
        "warnings": [w for e in EPOCHS for w in maps.builtup[e].warnings],
        "new_builtup_ha": float((growth == 1).sum() * px_ha),
        "observed_share": float((growth != hazard_zones.NODATA).mean()),
    }
    summary["headline"] = {
        "new built-up": f"{summary['new_builtup_ha']:,.1f} ha (model "
        f"{'with' if grown.with_s1 else 'without'} Sentinel-1)"
    }
    if maps.growth_hazard is not None:
        summary["new_builtup_in_hazard_ha"] = float((maps.growth_hazard == 1).sum() * px_ha)
        summary["headline"]["new built-up in hazard zones"] = (
            f"{summary['new_builtup_in_hazard_ha']:,.1f} ha"
        )
    return summary


def write_growth_tables(
    cfg: JobConfig,
    table: pd.DataFrame,
    units: gpd.GeoDataFrame,
    date: str,
    geobox: GeoBox,
    out: OutputFolder,
    outputs: Mapping[str, str],
) -> pd.DataFrame:
    """The per-unit table (CSV, GeoParquet) and the SFM-shaped rows of the growth up to
    ``date`` (areas in ha on ``geobox``'s CRS). Returns the table as written: with a first
    ``level`` column (``exposure.admin_units.level``)."""
    ex = required(cfg.exposure, "exposure")
    au = ex.admin_units
    table = table.copy()
    table.insert(0, "level", au.level if au.level is not None else None)
    gtable = write_unit_table(table, units, out, outputs)
    rows = growth_rows(
        table,
        event_id=ex.event_id or cfg.name,
        hazard_code=ex.hazard_code,
        admin_level=au.level,
        date=date,
        area_ha=gtable.to_crs(crs_wkt(geobox)).geometry.area.to_numpy() / 1e4,
    )
    write_sfm(rows, out.path(""), units=units, stem=outputs["sendai"])
    return table


def epoch_end(items: Sequence[pystac.Item]) -> str:
    """The date (ISO) of the last acquisition of an epoch's ``items``."""
    return f"{max(item_datetime(it) for it in items):%Y-%m-%d}"


@dataclass(frozen=True)
class GrowthReport:
    """What the urban-growth report shows: the job's name and Sentinel-2 scenes per epoch,
    the maps on ``geobox``, the units and their table (or None), and the run summary
    (:func:`growth_summary`: its warnings and model)."""

    job: str
    s2_items: Mapping[int, Sequence[pystac.Item]]
    maps: GrowthMaps
    geobox: GeoBox
    units: gpd.GeoDataFrame | None
    table: pd.DataFrame | None
    summary: Mapping[str, Any]


def write_growth_report(path: Path, r: GrowthReport) -> Path:
    """The growth map beside the hazard zones, the per-unit table and the run's figures."""
    growth = grid_array(r.maps.grown.growth, "growth", r.geobox)
    layers = [
        MapLayer(
            N_("New built-up"),
            growth,
            colors={1: growth_pair.GROWTH_COLORS[1]},
            legend=N_("new built-up"),
        )
    ]
    if r.maps.hazard is not None:
        layers.insert(
            0,
            MapLayer(
                N_("Hazard zones"),
                grid_array(r.maps.hazard, "hazard", r.geobox),
                colors={1: (90, 140, 230, 255)},
                opacity=0.45,
                legend=N_("hazard zone"),
            ),
        )
    dates = {e: sorted(f"{item_datetime(it):%Y-%m-%d}" for it in r.s2_items[e]) for e in EPOCHS}
    synthetic = items_are_synthetic(it for e in EPOCHS for it in r.s2_items[e])
    content = ReportContent(
        title=growth_title(r.job, dates[1][0], dates[2][-1], synthetic),
        layers=layers,
        units=r.units,
        table=r.table,
        warnings=r.summary["warnings"],
        popup_columns=("new_builtup_ha", "new_builtup_hazard_ha", "observed_ha"),
        provenance={
            _("epoch 1 Sentinel-2"): ", ".join(it.id for it in r.s2_items[1]),
            _("epoch 2 Sentinel-2"): ", ".join(it.id for it in r.s2_items[2]),
            _("model"): r.summary["model"],
            _("method"): _(
                "New built-up from the urban-growth model (see its model card); hectares per "
                "unit are EO proxies, not reported Sendai values"
            ),
        },
        synthetic=synthetic,
        headline=summary_figures(r.summary.get("headline", {})),
        data_date=dates[2][-1],
    )
    return write_report(path, content)
