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
from eo_drr.sendai.indicators import DASYMETRIC_FLOOR, check_units, flag_flooded_points, indicators_by_unit
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


def _all_inputs(demo):
    return dict(population=demo["population"], landcover=demo["landcover"], builtup=demo["builtup"],
                builtup_before=demo["builtup_before"], facilities=demo["facilities"], roads=demo["roads"])


@pytest.fixture(scope="module")
def table(demo):
    """Default settings: fast zonal statistics, dasymetric population (a built-up layer is given)."""
    return indicators_by_unit(demo["flood"], demo["units"], **_all_inputs(demo))


@pytest.fixture(scope="module")
def even(demo):
    """Each cell's persons spread evenly over its pixels (no dasymetric weighting)."""
    return indicators_by_unit(demo["flood"], demo["units"], dasymetric=False, **_all_inputs(demo))


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


def test_dasymetric_is_the_default_with_builtup(table, even):
    assert table.attrs["dasymetric"] is True and even.attrs["dasymetric"] is False
    assert table.attrs["zonal_method"] == "fast"


def test_exposed_population_within_1_percent(even, demo):
    """Truth: each 100 m cell's persons spread evenly over its 10 m pixels inside the scene,
    summed over the flooded pixels of each unit (numpy, no exactextract)."""
    table = even
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


@pytest.mark.parametrize("which", ["table", "even"])
def test_population_conserved(which, request, demo):
    """The units cover the scene: their population is the grid's people inside the scene
    (dasymetric: moved within cells, never lost)."""
    table = request.getfixturevalue(which)
    grid = float(demo["population"]["total"].values.sum())
    assert table["population"].sum() == pytest.approx(grid, rel=0.002)
    parts = table[["population_female", "population_male"]].sum(axis=1)
    np.testing.assert_allclose(parts, table["population"], rtol=1e-5)
    assert (table["exposed_population"] <= table["population"] * (1 + 1e-9)).all()


def test_dasymetric_matches_independent_weights(table, demo):
    """Truth (numpy): each cell's persons shared over its pixels in the scene with weight 1 on
    built-up and DASYMETRIC_FLOOR elsewhere, summed over each unit's flooded pixels."""
    s, lab = demo["scene"], _labels(demo)
    flooded = demo["flood"].values == 1
    wt = np.where(demo["builtup"].values == 1, 1.0, DASYMETRIC_FLOOR)
    n, f = s.size, 10
    pop = demo["population"]["total"].values.astype(np.float64)
    ph, pw = pop.shape
    wpad = np.zeros((ph * f, pw * f))
    wpad[:n, :n] = wt
    wcell = wpad.reshape(ph, f, pw, f).sum(axis=(1, 3))
    per_px = (np.repeat(np.repeat(pop / np.where(wcell > 0, wcell, 1), f, 0), f, 1)[:n, :n]) * wt
    for i, code in enumerate(demo["units"]["code"]):
        truth = float((per_px * flooded)[lab == i + 1].sum())
        if truth > 1.0:
            assert table.loc[code, "exposed_population"] == pytest.approx(truth, rel=0.01), code
        people = float(per_px[lab == i + 1].sum())
        assert table.loc[code, "population"] == pytest.approx(people, rel=0.01), code


def test_dasymetric_is_closer_to_the_generator_truth(table, even, demo):
    """The demo generator puts 10 000 persons/km2 on built-up and ~60 on rural land; its true
    exposed people (per 10 m pixel, before the 100 m aggregation) lie far closer to the
    dasymetric estimate than to the even spread, which puts town people into the empty,
    low-lying part of a cell."""
    from eo_drr.demo.landscape import build_landscape
    from eo_drr.demo.population import persons_per_pixel
    from eo_drr.demo.sites import SITES

    s = demo["scene"]
    site = SITES["floodplain"]
    truth_px = persons_per_pixel(build_landscape(site, s.seed, s.size), site, s.seed)
    assert truth_px.sum() == pytest.approx(demo["population"]["total"].values.sum(), rel=1e-4)
    flooded = demo["flood"].values == 1
    truth = float(truth_px[flooded].sum())
    das, ev = table["exposed_population"].sum(), even["exposed_population"].sum()
    assert abs(das - truth) < 0.5 * abs(ev - truth)
    assert das == pytest.approx(truth, rel=0.05)


def test_dasymetric_needs_builtup(demo):
    with pytest.raises(InputError, match="dasymetric: needs a built-up layer"):
        indicators_by_unit(demo["flood"], demo["units"], population=demo["population"], dasymetric=True)
    with pytest.raises(InputError, match="method"):
        indicators_by_unit(demo["flood"], demo["units"], method="approx")


@pytest.mark.parametrize("dasymetric", [False, True])
def test_fast_matches_exact_on_the_demo(demo, dasymetric):
    """The fast path (labels + border coverage) against the exactextract reference: every
    column of every unit within 0.1 % (values above 1e-6)."""
    kw = _all_inputs(demo)
    fast = indicators_by_unit(demo["flood"], demo["units"], dasymetric=dasymetric, method="fast", **kw)
    exact = indicators_by_unit(demo["flood"], demo["units"], dasymetric=dasymetric, method="exact", **kw)
    assert list(fast.columns) == list(exact.columns)
    num = [c for c in exact.columns if c not in ("name", "level")]
    assert len(num) > 20
    for col in num:
        a, b = fast[col].to_numpy(float), exact[col].to_numpy(float)
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-6, err_msg=col)
    assert exact["exposed_population"].sum() > 10


def test_fast_sums_match_exactextract_on_awkward_polygons():
    """Holes, multipolygons, overlapping units, units partly or wholly off the grid, edges
    running along pixel centres and pixel edges: the fast coverage-weighted sums equal
    exactextract's (to rounding), and fast vs exact indicators agree."""
    from affine import Affine
    from pyproj import CRS

    from eo_drr.sendai.indicators import _fast_sums, _sums, unit_layers

    rng = np.random.default_rng(3)
    h, w = 240, 310
    x0, y0 = 500000.0, 2000000.0
    tr = Affine(10.0, 0, x0, 0, -10.0, y0)
    pts = shapely.points(rng.uniform(x0 - 300, x0 + 3400, 25), rng.uniform(y0 - 2700, y0 + 300, 25))
    frame = box(x0 - 500, y0 - 2900, x0 + 3600, y0 + 500)
    cells = list(shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame)), frame))
    cells[0] = cells[0].difference(cells[0].centroid.buffer(180))  # a hole
    cells[1] = shapely.union(cells[1], box(x0 + 3000, y0 - 200, x0 + 3050, y0 - 100))  # maybe a multipolygon
    extra = [
        box(x0 + 5, y0 - 405, x0 + 205, y0 - 5),  # edges along pixel centres (overlaps the partition)
        box(x0 + 100, y0 - 800, x0 + 400, y0 - 500),  # edges along pixel edges
        box(x0 + 8000, y0 - 500, x0 + 8100, y0 - 400),  # off the grid
        Polygon([(x0 - 50, y0 + 20), (x0 + 700, y0 - 1333), (x0 + 1500, y0 + 40)]),  # sticks out
    ]
    geoms = np.array(cells + extra, dtype=object)
    units = gpd.GeoDataFrame({"code": [f"U{i}" for i in range(len(geoms))], "name": ""}, geometry=geoms, crs="EPSG:32615")
    assert len(unit_layers(geoms)) >= 2  # overlaps: rasterised in several layers
    a = rng.random((h, w))
    a[rng.random((h, w)) < 0.1] = np.nan
    crs = CRS.from_epsg(32615)
    fast = _fast_sums({"a": a}, tr, crs, units)["a"].to_numpy()
    ref = _sums({"a": a}, tr, crs, units)["a"].fillna(0.0).to_numpy()
    np.testing.assert_allclose(fast, ref, rtol=1e-6, atol=1e-6)
    assert fast[-2] == 0.0 and fast[-5] > 0  # off the grid / centre-aligned box
    # the same units through the indicators (class codes and an aligned population grid)
    flood = np.where(rng.random((h, w)) < 0.3, 1, 0).astype(np.uint8)
    flood[rng.random((h, w)) < 0.05] = 255
    fl = xr.DataArray(flood, dims=("y", "x"), coords={"y": y0 - 5 - 10 * np.arange(h), "x": x0 + 5 + 10 * np.arange(w)})
    fl = fl.rio.write_crs("EPSG:32615")
    ph, pw = -(-h // 10), -(-w // 10)
    pop = xr.DataArray(rng.random((ph, pw)) * 50, dims=("y", "x"),
                       coords={"y": y0 - 50 - 100 * np.arange(ph), "x": x0 + 50 + 100 * np.arange(pw)}).rio.write_crs("EPSG:32615")
    lc = fl.copy(data=np.where(rng.random((h, w)) < 0.2, 50, 40).astype(np.uint8))
    for das in (False, True):
        f = indicators_by_unit(fl, units, population=pop, landcover=lc, dasymetric=das, method="fast")
        e = indicators_by_unit(fl, units, population=pop, landcover=lc, dasymetric=das, method="exact")
        for col in [c for c in e.columns if c != "name"]:
            np.testing.assert_allclose(f[col].to_numpy(float), e[col].to_numpy(float), rtol=1e-6, atol=1e-6, err_msg=col)



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
