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

Tiled (``tiling:``, ``--tile-size``; run by :mod:`eo_drr.engine.tiled` like every
pipeline): each tile keeps its own cube, ``tiles/<tile id>/water_series.zarr``, with its own
commit point and counts, appended one date at a time, and writes its own frequency layers;
the job's ``water_frequency.tif``, ``water_observations.tif`` and ``water_classes.tif`` are
the mosaics of the tiles' and :func:`finalize` writes the report over them. Every tile maps
the job's acquisitions (``TILES_SHARE_JOB_PLAN``: one catalogue search), so the tiles' cubes
hold the same dates (a date that misses a tile is all no data there), and new acquisitions
change every tile's fingerprint: a rerun or ``eo-drr monitor`` reruns each tile, which
appends only the dates its cube lacks. The cube is written beside the tile's staged files,
not staged, so a tile rerun keeps it. :func:`open_series` reads the tiles' cubes as one lazy
cube (:func:`eo_drr.io.cube_tiles.open_tiles`, which refuses tiles at different dates).
Single-date water thresholds each tile on its own (the scene threshold and region growing of
:mod:`eo_drr.products.water`, as the tiled flood job): a tile mostly of one class may find
another threshold than the whole scene, which moves the water edge of some pixels on some
dates (``tests/test_series_tiled.py`` bounds it on the demo). Memory per worker is one date
of one tile, whatever the number of dates and tiles
(``benchmarks/series_tiled.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.catalog import item_datetime
from eo_drr.config import JobConfig, required
from eo_drr.errors import ConfigError, InputError
from eo_drr.i18n import gettext as _
from eo_drr.io import cube_tiles, zarr_cube
from eo_drr.jobs import inputs, series_tiles
from eo_drr.jobs.ledger import JobLock
from eo_drr.jobs.progress import Steps
from eo_drr.jobs.series_tiles import series_cubes
from eo_drr.load import load_s1
from eo_drr.load.grid import crs_wkt
from eo_drr.products import frequency as fq
from eo_drr.products.water import s1_water
from eo_drr.publish import OutputFolder
from eo_drr.publish.series_outputs import (
    SeriesReport,
    class_areas,
    read_mosaics,
    write_series_rasters,
    write_series_report,
)

log = logging.getLogger(__name__)

OUTPUTS = {
    "cube": "water_series.zarr",
    "frequency": "water_frequency.tif",
    "observations": "water_observations.tif",
    "classes": "water_classes.tif",
    "report": "report.html",
}
#: every tile takes the job's plan (:func:`eo_drr.engine.tile_plan.plan_tile`): the same
#: acquisitions, so the same dates in every tile's cube
TILES_SHARE_JOB_PLAN = True
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
    #: the whole job's grid when this plan is one tile of a tiled job (else None)
    job_geobox: GeoBox | None = None

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
            _("{orbit} ({n} item(s))").format(orbit=o, n=sum(v == o for v in orbit_of.values()))
            for o in orbits
        )
        raise InputError(
            _(
                "time.post: the Sentinel-1 series mixes relative orbits {counts}: set "
                "sources.s1.relative_orbit to one of them (one job per orbit)"
            ).format(counts=counts)
        )
    ordered = sorted(items, key=item_datetime)
    return [
        Acquisition(item_datetime(group[0]), tuple(group))
        for _day, grp in itertools.groupby(ordered, key=lambda it: item_datetime(it).date())
        for group in [list(grp)]
    ]


def plan(cfg: JobConfig) -> WaterSeriesPlan:
    """Search the catalogue and resolve the grid; computes and writes nothing."""
    s1 = required(cfg.sources.s1, "sources.s1", "the water series maps Sentinel-1")
    if cfg.time.pre is not None:
        raise ConfigError(_("time.pre: the water series reads time.post only (its date range)"))
    if "cog" not in cfg.outputs.formats:
        raise ConfigError(_("outputs.formats: the water series writes COGs (add cog)"))
    if not any(b.lower() == "vv" for b in s1.bands):
        raise ConfigError(
            _("sources.s1.bands: the water series needs vv (got {bands})").format(bands=s1.bands)
        )
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
    acquisition on the plan's grid. In a tile (``p.job_geobox`` set) that the acquisition
    does not cover, all no data (255)."""
    s1 = required(cfg.sources.s1, "sources.s1")
    bands = [b for b in s1.bands if b.lower() in ("vv", "vh")]
    ds = load_s1(
        list(acq.items), bands, p.geobox, stored_units=s1.units, chunks=cfg.grid.chunks
    ).isel(time=0)
    vv = next(b for b in bands if b.lower() == "vv")
    vh = next((b for b in bands if b.lower() == "vh"), None)
    vv_values = ds[vv].values
    if p.job_geobox is not None and not np.isfinite(vv_values).any():
        return np.full(vv_values.shape, fq.NODATA, dtype=np.uint8)
    return s1_water(vv_values, ds[vh].values if vh else None, units="linear").water


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
                _(
                    "{path}: the cube holds relative orbit {cube_orbit}, the job {orbit}: use "
                    "another output folder"
                ).format(
                    path=cube_path,
                    cube_orbit=cube.attrs.get("relative_orbit"),
                    orbit=p.relative_orbit,
                )
            )
        done = {np.datetime64(t, "s") for t in cube["time"].values}
    new = [a for a in p.acquisitions if zarr_cube.cube_time(a.time) not in done]
    fq.require_series(len(done) + len(new), f"time.post {cfg.time.post.start}..{cfg.time.post.end}")
    return done, new


def _cubes(cfg: JobConfig, p: WaterSeriesPlan, root: Path) -> list[tuple[WaterSeriesPlan, Path]]:
    """The job's cube(s) in the output folder ``root``, each with the plan of its part
    (:func:`~eo_drr.jobs.series_tiles.series_cubes`: one, or one per tile of a tiled job)."""
    size = cfg.tiling.tile_size_px if cfg.tiling is not None else None
    return [
        (
            p
            if t is None
            else dataclasses.replace(p, geobox=t.geobox, aoi=t.footprint(), job_geobox=p.geobox),
            path,
        )
        for t, path in series_cubes(root, p.outputs["cube"], size, p.geobox, p.aoi)
    ]


def check_folder(cfg: JobConfig, p: WaterSeriesPlan, root: Path) -> None:
    """The existing cube(s) of the output folder ``root`` match the job's grid, orbit and
    tiling, and the series has two dates or more (:mod:`eo_drr.engine.tiled` calls it before
    any tile runs)."""
    for part, cube in _cubes(cfg, p, root):
        _to_map(cfg, part, cube)


def check(cfg: JobConfig, p: WaterSeriesPlan, out: OutputFolder) -> None:
    """The run's checks without the computation (``--dry-run``): :func:`check_folder`."""
    check_folder(cfg, p, out.root)


def pending(cfg: JobConfig, root: Path) -> tuple[list[Acquisition], dt.datetime | None]:
    """For ``eo-drr monitor``: the acquisitions of ``cfg`` that the cube in the output folder
    ``root`` lacks (a tiled job: that any tile's cube lacks), oldest first, and the newest
    date the cube (every tile) holds (None: none yet). The same checks as :func:`check`;
    computes and writes nothing."""
    p = plan(cfg)
    held = [_to_map(cfg, part, cube)[0] for part, cube in _cubes(cfg, p, root)]
    done = set.intersection(*held) if held else set()
    new = [a for a in p.acquisitions if zarr_cube.cube_time(a.time) not in done]
    newest = max(done).astype(dt.datetime).replace(tzinfo=dt.timezone.utc) if done else None
    return new, newest


def run(cfg: JobConfig, p: WaterSeriesPlan, out: OutputFolder, steps: Steps | None = None) -> dict:
    """Map the acquisitions the cube lacks, append them, write the frequency layers into
    ``out`` (staged; the caller commits). Returns the run summary. In a tile of a tiled job
    (``p.job_geobox`` set), the cube is the tile's, locked for the run (a task a cluster runs
    twice at once never appends twice), and :func:`finalize` writes the report."""
    steps = steps or Steps()
    in_tile = p.job_geobox is not None
    cube_path = out.final(p.outputs["cube"])
    crs = crs_wkt(p.geobox)
    attrs = {"relative_orbit": p.relative_orbit, "job": cfg.name}
    if not in_tile:  # (a tiled job's folder: check_folder, called by engine.tiled)
        _cubes(cfg, p, out.root)  # a folder of a tiled series is refused
    with JobLock(out.root, remove=True) if in_tile else contextlib.nullcontext():
        done, new = _to_map(cfg, p, cube_path)
        for i, acq in enumerate(new, start=1):
            with steps.step(
                "Water {date} ({i} of {n} new) -> {cube}",
                date=f"{acq.time:%Y-%m-%d}",
                i=i,
                n=len(new),
                cube=cube_path.name,
            ):
                water = map_acquisition(cfg, p, acq)
                zarr_cube.append_slices(
                    cube_path,
                    water[None],
                    [zarr_cube.cube_time(acq.time)],
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
        write_series_rasters(out, p.outputs, (crs, p.geobox.transform), res, len(times))
    px_ha = abs(p.geobox.resolution.x * p.geobox.resolution.y) / 1e4
    dates = [f"{t:%Y-%m-%d}" for t in times.astype("datetime64[s]").astype(dt.datetime)]
    if not in_tile:
        with steps.step("Writing the HTML report"):
            items = [it for a in p.acquisitions for it in a.items]
            report = SeriesReport(cfg.name, items, res, p.geobox, dates, p.relative_orbit, params)
            write_series_report(out.path(p.outputs["report"]), report)
    outputs = {k: v for k, v in p.outputs.items() if not (in_tile and k == "report")}
    return {
        "dates": len(times),
        "new_dates": [f"{a.time:%Y-%m-%d}" for a in new],
        "relative_orbit": p.relative_orbit,
        "class_ha": {
            name: float((res.classes == code).sum() * px_ha)
            for code, name in fq.CLASS_NAMES.items()
        },
        "event_date": f"{p.acquisitions[-1].time:%Y-%m-%d}",
        "outputs": {k: str(out.final(v)) for k, v in outputs.items()},
    }


#: the mosaics :func:`finalize` reads (output keys): the others are written while it runs
FINALIZE_READS = ("frequency", "observations", "classes")


def finalize(
    cfg: JobConfig, p: WaterSeriesPlan, tile_outputs: dict[str, dict[str, Path]], out: OutputFolder
) -> set[str]:
    """After a tiled job's mosaics (:mod:`eo_drr.engine.tiled`): the report over the mosaics
    (:func:`~eo_drr.publish.series_outputs.read_mosaics`; the class areas counted on the
    full classes mosaic, block by block), with the dates of the tiles' cubes, which must
    agree (:func:`~eo_drr.io.cube_tiles.open_tiles`). Returns the output names it wrote."""
    folders = {tile: path.parent for tile, path in sorted(tile_outputs["frequency"].items())}
    cube = cube_tiles.open_tiles({t: f / p.outputs["cube"] for t, f in folders.items()})
    times = cube["time"].values.astype("datetime64[s]").astype(dt.datetime)
    res, geobox = read_mosaics(
        *(out.path(p.outputs[k]) for k in ("frequency", "observations", "classes"))
    )
    items = [it for a in p.acquisitions for it in a.items]
    report = SeriesReport(
        cfg.name,
        items,
        res,
        geobox,
        [f"{t:%Y-%m-%d}" for t in times],
        p.relative_orbit,
        fq.FrequencyParams(),
        class_ha=class_areas(out.path(p.outputs["classes"])),
    )
    write_series_report(out.path(p.outputs["report"]), report)
    return {p.outputs["report"]}


def open_series(root: str | Path) -> xr.Dataset:
    """The whole series of the output folder ``root`` as one lazy cube, tiled or not
    (:func:`eo_drr.jobs.series_tiles.open_series`)."""
    return series_tiles.open_series(root, OUTPUTS["cube"])
