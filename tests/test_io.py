"""Atomic writes, the COG writer and the staged output folder."""

from __future__ import annotations

import os

import dask.array as da
import numpy as np
import pytest
import rasterio
from affine import Affine

from eo_drr.errors import InputError, OutputError
from eo_drr.io import atomic_path, atomic_write_text, validate_cog, write_cog
from eo_drr.io.cog import CogStyle
from eo_drr.publish import OutputFolder

TRANSFORM = Affine(10, 0, 500000, 0, -10, 2000000)


def test_atomic_write_replaces_whole_file(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write_text(p, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(p) as tmp:
            tmp.write_text("half of the new")
            raise RuntimeError("crash mid-write")
    assert p.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["a.txt"]  # no temp file left
    atomic_write_text(p, "new")
    assert p.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


@pytest.mark.parametrize("backend", ["numpy", "dask"])
def test_write_cog_valid(tmp_path, backend):
    rng = np.random.default_rng(0)
    arr = rng.random((3, 700, 900), dtype=np.float32)
    arr[:, :10, :10] = np.nan
    data = da.from_array(arr, chunks=(1, 256, 256)) if backend == "dask" else arr
    p = write_cog(
        data,
        tmp_path / "x.tif",
        crs="EPSG:32615",
        transform=TRANSFORM,
        nodata=np.nan,
        style=CogStyle(band_descriptions=["a", "b", "c"], tags={"units": "dB"}),
    )
    ok, errors, _ = validate_cog(p)
    assert ok, errors
    with rasterio.open(p) as src:
        assert src.descriptions == ("a", "b", "c")
        assert src.crs.to_epsg() == 32615 and src.transform == TRANSFORM
        assert src.overviews(1), "a COG of this size has overviews"
        np.testing.assert_array_equal(src.read(), arr)
        assert src.tags()["units"] == "dB"


def test_write_cog_classes_with_colormap(tmp_path):
    arr = (np.arange(600 * 600).reshape(600, 600) % 3).astype(np.uint8)
    arr[0, 0] = 255
    p = write_cog(
        arr,
        tmp_path / "c.tif",
        crs="EPSG:32615",
        transform=TRANSFORM,
        nodata=255,
        style=CogStyle(colormap={0: (0, 0, 0, 0), 1: (0, 0, 255, 255), 2: (255, 0, 0, 255)}),
    )
    with rasterio.open(p) as src:
        assert src.colormap(1)[1] == (0, 0, 255, 255)
        assert src.nodata == 255


def test_write_cog_needs_georeferencing(tmp_path):
    with pytest.raises(InputError, match="no CRS"):
        write_cog(np.zeros((10, 10), np.uint8), tmp_path / "x.tif", transform=TRANSFORM)
    assert not list(tmp_path.iterdir())


def test_output_folder_commit_and_abort(tmp_path):
    root = tmp_path / "out"
    of = OutputFolder(root)
    of.open()
    atomic_write_text(of.path("a/b.txt"), "x")
    assert not (root / "a" / "b.txt").exists()  # staged, not yet in place
    moved = of.commit()
    assert moved == [root / "a" / "b.txt"] and (root / "a" / "b.txt").read_text() == "x"
    assert sorted(p.name for p in root.iterdir()) == ["a"]

    of2 = OutputFolder(tmp_path / "fresh")
    of2.open()
    atomic_write_text(of2.path("c.txt"), "y")
    of2.abort()
    assert not (tmp_path / "fresh").exists()


def test_stale_staging_of_dead_process_is_cleaned(tmp_path):
    root = tmp_path / "out"
    stale = root / ".eo-drr-staging-999999999-abc"
    stale.mkdir(parents=True)
    (stale / "half.tif").write_bytes(b"II*")
    OutputFolder(root).open()
    assert not stale.exists()


def test_output_folder_not_writable(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        OutputFolder(f / "sub").check_writable()
    with pytest.raises(OutputError, match="not a folder"):
        OutputFolder(f).check_writable()


def test_write_cog_without_overviews_inside_the_block(tmp_path):
    from eo_drr.io import without_overviews

    arr = np.random.default_rng(0).random((1500, 1400)).astype(np.float32)
    kw = dict(crs="EPSG:32615", transform=Affine(10, 0, 500000, 0, -10, 2000000))
    with without_overviews():
        write_cog(arr, tmp_path / "tile.tif", **kw)
    write_cog(arr, tmp_path / "mosaic.tif", **kw)
    with rasterio.open(tmp_path / "tile.tif") as a, rasterio.open(tmp_path / "mosaic.tif") as b:
        assert a.overviews(1) == [] and b.overviews(1) != []
        np.testing.assert_array_equal(a.read(1), arr)
        np.testing.assert_array_equal(b.read(1), arr)
    assert validate_cog(tmp_path / "tile.tif")[0]


def test_commit_moves_the_manifest_and_catalogue_last(tmp_path, monkeypatch):
    """If a commit is interrupted, run.json and the catalogue still describe the previous
    complete run: they move after every other file."""
    out = OutputFolder(tmp_path / "o")
    out.open()
    for name in ("catalog.json", "a.tif", "run.json", "z.csv", "outputs.item.json", "sub/b.tif"):
        out.path(name).write_text(name)
    moved = []
    real = os.replace

    def spy(src, dst):
        moved.append(os.path.relpath(dst, tmp_path / "o"))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    out.commit()
    assert moved[-3:] == ["run.json", "outputs.item.json", "catalog.json"]
    assert set(moved[:-3]) == {"a.tif", "z.csv", os.path.join("sub", "b.tif")}
