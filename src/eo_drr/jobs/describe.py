"""Rows of a plan's dry-run table (``eo-drr run --dry-run``): ``(what, value)`` strings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pystac
from odc.geo.geobox import GeoBox

from eo_drr.catalog import item_datetime

Rows = list[tuple[str, str]]


def grid_rows(catalog: str, geobox: GeoBox) -> Rows:
    """The catalogue and the grid (CRS, pixel size in the CRS's units, size in pixels)."""
    g = geobox
    return [
        ("catalogue", catalog),
        ("grid", f"{g.crs} {abs(g.resolution.x):g} m, {g.shape.x} x {g.shape.y} px"),
    ]


def item_rows(what: str, items: Sequence[pystac.Item], dated: bool = True) -> Rows:
    """One row per item: its id, and with ``dated`` its acquisition date."""
    if dated:
        return [(what, f"{it.id} ({item_datetime(it):%Y-%m-%d})") for it in items]
    return [(what, it.id) for it in items]


def path_rows(paths: Iterable[tuple[str, str | None]]) -> Rows:
    """One row per ``(what, path)`` that is set."""
    return [(what, p) for what, p in paths if p]


def output_rows(outputs: dict[str, str]) -> Rows:
    """One row per output file."""
    return [("output", p) for p in outputs.values()]
