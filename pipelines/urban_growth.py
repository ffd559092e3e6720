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

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pystac
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry
from odc.geo.xr import xr_reproject, xr_zeros

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, UrbanGrowthProduct, required
from eo_drr.errors import ConfigError, InputError
from eo_drr.jobs import inputs
from eo_drr.jobs.progress import Steps
from eo_drr.load import (
    load_items,
    load_raster_file,
    load_s1,
    load_s2,
    nodata_to_nan,
    processing_level,
)
from eo_drr.load.grid import crs_wkt
from eo_drr.load.sentinel1 import check_loaded
from eo_drr.load.sentinel2 import S2_COMMON_NAMES
from eo_drr.products import growth_pair, hazard_zones, urban
from eo_drr.products.terrain import slope_degrees
from eo_drr.products.water_s2 import s2_water
from eo_drr.publish import OutputFolder, write_cog, write_csv, write_geoparquet
from eo_drr.publish.report import MapLayer, write_report
from eo_drr.publish.sfm_files import write_sfm
from eo_drr.sendai.growth import growth_by_unit
from eo_drr.sendai.sfm import growth_rows
from eo_drr.sendai.units import read_units

log = logging.getLogger(__name__)


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


@dataclass
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
        g = self.geobox
        rows = [
            ("catalogue", self.catalog),
            ("grid", f"{g.crs} {abs(g.resolution.x):g} m, {g.shape.x} x {g.shape.y} px"),
        ]
        for e in (1, 2):
            rows += [
                (f"epoch {e} S2", f"{it.id} ({item_datetime(it):%Y-%m-%d})")
                for it in self.s2_items[e]
            ]
            rows += [
                (f"epoch {e} S1", f"{it.id} ({item_datetime(it):%Y-%m-%d})")
                for it in self.s1_items.get(e, [])
            ]
        rows += [("HAND", it.id) for it in self.hand_items] + [
            ("DEM", it.id) for it in self.dem_items
        ]
        for what, p in (
            ("hazard file", self.hazard_path),
            ("formal areas", self.formal_path),
            ("admin units", self.units_path),
        ):
            if p:
                rows.append((what, p))
        rows += [("output", p) for p in self.outputs.values()]
        return rows


def plan(cfg: JobConfig) -> UrbanPlan:
    """Search the catalogue for both epochs and resolve the grid; computes and writes nothing."""
    if cfg.sources.s2 is None:
        raise ConfigError("sources.s2: the urban_growth pipeline needs Sentinel-2 (add sources.s2)")
    if cfg.time.pre is None:
        raise ConfigError(
            "time.pre: the urban_growth pipeline needs two epochs: time.pre (epoch 1) and time.post (epoch 2)"
        )
    up = cfg.products.urban_growth or UrbanGrowthProduct()
    s2 = cfg.sources.s2
    missing = [b for b in ("B02", "B03", "B04", "B08", "B11") if b not in s2.bands]
    if missing:
        raise ConfigError(f"sources.s2.bands: the built-up indices need {', '.join(missing)}")
    catalog = inputs.job_catalog(cfg)
    aoi = inputs.aoi_geometry(cfg)
    windows = {1: (cfg.time.pre, "time.pre"), 2: (cfg.time.post, "time.post")}
    s2_items = {
        e: inputs.search_window(
            catalog, s2.collection, aoi, w, f"{key} (epoch {e})", max_cloud_cover=s2.max_cloud_cover
        )
        for e, (w, key) in windows.items()
    }
    geobox = inputs.job_geobox(cfg, aoi, s2_items[2])
    p = UrbanPlan(catalog.name, aoi, geobox, s2_items)
    if cfg.sources.s1 is not None:  # optional: an epoch without Sentinel-1 uses Sentinel-2 alone
        s1 = cfg.sources.s1
        for e, (w, key) in windows.items():
            try:
                p.s1_items[e] = inputs.search_window(
                    catalog,
                    s1.collection,
                    aoi,
                    w,
                    key,
                    orbit_direction=s1.orbit_direction,
                    relative_orbit=s1.relative_orbit,
                )
            except InputError:
                p.s1_items[e] = []
            if p.s1_items[e]:  # one track only: backscatter differs between tracks
                first = p.s1_items[e][0].properties
                p.s1_items[e] = [
                    it
                    for it in p.s1_items[e]
                    if it.properties.get("sat:relative_orbit") == first.get("sat:relative_orbit")
                ]
    hz = up.hazard
    if hz is not None:
        if hz.file:
            p.hazard_path = str(
                inputs.resolve_path(cfg, hz.file, "products.urban_growth.hazard.file")
            )
        if hz.hand_max_m is not None:
            if cfg.sources.hand is None or not cfg.sources.hand.collection:
                raise ConfigError(
                    "products.urban_growth.hazard.hand_max_m: needs sources.hand (a collection)"
                )
            p.hand_items = inputs.search_static(
                catalog, cfg.sources.hand.collection, aoi, "sources.hand"
            )
        if hz.slope_min_deg is not None:
            if cfg.sources.dem is None or not cfg.sources.dem.collection:
                raise ConfigError(
                    "products.urban_growth.hazard.slope_min_deg: needs sources.dem (a collection)"
                )
            p.dem_items = inputs.search_static(
                catalog, cfg.sources.dem.collection, aoi, "sources.dem"
            )
    if up.formal_areas is not None:
        p.formal_path = str(
            inputs.resolve_path(
                cfg, up.formal_areas.file, "products.urban_growth.formal_areas.file"
            )
        )
    if cfg.exposure is not None:
        p.units_path = str(
            inputs.resolve_path(cfg, cfg.exposure.admin_units.file, "exposure.admin_units.file")
        )
    keep = dict(OUTPUTS)
    if hz is None:
        keep.pop("hazard"), keep.pop("growth_hazard")
    if hz is not None and hz.water_distance_m is not None and "B03" not in s2.bands:
        raise ConfigError(
            "products.urban_growth.hazard.water_distance_m: the water test needs band B03 in sources.s2.bands"
        )
    if cfg.exposure is None:
        keep.pop("table_csv"), keep.pop("table_parquet"), keep.pop("sendai")
    fm = cfg.outputs.formats
    p.outputs = {
        k: v
        for k, v in keep.items()
        if (v.endswith(".tif") and "cog" in fm)
        or (v.endswith(".csv") and "csv" in fm)
        or (v.endswith(".parquet") and "geoparquet" in fm)
        or k in ("sendai", "report")
    }
    return p


def load_s2_epoch(items, bands, geobox, chunks) -> dict[str, np.ndarray]:
    """Sentinel-2 reflectance (0-1, SCL-masked) as ``(time, y, x)`` arrays by ESA band name."""
    ds = load_s2(items, bands, geobox, chunks=chunks).compute()
    return {b: ds[b].values for b in bands if b in S2_COMMON_NAMES and b in ds}


def _static(items, asset, geobox) -> xr.DataArray:
    return nodata_to_nan(
        load_items(items, [asset], geobox, resampling="bilinear", groupby=None)[asset].isel(
            time=0, drop=True
        )
    ).compute()


def _hazard(cfg: JobConfig, p: UrbanPlan, composite_t1: dict[str, np.ndarray]) -> np.ndarray:
    """The union of the job's hazard zones (uint8 1 / 0 / 255) on the job grid."""
    hz = required(
        required(cfg.products.urban_growth, "products.urban_growth").hazard,
        "products.urban_growth.hazard",
    )
    parts = []
    if p.hazard_path:
        src = load_raster_file(p.hazard_path, what="products.urban_growth.hazard.file")
        h = xr_reproject(src.astype(np.float32), p.geobox, resampling="nearest").values
        nodata = src.rio.nodata
        parts.append(
            hazard_zones.from_raster(
                np.where(
                    (h == nodata)
                    if nodata is not None and np.isfinite(nodata)
                    else ~np.isfinite(h),
                    np.nan,
                    h,
                )
            )
        )
    if p.hand_items:
        hand = _static(
            p.hand_items, required(cfg.sources.hand, "sources.hand").asset, p.geobox
        ).values
        parts.append(
            hazard_zones.from_hand(
                hand, required(hz.hand_max_m, "products.urban_growth.hazard.hand_max_m")
            )
        )
    if p.dem_items:
        dem = _static(p.dem_items, required(cfg.sources.dem, "sources.dem").asset, p.geobox).values
        parts.append(
            hazard_zones.from_slope(
                slope_degrees(dem, abs(p.geobox.resolution.x)),
                required(hz.slope_min_deg, "products.urban_growth.hazard.slope_min_deg"),
            )
        )
    if hz.water_distance_m is not None:
        water, _ = s2_water({S2_COMMON_NAMES[b]: v for b, v in composite_t1.items()})
        parts.append(
            hazard_zones.near_water(water, hz.water_distance_m, abs(p.geobox.resolution.x))
        )
    return hazard_zones.union(parts)


def run(cfg: JobConfig, p: UrbanPlan, out: OutputFolder, steps: Steps | None = None) -> dict:
    """Run the planned job into ``out`` (staged; the caller commits); returns the summary."""
    steps = steps or Steps()
    up = cfg.products.urban_growth or UrbanGrowthProduct()
    rule = urban.BuiltupRule(**up.thresholds.model_dump(exclude_none=True))
    builtup_mmu = up.builtup_min_mapping_unit_px or urban.BUILTUP_MIN_MAPPING_UNIT_PX
    results, composites, vv = {}, {}, {}
    for e, key in ((1, "time.pre"), (2, "time.post")):
        with steps.step(
            f"Built-up, epoch {e} (Sentinel-2{' + Sentinel-1' if p.s1_items.get(e) else ''} temporal statistics)"
        ):
            s2 = load_s2_epoch(
                p.s2_items[e],
                required(cfg.sources.s2, "sources.s2").bands,
                p.geobox,
                cfg.grid.chunks,
            )
            vv_e = vh_e = None
            if p.s1_items.get(e):
                s1cfg = required(cfg.sources.s1, "sources.s1")
                s1 = load_s1(
                    p.s1_items[e],
                    s1cfg.bands,
                    p.geobox,
                    stored_units=s1cfg.units,
                    chunks=cfg.grid.chunks,
                ).compute()
                vv_e = s1["vv"].values if "vv" in s1 else None
                vh_e = s1["vh"].values if "vh" in s1 else None
                if vv_e is not None:  # units and band order of the job's files, first date
                    for note in check_loaded(
                        vv_e[0],
                        None if vh_e is None else vh_e[0],
                        stored_units=s1cfg.units,
                        what=f"{key} Sentinel-1 {p.s1_items[e][0].id}",
                    ):
                        log.warning("%s", note)
            results[e] = urban.builtup_epoch(
                {S2_COMMON_NAMES[b]: v for b, v in s2.items()},
                vv_e,
                vh_e,
                rule=rule,
                min_mapping_unit_px=builtup_mmu,
                what=f"{key} (epoch {e})",
            )
            composites[e] = growth_pair.epoch_composite(s2)
            vv[e] = None if vv_e is None else growth_pair.vv_epoch_db(vv_e)
    with_s1 = vv[1] is not None and vv[2] is not None
    with steps.step(
        f"New built-up (urban-growth model, Sentinel-2{' + Sentinel-1' if with_s1 else ''})"
    ):
        level = {e: processing_level(p.s2_items[e]) for e in (1, 2)}
        grown = growth_pair.new_builtup(
            composites[1],
            composites[2],
            level_before=level[1],
            level_after=level[2],
            vv_before=vv[1] if with_s1 else None,
            vv_after=vv[2] if with_s1 else None,
            min_mapping_unit_px=up.growth_min_mapping_unit_px,
            names=("time.pre (epoch 1)", "time.post (epoch 2)"),
        )
        growth = grown.growth

    crs = crs_wkt(p.geobox)
    template = xr_zeros(p.geobox, "uint8")

    def da(values, name):
        return template.copy(data=values).rename(name).rio.write_crs(crs)

    hazard = hz_growth = None
    if up.hazard is not None:
        with steps.step("Hazard zones"):
            hazard = _hazard(cfg, p, composites[1])
            hz_growth = hazard_zones.growth_in_hazard(growth, hazard)

    with steps.step("Writing rasters (Cloud-Optimized GeoTIFF)"):
        for e in (1, 2):
            r = results[e]
            prob = np.where(
                np.isfinite(r.probability), np.round(100 * r.probability), urban.NODATA
            ).astype(np.uint8)
            if f"probability_t{e}" in p.outputs:
                write_cog(
                    da(prob, "builtup_probability"),
                    out.path(p.outputs[f"probability_t{e}"]),
                    nodata=urban.NODATA,
                    band_descriptions=["builtup_probability"],
                    tags={"units": "percent", "sources": ",".join(r.sources)},
                )
            if f"builtup_t{e}" in p.outputs:
                write_cog(
                    da(r.builtup, "builtup"),
                    out.path(p.outputs[f"builtup_t{e}"]),
                    nodata=urban.NODATA,
                    colormap=urban.BUILTUP_COLORS,
                    band_descriptions=["builtup"],
                    tags={"classes": "1 built-up, 0 not, 255 no clear observation"},
                )
        layers: list[tuple[str, np.ndarray, dict | None, str]] = [
            ("growth", growth, growth_pair.GROWTH_COLORS, growth_pair.GROWTH_CLASSES)
        ]
        if hazard is not None and hz_growth is not None:
            layers += [
                ("hazard", hazard, None, "1 hazard zone, 0 not, 255 no data"),
                (
                    "growth_hazard",
                    hz_growth,
                    None,
                    "1 new built-up in a hazard zone, 0 not, 255 no data",
                ),
            ]
        for key, values, cmap, classes in layers:
            if key in p.outputs:
                tags = {"classes": classes}
                if key == "growth":
                    tags |= {
                        "threshold": f"{grown.threshold:.3f}",
                        "sentinel1": str(grown.with_s1).lower(),
                    }
                write_cog(
                    da(values, key),
                    out.path(p.outputs[key]),
                    nodata=hazard_zones.NODATA,
                    colormap=cmap,
                    band_descriptions=[key],
                    tags=tags,
                )

    px_ha = abs(p.geobox.resolution.x * p.geobox.resolution.y) / 1e4
    summary: dict[str, Any] = {
        "rule": rule.as_dict(),
        "model": {
            "threshold": grown.threshold,
            "min_mapping_unit_px": grown.min_mapping_unit_px,
            "sentinel1": grown.with_s1,
            "cloud_share": list(grown.cloud_share),
            "levels": [level[1], level[2]],
        },
        "epochs": {
            e: {
                "s2_items": [it.id for it in p.s2_items[e]],
                "s1_items": [it.id for it in p.s1_items.get(e, [])],
                "sources": results[e].sources,
                "builtup_ha": float((results[e].builtup == 1).sum() * px_ha),
                "observed_share": float((results[e].builtup != urban.NODATA).mean()),
            }
            for e in (1, 2)
        },
        "warnings": [w for e in (1, 2) for w in results[e].warnings],
        "new_builtup_ha": float((growth == 1).sum() * px_ha),
        "observed_share": float((growth != hazard_zones.NODATA).mean()),
    }
    summary["headline"] = {
        "new built-up": f"{summary['new_builtup_ha']:,.1f} ha (model "
        f"{'with' if grown.with_s1 else 'without'} Sentinel-1)"
    }
    if hz_growth is not None:
        summary["new_builtup_in_hazard_ha"] = float((hz_growth == 1).sum() * px_ha)
        summary["headline"]["new built-up in hazard zones"] = (
            f"{summary['new_builtup_in_hazard_ha']:,.1f} ha"
        )
    units = table = None
    if cfg.exposure is not None:
        with steps.step("Growth per administrative unit"):
            au = cfg.exposure.admin_units
            units = read_units(
                required(p.units_path, "exposure.admin_units.file"),
                layer=au.layer,
                code_field=au.code_field,
                name_field=au.name_field,
            )
            table = growth_by_unit(
                da(growth, "growth"),
                units,
                builtup_t1=results[1].builtup,
                builtup_t2=results[2].builtup,
                hazard_growth=None if hz_growth is None else da(hz_growth, "growth_hazard"),
                formal=_formal(p, up),
            )
            table.insert(0, "level", au.level if au.level is not None else None)
            gtable = gpd.GeoDataFrame(
                table, geometry=units.set_index("code").loc[table.index].geometry, crs=units.crs
            )
            if "table_csv" in p.outputs:
                write_csv(table, out.path(p.outputs["table_csv"]))
            if "table_parquet" in p.outputs:
                write_geoparquet(gtable, out.path(p.outputs["table_parquet"]))
            ex = cfg.exposure
            rows = growth_rows(
                table,
                event_id=ex.event_id or cfg.name,
                hazard_code=ex.hazard_code,
                admin_level=au.level,
                date=f"{max(item_datetime(it) for it in p.s2_items[2]):%Y-%m-%d}",
                area_ha=gtable.to_crs(crs).geometry.area.to_numpy() / 1e4,
            )
            write_sfm(rows, out.path(""), units=units, stem=p.outputs["sendai"])
            summary["units"] = int(len(table))
    if "report" in p.outputs:
        with steps.step("Report (HTML)"):
            _write_report(
                cfg,
                p,
                out,
                da(growth, "growth"),
                None if hazard is None else da(hazard, "hazard"),
                units,
                table,
                summary,
            )
    summary["outputs"] = {k: str(out.final(v)) for k, v in p.outputs.items()}
    return summary


def _formal(p: UrbanPlan, up: UrbanGrowthProduct) -> np.ndarray | None:
    """Formal / planned areas rasterised on the job grid (True inside), or None."""
    if not p.formal_path:
        return None
    from rasterio import features

    fa = gpd.read_file(
        p.formal_path, layer=required(up.formal_areas, "products.urban_growth.formal_areas").layer
    )
    if fa.crs is None:
        raise InputError(f"products.urban_growth.formal_areas.file: {p.formal_path} has no CRS")
    fa = fa.to_crs(crs_wkt(p.geobox))
    return features.rasterize(
        ((g, 1) for g in fa.geometry.make_valid() if not g.is_empty),
        out_shape=p.geobox.shape,
        transform=p.geobox.transform,
        fill=0,
        dtype="uint8",
    ).astype(bool)


def _write_report(
    cfg: JobConfig, p: UrbanPlan, out: OutputFolder, growth, hazard, units, table, summary
) -> None:
    """The growth map beside the hazard zones, the per-unit table and the run's figures."""
    layers = [
        MapLayer(
            "New built-up", growth, colors={1: growth_pair.GROWTH_COLORS[1]}, legend="new built-up"
        )
    ]
    if hazard is not None:
        layers.insert(
            0,
            MapLayer(
                "Hazard zones",
                hazard,
                colors={1: (90, 140, 230, 255)},
                opacity=0.45,
                legend="hazard zone",
            ),
        )
    dates = {e: sorted(f"{item_datetime(it):%Y-%m-%d}" for it in p.s2_items[e]) for e in (1, 2)}
    write_report(
        out.path(p.outputs["report"]),
        title=f"Urban growth: {cfg.name} ({dates[1][0]} to {dates[2][-1]})",
        layers=layers,
        units=units,
        table=table,
        warnings=summary["warnings"],
        popup_columns=("new_builtup_ha", "new_builtup_hazard_ha", "observed_ha"),
        provenance={
            "epoch 1 Sentinel-2": ", ".join(it.id for it in p.s2_items[1]),
            "epoch 2 Sentinel-2": ", ".join(it.id for it in p.s2_items[2]),
            "model": summary["model"],
            "method": "New built-up from the urban-growth model (see its model card); "
            "hectares per unit are EO proxies, not reported Sendai values",
        },
    )
