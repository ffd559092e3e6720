"""Monitoring as the engine runs it: each new post-event acquisition becomes its own event run,
or, for a pipeline that appends to a series, is appended to the job's one series.

Event runs (the flood pipeline): see :mod:`eo_drr.jobs.monitor` for what counts as new. Each
new acquisition runs through :func:`eo_drr.engine.run_job` into
``OUTPUT/<YYYY-MM-DD>_r<orbit>/`` (tile by tile with a ``tiling:`` section or a tile size,
with that folder's own job ledger), and is recorded in the ledger of OUTPUT (``done``, or
``failed`` with its error: the next monitor run tries it again). The whole monitor run holds
the lock of OUTPUT, so two cron runs never overlap.

Series (a pipeline with ``pending(cfg, root)``, the water series): the job runs with
``time.post`` open-ended (its end moved to today when earlier; as for event runs, a monitored
series follows new acquisitions), into OUTPUT itself. New means not yet in the series' cube
in OUTPUT (the cube is the record, no ledger is kept): the pipeline maps only those, appends
them and rewrites the frequency layers; an append killed half way leaves the cube as it was
committed and the next monitor run completes it. The run holds the lock of OUTPUT
(:func:`~eo_drr.engine.run.run_job`), and the pipeline reads what is new again under it.
A tiled series (``tiling:`` or a tile size) keeps one cube per tile: new means missing from
any tile's cube, and the run goes through the tiled engine, each tile appending the dates it
lacks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eo_drr.config import JobConfig, TilingConfig, Window
from eo_drr.engine.events import Event, Reporter, log_reporter
from eo_drr.engine.run import job_folder, run_job
from eo_drr.errors import EODRRError
from eo_drr.i18n import gettext as _
from eo_drr.jobs.ledger import JobLedger, JobLock
from eo_drr.jobs.monitor import aoi_key, event_config, iso, scan
from eo_drr.jobs.tiling import TILES_DIR
from eo_drr.pipelines import get_pipeline
from eo_drr.publish import OutputFolder


class MonitorFailures(EODRRError):
    """Some new acquisitions could not be processed; the others are done and recorded."""


class _EmptyLedger:
    """A ledger with nothing recorded (dry runs never create one)."""

    def last_acquisition(self, job: str, aoi: str) -> None:
        return None

    def acquisitions(self, job: str | None = None, aoi: str | None = None) -> list[dict[str, Any]]:
        return []


@dataclass(frozen=True)
class MonitorScan:
    """What a monitor run found: ``new`` acquisitions (``jobs.monitor.Acquisition``) and the
    time of the newest one processed before (``since``, or None)."""

    new: tuple[Any, ...]
    since: str | None


@dataclass(frozen=True)
class SeriesAcquisition:
    """A new acquisition of a series, as the monitor's table shows it: appended to the cube
    named ``folder`` (no Sentinel-2 is read)."""

    acquired_at: dt.datetime
    relative_orbit: int | None
    items: tuple[Any, ...]
    folder: str
    has_s2: bool = False


def open_ended(cfg: JobConfig, today: dt.date | None = None) -> JobConfig:
    """``cfg`` with ``time.post.end`` moved to ``today`` (UTC) when earlier."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    post = cfg.time.post
    window = Window(start=post.start, end=max(post.end, today))
    return cfg.model_copy(update={"time": cfg.time.model_copy(update={"post": window})})


def _series_scan(cfg: JobConfig, pending: Callable, root: Path) -> MonitorScan:
    """What the series in ``root`` lacks of the open-ended ``cfg`` (module docstring)."""
    new, newest = pending(cfg, root)
    cube = getattr(get_pipeline(cfg.pipeline), "OUTPUTS", {}).get("cube", root.name)
    if cfg.tiling is not None:  # one cube per tile
        cube = f"{TILES_DIR}/*/{cube}"
    rows = tuple(
        SeriesAcquisition(
            a.time, a.items[0].properties.get("sat:relative_orbit"), tuple(a.items), cube
        )
        for a in new
    )
    return MonitorScan(rows, iso(newest) if newest is not None else None)


def _series_job(cfg: JobConfig, tile_size_px: int | None) -> JobConfig:
    """The open-ended series job, tiled at ``tile_size_px`` when given (one cube per tile:
    ``pending`` reads every tile's)."""
    job = open_ended(cfg)
    if tile_size_px is None:
        return job
    tiling = (cfg.tiling or TilingConfig()).model_copy(update={"tile_size_px": tile_size_px})
    return job.model_copy(update={"tiling": tiling})


def scan_new(
    cfg: JobConfig, output: str | Path | None = None, *, tile_size_px: int | None = None
) -> MonitorScan:
    """The new acquisitions for ``cfg`` (a dry run: nothing is written); ``tile_size_px``: as
    :func:`run_monitor`'s (a tiled series lacks what any tile lacks)."""
    root = job_folder(cfg, output)
    pending = getattr(get_pipeline(cfg.pipeline), "pending", None)
    if pending is not None:
        return _series_scan(_series_job(cfg, tile_size_px), pending, root)
    ledger = JobLedger.existing(root)
    found = scan(cfg, ledger if ledger is not None else _EmptyLedger())  # type: ignore[arg-type]
    return MonitorScan(tuple(found.new), found.since)


def run_monitor(
    cfg: JobConfig,
    output: str | Path | None = None,
    *,
    report: Reporter | None = None,
    tile_size_px: int | None = None,
    on_scan: Callable[[MonitorScan], None] | None = None,
) -> tuple[MonitorScan, list[dict]]:
    """Run every new acquisition of ``cfg`` into its own sub-folder of ``output`` (a series:
    append them all to the series in ``output``, one run): returns the scan and one
    ``{folder, items, summary}`` per run (``on_scan`` sees the scan before the first run).
    Raises :class:`MonitorFailures` (after the others ran) when some event runs failed."""
    report = report or log_reporter
    root = job_folder(cfg, output)
    pending = getattr(get_pipeline(cfg.pipeline), "pending", None)
    if pending is not None:
        return _append_series(cfg, root, pending, report, tile_size_px, on_scan)
    OutputFolder(root).check_writable()
    root.mkdir(parents=True, exist_ok=True)
    key = aoi_key(cfg)
    results, failed = [], []
    with JobLock(root):
        ledger = JobLedger(root)
        found = scan(cfg, ledger)
        result = MonitorScan(tuple(found.new), found.since)
        if on_scan is not None:
            on_scan(result)
        for acq in found.new:
            folder = root / acq.folder
            s1_only = (
                "" if acq.has_s2 or cfg.sources.s2 is None else " (no Sentinel-2 that day: S1 only)"
            )
            report(
                Event(
                    "note",
                    f"acquisition {acq.acquired_at:%Y-%m-%d %H:%M} UTC (orbit {acq.relative_orbit}): "
                    f"{', '.join(it.id for it in acq.items)} -> {folder}{s1_only}",
                )
            )

            def record(status: str, error: str | None = None, acq: Any = acq) -> None:
                for it in acq.items:
                    ledger.record_acquisition(
                        cfg.name,
                        key,
                        it.id,
                        it.collection_id or "",
                        iso(acq.acquired_at),
                        acq.folder,
                        status,
                        error,
                    )

            try:
                run = run_job(
                    event_config(cfg, acq), folder, report=report, tile_size_px=tile_size_px
                )
            except EODRRError as exc:
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                record("failed", f"{type(exc).__name__}: {exc}")
                failed.append(f"{acq.folder}: {msg}")
                report(Event("note", f"failed {acq.folder}: {msg}", state="failed"))
                continue
            record("done")
            results.append(
                {
                    "folder": str(folder),
                    "items": [it.id for it in acq.items],
                    "summary": run.summary,
                }
            )
    if failed:
        head = _(
            "{n} of {total} new acquisition(s) failed (recorded in {root}; the next monitor run "
            "tries them again):"
        ).format(n=len(failed), total=len(found.new), root=root)
        message = "\n".join([head, *failed])
        raise MonitorFailures(message)
    return result, results


def _append_series(
    cfg: JobConfig,
    root: Path,
    pending: Callable,
    report: Reporter,
    tile_size_px: int | None,
    on_scan: Callable[[MonitorScan], None] | None,
) -> tuple[MonitorScan, list[dict]]:
    """One run of the open-ended series job into ``root`` when the scan finds new dates."""
    OutputFolder(root).check_writable()
    job = _series_job(cfg, tile_size_px)
    found = _series_scan(job, pending, root)
    if on_scan is not None:
        on_scan(found)
    if not found.new:
        return found, []
    items = [it.id for a in found.new for it in a.items]
    report(Event("note", f"{len(found.new)} new acquisition(s) -> {root / found.new[0].folder}"))
    run = run_job(job, root, report=report, tile_size_px=tile_size_px)
    return found, [{"folder": str(root), "items": items, "summary": run.summary}]
