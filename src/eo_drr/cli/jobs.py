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

from eo_drr.errors import InputError
from eo_drr.jobs.ledger import LEDGER_NAME, JobLedger

STYLE = {"done": "green", "failed": "red", "running": "yellow", "pending": ""}


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def find_ledgers(output: Path) -> list[JobLedger]:
    """The ledger of ``output`` and those of its direct sub-folders, sorted by folder."""
    if not output.is_dir():
        raise InputError(f"{output}: no such folder (give the output folder of a job)")
    folders = [output, *sorted(p for p in output.iterdir() if p.is_dir() and not p.name.startswith("."))]
    found = [JobLedger.existing(f) for f in folders]
    return [led for led in found if led is not None]


def job_summaries(ledger: JobLedger) -> list[dict]:
    """One dict per job of ``ledger``: settings, tile counts, each current tile's state, last run."""
    out = []
    for job in ledger.jobs():
        tiles = ledger.tiles(job["name"])
        runs = ledger.runs(job["name"])
        out.append({
            "folder": str(ledger.root),
            "job": job["name"],
            "pipeline": job["pipeline"],
            "tile_size_px": job["tile_size_px"],
            "crs": job["crs"],
            "counts": ledger.counts(job["name"]),
            "tiles": [{k: t[k] for k in ("tile_id", "status", "attempts", "seconds", "error")} for t in tiles],
            "last_run": {k: runs[-1][k] for k in ("id", "status", "started_at", "finished_at", "ran", "skipped",
                                                  "failed")} if runs else None,
            "retryable": bool(job.get("config")),
        })
    return out


def print_jobs(output: Path, console: Console, *, as_json: bool = False) -> None:
    ledgers = find_ledgers(output)
    if not ledgers:
        raise InputError(f"{output}: no job ledger ({LEDGER_NAME}) here or in its sub-folders; "
                         "is it the output folder of a tiled job or of eo-drr monitor?")
    jobs = [s for led in ledgers for s in job_summaries(led)]
    acquisitions = [dict(a, folder=str(led.root / a["folder"])) for led in ledgers for a in led.acquisitions()]
    if as_json:
        console.print_json(json.dumps({"jobs": jobs, "acquisitions": acquisitions}, default=str))
        return
    table = Table(title=f"Jobs under {output}")
    for col in ("folder", "job", "pipeline", "tiles", "last run"):
        table.add_column(col, overflow="fold")
    for j in jobs:
        c, last = j["counts"], j["last_run"]
        states = ", ".join(f"[{STYLE[k]}]{n} {k}[/{STYLE[k]}]" if STYLE[k] else f"{n} {k}"
                           for k, n in c.items() if n)
        table.add_row(
            _rel(j["folder"], output), j["job"], j["pipeline"], f"{len(j['tiles'])}: {states or 'none'}",
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
            ft.add_row(_rel(j["folder"], output), j["job"], t["tile_id"], str(t["attempts"]),
                       (t["error"] or "").splitlines()[0] if t["error"] else "")
        console.print(ft)
    if acquisitions:
        at = Table(title="Acquisitions processed by eo-drr monitor")
        for col in ("job", "acquired (UTC)", "item", "status", "folder", "error"):
            at.add_column(col, overflow="fold")
        for a in acquisitions:
            style = STYLE.get(a["status"], "")
            at.add_row(a["job"], a["acquired_at"], a["item_id"], f"[{style}]{a['status']}[/{style}]",
                       _rel(a["folder"], output), (a["error"] or "").splitlines()[0] if a["error"] else "")
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
    from eo_drr.config import parse_config

    ledger = JobLedger.existing(output)
    if ledger is None:
        raise InputError(f"{output}: no job ledger ({LEDGER_NAME}) here; give the output folder of a tiled job")
    names = [j["name"] for j in ledger.jobs()]
    if job is not None and job not in names:
        raise InputError(f"--job {job}: no such job in {ledger.path} (jobs: {', '.join(names) or 'none'})")
    targets = [job] if job is not None else names
    summaries = []
    for name in targets:
        failed = ledger.failed_tiles(name)
        if not failed:
            console.print(f"job {name!r}: no failed tiles; nothing to retry", highlight=False)
            continue
        row = ledger.job(name)
        if not row.get("config"):
            raise InputError(
                f"job {name!r} in {ledger.path} was recorded without its settings (an older eo-drr); "
                f"rerun it with: eo-drr run JOB.yaml -o {output} --retry-failed"
            )
        cfg = parse_config(json.loads(row["config"]), source=f"{ledger.path} (job {name})",
                           base_dir=Path(row["base_dir"]) if row.get("base_dir") else output)
        console.print(f"job {name!r}: retrying {len(failed)} failed tile(s): "
                      + ", ".join(t["tile_id"] for t in failed), highlight=False)
        summaries.append(run_tiled_job(cfg, output, console=console, tile_size_px=row["tile_size_px"],
                                       retry_failed=True))
    return summaries
