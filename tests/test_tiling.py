"""Tiled jobs: the fixed tile grid, resumable reruns, kill -9 mid-job, a failed tile, an
incremental rerun when a new acquisition appears, and the lock against two runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry
from shapely.geometry import box
from test_cli import assert_user_error, eo_drr, small_demo_job

from eo_drr.io.atomic import sha256_file
from eo_drr.io.cog import validate_cog
from eo_drr.jobs.ledger import LEDGER_NAME, JobLedger, JobLock
from eo_drr.jobs.tiling import tile_grid

# the small demo scene (256 px at 10 m, UTM 15N) spans x 506100..508660, y 1987840..1990400;
# tiles of 128 px (1280 m) on the fixed grid: columns 395..397, rows 1553..1554
TILE = 128
SLICE_X = 397 * TILE * 10  # 508160: the edge between tile columns 396 and 397
WEST_TILES = {"x395_y1553", "x395_y1554", "x396_y1553", "x396_y1554"}
EAST_TILES = {"x397_y1553", "x397_y1554"}


# -- the grid ---------------------------------------------------------------------------------
def _gbox(left=506100, top=1990400, nx=256, ny=256, res=10):
    return GeoBox.from_bbox(
        (left, top - ny * res, left + nx * res, top), crs="EPSG:32615", resolution=res
    )


def test_tiles_partition_the_grid_on_a_fixed_origin():
    gb = _gbox()
    tiles = tile_grid(gb, TILE)
    assert {t.id for t in tiles} == WEST_TILES | EAST_TILES
    assert sum(t.geobox.shape.x * t.geobox.shape.y for t in tiles) == 256 * 256
    for t in tiles:
        left, bottom, right, top = t.bounds
        # inner edges sit on multiples of the tile size; outer edges on the job grid
        assert left in (506100,) or left % (TILE * 10) == 0
        assert right in (508660,) or right % (TILE * 10) == 0
        assert bottom % (TILE * 10) == 0 and top % (TILE * 10) == 0
        # a tile's pixels are the job grid's pixels
        assert (t.geobox.affine.c - gb.affine.c) % 10 == 0 and (
            gb.affine.f - t.geobox.affine.f
        ) % 10 == 0


def test_a_border_sliver_joins_its_neighbour():
    """A grid that ends 4 px past a tile edge (x) and starts 3 px before one (y) gets no 4 px
    or 3 px tiles: the slivers join their neighbours, which keep their ids; every pixel is in
    exactly one tile."""
    from eo_drr.jobs.tiling import MIN_SIDE_PX

    # x 506100..508200: columns 395 (78 px), 396 (128 px), 397 (4 px: 508160..508200)
    # y 1987810..1990400: rows 1554 (94 px), 1553 (128 px), 1552 (3 px: 1987810..1987840)
    gb = _gbox(nx=210, ny=259)
    tiles = tile_grid(gb, TILE)
    assert {t.id for t in tiles} == WEST_TILES
    sides = {(t.geobox.shape.x, t.geobox.shape.y) for t in tiles}
    assert all(min(side) >= MIN_SIDE_PX for side in sides), sides
    assert sum(t.geobox.shape.x * t.geobox.shape.y for t in tiles) == 210 * 259
    by_id = {t.id: t for t in tiles}
    assert by_id["x396_y1553"].bounds == (506880, 1987810, 508200, 1989120)
    # pixels stay the job grid's
    for t in tiles:
        assert (t.geobox.affine.c - gb.affine.c) % 10 == 0


def test_tile_ids_do_not_depend_on_the_aoi():
    whole = {t.id: t.bounds for t in tile_grid(_gbox(), TILE)}
    part = tile_grid(
        _gbox(), TILE, Geometry(box(508200, 1988000, 508500, 1988500), crs="EPSG:32615")
    )
    assert [t.id for t in part] == ["x397_y1553"]
    assert part[0].bounds == whole["x397_y1553"]
    # a bigger grid (another AOI) gives the same tiles where they overlap
    bigger = {t.id: t.bounds for t in tile_grid(_gbox(left=504000, nx=600, ny=400), TILE)}
    assert bigger["x396_y1554"] == whole["x396_y1554"]


def test_tile_search_box_stays_inside_the_tile():
    t = next(t for t in tile_grid(_gbox(), TILE) if t.id == "x396_y1553")
    w, s, e, n = t.search_bbox()
    fp = t.footprint().boundingbox
    assert fp.left < w < e < fp.right and fp.bottom < s < n < fp.top


# -- helpers for the end-to-end tests ----------------------------------------------------------
def _assert_plain_error(res, *fragments: str) -> None:
    """Non-zero exit, no traceback, an ``error:`` line (warnings of the tiles may come first)."""
    assert res.returncode != 0, res.stdout + res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    assert "\nerror: " in "\n" + res.stderr, res.stderr
    for f in fragments:
        assert f in res.stderr, f"{f!r} not in: {res.stderr}"


def _job(tmp_path, **changes) -> Path:
    base = {"exposure": None, "tiling": {"tile_size_px": TILE}}
    base.update(changes)
    return small_demo_job(tmp_path, **base)


def _ledger_rows(out: Path) -> dict[str, dict]:
    con = sqlite3.connect(out / LEDGER_NAME)
    con.row_factory = sqlite3.Row
    rows = {r["tile_id"]: dict(r) for r in con.execute("SELECT * FROM tiles WHERE current=1")}
    con.close()
    return rows


def _tile_files(out: Path) -> dict[str, tuple[int, str]]:
    return {
        p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, sha256_file(p))
        for p in sorted((out / "tiles").rglob("*"))
        if p.is_file()
    }


def _rerun_expect(job, out: Path, *, skipped, ran) -> subprocess.CompletedProcess:
    """Run the job again: the ``skipped`` tiles are skipped with their files untouched (same
    mtime and checksum), the ``ran`` tiles run."""
    kept = {p: v for p, v in _tile_files(out).items() if p.split("/")[1] in skipped}
    res = eo_drr("run", job, "-o", out)
    assert res.returncode == 0, res.stderr
    for tid in skipped:
        assert f"skip    {tid}" in res.stdout
    for tid in ran:
        assert f"done    {tid}" in res.stdout
    after = _tile_files(out)
    for path, v in kept.items():
        assert after[path] == v, f"{path} of a skipped tile was rewritten"
    return res


def _assert_complete(out: Path, tiles: set[str], shape=(256, 256)) -> None:
    rows = _ledger_rows(out)
    assert {k for k, r in rows.items() if r["status"] == "done"} == tiles
    ledger = JobLedger(out)
    for tid, r in rows.items():
        ok, why = ledger.verified_done(r["job"], tid, r["fingerprint"])
        assert ok, (tid, why)
    assert not list(out.rglob(".eo-drr-staging-*")), "a staging folder was left behind"
    assert not list(out.rglob("*.tmp*")), "a temporary file was left behind"
    ok, errors, _ = validate_cog(out / "flood_extent.tif")
    assert ok, errors
    with rasterio.open(out / "flood_extent.tif") as src:
        assert shape is None or src.shape == shape
        mosaic, left, top = src.read(1), src.bounds.left, src.bounds.top
    # the mosaic is exactly the tiles, pixel for pixel
    for tid in tiles:
        with rasterio.open(out / "tiles" / tid / "flood_extent.tif") as t:
            r0 = round((top - t.bounds.top) / 10)
            c0 = round((t.bounds.left - left) / 10)
            np.testing.assert_array_equal(mosaic[r0 : r0 + t.height, c0 : c0 + t.width], t.read(1))
    cat = json.loads((out / "catalog.json").read_text())
    assert cat["type"] == "Catalog"


# -- resumable reruns ---------------------------------------------------------------------------
@pytest.mark.slow
def test_tiled_run_then_rerun_skips_verified_tiles(tmp_path, small_demo_scene):
    job = _job(tmp_path)
    out = tmp_path / "out"
    res = eo_drr("run", job, "-o", out, "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "6 tiles of 128 px" in res.stdout and not out.exists()
    res = eo_drr("run", job, "-o", out)
    assert res.returncode == 0, res.stderr
    _assert_complete(out, WEST_TILES | EAST_TILES)
    before = _tile_files(out)
    attempts = {k: r["attempts"] for k, r in _ledger_rows(out).items()}

    # a tile whose output was tampered with is rerun; the others are skipped untouched
    victim = out / "tiles" / "x396_y1554" / "flood_extent.tif"
    victim.write_bytes(victim.read_bytes()[:-10])
    res = eo_drr("run", job, "-o", out)
    assert res.returncode == 0, res.stderr
    assert "rerun   x396_y1554" in res.stdout and "changed" in res.stdout
    after = _tile_files(out)
    for path, (mtime, sha) in before.items():
        if not path.startswith("tiles/x396_y1554/"):
            assert after[path] == (mtime, sha), f"{path} was rewritten"
    assert (
        after["tiles/x396_y1554/flood_extent.tif"][1]
        == before["tiles/x396_y1554/flood_extent.tif"][1]
    )
    rows = _ledger_rows(out)
    assert rows["x396_y1554"]["attempts"] == attempts["x396_y1554"] + 1
    assert all(rows[t]["attempts"] == attempts[t] for t in rows if t != "x396_y1554")

    res = eo_drr("status", out)
    assert res.returncode == 0, res.stderr
    assert "6 done" in res.stdout and "x397_y1553" in res.stdout
    data = json.loads(eo_drr("status", out, "--json").stdout)
    assert {t["tile_id"] for t in data["tiles"]} == WEST_TILES | EAST_TILES
    assert [r["ran"] for r in data["runs"]] == [6, 1]


@pytest.mark.slow
def test_kill_mid_job_then_rerun_finishes_and_skips_done_tiles(tmp_path, small_demo_scene):
    job = _job(tmp_path)
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("eo-drr")
    proc = subprocess.Popen(
        [str(exe), "run", str(job), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        done: dict = {}
        while time.monotonic() < deadline:
            if (out / LEDGER_NAME).exists():
                try:
                    done = {k: r for k, r in _ledger_rows(out).items() if r["status"] == "done"}
                except sqlite3.OperationalError:
                    done = {}
            if len(done) >= 2:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert 2 <= len(done) < 6, f"kill came too late: {len(done)} tiles done"
    assert not (out / "catalog.json").exists(), "outputs were assembled although the job was killed"
    rows = _ledger_rows(out)
    unfinished = {k for k, r in rows.items() if r["status"] != "done"}
    # nothing of an unfinished tile counts: it is not done, whatever files it left
    assert unfinished and all(rows[k]["status"] in ("running", "pending") for k in unfinished)

    _rerun_expect(job, out, skipped=done, ran=unfinished)
    _assert_complete(out, WEST_TILES | EAST_TILES)


# -- a sliced post-event acquisition: a failed tile, then an incremental rerun -------------------
def _crop(src_path: Path, dst_path: Path, x0: float, x1: float) -> None:
    with rasterio.open(src_path) as src:
        c0 = round((x0 - src.bounds.left) / src.res[0])
        c1 = round((x1 - src.bounds.left) / src.res[0])
        win = rasterio.windows.Window(c0, 0, c1 - c0, src.height)
        prof = src.profile | {
            "width": c1 - c0,
            "transform": src.window_transform(win),
            "driver": "GTiff",
        }
        prof.pop("blockxsize", None), prof.pop("blockysize", None), prof.pop("tiled", None)
        dst_path.parent.mkdir(parents=True, exist_ok=True)
        with rasterio.open(dst_path, "w", **prof) as dst:
            dst.write(src.read(window=win))


def _slice_item(
    item: pystac.Item,
    folder: Path,
    suffix: str,
    x0: float,
    x1: float,
    when: dt.datetime | None = None,
) -> pystac.Item:
    from eo_drr.demo.catalog import footprint_wgs84

    new = item.clone()
    new.id = f"{item.id}_{suffix}"
    if when is not None:
        new.datetime = when
        new.properties.pop("start_datetime", None), new.properties.pop("end_datetime", None)
    for asset in new.assets.values():
        dst = folder / new.id / Path(asset.href).name
        _crop(Path(asset.get_absolute_href()), dst, x0, x1)
        asset.href = str(dst)
        with rasterio.open(dst) as d:
            asset.extra_fields["proj:shape"] = [d.height, d.width]
            asset.extra_fields["proj:transform"] = list(d.transform)[:6]
            asset.extra_fields.pop("file:checksum", None), asset.extra_fields.pop("file:size", None)
    new.properties.pop("proj:shape", None), new.properties.pop("proj:transform", None)
    new.properties.pop("proj:bbox", None)
    y0, y1 = 1987840, 1990400
    new.geometry, new.bbox = footprint_wgs84(32615, (x0, y0, x1, y1))
    return new


def _sliced_catalog(scene, folder: Path, extra: list[pystac.Item] = ()) -> Path:
    """The demo catalogue with the post-event Sentinel-1 scene cut into a west and an east slice
    at the edge between tile columns 396 and 397 (as Sentinel-1 GRD slices)."""
    from eo_drr.demo.catalog import save_catalog

    cat = pystac.read_file(str(scene.catalog_path))
    items: dict[str, list] = {}
    for it in cat.get_items(recursive=True):
        it.make_asset_hrefs_absolute()
        items.setdefault(it.collection_id, []).append(it)
    s1 = items["sentinel-1-rtc"]
    post = next(it for it in s1 if it.id.startswith("S1A_IW_GRDH_1SDV_20241105"))
    s1.remove(post)
    west_x0 = 506100
    s1 += [
        _slice_item(post, folder / "slices", "W", west_x0, SLICE_X),
        _slice_item(post, folder / "slices", "E", SLICE_X, 508660),
        *extra,
    ]
    return save_catalog(folder / "catalog", "sliced", "sliced demo", items)


@pytest.mark.slow
def test_failed_tile_is_recorded_and_the_others_finish_then_incremental_rerun(
    tmp_path, small_demo_scene
):
    catalog = _sliced_catalog(small_demo_scene, tmp_path / "cat")
    east_vv = next((tmp_path / "cat" / "slices").glob("*_E/vv.tif"))
    good = east_vv.read_bytes()
    east_vv.write_bytes(good[: len(good) // 2])  # a truncated download
    job = _job(tmp_path, **{"sources.catalog": str(catalog), "tiling.max_attempts": 2})
    out = tmp_path / "out"
    res = eo_drr("run", job, "-o", out)
    _assert_plain_error(res, "2 of 6 tiles failed", "x397_y1553", "x397_y1554", "eo-drr status")
    rows = _ledger_rows(out)
    assert {k for k, r in rows.items() if r["status"] == "failed"} == EAST_TILES
    assert {k for k, r in rows.items() if r["status"] == "done"} == WEST_TILES
    for t in EAST_TILES:
        assert "vv.tif" in rows[t]["error"] or "corrupt" in rows[t]["error"].lower(), rows[t][
            "error"
        ]
    assert not (out / "flood_extent.tif").exists(), "a mosaic with missing tiles was written"
    res = eo_drr("status", out)
    assert "2 done" not in res.stdout and "4 done" in res.stdout and "2 failed" in res.stdout

    # second failure uses up tiling.max_attempts: 2; a third run does not retry them
    assert eo_drr("run", job, "-o", out).returncode != 0
    res = eo_drr("run", job, "-o", out)
    _assert_plain_error(res, "gave up after 2 attempts")
    assert all(_ledger_rows(out)[t]["attempts"] == 2 for t in EAST_TILES)

    # the input is repaired: --retry-failed reruns only the failed tiles
    west_before = _tile_files(out)
    east_vv.write_bytes(good)
    res = eo_drr("run", job, "-o", out, "--retry-failed")
    assert res.returncode == 0, res.stderr
    for t in WEST_TILES:
        assert f"skip    {t}" in res.stdout
    _assert_complete(out, WEST_TILES | EAST_TILES)
    assert {
        p: v for p, v in _tile_files(out).items() if p.split("/")[1] in WEST_TILES
    } == west_before

    # incremental: a new west slice appears (acquired earlier in the post window, ingested late):
    # only the tiles it covers have new inputs and run again
    post = next(
        it
        for it in pystac.read_file(str(small_demo_scene.catalog_path)).get_items(recursive=True)
        if it.id.startswith("S1A_IW_GRDH_1SDV_20241105")
    )
    post.make_asset_hrefs_absolute()
    new = _slice_item(
        post,
        tmp_path / "cat" / "slices",
        "W2",
        506100,
        SLICE_X,
        when=dt.datetime(2024, 11, 4, 23, 0, tzinfo=dt.timezone.utc),
    )
    _sliced_catalog(small_demo_scene, tmp_path / "cat", extra=[new])
    _rerun_expect(job, out, skipped=EAST_TILES, ran=WEST_TILES)
    rows = _ledger_rows(out)
    for t in WEST_TILES:
        assert any(new.id in i for i in json.loads(rows[t]["inputs"]))
    _assert_complete(out, WEST_TILES | EAST_TILES)


def test_two_runs_on_one_output_folder_are_refused(tmp_path, small_demo_scene):
    out = tmp_path / "out"
    out.mkdir()
    with JobLock(out):
        res = eo_drr("run", _job(tmp_path), "-o", out)
    assert_user_error(res, "in use by another eo-drr run", f"pid {os.getpid()}")
    assert not (out / LEDGER_NAME).exists() or not _ledger_rows(out)


def test_status_of_a_folder_without_ledger(tmp_path):
    res = eo_drr("status", tmp_path)
    assert_user_error(res, "no job ledger")


# -- eo-drr jobs: listing and retrying failed tiles ---------------------------------------------
@pytest.mark.slow
def test_jobs_lists_tile_states_and_retry_reruns_only_failed_tiles(tmp_path, small_demo_scene):
    catalog = _sliced_catalog(small_demo_scene, tmp_path / "cat")
    east_vv = next((tmp_path / "cat" / "slices").glob("*_E/vv.tif"))
    good = east_vv.read_bytes()
    east_vv.write_bytes(good[: len(good) // 2])
    job = _job(tmp_path, **{"sources.catalog": str(catalog), "tiling.max_attempts": 1})
    out = tmp_path / "out"
    assert eo_drr("run", job, "-o", out).returncode != 0

    res = eo_drr("jobs", out)
    assert res.returncode == 0, res.stderr
    assert (
        "demo-flood-villahermosa" in res.stdout
        and "4 done" in res.stdout
        and "2 failed" in res.stdout
    )
    assert "x397_y1553" in res.stdout and "vv.tif" in res.stdout  # the failed tiles and their error
    data = json.loads(eo_drr("jobs", out, "--json").stdout)
    (j,) = data["jobs"]
    assert j["counts"] == {"pending": 0, "running": 0, "done": 4, "failed": 2}
    assert {t["tile_id"] for t in j["tiles"] if t["status"] == "failed"} == EAST_TILES
    assert j["retryable"] and data["acquisitions"] == []

    # max_attempts 1: a plain rerun gives up; `jobs retry` resets the attempts and reruns them
    _assert_plain_error(eo_drr("run", job, "-o", out), "gave up after 1 attempts")
    assert_user_error(
        eo_drr("jobs", "retry", out, "--job", "nope"), "--job nope", "demo-flood-villahermosa"
    )
    west_before = {p: v for p, v in _tile_files(out).items() if p.split("/")[1] in WEST_TILES}
    east_vv.write_bytes(good)
    job.unlink()  # the retry needs only the output folder: the ledger holds the job's settings
    res = eo_drr("jobs", "retry", out, "--job", "demo-flood-villahermosa")
    assert res.returncode == 0, res.stderr
    assert "retrying 2 failed tile(s)" in res.stdout
    for t in WEST_TILES:
        assert f"skip    {t}" in res.stdout
    for t in EAST_TILES:
        assert f"done    {t}" in res.stdout
    assert {
        p: v for p, v in _tile_files(out).items() if p.split("/")[1] in WEST_TILES
    } == west_before
    _assert_complete(out, WEST_TILES | EAST_TILES)
    res = eo_drr("jobs", "retry", out)
    assert res.returncode == 0 and "no failed tiles; nothing to retry" in res.stdout


def test_jobs_without_ledger(tmp_path):
    assert_user_error(eo_drr("jobs", tmp_path), "no job ledger")
    assert_user_error(eo_drr("jobs", "retry", tmp_path), "no job ledger")
    assert_user_error(eo_drr("jobs", "retry"), "usage: eo-drr jobs retry OUTPUT")


# -- two runs started at the same time on one output folder -------------------------------------
@pytest.mark.slow
def test_two_concurrent_runs_one_runs_the_other_refuses(tmp_path, small_demo_scene):
    job = _job(tmp_path)
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("eo-drr")
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    procs = [
        subprocess.Popen(
            [str(exe), "run", str(job), "-o", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    results = [(p.returncode, o, e) for p, (o, e) in zip(procs, outputs)]
    codes = sorted(r[0] for r in results)
    assert codes[0] == 0 and codes[1] != 0, results
    rc, stdout, stderr = next(r for r in results if r[0] != 0)
    assert "Traceback" not in stderr, stderr
    assert "in use by another eo-drr run" in stderr and ".eo-drr-job.lock" in stderr, stderr
    winner = next(p for p, r in zip(procs, results) if r[0] == 0)
    assert f"pid {winner.pid}" in stderr, stderr  # the refusal names who holds the lock
    assert "done    " not in stdout  # the refused run touched no tile
    # the ledger and the outputs verify: one run, six tiles done once each, mosaics complete
    _assert_complete(out, WEST_TILES | EAST_TILES)
    con = sqlite3.connect(out / LEDGER_NAME)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    runs = con.execute("SELECT status, ran FROM runs").fetchall()
    attempts = [r[0] for r in con.execute("SELECT attempts FROM tiles")]
    con.close()
    assert runs == [("done", 6)] and attempts == [1] * 6


# -- job-wide tables ---------------------------------------------------------------------------
@pytest.mark.slow
def test_tiled_flood_job_tables_and_report_match_the_untiled_job(tmp_path):
    """With exposure, a tiled run writes one row per unit (not per tile) whose totals match
    the untiled job: the unit's own figures exactly, people to rounding (cells cut by tile
    borders are shared), flooded area to the tiles' own thresholds; plus the report and the
    SFM table over the whole job."""
    import pandas as pd

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = small_demo_job(tmp_path / "a")
    tiled = small_demo_job(tmp_path / "b", tiling={"tile_size_px": TILE})
    for job, out in ((plain, tmp_path / "o1"), (tiled, tmp_path / "o2")):
        res = eo_drr("run", job, "-o", out)
        assert res.returncode == 0, res.stderr
    a = pd.read_csv(tmp_path / "o1" / "flood_by_unit.csv", dtype={"code": str}).set_index("code")
    b = pd.read_csv(tmp_path / "o2" / "flood_by_unit.csv", dtype={"code": str}).set_index("code")
    assert (
        "tile" not in b.columns
        and list(b.index) == list(a.index)
        and list(b.columns) == list(a.columns)
    )
    for col in (
        "area_ha",
        "health_facilities",
        "education_facilities",
        "road_km",
        "cropland_ha",
        "builtup_ha",
    ):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-6, err_msg=col)
    np.testing.assert_allclose(b["observed_ha"], a["observed_ha"], rtol=1e-5)  # CSV rounding
    np.testing.assert_allclose(b["population"], a["population"], rtol=1e-4, atol=0.01)
    assert b["population"].sum() == pytest.approx(a["population"].sum(), rel=1e-6)
    # the flood itself differs a little: each tile takes its own split-based thresholds
    assert b["flooded_ha"].sum() == pytest.approx(a["flooded_ha"].sum(), rel=0.02)
    assert b["exposed_population"].sum() == pytest.approx(a["exposed_population"].sum(), rel=0.05)
    sfm_a = pd.read_csv(tmp_path / "o1" / "sendai_eo_proxies.csv")
    sfm_b = pd.read_csv(tmp_path / "o2" / "sendai_eo_proxies.csv")
    assert len(sfm_a) == len(sfm_b)
    report = (tmp_path / "o2" / "report.html").read_text()
    assert "Flood extent" in report
    assert not list((tmp_path / "o2" / "tiles").rglob("report.html"))


def test_untiled_run_into_a_folder_in_use_is_refused(tmp_path, small_demo_scene):
    """The lock covers untiled runs too: two runs into one folder would mix their files."""
    out = tmp_path / "out"
    out.mkdir()
    with JobLock(out):
        res = eo_drr("run", small_demo_job(tmp_path, exposure=None), "-o", out)
    assert_user_error(res, "in use by another eo-drr run", f"pid {os.getpid()}")
    assert not (out / "flood_extent.tif").exists()


@pytest.mark.slow
def test_rerun_with_nothing_new_rebuilds_nothing(tmp_path, small_demo_scene):
    """Re-running a finished tiled job (cron, nothing new) skips every tile and leaves the
    mosaics and catalogue untouched; a mosaic that went missing is assembled again."""
    job = _job(tmp_path)
    out = tmp_path / "out"
    assert eo_drr("run", job, "-o", out).returncode == 0

    def outputs():  # the ledger and the lock file change with every run; the outputs may not
        return {
            p.name: (p.stat().st_mtime_ns, sha256_file(p))
            for p in out.iterdir()
            if p.is_file() and not p.name.startswith(".")
        }

    files = outputs()
    res = eo_drr("run", job, "-o", out)
    assert res.returncode == 0, res.stderr
    assert "up to date" in res.stdout and "done " not in res.stdout
    assert outputs() == files
    (out / "flood_extent.tif").unlink()
    res = eo_drr("run", job, "-o", out)
    assert res.returncode == 0, res.stderr
    assert "up to date" not in res.stdout
    _assert_complete(out, WEST_TILES | EAST_TILES)
    assert sha256_file(out / "flood_extent.tif") == files["flood_extent.tif"][1]
