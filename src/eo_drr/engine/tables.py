"""The faces' tables in plain words: a finished run's figures, and what ``eo-drr status``,
``eo-drr jobs`` and ``eo-drr monitor`` show of the job ledgers, as (title, columns, rows) of text. A face adds only its
looks (the command line colours the tile and job states)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from eo_drr.i18n import gettext as _

if TYPE_CHECKING:
    from eo_drr.engine.monitor import MonitorScan
    from eo_drr.engine.status import LedgerStatus


class Rows(NamedTuple):
    """One table: a ``title``, its ``columns`` (none: a table without a header) and ``rows``."""

    title: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[str]]


def when(ts: float | None) -> str:
    """A ledger time stamp in local time, or nothing."""
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def _first_line(text: str | None) -> str:
    return text.splitlines()[0] if text else ""


def _num(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def _rel(folder: str, output: Path) -> str:
    try:
        rel = Path(folder).relative_to(output)
    except ValueError:
        return folder
    return "." if str(rel) == "." else rel.as_posix()


def status_tables(status: LedgerStatus) -> list[Rows]:
    """Per job of a ledger: its tiles, and its last five runs when it ran."""
    out = []
    for job in status.jobs:
        name = job["name"]
        head = ", ".join(f"{n} {k}" for k, n in status.counts[name].items() if n)
        tiles = [
            (
                t["tile_id"],
                t["status"] + ("" if t["current"] else " (superseded)"),
                str(t["attempts"]),
                _num(t["seconds"], ".1f"),
                _num(t["peak_rss_mb"], ".0f"),
                t["worker"] or "",
                when(t["finished_at"]),
                _first_line(t["error"]),
            )
            for t in status.tiles
            if t["job"] == name
        ]
        out.append(
            Rows(
                f"Job {name!r} ({job['pipeline']}, tiles of {job['tile_size_px']} px on "
                f"{job['crs']}): {head or 'no tiles'}",
                (
                    "tile",
                    "status",
                    "attempts",
                    "seconds",
                    "peak MiB",
                    "worker",
                    "finished",
                    "error",
                ),
                tiles,
            )
        )
        runs = [
            (str(r["id"]), when(r["started_at"]), when(r["finished_at"]), r["status"])
            + tuple(str(r[k]) for k in ("ran", "skipped", "failed"))
            + (f"{r['host']}:{r['pid']}",)
            for r in status.runs
            if r["job"] == name
        ][-5:]
        if runs:
            columns = ("run", "started", "finished", "status", "ran", "skipped", "failed")
            out.append(Rows("Last runs", (*columns, "host:pid"), runs))
    return out


def jobs_tables(overview: dict[str, list[dict]], output: Path) -> list[Rows]:
    """The jobs under ``output`` with their tile states, their failed tiles, and the
    acquisitions a monitor processed (each table only when it has rows)."""
    jobs, acquisitions = overview["jobs"], overview["acquisitions"]
    rows = []
    for j in jobs:
        states = ", ".join(f"{n} {k}" for k, n in j["counts"].items() if n)
        last = j["last_run"]
        ran = f"{last['status']} {when(last['finished_at'] or last['started_at'])}" if last else ""
        tiles = f"{len(j['tiles'])}: {states or 'none'}"
        rows.append((_rel(j["folder"], output), j["job"], j["pipeline"], tiles, ran))
    failed = [
        (_rel(j["folder"], output), j["job"], t["tile_id"], str(t["attempts"]))
        + (_first_line(t["error"]),)
        for j in jobs
        for t in j["tiles"]
        if t["status"] == "failed"
    ]
    done = [
        (a["job"], a["acquired_at"], a["item_id"], a["status"], _rel(a["folder"], output))
        + (_first_line(a["error"]),)
        for a in acquisitions
    ]
    tables = [
        Rows(f"Jobs under {output}", ("folder", "job", "pipeline", "tiles", "last run"), rows),
        Rows(
            "Failed tiles (eo-drr jobs retry OUTPUT reruns them)",
            ("folder", "job", "tile", "attempts", "error"),
            failed,
        ),
        Rows(
            "Acquisitions processed by eo-drr monitor",
            ("job", "acquired (UTC)", "item", "status", "folder", "error"),
            done,
        ),
    ]
    return [t for t in tables if t.rows]


def scan_table(found: MonitorScan, *, dry_run: bool) -> Rows:
    """The new acquisitions a monitor found (``dry_run``: the title says nothing is processed)."""
    title = f"{len(found.new)} new acquisition(s)" + (
        f" since {found.since}" if found.since else ""
    )
    rows = [
        (
            f"{a.acquired_at:%Y-%m-%d %H:%M:%S}",
            str(a.relative_orbit or ""),
            "\n".join(it.id for it in a.items),
            "yes" if a.has_s2 else "no",
            a.folder,
        )
        for a in found.new
    ]
    return Rows(
        title + (" (dry run: nothing is processed)" if dry_run else ""),
        ("acquired (UTC)", "orbit", "items", "Sentinel-2 that day", "folder"),
        rows,
    )


def _threshold_row(th: dict) -> tuple[str, str]:
    if th["threshold_db"] != th["prior_db"]:
        how = _("the scene's own split, near the published prior")
    elif th.get("scene_threshold_db") is None:
        how = _("published prior; no bimodal tile")
    else:
        how = _("published prior")
    value = f"{th['polarisation'].upper()} {th['threshold_db']:.1f} dB ({how})"
    return _("water threshold"), value


def summary_table(summary: dict, root: Path, *, job: str) -> Rows:
    """The figures of the run of ``job`` into ``root`` (a ``summary`` of
    :class:`~eo_drr.engine.JobResult`, whole or tiled), in the current language; a row
    ``("warning", text)`` is a quality warning of the products (the face marks it)."""
    outputs = list(summary.get("outputs", {}).items())
    rows: list[tuple[str, str]]
    if "tiles" in summary:
        rows = [
            (_("tiles run"), str(len(summary["ran"]))),
            (_("tiles skipped (done, verified)"), str(len(summary["skipped"]))),
        ]
        if summary.get("up_to_date"):
            rows.append(
                (_("outputs"), _("up to date: nothing changed since the last run, nothing rebuilt"))
            )
        rows += [(_("compute"), summary["compute"]), *outputs]
        rows.append((_("job ledger"), f"eo-drr status {root}"))
        title = _("Job {job!r}: {tiles} tiles in {seconds:.1f} s")
        return Rows(
            title.format(job=job, tiles=summary["tiles"], seconds=summary["seconds"]), (), rows
        )
    rows = []
    if "flooded_ha" in summary:
        rows.append((_("flooded area"), _("{x:,.1f} ha").format(x=summary["flooded_ha"])))
    if "exposed_population" in summary:
        people = _("{n:,.0f} people (EO proxy)").format(n=summary["exposed_population"])
        rows.append((_("exposed population"), people))
    if "post" in summary.get("thresholds", {}):
        rows.append(_threshold_row(summary["thresholds"]["post"]))
    rows += [("warning", w) for w in summary.get("quality_warnings", [])]
    # other pipelines' own figures
    rows += [(what, str(value)) for what, value in summary.get("headline", {}).items()]
    if "observed_share" in summary:
        share = _("{share} of the grid").format(share=f"{100 * summary['observed_share']:.1f} %")
        rows.append((_("observed share"), share))
    rows += [*outputs, (_("run manifest"), str(root / "run.json"))]
    title = _("Job {job!r} finished in {seconds:.1f} s").format(job=job, seconds=summary["seconds"])
    return Rows(title, (), rows)
