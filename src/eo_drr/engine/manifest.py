"""``run.json`` and the STAC catalogue of a run's outputs, written last, inside the staging."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from eo_drr.config import CATALOG_PRESETS, JobConfig
from eo_drr.engine.versions import collect_versions
from eo_drr.errors import OutputError
from eo_drr.i18n import gettext as _
from eo_drr.io.atomic import atomic_write_text
from eo_drr.publish import OutputFolder
from eo_drr.publish.demo_marks import catalog_is_synthetic
from eo_drr.publish.report_pdf import write_report_pdf
from eo_drr.publish.stac_outputs import CatalogNames, OutputAsset, write_output_catalog

#: files the output catalogue itself writes
CATALOG_FILES = ("catalog.json", "outputs.item.json")


def write_manifest_and_catalog(cfg: JobConfig, out: OutputFolder, summary: dict) -> None:
    """``run.json``, then, last, the STAC catalogue of every staged output (each verified and
    checksummed first)."""
    write_report_pdf(cfg.outputs.formats, out, summary)
    manifest = {
        "job": cfg.name,
        "pipeline": cfg.pipeline,
        "config": json.loads(cfg.model_dump_json()),
        "versions": collect_versions(),
        "synthetic_demo": synthetic_job(cfg),
        "summary": summary,
    }
    atomic_write_text(
        out.path("run.json"), json.dumps(manifest, indent=2, sort_keys=True, default=str)
    )
    files = sorted(
        f.relative_to(out.path("")).as_posix() for f in out.path("").rglob("*") if f.is_file()
    )
    write_output_catalog(
        out.path(""),
        [
            OutputAsset(
                f,
                key=f.replace("/", "_").replace(".", "_"),
                roles=("metadata",) if f == "run.json" else ("data",),
            )
            for f in files
            if f not in CATALOG_FILES
        ],
        "run.json",
        datetime=summary.get("event_date") or cfg.time.post.start.isoformat(),
        names=CatalogNames(cfg.name, f"eo-drr outputs of {cfg.name}"),
    )


def synthetic_job(cfg: JobConfig) -> bool:
    """True when the job runs on eo-drr's synthetic demo scene (``catalog: demo``, or a copy
    of a demo catalogue named by path)."""
    cat = cfg.sources.catalog
    local = "://" not in cat and cat not in CATALOG_PRESETS and not cat.startswith("dhus:")
    return catalog_is_synthetic(cat, Path(cfg.resolve_path(cat)) if local else None)


def input_files(cfg: JobConfig, plan: Any) -> list[Path]:
    """The local files a job reads: the job's static catalogue and the plan's ``*_path`` files."""
    found = []
    cat = cfg.sources.catalog
    if (
        "://" not in cat
        and cat not in CATALOG_PRESETS
        and not cat.startswith(("cdse-odata", "dhus:"))
    ):
        found.append(Path(cfg.resolve_path(cat)))
    for f in dataclasses.fields(plan):
        value = getattr(plan, f.name)
        if f.name.endswith("_path") and isinstance(value, str) and "://" not in value:
            found.append(Path(value))
    return found


def refuse_output_over_inputs(cfg: JobConfig, plan: Any, folder: Path) -> None:
    """The output folder must not hold any input of the job: a run commits ``catalog.json``,
    ``run.json`` and its layers there, and would replace the job's own files."""
    root = folder.resolve()
    for p in input_files(cfg, plan):
        p = p.resolve()
        if root == p or root in p.parents:
            raise OutputError(
                _(
                    "output folder {folder}: it holds an input of the job ({input}); a run would "
                    "write over it: choose another output folder"
                ).format(folder=folder, input=p)
            )
