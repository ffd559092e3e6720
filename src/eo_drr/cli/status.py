"""``eo-drr status OUTPUT``: the job ledger of a tiled job as tables (or JSON)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from eo_drr.errors import InputError
from eo_drr.jobs.ledger import LEDGER_NAME, JobLedger

STYLE = {"done": "green", "failed": "red", "running": "yellow", "pending": ""}


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def print_status(
    output: Path, console: Console, *, as_json: bool = False, all_fingerprints: bool = False
) -> None:
    ledger = JobLedger.existing(output)
    if ledger is None:
        raise InputError(
            f"{output}: no job ledger ({LEDGER_NAME}) here; is it the output folder of a tiled job?"
        )
    jobs = ledger.jobs()
    if as_json:
        data = {
            "jobs": jobs,
            "tiles": ledger.tiles(current_only=not all_fingerprints),
            "runs": ledger.runs(),
        }
        for t in data["tiles"]:
            t["inputs"] = json.loads(t["inputs"])
            t["bounds"] = json.loads(t["bounds"])
        console.print_json(json.dumps(data, default=str))
        return
    for job in jobs:
        counts = ledger.counts(job["name"])
        head = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        table = Table(
            title=f"Job {job['name']!r} ({job['pipeline']}, tiles of {job['tile_size_px']} px on "
            f"{job['crs']}): {head or 'no tiles'}"
        )
        for col in (
            "tile",
            "status",
            "attempts",
            "seconds",
            "peak MiB",
            "worker",
            "finished",
            "error",
        ):
            table.add_column(col, overflow="fold")
        for t in ledger.tiles(job["name"], current_only=not all_fingerprints):
            style = STYLE.get(t["status"], "")
            status = t["status"] + ("" if t["current"] else " (superseded)")
            table.add_row(
                t["tile_id"],
                f"[{style}]{status}[/{style}]" if style else status,
                str(t["attempts"]),
                f"{t['seconds']:.1f}" if t["seconds"] is not None else "",
                f"{t['peak_rss_mb']:.0f}" if t["peak_rss_mb"] is not None else "",
                t["worker"] or "",
                _when(t["finished_at"]),
                (t["error"] or "").splitlines()[0] if t["error"] else "",
            )
        console.print(table)
        runs = ledger.runs(job["name"])[-5:]
        if runs:
            rt = Table(title="Last runs")
            for col in (
                "run",
                "started",
                "finished",
                "status",
                "ran",
                "skipped",
                "failed",
                "host:pid",
            ):
                rt.add_column(col)
            for r in runs:
                rt.add_row(
                    str(r["id"]),
                    _when(r["started_at"]),
                    _when(r["finished_at"]),
                    r["status"],
                    str(r["ran"]),
                    str(r["skipped"]),
                    str(r["failed"]),
                    f"{r['host']}:{r['pid']}",
                )
            console.print(rt)
