"""HAND from a DEM: an analytic valley, and the demo scene's known HAND."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from eo_drr.errors import InputError, NoDataError
from eo_drr.products.terrain import hand_from_dem, slope_degrees


def test_v_valley_hand_is_height_above_the_river():
    """A V-shaped valley draining south: HAND = height above the river at the same row."""
    h, w, px = 200, 101, 30.0
    x = np.abs(np.arange(w) - 50)[None, :] * 2.0  # 2 m per cell up the valley sides
    y = (h - np.arange(h))[:, None] * 0.5  # river falls 0.5 m per cell to the south
    dem = x + y
    hand = hand_from_dem(dem, px, channel_area_km2=0.5)
    inner = hand[20:180, 10:91]
    expected = x[0, 10:91][None, :] * np.ones((160, 1))
    # cells reach the river within a row or so downstream: within the river's fall per cell
    assert np.nanmax(np.abs(inner - expected)) <= 1.5
    assert np.nanmin(hand) >= 0


def test_pit_is_filled_and_drains():
    dem = np.full((50, 50), 100.0)
    dem += np.arange(50)[None, :] * 0.1  # tilted west
    dem[20:25, 20:25] = 90.0  # a pit
    hand = hand_from_dem(
        dem, 10.0, channel_area_km2=0.002
    )  # 20 cells: rows draining west become channels
    assert np.isfinite(hand[20:25, 20:25]).all()


def test_demo_hand_is_recovered(small_demo_scene):
    from eo_drr.catalog import SearchQuery, StaticCatalog

    cat = StaticCatalog(small_demo_scene.catalog_path)
    dem_item = cat.search(SearchQuery(collections=("cop-dem-glo-30",)))[0]
    hand_item = cat.search(SearchQuery(collections=("demo-hand",)))[0]
    with (
        rasterio.open(dem_item.assets["data"].get_absolute_href()) as d,
        rasterio.open(hand_item.assets["data"].get_absolute_href()) as t,
    ):
        dem = d.read(1, masked=True).filled(np.nan)
        truth = t.read(1, masked=True).filled(np.nan)
        px = d.res[0]
    hand = hand_from_dem(dem, px)
    m = np.isfinite(hand) & np.isfinite(truth)
    assert m.mean() > 0.8
    r = np.corrcoef(hand[m], truth[m])[0, 1]
    # flood-relevant agreement: the low ground (truth HAND < 15 m) is mostly low here too
    low = truth[m] < 15
    agree = ((hand[m] < 15) == low).mean()
    print(f"demo HAND: r = {r:.3f}, agreement on the 15 m exclusion = {agree:.3f}")
    assert r > 0.8 and agree > 0.85


def test_bad_input():
    with pytest.raises(NoDataError):
        hand_from_dem(np.full((5, 5), np.nan), 30)
    with pytest.raises(InputError, match="pixel_size_m"):
        hand_from_dem(np.zeros((5, 5)), 0)
    assert slope_degrees(np.zeros((5, 5)), 30).max() == 0


def test_slope_of_a_sliver_tile_is_nodata_not_a_crash():
    """Edge tiles of a tiled job can be one pixel wide: no gradient, NaN slope."""
    from eo_drr.products.terrain import slope_degrees

    assert np.isnan(slope_degrees(np.ones((1, 5)), 30.0)).all()
    assert np.isnan(slope_degrees(np.ones((7, 1)), 30.0)).all()
    assert slope_degrees(np.ones((7, 1)), 30.0).shape == (7, 1)


def test_slope_matches_numpy_gradient_with_edges_and_nodata():
    rng = np.random.default_rng(3)
    dem = rng.normal(0, 3, (57, 43)).cumsum(axis=0) + 200.0
    dem[20, 20] = np.nan
    dem[0, 7] = np.nan
    got = slope_degrees(dem, 10.0)
    gy, gx = np.gradient(dem, 10.0)
    ref = np.degrees(np.arctan(np.hypot(gx, gy)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, atol=1e-4, equal_nan=True)
    assert (np.isnan(got) == np.isnan(ref)).all()
    # a 45 degree plane
    plane = np.add.outer(np.arange(10.0) * 10.0, np.zeros(12))
    np.testing.assert_allclose(slope_degrees(plane, 10.0), 45.0, atol=1e-4)


def test_slope_of_a_float32_dem_is_that_of_its_float64_copy_bit_for_bit():
    """A float32 DEM goes to the kernel without a float64 copy (issue 21); the differences
    are still taken in float64, so the slope is the one its float64 copy gives."""
    rng = np.random.default_rng(5)
    dem = (rng.normal(0, 3, (41, 37)).cumsum(axis=1) + 812.3).astype(np.float32)
    dem[4, 9] = np.nan
    got = slope_degrees(dem, 10.0)
    ref = slope_degrees(dem.astype(np.float64), 10.0)
    np.testing.assert_array_equal(got, ref)
    assert not np.isnan(got).all()
