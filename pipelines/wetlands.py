"""Wetlands pipeline, Wetlands Insight Tool style: Sentinel-2 time series -> per pixel and date
open water / wet / green veg / dry veg / bare -> per polygon and date fractions, inundation
frequency, wetland extent and its change between periods.

    search (time.pre: reference period, optional; time.post: monitoring period) -> load
    (SCL-masked reflectance, common grid) -> WIT classes (products.wetlands) -> polygons
    (a user file or derived from the extent) -> fractions per polygon and date
    (sendai.wetland_stats) -> COG + CSV + GeoParquet + a PNG time series per wetland
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pystac
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, WetlandsProduct, required
from eo_drr.errors import ConfigError, InputError
from eo_drr.jobs import inputs
from eo_drr.jobs.progress import Steps
from eo_drr.load import load_s2
from eo_drr.load.grid import crs_wkt
from eo_drr.load.sentinel2 import S2_COMMON_NAMES
from eo_drr.products import wetlands as wl
from eo_drr.publish import OutputFolder, write_cog, write_csv, write_geoparquet
from eo_drr.sendai import wetland_stats as ws

log = logging.getLogger(__name__)

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
PLOT_DIR = "plots"


@dataclass
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
        g = self.geobox
        rows = [
            ("catalogue", self.catalog),
            ("grid", f"{g.crs} {abs(g.resolution.x):g} m, {g.shape.x} x {g.shape.y} px"),
        ]
        rows += [
            (
                "reference S2" if i < self.n_pre else "monitoring S2",
                f"{it.id} ({item_datetime(it):%Y-%m-%d})",
            )
            for i, it in enumerate(self.items)
        ]
        rows.append(("polygons", self.polygons_path or "derived from the wetland extent"))
        rows += [("output", p) for p in self.outputs.values()]
        return rows


def plan(cfg: JobConfig) -> WetlandsPlan:
    """Search the catalogue and resolve the grid; computes and writes nothing."""
    if cfg.sources.s2 is None:
        raise ConfigError("sources.s2: the wetlands pipeline needs Sentinel-2 (add sources.s2)")
    s2 = cfg.sources.s2
    missing = [b for b in S2_COMMON_NAMES if b not in s2.bands]
    if missing:
        raise ConfigError(f"sources.s2.bands: the wetland classes need {', '.join(missing)}")
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
    p = WetlandsPlan(catalog.name, aoi, geobox, items, n_pre=len(pre))
    if wp.polygons is not None:
        p.polygons_path = str(
            inputs.resolve_path(cfg, wp.polygons.file, "products.wetlands.polygons.file")
        )
    keep = dict(OUTPUTS)
    if not pre:
        keep.pop("extent_pre"), keep.pop("change")
    fm = cfg.outputs.formats
    p.outputs = {
        k: v
        for k, v in keep.items()
        if (v.endswith(".tif") and "cog" in fm)
        or (v.endswith(".csv") and "csv" in fm)
        or (v.endswith(".parquet") and "geoparquet" in fm)
    }
    return p


def plot_wetland(series: pd.DataFrame, title: str, path) -> None:
    """Stacked-area plot of the WIT fractions of one wetland over time (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
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
            "no observation with <= 10 % missing",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_ylim(0, 100)
    ax.set_ylabel("share of the wetland (%)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(cfg: JobConfig, p: WetlandsPlan, out: OutputFolder, steps: Steps | None = None) -> dict:
    """Run the planned job into ``out`` (staged; the caller commits); returns the summary."""
    steps = steps or Steps()
    wp = cfg.products.wetlands or WetlandsProduct()
    params = wl.WetlandParams(**wp.model_dump(exclude_none=True, exclude={"polygons"}))
    with steps.step("Loading Sentinel-2 (SCL clouds masked; water never masked)"):
        ds = load_s2(
            p.items, required(cfg.sources.s2, "sources.s2").bands, p.geobox, chunks=cfg.grid.chunks
        ).compute()
        bands = {S2_COMMON_NAMES[b]: ds[b].values for b in S2_COMMON_NAMES}
        dates = [str(np.datetime_as_string(t, unit="D")) for t in ds.time.values]
        n_pre = len({f"{item_datetime(it):%Y-%m-%d}" for it in p.items[: p.n_pre]})
    with steps.step("WIT classes per pixel and date"):
        classes = wl.wit_classes(
            bands, tcw_wet_threshold=params.tcw_wet_threshold, ndvi_green_min=params.ndvi_green_min
        )
        freq, n_clear = wl.inundation_frequency(classes)
        post = classes[n_pre:]
        extent = wl.wetland_extent(
            post,
            params.extent_min_frequency,
            min_observations=params.extent_min_observations,
            what="time.post (monitoring period)",
        )
        extent_pre = change = None
        if n_pre:
            extent_pre = wl.wetland_extent(
                classes[:n_pre],
                params.extent_min_frequency,
                min_observations=params.extent_min_observations,
                what="time.pre (reference period)",
            )
            change = wl.extent_change(extent_pre, extent)
    crs, transform = crs_wkt(p.geobox), p.geobox.transform
    with steps.step("Wetland polygons"):
        if p.polygons_path:
            pc = required(wp.polygons, "products.wetlands.polygons")
            polys = ws.read_polygons(
                p.polygons_path, layer=pc.layer, id_field=pc.id_field, name_field=pc.name_field
            )
        else:
            polys = wl.derive_polygons(extent, transform, crs, min_px=params.min_polygon_px)
        labels, expected, outside = ws.rasterize_polygons(
            polys, transform, (p.geobox.shape.y, p.geobox.shape.x), crs
        )
        if len(outside) == len(polys):
            raise InputError(
                f"products.wetlands.polygons: every polygon lies outside the data ({', '.join(outside[:10])})"
            )
        if outside:
            log.warning("wetland polygons outside the data, dropped: %s", ", ".join(outside))
        keep = ~polys["id"].isin(outside).to_numpy()
        remap = np.zeros(len(polys) + 1, np.int32)
        remap[1:][keep] = np.arange(1, keep.sum() + 1)
        labels = remap[labels]
        polys, expected = polys[keep].reset_index(drop=True), expected[keep]
    with steps.step("Fractions per polygon and date"):
        series = ws.wit_time_series(
            classes,
            labels,
            list(polys["id"]),
            dates,
            expected_px=expected,
            max_missing_fraction=params.max_missing_fraction,
        )
        ws.require_observations(series)
        px_ha = abs(p.geobox.resolution.x * p.geobox.resolution.y) / 1e4
        idx = labels.ravel()
        n = len(polys)
        ext = pd.DataFrame(index=pd.Index(polys["id"], name="id"))
        ext["area_ha"] = expected * px_ha
        ext["extent_ha"] = (
            np.bincount(idx, weights=(extent.ravel() == 1), minlength=n + 1)[1:] * px_ha
        )
        if change is not None and extent_pre is not None:
            ext["extent_reference_ha"] = (
                np.bincount(idx, weights=(extent_pre.ravel() == 1), minlength=n + 1)[1:] * px_ha
            )
            ext["gained_ha"] = (
                np.bincount(idx, weights=(change.ravel() == 2), minlength=n + 1)[1:] * px_ha
            )
            ext["lost_ha"] = (
                np.bincount(idx, weights=(change.ravel() == 3), minlength=n + 1)[1:] * px_ha
            )
        summary_t = ws.polygon_summary(series, polys, len(dates), ext)
    with steps.step("Writing rasters, tables and plots"):
        freq_u8 = np.where(np.isfinite(freq), np.round(100 * freq), wl.NODATA).astype(np.uint8)
        ext_tags = {
            "classes": f"1 wetland, 0 not, 255 fewer than {params.extent_min_observations} clear dates"
        }
        rasters: dict[str, tuple[np.ndarray | None, dict[str, Any]]] = {
            "classes": (
                classes,
                dict(
                    band_descriptions=dates, tags={"classes": str(dict(enumerate(ws.CLASS_NAMES)))}
                ),
            ),
            "frequency": (
                freq_u8,
                dict(
                    band_descriptions=["inundation_frequency"],
                    tags={"units": "percent of clear dates"},
                ),
            ),
            "extent": (extent, dict(band_descriptions=["wetland_extent"], tags=ext_tags)),
            "extent_pre": (
                extent_pre,
                dict(band_descriptions=["wetland_extent_reference"], tags=ext_tags),
            ),
            "change": (
                change,
                dict(
                    band_descriptions=["extent_change"],
                    colormap=wl.CHANGE_COLORS,
                    tags={"classes": str(wl.CHANGE_CLASSES)},
                ),
            ),
        }
        for key, (values, kw) in rasters.items():
            if key in p.outputs and values is not None:
                write_cog(
                    values,
                    out.path(p.outputs[key]),
                    crs=crs,
                    transform=transform,
                    nodata=wl.NODATA,
                    **kw,
                )
        geom = polys.set_index("id").geometry
        if "series_csv" in p.outputs:
            write_csv(series, out.path(p.outputs["series_csv"]))
        if "series_parquet" in p.outputs:
            write_geoparquet(
                gpd.GeoDataFrame(series, geometry=geom.loc[series["id"]].to_numpy(), crs=polys.crs),
                out.path(p.outputs["series_parquet"]),
            )
        if "summary_csv" in p.outputs:
            write_csv(summary_t, out.path(p.outputs["summary_csv"]))
        if "summary_parquet" in p.outputs:
            write_geoparquet(
                gpd.GeoDataFrame(
                    summary_t, geometry=geom.loc[summary_t.index].to_numpy(), crs=polys.crs
                ),
                out.path(p.outputs["summary_parquet"]),
            )
        plots = {}
        for pid, name in zip(polys["id"], polys["name"]):
            rel = f"{PLOT_DIR}/wit_{pid}.png"
            plot_wetland(
                series[series["id"] == pid],
                f"{name}: Wetlands Insight Tool fractions",
                out.path(rel),
            )
            plots[pid] = str(out.final(rel))
    px_ha = abs(p.geobox.resolution.x * p.geobox.resolution.y) / 1e4
    summary = {
        "tcw_wet_threshold": params.tcw_wet_threshold,
        "extent_rule": {
            "min_frequency": params.extent_min_frequency,
            "min_observations": params.extent_min_observations,
        },
        "dates": dates,
        "reference_dates": dates[:n_pre],
        "polygons": int(len(polys)),
        "polygons_outside_data": outside,
        "polygons_without_observations": ws.no_observation_ids(summary_t),
        "observations_kept": int(len(series)),
        "observations_dropped": int(len(polys) * len(dates) - len(series)),
        "wetland_extent_ha": float((extent == 1).sum() * px_ha),
        "observed_share": float((n_clear > 0).mean()),
    }
    if change is not None:
        summary["extent_gained_ha"] = float((change == 2).sum() * px_ha)
        summary["extent_lost_ha"] = float((change == 3).sum() * px_ha)
    summary["outputs"] = {k: str(out.final(v)) for k, v in p.outputs.items()}
    summary["plots"] = plots
    return summary
