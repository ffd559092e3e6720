"""``eo-drr monitor CONFIG [-o OUTPUT]``: process only new post-event acquisitions (for cron);
the lifecycle is :func:`eo_drr.engine.monitor.run_monitor`, this module renders it."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from eo_drr.cli.runner import ConsoleReporter, print_summary
from eo_drr.config import JobConfig
from eo_drr.engine.monitor import MonitorScan, run_monitor, scan_new


def monitor(
    cfg: JobConfig,
    output: Path | None,
    *,
    console: Console,
    tile_size_px: int | None = None,
    dry_run: bool = False,
) -> list[dict]:
    """Find the new acquisitions of ``cfg``'s AOI and run each into its own sub-folder of
    ``output``; returns one summary per acquisition processed."""
    if dry_run:
        found = scan_new(cfg, output)
        _print_scan(console, cfg, found, dry_run=True)
        return []

    def on_scan(found: MonitorScan) -> None:
        _print_scan(console, cfg, found, dry_run=False)

    with ConsoleReporter(console) as report:
        _, results = run_monitor(
            cfg, output, report=report, tile_size_px=tile_size_px, on_scan=on_scan
        )
    for r in results:
        print_summary(console, r["summary"], Path(r["folder"]), title=cfg.name)
    return results


def _print_scan(console: Console, cfg: JobConfig, found: MonitorScan, *, dry_run: bool) -> None:
    if not found.new:
        since = found.since or f"{cfg.time.post.start.isoformat()} (time.post.start)"
        console.print(f"nothing new since {since}", highlight=False, markup=False)
        return
    title = f"{len(found.new)} new acquisition(s)" + (
        f" since {found.since}" if found.since else ""
    )
    if dry_run:
        title += " (dry run: nothing is processed)"
    t = Table(title=title)
    for col in ("acquired (UTC)", "orbit", "items", "Sentinel-2 that day", "folder"):
        t.add_column(col, overflow="fold")
    for a in found.new:
        t.add_row(
            f"{a.acquired_at:%Y-%m-%d %H:%M:%S}",
            str(a.relative_orbit or ""),
            "\n".join(it.id for it in a.items),
            "yes" if a.has_s2 else "no",
            a.folder,
        )
    console.print(t)
