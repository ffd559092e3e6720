"""Spectral indices for Sentinel-2 (and any sensor with the same bands).

One public function per index, named after it. Each takes the bands as separate arrays
(numpy, dask, cupy or ``xarray.DataArray``) or, in place of the first band, an
``xarray.Dataset`` (or a mapping of name -> array) holding them under any of the names in
:data:`eo_drr.indices.BAND_NAMES` (:func:`wofs`, with six bands, and the tasseled cap take the
Dataset or mapping only); it returns the same kind of array, float32, with NaN for nodata.

Reflectance and scale
---------------------
Bands are turned into surface reflectance as ``value * scale + offset`` before the formula.
- float inputs: ``scale=1, offset=0`` by default (reflectance 0-1 already);
- integer inputs (raw Sentinel-2 L2A DN): ``scale=1e-4, offset=0`` by default. Products of
  processing baseline 04.00 and later (from 2022-01-25) carry ``BOA_ADD_OFFSET = -1000``:
  pass ``offset=-0.1`` for them unless the loader already harmonised the values.
Normalised differences (NDWI, MNDWI, NDVI, NDBI, NDTI, BUI, BSI) do not depend on ``scale`` but do
depend on ``offset``; AWEI and the tasseled cap are linear in reflectance, so their values
are in reflectance units (0-1 scale) and change with both.

Nodata: NaN in float bands; in integer bands the value 0, or ``nodata=`` when given (compared
with the raw values). A pixel is nodata when any band is; a zero denominator also gives NaN.

Band names (:data:`eo_drr.indices.BAND_NAMES`): common names of the STAC ``eo`` extension
first, then the Sentinel-2 asset names: blue = B02, green = B03, red = B04, nir = B08 (10 m;
B8A is ``nir08``), swir16 = B11 (also ``swir1``), swir22 = B12 (also ``swir2``); plus coastal =
B01, rededge1-3 = B05-B07, nir09 = B09, cirrus = B10 for the 13-band tasseled cap
(:mod:`eo_drr.indices.tasseled_cap`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.indices._bands import bands_from, gather
from eo_drr.indices._spectral_run import apply
from eo_drr.indices.tasseled_cap import tc_brightness, tc_greenness, tc_wetness

__all__ = [
    "ndwi",
    "mndwi",
    "ndvi",
    "ndbi",
    "ndti",
    "bui",
    "bsi",
    "awei_nsh",
    "awei_sh",
    "wofs",
    "compute",
    "INDICES",
]

# AWEI (Feyisa et al. 2014, Remote Sens. Environ. 140:23-35, eqs. 1-2), reflectance:
#   AWEI_nsh = 4 (green - swir1) - (0.25 nir + 2.75 swir2)
#   AWEI_sh  = blue + 2.5 green - 1.5 (nir + swir1) - 0.25 swir2
# (a widely copied implementation writes 0.25 * nir * 2.75 * swir2: the paper adds.)
_AWEI_NSH = (("green", "nir", "swir16", "swir22"), (4.0, -0.25, -4.0, -2.75))
_AWEI_SH = (("blue", "green", "nir", "swir16", "swir22"), (1.0, 2.5, -1.5, -1.5, -0.25))


# --------------------------------------------------------------------------------------------
# public indices


def ndwi(
    green: Any,
    nir: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """NDWI (McFeeters 1996, Int. J. Remote Sens. 17(7):1425-1432): (green - nir) / (green + nir).

    Unitless, in [-1, 1]; open water is typically > 0.
    """
    return apply(
        "ndwi",
        "normalized_difference",
        gather("ndwi", {"green": green, "nir": nir}),
        scale,
        offset,
        nodata,
    )


def mndwi(
    green: Any,
    swir16: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """MNDWI (Xu 2006, Int. J. Remote Sens. 27(14):3025-3033): (green - swir1) / (green + swir1).

    swir1 = Sentinel-2 B11 (1.6 um; 20 m: resample to the green grid first). Unitless, [-1, 1].
    """
    return apply(
        "mndwi",
        "normalized_difference",
        gather("mndwi", {"green": green, "swir16": swir16}),
        scale,
        offset,
        nodata,
    )


def ndvi(
    nir: Any,
    red: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """NDVI (Rouse et al. 1974, NASA SP-351, 309-317): (nir - red) / (nir + red). [-1, 1]."""
    return apply(
        "ndvi",
        "normalized_difference",
        gather("ndvi", {"nir": nir, "red": red}),
        scale,
        offset,
        nodata,
    )


def ndbi(
    swir16: Any,
    nir: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """NDBI (Zha et al. 2003, Int. J. Remote Sens. 24(3):583-594): (swir1 - nir) / (swir1 + nir).

    Unitless, [-1, 1]; built-up and bare surfaces are typically > 0.
    """
    return apply(
        "ndbi",
        "normalized_difference",
        gather("ndbi", {"swir16": swir16, "nir": nir}),
        scale,
        offset,
        nodata,
    )


def ndti(
    swir16: Any,
    swir22: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """NDTI, normalised difference tillage index (van Deventer et al. 1997, Photogramm. Eng.
    Remote Sens. 63:87-93): (swir1 - swir2) / (swir1 + swir2).

    swir1 = Sentinel-2 B11 (1.6 um), swir2 = B12 (2.2 um; both 20 m). Unitless, [-1, 1]; the
    cellulose/lignin absorption near 2.1 um makes crop residue and senescent (dry) vegetation
    higher (about 0.1 and above) than bare soil.
    """
    return apply(
        "ndti",
        "normalized_difference",
        gather("ndti", {"swir16": swir16, "swir22": swir22}),
        scale,
        offset,
        nodata,
    )


def bui(
    swir16: Any,
    nir: Any = None,
    red: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """BUI (He et al. 2010, Remote Sens. Lett. 1(4):213-221): NDBI - NDVI. Unitless, [-2, 2]."""
    return apply(
        "bui",
        "bui",
        gather("bui", {"swir16": swir16, "nir": nir, "red": red}),
        scale,
        offset,
        nodata,
    )


def bsi(
    blue: Any,
    red: Any = None,
    nir: Any = None,
    swir16: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """BSI (Rikimaru et al. 2002, Tropical Ecology 43(1):39-47):
    ((swir1 + red) - (nir + blue)) / ((swir1 + red) + (nir + blue)). Unitless, [-1, 1]."""
    return apply(
        "bsi",
        "bsi",
        gather("bsi", {"blue": blue, "red": red, "nir": nir, "swir16": swir16}),
        scale,
        offset,
        nodata,
    )


def awei_nsh(
    green: Any,
    nir: Any = None,
    swir16: Any = None,
    swir22: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """AWEI_nsh (Feyisa et al. 2014, Remote Sens. Environ. 140:23-35, eq. 1), no-shadow form:
    ``4 (green - swir1) - (0.25 nir + 2.75 swir2)``, reflectance units (0-1 scale); water > 0.
    """
    names, coefs = _AWEI_NSH
    given = dict(zip(names, (green, nir, swir16, swir22)))
    return apply(
        "awei_nsh",
        "linear_combination",
        gather("awei_nsh", given),
        scale,
        offset,
        nodata,
        extra=coefs,
    )


def awei_sh(
    blue: Any,
    green: Any = None,
    nir: Any = None,
    swir16: Any = None,
    swir22: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """AWEI_sh (Feyisa et al. 2014, eq. 2), for scenes with shadows:
    ``blue + 2.5 green - 1.5 (nir + swir1) - 0.25 swir2``, reflectance units; water > 0.
    """
    names, coefs = _AWEI_SH
    given = dict(zip(names, (blue, green, nir, swir16, swir22)))
    return apply(
        "awei_sh",
        "linear_combination",
        gather("awei_sh", given),
        scale,
        offset,
        nodata,
        extra=coefs,
    )


#: the bands of :func:`wofs`, in the order of ``eo_drr.kernels._scalar.wofs_of``
_WOFS_BANDS = ("blue", "green", "red", "nir", "swir16", "swir22")


def wofs(
    bands: Any,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """WOfS water classification (Mueller et al. 2016, Remote Sens. Environ. 174:341-352).

    ``bands``: a Dataset or mapping holding blue, green, red, nir, swir16 and swir22 under any
    of their :data:`eo_drr.indices.BAND_NAMES`. The published decision tree
    (``eo_drr.kernels._scalar.wofs_of``, thresholds as named constants ``WOFS_*`` in
    reflectance x 10 000), derived for Landsat TM/ETM+ bands 1-5, 7 and applied here to the
    equivalent Sentinel-2 bands B02, B03, B04, B08, B11, B12 (no cross-calibration). Returns
    1.0 water, 0.0 not water, NaN nodata. The terrain, shadow and cloud masks of the full WOfS
    product are not applied.
    """
    return apply("wofs", "wofs", bands_from("wofs", bands, _WOFS_BANDS), scale, offset, nodata)


#: public name -> function, for :func:`compute`
INDICES: dict[str, Callable[..., Any]] = {
    "ndwi": ndwi,
    "mndwi": mndwi,
    "ndvi": ndvi,
    "ndbi": ndbi,
    "ndti": ndti,
    "bui": bui,
    "bsi": bsi,
    "awei_nsh": awei_nsh,
    "awei_sh": awei_sh,
    "tc_brightness": tc_brightness,
    "tc_greenness": tc_greenness,
    "tc_wetness": tc_wetness,
    "wofs": wofs,
}


def compute(name: str, *args: Any, **kwargs: Any) -> Any:
    """Compute the index called ``name`` (case-insensitive), e.g. ``compute("ndwi", ds)``.

    Raises InputError listing the known names when ``name`` is unknown.
    """
    key = str(name).lower()
    if key not in INDICES:
        raise InputError(
            _("name: unknown index {name!r}; known: {indices}").format(
                name=name, indices=", ".join(sorted(INDICES))
            )
        )
    return INDICES[key](*args, **kwargs)
