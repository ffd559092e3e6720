"""The event jobs (configs/events/, packaged as ``eo_drr.configs``) and ``eo-drr dates``: the
Sentinel-1 acquisitions around an event by orbit, from a loopback STAC API serving recorded
Planetary Computer items (and copies of them at other dates and orbits), from the demo scene's
static catalogue, and with no connection at all."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from loopback import serve_stac_landing
from test_cli import assert_user_error, eo_drr

from eo_drr.api import load_job
from eo_drr.api.dates import DatesQuery, find_dates
from eo_drr.api.job_files import event_names

ROOT = Path(__file__).resolve().parents[1]
EVENTS = sorted((ROOT / "configs" / "events").glob("*.yaml"))
PC_ITEMS = Path("stac-items") / "planetary-computer" / "sentinel-1-rtc-pc.items.json"


def test_the_package_has_every_event_job():
    assert len(EVENTS) >= 3
    assert event_names() == [p.stem for p in EVENTS]


@pytest.mark.parametrize("path", EVENTS, ids=[p.stem for p in EVENTS])
def test_event_job_validates_and_says_where_its_dates_come_from(path):
    job = load_job(path)
    text = path.read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert job.name == path.stem and job.pipeline == "flood"
    w, s, e, n = job.aoi.bbox
    assert -120 <= w < e <= -30 and -60 <= s < n <= 33, "Latin America and the Caribbean"
    assert job.sources.catalog == "planetary-computer"
    assert job.sources.s1.collection == "sentinel-1-rtc" and job.sources.s1.units == "linear"
    # no invented track: the header says how to pick one with `eo-drr dates`
    assert job.sources.s1.relative_orbit is None
    assert f"eo-drr dates --bbox {w:g},{s:g},{e:g},{n:g} --around {job.time.post.start}" in header
    assert re.search(r"Wikipedia|NHC|SENAMHI", header), "the event record is cited"
    assert str(job.time.post.start.year) in header
    assert job.time.pre.end < job.time.post.start <= job.time.post.end
    gb = "https://github.com/wmgeolab/geoBoundaries/raw/main/releaseData/gbOpen/"
    admin = job.exposure.admin_units
    assert gb in header and Path(admin.file).name in header and "CC BY 4.0" in header
    assert (admin.code_field, admin.name_field) == ("shapeID", "shapeName")


def _recorded_items_over(root: Path, bbox: tuple[float, ...]) -> list[dict]:
    """The recorded STAC items under ``root/stac-items`` whose footprint meets ``bbox``."""
    from shapely.geometry import box, shape

    aoi, found = box(*bbox), []
    for f in sorted((root / "stac-items").rglob("*.json")):
        data = json.loads(f.read_text())
        items = data if isinstance(data, list) else data.get("features", [data])
        found += [
            it
            for it in items
            if it.get("type") == "Feature" and it.get("geometry")
            if shape(it["geometry"]).intersects(aoi)
        ]
    return found


@pytest.mark.parametrize("path", EVENTS, ids=[p.stem for p in EVENTS])
def test_recorded_items_over_the_event_through_loopback(path, shared_data, httpserver):
    """Recorded items over an event's area are served by a loopback STAC API and listed by
    `eo-drr dates` as the job's header says to run it; the job's plan needs items inside its
    windows, which the shared data does not hold (a skip says so)."""
    job = load_job(path)
    over = _recorded_items_over(shared_data, job.aoi.bbox)
    if not over:
        pytest.skip(
            f"no recorded STAC item over {path.stem} {job.aoi.bbox} under "
            f"{shared_data / 'stac-items'}: its plan would need the live catalogue"
        )
    base = httpserver.url_for("").rstrip("/")
    serve_stac_landing(httpserver, base)
    httpserver.expect_request("/search").respond_with_json(
        {"type": "FeatureCollection", "features": over}
    )
    days = sorted({it["properties"]["datetime"][:10] for it in over})
    for it in over:
        p = it["properties"]
        query = DatesQuery(
            bbox=",".join(map(str, job.aoi.bbox)),
            around=p["datetime"][:10],
            catalog=base,
            collection=it["collection"],
        )
        found = find_dates(query)
        orbit = f"{p['sat:relative_orbit']} {p['sat:orbit_state']}"
        assert orbit in {a.orbit for a in found.acquisitions}
        assert any(orbit == row[0] and row[2] != "-" for row in found.table().rows)
    window = (job.time.pre or job.time.post).start, job.time.post.end
    if not any(window[0].isoformat() <= d <= window[1].isoformat() for d in days):
        pytest.skip(
            f"the recorded items over {path.stem} ({', '.join(it['id'] for it in over)}) are "
            f"from {', '.join(days)}, outside the job's windows {window[0]}..{window[1]}: its "
            "plan would need the live catalogue"
        )


# -- eo-drr dates ---------------------------------------------------------------------------


def _shifted(item: dict, days: int, orbit: int | None = None, state: str | None = None) -> dict:
    """A copy of a recorded item ``days`` later (optionally on another track)."""
    it = copy.deepcopy(item)
    t = dt.datetime.fromisoformat(it["properties"]["datetime"].replace("Z", "+00:00"))
    it["properties"]["datetime"] = (t + dt.timedelta(days=days)).isoformat()
    it["id"] = f"{it['id']}-{days:+d}d"
    if orbit is not None:
        it["properties"].update({"sat:relative_orbit": orbit, "sat:orbit_state": state})
    return it


@pytest.fixture
def loopback_s1(httpserver, shared_data):
    """A loopback STAC API answering every search with the 4 recorded Planetary Computer
    sentinel-1-rtc frames of one pass (2024-04-19, track 51 descending), that pass's frames
    12 days later, and one frame of track 124 ascending 8 days later (no pass before)."""
    recorded = json.loads((shared_data / PC_ITEMS).read_text())
    assert {it["properties"]["sat:relative_orbit"] for it in recorded} == {51}
    features = recorded + [_shifted(it, 12) for it in recorded]
    features.append(_shifted(recorded[0], 8, 124, "ascending"))
    base = httpserver.url_for("").rstrip("/")
    serve_stac_landing(httpserver, base)
    httpserver.expect_request("/search").respond_with_json(
        {"type": "FeatureCollection", "features": features}
    )
    return base


def test_dates_groups_frames_into_passes_and_pairs_one_track(loopback_s1):
    res = eo_drr(
        "dates", "--bbox", "14,30,17,34", "--around", "2024-04-25", "--catalog", loopback_s1
    )
    assert res.returncode == 0, res.stderr
    rows = [line for line in res.stdout.splitlines() if "descending" in line or "ascending" in line]
    # the track with the earliest pass after the date first; four frames are one pass
    assert "124 ascending" in rows[0] and "2024-04-27 S1A" in rows[0]
    assert "51 descending" in rows[1] and rows[1].count("2024-04-19") == 1
    assert "2024-05-01 S1A" in rows[1]
    assert (
        "suggested pair (relative orbit 51 descending): before 2024-04-19 S1A, after "
        "2024-05-01 S1A (12 days apart)" in res.stdout
    )
    assert "relative_orbit: 51, orbit_direction: descending" in res.stdout


def test_dates_api_and_no_pair(loopback_s1):
    found = find_dates(DatesQuery(bbox="14,30,17,34", around="2024-04-20", catalog=loopback_s1))
    assert [(a.relative_orbit, a.items) for a in found.acquisitions] == [(51, 4), (124, 1), (51, 4)]
    assert found.pair is not None and found.pair[0].time.date() == dt.date(2024, 4, 19)
    # from the day after the last pass nothing is after: no pair, and the line says why
    late = find_dates(
        DatesQuery(bbox="14,30,17,34", around="2024-05-02", catalog=loopback_s1, days=30)
    )
    assert late.pair is None and "try a larger --days" in late.lines()[0]


def test_dates_on_the_demo_catalogue(small_demo_scene):
    scene = small_demo_scene
    bbox = ",".join(f"{v:.5f}" for v in scene.bbox_wgs84)
    res = eo_drr("dates", "--bbox", bbox, "--around", scene.event_date, "-c", scene.catalog_path)
    assert res.returncode == 0, res.stderr
    post = scene.post_date
    pre = max(d for d in scene.pre_dates if d < scene.event_date)
    track = f"{scene.relative_orbit} {scene.orbit_state}"
    assert f"suggested pair (relative orbit {track}): before {pre}" in res.stdout
    assert f"after {post}" in res.stdout
    assert "99 ascending" in res.stdout  # the demo's other track: listed, not paired


def test_dates_bad_input_and_no_connection(tmp_path):
    import socket

    res = eo_drr("dates", "--bbox", "1,2,3,4", "--around", "2024-02-30", "-c", "demo")
    assert_user_error(res, "--around")
    assert "--around: expected a date YYYY-MM-DD" in res.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again on leaving: nothing listens there
    res = eo_drr(
        "dates", "--bbox", "1,2,3,4", "--around", "2024-02-01", "-c", f"http://127.0.0.1:{port}"
    )
    assert_user_error(res)
    assert f"no connection to 127.0.0.1:{port}" in res.stderr
