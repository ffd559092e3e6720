"""The report's map beyond its own layers, in a real headless Chromium: served over HTTP with a
loopback tile server standing in for OpenStreetMap's, the background map is added once a tile
loads (credited, in the layer control); with no tile to load (404, nothing listening: offline)
it is left out without a console message and the map works, the admin units named; and the
setting that picks or switches off the background."""

from __future__ import annotations

import io
import json
import socket
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eo_drr.publish.report_map import BASEMAP_ENV, OSM_COPYRIGHT, OSM_TILES

sys.path.insert(0, str(Path(__file__).parent))
from test_report import _chromium, _console, _probe, _report, _run_chromium  # noqa: E402

#: the loopback server's background tile: one colour found nowhere else on the page
TILE_RGB = (200, 0, 200)


@pytest.fixture
def web(tmp_path):
    """A real HTTP server on 127.0.0.1 serving ``tmp_path`` and, under ``/tiles/``, one PNG
    tile of :data:`TILE_RGB` for every z/x/y (``/gone/``: 404); yields ``(base URL, the
    (path, Referer) of each tile asked for)``."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), TILE_RGB).save(buf, format="PNG")
    png, asked = buf.getvalue(), []

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith(("/tiles/", "/gone/")):
                asked.append((self.path, self.headers.get("Referer")))
            if self.path.startswith("/tiles/"):
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)
            else:
                super().do_GET()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_report_adds_the_background_map_when_tiles_load(tmp_path, web, monkeypatch, width):
    """Served over HTTP with a tile server that answers (a loopback one standing in for
    OpenStreetMap's): the tiles are drawn under the layers, named in the layer control and
    credited to OpenStreetMap; the console stays empty and the page still fits the width."""
    exe = _chromium()
    base, asked = web
    monkeypatch.setenv(BASEMAP_ENV, base + "/tiles/{z}/{x}/{y}.png")
    path = _report(tmp_path / "report.html")
    probe, dom = _probe(exe, path, width, tmp_path, base=base)
    assert 'data-basemap="1"' in dom, probe
    assert probe["tiles"] >= 4 and len(asked) >= 4, (probe, asked)  # the probe, then the map's
    # every tile request names the page (a cross-origin server, as OSM's, gets its origin),
    # as the OSM tile usage policy requires
    assert all((referer or "").startswith(base + "/") for _, referer in asked), asked
    assert "Background map (OpenStreetMap)" in probe["layers"], probe
    assert f'href="{OSM_COPYRIGHT}"' in probe["attribution"], probe
    assert "© OpenStreetMap contributors" in probe["attribution"], probe
    assert probe["scroll"] <= probe["inner"], probe
    assert len(probe["labels"]) == 2, probe  # the names stay on the tiles
    shot = tmp_path / "shot.png"
    res = _run_chromium(
        exe,
        f"--window-size={width},900",
        f"--screenshot={shot}",
        f"{base}/report.html",
        tmp_path=tmp_path,
    )
    assert _console(res) == [], _console(res)
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    if width >= 700:  # the map is on the desktop's first screen
        tile_px = (np.abs(img - np.array(TILE_RGB)) <= 10).all(axis=-1)
        assert tile_px.sum() > 20_000, f"only {tile_px.sum()} tile-coloured pixels"


@pytest.mark.browser
@pytest.mark.parametrize("tiles", ["not found", "no server", "offline"])
def test_report_without_tiles_stays_quiet(tmp_path, web, monkeypatch, tiles):
    """Served over HTTP but no tile loads (the server answers 404; nothing listens; offline:
    OpenStreetMap's own address does not resolve): no background map, no layer for it, nothing
    in the console (Chromium shows a failed image load in DevTools' network view only, not as a
    console message), and the map works, the units named."""
    exe = _chromium()
    base, asked = web
    args: tuple[str, ...] = ()
    if tiles == "not found":
        monkeypatch.setenv(BASEMAP_ENV, base + "/gone/{z}/{x}/{y}.png")
    elif tiles == "no server":
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        monkeypatch.setenv(BASEMAP_ENV, f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png")
    else:  # the default (OpenStreetMap), every name but the loopback server's unresolvable
        monkeypatch.delenv(BASEMAP_ENV, raising=False)
        args = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",)
    path = _report(tmp_path / "report.html")
    res = _run_chromium(
        exe,
        "--window-size=1280,900",
        *args,
        "--dump-dom",
        f"{base}/report.html",
        tmp_path=tmp_path,
    )
    assert 'data-map-ready="1"' in res.stdout and 'data-basemap="1"' not in res.stdout
    assert _console(res) == [], _console(res)
    if tiles == "not found":  # the probe asked once, failed, and no tile layer asked again
        assert len(asked) == 1 and asked[0][0].startswith("/gone/"), asked
    probe, dom = _probe(exe, path, 1280, tmp_path, base=base, args=args)
    assert probe["tiles"] == 0 and "Background map" not in " ".join(probe["layers"]), probe
    assert probe["attribution"] == "" and len(probe["labels"]) == 2, probe


def test_background_map_setting(tmp_path, monkeypatch, caplog):
    """OpenStreetMap's tiles by default, with the credit the OSM tile policy asks for;
    ``EO_DRR_REPORT_BASEMAP=none``: no background; anything but a tile URL: no background and
    a warning that says why (the run's work is not lost over it)."""
    text = _report(tmp_path / "a.html").read_text()
    assert json.dumps(OSM_TILES) in text and OSM_COPYRIGHT in text
    assert "OpenStreetMap contributors" in text
    monkeypatch.setenv(BASEMAP_ENV, "none")
    text = _report(tmp_path / "b.html").read_text()
    assert '"basemap":null' in text and "tile.openstreetmap.org" not in text
    monkeypatch.setenv(BASEMAP_ENV, "https://example.org/tiles.png")
    assert caplog.records == []
    text = _report(tmp_path / "c.html").read_text()
    assert '"basemap":null' in text and "example.org" not in text
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert BASEMAP_ENV in warning and OSM_TILES in warning and "no background map" in warning


@pytest.mark.browser
def test_unit_names_show_where_they_fit(tmp_path):
    """Opened from a file (no background): each admin unit's name is on the map where it fits
    inside the unit at the zoom shown; a unit too small for its name stays unnamed (its popup
    still names it) rather than covering its neighbours."""
    import geopandas as gpd
    import shapely
    from test_report import CRS, _inputs

    exe = _chromium()
    units, _, _ = _inputs()
    tiny = gpd.GeoDataFrame(
        {"code": ["A-3"], "name": ["A very small place with a long name"]},
        geometry=[shapely.box(503800, 1999800, 503900, 1999900)],  # 100 m x 100 m
        crs=CRS,
    )
    units = gpd.GeoDataFrame(pd.concat([units, tiny], ignore_index=True), crs=CRS)
    path = _report(tmp_path / "report.html", units=units)
    probe, dom = _probe(exe, path, 1280, tmp_path)
    assert sorted(probe["labels"]) == ["East & co", "West <script>alert(1)</script>"], probe
    assert "A very small place with a long name" in path.read_text()  # in its popup
