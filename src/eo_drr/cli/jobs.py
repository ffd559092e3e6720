"""``eo-drr jobs [OUTPUT]`` and ``eo-drr jobs retry OUTPUT [--job NAME]``.

``jobs`` lists, per job ledger, every job with its tile states (counts, and the failed tiles
with their errors) and the last run; it reads the ledger of ``OUTPUT`` and those of its direct
sub-folders (the per-acquisition folders ``eo-drr monitor`` writes), plus the acquisitions a
monitor recorded. ``jobs retry`` gives failed tiles their attempts back and reruns the job from
the settings its ledger recorded: the same code path as ``eo-drr run --retry-failed``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from eo_drr.engine.ledgers import find_ledgers, job_summaries, retry_targets
from eo_drr.errors import InputError
from eo_drr.jobs.ledger import LEDGER_NAME

STYLE = {"done": "green", "failed": "red", "running": "yellow", "pending": ""}


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def print_jobs(output: Path, console: Console, *, as_json: bool = False) -> None:
    ledgers = find_ledgers(output)
    if not ledgers:
        raise InputError(
            f"{output}: no job ledger ({LEDGER_NAME}) here or in its sub-folders; "
            "is it the output folder of a tiled job or of eo-drr monitor?"
        )
    jobs = [s for led in ledgers for s in job_summaries(led)]
    acquisitions = [
        dict(a, folder=str(led.root / a["folder"])) for led in ledgers for a in led.acquisitions()
    ]
    if as_json:
        console.print_json(json.dumps({"jobs": jobs, "acquisitions": acquisitions}, default=str))
        return
    table = Table(title=f"Jobs under {output}")
    for col in ("folder", "job", "pipeline", "tiles", "last run"):
        table.add_column(col, overflow="fold")
    for j in jobs:
        c, last = j["counts"], j["last_run"]
        states = ", ".join(
            f"[{STYLE[k]}]{n} {k}[/{STYLE[k]}]" if STYLE[k] else f"{n} {k}"
            for k, n in c.items()
            if n
        )
        table.add_row(
            _rel(j["folder"], output),
            j["job"],
            j["pipeline"],
            f"{len(j['tiles'])}: {states or 'none'}",
            f"{last['status']} {_when(last['finished_at'] or last['started_at'])}" if last else "",
        )
    if jobs:
        console.print(table)
    failed = [(j, t) for j in jobs for t in j["tiles"] if t["status"] == "failed"]
    if failed:
        ft = Table(title="Failed tiles (eo-drr jobs retry OUTPUT reruns them)")
        for col in ("folder", "job", "tile", "attempts", "error"):
            ft.add_column(col, overflow="fold")
        for j, t in failed:
            ft.add_row(
                _rel(j["folder"], output),
                j["job"],
                t["tile_id"],
                str(t["attempts"]),
                (t["error"] or "").splitlines()[0] if t["error"] else "",
            )
        console.print(ft)
    if acquisitions:
        at = Table(title="Acquisitions processed by eo-drr monitor")
        for col in ("job", "acquired (UTC)", "item", "status", "folder", "error"):
            at.add_column(col, overflow="fold")
        for a in acquisitions:
            style = STYLE.get(a["status"], "")
            at.add_row(
                a["job"],
                a["acquired_at"],
                a["item_id"],
                f"[{style}]{a['status']}[/{style}]",
                _rel(a["folder"], output),
                (a["error"] or "").splitlines()[0] if a["error"] else "",
            )
        console.print(at)


def _rel(folder: str, output: Path) -> str:
    try:
        rel = Path(folder).relative_to(output)
    except ValueError:
        return folder
    return "." if str(rel) == "." else rel.as_posix()


def retry_jobs(output: Path, console: Console, *, job: str | None = None) -> list[dict]:
    """Reset the attempts of failed tiles and rerun their job(s) from the settings recorded in
    the ledger of ``output`` (``eo-drr run --retry-failed``); verified tiles are skipped."""
    from eo_drr.cli.runner import run_tiled_job

    summaries: list[dict] = []
    for name, cfg, failed, size in retry_targets(output, job=job):
        if cfg is None:
            console.print(f"job {name!r}: no failed tiles; nothing to retry", highlight=False)
            continue
        console.print(
            f"job {name!r}: retrying {len(failed)} failed tile(s): " + ", ".join(failed),
            highlight=False,
        )
        summary = run_tiled_job(cfg, output, console=console, tile_size_px=size, retry_failed=True)
        if summary is not None:
            summaries.append(summary)
    return summaries
