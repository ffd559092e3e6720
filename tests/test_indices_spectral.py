"""Spectral indices (eo_drr.indices) against numpy references, on every backend, and on the
real Sentinel-2 crop in ../shared/data/s2-xrspatial-patagonia."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import eo_drr.indices as I
from eo_drr.errors import InputError
from eo_drr.indices import spectral
from eo_drr.settings import shared_data_dir

S2_BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"]
COMMON = {
    "B01": "coastal",
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B05": "rededge1",
    "B06": "rededge2",
    "B07": "rededge3",
    "B08": "nir",
    "B8A": "nir08",
    "B09": "nir09",
    "B11": "swir16",
    "B12": "swir22",
}


def dn_scene(shape=(37, 53), seed=0, zeros=0.05):
    """Raw uint16 DN bands (reflectance x 10 000) with some nodata zeros."""
    rng = np.random.default_rng(seed)
    ds = xr.Dataset(
        {b: (("y", "x"), rng.integers(1, 10000, shape).astype(np.uint16)) for b in S2_BANDS},
        coords={"y": np.arange(shape[0]) * -10.0, "x": np.arange(shape[1]) * 10.0},
    )
    if zeros:
        for b in ("B03", "B08"):
            v = ds[b].values
            v[rng.random(shape) < zeros] = 0
    return ds


def refl(ds, band, scale=1e-4, offset=0.0):
    v = ds[band].values.astype(np.float64)
    return v * scale + offset


def nodata_mask(ds, bands):
    return np.any([ds[b].values == 0 for b in bands], axis=0)


def ref_nd(a, b):
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a - b) / (a + b)


ND_CASES = {
    "ndwi": ("B03", "B08"),
    "mndwi": ("B03", "B11"),
    "ndvi": ("B08", "B04"),
    "ndbi": ("B11", "B08"),
    "ndti": ("B11", "B12"),
}


# ---------------------------------------------------------------- numpy references


@pytest.mark.parametrize("name", list(ND_CASES))
def test_normalized_differences_match_numpy(name):
    ds = dn_scene()
    a, b = ND_CASES[name]
    out = getattr(I, name)(ds[a].values, ds[b].values)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    ref = ref_nd(refl(ds, a), refl(ds, b))
    ref[nodata_mask(ds, [a, b])] = np.nan
    np.testing.assert_allclose(out, ref, rtol=2e-6, atol=1e-6)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))


def test_bui_bsi_awei_tc_wofs_match_numpy():
    ds = dn_scene(seed=1)
    r = {b: refl(ds, b) for b in S2_BANDS}
    bad = nodata_mask(ds, S2_BANDS)

    def check(out, ref, bands):
        ref = ref.copy()
        ref[nodata_mask(ds, bands)] = np.nan
        np.testing.assert_allclose(out, ref, rtol=2e-5, atol=2e-6)
        np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))

    check(
        I.bui(ds.B11.values, ds.B08.values, ds.B04.values),
        ref_nd(r["B11"], r["B08"]) - ref_nd(r["B08"], r["B04"]),
        ["B11", "B08", "B04"],
    )
    check(
        I.bsi(ds.B02.values, ds.B04.values, ds.B08.values, ds.B11.values),
        ref_nd(r["B11"] + r["B04"], r["B08"] + r["B02"]),
        ["B02", "B04", "B08", "B11"],
    )
    # Feyisa et al. (2014) eqs. 1-2: additions, not the widely copied product
    check(
        I.awei_nsh(ds),
        4 * (r["B03"] - r["B11"]) - (0.25 * r["B08"] + 2.75 * r["B12"]),
        ["B03", "B08", "B11", "B12"],
    )
    check(
        I.awei_sh(ds),
        r["B02"] + 2.5 * r["B03"] - 1.5 * (r["B08"] + r["B11"]) - 0.25 * r["B12"],
        ["B02", "B03", "B08", "B11", "B12"],
    )
    crist = I.TC_COEFFICIENTS["crist1985"]
    six = ["B02", "B03", "B04", "B08", "B11", "B12"]
    for comp, row in zip(("brightness", "greenness", "wetness"), crist):
        check(I.tasseled_cap(ds, comp, "crist1985"), sum(c * r[b] for c, b in zip(row, six)), six)
    ned = I.TC_COEFFICIENTS["nedkov2017"]
    order = [
        "B01",
        "B02",
        "B03",
        "B04",
        "B05",
        "B06",
        "B07",
        "B08",
        "B09",
        "B10",
        "B11",
        "B12",
        "B8A",
    ]
    for comp, row in zip(("brightness", "greenness", "wetness"), ned):
        ref = sum(c * r[b] for c, b in zip(row, order) if b != "B10")  # no B10 in this scene
        check(getattr(I, f"tc_{comp}")(ds), ref, S2_BANDS)
    assert bad.any()


def test_tc_nedkov_uses_b10_when_present():
    ds = dn_scene(seed=2, zeros=0)
    ds["B10"] = ds["B01"] * 0 + 500
    without = I.tc_brightness(ds.drop_vars("B10"))
    with_b10 = I.tc_brightness(ds)
    np.testing.assert_allclose(with_b10 - without, 0.0009 * 0.05, atol=1e-6)


def test_wofs_tree_matches_a_vectorised_transcription():
    """Mueller et al. (2016) tree, transcribed independently with numpy masks."""
    rng = np.random.default_rng(3)
    n = 20000
    # draw bands around the tree's thresholds (reflectance x 1e4)
    b1, b2, b3, b4, b5, b7 = (rng.uniform(0, 3000, n) for _ in range(6))
    b1[: n // 2] = rng.uniform(0, 600, n // 2)
    b7[: n // 4] = rng.uniform(0, 600, n // 4)
    ndi52, ndi43, ndi72 = ref_nd(b5, b2), ref_nd(b4, b3), ref_nd(b7, b2)
    w = np.zeros(n)
    L = ndi52 <= -0.01
    t = L & (b1 <= 2083.5)
    w[t & (b7 <= 323.5) & (ndi43 <= 0.61)] = 1
    t2 = t & (b7 > 323.5)
    w[t2 & (b1 > 1400.5) & (ndi43 <= -0.01)] = 1
    t3 = t2 & (b1 <= 1400.5)
    w[t3 & (ndi72 > -0.23) & (b1 <= 379)] = 1
    t4 = t3 & (ndi72 <= -0.23)
    w[t4 & ((ndi43 <= 0.22) | (b1 <= 473))] = 1
    R = ~L & (ndi52 <= 0.23) & (b1 <= 334.5) & (ndi43 <= 0.54)
    w[R & (ndi52 <= 0.12)] = 1
    R2 = R & (ndi52 > 0.12)
    w[R2 & (b3 <= 364.5) & (b1 <= 129.5)] = 1
    w[R2 & (b3 > 364.5) & (b1 <= 300.5)] = 1
    R3 = ~L & (ndi52 > 0.23) & (ndi52 <= 0.34) & (b1 <= 249.5) & (ndi43 <= 0.45) & (b3 <= 364.5)
    w[R3 & (b1 <= 129.5)] = 1
    names = ("blue", "green", "red", "nir", "swir16", "swir22")
    bands = {n: v.astype(np.float32) for n, v in zip(names, (b1, b2, b3, b4, b5, b7))}
    out = I.wofs(bands, scale=1e-4)
    agree = out == w
    # float32 inputs may sit within rounding of a threshold: allow a handful
    assert agree.mean() > 0.999 and 0.05 < w.mean() < 0.95


def test_float_inputs_default_to_reflectance_and_offset_applies():
    g = np.array([[0.10, 0.05]], np.float32)
    n = np.array([[0.30, 0.05]], np.float32)
    np.testing.assert_allclose(I.ndwi(g, n), [[-0.5, 0.0]], atol=1e-6)
    gi = np.array([[2000]], np.uint16)
    ni = np.array([[4000]], np.uint16)
    np.testing.assert_allclose(I.ndwi(gi, ni), [[-1 / 3]], rtol=1e-6)
    # processing baseline >= 04.00: reflectance = DN / 1e4 - 0.1
    np.testing.assert_allclose(I.ndwi(gi, ni, offset=-0.1), [[(0.1 - 0.3) / 0.4]], rtol=1e-6)
    np.testing.assert_allclose(I.awei_nsh(gi, ni, gi, gi), [[-0.25 * 0.4 - 2.75 * 0.2]], rtol=1e-5)
    assert np.isnan(I.ndwi(np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32))[0, 0])


def test_ndti_reflectance_nan_and_zero_denominator():
    """NDTI (van Deventer et al. 1997) on reflectance 0-1 with NaN nodata, against numpy."""
    rng = np.random.default_rng(11)
    s1 = rng.uniform(0.0, 0.5, (3, 17, 19)).astype(np.float32)
    s2 = rng.uniform(0.0, 0.5, (3, 17, 19)).astype(np.float32)
    s1[0, :3] = np.nan
    s2[1, :, :2] = np.nan
    s1[2, 5, 5] = s2[2, 5, 5] = 0.0  # zero denominator
    out = I.ndti(s1, s2)
    assert out.dtype == np.float32 and out.shape == s1.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = (s1.astype(np.float64) - s2) / (s1.astype(np.float64) + s2)
    ref[~np.isfinite(ref)] = np.nan
    np.testing.assert_allclose(out, ref, rtol=2e-6, atol=1e-6)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    # residue / dry grass above 0.1, soil below (the WIT dry-vegetation rule)
    np.testing.assert_allclose(
        I.ndti(np.float32([[0.35, 0.42]]), np.float32([[0.26, 0.38]])),
        [[0.09 / 0.61, 0.04 / 0.80]],
        rtol=1e-6,
    )
    lazy = I.ndti(da.from_array(s1, chunks=(1, 8, 8)), da.from_array(s2, chunks=(1, 8, 8)))
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), out)
    legacy = xr.Dataset({"swir1": (("y", "x"), s1[0]), "swir2": (("y", "x"), s2[0])})
    np.testing.assert_array_equal(I.ndti(legacy).values, out[0])


def test_nodata_argument_and_no_uint16_wrap():
    g = np.array([65535, 100, 7], np.uint16)
    n = np.array([1, 65535, 7], np.uint16)
    out = I.ndwi(g, n)
    np.testing.assert_allclose(out[:2], [(65535 - 1) / 65536, (100 - 65535) / 65635], rtol=1e-6)
    assert np.isnan(I.ndwi(g, n, nodata=7)[2]) and not np.isnan(I.ndwi(g, n)[2])
    assert not np.isnan(I.ndwi(g, n, nodata=-9999)).any()  # not representable: never matches
    f = np.array([0.2, -9999.0], np.float32)
    assert np.isnan(I.ndvi(f, f, nodata=-9999)[1])


# ---------------------------------------------------------------- backends


@pytest.mark.parametrize("name", sorted(spectral.INDICES))
def test_dask_and_xarray_equal_numpy(name):
    ds = dn_scene(seed=4)
    ref = I.compute(name, ds)
    assert isinstance(ref, xr.DataArray) and ref.name == name and ref.dtype == np.float32
    assert ref.dims == ("y", "x")
    np.testing.assert_array_equal(ref.x.values, ds.x.values)
    lazy = I.compute(name, ds.chunk({"y": 10, "x": 17}))
    assert isinstance(lazy.data, da.Array)
    np.testing.assert_array_equal(lazy.values, ref.values)
    mixed = {
        COMMON[b]: da.from_array(ds[b].values, chunks=(c, 11))
        for c, b in zip((7, 9, 12, 5, 8, 6, 10, 13, 11, 9, 7, 8), S2_BANDS)
    }
    out = I.compute(name, mixed)
    assert isinstance(out, da.Array)
    np.testing.assert_array_equal(out.compute(), ref.values)


def test_xarray_keeps_crs_and_attrs():
    pytest.importorskip("rioxarray")
    ds = dn_scene()
    g = ds.B03.assign_attrs(units="DN", _FillValue=0).rio.write_crs(32719)
    n = ds.B08.rio.write_crs(32719)
    out = I.ndwi(g, n)
    assert out.rio.crs.to_epsg() == 32719 and out.attrs["units"] == "DN"
    assert np.isnan(out.attrs["_FillValue"]) and out.name == "ndwi"


def test_dataset_band_names_and_errors():
    ds = dn_scene().rename({b: COMMON[b] for b in S2_BANDS})
    np.testing.assert_array_equal(I.ndwi(ds).values, I.ndwi(ds.green.values, ds.nir.values))
    legacy = xr.Dataset({"green": ds.green, "nir": ds.nir, "swir1": ds.swir16})
    np.testing.assert_array_equal(I.mndwi(legacy).values, I.mndwi(ds).values)
    with pytest.raises(InputError, match="swir16: band missing for mndwi"):
        I.mndwi(xr.Dataset({"green": ds.green}))
    with pytest.raises(InputError, match="nir: band missing"):
        I.ndwi(ds.green.values)
    with pytest.raises(InputError, match="not both"):
        I.ndwi(ds, ds.nir)
    with pytest.raises(InputError, match="green and nir: shapes differ"):
        I.ndwi(np.ones((3, 3), np.float32), np.ones((3, 4), np.float32))
    with pytest.raises(InputError, match="same array type"):
        I.ndwi(np.ones((3, 3), np.float32), da.ones((3, 3), dtype=np.float32))
    with pytest.raises(InputError, match="scale"):
        I.ndwi(np.ones(3, np.uint16), np.ones(3, np.float32))
    with pytest.raises(InputError, match="nir"):
        I.ndwi(np.ones(3, np.float32), np.array(["a", "b", "c"]))
    with pytest.raises(InputError, match="component"):
        I.tasseled_cap(ds, "yellowness")
    with pytest.raises(InputError, match="coefficients"):
        I.tasseled_cap(ds, "brightness", "huang2002")
    with pytest.raises(InputError, match="bands"):
        I.tasseled_cap(ds.green)


def test_compute_unknown_name_lists_known():
    with pytest.raises(InputError, match="unknown index 'ndsi'.*awei_nsh.*ndwi.*wofs"):
        I.compute("ndsi", np.ones(3))
    assert I.compute("NDWI", np.ones(2, np.float32), np.ones(2, np.float32)).tolist() == [0, 0]


# ---------------------------------------------------------------- properties

refl_or_nan = st.one_of(st.floats(0.0, 1.5, width=32), st.just(np.nan))
pairs = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        hnp.arrays(np.float32, n, elements=refl_or_nan),
        hnp.arrays(np.float32, n, elements=refl_or_nan),
    )
)


@settings(max_examples=100, deadline=None)
@given(pairs, st.sampled_from(["ndwi", "mndwi", "ndvi", "ndbi", "ndti"]))
def test_property_normalized_difference_in_range_and_nan_exactly_at_nodata(ab, name):
    a, b = ab
    out = I.compute(name, a, b)
    expect_nan = np.isnan(a) | np.isnan(b) | ((a + b) == 0)
    np.testing.assert_array_equal(np.isnan(out), expect_nan)
    ok = out[~expect_nan]
    assert np.all(ok >= -1.0) and np.all(ok <= 1.0)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.uint16, st.tuples(st.integers(1, 9), st.integers(1, 9)), elements=st.integers(0, 65535)
    ),
    st.integers(0, 65535),
)
def test_property_bsi_bui_ranges_and_nodata_uint16(x, c):
    y = np.full_like(x, c)
    nod = (x == 0) | (y == 0)
    bui = I.bui(x, y, x)
    np.testing.assert_array_equal(np.isnan(bui), nod)  # denominators > 0 elsewhere
    ok = bui[~nod]
    assert np.all(ok >= -2.0) and np.all(ok <= 2.0)
    bsi = I.bsi(x, y, y, x[::-1, ::-1])
    np.testing.assert_array_equal(np.isnan(bsi), nod | (x[::-1, ::-1] == 0))
    ok = bsi[~np.isnan(bsi)]
    assert np.all(ok >= -1.0) and np.all(ok <= 1.0)


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def patagonia():
    path = shared_data_dir() / "s2-xrspatial-patagonia"
    if not (path / "blue_band.nc").exists():
        pytest.skip(f"real Sentinel-2 crop not found at {path} (set EO_DRR_SHARED_DATA)")
    bands = {
        n: xr.open_dataarray(path / f"{n}_band.nc")
        for n in ("blue", "green", "red", "nir", "swir1", "swir2")
    }
    # PROVENANCE.md: the 20 m SWIR rasters cover 4x the area; only their upper-left quarter
    # overlaps the 10 m bands. Take it and repeat each pixel 2x2 onto the 10 m grid.
    for n in ("swir1", "swir2"):
        v = bands[n].values[:100, :150]
        bands[n] = bands["blue"].copy(data=np.repeat(np.repeat(v, 2, axis=0), 2, axis=1))
    return xr.Dataset(bands)  # values are reflectance x 10 000 as float64: scale=1e-4


@pytest.mark.shared_data
def test_real_s2_crop_physically_sensible(patagonia):
    ds = patagonia  # NB: its "nir" is band 7 (PROVENANCE.md), a NIR-ish red-edge band
    # the 13-band Nedkov tasseled cap needs bands this crop lacks: Crist's 6-band one instead
    out = {
        name: I.compute(name, ds, scale=1e-4)
        for name in spectral.INDICES
        if not name.startswith("tc_")
    }
    for name, arr in out.items():
        assert arr.shape == (200, 300) and not np.isnan(arr.values).any(), name
    for name in ("ndwi", "mndwi", "ndvi", "ndbi", "bsi"):
        v = out[name].values
        assert v.min() >= -1 and v.max() <= 1, name
    med = {name: float(np.median(arr)) for name, arr in out.items()}
    # dry Patagonian steppe: sparse vegetation, no open water, bright bare soil
    assert 0.0 < med["ndvi"] < 0.3
    assert med["ndwi"] < 0 and med["mndwi"] < 0
    assert med["ndbi"] > 0 and med["bsi"] > 0
    assert med["awei_nsh"] < 0 and med["awei_sh"] < 0
    assert out["wofs"].values.mean() < 0.01
    tcb = I.tc_brightness(ds, "crist1985", scale=1e-4).values
    assert 0.1 < np.median(tcb) < 1.0  # reflectance-weighted sum of six bands
    # scale invariance of normalised differences, not of AWEI
    np.testing.assert_allclose(I.ndvi(ds, scale=1.0), out["ndvi"], rtol=1e-5, atol=1e-6)
    assert not np.allclose(I.awei_sh(ds, scale=1.0), out["awei_sh"])


def test_wofs_branch_free_form_equals_the_tree():
    """The CPU kernel evaluates the tree as boolean algebra (``wofs_select_of``); it must give
    the tree's (``wofs_of``) answer everywhere, thresholds hit exactly included."""
    import numba

    from eo_drr.kernels import _scalar

    @numba.njit
    def both(a):
        n = a.shape[1]
        o1 = np.empty(n)
        o2 = np.empty(n)
        for k in range(n):
            o1[k] = _scalar.wofs_of(a[0, k], a[1, k], a[2, k], a[3, k], a[4, k], a[5, k])
            o2[k] = _scalar.wofs_select_of(a[0, k], a[1, k], a[2, k], a[3, k], a[4, k], a[5, k])
        return o1, o2

    rng = np.random.default_rng(5)
    n = 400_000
    a = rng.uniform(0, 3000, (6, n))
    a[0, : n // 2] = rng.uniform(0, 600, n // 2)
    a[5, : n // 4] = rng.uniform(0, 600, n // 4)
    blue_thr = [2083.5, 1400.5, 379.0, 473.0, 334.5, 129.5, 300.5, 249.5]
    a[0, ::7] = rng.choice(blue_thr, a[0, ::7].size)
    a[2, ::5] = 364.5
    a[5, ::11] = 323.5
    a[:, ::13] = 0.0  # 0/0 normalised differences: NaN
    o1, o2 = both(a)
    np.testing.assert_array_equal(o1, o2)
    assert 0.1 < np.nanmean(o1) < 0.9 and np.isnan(o1).any()
    # and as plain Python (register_jitable functions run uncompiled too)
    for k in range(0, n, 997):
        args = [float(v) for v in a[:, k]]
        t, s = _scalar.wofs_of(*args), _scalar.wofs_select_of(*args)
        assert (t == s) or (np.isnan(t) and np.isnan(s))
