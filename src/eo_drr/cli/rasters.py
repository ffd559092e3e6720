"""``eo-drr water`` and ``eo-drr flood``: the flood product on any raster file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from eo_drr.errors import ConfigError

Units = Annotated[
    str, typer.Option("--s1-units", help="Units of the S1 pixels: db or linear (power).")
]
Bands = Annotated[
    str | None,
    typer.Option(
        "--s1-bands",
        help="Band names in file order, e.g. VV,VH (default: the file's band descriptions, else VV,VH).",
    ),
]
Scale8 = Annotated[
    str | None,
    typer.Option(
        "--s1-8bit-range",
        help="For 8-bit images (e.g. OMBRIA PNG patches): the dB values of DN 0 and 255, e.g. -30,0. DN = 255 * (dB - LO) / (HI - LO).",
    ),
]


def _read(path: Path, bands, units, range8, option: str):
    from eo_drr.load.s1_file import read_s1_file

    img = read_s1_file(path, option=option, bands=bands, units=units, range8=range8)
    for note in img.notes:
        typer.echo(f"warning: {note}", err=True)
    return img


def register(app: typer.Typer, console: Console) -> None:
    @app.command()
    def water(
        s1: Annotated[Path, typer.Option("--s1", help="Sentinel-1 raster (VV[, VH]).")],
        out: Annotated[
            Path, typer.Option("--out", "-o", help="Output GeoTIFF: 1 water, 0 not, 255 no data.")
        ],
        s1_units: Units = "db",
        s1_bands: Bands = None,
        s1_8bit_range: Scale8 = None,
    ) -> None:
        """Open water from one Sentinel-1 image (the flood product's water rule: VH, or VV alone, threshold anchored to a published prior, region growing)."""
        from eo_drr.products.flood import CLASS_COLORS
        from eo_drr.products.water import s1_water
        from eo_drr.publish.classes import refuse_overwrite, write_classes

        refuse_overwrite(out, [s1])
        img = _read(s1, s1_bands, s1_units, s1_8bit_range, "--s1")
        r = s1_water(img.vv, img.vh, units=img.units)
        write_classes(
            r.water,
            out,
            img.profile,
            description="water",
            colormap=CLASS_COLORS,
            extra={"classes": "1 water, 0 not water, 255 no data"},
        )
        n = int((r.water == 1).sum())
        console.print(
            f"water: {n:,} px ({100 * n / max(1, int((r.water != 255).sum())):.1f} % of valid) -> {out}"
        )
        t = r.threshold
        console.print(
            f"  {t.polarisation.upper()} threshold {t.threshold_db:.1f} dB ({t.tiles_used} tiles used)"
        )
        for w in r.quality["warnings"]:
            if w not in r.quality["input_notes"]:  # read_s1 said those, naming the file
                typer.echo(f"warning: {w}", err=True)

    @app.command()
    def flood(
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
        s1_units: Units = "db",
        s1_bands: Bands = None,
        s1_8bit_range: Scale8 = None,
        hand: Annotated[
            Path | None,
            typer.Option(
                "--hand",
                help="Height above nearest drainage (m) on the post-event grid: pixels above 15 m are excluded, as in jobs.",
            ),
        ] = None,
        dem: Annotated[
            Path | None,
            typer.Option(
                "--dem",
                help="DEM (m) on the post-event grid (projected CRS): slopes above 5 degrees are excluded and, without --hand, HAND is computed from it.",
            ),
        ] = None,
    ) -> None:
        """Flood extent: water after the event minus the reference water before it (the job's flood product, same defaults)."""
        from eo_drr.load.s1_checks import orbit_warning
        from eo_drr.products.flood import FLOOD_CLASSES, FLOOD_COLORS
        from eo_drr.products.flood_pair import flood_on_files, terrain_masks
        from eo_drr.publish.classes import refuse_overwrite, write_classes

        if not pre_s1:
            raise ConfigError("--pre-s1: give at least one pre-event image")
        refuse_overwrite(out, [post_s1, *pre_s1, hand, dem])
        post = _read(post_s1, s1_bands, s1_units, s1_8bit_range, "--post-s1")
        pres = [_read(p, s1_bands, s1_units, s1_8bit_range, "--pre-s1") for p in pre_s1]
        note = orbit_warning([p.tags for p in pres], post.tags)
        if note:
            typer.echo(f"warning: {note}", err=True)
        ds, thresholds, notes = flood_on_files(pres, post, **terrain_masks(post.profile, hand, dem))
        for n in notes:
            typer.echo(f"warning: {n}", err=True)
        flood_map = ds["flood"].values
        write_classes(
            flood_map,
            out,
            post.profile,
            description="flood",
            extra={"classes": FLOOD_CLASSES},
            colormap=FLOOD_COLORS,
        )
        valid = max(1, int((flood_map != 255).sum()))
        n_flood, still = int((flood_map == 1).sum()), int((flood_map == 2).sum())
        console.print(f"flood: {n_flood:,} px ({100 * n_flood / valid:.1f} % of valid) -> {out}")
        console.print(f"  reference water still water after the event (class 2): {still:,} px")
        for w in thresholds.warnings():
            typer.echo(f"warning: {w}", err=True)
