"""``eo-drr water``, ``eo-drr flood`` and ``eo-drr growth``: the products on any raster files
(:mod:`eo_drr.api.raster_files`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from eo_drr.api import raster_files as files
from eo_drr.api.raster_files import S1Reading, Terrain
from eo_drr.cli.options import grouped
from eo_drr.cli.render import warn
from eo_drr.errors import ConfigError
from eo_drr.products.growth_pair import GROWTH_CLASSES


def register(app: typer.Typer, console: Console) -> None:
    def report(result: files.ClassMap) -> None:
        for line in result.lines:
            console.print(line)
        for w in result.warnings:
            warn(f"warning: {w}")

    @app.command()
    @grouped(S1Reading)
    def water(
        reading: S1Reading,
        s1: Annotated[Path, typer.Option("--s1", help="Sentinel-1 raster (VV[, VH]).")],
        out: Annotated[
            Path, typer.Option("--out", "-o", help="Output GeoTIFF: 1 water, 0 not, 255 no data.")
        ],
    ) -> None:
        """Open water from one Sentinel-1 image (the flood product's water rule: VH, or VV alone, threshold anchored to a published prior, region growing)."""
        report(files.water_file(s1, out, reading, say=warn))

    @app.command()
    @grouped(S1Reading, Terrain)
    def flood(
        reading: S1Reading,
        terrain: Terrain,
        post_s1: Annotated[Path, typer.Option("--post-s1", help="Post-event Sentinel-1 raster.")],
        out: Annotated[
            Path,
            typer.Option(
                "--out",
                "-o",
                help="Output GeoTIFF: 0 no water, 1 flood, 2 reference water still water after the event, 255 no data.",
            ),
        ],
        pre_s1: Annotated[
            list[Path],
            typer.Option(
                "--pre-s1",
                help="Pre-event Sentinel-1 raster (repeat for several: their median is the reference).",
            ),
        ] = [],  # noqa: B006  (typer's list option default)
    ) -> None:
        """Flood extent: water after the event minus the reference water before it (the job's flood product, same defaults)."""
        report(files.flood_files(pre_s1, post_s1, out, reading, terrain, say=warn))

    @app.command()
    def growth(
        before: Annotated[
            Path,
            typer.Option(
                "--before",
                help="Sentinel-2 GeoTIFF of the first date: bands named B02 ... B12 (or blue, nir, ...), DN x 10000, 0 = no data.",
            ),
        ],
        after: Annotated[
            Path,
            typer.Option(
                "--after",
                help="Sentinel-2 GeoTIFF of the second date (resampled onto the grid of --before when it differs).",
            ),
        ],
        out: Annotated[
            Path, typer.Option("--out", "-o", help=f"Output GeoTIFF: {GROWTH_CLASSES}.")
        ],
        s1_before: Annotated[
            Path | None,
            typer.Option(
                "--s1-before", help="Sentinel-1 VV of the first date (dB unless --s1-units linear)."
            ),
        ] = None,
        s1_after: Annotated[
            Path | None, typer.Option("--s1-after", help="Sentinel-1 VV of the second date.")
        ] = None,
        level: Annotated[
            str | None,
            typer.Option(
                "--level",
                help="Processing level of both images, L1C or L2A (default: their PROCESSING_LEVEL tag).",
            ),
        ] = None,
        s1_units: Annotated[
            str,
            typer.Option(
                "--s1-units", help="Units of the Sentinel-1 pixels: db or linear (power)."
            ),
        ] = S1Reading.units,
    ) -> None:
        """New built-up between two dates (the urban-growth model, trained on real cities; see its model card)."""
        if (s1_before is None) != (s1_after is None):
            raise ConfigError("--s1-before / --s1-after: give both, or neither")
        s1 = (s1_before, s1_after) if s1_before is not None and s1_after is not None else None
        report(files.growth_files(before, after, out, s1, level, s1_units, say=warn))
