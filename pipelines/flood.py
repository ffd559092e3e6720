"""Flood pipeline: Sentinel-1 before/after -> flood extent -> flooded area and exposed people
per administrative unit.

    search (pre + post, same track) -> load (lazy, common grid) -> flood_extent (GFM-style
    water rule) -> depth and hazard classes (with a DEM) -> exposure per unit (and per depth
    class) -> COG + CSV + GeoParquet
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pystac
import rioxarray  # noqa: F401  (registers the .rio accessor)
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.config import FloodProduct, JobConfig, required
from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _
from eo_drr.jobs import inputs
from eo_drr.jobs.describe import grid_rows, item_rows, output_rows, path_rows
from eo_drr.jobs.exposure import (
    ExposureSources,
    admin_units,
    exposure_sources,
    flood_exposure_table,
    read_exposure,
    vector_input,
)
from eo_drr.jobs.flood_inputs import (
    check_s1_pair,
    check_s1_sample,
    flood_layers,
    flood_params,
    load_s1_pair,
    s1_bands,
)
from eo_drr.jobs.flood_risk import RISK_OUTPUTS, depth_tables, job_risk, mosaic_risk
from eo_drr.jobs.layers import search_sources
from eo_drr.jobs.outputs import select_outputs
from eo_drr.jobs.progress import Steps
from eo_drr.load import read_for_display
from eo_drr.load.grid import crs_wkt
from eo_drr.products import flood as flood_product
from eo_drr.publish import OutputFolder
from eo_drr.publish.flood_outputs import (
    FloodReport,
    event_date,
    read_tile_tables,
    table_summary,
    write_flood_rasters,
    write_flood_report,
    write_flood_tables,
)
from eo_drr.sendai.points_lines import flag_flooded_points, flag_flooded_points_in_file
from eo_drr.sendai.tiles import combine_tile_tables

OUTPUTS = {
    "flood": "flood_extent.tif",
    "water": "observed_water.tif",
    "water_source": "water_source.tif",
    "reference_water": "reference_water.tif",
    "exclusion": "exclusion_mask.tif",
    "likelihood": "water_likelihood.tif",
    "provenance": "water_provenance.tif",
    "log_ratio": "log_ratio_db.tif",
    "depth": "flood_depth.tif",
    "hazard": "flood_hazard.tif",
    "table_csv": "flood_by_unit.csv",
    "table_parquet": "flood_by_unit.parquet",
    "depth_csv": "flood_by_depth.csv",
    "depth_parquet": "flood_by_depth.parquet",
    "sendai": "sendai_eo_proxies",
    "report": "report.html",
}
#: the outputs of a job with admin units (``exposure:``)
UNIT_OUTPUTS = ("table_csv", "table_parquet", "depth_csv", "depth_parquet", "sendai")
#: the optional single-band sources searched in the catalogue (``sources.<key>.collection``)
STATIC_SOURCES = ("hand", "dem", "landcover", "gsw_seasonality")


@dataclass(frozen=True)
class FloodPlan:
    """Everything the run will use, resolved before anything is computed (``--dry-run``)."""

    catalog: str
    aoi: Geometry
    geobox: GeoBox
    post_item: pystac.Item
    pre_items: list[pystac.Item]
    relative_orbit: int | None
    hand_items: list[pystac.Item] = field(default_factory=list)
    dem_items: list[pystac.Item] = field(default_factory=list)
    landcover_items: list[pystac.Item] = field(default_factory=list)
    gsw_seasonality_items: list[pystac.Item] = field(default_factory=list)
    s2_items: list[pystac.Item] = field(default_factory=list)
    population_items: list[pystac.Item] = field(default_factory=list)
    units_path: str | None = None
    population_path: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    #: the whole job's grid when this plan is one tile of a tiled job (else None)
    job_geobox: GeoBox | None = None

    def describe(self) -> list[tuple[str, str]]:
        """``(what, value)`` rows for the dry-run table."""
        return [
            *grid_rows(self.catalog, self.geobox),
            *item_rows("post-event S1", [self.post_item]),
            ("relative orbit", str(self.relative_orbit)),
            *item_rows("pre-event S1", self.pre_items),
            *item_rows("post-event S2", self.s2_items),
            *item_rows("HAND", self.hand_items, dated=False),
            *item_rows("DEM", self.dem_items, dated=False),
            *item_rows("land cover", self.landcover_items, dated=False),
            *item_rows("JRC GSW seasonality", self.gsw_seasonality_items, dated=False),
            *item_rows("population", self.population_items, dated=False),
            *path_rows([("population file", self.population_path)]),
            *path_rows([("admin units", self.units_path)]),
            *output_rows(self.outputs),
        ]

    def left_to_finalize(self) -> set[str]:
        """Outputs a tile of a tiled job does not write because :func:`finalize` writes them
        once for the whole job: the report, the depth layers and tables (depth needs the
        whole extent: :mod:`eo_drr.jobs.flood_risk`), and the SFM table when the per-unit
        table is written."""
        if self.job_geobox is None:
            return set()
        tables = {"table_csv", "table_parquet"} & set(self.outputs)
        return {"report", *RISK_OUTPUTS} | ({"sendai"} if tables else set())


def plan(cfg: JobConfig) -> FloodPlan:
    """Search the catalogue and resolve the grid; computes and writes nothing."""
    if cfg.sources.s1 is None:
        raise ConfigError(_("sources.s1: the flood pipeline needs Sentinel-1 (add sources.s1)"))
    if cfg.time.pre is None:
        raise ConfigError(_("time.pre: the flood pipeline needs a pre-event window"))
    s1 = cfg.sources.s1
    catalog = inputs.job_catalog(cfg)
    aoi = inputs.aoi_geometry(cfg)
    post_item = inputs.search_window(  # the first acquisition after the event
        catalog,
        s1.collection,
        aoi,
        cfg.time.post,
        "time.post",
        orbit_direction=s1.orbit_direction,
        relative_orbit=s1.relative_orbit,
    )[0]
    orbit = s1.relative_orbit or post_item.properties.get("sat:relative_orbit")
    pre_items = inputs.search_window(
        catalog,
        s1.collection,
        aoi,
        cfg.time.pre,
        "time.pre",
        orbit_direction=s1.orbit_direction or post_item.properties.get("sat:orbit_state"),
        relative_orbit=orbit,
    )
    geobox = inputs.job_geobox(cfg, aoi, [post_item, *pre_items])
    s2 = cfg.sources.s2
    s2_items = []
    if s2 is not None:  # optional: the first cloud-filtered post-event S2 scene
        s2_items = inputs.search_window(
            catalog,
            s2.collection,
            aoi,
            cfg.time.post,
            "time.post (sources.s2)",
            max_cloud_cover=s2.max_cloud_cover,
        )[:1]
    found = search_sources(cfg, catalog, aoi, STATIC_SOURCES)
    ex = exposure_sources(cfg, catalog, aoi)
    drop = (() if ex else UNIT_OUTPUTS) + (() if cfg.sources.dem else RISK_OUTPUTS)
    return FloodPlan(
        catalog.name,
        aoi,
        geobox,
        post_item,
        pre_items,
        orbit,
        hand_items=found.get("hand", []),
        dem_items=found.get("dem", []),
        landcover_items=found.get("landcover", []),
        gsw_seasonality_items=found.get("gsw_seasonality", []),
        s2_items=s2_items,
        population_items=ex.population_items if ex else [],
        units_path=ex.units_path if ex else None,
        population_path=ex.population_path if ex else None,
        outputs=select_outputs(OUTPUTS, cfg.outputs.formats, drop),
    )


def check(cfg: JobConfig, p: FloodPlan, out: OutputFolder) -> None:
    """The run's checks of its inputs without the computation (``--dry-run``): settings,
    Sentinel-1 values on a coarse read, admin units against the AOI."""
    flood_params(cfg.products.flood or FloodProduct())
    check_s1_sample(cfg, p.post_item, p.pre_items, p.geobox)
    if cfg.exposure is not None:
        admin_units(cfg, p.units_path, p.aoi if p.job_geobox is None else None)


def run(cfg: JobConfig, p: FloodPlan, out: OutputFolder, steps: Steps | None = None) -> dict:
    """Run the planned job, writing into ``out`` (staged; the caller commits). Returns the
    run summary: thresholds, headline figures and the output files."""
    steps = steps or Steps()
    params = flood_params(cfg.products.flood or FloodProduct())
    bands = s1_bands(cfg)
    with steps.step("Loading Sentinel-1 (pre and post event)"):
        s1 = load_s1_pair(cfg, p.post_item, p.pre_items, p.geobox, bands)
    check_s1_pair(cfg, s1, p.post_item, p.pre_items)
    layers, dem = flood_layers(cfg, _layer_items(p), p.geobox, params, steps)

    with steps.step("Mapping water and flood (speckle filter, VH threshold, region growing)"):
        ds, thresholds = flood_product.flood_extent(
            s1.pre[s1.band],
            s1.post[s1.band],
            pre_vh=s1.pre[s1.vh] if s1.vh else None,
            post_vh=s1.post[s1.vh] if s1.vh else None,
            params=params,
            **vars(layers),
        )
    with steps.step("Writing rasters (Cloud-Optimized GeoTIFF)"):
        write_flood_rasters(ds, p.geobox, out, p.outputs)

    px_ha = abs(p.geobox.resolution.x * p.geobox.resolution.y) / 1e4
    flood_v = ds["flood"].values
    summary = {
        "thresholds": thresholds.as_dict(),
        "quality_warnings": thresholds.warnings(),
        "flooded_ha": float((flood_v == 1).sum() * px_ha),
        "observed_share": float((flood_v != flood_product.NODATA).mean()),
        "post_item": p.post_item.id,
        "pre_items": [it.id for it in p.pre_items],
    }
    risk = None  # a tiled job's depth is made by finalize, on the mosaics
    if dem is not None and p.job_geobox is None:
        with steps.step("Water depth (FwDET v2) and hazard classes"):
            risk = job_risk(flood_v, dem, ds["exclusion"].values, p.geobox, out, p.outputs)
        summary.update(risk.summary(px_ha))
    crs = crs_wkt(p.geobox)
    flood_da = ds["flood"].rio.write_crs(crs)
    ex, table = None, None  # without exposure the report shows the hazard over the AOI
    if cfg.exposure is not None:
        date = event_date(p.post_item)
        with steps.step("Exposure per administrative unit"):
            sources = ExposureSources(
                required(p.units_path, "exposure.admin_units.file"),
                p.population_items,
                p.population_path,
            )
            ex = read_exposure(cfg, sources, p.aoi, whole_job=p.job_geobox is None)
            table = flood_exposure_table(flood_da, ex, layers.landcover, p.job_geobox)
            sfm = "sendai" not in p.left_to_finalize()  # else finalize writes the job's
            rows = risk and depth_tables(cfg, risk, ex, layers.landcover, date, out, p.outputs)
            table = write_flood_tables(cfg, table, ex.units, date, out, p.outputs, sfm, rows)
            summary.update(table_summary(table, date))
    if "report" not in p.left_to_finalize():  # a tiled job's report covers its mosaics
        with steps.step("Writing the HTML report"):
            report = FloodReport(
                cfg.name,
                p.post_item,
                p.pre_items,
                flood_da,
                ds["reference_water"].rio.write_crs(crs),
                ex.units if ex else None,
                table,
                thresholds.as_dict(),
                population=ex.population if ex else None,
                points=None
                if ex is None or ex.facilities is None
                else flag_flooded_points(ex.facilities, flood_da),
                **(risk.report_maps() if risk else {}),
            )
            write_flood_report(out.path(p.outputs["report"]), report)
    written = {k: v for k, v in p.outputs.items() if k not in p.left_to_finalize()}
    summary["outputs"] = {k: str(out.final(v)) for k, v in written.items()}
    return summary


def _layer_items(p: FloodPlan) -> dict[str, list[pystac.Item]]:
    """The plan's items of the optional layers, by source key."""
    return {
        "hand": p.hand_items,
        "dem": p.dem_items,
        "landcover": p.landcover_items,
        "gsw_seasonality": p.gsw_seasonality_items,
        "s2": p.s2_items,
    }


#: the mosaics :func:`finalize` reads (output keys): the others are written while it runs
FINALIZE_READS = ("flood", "exclusion", "reference_water")


def finalize(
    cfg: JobConfig, p: FloodPlan, tile_outputs: dict[str, dict[str, Path]], out: OutputFolder
) -> set[str]:
    """After a tiled job's mosaics: the job-wide per-unit table (tiles combined with
    :func:`~eo_drr.sendai.tiles.combine_tile_tables`), the SFM table and the report over
    the mosaics (read at display resolution; facilities sampled at full resolution). Returns
    the output names it wrote, which the tiled runner then leaves alone."""
    risk = mosaic_risk(cfg, p, out)  # depth needs the whole extent (eo_drr.jobs.flood_risk)
    tables = read_tile_tables(tile_outputs) if cfg.exposure is not None else []
    if not tables:
        return set(risk.written)
    units = admin_units(cfg, p.units_path, p.aoi)
    table = combine_tile_tables(tables)
    date = event_date(p.post_item)
    table = write_flood_tables(cfg, table, units, date, out, p.outputs, True, risk.sfm_rows)
    written = {p.outputs[k] for k in ("table_csv", "table_parquet") if k in p.outputs}
    written |= risk.written
    written |= {f"{p.outputs['sendai']}{ext}" for ext in (".csv", ".parquet", ".gpkg")}
    flood_path = out.path(p.outputs["flood"]) if "flood" in p.outputs else None
    if flood_path is None or not flood_path.exists():
        return written
    ref_path = out.path(p.outputs["reference_water"])
    flood_da = read_for_display(flood_path)
    ref_da = read_for_display(ref_path) if ref_path.exists() else None
    facilities = vector_input(cfg, "facilities")
    # no population layer on a tiled job's map: the whole grid at native resolution would
    # break the one-tile memory bound (the table has the people)
    report = FloodReport(
        cfg.name,
        p.post_item,
        p.pre_items,
        flood_da,
        ref_da,
        units,
        table,
        {"note": "thresholds per tile: see the tiles' tile.json"},
        points=None if facilities is None else flag_flooded_points_in_file(facilities, flood_path),
        **risk.report_maps,
    )
    write_flood_report(out.path(p.outputs["report"]), report)
    return written | {p.outputs["report"]}
