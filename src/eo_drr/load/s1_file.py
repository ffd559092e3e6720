"""One Sentinel-1 raster file (any GeoTIFF, or an 8-bit image with a dB range), as the
commands and the API read it: VV (and VH) by band name, checked for plausibility.

8-bit values map to dB (``DN = 255 * (dB - LO) / (HI - LO)``, DN 0 = no data); NaN and +-inf
become NaN; implausible units or swapped bands stop here with a message naming the file and
the option (:func:`eo_drr.load.s1_checks.check_backscatter`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eo_drr.errors import ConfigError, CorruptInputError, InputError
from eo_drr.i18n import gettext as _
from eo_drr.load.guard import check_georef, check_read_size


@dataclass
class S1File:
    """``vv`` / ``vh`` float32 (``units``: "db" or "linear"; NaN no data) on the file's grid
    (rasterio ``profile``), the file's ``tags`` and plain-language ``notes``."""

    path: Path
    vv: np.ndarray
    vh: np.ndarray | None
    profile: dict
    units: str
    tags: dict
    notes: list[str] = field(default_factory=list)


def _scale_8bit(data: np.ndarray, range8: str, path: Path) -> np.ndarray:
    try:
        lo, hi = (float(v) for v in range8.split(","))
    except ValueError:
        raise ConfigError(
            _("--s1-8bit-range: expected LO,HI in dB, got {range8!r}").format(range8=range8)
        ) from None
    if not lo < hi:
        raise ConfigError(
            _(
                "--s1-8bit-range: LO must be below HI (dB of DN 0, then of DN 255), got {range8!r}"
            ).format(range8=range8)
        )
    return np.where(data == 0, np.nan, lo + data * (hi - lo) / 255.0).astype(np.float32)


def read_s1_file(
    path: Path,
    *,
    option: str = "--s1",
    bands: str | None = None,
    units: str = "db",
    range8: str | None = None,
) -> S1File:
    """Read ``path`` (given with ``option``, named in every message). ``bands``: names in file
    order ("VV,VH"; default: the band descriptions, else VV, VH); ``range8``: "LO,HI" dB of DN
    0 and 255 for 8-bit images."""
    import rasterio

    from eo_drr.load.s1_checks import check_backscatter

    if units not in ("db", "linear"):
        raise ConfigError(_("--s1-units: use db or linear, not {units!r}").format(units=units))
    if not path.exists():
        raise InputError(_("{what}: no such file {path}").format(what=option, path=path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                check_read_size(src, path, option)
                check_georef(src, path, option)
                data = src.read().astype(np.float32)
                profile, names, nodata, dtype, tags = (
                    src.profile,
                    list(src.descriptions),
                    src.nodata,
                    src.dtypes[0],
                    src.tags(),
                )
    except (rasterio.errors.RasterioError, UnicodeDecodeError) as exc:
        # a garbled band description or tag is not UTF-8 text (found by tests/hostile/test_fuzz.py)
        raise CorruptInputError(
            _("{option}: {path} is not a readable raster ({exc})").format(
                option=option, path=path, exc=exc
            )
        ) from None
    if min(data.shape[1:]) < 9:
        raise InputError(
            _(
                "{option}: {path} is only {rows} x {cols} px: too small to map (the speckle "
                "filter needs at least 9 x 9)"
            ).format(option=option, path=path, rows=data.shape[1], cols=data.shape[2])
        )
    if bands:
        names = [b.strip() for b in bands.split(",")]
        if len(names) != data.shape[0]:
            raise ConfigError(
                _("--s1-bands: {n_names} names for {n_bands} band(s) in {path}").format(
                    n_names=len(names), n_bands=data.shape[0], path=path
                )
            )
    elif not all(names):
        names = ["VV", "VH"][: data.shape[0]] if data.shape[0] <= 2 else [None] * data.shape[0]
    upper = [str(n).upper() if n else "" for n in names]
    if "VV" not in upper:
        raise InputError(
            _("{option}: {path} has no VV band (bands: {names}); name them with --s1-bands").format(
                option=option, path=path, names=names
            )
        )
    if nodata is not None and not np.isnan(nodata):
        data[data == nodata] = np.nan
    if range8 is not None and dtype != "uint8":
        raise ConfigError(
            _("--s1-8bit-range: only for 8-bit images; {path} holds {dtype} values").format(
                path=path, dtype=dtype
            )
        )
    if dtype == "uint8":
        if range8 is None:
            raise ConfigError(
                _(
                    "--s1-8bit-range: {path} is 8-bit; say which dB values DN 0 and 255 "
                    "stand for (e.g. -30,0)"
                ).format(path=path)
            )
        data, units = _scale_8bit(data, range8, path), "db"
    vv, vh, notes = check_backscatter(
        data[upper.index("VV")],
        data[upper.index("VH")] if "VH" in upper else None,
        units=units,
        vv_name=f"{option} {path} (VV)",
        vh_name=f"{option} {path} (VH)",
        units_option="--s1-units",
        bands_option="--s1-bands",
    )
    if profile.get("crs") is None:
        notes.append(
            _("{path} has no CRS; the output is a plain image on the same pixel grid").format(
                path=path
            )
        )
    return S1File(path, vv, vh, profile, units, tags, notes)


def read_on_grid(path: Path, option: str, profile: dict) -> np.ndarray:
    """Band 1 of ``path`` as float32 (nodata NaN), refused unless on the grid of ``profile``."""
    from eo_drr.load.s2_file import read_band_file

    img = read_band_file(path, option=option, name="band")
    p = img.profile
    if (
        (p["width"], p["height"]) != (profile["width"], profile["height"])
        or p.get("crs") != profile.get("crs")
        or p.get("transform") != profile.get("transform")
    ):
        raise InputError(
            _(
                "{option}: {path} is not on the post-event image's grid (size, CRS or "
                "transform differ)"
            ).format(option=option, path=path)
        )
    return img.bands["band"]


def read_vv_db(path: Path, *, option: str, units: str, ref) -> tuple[np.ndarray, list[str]]:
    """Sentinel-1 VV of one file in dB (``units``: what the pixels hold, "db" or "linear"
    power), checked for plausibility and resampled (bilinear) onto the grid of ``ref`` (a
    :class:`eo_drr.load.s2_file.Image`) when it differs: ``(vv_db, notes)``, each note a
    line to show as it is (``warning: ...`` for the plausibility checks, ``note: ...`` for
    the resampling)."""
    from eo_drr.load.s1_checks import check_backscatter
    from eo_drr.load.s2_file import read_band_file, reproject_to

    img = read_band_file(path, option=option)
    vv, _vh, notes = check_backscatter(
        img.bands["VV"], units=units, vv_name=f"{option} {path}", units_option="--s1-units"
    )
    if units == "linear":
        with np.errstate(divide="ignore", invalid="ignore"):
            vv = np.where(vv > 0, 10 * np.log10(vv), np.nan).astype(np.float32)
    img.bands["VV"] = vv
    img, moved = reproject_to(img, ref, option=option)
    notes = [_("warning: {text}").format(text=n) for n in notes]
    if moved:
        resampled = _("{option} {path} was resampled (bilinear) onto the grid of --before")
        notes.append(_("note: {text}").format(text=resampled.format(option=option, path=path)))

    return img.bands["VV"], notes
