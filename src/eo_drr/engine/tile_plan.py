"""Planning one tile of a tiled job and fingerprinting what shapes its result.

A tile's job file is the job's, with the tile's search box as ``aoi.bbox`` and the job's CRS
as ``grid.crs`` (:func:`tile_config`); its plan is the pipeline's plan of that job file, on
exactly the tile's part of the job grid (:func:`plan_tile`). :func:`config_hash` and
:func:`plan_inputs` are what :mod:`eo_drr.engine.tiled` fingerprints a tile by.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any

import pystac

from eo_drr.config import AOI, JobConfig
from eo_drr.errors import EODRRError
from eo_drr.i18n import gettext as _
from eo_drr.jobs.tiling import Tile
from eo_drr.pipelines import Pipeline


def config_hash(cfg: JobConfig) -> str:
    """Hash of the settings that shape a tile's result: everything but where the job runs
    (``cluster``), where it writes (``outputs.dir``), how it is tiled and retried, the AOI
    (each tile's bounds are fingerprinted instead) and the time windows (the items they
    resolve to are fingerprinted instead), and the description."""
    data = json.loads(cfg.model_dump_json())
    for key in ("cluster", "tiling", "aoi", "time", "description"):
        data.pop(key, None)
    data.get("outputs", {}).pop("dir", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def plan_inputs(plan: Any) -> list[str]:
    """``role:item id`` of every STAC item a plan reads, and ``role:path@size:mtime`` of its
    input files (admin units), sorted."""
    found: list[str] = []

    def visit(role: str, value: Any) -> None:
        if isinstance(value, pystac.Item):
            found.append(f"{role}:{value.id}")
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):  # the items of a group (a series' acquisition)
                visit(role, getattr(value, f.name))
        elif isinstance(value, (list, tuple)):
            for v in value:
                visit(role, v)
        elif isinstance(value, dict):
            for k, v in value.items():
                visit(f"{role}.{k}", v)
        elif isinstance(value, str) and role.endswith("_path") and os.path.isfile(value):
            st = os.stat(value)
            found.append(f"{role}:{value}@{st.st_size}:{st.st_mtime_ns}")

    for f in dataclasses.fields(plan):
        visit(f.name, getattr(plan, f.name))
    return sorted(found)


def tile_config(cfg: JobConfig, tile: Tile) -> JobConfig:
    """The job file of one tile: the tile's search box as the AOI, the job's CRS as the grid."""
    crs = tile.geobox.crs
    if crs is None:
        raise EODRRError(_("tile {tile}: its grid has no CRS").format(tile=tile.id))
    epsg = crs.epsg
    grid = cfg.grid.model_copy(update={"crs": f"EPSG:{epsg}" if epsg else crs.to_wkt()})
    return cfg.model_copy(
        update={"aoi": AOI(bbox=tile.search_bbox()), "grid": grid, "tiling": None}
    )


def plan_tile(
    pipeline: Pipeline, cfg: JobConfig, tile: Tile, job_geobox: Any = None, whole: Any = None
) -> tuple[JobConfig, Any]:
    """``(tile job config, plan)``: the pipeline's plan for the tile, on exactly its grid
    (and, for pipelines whose plans have a ``job_geobox``, told the whole job's grid).

    A pipeline with ``TILES_SHARE_JOB_PLAN`` (the water series) is not planned again per
    tile: each tile takes the ``whole`` job's plan (its items, searched once), so that every
    tile maps the same dates, also where an item covers only part of the job."""
    tcfg = tile_config(cfg, tile)
    shared = whole is not None and getattr(pipeline, "TILES_SHARE_JOB_PLAN", False)
    plan = whole if shared else pipeline.plan(tcfg)
    # a new plan on the tile's grid; the pipeline's own plan is not changed
    grid: dict[str, Any] = {"geobox": tile.geobox, "aoi": tile.footprint()}
    if job_geobox is not None and "job_geobox" in {f.name for f in dataclasses.fields(plan)}:
        grid["job_geobox"] = job_geobox
    return tcfg, dataclasses.replace(plan, **grid)
