"""Plan and run a job: the one lifecycle under the command line and the Python API.

A whole job: plan -> lock the output folder -> stage -> compute context (the job's
``cluster:``) -> pipeline run -> ``run.json`` and STAC catalogue -> commit. A tiled job
(``tiling:`` or a tile size): the same, tile by tile through the job ledger
(:mod:`eo_drr.engine.tiled`), reruns skipping verified tiles. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from eo_drr.config import JobConfig, TilingConfig
from eo_drr.engine.events import Event, EventSteps, Reporter, log_reporter
from eo_drr.engine.first_run import first_run_notes
from eo_drr.engine.manifest import (
    refuse_output_over_inputs,
    synthetic_job,
    write_manifest_and_catalog,
)
from eo_drr.engine.result import JobResult, output_paths
from eo_drr.errors import ConfigError, CorruptInputError, OutputError
from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _
from eo_drr.jobs.cluster import ComputeTarget, compute_context
from eo_drr.jobs.ledger import LEDGER_NAME, LOCK_NAME, JobLock
from eo_drr.jobs.tiling import Tile, tile_grid
from eo_drr.pipelines import get_pipeline
from eo_drr.publish import OutputFolder
from eo_drr.publish.report_pdf import check_pdf_format


@dataclass(frozen=True)
class JobPlan:
    """What a run would do, resolved and written nowhere: ``rows`` of (what, value) (items,
    grid, outputs), and for a tiled job its ``tiles`` of ``tile_size_px`` pixels."""

    job: str
    folder: Path
    crs: str
    rows: tuple[tuple[str, str], ...]
    tiles: tuple[Tile, ...] | None = None
    tile_size_px: int | None = None


def job_folder(cfg: JobConfig, output: str | Path | None) -> Path:
    """Where a run writes: ``output`` when given (relative to the current folder), else the
    job's ``outputs.dir`` (relative to the job file's folder, like every path in a job file)."""
    return Path(output) if output is not None else Path(cfg.resolve_path(cfg.outputs.dir))


def _tiled(cfg: JobConfig, tile_size_px: int | None) -> bool:
    return cfg.tiling is not None or tile_size_px is not None


def _with_tiles(cfg: JobConfig, tile_size_px: int | None) -> JobConfig:
    """``cfg`` with ``tiling.tile_size_px`` set when a tile size is given (``--tile-size``)."""
    if tile_size_px is None:
        return cfg
    if (
        isinstance(tile_size_px, bool)
        or not isinstance(tile_size_px, int)
        or not 32 <= tile_size_px <= 16384
    ):
        raise ConfigError(
            _(
                "tile_size_px: expected a whole number of pixels 32-16384, got {tile_size_px!r}"
            ).format(tile_size_px=tile_size_px)
        )
    tiling = (cfg.tiling or TilingConfig()).model_copy(update={"tile_size_px": tile_size_px})
    return cfg.model_copy(update={"tiling": tiling})


def plan_job(
    cfg: JobConfig, output: str | Path | None = None, *, tile_size_px: int | None = None
) -> JobPlan:
    """Search the catalogue, resolve the job and run every check the run makes before it
    computes (a dry run): the output folder, inputs not overwritten, the pipeline's input
    checks (:meth:`Pipeline.check`). Nothing is written."""
    folder = job_folder(cfg, output)
    out = OutputFolder(folder)
    out.check_writable()
    check_pdf_format(cfg.outputs.formats)
    cfg = _with_tiles(cfg, tile_size_px)
    pipeline = get_pipeline(cfg.pipeline)
    plan = pipeline.plan(cfg)
    refuse_output_over_inputs(cfg, plan, out.root)
    pipeline.check(cfg, plan, out)
    rows = tuple(
        (what, str(out.final(value)) if what == "output" else str(value))
        for what, value in plan.describe()
    )
    if not _tiled(cfg, tile_size_px):
        return JobPlan(cfg.name, folder, str(plan.geobox.crs), rows)
    size = tile_size_px or (cfg.tiling or TilingConfig()).tile_size_px
    return JobPlan(
        cfg.name,
        folder,
        str(plan.geobox.crs),
        rows,
        tuple(tile_grid(plan.geobox, size, plan.aoi)),
        size,
    )


def run_job(
    cfg: JobConfig,
    output: str | Path | None = None,
    *,
    report: Reporter | None = None,
    tile_size_px: int | None = None,
    retry_failed: bool = False,
) -> JobResult:
    """Run ``cfg`` into ``output`` (default: its ``outputs.dir``) and return the result.

    ``report`` receives progress :class:`Event` values (default: log lines). A job with a
    ``tiling:`` section or a ``tile_size_px`` runs tile by tile (``retry_failed``: retry
    failed tiles even past ``tiling.max_attempts``). On any error the staged files are
    removed and the folder is left as it was; the exception propagates.
    """
    report = report or log_reporter
    cfg = _with_tiles(cfg, tile_size_px)
    folder = job_folder(cfg, output)
    out = OutputFolder(folder)
    out.check_writable()  # fail before any long work
    check_pdf_format(cfg.outputs.formats)
    first_run_notes(cfg, report)
    t0 = time.perf_counter()
    if _tiled(cfg, tile_size_px):
        summary = _run_tiled(cfg, out, report, tile_size_px, retry_failed, t0)
    else:
        summary = _run_whole(cfg, out, report, t0)
    if synthetic_job(cfg):  # the terminal summary says so
        summary["synthetic_demo"] = True
    # a tiled run names its mosaics by file: name them by the pipeline's output keys as a whole run does
    by_file = {v: k for k, v in getattr(get_pipeline(cfg.pipeline), "OUTPUTS", {}).items()}
    named = {by_file.get(k, k): v for k, v in summary.get("outputs", {}).items()}
    return JobResult(cfg.name, cfg.pipeline, folder, summary, output_paths(named))


def _run_whole(cfg: JobConfig, out: OutputFolder, report: Reporter, t0: float) -> dict:
    pipeline = get_pipeline(cfg.pipeline)
    searching = _("Searching the catalogue and resolving the plan")
    report(Event("step", searching))
    plan = pipeline.plan(cfg)
    refuse_output_over_inputs(cfg, plan, out.root)
    report(Event("step_done", searching, seconds=time.perf_counter() - t0))
    # the lock first: two runs into one folder would mix their files (one refuses), and
    # opening the folder cleans temporary files that may belong to the other run
    created = not out.root.exists()
    lock = JobLock(out.root, remove=True)
    try:
        lock.acquire()
    except BaseException:
        if created:
            shutil.rmtree(out.root, ignore_errors=True)
        raise
    try:
        out.open()
    except BaseException:
        lock.release()
        raise
    try:
        with compute_context(cfg.cluster, base_dir=cfg.base_dir) as where:
            report(Event("compute", where))
            steps = EventSteps(report)
            summary = pipeline.run(cfg, plan, out, steps)
        summary["seconds"] = round(time.perf_counter() - t0, 2)
        summary["step_seconds"] = {k: round(v, 2) for k, v in steps.timings.items()}
        summary["compute"] = where
        write_manifest_and_catalog(cfg, out, summary)
        out.commit()
    except BaseException as exc:
        lock.release()
        out.abort()
        if created:  # leave no folder behind that this run created
            with contextlib.suppress(OSError):
                out.root.rmdir()
        _raise_as_output_error(exc, out.root)
        raise
    lock.release()
    return summary


class _LoadFailures(logging.Handler):
    """Keeps odc-stac's "Failed to load <file>" messages: GDAL's own exception for a truncated
    file does not name it, this log line does."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("Failed to load "):  # the last one only: a long session keeps no history
            self.messages[:] = [msg.split(" due to ")[0].removeprefix("Failed to load ")]


_LOAD_FAILURES = _LoadFailures()
logging.getLogger("odc.loader").addHandler(_LOAD_FAILURES)

#: errors of the output folder's file system, told as one line naming the folder
_WRITE_ERRNOS = {
    errno.ENOSPC: N_("the disk is full"),
    errno.EDQUOT: N_("the disk quota is exceeded"),
    errno.EROFS: N_("the file system is read-only"),
    errno.EACCES: N_("permission denied"),
}


def _raise_as_output_error(exc: BaseException, folder: Path) -> None:
    """Re-raise a failed write (disk full, quota, read-only, permission) as an OutputError, and
    an input raster GDAL cannot read (a missing, truncated or not-a-raster asset of the
    catalogue) as a CorruptInputError naming it."""
    code = getattr(exc, "errno", None)
    if isinstance(exc, OSError) and code in _WRITE_ERRNOS:
        raise OutputError(
            _("cannot write the outputs in {folder}: {why} (the folder is as it was)").format(
                folder=folder, why=_(_WRITE_ERRNOS[code])
            )
        ) from None
    kinds = {c.__name__ for c in type(exc).__mro__}
    if kinds & {"RasterioIOError", "CPLE_BaseError", "RasterioError"}:
        chain: list[BaseException] = []
        e: BaseException | None = exc
        while e is not None and len(chain) < 6:  # GDAL's own message (with the file) may be a cause
            chain.append(e)
            e = e.__cause__ or e.__context__
        texts = [str(x).strip().splitlines()[0][:400] for x in chain if str(x).strip()]
        texts += [
            _("{message} (as odc-stac reported)").format(message=m)
            for m in _LOAD_FAILURES.messages[-1:]
        ]
        first = next((t for t in texts if "/" in t), texts[0] if texts else type(exc).__name__)
        raise CorruptInputError(
            _(
                "an input raster cannot be read ({first}): check the catalogue's assets "
                "(missing, truncated or not a raster)"
            ).format(first=first)
        ) from None


def _run_tiled(
    cfg: JobConfig,
    out: OutputFolder,
    report: Reporter,
    tile_size_px: int | None,
    retry_failed: bool,
    t0: float,
) -> dict:
    from eo_drr.engine.tile_worker import TILES_DIR
    from eo_drr.engine.tiled import run_tiled

    def on_tile(kind: str, tile: str, detail: str) -> None:
        report(Event("tile", tile, detail=detail, state=kind))

    def on_cluster(target: ComputeTarget) -> None:
        report(Event("compute", target.description, detail=target.dashboard or ""))

    created = not out.root.exists()
    out.root.mkdir(parents=True, exist_ok=True)
    try:
        with JobLock(out.root):
            out.open()
            try:
                summary = run_tiled(
                    cfg,
                    out.root,
                    tile_size_px=tile_size_px,
                    retry_failed=retry_failed,
                    out=out,
                    on_event=on_tile,
                    on_cluster=on_cluster,
                )
                summary["seconds"] = round(time.perf_counter() - t0, 2)
                if summary.get("outputs"):
                    write_manifest_and_catalog(cfg, out, summary)
                out.commit()
            except BaseException:
                out.abort()
                raise
    except BaseException as exc:
        # a run that failed before any tile ran leaves no folder of its own behind; once a
        # tile ran, the folder and its ledger stay (a rerun skips the finished tiles)
        if created and not (out.root / TILES_DIR).exists():
            shutil.rmtree(out.root, ignore_errors=True)
        elif not (out.root / LEDGER_NAME).exists():  # refused before its ledger: no lock left
            (out.root / LOCK_NAME).unlink(missing_ok=True)
        _raise_as_output_error(exc, out.root)
        raise
    return summary
