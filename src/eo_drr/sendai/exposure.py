"""Hazard x exposure per administrative unit, with partial-pixel zonal statistics.

Zonal sums use exactextract (coverage-fraction weighted, so a pixel half inside a unit counts
half). The population grid is never resampled: the (finer) hazard raster is aggregated onto the
population grid as a *flooded fraction* per population cell (area-weighted average of the 0/1
flood pixels), and exposed people = population x flooded fraction. Pixels without a valid
observation count as not flooded, so exposure is a lower bound; the observed share of each
unit is reported beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from odc.geo.xr import xr_reproject

from eo_drr.errors import InputError


def _pixel_area_m2(da: xr.DataArray) -> float:
    res = da.rio.resolution()
    return abs(res[0] * res[1])


def _zonal(raster: xr.DataArray, units, ops: list[str]) -> pd.DataFrame:
    from exactextract import exact_extract

    df = exact_extract(raster, units, ops, include_cols=["code"], output="pandas")
    return df.set_index("code")


def hazard_fractions(hazard: xr.DataArray, *, nodata: int = 255) -> tuple[xr.DataArray, xr.DataArray]:
    """``(hazard_fraction, valid)`` float32 rasters from a uint8 class raster
    (1 hazard, 0 not, ``nodata``): the hazard as 1/0 with NaN where unobserved, and a 1/0
    mask of observed pixels."""
    valid = (hazard != nodata).astype(np.float32)
    frac = (hazard == 1).astype(np.float32).where(hazard != nodata)
    out = []
    for da in (frac, valid):
        # a fresh float raster: no inherited uint8 _FillValue (255) that reprojection would
        # use to fill cells outside the hazard raster
        da = da.copy()
        da.attrs, da.encoding = {}, {}
        out.append(da.rio.write_crs(hazard.rio.crs).rio.write_nodata(np.nan, encoded=False))
    return out[0], out[1]


def flood_exposure_by_unit(
    flood: xr.DataArray,
    units,
    *,
    population: xr.DataArray | None = None,
    nodata: int = 255,
) -> pd.DataFrame:
    """Per-unit flood statistics.

    Parameters
    ----------
    flood
        uint8 flood extent (1 flood, 0 not, ``nodata``) with a CRS (rioxarray), metres grid.
    units
        GeoDataFrame from :func:`eo_drr.sendai.units.read_units` (any CRS; reprojected here).
    population
        Persons per cell (float, NaN nodata) with a CRS, e.g. GHS-POP at 100 m, or None.

    Returns
    -------
    DataFrame indexed by unit code with ``name``, ``area_ha`` (unit area), ``observed_ha``,
    ``observed_share`` (0-1), ``flooded_ha``, ``flooded_share`` (of the observed area, 0-1),
    and with a population grid ``population`` and ``exposed_population`` (persons).
    """
    if flood.rio.crs is None:
        raise InputError("flood: the hazard raster has no CRS")
    if not flood.rio.crs.is_projected:
        raise InputError("flood: the hazard raster must be on a projected (metre) grid")
    units_p = units.to_crs(flood.rio.crs)
    px_ha = _pixel_area_m2(flood) / 1e4
    frac, valid = hazard_fractions(flood, nodata=nodata)
    z_flood = _zonal(frac, units_p, ["sum"])
    z_valid = _zonal(valid, units_p, ["sum"])
    out = pd.DataFrame(index=units_p["code"].values)
    out.index.name = "code"
    out["name"] = units_p.set_index("code")["name"]
    out["area_ha"] = units_p.set_index("code").geometry.area / 1e4
    out["observed_ha"] = z_valid["sum"] * px_ha
    out["flooded_ha"] = z_flood["sum"] * px_ha
    out["observed_share"] = (out["observed_ha"] / out["area_ha"]).clip(0, 1)
    out["flooded_share"] = np.where(out["observed_ha"] > 0, out["flooded_ha"] / out["observed_ha"], 0.0)
    if population is not None:
        if population.rio.crs is None:
            raise InputError("population: the grid has no CRS")
        pop_gbox = population.odc.geobox
        flood_on_pop = xr_reproject(frac.fillna(0).odc.assign_crs(flood.rio.crs), pop_gbox,
                                    resampling="average", dst_nodata=np.nan)
        # population cells beyond the hazard raster count as not flooded (a lower bound)
        share = np.clip(np.nan_to_num(flood_on_pop.values, nan=0.0), 0.0, 1.0)
        exposed = (population * share).astype(np.float32)
        exposed = exposed.rio.write_crs(population.rio.crs)
        z_pop = _zonal(population.rio.write_crs(population.rio.crs), units.to_crs(population.rio.crs), ["sum"])
        z_exp = _zonal(exposed, units.to_crs(population.rio.crs), ["sum"])
        out["population"] = z_pop["sum"]
        out["exposed_population"] = z_exp["sum"]
    return out.fillna({"flooded_ha": 0.0, "observed_ha": 0.0})
