"""Hostile command-line options: out-of-range numbers, malformed boxes and dates, unknown
commands and options, and ``fetch`` from catalogues whose files are local. Searches use the
test-size demo scene's catalogue, so that no option error ever waits for a scene. Cases
refused before any data is read run the entry point in-process (``eo``); the issue's own
cases also run as a real subprocess."""

from __future__ import annotations

import pytest

from hostile.helpers import (
    assert_nothing_written,
    assert_usage_error,
    cli,
    one_error,
    small_demo_job,
)


@pytest.fixture
def catalog(small_demo_scene) -> str:
    return str(small_demo_scene.catalog_path)


# ---------------------------------------------------------------- out-of-range numbers


@pytest.mark.parametrize(
    "args,words",
    [
        (["demo", "--size", "63"], ["--size", "64"]),
        (["demo", "--size", "abc"], ["--size"]),
        (["demo", "--seed", "-1"], ["--seed", "0"]),
        (
            ["search", "--collection", "sentinel-2-l2a", "--max-cloud", "200"],
            ["--max-cloud", "100"],
        ),
        (["search", "--collection", "sentinel-2-l2a", "--max-cloud", "-1"], ["--max-cloud", "0"]),
        (["search", "--collection", "sentinel-2-l2a", "--max-cloud", "nan"], ["--max-cloud"]),
        (
            ["search", "--collection", "sentinel-1-rtc", "--relative-orbit", "0"],
            ["--relative-orbit", "1"],
        ),
        (
            ["search", "--collection", "sentinel-1-rtc", "--relative-orbit", "176"],
            ["--relative-orbit", "175"],
        ),
        (["search", "--collection", "sentinel-1-rtc", "--limit", "0"], ["--limit"]),
        (["run", "JOB", "--tile-size", "1"], ["--tile-size", "32"]),
        (["monitor", "JOB", "--tile-size", "1"], ["--tile-size", "32"]),
    ],
    ids=[
        "demo-size-63",
        "demo-size-abc",
        "demo-seed--1",
        "max-cloud-200",
        "max-cloud--1",
        "max-cloud-nan",
        "relative-orbit-0",
        "relative-orbit-176",
        "limit-0",
        "run-tile-size-1",
        "monitor-tile-size-1",
    ],
)
def test_out_of_range_option_is_a_usage_error(eo, tmp_path, monkeypatch, args, words):
    job = small_demo_job(tmp_path)
    args = [str(job) if a == "JOB" else a for a in args]
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    assert_usage_error(
        eo(*args, *(["-o", out] if args[0] in ("demo", "run", "monitor") else [])), *words
    )
    assert_nothing_written(out)


@pytest.mark.parametrize(
    "args,words",
    [
        (["demo", "--size", "63", "-o", "out"], ["--size", "64"]),
        (
            ["search", "--collection", "sentinel-2-l2a", "--max-cloud", "200"],
            ["--max-cloud", "100"],
        ),
        (
            ["search", "--collection", "sentinel-1-rtc", "--relative-orbit", "0"],
            ["--relative-orbit", "1"],
        ),
        (["run", "JOB", "--tile-size", "1", "-o", "out"], ["--tile-size", "32"]),
    ],
    ids=["demo-size-63", "max-cloud-200", "relative-orbit-0", "run-tile-size-1"],
)
def test_issue_option_cases_in_a_real_process(tmp_path, args, words):
    """The issue: each of these ended in a traceback (typer's BadParameter escaped main())."""
    args = [str(small_demo_job(tmp_path)) if a == "JOB" else a for a in args]
    assert_usage_error(cli(*args, cwd=tmp_path), *words)
    assert_nothing_written(tmp_path / "out")


@pytest.mark.parametrize(
    "args,words",
    [
        (["floood"], ["floood"]),
        (["water", "--s1", "x.tif", "--out", "y.tif", "--bogus"], ["--bogus"]),
        (["water", "--s1", "x.tif"], ["out"]),
        (["run"], ["config"]),
    ],
    ids=["unknown-command", "unknown-option", "missing-out", "missing-job"],
)
def test_usage_mistakes_are_usage_errors(eo, args, words):
    assert_usage_error(eo(*args), *words)


# ---------------------------------------------------------------- boxes, dates, filters


@pytest.mark.parametrize(
    "bbox",
    [
        "1,2,3",
        "a,b,c,d",
        "-92.8,17.9,-93.0,18.1",
        "-93,17.9,-92.8,200",
        "nan,17.9,-92.8,18",
        "-inf,17.9,inf,18",
        "",
    ],
    ids=["three-numbers", "text", "inverted", "latitude-200", "nan", "inf", "empty"],
)
def test_bad_bbox_is_one_line(eo, catalog, bbox):
    one_error(
        eo("search", "--catalog", catalog, "--collection", "sentinel-1-rtc", f"--bbox={bbox}"),
        "--bbox",
    )


@pytest.mark.parametrize(
    "when",
    [
        "2024-13-45/2024-11-10",
        "2024-11-01/2024-11-31",
        "2024-11-10/2024-11-01",
        "yesterday",
        "2024-11-01/2024-11-05/2024-11-09",
    ],
    ids=["month-13", "day-31", "inverted", "word", "three-parts"],
)
def test_bad_datetime_is_one_line(eo, catalog, when):
    one_error(
        eo("search", "--catalog", catalog, "--collection", "sentinel-1-rtc", "--datetime", when),
        "--datetime",
    )


def test_bad_filters_are_one_line(eo, catalog, tmp_path):
    one_error(
        eo(
            "search",
            "--catalog",
            catalog,
            "--collection",
            "sentinel-1-rtc",
            "--orbit-direction",
            "sideways",
        ),
        "--orbit-direction",
    )
    one_error(eo("search", "--catalog", catalog), "--collection")
    one_error(
        eo("search", "--catalog", tmp_path / "nothing" / "catalog.json", "--collection", "x"),
        "unknown catalogue",
        "nothing",
    )


def test_unknown_collection_of_a_static_catalogue_is_named(eo, catalog):
    one_error(
        eo("search", "--catalog", catalog, "--collection", "sentinel-1-grdd"), "sentinel-1-grdd"
    )


# ---------------------------------------------------------------- fetch from local catalogues


def test_fetch_from_a_local_catalogue_is_one_line(tmp_path, scene_copy):
    out = tmp_path / "downloads"
    one_error(
        cli(
            "fetch",
            "--catalog",
            scene_copy / "catalog.json",
            "--collection",
            "demo-hand",
            "-o",
            out,
        ),
        "local file",
        "nothing to download",
    )
    assert_nothing_written(out)


def test_fetch_catalog_demo_is_one_line(tmp_path):
    """The issue: `fetch --catalog demo` ended in requests' MissingSchema traceback (and left a
    download ledger and an empty item folder). Generates the default demo scene (~10 s)."""
    out = tmp_path / "downloads"
    one_error(
        cli(
            "fetch",
            "--catalog",
            "demo",
            "--collection",
            "sentinel-1-rtc",
            "--limit",
            "1",
            "-o",
            out,
        ),
        "local file",
    )
    assert_nothing_written(out)
