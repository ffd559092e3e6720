"""Flood pipeline: Sentinel-1 before/after -> flood extent -> flooded area and exposed people
per administrative unit.

    search (pre + post, same track) -> load (lazy, common grid) -> flood_extent (GFM-style
    water rule) -> exposure per unit -> COG + CSV + GeoParquet
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pystac
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.catalog import item_datetime
from eo_drr.config import FloodProduct, JobConfig, required
from eo_drr.errors import ConfigError, InputError
from eo_drr.jobs import inputs
from eo_drr.jobs.progress import Steps
from eo_drr.load import load_items, load_s1, load_s2, nodata_to_nan, read_for_display
from eo_drr.load.grid import crs_wkt
from eo_drr.load.sentinel1 import check_loaded
from eo_drr.load.sentinel2 import S2_COMMON_NAMES
from eo_drr.products import flood as flood_product
from eo_drr.products import terrain
from eo_drr.products.water_s2 import s2_water
from eo_drr.publish import OutputFolder, write_cog, write_csv, write_geoparquet
from eo_drr.publish.report import FLOOD_COLORS, MapLayer, indicator_plots, write_report
from eo_drr.publish.sfm_files import write_sfm
from eo_drr.sendai.indicators import indicators_by_unit
from eo_drr.sendai.points_lines import flag_flooded_points, flag_flooded_points_in_file
from eo_drr.sendai.sfm import sfm_table
from eo_drr.sendai.tiles import combine_tile_tables
from eo_drr.sendai.units import read_units, read_vector

log = logging.getLogger(__name__)

OUTPUTS = {
    "flood": "flood_extent.tif",
    "water": "observed_water.tif",
    "water_source": "water_source.tif",
    "reference_water": "reference_water.tif",
    "exclusion": "exclusion_mask.tif",
    "likelihood": "water_likelihood.tif",
    "provenance": "water_provenance.tif",
    "log_ratio": "log_ratio_db.tif",
    "table_csv": "flood_by_unit.csv",
    "table_parquet": "flood_by_unit.parquet",
    "sendai": "sendai_eo_proxies",
    "report": "report.html",
}


@dataclass
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
        g = self.geobox
        rows = [
            ("catalogue", self.catalog),
            ("grid", f"{g.crs} {abs(g.resolution.x):g} m, {g.shape.x} x {g.shape.y} px"),
            ("post-event S1", f"{self.post_item.id} ({item_datetime(self.post_item):%Y-%m-%d})"),
            ("relative orbit", str(self.relative_orbit)),
        ]
        rows += [
            ("pre-event S1", f"{it.id} ({item_datetime(it):%Y-%m-%d})") for it in self.pre_items
        ]
        rows += [
            ("post-event S2", f"{it.id} ({item_datetime(it):%Y-%m-%d})") for it in self.s2_items
        ]
        rows += [("HAND", it.id) for it in self.hand_items]
        rows += [("DEM", it.id) for it in self.dem_items]
        rows += [("land cover", it.id) for it in self.landcover_items]
        rows += [("JRC GSW seasonality", it.id) for it in self.gsw_seasonality_items]
        rows += [("population", it.id) for it in self.population_items]
        if self.population_path:
            rows.append(("population file", self.population_path))
        if self.units_path:
            rows.append(("admin units", self.units_path))
        rows += [("output", p) for p in self.outputs.values()]
        return rows


def plan(cfg: JobConfig) -> FloodPlan:
    """Search the catalogue and resolve the grid; computes and writes nothing."""
    if cfg.sources.s1 is None:
        raise ConfigError("sources.s1: the flood pipeline needs Sentinel-1 (add sources.s1)")
    if cfg.time.pre is None:
        raise ConfigError("time.pre: the flood pipeline needs a pre-event window")
    s1 = cfg.sources.s1
    catalog = inputs.job_catalog(cfg)
    aoi = inputs.aoi_geometry(cfg)
    post_items = inputs.search_window(
        catalog,
        s1.collection,
        aoi,
        cfg.time.post,
        "time.post",
        orbit_direction=s1.orbit_direction,
        relative_orbit=s1.relative_orbit,
    )
    post_item = post_items[0]  # the first acquisition after the event
    orbit = s1.relative_orbit or post_item.properties.get("sat:relative_orbit")
    direction = s1.orbit_direction or post_item.properties.get("sat:orbit_state")
    pre_items = inputs.search_window(
        catalog,
        s1.collection,
        aoi,
        cfg.time.pre,
        "time.pre",
        orbit_direction=direction,
        relative_orbit=orbit,
    )
    geobox = inputs.job_geobox(cfg, aoi, [post_item, *pre_items])
    p = FloodPlan(catalog.name, aoi, geobox, post_item, pre_items, orbit)
    if cfg.sources.s2 is not None:  # optional: the first cloud-filtered post-event S2 scene
        s2 = cfg.sources.s2
        p.s2_items = inputs.search_window(
            catalog,
            s2.collection,
            aoi,
            cfg.time.post,
            "time.post (sources.s2)",
            max_cloud_cover=s2.max_cloud_cover,
        )[:1]
    for key in ("hand", "dem", "landcover", "gsw_seasonality"):
        src = getattr(cfg.sources, key)
        if src is not None and src.collection:
            setattr(
                p,
                f"{key}_items",
                inputs.search_static(catalog, src.collection, aoi, f"sources.{key}"),
            )
    if cfg.exposure is not None:
        p.units_path = str(
            inputs.resolve_path(cfg, cfg.exposure.admin_units.file, "exposure.admin_units.file")
        )
        pop = cfg.sources.population
        if pop is not None and pop.collection:
            p.population_items = inputs.search_static(
                catalog, pop.collection, aoi, "sources.population"
            )
        elif pop is not None and pop.file:
            p.population_path = str(inputs.resolve_path(cfg, pop.file, "sources.population.file"))
    needs_units = ("table", "sendai", "report")
    p.outputs = {k: v for k, v in OUTPUTS.items() if cfg.exposure or not k.startswith(needs_units)}
    if "cog" not in cfg.outputs.formats:
        p.outputs = {k: v for k, v in p.outputs.items() if not v.endswith(".tif")}
    if "csv" not in cfg.outputs.formats:
        p.outputs.pop("table_csv", None)
    if "geoparquet" not in cfg.outputs.formats:
        p.outputs.pop("table_parquet", None)
    return p


def run(cfg: JobConfig, p: FloodPlan, out: OutputFolder, steps: Steps | None = None) -> dict:
    """Run the planned job, writing into ``out`` (staged; the caller commits). Returns the
    run summary: thresholds, headline figures and the output files."""
    steps = steps or Steps()
    s1 = required(cfg.sources.s1, "sources.s1", "the flood pipeline maps Sentinel-1")
    fp = cfg.products.flood or FloodProduct()
    params = flood_params(fp)
    band = fp.polarization
    if band not in s1.bands:
        raise ConfigError(
            f"products.flood.polarization: {band!r} is not in sources.s1.bands {s1.bands}"
        )
    if band.lower() == "vh":
        raise ConfigError(
            "products.flood.polarization: give the co-polarised band (vv); VH is used "
            "automatically when sources.s1.bands lists it"
        )

    bands = [band] + [b for b in s1.bands if b != band and b.lower() == "vh"]
    with steps.step("Loading Sentinel-1 (pre and post event)"):
        pre = load_s1(p.pre_items, bands, p.geobox, stored_units=s1.units, chunks=cfg.grid.chunks)
        post = load_s1(
            [p.post_item], bands, p.geobox, stored_units=s1.units, chunks=cfg.grid.chunks
        )
        pre, post = pre.compute(), post.compute()
    vh_band = bands[1] if len(bands) > 1 else None
    for what, ds_, i in [
        ("post-event", post, 0),
        *(("pre-event", pre, k) for k in range(pre.sizes["time"])),
    ]:
        item = p.post_item if what == "post-event" else p.pre_items[min(i, len(p.pre_items) - 1)]
        for note in check_loaded(
            ds_[band].isel(time=i).values,
            ds_[vh_band].isel(time=i).values if vh_band else None,
            stored_units=s1.units,
            what=f"{what} Sentinel-1 {item.id}",
        ):
            log.warning("%s", note)
    hand = _layer(cfg, p, "hand", p.hand_items, "bilinear", steps, "Loading HAND")
    dem = _layer(cfg, p, "dem", p.dem_items, "bilinear", steps, "Loading the DEM")
    landcover = _layer(
        cfg, p, "landcover", p.landcover_items, "nearest", steps, "Loading land cover"
    )
    gsw = _layer(
        cfg,
        p,
        "gsw_seasonality",
        p.gsw_seasonality_items,
        "nearest",
        steps,
        "Loading JRC surface-water seasonality",
    )
    slope = None
    hand_v = None if hand is None else hand.values
    if dem is not None:
        px = abs(p.geobox.resolution.x)
        slope = terrain.slope_degrees(dem.values, px)
        if hand is None:
            with steps.step("Computing HAND from the DEM (priority flood, D8)"):
                hand_v = terrain.hand_from_dem(
                    dem.values, px, channel_area_km2=params.channel_area_km2
                )

    s2w = None
    if p.s2_items:
        with steps.step("Sentinel-2 water (MNDWI, AWEI, WOfS; SCL clouds masked)"):
            s2_bands = required(cfg.sources.s2, "sources.s2").bands
            s2 = (
                load_s2(p.s2_items, s2_bands, p.geobox, chunks=cfg.grid.chunks)
                .isel(time=0)
                .compute()
            )
            named = {
                S2_COMMON_NAMES.get(b, b): s2[b].values for b in s2_bands if b in s2 and b != "SCL"
            }
            s2w, _ = s2_water(named, s2["SCL"].values if "SCL" in s2 else None)
    vh = len(bands) > 1
    with steps.step("Mapping water and flood (speckle filter, VH threshold, region growing)"):
        ds, thresholds = flood_product.flood_extent(
            pre[band],
            post[band],
            pre_vh=pre[bands[1]] if vh else None,
            post_vh=post[bands[1]] if vh else None,
            params=params,
            hand=hand_v,
            s2_water=s2w,
            slope=slope,
            landcover=landcover,
            gsw_seasonality=gsw,
        )
    crs = crs_wkt(p.geobox)
    with steps.step("Writing rasters (Cloud-Optimized GeoTIFF)"):
        for key, var in (
            ("flood", "flood"),
            ("water", "water"),
            ("water_source", "water_source"),
            ("reference_water", "reference_water"),
            ("exclusion", "exclusion"),
            ("likelihood", "likelihood"),
            ("provenance", "provenance"),
            ("log_ratio", "log_ratio"),
        ):
            if key not in p.outputs:
                continue
            da = ds[var]
            kw: dict[str, Any]
            if var in ("flood", "water", "reference_water"):
                colors = (
                    flood_product.FLOOD_COLORS if var == "flood" else flood_product.CLASS_COLORS
                )
                kw = dict(
                    nodata=flood_product.NODATA,
                    colormap=colors,
                    tags={"classes": da.attrs["classes"]},
                )
            elif var == "log_ratio":
                kw = dict(nodata=float("nan"), tags={"units": "dB"}, overview_resampling="average")
            elif var == "likelihood":
                kw = dict(nodata=flood_product.NODATA, tags={"units": "percent"})
            elif var == "exclusion":
                kw = dict(
                    colormap=flood_product.EXCLUSION_COLORS, tags={"classes": da.attrs["classes"]}
                )
            elif var == "water_source":
                kw = dict(
                    colormap=flood_product.SOURCE_COLORS, tags={"classes": da.attrs["classes"]}
                )
            else:
                kw = dict(tags={"classes": da.attrs["classes"]})
            # numpy values with the plan's grid: no per-raster georeferencing work in rioxarray
            write_cog(
                da.values,
                out.path(p.outputs[key]),
                crs=crs,
                transform=p.geobox.transform,
                band_descriptions=[var],
                **kw,
            )

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
    if cfg.exposure is not None:
        with steps.step("Exposure per administrative unit"):
            units = _units(cfg, p)
            population = _population(cfg, p)
            ex = cfg.exposure
            facilities = _vector(cfg, ex.facilities, "exposure.facilities")
            roads = _vector(cfg, ex.roads, "exposure.roads")
            lc = landcover.rio.write_crs(crs) if landcover is not None else None
            flood_da = ds["flood"].rio.write_crs(crs)
            # dasymetric population: each cell's people on its WorldCover built-up (50) pixels
            # first (population.DASYMETRIC_FLOOR elsewhere), when the job has a land cover;
            # in a tile of a tiled job, cells cut by tile borders are shared (job_grid)
            table = indicators_by_unit(
                flood_da,
                units,
                population=population,
                landcover=lc,
                facilities=facilities,
                roads=roads,
                dasymetric=lc is not None,
                job_grid=p.job_geobox,
            )
            summary.update(_write_tables(cfg, p, table, units, out))
        if "report" not in _left_to_finalize(p):  # a tiled job's report covers its mosaics
            with steps.step("Writing the HTML report"):
                points = (
                    flag_flooded_points(facilities, flood_da) if facilities is not None else None
                )
                _write_report(
                    cfg,
                    p,
                    out,
                    flood_da,
                    ds["reference_water"].rio.write_crs(crs),
                    population,
                    units,
                    table,
                    points,
                    thresholds.as_dict(),
                )
    written = {k: v for k, v in p.outputs.items() if k not in _left_to_finalize(p)}
    summary["outputs"] = {k: str(out.final(v)) for k, v in written.items()}
    return summary


def _left_to_finalize(p: FloodPlan) -> set[str]:
    """Outputs a tile of a tiled job does not write because :func:`finalize` writes them once
    for the whole job: the report, and the SFM table when the per-unit table is written."""
    if p.job_geobox is None:
        return set()
    return {"report"} | ({"sendai"} if {"table_csv", "table_parquet"} & set(p.outputs) else set())


def _write_tables(
    cfg: JobConfig, p: FloodPlan, table, units: gpd.GeoDataFrame, out: OutputFolder
) -> dict:
    """The per-unit table (CSV, GeoParquet) and the SFM-shaped EO-proxy table; summary keys."""
    ex = required(cfg.exposure, "exposure")
    au = ex.admin_units
    if au.level is not None:
        table["level"] = au.level
    gtable = gpd.GeoDataFrame(
        table, geometry=units.set_index("code").loc[table.index].geometry, crs=units.crs
    )
    if "table_csv" in p.outputs:
        write_csv(table, out.path(p.outputs["table_csv"]))
    if "table_parquet" in p.outputs:
        write_geoparquet(gtable, out.path(p.outputs["table_parquet"]))
    event_date = f"{item_datetime(p.post_item):%Y-%m-%d}"
    # a tile's SFM table would be thrown away: finalize writes the job's from the combined table
    if "sendai" not in _left_to_finalize(p):
        sfm = sfm_table(
            table,
            event_id=ex.event_id or cfg.name,
            date=event_date,
            hazard_code=ex.hazard_code,
            admin_level=au.level,
        )
        write_sfm(sfm, out.path(""), units=units, stem=p.outputs["sendai"])
    summary = {"units": int(len(table)), "event_date": event_date}
    if "exposed_population" in table:
        summary["exposed_population"] = float(table["exposed_population"].sum())
    return summary


def _write_report(
    cfg: JobConfig,
    p: FloodPlan,
    out: OutputFolder,
    flood_da,
    reference_da,
    population,
    units,
    table,
    points,
    thresholds: dict,
) -> None:
    layers = [
        MapLayer(
            "Flood extent", flood_da, colors=FLOOD_COLORS, nodata=None, legend="observed flood"
        ),
        MapLayer(
            "Reference water",
            reference_da,
            colors={1: (120, 120, 255, 255)},
            show=False,
            legend="water before the event",
        ),
    ]
    if population is not None:
        layers.append(
            MapLayer("Population", population, cmap="magma", show=False, legend="persons per cell")
        )
    event_date = f"{item_datetime(p.post_item):%Y-%m-%d}"
    write_report(
        out.path(p.outputs["report"]),
        title=f"Flood: {cfg.name} ({event_date})",
        layers=layers,
        units=units,
        table=table,
        plots=indicator_plots(table),
        provenance={
            "post-event S1": p.post_item.id,
            "pre-event S1": ", ".join(it.id for it in p.pre_items),
            "thresholds": thresholds,
            "method": "EO proxies: counts inside the observed flood extent, "
            "not reported Sendai values",
        },
        points=points,
        warnings=flood_product.quality_warnings(thresholds),
    )


def _units(cfg: JobConfig, p: FloodPlan) -> gpd.GeoDataFrame:
    """The admin units; refused when none overlaps the job's AOI (a table of zeros would read
    as "no one exposed"). A tile of a tiled job may hold no unit: it is not checked."""
    au = required(cfg.exposure, "exposure").admin_units
    units = _read_units(cfg, p, au)
    if p.job_geobox is None:
        aoi = p.aoi.to_crs(units.crs).geom
        if not units.geometry.intersects(aoi).any():
            raise InputError(
                f"exposure.admin_units.file: none of the {len(units)} units of {p.units_path} "
                "overlaps the AOI (another place, or another CRS declared wrongly?)"
            )
    return units


def _read_units(cfg: JobConfig, p: FloodPlan, au: Any) -> gpd.GeoDataFrame:
    return read_units(
        required(p.units_path, "exposure.admin_units.file"),
        layer=au.layer,
        code_field=au.code_field,
        name_field=au.name_field,
    )


def _population(cfg: JobConfig, p: FloodPlan) -> xr.DataArray | None:
    """The population grid over the plan's AOI, on its own (native) grid; None without one."""
    if p.population_path:
        return _population_file(p.population_path, p.aoi)
    if not p.population_items:
        return None
    asset = required(cfg.sources.population, "sources.population").asset
    pop_gbox = inputs.native_geobox(p.population_items[0], asset, p.aoi)
    population = nodata_to_nan(
        load_items(p.population_items, [asset], pop_gbox, groupby=None)[asset].isel(
            time=0, drop=True
        )
    ).compute()
    return population.rio.write_crs(crs_wkt(pop_gbox))


def _population_file(path: str, aoi: Geometry) -> xr.DataArray:
    """A population raster file (persons per cell) on its own grid, cut to the AOI: counts are
    never resampled. Refused when it does not overlap the AOI."""
    from rioxarray.exceptions import NoDataInBounds, OneDimensionalRaster

    from eo_drr.load import load_raster_file

    da = load_raster_file(path, what="sources.population.file")
    b = aoi.to_crs(da.rio.crs).boundingbox
    try:
        return da.rio.clip_box(b.left, b.bottom, b.right, b.top).compute()
    except (NoDataInBounds, OneDimensionalRaster):
        raise InputError(f"sources.population.file: {path} does not overlap the AOI") from None


def finalize(
    cfg: JobConfig, p: FloodPlan, tile_outputs: dict[str, dict[str, Path]], out: OutputFolder
) -> set[str]:
    """After a tiled job's mosaics: the job-wide per-unit table (tiles combined with
    :func:`~eo_drr.sendai.tiles.combine_tile_tables`), the SFM table and the report over
    the mosaics (read at display resolution; facilities sampled at full resolution). Returns
    the output names it wrote, which the tiled runner then leaves alone."""
    if cfg.exposure is None:
        return set()
    if "table_parquet" in tile_outputs:  # full precision
        tables = [
            pd.read_parquet(path).drop(columns="geometry", errors="ignore")
            for _, path in sorted(tile_outputs["table_parquet"].items())
        ]
    elif "table_csv" in tile_outputs:  # codes and names stay text ("NA" is Namibia)
        tables = [
            pd.read_csv(
                path, dtype={"code": str, "name": str}, keep_default_na=False, na_values=[]
            ).set_index("code")
            for _, path in sorted(tile_outputs["table_csv"].items())
        ]
    else:
        return set()
    units = _units(cfg, p)
    table = combine_tile_tables(tables)
    _write_tables(cfg, p, table, units, out)
    written = {p.outputs[k] for k in ("table_csv", "table_parquet") if k in p.outputs}
    written |= {f"{p.outputs['sendai']}{ext}" for ext in (".csv", ".parquet", ".gpkg")}
    flood_path = out.path(p.outputs["flood"]) if "flood" in p.outputs else None
    if flood_path is not None and flood_path.exists():
        ref_path = out.path(p.outputs["reference_water"])
        flood_da = read_for_display(flood_path)
        ref_da = read_for_display(ref_path) if ref_path.exists() else flood_da * 0
        ex = cfg.exposure
        facilities = _vector(cfg, ex.facilities, "exposure.facilities")
        points = (
            flag_flooded_points_in_file(facilities, flood_path) if facilities is not None else None
        )
        # no population layer on a tiled job's map: the whole grid at native resolution would
        # break the one-tile memory bound (the table has the people)
        _write_report(
            cfg,
            p,
            out,
            flood_da,
            ref_da,
            None,
            units,
            table,
            points,
            {"note": "thresholds per tile: see the tiles' tile.json"},
        )
        written.add(p.outputs["report"])
    return written


def _layer(
    cfg: JobConfig, p: FloodPlan, key: str, items: list, resampling: str, steps: Steps, title: str
) -> xr.DataArray | None:
    """A single-band source (``sources.<key>``) on the job grid: from catalogue items or a
    file; None when the job has none."""
    src = getattr(cfg.sources, key)
    if src is None:
        return None
    with steps.step(title):
        if items:
            da = load_items(items, [src.asset], p.geobox, resampling=resampling, groupby=None)[
                src.asset
            ]
            return nodata_to_nan(da.isel(time=0, drop=True)).compute()
        from odc.geo.xr import xr_reproject

        from eo_drr.load import load_raster_file

        path = inputs.resolve_path(cfg, src.file, f"sources.{key}.file")
        da = xr_reproject(
            load_raster_file(path, what=f"sources.{key}.file"), p.geobox, resampling=resampling
        ).compute()
        if not np.isfinite(
            da.values
        ).any():  # a layer that is all no data would silently do nothing
            raise InputError(
                f"sources.{key}.file: {path} has no valid pixel over the job's grid (it does not "
                "overlap the AOI, or it is all no data / infinite)"
            )
        return da


def _vector(cfg: JobConfig, src, key: str) -> gpd.GeoDataFrame | None:
    """A vector input of the job (``exposure.facilities`` ...), or None."""
    if src is None:
        return None
    return read_vector(
        inputs.resolve_path(cfg, src.file, f"{key}.file"), layer=src.layer, what=f"{key}.file"
    )


def flood_params(fp: FloodProduct) -> flood_product.FloodParams:
    """The :class:`~eo_drr.products.flood.FloodParams` of the job: the keys its file sets under
    ``products.flood``, the product's defaults for the rest (null turns the slope and change
    rules off; elsewhere null is the default)."""
    given = fp.model_dump(exclude_unset=True, exclude={"polarization", "speckle_filter"})
    for key in (
        "hand_max_m",
        "min_mapping_unit_px",
        "gsw_min_months",
        "channel_area_km2",
        "no_sensitivity_classes",
    ):
        if key in given and given[key] is None:
            given.pop(key)
    if "no_sensitivity_classes" in given:
        given["no_sensitivity_classes"] = tuple(given["no_sensitivity_classes"])
    if fp.speckle_filter is not None:
        given.update(speckle=fp.speckle_filter.kind, speckle_window=fp.speckle_filter.window)
    return flood_product.FloodParams(**given)
