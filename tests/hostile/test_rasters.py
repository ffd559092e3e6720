"""Hostile rasters against ``eo-drr water``, ``eo-drr flood`` and ``eo-drr growth``: non-finite
pixels, wrong units, swapped or mislabelled bands, degenerate scenes, broken and lying TIFFs,
8-bit ranges, wrong georeferencing, terrain layers that do not fit, and a property-based
test of TIFF headers."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.transform import Affine

from hostile.helpers import (
    block_ranges,
    cli,
    crafted_tiff,
    one_error,
    partial_files,
    synthetic_s1,
    write_s1,
)

LAKE = (slice(16, 40), slice(16, 40))  # the lake of synthetic_s1()


def _read(path):
    with rasterio.open(path) as f:
        return f.read(1)


def _warnings(res) -> list[str]:
    return [ln for ln in res.stderr.splitlines() if ln.lower().startswith("warning")]


# ---------------------------------------------------------------- non-finite pixels


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan], ids=["+inf", "-inf", "nan"])
def test_non_finite_pixels_are_no_data(tmp_path, value):
    """The issue's crash: one +-inf pixel ended the process with a segmentation fault."""
    vv, vh = synthetic_s1()
    vv[3, 3], vh[7, 7], vv[20, 20] = value, value, value
    out = tmp_path / "w.tif"
    res = cli("water", "--s1", write_s1(tmp_path / "s1.tif", vv, vh), "--out", out)
    assert res.returncode == 0, res.stderr
    water = _read(out)
    assert water[3, 3] == 255 and water[20, 20] == 255
    assert (water[LAKE] == 1).mean() > 0.8 and (water == 1).sum() < 0.2 * water.size


def test_all_pixels_infinite_is_refused(eo, tmp_path):
    vv = np.full((64, 64), np.inf, np.float32)
    vv[::2] = -np.inf
    src = write_s1(tmp_path / "allinf.tif", vv)
    out = tmp_path / "w.tif"
    one_error(eo("water", "--s1", src, "--out", out), "allinf.tif", "all pixels are nodata")
    assert not out.exists() and partial_files(tmp_path) == []


# ---------------------------------------------------------------- units and bands


def test_linear_declared_db_is_refused(tmp_path):
    vv, vh = synthetic_s1()
    src = write_s1(tmp_path / "linear.tif", 10 ** (vv / 10), 10 ** (vh / 10))
    out = tmp_path / "w.tif"
    one_error(
        cli("water", "--s1", src, "--out", out),
        "linear.tif",
        "looks like linear power",
        "--s1-units linear",
    )
    assert not out.exists()


def test_db_declared_linear_is_refused(eo, tmp_path, good_s1):
    out = tmp_path / "w.tif"
    one_error(
        eo("water", "--s1", good_s1, "--out", out, "--s1-units", "linear"),
        "good.tif",
        "looks like dB",
        "--s1-units db",
    )
    assert not out.exists()


def test_swapped_bands_are_refused(eo, tmp_path):
    vv, vh = synthetic_s1()
    src = write_s1(tmp_path / "swapped.tif", vh, vv)  # VH in the band called VV
    out = tmp_path / "w.tif"
    one_error(eo("water", "--s1", src, "--out", out), "swapped.tif", "look swapped", "--s1-bands")
    assert not out.exists()


def test_vh_alone_labelled_vv_is_flagged(tmp_path):
    """The issue: VH alone, labelled VV, over a mostly-land scene went through without a word
    (its median, -16 dB, is within the range of real VV). Its land mode is what gives it away
    (s1_checks: land below -15 dB with a water mode 6 dB darker): a warning, and the map."""
    _, vh = synthetic_s1()
    src = write_s1(tmp_path / "vh_as_vv.tif", vh)
    out = tmp_path / "w.tif"
    res = cli("water", "--s1", src, "--out", out)
    assert res.returncode == 0, res.stderr
    assert any(
        "vh_as_vv.tif" in w
        and "VH labelled VV" in w
        and "check the band order" in w
        and "--s1-bands" in w
        for w in _warnings(res)
    ), res.stderr
    assert out.exists() and partial_files(tmp_path) == []


def _real_vv(root) -> dict[str, np.ndarray]:
    """Every real single-polarisation VV raster of the shared data, in dB: the Sen1Floods11
    chips (band 1), the OSCD city images, the OMBRIA patches (DN 1..255 read as -30..0 dB)."""
    import warnings

    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        for f in sorted(root.glob("sen1floods11-*/**/*_S1Hand.tif")):
            if "Paraguay" not in f.name:  # all NaN: refused as no data, tested elsewhere
                found[f.name] = _read(f).astype(np.float32)
        for f in sorted(root.glob("oscd-urban-change/*/s1_vv_db_*.tif")):
            found[f"{f.parent.name}/{f.name}"] = _read(f).astype(np.float32)
        for f in sorted(root.glob("ombria-guyana-2021/Sentinel1/*/*.png")):
            dn = _read(f).astype(np.float32)
            found[f.name] = np.where(dn == 0, np.nan, -30 + dn * 30 / 255).astype(np.float32)
    return found


def test_vh_land_rule_is_silent_on_every_real_vv(shared_data, small_demo_scene):
    """No false alarm: no real VV raster of ../shared/data (9 Sen1Floods11 chips, 22 OSCD
    images, 40 OMBRIA patches) nor any VV of the demo scene is warned about, in dB or in linear
    power; the real VH band of Spain_7370579 read as VV is."""
    from eo_drr.load.s1_checks import check_backscatter

    real = _real_vv(shared_data)
    assert len(real) == 9 + 22 + 40, sorted(real)
    for name, db in real.items():
        assert check_backscatter(db, vv_name=name)[2] == [], name
        lin = (10 ** (db.astype(np.float64) / 10)).astype(np.float32)
        assert check_backscatter(lin, units="linear", vv_name=name)[2] == [], name
    demo = sorted(small_demo_scene.root.rglob("vv.tif"))
    assert demo
    for f in demo:
        with rasterio.open(f) as src:
            lin = src.read(1, masked=True).astype(np.float32).filled(np.nan)
        assert check_backscatter(lin, units="linear", vv_name=str(f))[2] == [], f
    with rasterio.open(shared_data / "sen1floods11-sample" / "Spain_7370579_S1Hand.tif") as src:
        vh = src.read(2)
    (note,) = check_backscatter(vh, vv_name="Spain_7370579")[2]
    assert "VH labelled VV" in note and "-16 dB" in note


def test_dark_single_band_is_warned(tmp_path):
    """A VV-only raster as dark as VH (mostly water): a warning naming the file, a map."""
    rng = np.random.default_rng(3)
    vv = rng.normal(-24, 2, (64, 64)).astype(np.float32)
    vv[:, 40:] = rng.normal(-15, 2, (64, 24))
    src = write_s1(tmp_path / "dark.tif", vv)
    out = tmp_path / "w.tif"
    res = cli("water", "--s1", src, "--out", out)
    assert res.returncode == 0, res.stderr
    assert any("dark.tif" in w and "check the band order" in w for w in _warnings(res)), res.stderr
    assert out.exists()


def test_unknown_units_and_band_names_are_refused(eo, tmp_path, good_s1):
    out = tmp_path / "w.tif"
    one_error(eo("water", "--s1", good_s1, "--out", out, "--s1-units", "dB"), "--s1-units", "'dB'")
    one_error(
        eo("water", "--s1", good_s1, "--out", out, "--s1-bands", "VV"), "--s1-bands", "good.tif"
    )
    one_error(
        eo("water", "--s1", good_s1, "--out", out, "--s1-bands", "HH,HV"), "good.tif", "no VV band"
    )
    assert not out.exists()


def test_digital_numbers_are_refused(eo, tmp_path):
    dn = np.random.default_rng(1).uniform(50, 1000, (64, 64)).astype(np.float32)
    out = tmp_path / "w.tif"
    one_error(
        eo("water", "--s1", write_s1(tmp_path / "dn.tif", dn), "--out", out),
        "dn.tif",
        "far too bright",
    )
    assert not out.exists()


# ---------------------------------------------------------------- degenerate scenes


def test_all_water_scene_is_all_water_and_warned(tmp_path):
    """The issue: an all-water scene gave a map of zeros."""
    rng = np.random.default_rng(0)
    vv = rng.normal(-21, 1.5, (64, 64)).astype(np.float32)
    vh = (vv - 6 + rng.normal(0, 1, vv.shape)).astype(np.float32)
    out = tmp_path / "w.tif"
    res = cli("water", "--s1", write_s1(tmp_path / "lake.tif", vv, vh), "--out", out)
    assert res.returncode == 0, res.stderr
    assert (_read(out) == 1).mean() > 0.95
    assert any("mapped as water" in w for w in _warnings(res)), res.stderr


def test_all_land_scene_maps_no_water_and_says_why(tmp_path):
    rng = np.random.default_rng(0)
    vv = rng.normal(-9, 2, (64, 64)).astype(np.float32)
    vh = (vv - 7 + rng.normal(0, 1, vv.shape)).astype(np.float32)
    out = tmp_path / "w.tif"
    res = cli("water", "--s1", write_s1(tmp_path / "land.tif", vv, vh), "--out", out)
    assert res.returncode == 0, res.stderr
    assert (_read(out) == 1).sum() == 0
    assert any("No clear water/land contrast" in w for w in _warnings(res)), res.stderr


def test_constant_image_maps_and_warns(tmp_path):
    vv = np.full((64, 64), -12.0, np.float32)
    out = tmp_path / "w.tif"
    res = cli("water", "--s1", write_s1(tmp_path / "flat.tif", vv, vv - 7), "--out", out)
    assert res.returncode == 0, res.stderr
    assert set(np.unique(_read(out))) <= {0, 255}
    assert any("No clear water/land contrast" in w for w in _warnings(res)), res.stderr


@pytest.mark.parametrize("size", [1, 8])
def test_tiny_image_is_refused(eo, tmp_path, size):
    vv, vh = synthetic_s1()
    out = tmp_path / "w.tif"
    src = write_s1(tmp_path / "tiny.tif", vv[:size, :size], vh[:size, :size])
    one_error(eo("water", "--s1", src, "--out", out), "tiny.tif", "too small")
    assert not out.exists()


# ---------------------------------------------------------------- broken and lying files


@pytest.mark.parametrize("damage", ["truncated", "text", "empty"])
def test_unreadable_file_is_one_line(tmp_path, good_s1, damage):
    bad = tmp_path / "bad.tif"
    raw = good_s1.read_bytes()
    bad.write_bytes(
        {"truncated": raw[: len(raw) // 2], "text": b"<html>403 Forbidden</html>\n", "empty": b""}[
            damage
        ]
    )
    out = tmp_path / "w.tif"
    one_error(cli("water", "--s1", bad, "--out", out), "--s1", "bad.tif", "not a readable raster")
    assert not out.exists() and partial_files(tmp_path) == []


def test_header_claiming_huge_dimensions_is_one_line(tmp_path):
    """The issue: a header claiming 10^6 x 10^6 pixels ended in a MemoryError traceback."""
    src = crafted_tiff(tmp_path / "huge.tif", 10**6, 10**6)
    out = tmp_path / "w.tif"
    one_error(
        cli("water", "--s1", src, "--out", out, timeout=60), "huge.tif", "1,000,000 x 1,000,000"
    )
    assert not out.exists()


def test_corrupted_pixel_bytes_are_refused(tmp_path, good_s1):
    raw = bytearray(good_s1.read_bytes())
    rng = np.random.default_rng(3)
    for off, size in block_ranges(good_s1):  # garble the middle half of every block
        a, b = off + size // 4, off + 3 * size // 4
        raw[a:b] = rng.integers(0, 256, b - a, dtype=np.uint8).tobytes()
    bad = tmp_path / "garbled.tif"
    bad.write_bytes(bytes(raw))
    out = tmp_path / "w.tif"
    one_error(
        cli("water", "--s1", bad, "--out", out), "garbled.tif", "exceed 10,000", "look corrupt"
    )
    assert not out.exists() and partial_files(tmp_path) == []


def test_corrupted_pixel_bytes_declared_linear_are_refused(eo, tmp_path):
    """Random float32 bit patterns are half negative, so they pass the linear-units check;
    their magnitudes (up to 3e38) do not."""
    vv, vh = synthetic_s1()
    noise = np.random.default_rng(5).integers(0, 2**32, (2, 16, 64), dtype=np.uint64)
    lin = [10 ** (b / 10) for b in (vv, vh)]
    for band, bits in zip(lin, noise):
        band[:16] = bits.astype(np.uint32).view(np.float32)
    src = write_s1(tmp_path / "garbled_lin.tif", *lin)
    out = tmp_path / "w.tif"
    one_error(
        eo("water", "--s1", src, "--out", out, "--s1-units", "linear"),
        "garbled_lin.tif",
        "look corrupt",
    )
    assert not out.exists()


def test_a_few_extreme_pixels_are_not_corruption(tmp_path):
    """Under 1 % of values beyond 1e4 (a stray pixel, a point target in linear power) is not
    taken for corrupt data: the lake is mapped."""
    vv, vh = synthetic_s1()
    vv[0, :20] = 3e38  # 20 of 4096 px: 0.5 %
    out = tmp_path / "w.tif"
    res = cli("water", "--s1", write_s1(tmp_path / "odd.tif", vv, vh), "--out", out)
    assert res.returncode == 0, res.stderr
    assert (_read(out)[LAKE] == 1).mean() > 0.8


# ---------------------------------------------------------------- 8-bit images


@pytest.fixture
def s1_8bit(tmp_path):
    vv, vh = synthetic_s1()
    dn = [np.clip(255 * (b + 30) / 30, 1, 255).astype(np.uint8) for b in (vv, vh)]
    return write_s1(tmp_path / "patch.tif", dn[0], dn[1], dtype="uint8")


@pytest.mark.parametrize(
    "value,words",
    [
        ("0,-30", "LO must be below HI"),  # the issue: an inverted range was accepted
        ("-10,-10", "LO must be below HI"),
        ("nan,0", "--s1-8bit-range"),
        ("abc", "expected LO,HI"),
    ],
)
def test_bad_8bit_range_is_refused(eo, tmp_path, s1_8bit, value, words):
    out = tmp_path / "w.tif"
    one_error(
        eo("water", "--s1", s1_8bit, "--out", out, f"--s1-8bit-range={value}"),
        "--s1-8bit-range",
        words,
    )
    assert not out.exists()


def test_8bit_range_rules(eo, tmp_path, s1_8bit, good_s1):
    out = tmp_path / "w.tif"
    one_error(eo("water", "--s1", s1_8bit, "--out", out), "--s1-8bit-range", "patch.tif", "8-bit")
    one_error(eo("water", "--s1", good_s1, "--out", out, "--s1-8bit-range=-30,0"), "only for 8-bit")
    # a range that puts every pixel above 0 dB is not backscatter
    one_error(
        eo("water", "--s1", s1_8bit, "--out", out, "--s1-8bit-range=0,30"),
        "patch.tif",
        "far too bright",
    )
    assert not out.exists()
    res = cli("water", "--s1", s1_8bit, "--out", out, "--s1-8bit-range=-30,0")
    assert res.returncode == 0, res.stderr
    assert (_read(out)[LAKE] == 1).mean() > 0.8


# ---------------------------------------------------------------- georeferencing


def test_utm_crs_on_a_degree_grid_is_refused(tmp_path):
    """The issue: a UTM CRS on a degree grid was accepted."""
    vv, vh = synthetic_s1()
    src = write_s1(tmp_path / "utm_deg.tif", vv, vh, crs="EPSG:32615")
    out = tmp_path / "w.tif"
    one_error(cli("water", "--s1", src, "--out", out), "--s1", "utm_deg.tif", "CRS")
    assert not out.exists()


def test_origin_at_latitude_200_is_refused(eo, tmp_path):
    """The issue: an origin at latitude 200 was accepted."""
    vv, vh = synthetic_s1()
    src = write_s1(
        tmp_path / "lat200.tif", vv, vh, transform=Affine(9e-5, 0, -0.78, 0, -9e-5, 200.0)
    )
    out = tmp_path / "w.tif"
    one_error(eo("water", "--s1", src, "--out", out), "--s1", "lat200.tif", "CRS")
    assert not out.exists()


def test_no_crs_works_with_a_warning(tmp_path):
    vv, vh = synthetic_s1()
    src = write_s1(tmp_path / "plain.tif", vv, vh, crs=None, transform=Affine.identity())
    out = tmp_path / "w.tif"
    res = cli("water", "--s1", src, "--out", out)
    assert res.returncode == 0, res.stderr
    assert any("plain.tif" in w and "no CRS" in w for w in _warnings(res)), res.stderr
    with rasterio.open(out) as f:
        assert f.crs is None and f.shape == (64, 64)


# ---------------------------------------------------------------- eo-drr flood inputs


def test_flood_non_finite_pre_pixels_are_no_data(tmp_path, good_s1):
    vv, vh = synthetic_s1(seed=1, lake=8)
    vv[2, 2], vh[3, 3], vv[50, 50] = np.inf, -np.inf, -np.inf
    out = tmp_path / "f.tif"
    res = cli(
        "flood",
        "--pre-s1",
        write_s1(tmp_path / "pre_inf.tif", vv, vh),
        "--post-s1",
        good_s1,
        "--out",
        out,
    )
    assert res.returncode == 0, res.stderr
    flood = _read(out)
    assert set(np.unique(flood)) <= {0, 1, 2, 255} and (flood == 1).any()


def test_flood_pre_on_another_grid_and_units_are_refused(eo, tmp_path, good_s1):
    vv, vh = synthetic_s1(seed=1, lake=8)
    out = tmp_path / "f.tif"
    small = write_s1(tmp_path / "pre_small.tif", vv[:40, :40], vh[:40, :40])
    one_error(
        eo("flood", "--pre-s1", small, "--post-s1", good_s1, "--out", out),
        "--pre-s1",
        "pre_small.tif",
    )
    linear = write_s1(tmp_path / "pre_lin.tif", 10 ** (vv / 10), 10 ** (vh / 10))
    one_error(
        eo("flood", "--pre-s1", linear, "--post-s1", good_s1, "--out", out),
        "--pre-s1",
        "pre_lin.tif",
        "--s1-units linear",
    )
    one_error(eo("flood", "--post-s1", good_s1, "--out", out), "--pre-s1")
    assert not out.exists()


def _single_band_like(src, path, values, **changes):
    with rasterio.open(src) as s:
        profile = s.profile | {"count": 1} | changes
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype(np.float32), 1)
    return path


def test_flood_terrain_layers_that_do_not_fit_are_refused(eo, tmp_path, good_s1, pre_s1):
    """The issue: a HAND file that does not overlap gave a traceback."""
    out = tmp_path / "f.tif"
    far = _single_band_like(
        good_s1,
        tmp_path / "hand_far.tif",
        np.zeros((64, 64)),
        transform=Affine(9e-5, 0, 50.0, 0, -9e-5, 10.0),
    )
    one_error(
        eo("flood", "--pre-s1", pre_s1, "--post-s1", good_s1, "--out", out, "--hand", far),
        "--hand",
        "hand_far.tif",
        "grid",
    )
    one_error(
        eo(
            "flood",
            "--pre-s1",
            pre_s1,
            "--post-s1",
            good_s1,
            "--out",
            out,
            "--hand",
            tmp_path / "none.tif",
        ),
        "--hand",
        "none.tif",
    )
    dem = _single_band_like(good_s1, tmp_path / "dem.tif", np.zeros((64, 64)))
    one_error(
        eo("flood", "--pre-s1", pre_s1, "--post-s1", good_s1, "--out", out, "--dem", dem),
        "--dem",
        "degrees",
    )
    assert not out.exists() and partial_files(tmp_path) == []


def test_flood_hand_without_a_valid_pixel_is_refused(tmp_path, good_s1, pre_s1):
    hand = _single_band_like(good_s1, tmp_path / "hand_inf.tif", np.full((64, 64), np.inf))
    out = tmp_path / "f.tif"
    one_error(
        cli("flood", "--pre-s1", pre_s1, "--post-s1", good_s1, "--out", out, "--hand", hand),
        "--hand",
        "hand_inf.tif",
    )
    assert not out.exists()


# ---------------------------------------------------------------- eo-drr growth inputs

S2_BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]


def write_s2(
    path, *, seed=0, size=64, level="L1C", fill=None, dtype="uint16", crs="EPSG:32615", x0=500000
):
    """A Sentinel-2 GeoTIFF as `eo-drr growth` reads it (DN = reflectance x 10000, 0 no data)."""
    rng = np.random.default_rng(seed)
    base = [0.06, 0.08, 0.07, 0.30, 0.20, 0.12]
    if fill is None:
        data = np.stack(
            [np.clip(rng.normal(b, 0.01, (size, size)), 0.001, 1) * 10000 for b in base]
        )
    else:
        data = np.full((len(base), size, size), fill)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=len(base),
        dtype=dtype,
        crs=crs,
        transform=Affine(10, 0, x0, 0, -10, 2000000),
        nodata=0,
    ) as dst:
        dst.write(data.astype(dtype))
        for k, b in enumerate(S2_BANDS, start=1):
            dst.set_band_description(k, b)
        dst.update_tags(PROCESSING_LEVEL=level)
    return path


def test_growth_bad_images_are_refused(eo, tmp_path):
    before, after = write_s2(tmp_path / "a.tif"), write_s2(tmp_path / "b.tif", seed=1)
    out = tmp_path / "g.tif"
    for bad in (
        write_s2(tmp_path / "zeros.tif", fill=0),
        write_s2(tmp_path / "infs.tif", fill=np.inf, dtype="float32"),
    ):
        one_error(
            eo("growth", "--before", bad, "--after", after, "--out", out),
            "--before",
            bad.name,
            "no valid pixel",
        )
    wrong = write_s2(tmp_path / "wrong_crs.tif", crs="EPSG:4326")  # UTM numbers declared degrees
    one_error(
        eo("growth", "--before", before, "--after", wrong, "--out", out),
        "--after",
        "wrong_crs.tif",
        "CRS",
    )
    far = write_s2(tmp_path / "far.tif", x0=600000)
    one_error(
        eo("growth", "--before", before, "--after", far, "--out", out),
        "--after",
        "far.tif",
        "does not overlap",
    )
    one_error(
        eo("growth", "--before", before, "--after", after, "--out", out, "--level", "L3"), "--level"
    )
    vv, _ = synthetic_s1()
    lin = [write_s1(tmp_path / f"vv{k}.tif", 10 ** (vv / 10)) for k in (1, 2)]
    one_error(
        eo(
            "growth",
            "--before",
            before,
            "--after",
            after,
            "--out",
            out,
            "--s1-before",
            lin[0],
            "--s1-after",
            lin[1],
        ),
        "vv1.tif",
        "--s1-units linear",
    )
    assert not out.exists() and partial_files(tmp_path) == []


def test_growth_reflectance_instead_of_dn_is_refused(eo, tmp_path):
    """Reflectance 0-1 stored as float was read as DN x 10000 (every pixel near-black, 0 ha of
    new built-up, exit 0) when this suite was written."""
    before = write_s2(tmp_path / "refl_a.tif", fill=0.2, dtype="float32", level="L2A")
    after = write_s2(tmp_path / "refl_b.tif", fill=0.3, dtype="float32", level="L2A")
    out = tmp_path / "g.tif"
    one_error(
        eo("growth", "--before", before, "--after", after, "--out", out), "refl_a.tif", "10000"
    )
    assert not out.exists()


# ---------------------------------------------------------------- property: TIFF headers


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    width=st.integers(0, 1500),
    height=st.integers(0, 1500),
    fmt=st.sampled_from(
        [(8, 1), (16, 1), (16, 2), (32, 1), (32, 2), (32, 3), (64, 3), (7, 1), (32, 9)]
    ),
    compression=st.sampled_from([1, 5, 8, 32773, 50000]),
    description=st.sampled_from(["VV", "VH", "HH", None, "VV\x01"]),
    payload=st.binary(min_size=0, max_size=256),
)
def test_any_tiff_header_gives_a_map_or_a_typed_error(
    tmp_path_factory, width, height, fmt, compression, description, payload
):
    """Whatever a (small) TIFF header claims, reading it as Sentinel-1 gives a checked image or
    an eo-drr error naming the file: never another exception (the huge-header case is the
    xfail above)."""
    from eo_drr.errors import EODRRError
    from eo_drr.load.s1_file import read_s1_file

    path = crafted_tiff(
        tmp_path_factory.mktemp("hdr") / "h.tif",
        width,
        height,
        bits=fmt[0],
        sample_format=fmt[1],
        compression=compression,
        description=description,
        payload=payload,
    )
    try:
        img = read_s1_file(path)
    except EODRRError as exc:
        assert str(path) in str(exc) or "--s1" in str(exc), exc
    else:
        assert img.vv.shape == (height, width) and img.vv.dtype == np.float32
