"""Exposure per unit against an independent count on a grid where the population raster
extends beyond the hazard raster (as GHS-POP's 100 m cells do at a scene edge), units in
another CRS, and a no-data strip (ported from the retired ``sendai.exposure`` module)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rioxarray  # noqa: F401
import xarray as xr
from shapely.geometry import box

from eo_drr.sendai.indicators import indicators_by_unit

CRS = "EPSG:32615"


def grid(values, x0, y0, res):
    h, w = values.shape
    return xr.DataArray(
        values,
        dims=("y", "x"),
        coords={"y": y0 - res * (np.arange(h) + 0.5), "x": x0 + res * (np.arange(w) + 0.5)},
    ).rio.write_crs(CRS)


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_exposure_matches_independent_count(method):
    # hazard: 250 x 250 px at 10 m (2.5 km); flooded where x < 1 km; a no-data strip at the top
    flood = np.zeros((250, 250), np.uint8)
    flood[:, :100] = 1
    flood[:5, :] = 255
    hz = grid(flood, 500000, 2000000, 10.0)
    # population: 26 x 26 cells at 100 m (2.6 km: 100 m beyond the hazard raster), 10 per cell
    pop = grid(np.full((26, 26), 10.0, np.float32), 500000, 2000000, 100.0)
    units = gpd.GeoDataFrame(
        {"code": ["W", "E"], "name": ["west", "east"]},
        geometry=[box(500000, 1997500, 501250, 2000000), box(501250, 1997500, 502500, 2000000)],
        crs=CRS,
    ).to_crs("EPSG:4326")
    t = indicators_by_unit(hz, units, population=pop, method=method)
    # west unit: 1250 m wide, flooded where x < 1000 m, minus the 50 m no-data strip
    assert abs(t.loc["W", "flooded_ha"] - 1000 * 2450 / 1e4) < 1.0
    assert abs(t.loc["E", "flooded_ha"]) < 1e-6
    assert abs(t.loc["E", "exposed_population"]) < 1e-6
    # people in the west unit: 12.5 x 25 cells; exposed: cells with x < 1 km, the top row
    # only half observed-flooded (its 50 m no-data strip counts as not flooded)
    assert abs(t.loc["W", "population"] - 12.5 * 25 * 10) < 1.0
    assert abs(t.loc["W", "exposed_population"] - (10 * 24 * 10 + 10 * 0.5 * 10)) < 1.0
    assert (t["exposed_population"] <= t["population"] + 1e-6).all()
    assert t.loc["W", "observed_share"] == pytest.approx(2450 / 2500, abs=1e-3)


def test_no_cell_spreading_across_unit_borders():
    """A 100 m cell cut by a unit border: its people stay on its own pixels, and each unit
    gets exactly the flooded pixels on its side (the retired module spread each cell's
    flooded share over the whole cell, moving exposed people across the border)."""
    flood = np.zeros((20, 20), np.uint8)
    flood[:, :5] = 1  # west half of the first cell column flooded
    hz = grid(flood, 500000, 2000000, 10.0)
    pop = grid(np.full((2, 2), 100.0, np.float32), 500000, 2000000, 100.0)
    units = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["a", "b"]},
        geometry=[box(500000, 1999800, 500050, 2000000), box(500050, 1999800, 500200, 2000000)],
        crs=CRS,
    )
    t = indicators_by_unit(hz, units, population=pop)
    assert t.loc["A", "exposed_population"] == pytest.approx(
        2 * 100 * 0.5
    )  # two cells, west half each
    assert t.loc["B", "exposed_population"] == pytest.approx(0.0, abs=1e-9)
