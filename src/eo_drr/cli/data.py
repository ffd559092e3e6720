"""``eo-drr search``, ``fetch`` and ``dates``: find and download Sentinel data, list the passes
around an event (:mod:`eo_drr.api.data`, :mod:`eo_drr.api.dates`), printed as tables; and
``eo-drr init``, a job file to start from (:mod:`eo_drr.api.job_files`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from eo_drr.api import data
from eo_drr.api.data import Query
from eo_drr.api.dates import DatesQuery, find_dates
from eo_drr.api.job_files import InitOptions, write_job
from eo_drr.catalog.query_text import item_summary
from eo_drr.cli.options import grouped
from eo_drr.cli.render import show, table
from eo_drr.i18n import gettext as _

CatalogOpt = Annotated[
    str,
    typer.Option(
        "--catalog",
        "-c",
        help="demo, cdse, cdse-odata, earth-search, planetary-computer, a STAC API URL, or a catalog.json.",
    ),
]


def register(app: typer.Typer, console: Console) -> None:
    @app.command()
    @grouped(Query, skip=("ids",))
    def search(
        query: Query,
        catalog: CatalogOpt = "demo",
        as_json: Annotated[
            bool, typer.Option("--json", help="One JSON object per line and item.")
        ] = False,
    ) -> None:
        """Search a catalogue and list the items found (id, date, cloud cover, orbit, assets)."""
        items = data.search_items(catalog, query)
        if as_json:
            for it in items:
                print(json.dumps(item_summary(it)))
            return
        title = _("{n} item(s) in {collection} from {catalog}").format(
            n=len(items), collection=query.collection, catalog=catalog
        )
        console.print(table(*data.items_table(items, title)))

    @app.command()
    @grouped(Query)
    def fetch(
        query: Query,
        catalog: CatalogOpt = "demo",
        assets: Annotated[
            str | None,
            typer.Option("--assets", help="Comma-separated asset keys (default: the data assets)."),
        ] = None,
        output: Annotated[Path, typer.Option("--output", "-o", help="Download folder.")] = Path(
            "downloads"
        ),
    ) -> None:
        """Download the assets of the items a search finds: resumable, checksum-verified, with
        retries; files land only when complete and verified; a rerun skips verified files.

        Credentials (CDSE): CDSE_USERNAME / CDSE_PASSWORD, or ~/.netrc.
        """
        plan = data.plan_fetch(catalog, query, output, assets.split(",") if assets else None)
        bar_columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
        with Progress(*bar_columns, TransferSpeedColumn(), console=console) as bar:
            fetching = _("Fetching {n} file(s)").format(n=len(plan.requests))
            task = bar.add_task(fetching, total=plan.total_bytes)
            results = data.download(plan, progress=lambda r, n: bar.advance(task, n))
        title = _("Fetched into {folder}").format(folder=output)
        console.print(table(*data.downloads_table(results, title)))
        data.check_downloads(results)

    @app.command()
    @grouped(DatesQuery)
    def dates(query: DatesQuery) -> None:
        """List the Sentinel-1 acquisitions before and after a date by orbit, and suggest a pre/post pair of one orbit."""
        found = find_dates(query)
        show(console, found.table())
        for line in found.lines():
            console.print(line, highlight=False, markup=False, soft_wrap=True)

    @app.command()
    @grouped(InitOptions)
    def init(opts: InitOptions) -> None:
        """Write the demo job (demo.yaml), or the job of a real flood (--event), into a folder; never overwrites a file."""
        for line in write_job(opts).lines:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
