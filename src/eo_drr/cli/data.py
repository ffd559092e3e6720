"""``eo-drr search`` and ``eo-drr fetch``: find and download Sentinel data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from eo_drr.catalog.query_text import build_query, item_summary
from eo_drr.errors import ConfigError, InputError

CatalogOpt = Annotated[
    str,
    typer.Option(
        "--catalog",
        "-c",
        help="demo, cdse, cdse-odata, earth-search, planetary-computer, a STAC API URL, or a catalog.json.",
    ),
]
CollectionOpt = Annotated[
    str | None,
    typer.Option("--collection", help="Collection id, e.g. sentinel-1-rtc, sentinel-2-l2a."),
]
BboxOpt = Annotated[str | None, typer.Option("--bbox", help="W,S,E,N in degrees.")]
DatetimeOpt = Annotated[
    str | None, typer.Option("--datetime", help="START/END dates, e.g. 2024-11-01/2024-11-10.")
]
CloudOpt = Annotated[
    float | None,
    typer.Option("--max-cloud", help="Maximum eo:cloud_cover, percent.", min=0, max=100),
]
DirOpt = Annotated[str | None, typer.Option("--orbit-direction", help="ascending or descending.")]
OrbitOpt = Annotated[
    int | None, typer.Option("--relative-orbit", help="Sentinel-1 track number.", min=1, max=175)
]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="At most this many items.", min=1)]


def register(app: typer.Typer, console: Console) -> None:
    @app.command()
    def search(
        catalog: CatalogOpt = "demo",
        collection: CollectionOpt = None,
        bbox: BboxOpt = None,
        datetime_: Annotated[
            str | None,
            typer.Option("--datetime", help="START/END dates, e.g. 2024-11-01/2024-11-10."),
        ] = None,
        max_cloud: CloudOpt = None,
        orbit_direction: DirOpt = None,
        relative_orbit: OrbitOpt = None,
        limit: LimitOpt = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="One JSON object per line and item.")
        ] = False,
    ) -> None:
        """Search a catalogue and list the items found (id, date, cloud cover, orbit, assets)."""
        from eo_drr.catalog import open_catalog

        if collection is None:
            raise ConfigError(
                "--collection: which collection? (e.g. sentinel-1-rtc, sentinel-2-l2a)"
            )
        q = build_query(
            collection, bbox, datetime_, max_cloud, orbit_direction, relative_orbit, limit
        )
        items = open_catalog(catalog).search(q)
        if as_json:
            for it in items:
                print(json.dumps(item_summary(it)))
            return
        table = Table(title=f"{len(items)} item(s) in {collection} from {catalog}")
        for col in ("id", "datetime", "cloud %", "orbit", "assets"):
            table.add_column(col, overflow="fold")
        for it in items:
            s = item_summary(it)
            cc = "" if s["cloud_cover"] is None else f"{s['cloud_cover']:.1f}"
            orbit = " ".join(
                str(v) for v in (s["relative_orbit"], s["orbit_direction"]) if v is not None
            )
            table.add_row(s["id"], s["datetime"], cc, orbit, ", ".join(s["assets"]))
        console.print(table)

    @app.command()
    def fetch(
        catalog: CatalogOpt = "demo",
        collection: CollectionOpt = None,
        bbox: BboxOpt = None,
        datetime_: Annotated[
            str | None, typer.Option("--datetime", help="START/END dates.")
        ] = None,
        max_cloud: CloudOpt = None,
        orbit_direction: DirOpt = None,
        relative_orbit: OrbitOpt = None,
        limit: LimitOpt = None,
        ids: Annotated[
            list[str] | None, typer.Option("--id", help="Item id (repeatable) instead of a search.")
        ] = None,
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
        from eo_drr.catalog import open_catalog
        from eo_drr.catalog.credentials import CDSE_TOKEN_URL, TokenAuth, find_credentials
        from eo_drr.catalog.download import Downloader
        from eo_drr.catalog.fetch import download_requests, needs_cdse_token
        from eo_drr.catalog.ledger import DownloadLedger

        if collection is None and not ids:
            raise ConfigError("--collection or --id: say what to fetch")
        q = build_query(
            collection,
            bbox,
            datetime_,
            max_cloud,
            orbit_direction,
            relative_orbit,
            limit,
            tuple(ids or ()),
        )
        items = open_catalog(catalog).search(q)
        if not items:
            raise InputError(
                "nothing found to fetch: check --collection, --bbox, --datetime and the filters"
            )
        if catalog.startswith("planetary-computer"):
            try:
                import planetary_computer
            except ImportError:
                raise ConfigError(
                    "Planetary Computer assets must be signed: pip install 'eo-drr[pc]'"
                ) from None
            items = [planetary_computer.sign(it) for it in items]
        reqs = download_requests(items, output, assets.split(",") if assets else None)
        auth = None
        if catalog.startswith(("cdse", "cdse-odata")) or any(needs_cdse_token(r.url) for r in reqs):
            token_url = os.environ.get("EO_DRR_CDSE_TOKEN_URL", CDSE_TOKEN_URL)
            auth = TokenAuth(
                find_credentials("identity.dataspace.copernicus.eu", "CDSE"), token_url=token_url
            )
        output.mkdir(parents=True, exist_ok=True)
        total = sum(r.size or 0 for r in reqs) or None
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(f"Fetching {len(reqs)} file(s)", total=total)
            d = Downloader(
                auth=auth,
                ledger=DownloadLedger(output / ".eo-drr-downloads.sqlite"),
                progress=lambda r, n: bar.advance(task, n),
            )
            results = d.fetch_all(reqs)
        table = Table(title=f"Fetched into {output}")
        for col in ("file", "status", "size", "checksum", "notes"):
            table.add_column(col, overflow="fold")
        for r in results:
            checksum = "" if r.status == "failed" else (r.checksum or "(size only)")
            table.add_row(
                r.request.label, r.status, f"{r.size:,}", checksum, r.error or "; ".join(r.events)
            )
        console.print(table)
        failed = [r for r in results if r.status == "failed"]
        if failed:
            from eo_drr.errors import DownloadError

            raise DownloadError(
                f"{len(failed)} of {len(results)} file(s) failed: {failed[0].request.label}: {failed[0].error}"
            )
