"""Wetland cover per pixel and date, Wetlands Insight Tool (WIT) style, from Sentinel-2.

The Wetlands Insight Tool (Dunn et al. 2019, Int. Geosci. Remote Sens. Symp., and Dunn et al.
2023, Remote Sens. 15(6):1728) describes a wetland, date by date, as the shares of open water
(WOfS, Mueller et al. 2016), wet (tasseled-cap wetness, TCW, above a threshold) and, for the
rest, green vegetation, dry vegetation and bare soil (fractional cover). Here each clear
pixel of each date gets one class, in this order (the first that applies):

====  ==============  ========================================================================
code  class           rule (surface reflectance 0-1)
====  ==============  ========================================================================
0     open water      majority of MNDWI > 0 (Xu 2006), AWEI_sh > 0 (Feyisa et al. 2014) and the
                      WOfS decision tree (Mueller et al. 2016):
                      :func:`eo_drr.products.water_s2.s2_water`
1     wet             TCW > ``tcw_wet_threshold`` (see below)
2     green veg.      NDVI >= ``ndvi_green_min`` = 0.35, midway between the bare-soil and
                      full-cover NDVI of Sobrino et al. 2004 (0.2 and 0.5)
3     dry veg.        NDTI = (B11 - B12)/(B11 + B12) >= 0.10 (:func:`eo_drr.indices.ndti`;
                      Van Deventer et al. 1997,
                      Photogramm. Eng. Remote Sens. 63:87-93: cellulose/lignin absorption at
                      2.1 um makes senescent vegetation and residue NDTI >= ~0.1, soils lower)
4     bare            everything else
255   no data         cloud, shadow, cirrus (SCL 3, 8, 9, 10), saturated or missing bands
====  ==============  ========================================================================

Tasseled-cap wetness and its threshold
--------------------------------------
WIT uses TCW with the Crist (1985) coefficients and a threshold of -350 on Landsat surface
reflectance x 10 000, i.e. -0.035 in reflectance units. Sentinel-2 L2A stacks commonly carry
only B02, B03, B04, B08, B11, B12, for which :func:`eo_drr.indices.tc_wetness` offers Crist's
coefficients applied to the equivalent Sentinel-2 bands (``"crist1985"``); the 13-band
Nedkov (2017) set needs B01, B05-B07, B09, B8A as well. Either way the threshold is *not* the
Landsat number reused: :func:`calibrate_tcw_wet_threshold` recalibrates it against open water
on Sentinel-2 data. "Wet" means "as wet as open water can look": the threshold is the TCW
that 99 % of open-water pixels exceed (the 1st percentile of TCW over the pixels that the
three water rules call open water, all clear dates of a scene), so mixed water edges, shallow
and turbid water still count as wet, while dry vegetation and soil (TCW -0.07 to -0.35 in
these scenes) do not. Run on the demo scenes (512 px, all six dates) it gives -0.027
(floodplain seed 7), -0.033 (floodplain seed 11) and -0.031 (desert_city seed 7): the
default :data:`TCW_WET_THRESHOLD` is their mean, -0.030, rounded to 0.005 (the Landsat value
is -0.035). The benchmark ``benchmarks/urban_wetland_accuracy.py`` reruns the calibration.
Real Sentinel-2 scenes with mapped water should be used to refine it (not done yet).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from eo_drr import indices
from eo_drr.errors import InputError, NoDataError
from eo_drr.i18n import gettext as _
from eo_drr.products.water import remove_small_objects
from eo_drr.products.water_s2 import s2_water

log = logging.getLogger(__name__)

NODATA = 255
WATER, WET, GREEN_VEG, DRY_VEG, BARE = 0, 1, 2, 3, 4
CLASS_NAMES = ("water", "wet", "green_veg", "dry_veg", "bare")
CLASS_COLORS = {
    WATER: (30, 90, 200, 255),
    WET: (100, 200, 230, 255),
    GREEN_VEG: (40, 160, 60, 255),
    DRY_VEG: (200, 170, 90, 255),
    BARE: (180, 140, 120, 255),
    NODATA: (0, 0, 0, 0),
}
#: extent change classes (:func:`extent_change`)
CHANGE_CLASSES = {0: "not wetland", 1: "wetland in both periods", 2: "gained", 3: "lost"}
CHANGE_COLORS = {
    0: (240, 240, 240, 255),
    1: (40, 120, 200, 255),
    2: (40, 180, 60, 255),
    3: (220, 40, 40, 255),
    NODATA: (0, 0, 0, 0),
}

#: TCW wet threshold (reflectance 0-1 units, Crist 1985 coefficients on Sentinel-2 B02-B04,
#: B08, B11, B12), recalibrated against open water (:func:`calibrate_tcw_wet_threshold`, the
#: module docstring gives the scenes and values).
TCW_WET_THRESHOLD = -0.030
#: sensible range of a TCW wet threshold (reflectance units) accepted from users
TCW_RANGE = (-0.2, 0.05)
NDVI_GREEN_MIN = 0.35
NDTI_DRY_MIN = 0.10
REQUIRED_BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")
#: WIT drops a polygon's observation with more than this share of its pixels missing (Dunn et al. 2019)
MAX_MISSING_FRACTION = 0.10
#: wetland extent: water or wet on at least this share of the clear dates, and on at least
#: this many dates (one flood date cannot make a wetland)
EXTENT_MIN_FREQUENCY = 0.25
EXTENT_MIN_OBSERVATIONS = 2
#: derived wetland polygons: smallest size (px)
MIN_POLYGON_PX = 20


@dataclass(frozen=True)
class WetlandParams:
    """The wetland product's settings, the one source of their defaults (the job's
    ``products.wetlands`` overrides fields): ``tcw_wet_threshold`` (TCW, reflectance units),
    ``ndvi_green_min`` (NDVI), ``max_missing_fraction`` (0-1), ``extent_min_frequency`` (0-1),
    ``extent_min_observations`` (dates), ``min_polygon_px`` (px)."""

    tcw_wet_threshold: float = TCW_WET_THRESHOLD
    ndvi_green_min: float = NDVI_GREEN_MIN
    max_missing_fraction: float = MAX_MISSING_FRACTION
    extent_min_frequency: float = EXTENT_MIN_FREQUENCY
    extent_min_observations: int = EXTENT_MIN_OBSERVATIONS
    min_polygon_px: int = MIN_POLYGON_PX


def _bands(bands: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    missing = [b for b in REQUIRED_BANDS if b not in bands]
    if missing:
        raise InputError(
            _(
                "sources.s2.bands: bands missing for the wetland classes: {missing} (need B02, "
                "B03, B04, B08, B11, B12)"
            ).format(missing=", ".join(missing))
        )
    b = {k: np.asarray(bands[k], dtype=np.float32) for k in REQUIRED_BANDS}
    shape = b["blue"].shape
    if any(v.shape != shape for v in b.values()):
        raise InputError(_("bands: the bands have different shapes (resample to one grid first)"))
    return b


def tc_wetness(bands: dict[str, np.ndarray]) -> np.ndarray:
    """Tasseled-cap wetness (reflectance 0-1 units) with Crist (1985) coefficients on the
    equivalent Sentinel-2 bands (:func:`eo_drr.indices.tc_wetness`, ``"crist1985"``)."""
    b = _bands(bands)
    return np.asarray(indices.tc_wetness(b, coefficients="crist1985"))


def calibrate_tcw_wet_threshold(
    tcw: np.ndarray, water: np.ndarray, *, percentile: float = 1.0
) -> float:
    """Recalibrate the TCW wet threshold against open water (procedure in the module docstring).

    ``tcw``: TCW (reflectance units), any shape, NaN no data; ``water``: boolean open water
    on the same pixels (e.g. :func:`s2_water` == 1). Returns the ``percentile`` (default 1)
    of TCW over the open-water pixels. Raises :class:`InputError` with fewer than 100 of them.
    """
    t = np.asarray(tcw, dtype=np.float32).ravel()
    w = np.asarray(water, dtype=bool).ravel()
    if t.shape != w.shape:
        raise InputError(
            _("water: shape {shape} differs from tcw {shape2}").format(
                shape=np.shape(water), shape2=np.shape(tcw)
            )
        )
    v = t[np.isfinite(t) & w]
    if v.size < 100:
        raise InputError(
            _("calibration needs >= 100 open-water pixels (got {size})").format(size=v.size)
        )
    return float(np.percentile(v, percentile))


def check_threshold(name: str, value: float, lo: float, hi: float) -> float:
    """``value`` if ``lo <= value <= hi``, else :class:`InputError` naming ``name``."""
    if not (np.isfinite(value) and lo <= value <= hi):
        raise InputError(
            _("{name}: {value} is outside the sensible range [{lo}, {hi}]").format(
                name=name, value=value, lo=lo, hi=hi
            )
        )
    return float(value)


def wit_classes(
    bands: dict[str, np.ndarray],
    *,
    tcw_wet_threshold: float = TCW_WET_THRESHOLD,
    ndvi_green_min: float = NDVI_GREEN_MIN,
    ndti_dry_min: float = NDTI_DRY_MIN,
) -> np.ndarray:
    """WIT classes (uint8, codes in the module docstring; 255 no data) per pixel and date.

    ``bands``: surface reflectance (0-1) arrays of any shape, e.g. ``(time, y, x)``, named
    blue, green, red, nir, swir16, swir22, with NaN where clouds or shadows were masked
    (mask with SCL before; never mask SCL class 6, water).
    """
    check_threshold("tcw_wet_threshold", tcw_wet_threshold, *TCW_RANGE)
    check_threshold("ndvi_green_min", ndvi_green_min, 0.05, 0.9)
    check_threshold("ndti_dry_min", ndti_dry_min, -0.5, 0.5)
    b = _bands(bands)
    water, _stats = s2_water(b)  # 1 water / 0 / 255 where any band is NaN
    tcw = np.asarray(indices.tc_wetness(b, coefficients="crist1985"))
    ndvi = np.asarray(indices.ndvi(b["nir"], b["red"]))
    ndti = np.asarray(indices.ndti(b["swir16"], b["swir22"]))
    out = np.full(water.shape, BARE, dtype=np.uint8)
    out[ndti >= ndti_dry_min] = DRY_VEG
    out[ndvi >= ndvi_green_min] = GREEN_VEG
    out[tcw > tcw_wet_threshold] = WET
    out[water == 1] = WATER
    out[(water == NODATA) | ~np.isfinite(tcw) | ~np.isfinite(ndvi)] = NODATA
    return out


def inundation_frequency(classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(frequency, n_clear)``: the share (float32, 0-1; NaN never observed) of clear dates on
    which a pixel was open water, from WIT classes ``(time, y, x)``; and the clear-date count."""
    c = np.asarray(classes)
    if c.ndim != 3:
        raise InputError(
            _("classes: expected (time, y, x), got shape {shape}").format(shape=c.shape)
        )
    n = (c != NODATA).sum(axis=0)
    w = (c == WATER).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(n > 0, w / np.maximum(n, 1), np.nan).astype(np.float32)
    return f, n.astype(np.int16)


def wetland_extent(
    classes: np.ndarray,
    min_frequency: float = EXTENT_MIN_FREQUENCY,
    *,
    min_observations: int = EXTENT_MIN_OBSERVATIONS,
    min_mapping_unit_px: int = 1,
    what: str = "the period",
) -> np.ndarray:
    """Wetland extent of a period from WIT classes ``(time, y, x)``.

    A wetland is wet *repeatedly*. A pixel is wetland (1) where it was open water or wet on
    at least ``min_frequency`` (0-1) of its clear dates **and** on at least
    ``min_observations`` of them; 0 where it had at least ``min_observations`` clear dates
    without meeting both; 255 where it had fewer clear dates than ``min_observations`` (never
    observed, or too few observations to tell a wetland from one wet day).

    Why the count: the frequency alone lets a single event decide. With the four clear dates
    of a half-year period, one flood date gives flooded farmland a frequency of 0.25, so the
    flood would become "wetland". The WOfS summary (Mueller et al. 2016, Remote Sens. Environ.
    174:341-352) is a frequency of water over *many* clear observations (the whole Landsat
    archive) and is read together with the count of clear observations; the Wetlands Insight
    Tool (Dunn et al. 2019, IGARSS; Dunn et al. 2023, Remote Sens. 15(6):1728) characterises
    a wetland by the recurrence of water and wetness over a time series, not by one date.
    The default of 2 is the smallest count that a one-off event cannot meet on its own (a
    flood that lasts across two acquisitions still can: use a longer period or a larger
    count where acquisitions are dense).

    Raises :class:`NoDataError` when no pixel has a clear date, or none has
    ``min_observations`` of them (``what`` names the period in the message).
    """
    check_threshold("extent_min_frequency", min_frequency, 1e-6, 1.0)
    k = min_observations
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(
            _("extent_min_observations: expected an integer >= 1, got {min_observations!r}").format(
                min_observations=min_observations
            )
        )
    c = np.asarray(classes)
    if c.ndim != 3:
        raise InputError(
            _("classes: expected (time, y, x), got shape {shape}").format(shape=c.shape)
        )
    n = (c != NODATA).sum(axis=0)
    if not n.any():
        raise NoDataError(
            _("{what}: no cloud-free Sentinel-2 observation in the period").format(what=what)
        )
    enough = n >= int(min_observations)
    if not enough.any():
        raise NoDataError(
            _(
                "{what}: no pixel has {min_observations} clear dates (at most {n}); widen the "
                "period or lower products.wetlands.extent_min_observations"
            ).format(what=what, min_observations=min_observations, n=int(n.max()))
        )
    wet = ((c == WATER) | (c == WET)).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = wet / np.maximum(n, 1)
    ext = (share >= min_frequency) & (wet >= int(min_observations)) & enough
    ext = remove_small_objects(ext, int(min_mapping_unit_px))
    out = ext.astype(np.uint8)
    out[~enough] = NODATA
    return out


def extent_change(extent_1: np.ndarray, extent_2: np.ndarray) -> np.ndarray:
    """Change between two wetland extents (1/0/255): uint8 :data:`CHANGE_CLASSES`, 255 where
    either period has no data (never observed, or too few clear dates)."""
    a, b = np.asarray(extent_1), np.asarray(extent_2)
    if a.shape != b.shape:
        raise InputError(
            _("extent_2: grid {shape} differs from extent_1 {shape2}").format(
                shape=b.shape, shape2=a.shape
            )
        )
    out = np.zeros(a.shape, dtype=np.uint8)
    out[(a == 1) & (b == 1)] = 1
    out[(a == 0) & (b == 1)] = 2
    out[(a == 1) & (b == 0)] = 3
    out[(a == NODATA) | (b == NODATA)] = NODATA
    return out


def derive_polygons(extent: np.ndarray, transform, crs, *, min_px: int = MIN_POLYGON_PX):
    """Wetland polygons from an extent raster (1 = wetland): 8-connected patches of at least
    ``min_px`` pixels, as a GeoDataFrame with ``id`` (``W001``...), ``name`` and ``geometry``
    in ``crs``. Raises :class:`NoDataError` when no patch is large enough."""
    import geopandas as gpd
    from rasterio import features
    from scipy import ndimage
    from shapely.geometry import shape

    mask = remove_small_objects(np.asarray(extent) == 1, int(min_px))
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        raise NoDataError(
            _("no wetland patch of at least {min_px} px to derive polygons from").format(
                min_px=min_px
            )
        )
    geoms: dict[int, list] = {}
    for geom, value in features.shapes(
        labels.astype(np.int32), mask=labels > 0, transform=transform, connectivity=8
    ):
        geoms.setdefault(int(value), []).append(shape(geom))
    from shapely.ops import unary_union

    ids = sorted(geoms)
    polys = [unary_union(geoms[i]).buffer(0) for i in ids]
    gdf = gpd.GeoDataFrame(
        {"id": [f"W{k:03d}" for k in range(1, len(ids) + 1)]}, geometry=polys, crs=crs
    )
    gdf["name"] = gdf["id"]
    return gdf[["id", "name", "geometry"]]


def mean_fraction_table_check(fractions: np.ndarray, atol: float = 0.01) -> bool:
    """True when every row of ``fractions`` (n, 5) sums to 1 within ``atol``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        s = np.asarray(fractions, dtype=np.float64).sum(axis=1)
    return bool(np.all(np.abs(s - 1.0) <= atol))
