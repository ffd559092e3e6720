"""The ``eo-drr`` command."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from eo_drr.errors import EODRRError

#: ``--output/-o`` of the commands that run a job file
JobOutput = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Output folder (default: the job's outputs.dir)."),
]

app = typer.Typer(
    name="eo-drr",
    help=(
        "Turn Copernicus Sentinel-1/-2 imagery into disaster-risk layers: flood maps, "
        "exposure per administrative unit, Sendai-framework EO proxies.\n\n"
        "Start with `eo-drr demo` (no internet needed), then copy configs/demo.yaml and "
        "point it at your own area and dates."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
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
) -> None:
    _state["debug"] = debug
    level = logging.DEBUG if debug else (logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("rasterio", "urllib3", "numba", "fiona", "pyogrio", "distributed"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # odc-stac's "Failed to load" is folded into the one error line (``--debug`` shows it)
    logging.getLogger("odc.loader").propagate = level < logging.INFO
    # urllib3's retries are folded into the one error line (``--debug`` shows them)
    logging.getLogger("urllib3.connectionpool").setLevel(
        level if level < logging.INFO else logging.ERROR
    )


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="A YAML job file (see configs/demo.yaml).")],
    output: JobOutput = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the plan (items, grid, outputs) and write nothing."),
    ] = False,
    tile_size: Annotated[
        int | None,
        typer.Option(
            "--tile-size",
            min=32,
            max=16384,
            help="Run tile by tile: square tiles of this many output pixels on a fixed grid "
            "(overrides tiling.tile_size_px). Reruns skip finished tiles.",
        ),
    ] = None,
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
    from eo_drr.cli.runner import run_job, run_tiled_job
    from eo_drr.config import load_config

    cfg = load_config(config)
    if cfg.tiling is not None or tile_size is not None:
        run_tiled_job(
            cfg,
            output,
            console=console,
            tile_size_px=tile_size,
            retry_failed=retry_failed,
            dry_run=dry_run,
        )
    else:
        run_job(cfg, output, dry_run=dry_run, console=console)


@app.command()
def status(
    output: Annotated[Path, typer.Argument(help="The output folder of a tiled job.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    all_fingerprints: Annotated[
        bool,
        typer.Option("--all", help="Also list tiles' earlier fingerprints (superseded inputs)."),
    ] = False,
) -> None:
    """Print the job ledger of an output folder: each tile's state, attempts, time, memory, error."""
    from eo_drr.cli.status import print_status

    print_status(output, console, as_json=as_json, all_fingerprints=all_fingerprints)


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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """List jobs and their tile states, or retry failed tiles.

    `eo-drr jobs [OUTPUT]` reads the job ledger of OUTPUT and of its sub-folders (the
    per-acquisition folders of `eo-drr monitor`). `eo-drr jobs retry OUTPUT [--job NAME]` gives
    failed tiles their attempts back and reruns the job with the settings recorded in the ledger
    (as `eo-drr run JOB -o OUTPUT --retry-failed`); verified tiles are skipped.
    """
    from eo_drr.cli.jobs import print_jobs, retry_jobs
    from eo_drr.errors import InputError

    words = list(words or [])
    if words and words[0] == "retry":
        if len(words) != 2:
            raise InputError(
                "usage: eo-drr jobs retry OUTPUT [--job NAME] (give exactly one output folder)"
            )
        retry_jobs(Path(words[1]), console, job=job)
        return
    if len(words) > 1:
        raise InputError(
            f"eo-drr jobs takes one output folder, got {len(words)}: {' '.join(words)} "
            "(to retry failed tiles: eo-drr jobs retry OUTPUT)"
        )
    if job is not None:
        raise InputError("--job applies to `eo-drr jobs retry OUTPUT --job NAME`")
    print_jobs(Path(words[0]) if words else Path("."), console, as_json=as_json)


@app.command()
def monitor(
    config: Annotated[
        Path, typer.Argument(help="A YAML flood job file; time.post.start is the event date.")
    ],
    output: JobOutput = None,
    tile_size: Annotated[
        int | None,
        typer.Option(
            "--tile-size",
            min=32,
            max=16384,
            help="Run each acquisition tile by tile (as `run --tile-size`).",
        ),
    ] = None,
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
    from eo_drr.cli.monitor import monitor as run_monitor
    from eo_drr.config import load_config

    cfg = load_config(config)
    run_monitor(cfg, output, console=console, tile_size_px=tile_size, dry_run=dry_run)


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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and write nothing.")
    ] = False,
) -> None:
    """Run the bundled demo job (configs/demo.yaml) on a synthetic scene with known truth.

    The scene (Sentinel-1 before/after a flood, Sentinel-2, HAND, population, municipalities)
    is generated on first use into the cache folder (EO_DRR_CACHE, default ~/.cache/eo-drr).
    """
    from eo_drr.api import demo_job
    from eo_drr.cli.runner import run_job

    cfg = demo_job(size=size, seed=seed)
    run_job(cfg, output, dry_run=dry_run, console=console)


@app.command()
def versions(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print versions of Python, GDAL, PROJ, GEOS and key packages (paste them in bug reports)."""
    from eo_drr.engine.versions import collect_versions

    info = collect_versions()
    if as_json:
        console.print_json(json.dumps(info))
        return
    table = Table(title="eo-drr environment", show_header=False)
    for k, v in info.items():
        table.add_row(k, str(v))
    console.print(table)


from eo_drr.cli import data as _data  # noqa: E402
from eo_drr.cli import growth as _growth  # noqa: E402
from eo_drr.cli import rasters as _rasters  # noqa: E402

_data.register(app, console)
_rasters.register(app, console)
_growth.register(app, console)


def _quiet_known_noise() -> None:
    """odc-stac reprojects through rasterio in-memory datasets, whose constructor warns
    "Dataset has no geotransform" although the warp is fully georeferenced. Only that warning,
    attributed to ``rasterio.warp``, is silenced; the same warning on opening a user's file
    (``rasterio.open``) still shows."""
    import warnings

    from rasterio.errors import NotGeoreferencedWarning

    warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module=r"rasterio\.warp")


def main() -> None:
    """Console entry point: user errors become one plain line and a non-zero exit."""
    _quiet_known_noise()
    try:
        app(standalone_mode=False)
    except EODRRError as exc:
        if _state["debug"]:
            raise
        msg = str(exc).strip()
        lines = msg.splitlines() or [type(exc).__name__]
        err_console.print(Text("error: ", style="bold red") + Text(lines[0]), soft_wrap=True)
        for line in lines[1:]:
            err_console.print(Text("       " + line), soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        sys.exit(code or 0)
    except Exception as exc:  # click usage errors and real bugs
        # by class name: typer >= 0.22 raises its vendored click's exceptions (typer._click)
        kinds = {c.__name__ for c in type(exc).__mro__}
        if "ClickException" in kinds:
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if "Abort" in kinds:
            sys.exit(1)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
