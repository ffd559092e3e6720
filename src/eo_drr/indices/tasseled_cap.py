"""Tasseled cap components of Sentinel-2 reflectance (brightness, greenness, wetness), in
reflectance units (0-1 scale). Inputs, scale/offset and nodata as for every spectral index
(see :mod:`eo_drr.indices.spectral`); the bands come as one Dataset or mapping.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.indices._bands import bands_from
from eo_drr.indices._spectral_run import apply

__all__ = ["TC_COEFFICIENTS", "tasseled_cap", "tc_brightness", "tc_greenness", "tc_wetness"]

# Tasseled cap coefficients (rows: brightness, greenness, wetness), for reflectance.
#
# nedkov2017: Nedkov, R. (2017) Orthogonal transformation of segmented images from the
# satellite Sentinel-2. C. R. Acad. Bulg. Sci. 70(5):687-692, for the 13 bands in the order of
# _TC_BANDS["nedkov2017"]. NOT verified against the paper (not accessible here): transcribed
# from secondary sources that agree with each other (GRASS i.tasscap's Sentinel-2 table and
# ESA WorldCereal's feat_tas_cap.py; a widely shared Earth Engine script has 0.949 for B09
# brightness where those have 0.0949).
#
# crist1985: Crist, E. P. (1985) A TM tasseled cap equivalent transformation for reflectance
# factor data. Remote Sens. Environ. 17:301-306, Landsat TM bands 1, 2, 3, 4, 5, 7 applied to
# the equivalent Sentinel-2 bands (for comparison only: Crist derived them for TM). NOT
# verified against the paper: values as commonly reproduced; check before relying on them.
TC_COEFFICIENTS: dict[str, np.ndarray] = {
    "nedkov2017": np.array(
        [
            [
                0.0356,
                0.0822,
                0.1360,
                0.2611,
                0.2964,
                0.3338,
                0.3877,
                0.3895,
                0.0949,
                0.0009,
                0.3882,
                0.1366,
                0.4750,
            ],
            [
                -0.0635,
                -0.1128,
                -0.1680,
                -0.3480,
                -0.3303,
                0.0852,
                0.3302,
                0.3165,
                0.0467,
                -0.0009,
                -0.4578,
                -0.4064,
                0.3625,
            ],
            [
                0.0649,
                0.1363,
                0.2802,
                0.3072,
                0.5288,
                0.1379,
                -0.0001,
                -0.0807,
                -0.0302,
                0.0003,
                -0.4064,
                -0.5602,
                -0.1389,
            ],
        ]
    ),
    "crist1985": np.array(
        [
            [0.2043, 0.4158, 0.5524, 0.5741, 0.3124, 0.2303],
            [-0.1603, -0.2819, -0.4934, 0.7940, -0.0002, -0.1446],
            [0.0315, 0.2021, 0.3102, 0.1594, -0.6806, -0.6109],
        ]
    ),
}
_TC_BANDS = {
    "nedkov2017": (
        "coastal",
        "blue",
        "green",
        "red",
        "rededge1",
        "rededge2",
        "rededge3",
        "nir",
        "nir09",
        "cirrus",
        "swir16",
        "swir22",
        "nir08",
    ),
    "crist1985": ("blue", "green", "red", "nir", "swir16", "swir22"),
}
#: bands that may be absent (L2A products have no B10; its coefficients are <= 0.0009)
_TC_OPTIONAL = {"cirrus"}
_TC_COMPONENTS = {"brightness": 0, "greenness": 1, "wetness": 2}


def tasseled_cap(
    bands: Any,
    component: str = "brightness",
    coefficients: str = "nedkov2017",
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """Tasseled cap component of Sentinel-2 reflectance (reflectance units, 0-1 scale).

    ``bands``: a Dataset or mapping with the bands named as in
    :data:`eo_drr.indices.BAND_NAMES`. ``coefficients``: "nedkov2017" (all 13 bands; B10 may be
    absent, as in L2A products) or "crist1985" (TM coefficients on B02, B03, B04, B08, B11, B12,
    for comparison). See
    :data:`TC_COEFFICIENTS` for the sources, and the caveat that they were not checked against
    the papers. Bands at 20/60 m must be resampled to one grid first.
    """
    if component not in _TC_COMPONENTS:
        raise InputError(
            _("component: expected one of {tc_components}, got {component!r}").format(
                tc_components=", ".join(_TC_COMPONENTS), component=component
            )
        )
    if coefficients not in TC_COEFFICIENTS:
        raise InputError(
            _("coefficients: expected one of {tc_coefficients}, got {coefficients!r}").format(
                tc_coefficients=", ".join(TC_COEFFICIENTS), coefficients=coefficients
            )
        )
    order = _TC_BANDS[coefficients]
    got = bands_from(
        f"tasseled_cap({coefficients})", bands, order, optional=frozenset(_TC_OPTIONAL)
    )
    row = TC_COEFFICIENTS[coefficients][_TC_COMPONENTS[component]]
    coefs = tuple(float(row[order.index(b)]) for b in got)
    return apply(f"tc_{component}", "linear_combination", got, scale, offset, nodata, extra=coefs)


def tc_brightness(bands: Any, coefficients: str = "nedkov2017", **kwargs: Any) -> Any:
    """Tasseled cap brightness (see :func:`tasseled_cap`)."""
    return tasseled_cap(bands, "brightness", coefficients, **kwargs)


def tc_greenness(bands: Any, coefficients: str = "nedkov2017", **kwargs: Any) -> Any:
    """Tasseled cap greenness (see :func:`tasseled_cap`)."""
    return tasseled_cap(bands, "greenness", coefficients, **kwargs)


def tc_wetness(bands: Any, coefficients: str = "nedkov2017", **kwargs: Any) -> Any:
    """Tasseled cap wetness (see :func:`tasseled_cap`)."""
    return tasseled_cap(bands, "wetness", coefficients, **kwargs)
