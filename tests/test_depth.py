"""Flood water depth (FwDET v2, HAND edge level) on surfaces with closed-form depth, the API's
input checks, the demo scene's depth truth, and exposure by depth class with the JRC damage
proxy."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
import rioxarray
import xarray as xr
from affine import Affine
from shapely.geometry import LineString, box

import eo_drr
from eo_drr.errors import InputError, NoDataError
from eo_drr.products.depth import DepthOptions, edge_cells, flood_depth
from eo_drr.sendai.depth_exposure import (
    DEPTH_CLASSES,
    JRC_RESIDENTIAL_CSA,
    damage_fraction,
    depth_sfm_rows,
    exposure_by_depth,
)
from eo_drr.sendai.indicators import ExposureLayers

PX = 10.0  # m
CRS = "EPSG:32615"


def _da(values: np.ndarray, px: float = PX, x0: float = 500_000.0, y0: float = 2_000_000.0):
    h, w = values.shape
    da = xr.DataArray(
        values,
        dims=("y", "x"),
        coords={"y": y0 - (np.arange(h) + 0.5) * px, "x": x0 + (np.arange(w) + 0.5) * px},
    )
    return da.rio.write_crs(CRS).rio.write_transform(Affine(px, 0, x0, 0, -px, y0))


def _plane(n: int = 120, slope: float = 0.01, level: float = 1.0):
    """Ground rising eastwards by ``slope`` (m/m) from 0; water at ``level`` m: depth
    ``level - z`` west of the shoreline (closed form)."""
    x = (np.arange(n) + 0.5) * PX
    z = np.tile(slope * x, (n, 1))
    return z, z < level, np.where(z < level, level - z, np.nan)


def _bowl(n: int = 81, k: float = 2e-5, level: float = 2.0):
    """Paraboloid ``z = k r^2`` (m) filled to ``level``: depth ``level - k r^2`` inside."""
    c = (n - 1) / 2
    yy, xx = np.mgrid[0:n, 0:n]
    r2 = ((yy - c) ** 2 + (xx - c) ** 2) * PX**2
    z = k * r2
    return z, z < level, np.where(z < level, level - z, np.nan)


# -- closed forms ---------------------------------------------------------------------------


@pytest.mark.parametrize("edge", ["shoreline", "edge_cell"])
def test_tilted_plane_depth_is_level_minus_ground(edge):
    z, flood, truth = _plane()
    d = flood_depth(flood, z, options=DepthOptions(edge_elevation=edge))
    assert d.dtype == np.float32 and np.isnan(d[~flood]).all()
    err = d[flood] - truth[flood]
    # one cell rises 0.1 m: the edge cell lies up to one rise below the water line, the
    # shoreline (half-way to the dry cell) half a rise
    tol = 0.05 if edge == "shoreline" else 0.1
    assert np.abs(err).max() <= tol + 1e-6
    assert np.median(np.abs(err)) <= tol


def test_bowl_depth_is_closed_form():
    """Rim radius 316 m, where the ground rises 0.126 m per cell: the shoreline lies within
    one cell's rise, and the 3 x 3 mean of ``k r^2`` adds ``k * 4/3 * PX^2`` = 0.027 m."""
    z, flood, truth = _bowl()
    d = flood_depth(flood, z)
    err = d[flood] - truth[flood]
    assert np.abs(err).max() < 0.126
    # the deepest point: level - 0
    c = z.shape[0] // 2
    assert d[c, c] == pytest.approx(2.0, abs=0.1)


def test_hand_method_removes_the_valley_slope():
    """On HAND (the ground above a sloping river), a flood the level ``L`` above the
    river has depth ``L - HAND`` everywhere, although its surface falls down the valley."""
    n = 100
    yy, xx = np.mgrid[0:n, 0:n]
    hand = np.abs(yy - n / 2) * PX * 0.004  # 4 m per km away from the river (row 50)
    flood = hand < 1.5
    d = flood_depth(flood, hand, blocked=np.zeros_like(flood))
    truth = 1.5 - hand
    assert np.median(np.abs(d[flood] - truth[flood])) < 0.03


def test_edges_at_permanent_water_border_and_nodata_are_no_evidence():
    """v2's rule: the flood along a river or the raster's border does not end there."""
    z, flood, _ = _plane(60)
    river = np.zeros_like(flood)
    river[:, :3] = True  # a river along the west edge
    flood &= ~river
    e = edge_cells(flood, river)
    assert not e[:, :5].any()  # next to the river: no evidence
    assert not e[0].any() and not e[-1].any()  # the raster's border
    assert e.any()
    z_void = z.copy()
    z_void[:, 8:] = np.nan  # the DEM stops before the flood's edge (column 9): no edge left
    with pytest.raises(NoDataError, match="no flood edge"):
        flood_depth(flood, z_void, blocked=river)


def test_empty_flood_is_all_nan_and_options_are_checked():
    z, _, _ = _plane(20)
    assert np.isnan(flood_depth(np.zeros_like(z, bool), z)).all()
    with pytest.raises(InputError, match="lowpass_px"):
        DepthOptions(lowpass_px=2)
    with pytest.raises(InputError, match="edge_elevation"):
        DepthOptions(edge_elevation="max")


# -- the API -------------------------------------------------------------------------------


def test_api_keeps_the_grid_and_reads_files(tmp_path):
    z, flood, truth = _plane()
    fl = _da(flood.astype(np.uint8)).rio.write_nodata(255)
    dem = _da(z.astype(np.float32))
    fl.rio.to_raster(tmp_path / "flood.tif")
    dem.rio.to_raster(tmp_path / "dem.tif")
    for f, g in ((fl, dem), (tmp_path / "flood.tif", str(tmp_path / "dem.tif"))):
        out = eo_drr.depth(f, g)
        assert out.dtype == np.float32 and out.attrs["units"] == "m" and out.attrs["edge_cells"]
        assert out.rio.crs == fl.rio.crs and out.rio.transform() == fl.rio.transform()
        assert np.nanmax(np.abs(out.values - truth)) <= 0.05 + 1e-6


def test_api_flood_codes_and_masks():
    """2 (still water) and 255 (no data) block edges; 3 is refused."""
    z, flood, _ = _plane(60)
    codes = flood.astype(np.uint8)
    codes[:, :3] = 2
    out = eo_drr.depth(_da(codes), _da(z), exclude=_da(np.zeros_like(codes)))
    flooded = flood.copy()
    flooded[:, :3] = False
    assert np.isnan(out.values[:, :3]).all() and np.isfinite(out.values[flooded]).all()
    codes[0, 0] = 3
    with pytest.raises(InputError, match="values other than"):
        eo_drr.depth(_da(codes), _da(z))
    with pytest.raises(InputError, match="method"):
        eo_drr.depth(_da(flood), _da(z), method="bathtub")


def test_api_reprojects_a_coarser_dem_with_a_warning(caplog):
    z, flood, truth = _plane(120, slope=0.005)
    coarse = z[1::3, 1::3]  # the 30 m cell centres of the same plane
    with caplog.at_level(logging.WARNING):
        out = eo_drr.depth(_da(flood.astype(np.uint8)), _da(coarse, px=30.0))
    assert "reprojected" in caplog.text
    inner = flood.copy()
    inner[:, :3] = inner[:, -3:] = False  # bilinear has no neighbour past the DEM's edge
    assert np.nanmedian(np.abs(out.values[inner] - truth[inner])) < 0.05


def test_api_dem_voids_and_errors():
    z, flood, _ = _plane(60)
    zv = z.copy()
    zv[20:25, 2:6] = np.nan
    out = eo_drr.depth(_da(flood), _da(zv))
    assert np.isnan(out.values[20:25, 2:6]).all() and np.isfinite(out.values[30, 2])
    with pytest.raises(NoDataError, match="dem"):
        eo_drr.depth(_da(flood), _da(np.full_like(z, np.nan)))
    with pytest.raises(NoDataError, match="no flood edge"):
        eo_drr.depth(_da(np.ones_like(flood)), _da(z))  # all flooded: only the border
    with pytest.raises(InputError, match="no such file"):
        eo_drr.depth("/nonexistent/flood.tif", _da(z))


def test_api_hand_method_from_dem_and_given():
    n = 80
    yy, _ = np.mgrid[0:n, 0:n]
    hand = np.abs(yy - n / 2 + 0.5) * PX * 0.005
    flood = hand < 1.0
    out = eo_drr.depth(_da(flood), _da(hand + 100.0), method="hand", hand=_da(hand))
    assert out.attrs["method"] == "hand"
    assert np.nanmedian(np.abs(out.values[flood] - (1.0 - hand[flood]))) < 0.05
    # HAND from the DEM needs a channel of 1 km^2 upstream area: a 1.44 km^2 valley whose
    # river (one row) falls eastwards
    n = 120
    yy, xx = np.mgrid[0:n, 0:n]
    hand = np.abs(yy - n // 2) * PX * 0.005
    flood = hand < 1.0
    dem = 100.0 + hand - 0.0005 * xx * PX
    computed = eo_drr.depth(_da(flood), _da(dem), method="hand")
    assert np.isfinite(computed.values[flood]).mean() > 0.9


# -- the demo scene's truth ----------------------------------------------------------------


def test_demo_depth_truth_and_accuracy(small_demo_scene):
    s = small_demo_scene

    def read(name):
        return rioxarray.open_rasterio(s.truth[name]).squeeze("band", drop=True)

    truth, flood = read("flood_depth"), read("flood").values == 1
    assert truth.dtype == np.float32 and (truth.values[~flood] == 0).all()
    assert (truth.values >= 0).all() and truth.values.max() <= s.flood_level_m
    assert truth.values[flood].mean() > 0.3
    dem = next((s.root / "cop-dem-glo-30").glob("*/data.tif"))
    hand = next((s.root / "demo-hand").glob("*/data.tif"))
    for method in ("fwdet", "hand"):
        d = eo_drr.depth(
            s.truth["flood"],
            dem,
            method=method,
            hand=hand if method == "hand" else None,
            permanent_water=s.truth["permanent_water"],
        )
        ok = flood & np.isfinite(d.values)
        err = d.values[ok] - truth.values[ok]
        assert np.median(np.abs(err)) <= 0.25 and abs(err.mean()) <= 0.15, method


# -- exposure by depth ---------------------------------------------------------------------


def test_damage_fraction_follows_the_jrc_table():
    x, y = JRC_RESIDENTIAL_CSA
    np.testing.assert_allclose(damage_fraction(np.array(x)), y)
    assert damage_fraction(np.array([0.25]))[0] == pytest.approx(0.2454)
    assert damage_fraction(np.array([9.0]))[0] == 1.0 and np.isnan(damage_fraction(np.nan))
    assert all(b >= a for a, b in zip(y, y[1:]))


def test_exposure_by_depth_counts_each_class():
    """Columns of 0.2, 1.0 and 2.0 m water; a unit over each half; built-up on every pixel of
    the left half, cropland on the right half, one road along a row."""
    d = np.full((30, 60), np.nan)
    d[:, 0:20], d[:, 20:40], d[:, 40:50] = 0.2, 1.0, 2.0
    depth = _da(d)
    x0, y0 = 500_000.0, 2_000_000.0
    units = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["West", "East"]},
        geometry=[box(x0, y0 - 300, x0 + 300, y0), box(x0 + 300, y0 - 300, x0 + 600, y0)],
        crs=CRS,
    )
    lc = np.where(np.arange(60) < 30, 50, 40).astype(np.uint8)[None, :].repeat(30, 0)
    road = gpd.GeoDataFrame(geometry=[LineString([(x0, y0 - 155), (x0 + 600, y0 - 155)])], crs=CRS)
    t = exposure_by_depth(depth, units, layers=ExposureLayers(landcover=_da(lc), roads=road))
    assert list(t["code"]) == ["A"] * 3 + ["B"] * 3
    assert list(t["depth_class"]) == [c.label for c in DEPTH_CLASSES] * 2
    a, b = (
        t[t["code"] == "A"].set_index("depth_class"),
        t[t["code"] == "B"].set_index("depth_class"),
    )
    px_ha = PX * PX / 1e4
    assert a.loc["0-0.5m", "flooded_builtup_ha"] == pytest.approx(600 * px_ha)
    assert a.loc["0.5-1.5m", "flooded_builtup_ha"] == pytest.approx(300 * px_ha)
    assert b.loc["0.5-1.5m", "flooded_cropland_ha"] == pytest.approx(300 * px_ha)
    assert b.loc[">1.5m", "flooded_cropland_ha"] == pytest.approx(300 * px_ha)
    assert a.loc["0-0.5m", "flooded_road_km"] == pytest.approx(0.2)
    assert b.loc[">1.5m", "flooded_road_km"] == pytest.approx(0.1)
    dmg = a["builtup_damage_ha"]
    assert dmg["0-0.5m"] == pytest.approx(600 * px_ha * damage_fraction(np.array(0.2)))
    assert dmg["0.5-1.5m"] == pytest.approx(300 * px_ha * 0.7112)  # 1.0 m in the JRC table
    rows = depth_sfm_rows(t, event_id="EV", date="2024-11-05")
    assert set(rows["disaggregation"]) == {f"depth:{c.label}" for c in DEPTH_CLASSES}
    assert {"EO-C4", "EO-C2", "EO-D4", "EO-C4-DMG"} <= set(rows["indicator_code"])
    assert rows["observed_share"].isna().all()
    with pytest.raises(InputError, match="negative"):
        exposure_by_depth(_da(-np.ones((5, 5))), units)
