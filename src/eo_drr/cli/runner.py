"""The command line's face of the job engine: call :mod:`eo_drr.engine`, render its events
(a rich progress display on a terminal, plain lines otherwise), print plans and summaries."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from eo_drr.config import JobConfig
from eo_drr.engine import Event, plan_job
from eo_drr.engine import run_job as engine_run

#: rich styles of the tile states
TILE_STYLE = {"done": "green", "skip": "cyan", "failed": "red", "rerun": "yellow"}


class ConsoleReporter:
    """Renders engine events: a progress bar per step on a terminal, one plain line per
    step otherwise (logs, CI, pipes); tiles and the compute target as lines either way."""

    def __init__(self, console: Console):
        self.console = console
        self.progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ConsoleReporter:
        if self.console.is_terminal:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, e: Event) -> None:
        c = self.console
        if e.kind == "tile":
            style = TILE_STYLE.get(e.state, "")
            text = f"{e.state:<7} {e.text} {e.detail}".rstrip()
            c.print(
                f"[{style}]{text}[/{style}]" if style else text, highlight=False, markup=bool(style)
            )
        elif e.kind == "compute":
            c.print(f"compute: {e.text}", highlight=False, markup=False)
            if e.detail:
                c.print(f"dask dashboard: {e.detail}", highlight=False, markup=False)
        elif self.progress is None:
            if e.kind == "step":
                c.print(f"{e.text} ...", highlight=False, markup=False)
            elif e.kind == "step_done":
                c.print(f"  done in {e.seconds or 0:.1f} s", highlight=False, markup=False)
            elif e.kind == "note":
                c.print(e.text, highlight=False, markup=False)
        elif e.kind == "step":
            self._tasks[e.text] = self.progress.add_task(e.text, total=None)
        elif e.kind == "tasks" and e.text in self._tasks:
            self.progress.update(self._tasks[e.text], total=e.total, completed=e.done)
        elif e.kind == "step_done" and e.text in self._tasks:
            self.progress.update(self._tasks.pop(e.text), total=1, completed=1)
        elif e.kind == "note":
            self.progress.console.print(e.text, highlight=False, markup=False)


def run_job(cfg: JobConfig, output: Path | None, *, dry_run: bool, console: Console) -> dict | None:
    """Plan ``cfg``; unless ``dry_run``, run it into ``output`` and print the summary."""
    if dry_run:
        with console.status("Searching the catalogue and resolving the plan..."):
            plan = plan_job(cfg, output)
        table = Table(title=f"Plan for job {cfg.name!r} (dry run: nothing is written)")
        table.add_column("what")
        table.add_column("value", overflow="fold")
        for what, value in plan.rows:
            table.add_row(what, value)
        console.print(table)
        return None
    with ConsoleReporter(console) as report:
        result = engine_run(cfg, output, report=report)
    print_summary(console, result.summary, result.folder, title=cfg.name)
    return result.summary


def run_tiled_job(
    cfg: JobConfig,
    output: Path | None,
    *,
    console: Console,
    tile_size_px: int | None = None,
    retry_failed: bool = False,
    dry_run: bool = False,
) -> dict | None:
    """Run ``cfg`` tile by tile (resumable: the job ledger in the output folder skips verified
    tiles), then print what ran, what was skipped and where the mosaics are."""
    if dry_run:
        from eo_drr.config import TilingConfig

        size = tile_size_px or (cfg.tiling or TilingConfig()).tile_size_px
        with console.status("Searching the catalogue and resolving the plan..."):
            plan = plan_job(cfg, output, tile_size_px=size)
        table = Table(title=f"Tiles of job {cfg.name!r} (dry run: nothing is written)")
        for col in ("tile", "pixels", "bounds (m)"):
            table.add_column(col)
        for t in plan.tiles or ():
            table.add_row(
                t.id,
                f"{t.geobox.shape.x} x {t.geobox.shape.y}",
                ", ".join(f"{v:.0f}" for v in t.bounds),
            )
        console.print(
            f"{len(plan.tiles or ())} tiles of {size} px on {plan.crs} "
            f"(output folder {plan.folder}, tiles under {plan.folder / 'tiles'})"
        )
        console.print(table)
        return None
    with ConsoleReporter(console) as report:
        result = engine_run(
            cfg, output, report=report, tile_size_px=tile_size_px, retry_failed=retry_failed
        )
    print_summary(console, result.summary, result.folder, title=cfg.name)
    return result.summary


def print_summary(console: Console, summary: dict, root: Path, *, title: str) -> None:
    """The figures of a finished run (whole or tiled) as one table."""
    if "tiles" in summary:
        t = Table(
            title=f"Job {title!r}: {summary['tiles']} tiles in {summary['seconds']:.1f} s",
            show_header=False,
        )
        t.add_row("tiles run", str(len(summary["ran"])))
        t.add_row("tiles skipped (done, verified)", str(len(summary["skipped"])))
        if summary.get("up_to_date"):
            t.add_row("outputs", "up to date: nothing changed since the last run, nothing rebuilt")
        t.add_row("compute", summary["compute"])
        for name, path in summary.get("outputs", {}).items():
            t.add_row(name, path)
        t.add_row("job ledger", f"eo-drr status {root}")
        console.print(t)
        return
    t = Table(title=f"Job {title!r} finished in {summary['seconds']:.1f} s", show_header=False)
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
        t.add_row(
            "water threshold", f"{th['polarisation'].upper()} {th['threshold_db']:.1f} dB ({how})"
        )
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
