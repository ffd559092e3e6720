"""The run report: one self-contained HTML file (no network), escaped content, and a real
headless Chromium that loads it without console messages and shows our layers on the map."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401
import shapely
import xarray as xr

from eo_drr.publish.flood_outputs import indicator_plots
from eo_drr.publish.report import FLOOD_COLORS, MapLayer, ReportContent, write_report

CRS = "EPSG:32615"


def _flood():
    a = np.zeros((300, 400), np.uint8)
    a[60:240, 80:320] = 1  # a big flooded block in the middle
    a[:20] = 255
    da = xr.DataArray(
        a,
        dims=("y", "x"),
        coords={"y": 2000000 - 5 - 10 * np.arange(300), "x": 500005 + 10 * np.arange(400)},
    )
    return da.rio.write_crs(CRS)


def _inputs():
    units = gpd.GeoDataFrame(
        {"code": ["A-1", "A-2"], "name": ["West <script>alert(1)</script>", "East & co"]},
        geometry=[
            shapely.box(500000, 1997000, 502000, 2000000),
            shapely.box(502000, 1997000, 504000, 2000000),
        ],
        crs=CRS,
    )
    table = pd.DataFrame(
        {
            "name": units["name"].to_numpy(),
            "exposed_population": [123.456, 0.0],
            "flooded_cropland_ha": [4.5, 0.0],
            "flooded_builtup_ha": [1.0, 0.0],
            "observed_share": [0.93, 1.0],
        },
        index=pd.Index(["A-1", "A-2"], name="code"),
    )
    pts = gpd.GeoDataFrame(
        {"type": ["health", "education"], "name": ["H1", "E1"], "flooded": [True, False]},
        geometry=[shapely.Point(501000, 1999000), shapely.Point(503500, 1997500)],
        crs=CRS,
    )
    return units, table, pts


def _report(path):
    units, table, pts = _inputs()
    pop = _flood().astype(np.float32) * 3.0
    return write_report(
        path,
        ReportContent(
            title="Test <run>",
            layers=[
                MapLayer("Flood extent", _flood(), colors=FLOOD_COLORS),
                MapLayer("Population", pop, cmap="magma", show=False, legend="persons"),
            ],
            units=units,
            table=table,
            plots=indicator_plots(table),
            provenance={"job": "demo", "inputs": {"s1": "</pre><b>x</b>"}},
            points=pts,
            warnings=["Water and land differ by only 1.9 dB <b>: treat the map as unreliable."],
        ),
    )


def test_report_is_self_contained_and_escaped(tmp_path):
    path = _report(tmp_path / "report.html")
    text = path.read_text()
    assert text.rstrip().endswith("</html>")
    # nothing loaded from elsewhere: every src= and <link href=> is inline (data:)
    refs = re.findall(r'src\s*=\s*"([^"]*)"', text) + re.findall(
        r'<link[^>]*href\s*=\s*"([^"]*)"', text
    )
    assert refs and all(r.startswith("data:") for r in refs), [
        r[:40] for r in refs if not r.startswith("data:")
    ]
    assert not re.search(r"<script[^>]+src=|@import|url\(\s*['\"]?https?:", text)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;/pre&gt;&lt;b&gt;x&lt;/b&gt;" in text
    assert "Test &lt;run&gt;" in text
    assert "123.46" in text  # the indicator table
    assert "Leaflet 1.9.4" in text  # vendored, inlined
    assert text.count("data:image/png;base64,") >= 4  # 2 overlays + 2 plots
    assert "not reported Sendai Framework values" in text
    # the flood product's quality warnings, readable and escaped
    assert "Quality warning: Water and land differ by only 1.9 dB &lt;b&gt;" in text


def test_report_rerun_is_identical(tmp_path):
    assert _report(tmp_path / "a.html").read_bytes() == _report(tmp_path / "b.html").read_bytes()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    if os.environ.get("CI") == "true":
        pytest.fail(
            "chromium is not installed (CI installs it in .ci/run: apt-get install chromium)"
        )
    pytest.skip(
        "chromium is not installed (Debian: apt-get install chromium); the browser test needs it"
    )


def _run_chromium(exe, *args, tmp_path):
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=8000",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.browser
def test_report_in_headless_chromium(tmp_path):
    exe = _chromium()
    path = _report(tmp_path / "report.html")
    url = path.resolve().as_uri()
    shot = tmp_path / "shot.png"
    res = _run_chromium(
        exe, "--window-size=1200,900", f"--screenshot={shot}", url, tmp_path=tmp_path
    )
    assert shot.exists(), res.stderr[-2000:]
    console = [ln for ln in res.stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]
    assert console == [], console  # the page writes nothing to the console: no errors, no warnings
    dom = _run_chromium(exe, "--dump-dom", url, tmp_path=tmp_path)
    assert 'data-map-ready="1"' in dom.stdout, "the map script did not finish"
    assert "leaflet-image-layer" in dom.stdout and "leaflet-interactive" in dom.stdout

    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    # flood overlay: rgb(0, 92, 230), alpha 220/255, layer opacity 0.8, over the map's #eef2f5
    a = 220 / 255 * 0.8
    want = a * np.array(FLOOD_COLORS[1][:3]) + (1 - a) * np.array([0xEE, 0xF2, 0xF5])
    flood_px = (np.abs(img - want) <= 20).all(axis=-1)
    assert flood_px.sum() > 20_000, f"only {flood_px.sum()} flood-coloured pixels in the screenshot"
    # it sits inside the map, which is otherwise a plain background (no internet tiles)
    ys, xs = np.nonzero(flood_px)
    assert 150 < ys.mean() < 900
    # flooded facility marker (red) is drawn too
    assert ((r > 200) & (g < 60) & (b < 60)).sum() > 10
