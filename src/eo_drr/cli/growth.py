"""``eo-drr growth``: new built-up between two Sentinel-2 images (+ Sentinel-1 VV), any files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from eo_drr.errors import ConfigError
from eo_drr.products.growth_pair import GROWTH_CLASSES, GROWTH_COLORS


def register(app: typer.Typer, console: Console) -> None:
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
            Path, typer.Option("--out", "-o", help="Output GeoTIFF: " + GROWTH_CLASSES + ".")
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
        ] = "db",
    ) -> None:
        """New built-up between two dates (the urban-growth model, trained on real cities; see its model card)."""
        from eo_drr.load.s1_file import read_vv_db
        from eo_drr.load.s2_file import read_s2_file, reproject_to
        from eo_drr.products.growth_pair import new_builtup
        from eo_drr.publish.classes import pixel_area_m2, refuse_overwrite, write_classes

        if (s1_before is None) != (s1_after is None):
            raise ConfigError("--s1-before / --s1-after: give both, or neither")
        if s1_units not in ("db", "linear"):
            raise ConfigError(f"--s1-units: use db or linear, not {s1_units!r}")
        refuse_overwrite(out, [before, after, s1_before, s1_after])
        if level is not None:
            level = level.upper()
        b = read_s2_file(before, option="--before", level=level)
        a = read_s2_file(after, option="--after", level=level)
        a, moved = reproject_to(a, b, option="--after")
        for n in (*b.notes, *a.notes):
            typer.echo(f"warning: {n}", err=True)
        if moved:
            typer.echo(
                f"note: --after {after} was resampled (bilinear) onto the grid of --before",
                err=True,
            )
        vv_b = vv_a = None
        if s1_before is not None and s1_after is not None:
            (vv_b, nb), (vv_a, na) = (
                read_vv_db(p, option=o, units=s1_units, ref=b)
                for p, o in ((s1_before, "--s1-before"), (s1_after, "--s1-after"))
            )
            for n in (*nb, *na):
                typer.echo(f"{'note' if 'resampled' in n else 'warning'}: {n}", err=True)
        r = new_builtup(
            b.bands,
            a.bands,
            level_before=str(b.level),
            level_after=str(a.level),
            vv_before=vv_b,
            vv_after=vv_a,
            names=(f"--before {before}", f"--after {after}"),
        )
        valid = r.growth != 255
        write_classes(
            r.growth,
            out,
            b.profile,
            description="new built-up",
            colormap=GROWTH_COLORS,
            extra={
                "classes": GROWTH_CLASSES,
                "threshold": f"{r.threshold:.3f}",
                "sentinel1": str(r.with_s1).lower(),
            },
        )
        px_m2 = pixel_area_m2(b.profile)
        n_new = int((r.growth == 1).sum())
        area = f"{n_new * px_m2 / 1e4:,.1f} ha" if px_m2 else "pixel size unknown (no CRS)"
        console.print(
            f"new built-up: {n_new:,} px, {area} ({100 * n_new / int(valid.sum()):.2f} % of the clear area) -> {out}"
        )
        console.print(
            f"  model {'with' if r.with_s1 else 'without'} Sentinel-1, probability >= {r.threshold:.2f}, "
            f"patches of at least {r.min_mapping_unit_px} px; cloud/shadow masked: "
            f"{100 * r.cloud_share[0]:.1f} % before, {100 * r.cloud_share[1]:.1f} % after"
        )
