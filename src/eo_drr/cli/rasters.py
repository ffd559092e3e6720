"""``eo-drr water``, ``flood``, ``depth`` and ``growth``: the products on any raster files
(:mod:`eo_drr.api.raster_files`, :mod:`eo_drr.api.depth_files`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from eo_drr.api import raster_files as files
from eo_drr.api.depth_files import DepthFiles, depth_file
from eo_drr.api.raster_files import S1Reading, Terrain
from eo_drr.cli.options import grouped
from eo_drr.cli.render import warn
from eo_drr.i18n import gettext as _


def register(app: typer.Typer, console: Console) -> None:
    def report(result: files.ClassMap) -> None:
        for line in result.lines:
            console.print(line)
        for w in result.warnings:
            warn(_("warning: {text}").format(text=w))

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
    @grouped(DepthFiles)
    def depth(inputs: DepthFiles) -> None:
        """Flood water depth (m) from a flood extent and a DEM (FwDET v2.0, or the edge level on HAND): a float32 COG, NaN off the flood."""
        report(depth_file(inputs, say=warn))

    @app.command()
    @grouped(files.GrowthFiles)
    def growth(g: files.GrowthFiles) -> None:
        """New built-up between two dates (the urban-growth model, trained on real cities; see its model card)."""
        report(files.growth_files(g.before, g.after, g.out, g.s1(), g.level, g.s1_units, say=warn))
