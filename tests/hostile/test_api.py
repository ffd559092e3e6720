"""The same hostile inputs through the Python API (``eo_drr.water``, ``flood``, ``growth``,
``load_job``, ``demo_job``, ``run``, ``search``, ``load``): each is a typed
``eo_drr.errors`` exception naming the argument, never a bare KeyError / TypeError /
MemoryError from deep inside, and never a silent result."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

import eo_drr
from eo_drr.errors import (
    ConfigError,
    CorruptInputError,
    EODRRError,
    InputError,
    NoDataError,
    OutputError,
)
from hostile.helpers import crafted_tiff, partial_files, small_demo_job, synthetic_s1

BBOX = (-93.0, 17.9, -92.8, 18.1)


def ds(vv, vh=None):
    data = {"vv": (("y", "x"), vv)} | ({} if vh is None else {"vh": (("y", "x"), vh)})
    return xr.Dataset(data, coords={"y": np.arange(vv.shape[0]), "x": np.arange(vv.shape[1])})


def lin(a):
    return (10 ** (a / 10)).astype(np.float32)


@pytest.fixture
def post():
    return ds(*synthetic_s1())


@pytest.fixture
def pre():
    return ds(*synthetic_s1(seed=1, lake=8))


# ---------------------------------------------------------------- eo_drr.water


@pytest.mark.parametrize(
    "obj",
    [np.zeros((64, 64)), [1, 2, 3], None, {"vv": 1}, 42],
    ids=["ndarray", "list", "None", "dict", "int"],
)
def test_water_of_a_non_raster_is_an_input_error(obj):
    with pytest.raises(InputError, match="^s1: expected an xarray"):
        eo_drr.water(obj)


def test_water_refuses_wrong_units_swapped_bands_and_bad_settings():
    vv, vh = synthetic_s1()
    with pytest.raises(InputError, match="looks like linear power.*units='linear'"):
        eo_drr.water(ds(lin(vv), lin(vh)))
    with pytest.raises(InputError, match="looks like dB.*units='db'"):
        eo_drr.water(ds(vv, vh), units="linear")
    with pytest.raises(InputError, match="units"):
        eo_drr.water(ds(vv, vh), units="dB")
    with pytest.raises(InputError, match="look swapped"):
        eo_drr.water(ds(vh, vv))
    with pytest.raises(InputError, match="unknown bogus"):
        eo_drr.water(ds(vv, vh), bogus=1)
    with pytest.raises(InputError, match="window"):
        eo_drr.water(ds(vv, vh), speckle_window=4)
    with pytest.raises(InputError, match="speckle"):
        eo_drr.water(ds(vv, vh), speckle="magic")


def test_water_degenerate_arrays():
    vv, vh = synthetic_s1()
    with pytest.raises(NoDataError, match="all pixels are nodata"):
        eo_drr.water(ds(np.full_like(vv, np.inf)))
    with pytest.raises(InputError, match="too small"):
        eo_drr.water(ds(vv[:4, :4], vh[:4, :4]))
    with pytest.raises(InputError, match="expected dims"):
        eo_drr.water(xr.DataArray(vv[0], dims=("x",), name="vv"))
    with pytest.raises(InputError, match="vh: shape"):
        eo_drr.water(xr.Dataset({"vv": (("y", "x"), vv), "vh": (("y2", "x2"), vh[:30, :30])}))
    with pytest.raises(InputError, match="no VV band"):
        eo_drr.water(ds(vv, vh).rename({"vv": "hh", "vh": "hv"}))


def test_water_non_finite_pixels_are_no_data():
    vv, vh = synthetic_s1()
    vv[3, 3], vh[7, 7], vv[20, 20] = np.inf, -np.inf, np.nan
    w = eo_drr.water(ds(vv, vh)).values
    assert w[3, 3] == 255 and w[20, 20] == 255 and (w[16:40, 16:40] == 1).mean() > 0.8


def test_water_from_bad_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        eo_drr.water(tmp_path / "missing.tif")
    (tmp_path / "page.tif").write_text("<html>403</html>")
    with pytest.raises(InputError, match="page.tif.*not a readable raster"):
        eo_drr.water(tmp_path / "page.tif")


def test_water_from_a_file_claiming_huge_dimensions(tmp_path):
    src = crafted_tiff(tmp_path / "huge.tif", 10**6, 10**6, description="VV")
    with pytest.raises(InputError, match="huge.tif"):
        eo_drr.water(src)


# ---------------------------------------------------------------- eo_drr.flood


def test_flood_refuses_what_the_command_refuses(pre, post):
    vv, vh = synthetic_s1(seed=1, lake=8)
    with pytest.raises(InputError, match="at least one pre-event image"):
        eo_drr.flood([], post)
    with pytest.raises(InputError, match=r"pre\[0\].*one grid"):
        eo_drr.flood(ds(vv[:40, :40], vh[:40, :40]), post)
    with pytest.raises(InputError, match="units"):
        eo_drr.flood(pre, post, units="DB")
    with pytest.raises(InputError, match="look swapped"):
        eo_drr.flood(pre, ds(post["vh"].values, post["vv"].values))
    with pytest.raises(InputError, match="unknown option"):
        eo_drr.flood(pre, post, bogus=3)
    with pytest.raises(InputError, match="hand: grid"):
        eo_drr.flood(pre, post, hand=xr.DataArray(np.zeros((10, 10)), dims=("y", "x")))
    with pytest.raises(InputError, match=r"pre\[0\]: expected an xarray"):
        eo_drr.flood(None, post)
    with pytest.raises(NoDataError):
        eo_drr.flood(ds(np.full_like(vv, np.inf)), post)


@pytest.mark.parametrize("which", ["pre", "post"])
def test_flood_refuses_linear_declared_db(pre, post, which):
    as_lin = {
        k: (v.dims, lin(v.values)) for k, v in (pre if which == "pre" else post).data_vars.items()
    }
    bad = xr.Dataset(as_lin, coords=post.coords)
    with pytest.raises(InputError, match="looks like linear power"):
        eo_drr.flood(bad, post) if which == "pre" else eo_drr.flood(pre, bad)


@pytest.mark.parametrize("value", [True, "high"])
def test_flood_refuses_a_hand_limit_that_is_not_a_number(pre, post, value):
    hand = xr.DataArray(np.zeros((64, 64)), dims=("y", "x"))
    with pytest.raises(InputError, match="hand_max_m"):
        eo_drr.flood(pre, post, hand=hand, hand_max_m=value)


# ---------------------------------------------------------------- eo_drr.growth


def _s2(bands, size=32, value=0.1):
    return xr.Dataset(
        {b: (("y", "x"), np.full((size, size), value, np.float32)) for b in bands},
        coords={"y": np.arange(size), "x": np.arange(size)},
    )


def test_growth_refuses_non_images_and_missing_settings(tmp_path):
    with pytest.raises(InputError, match="before: no such file"):
        eo_drr.growth(tmp_path / "a.tif", tmp_path / "b.tif")
    with pytest.raises(InputError, match="before: expected an xarray"):
        eo_drr.growth(np.zeros((3, 5, 5)), np.zeros((3, 5, 5)))
    with pytest.raises(InputError, match="processing level"):
        eo_drr.growth(_s2(["B02"]), _s2(["B02"]))
    with pytest.raises(InputError, match="processing level"):
        eo_drr.growth(_s2(["B02"]), _s2(["B02"]), level="L3")
    with pytest.raises(InputError, match="both, or neither"):
        eo_drr.growth(_s2(["B02"]), _s2(["B02"]), s1_before="x.tif")


def test_growth_names_a_missing_band():
    with pytest.raises(InputError, match="B03"):
        eo_drr.growth(_s2(["B02"]), _s2(["B02"]), level="L2A")


# ---------------------------------------------------------------- jobs


@pytest.mark.parametrize(
    "job", [None, [1, 2], b"name: x", 42, 4.5], ids=["None", "list", "bytes", "int", "float"]
)
def test_load_job_of_a_non_job_is_a_config_error(job):
    with pytest.raises(ConfigError, match="expected a job file path or a dict"):
        eo_drr.load_job(job)


def test_load_job_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        eo_drr.load_job(tmp_path)
    with pytest.raises(ConfigError, match="<dict>: name"):
        eo_drr.load_job({})
    with pytest.raises(ConfigError, match="<dict>: name"):
        eo_drr.load_job({1: 2, None: "x"})
    data = json.loads(
        json.dumps(__import__("yaml").safe_load(small_demo_job(tmp_path).read_text()), default=str)
    )
    data["products"]["flood"]["hand_max_m"] = True
    with pytest.raises(ConfigError, match="products.flood.hand_max_m"):
        eo_drr.load_job(data)
    data["products"]["flood"]["hand_max_m"] = 15
    data["time"]["post"]["end"] = "2024-11-31"
    with pytest.raises(ConfigError, match="time.post.end"):
        eo_drr.load_job(data)


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"size": 63}, "sources.demo.size"),
        ({"size": True}, "size"),
        ({"size": "big"}, "size"),
        ({"seed": -1}, "sources.demo.seed"),
        ({"pipeline": "volcano"}, "pipeline"),
    ],
)
def test_demo_job_refuses_bad_arguments(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        eo_drr.demo_job(**kwargs)


def test_run_refuses_bad_outputs_progress_and_negative_tiles(tmp_path, small_demo_scene):
    job = eo_drr.load_job(small_demo_job(tmp_path))
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="a_file"):
        eo_drr.run(job, blocker)
    with pytest.raises(InputError, match="progress"):
        eo_drr.run(job, tmp_path / "o", progress="fancy")
    with pytest.raises(ConfigError, match="expected a job file path or a dict"):
        eo_drr.run(42, tmp_path / "o")
    with pytest.raises(ConfigError, match="tile_size_px"):
        eo_drr.run(job, tmp_path / "o", tile_size_px=-64)
    assert not (tmp_path / "o").exists() and blocker.read_text() == "x"


@pytest.mark.parametrize("tile", [1, "big", 0])
def test_run_refuses_a_bad_tile_size(tmp_path, small_demo_scene, tile):
    job = eo_drr.load_job(small_demo_job(tmp_path))
    with pytest.raises(EODRRError, match="tile_size"):
        eo_drr.run(job, tmp_path / "o", tile_size_px=tile)
    assert partial_files(tmp_path) == []


# ---------------------------------------------------------------- search and load


def test_search_refuses_bad_boxes_and_dates(small_demo_scene):
    cat = str(small_demo_scene.catalog_path)
    with pytest.raises(InputError, match="bbox"):
        eo_drr.search("sentinel-1-rtc", (1, 2, 3), "2024-01-01", "2024-01-02", catalog=cat)
    with pytest.raises(InputError, match="bbox"):
        eo_drr.search(
            "sentinel-1-rtc", (-93, 17.9, -92.8, 200), "2024-01-01", "2024-01-02", catalog=cat
        )
    with pytest.raises(InputError, match="start"):
        eo_drr.search("sentinel-1-rtc", BBOX, "2024-13-45", "2024-11-02", catalog=cat)
    with pytest.raises(InputError, match="unknown catalogue"):
        eo_drr.search(
            "sentinel-1-rtc", BBOX, "2024-11-01", "2024-11-02", catalog="/no/such/catalog.json"
        )


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"start": "2024-11-10", "end": "2024-11-01"}, "end"),
        ({"max_cloud_cover": 200}, "max_cloud_cover"),
        ({"relative_orbit": 0}, "relative_orbit"),
        ({"orbit_direction": "up"}, "orbit_direction"),
    ],
    ids=["end-before-start", "max-cloud-200", "relative-orbit-0", "orbit-direction-up"],
)
def test_search_refuses_what_the_command_refuses(small_demo_scene, kwargs, words):
    args = {"start": "2024-11-01", "end": "2024-11-10"} | kwargs
    start, end = args.pop("start"), args.pop("end")
    with pytest.raises(InputError, match=words):
        eo_drr.search(
            "sentinel-1-rtc", BBOX, start, end, catalog=str(small_demo_scene.catalog_path), **args
        )


@pytest.mark.parametrize("damage", ["self-link", "bad-datetime"])
def test_search_in_a_broken_catalogue_is_an_eo_drr_error(scene_copy, damage):
    cat = scene_copy / "catalog.json"
    if damage == "self-link":
        data = json.loads(cat.read_text())
        data["links"].append({"rel": "child", "href": "./catalog.json", "type": "application/json"})
        cat.write_text(json.dumps(data))
    else:
        item = next(
            p
            for p in (scene_copy / "sentinel-1-rtc").rglob("*.json")
            if p.name != "collection.json"
        )
        data = json.loads(item.read_text())
        data["properties"]["datetime"] = "2024-13-45T12:05:12Z"
        item.write_text(json.dumps(data))
    with pytest.raises(EODRRError):
        eo_drr.search("sentinel-1-rtc", BBOX, "2024-11-01", "2024-11-10", catalog=str(cat))


def test_load_refuses_nothing_and_unknown_bands(small_demo_scene):
    with pytest.raises(InputError, match="nothing to load"):
        eo_drr.load([], ["vv"])
    items = eo_drr.search(
        "sentinel-1-rtc",
        BBOX,
        "2024-11-04",
        "2024-11-10",
        catalog=str(small_demo_scene.catalog_path),
    )
    with pytest.raises(InputError, match="no band.*hh"):
        eo_drr.load(items, ["hh"])


def test_load_of_a_missing_asset_is_an_eo_drr_error(scene_copy):
    """The issue: a bare RasterioIOError when the lazy load was computed. Local assets are
    checked when the load is built: an InputError naming the item, the band and the file."""
    items = eo_drr.search(
        "sentinel-1-rtc", BBOX, "2024-11-04", "2024-11-10", catalog=str(scene_copy / "catalog.json")
    )
    (scene_copy / "sentinel-1-rtc" / items[0].id / "vv.tif").unlink()
    with pytest.raises(InputError, match=rf"item {items[0].id} .*band vv: no such file .*vv\.tif"):
        eo_drr.load(items, ["vv"])


def test_load_of_a_truncated_asset_is_an_eo_drr_error(scene_copy):
    items = eo_drr.search(
        "sentinel-1-rtc", BBOX, "2024-11-04", "2024-11-10", catalog=str(scene_copy / "catalog.json")
    )
    vv = scene_copy / "sentinel-1-rtc" / items[0].id / "vv.tif"
    vv.write_bytes(vv.read_bytes()[:100])
    with pytest.raises(CorruptInputError, match=r"band vv: .*vv\.tif is not a readable raster"):
        eo_drr.load(items, ["vv"])
