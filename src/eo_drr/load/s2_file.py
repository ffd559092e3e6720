"""Sentinel-2 and Sentinel-1 images from plain GeoTIFF files, for the raster commands.

:func:`read_s2_file` reads a multi-band Sentinel-2 GeoTIFF whose band descriptions name the
bands (``B01`` ... ``B12``, ``B8A``, or common names such as ``red``, ``nir``): digital numbers
scaled by 10000 (0 = no data), reflectance = (DN + offset) / 10000 where a
``BOA_ADD_OFFSET`` tag gives the processing-baseline 04.00 offset (-1000 for Level-2A since
2022-01-25; ESA, Sentinel-2 Products Specification Document). The processing level comes
from a ``PROCESSING_LEVEL`` tag (L1C / L2A) or the caller, and is checked against the
darkest blue pixels: Level-1C top-of-atmosphere reflectance keeps the path radiance of the
atmosphere (the 1st percentile of B02 stays above about 0.05; 0.079-0.145 on the six OSCD
cities), Level-2A surface reflectance of dark targets (water, dense vegetation, shadow) falls
to about 0.01-0.03 (Vermote et al. 2016, Remote Sens. Environ. 185:46-56). Level-1C that dark
is refused; Level-2A without any dark pixel gets a warning only (a desert or a city centre
can be bright everywhere at the surface too).

:func:`reproject_to` puts another image on a reference grid (bilinear for reflectance and
backscatter), refusing images that do not overlap it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eo_drr.errors import CorruptInputError, InputError
from eo_drr.i18n import gettext as _
from eo_drr.load.guard import check_georef, check_read_size

log = logging.getLogger(__name__)

#: band names as written by ESA, and the common names (STAC eo:common_name) they answer to
S2_BANDS = (
    "B01",
    "B02",
    "B03",
    "B04",
    "B05",
    "B06",
    "B07",
    "B08",
    "B8A",
    "B09",
    "B10",
    "B11",
    "B12",
)
COMMON_TO_BAND = {
    "coastal": "B01",
    "blue": "B02",
    "green": "B03",
    "red": "B04",
    "rededge1": "B05",
    "rededge2": "B06",
    "rededge3": "B07",
    "nir": "B08",
    "nir08": "B8A",
    "nir09": "B09",
    "cirrus": "B10",
    "swir16": "B11",
    "swir22": "B12",
}
LEVELS = ("L1C", "L2A")
#: 1st percentile of B02 reflectance separating TOA (above) from surface reflectance (below)
L1C_MIN_DARK_BLUE = 0.05
L2A_MAX_DARK_BLUE = 0.035
#: a scene's median red reflectance is far above this (dark water and forest are about 0.01-0.03)
MIN_MEDIAN_RED = 0.002


@dataclass
class Image:
    """Bands by ESA name (float32, reflectance 0-1 or dB, NaN no data) on one grid."""

    path: Path
    bands: dict[str, np.ndarray]
    profile: dict
    level: str | None = None
    #: plain-language warnings found while reading
    notes: tuple[str, ...] = ()

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.profile["height"]), int(self.profile["width"]))


def _band_name(desc: str | None) -> str | None:
    if not desc:
        return None
    d = desc.strip()
    up = d.upper()
    if up in S2_BANDS or up == "SCL":
        return up
    if len(up) == 2 and up[0] == "B" and up[1].isdigit():  # B2 -> B02
        return f"B0{up[1]}"
    return COMMON_TO_BAND.get(d.lower())


def _open(path: Path, option: str):
    import rasterio

    if not path.exists():
        raise InputError(_("{what}: no such file {path}").format(what=option, path=path))
    if path.is_dir():
        raise InputError(
            _("{what}: {path} is a folder, not a raster file").format(what=option, path=path)
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                check_read_size(src, path, option)
                check_georef(src, path, option)
                return src.read(), dict(src.profile), list(src.descriptions), src.tags(), src.nodata
    except (rasterio.errors.RasterioError, MemoryError) as exc:
        raise CorruptInputError(
            _("{option}: {path} is not a readable raster ({exc})").format(
                option=option, path=path, exc=exc
            )
        ) from None


def check_level(bands: dict[str, np.ndarray], level: str, *, what: str) -> str | None:
    """Check the declared processing level against the darkest blue pixels: refuse Level-1C
    data that are as dark as only surface reflectance can be (no path radiance left), and warn
    (returned text) about Level-2A data with no dark pixel at all, which is typical of
    Level-1C but also of an all-bright scene (desert, city) at the surface."""
    blue = bands.get("B02")
    if blue is None or not np.isfinite(blue).any():
        return None
    dark = float(np.nanpercentile(blue, 1))
    if level == "L1C" and dark < L2A_MAX_DARK_BLUE:
        raise InputError(
            _(
                "{what}: declared Level-1C, but its darkest blue pixels have reflectance "
                "{dark:.3f}, as atmospherically corrected (Level-2A) data do: pass --level "
                "L2A"
            ).format(what=what, dark=dark)
        )
    if level == "L2A" and dark > L1C_MIN_DARK_BLUE:
        return _(
            "{what}: declared Level-2A, but even its darkest blue pixels have reflectance "
            "{dark:.3f}, as top-of-atmosphere (Level-1C) data do; if it is Level-1C, pass "
            "--level L1C"
        ).format(what=what, dark=dark)

    return None


def read_s2_file(
    path: Path,
    *,
    option: str,
    level: str | None = None,
    need: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B11", "B12"),
) -> Image:
    """A Sentinel-2 GeoTIFF as reflectance bands by ESA name (see the module docstring);
    ``need``: bands that must be present (named in the error otherwise)."""
    data, profile, descs, tags, nodata = _open(path, option)
    names = [_band_name(d) for d in descs]
    if not any(names):
        raise InputError(
            _(
                "{option}: {path} has no band descriptions naming its bands (B02, ... or blue, ...)"
            ).format(option=option, path=path)
        )
    missing = [b for b in need if b not in names]
    if missing:
        have = ", ".join(n for n in names if n) or "none"
        raise InputError(
            _("{option}: {path} lacks band(s) {missing} (has {have})").format(
                option=option, path=path, missing=", ".join(missing), have=have
            )
        )
    level = (level or tags.get("PROCESSING_LEVEL", "")).upper().replace("LEVEL-", "L") or None
    if level is None:
        raise InputError(
            _(
                "{option}: {path} has no PROCESSING_LEVEL tag: say --level L1C or --level L2A"
            ).format(option=option, path=path)
        )
    if level not in LEVELS:
        raise InputError(_("--level: use L1C or L2A, not {level!r}").format(level=level))
    offset = float(tags.get("BOA_ADD_OFFSET", 0) or 0)
    bands = {}
    for name, band in zip(names, data, strict=True):
        if name is None:
            continue
        dn = band.astype(np.float32)
        bad = (dn == 0) | ~np.isfinite(dn)
        if nodata is not None and np.isfinite(nodata):
            bad |= dn == nodata
        # the scene classification (Level-2A) keeps its class codes
        value = dn if name == "SCL" else (dn + offset) / 10000.0
        bands[name] = np.where(bad, np.nan, value).astype(np.float32)
    if not any(np.isfinite(v).any() for k, v in bands.items() if k != "SCL"):
        raise InputError(
            _("{option}: {path} holds no valid pixel (all 0 / no data)").format(
                option=option, path=path
            )
        )
    med = (
        float(np.nanmedian(bands["B04"]))
        if "B04" in bands and np.isfinite(bands["B04"]).any()
        else 0.1
    )
    if 0.0 < med < MIN_MEDIAN_RED:
        raise InputError(
            _(
                "{option}: {path}: median red {med:.3g} as stored looks like reflectance "
                "0-1, not digital numbers scaled by 10000: multiply the bands by 10000 "
                "(Sentinel-2 products store DN = 10000 x reflectance)"
            ).format(option=option, path=path, med=med * 10000)
        )
    if not 0.0 < med < 1.5:
        raise InputError(
            _(
                "{option}: {path}: median red reflectance {med:.3g} is implausible: expected "
                "digital numbers scaled by 10000"
            ).format(option=option, path=path, med=med)
        )
    note = check_level(bands, level, what=f"{option} {path}")
    return Image(path, bands, profile, level, (note,) if note else ())


def read_band_file(path: Path, *, option: str, name: str = "VV") -> Image:
    """Band 1 of a raster (e.g. Sentinel-1 VV in dB, HAND in m) as ``bands[name]``, float32,
    NaN no data."""
    data, profile, _tags, _descriptions, nodata = _open(path, option)
    band = data[0].astype(np.float32)
    if nodata is not None and np.isfinite(nodata):
        band[band == nodata] = np.nan
    band[~np.isfinite(band)] = np.nan
    return Image(path, {name: band}, profile)


def reproject_to(img: Image, ref: Image, *, option: str) -> tuple[Image, bool]:
    """``img`` on ``ref``'s grid (bilinear; nearest for SCL classes; NaN outside):
    ``(image, resampled)``. Refuses an
    image that does not overlap ``ref`` or has no CRS while ``ref`` has one."""
    from rasterio.transform import array_bounds
    from rasterio.warp import Resampling, reproject, transform_bounds

    same = (
        img.shape == ref.shape
        and img.profile.get("crs") == ref.profile.get("crs")
        and img.profile.get("transform") == ref.profile.get("transform")
    )
    if same:
        return img, False
    if img.profile.get("crs") is None or ref.profile.get("crs") is None:
        raise InputError(
            _(
                "{option}: {path} is on another grid than {other} and one has no CRS: cannot "
                "put them on one grid"
            ).format(option=option, path=img.path, other=ref.path)
        )
    rb = array_bounds(*ref.shape, ref.profile["transform"])
    ib = transform_bounds(
        img.profile["crs"], ref.profile["crs"], *array_bounds(*img.shape, img.profile["transform"])
    )
    if ib[0] >= rb[2] or ib[2] <= rb[0] or ib[1] >= rb[3] or ib[3] <= rb[1]:
        raise InputError(
            _("{option}: {path} does not overlap {other}").format(
                option=option, path=img.path, other=ref.path
            )
        )
    out = {}
    for name, band in img.bands.items():
        dst = np.full(ref.shape, np.nan, np.float32)
        reproject(
            band,
            dst,
            src_transform=img.profile["transform"],
            src_crs=img.profile["crs"],
            dst_transform=ref.profile["transform"],
            dst_crs=ref.profile["crs"],
            src_nodata=np.nan,
            dst_nodata=np.nan,
            resampling=Resampling.nearest if name == "SCL" else Resampling.bilinear,
        )
        out[name] = dst
    return Image(img.path, out, dict(ref.profile), img.level, img.notes), True
