"""The run report: one self-contained HTML file (opened from a file it asks the network for
nothing), escaped content, and a real headless Chromium that loads it without console messages
and shows our layers on the map, the admin units named. The background map (served over HTTP,
a loopback tile server): tests/test_report_basemap.py."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401
import shapely
import xarray as xr

import eo_drr
from eo_drr import i18n
from eo_drr.errors import ConfigError
from eo_drr.publish.headline import flood_headline
from eo_drr.publish.report import FLOOD_COLORS, MapLayer, ReportContent, write_report
from eo_drr.publish.report_pdf import check_pdf_format, print_pdf, write_report_pdf
from eo_drr.publish.report_plots import indicator_plots
from eo_drr.publish.staging import OutputFolder

CRS = "EPSG:32615"
#: what the report says in each language: the demo banner and the key figures' heading
WORDS = {
    "en": ("Synthetic demo data — not a real event", "Key figures"),
    "es": ("Datos sintéticos de demostración — no es un evento real", "Cifras clave"),
    "pt": ("Dados sintéticos de demonstração — não é um evento real", "Números principais"),
}


@pytest.fixture
def language():
    """Set the language for one test (``language("es")``); English again afterwards."""
    yield i18n.set_language
    i18n.set_language("en")


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
            "area_ha": [600.0, 600.0],
            "observed_ha": [558.0, 600.0],
            "observed_share": [0.93, 1.0],
            "flooded_ha": [250.0, 182.0],
            "exposed_population": [123.456, 1.92],
            "flooded_cropland_ha": [4.5, 0.0],
            "flooded_builtup_ha": [1.0, 0.0],
            "health_facilities": [1, 0],
            "flooded_health": [1, 0],
            "education_facilities": [0, 1],
            "flooded_education": [0, 0],
            "flooded_road_km": [2.345, 0.0],
        },
        index=pd.Index(["A-1", "A-2"], name="code"),
    )
    pts = gpd.GeoDataFrame(
        {"type": ["health", "education"], "name": ["H1", "E1"], "flooded": [True, False]},
        geometry=[shapely.Point(501000, 1999000), shapely.Point(503500, 1997500)],
        crs=CRS,
    )
    return units, table, pts


def _report(path, *, exposure=True, **changes):
    """A report of the test inputs: the demo's (synthetic) unless ``synthetic=False``;
    ``exposure=False``: no units, table, facilities or population (hazard over the AOI)."""
    units, table, pts = _inputs()
    pop = _flood().astype(np.float32) * 3.0
    layers = [
        MapLayer("Flood extent", _flood(), colors=FLOOD_COLORS),
        MapLayer(
            "Reference water",
            _flood() * 0 + 255,  # the reference water failed: no valid pixel
            colors={1: (120, 120, 255, 255)},
            legend="water before the event",
        ),
    ]
    if exposure:
        layers.append(MapLayer("Population", pop, cmap="magma", show=False, legend="persons"))
    else:
        units, table, pts = None, None, None
    fields = dict(
        title="Test <run>",
        layers=layers,
        units=units,
        table=table,
        plots=indicator_plots(table) if exposure else None,
        provenance={"job": "demo", "inputs": {"s1": "</pre><b>x</b>"}, "threshold": -21.6251},
        points=pts,
        warnings=["Water and land differ by only 1.9 dB <b>: treat the map as unreliable."],
        synthetic=True,
        headline=flood_headline(_flood(), table),
        data_date="2024-11-05",
    )
    fields.update(changes)
    return write_report(path, ReportContent(**fields))


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
    assert "Leaflet 1.9.4" in text  # vendored, inlined
    assert text.count("data:image/png;base64,") >= 3  # 1 overlay drawn + 2 plots
    assert "not reported Sendai Framework values" in text
    # the flood product's quality warnings, readable and escaped
    assert "Quality warning: Water and land differ by only 1.9 dB &lt;b&gt;" in text


def test_report_reads_well(tmp_path):
    """Banner, key figures, human table, legend in words, readable provenance, footer."""
    text = _report(tmp_path / "report.html").read_text()
    assert "Synthetic demo data — not a real event" in text
    # key figures: flooded area with its range (42 ha unobserved), people rounded
    assert "432 ha" in text and "between 432 ha and 474 ha" in text
    assert "about 130 people" in text and "1.92" not in text and "123.46" not in text
    assert "Health facilities flooded" in text and "1 of 1" in text
    assert "2.3 km" in text
    # the per-unit table: human headers with units, the place first, scrolls in its box
    assert '<div class="table-wrap"' in text
    assert "People in the flooded area (about)" in text and "Flooded area (ha)" in text
    assert ">exposed_population<" not in text and ">flooded_ha<" not in text
    assert ">93 %<" in text  # a share in percent
    # legends in words, no raw class codes
    assert "Flood extent: flooded" in text and "Flood extent: not observed (no data)" in text
    assert not re.search(r"(flood|water) (255|1|2)\b", text)
    # the failed reference water is said in words, not drawn
    assert "Reference water: could not be made (no valid data)." in text
    # provenance as text, numbers rounded
    assert "<dt>Threshold</dt><dd>-21.63</dd>" in text and "-21.6251" not in text
    # footer: date, version, attribution (none of Copernicus for synthetic data)
    assert f"by eo-drr {eo_drr.__version__}" in text
    assert "Synthetic data generated by the eo-drr demo" in text
    assert "Copernicus" not in text
    real = _report(tmp_path / "real.html", synthetic=False).read_text()
    assert "Synthetic demo data" not in real
    assert "Contains modified Copernicus Sentinel data 2024, processed by eo-drr." in real


def test_report_without_exposure_explains_how_to_add_it(tmp_path):
    text = _report(tmp_path / "report.html", exposure=False).read_text()
    assert "Flooded area" in text and "Area observed by the satellite" in text
    assert "How to add admin units and population" in text
    for source in ("geoBoundaries", "GADM", "WorldPop", "GHS-POP", "CC BY 4.0", "non-commercial"):
        assert source in text, source
    assert '<table class="indicators"' not in text


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


#: appended to a copy of the report: the page's layout facts, written where --dump-dom sees them
PROBE = """<script>
setTimeout(function () {
  var map = document.getElementById("map").getBoundingClientRect();
  var covered = 0;
  document.querySelectorAll(".leaflet-control-layers, .legend").forEach(function (e) {
    var r = e.getBoundingClientRect();
    covered += r.width * r.height;
  });
  document.body.setAttribute("data-probe", JSON.stringify({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    controls_share: covered / (map.width * map.height),
    banner: !!document.getElementById("demo-banner"),
    figures: document.querySelectorAll("#headline .card").length,
    labels: [].map.call(document.querySelectorAll(".unit-label"), function (e) {
      return e.textContent;
    }),
    tiles: document.querySelectorAll(".leaflet-tile-loaded").length,
    layers: [].map.call(document.querySelectorAll(".leaflet-control-layers-overlays label"),
      function (e) { return e.textContent.trim(); }),
    attribution: (document.querySelector(".leaflet-control-attribution") || {}).innerHTML || ""
  }));
}, 3000);
</script></body>"""
SHOTS = Path("/tmp/report_shots")


def _probe(exe, path, width, tmp_path, base=None, args=()):
    """The layout facts of ``path`` at ``width`` px and its DOM once settled; ``base``: the
    http URL of ``path``'s folder (else the page is opened as a file); ``args``: more Chromium
    arguments."""
    probed = path.with_name("probed-" + path.name)
    probed.write_text(path.read_text().replace("</body>", PROBE))
    url = f"{base}/{probed.name}" if base else probed.as_uri()
    dom = _run_chromium(
        exe, f"--window-size={width},900", *args, "--dump-dom", url, tmp_path=tmp_path
    )
    found = re.search(r'data-probe="([^"]*)"', dom.stdout)
    assert found, "the probe did not run: " + dom.stderr[-2000:]
    return json.loads(html.unescape(found.group(1))), dom.stdout


def _console(res):
    """The page's console messages (and uncaught errors) in Chromium's log on stderr."""
    return [ln for ln in res.stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("lang", sorted(WORDS))
def test_report_in_headless_chromium(tmp_path, width, lang, language):
    """Desktop and phone, in each language: no console message, no horizontal overflow, the
    demo banner and the key figures shown in that language, map controls small on the map;
    screenshots in /tmp/report_shots/<lang>_<width>.png."""
    exe = _chromium()
    language(lang)
    path = _report(tmp_path / "report.html")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{lang}_{width}.png"
    shot.unlink(missing_ok=True)
    res = _run_chromium(
        exe, f"--window-size={width},900", f"--screenshot={shot}", path.as_uri(), tmp_path=tmp_path
    )
    assert shot.exists(), res.stderr[-2000:]
    console = _console(res)
    assert console == [], console  # the page writes nothing to the console: no errors, no warnings
    # a tall window shows the whole page (for the eye: the screenshot is kept)
    _run_chromium(
        exe,
        f"--window-size={width},4200",
        f"--screenshot={SHOTS / f'{lang}_{width}_full.png'}",
        path.as_uri(),
        tmp_path=tmp_path,
    )
    probe, dom = _probe(exe, path, width, tmp_path)
    assert 'data-map-ready="1"' in dom, "the map script did not finish"
    assert "leaflet-image-layer" in dom and "leaflet-interactive" in dom
    assert probe["scroll"] <= probe["inner"], probe  # no horizontal overflow
    assert probe["banner"] and probe["figures"] >= 6, probe
    # opened from a file: no background map asked for; the units carry their names, as text
    assert 'data-basemap="1"' not in dom and probe["tiles"] == 0, probe
    assert sorted(probe["labels"]) == ["East & co", "West <script>alert(1)</script>"], probe
    banner, heading = WORDS[lang]
    assert f'<html lang="{lang}">' in dom and banner in dom and f"<h2>{heading}</h2>" in dom
    # the layer control and the legend leave the map visible (collapsed on a phone)
    assert probe["controls_share"] < (0.1 if width < 700 else 0.3), probe

    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    if width < 700:  # the phone's first screen holds the banner and the key figures
        red = (img[..., 0] > 150) & (img[..., 1] < 40) & (img[..., 2] < 60)
        assert red.sum() > 5_000, "no demo banner on the phone's first screen"
        return
    assert img.shape[1] == width
    # flood overlay: rgb(0, 92, 230), alpha 220/255, layer opacity 0.8, over the map's #eef2f5
    a = 220 / 255 * 0.8
    want = a * np.array(FLOOD_COLORS[1][:3]) + (1 - a) * np.array([0xEE, 0xF2, 0xF5])
    full = np.asarray(Image.open(SHOTS / f"{lang}_{width}_full.png").convert("RGB")).astype(int)
    flood_px = (np.abs(full - want) <= 20).all(axis=-1)
    assert flood_px.sum() > 20_000, f"only {flood_px.sum()} flood-coloured pixels in the screenshot"
    # flooded facility marker (red) is drawn too
    fr, fg, fb = full[..., 0], full[..., 1], full[..., 2]
    assert ((fr > 200) & (fg < 60) & (fb < 60)).sum() > 10


@pytest.mark.browser
def test_console_check_sees_the_pages_messages(tmp_path):
    """The browser tests' "no console message" check is not blind: a page's console.error is
    in Chromium's log. (A failed image load is not a console message there: see
    tests/test_report_basemap.py.)"""
    exe = _chromium()
    path = _report(tmp_path / "report.html")
    path.write_text(path.read_text().replace("</body>", '<script>console.error("x1")</script>'))
    res = _run_chromium(exe, "--dump-dom", path.as_uri(), tmp_path=tmp_path)
    assert any('"x1"' in ln for ln in _console(res)), res.stderr[-2000:]


def test_report_names_the_sendai_indicators(tmp_path, language):
    """Where the report shows an indicator code (table headers, charts), it names the Sendai
    indicator in the report's language."""
    language("es")
    text = html.unescape(_report(tmp_path / "report.html").read_text())
    assert '<span class="code">EO-B1</span>' in text
    assert "Número de personas directamente afectadas atribuido a los desastres" in text
    # the chart's caption names the indicator its bars stand in for
    assert "<figcaption>Personas en la zona inundada por unidad (personas) — EO-B1 · " in text
    assert "Indicadores de esta tabla" in text and "Cifras por unidad administrativa" in text


# -- the PDF --------------------------------------------------------------------------------
def _a4_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The (width, height) in points of each page's MediaBox."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


@pytest.mark.browser
def test_report_prints_to_a4_pdf(tmp_path):
    """``pdf`` in outputs.formats: report.pdf next to report.html in the staged output folder,
    a real PDF of A4 pages (the page's print stylesheet), named in the run's outputs."""
    _chromium()
    out = OutputFolder(tmp_path / "out")
    out.open()
    _report(out.path("report.html"))
    summary: dict = {"outputs": {}}
    write_report_pdf(["cog", "pdf"], out, summary)
    pdf = out.path("report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = _a4_pages(pdf)
    assert pages and all(abs(w - 595.3) < 2 and abs(h - 841.9) < 2 for w, h in pages), pages
    assert summary["outputs"]["report_pdf"] == str(out.final("report.pdf"))
    out.commit()
    assert (tmp_path / "out" / "report.pdf").is_file()
    # no pdf asked: nothing printed
    again = OutputFolder(tmp_path / "again")
    again.open()
    _report(again.path("report.html"))
    write_report_pdf(["cog"], again, {})
    assert not again.path("report.pdf").exists()
    assert print_pdf(again.path("report.html"), tmp_path / "x.pdf").read_bytes()[:5] == b"%PDF-"


def test_pdf_without_chromium_is_one_clear_error_before_the_run(monkeypatch, tmp_path):
    import eo_drr.publish.report_pdf as report_pdf
    from eo_drr.api import demo_job, run
    from eo_drr.engine import plan_job

    monkeypatch.setattr(report_pdf.shutil, "which", lambda name: None)
    check_pdf_format(["cog", "csv"])  # no pdf asked: no browser needed
    with pytest.raises(ConfigError) as err:
        check_pdf_format(["cog", "pdf"])
    msg = str(err.value)
    assert "'pdf'" in msg and "apt-get install chromium" in msg and "\n" not in msg
    job = demo_job(size=256, seed=7)
    job = job.model_copy(update={"outputs": job.outputs.model_copy(update={"formats": ["pdf"]})})
    for start in (plan_job, run):  # the dry run and the run refuse it before any work
        with pytest.raises(ConfigError, match="apt-get install chromium"):
            start(job, tmp_path / "out")
        assert not (tmp_path / "out").exists()
