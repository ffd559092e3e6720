"""The ``eo-drr`` command: parse, call the engine or the API, print."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from eo_drr.cli.options import AsJson, DryRun, JobFile, JobOutput, TileSize
from eo_drr.errors import EODRRError, InputError
from eo_drr.i18n import gettext as _
from eo_drr.i18n.commands import LangGroup, LangOption
from eo_drr.i18n.framework import usage_error_text

if TYPE_CHECKING:
    from eo_drr.config import JobConfig

app = typer.Typer(
    name="eo-drr",
    help=(
        "Turn Copernicus Sentinel-1/-2 imagery into disaster-risk layers: flood maps, "
        "exposure per administrative unit, Sendai-framework EO proxies.\n\n"
        "Start with `eo-drr demo` (no internet needed), then `eo-drr init` writes its job "
        "(demo.yaml, or a real event's: --event) to point at your own area and dates."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    cls=LangGroup,
)

err_console = Console(stderr=True)
console = Console()
_state = {"debug": False}


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks and debug logs.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each step.")] = False,
    lang: LangOption = None,  # taken by LangGroup before parsing (help is translated too)
) -> None:
    from eo_drr.api.logs import configure_logging

    _state["debug"] = debug
    configure_logging(debug=debug, verbose=verbose)


def _run(
    cfg: JobConfig,
    output: Path | None,
    *,
    tile_size_px: int | None = None,
    retry_failed: bool = False,
    dry_run: bool = False,
) -> None:
    """Plan ``cfg`` (``dry_run``) or run it through the API, whole or tiled, and print."""
    from eo_drr.api import run as api_run
    from eo_drr.cli.render import ConsoleReporter, print_plan, print_summary
    from eo_drr.engine import plan_job

    if dry_run:
        with console.status(_("Searching the catalogue and resolving the plan") + "..."):
            plan = plan_job(cfg, output, tile_size_px=tile_size_px)
        print_plan(console, plan)
        return
    with ConsoleReporter(console) as report:
        result = api_run(
            cfg, output, progress=report, tile_size_px=tile_size_px, retry_failed=retry_failed
        )
    print_summary(console, result.summary, result.folder, job=cfg.name)


@app.command()
def run(
    config: JobFile,
    output: JobOutput = None,
    dry_run: DryRun = False,
    tile_size: TileSize = None,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed", help="Tiled jobs: retry failed tiles even past tiling.max_attempts."
        ),
    ] = False,
) -> None:
    """Run a job file: search, load, compute the products, write maps and tables.

    With a `tiling:` section or `--tile-size`, the job runs tile by tile on the job's
    `cluster:`; a job ledger in the output folder makes a rerun skip the tiles that are done
    and whose outputs verify, and rerun only tiles whose inputs changed.
    """
    from eo_drr.api import load_job

    _run(
        load_job(config), output, tile_size_px=tile_size, retry_failed=retry_failed, dry_run=dry_run
    )


@app.command()
def status(
    output: Annotated[Path, typer.Argument(help="The output folder of a tiled job.")],
    as_json: AsJson = False,
    all_fingerprints: Annotated[
        bool,
        typer.Option("--all", help="Also list tiles' earlier fingerprints (superseded inputs)."),
    ] = False,
) -> None:
    """Print the job ledger of an output folder: each tile's state, attempts, time, memory, error."""
    from eo_drr.cli.render import show
    from eo_drr.engine.status import ledger_status
    from eo_drr.engine.tables import status_tables

    found = ledger_status(output, all_fingerprints=all_fingerprints)
    if as_json:
        console.print_json(json.dumps(found.as_json(), default=str))
        return
    for rows in status_tables(found):
        show(console, rows)


@app.command()
def jobs(
    words: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[OUTPUT] | retry OUTPUT",
            help="An output folder (default: the current folder), or `retry OUTPUT`.",
        ),
    ] = None,
    job: Annotated[
        str | None,
        typer.Option("--job", help="retry: only this job (default: every job with failed tiles)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List jobs and their tile states, or retry failed tiles.

    `eo-drr jobs [OUTPUT]` reads the job ledger of OUTPUT and of its sub-folders (the
    per-acquisition folders of `eo-drr monitor`). `eo-drr jobs retry OUTPUT [--job NAME]` gives
    failed tiles their attempts back and reruns the job with the settings recorded in the ledger
    (as `eo-drr run JOB -o OUTPUT --retry-failed`); verified tiles are skipped.
    """
    from eo_drr.cli.render import show
    from eo_drr.engine.ledgers import retry_targets
    from eo_drr.engine.status import jobs_overview
    from eo_drr.engine.tables import jobs_tables

    words = list(words or [])
    if words[:1] == ["retry"]:
        if len(words) != 2:
            raise InputError(
                _("usage: eo-drr jobs retry OUTPUT [--job NAME] (give exactly one output folder)")
            )
        for name, cfg, failed, size in retry_targets(Path(words[1]), job=job):
            if cfg is None:
                nothing = _("job {name!r}: no failed tiles; nothing to retry").format(name=name)
                console.print(nothing, highlight=False)
                continue
            what = _("job {name!r}: retrying {n} failed tile(s): {tiles}").format(
                name=name, n=len(failed), tiles=", ".join(failed)
            )
            console.print(what, highlight=False)
            _run(cfg, Path(words[1]), tile_size_px=size, retry_failed=True)
        return
    if len(words) > 1:
        raise InputError(
            _(
                "eo-drr jobs takes one output folder, got {n}: {words} "
                "(to retry failed tiles: eo-drr jobs retry OUTPUT)"
            ).format(n=len(words), words=" ".join(words))
        )
    if job is not None:
        raise InputError(_("--job applies to `eo-drr jobs retry OUTPUT --job NAME`"))
    folder = Path(words[0]) if words else Path(".")
    overview = jobs_overview(folder)
    if as_json:
        console.print_json(json.dumps(overview, default=str))
        return
    for rows in jobs_tables(overview, folder):
        show(console, rows)


@app.command()
def monitor(
    config: Annotated[
        Path,
        typer.Argument(
            help=(
                "A YAML flood or water-series job file; the search starts at time.post.start "
                "(a flood job's event date)."
            )
        ),
    ],
    output: JobOutput = None,
    tile_size: TileSize = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the new acquisitions and process nothing.")
    ] = False,
) -> None:
    """Process only the post-event Sentinel-1 acquisitions that are new since the last run (for cron).

    Searches the catalogue from `time.post.start` up to now (`time.post.end` is not a limit
    here) for acquisitions newer than the newest one recorded in the ledger of OUTPUT for this
    job and AOI; each becomes its own event run in `OUTPUT/<date>_r<orbit>/` and is recorded.
    With nothing new it prints "nothing new since <date>" and exits 0.
    """
    from eo_drr.cli.render import ConsoleReporter, print_summary, show
    from eo_drr.config import load_config
    from eo_drr.engine.monitor import MonitorScan, run_monitor, scan_new
    from eo_drr.engine.tables import scan_table

    cfg = load_config(config)

    def on_scan(found: MonitorScan) -> None:
        if found.new:
            show(console, scan_table(found, dry_run=dry_run))
        else:
            since = found.since or f"{cfg.time.post.start.isoformat()} (time.post.start)"
            nothing = _("nothing new since {date}").format(date=since)
            console.print(nothing, highlight=False, markup=False)

    if dry_run:
        on_scan(scan_new(cfg, output, tile_size_px=tile_size))
        return
    with ConsoleReporter(console) as report:
        _scan, results = run_monitor(
            cfg, output, report=report, tile_size_px=tile_size, on_scan=on_scan
        )
    for r in results:
        print_summary(console, r["summary"], Path(r["folder"]), job=cfg.name)


@app.command()
def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder.")] = Path(
        "demo-output"
    ),
    size: Annotated[
        int | None,
        typer.Option(
            help="Scene size in pixels per side (10 m pixels; default 1024).", min=64, max=8192
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed of the synthetic scene.", min=0)
    ] = None,
    dry_run: DryRun = False,
) -> None:
    """Run the bundled demo job (`eo-drr init` writes it) on a synthetic scene with known truth.

    The scene (Sentinel-1 before/after a flood, Sentinel-2, HAND, population, municipalities)
    is generated on first use into the cache folder (EO_DRR_CACHE, default ~/.cache/eo-drr).
    """
    from eo_drr.api import demo_job

    _run(demo_job(size=size, seed=seed), output, dry_run=dry_run)


@app.command()
def versions(as_json: AsJson = False) -> None:
    """Print versions of Python, GDAL, PROJ, GEOS and key packages (paste them in bug reports)."""
    from eo_drr.cli.render import table
    from eo_drr.engine.versions import collect_versions

    info = collect_versions()
    if as_json:
        console.print_json(json.dumps(info))
        return
    console.print(table(_("eo-drr environment"), (), ((k, str(v)) for k, v in info.items())))


from eo_drr.cli import data as _data  # noqa: E402
from eo_drr.cli import rasters as _rasters  # noqa: E402

_data.register(app, console)
_rasters.register(app, console)


def main() -> None:
    """Console entry point: user errors become one plain line and a non-zero exit."""
    from eo_drr.api.logs import quiet_known_noise

    quiet_known_noise()
    try:
        app(standalone_mode=False)
    except EODRRError as exc:
        if _state["debug"]:
            raise
        msg = str(exc).strip()
        lines = msg.splitlines() or [type(exc).__name__]
        prefix = _("error: ")
        err_console.print(Text(prefix, style="bold red") + Text(lines[0]), soft_wrap=True)
        for line in lines[1:]:
            err_console.print(Text(" " * len(prefix) + line), soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print(_("interrupted"))
        sys.exit(130)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        sys.exit(code or 0)
    except Exception as exc:  # click usage errors and real bugs
        # by class name: typer >= 0.22 raises its vendored click's exceptions (typer._click)
        kinds = {c.__name__ for c in type(exc).__mro__}
        if "NoArgsIsHelpError" in kinds:  # the help, which click shows itself
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if "ClickException" in kinds:
            typer.echo(usage_error_text(exc), err=True)
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if "Abort" in kinds:
            sys.exit(1)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
