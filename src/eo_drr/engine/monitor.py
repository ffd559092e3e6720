"""Monitoring as the engine runs it: each new post-event acquisition becomes its own event run.

See :mod:`eo_drr.jobs.monitor` for what counts as new. Each new acquisition runs through
:func:`eo_drr.engine.run_job` into ``OUTPUT/<YYYY-MM-DD>_r<orbit>/`` (tile by tile with a
``tiling:`` section or a tile size, with that folder's own job ledger), and is recorded in the
ledger of OUTPUT (``done``, or ``failed`` with its error: the next monitor run tries it
again). The whole monitor run holds the lock of OUTPUT, so two cron runs never overlap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eo_drr.config import JobConfig
from eo_drr.engine.events import Event, Reporter, log_reporter
from eo_drr.engine.run import job_folder, run_job
from eo_drr.errors import EODRRError
from eo_drr.jobs.ledger import JobLedger, JobLock
from eo_drr.jobs.monitor import aoi_key, event_config, iso, scan
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


def scan_new(cfg: JobConfig, output: str | Path | None = None) -> MonitorScan:
    """The new acquisitions for ``cfg`` (a dry run: nothing is written)."""
    root = job_folder(cfg, output)
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
    """Run every new acquisition of ``cfg`` into its own sub-folder of ``output``: returns the
    scan and one ``{folder, items, summary}`` per acquisition processed (``on_scan`` sees the
    scan before the first run). Raises :class:`MonitorFailures` (after the others ran) when
    some failed."""
    report = report or log_reporter
    root = job_folder(cfg, output)
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
        raise MonitorFailures(
            f"{len(failed)} of {len(found.new)} new acquisition(s) failed (recorded in {root}; the next "
            "monitor run tries them again):\n" + "\n".join(failed)
        )
    return result, results
