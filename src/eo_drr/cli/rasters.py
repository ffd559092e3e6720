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


def read_s1(path: Path, bands: str | None, units: str, range8: str | None):
    """(vv, vh or None, profile, units) from a raster file; 8-bit values mapped to dB."""
    import rasterio

    if units not in ("db", "linear"):
        raise ConfigError(f"--s1-units: use db or linear, not {units!r}")
    if not path.exists():
        raise InputError(f"--s1: no such file {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                data = src.read().astype(np.float32)
                profile = src.profile
                names = [d for d in src.descriptions]
                nodata = src.nodata
                dtype = src.dtypes[0]
    except rasterio.errors.RasterioError as exc:
        raise CorruptInputError(f"--s1: {path} is not a readable raster ({exc})") from None
    if bands:
        names = [b.strip() for b in bands.split(",")]
        if len(names) != data.shape[0]:
            raise ConfigError(f"--s1-bands: {len(names)} names for {data.shape[0]} band(s) in {path}")
    elif not all(names):
        names = ["VV", "VH"][: data.shape[0]] if data.shape[0] <= 2 else [None] * data.shape[0]
    upper = [str(n).upper() if n else "" for n in names]
    if "VV" not in upper:
        raise InputError(f"--s1: {path} has no VV band (bands: {names}); name them with --s1-bands")
    if nodata is not None and not np.isnan(nodata):
        data[data == nodata] = np.nan
    if range8 is not None or dtype == "uint8":
        if range8 is None:
            raise ConfigError(f"--s1-8bit-range: {path} is 8-bit; say which dB values DN 0 and 255 stand for (e.g. -30,0)")
        try:
            lo, hi = (float(v) for v in range8.split(","))
        except ValueError:
            raise ConfigError(f"--s1-8bit-range: expected LO,HI in dB, got {range8!r}") from None
        data = np.where(data == 0, np.nan, lo + data * (hi - lo) / 255.0).astype(np.float32)
        units = "db"
    vv = data[upper.index("VV")]
    vh = data[upper.index("VH")] if "VH" in upper else None
    if profile.get("crs") is None:
        typer.echo(f"warning: {path} has no CRS; the output is a plain image on the same pixel grid", err=True)
    return vv, vh, profile, units


def write_classes(arr: np.ndarray, out: Path, profile, *, description: str, extra: dict | None = None) -> None:
    """uint8 classes (1/0/255) on the input grid: a COG when georeferenced, else a GeoTIFF."""
    from eo_drr.io import atomic_path, write_cog
    from eo_drr.products.flood import CLASS_COLORS

    if profile.get("crs") is not None:
        write_cog(arr, out, crs=profile["crs"], transform=profile["transform"], nodata=255,
                  colormap=CLASS_COLORS, band_descriptions=[description], tags=extra or {})
        return
    import rasterio

    warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
    with atomic_path(out) as tmp, rasterio.open(tmp, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0],
                                                  count=1, dtype="uint8", nodata=255, compress="deflate") as dst:
        dst.write(arr, 1)
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
        """Open water from one Sentinel-1 image (hierarchical split-based thresholding ensemble)."""
        from eo_drr.products.water import s1_water

        vv, vh, profile, units = read_s1(s1, s1_bands, s1_units, s1_8bit_range)
        r = s1_water(vv, vh, units=units)
        write_classes(r.water, out, profile, description="water", extra={"classes": "1 water, 0 not water, 255 no data"})
        n = int((r.water == 1).sum())
        console.print(f"water: {n:,} px ({100 * n / max(1, int((r.water != 255).sum())):.1f} % of valid) -> {out}")
        for m in r.methods:
            console.print(f"  {m.name}: " + (f"threshold {m.threshold_db:.1f} dB" if m.mask is not None else f"abstained ({m.note})"))
        if r.fallback:
            console.print(f"  note: {r.fallback}")

    @app.command()
    def flood(
        post_s1: Annotated[Path, typer.Option("--post-s1", help="Post-event Sentinel-1 raster.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Output GeoTIFF: 1 flood, 0 not, 255 no data.")],
        pre_s1: Annotated[list[Path], typer.Option("--pre-s1", help="Pre-event Sentinel-1 raster (repeat for several: their median is the reference).")] = [],
        s1_units: Units = "db",
        s1_bands: Bands = None,
        s1_8bit_range: Scale8 = None,
    ) -> None:
        """Flood extent: water after the event minus the reference water before it."""
        from eo_drr.products.change import s1_flood

        if not pre_s1:
            raise ConfigError("--pre-s1: give at least one pre-event image")
        post = read_s1(post_s1, s1_bands, s1_units, s1_8bit_range)
        pres = [read_s1(p, s1_bands, s1_units, s1_8bit_range) for p in pre_s1]
        for p, pr in zip(pre_s1, pres):
            if pr[0].shape != post[0].shape:
                raise InputError(f"--pre-s1: {p} is {pr[0].shape[::-1]} px, the post-event image {post[0].shape[::-1]}: resample them onto one grid")
            if pr[2].get("crs") != post[2].get("crs") or pr[2].get("transform") != post[2].get("transform"):
                raise InputError(f"--pre-s1: {p} is not on the post-event image's grid (CRS or transform differ)")
        vh_ok = post[1] is not None and all(p[1] is not None for p in pres)
        r = s1_flood([p[0] for p in pres], post[0], [p[1] for p in pres] if vh_ok else None, post[1] if vh_ok else None, units=post[3])
        write_classes(r.flood, out, post[2], description="flood", extra={"classes": "1 flood, 0 not flooded, 255 no data"})
        n = int((r.flood == 1).sum())
        console.print(f"flood: {n:,} px ({100 * n / max(1, int((r.flood != 255).sum())):.1f} % of valid) -> {out}")
