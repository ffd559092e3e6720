"""``eo-drr monitor``: only acquisitions newer than the last processed ones run, each into its own
folder, recorded in the ledger; with nothing new it says so and exits 0."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pystac
import pytest
from test_cli import assert_user_error, eo_drr, small_demo_job

from eo_drr.io.atomic import sha256_file
from eo_drr.jobs.ledger import LEDGER_NAME

POST_ID = "S1A_IW_GRDH_1SDV_20241105T120512"


def _copy_catalog(scene, dest: Path) -> Path:
    """A copy of the demo scene's static catalogue and its COGs (relative hrefs)."""
    shutil.copytree(scene.root, dest)
    return dest / "catalog.json"


def _add_post_item(catalog_path: Path, when: dt.datetime) -> str:
    """Add a Sentinel-1 item acquired at ``when`` to the copied catalogue: a clone of the
    post-event item whose assets are copies of its COGs; returns the new item's id."""
    from eo_drr.demo.catalog import s1_item_id

    root = catalog_path.parent
    cat = pystac.read_file(str(catalog_path))
    col = cat.get_child("sentinel-1-rtc")
    post = next(it for it in col.get_items() if it.id.startswith(POST_ID))
    new = post.clone()
    new.id = s1_item_id(when, post.properties["sat:relative_orbit"])
    new.datetime = when
    new.properties["sat:absolute_orbit"] = post.properties["sat:absolute_orbit"] + 175
    folder = root / "sentinel-1-rtc" / new.id
    folder.mkdir(parents=True)
    for key, asset in new.assets.items():
        src = Path(post.assets[key].get_absolute_href())
        dst = folder / src.name
        shutil.copyfile(src, dst)
        asset.href = str(dst)
    col.add_item(new)
    col.extent.temporal.intervals[0][1] = when
    cat.normalize_hrefs(str(root) + "/")
    cat.make_all_asset_hrefs_relative()
    cat.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return new.id


def _acquisitions(out: Path) -> list[dict]:
    con = sqlite3.connect(out / LEDGER_NAME)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM acquisitions ORDER BY acquired_at")]
    con.close()
    return rows


def _files(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, sha256_file(p))
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_monitor_processes_only_new_acquisitions(tmp_path, small_demo_scene):
    catalog = _copy_catalog(small_demo_scene, tmp_path / "cat")
    job = small_demo_job(tmp_path, **{"exposure": None, "sources.catalog": str(catalog)})
    out = tmp_path / "out"

    # first run: the one post-event acquisition in the catalogue
    res = eo_drr("monitor", job, "-o", out)
    assert res.returncode == 0, res.stderr
    first = out / "2024-11-05_r165"
    assert (first / "flood_extent.tif").is_file() and (first / "run.json").is_file()
    run = json.loads((first / "run.json").read_text())
    assert run["summary"]["post_item"].startswith(POST_ID)
    assert run["config"]["time"]["post"] == {"start": "2024-11-05", "end": "2024-11-05"}
    rows = _acquisitions(out)
    assert [(r["item_id"][: len(POST_ID)], r["status"], r["folder"]) for r in rows] == [
        (POST_ID, "done", "2024-11-05_r165")
    ]
    first_files = _files(first)

    # second run: nothing new; exit 0, nothing written
    res = eo_drr("monitor", job, "-o", out)
    assert res.returncode == 0, res.stderr
    assert "nothing new since 2024-11-05T12:05:12Z" in res.stdout
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "2024-11-05_r165"
    ]
    assert _files(first) == first_files

    # a new pass twelve days later enters the catalogue: only it runs
    new_id = _add_post_item(catalog, dt.datetime(2024, 11, 17, 12, 5, 12, tzinfo=dt.timezone.utc))
    res = eo_drr("monitor", job, "-o", out, "--dry-run")
    assert res.returncode == 0, res.stderr
    assert (
        "1 new acquisition(s) since 2024-11-05T12:05:12Z" in res.stdout and "dry run" in res.stdout
    )
    assert not (out / "2024-11-17_r165").exists()
    res = eo_drr("monitor", job, "-o", out)
    assert res.returncode == 0, res.stderr
    second = out / "2024-11-17_r165"
    run = json.loads((second / "run.json").read_text())
    assert run["summary"]["post_item"] == new_id
    assert _files(first) == first_files, "the earlier acquisition was processed again"
    assert [(r["item_id"], r["status"]) for r in _acquisitions(out)][1:] == [(new_id, "done")]
    assert len(_acquisitions(out)) == 2
    res = eo_drr("monitor", job, "-o", out)
    assert res.returncode == 0 and "nothing new since 2024-11-17T12:05:12Z" in res.stdout

    # eo-drr jobs lists what the monitor recorded
    data = json.loads(eo_drr("jobs", out, "--json").stdout)
    assert {a["item_id"] for a in data["acquisitions"]} == {rows[0]["item_id"], new_id}


def test_monitor_refuses_other_pipelines(tmp_path):
    job = small_demo_job(tmp_path, pipeline="urban_growth")
    res = eo_drr("monitor", job, "-o", tmp_path / "out")
    assert_user_error(res, "pipeline", "urban_growth", "monitor")
