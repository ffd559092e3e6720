"""Hostile static STAC catalogues (a copy of the test-size demo scene in ``tmp_path``, broken
with pystac or by hand): assets that are missing, truncated, not rasters or hold +-inf;
items with impossible datetimes or boxes; links to themselves; missing children; empty and
non-STAC catalogues. Job runs are real processes; searches that fail while reading the
catalogue also run in-process (``eo``)."""

from __future__ import annotations

import json

import numpy as np
import pystac
import pytest
import rasterio

from hostile.helpers import (
    assert_nothing_written,
    cli,
    one_error,
    small_demo_job,
)


def _post_item(scene):
    """Folder of the post-event Sentinel-1 item (the first acquisition after 2024-11-04)."""
    return next(
        p
        for p in sorted((scene / "sentinel-1-rtc").iterdir())
        if p.is_dir() and "_2024110" in p.name
    )


def _item_json(scene):
    folder = _post_item(scene)
    return folder / f"{folder.name}.json"


def _run(tmp_path, scene, **changes):
    out = tmp_path / "out"
    job = small_demo_job(tmp_path, **{"sources.catalog": str(scene / "catalog.json"), **changes})
    return cli("run", job, "-o", out), out


def _edit_json(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


# ---------------------------------------------------------------- assets


@pytest.mark.parametrize("damage", ["missing", "truncated", "not-a-raster"])
def test_broken_asset_is_one_line(tmp_path, scene_copy, damage):
    """The issue: catalogue assets that are missing, truncated or not rasters."""
    vv = _post_item(scene_copy) / "vv.tif"
    if damage == "missing":
        vv.unlink()
    elif damage == "truncated":
        vv.write_bytes(vv.read_bytes()[: vv.stat().st_size // 3])
    else:
        vv.write_text("<html>403 Forbidden</html>\n")
    res, out = _run(tmp_path, scene_copy)
    one_error(res, "vv.tif")
    assert_nothing_written(out)


def _put_infinities(scene):
    """+inf and -inf pixels in the post-event VV asset (rewritten as a plain GeoTIFF):
    returns their (x, y) map coordinates."""
    vv = _post_item(scene) / "vv.tif"
    with rasterio.open(vv) as src:
        profile, a = src.profile, src.read(1)
    a[100, 100], a[150, 150] = np.inf, -np.inf
    profile.update(driver="GTiff", tiled=False)
    for k in ("blockxsize", "blockysize", "compress", "interleave"):
        profile.pop(k, None)
    with rasterio.open(vv, "w", **profile) as dst:
        dst.write(a, 1)
    t = profile["transform"]
    return [t @ (c + 0.5, r + 0.5) for r, c in ((100, 100), (150, 150))]


def _at(path, points):
    with rasterio.open(path) as f:
        a = f.read(1)
        return [a[f.index(x, y)] for x, y in points]


def test_infinite_pixels_in_an_asset_are_no_data(tmp_path, scene_copy):
    """The issue's crash: a +-inf pixel in a catalogue asset ended the run with a segmentation
    fault. Sentinel-2 is left out so that Sentinel-1 decides every pixel."""
    points = _put_infinities(scene_copy)
    res, out = _run(tmp_path, scene_copy, **{"sources.s2": None})
    assert res.returncode == 0, res.stderr
    assert _at(out / "observed_water.tif", points) == [255, 255]


def test_infinite_pixels_in_an_asset_stay_out_of_every_layer(tmp_path, scene_copy):
    points = _put_infinities(scene_copy)
    res, out = _run(tmp_path, scene_copy, **{"sources.s2": None})
    assert res.returncode == 0, res.stderr
    with rasterio.open(out / "log_ratio_db.tif") as f:
        assert not np.isinf(f.read(1)).any()
    assert _at(out / "water_likelihood.tif", points) == [255, 255]


# ---------------------------------------------------------------- items and links


def test_item_with_an_impossible_datetime_is_one_line(tmp_path, scene_copy):
    item = _item_json(scene_copy)
    _edit_json(item, lambda d: d["properties"].update(datetime="2024-13-45T12:05:12Z"))
    res, out = _run(tmp_path, scene_copy)
    one_error(res, item.name)
    assert_nothing_written(out)
    one_error(
        cli("search", "--catalog", scene_copy / "catalog.json", "--collection", "sentinel-1-rtc"),
        item.name,
    )


def _self_link(scene):
    _edit_json(
        scene / "catalog.json",
        lambda d: d["links"].append(
            {"rel": "child", "href": "./catalog.json", "type": "application/json"}
        ),
    )


def _cycle(scene):
    _edit_json(
        scene / "sentinel-1-rtc" / "collection.json",
        lambda d: d["links"].append(
            {"rel": "child", "href": "../catalog.json", "type": "application/json"}
        ),
    )


def test_catalogue_that_links_to_itself_is_one_line(tmp_path, scene_copy):
    _self_link(scene_copy)
    res, out = _run(tmp_path, scene_copy)
    one_error(res, "catalog.json")
    assert_nothing_written(out)


@pytest.mark.parametrize("damage", ["self-link", "cycle-through-a-child"])
def test_search_in_a_looping_catalogue_is_one_line(eo, scene_copy, damage):
    (_self_link if damage == "self-link" else _cycle)(scene_copy)
    one_error(
        eo("search", "--catalog", scene_copy / "catalog.json", "--collection", "sentinel-1-rtc"),
        "catalog.json",
    )


@pytest.mark.parametrize("damage", ["missing-child", "missing-item", "item-bbox-3-numbers"])
def test_search_in_a_damaged_catalogue_is_one_line(eo, scene_copy, damage):
    item = _item_json(scene_copy)
    if damage == "missing-child":
        (scene_copy / "sentinel-1-rtc" / "collection.json").unlink()
        named = "collection.json"
    elif damage == "missing-item":
        item.unlink()
        named = item.name
    else:
        _edit_json(item, lambda d: d.update(bbox=[0, 0, 1]))
        named = item.stem
    one_error(
        eo(
            "search",
            "--catalog",
            scene_copy / "catalog.json",
            "--collection",
            "sentinel-1-rtc",
            "--bbox=-93,17.9,-92.8,18.1",
        ),
        named,
    )


# ---------------------------------------------------------------- whole catalogues


@pytest.mark.parametrize(
    "text",
    ["{not json", "[]", '{"type": "Feature"}', ""],
    ids=["not-json", "a-list", "not-stac", "empty-file"],
)
def test_catalogue_that_is_not_stac_is_one_line(eo, tmp_path, text):
    cat = tmp_path / "catalog.json"
    cat.write_text(text)
    one_error(eo("search", "--catalog", cat, "--collection", "sentinel-1-rtc"), "catalog.json")


def test_empty_catalogue_names_what_was_searched(tmp_path, small_demo_scene):
    root = tmp_path / "empty"
    cat = pystac.Catalog("empty", "a catalogue without items")
    cat.normalize_hrefs(str(root))
    cat.save(pystac.CatalogType.SELF_CONTAINED)
    res, out = _run(tmp_path, root)
    one_error(res, "collection sentinel-1-rtc is not in the catalogue", "it has: no collection")
    assert_nothing_written(out)
