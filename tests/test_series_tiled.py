"""The water series job run tiled: one cube per tile on a real local dask cluster against the
whole job, reruns and `eo-drr monitor` appending only the new dates to every tile, a tile
append killed half way, the tiles read as one lazy cube (and refused at different dates)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from affine import Affine

from eo_drr.errors import ConfigError, InputError
from eo_drr.io import cube_tiles, zarr_cube

sys.path.insert(0, str(Path(__file__).parent))

EARLY = {"time.post.end": "2024-02-28"}  # the first 10 dates of the demo series
TILING = {"tiling": {"tile_size_px": 128}}  # 6 tiles of the 256 px test scene
CLUSTER = {"kind": "processes", "n_workers": 2, "threads_per_worker": 1, "dashboard": False}
CRS = "EPSG:32615"
#: tiles threshold each date on their own (pipelines/water_series.py): on the demo, the
#: share of pixels whose frequency or class differs from the whole job's is below this
TILE_TOLERANCE = 0.01


def _job(tmp_path: Path, name: str, **changes):
    from test_cli import small_demo_job

    from eo_drr.config import load_config

    folder = tmp_path / name
    folder.mkdir()
    return load_config(small_demo_job(folder, "demo_frequency.yaml", **changes))


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as f:
        return f.read(1)


def _tile_cubes(out: Path) -> dict[str, Path]:
    return {p.parent.name: p for p in sorted((out / "tiles").glob("*/water_series.zarr"))}


def _chunk_mtimes(out: Path, dates: int) -> dict[str, int]:
    """mtime of every chunk of the first ``dates`` dates of every tile's cube."""
    return {
        str(p): p.stat().st_mtime_ns
        for cube in _tile_cubes(out).values()
        for p in (cube / "water").iterdir()
        if p.name[0].isdigit() and int(p.name.split(".")[0]) < dates
    }


@pytest.mark.slow
def test_tiled_series_on_a_cluster_matches_the_whole_job_and_appends_only_new_dates(
    tmp_path, small_demo_scene
):
    from eo_drr import open_series  # the API's face of pipelines.water_series.open_series
    from eo_drr.engine.monitor import run_monitor, scan_new
    from eo_drr.engine.run import run_job

    whole = run_job(_job(tmp_path, "w", **EARLY), tmp_path / "whole")
    job = _job(tmp_path, "t", **EARLY, **TILING, cluster=CLUSTER)
    out = tmp_path / "tiled"
    tiled = run_job(job, out)
    assert "dask distributed (processes)" in tiled.summary["compute"]
    assert len(tiled.summary["ran"]) == tiled.summary["tiles"] == 6
    assert set(_tile_cubes(out)) == set(tiled.summary["ran"])
    assert not (out / "water_series.zarr").exists()
    assert not list(out.glob("tiles/*/report.html"))  # one report, over the mosaics
    for key in ("observations", "frequency", "classes"):
        a, b = _read(whole.outputs[key]), _read(tiled.outputs[key])
        with rasterio.open(whole.outputs[key]) as fa, rasterio.open(tiled.outputs[key]) as fb:
            assert fa.transform == fb.transform and fa.crs == fb.crs
        same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
        if key == "observations":
            assert same.all()  # the dates and their footprints do not depend on tiles
        assert 1 - same.mean() <= TILE_TOLERANCE, key
    page = Path(tiled.outputs["report"]).read_text()
    assert "Dates in the series" in page and "synthetic demo scene" in page

    cube = open_series(out)  # the tiles' cubes as one lazy cube on the job grid
    ref = open_series(tmp_path / "whole")
    assert cube.rio.crs == CRS and cube.rio.transform() == ref.rio.transform()
    assert cube["water"].shape == ref["water"].shape == (10, 256, 256)
    assert (cube["time"].values == ref["time"].values).all()
    assert cube["water"].chunks is not None  # dask: read when computed
    np.testing.assert_array_equal(cube["valid_count"].values, _read(tiled.outputs["observations"]))
    differ = (cube["water"].values != ref["water"].values).mean()
    assert differ <= TILE_TOLERANCE

    # eo-drr monitor: every tile appends the 21 dates it lacks, the old chunks are not written
    before = _chunk_mtimes(out, 10)
    assert len(before) > 6  # (chunks all 0, not water, are not stored)
    found = scan_new(job, out)
    assert len(found.new) == 21 and found.since.startswith("2024-02-")
    assert {a.folder for a in found.new} == {"tiles/*/water_series.zarr"}
    _, results = run_monitor(job, out)
    assert results[0]["summary"]["tiles"] == 6 and len(results[0]["summary"]["ran"]) == 6
    assert _chunk_mtimes(out, 10) == before
    for tile in _tile_cubes(out):
        manifest = json.loads((out / "tiles" / tile / "tile.json").read_text())
        assert manifest["summary"]["dates"] == 31 and len(manifest["summary"]["new_dates"]) == 21
    with rasterio.open(out / "water_frequency.tif") as f:
        assert f.tags()["dates"] == "31"
    assert open_series(out).sizes["time"] == 31
    assert scan_new(job, out).new == ()


def test_killed_tile_append_leaves_it_readable_and_the_rerun_completes(
    tmp_path, small_demo_scene, monkeypatch
):
    from eo_drr import open_series  # the API's face of pipelines.water_series.open_series
    from eo_drr.engine.run import run_job
    from eo_drr.engine.tiled import TileFailures

    job = _job(tmp_path, "t", **EARLY, **TILING)
    out = tmp_path / "out"
    commit, calls = zarr_cube._commit, {"n": 0}

    def dies_on_third(p):  # the first tile: created with one date, two appends, then killed
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed mid-append")
        commit(p)

    monkeypatch.setattr(zarr_cube, "_commit", dies_on_third)
    with pytest.raises(TileFailures, match="1 of 6 tiles failed"):
        run_job(job, out)
    monkeypatch.undo()
    cubes = _tile_cubes(out)
    dates = {t: xr.open_zarr(p).sizes["time"] for t, p in cubes.items()}
    (failed,) = [t for t, n in dates.items() if n != 10]
    assert dates[failed] == 3  # readable at its committed dates
    assert not (out / "water_frequency.tif").exists()  # no mosaic of unfinished tiles
    with pytest.raises(InputError, match=f"tile {failed}: its cube holds 3 dates"):
        cube_tiles.open_tiles(cubes)
    with pytest.raises(InputError, match="no water series here"):
        open_series(out)

    again = run_job(job, out)  # the failed tile runs again and appends its 7 missing dates
    assert again.summary["ran"] == [failed] and len(again.summary["skipped"]) == 5
    manifest = json.loads((out / "tiles" / failed / "tile.json").read_text())
    assert len(manifest["summary"]["new_dates"]) == 7
    assert open_series(out).sizes["time"] == 10


def test_series_folders_of_the_other_layout_are_refused(tmp_path, small_demo_scene):
    from eo_drr.engine.monitor import scan_new
    from eo_drr.engine.run import plan_job, run_job

    whole = tmp_path / "whole"
    run_job(_job(tmp_path, "w", **EARLY), whole)
    with pytest.raises(ConfigError, match="run without tiling"):
        run_job(_job(tmp_path, "t", **EARLY, **TILING), whole)
    assert sorted(p.name for p in whole.iterdir() if p.is_dir()) == ["water_series.zarr"]
    tiled = tmp_path / "tiled"
    run_job(_job(tmp_path, "t2", **EARLY, **TILING), tiled)
    untiled = _job(tmp_path, "w2", **EARLY)
    with pytest.raises(ConfigError, match="holds a tiled water series .*--tile-size"):
        plan_job(untiled, tiled)
    assert len(scan_new(untiled, tiled, tile_size_px=128).new) == 21  # monitor --tile-size


def _times(n: int) -> list[np.datetime64]:
    return [np.datetime64("2024-01-01T12:05:12") + np.timedelta64(12 * i, "D") for i in range(n)]


def test_open_tiles_combines_fills_and_refuses_tiles_at_other_dates(tmp_path):
    rng = np.random.default_rng(3)
    # three tiles of a 2 x 2 grid of 40 px tiles (the south-east one is outside the AOI)
    origin = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 2000000.0)
    values = {}
    cubes = {}
    for name, (col, row) in {"nw": (0, 0), "ne": (1, 0), "sw": (0, 1)}.items():
        values[name] = rng.choice(np.array([0, 1, 255], np.uint8), (3, 40, 40))
        cubes[name] = tmp_path / name / "c.zarr"
        tf = origin @ Affine.translation(40 * col, 40 * row)
        zarr_cube.append_slices(cubes[name], values[name], _times(3), crs=CRS, transform=tf)
    ds = cube_tiles.open_tiles(cubes)
    assert ds.rio.crs == CRS and tuple(ds.rio.transform())[:6] == tuple(origin)[:6]
    water = ds["water"].values
    assert water.dtype == np.uint8 and water.shape == (3, 80, 80)
    np.testing.assert_array_equal(water[:, :40, :40], values["nw"])
    np.testing.assert_array_equal(water[:, :40, 40:], values["ne"])
    np.testing.assert_array_equal(water[:, 40:, :40], values["sw"])
    assert (water[:, 40:, 40:] == 255).all() and (ds["valid_count"].values[40:, 40:] == 0).all()
    np.testing.assert_array_equal(ds["water_count"].values[:40, :40], (values["nw"] == 1).sum(0))

    zarr_cube.append_slices(  # one tile a date ahead of the others
        cubes["ne"],
        values["ne"][:1],
        _times(4)[3:],
        crs=CRS,
        transform=origin @ Affine.translation(40, 0),
    )
    with pytest.raises(
        InputError, match=r"tile ne: its cube holds 4 dates, tile nw 3 .*2024-02-06"
    ):
        cube_tiles.open_tiles(cubes)
    with pytest.raises(InputError, match="tile gone: no time cube"):
        cube_tiles.open_tiles({**cubes, "gone": tmp_path / "gone.zarr"})
