"""Sendai EO-proxy indicators per unit against independent truth on the demo scene, and bad
input (units without codes, duplicate codes, invalid geometries, population in another CRS,
facilities outside all units, an empty flood extent)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.features
import rioxarray
import shapely
import xarray as xr
from shapely.geometry import Point, Polygon, box

from eo_drr.errors import InputError
from eo_drr.sendai.indicators import ExposureLayers, IndicatorOptions, indicators_by_unit
from eo_drr.sendai.points_lines import flag_flooded_points, flag_flooded_points_in_file
from eo_drr.sendai.population import DASYMETRIC_FLOOR
from eo_drr.sendai.units import check_units, read_units

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
    return dict(
        population=demo["population"],
        landcover=demo["landcover"],
        builtup=demo["builtup"],
        builtup_before=demo["builtup_before"],
        facilities=demo["facilities"],
        roads=demo["roads"],
    )


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
        indicators_by_unit(
            demo["flood"], demo["units"], population=demo["population"], dasymetric=True
        )
    with pytest.raises(InputError, match="method"):
        indicators_by_unit(demo["flood"], demo["units"], method="approx")


def test_layers_and_options_as_dataclasses(demo):
    """The exposure layers and options as dataclasses give the keyword call's table; a keyword
    replaces a dataclass field; an unknown keyword is refused."""
    layers = ExposureLayers(population=demo["population"], landcover=demo["landcover"])
    options = IndicatorOptions(dasymetric=False)
    a = indicators_by_unit(demo["flood"], demo["units"], layers=layers, options=options)
    b = indicators_by_unit(
        demo["flood"],
        demo["units"],
        population=demo["population"],
        landcover=demo["landcover"],
        dasymetric=False,
    )
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs and a.attrs["dasymetric"] is False
    c = indicators_by_unit(
        demo["flood"], demo["units"], layers=layers, options=options, dasymetric=True
    )
    assert c.attrs["dasymetric"] is True
    with pytest.raises(TypeError, match="unexpected keyword argument 'populaton'"):
        indicators_by_unit(demo["flood"], demo["units"], populaton=demo["population"])


@pytest.mark.parametrize("dasymetric", [False, True])
def test_fast_matches_exact_on_the_demo(demo, dasymetric):
    """The fast path (labels + border coverage) against the exactextract reference: every
    column of every unit within 0.1 % (values above 1e-6)."""
    kw = _all_inputs(demo)
    fast = indicators_by_unit(
        demo["flood"], demo["units"], dasymetric=dasymetric, method="fast", **kw
    )
    exact = indicators_by_unit(
        demo["flood"], demo["units"], dasymetric=dasymetric, method="exact", **kw
    )
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

    from eo_drr.sendai.coverage import unit_layers
    from eo_drr.sendai.zonal import exact_sums, fast_sums

    rng = np.random.default_rng(3)
    h, w = 240, 310
    x0, y0 = 500000.0, 2000000.0
    tr = Affine(10.0, 0, x0, 0, -10.0, y0)
    pts = shapely.points(rng.uniform(x0 - 300, x0 + 3400, 25), rng.uniform(y0 - 2700, y0 + 300, 25))
    frame = box(x0 - 500, y0 - 2900, x0 + 3600, y0 + 500)
    cells = list(
        shapely.intersection(
            shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame)),
            frame,
        )
    )
    cells[0] = cells[0].difference(cells[0].centroid.buffer(180))  # a hole
    cells[1] = shapely.union(
        cells[1], box(x0 + 3000, y0 - 200, x0 + 3050, y0 - 100)
    )  # maybe a multipolygon
    extra = [
        box(
            x0 + 5, y0 - 405, x0 + 205, y0 - 5
        ),  # edges along pixel centres (overlaps the partition)
        box(x0 + 100, y0 - 800, x0 + 400, y0 - 500),  # edges along pixel edges
        box(x0 + 8000, y0 - 500, x0 + 8100, y0 - 400),  # off the grid
        Polygon([(x0 - 50, y0 + 20), (x0 + 700, y0 - 1333), (x0 + 1500, y0 + 40)]),  # sticks out
    ]
    geoms = np.array(cells + extra, dtype=object)
    units = gpd.GeoDataFrame(
        {"code": [f"U{i}" for i in range(len(geoms))], "name": ""}, geometry=geoms, crs="EPSG:32615"
    )
    assert len(unit_layers(geoms)) >= 2  # overlaps: rasterised in several layers
    a = rng.random((h, w))
    a[rng.random((h, w)) < 0.1] = np.nan
    crs = CRS.from_epsg(32615)
    fast = fast_sums({"a": a}, tr, crs, units)["a"].to_numpy()
    ref = exact_sums({"a": a}, tr, crs, units)["a"].fillna(0.0).to_numpy()
    np.testing.assert_allclose(fast, ref, rtol=1e-6, atol=1e-6)
    assert fast[-2] == 0.0 and fast[-5] > 0  # off the grid / centre-aligned box
    # the same units through the indicators (class codes and an aligned population grid)
    flood = np.where(rng.random((h, w)) < 0.3, 1, 0).astype(np.uint8)
    flood[rng.random((h, w)) < 0.05] = 255
    fl = xr.DataArray(
        flood,
        dims=("y", "x"),
        coords={"y": y0 - 5 - 10 * np.arange(h), "x": x0 + 5 + 10 * np.arange(w)},
    )
    fl = fl.rio.write_crs("EPSG:32615")
    ph, pw = -(-h // 10), -(-w // 10)
    pop = xr.DataArray(
        rng.random((ph, pw)) * 50,
        dims=("y", "x"),
        coords={"y": y0 - 50 - 100 * np.arange(ph), "x": x0 + 50 + 100 * np.arange(pw)},
    ).rio.write_crs("EPSG:32615")
    lc = fl.copy(data=np.where(rng.random((h, w)) < 0.2, 50, 40).astype(np.uint8))
    for das in (False, True):
        f = indicators_by_unit(
            fl, units, population=pop, landcover=lc, dasymetric=das, method="fast"
        )
        e = indicators_by_unit(
            fl, units, population=pop, landcover=lc, dasymetric=das, method="exact"
        )
        for col in [c for c in e.columns if c != "name"]:
            np.testing.assert_allclose(
                f[col].to_numpy(float), e[col].to_numpy(float), rtol=1e-6, atol=1e-6, err_msg=col
            )


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
        pieces = [
            g
            for g in shapely.get_parts(
                shapely.intersection(demo["roads"].to_crs(s.crs).geometry.to_numpy(), geom)
            )
            if not g.is_empty
        ]
        total, wet = 0.0, 0.0
        for line in shapely.get_parts(np.array(pieces, dtype=object)) if pieces else []:
            if line.length == 0:
                continue
            d = np.arange(0.25, line.length, 0.5)
            xy = np.array([line.interpolate(v).coords[0] for v in d])
            c, r = inv @ (xy[:, 0], xy[:, 1])
            r, c = np.floor(r).astype(int), np.floor(c).astype(int)
            ok = (r >= 0) & (r < flood.shape[0]) & (c >= 0) & (c < flood.shape[1])
            wet += 0.5 * (flood[r[ok], c[ok]] == 1).sum()
            total += line.length
        assert table.loc[code, "road_km"] == pytest.approx(total / 1000, rel=1e-6, abs=1e-9)
        assert table.loc[code, "flooded_road_km"] == pytest.approx(wet / 1000, rel=0.02, abs=0.002)
    assert table["flooded_road_km"].sum() > 0


def test_new_settlement_in_flood(table, demo):
    lab = _labels(demo)
    new = (
        (demo["builtup"].values == 1)
        & (demo["builtup_before"].values == 0)
        & (demo["flood"].values == 1)
    )
    assert table["new_builtup_flooded_ha"].sum() == pytest.approx(
        new[lab > 0].sum() * 0.01, rel=0.02, abs=0.05
    )


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
    t = indicators_by_unit(
        flood,
        demo["units"],
        population=demo["population"],
        landcover=demo["landcover"],
        facilities=demo["facilities"],
        roads=demo["roads"],
    )
    assert list(t.index) == list(demo["units"]["code"])
    for col in (
        "flooded_ha",
        "exposed_population",
        "flooded_cropland_ha",
        "flooded_health",
        "flooded_education",
        "flooded_road_km",
        "exposed_population_female",
    ):
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
    assert t.loc[u["code"].iloc[0], "area_ha"] == pytest.approx(
        shapely.make_valid(bowtie).area / 1e4
    )
    checked = check_units(u)
    assert checked.geometry.is_valid.all()


def test_population_grid_in_another_crs():
    """A uniform population grid in EPSG:4326 over a UTM flood whose west half is flooded:
    exposed = half the people of a unit covering the flood raster (hazard aggregated onto the
    population grid; the population grid is never resampled)."""
    crs = "EPSG:32615"
    flood = np.zeros((400, 400), np.uint8)
    flood[:, :200] = 1
    fl = xr.DataArray(
        flood,
        dims=("y", "x"),
        coords={"y": 2000000 - 5 - 10 * np.arange(400), "x": 500005 + 10 * np.arange(400)},
    )
    fl = fl.rio.write_crs(crs)
    from pyproj import Transformer

    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    w, s, e, n = to_ll.transform_bounds(500000 - 500, 1996000 - 500, 504000 + 500, 2000000 + 500)
    res = 0.001  # ~100 m
    nx, ny = int(np.ceil((e - w) / res)), int(np.ceil((n - s) / res))
    pop = xr.DataArray(
        np.full((ny, nx), 7.0, np.float32),
        dims=("y", "x"),
        coords={"y": n - res / 2 - res * np.arange(ny), "x": w + res / 2 + res * np.arange(nx)},
    )
    pop = pop.rio.write_crs("EPSG:4326").rio.write_nodata(np.nan)
    # a unit 500 m inside the flood raster (population cells at the raster's edge are only
    # partly observed: counted as a lower bound, outside this test)
    units = gpd.GeoDataFrame(
        {"code": ["A"], "name": ["inner"]},
        geometry=[box(500500, 1996500, 503500, 1999500)],
        crs=crs,
    )
    t = indicators_by_unit(fl, units, population=pop)
    assert t.loc["A", "exposed_population"] / t.loc["A", "population"] == pytest.approx(
        0.5, abs=0.01
    )
    # people conserved: the unit's population = density x its area in population cells
    cells = units.to_crs(4326).geometry.iloc[0].area / (res * res)
    assert t.loc["A", "population"] == pytest.approx(7.0 * cells, rel=0.005)


def test_facilities_outside_units_are_reported(demo):
    s = demo["scene"]
    fac = demo["facilities"].copy()
    far = gpd.GeoDataFrame(
        {"id": [999], "type": ["health"], "name": ["Far away"]},
        geometry=[Point(s.bbox_wgs84[0] - 1.0, s.bbox_wgs84[1] - 1.0)],
        crs="EPSG:4326",
    )
    fac = gpd.GeoDataFrame(
        np.concatenate([fac.values, far.values]), columns=fac.columns, crs=fac.crs
    )
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


# ---------------------------------------------------------------------------------------------
# the fast path's kernels against straightforward numpy / shapely references on small rasters


def _coverage_reference(geoms, tr, shape):
    """(n, h, w) share of every pixel inside every polygon, from shapely intersections."""
    h, w = shape
    out = np.zeros((len(geoms), h, w))
    rows, cols = np.mgrid[0:h, 0:w]
    x0, y0 = tr.c + cols * tr.a, tr.f + rows * tr.e
    pix = shapely.box(x0, y0 + tr.e, x0 + tr.a, y0).ravel()
    for k, g in enumerate(geoms):
        out[k] = (shapely.area(shapely.intersection(pix, g)) / abs(tr.a * tr.e)).reshape(h, w)
    return out


def _edge_case_units(x0, y0):
    """Non-overlapping units on a 10 m grid at (x0, y0): smaller than a pixel, with a hole, a
    multipolygon, touching and crossing the grid edges, edges along pixel centres and along
    pixel edges, a thin sliver, one wholly off the grid."""
    return np.array(
        [
            box(x0 + 3, y0 - 7, x0 + 6, y0 - 4),  # smaller than one pixel
            box(x0 + 20, y0 - 90, x0 + 90, y0 - 20).difference(
                box(x0 + 43, y0 - 67, x0 + 67, y0 - 43)
            ),  # hole
            shapely.MultiPolygon(
                [
                    box(x0 + 100, y0 - 30, x0 + 125, y0 - 5),
                    box(x0 + 130, y0 - 60, x0 + 150, y0 - 35),
                ]
            ),
            box(x0 - 40, y0 - 130, x0 + 35, y0 - 95),  # crosses the left edge
            box(x0 + 105, y0 - 125, x0 + 165, y0 - 75),  # edges along pixel centres
            box(x0 + 170, y0 - 60, x0 + 250, y0 + 30),  # crosses the top and right edges
            Polygon(
                [(x0 + 40, y0 - 200), (x0 + 95, y0 - 131), (x0 + 160, y0 - 197)]
            ),  # slanted edges, bottom edge
            box(
                x0 + 170, y0 - 200, x0 + 230, y0 - 140
            ),  # edges along pixel edges, touches the bottom
            box(x0 + 40, y0 - 93.5, x0 + 99.7, y0 - 92.9),  # a sliver thinner than a pixel
            box(x0 + 900, y0 - 50, x0 + 950, y0 - 10),  # off the grid
        ],
        dtype=object,
    )


def _dense(geoms, labels, unit, pix, wts):
    dense = np.stack([(labels == k + 1).astype(float) for k in range(len(geoms))])
    np.add.at(dense.reshape(len(geoms), -1), (unit, pix), wts)
    return dense


def test_unit_coverage_matches_shapely_on_edge_cases():
    """Labels on whole pixels plus border records reproduce each unit's exact pixel coverage."""
    from affine import Affine

    from eo_drr.sendai.coverage import unit_coverage

    x0, y0 = 500000.0, 2000000.0
    tr = Affine(10.0, 0, x0, 0, -10.0, y0)
    shape = (20, 22)
    geoms = _edge_case_units(x0, y0)
    assert not shapely.overlaps(geoms[:, None], geoms[None, :]).any()
    ref = _coverage_reference(geoms, tr, shape)
    cov = unit_coverage(geoms, tr, shape)
    labels, row_off, unit, pix, wts = (
        cov.labels(),
        cov.rec_row_off,
        cov.rec_unit,
        cov.rec_pix,
        cov.rec_w,
    )
    assert labels.shape == shape
    np.testing.assert_allclose(_dense(geoms, labels, unit, pix, wts), ref, atol=1e-9)
    # labels exactly on the wholly covered pixels; records only on partly covered ones
    whole = ref > 1 - 1e-9
    assert ((labels > 0) == whole.any(axis=0)).all()
    assert (wts > 1e-9).all() and (wts < 1 - 1e-9).all()
    assert len(pix) == int(((ref > 1e-9) & ~whole).sum())
    assert (unit == 0).sum() == 1 and not (unit == len(geoms) - 1).any()  # one pixel / off the grid
    # records grouped by row, units in order within a row
    assert row_off.shape == (shape[0] + 1,) and row_off[-1] == len(pix)
    np.testing.assert_array_equal(np.repeat(np.arange(shape[0]), np.diff(row_off)), pix // shape[1])
    for r in range(shape[0]):
        assert (np.diff(unit[row_off[r] : row_off[r + 1]]) >= 0).all()
    # spans: grouped by row, non-empty, not touching another span of the same unit
    np.testing.assert_array_equal(
        np.repeat(np.arange(shape[0]), np.diff(cov.span_row_off)), cov.span_row
    )
    assert (cov.span_c1 > cov.span_c0).all()
    same_unit_next = (np.diff(cov.span_unit) == 0) & (np.diff(cov.span_row) == 0)
    assert (cov.span_c0[1:][same_unit_next] > cov.span_c1[:-1][same_unit_next]).all()


def test_unit_coverage_on_another_grid_and_many_vertices():
    """Non-square pixels off the origin, and a ring with many short, nearly horizontal edges
    (long unsorted rows of deltas: the per-row merge sort)."""
    from affine import Affine

    from eo_drr.sendai.coverage import unit_coverage

    tr = Affine(3.0, 0, 1000.0, 0, -2.0, 5000.0)
    shape = (40, 50)
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    wobbly = Polygon(
        np.column_stack([1075 + 60 * np.cos(t), 4960 + 30 * np.sin(t) + 0.3 * np.sin(37 * t)])
    )
    saw = Polygon(
        [(1000.5 + 2.9 * i, 4930.2 + (i % 2) * 0.7) for i in range(50)]
        + [(1142.0, 4925.0), (1000.5, 4925.0)]
    )
    geoms = np.array([wobbly, saw], dtype=object)
    ref = _coverage_reference(geoms, tr, shape)
    cov = unit_coverage(geoms, tr, shape)
    np.testing.assert_allclose(
        _dense(geoms, cov.labels(), cov.rec_unit, cov.rec_pix, cov.rec_w), ref, atol=1e-9
    )


def _pixels_and_cells(rng, shape, aligned, pop_shape, dasym):
    from eo_drr.sendai.footprint import pixels
    from eo_drr.sendai.population import cell_grid

    (h, w), (ph, pw) = shape, pop_shape
    flood = np.where(rng.random((h, w)) < 0.4, 1, 0).astype(np.uint8)
    flood[rng.random((h, w)) < 0.1] = 255
    lc = np.where(rng.random((h, w)) < 0.3, 50, 40).astype(np.uint8)
    lc[rng.random((h, w)) < 0.2] = 10
    px = pixels(flood, 255, lc, None, None, None, (40,), (50,))
    bands = {"total": rng.random((ph, pw)) * 100, "female": rng.random((ph, pw)) * 50}
    cells = cell_grid(px, bands, aligned, dasym, DASYMETRIC_FLOOR)
    return px, cells


@pytest.mark.parametrize("dasym", [False, True])
def test_fused_pass_cell_sums_match_numpy(dasym):
    """Class-code histogram per unit over its spans, per-cell weight sums and single labels
    (labels painted per cell row from the spans), and the flood
    value check of the fused pass, against numpy, on a grid whose population cells stick out
    of the raster on the left and top (negative offsets) and fall short on the right."""
    from eo_drr.kernels import zonal_cpu as K
    from eo_drr.sendai.footprint import code_raster
    from eo_drr.sendai.zonal import InteriorOut, InteriorPass, row_blocks

    rng = np.random.default_rng(7)
    h, w, fx, fy, ox, oy = 57, 63, 5, 4, -2, -3
    ph, pw = 15, 12  # cells cover rows -3..56, columns -2..57
    px, cells = _pixels_and_cells(rng, (h, w), (fx, fy, ox, oy), (ph, pw), dasym)
    labels = np.zeros((h, w), np.uint16)
    labels[5:30, 3:40] = 1
    labels[30:50, 10:60] = 2
    labels[12:14, 45:47] = 3
    rows = row_blocks(h, cells)
    nb = len(rows) - 1
    ncell = ph * pw
    none = (np.zeros(h + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    # the labels as spans (rows in order): runs of one non-zero label
    spans = []
    for r in range(h):
        edges = np.flatnonzero(np.diff(np.r_[0, labels[r], 0]) != 0)
        for c0, c1 in zip(edges[:-1], edges[1:]):
            if labels[r, c0]:
                spans.append((r, labels[r, c0] - 1, c0, c1))
    sp = np.array(spans, np.int64)
    span_args = (
        np.searchsorted(sp[:, 0], np.arange(h + 1)).astype(np.int64),
        sp[:, 1].copy(),
        sp[:, 2].astype(np.int32),
        sp[:, 3].astype(np.int32),
    )

    def run():
        return InteriorPass(
            px.kernel_args(), cells.kernel_args(), True, span_args + none, rows
        ).run(InteriorOut.zeros(nb, 3, ncell, 2, fy, w))

    o = run()
    codes = code_raster(px)
    ref = np.zeros((4, K.N_CODES), np.int64)
    np.add.at(ref, (labels.ravel(), codes.ravel()), 1)
    np.testing.assert_array_equal(o.hist.sum(axis=0), ref[1:])  # label 0 (no unit) is not counted
    assert o.bad.max() <= 1
    wt = np.where((codes & K.BUILT) != 0, 1.0, cells.floor) if dasym else np.ones((h, w))
    rr, cc = np.meshgrid(cells.row, cells.col, indexing="ij")
    inside = (rr >= 0) & (cc >= 0)
    k = (rr * pw + cc)[inside]
    np.testing.assert_allclose(
        o.cell_wsum, np.bincount(k, weights=wt[inside], minlength=ncell), rtol=1e-12
    )
    fl = ((codes & K.FLOODED) != 0)[inside]
    np.testing.assert_allclose(
        o.cell_fsum,
        np.bincount(k, weights=wt[inside] * fl, minlength=ncell),
        rtol=1e-12,
        atol=1e-12,
    )
    lo = np.full(ncell, 10**6)
    hi = np.full(ncell, -1)
    np.minimum.at(lo, k, labels[inside].astype(np.int64))
    np.maximum.at(hi, k, labels[inside].astype(np.int64))
    np.testing.assert_array_equal(o.cell_label, np.where(hi < 0, -1, np.where(lo == hi, lo, -2)))
    px.flood[40, 33] = 7  # a bad flood value is seen by the same pass
    assert run().bad.max() == 7


@pytest.mark.parametrize("want_pop", [False, True])
def test_fast_classes_match_dense_coverage(want_pop):
    """The whole fast path (labels, border records, fused pass with cut cells and records
    placed at each cell row's end) against a dense shapely coverage x numpy class codes and
    dasymetric persons, on the edge-case units plus one overlapping them, over an offset
    population grid."""
    from affine import Affine

    from eo_drr.kernels import zonal_cpu as K
    from eo_drr.sendai.coverage import unit_layers
    from eo_drr.sendai.footprint import code_raster
    from eo_drr.sendai.zonal import fast_classes

    rng = np.random.default_rng(2)
    x0, y0 = 500000.0, 2000000.0
    tr = Affine(10.0, 0, x0, 0, -10.0, y0)
    h, w, fx, fy, ox, oy = 20, 22, 4, 3, -1, -2
    px, cells = _pixels_and_cells(rng, (h, w), (fx, fy, ox, oy), (8, 6), True)
    overlapping = box(x0 + 15, y0 - 150, x0 + 123, y0 - 45)  # over several units: a second layer
    geoms = np.array(list(_edge_case_units(x0, y0)) + [overlapping], dtype=object)
    assert len(unit_layers(geoms)) == 2
    areas, pop, exp = fast_classes(px, cells, tr, geoms, want_pop)
    cov = _coverage_reference(geoms, tr, (h, w))
    codes = code_raster(px)
    onehot = (codes[..., None] == np.arange(K.N_CODES)).astype(float)
    np.testing.assert_allclose(areas, np.einsum("uhw,hwk->uk", cov, onehot), atol=1e-9)
    rr, cc = np.meshgrid(cells.row, cells.col, indexing="ij")
    inside = (rr >= 0) & (cc >= 0)
    wt = np.where((codes & K.BUILT) != 0, 1.0, cells.floor) * inside
    k = np.where(inside, rr * cells.pw + cc, 0)
    wsum = np.bincount(k.ravel(), weights=wt.ravel(), minlength=len(cells.persons))
    per = cells.per_weight(wsum)
    persons = per[k] * wt[..., None]  # (h, w, bands)
    flooded = ((codes & K.FLOODED) != 0)[..., None]
    np.testing.assert_allclose(
        exp, np.einsum("uhw,hwb->ub", cov, persons * flooded), rtol=1e-9, atol=1e-9
    )
    if want_pop:
        np.testing.assert_allclose(
            pop, np.einsum("uhw,hwb->ub", cov, persons), rtol=1e-9, atol=1e-9
        )
    else:
        assert not pop.any()


def test_row_sort_of_deltas():
    """The allocation-free sort of a unit's deltas in ``unit_coverage``'s first pass (counting
    sort by row, insertion runs + merges by column) against numpy's stable sort: values kept
    with their keys, ties in input order, rows with sorted runs inside and up to 257 deltas."""
    from eo_drr.kernels.coverage_cpu import unit_coverage

    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 15, 16, 17, 33, 100, 257):
        rows = np.repeat(np.arange(3), n)[rng.permutation(3 * n)].astype(np.int32) + 2
        cols = rng.integers(0, 40, 3 * n).astype(np.int32)
        cols[: n // 3] = np.arange(n // 3)  # a sorted run inside
        vals = rng.random(3 * n)
        order = np.lexsort((cols, rows))  # stable: ties keep their input order
        want_c, want_v = cols[order], vals[order]
        m = 3 * n
        scols, svals = np.zeros(m, np.int32), np.zeros(m)
        e64, e32 = np.empty(0, np.int64), np.empty(0, np.int32)
        unit_coverage(
            rows, cols.copy(), vals.copy(), np.array([0, m]), np.array([m]), 50,
            np.array([2]), np.array([0, 4]), np.zeros(4, np.int64), np.zeros(4, np.int64), scols, svals,
            np.zeros(4, np.int64), e64, e32, e32, e32, e64, e64, np.empty(0), 0,
        )  # fmt: skip
        np.testing.assert_array_equal(scols, want_c)
        np.testing.assert_array_equal(svals, want_v)


@pytest.mark.parametrize("dasym", [False, True])
def test_tiles_of_a_job_add_up_to_the_untiled_table(demo, dasym):
    """The raster cut into 4 tiles whose borders cut population cells (rows 123, cols 137 of
    a 10-pixel cell grid): per-unit sums over the tiles equal the untiled table, people
    included, when each tile is told the job grid (``job_grid``)."""
    from odc.geo.geobox import GeoBox

    flood, lc, bu = demo["flood"], demo["landcover"], demo["builtup"]
    kw = dict(population=demo["population"], dasymetric=dasym)
    job = GeoBox(flood.shape, flood.rio.transform(), flood.rio.crs)
    # a one-tile job (the raster is the job grid) places people on the 10 m pixels, as the
    # dasymetric default does; evenly spread, that differs from the coverage-weighted sums on
    # the 100 m grid only in cells cut by unit borders
    whole = indicators_by_unit(flood, demo["units"], landcover=lc, builtup=bu, job_grid=job, **kw)
    plain = indicators_by_unit(flood, demo["units"], landcover=lc, builtup=bu, **kw)
    np.testing.assert_allclose(whole["exposed_population"], plain["exposed_population"], rtol=1e-9)
    np.testing.assert_allclose(
        whole["population"], plain["population"], rtol=1e-9 if dasym else 0.05
    )
    h, w = flood.shape
    parts, naive = [], []
    for ys in (slice(0, 123), slice(123, h)):
        for xs in (slice(0, 137), slice(137, w)):
            t = dict(y=ys, x=xs)
            args = (flood.isel(t), demo["units"])
            tkw = dict(landcover=lc.isel(t), builtup=bu.isel(t), **kw)
            parts.append(indicators_by_unit(*args, job_grid=job, **tkw))
            naive.append(indicators_by_unit(*args, **tkw))
    summed = sum(
        p[["flooded_ha", "observed_ha", "population", "exposed_population"]] for p in parts
    )
    for col in ("flooded_ha", "observed_ha"):
        np.testing.assert_allclose(summed[col], whole[col], rtol=1e-9, err_msg=col)
    for col in ("population", "exposed_population"):
        # every cell's persons are conserved across its tiles; evenly spread, each unit's
        # share is exact too; dasymetric weights are only known inside a tile, so a cell
        # cut by a tile border splits by pixel count first: units move < 1 % there
        exact = col == "population" or not dasym
        assert summed[col].sum() == pytest.approx(whole[col].sum(), rel=1e-9 if exact else 0.01), (
            col
        )
        np.testing.assert_allclose(
            summed[col], whole[col], rtol=0.01 if dasym else 1e-9, err_msg=col
        )
    # without the job grid, cells cut by a tile border are counted whole in both tiles
    naive_pop = sum(p["population"] for p in naive).sum()
    assert naive_pop > whole["population"].sum() * 1.01


def test_job_grid_must_contain_the_tile(demo):
    from odc.geo.geobox import GeoBox

    flood = demo["flood"]
    small = GeoBox((10, 10), flood.rio.transform(), flood.rio.crs)
    with pytest.raises(InputError, match="not inside the job grid"):
        indicators_by_unit(flood, demo["units"], population=demo["population"], job_grid=small)


@pytest.mark.parametrize("crs", ["same", "EPSG:4326"])
def test_tiles_add_up_with_a_population_grid_not_aligned_with_the_job(demo, crs):
    """A population grid shifted by half a pixel (or in EPSG:4326): each tile keeps, of a cell
    cut by a tile border, the share of its area inside the tile; the tiles add up to the whole
    job (population exactly, exposed people to the flooded share averaged per part)."""
    from odc.geo.geobox import GeoBox

    flood = demo["flood"]
    pop = demo["population"]["total"]
    if crs == "same":
        tr = pop.rio.transform()
        pop = pop.rio.write_transform(tr @ tr.translation(0.5, 0)).assign_coords(x=pop.x + 5.0)
    else:
        pop = pop.rio.reproject("EPSG:4326", resampling=rasterio.enums.Resampling.sum)
    job = GeoBox(flood.shape, flood.rio.transform(), flood.rio.crs)
    whole = indicators_by_unit(flood, demo["units"], population=pop, job_grid=job)
    h, w = flood.shape
    parts = [
        indicators_by_unit(flood.isel(y=ys, x=xs), demo["units"], population=pop, job_grid=job)
        for ys in (slice(0, 123), slice(123, h))
        for xs in (slice(0, 137), slice(137, w))
    ]
    for col, tol in (("population", 1e-6), ("exposed_population", 0.03)):
        total = sum(p[col] for p in parts)
        assert total.sum() == pytest.approx(whole[col].sum(), rel=tol), col
    naive = sum(
        indicators_by_unit(flood.isel(y=ys, x=xs), demo["units"], population=pop)["population"]
        for ys in (slice(0, 123), slice(123, h))
        for xs in (slice(0, 137), slice(137, w))
    )
    assert naive.sum() > whole["population"].sum() * 1.01  # without job_grid: cut cells count twice


def test_flags_from_a_raster_file_equal_those_from_the_array(demo, tmp_path):
    """The tiled report samples the mosaic file at the facilities: same flags as the array."""
    from shapely.geometry import Point

    path = tmp_path / "flood.tif"
    demo["flood"].rio.to_raster(path)
    pts = demo["facilities"]
    outside = gpd.GeoDataFrame({"type": ["health"]}, geometry=[Point(0, 0)], crs=pts.crs)
    pts = pd.concat([pts, outside], ignore_index=True)
    a = flag_flooded_points(pts, demo["flood"])
    b = flag_flooded_points_in_file(pts, path)
    assert (a["flooded"] == b["flooded"]).all() and (a["observed"] == b["observed"]).all()
    assert not b["observed"].iloc[-1]
