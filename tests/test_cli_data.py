"""``eo-drr search`` and ``eo-drr fetch`` against loopback servers replaying real recorded
catalogue responses (links pointed at the loopback server, assets at local files)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from loopback import serve_stac_landing
from werkzeug import Request, Response

CDSE = "https://stac.dataspace.copernicus.eu/v1"
PASSWORD = "pa55-Very-Secret"


def run_cli(*args, env=None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("eo-drr")
    full_env = dict(os.environ, COLUMNS="250", NO_COLOR="1", **(env or {}))
    return subprocess.run(
        [str(exe), *map(str, args)], capture_output=True, text=True, env=full_env, timeout=300
    )


def ranged_handler(data: bytes, faults: list | None = None, log: list | None = None, token_ok=None):
    """A werkzeug handler serving ``data`` with Range support and optional injected faults."""
    faults = faults if faults is not None else []

    def handle(request: Request) -> Response:
        fault = faults.pop(0) if faults else None
        if log is not None:
            log.append({"range": request.headers.get("Range"), "fault": fault})
        if token_ok is not None:
            tok = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
            if fault == "expire-token":
                token_ok.discard(tok)
            if tok not in token_ok:
                return Response("token expired", status=401)
        if fault == "503":
            return Response("busy", status=503)
        start = 0
        if request.headers.get("Range"):
            start = int(request.headers["Range"].split("=")[1].split("-")[0])
        body = data[start:]
        headers = {"Content-Length": str(len(body)), "Accept-Ranges": "bytes"}
        status = 206 if start else 200
        if fault == "drop":

            def gen():
                yield body[: len(body) // 2]
                raise ConnectionError("injected")

            return Response(gen(), status=status, headers=headers, direct_passthrough=True)
        return Response(body, status=status, headers=headers)

    return handle


def test_search_json_on_recorded_cdse_stac(httpserver, shared_data):
    root = shared_data / "stac-items" / "cdse-v1"
    base = httpserver.url_for("/v1").rstrip("/")
    landing = json.loads((root / "landing__2025-07-09.json").read_text().replace(CDSE, base))
    search = json.loads(
        (root / "search__sentinel-2-l2a__bbox_9.0_47.0_9.1_47.1__2020-07-01_2020-07-05.json")
        .read_text()
        .replace(CDSE, base)
    )
    httpserver.expect_request(re.compile("/v1/?$")).respond_with_json(landing)
    httpserver.expect_request("/v1/search").respond_with_json(search)
    res = run_cli(
        "search",
        "--catalog",
        base,
        "--collection",
        "sentinel-2-l2a",
        "--bbox",
        "9.0,47.0,9.1,47.1",
        "--datetime",
        "2020-07-01/2020-07-05",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == 4
    assert {"id", "datetime", "collection", "cloud_cover", "assets"} <= set(rows[0])
    assert all(r["collection"] == "sentinel-2-l2a" for r in rows)
    assert rows[0]["cloud_cover"] is not None and "B04_10m" in rows[0]["assets"]


@pytest.fixture
def local_cog_bytes(tmp_path):
    import numpy as np
    from affine import Affine

    from eo_drr.io import write_cog

    rng = np.random.default_rng(3)
    p = write_cog(
        rng.integers(1000, 3000, (600, 600), dtype=np.uint16),
        tmp_path / "src.tif",
        crs="EPSG:32724",
        transform=Affine(10, 0, 399960, 0, -10, 9500020),
        nodata=0,
    )
    return p.read_bytes()


def test_fetch_from_loopback_stac_api_verifies_and_skips(
    httpserver, shared_data, local_cog_bytes, tmp_path
):
    """A real Earth Search collection-1 item; its red/nir assets served from loopback with a
    dropped connection on the first try; SHA-256 multihashes verified; a rerun skips."""
    item = json.loads(
        (
            shared_data
            / "stac-items"
            / "earth-search-v1"
            / "sentinel-2-c1-l2a__S2B_T24MUV_20250731T130245_L2A.json"
        ).read_text()
    )
    base = httpserver.url_for("").rstrip("/")
    log: list = []
    for key in ("red", "nir"):
        a = item["assets"][key]
        a["href"] = f"{base}/data/{key}.tif"
        a["file:checksum"] = "1220" + hashlib.sha256(local_cog_bytes).hexdigest()
        a["file:size"] = len(local_cog_bytes)
        httpserver.expect_request(f"/data/{key}.tif").respond_with_handler(
            ranged_handler(local_cog_bytes, ["drop"] if key == "red" else [], log)
        )
    for link in item["links"]:
        link["href"] = link["href"].replace("https://earth-search.aws.element84.com/v1", base)
    serve_stac_landing(httpserver, base)
    httpserver.expect_request("/search").respond_with_json(
        {"type": "FeatureCollection", "features": [item]}
    )
    out = tmp_path / "dl"
    args = [
        "fetch",
        "--catalog",
        base + "/",
        "--collection",
        "sentinel-2-c1-l2a",
        "--assets",
        "red,nir",
        "-o",
        out,
    ]
    res = run_cli(*args)
    assert res.returncode == 0, res.stdout + res.stderr
    files = sorted((out / item["id"]).iterdir())
    assert [f.name for f in files] == ["nir.tif", "red.tif"]
    assert all(f.read_bytes() == local_cog_bytes for f in files)
    assert "downloaded" in res.stdout and "sha256" in res.stdout
    assert any(e["range"] for e in log), "the dropped download was resumed with Range"
    again = run_cli(*args)
    assert again.returncode == 0 and again.stdout.count("skipped") == 2


def test_fetch_cdse_odata_with_token_refresh_and_no_secret_leak(httpserver, shared_data, tmp_path):
    page = json.loads(
        (shared_data / "cdse-api-responses" / "odata_products_sentinel1_page1.json").read_text()
    )
    rec = page["value"][0]
    payload = os.urandom(2_000_000)
    rec["ContentLength"] = len(payload)
    rec["Checksum"] = [{"Algorithm": "MD5", "Value": hashlib.md5(payload).hexdigest()}]
    page = {"value": [rec]}  # one product, no next page
    issued: set = set()
    state = {"n": 0}

    def token(request: Request) -> Response:
        f = request.form
        if f.get("grant_type") == "password" and f.get("password") != PASSWORD:
            return Response("{}", status=401)
        state["n"] += 1
        tok = f"access-{state['n']}-tok"
        issued.add(tok)
        return Response(
            json.dumps(
                {
                    "access_token": tok,
                    "refresh_token": f"refresh-{state['n']}-tok",
                    "expires_in": 600,
                }
            ),
            content_type="application/json",
        )

    httpserver.expect_request("/token", method="POST").respond_with_handler(token)
    httpserver.expect_request("/odata/v1/Products").respond_with_json(page)
    httpserver.expect_request(f"/odata/v1/Products({rec['Id']})/$value").respond_with_handler(
        ranged_handler(payload, ["drop", "expire-token", "503"], token_ok=issued)
    )
    out = tmp_path / "products"
    res = run_cli(
        "fetch",
        "--catalog",
        "cdse-odata:" + httpserver.url_for("/odata/v1"),
        "--collection",
        "sentinel-1",
        "--datetime",
        "2014-04-01/2014-04-30",
        "-o",
        out,
        env={
            "CDSE_USERNAME": "ana",
            "CDSE_PASSWORD": PASSWORD,
            "EO_DRR_CDSE_TOKEN_URL": httpserver.url_for("/token"),
        },
    )
    assert res.returncode == 0, res.stdout + res.stderr
    f = out / rec["Name"].removesuffix(".SAFE") / (rec["Name"] + ".zip")
    assert f.read_bytes() == payload
    assert state["n"] == 2, "the expired token was refreshed"
    everything = (
        res.stdout
        + res.stderr
        + "".join(
            p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file() and p != f
        )
    )
    for secret in [PASSWORD, *issued, "refresh-1-tok"]:
        assert secret not in everything


def test_fetch_without_credentials_is_a_clear_error(httpserver, tmp_path, monkeypatch):
    httpserver.expect_request("/odata/v1/Products").respond_with_json(
        {
            "value": [
                json.loads(
                    json.dumps(
                        {
                            "Id": "x",
                            "Name": "S1A_X.SAFE",
                            "ContentLength": 10,
                            "ContentDate": {"Start": "2024-01-01T00:00:00Z"},
                            "Checksum": [],
                            "Attributes": [],
                        }
                    )
                )
            ]
        }
    )
    env = {"NETRC": str(tmp_path / "no-netrc"), "CDSE_USERNAME": "", "CDSE_PASSWORD": ""}
    res = run_cli(
        "fetch",
        "--catalog",
        "cdse-odata:" + httpserver.url_for("/odata/v1"),
        "--collection",
        "sentinel-1",
        "-o",
        tmp_path / "o",
        env=env,
    )
    assert res.returncode != 0 and res.stderr.startswith("error: no credentials")
    assert "Traceback" not in res.stderr


def test_fetch_from_a_local_catalogue_says_nothing_to_download(tmp_path, small_demo_scene):
    from test_cli import assert_user_error, eo_drr

    res = eo_drr(
        "fetch",
        "--catalog",
        str(small_demo_scene.catalog_path),
        "--collection",
        "sentinel-1-rtc",
        "-o",
        tmp_path / "f",
    )
    assert_user_error(res, "a local file", "nothing to download")
    assert not (tmp_path / "f").exists()  # no download ledger left behind


def test_no_connection_is_said_in_words_in_one_line():
    """A catalogue nobody answers: one line naming the host, urllib3's retries folded in."""
    import socket

    from test_cli import assert_user_error, eo_drr

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again on leaving: nothing listens there
    res = eo_drr("search", "--catalog", f"http://127.0.0.1:{port}/stac", "--collection", "x")
    assert_user_error(res, f"no connection to 127.0.0.1:{port}", "connection refused")
    assert "urllib3" not in res.stderr and "Retry(" not in res.stderr
