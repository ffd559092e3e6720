"""What the faces show of an output folder's job ledgers: the status of one tiled job's folder
(``eo-drr status``) and the jobs and monitored acquisitions under a folder (``eo-drr jobs``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eo_drr.engine.ledgers import find_ledgers, job_summaries
from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.jobs.ledger import LEDGER_NAME, JobLedger


@dataclass(frozen=True)
class LedgerStatus:
    """The ledger of one output folder: its ``jobs``, their ``tiles`` (current ones, or every
    fingerprint), their ``runs``, and each job's tile ``counts`` by state."""

    jobs: list[dict]
    tiles: list[dict]
    runs: list[dict]
    counts: dict[str, dict[str, int]]

    def as_json(self) -> dict[str, Any]:
        return {"jobs": self.jobs, "tiles": self.tiles, "runs": self.runs}


def ledger_status(output: Path, *, all_fingerprints: bool = False) -> LedgerStatus:
    """The job ledger of ``output`` (a tiled job's output folder); ``all_fingerprints``: also
    the tiles' earlier fingerprints (superseded inputs)."""
    ledger = JobLedger.existing(output)
    if ledger is None:
        raise InputError(
            _(
                "{output}: no job ledger ({file}) here; is it the output folder of a tiled job?"
            ).format(output=output, file=LEDGER_NAME)
        )
    tiles = ledger.tiles(current_only=not all_fingerprints)
    for t in tiles:
        t["inputs"] = json.loads(t["inputs"])
        t["bounds"] = json.loads(t["bounds"])
    jobs = ledger.jobs()
    return LedgerStatus(
        jobs, tiles, ledger.runs(), {j["name"]: ledger.counts(j["name"]) for j in jobs}
    )


def jobs_overview(output: Path) -> dict[str, list[dict]]:
    """``{"jobs": [...], "acquisitions": [...]}`` of the ledgers of ``output`` and of its direct
    sub-folders (the per-acquisition folders of ``eo-drr monitor``)."""
    ledgers = find_ledgers(output)
    if not ledgers:
        raise InputError(
            _(
                "{output}: no job ledger ({file}) here or in its sub-folders; is it the "
                "output folder of a tiled job or of eo-drr monitor?"
            ).format(output=output, file=LEDGER_NAME)
        )
    return {
        "jobs": [s for led in ledgers for s in job_summaries(led)],
        "acquisitions": [
            dict(a, folder=str(led.root / a["folder"]))
            for led in ledgers
            for a in led.acquisitions()
        ],
    }
