"""Reading job ledgers for the faces: the jobs of an output folder (and of its per-acquisition
sub-folders) with their tile states, and what a retry of failed tiles would rerun."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from eo_drr.config import JobConfig, parse_config
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.jobs.ledger import LEDGER_NAME, JobLedger


def find_ledgers(output: Path) -> list[JobLedger]:
    """The ledger of ``output`` and those of its direct sub-folders, sorted by folder."""
    if not output.is_dir():
        raise InputError(
            _("{output}: no such folder (give the output folder of a job)").format(output=output)
        )
    folders = [
        output,
        *sorted(p for p in output.iterdir() if p.is_dir() and not p.name.startswith(".")),
    ]
    found = [JobLedger.existing(f) for f in folders]
    return [led for led in found if led is not None]


def job_summaries(ledger: JobLedger) -> list[dict]:
    """One dict per job of ``ledger``: settings, tile counts, each current tile's state, last run."""
    out = []
    for job in ledger.jobs():
        tiles = ledger.tiles(job["name"])
        runs = ledger.runs(job["name"])
        out.append(
            {
                "folder": str(ledger.root),
                "job": job["name"],
                "pipeline": job["pipeline"],
                "tile_size_px": job["tile_size_px"],
                "crs": job["crs"],
                "counts": ledger.counts(job["name"]),
                "tiles": [
                    {k: t[k] for k in ("tile_id", "status", "attempts", "seconds", "error")}
                    for t in tiles
                ],
                "last_run": {
                    k: runs[-1][k]
                    for k in (
                        "id",
                        "status",
                        "started_at",
                        "finished_at",
                        "ran",
                        "skipped",
                        "failed",
                    )
                }
                if runs
                else None,
                "retryable": bool(job.get("config")),
            }
        )
    return out


def retry_targets(
    output: Path, *, job: str | None = None
) -> Iterator[tuple[str, JobConfig | None, list[str], int]]:
    """For each job of the ledger of ``output`` (or just ``job``): its name, its settings as
    recorded (None when no tile failed: nothing to rerun), the ids of its failed tiles (their
    attempts are given back when the job reruns with ``retry_failed``) and its tile size."""
    ledger = JobLedger.existing(output)
    if ledger is None:
        raise InputError(
            _(
                "{output}: no job ledger ({ledger_name}) here; give the output folder of a tiled "
                "job"
            ).format(output=output, ledger_name=LEDGER_NAME)
        )
    names = [j["name"] for j in ledger.jobs()]
    if job is not None and job not in names:
        raise InputError(
            _("--job {job}: no such job in {path} (jobs: {names})").format(
                job=job, path=ledger.path, names=", ".join(names) or _("none")
            )
        )
    for name in [job] if job is not None else names:
        row = ledger.job(name)
        if row is None:  # listed a moment ago: the ledger changed under us
            raise InputError(
                _("job {name!r}: no longer in {path}").format(name=name, path=ledger.path)
            )
        failed = [t["tile_id"] for t in ledger.failed_tiles(name)]
        if not failed:
            yield name, None, [], row["tile_size_px"]
            continue
        if not row.get("config"):
            raise InputError(
                _(
                    "job {name!r} in {path} was recorded without its settings (an older eo-drr); "
                    "rerun it with: eo-drr run JOB.yaml -o {output} --retry-failed"
                ).format(name=name, path=ledger.path, output=output)
            )
        cfg = parse_config(
            json.loads(row["config"]),
            source=f"{ledger.path} (job {name})",
            base_dir=Path(row["base_dir"]) if row.get("base_dir") else output,
        )
        yield name, cfg, failed, row["tile_size_px"]
