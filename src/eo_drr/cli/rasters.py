"""``eo-drr water`` and ``eo-drr flood``: the flood product on any raster file."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.console import Console

from eo_drr.errors import ConfigError, CorruptInputError, InputError

log = logging.getLogger(__name__)

Units = Annotated[str, typer.Option("--s1-units", help="Units of the S1 pixels: db or linear (power).")]
Bands = Annotated[Optional[str], typer.Option("--s1-bands", help="Band names in file order, e.g. VV,VH (default: the file's band descriptions, else VV,VH).")]
Scale8 = Annotated[Optional[str], typer.Option("--s1-8bit-range", help="For 8-bit images (e.g. OMBRIA PNG patches): the dB values of DN 0 and 255, e.g. -30,0. DN = 255 * (dB - LO) / (HI - LO).")]


def read_s1(path: Path, bands: str | None, units: str, range8: str | None, option: str = "--s1"):
    """(vv, vh or None, profile, units, tags) from the raster file given with ``option``.

    8-bit values are mapped to dB; NaN and +-inf become NaN. The backscatter is checked
    (:func:`eo_drr.products.s1_checks.check_backscatter`): implausible units or swapped bands
    stop here with a message naming the file and the option, warnings go to stderr.
    """
    import rasterio

    from eo_drr.products.s1_checks import check_backscatter

    if units not in ("db", "linear"):
        raise ConfigError(f"--s1-units: use db or linear, not {units!r}")
    if not path.exists():
        raise InputError(f"{option}: no such file {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                data = src.read().astype(np.float32)
                profile = src.profile
                names = [d for d in src.descriptions]
                nodata = src.nodata
                dtype = src.dtypes[0]
                tags = src.tags()
    except rasterio.errors.RasterioError as exc:
        raise CorruptInputError(f"{option}: {path} is not a readable raster ({exc})") from None
    if min(data.shape[1:]) < 9:
        raise InputError(f"{option}: {path} is only {data.shape[1]} x {data.shape[2]} px: too small to map "
                         "(the speckle filter needs at least 9 x 9)")
    if bands:
        names = [b.strip() for b in bands.split(",")]
        if len(names) != data.shape[0]:
            raise ConfigError(f"--s1-bands: {len(names)} names for {data.shape[0]} band(s) in {path}")
    elif not all(names):
        names = ["VV", "VH"][: data.shape[0]] if data.shape[0] <= 2 else [None] * data.shape[0]
    upper = [str(n).upper() if n else "" for n in names]
    if "VV" not in upper:
        raise InputError(f"{option}: {path} has no VV band (bands: {names}); name them with --s1-bands")
    if nodata is not None and not np.isnan(nodata):
        data[data == nodata] = np.nan
    if range8 is not None and dtype != "uint8":
        raise ConfigError(f"--s1-8bit-range: only for 8-bit images; {path} holds {dtype} values")
    if dtype == "uint8":
        if range8 is None:
            raise ConfigError(f"--s1-8bit-range: {path} is 8-bit; say which dB values DN 0 and 255 stand for (e.g. -30,0)")
        try:
            lo, hi = (float(v) for v in range8.split(","))
        except ValueError:
            raise ConfigError(f"--s1-8bit-range: expected LO,HI in dB, got {range8!r}") from None
        if not lo < hi:
            raise ConfigError(f"--s1-8bit-range: LO must be below HI (dB of DN 0, then of DN 255), got {range8!r}")
        data = np.where(data == 0, np.nan, lo + data * (hi - lo) / 255.0).astype(np.float32)
        units = "db"
    vv, vh, notes = check_backscatter(
        data[upper.index("VV")], data[upper.index("VH")] if "VH" in upper else None, units=units,
        vv_name=f"{option} {path} (VV)", vh_name=f"{option} {path} (VH)",
        units_option="--s1-units", bands_option="--s1-bands",
    )
    for note in notes:
        typer.echo(f"warning: {note}", err=True)
    if profile.get("crs") is None:
        typer.echo(f"warning: {path} has no CRS; the output is a plain image on the same pixel grid", err=True)
    return vv, vh, profile, units, tags


def refuse_overwrite(out: Path, inputs: list[Path | None]) -> None:
    """``--out`` must not be an input file, a folder or a device: nothing is ever overwritten
    but the output itself."""
    if out.exists() and not out.is_file():
        raise InputError(f"--out: {out} exists and is not a regular file (a folder or a device)")
    target = out.resolve()
    for p in inputs:
        if p is not None and p.exists() and p.resolve() == target:
            raise InputError(f"--out: {out} is one of the inputs; choose another output name")


def _on_grid(path: Path, option: str, profile) -> np.ndarray:
    """Band 1 of ``path`` as float32 (nodata NaN), refused unless on the grid of ``profile``."""
    from eo_drr.load.s2_file import read_band_file

    img = read_band_file(path, option=option, name="band")
    p = img.profile
    if (p["width"], p["height"]) != (profile["width"], profile["height"]) or p.get("crs") != profile.get("crs") \
            or p.get("transform") != profile.get("transform"):
        raise InputError(f"{option}: {path} is not on the post-event image's grid (size, CRS or transform differ)")
    return img.bands["band"]


def terrain_masks(profile, hand: Path | None, dem: Path | None) -> dict:
    """``hand`` and ``slope`` keyword arguments of the flood product from ``--hand``/``--dem``."""
    from eo_drr.products import terrain

    out: dict = {}
    if hand is not None:
        out["hand"] = _on_grid(hand, "--hand", profile)
    if dem is not None:
        crs = profile.get("crs")
        if crs is None or not crs.is_projected:
            raise InputError(f"--dem: slope needs a grid in metres, but the post-event image's grid is "
                             f"{'not georeferenced' if crs is None else 'in degrees (' + crs.to_string() + ')'}: "
                             "reproject the images and the DEM to a projected CRS (e.g. UTM) first")
        z = _on_grid(dem, "--dem", profile)
        px = abs(profile["transform"].a)
        out["slope"] = terrain.slope_degrees(z, px)
        if hand is None:
            out["hand"] = terrain.hand_from_dem(z, px)
    return out


def flood_on_arrays(pres: list, post: tuple, **masks):
    """The flood product (:func:`eo_drr.products.flood.flood_extent`, the job's code and
    defaults) on arrays read by :func:`read_s1`: ``(dataset, thresholds)``. ``masks``:
    ``hand``/``slope`` arrays on the same grid."""
    import xarray as xr

    from eo_drr.products.flood import flood_extent

    def lin(a: np.ndarray | None, units: str):
        if a is None:
            return None
        return xr.DataArray(10 ** (a / 10) if units == "db" else a, dims=("y", "x"))

    vh_ok = post[1] is not None and all(p[1] is not None for p in pres)
    if post[1] is not None and not vh_ok:
        typer.echo("warning: a pre-event image has no VH: both scenes are mapped on VV alone "
                   "(the weaker rule; see the quality flags)", err=True)
    pre = xr.concat([lin(p[0], p[3]) for p in pres], dim="time")
    pre_vh = xr.concat([lin(p[1], p[3]) for p in pres], dim="time") if vh_ok else None
    return flood_extent(pre, lin(post[0], post[3]), pre_vh=pre_vh,
                        post_vh=lin(post[1], post[3]) if vh_ok else None, **masks)


def write_classes(arr: np.ndarray, out: Path, profile, *, description: str, extra: dict | None = None,
                  colormap: dict | None = None) -> None:
    """uint8 classes on the input grid, with a colour table: a COG when georeferenced, else a
    GeoTIFF."""
    from eo_drr.io import atomic_path, write_cog
    from eo_drr.products.flood import CLASS_COLORS

    colormap = CLASS_COLORS if colormap is None else colormap
    if profile.get("crs") is not None:
        write_cog(arr, out, crs=profile["crs"], transform=profile["transform"], nodata=255,
                  colormap=colormap, band_descriptions=[description], tags=extra or {})
        return
    import rasterio

    warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
    with atomic_path(out) as tmp, rasterio.open(tmp, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0],
                                                  count=1, dtype="uint8", nodata=255, compress="deflate") as dst:
        dst.write(arr, 1)
        dst.write_colormap(1, colormap)
        dst.set_band_description(1, description)
        dst.update_tags(**{k: str(v) for k, v in (extra or {}).items()})


def register(app: typer.Typer, console: Console) -> None:
    @app.command()
    def water(
        s1: Annotated[Path, typer.Option("--s1", help="Sentinel-1 raster (VV[, VH]).")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Output GeoTIFF: 1 water, 0 not, 255 no data.")],
        s1_units: Units = "db",
        s1_bands: Bands = None,
        s1_8bit_range: Scale8 = None,
    ) -> None:
        """Open water from one Sentinel-1 image (the flood product's water rule: VH, or VV alone, threshold anchored to a published prior, region growing)."""
        from eo_drr.products.water import s1_water

        refuse_overwrite(out, [s1])
        vv, vh, profile, units, _ = read_s1(s1, s1_bands, s1_units, s1_8bit_range)
        r = s1_water(vv, vh, units=units)
        write_classes(r.water, out, profile, description="water", extra={"classes": "1 water, 0 not water, 255 no data"})
        n = int((r.water == 1).sum())
        console.print(f"water: {n:,} px ({100 * n / max(1, int((r.water != 255).sum())):.1f} % of valid) -> {out}")
        t = r.threshold
        console.print(f"  {t.polarisation.upper()} threshold {t.threshold_db:.1f} dB ({t.tiles_used} tiles used)")
        for w in r.quality["warnings"]:
            if w not in r.quality["input_notes"]:  # read_s1 said those, naming the file
                typer.echo(f"warning: {w}", err=True)

    @app.command()
    def flood(
        post_s1: Annotated[Path, typer.Option("--post-s1", help="Post-event Sentinel-1 raster.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Output GeoTIFF: 0 no water, 1 flood, 2 reference water still water after the event, 255 no data.")],
        pre_s1: Annotated[list[Path], typer.Option("--pre-s1", help="Pre-event Sentinel-1 raster (repeat for several: their median is the reference).")] = [],
        s1_units: Units = "db",
        s1_bands: Bands = None,
        s1_8bit_range: Scale8 = None,
        hand: Annotated[Optional[Path], typer.Option("--hand", help="Height above nearest drainage (m) on the post-event grid: pixels above 15 m are excluded, as in jobs.")] = None,
        dem: Annotated[Optional[Path], typer.Option("--dem", help="DEM (m) on the post-event grid (projected CRS): slopes above 5 degrees are excluded and, without --hand, HAND is computed from it.")] = None,
    ) -> None:
        """Flood extent: water after the event minus the reference water before it (the job's flood product, same defaults)."""
        from eo_drr.products.flood import FLOOD_CLASSES, FLOOD_COLORS
        from eo_drr.products.s1_checks import orbit_warning

        if not pre_s1:
            raise ConfigError("--pre-s1: give at least one pre-event image")
        refuse_overwrite(out, [post_s1, *pre_s1, hand, dem])
        post = read_s1(post_s1, s1_bands, s1_units, s1_8bit_range, "--post-s1")
        pres = [read_s1(p, s1_bands, s1_units, s1_8bit_range, "--pre-s1") for p in pre_s1]
        for p, pr in zip(pre_s1, pres):
            if pr[0].shape != post[0].shape:
                raise InputError(f"--pre-s1: {p} is {pr[0].shape[::-1]} px, the post-event image {post[0].shape[::-1]}: resample them onto one grid")
            if pr[2].get("crs") != post[2].get("crs") or pr[2].get("transform") != post[2].get("transform"):
                raise InputError(f"--pre-s1: {p} is not on the post-event image's grid (CRS or transform differ)")
        note = orbit_warning([p[4] for p in pres], post[4])
        if note:
            typer.echo(f"warning: {note}", err=True)
        masks = terrain_masks(post[2], hand, dem)
        ds, thresholds = flood_on_arrays(pres, post, **masks)
        flood_map = ds["flood"].values
        write_classes(flood_map, out, post[2], description="flood",
                      extra={"classes": FLOOD_CLASSES}, colormap=FLOOD_COLORS)
        valid = max(1, int((flood_map != 255).sum()))
        n, still = int((flood_map == 1).sum()), int((flood_map == 2).sum())
        console.print(f"flood: {n:,} px ({100 * n / valid:.1f} % of valid) -> {out}")
        console.print(f"  reference water still water after the event (class 2): {still:,} px")
        for w in thresholds.warnings():
            typer.echo(f"warning: {w}", err=True)
