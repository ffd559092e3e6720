"""Plausibility checks of Sentinel-1 backscatter, so that bad input fails loudly.

:func:`check_backscatter` turns NaN and +-inf into NaN (no data) and refuses rasters whose
values contradict their declared units or band order (:func:`check_stored`: the same checks
without the copies; the orbits of a pair: :mod:`eo_drr.load.s1_orbits`). The checks rest on
the physics of C-band backscatter (sigma0 or gamma0, power ratio; dB = 10 log10(linear)):

- in dB, land and water lie mostly between -25 and 0 dB (VV median about -8 to -18 dB over
  mostly-land scenes; calm open water -20 to -25 dB; Ulaby & Long 2014, *Microwave Radar and
  Radiometric Remote Sensing*, Univ. of Michigan Press), so nearly every dB value is negative;
- in linear power nothing is negative (a power ratio), and nearly everything is in [0, 2];
- co-polarised VV is brighter than cross-polarised VH, typically by 5 to 10 dB over land
  (surface and double-bounce scattering keep the polarisation, volume scattering depolarises
  only part; on the Sen1Floods11 chips of ../shared/data (Bonafilia et al. 2020) the land
  medians are VV -9 to -11 dB, VH -15 to -17 dB, table below). Over calm water VH sits at the
  noise floor, so VV - VH stays positive there too.

Statistics (all finite pixels; the real chips, read as stored: Sen1Floods11 S1Hand float32 dB,
bands VV, VH; OMBRIA Guyana 2021 8-bit PNG, one band of undocumented polarisation, 20 BEFORE
and 20 AFTER patches, DN 0 nodata, DN 1..255 -> -30..0 dB; linear = 10 ** (dB / 10)):

================  =========  =========  ===========  ==========  ===========  ==============
chip              VV median  VH median  VV - VH      dB: share   dB: share    linear: share
                  (dB)       (dB)       median (dB)  < 0 (min)   in [0, 2]    in [0, 2] (min)
================  =========  =========  ===========  ==========  ===========  ==============
Ghana_53713       -9.8       -16.6      +6.8         1.000       0.000        1.000
Ghana_83483       -8.6       -14.0      +5.4         1.000       0.000        1.000
Ghana_97059       -8.0       -14.0      +6.0         1.000       0.000        1.000
India_900498      -12.4      -20.9      +7.5         1.000       0.000        1.000
Nigeria_812045    -14.4      -21.6      +7.2         1.000       0.000        1.000
Somalia_699062    -11.1      -16.4      +5.3         1.000       0.000        1.000
Spain_6860600     -10.2      -16.9      +6.9         0.989       0.004        0.995
Sri-Lanka_534068  -11.1      -26.0      +14.9        1.000       0.000        1.000
Spain_7370579     -10.5      -17.7      +7.4         0.981       0.008        0.991
Paraguay_34417    all NaN    all NaN    -            -           -            -
OMBRIA (40)       -18..-6    -          -            0.995       <= 0.005     1.000
================  =========  =========  ===========  ==========  ===========  ==============

Cut-offs, each far from every real chip: declared dB is refused as linear when under
``LINEAR_MAX_NEGATIVE`` (5 %) of the values are negative and at least ``LINEAR_MIN_IN_0_2``
(50 %) lie in [0, 2] (real dB: >= 98 % negative; real linear: 0 % negative, >= 99 % in [0, 2]);
declared linear is refused as dB when at least ``DB_MIN_NEGATIVE`` (50 %) are negative; VV and
VH are refused as swapped when the median of VV - VH is below ``MIN_VV_MINUS_VH_DB`` (-1 dB;
real: +5.3 to +14.9, so swapped: -14.9 to -5.3). A VV-only raster with a median below
``DARK_VV_DB`` (-19 dB: darker than every real VV above, as dark as the darker VH medians,
3 of 9 chips) gets a warning, not an error: a scene of mostly open water can be that dark.
A median above ``DB_MAX_MEDIAN`` (+5 dB) declared dB, or above ``LINEAR_MAX_MEDIAN`` (10)
declared linear, is not calibrated backscatter at all (digital numbers, amplitude counts).

A single VH band labelled VV over a mostly-land scene (VH land -13..-18 dB) has an overall
median within the range of real VV; its land is what gives it away. The values are split in
two modes (Otsu 1979, IEEE SMC 9(1):62-66); when the lower mode is at least
``MIN_WATER_LAND_DB`` (6 dB) darker than the upper one (calm water lies 6-15 dB below land in
either polarisation, so the lower mode is water and the upper one land) and the upper mode
holds most pixels, a land median below ``LAND_VV_MAX_DB`` (-15 dB) gets a warning: VV over
land is -5 to -12 dB, and the cross-polarisation ratio VH/VV over land is about -6 to -10 dB
(Ulaby & Long 2014; Vreugdenhil et al. 2018, Remote Sens. 10(9):1396), so land at -15 dB or
darker is VH. Real land modes (upper-mode medians) of VV: Sen1Floods11 (9 chips) -11.1..-6.9
dB, OSCD (6 cities, 22 images) -9.6..-0.7 dB, OMBRIA (40 patches) -17.2..-4.8 dB; none is
warned (the darkest with a water mode: Nigeria_812045, land -11.1 dB). Of the VH bands read as
VV, Spain_7370579 (land -16.4, water -26.0 dB) is warned by this rule, India, Nigeria and Sri
Lanka by the dark median. The rule does not judge a scene without such a contrast (OMBRIA
imbefore_26: modes -19.3 / -17.2 dB, 2 dB apart: no water to tell land from), nor a scene of
mostly water; the dark-median warning above covers the darkest of those.

Pixel data that decode to values of any magnitude (random bytes in an uncompressed TIFF: a
float32 of random bits exceeds 1e4 in magnitude about 45 % of the time) are refused when more
than ``MAX_WILD_SHARE`` (1 %) of the values exceed ``WILD_ABS`` (1e4) in magnitude: no
backscatter comes near it (1e4 in dB is a power ratio of 10^1000; in linear power +40 dB, above
the brightest point targets over a whole pixel). Corruption that yields plausible values (any
byte pattern of an 8-bit or 16-bit image is a valid number) cannot be told from data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from eo_drr.errors import CorruptInputError, InputError, NoDataError
from eo_drr.i18n import gettext as _
from eo_drr.kernels.select_cpu import class_medians

__all__ = ["check_backscatter", "check_stored"]

#: at most about this many pixels (a regular stride over the raster) enter the statistics:
#: a whole Sen1Floods11 chip (512 x 512, the table above); a sample quantile of n values is
#: within about 0.5 / sqrt(n) = 0.1 percentile points of the raster's, far inside the margins
#: of the cut-offs below (issue 21: 2**20 made the checks 12 % of a water series job)
SAMPLE = 1 << 18
#: declared dB looks linear: fewer than this share of the finite values negative ...
LINEAR_MAX_NEGATIVE = 0.05
#: ... and at least this share in [0, 2]
LINEAR_MIN_IN_0_2 = 0.5
#: declared linear looks like dB: at least this share of the finite values negative
DB_MIN_NEGATIVE = 0.5
#: declared dB with a median above this (dB) is not backscatter in dB (amplitude counts, DN)
DB_MAX_MEDIAN = 5.0
#: declared linear power with a median above this is not a power ratio (amplitude counts, DN)
LINEAR_MAX_MEDIAN = 10.0
#: median VV - VH (dB) below this: the bands are swapped
MIN_VV_MINUS_VH_DB = -1.0
#: median VV (dB) below this, without VH to compare: warn about the band order
DARK_VV_DB = -19.0
#: a VV-only scene whose land mode (see the module docstring) has its median below this (dB)
#: looks like VH: warn about the band order
LAND_VV_MAX_DB = -15.0
#: the two modes of a scene must lie at least this far apart (dB) to be water and land
MIN_WATER_LAND_DB = 6.0
#: values beyond this magnitude are no backscatter in dB nor in linear power ...
WILD_ABS = 1e4
#: ... and more than this share of them means corrupt pixel data
MAX_WILD_SHARE = 0.01


def _fix(option: str, value: str) -> str:
    """How the user sets ``option``: ``--s1-units linear`` or ``units='linear'``."""
    return f"{option} {value}" if option.startswith("-") else f"{option}={value!r}"


def _check_order(bands_option: str | None) -> str:
    """The advice to check the band order, naming the option that sets it when there is one."""
    if bands_option:
        return _("check the band order (set it with {option})").format(option=bands_option)
    return _("check the band order")


def _sample(a: np.ndarray) -> np.ndarray:

    flat = a.reshape(-1)
    return flat[:: max(1, flat.size // SAMPLE)]


def _to_db(v: np.ndarray, units: str) -> np.ndarray:
    if units == "db":
        return v
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10.0 * np.log10(np.where(v > 0, v, np.nan))


def _median(v: np.ndarray) -> float | None:
    """Median of the finite values of the float32 ``v`` (None when there is none): numpy's,
    found by radix selection (``kernels.select_cpu``)."""
    return class_medians(v, np.zeros(v.shape, dtype=bool))[0][0]


def _water_and_land(db: np.ndarray) -> tuple[float, float, float] | None:
    """Medians (dB) of the lower and the upper mode of the finite values ``db`` split at
    Otsu's (1979) threshold, and the upper mode's share of the values; None with fewer than
    100 values or an empty mode."""
    v = db[np.isfinite(db)]
    if v.size < 100:
        return None
    counts, edges = np.histogram(np.clip(v, -40.0, 10.0), bins=200, range=(-40.0, 10.0))
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(counts)
    above = below[-1] - below
    moment = np.cumsum(counts * centres)
    mean_below = moment / np.maximum(below, 1)
    mean_above = (moment[-1] - moment) / np.maximum(above, 1)
    split = edges[int(np.argmax(below * above * (mean_below - mean_above) ** 2)) + 1]
    (water, land), (_n_water, n_land) = class_medians(v, v >= split)
    if water is None or land is None:
        return None
    return water, land, n_land / v.size


def _single_band_notes(
    vv: np.ndarray, units: str, name: str, bands_option: str | None
) -> list[str]:
    """Warnings for a VV raster given without VH: too dark overall, or land as dark as VH."""
    db = _to_db(_sample(vv), units)
    med = _median(db)
    if med is not None and med < DARK_VV_DB:
        return [
            _(
                "{name}: VV median {med:.0f} dB: this is as dark as cross-polarised VH or open "
                "water; check the band order"
            ).format(name=name, med=med)
        ]
    modes = _water_and_land(db)
    if modes is None:
        return []
    water, land, share = modes
    if share >= 0.5 and land - water >= MIN_WATER_LAND_DB and land < LAND_VV_MAX_DB:
        return [
            _(
                "{name}: the land ({share:.0f} % of the pixels) has a median of {land:.0f} dB, "
                "as dark as cross-polarised VH (VV over land is mostly -5 to -12 dB): is this VH "
                "labelled VV? {check}"
            ).format(name=name, share=100 * share, land=land, check=_check_order(bands_option))
        ]
    return []


def _no_data(name: str) -> NoDataError:
    return NoDataError(_("{name}: all pixels are nodata (NaN or +-inf)").format(name=name))


def _clean(x, name: str) -> np.ndarray:
    """float32 copy with NaN for every non-finite value; NoDataError when none is left."""
    a = np.array(x, dtype=np.float32)
    a[~np.isfinite(a)] = np.nan
    if np.isnan(a).all():
        raise _no_data(name)
    return a


def _sample_of(x, convert: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """What ``_sample(_clean(convert(x)))`` holds, from ``convert`` of the sample only."""
    v = np.array(convert(_sample(np.asarray(x))), dtype=np.float32)
    v[~np.isfinite(v)] = np.nan
    return v


#: elements per piece in which :func:`_any_finite` converts a raster
_PIECE = 1 << 16


def _any_finite(x, convert: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Whether float32 ``convert(x)`` has a finite value, converting piece by piece until one
    is found (on real scenes: in the first piece)."""
    flat = np.asarray(x).reshape(-1)
    for start in range(0, flat.size, _PIECE):
        piece = np.asarray(convert(flat[start : start + _PIECE]), dtype=np.float32)
        if np.isfinite(piece).any():
            return True
    return False


def _check_units(v: np.ndarray, name: str, units: str, units_option: str) -> None:
    """Refuse the values ``v`` (a sample, NaN for no data) when they contradict ``units``
    or are no backscatter at all (module docstring)."""
    v = v[~np.isnan(v)]
    med = _median(v)
    if med is None:
        return
    neg = float(np.mean(v < 0))
    if units == "db" and med > DB_MAX_MEDIAN:
        raise InputError(
            _(
                "{name}: median {med:.3g} is far too bright for backscatter in dB (mostly "
                "-25..0 dB): digital numbers or amplitude, not calibrated backscatter? "
                "Calibrate to sigma0/gamma0 first"
            ).format(name=name, med=med)
        )
    if units == "linear" and med > LINEAR_MAX_MEDIAN:
        raise InputError(
            _(
                "{name}: median {med:.3g} is far too large for linear backscatter power "
                "(mostly 0.003..1): digital numbers or amplitude, not calibrated "
                "backscatter? Calibrate first"
            ).format(name=name, med=med)
        )
    wild = float(np.mean(np.abs(v) > WILD_ABS))
    if wild > MAX_WILD_SHARE:
        raise CorruptInputError(
            _(
                "{name}: {wild:.0f} % of the values exceed {limit:,.0f} in magnitude (e.g. "
                "{example:.3g}), far beyond any backscatter in dB or linear power: the pixel "
                "data look corrupt (re-download or re-export the file)"
            ).format(
                name=name, wild=100 * wild, limit=WILD_ABS, example=float(v[np.argmax(np.abs(v))])
            )
        )
    if units == "db":
        in02 = float(np.mean((v >= 0) & (v <= 2)))
        if neg < LINEAR_MAX_NEGATIVE and in02 >= LINEAR_MIN_IN_0_2:
            raise InputError(
                _(
                    "{name}: {share:.0f} % of the values lie in [0, 2] and {neg:.1f} % are "
                    "negative (median {med:.3g}): this looks like linear power, not dB (dB "
                    "backscatter is mostly -25..0): pass {units_option}"
                ).format(
                    name=name,
                    share=100 * in02,
                    neg=100 * neg,
                    med=med,
                    units_option=_fix(units_option, "linear"),
                )
            )
    elif neg >= DB_MIN_NEGATIVE:
        raise InputError(
            _(
                "{name}: {neg:.0f} % of the values are negative (median {med:.3g}): this "
                "looks like dB, not linear power (which is never negative): pass "
                "{units_option}"
            ).format(name=name, neg=100 * neg, med=med, units_option=_fix(units_option, "db"))
        )


def check_backscatter(
    vv,
    vh=None,
    *,
    units: str = "db",
    vv_name: str = "vv",
    vh_name: str | None = None,
    units_option: str = "units",
    bands_option: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Checked float32 copies of VV (and VH) backscatter, and plain-language warnings.

    ``vv``, ``vh``: 2-D rasters on one grid, in ``units`` ("db" or "linear" power).
    ``vv_name`` / ``vh_name`` (default "vh") name them in messages (a file path, say);
    ``units_option`` / ``bands_option`` name the settings that fix the units or the band order
    (e.g. "--s1-units", "--s1-bands"). Returns ``(vv, vh, warnings)`` with NaN for every NaN
    or +-inf input. Raises :class:`NoDataError` when a raster has no finite pixel, and
    :class:`CorruptInputError` when the values are far beyond any backscatter, and
    :class:`InputError` when the values contradict ``units`` or VV and VH look swapped (see
    the module docstring for the cut-offs and the real chips they come from).
    """
    _check_units_name(units, units_option)
    vh_name = vh_name or "vh"
    vv = _clean(vv, vv_name)
    _check_units(_sample(vv), vv_name, units, units_option)
    if vh is None:
        return vv, None, _single_band_notes(vv, units, vv_name, bands_option)
    if not np.isfinite(np.asarray(vh, dtype=np.float32)).any():
        return vv, None, [_no_vh(vh_name)]
    vh = _clean(vh, vh_name)
    _check_units(_sample(vh), vh_name, units, units_option)
    _check_pair(_sample(vv), _sample(vh), vv.shape, vh.shape, units, vv_name, vh_name, bands_option)
    return vv, vh, []


def check_stored(
    vv,
    vh=None,
    *,
    convert: Callable[[np.ndarray], np.ndarray],
    units: str,
    vv_name: str,
    vh_name: str,
    units_option: str,
    bands_option: str | None,
) -> list[str]:
    """The warnings of :func:`check_backscatter` on ``convert(vv)``, ``convert(vh)`` (it
    raises the same errors), without its copies: ``convert`` (elementwise, to ``units``) runs
    on the strided samples the statistics come from, and on the rasters only piece by piece
    until a finite value turns up. What a job's loaded scenes go through (issue 21: the full
    conversion and the copies took 0.9 s of a 16.8 Mpx job); tested equal to
    :func:`check_backscatter`. A sample without a finite value, on a raster with one, passes
    the statistics as :func:`check_backscatter` does (no median, no verdict)."""
    _check_units_name(units, units_option)
    if not _any_finite(vv, convert):
        raise _no_data(vv_name)
    vs = _sample_of(vv, convert)  # _sample of it is itself: at most 2 SAMPLE values
    _check_units(vs, vv_name, units, units_option)
    if vh is None:
        return _single_band_notes(vs, units, vv_name, bands_option)
    if not _any_finite(vh, convert):
        return [_no_vh(vh_name)]
    hs = _sample_of(vh, convert)
    _check_units(hs, vh_name, units, units_option)
    _check_pair(vs, hs, np.shape(vv), np.shape(vh), units, vv_name, vh_name, bands_option)
    return []


def _check_units_name(units: str, units_option: str) -> None:
    if units not in ("db", "linear"):
        raise InputError(
            _("{units_option}: use db or linear, not {units!r}").format(
                units_option=units_option, units=units
            )
        )


def _no_vh(vh_name: str) -> str:
    return _("{name}: VH has no valid pixel: the map uses VV alone").format(name=vh_name)


def _check_pair(
    vv_sample: np.ndarray,
    vh_sample: np.ndarray,
    vv_shape: tuple[int, ...],
    vh_shape: tuple[int, ...],
    units: str,
    vv_name: str,
    vh_name: str,
    bands_option: str | None,
) -> None:
    """Refuse VV and VH of different shapes, or swapped (median VV - VH of the samples)."""
    if vh_shape != vv_shape:
        raise InputError(
            _("{vh_name}: shape {vh_shape} differs from {vv_name} {vv_shape}").format(
                vh_name=vh_name, vh_shape=vh_shape, vv_name=vv_name, vv_shape=vv_shape
            )
        )
    med = _median(_to_db(vv_sample, units) - _to_db(vh_sample, units))
    if med is not None and med < MIN_VV_MINUS_VH_DB:
        raise InputError(
            _(
                "{vv_name}, {vh_name}: vv/vh look swapped (VH brighter than VV by {db:.1f} "
                "dB on the median pixel; VV is normally 5-10 dB brighter): {check}"
            ).format(vv_name=vv_name, vh_name=vh_name, db=-med, check=_check_order(bands_option))
        )
