"""Urban growth pipeline: Sentinel-2 (+ Sentinel-1) temporal statistics at two epochs ->
built-up per epoch -> new built-up -> growth into hazard zones -> hectares per unit.

    search (epoch 1 = time.pre, epoch 2 = time.post) -> load (common grid) -> built-up
    probability per epoch (products.urban) -> growth with a minimum mapping unit -> hazard
    (file / HAND / slope) -> per-unit hectares (sendai.growth) -> COG + CSV + GeoParquet
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pystac
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry
from odc.geo.xr import xr_reproject, xr_zeros

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, UrbanGrowthProduct
from eo_drr.errors import ConfigError, InputError
from eo_drr.jobs import inputs
from eo_drr.jobs.progress import Steps
from eo_drr.load.sentinel2 import S2_COMMON_NAMES
from eo_drr.load import load_items, load_raster_file, load_s1, load_s2, nodata_to_nan
from eo_drr.products import urban
from eo_drr.products.terrain import slope_degrees
from eo_drr.publish import OutputFolder, write_cog, write_csv, write_geoparquet
from eo_drr.sendai.growth import growth_by_unit
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
        rows = [("catalogue", self.catalog),
                ("grid", f"{g.crs} {abs(g.resolution.x):g} m, {g.shape.x} x {g.shape.y} px")]
        for e in (1, 2):
            rows += [(f"epoch {e} S2", f"{it.id} ({item_datetime(it):%Y-%m-%d})") for it in self.s2_items[e]]
            rows += [(f"epoch {e} S1", f"{it.id} ({item_datetime(it):%Y-%m-%d})") for it in self.s1_items.get(e, [])]
        rows += [("HAND", it.id) for it in self.hand_items] + [("DEM", it.id) for it in self.dem_items]
        for what, p in (("hazard file", self.hazard_path), ("formal areas", self.formal_path), ("admin units", self.units_path)):
            if p:
                rows.append((what, p))
        rows += [("output", p) for p in self.outputs.values()]
        return rows


def plan(cfg: JobConfig) -> UrbanPlan:
    """Search the catalogue for both epochs and resolve the grid; computes and writes nothing."""
    if cfg.sources.s2 is None:
        raise ConfigError("sources.s2: the urban_growth pipeline needs Sentinel-2 (add sources.s2)")
    if cfg.time.pre is None:
        raise ConfigError("time.pre: the urban_growth pipeline needs two epochs: time.pre (epoch 1) and time.post (epoch 2)")
    up = cfg.products.urban_growth or UrbanGrowthProduct()
    s2 = cfg.sources.s2
    missing = [b for b in ("B02", "B03", "B04", "B08", "B11") if b not in s2.bands]
    if missing:
        raise ConfigError(f"sources.s2.bands: the built-up indices need {', '.join(missing)}")
    catalog = inputs.job_catalog(cfg)
    aoi = inputs.aoi_geometry(cfg)
    windows = {1: (cfg.time.pre, "time.pre"), 2: (cfg.time.post, "time.post")}
    s2_items = {e: inputs.search_window(catalog, s2.collection, aoi, w, f"{key} (epoch {e})",
                                        max_cloud_cover=s2.max_cloud_cover) for e, (w, key) in windows.items()}
    geobox = inputs.job_geobox(cfg, aoi, s2_items[2])
    p = UrbanPlan(catalog.name, aoi, geobox, s2_items)
    if cfg.sources.s1 is not None:  # optional: an epoch without Sentinel-1 uses Sentinel-2 alone
        s1 = cfg.sources.s1
        for e, (w, key) in windows.items():
            try:
                p.s1_items[e] = inputs.search_window(catalog, s1.collection, aoi, w, key, orbit_direction=s1.orbit_direction,
                                                     relative_orbit=s1.relative_orbit)
            except InputError:
                p.s1_items[e] = []
            if p.s1_items[e]:  # one track only: backscatter differs between tracks
                first = p.s1_items[e][0].properties
                p.s1_items[e] = [it for it in p.s1_items[e] if it.properties.get("sat:relative_orbit") == first.get("sat:relative_orbit")]
    hz = up.hazard
    if hz is not None:
        if hz.file:
            p.hazard_path = str(inputs.resolve_path(cfg, hz.file, "products.urban_growth.hazard.file"))
        if hz.hand_max_m is not None:
            if cfg.sources.hand is None or not cfg.sources.hand.collection:
                raise ConfigError("products.urban_growth.hazard.hand_max_m: needs sources.hand (a collection)")
            p.hand_items = inputs.search_static(catalog, cfg.sources.hand.collection, aoi, "sources.hand")
        if hz.slope_min_deg is not None:
            if cfg.sources.dem is None or not cfg.sources.dem.collection:
                raise ConfigError("products.urban_growth.hazard.slope_min_deg: needs sources.dem (a collection)")
            p.dem_items = inputs.search_static(catalog, cfg.sources.dem.collection, aoi, "sources.dem")
    if up.formal_areas is not None:
        p.formal_path = str(inputs.resolve_path(cfg, up.formal_areas.file, "products.urban_growth.formal_areas.file"))
    if cfg.exposure is not None:
        p.units_path = str(inputs.resolve_path(cfg, cfg.exposure.admin_units.file, "exposure.admin_units.file"))
    keep = dict(OUTPUTS)
    if hz is None:
        keep.pop("hazard"), keep.pop("growth_hazard")
    if cfg.exposure is None:
        keep.pop("table_csv"), keep.pop("table_parquet")
    fm = cfg.outputs.formats
    p.outputs = {k: v for k, v in keep.items()
                 if (v.endswith(".tif") and "cog" in fm) or (v.endswith(".csv") and "csv" in fm)
                 or (v.endswith(".parquet") and "geoparquet" in fm)}
    return p


def load_s2_epoch(items, bands, geobox, chunks) -> dict[str, np.ndarray]:
    """Sentinel-2 reflectance (0-1, SCL-masked) as ``(time, y, x)`` arrays by common name."""
    ds = load_s2(items, bands, geobox, chunks=chunks).compute()
    return {S2_COMMON_NAMES[b]: ds[b].values for b in bands if b in S2_COMMON_NAMES and b in ds}


def _static(items, asset, geobox) -> xr.DataArray:
    return nodata_to_nan(load_items(items, [asset], geobox, resampling="bilinear", groupby=None)[asset].isel(time=0, drop=True)).compute()


def run(cfg: JobConfig, p: UrbanPlan, out: OutputFolder, steps: Steps | None = None) -> dict:
    """Run the planned job into ``out`` (staged; the caller commits); returns the summary."""
    steps = steps or Steps()
    up = cfg.products.urban_growth or UrbanGrowthProduct()
    rule = urban.BuiltupRule(**up.thresholds.model_dump())
    results = {}
    for e, key in ((1, "time.pre"), (2, "time.post")):
        with steps.step(f"Built-up, epoch {e} (Sentinel-2{' + Sentinel-1' if p.s1_items.get(e) else ''} temporal statistics)"):
            s2 = load_s2_epoch(p.s2_items[e], cfg.sources.s2.bands, p.geobox, cfg.grid.chunks)
            vv = vh = None
            if p.s1_items.get(e):
                s1cfg = cfg.sources.s1
                s1 = load_s1(p.s1_items[e], s1cfg.bands, p.geobox, stored_units=s1cfg.units, chunks=cfg.grid.chunks).compute()
                vv = s1["vv"].values if "vv" in s1 else None
                vh = s1["vh"].values if "vh" in s1 else None
            results[e] = urban.builtup_epoch(s2, vv, vh, rule=rule, min_mapping_unit_px=up.builtup_min_mapping_unit_px,
                                             what=f"{key} (epoch {e})")
    with steps.step("Urban growth (minimum mapping unit)"):
        growth = urban.urban_growth(results[1].builtup, results[2].builtup, min_mapping_unit_px=up.growth_min_mapping_unit_px)

    crs = p.geobox.crs.to_wkt()
    template = xr_zeros(p.geobox, "uint8")

    def da(values, name):
        return template.copy(data=values).rename(name).rio.write_crs(crs)

    hazard = hz_growth = None
    if up.hazard is not None:
        with steps.step("Hazard zones"):
            parts = []
            if p.hazard_path:
                src = load_raster_file(p.hazard_path, what="products.urban_growth.hazard.file")
                h = xr_reproject(src.astype(np.float32), p.geobox, resampling="nearest").values
                nodata = src.rio.nodata
                h = np.where((h == nodata) if nodata is not None and np.isfinite(nodata) else ~np.isfinite(h), np.nan, h)
                # 1 is hazard; any other value is not (flood_extent.tif's 2, water that was there
                # before the event, is the river itself, not ground a flood reaches)
                parts.append(np.where(np.isfinite(h), (h == 1).astype(np.uint8), urban.NODATA).astype(np.uint8))
            if p.hand_items:
                parts.append(urban.hazard_from_hand(_static(p.hand_items, cfg.sources.hand.asset, p.geobox).values, up.hazard.hand_max_m))
            if p.dem_items:
                dem = _static(p.dem_items, cfg.sources.dem.asset, p.geobox).values
                parts.append(urban.hazard_from_slope(slope_degrees(dem, abs(p.geobox.resolution.x)), up.hazard.slope_min_deg))
            hazard = np.zeros(p.geobox.shape, np.uint8)
            known = np.zeros(p.geobox.shape, bool)
            for part in parts:
                hazard |= (part == 1).astype(np.uint8)
                known |= part != urban.NODATA
            hazard[~known & (hazard == 0)] = urban.NODATA
            hz_growth = urban.growth_in_hazard(growth, hazard)

    with steps.step("Writing rasters (Cloud-Optimized GeoTIFF)"):
        for e in (1, 2):
            r = results[e]
            prob = np.where(np.isfinite(r.probability), np.round(100 * r.probability), urban.NODATA).astype(np.uint8)
            if f"probability_t{e}" in p.outputs:
                write_cog(da(prob, "builtup_probability"), out.path(p.outputs[f"probability_t{e}"]), nodata=urban.NODATA,
                          band_descriptions=["builtup_probability"], tags={"units": "percent", "sources": ",".join(r.sources)})
            if f"builtup_t{e}" in p.outputs:
                write_cog(da(r.builtup, "builtup"), out.path(p.outputs[f"builtup_t{e}"]), nodata=urban.NODATA,
                          colormap=urban.BUILTUP_COLORS, band_descriptions=["builtup"],
                          tags={"classes": "1 built-up, 0 not, 255 no clear observation"})
        layers = [("growth", growth, urban.GROWTH_COLORS, str(urban.GROWTH_CLASSES))]
        if hazard is not None:
            layers += [("hazard", hazard, None, "1 hazard zone, 0 not, 255 no data"),
                       ("growth_hazard", hz_growth, None, "1 new built-up in a hazard zone, 0 not, 255 no data")]
        for key, values, cmap, classes in layers:
            if key in p.outputs:
                write_cog(da(values, key), out.path(p.outputs[key]), nodata=urban.NODATA, colormap=cmap,
                          band_descriptions=[key], tags={"classes": classes})

    px_ha = abs(p.geobox.resolution.x * p.geobox.resolution.y) / 1e4
    summary = {
        "rule": rule.as_dict(),
        "epochs": {e: {"s2_items": [it.id for it in p.s2_items[e]], "s1_items": [it.id for it in p.s1_items.get(e, [])],
                       "sources": results[e].sources, "builtup_ha": float((results[e].builtup == 1).sum() * px_ha),
                       "observed_share": float((results[e].builtup != urban.NODATA).mean())} for e in (1, 2)},
        "warnings": [w for e in (1, 2) for w in results[e].warnings],
        "new_builtup_ha": float((growth == 2).sum() * px_ha),
        "observed_share": float((growth != urban.NODATA).mean()),
    }
    if hz_growth is not None:
        summary["new_builtup_in_hazard_ha"] = float((hz_growth == 1).sum() * px_ha)
    if cfg.exposure is not None:
        with steps.step("Growth per administrative unit"):
            au = cfg.exposure.admin_units
            units = read_units(p.units_path, layer=au.layer, code_field=au.code_field, name_field=au.name_field)
            formal = None
            if p.formal_path:
                from rasterio import features

                fa = gpd.read_file(p.formal_path, layer=up.formal_areas.layer)
                if fa.crs is None:
                    raise InputError(f"products.urban_growth.formal_areas.file: {p.formal_path} has no CRS")
                fa = fa.to_crs(p.geobox.crs.to_wkt())
                formal = features.rasterize(((g, 1) for g in fa.geometry.make_valid() if not g.is_empty), out_shape=p.geobox.shape,
                                            transform=p.geobox.transform, fill=0, dtype="uint8").astype(bool)
            table = growth_by_unit(da(growth, "growth"), units,
                                   hazard_growth=None if hz_growth is None else da(hz_growth, "growth_hazard"), formal=formal)
            table.insert(0, "level", au.level if au.level is not None else None)
            gtable = gpd.GeoDataFrame(table, geometry=units.set_index("code").loc[table.index].geometry, crs=units.crs)
            if "table_csv" in p.outputs:
                write_csv(table, out.path(p.outputs["table_csv"]))
            if "table_parquet" in p.outputs:
                write_geoparquet(gtable, out.path(p.outputs["table_parquet"]))
            summary["units"] = int(len(table))
    summary["outputs"] = {k: str(out.final(v)) for k, v in p.outputs.items()}
    return summary
