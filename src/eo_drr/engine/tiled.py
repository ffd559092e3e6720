"""Any pipeline, tile by tile: resumable, incremental, on any dask cluster.

    plan the whole job (grid) -> cut it into tiles (eo_drr.jobs.tiling) -> plan each tile
    (its own catalogue search) -> fingerprint (settings + item ids) -> skip tiles the ledger
    has done and whose outputs verify -> run the rest, one task per tile (locally, or on
    dask.distributed workers; GPU workers via resources={"GPU": 1}) -> each tile commits its
    outputs atomically into tiles/<tile id>/ -> ledger: done + checksums -> mosaics (COG) and
    concatenated tables in the output folder

Each tile runs the pipeline's own ``run`` on its own plan: the pipeline's ``plan`` is called
with the tile's search box as ``aoi.bbox`` and the job's CRS as ``grid.crs``, then the plan's
grid is set to exactly the tile's part of the job grid. Peak memory is therefore that of one
tile, whatever the size of the AOI (:mod:`eo_drr.engine.tile_plan` plans and fingerprints a
tile, :mod:`eo_drr.engine.tile_worker` runs one). A pipeline with ``TILES_SHARE_JOB_PLAN``
(the water series) gives every tile the job's plan instead, so that all tiles map the same
acquisitions; one with ``check_folder(cfg, plan, root)`` checks what it keeps in the output
folder (the series' cubes) before any tile runs. Callers hold
:class:`eo_drr.jobs.ledger.JobLock` on the output folder while this runs.

Tables: a pipeline with a ``finalize`` step (flood) combines its tiles' per-unit tables into
one row per unit (observed quantities summed over tiles, population cells cut by tile
borders shared between them, see :func:`eo_drr.sendai.indicators.combine_tile_tables`) and
writes the SFM table and the report over the mosaics (the water series: its report, with
the dates of the tiles' cubes); other pipelines' tables are concatenated with a ``tile``
column (one row per unit and tile).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask

from eo_drr.catalog import reuse_parsed_catalogs
from eo_drr.config import JobConfig, TilingConfig
from eo_drr.engine.manifest import refuse_output_over_inputs
from eo_drr.engine.mosaic import Finalizer, assemble
from eo_drr.engine.tile_plan import config_hash, plan_inputs, plan_tile
from eo_drr.engine.tile_worker import run_tile
from eo_drr.errors import EODRRError
from eo_drr.i18n import gettext as _
from eo_drr.jobs.cluster import ComputeTarget, open_cluster
from eo_drr.jobs.gpu import GPU, require_gpu_workers
from eo_drr.jobs.ledger import JobLedger, OutputRecord
from eo_drr.jobs.tiling import Tile, tile_grid
from eo_drr.pipelines import Pipeline, get_pipeline
from eo_drr.publish import OutputFolder

log = logging.getLogger(__name__)

#: version of what a tile writes (part of every tile's fingerprint): 2 = tables shared by the
#: job grid, no per-tile report
TILE_FORMAT = 2


class TileFailures(EODRRError):
    """Some tiles failed; the others finished and are recorded in the ledger."""


# -- the job --------------------------------------------------------------------------------
@dataclasses.dataclass
class _Todo:
    tile: Tile
    tcfg: JobConfig
    plan: object
    fp: str


@dataclasses.dataclass(frozen=True)
class _Job:
    """What :func:`run_tiled` runs: the job, its output folder, its pipeline, its tiling, and
    when it started (:func:`time.perf_counter` seconds)."""

    cfg: JobConfig
    root: Path
    pipeline: Pipeline
    tiling: TilingConfig
    t0: float


Event = Callable[[str, str, str], None]


def run_tiled(
    cfg: JobConfig,
    root: str | Path,
    *,
    tile_size_px: int | None = None,
    retry_failed: bool = False,
    out: OutputFolder | None = None,
    on_event: Event | None = None,
    on_cluster: Callable[[ComputeTarget], None] | None = None,
) -> dict:
    """Run ``cfg`` tile by tile into ``root`` and, when every tile is done and
    ``tiling.mosaic`` is on, assemble mosaics and tables into ``out`` (an opened
    :class:`OutputFolder` of ``root``; the caller commits it). Returns a summary. Raises
    :class:`TileFailures` (after all other tiles finished) when a tile failed."""
    emit = on_event or (lambda kind, tile, detail: log.info("%s %s %s", kind, tile, detail))
    tiling = cfg.tiling or TilingConfig()
    if tile_size_px is not None:
        tiling = tiling.model_copy(update={"tile_size_px": tile_size_px})
    job = _Job(cfg, Path(root), get_pipeline(cfg.pipeline), tiling, time.perf_counter())
    with reuse_parsed_catalogs():
        return _run_tiled(job, retry_failed, out, emit, on_cluster)


def _run_tiled(
    job: _Job,
    retry_failed: bool,
    out: OutputFolder | None,
    emit: Event,
    on_cluster: Callable[[ComputeTarget], None] | None,
) -> dict:
    cfg, root, pipeline, tiling, t0 = job.cfg, job.root, job.pipeline, job.tiling, job.t0
    whole = pipeline.plan(cfg)
    refuse_output_over_inputs(cfg, whole, root)
    check_folder = getattr(pipeline, "check_folder", None)  # what it keeps there (a series)
    if check_folder is not None:
        check_folder(cfg, whole, root)
    tiles = tile_grid(whole.geobox, tiling.tile_size_px, whole.aoi)
    chash = config_hash(cfg)
    ledger = JobLedger(root)
    ledger.register_job(
        cfg.name,
        cfg.pipeline,
        chash,
        tiling.tile_size_px,
        str(whole.geobox.crs),
        config=cfg.model_dump_json(),
        base_dir=str(Path(cfg.base_dir).resolve()),
    )
    run_id = ledger.start_run(cfg.name)
    if retry_failed:
        ledger.reset_attempts(cfg.name)
    emit("plan", "", f"{len(tiles)} tiles of {tiling.tile_size_px} px on {whole.geobox.crs}")

    from eo_drr.jobs.ledger import fingerprint

    g = whole.geobox
    job_grid_id = f"{g.crs.to_wkt()}|{tuple(g.shape)}|{tuple(round(v, 6) for v in g.transform[:6])}"
    todo: list[_Todo] = []
    skipped: list[str] = []
    failed: dict[str, str] = {}
    current: dict[str, str] = {}
    for tile in tiles:
        try:
            tcfg, plan = plan_tile(pipeline, cfg, tile, whole.geobox, whole)
            inputs = plan_inputs(plan)
            plan_error = None
        except EODRRError as exc:
            tcfg, plan, inputs, plan_error = None, None, [], f"{type(exc).__name__}: {exc}"
        # the job grid shapes a tile's tables (population cells shared across tile borders);
        # TILE_FORMAT changes when what a tile writes changes
        fp = fingerprint(
            chash,
            tile.id,
            tile.bounds,
            [*inputs, f"tile-format:{TILE_FORMAT}", f"job-grid:{job_grid_id}"],
        )
        current[tile.id] = fp
        row = ledger.register_tile(cfg.name, tile.id, fp, tile.bounds, inputs)
        if plan_error is not None:
            ledger.mark_failed(cfg.name, tile.id, fp, plan_error, count_attempt=True)
            failed[tile.id] = plan_error
            emit("failed", tile.id, plan_error)
            continue
        ok, why = ledger.verified_done(cfg.name, tile.id, fp)
        if ok:
            skipped.append(tile.id)
            emit("skip", tile.id, "done, outputs verified")
            continue
        if row["status"] == "failed" and row["attempts"] >= tiling.max_attempts:
            failed[tile.id] = _("{error} (gave up after {n} attempts; --retry-failed)").format(
                error=row["error"], n=row["attempts"]
            )
            emit("failed", tile.id, failed[tile.id])
            continue
        if row["status"] == "done":
            emit("rerun", tile.id, why)
        assert tcfg is not None  # planned (plan_error is None)
        todo.append(_Todo(tile, tcfg, plan, fp))

    ran: list[str] = []
    worker_rss: dict[str, float] = {}

    def finish(t: _Todo, res: dict) -> None:
        if res.get("ok"):
            recs = [OutputRecord(*r) for r in res["outputs"]]
            ledger.mark_done(
                cfg.name,
                t.tile.id,
                t.fp,
                recs,
                seconds=res["seconds"],
                peak_rss_mb=res["peak_rss_mb"],
                worker=res["worker"],
            )
            worker_rss[res["worker"]] = max(worker_rss.get(res["worker"], 0.0), res["peak_rss_mb"])
            ran.append(t.tile.id)
            emit("done", t.tile.id, f"{res['seconds']:.1f} s on {res['worker']}")
        else:
            ledger.mark_failed(
                cfg.name,
                t.tile.id,
                t.fp,
                res["error"],
                seconds=res.get("seconds"),
                worker=res.get("worker"),
            )
            failed[t.tile.id] = res["error"]
            emit("failed", t.tile.id, res["error"])

    compute = "nothing to compute"
    if todo:
        with open_cluster(cfg.cluster, base_dir=cfg.base_dir) as target:
            compute = target.description
            if on_cluster is not None:
                on_cluster(target)
            if target.distributed:
                _run_distributed(cfg, target, todo, str(root), ledger, finish)
            else:
                for t in todo:
                    ledger.mark_running(
                        cfg.name, t.tile.id, t.fp, worker=f"{socket.gethostname()}:{os.getpid()}"
                    )
                    emit("start", t.tile.id, "")
                    finish(t, run_tile(cfg.pipeline, t.tcfg, t.plan, str(root), t.tile.id))

    summary: dict[str, Any] = {
        "tiles": len(tiles),
        "tile_size_px": tiling.tile_size_px,
        "crs": str(whole.geobox.crs),
        "ran": sorted(ran),
        "skipped": sorted(skipped),
        "failed": failed,
        "compute": compute,
        "peak_rss_mb_per_worker": {k: round(v, 1) for k, v in worker_rss.items()},
        "tile_fingerprints": current,
    }
    if failed:
        ledger.finish_run(run_id, "failed", len(ran), len(skipped), len(failed))
        lines = [
            _(
                "{n} of {total} tiles failed (the other tiles are done and recorded in {ledger}; "
                "run again to retry, `eo-drr status {root}` shows the ledger):"
            ).format(n=len(failed), total=len(tiles), ledger=ledger.path, root=root)
        ]
        lines += [
            f"{tid}: {err.splitlines()[0] if err else ''}" for tid, err in sorted(failed.items())
        ]
        message = "\n".join(lines)
        raise TileFailures(message)
    # the mosaics, tables and catalogue of exactly these tiles and settings
    summary["job_fingerprint"] = hashlib.sha256(
        json.dumps({"config": chash, "tiles": current}, sort_keys=True).encode()
    ).hexdigest()[:32]
    if tiling.mosaic and out is not None:
        if not ran and outputs_up_to_date(root, summary["job_fingerprint"]):
            summary["up_to_date"] = True  # a rerun with nothing new: no mosaic is rebuilt
            emit("plan", "", "nothing changed since the last run: the outputs are up to date")
        else:
            # the assembly reads this process's files: it computes here, on local threads,
            # whatever dask client is current (a notebook's, a benchmark's), so that no
            # job-wide raster travels to a cluster's workers and back
            with dask.config.set(scheduler="threads"):
                summary["outputs"] = assemble(
                    root,
                    [t.id for t in tiles],
                    whole.geobox,
                    {t.id: current[t.id] for t in tiles},
                    ledger,
                    cfg.name,
                    out,
                    finalize=_finalizer(pipeline, cfg, whole),
                )
    ledger.finish_run(run_id, "done", len(ran), len(skipped), 0)
    summary["seconds_tiles"] = round(time.perf_counter() - t0, 2)
    summary["event_date"] = cfg.time.post.start.isoformat()
    return summary


def outputs_up_to_date(root: Path, job_fingerprint: str) -> bool:
    """True when ``root`` holds the assembled outputs of exactly this job state: its
    ``run.json`` records ``job_fingerprint`` and every asset of its output catalogue
    (``outputs.item.json``) is there with its recorded size. Checksums are not recomputed
    here (the tiles' are, by the ledger): a mosaic changed in place at the same size is not
    noticed; delete it, or the folder's ``run.json``, to have the outputs assembled again."""
    try:
        manifest = json.loads((root / "run.json").read_text())
        item = json.loads((root / "outputs.item.json").read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("summary", {}).get("job_fingerprint") != job_fingerprint:
        return False
    for asset in item.get("assets", {}).values():
        path = (root / asset.get("href", "")).resolve()
        size = asset.get("file:size")
        if not path.is_file() or (size is not None and path.stat().st_size != size):
            return False
    return bool(item.get("assets"))


def _run_distributed(
    cfg: JobConfig,
    target: ComputeTarget,
    todo: list[_Todo],
    root: str,
    ledger: JobLedger,
    finish: Callable[[_Todo, dict], None],
) -> None:
    """One task per tile; GPU tiles ask for ``resources={"GPU": 1}`` at submit time."""
    from distributed import as_completed

    client = target.client
    resources = None
    if cfg.cluster.use_gpu:
        require_gpu_workers(client)
        resources = GPU
    futures = {}
    for t in todo:
        ledger.mark_running(cfg.name, t.tile.id, t.fp)
        fut = client.submit(
            run_tile,
            cfg.pipeline,
            t.tcfg,
            t.plan,
            root,
            t.tile.id,
            target.threads_per_task,
            key=f"eo-drr-tile-{cfg.name}-{t.tile.id}-{t.fp[:12]}",
            pure=False,
            resources=resources,
        )
        futures[fut] = t
    for fut in as_completed(futures):
        t = futures[fut]
        try:
            res = fut.result()
        except Exception as exc:  # KilledWorker, a worker that could not unpickle, ...
            res = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        finish(t, res)


# -- assembling the outputs ------------------------------------------------------------------
def _finalizer(pipeline: Pipeline, cfg: JobConfig, whole: Any) -> Finalizer | None:
    """The pipeline's ``finalize(cfg, plan, tile_outputs, out)`` bound to the job, or None,
    with the mosaics it reads (its ``FINALIZE_READS`` output keys; all without).

    A pipeline that knows how its per-unit tables add up over tiles (the flood pipeline)
    writes its job-wide tables and report itself; ``tile_outputs`` maps its output keys
    (``plan.outputs``) to ``{tile id: path}``."""
    fin = getattr(pipeline, "finalize", None)
    if fin is None:
        return None

    def run(per_tile: dict[str, dict[str, Path]], out: OutputFolder) -> set[str]:
        by_key = {k: per_tile[v] for k, v in whole.outputs.items() if v in per_tile}
        return fin(cfg, whole, by_key, out)

    # without the list, every mosaic is complete before it starts
    keys = getattr(pipeline, "FINALIZE_READS", tuple(whole.outputs))
    return Finalizer(run, frozenset(whole.outputs[k] for k in keys if k in whole.outputs))
