"""Wetlands pipeline, Wetlands Insight Tool style: Sentinel-2 time series -> per pixel and date
open water / wet / green veg / dry veg / bare -> per polygon and date fractions, inundation
frequency, wetland extent and its change between periods.

    search (time.pre: reference period, optional; time.post: monitoring period) -> load
    (SCL-masked reflectance, common grid) -> WIT classes (products.wetlands) -> polygons
    (a user file or derived from the extent) -> fractions per polygon and date
    (sendai.wetland_stats) -> COG + CSV + GeoParquet + a PNG time series per wetland
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pystac
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, WetlandsProduct
from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _
from eo_drr.jobs import inputs
from eo_drr.jobs.describe import grid_rows, item_rows, output_rows
from eo_drr.jobs.outputs import select_outputs
from eo_drr.jobs.progress import Steps
from eo_drr.jobs.wetland_inputs import load_wetland_stack, wetland_polygons
from eo_drr.load.sentinel2 import S2_COMMON_NAMES
from eo_drr.products import wetlands as wl
from eo_drr.publish import OutputFolder
from eo_drr.publish.wetland_outputs import (
    WetlandMaps,
    write_wetland_plots,
    write_wetland_rasters,
    write_wetland_tables,
)
from eo_drr.sendai import wetland_stats as ws
from eo_drr.sendai.wetland_areas import extent_areas

OUTPUTS = {
    "classes": "wit_classes.tif",
    "frequency": "inundation_frequency.tif",
    "extent": "wetland_extent.tif",
    "extent_pre": "wetland_extent_reference.tif",
    "change": "wetland_extent_change.tif",
    "series_csv": "wit_time_series.csv",
    "series_parquet": "wit_time_series.parquet",
    "summary_csv": "wetlands_summary.csv",
    "summary_parquet": "wetlands_summary.parquet",
}


@dataclass(frozen=True)
class WetlandsPlan:
    """Everything the run will use, resolved before anything is computed (``--dry-run``)."""

    catalog: str
    aoi: Geometry
    geobox: GeoBox
    items: list[pystac.Item]
    n_pre: int = 0
    polygons_path: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[tuple[str, str]]:
        rows = grid_rows(self.catalog, self.geobox)
        for i, it in enumerate(self.items):
            rows += item_rows("reference S2" if i < self.n_pre else "monitoring S2", [it])
        rows.append(("polygons", self.polygons_path or "derived from the wetland extent"))
        return rows + output_rows(self.outputs)


def plan(cfg: JobConfig) -> WetlandsPlan:
    """Search the catalogue and resolve the grid; computes and writes nothing."""
    if cfg.sources.s2 is None:
        raise ConfigError(_("sources.s2: the wetlands pipeline needs Sentinel-2 (add sources.s2)"))
    s2 = cfg.sources.s2
    missing = [b for b in S2_COMMON_NAMES if b not in s2.bands]
    if missing:
        raise ConfigError(
            _("sources.s2.bands: the wetland classes need {missing}").format(
                missing=", ".join(missing)
            )
        )
    wp = cfg.products.wetlands or WetlandsProduct()
    catalog = inputs.job_catalog(cfg)
    aoi = inputs.aoi_geometry(cfg)
    post = inputs.search_window(
        catalog, s2.collection, aoi, cfg.time.post, "time.post", max_cloud_cover=s2.max_cloud_cover
    )
    pre = []
    if cfg.time.pre is not None:
        pre = inputs.search_window(
            catalog,
            s2.collection,
            aoi,
            cfg.time.pre,
            "time.pre",
            max_cloud_cover=s2.max_cloud_cover,
        )
    items = sorted(pre, key=item_datetime) + sorted(post, key=item_datetime)
    geobox = inputs.job_geobox(cfg, aoi, items)
    polygons_path = None
    if wp.polygons is not None:
        key = "products.wetlands.polygons.file"
        polygons_path = str(inputs.resolve_path(cfg, wp.polygons.file, key))
    drop = () if pre else ("extent_pre", "change")
    outputs = select_outputs(OUTPUTS, cfg.outputs.formats, drop)
    return WetlandsPlan(catalog.name, aoi, geobox, items, len(pre), polygons_path, outputs)


def check(cfg: JobConfig, p: WetlandsPlan, out: OutputFolder) -> None:
    """The run's checks of its inputs without the computation (``--dry-run``): the job's
    wetland polygons are read and placed on the grid (refused when all lie outside it)."""
    if p.polygons_path:
        wetland_polygons(cfg, p.polygons_path, np.zeros((0, 0), np.uint8), p.geobox, 1)


def run(cfg: JobConfig, p: WetlandsPlan, out: OutputFolder, steps: Steps | None = None) -> dict:
    """Run the planned job into ``out`` (staged; the caller commits); returns the summary."""
    steps = steps or Steps()
    wp = cfg.products.wetlands or WetlandsProduct()
    params = wl.WetlandParams(**wp.model_dump(exclude_none=True, exclude={"polygons"}))
    with steps.step("Loading Sentinel-2 (SCL clouds masked; water never masked)"):
        stack = load_wetland_stack(cfg, p.items, p.n_pre, p.geobox)
    dates, n_pre = stack.dates, stack.n_pre
    with steps.step("WIT classes per pixel and date"):
        classes = wl.wit_classes(
            stack.bands,
            tcw_wet_threshold=params.tcw_wet_threshold,
            ndvi_green_min=params.ndvi_green_min,
        )
        freq, n_clear = wl.inundation_frequency(classes)
        extent = wl.wetland_extent(
            classes[n_pre:],
            params.extent_min_frequency,
            min_observations=params.extent_min_observations,
            what="time.post (monitoring period)",
        )
        maps = WetlandMaps(classes, freq, extent)
        if n_pre:
            extent_pre = wl.wetland_extent(
                classes[:n_pre],
                params.extent_min_frequency,
                min_observations=params.extent_min_observations,
                what="time.pre (reference period)",
            )
            maps = WetlandMaps(
                classes, freq, extent, extent_pre, wl.extent_change(extent_pre, extent)
            )
    with steps.step("Wetland polygons"):
        wpoly = wetland_polygons(cfg, p.polygons_path, extent, p.geobox, params.min_polygon_px)
        polys = wpoly.polys
    with steps.step("Fractions per polygon and date"):
        series = ws.wit_time_series(
            classes,
            wpoly.labels,
            list(polys["id"]),
            dates,
            expected_px=wpoly.expected_px,
            max_missing_fraction=params.max_missing_fraction,
        )
        ws.require_observations(series)
        px_ha = abs(p.geobox.resolution.x * p.geobox.resolution.y) / 1e4
        ext = extent_areas(
            wpoly.labels,
            polys["id"],
            wpoly.expected_px,
            px_ha,
            extent,
            maps.extent_pre,
            maps.change,
        )
        summary_t = ws.polygon_summary(series, polys, len(dates), ext)
    with steps.step("Writing rasters, tables and plots"):
        min_obs = params.extent_min_observations
        write_wetland_rasters(maps, dates, min_obs, p.geobox, out, p.outputs)
        write_wetland_tables(series, summary_t, polys, out, p.outputs)
        plots = write_wetland_plots(series, polys, out)
    summary = {
        "tcw_wet_threshold": params.tcw_wet_threshold,
        "extent_rule": {
            "min_frequency": params.extent_min_frequency,
            "min_observations": params.extent_min_observations,
        },
        "dates": dates,
        "reference_dates": dates[:n_pre],
        "polygons": int(len(polys)),
        "polygons_outside_data": wpoly.outside,
        "polygons_without_observations": ws.no_observation_ids(summary_t),
        "observations_kept": int(len(series)),
        "observations_dropped": int(len(polys) * len(dates) - len(series)),
        "wetland_extent_ha": float((extent == 1).sum() * px_ha),
        "observed_share": float((n_clear > 0).mean()),
    }
    if maps.change is not None:
        summary["extent_gained_ha"] = float((maps.change == 2).sum() * px_ha)
        summary["extent_lost_ha"] = float((maps.change == 3).sum() * px_ha)
    summary["outputs"] = {k: str(out.final(v)) for k, v in p.outputs.items()}
    summary["plots"] = plots
    return summary
