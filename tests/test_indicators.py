"""Sendai EO-proxy indicators per unit against independent truth on the demo scene, and bad
input (units without codes, duplicate codes, invalid geometries, population in another CRS,
facilities outside all units, an empty flood extent)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.features
import rioxarray
import shapely
import xarray as xr
from shapely.geometry import Point, Polygon, box

from eo_drr.errors import InputError
from eo_drr.sendai.indicators import check_units, flag_flooded_points, indicators_by_unit
from eo_drr.sendai.units import read_units

POP_BANDS = ("total", "female", "male", "age_0_14", "age_15_64", "age_65_plus")


def _open(path):
    return rioxarray.open_rasterio(path).squeeze("band", drop=True)


@pytest.fixture(scope="module")
def demo(small_demo_scene):
    s = small_demo_scene
    pop_dir = next((s.root / "demo-population").glob("*/total.tif")).parent
    return {
        "scene": s,
        "flood": _open(s.truth["flood"]),
        "landcover": _open(s.truth["landcover"]),
        "builtup": _open(s.truth["builtup_t2"]),
        "builtup_before": _open(s.truth["builtup_t1"]),
        "population": xr.Dataset({b: _open(pop_dir / f"{b}.tif") for b in POP_BANDS}),
        "units": read_units(s.admin_units, layer="level2"),
        "facilities": gpd.read_file(s.facilities),
        "roads": gpd.read_file(s.roads),
    }


@pytest.fixture(scope="module")
def table(demo):
    return indicators_by_unit(
        demo["flood"], demo["units"], population=demo["population"], landcover=demo["landcover"],
        builtup=demo["builtup"], builtup_before=demo["builtup_before"],
        facilities=demo["facilities"], roads=demo["roads"],
    )


def _labels(demo):
    """Unit index + 1 of every 10 m pixel (pixel centres), 0 outside: an independent zoning."""
    s = demo["scene"]
    u = demo["units"].to_crs(s.crs)
    return rasterio.features.rasterize(
        [(g, i + 1) for i, g in enumerate(u.geometry)], out_shape=s.shape, transform=s.transform
    )


def test_one_row_per_unit_in_order(table, demo):
    assert list(table.index) == list(demo["units"]["code"])
    assert table.notna().all().all()


def test_exposed_population_within_1_percent(table, demo):
    """Truth: each 100 m cell's persons spread evenly over its 10 m pixels inside the scene,
    summed over the flooded pixels of each unit (numpy, no exactextract)."""
    s, lab = demo["scene"], _labels(demo)
    flooded = demo["flood"].values == 1
    n, f = s.size, 10
    for band in POP_BANDS:
        pop = demo["population"][band].values.astype(np.float64)
        ph, pw = pop.shape
        inside = np.zeros((ph * f, pw * f))
        inside[:n, :n] = 1
        npx = inside.reshape(ph, f, pw, f).sum(axis=(1, 3))
        per_px = np.repeat(np.repeat(pop / np.maximum(npx, 1), f, 0), f, 1)[:n, :n]
        col = "exposed_population" if band == "total" else f"exposed_population_{band}"
        total_truth = 0.0
        for i, code in enumerate(demo["units"]["code"]):
            truth = float((per_px * flooded)[lab == i + 1].sum())
            total_truth += truth
            if truth > 1.0:
                assert table.loc[code, col] == pytest.approx(truth, rel=0.01), (band, code)
        assert table[col].sum() == pytest.approx(total_truth, rel=0.01), band
        assert total_truth > 10


def test_population_conserved(table, demo):
    """The units cover the scene: their population is the grid's people inside the scene."""
    grid = float(demo["population"]["total"].values.sum())
    assert table["population"].sum() == pytest.approx(grid, rel=0.002)
    parts = table[["population_female", "population_male"]].sum(axis=1)
    np.testing.assert_allclose(parts, table["population"], rtol=1e-5)


def test_flooded_cropland_within_2_percent(table, demo):
    lab = _labels(demo)
    crop_flooded = (demo["landcover"].values == 40) & (demo["flood"].values == 1)
    built_flooded = (demo["builtup"].values == 1) & (demo["flood"].values == 1)
    for i, code in enumerate(demo["units"]["code"]):
        truth = crop_flooded[lab == i + 1].sum() * 0.01  # 10 m pixels -> ha
        if truth > 1.0:
            assert table.loc[code, "flooded_cropland_ha"] == pytest.approx(truth, rel=0.02), code
        bt = built_flooded[lab == i + 1].sum() * 0.01
        if bt > 1.0:
            assert table.loc[code, "flooded_builtup_ha"] == pytest.approx(bt, rel=0.02), code
    assert table["flooded_cropland_ha"].sum() == pytest.approx(crop_flooded.sum() * 0.01, rel=0.02)


def test_facility_counts_exact(table, demo):
    s = demo["scene"]
    pts = demo["facilities"].to_crs(s.crs)
    units = demo["units"].to_crs(s.crs)
    with rasterio.open(s.truth["flood"]) as src:
        flooded = np.array([v[0] == 1 for v in src.sample([(p.x, p.y) for p in pts.geometry])])
    for code, geom in zip(units["code"], units.geometry):
        inside = np.array([geom.contains(p) for p in pts.geometry])
        for kind in ("health", "education"):
            sel = inside & (pts["type"] == kind).to_numpy()
            assert table.loc[code, f"{kind}_facilities"] == sel.sum()
            assert table.loc[code, f"flooded_{kind}"] == (sel & flooded).sum()
    assert table["flooded_health"].sum() + table["flooded_education"].sum() == flooded.sum() > 0


def test_flooded_road_length(table, demo):
    """Truth: roads sampled every 0.5 m, each sample on a flooded pixel counts 0.5 m."""
    s = demo["scene"]
    units = demo["units"].to_crs(s.crs)
    flood = demo["flood"].values
    inv = ~s.transform
    for code, geom in zip(units["code"], units.geometry):
        pieces = [g for g in shapely.get_parts(
            shapely.intersection(demo["roads"].to_crs(s.crs).geometry.to_numpy(), geom)) if not g.is_empty]
        total, wet = 0.0, 0.0
        for line in shapely.get_parts(np.array(pieces, dtype=object)) if pieces else []:
            if line.length == 0:
                continue
            d = np.arange(0.25, line.length, 0.5)
            xy = np.array([line.interpolate(v).coords[0] for v in d])
            c, r = inv * (xy[:, 0], xy[:, 1])
            r, c = np.floor(r).astype(int), np.floor(c).astype(int)
            ok = (r >= 0) & (r < flood.shape[0]) & (c >= 0) & (c < flood.shape[1])
            wet += 0.5 * (flood[r[ok], c[ok]] == 1).sum()
            total += line.length
        assert table.loc[code, "road_km"] == pytest.approx(total / 1000, rel=1e-6, abs=1e-9)
        assert table.loc[code, "flooded_road_km"] == pytest.approx(wet / 1000, rel=0.02, abs=0.002)
    assert table["flooded_road_km"].sum() > 0


def test_new_settlement_in_flood(table, demo):
    lab = _labels(demo)
    new = (demo["builtup"].values == 1) & (demo["builtup_before"].values == 0) & (demo["flood"].values == 1)
    assert table["new_builtup_flooded_ha"].sum() == pytest.approx(new[lab > 0].sum() * 0.01, rel=0.02, abs=0.05)


def test_observed_share_counts_nodata(demo):
    flood = demo["flood"].copy()
    flood.values[:, : flood.shape[1] // 2] = 255  # west half unobserved
    t = indicators_by_unit(flood, demo["units"])
    whole = indicators_by_unit(demo["flood"], demo["units"])
    assert (t["observed_share"] <= whole["observed_share"] + 1e-9).all()
    assert (t["observed_share"] < 0.99).any()
    np.testing.assert_allclose(t["observed_share"] + t["nodata_share"], 1.0)
    area = (t["observed_ha"]).sum()
    assert area == pytest.approx((flood.values != 255).sum() * 0.01, rel=0.01)


def test_empty_flood_gives_zero_rows(demo):
    flood = xr.zeros_like(demo["flood"])
    t = indicators_by_unit(flood, demo["units"], population=demo["population"],
                           landcover=demo["landcover"], facilities=demo["facilities"], roads=demo["roads"])
    assert list(t.index) == list(demo["units"]["code"])
    for col in ("flooded_ha", "exposed_population", "flooded_cropland_ha", "flooded_health",
                "flooded_education", "flooded_road_km", "exposed_population_female"):
        assert (t[col] == 0).all(), col
    assert (t["population"] > 0).all()


def test_units_without_codes_or_duplicates_are_refused(demo):
    u = demo["units"].copy()
    u.loc[u.index[0], "code"] = None
    with pytest.raises(InputError, match="without a code"):
        indicators_by_unit(demo["flood"], u)
    u = demo["units"].copy()
    u.loc[u.index[1], "code"] = u["code"].iloc[0]
    with pytest.raises(InputError, match="duplicate codes: " + u["code"].iloc[0]):
        indicators_by_unit(demo["flood"], u)


def test_invalid_geometry_is_repaired_and_reported(demo):
    u = demo["units"].to_crs(demo["scene"].crs).copy()
    g = u.geometry.iloc[0]
    x0, y0, x1, y1 = g.bounds
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])  # self-intersecting
    u.loc[u.index[0], "geometry"] = bowtie
    assert not bowtie.is_valid
    t = indicators_by_unit(demo["flood"], u)
    assert t.attrs["repaired_geometries"] == 1
    assert u["code"].iloc[0] in t.index  # never dropped
    assert t.loc[u["code"].iloc[0], "area_ha"] == pytest.approx(shapely.make_valid(bowtie).area / 1e4)
    checked = check_units(u)
    assert checked.geometry.is_valid.all()


def test_population_grid_in_another_crs():
    """A uniform population grid in EPSG:4326 over a UTM flood whose west half is flooded:
    exposed = half the people of a unit covering the flood raster (hazard aggregated onto the
    population grid; the population grid is never resampled)."""
    crs = "EPSG:32615"
    flood = np.zeros((400, 400), np.uint8)
    flood[:, :200] = 1
    fl = xr.DataArray(flood, dims=("y", "x"),
                      coords={"y": 2000000 - 5 - 10 * np.arange(400), "x": 500005 + 10 * np.arange(400)})
    fl = fl.rio.write_crs(crs)
    from pyproj import Transformer

    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    w, s, e, n = to_ll.transform_bounds(500000 - 500, 1996000 - 500, 504000 + 500, 2000000 + 500)
    res = 0.001  # ~100 m
    nx, ny = int(np.ceil((e - w) / res)), int(np.ceil((n - s) / res))
    pop = xr.DataArray(np.full((ny, nx), 7.0, np.float32), dims=("y", "x"),
                       coords={"y": n - res / 2 - res * np.arange(ny), "x": w + res / 2 + res * np.arange(nx)})
    pop = pop.rio.write_crs("EPSG:4326").rio.write_nodata(np.nan)
    # a unit 500 m inside the flood raster (population cells at the raster's edge are only
    # partly observed: counted as a lower bound, outside this test)
    units = gpd.GeoDataFrame({"code": ["A"], "name": ["inner"]}, geometry=[box(500500, 1996500, 503500, 1999500)], crs=crs)
    t = indicators_by_unit(fl, units, population=pop)
    assert t.loc["A", "exposed_population"] / t.loc["A", "population"] == pytest.approx(0.5, abs=0.01)
    # people conserved: the unit's population = density x its area in population cells
    cells = units.to_crs(4326).geometry.iloc[0].area / (res * res)
    assert t.loc["A", "population"] == pytest.approx(7.0 * cells, rel=0.005)


def test_facilities_outside_units_are_reported(demo):
    s = demo["scene"]
    fac = demo["facilities"].copy()
    far = gpd.GeoDataFrame({"id": [999], "type": ["health"], "name": ["Far away"]},
                           geometry=[Point(s.bbox_wgs84[0] - 1.0, s.bbox_wgs84[1] - 1.0)], crs="EPSG:4326")
    fac = gpd.GeoDataFrame(np.concatenate([fac.values, far.values]), columns=fac.columns, crs=fac.crs)
    fac = fac.set_geometry("geometry")
    t = indicators_by_unit(demo["flood"], demo["units"], facilities=fac)
    base = indicators_by_unit(demo["flood"], demo["units"], facilities=demo["facilities"])
    assert t.attrs["facilities_outside_units"] == 1
    assert t["health_facilities"].sum() == base["health_facilities"].sum()


def test_flag_flooded_points(demo):
    pts = flag_flooded_points(demo["facilities"], demo["flood"])
    t = indicators_by_unit(demo["flood"], demo["units"], facilities=demo["facilities"])
    assert pts["flooded"].sum() == t["flooded_health"].sum() + t["flooded_education"].sum()


def test_bad_flood_values_are_refused(demo):
    flood = demo["flood"].copy()
    flood.values[0, 0] = 7
    with pytest.raises(InputError, match="values other than"):
        indicators_by_unit(flood, demo["units"])
