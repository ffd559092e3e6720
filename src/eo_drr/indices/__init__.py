"""Public index functions: spectral indices (this package), SAR (``eo_drr.indices.sar``) and
histogram thresholds (``eo_drr.indices.threshold``). Every function dispatches on the array
type (numpy, dask, cupy, xarray) itself."""

from eo_drr.indices import sar, threshold
from eo_drr.indices.spectral import (
    BAND_NAMES,
    INDICES,
    TC_COEFFICIENTS,
    awei_nsh,
    awei_sh,
    bsi,
    bui,
    compute,
    mndwi,
    ndbi,
    ndti,
    ndvi,
    ndwi,
    tasseled_cap,
    tc_brightness,
    tc_greenness,
    tc_wetness,
    wofs,
)

__all__ = [
    "BAND_NAMES",
    "INDICES",
    "TC_COEFFICIENTS",
    "awei_nsh",
    "awei_sh",
    "bsi",
    "bui",
    "compute",
    "mndwi",
    "ndbi",
    "ndti",
    "ndvi",
    "ndwi",
    "tasseled_cap",
    "tc_brightness",
    "tc_greenness",
    "tc_wetness",
    "wofs",
    "sar",
    "threshold",
]
