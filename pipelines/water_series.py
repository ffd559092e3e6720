"""Water series pipeline: every Sentinel-1 acquisition of a date range -> single-date water
-> a Zarr time cube -> water frequency, valid observations and surface-water classes.

    search (time.post: the series' date range; one relative orbit) -> per acquisition not yet
    in the cube: load (common grid) -> s1_water (products.water) -> append to
    water_series.zarr (io.zarr_cube) -> frequency + classes (products.frequency) -> COGs
    -> HTML report (publish.series_outputs)

Incremental: the cube's ``time`` coordinate tells which acquisitions are done; a rerun of the
same job (more acquisitions in the catalogue, or a later ``time.post.end``) maps only the new
ones, appends them and recomputes the frequency from the cube's running counts (each append
updates them, so it costs the same whatever the number of dates). The cube lives in the
output folder itself (not staged), is appended to atomically (an append killed half way
leaves it, counts included, as it was and the rerun completes it) and is kept between runs;
the COGs are staged and committed as in every pipeline. ``eo-drr monitor`` appends to the same cube: it calls
:func:`pending` (what the cube lacks) and reruns the job with ``time.post`` open-ended
(:mod:`eo_drr.engine.monitor`).

Not tiled (``tiling:``, ``--tile-size``): refused (:data:`NOT_TILED`). The cube is the job's
one record of what is done, with one commit point per append; tiles commit independently, so
region writes by tiles would leave dates half-written between tiles (and tiles narrower than
a 256 px chunk would rewrite each other's chunks). Single-date water also decides each scene
whole (its threshold and region growing, :mod:`eo_drr.products.water`), which a tile would
cut. Memory is one date of the grid whatever the number of dates (the cube is appended date
by date and the frequency taken from its counts): ``benchmarks/frequency_accuracy.py --dates``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pystac
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, required
from eo_drr.errors import ConfigError, InputError
from eo_drr.io import zarr_cube
from eo_drr.io.cog import CogStyle
from eo_drr.jobs import inputs
from eo_drr.jobs.progress import Steps
from eo_drr.load import load_s1
from eo_drr.load.grid import crs_wkt
from eo_drr.products import frequency as fq
from eo_drr.products.water import s1_water
from eo_drr.publish import OutputFolder, write_cog
from eo_drr.publish.series_outputs import SeriesReport, write_series_report

log = logging.getLogger(__name__)

OUTPUTS = {
    "cube": "water_series.zarr",
    "frequency": "water_frequency.tif",
    "observations": "water_observations.tif",
    "classes": "water_classes.tif",
    "report": "report.html",
}
#: why the series job refuses tiling (module docstring)
NOT_TILED = (
    "tiling: the water series runs whole, not tiled (remove the tiling: section and "
    "--tile-size): its Zarr time cube is one per job, appended one date at a time under one "
    "commit point, and single-date water thresholds each scene whole; its memory is one date "
    "of the grid, whatever the number of dates"
)
#: the cube's variable attributes (CF flags)
WATER_ATTRS = {
    "long_name": "open water (products.water.s1_water)",
    "flag_values": [0, 1, 255],
    "flag_meanings": "not_water water no_data",
    "nodata": 255,
}


@dataclass(frozen=True)
class Acquisition:
    """The items of one relative orbit on one UTC day: one time step of the cube."""

    time: dt.datetime
    items: tuple[pystac.Item, ...]


@dataclass
class WaterSeriesPlan:
    """Everything the run will use, resolved before anything is computed (``--dry-run``)."""

    catalog: str
    aoi: Geometry
    geobox: GeoBox
    acquisitions: list[Acquisition]
    relative_orbit: int | None
    outputs: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[tuple[str, str]]:
        g = self.geobox
        rows = [
            ("catalogue", self.catalog),
            ("grid", f"{g.crs} {abs(g.resolution.x):g} m, {g.shape.x} x {g.shape.y} px"),
            ("relative orbit", str(self.relative_orbit)),
        ]
        rows += [
            ("S1", f"{', '.join(it.id for it in a.items)} ({a.time:%Y-%m-%d})")
            for a in self.acquisitions
        ]
        rows += [("output", p) for p in self.outputs.values()]
        return rows


def group_by_orbit(items: list[pystac.Item], relative_orbit: int | None) -> list[Acquisition]:
    """One :class:`Acquisition` per UTC day of one relative orbit, in time order. Items of
    several orbits are refused unless ``relative_orbit`` picks one: a frequency from mixed
    viewing geometries mixes their shadows, layover and noise."""
    orbit_of = {it.id: it.properties.get("sat:relative_orbit") for it in items}
    orbits = sorted(set(orbit_of.values()), key=lambda o: (str(type(o)), str(o).zfill(6)))
    if relative_orbit is None and len(orbits) > 1:
        counts = ", ".join(
            f"{o} ({sum(v == o for v in orbit_of.values())} item(s))" for o in orbits
        )
        raise InputError(
            f"time.post: the Sentinel-1 series mixes relative orbits {counts}: set "
            "sources.s1.relative_orbit to one of them (one job per orbit)"
        )
    ordered = sorted(items, key=item_datetime)
    return [
        Acquisition(item_datetime(group[0]), tuple(group))
        for _, grp in itertools.groupby(ordered, key=lambda it: item_datetime(it).date())
        for group in [list(grp)]
    ]


def plan(cfg: JobConfig) -> WaterSeriesPlan:
    """Search the catalogue and resolve the grid; computes and writes nothing."""
    s1 = required(cfg.sources.s1, "sources.s1", "the water series maps Sentinel-1")
    if cfg.tiling is not None:
        raise ConfigError(NOT_TILED)
    if cfg.time.pre is not None:
        raise ConfigError("time.pre: the water series reads time.post only (its date range)")
    if "cog" not in cfg.outputs.formats:
        raise ConfigError("outputs.formats: the water series writes COGs (add cog)")
    if not any(b.lower() == "vv" for b in s1.bands):
        raise ConfigError(f"sources.s1.bands: the water series needs vv (got {s1.bands})")
    catalog = inputs.job_catalog(cfg)
    aoi = inputs.aoi_geometry(cfg)
    items = inputs.search_window(
        catalog,
        s1.collection,
        aoi,
        cfg.time.post,
        "time.post",
        orbit_direction=s1.orbit_direction,
        relative_orbit=s1.relative_orbit,
    )
    acquisitions = group_by_orbit(items, s1.relative_orbit)
    orbit = s1.relative_orbit or items[0].properties.get("sat:relative_orbit")
    geobox = inputs.job_geobox(cfg, aoi, items)
    return WaterSeriesPlan(catalog.name, aoi, geobox, acquisitions, orbit, dict(OUTPUTS))


def map_acquisition(cfg: JobConfig, p: WaterSeriesPlan, acq: Acquisition) -> np.ndarray:
    """Single-date water (uint8 1/0/255, :func:`~eo_drr.products.water.s1_water`) of one
    acquisition on the plan's grid."""
    s1 = required(cfg.sources.s1, "sources.s1")
    bands = [b for b in s1.bands if b.lower() in ("vv", "vh")]
    ds = load_s1(
        list(acq.items), bands, p.geobox, stored_units=s1.units, chunks=cfg.grid.chunks
    ).isel(time=0)
    vv = next(b for b in bands if b.lower() == "vv")
    vh = next((b for b in bands if b.lower() == "vh"), None)
    return s1_water(ds[vv].values, ds[vh].values if vh else None, units="linear").water


def _to_map(
    cfg: JobConfig, p: WaterSeriesPlan, cube_path: Path
) -> tuple[set[np.datetime64], list[Acquisition]]:
    """(dates already in the cube at ``cube_path``, acquisitions still to map); the cube is
    refused when its grid or orbit differ from the job's, the series when under two dates."""
    done: set[np.datetime64] = set()
    cube = zarr_cube.open_cube(cube_path)
    if cube is not None:
        shape = (p.geobox.shape.y, p.geobox.shape.x)
        zarr_cube.check_grid(
            cube, cube_path, crs=crs_wkt(p.geobox), transform=p.geobox.transform, shape=shape
        )
        if cube.attrs.get("relative_orbit") != p.relative_orbit:
            raise InputError(
                f"{cube_path}: the cube holds relative orbit {cube.attrs.get('relative_orbit')}, "
                f"the job {p.relative_orbit}: use another output folder"
            )
        done = {np.datetime64(t, "s") for t in cube["time"].values}
    new = [a for a in p.acquisitions if cube_time(a.time) not in done]
    fq.require_series(len(done) + len(new), f"time.post {cfg.time.post.start}..{cfg.time.post.end}")
    return done, new


def check(cfg: JobConfig, p: WaterSeriesPlan, out: OutputFolder) -> None:
    """The run's checks without the computation (``--dry-run``): an existing cube of the
    output folder matches the job's grid and orbit, and the series has two dates or more."""
    _to_map(cfg, p, out.final(p.outputs["cube"]))


def pending(cfg: JobConfig, root: Path) -> tuple[list[Acquisition], dt.datetime | None]:
    """For ``eo-drr monitor``: the acquisitions of ``cfg`` that the cube in the output folder
    ``root`` lacks (oldest first), and the newest date the cube holds (None: no cube yet).
    The same checks as :func:`check`; computes and writes nothing."""
    p = plan(cfg)
    done, new = _to_map(cfg, p, root / p.outputs["cube"])
    newest = max(done).astype(dt.datetime).replace(tzinfo=dt.timezone.utc) if done else None
    return new, newest


def run(cfg: JobConfig, p: WaterSeriesPlan, out: OutputFolder, steps: Steps | None = None) -> dict:
    """Map the acquisitions the cube lacks, append them, write the frequency layers into
    ``out`` (staged; the caller commits). Returns the run summary."""
    steps = steps or Steps()
    cube_path = out.final(p.outputs["cube"])
    crs = crs_wkt(p.geobox)
    attrs = {"relative_orbit": p.relative_orbit, "job": cfg.name}
    done, new = _to_map(cfg, p, cube_path)
    for i, acq in enumerate(new, start=1):
        with steps.step(f"Water {acq.time:%Y-%m-%d} ({i} of {len(new)} new) -> {cube_path.name}"):
            water = map_acquisition(cfg, p, acq)
            zarr_cube.append_slices(
                cube_path,
                water[None],
                [cube_time(acq.time)],
                crs=crs,
                transform=p.geobox.transform,
                attrs=attrs,
                var_attrs=WATER_ATTRS,
            )
    with steps.step("Water frequency and classes (JRC Global Surface Water style)"):
        cube = zarr_cube.open_cube(cube_path)
        assert cube is not None  # written above or before
        params = fq.FrequencyParams()
        times = cube["time"].values
        n = zarr_cube.counts(cube)  # kept by the appends: no date is read again
        res = fq.from_counts(n["water_count"], n["valid_count"], params)
    with steps.step("Writing rasters (Cloud-Optimized GeoTIFF)"):
        _write(out, p, crs, res, len(times))
    px_ha = abs(p.geobox.resolution.x * p.geobox.resolution.y) / 1e4
    with steps.step("Writing the HTML report"):
        dates = [f"{t:%Y-%m-%d}" for t in times.astype("datetime64[s]").astype(dt.datetime)]
        items = [it for a in p.acquisitions for it in a.items]
        report = SeriesReport(cfg.name, items, res, p.geobox, dates, p.relative_orbit, params)
        write_series_report(out.path(p.outputs["report"]), report)
    return {
        "dates": len(times),
        "new_dates": [f"{a.time:%Y-%m-%d}" for a in new],
        "relative_orbit": p.relative_orbit,
        "class_ha": {
            name: float((res.classes == code).sum() * px_ha)
            for code, name in fq.CLASS_NAMES.items()
        },
        "event_date": f"{p.acquisitions[-1].time:%Y-%m-%d}",
        "outputs": {k: str(out.final(v)) for k, v in p.outputs.items()},
    }


def cube_time(t: dt.datetime) -> np.datetime64:
    """An acquisition time as the cube stores it (UTC, whole seconds)."""
    return np.datetime64(t.astimezone(dt.timezone.utc).replace(tzinfo=None), "s")


def _write(
    out: OutputFolder, p: WaterSeriesPlan, crs: str, res: fq.FrequencyResult, n_dates: int
) -> None:
    tf = p.geobox.transform
    write_cog(
        res.frequency,
        out.path(p.outputs["frequency"]),
        nodata=float("nan"),
        style=CogStyle(
            band_descriptions=["water_frequency"],
            overview_resampling="average",
            tags={"units": "water observations / valid observations (0-1)", "dates": n_dates},
        ),
        crs=crs,
        transform=tf,
    )
    write_cog(
        res.observations,
        out.path(p.outputs["observations"]),
        style=CogStyle(
            band_descriptions=["valid_observations"], tags={"units": "count", "dates": n_dates}
        ),
        crs=crs,
        transform=tf,
    )
    write_cog(
        res.classes,
        out.path(p.outputs["classes"]),
        nodata=fq.NODATA,
        style=CogStyle(
            band_descriptions=["water_classes"],
            colormap=fq.CLASS_COLORS,
            tags={"classes": fq.CLASS_NAMES, "cut_offs": "products.frequency.FrequencyParams"},
        ),
        crs=crs,
        transform=tf,
    )
