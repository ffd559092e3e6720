"""Terrain layers for flood exclusion masks: HAND computed from a DEM, and slope.

HAND (height above nearest drainage; Rennó et al. 2008; Nobre et al. 2011) is the elevation of
a cell above the drainage cell its flow path reaches. Copernicus GFM excludes cells with HAND
above 15 m from flood mapping (Twele et al. 2016 use the same exclusion). Drainage starts where
the upstream area reaches ``channel_area_km2`` (default 1 km^2; a common choice for 30 m
DEMs, configurable).
"""

from __future__ import annotations

import numpy as np

from eo_drr.errors import InputError, NoDataError
from eo_drr.i18n import gettext as _
from eo_drr.kernels import hydro_cpu

#: epsilon gradient (m per cell) imposed on filled flats so that D8 flow is defined
FILL_EPSILON_M = 1e-4

#: upstream area (km2) from which a cell is drainage when HAND is computed from a DEM
CHANNEL_AREA_KM2 = 1.0


def hand_from_dem(
    dem: np.ndarray, pixel_size_m: float, *, channel_area_km2: float = CHANNEL_AREA_KM2
) -> np.ndarray:
    """HAND in metres (float32, NaN nodata) from a DEM in metres on a projected grid."""
    dem = np.ascontiguousarray(dem, dtype=np.float64)
    if dem.ndim != 2:
        raise InputError(_("dem: expected a 2-D raster, got shape {shape}").format(shape=dem.shape))
    if not np.isfinite(dem).any():
        raise NoDataError(_("dem: all pixels are nodata"))
    if not pixel_size_m > 0:
        raise InputError(
            _("pixel_size_m: must be positive (metres; reproject geographic DEMs first)")
        )
    if not channel_area_km2 > 0:
        raise InputError(_("channel_area_km2: must be positive"))
    dem = np.where(np.isfinite(dem), dem, np.nan)
    filled = np.empty_like(dem)
    hydro_cpu.fill_depressions(dem, FILL_EPSILON_M, filled)
    dirs = np.empty(dem.shape, dtype=np.int64)
    hydro_cpu.d8_directions(filled, dirs)
    order = np.argsort(np.where(np.isnan(filled), -np.inf, filled), axis=None, kind="stable")[
        ::-1
    ].copy()
    acc = np.empty_like(dem)
    hand = np.empty_like(dem)
    cells = channel_area_km2 * 1e6 / (pixel_size_m * pixel_size_m)
    hydro_cpu.accumulate_and_hand(dem, order, dirs, float(cells), acc, hand)
    return np.maximum(hand, 0, where=np.isfinite(hand), out=hand).astype(np.float32)


def slope_degrees(dem: np.ndarray, pixel_size_m: float) -> np.ndarray:
    """Slope in degrees of a DEM in metres on a ``pixel_size_m`` grid: central differences
    (one-sided on the raster edges, as ``numpy.gradient``); NaN where a neighbour is nodata.
    Differences in float64; a float32 DEM is read as it is (issue 21: its float64 copy took
    0.7 s of a 16.8 Mpx job), any other dtype converted to float64."""
    dem = np.asarray(dem)
    dem = np.asarray(dem, dtype=np.float32 if dem.dtype == np.float32 else np.float64)
    if dem.ndim != 2:
        raise InputError(_("dem: expected a 2-D raster, got shape {shape}").format(shape=dem.shape))
    if min(dem.shape) < 2:  # a sliver (e.g. an edge tile): no gradient across it
        return np.full(dem.shape, np.nan, dtype=np.float32)
    out = np.empty(dem.shape, dtype=np.float32)
    hydro_cpu.slope_degrees(np.ascontiguousarray(dem), float(pixel_size_m), out)
    return out
