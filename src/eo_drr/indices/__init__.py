"""Public index functions: spectral indices (``eo_drr.indices.spectral``, the tasseled cap in
``eo_drr.indices.tasseled_cap``), SAR (``eo_drr.indices.sar``) and
histogram thresholds (``eo_drr.indices.threshold``). Every function dispatches on the array
type (numpy, dask, cupy, xarray) itself."""

from eo_drr.indices import sar, threshold
from eo_drr.indices._bands import BAND_NAMES
from eo_drr.indices.spectral import (
    INDICES,
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
    wofs,
)
from eo_drr.indices.tasseled_cap import (
    TC_COEFFICIENTS,
    tasseled_cap,
    tc_brightness,
    tc_greenness,
    tc_wetness,
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
