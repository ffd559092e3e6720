"""The Python API: the engine and products the command line runs, from Python."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import rasterio
from conftest import DEMO_TEST_SEED, DEMO_TEST_SIZE
from test_behaviour_manifest import fingerprint, recorded

import eo_drr
from eo_drr.errors import ConfigError, InputError


def test_import_is_light_and_exports_the_api():
    code = "import sys, eo_drr; print(json.dumps(sorted(m for m in sys.modules if m.startswith(('xarray', 'dask', 'eo_drr.engine')))))"
    res = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True
    )
    assert json.loads(res.stdout) == []  # nothing heavy until an API name is used
    for name in (
        "run",
        "load_job",
        "demo_job",
        "search",
        "load",
        "water",
        "flood",
        "growth",
        "depth",
        "open_series",
        "indices",
    ):
        assert name in eo_drr.__all__ and getattr(eo_drr, name) is not None, name
    with pytest.raises(AttributeError):
        eo_drr.no_such_thing  # noqa: B018


def test_run_gives_what_the_command_gives(tmp_path, small_demo_scene):
    """eo_drr.run on the demo job writes the same results as `eo-drr run` (the recorded
    manifest of the command's outputs) and hands back outputs, tables, summary and flags."""
    events = []
    job = eo_drr.demo_job(size=DEMO_TEST_SIZE, seed=DEMO_TEST_SEED)
    r = eo_drr.run(job, tmp_path / "out", progress=events.append)
    assert fingerprint(tmp_path / "out") == recorded("flood")
    assert (
        r.outputs["flood"] == tmp_path / "out" / "flood_extent.tif" and r.outputs["flood"].is_file()
    )
    assert r.outputs["sendai"].suffix == ".csv" and r.outputs["sendai_parquet"].suffix == ".parquet"
    assert {"flood_by_unit", "sendai_eo_proxies"} <= set(r.tables)
    t = r.tables["flood_by_unit"]
    assert t.crs is not None and t["exposed_population"].sum() == pytest.approx(
        r.summary["exposed_population"]
    )
    assert r.summary["flooded_ha"] > 0 and isinstance(r.quality, list)
    flood = r.open("flood")
    assert flood.rio.crs is not None and flood.shape == (DEMO_TEST_SIZE, DEMO_TEST_SIZE)
    kinds = {e.kind for e in events}
    assert {"step", "step_done", "compute"} <= kinds
    with pytest.raises(InputError, match="no such raster output"):
        r.open("nope")
    # a second run into the same folder: the engine refuses nothing, replaces atomically
    r2 = eo_drr.run(job, tmp_path / "out")
    assert fingerprint(tmp_path / "out") == recorded("flood") and r2.folder == r.folder


def test_tiled_run_through_the_api(tmp_path, small_demo_scene):
    r = eo_drr.run(
        eo_drr.demo_job(size=DEMO_TEST_SIZE, seed=DEMO_TEST_SEED), tmp_path / "t", tile_size_px=128
    )
    assert fingerprint(tmp_path / "t") == recorded("flood_tiled")
    assert r.summary["tiles"] == 6 and "flood" in r.outputs


def test_load_job_errors_are_the_cli_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such job file"):
        eo_drr.load_job(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=r"<dict>.*pipeline"):
        eo_drr.load_job({"name": "x", "pipeline": "volcano"})
    with pytest.raises(ConfigError, match="expected a job file path or a dict"):
        eo_drr.load_job(42)
    with pytest.raises(ConfigError, match="no demo job"):
        eo_drr.demo_job(pipeline="volcano")
    with pytest.raises(InputError, match="progress"):
        eo_drr.run(eo_drr.demo_job(size=64), tmp_path / "o", progress="fancy")
    with pytest.raises(InputError, match="bbox"):
        eo_drr.search("sentinel-1-rtc", (10, 0, 5, 1), "2024-01-01", "2024-01-02", catalog="demo")
    with pytest.raises(InputError, match="start"):
        eo_drr.search("sentinel-1-rtc", (0, 0, 1, 1), "2024-13-01", "2024-01-02", catalog="demo")


def _demo_s1(scene, which: str):
    """(vv, vh) DataArrays in dB of the demo's post-event (or first pre-event) scene."""
    items = eo_drr.search(
        "sentinel-1-rtc",
        scene.bbox_wgs84,
        "2023-01-01",
        "2025-12-31",
        catalog=str(scene.catalog_path),
    )
    item = items[-1] if which == "post" else items[0]
    ds = eo_drr.load([item], ["vv", "vh"], bbox=scene.bbox_wgs84, crs=str(scene.crs), chunks=128)
    ds = ds.isel(time=0)
    return ds, item


def test_search_load_water_flood_lazily(small_demo_scene):
    sc = small_demo_scene
    post, item = _demo_s1(sc, "post")
    assert post["vv"].chunks is not None  # load is lazy
    db = 10 * np.log10(post.where(post > 0))
    lazy = eo_drr.water(db)
    assert lazy.chunks is not None  # a dask-backed input gives a dask-backed result
    eager = eo_drr.water(db.compute())
    np.testing.assert_array_equal(lazy.values, eager.values)
    assert (
        eager.rio.crs is not None
        and eager.rio.nodata == 255
        and eager.attrs["polarisation"] == "vh"
    )
    assert set(np.unique(eager.values)) <= {0, 1, 255} and (eager == 1).any()
    pre, _ = _demo_s1(sc, "pre")
    fl = eo_drr.flood(10 * np.log10(pre.where(pre > 0)).compute(), db.compute())
    assert fl.rio.crs is not None and set(np.unique(fl["flood"].values)) <= {0, 1, 2, 255}
    import rioxarray

    truth = rioxarray.open_rasterio(sc.truth["flood_observable"]).squeeze("band", drop=True)
    truth = truth.rio.reproject_match(fl["flood"]).values == 1
    got = fl["flood"].values == 1
    assert (got & truth).sum() / (got | truth).sum() > 0.5
    with pytest.raises(InputError, match="no VV band"):
        eo_drr.water(db.rename({"vv": "hh", "vh": "hv"}))
    with pytest.raises(InputError, match="no such file"):
        eo_drr.water("missing.tif")


def test_growth_from_files_matches_the_command(shared_data, tmp_path):
    from test_cli import eo_drr as cli

    root = shared_data / "oscd-urban-change" / "aguasclaras"
    if not (root / "s2_before.tif").exists():
        pytest.skip(f"no OSCD city under {root}")
    g = eo_drr.growth(root / "s2_before.tif", root / "s2_after.tif")
    res = cli(
        "growth",
        "--before",
        root / "s2_before.tif",
        "--after",
        root / "s2_after.tif",
        "--out",
        tmp_path / "g.tif",
    )
    assert res.returncode == 0, res.stderr
    with rasterio.open(tmp_path / "g.tif") as f:
        np.testing.assert_array_equal(g.values, f.read(1))
        assert g.rio.crs == f.crs and g.rio.transform() == f.transform
    assert g.attrs["sentinel1"] is False
    with pytest.raises(InputError, match="both, or neither"):
        eo_drr.growth(
            root / "s2_before.tif", root / "s2_after.tif", s1_before=root / "s2_before.tif"
        )


def test_the_readme_example_runs(tmp_path):
    """The README's Python example, as written, in a fresh process (offline, demo scene)."""
    import os
    import re
    from pathlib import Path

    text = (Path(__file__).parents[1] / "README.md").read_text()
    section = text[text.index("## From Python") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    env = dict(os.environ)
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "demo-api-output" / "flood_extent.tif").is_file()
    assert float(res.stdout.split()[0]) > 0


def test_outputs_dir_is_relative_to_the_job_file(tmp_path, small_demo_scene, monkeypatch):
    from test_cli import small_demo_job

    (tmp_path / "jobs").mkdir()
    job = small_demo_job(tmp_path / "jobs", **{"outputs.dir": "flood-out"})
    monkeypatch.chdir(tmp_path)
    r = eo_drr.run(job)
    assert r.folder == tmp_path / "jobs" / "flood-out" and (r.folder / "flood_extent.tif").is_file()
    assert not (tmp_path / "flood-out").exists()


def test_a_grid_too_big_for_the_machine_is_refused_before_work(tmp_path, small_demo_scene):
    from test_cli import small_demo_job

    job = eo_drr.load_job(small_demo_job(tmp_path, **{"grid.resolution": 0.001}))
    with pytest.raises(
        ConfigError, match=r"grid.resolution: 0.001 gives .* GiB in one piece.*tiling"
    ):
        eo_drr.run(job, tmp_path / "out")
    with pytest.raises(ConfigError, match=r"tiles of 1024 px; is the resolution in metres"):
        eo_drr.run(job, tmp_path / "out", tile_size_px=1024)
    assert not (tmp_path / "out").exists()


def test_population_from_a_file_is_used_not_ignored(tmp_path, small_demo_scene):
    """sources.population.file gives the same exposed population as the catalogue's grid."""
    import rasterio
    from test_cli import small_demo_job

    from eo_drr.errors import InputError

    total = next(small_demo_scene.root.glob("demo-population/*/total.tif"))
    rel = f"demo://{total.relative_to(small_demo_scene.root).as_posix()}"
    by_file = eo_drr.run(
        small_demo_job(tmp_path, **{"sources.population": {"file": rel}}), tmp_path / "f"
    )
    (tmp_path / "c").mkdir()
    by_items = eo_drr.run(small_demo_job(tmp_path / "c"), tmp_path / "c" / "out")
    a, b = by_file.tables["flood_by_unit"], by_items.tables["flood_by_unit"]
    assert a["exposed_population"].sum() > 0
    assert a["exposed_population"].to_numpy() == pytest.approx(
        b["exposed_population"].to_numpy(), rel=1e-6
    )
    # a population file far from the AOI is refused, not read as "0 people exposed"
    far = tmp_path / "far.tif"
    with rasterio.open(total) as src:
        prof, data = src.profile, src.read()
    t = prof["transform"]
    prof.update(transform=rasterio.Affine(t.a, t.b, t.c + 1e6, t.d, t.e, t.f))
    with rasterio.open(far, "w", **prof) as dst:
        dst.write(data)
    (tmp_path / "g").mkdir()
    with pytest.raises(InputError, match="does not overlap the AOI"):
        eo_drr.run(
            small_demo_job(tmp_path / "g", **{"sources.population": {"file": str(far)}}),
            tmp_path / "g" / "out",
        )


def test_admin_units_that_miss_the_aoi_are_refused_not_zero_people(tmp_path, small_demo_scene):
    import geopandas as gpd
    from test_cli import small_demo_job

    from eo_drr.errors import InputError

    units = gpd.read_file(small_demo_scene.admin_units, layer="level2")
    units["geometry"] = units.geometry.translate(xoff=1e6)
    units.to_file(tmp_path / "far.gpkg", layer="level2")
    job = small_demo_job(tmp_path, **{"exposure.admin_units.file": str(tmp_path / "far.gpkg")})
    with pytest.raises(InputError, match=r"none of the \d+ units .* overlaps the AOI"):
        eo_drr.run(job, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_output_folder_holding_the_jobs_inputs_is_refused(tmp_path, small_demo_scene):
    """-o the folder of the job's own catalogue would write catalog.json over it."""
    import shutil

    from test_cli import small_demo_job

    from eo_drr.errors import OutputError

    scene = tmp_path / "scene"
    shutil.copytree(small_demo_scene.root, scene)
    before = (scene / small_demo_scene.catalog_path.name).read_bytes()
    job = small_demo_job(
        tmp_path, **{"sources.catalog": str(scene / small_demo_scene.catalog_path.name)}
    )
    for tiles in (None, 128):
        with pytest.raises(OutputError, match="holds an input of the job"):
            eo_drr.run(job, scene, tile_size_px=tiles)
    assert (scene / small_demo_scene.catalog_path.name).read_bytes() == before
    assert not list(scene.glob("run.json")) and not list(scene.glob(".eo-drr*"))


@pytest.mark.parametrize("case", ["far", "inf"])
def test_a_hand_file_with_nothing_over_the_grid_is_refused(tmp_path, small_demo_scene, case):
    """A HAND file 1000 km away, or all +inf, would exclude nothing without a word."""
    import rasterio
    from test_cli import small_demo_job

    from eo_drr.errors import InputError

    src = next(small_demo_scene.root.glob("demo-hand/*/*.tif"))
    with rasterio.open(src) as f:
        prof, data = f.profile, f.read()
    if case == "far":
        t = prof["transform"]
        prof.update(transform=rasterio.Affine(t.a, t.b, t.c + 1e6, t.d, t.e, t.f))
    else:
        data = np.full_like(data, np.inf, dtype=np.float32)
        prof.update(dtype="float32", nodata=None)
    with rasterio.open(tmp_path / "hand.tif", "w", **prof) as dst:
        dst.write(data.astype(prof["dtype"]))
    job = small_demo_job(tmp_path, **{"sources.hand": {"file": str(tmp_path / "hand.tif")}})
    with pytest.raises(
        InputError, match="sources.hand.file: .* no valid pixel over the job's grid"
    ):
        eo_drr.run(job, tmp_path / "out")
