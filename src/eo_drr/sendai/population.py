"""Dasymetric population on the hazard grid: the population bands, the cells of a population
grid aligned on the hazard grid, and each cell's persons per unit of pixel weight.

The population grid is **never resampled** and people are never moved between cells. When the
population grid is an aligned multiple of the hazard grid (GHS-POP 100 m over a 10 m flood,
same CRS), each cell's persons are shared among its hazard pixels inside the raster, evenly or
(``dasymetric``, the default when a built-up layer is known) in proportion to a weight of 1 on
built-up and :data:`DASYMETRIC_FLOOR` elsewhere (binary dasymetric mapping, Mennis 2003;
Stevens et al. 2015), so that town people are not counted as exposed because the flood covers
the empty, low part of their cell; exposed people are the persons on a unit's flooded pixels,
coverage-weighted. Any other population grid (another CRS or resolution) gets the hazard
aggregated onto it as the (weighted) flooded share of each cell
(:func:`eo_drr.sendai.footprint.flooded_share_on_grid`), and exposed = persons x flooded
share, summed per unit with coverage weights on the population grid in its own CRS. People are
conserved: the units' population sums to the grid's total inside the units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from affine import Affine
from pyproj import CRS

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.kernels.zonal_cpu import BUILT
from eo_drr.sendai.footprint import Pixels, code_raster
from eo_drr.sendai.grids import georef, to_numpy

#: Dasymetric weight of a pixel that is not built-up, relative to a built-up pixel (weight 1).
#: Binary dasymetric mapping (Mennis 2003, Prof. Geogr. 55(1):31-42, doi:10.1111/0033-0124.10042;
#: Eicher and Brewer 2001, Cartogr. Geogr. Inf. Sci. 28(2):125-138) shares a census count over
#: its inhabited and uninhabited parts by a density ratio; WorldPop's random-forest weights
#: (Stevens et al. 2015, PLoS ONE 10(2):e0107042, doi:10.1371/journal.pone.0107042) put most
#: people on built-up land too. 0.02 (rural land 1/50 as dense as built-up) is our assumption,
#: not a value from those papers: with 10 000 persons/km2 in towns it leaves 200 persons/km2
#: on open land, above the usual rural densities, so sparse rural people are not wiped out.
DASYMETRIC_FLOOR = 0.02


def population_bands(
    population: xr.DataArray | xr.Dataset,
) -> tuple[dict[str, np.ndarray], xr.DataArray]:
    """``{band: float64 persons per cell, NaN nodata}`` and one band as the grid template."""
    if isinstance(population, xr.Dataset):
        arrays = {str(k): population[k] for k in population.data_vars}
    elif population.ndim == 3:
        dim = population.dims[0]
        arrays = {str(v): population.sel({dim: v}, drop=True) for v in population[dim].values}
    elif population.ndim == 2:
        arrays = {"total": population}
    else:
        raise InputError(
            _("population: expected a 2-D grid or bands, got dims {dims}").format(
                dims=population.dims
            )
        )
    if "total" not in arrays:
        if len(arrays) == 1:
            arrays = {"total": next(iter(arrays.values()))}
        else:
            raise InputError(
                _("population: no 'total' band among {arrays}").format(arrays=", ".join(arrays))
            )
    template = arrays["total"]
    if (
        template.rio.crs is None
        and getattr(population, "rio", None) is not None
        and population.rio.crs is not None
    ):
        template = template.rio.write_crs(population.rio.crs)
    out = {}
    for name, da in arrays.items():
        v = to_numpy(da).astype(np.float64)
        nod = da.rio.nodata if da.rio.nodata is not None else da.rio.encoded_nodata
        if nod is not None and not np.isnan(nod):
            v = np.where(v == nod, np.nan, v)
        if (v < 0).any():
            raise InputError(
                _("population: band {name!r} has negative persons (undeclared nodata?)").format(
                    name=name
                )
            )
        out[name] = v
    return out, template


def aligned_cells(flood_tr: Affine, flood_crs: CRS, template: xr.DataArray):
    """``(factor_x, factor_y, offset_x, offset_y)`` when the population grid is an aligned
    integer multiple of the hazard grid in the same CRS (cells of whole hazard pixels), else
    None. Offsets are the hazard pixel of the population grid's corner (may be negative)."""
    pcrs, ptr, pshape = georef(template, "population")
    if pcrs != flood_crs:
        return None
    vals = [
        ptr.a / flood_tr.a,
        ptr.e / flood_tr.e,
        (ptr.c - flood_tr.c) / flood_tr.a,
        (ptr.f - flood_tr.f) / flood_tr.e,
    ]
    if not all(abs(v - round(v)) < 1e-6 for v in vals) or round(vals[0]) < 1 or round(vals[1]) < 1:
        return None
    fx, fy, ox, oy = (int(round(v)) for v in vals)
    if pshape[0] * pshape[1] >= 2**31 - 1:
        return None
    return fx, fy, ox, oy


def pixel_weights(px: Pixels, floor: float) -> np.ndarray:
    """Dasymetric weight of every pixel (float32): 1 on built-up, ``floor`` elsewhere."""
    return np.where((code_raster(px) & BUILT) != 0, 1.0, floor).astype(np.float32)


@dataclass(frozen=True)
class Cells:
    """Population cells aligned on the hazard grid (each cell = fy x fx hazard pixels)."""

    row: np.ndarray  #: cell row of every hazard row (-1 outside), int64
    col: np.ndarray  #: cell column of every hazard column (-1 outside), int64
    persons: np.ndarray  #: (cells, bands) persons per cell, NaN as 0
    pw: int  #: cells per row (0: no population grid)
    fx: int
    fy: int
    ox: int  #: hazard column of the cell grid's corner
    oy: int
    bu_weight: int  #: 1: dasymetric (built-up 1, others ``floor``); 0: every pixel 1
    floor: float

    def per_weight(self, wsum: np.ndarray) -> np.ndarray:
        """Persons per unit of pixel weight, (cells, bands): a cell's persons (in a tile of a
        job, the tile's share, see :func:`cell_grid`) are shared among its pixels inside the
        hazard raster in proportion to their weight (people conserved; a cell with no pixel
        inside the raster places nobody)."""
        return np.divide(
            self.persons, wsum[:, None], out=np.zeros_like(self.persons), where=wsum[:, None] > 0
        )

    def kernel_args(self) -> tuple:
        """``cells`` of :class:`eo_drr.sendai.zonal.InteriorPass` (without bands, persons
        as a (1, 0) array)."""
        persons = self.persons if self.persons.shape[1] else np.zeros((1, 0))
        return (self.row, self.col, self.pw, self.ox, self.fx, self.bu_weight, self.floor, persons)


def _cell_index(n: int, off: int, f: int, m: int) -> np.ndarray:
    idx = (np.arange(n, dtype=np.int64) - off) // f
    return np.where((idx >= 0) & (idx < m), idx, -1)


def cell_grid(
    px: Pixels,
    bands: dict[str, np.ndarray],
    aligned,
    dasym: bool,
    floor: float,
    job_window: tuple[int, int, int, int] | None = None,
) -> Cells:
    """The aligned population cells (``aligned`` from :func:`aligned_cells`) over the hazard
    raster of ``px``; ``job_window`` (:func:`eo_drr.sendai.tiles.job_window`) when the raster
    is one tile of a job's grid."""
    fx, fy, ox, oy = aligned
    ph, pw = bands["total"].shape
    h, w = px.flood.shape
    per = np.column_stack([np.nan_to_num(v, nan=0.0).ravel() for v in bands.values()])
    row, col = _cell_index(h, oy, fy, ph), _cell_index(w, ox, fx, pw)
    if job_window is not None:
        # this raster is one tile of a job's grid: a cell cut by a tile border keeps the
        # share of its persons (by pixel count) on its pixels in this tile, out of its pixels
        # in the whole job grid, so adjacent tiles add up to the untiled job's totals instead
        # of each placing the whole cell on its own side of the border
        r0, c0, jh, jw = job_window
        tile_px = np.outer(
            np.bincount(row[row >= 0], minlength=ph), np.bincount(col[col >= 0], minlength=pw)
        )
        jrow, jcol = _cell_index(jh, oy - r0, fy, ph), _cell_index(jw, ox - c0, fx, pw)
        job_px = np.outer(
            np.bincount(jrow[jrow >= 0], minlength=ph), np.bincount(jcol[jcol >= 0], minlength=pw)
        )
        per *= np.divide(tile_px, job_px, out=np.zeros(tile_px.shape), where=job_px > 0).ravel()[
            :, None
        ]
    return Cells(row, col, np.ascontiguousarray(per), pw, fx, fy, ox, oy, int(dasym), float(floor))


def no_cells(px: Pixels) -> Cells:
    """No population grid on the hazard raster of ``px``."""
    h, w = px.flood.shape
    return Cells(
        np.full(h, -1, np.int64), np.full(w, -1, np.int64), np.zeros((0, 0)), 0, 1, 1, 0, 0, 0, 1.0
    )
