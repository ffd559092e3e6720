"""The products on raster files, as ``eo-drr water / flood / growth`` run them: read with the
file checks that name the option and the file, compute, write the class GeoTIFF (never over an
input), and tell the figures in words. Notes met on the way go to ``say`` as they come
(``"warning: ..."`` / ``"note: ..."`` lines; default: the ``eo_drr.api`` logger).

For xarray objects in and out, see :mod:`eo_drr.api.rasters`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eo_drr.api.options import option
from eo_drr.errors import ConfigError
from eo_drr.i18n import HELP_FIELDS
from eo_drr.i18n import gettext as _
from eo_drr.products.growth_pair import GROWTH_CLASSES

if TYPE_CHECKING:
    from eo_drr.load.s1_file import S1File

#: receives each note as one line, "warning: ..." or "note: ..."
Say = Callable[[str], None]

log = logging.getLogger("eo_drr.api")
#: the classes the --out help of ``eo-drr growth`` lists
HELP_FIELDS["growth_classes"] = lambda: GROWTH_CLASSES


def _log(line: str) -> None:
    log.warning(line)


@dataclass(frozen=True)
class S1Reading:
    """How to read Sentinel-1 files: ``units`` of the pixels (db or linear power), ``bands``
    in file order (e.g. "VV,VH"; default: the band descriptions, else VV,VH), and ``range8``:
    for 8-bit images the dB values of DN 0 and 255 ("LO,HI", e.g. "-30,0")."""

    units: str = option("--s1-units", "Units of the S1 pixels: db or linear (power).", "db")
    bands: str | None = option(
        "--s1-bands",
        "Band names in file order, e.g. VV,VH (default: the file's band descriptions, else VV,VH).",
    )
    range8: str | None = option(
        "--s1-8bit-range",
        "For 8-bit images (e.g. OMBRIA PNG patches): the dB values of DN 0 and 255, e.g. -30,0. "
        "DN = 255 * (dB - LO) / (HI - LO).",
    )

    def read(self, path: Path, option: str, say: Say) -> S1File:
        from eo_drr.load.s1_file import read_s1_file

        img = read_s1_file(
            path, option=option, bands=self.bands, units=self.units, range8=self.range8
        )
        for note in img.notes:
            say(_("warning: {text}").format(text=note))
        return img


@dataclass(frozen=True)
class ClassMap:
    """A class raster written to ``path``: its figures in words (``lines``) and the quality
    ``warnings`` that come with them."""

    path: Path
    lines: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def water_file(s1: Path, out: Path, reading: S1Reading | None = None, say: Say = _log) -> ClassMap:
    """Open water from one Sentinel-1 file into ``out``: 1 water, 0 not, 255 no data."""
    from eo_drr.products.flood import CLASS_COLORS
    from eo_drr.products.water import s1_water
    from eo_drr.publish.classes import refuse_overwrite, write_classes

    refuse_overwrite(out, [s1])
    img = (reading or S1Reading()).read(s1, "--s1", say)
    r = s1_water(img.vv, img.vh, units=img.units)
    write_classes(
        r.water,
        out,
        img.profile,
        description="water",
        colormap=CLASS_COLORS,
        extra={"classes": "1 water, 0 not water, 255 no data"},
    )
    n, t = int((r.water == 1).sum()), r.threshold
    valid = max(1, int((r.water != 255).sum()))
    return ClassMap(
        out,
        (
            _("water: {n:,} px ({share} of valid) -> {path}").format(
                n=n, share=f"{100 * n / valid:.1f} %", path=out
            ),
            _("  {polarisation} threshold {threshold:.1f} dB ({tiles} tiles used)").format(
                polarisation=t.polarisation.upper(), threshold=t.threshold_db, tiles=t.tiles_used
            ),
        ),
        # the input notes were said on reading, naming the file
        tuple(w for w in r.quality["warnings"] if w not in r.quality["input_notes"]),
    )


@dataclass(frozen=True)
class Terrain:
    """Terrain masks of the flood product on the post-event grid: ``hand`` (m above nearest
    drainage; above 15 m is excluded) and ``dem`` (m, projected CRS; slopes above 5 degrees are
    excluded and, without ``hand``, HAND is computed from it)."""

    hand: Path | None = option(
        "--hand",
        "Height above nearest drainage (m) on the post-event grid: pixels above 15 m are "
        "excluded, as in jobs.",
    )
    dem: Path | None = option(
        "--dem",
        "DEM (m) on the post-event grid (projected CRS): slopes above 5 degrees are excluded "
        "and, without --hand, HAND is computed from it.",
    )


def flood_files(
    pre: Sequence[Path],
    post: Path,
    out: Path,
    reading: S1Reading | None = None,
    terrain: Terrain | None = None,
    say: Say = _log,
) -> ClassMap:
    """Flood extent into ``out``: water after the event minus the reference water (the median
    of the ``pre`` images) before it; 0 no water, 1 flood, 2 reference water still water, 255
    no data. The flood job's code and defaults."""
    from eo_drr.load.s1_orbits import orbit_warning
    from eo_drr.products.flood import FLOOD_CLASSES, FLOOD_COLORS
    from eo_drr.products.flood_pair import flood_on_files, terrain_masks
    from eo_drr.publish.classes import refuse_overwrite, write_classes

    reading, terrain = reading or S1Reading(), terrain or Terrain()
    if not pre:
        raise ConfigError(_("--pre-s1: give at least one pre-event image"))
    refuse_overwrite(out, [post, *pre, terrain.hand, terrain.dem])
    post_img = reading.read(post, "--post-s1", say)
    pres = [reading.read(p, "--pre-s1", say) for p in pre]
    note = orbit_warning([p.tags for p in pres], post_img.tags)
    if note:
        say(_("warning: {text}").format(text=note))
    masks = terrain_masks(post_img.profile, terrain.hand, terrain.dem)
    ds, thresholds, notes = flood_on_files(pres, post_img, **masks)
    for n in notes:
        say(_("warning: {text}").format(text=n))
    flood_map = ds["flood"].values
    write_classes(
        flood_map,
        out,
        post_img.profile,
        description="flood",
        extra={"classes": FLOOD_CLASSES},
        colormap=FLOOD_COLORS,
    )
    valid = max(1, int((flood_map != 255).sum()))
    n_flood, still = int((flood_map == 1).sum()), int((flood_map == 2).sum())
    return ClassMap(
        out,
        (
            _("flood: {n:,} px ({share} of valid) -> {path}").format(
                n=n_flood, share=f"{100 * n_flood / valid:.1f} %", path=out
            ),
            _("  reference water still water after the event (class 2): {n:,} px").format(n=still),
        ),
        tuple(thresholds.warnings()),
    )


@dataclass(frozen=True, kw_only=True)
class GrowthFiles:
    """The files of ``eo-drr growth``: Sentinel-2 of two dates, the output and, optionally,
    Sentinel-1 VV of both dates in ``s1_units``; ``level``: L1C or L2A."""

    before: Path = option(
        "--before",
        "Sentinel-2 GeoTIFF of the first date: bands named B02 ... B12 (or blue, nir, ...), DN x 10000, 0 = no data.",
        MISSING,
    )
    after: Path = option(
        "--after",
        "Sentinel-2 GeoTIFF of the second date (resampled onto the grid of --before when it differs).",
        MISSING,
    )
    out: Path = option("--out,-o", "Output GeoTIFF: {growth_classes}.", MISSING)
    s1_before: Path | None = option(
        "--s1-before", "Sentinel-1 VV of the first date (dB unless --s1-units linear)."
    )
    s1_after: Path | None = option("--s1-after", "Sentinel-1 VV of the second date.")
    level: str | None = option(
        "--level",
        "Processing level of both images, L1C or L2A (default: their PROCESSING_LEVEL tag).",
    )
    s1_units: str = option(
        "--s1-units", "Units of the Sentinel-1 pixels: db or linear (power).", S1Reading.units
    )

    def s1(self) -> tuple[Path, Path] | None:
        """(``s1_before``, ``s1_after``), or None; one without the other is refused."""
        if self.s1_before is None or self.s1_after is None:
            if (self.s1_before, self.s1_after) != (None, None):
                raise ConfigError(_("--s1-before / --s1-after: give both, or neither"))
            return None
        return self.s1_before, self.s1_after


def growth_files(
    before: Path,
    after: Path,
    out: Path,
    s1: tuple[Path, Path] | None = None,
    level: str | None = None,
    s1_units: str = S1Reading.units,
    say: Say = _log,
) -> ClassMap:
    """New built-up between two Sentinel-2 files (DN x 10000, bands by ESA name) into ``out``
    on the grid of ``before`` (``after`` is resampled onto it when it differs): 1 new built-up,
    0 not, 255 no data. ``s1``: Sentinel-1 VV of both dates in ``s1_units`` (db or linear);
    ``level``: L1C or L2A (default: the files' PROCESSING_LEVEL tag)."""
    from eo_drr.load.s1_file import read_vv_db
    from eo_drr.load.s2_file import read_s2_file, reproject_to
    from eo_drr.products.growth_pair import GROWTH_COLORS, PairImage, new_builtup
    from eo_drr.publish.classes import pixel_area_m2, refuse_overwrite, write_classes

    if s1_units not in ("db", "linear"):
        raise ConfigError(
            _("--s1-units: use db or linear, not {s1_units!r}").format(s1_units=s1_units)
        )
    refuse_overwrite(out, [before, after, *(s1 or ())])
    level = level.upper() if level is not None else None
    b = read_s2_file(before, option="--before", level=level)
    a = read_s2_file(after, option="--after", level=level)
    a, moved = reproject_to(a, b, option="--after")
    for n in (*b.notes, *a.notes):
        say(_("warning: {text}").format(text=n))
    if moved:
        say(
            _("note: --after {path} was resampled (bilinear) onto the grid of --before").format(
                path=after
            )
        )
    vv_b = vv_a = None
    if s1 is not None:
        (vv_b, nb), (vv_a, na) = (
            read_vv_db(p, option=o, units=s1_units, ref=b)
            for p, o in zip(s1, ("--s1-before", "--s1-after"))
        )
        for n in (*nb, *na):
            say(n)
    r = new_builtup(
        PairImage(b.bands, str(b.level), f"--before {before}", vv_b),
        PairImage(a.bands, str(a.level), f"--after {after}", vv_a),
    )
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
    n_new, valid = int((r.growth == 1).sum()), int((r.growth != 255).sum())
    area = (
        _("{ha:,.1f} ha").format(ha=n_new * px_m2 / 1e4)
        if px_m2
        else _("pixel size unknown (no CRS)")
    )
    model = (
        _(
            "  model with Sentinel-1, probability >= {threshold:.2f}, patches of at least {px} px; "
            "cloud/shadow masked: {before:.1f} % before, {after:.1f} % after"
        )
        if r.with_s1
        else _(
            "  model without Sentinel-1, probability >= {threshold:.2f}, patches of at least {px} "
            "px; cloud/shadow masked: {before:.1f} % before, {after:.1f} % after"
        )
    )
    return ClassMap(
        out,
        (
            _("new built-up: {n:,} px, {area} ({share} of the clear area) -> {path}").format(
                n=n_new, area=area, share=f"{100 * n_new / valid:.2f} %", path=out
            ),
            model.format(
                threshold=r.threshold,
                px=r.min_mapping_unit_px,
                before=100 * r.cloud_share[0],
                after=100 * r.cloud_share[1],
            ),
        ),
    )
