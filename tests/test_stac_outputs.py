"""STAC catalogue of a run's outputs: every asset verified first, with file:checksum (multihash
SHA-256) and file:size, projection and raster fields for COGs; written last; reruns identical."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pystac
import pytest
import rasterio
import rioxarray  # noqa: F401
import xarray as xr
from rasterio.transform import from_origin

from eo_drr.errors import OutputError
from eo_drr.io import write_cog
from eo_drr.publish.stac_outputs import CATALOG_FILE, OutputAsset, write_output_catalog


def _flood():
    a = np.zeros((600, 700), np.uint8)
    a[100:300, 200:500] = 1
    a[:50] = 255
    da = xr.DataArray(
        a,
        dims=("y", "x"),
        coords={"y": 2000000 - 5 - 10 * np.arange(600), "x": 500005 + 10 * np.arange(700)},
    )
    return da.rio.write_crs("EPSG:32615")


@pytest.fixture()
def run_folder(tmp_path):
    write_cog(_flood(), tmp_path / "flood_extent.tif", nodata=255)
    (tmp_path / "table.csv").write_text("code,value\nA,1.5\nB,2\n")
    (tmp_path / "run.json").write_text(
        json.dumps({"job": "demo", "pipeline": "flood", "versions": {}})
    )
    return tmp_path


ASSETS = [
    OutputAsset("flood_extent.tif", "Flood extent", unit=None),
    OutputAsset("table.csv", "Indicators", roles=("data", "table")),
]


def test_catalog_assets_have_checksums_sizes_and_projection(run_folder):
    path = write_output_catalog(run_folder, ASSETS, "run.json", datetime="2024-11-05")
    assert path == run_folder / CATALOG_FILE
    cat = pystac.Catalog.from_file(str(path))
    (item,) = list(cat.get_items())
    assert set(item.assets) == {"flood_extent", "table", "run-manifest"}
    assert item.properties["eo_drr:job"] == "demo"
    exts = " ".join(item.stac_extensions)
    for name in ("file", "projection", "raster"):
        assert f"/{name}/" in exts, name
    for asset in item.assets.values():
        local = run_folder / asset.href.removeprefix("./")
        assert asset.extra_fields["file:size"] == local.stat().st_size
        assert (
            asset.extra_fields["file:checksum"]
            == "1220" + hashlib.sha256(local.read_bytes()).hexdigest()
        )
        assert not asset.href.startswith("/"), "hrefs must be relative"
    tif = item.assets["flood_extent"].extra_fields
    assert tif["proj:code"] == "EPSG:32615" and tif["proj:shape"] == [600, 700]
    assert tif["proj:transform"][:3] == [10.0, 0.0, 500000.0]
    assert (
        tif["raster:bands"][0]["nodata"] == 255 and tif["raster:bands"][0]["data_type"] == "uint8"
    )
    w, s, e, n = item.bbox
    assert -94 < w < e < -92 and 17 < s < n < 19
    assert item.datetime.isoformat().startswith("2024-11-05")


def test_rerun_is_byte_identical(run_folder):
    a = write_output_catalog(run_folder, ASSETS, "run.json", datetime="2024-11-05").read_bytes()
    item_a = (run_folder / "outputs.item.json").read_bytes()
    b = write_output_catalog(run_folder, ASSETS, "run.json", datetime="2024-11-05").read_bytes()
    assert a == b and item_a == (run_folder / "outputs.item.json").read_bytes()


def test_not_a_cog_is_refused_and_nothing_written(tmp_path):
    with rasterio.open(
        tmp_path / "striped.tif",
        "w",
        driver="GTiff",
        width=2048,
        height=2048,
        count=1,
        dtype="uint8",
        crs="EPSG:32615",
        transform=from_origin(500000, 2000000, 10, 10),
    ) as f:
        f.write(np.ones((1, 2048, 2048), np.uint8))
    with pytest.raises(OutputError, match="not a valid COG"):
        write_output_catalog(tmp_path, [OutputAsset("striped.tif")], datetime="2024-11-05")
    assert not (tmp_path / CATALOG_FILE).exists()
    assert not list(tmp_path.glob("*.json"))


def test_broken_or_missing_assets_are_refused(run_folder):
    (run_folder / "t.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(OutputError, match="t.parquet"):
        write_output_catalog(run_folder, [*ASSETS, OutputAsset("t.parquet")], datetime="2024-11-05")
    with pytest.raises(OutputError, match="does not exist"):
        write_output_catalog(run_folder, [OutputAsset("nope.tif")], datetime="2024-11-05")
    assert not (run_folder / CATALOG_FILE).exists()


def test_item_file_never_overwrites_an_asset(run_folder):
    (run_folder / "outputs.item.json").write_text("{}")
    with pytest.raises(OutputError, match="overwrite"):
        write_output_catalog(
            run_folder, [OutputAsset("outputs.item.json", key="m")], datetime="2024-11-05"
        )
    assert (run_folder / "outputs.item.json").read_text() == "{}"
    write_output_catalog(run_folder, ASSETS, "run.json", datetime="2024-11-05")
    assert json.loads((run_folder / "run.json").read_text())["job"] == "demo"  # manifest intact
