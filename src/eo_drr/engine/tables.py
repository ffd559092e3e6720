"""The faces' tables in plain words: a finished run's figures, and what ``eo-drr status``,
``eo-drr jobs`` and ``eo-drr monitor`` show of the job ledgers, as (title, columns, rows) of text. A face adds only its
looks (the command line colours the tile and job states)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from eo_drr.i18n import N_, ngettext
from eo_drr.i18n import gettext as _

if TYPE_CHECKING:
    from eo_drr.engine.monitor import MonitorScan
    from eo_drr.engine.status import LedgerStatus


#: the states of the ledgers' tiles, runs and acquisitions, and of the tile events of a run
STATES = {
    "pending": N_("pending"),
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
    "skip": N_("skip"),
    "rerun": N_("rerun"),
}


def state_word(state: str) -> str:
    """A state's word in the current language (an unknown state as it is)."""
    return _(STATES[state]) if state in STATES else state


def count_text(state: str, n: int) -> str:
    """``3 done``: a count of one state, in the current language (its plural form)."""
    texts = {
        "pending": ngettext("{n} pending", "{n} pending", n),
        "running": ngettext("{n} running", "{n} running", n),
        "done": ngettext("{n} done", "{n} done", n),
        "failed": ngettext("{n} failed", "{n} failed", n),
    }
    return texts[state].format(n=n) if state in texts else f"{n} {state}"


def state_forms() -> dict[str, str]:
    """Each word the tables use for a state in the current language (singular, and the plural
    of a count), with its state: how a face finds the states to colour them."""
    forms = {state_word(s): s for s in STATES}
    for s in STATES:
        for n in (1, 2):
            forms[count_text(s, n).replace(str(n), "", 1).strip()] = s
    return forms


def _counts(counts: dict[str, int], nothing: str) -> str:
    """``3 done, 1 failed`` (the states with a count), or ``nothing``."""
    return ", ".join(count_text(k, n) for k, n in counts.items() if n) or nothing


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
        tiles = [
            (
                t["tile_id"],
                state_word(t["status"])
                if t["current"]
                else _("{state} (superseded)").format(state=state_word(t["status"])),
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
        title = _("Job {name!r} ({pipeline}, tiles of {size} px on {crs}): {counts}").format(
            name=name,
            pipeline=job["pipeline"],
            size=job["tile_size_px"],
            crs=job["crs"],
            counts=_counts(status.counts[name], _("no tiles")),
        )
        columns = (
            _("tile"),
            _("status"),
            _("attempts"),
            _("seconds"),
            _("peak MiB"),
            _("worker"),
            _("finished"),
            _("error"),
        )
        out.append(Rows(title, columns, tiles))
        runs = [
            (str(r["id"]), when(r["started_at"]), when(r["finished_at"]), state_word(r["status"]))
            + tuple(str(r[k]) for k in ("ran", "skipped", "failed"))
            + (f"{r['host']}:{r['pid']}",)
            for r in status.runs
            if r["job"] == name
        ][-5:]
        if runs:
            columns = (
                _("run"),
                _("started"),
                _("finished"),
                _("status"),
                _("ran"),
                _("skipped"),
                _("failed"),
                _("host:pid"),
            )
            out.append(Rows(_("Last runs"), columns, runs))
    return out


def jobs_tables(overview: dict[str, list[dict]], output: Path) -> list[Rows]:
    """The jobs under ``output`` with their tile states, their failed tiles, and the
    acquisitions a monitor processed (each table only when it has rows)."""
    jobs, acquisitions = overview["jobs"], overview["acquisitions"]
    rows = []
    for j in jobs:
        last = j["last_run"]
        ran = (
            f"{state_word(last['status'])} {when(last['finished_at'] or last['started_at'])}"
            if last
            else ""
        )
        tiles = f"{len(j['tiles'])}: {_counts(j['counts'], _('none'))}"
        rows.append((_rel(j["folder"], output), j["job"], j["pipeline"], tiles, ran))
    failed = [
        (_rel(j["folder"], output), j["job"], t["tile_id"], str(t["attempts"]))
        + (_first_line(t["error"]),)
        for j in jobs
        for t in j["tiles"]
        if t["status"] == "failed"
    ]
    done = [
        (a["job"], a["acquired_at"], a["item_id"], state_word(a["status"]))
        + (_rel(a["folder"], output), _first_line(a["error"]))
        for a in acquisitions
    ]
    tables = [
        Rows(
            _("Jobs under {folder}").format(folder=output),
            (_("folder"), _("job"), _("pipeline"), _("tiles"), _("last run")),
            rows,
        ),
        Rows(
            _("Failed tiles (eo-drr jobs retry OUTPUT reruns them)"),
            (_("folder"), _("job"), _("tile"), _("attempts"), _("error")),
            failed,
        ),
        Rows(
            _("Acquisitions processed by eo-drr monitor"),
            (_("job"), _("acquired (UTC)"), _("item"), _("status"), _("folder"), _("error")),
            done,
        ),
    ]
    return [t for t in tables if t.rows]


def scan_table(found: MonitorScan, *, dry_run: bool) -> Rows:
    """The new acquisitions a monitor found (``dry_run``: the title says nothing is processed)."""
    n = len(found.new)
    if found.since:
        title = _("{n} new acquisition(s) since {date}").format(n=n, date=found.since)
    else:
        title = _("{n} new acquisition(s)").format(n=n)
    if dry_run:
        title = _("{title} (dry run: nothing is processed)").format(title=title)
    rows = [
        (
            f"{a.acquired_at:%Y-%m-%d %H:%M:%S}",
            str(a.relative_orbit or ""),
            "\n".join(it.id for it in a.items),
            _("yes") if a.has_s2 else _("no"),
            a.folder,
        )
        for a in found.new
    ]
    columns = (_("acquired (UTC)"), _("orbit"), _("items"), _("Sentinel-2 that day"), _("folder"))
    return Rows(title, columns, rows)


def _threshold_row(th: dict) -> tuple[str, str]:
    if th["threshold_db"] != th["prior_db"]:
        how = _("the scene's own split, near the published prior")
    elif th.get("scene_threshold_db") is None:
        how = _("published prior; no bimodal tile")
    else:
        how = _("published prior")
    value = f"{th['polarisation'].upper()} {th['threshold_db']:.1f} dB ({how})"
    return _("water threshold"), value


#: the words for the output keys of the pipelines' ``OUTPUTS`` in the run summary (a key not
#: listed shows with spaces for underscores; a tiled job's keys are file names, shown as they are)
OUTPUT_LABELS = {
    "flood": N_("flood extent"),
    "water": N_("observed water"),
    "likelihood": N_("water likelihood"),
    "provenance": N_("water provenance"),
    "reference_water": N_("reference water"),
    "exclusion": N_("exclusion mask"),
    "log_ratio": N_("change (log ratio, dB)"),
    "water_source": N_("water source"),
    "depth": N_("flood depth"),
    "hazard": N_("hazard classes"),
    "table_csv": N_("table per unit (CSV)"),
    "table_parquet": N_("table per unit (GeoParquet)"),
    "depth_csv": N_("exposure by depth (CSV)"),
    "depth_parquet": N_("exposure by depth (GeoParquet)"),
    "sendai": N_("Sendai EO proxies"),
    "report": N_("report"),
    "cube": N_("water series (Zarr cube)"),
    "frequency": N_("water frequency"),
    "observations": N_("valid observations"),
    "classes": N_("classes"),
    "growth": N_("urban growth"),
    "growth_hazard": N_("growth in hazard zones"),
    "extent": N_("wetland extent"),
    "extent_pre": N_("wetland extent (reference)"),
    "change": N_("wetland change"),
    "series_csv": N_("time series (CSV)"),
    "series_parquet": N_("time series (GeoParquet)"),
    "summary_csv": N_("summary (CSV)"),
    "summary_parquet": N_("summary (GeoParquet)"),
}


def _output_rows(outputs: dict) -> list[tuple[str, str]]:
    """``(words, path)`` per output; a path without a suffix is a stem written in several
    formats (the Sendai table): its files are listed."""
    rows = []
    for key, value in outputs.items():
        label = OUTPUT_LABELS.get(key)
        key = str(key)
        words = _(label) if label else key if "." in key else key.replace("_", " ")
        path = Path(str(value))
        if not path.suffix and not path.exists():
            found = sorted(path.parent.glob(path.name + ".*"))
            value = ", ".join(str(f) for f in found) if found else value
        rows.append((words, str(value)))
    return rows


def summary_table(summary: dict, root: Path, *, job: str) -> Rows:
    """The figures of the run of ``job`` into ``root`` (a ``summary`` of
    :class:`~eo_drr.engine.JobResult`, whole or tiled), in the current language; a row
    ``("warning", text)`` is a quality warning of the products (the face marks it)."""
    outputs = _output_rows(summary.get("outputs", {}))
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
