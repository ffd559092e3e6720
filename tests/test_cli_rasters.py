"""``eo-drr water`` / ``eo-drr flood`` on real chips (Sen1Floods11 GeoTIFF, OMBRIA PNG)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from test_cli import eo_drr


def test_water_on_sen1floods11_chip(shared_data, tmp_path):
    src = shared_data / "sen1floods11-sample" / "Spain_7370579_S1Hand.tif"
    out = tmp_path / "water.tif"
    res = eo_drr("water", "--s1", src, "--out", out)
    assert res.returncode == 0, res.stderr
    with (
        rasterio.open(out) as w,
        rasterio.open(src) as s,
        rasterio.open(shared_data / "sen1floods11-sample" / "Spain_7370579_LabelHand.tif") as lab,
    ):
        water = w.read(1)
        assert (
            w.crs == s.crs
            and w.transform == s.transform
            and w.dtypes[0] == "uint8"
            and w.nodata == 255
        )
        label = lab.read(1)
    valid = (label >= 0) & (water != 255)
    t, p = (label == 1) & valid, (water == 1) & valid
    assert (t & p).sum() / (t | p).sum() > 0.3
    assert "threshold" in res.stdout and " dB" in res.stdout


def test_flood_on_ombria_png_without_crs(shared_data, tmp_path):
    root = shared_data / "ombria-guyana-2021" / "Sentinel1"
    out = tmp_path / "flood.tif"
    args = [
        "flood",
        "--pre-s1",
        root / "BEFORE" / "imbefore_10.png",
        "--post-s1",
        root / "AFTER" / "imafter_10.png",
        "--out",
        out,
        "--s1-bands",
        "VV",
    ]
    res = eo_drr(*args)
    assert res.returncode != 0 and "--s1-8bit-range" in res.stderr  # 8-bit needs the mapping
    line = one_error_line(eo_drr(*args, "--s1-8bit-range=0,-30"))  # inverted: refused
    assert "LO must be below HI" in line and not out.exists()
    res = eo_drr(*args, "--s1-8bit-range=-30,0")
    assert res.returncode == 0, res.stderr
    assert "no CRS" in res.stderr
    with rasterio.open(out) as f:
        flood = f.read(1)
        cmap = f.colormap(1)
        classes = f.tags()["classes"]
    # 0 no water, 1 flood, 2 reference water still water, 255 no data; a colour table says so
    assert (
        flood.shape == (256, 256) and set(np.unique(flood)) <= {0, 1, 2, 255} and (flood == 1).any()
    )
    assert "2 reference water" in classes and cmap[1][:3] != cmap[2][:3]
    assert "still water after the event (class 2)" in res.stdout


def test_bad_inputs(shared_data, tmp_path):
    src = shared_data / "sen1floods11-sample" / "Spain_7370579_S1Hand.tif"
    res = eo_drr("water", "--s1", tmp_path / "none.tif", "--out", tmp_path / "o.tif")
    assert res.returncode != 0 and "no such file" in res.stderr
    res = eo_drr("water", "--s1", src, "--out", tmp_path / "o.tif", "--s1-units", "linear")
    assert res.returncode != 0 and "looks like dB" in res.stderr and "--s1-units db" in res.stderr
    assert "Traceback" not in res.stderr
    res = eo_drr("water", "--s1", src, "--out", tmp_path / "o.tif", "--s1-bands", "HH,HV")
    assert res.returncode != 0 and "no VV band" in res.stderr
    bad = tmp_path / "corrupt.tif"
    bad.write_bytes(src.read_bytes()[:5000])
    res = eo_drr("water", "--s1", bad, "--out", tmp_path / "o.tif")
    assert res.returncode != 0 and "corrupt.tif" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o.tif").exists()
    chip = shared_data / "sen1floods11-chips" / "S1Hand" / "Paraguay_34417_S1Hand.tif"
    res = eo_drr("water", "--s1", chip, "--out", tmp_path / "o.tif")
    assert res.returncode != 0 and "all pixels are nodata" in res.stderr


# ---------------------------------------------------------------- implausible S1 input


def write_s1(path, vv, vh=None, tags=None):
    """A float32 GeoTIFF (EPSG:4326, about 10 m pixels) with bands VV[, VH] and ``tags``."""
    from rasterio.transform import Affine

    bands = [vv] if vh is None else [vv, vh]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=vv.shape[1],
        height=vv.shape[0],
        count=len(bands),
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(9e-5, 0, -0.78, 0, -9e-5, 38.13),
    ) as dst:
        for k, (band, name) in enumerate(zip(bands, ("VV", "VH")), start=1):
            dst.write(band.astype(np.float32), k)
            dst.set_band_description(k, name)
        dst.update_tags(**(tags or {}))
    return path


def synthetic_s1(seed=0, size=256, lake=96):
    """Land VV -9 dB, VH 7 dB lower, and a square lake (VV -21, VH -27 dB)."""
    rng = np.random.default_rng(seed)
    vv = rng.normal(-9, 2, (size, size))
    vv[40 : 40 + lake, 60 : 60 + lake] = rng.normal(-21, 1.5, (lake, lake))
    vh = vv - 7 + rng.normal(0, 1, vv.shape)
    vh[40 : 40 + lake, 60 : 60 + lake] = rng.normal(-27, 1.5, (lake, lake))
    return vv.astype(np.float32), vh.astype(np.float32)


def one_error_line(res):
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def test_inf_pixels_are_no_data(tmp_path):
    vv, vh = synthetic_s1()
    vv[5, 5], vh[6, 6], vv[100, 100] = np.inf, -np.inf, np.inf
    src = write_s1(tmp_path / "inf.tif", vv, vh)
    out = tmp_path / "water.tif"
    res = eo_drr("water", "--s1", src, "--out", out)
    assert res.returncode == 0, res.stderr
    with rasterio.open(out) as w:
        water = w.read(1)
    assert water[5, 5] == 255 and water[100, 100] == 255 and (water == 1).sum() > 0.8 * 96 * 96


def test_inf_pixel_in_real_chip(shared_data, tmp_path):
    with rasterio.open(shared_data / "sen1floods11-sample" / "Spain_7370579_S1Hand.tif") as s:
        vv, vh = s.read()
    vv[0, 0] = np.inf
    out = tmp_path / "water.tif"
    res = eo_drr("water", "--s1", write_s1(tmp_path / "chip.tif", vv, vh), "--out", out)
    assert res.returncode == 0, res.stderr
    with rasterio.open(out) as w:
        assert w.read(1)[0, 0] == 255


def test_wrong_units_and_swapped_bands_fail_with_one_line(tmp_path):
    vv, vh = synthetic_s1()
    linear = write_s1(tmp_path / "linear.tif", 10 ** (vv / 10), 10 ** (vh / 10))
    line = one_error_line(eo_drr("water", "--s1", linear, "--out", tmp_path / "o.tif"))
    assert (
        "linear.tif" in line and "looks like linear power" in line and "--s1-units linear" in line
    )
    swapped = write_s1(tmp_path / "swapped.tif", vh, vv)
    line = one_error_line(eo_drr("water", "--s1", swapped, "--out", tmp_path / "o.tif"))
    assert "swapped.tif" in line and "vv/vh look swapped" in line and "--s1-bands" in line
    good = write_s1(tmp_path / "good.tif", vv, vh)
    line = one_error_line(
        eo_drr(
            "flood",
            "--pre-s1",
            good,
            "--pre-s1",
            linear,
            "--post-s1",
            good,
            "--out",
            tmp_path / "o.tif",
        )
    )
    assert "--pre-s1" in line and "linear.tif" in line and "--s1-units linear" in line
    assert not (tmp_path / "o.tif").exists()


def test_flood_warns_on_relative_orbit_mismatch(tmp_path):
    vv, vh = synthetic_s1()
    pre_vv, pre_vh = synthetic_s1(seed=1, lake=32)
    post = write_s1(tmp_path / "post.tif", vv, vh, {"RELATIVE_ORBIT": "87"})
    pre = write_s1(tmp_path / "pre.tif", pre_vv, pre_vh, {"sat:relative_orbit": "14"})
    res = eo_drr("flood", "--pre-s1", pre, "--post-s1", post, "--out", tmp_path / "f.tif")
    assert res.returncode == 0, res.stderr
    assert "relative orbit 14" in res.stderr and "different viewing geometry" in res.stderr
    same = write_s1(tmp_path / "same.tif", pre_vv, pre_vh, {"RELATIVE_ORBIT": "87"})
    res = eo_drr("flood", "--pre-s1", same, "--post-s1", post, "--out", tmp_path / "f.tif")
    assert res.returncode == 0 and "viewing geometry" not in res.stderr, res.stderr


def test_flood_classes_and_hand_exclusion_as_in_jobs(tmp_path):
    """`eo-drr flood` writes the job's classes: 1 flood, 2 reference water still water; with
    --hand the job's 15 m HAND exclusion applies; a HAND on another grid is refused."""
    vv, vh = synthetic_s1()  # the post-event lake: 96 px square
    pre_vv, pre_vh = synthetic_s1(seed=1, lake=32)  # before: a 32 px lake in its corner
    post = write_s1(tmp_path / "post.tif", vv, vh)
    pre = write_s1(tmp_path / "pre.tif", pre_vv, pre_vh)
    out = tmp_path / "f.tif"
    res = eo_drr("flood", "--pre-s1", pre, "--post-s1", post, "--out", out)
    assert res.returncode == 0, res.stderr
    with rasterio.open(out) as f:
        cls = f.read(1)
    assert (cls[45:70, 65:90] == 2).mean() > 0.9  # the old lake: still water
    assert (cls[90:130, 110:150] == 1).mean() > 0.9  # new water: flood
    hand = np.zeros(vv.shape, np.float32)
    hand[:, 100:] = 30.0  # high ground over the eastern half of the new lake
    with rasterio.open(post) as src:
        profile = src.profile | {"count": 1}
    with rasterio.open(tmp_path / "hand.tif", "w", **profile) as dst:
        dst.write(hand, 1)
    res = eo_drr(
        "flood", "--pre-s1", pre, "--post-s1", post, "--out", out, "--hand", tmp_path / "hand.tif"
    )
    assert res.returncode == 0, res.stderr
    with rasterio.open(out) as f:
        cls = f.read(1)
    assert (cls[90:130, 110:150] == 1).sum() == 0 and (cls[90:130, 70:95] == 1).mean() > 0.9
    with rasterio.open(tmp_path / "small.tif", "w", **(profile | {"width": 100})) as dst:
        dst.write(hand[:, :100], 1)
    line = one_error_line(
        eo_drr(
            "flood",
            "--pre-s1",
            pre,
            "--post-s1",
            post,
            "--out",
            tmp_path / "g.tif",
            "--hand",
            tmp_path / "small.tif",
        )
    )
    assert "--hand" in line and "grid" in line and not (tmp_path / "g.tif").exists()


def test_outputs_never_destroy_inputs_and_options_are_checked(tmp_path):
    vv, vh = synthetic_s1()
    post = write_s1(tmp_path / "post.tif", vv, vh)
    before = post.read_bytes()
    line = one_error_line(eo_drr("water", "--s1", post, "--out", post))
    assert "--out" in line and "one of the inputs" in line and post.read_bytes() == before
    line = one_error_line(eo_drr("flood", "--pre-s1", post, "--post-s1", post, "--out", post))
    assert "one of the inputs" in line and post.read_bytes() == before
    line = one_error_line(eo_drr("water", "--s1", post, "--out", tmp_path))
    assert "not a regular file" in line
    # the 8-bit mapping only for 8-bit files, and LO below HI
    line = one_error_line(
        eo_drr("water", "--s1", post, "--out", tmp_path / "w.tif", "--s1-8bit-range=-30,0")
    )
    assert "only for 8-bit" in line and not (tmp_path / "w.tif").exists()
    # a raster too small for the speckle filter: one line naming the file
    tiny = write_s1(tmp_path / "tiny.tif", vv[:4, :4], vh[:4, :4])
    line = one_error_line(eo_drr("water", "--s1", tiny, "--out", tmp_path / "w.tif"))
    assert "tiny.tif" in line and "too small" in line


def test_pre_without_vh_is_said(tmp_path):
    vv, vh = synthetic_s1()
    pre_vv, _ = synthetic_s1(seed=1, lake=32)
    post = write_s1(tmp_path / "post.tif", vv, vh)
    pre = write_s1(tmp_path / "pre.tif", pre_vv)
    res = eo_drr("flood", "--pre-s1", pre, "--post-s1", post, "--out", tmp_path / "f.tif")
    assert res.returncode == 0, res.stderr
    assert "has no VH" in res.stderr and "VV alone" in res.stderr


def _oscd(shared_data, city="aguasclaras"):
    root = shared_data / "oscd-urban-change" / city
    if not (root / "s2_before.tif").exists():
        import pytest

        pytest.skip(f"no OSCD city under {root}")
    return root


def test_growth_on_a_real_city(shared_data, tmp_path):
    """`eo-drr growth` on Aguas Claras (Brasilia): uint8 1/0/255 on the before grid with a colour
    table, the area in hectares, with and without Sentinel-1."""
    root = _oscd(shared_data)
    out = tmp_path / "growth.tif"
    vv_b, vv_a = (
        sorted(root.glob("s1_vv_db_*_before.tif"))[0],
        sorted(root.glob("s1_vv_db_*_after.tif"))[0],
    )
    res = eo_drr(
        "growth",
        "--before",
        root / "s2_before.tif",
        "--after",
        root / "s2_after.tif",
        "--out",
        out,
        "--s1-before",
        vv_b,
        "--s1-after",
        vv_a,
    )
    assert res.returncode == 0, res.stderr
    assert (
        "new built-up:" in res.stdout and " ha " in res.stdout and "with Sentinel-1" in res.stdout
    )
    with (
        rasterio.open(out) as g,
        rasterio.open(root / "s2_before.tif") as b,
        rasterio.open(root / "change.tif") as lab,
    ):
        growth, label = g.read(1), lab.read(1)
        assert g.transform == b.transform and g.crs == b.crs and g.nodata == 255
        assert g.colormap(1)[1][:3] == (230, 60, 20) and "new built-up" in g.tags()["classes"]
    assert set(np.unique(growth)) <= {0, 1, 255} and 0.002 < (growth == 1).mean() < 0.1
    # the shipped model saw this city in training: only a sanity bound, not an accuracy figure
    tp = ((growth == 1) & (label == 1)).sum()
    assert tp / max(1, (growth == 1).sum()) > 0.05
    res = eo_drr(
        "growth", "--before", root / "s2_before.tif", "--after", root / "s2_after.tif", "--out", out
    )
    assert res.returncode == 0 and "without Sentinel-1" in res.stdout, res.stderr


def test_growth_bad_inputs(shared_data, tmp_path):
    from rasterio.transform import Affine

    root = _oscd(shared_data)
    before, after = root / "s2_before.tif", root / "s2_after.tif"
    out = tmp_path / "g.tif"
    # only one Sentinel-1 date
    line = one_error_line(
        eo_drr(
            "growth",
            "--before",
            before,
            "--after",
            after,
            "--out",
            out,
            "--s1-before",
            sorted(root.glob("s1_vv_db_*_before.tif"))[0],
        )
    )
    assert "--s1-before / --s1-after" in line
    # an L1C image declared L2A: a warning, the map is still made
    res = eo_drr("growth", "--before", before, "--after", after, "--out", out, "--level", "L2A")
    assert res.returncode == 0 and "pass --level L1C" in res.stderr, res.stderr
    out.unlink()
    # a missing band is named
    with rasterio.open(after) as src:
        prof, data, desc = src.profile, src.read(), src.descriptions
    keep = [i for i, d in enumerate(desc) if d != "B11"]
    with rasterio.open(tmp_path / "no_b11.tif", "w", **(prof | {"count": len(keep)})) as dst:
        dst.write(data[keep])
        for k, i in enumerate(keep, start=1):
            dst.set_band_description(k, desc[i])
        dst.update_tags(PROCESSING_LEVEL="L1C")
    line = one_error_line(
        eo_drr("growth", "--before", before, "--after", tmp_path / "no_b11.tif", "--out", out)
    )
    assert "B11" in line and "no_b11.tif" in line and not out.exists()

    def moved(name, dx, dy):  # the after image on a shifted grid
        with rasterio.open(
            tmp_path / name,
            "w",
            **(prof | {"transform": prof["transform"] @ Affine.translation(dx, dy)}),
        ) as dst:
            dst.write(data)
            for k, d in enumerate(desc, start=1):
                dst.set_band_description(k, d)
            dst.update_tags(PROCESSING_LEVEL="L1C")
        return tmp_path / name

    # an after image shifted by 3 pixels is resampled onto the before grid, and said so
    res = eo_drr("growth", "--before", before, "--after", moved("shift.tif", 3, 3), "--out", out)
    assert res.returncode == 0 and "resampled" in res.stderr, res.stderr
    # one that does not overlap is refused
    out.unlink()
    line = one_error_line(
        eo_drr("growth", "--before", before, "--after", moved("far.tif", 5000, 0), "--out", out)
    )
    assert "does not overlap" in line and not out.exists()
    # never over an input
    line = one_error_line(eo_drr("growth", "--before", before, "--after", after, "--out", before))
    assert "one of the inputs" in line


def test_growth_all_cloud_and_linear_s1_refused(shared_data, tmp_path):
    """An after image that is all cloud, and Sentinel-1 in linear power declared as dB: one line
    each, naming the files and what to do; nothing written."""
    root = _oscd(shared_data, "bercy")
    with rasterio.open(root / "s2_after.tif") as src:
        prof, data, desc, tags = src.profile, src.read(), src.descriptions, src.tags()
    cloud = np.full_like(data, 6000)
    cloud[list(desc).index("B10")] = 800  # bright in every band, cirrus too
    with rasterio.open(tmp_path / "cloud.tif", "w", **prof) as dst:
        dst.write(cloud)
        for k, d in enumerate(desc, start=1):
            dst.set_band_description(k, d)
        dst.update_tags(**tags)
    out = tmp_path / "g.tif"
    line = one_error_line(
        eo_drr(
            "growth",
            "--before",
            root / "s2_before.tif",
            "--after",
            tmp_path / "cloud.tif",
            "--out",
            out,
        )
    )
    assert "cloud.tif" in line and "no pixel is clear" in line and not out.exists()
    vv_b, vv_a = (
        sorted(root.glob("s1_vv_db_*_before.tif"))[0],
        sorted(root.glob("s1_vv_db_*_after.tif"))[0],
    )
    with rasterio.open(vv_b) as src:
        p1, v = src.profile, src.read(1)
    with rasterio.open(tmp_path / "lin.tif", "w", **p1) as dst:
        dst.write((10 ** (v / 10)).astype("float32"), 1)
    line = one_error_line(
        eo_drr(
            "growth",
            "--before",
            root / "s2_before.tif",
            "--after",
            root / "s2_after.tif",
            "--s1-before",
            tmp_path / "lin.tif",
            "--s1-after",
            vv_a,
            "--out",
            out,
        )
    )
    assert "lin.tif" in line and "--s1-units linear" in line and not out.exists()


def test_a_header_claiming_a_huge_raster_is_refused_before_reading(tmp_path):
    """A GeoTIFF whose header claims 200,000 x 200,000 px (sparse: a few MB on disk) is refused
    in one line naming the size and the machine's memory, not read into a MemoryError."""
    from rasterio.transform import from_origin
    from test_cli import assert_user_error

    path = tmp_path / "huge.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=200_000,
        height=200_000,
        count=1,
        dtype="float32",
        tiled=True,
        sparse_ok=True,
        crs="EPSG:32615",
        transform=from_origin(500000, 2000000, 10, 10),
    ) as dst:
        dst.write(
            np.full((1, 256, 256), -10, np.float32), window=rasterio.windows.Window(0, 0, 256, 256)
        )
    res = eo_drr("water", "--s1", path, "--out", tmp_path / "w.tif")
    assert_user_error(res, "200,000 x 200,000 px", "GiB", "crop it")
    assert not (tmp_path / "w.tif").exists()


@pytest.mark.parametrize(
    "crs,origin,res,words",
    [
        ("EPSG:32615", (-92.9, 18.1), 0.0001, "look like degrees"),
        ("EPSG:4326", (500000.0, 2000000.0), 10.0, "not longitudes and latitudes"),
        ("EPSG:4326", (-92.9, 200.0), 0.0001, "not longitudes and latitudes"),
    ],
)
def test_a_crs_that_contradicts_the_coordinates_is_refused(tmp_path, crs, origin, res, words):
    from rasterio.transform import from_origin
    from test_cli import assert_user_error

    vv, vh = synthetic_s1()
    path = tmp_path / "s1.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=vv.shape[1],
        height=vv.shape[0],
        count=2,
        dtype="float32",
        crs=crs,
        transform=from_origin(*origin, res, res),
    ) as dst:
        dst.write(np.stack([vv, vh]))
        dst.descriptions = ("VV", "VH")
    res_ = eo_drr("water", "--s1", path, "--out", tmp_path / "w.tif")
    assert_user_error(res_, words, str(path))
    assert not (tmp_path / "w.tif").exists()
