"""Search a catalogue and fetch what it finds, from the query as ``eo-drr search`` / ``fetch``
write it (``bbox="W,S,E,N"``, ``datetime="START/END"``): the one path of both commands, for
Python too. Downloads are resumable and checksum-verified (see :mod:`eo_drr.catalog.download`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eo_drr.api.options import option
from eo_drr.catalog.query_text import build_query, item_summary
from eo_drr.errors import ConfigError, DownloadError, InputError
from eo_drr.i18n import gettext as _

if TYPE_CHECKING:
    import pystac
    from requests.auth import AuthBase

    from eo_drr.catalog.base import SearchQuery
    from eo_drr.catalog.download import DownloadRequest, DownloadResult
    from eo_drr.engine.tables import Rows

#: the download ledger a fetch keeps in its output folder (a rerun skips verified files)
LEDGER_FILE = ".eo-drr-downloads.sqlite"


@dataclass(frozen=True)
class Query:
    """What to look for, in the words of the command's options (``bbox="W,S,E,N"``,
    ``datetime="START/END"``); each field's option and help are in its metadata."""

    collection: str | None = option(
        "--collection", "Collection id, e.g. sentinel-1-rtc, sentinel-2-l2a."
    )
    bbox: str | None = option("--bbox", "W,S,E,N in degrees.")
    datetime: str | None = option("--datetime", "START/END dates, e.g. 2024-11-01/2024-11-10.")
    max_cloud: float | None = option(
        "--max-cloud", "Maximum eo:cloud_cover, percent.", min=0, max=100
    )
    orbit_direction: str | None = option("--orbit-direction", "ascending or descending.")
    relative_orbit: int | None = option(
        "--relative-orbit", "Sentinel-1 track number.", min=1, max=175
    )
    limit: int | None = option("--limit", "At most this many items.", min=1)
    ids: list[str] | None = option("--id", "Item id (repeatable) instead of a search.")

    def search_query(self) -> SearchQuery:
        """The parsed query; a malformed field is a :class:`ConfigError` naming its option."""
        return build_query(
            self.collection,
            self.bbox,
            self.datetime,
            self.max_cloud,
            self.orbit_direction,
            self.relative_orbit,
            self.limit,
            tuple(self.ids or ()),
        )


def search_items(catalog: str, query: Query) -> list[pystac.Item]:
    """The items of ``catalog`` (a preset, a STAC API URL or a catalog.json) that match ``query``."""
    from eo_drr.catalog import open_catalog

    if query.collection is None and not query.ids:
        raise ConfigError(
            _("--collection: which collection? (e.g. sentinel-1-rtc, sentinel-2-l2a)")
        )
    return open_catalog(catalog).search(query.search_query())


def items_table(items: Sequence[pystac.Item], title: str) -> Rows:
    """The items found, one row each: id, time, cloud cover (%), orbit, asset keys."""
    from eo_drr.engine.tables import Rows

    rows = []
    for s in map(item_summary, items):
        cloud = "" if s["cloud_cover"] is None else f"{s['cloud_cover']:.1f}"
        orbit = (s["relative_orbit"], s["orbit_direction"])
        rows.append(
            (s["id"], s["datetime"], cloud, " ".join(str(v) for v in orbit if v is not None))
            + (", ".join(s["assets"]),)
        )
    return Rows(title, ("id", "datetime", "cloud %", "orbit", "assets"), rows)


@dataclass(frozen=True)
class FetchPlan:
    """The files a fetch downloads into ``output``, and the sign-in they need (``auth``)."""

    output: Path
    requests: list[DownloadRequest]
    auth: AuthBase | None = None

    @property
    def total_bytes(self) -> int | None:
        """The catalogue's sizes summed (None when it gives none)."""
        return sum(r.size or 0 for r in self.requests) or None


def plan_fetch(
    catalog: str, query: Query, output: str | Path, assets: Sequence[str] | None = None
) -> FetchPlan:
    """Search ``catalog`` and list the files of ``assets`` (default: the data assets) of the
    items found; Planetary Computer assets are signed, CDSE ones get a token sign-in
    (CDSE_USERNAME / CDSE_PASSWORD, or ~/.netrc). Nothing is written."""
    from eo_drr.catalog.credentials import CDSE_TOKEN_URL, TokenAuth, find_credentials
    from eo_drr.catalog.fetch import download_requests, needs_cdse_token

    if query.collection is None and not query.ids:
        raise ConfigError(_("--collection or --id: say what to fetch"))
    items = search_items(catalog, query)
    if not items:
        raise InputError(
            _("nothing found to fetch: check --collection, --bbox, --datetime and the filters")
        )
    if catalog.startswith("planetary-computer"):
        try:
            import planetary_computer
        except ImportError:
            raise ConfigError(
                _("Planetary Computer assets must be signed: pip install 'eo-drr[pc]'")
            ) from None
        items = [planetary_computer.sign(it) for it in items]
    reqs = download_requests(items, Path(output), assets)
    auth = None
    if catalog.startswith("cdse") or any(needs_cdse_token(r.url) for r in reqs):
        token_url = os.environ.get("EO_DRR_CDSE_TOKEN_URL", CDSE_TOKEN_URL)
        auth = TokenAuth(
            find_credentials("identity.dataspace.copernicus.eu", "CDSE"), token_url=token_url
        )
    return FetchPlan(Path(output), reqs, auth)


def download(
    plan: FetchPlan, progress: Callable[[DownloadRequest, int], None] | None = None
) -> list[DownloadResult]:
    """Download the files of ``plan`` (``progress`` gets each block's byte count); never raises
    for one failed file: see each result's ``status``, or :func:`check_downloads`."""
    from eo_drr.catalog.download import Downloader
    from eo_drr.catalog.ledger import DownloadLedger

    plan.output.mkdir(parents=True, exist_ok=True)
    d = Downloader(
        auth=plan.auth, ledger=DownloadLedger(plan.output / LEDGER_FILE), progress=progress
    )
    return d.fetch_all(plan.requests)


def downloads_table(results: Sequence[DownloadResult], title: str) -> Rows:
    """The files of a fetch, one row each: file, status, size, checksum, notes."""
    from eo_drr.engine.tables import Rows

    rows = [
        (r.request.label, r.status, f"{r.size:,}")
        + ("" if r.status == "failed" else (r.checksum or "(size only)"),)
        + (r.error or "; ".join(r.events),)
        for r in results
    ]
    return Rows(title, ("file", "status", "size", "checksum", "notes"), rows)


def check_downloads(results: Sequence[DownloadResult]) -> None:
    """Raise :class:`DownloadError` naming the first failed file, if any failed."""
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise DownloadError(
            _("{failed} of {total} file(s) failed: {label}: {error}").format(
                failed=len(failed),
                total=len(results),
                label=failed[0].request.label,
                error=failed[0].error,
            )
        )


def fetch(
    catalog: str, query: Query, output: str | Path, assets: Sequence[str] | None = None
) -> list[DownloadResult]:
    """Search, download and verify in one call (as ``eo-drr fetch``); raises when a file failed."""
    results = download(plan_fetch(catalog, query, output, assets))
    check_downloads(results)
    return results
