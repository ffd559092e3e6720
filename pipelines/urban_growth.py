"""Urban growth pipeline: Sentinel-2 (+ Sentinel-1) at two epochs -> built-up per epoch ->
new built-up (the model ``eo-drr growth`` runs) -> growth into hazard zones -> hectares per
unit -> report.

    search (epoch 1 = time.pre, epoch 2 = time.post) -> load (common grid) -> built-up per
    epoch (products.urban, temporal statistics) and one composite per epoch
    (products.growth_pair) -> new built-up (products.growth_pair.new_builtup) -> hazard
    (file / HAND / slope / water strip; products.hazard_zones) -> per-unit hectares
    (sendai.growth) -> COG + CSV + GeoParquet + HTML report
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pystac
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.config import JobConfig, UrbanGrowthProduct, required
from eo_drr.errors import ConfigError, InputError
from eo_drr.i18n import gettext as _
from eo_drr.jobs import inputs
from eo_drr.jobs.describe import grid_rows, item_rows, output_rows, path_rows
from eo_drr.jobs.exposure import admin_units
from eo_drr.jobs.growth_inputs import (
    HazardSources,
    formal_areas,
    job_hazard,
    load_s1_epoch,
    load_s2_epoch,
)
from eo_drr.jobs.outputs import select_outputs
from eo_drr.jobs.progress import Steps
from eo_drr.load import processing_level
from eo_drr.load.sentinel2 import S2_COMMON_NAMES
from eo_drr.products import growth_pair, hazard_zones, urban
from eo_drr.publish import OutputFolder
from eo_drr.publish.growth_outputs import (
    GrowthMaps,
    GrowthReport,
    epoch_end,
    growth_summary,
    write_growth_rasters,
    write_growth_report,
    write_growth_tables,
)
from eo_drr.publish.rasters import grid_array
from eo_drr.sendai.growth import growth_by_unit

OUTPUTS = {
    "probability_t1": "builtup_probability_t1.tif",
    "probability_t2": "builtup_probability_t2.tif",
    "builtup_t1": "builtup_t1.tif",
    "builtup_t2": "builtup_t2.tif",
    "growth": "urban_growth.tif",
    "hazard": "hazard_zone.tif",
    "growth_hazard": "growth_in_hazard.tif",
    "table_csv": "growth_by_unit.csv",
    "table_parquet": "growth_by_unit.parquet",
    "sendai": "sendai_eo_proxies",
    "report": "report.html",
}
#: the outputs of a job with hazard zones (``products.urban_growth.hazard``)
HAZARD_OUTPUTS = ("hazard", "growth_hazard")
#: the outputs of a job with admin units (``exposure:``)
UNIT_OUTPUTS = ("table_csv", "table_parquet", "sendai")
#: the epochs: their time window and its key in the job file
WINDOWS = {1: "time.pre", 2: "time.post"}


@dataclass(frozen=True)
class UrbanPlan:
    """Everything the run will use, resolved before anything is computed (``--dry-run``)."""

    catalog: str
    aoi: Geometry
    geobox: GeoBox
    s2_items: dict[int, list[pystac.Item]]
    s1_items: dict[int, list[pystac.Item]] = field(default_factory=dict)
    hand_items: list[pystac.Item] = field(default_factory=list)
    dem_items: list[pystac.Item] = field(default_factory=list)
    hazard_path: str | None = None
    formal_path: str | None = None
    units_path: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[tuple[str, str]]:
        rows = grid_rows(self.catalog, self.geobox)
        for e in WINDOWS:
            rows += item_rows(f"epoch {e} S2", self.s2_items[e])
            rows += item_rows(f"epoch {e} S1", self.s1_items.get(e, []))
        rows += item_rows("HAND", self.hand_items, dated=False)
        rows += item_rows("DEM", self.dem_items, dated=False)
        rows += path_rows(
            [
                ("hazard file", self.hazard_path),
                ("formal areas", self.formal_path),
                ("admin units", self.units_path),
            ]
        )
        return rows + output_rows(self.outputs)


def plan(cfg: JobConfig) -> UrbanPlan:
    """Search the catalogue for both epochs and resolve the grid; computes and writes nothing."""
    if cfg.sources.s2 is None:
        raise ConfigError(
            _("sources.s2: the urban_growth pipeline needs Sentinel-2 (add sources.s2)")
        )
    if cfg.time.pre is None:
        raise ConfigError(
            _(
                "time.pre: the urban_growth pipeline needs two epochs: time.pre (epoch 1) and "
                "time.post (epoch 2)"
            )
        )
    up = cfg.products.urban_growth or UrbanGrowthProduct()
    s2 = cfg.sources.s2
    missing = [b for b in ("B02", "B03", "B04", "B08", "B11") if b not in s2.bands]
    if missing:
        raise ConfigError(
            _("sources.s2.bands: the built-up indices need {missing}").format(
                missing=", ".join(missing)
            )
        )
    catalog = inputs.job_catalog(cfg)
    aoi = inputs.aoi_geometry(cfg)
    windows = {1: cfg.time.pre, 2: cfg.time.post}
    s2_items = {
        e: inputs.search_window(
            catalog,
            s2.collection,
            aoi,
            windows[e],
            f"{key} (epoch {e})",
            max_cloud_cover=s2.max_cloud_cover,
        )
        for e, key in WINDOWS.items()
    }
    geobox = inputs.job_geobox(cfg, aoi, s2_items[2])
    s1_items = {}
    if cfg.sources.s1 is not None:  # optional: an epoch without Sentinel-1 uses Sentinel-2 alone
        s1 = cfg.sources.s1
        for e, key in WINDOWS.items():
            try:
                found = inputs.search_window(
                    catalog,
                    s1.collection,
                    aoi,
                    windows[e],
                    key,
                    orbit_direction=s1.orbit_direction,
                    relative_orbit=s1.relative_orbit,
                )
            except InputError:
                found = []
            # one track only: backscatter differs between tracks
            track = found[0].properties.get("sat:relative_orbit") if found else None
            s1_items[e] = [it for it in found if it.properties.get("sat:relative_orbit") == track]
    hz = up.hazard
    hazard_path, hand_items, dem_items = None, [], []
    if hz is not None:
        if hz.file:
            key = "products.urban_growth.hazard.file"
            hazard_path = str(inputs.resolve_path(cfg, hz.file, key))
        if hz.hand_max_m is not None:
            if cfg.sources.hand is None or not cfg.sources.hand.collection:
                raise ConfigError(
                    _("products.urban_growth.hazard.hand_max_m: needs sources.hand (a collection)")
                )
            hand_items = inputs.search_static(
                catalog, cfg.sources.hand.collection, aoi, "sources.hand"
            )
        if hz.slope_min_deg is not None:
            if cfg.sources.dem is None or not cfg.sources.dem.collection:
                raise ConfigError(
                    _(
                        "products.urban_growth.hazard.slope_min_deg: needs sources.dem (a "
                        "collection)"
                    )
                )
            dem_items = inputs.search_static(
                catalog, cfg.sources.dem.collection, aoi, "sources.dem"
            )
    formal_path = None
    if up.formal_areas is not None:
        key = "products.urban_growth.formal_areas.file"
        formal_path = str(inputs.resolve_path(cfg, up.formal_areas.file, key))
    units_path = None
    if cfg.exposure is not None:
        key = "exposure.admin_units.file"
        units_path = str(inputs.resolve_path(cfg, cfg.exposure.admin_units.file, key))
    if hz is not None and hz.water_distance_m is not None and "B03" not in s2.bands:
        raise ConfigError(
            _(
                "products.urban_growth.hazard.water_distance_m: the water test needs band B03 in "
                "sources.s2.bands"
            )
        )
    drop = (HAZARD_OUTPUTS if hz is None else ()) + (UNIT_OUTPUTS if cfg.exposure is None else ())
    return UrbanPlan(
        catalog.name,
        aoi,
        geobox,
        s2_items,
        s1_items,
        hand_items,
        dem_items,
        hazard_path,
        formal_path,
        units_path,
        select_outputs(OUTPUTS, cfg.outputs.formats, drop),
    )


def check(cfg: JobConfig, p: UrbanPlan, out: OutputFolder) -> None:
    """The run's checks of its inputs without the computation (``--dry-run``): the admin
    units are read (file, layer, code and name fields) as the run reads them."""
    if cfg.exposure is not None:
        admin_units(cfg, p.units_path, None)


def run(cfg: JobConfig, p: UrbanPlan, out: OutputFolder, steps: Steps | None = None) -> dict:
    """Run the planned job into ``out`` (staged; the caller commits); returns the summary."""
    steps = steps or Steps()
    up = cfg.products.urban_growth or UrbanGrowthProduct()
    rule = urban.BuiltupRule(**up.thresholds.model_dump(exclude_none=True))
    builtup_mmu = up.builtup_min_mapping_unit_px or urban.BUILTUP_MIN_MAPPING_UNIT_PX
    s2_bands = required(cfg.sources.s2, "sources.s2").bands
    builtup, composites, vv = {}, {}, {}
    for e, key in WINDOWS.items():
        sensors = "Sentinel-2" + (" + Sentinel-1" if p.s1_items.get(e) else "")
        with steps.step(
            "Built-up, epoch {e} ({sensors} temporal statistics)", e=e, sensors=sensors
        ):
            s2 = load_s2_epoch(p.s2_items[e], s2_bands, p.geobox, cfg.grid.chunks)
            s1 = load_s1_epoch(cfg, p.s1_items.get(e, []), p.geobox, key)
            builtup[e] = urban.builtup_epoch(
                {S2_COMMON_NAMES[b]: v for b, v in s2.items()},
                s1.vv,
                s1.vh,
                rule=rule,
                min_mapping_unit_px=builtup_mmu,
                what=f"{key} (epoch {e})",
            )
            composites[e] = growth_pair.epoch_composite(s2)
            vv[e] = None if s1.vv is None else growth_pair.vv_epoch_db(s1.vv)
    with_s1 = vv[1] is not None and vv[2] is not None
    sensors = "Sentinel-2" + (" + Sentinel-1" if with_s1 else "")
    with steps.step("New built-up (urban-growth model, {sensors})", sensors=sensors):
        levels = [processing_level(p.s2_items[e]) for e in WINDOWS]
        grown = growth_pair.new_builtup(
            growth_pair.PairImage(
                composites[1], levels[0], "time.pre (epoch 1)", vv[1] if with_s1 else None
            ),
            growth_pair.PairImage(
                composites[2], levels[1], "time.post (epoch 2)", vv[2] if with_s1 else None
            ),
            min_mapping_unit_px=up.growth_min_mapping_unit_px,
        )
    maps = GrowthMaps(builtup, grown, levels)
    if up.hazard is not None:
        with steps.step("Hazard zones"):
            sources = HazardSources(p.hazard_path, p.hand_items, p.dem_items)
            hazard = job_hazard(cfg, sources, p.geobox, composites[1])
            maps = GrowthMaps(
                builtup, grown, levels, hazard, hazard_zones.growth_in_hazard(grown.growth, hazard)
            )
    with steps.step("Writing rasters (Cloud-Optimized GeoTIFF)"):
        write_growth_rasters(maps, p.geobox, out, p.outputs)
    summary = growth_summary(maps, rule, p.s2_items, p.s1_items, p.geobox)

    units = table = None
    if cfg.exposure is not None:
        with steps.step("Growth per administrative unit"):
            units = admin_units(cfg, p.units_path, None)
            table = growth_by_unit(
                grid_array(grown.growth, "growth", p.geobox),
                units,
                builtup_t1=builtup[1].builtup,
                builtup_t2=builtup[2].builtup,
                hazard_growth=None
                if maps.growth_hazard is None
                else grid_array(maps.growth_hazard, "growth_hazard", p.geobox),
                formal=formal_areas(up, p.formal_path, p.geobox),
            )
            date = epoch_end(p.s2_items[2])
            table = write_growth_tables(cfg, table, units, date, p.geobox, out, p.outputs)
            summary["units"] = int(len(table))
    if "report" in p.outputs:
        with steps.step("Report (HTML)"):
            report = GrowthReport(cfg.name, p.s2_items, maps, p.geobox, units, table, summary)
            write_growth_report(out.path(p.outputs["report"]), report)
    summary["outputs"] = {k: str(out.final(v)) for k, v in p.outputs.items()}
    return summary
