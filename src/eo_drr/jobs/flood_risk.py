"""The flood job's risk information: water depth (m) from its mapped flood extent and its DEM
(``sources.dem``), hazard classes from the depth, and the exposure per unit in depth classes
with its rows of the SFM-shaped table.

Depth: FwDET v2 on the DEM (:func:`eo_drr.products.depth.flood_depth`, default
:class:`~eo_drr.products.depth.DepthOptions`: shoreline edge level, 3 x 3 mean). Chosen over
the HAND method by ``benchmarks/depth_accuracy.py`` (demo scene, 1024 px, seed 42, the flood
job's mapped extent with forest and built-up excluded, enclosed dry patches blocked): FwDET
median absolute error 0.065 m, bias -0.064 m; HAND computed from the DEM (what a job without a
HAND layer would use) 0.103 m, -0.051 m; the scene's own HAND layer 0.041 m, -0.063 m. FwDET
needs only the DEM every depth job has, and has the smaller typical error of the two methods
that DEM alone allows (README "Water frequency and flood depth" has the whole table).

Edges that are no evidence of the water surface (FwDET v2's boundary rule, Cohen et al. 2019,
see :mod:`eo_drr.products.depth`): the flood extent's still water (2) and no data (255), and,
when land cover is loaded, the exclusion layer's no-sensitivity pixels (WorldCover tree cover
and built-up, :data:`~eo_drr.products.flood.NO_SENSITIVITY_CLASSES`): radar misses flooding
under trees and among buildings (Bauer-Marschallinger et al. 2022), so the mapped flood's edge
there is not where the water ends. On the benchmark (512 px, before enclosed dry patches were
blocked) this exclusion brought the bias from -0.478 m to -0.315 m.

Hazard classes: :func:`eo_drr.products.hazard.flood_hazard` from the depth alone (the job maps
one event and knows no return period).

Tiled jobs: a flooded cell's depth comes from its nearest edge cell, which may lie in another
tile, so tiles (even with a halo) cannot give the depth of the whole extent. A tiled job's
depth, hazard and depth tables are made once, by the pipeline's ``finalize``, on the mosaics
of the tiles' flood extent and exclusion layer (:func:`mosaic_risk`): that step holds the
whole job grid in memory (the DEM, the extent and the allocation's indices, about 40 bytes a
pixel), beyond the one-tile memory bound of the tiles.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pystac
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, required
from eo_drr.errors import NoDataError
from eo_drr.jobs.exposure import Exposure, ExposureSources, read_exposure
from eo_drr.jobs.flood_inputs import LAYERS
from eo_drr.jobs.layers import source_layer
from eo_drr.load import read_for_display
from eo_drr.products import flood as fp
from eo_drr.products import hazard as hz
from eo_drr.products.depth import flood_depth
from eo_drr.publish.rasters import grid_array
from eo_drr.publish.risk_outputs import write_depth_table, write_risk_rasters
from eo_drr.publish.staging import OutputFolder
from eo_drr.sendai.depth_exposure import depth_sfm_rows, exposure_by_depth
from eo_drr.sendai.indicators import ExposureLayers

log = logging.getLogger(__name__)

#: the depth method of the flood job (see the module's notes)
DEPTH_METHOD = "fwdet"
#: output keys of the risk files (written only by a job with a DEM)
RISK_OUTPUTS = ("depth", "hazard", "depth_csv", "depth_parquet")
#: exclusion bits whose pixels are no evidence of the water's edge
NO_EVIDENCE_BITS = fp.NO_SENSITIVITY_URBAN | fp.NO_SENSITIVITY_FOREST


@dataclass(frozen=True)
class FloodRisk:
    """A flood job's depth (float32 m, NaN off the flood) and hazard classes (uint8,
    :data:`~eo_drr.products.hazard.CLASS_NAMES`) on its grid (with a CRS), and why the depth
    is empty when no flood edge was evidence of the water surface (else None)."""

    depth: xr.DataArray
    hazard: xr.DataArray
    warning: str | None = None

    def summary(self, pixel_ha: float) -> dict[str, Any]:
        """The run summary's figures: the method, the median and 90th percentile depth (m)
        over the flood, and the flooded hectares per hazard class."""
        d = self.depth.values[np.isfinite(self.depth.values)]
        h = self.hazard.values
        out: dict[str, Any] = {
            "depth_method": DEPTH_METHOD,
            "depth_median_m": round(float(np.median(d)), 3) if d.size else None,
            "depth_p90_m": round(float(np.quantile(d, 0.9)), 3) if d.size else None,
            "hazard_ha": {
                hz.CLASS_NAMES[c]: float((h == c).sum() * pixel_ha)
                for c in (hz.LOW, hz.MEDIUM, hz.HIGH)
            },
        }
        if self.warning:
            out["depth_warning"] = self.warning
        return out

    def report_maps(self) -> dict[str, xr.DataArray]:
        """The depth and hazard maps for the report (:class:`~eo_drr.publish.flood_outputs.FloodReport`)."""
        return {"depth": self.depth, "hazard": self.hazard}


def flood_risk(
    flood: np.ndarray, dem: np.ndarray, exclusion: np.ndarray | None, geobox: GeoBox
) -> FloodRisk:
    """Depth and hazard classes of the flood extent ``flood`` (uint8 codes of
    :func:`~eo_drr.products.flood.flood_extent`) on the DEM ``dem`` (m, NaN no data), both on
    ``geobox``; ``exclusion``: the extent's exclusion bits (None: no exclusion layer). With no
    flood edge to go by, the depth is all NaN and :attr:`FloodRisk.warning` says why."""
    blocked = (flood != fp.FLOOD) & (flood != fp.NOT_FLOOD)
    if exclusion is not None:
        blocked |= (exclusion & NO_EVIDENCE_BITS) != 0
    warning = None
    try:
        depth = flood_depth(flood == fp.FLOOD, dem, blocked=blocked)
    except NoDataError as exc:
        warning = f"flood depth: {exc}"
        log.warning("%s", warning)
        depth = np.full(flood.shape, np.nan, dtype=np.float32)
    unknown = (flood == fp.NODATA) | ((flood == fp.FLOOD) & ~np.isfinite(depth))
    hazard = hz.flood_hazard(depth, nodata=unknown)
    return FloodRisk(
        grid_array(depth, "flood_depth", geobox).rio.write_nodata(np.nan, encoded=False),
        grid_array(hazard, "flood_hazard", geobox),
        warning,
    )


def job_risk(
    flood: np.ndarray,
    dem: xr.DataArray,
    exclusion: np.ndarray | None,
    geobox: GeoBox,
    out: OutputFolder,
    outputs: Mapping[str, str],
) -> FloodRisk:
    """:func:`flood_risk` of a job (``dem``: its ``sources.dem`` on ``geobox``), with the
    depth and hazard rasters written into ``out`` (``outputs["depth"]``, ``["hazard"]``)."""
    risk = flood_risk(flood, np.asarray(dem.values), exclusion, geobox)
    write_risk_rasters(risk.depth.values, risk.hazard.values, geobox, out, outputs)
    return risk


def depth_tables(
    cfg: JobConfig,
    risk: FloodRisk,
    ex: Exposure,
    landcover: xr.DataArray | None,
    date: str,
    out: OutputFolder,
    outputs: Mapping[str, str],
) -> pd.DataFrame:
    """People, built-up, cropland and roads per unit in depth classes
    (:func:`~eo_drr.sendai.depth_exposure.exposure_by_depth`; with land cover, people on its
    built-up pixels first, as the per-unit table), written as ``outputs["depth_csv"]`` /
    ``["depth_parquet"]``. Returns its rows of the SFM-shaped table
    (:func:`~eo_drr.sendai.depth_exposure.depth_sfm_rows`, ``depth:<class>``)."""
    exc = required(cfg.exposure, "exposure")
    lc = landcover.rio.write_crs(risk.depth.rio.crs) if landcover is not None else None
    layers = ExposureLayers(population=ex.population, landcover=lc, roads=ex.roads)
    table = exposure_by_depth(risk.depth, ex.units, layers=layers)
    if exc.admin_units.level is not None:
        table = table.assign(level=exc.admin_units.level)
    write_depth_table(table, ex.units, out, outputs)
    return depth_sfm_rows(
        table,
        event_id=exc.event_id or cfg.name,
        date=date,
        hazard_code=exc.hazard_code,
        admin_level=exc.admin_units.level,
    )


def job_layer(
    cfg: JobConfig, key: str, items: Sequence[pystac.Item], geobox: GeoBox
) -> xr.DataArray | None:
    """The job's ``sources.<key>`` (``dem``, ``landcover``) on ``geobox``, resampled as the
    flood job's layers are (:data:`~eo_drr.jobs.flood_inputs.LAYERS`); None without it."""
    return source_layer(cfg, key, items, geobox, LAYERS[key][0])


class RiskPlan(Protocol):
    """What :func:`mosaic_risk` reads of the flood job's plan (the whole job's; read-only)."""

    @property
    def aoi(self) -> Geometry: ...
    @property
    def geobox(self) -> GeoBox: ...
    @property
    def post_item(self) -> pystac.Item: ...
    @property
    def dem_items(self) -> list[pystac.Item]: ...
    @property
    def landcover_items(self) -> list[pystac.Item]: ...
    @property
    def population_items(self) -> list[pystac.Item]: ...
    @property
    def units_path(self) -> str | None: ...
    @property
    def population_path(self) -> str | None: ...
    @property
    def outputs(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class MosaicRisk:
    """What :func:`mosaic_risk` made: the SFM rows by depth class (None without exposure or
    depth), the files it wrote (names in the output folder) and the depth and hazard maps at
    display resolution for the report (``{"depth": ..., "hazard": ...}``, empty without)."""

    sfm_rows: pd.DataFrame | None = None
    written: frozenset[str] = frozenset()
    report_maps: Mapping[str, xr.DataArray] = field(default_factory=dict)


def mosaic_risk(cfg: JobConfig, p: RiskPlan, out: OutputFolder) -> MosaicRisk:
    """A tiled job's risk information, made once over the whole job (see the module's
    notes): depth and hazard from the mosaics of its flood extent and exclusion layer in
    ``out`` and its DEM on the job grid, and, with ``exposure:``, the exposure by depth
    (population over the whole AOI, land cover on the job grid); written into ``out``.
    Nothing without a DEM or a flood mosaic."""
    flood_path = out.path(p.outputs["flood"]) if "flood" in p.outputs else None
    if "depth" not in p.outputs or flood_path is None or not flood_path.exists():
        return MosaicRisk()
    dem = required(job_layer(cfg, "dem", p.dem_items, p.geobox), "sources.dem")
    excl = out.path(p.outputs["exclusion"]) if "exclusion" in p.outputs else None
    exclusion = _read(excl) if excl is not None and excl.exists() else None
    risk = job_risk(_read(flood_path), dem, exclusion, p.geobox, out, p.outputs)
    keys = ["depth", "hazard"]
    rows = None
    if cfg.exposure is not None:
        units = required(p.units_path, "exposure.admin_units.file")
        sources = ExposureSources(units, p.population_items, p.population_path)
        ex = read_exposure(cfg, sources, p.aoi, whole_job=True)
        lc = job_layer(cfg, "landcover", p.landcover_items, p.geobox)
        rows = depth_tables(
            cfg, risk, ex, lc, f"{item_datetime(p.post_item):%Y-%m-%d}", out, p.outputs
        )
        keys += ["depth_csv", "depth_parquet"]
    return MosaicRisk(
        rows,
        frozenset(p.outputs[k] for k in keys if k in p.outputs),
        {k: read_for_display(out.path(p.outputs[k])) for k in ("depth", "hazard")},
    )


def _read(path: Path) -> np.ndarray:
    """Band 1 of a raster at full resolution."""
    import rasterio

    with rasterio.open(path) as src:
        return src.read(1)
