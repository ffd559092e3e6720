"""``eo-drr monitor CONFIG [-o OUTPUT]``: process only new post-event acquisitions (for cron).

See :mod:`eo_drr.jobs.monitor` for what counts as new. Each new acquisition runs as its own
event run into ``OUTPUT/<YYYY-MM-DD>_r<orbit>/`` (tile by tile with a ``tiling:`` section or
``--tile-size``, with that folder's own job ledger), and is recorded in the ledger of OUTPUT
(``done``, or ``failed`` with its error: the next monitor run tries it again). The whole
monitor run holds the lock of OUTPUT, so two cron runs never overlap.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from eo_drr.config import JobConfig
from eo_drr.errors import EODRRError
from eo_drr.jobs.ledger import JobLedger, JobLock
from eo_drr.jobs.monitor import aoi_key, event_config, iso, scan


class MonitorFailures(EODRRError):
    """Some new acquisitions could not be processed; the others are done and recorded."""


def run_monitor(cfg: JobConfig, output: Path | None, *, console: Console, tile_size_px: int | None = None,
                dry_run: bool = False) -> list[dict]:
    """Find the new acquisitions of ``cfg``'s AOI and run each into its own sub-folder of
    ``output``; returns one summary per acquisition processed."""
    from eo_drr.cli.runner import run_job, run_tiled_job
    from eo_drr.publish import OutputFolder

    root = output if output is not None else Path(cfg.outputs.dir)
    if dry_run:
        ledger = JobLedger.existing(root)
        found = scan(cfg, ledger if ledger is not None else _EmptyLedger())
        if not found.new:
            _nothing_new(console, cfg, found)
        else:
            _print_new(console, found, dry_run=True)
        return []
    OutputFolder(root).check_writable()
    root.mkdir(parents=True, exist_ok=True)
    key = aoi_key(cfg)
    results, failed = [], []
    with JobLock(root):
        ledger = JobLedger(root)
        with console.status("Searching the catalogue for new post-event acquisitions..."):
            found = scan(cfg, ledger)
        if not found.new:
            _nothing_new(console, cfg, found)
            return []
        _print_new(console, found, dry_run=False)
        for acq in found.new:
            ecfg = event_config(cfg, acq)
            folder = root / acq.folder
            console.print(f"acquisition {acq.acquired_at:%Y-%m-%d %H:%M} UTC (orbit {acq.relative_orbit}): "
                          f"{', '.join(it.id for it in acq.items)} -> {folder}"
                          + ("" if acq.has_s2 or cfg.sources.s2 is None else " (no Sentinel-2 that day: S1 only)"),
                          highlight=False, markup=False)
            try:
                if ecfg.tiling is not None or tile_size_px is not None:
                    summary = run_tiled_job(ecfg, folder, console=console, tile_size_px=tile_size_px)
                else:
                    summary = run_job(ecfg, folder, dry_run=False, console=console)
            except EODRRError as exc:
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                for it in acq.items:
                    ledger.record_acquisition(cfg.name, key, it.id, it.collection_id or "", iso(acq.acquired_at),
                                              acq.folder, "failed", f"{type(exc).__name__}: {exc}")
                failed.append(f"{acq.folder}: {msg}")
                console.print(f"[red]failed[/red] {acq.folder}: {msg}", highlight=False)
                continue
            for it in acq.items:
                ledger.record_acquisition(cfg.name, key, it.id, it.collection_id or "", iso(acq.acquired_at),
                                          acq.folder, "done")
            results.append({"folder": str(folder), "items": [it.id for it in acq.items], "summary": summary})
    if failed:
        raise MonitorFailures(
            f"{len(failed)} of {len(found.new)} new acquisition(s) failed (recorded in {root}; the next "
            "monitor run tries them again):\n" + "\n".join(failed)
        )
    return results


class _EmptyLedger:
    """A ledger with nothing recorded (dry runs never create one)."""

    def last_acquisition(self, job, aoi):
        return None

    def acquisitions(self, job=None, aoi=None):
        return []


def _nothing_new(console: Console, cfg: JobConfig, found) -> None:
    since = found.since or f"{cfg.time.post.start.isoformat()} (time.post.start)"
    console.print(f"nothing new since {since}", highlight=False, markup=False)


def _print_new(console: Console, found, *, dry_run: bool) -> None:
    title = f"{len(found.new)} new acquisition(s)" + (f" since {found.since}" if found.since else "")
    if dry_run:
        title += " (dry run: nothing is processed)"
    t = Table(title=title)
    for col in ("acquired (UTC)", "orbit", "items", "Sentinel-2 that day", "folder"):
        t.add_column(col, overflow="fold")
    for a in found.new:
        t.add_row(f"{a.acquired_at:%Y-%m-%d %H:%M:%S}", str(a.relative_orbit or ""),
                  "\n".join(it.id for it in a.items), "yes" if a.has_s2 else "no", a.folder)
    console.print(t)
