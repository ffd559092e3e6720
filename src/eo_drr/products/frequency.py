"""Water frequency from a series of single-date water maps, and surface-water classes in the
style of the JRC Global Surface Water dataset (Pekel et al. 2016, Nature 540:418-422).

Input: a ``(time, y, x)`` stack of water maps with the codes of
:func:`eo_drr.products.water.s1_water` (1 water, 0 not water, 255 no data), numpy or dask.

- **frequency** (float32, 0-1): water observations / valid observations, per pixel; NaN
  where no observation is valid. Pekel et al. (2016) call it the water *occurrence*.
- **observations** (uint16): valid observations (code 0 or 1) per pixel.
- **classes** (uint8, :data:`CLASS_NAMES`): the frequency read as the months of a year with
  water, ``12 * frequency`` (the unit of the JRC *seasonality* layer, months of water per
  year, Pekel et al. 2016):

  ========== ======================= =======================================================
  code       class                   rule (``m = 12 * frequency``)
  ========== ======================= =======================================================
  3          permanent water         ``m >= permanent_months`` (10): water nearly all year.
                                     Pekel et al. call permanent the water of all 12 months;
                                     10 months is the seasonality mask of the UN-SPIDER
                                     Recommended Practice for flood mapping (the same
                                     cut-off as ``FloodParams.gsw_min_months``), which allows
                                     for a few missed or wind-roughened dates
  2          seasonal water          ``rare_months <= m < permanent_months``: water for part
                                     of the year, every year (Pekel et al.: fewer than 12
                                     months)
  1          flooded at times (rare) ``0 < m < rare_months`` (1): water on fewer observations
                                     than one month of the year's worth, the one-off floods
                                     (Pekel et al.'s *ephemeral* water: within a year, not
                                     as a season)
  0          never water             no water observation
  255        no data                 fewer than ``min_observations`` valid observations
  ========== ======================= =======================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _

WATER, NOT_WATER, NODATA = 1, 0, 255
NEVER, RARE, SEASONAL, PERMANENT = 0, 1, 2, 3
#: the classes' names (English in the COG tags; marked for the report's translations)
CLASS_NAMES = {
    NEVER: N_("never water"),
    RARE: N_("flooded at times (rare)"),
    SEASONAL: N_("seasonal water"),
    PERMANENT: N_("permanent water"),
}
#: JRC Global Surface Water colours (permanent, seasonal); orange for the rare floods
CLASS_COLORS = {
    NEVER: (255, 255, 255, 0),
    RARE: (255, 153, 0, 255),
    SEASONAL: (153, 217, 234, 255),
    PERMANENT: (0, 0, 255, 255),
}
#: fewest dates a frequency is computed from
MIN_DATES = 2


@dataclass(frozen=True)
class FrequencyParams:
    """Cut-offs of :func:`water_frequency`'s classes (module docstring)."""

    #: months of water a year (12 x frequency) from which water is permanent
    permanent_months: float = 10.0
    #: months of water a year below which water is rare (flooded at times), not seasonal
    rare_months: float = 1.0
    #: fewest valid observations for a class (fewer: no data)
    min_observations: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.rare_months < self.permanent_months <= 12:
            raise InputError(
                _(
                    "frequency classes: need 0 < rare_months < permanent_months <= 12 (months a "
                    "year), got {rare} and {permanent}"
                ).format(rare=self.rare_months, permanent=self.permanent_months)
            )
        if self.min_observations < 1:
            raise InputError(
                _("min_observations: expected >= 1, got {n}").format(n=self.min_observations)
            )


@dataclass(frozen=True)
class FrequencyResult:
    """``frequency`` float32 0-1 (NaN: no valid observation), ``observations`` uint16 valid
    observations, ``water`` uint16 water observations, ``classes`` uint8 (:data:`CLASS_NAMES`,
    255 no data); all ``(y, x)``."""

    frequency: np.ndarray
    observations: np.ndarray
    water: np.ndarray
    classes: np.ndarray


def require_series(n_dates: int, what: str = "the series") -> None:
    """Refuse (:class:`InputError`) a series too short for a frequency."""
    if n_dates < MIN_DATES:
        raise InputError(
            _(
                "{what} holds {n} date(s): a water frequency needs at least {min} "
                "acquisitions (widen the date range, time.post)"
            ).format(what=what, n=n_dates, min=MIN_DATES)
        )


def water_frequency(stack, params: FrequencyParams | None = None) -> FrequencyResult:
    """Frequency, valid count and classes of a ``(time, y, x)`` water stack (module
    docstring); ``stack`` is numpy, dask or an xarray DataArray (its data is used). Reads
    every date: a series kept with its counts (the Zarr cube) uses :func:`from_counts`."""
    data = stack.data if hasattr(stack, "dims") else stack  # an xarray DataArray: its array
    if data.ndim != 3:
        raise InputError(
            _("water stack: expected (time, y, x), got shape {shape}").format(shape=data.shape)
        )
    require_series(int(data.shape[0]))
    n_water = (data == WATER).sum(axis=0, dtype=np.uint16)
    n_valid = ((data == WATER) | (data == NOT_WATER)).sum(axis=0, dtype=np.uint16)
    if hasattr(n_water, "compute"):
        import dask

        n_water, n_valid = dask.compute(n_water, n_valid)
    return from_counts(np.asarray(n_water), np.asarray(n_valid), params)


def from_counts(
    n_water: np.ndarray, n_valid: np.ndarray, params: FrequencyParams | None = None
) -> FrequencyResult:
    """Frequency and classes (module docstring) from per-pixel counts of a series' dates:
    ``n_water`` water observations, ``n_valid`` valid observations (``(y, x)``, numbers of
    dates); the cost of one date, whatever the length of the series."""
    params = params or FrequencyParams()
    n_water = np.asarray(n_water, dtype=np.uint16)
    n_valid = np.asarray(n_valid, dtype=np.uint16)
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = np.where(n_valid > 0, n_water / np.maximum(n_valid, 1), np.nan).astype(np.float32)
    return FrequencyResult(freq, n_valid, n_water, classify(freq, n_valid, params))


def classify(
    frequency: np.ndarray, observations: np.ndarray, params: FrequencyParams
) -> np.ndarray:
    """The class map (uint8, :data:`CLASS_NAMES`, 255 no data) of a frequency (0-1) and its
    valid observations (module docstring)."""
    months = 12.0 * np.nan_to_num(frequency, nan=0.0)
    out = np.full(frequency.shape, NEVER, dtype=np.uint8)
    out[(frequency > 0) & (months < params.rare_months)] = RARE
    out[(months >= params.rare_months) & (months < params.permanent_months)] = SEASONAL
    out[months >= params.permanent_months] = PERMANENT
    out[observations < params.min_observations] = NODATA
    return out
