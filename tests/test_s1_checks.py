"""Plausibility checks of Sentinel-1 backscatter (eo_drr.load.s1_checks).

Synthetic scenes run everywhere; the real chips (Sen1Floods11 VV/VH dB GeoTIFFs, OMBRIA 8-bit
PNG patches) run when the shared data folder is present: none of them may be refused or warned
about, and each one given the wrong units or swapped bands must be refused.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from eo_drr.errors import InputError, NoDataError
from eo_drr.load import s1_checks as C
from eo_drr.load.s1_checks import check_backscatter
from eo_drr.load.s1_orbits import orbit_warning

CHIPS = [
    "Ghana_53713",
    "Ghana_83483",
    "Ghana_97059",
    "India_900498",
    "Nigeria_812045",
    "Somalia_699062",
    "Spain_6860600",
    "Sri-Lanka_534068",
    "Spain_7370579",
]
OMBRIA_IDS = [0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 16, 17, 20, 23, 25, 26, 33, 34, 37, 38]


def lin(db):
    return (10.0 ** (np.asarray(db, np.float64) / 10.0)).astype(np.float32)


def scene(seed=0, size=200, water=0.3):
    """Land VV ~ -10 dB, VH ~ 7 dB lower; a water band at VV -20 / VH -27 dB."""
    rng = np.random.default_rng(seed)
    vv = rng.normal(-10, 3, (size, size)).astype(np.float32)
    vv[: int(size * water)] = rng.normal(-20, 2, (int(size * water), size))
    vh = (vv - 7 + rng.normal(0, 1.5, vv.shape)).astype(np.float32)
    return vv, vh


# ---------------------------------------------------------------- synthetic


def test_plausible_scene_passes_and_non_finite_becomes_nan():
    vv, vh = scene()
    vv[0, 0], vv[1, 1], vh[2, 2] = np.inf, -np.inf, np.nan
    keep = vv.copy()
    cvv, cvh, notes = check_backscatter(vv, vh)
    assert notes == [] and cvv.dtype == np.float32 and cvh.dtype == np.float32
    assert np.isnan(cvv[0, 0]) and np.isnan(cvv[1, 1]) and np.isnan(cvh[2, 2])
    assert np.isfinite(cvv).sum() == vv.size - 2
    np.testing.assert_array_equal(vv, keep)  # input untouched: copies are returned
    cvv, cvh, notes = check_backscatter(lin(vv), lin(vh), units="linear")
    assert notes == [] and np.isnan(cvv[0, 0])
    cvv, none, notes = check_backscatter(vv.astype(np.float64))
    assert none is None and notes == [] and cvv.dtype == np.float32


def test_linear_declared_db_is_refused():
    vv, vh = scene()
    with pytest.raises(InputError, match=r"a\.tif.*looks like linear power.*--s1-units linear"):
        check_backscatter(lin(vv), lin(vh), vv_name="a.tif", units_option="--s1-units")
    with pytest.raises(InputError, match="units='linear'"):
        check_backscatter(lin(vv))
    with pytest.raises(InputError, match=r"^vh: .*linear"):  # VH alone is wrong
        check_backscatter(vv, lin(vh))


def test_db_declared_linear_is_refused():
    vv, vh = scene()
    with pytest.raises(InputError, match=r"b\.tif.*looks like dB.*--s1-units db"):
        check_backscatter(vv, vh, units="linear", vv_name="b.tif", units_option="--s1-units")
    with pytest.raises(InputError, match="units='db'"):
        check_backscatter(vv, units="linear")


@pytest.mark.parametrize("units", ["db", "linear"])
def test_swapped_bands_are_refused(units):
    vv, vh = scene()
    if units == "linear":
        vv, vh = lin(vv), lin(vh)
    with pytest.raises(InputError, match=r"vv/vh look swapped \(VH brighter than VV by 7\.\d dB"):
        check_backscatter(vh, vv, units=units)
    with pytest.raises(InputError, match="--s1-bands"):
        check_backscatter(vh, vv, units=units, bands_option="--s1-bands")
    # equal bands (VV - VH ~ 0 dB) are odd but within the margin
    assert check_backscatter(vv, vv, units=units)[2] == []


def test_dark_vv_alone_is_a_warning_not_an_error():
    _, vh = scene(water=0.6)  # VH median about -24 dB
    _, _, notes = check_backscatter(vh, vv_name="x.tif")  # VH given as VV
    assert len(notes) == 1 and "x.tif" in notes[0] and "VV median -2" in notes[0]
    assert "check the band order" in notes[0]
    assert len(check_backscatter(lin(vh), units="linear")[2]) == 1
    water = np.random.default_rng(1).normal(-22, 2, (50, 50))  # an all-water VV scene
    assert len(check_backscatter(water)[2]) == 1
    assert check_backscatter(scene()[0])[2] == []


def test_no_finite_pixel_raises_no_data():
    bad = np.full((10, 10), np.inf, np.float32)
    bad[::2] = -np.inf
    bad[0, 0] = np.nan
    with pytest.raises(NoDataError, match="^my.tif: all pixels are nodata"):
        check_backscatter(bad, vv_name="my.tif")
    vv, _ = scene(size=10)
    # an empty VH is not fatal: the map falls back to VV alone, and says so
    out_vv, out_vh, notes = check_backscatter(vv, np.full_like(vv, np.nan))
    assert out_vh is None and np.array_equal(out_vv, vv) and "uses VV alone" in notes[0]


def test_uncalibrated_values_refused():
    """Amplitude counts / digital numbers declared as dB or as linear power."""
    counts = np.random.default_rng(1).uniform(50, 1000, (32, 32)).astype(np.float32)
    with pytest.raises(InputError, match="far too bright for backscatter in dB"):
        check_backscatter(counts)
    with pytest.raises(InputError, match="far too large for linear backscatter"):
        check_backscatter(counts, units="linear")


def test_other_errors_and_sampling(monkeypatch):
    vv, vh = scene()
    with pytest.raises(InputError, match="vh: shape"):
        check_backscatter(vv, vh[:10])
    with pytest.raises(InputError, match="--s1-units: use db or linear"):
        check_backscatter(vv, units="dB", units_option="--s1-units")
    monkeypatch.setattr(C, "SAMPLE", 1000)  # statistics from a strided sample
    assert check_backscatter(vv, vh)[2] == []
    with pytest.raises(InputError, match="swapped"):
        check_backscatter(vh, vv)
    few = np.full((100, 100), np.nan, np.float32)
    few[0, 1] = -10.0  # the sample misses the one valid pixel: nothing to judge, no error
    assert np.isfinite(check_backscatter(few)[0]).sum() == 1


def test_orbit_warning():
    assert orbit_warning([{}], {}) is None
    assert orbit_warning([{"RELATIVE_ORBIT": "87"}], {"relative_orbit": 87}) is None
    assert orbit_warning([{"RELATIVE_ORBIT": "87"}], {"AREA_OR_POINT": "Area"}) is None
    assert orbit_warning([{"sat:relative_orbit": "87"}, {}], {"SAT_RELATIVE_ORBIT": "87.0"}) is None
    w = orbit_warning(
        [{"relativeOrbitNumber": "87"}, {"RELATIVE_ORBIT": " 14 "}], {"sat:relative_orbit": "87"}
    )
    assert w is not None and "relative orbit 14" in w and "from 87" in w
    assert "different viewing geometry" in w and "change-based parts are less reliable" in w
    assert orbit_warning([{"track": "12"}], {"pathNumber": "14"}) is not None
    # "sat:relative_orbit=14" as GDAL reads it back from a GeoTIFF
    assert "orbit 14" in orbit_warning([{"sat": "relative_orbit=14"}], {"RELATIVE_ORBIT": "87"})
    assert orbit_warning([{"RELATIVE_ORBIT": "n/a"}], {"RELATIVE_ORBIT": "14"}) is None


# ---------------------------------------------------------------- real chips


def read_chip(root, chip):
    import rasterio

    sub = "sen1floods11-sample" if chip == "Spain_7370579" else "sen1floods11-chips/S1Hand"
    with rasterio.open(root / sub / f"{chip}_S1Hand.tif") as src:
        vv, vh = src.read().astype(np.float32)
    return vv, vh


@pytest.mark.parametrize("chip", CHIPS)
def test_real_sen1floods11_chip(shared_data, chip):
    vv, vh = read_chip(shared_data, chip)
    for units, a, b in (("db", vv, vh), ("linear", lin(vv), lin(vh))):
        for pair in ((a, b), (a, None)):
            out_vv, _, notes = check_backscatter(*pair, units=units)
            assert notes == [], (units, notes)
            np.testing.assert_array_equal(np.isnan(out_vv), np.isnan(vv))
        with pytest.raises(InputError, match="swapped"):
            check_backscatter(b, a, units=units)
    with pytest.raises(InputError, match="looks like linear power"):
        check_backscatter(lin(vv), lin(vh), units="db")
    with pytest.raises(InputError, match="looks like dB"):
        check_backscatter(vv, vh, units="linear")


def test_real_dark_vh_given_as_vv_is_warned(shared_data):
    warned = [c for c in CHIPS if check_backscatter(read_chip(shared_data, c)[1])[2]]
    # the first three by their dark median, Spain_7370579 by its land mode (-16 dB)
    assert warned == ["India_900498", "Nigeria_812045", "Sri-Lanka_534068", "Spain_7370579"]


def test_real_all_nan_chip(shared_data):
    with pytest.raises(NoDataError, match="all pixels are nodata"):
        check_backscatter(*read_chip(shared_data, "Paraguay_34417"))


@pytest.mark.parametrize("when,idx", [(w, i) for w in ("BEFORE", "AFTER") for i in OMBRIA_IDS])
def test_real_ombria_patch(shared_data, when, idx):
    import rasterio

    name = f"im{when.lower()}_{idx}.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(shared_data / "ombria-guyana-2021" / "Sentinel1" / when / name) as src:
            dn = src.read(1).astype(np.float32)
    db = np.where(dn == 0, np.nan, -30.0 + dn * 30.0 / 255.0).astype(np.float32)
    assert check_backscatter(db, vv_name=name)[2] == []
    assert check_backscatter(lin(db), units="linear")[2] == []
    with pytest.raises(InputError, match=f"{name}.*looks like linear power"):
        check_backscatter(lin(db), vv_name=name)
    with pytest.raises(InputError, match="looks like dB"):
        check_backscatter(db, units="linear")
