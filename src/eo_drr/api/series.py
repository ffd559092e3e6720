"""The water series of an output folder as one lazy cube: ``eo_drr.open_series``."""

from __future__ import annotations

from pathlib import Path

import xarray as xr


def open_series(folder: str | Path) -> xr.Dataset:
    """The series that a water-series job (``pipeline: water_series``) wrote into the output
    folder ``folder``, tiled or not, as one lazy, dask-backed cube on the job grid:
    ``water(time, y, x)`` uint8 class codes (1 water, 0 not water, 255 no data), the running
    counts of its committed dates ``water_count`` and ``valid_count`` (uint16, dates per
    pixel), with ``.rio.crs`` and ``.rio.transform()``. A tiled job's tile cubes are combined
    (a tile not yet run reads as no data); tiles at different dates are refused with an
    :class:`~eo_drr.errors.InputError` naming the tile (rerun the job or ``eo-drr monitor``).
    """
    from eo_drr.pipelines import water_series

    return water_series.open_series(folder)
