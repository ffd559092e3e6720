"""Running a job from the CLI: plan, stage outputs, compute with progress, commit, summarise."""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from eo_drr.cli.versions import collect_versions
from eo_drr.config import JobConfig
from eo_drr.io.atomic import atomic_write_text
from eo_drr.jobs.cluster import compute_context
from eo_drr.jobs.progress import Steps
from eo_drr.pipelines import get_pipeline
from eo_drr.publish import OutputFolder
from eo_drr.publish.stac_outputs import OutputAsset, write_output_catalog


class RichSteps(Steps):
    """Steps shown as a rich progress display; dask tasks of a step drive its bar."""

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress
        self._task = None

    @contextlib.contextmanager
    def step(self, description: str):
        self._task = self.progress.add_task(description, total=None)
        with super().step(description):
            yield
        self.progress.update(self._task, total=1, completed=1)

    def dask_callback(self, description: str):
        from dask.callbacks import Callback

        steps = self

        class _Cb(Callback):
            def _start_state(self, dsk, state):
                self._n = len(state["ready"]) + len(state["waiting"]) + len(state["running"])
                steps.progress.update(steps._task, total=max(self._n, 1), completed=0)

            def _posttask(self, key, result, dsk, state, worker_id):
                steps.progress.update(steps._task, completed=len(state["finished"]))

        return _Cb()


#: files the output catalogue itself writes
CATALOG_FILES = ("catalog.json", "outputs.item.json")


def run_job(cfg: JobConfig, output: Path | None, *, dry_run: bool, console: Console) -> dict | None:
    """Plan ``cfg``; unless ``dry_run``, run it into ``output`` and print the summary."""
    pipeline = get_pipeline(cfg.pipeline)
    out = OutputFolder(output if output is not None else Path(cfg.outputs.dir))
    if not dry_run:
        out.check_writable()  # fail before any long work
    with console.status("Searching the catalogue and resolving the plan..."):
        plan = pipeline.plan(cfg)
    if dry_run:
        table = Table(title=f"Plan for job {cfg.name!r} (dry run: nothing is written)")
        table.add_column("what")
        table.add_column("value", overflow="fold")
        for what, value in plan.describe():
            value = str(out.final(value)) if what == "output" else value
            table.add_row(what, value)
        console.print(table)
        return None

    from eo_drr.jobs.ledger import JobLock

    t0 = time.perf_counter()
    # the lock first: two runs into one folder would mix their files (one refuses), and
    # opening the folder cleans temporary files that may belong to the other run
    created = not out.root.exists()
    lock = JobLock(out.root, remove=True)
    try:
        lock.acquire()
    except BaseException:
        if created:
            shutil.rmtree(out.root, ignore_errors=True)
        raise
    try:
        out.open()
    except BaseException:
        lock.release()
        raise
    try:
        progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
            console=console, transient=False,
        )
        with progress, compute_context(cfg.cluster, base_dir=cfg.base_dir) as where:
            if "dashboard:" in where:
                console.print(f"compute: {where}", highlight=False, markup=False)
            steps = RichSteps(progress)
            summary = pipeline.run(cfg, plan, out, steps)
        summary["seconds"] = round(time.perf_counter() - t0, 2)
        summary["step_seconds"] = {k: round(v, 2) for k, v in steps.timings.items()}
        summary["compute"] = where
        _write_manifest_and_catalog(cfg, out, summary)
        out.commit()
    except BaseException:
        lock.release()
        out.abort()
        if created:  # leave no folder behind that this run created
            with contextlib.suppress(OSError):
                out.root.rmdir()
        raise
    lock.release()
    _print_summary(console, cfg, summary, out.root)
    return summary


def _write_manifest_and_catalog(cfg: JobConfig, out: OutputFolder, summary: dict) -> None:
    """``run.json``, then, last, the STAC catalogue of every staged output (each verified and
    checksummed first)."""
    manifest = {
        "job": cfg.name,
        "pipeline": cfg.pipeline,
        "config": json.loads(cfg.model_dump_json()),
        "versions": collect_versions(),
        "summary": summary,
    }
    atomic_write_text(out.path("run.json"), json.dumps(manifest, indent=2, sort_keys=True, default=str))
    files = sorted(f.relative_to(out.path("")).as_posix() for f in out.path("").rglob("*") if f.is_file())
    write_output_catalog(
        out.path(""), [OutputAsset(f, key=f.replace("/", "_").replace(".", "_"),
                                   roles=("metadata",) if f == "run.json" else ("data",))
                       for f in files if f not in CATALOG_FILES],
        "run.json", datetime=summary.get("event_date") or cfg.time.post.start.isoformat(),
        catalog_id=cfg.name, title=f"eo-drr outputs of {cfg.name}",
    )


def run_tiled_job(cfg: JobConfig, output: Path | None, *, console: Console,
                  tile_size_px: int | None = None, retry_failed: bool = False,
                  dry_run: bool = False) -> dict | None:
    """Run ``cfg`` tile by tile (resumable: the job ledger in the output folder skips verified
    tiles), then commit the mosaics, tables, ``run.json`` and the STAC catalogue."""
    from eo_drr.config import TilingConfig
    from eo_drr.jobs.ledger import JobLock
    from eo_drr.jobs.tiling import tile_grid
    from eo_drr.pipelines.tiled import run_tiled

    root = output if output is not None else Path(cfg.outputs.dir)
    out = OutputFolder(root)
    if dry_run:
        tiling = cfg.tiling or TilingConfig()
        size = tile_size_px or tiling.tile_size_px
        with console.status("Searching the catalogue and resolving the plan..."):
            plan = get_pipeline(cfg.pipeline).plan(cfg)
        tiles = tile_grid(plan.geobox, size, plan.aoi)
        table = Table(title=f"Tiles of job {cfg.name!r} (dry run: nothing is written)")
        for col in ("tile", "pixels", "bounds (m)"):
            table.add_column(col)
        for t in tiles:
            table.add_row(t.id, f"{t.geobox.shape.x} x {t.geobox.shape.y}",
                          ", ".join(f"{v:.0f}" for v in t.bounds))
        console.print(f"{len(tiles)} tiles of {size} px on {plan.geobox.crs} "
                      f"(output folder {out.root}, tiles under {out.root / 'tiles'})")
        console.print(table)
        return None
    out.check_writable()
    t0 = time.perf_counter()

    def on_event(kind: str, tile: str, detail: str) -> None:
        style = {"done": "green", "skip": "cyan", "failed": "red", "rerun": "yellow"}.get(kind, "")
        text = f"{kind:<7} {tile} {detail}".rstrip()
        console.print(f"[{style}]{text}[/{style}]" if style else text, highlight=False, markup=bool(style))

    def on_cluster(target) -> None:
        console.print(f"compute: {target.description}", highlight=False, markup=False)
        if target.dashboard:
            console.print(f"dask dashboard: {target.dashboard}", highlight=False, markup=False)

    root.mkdir(parents=True, exist_ok=True)
    with JobLock(root):
        out.open()
        try:
            summary = run_tiled(cfg, root, tile_size_px=tile_size_px, retry_failed=retry_failed,
                                out=out, on_event=on_event, on_cluster=on_cluster)
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            if summary.get("outputs"):
                _write_manifest_and_catalog(cfg, out, summary)
            out.commit()
        except BaseException:
            out.abort()
            raise
    t = Table(title=f"Job {cfg.name!r}: {summary['tiles']} tiles in {summary['seconds']:.1f} s", show_header=False)
    t.add_row("tiles run", str(len(summary["ran"])))
    t.add_row("tiles skipped (done, verified)", str(len(summary["skipped"])))
    if summary.get("up_to_date"):
        t.add_row("outputs", "up to date: nothing changed since the last run, nothing rebuilt")
    t.add_row("compute", summary["compute"])
    for name, path in summary.get("outputs", {}).items():
        t.add_row(name, path)
    t.add_row("job ledger", f"eo-drr status {root}")
    console.print(t)
    return summary


def _print_summary(console: Console, cfg: JobConfig, summary: dict, root: Path) -> None:
    t = Table(title=f"Job {cfg.name!r} finished in {summary['seconds']:.1f} s", show_header=False)
    if "flooded_ha" in summary:
        t.add_row("flooded area", f"{summary['flooded_ha']:,.1f} ha")
    if "exposed_population" in summary:
        t.add_row("exposed population", f"{summary['exposed_population']:,.0f} people (EO proxy)")
    if "thresholds" in summary and "post" in summary["thresholds"]:
        th = summary["thresholds"]["post"]
        if th["threshold_db"] != th["prior_db"]:
            how = "the scene's own split, near the published prior"
        elif th.get("scene_threshold_db") is None:
            how = "published prior; no bimodal tile"
        else:
            how = "published prior"
        t.add_row("water threshold", f"{th['polarisation'].upper()} {th['threshold_db']:.1f} dB ({how})")
    for w in summary.get("quality_warnings", []):
        t.add_row("[yellow]warning[/yellow]", w)
    for what, value in summary.get("headline", {}).items():  # other pipelines' own figures
        t.add_row(what, str(value))
    if "observed_share" in summary:
        t.add_row("observed share", f"{100 * summary['observed_share']:.1f} % of the grid")
    for name, path in summary.get("outputs", {}).items():
        t.add_row(name, path)
    t.add_row("run manifest", str(root / "run.json"))
    console.print(t)
