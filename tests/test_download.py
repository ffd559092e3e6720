"""The downloader against a real HTTP server on loopback, with injected faults."""

from __future__ import annotations

import hashlib
import logging
import os
import re

import pytest
from werkzeug import Request, Response

from eo_drr.catalog.checksums import Checksum, from_odata, parse_multihash
from eo_drr.catalog.credentials import Credentials, Secret, TokenAuth, find_credentials
from eo_drr.catalog.download import Downloader, DownloadRequest, RetryPolicy
from eo_drr.catalog.ledger import DownloadLedger
from eo_drr.errors import CredentialsError, DownloadError

PAYLOAD = os.urandom(3 * 1024 * 1024 + 12345)
MD5 = hashlib.md5(PAYLOAD).hexdigest()
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class FileServer:
    """Serves PAYLOAD at /file with Range support; ``faults`` is a list consumed one per request:
    None (serve normally), "drop" (send half then cut the connection), "flip" (flip bytes),
    ("status", code, headers), "ignore-range", "expire-token"."""

    def __init__(self, httpserver, data=PAYLOAD):
        self.data = data
        self.faults: list = []
        self.requests: list[dict] = []
        self.valid_tokens = {"tok-1"}
        self.require_token = False
        httpserver.expect_request(re.compile("/file")).respond_with_handler(self.handle)
        self.url = httpserver.url_for("/file")

    def handle(self, request: Request) -> Response:
        fault = self.faults.pop(0) if self.faults else None
        self.requests.append(
            {
                "range": request.headers.get("Range"),
                "auth": request.headers.get("Authorization"),
                "fault": fault,
            }
        )
        if self.require_token:
            tok = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
            if fault == "expire-token":
                self.valid_tokens.discard(tok)
            if tok not in self.valid_tokens:
                return Response("expired", status=401)
        if isinstance(fault, tuple) and fault[0] == "status":
            return Response("busy", status=fault[1], headers=fault[2])
        start = 0
        rng = request.headers.get("Range")
        if rng and fault != "ignore-range":
            start = int(rng.split("=")[1].split("-")[0])
        body = self.data[start:]
        if fault == "flip":
            body = bytearray(body)
            body[len(body) // 2] ^= 0xFF
            body = bytes(body)
        status = 206 if start else 200
        headers = {"Content-Length": str(len(body)), "Accept-Ranges": "bytes"}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(self.data) - 1}/{len(self.data)}"
        if fault == "drop":
            half = body[: len(body) // 2]

            def gen():
                yield half
                raise ConnectionError("injected drop")

            return Response(gen(), status=status, headers=headers, direct_passthrough=True)
        return Response(body, status=status, headers=headers)


@pytest.fixture
def server(httpserver):
    return FileServer(httpserver)


def fast_downloader(**kw) -> Downloader:
    limits = {k: kw.pop(k) for k in ("max_attempts", "max_per_host") if k in kw}
    return Downloader(policy=RetryPolicy(backoff_base_s=0.01, backoff_max_s=0.05, **limits), **kw)


def req(server, tmp_path, **kw) -> DownloadRequest:
    kw.setdefault("size", len(PAYLOAD))
    kw.setdefault("checksums", (Checksum("md5", MD5),))
    return DownloadRequest(server.url, tmp_path / "out.bin", **kw)


def assert_landed(tmp_path):
    assert (tmp_path / "out.bin").read_bytes() == PAYLOAD
    assert not (tmp_path / "out.bin.incomplete").exists()


def test_plain_download_and_ledger_skip(server, tmp_path):
    ledger = DownloadLedger(tmp_path / "ledger.sqlite")
    d = fast_downloader(ledger=ledger)
    r = d.fetch(req(server, tmp_path))
    assert r.status == "downloaded" and r.checksum == f"md5:{MD5}"
    assert_landed(tmp_path)
    again = d.fetch(req(server, tmp_path))
    assert again.status == "skipped" and len(server.requests) == 1


def test_dropped_connection_resumes(server, tmp_path):
    server.faults = ["drop"]
    r = fast_downloader().fetch(req(server, tmp_path))
    assert_landed(tmp_path)
    resumed_at = int(server.requests[1]["range"].removeprefix("bytes=").rstrip("-"))
    assert len(PAYLOAD) // 2 - 65536 <= resumed_at <= len(PAYLOAD) // 2
    assert any("resumed" in e for e in r.events)


def test_resume_of_incomplete_file_from_a_previous_run(server, tmp_path):
    (tmp_path / "out.bin.incomplete").write_bytes(PAYLOAD[:1000])
    fast_downloader().fetch(req(server, tmp_path))
    assert_landed(tmp_path)
    assert server.requests[0]["range"] == "bytes=1000-"


def test_flipped_bytes_are_rejected_then_redownloaded(server, tmp_path):
    server.faults = ["flip"]
    r = fast_downloader().fetch(req(server, tmp_path))
    assert_landed(tmp_path)
    assert r.attempts == 2 and any("checksum mismatch" in e for e in r.events)


def test_sha256_multihash_from_stac(server, tmp_path):
    cs = parse_multihash("1220" + SHA256)
    assert cs == Checksum("sha256", SHA256)
    server.faults = ["flip"]
    fast_downloader().fetch(req(server, tmp_path, checksums=(cs,)))
    assert_landed(tmp_path)


def test_429_honours_retry_after(server, tmp_path, monkeypatch):
    waits = []
    server.faults = [("status", 429, {"Retry-After": "2"})]
    d = fast_downloader()
    real_wait = d._wait
    d._wait = lambda rs: waits.append(real_wait(rs)) or 0.0
    d.fetch(req(server, tmp_path))
    assert waits == [2.0]
    assert_landed(tmp_path)


def test_503_burst(server, tmp_path):
    server.faults = [("status", 503, {})] * 3
    r = fast_downloader().fetch(req(server, tmp_path))
    assert r.attempts == 4
    assert_landed(tmp_path)


def test_gives_up_and_leaves_nothing_in_place(server, tmp_path):
    server.faults = [("status", 503, {})] * 10
    with pytest.raises(DownloadError, match="gave up after 3 attempts"):
        fast_downloader(max_attempts=3).fetch(req(server, tmp_path))
    assert not (tmp_path / "out.bin").exists()


def test_404_fails_at_once(server, tmp_path):
    server.faults = [("status", 404, {})]
    with pytest.raises(DownloadError, match="HTTP 404"):
        fast_downloader().fetch(req(server, tmp_path))
    assert len(server.requests) == 1


def test_server_ignoring_range_restarts(server, tmp_path):
    server.faults = ["drop", "ignore-range"]
    r = fast_downloader().fetch(req(server, tmp_path))
    assert_landed(tmp_path)
    assert any("ignored Range" in e for e in r.events)


def test_wrong_size_is_retried_and_reported(server, tmp_path):
    with pytest.raises(DownloadError, match="size"):
        fast_downloader(max_attempts=2).fetch(
            req(server, tmp_path, size=len(PAYLOAD) + 1, checksums=())
        )
    assert not (tmp_path / "out.bin").exists()


@pytest.fixture
def token_server(httpserver):
    """A loopback OAuth2 token endpoint (password and refresh grants) issuing tok-1, tok-2, ..."""
    state = {"n": 0, "grants": []}
    files = FileServer(httpserver)
    files.require_token = True

    def handle(request: Request) -> Response:
        form = request.form
        state["grants"].append(form.get("grant_type"))
        if form.get("grant_type") == "password" and not (
            form.get("username") == "ana" and form.get("password") == "s3cret-pw"
        ):
            return Response(
                '{"error": "invalid_grant"}', status=401, content_type="application/json"
            )
        state["n"] += 1
        tok = f"tok-{state['n']}"
        files.valid_tokens.add(tok)
        return Response(
            f'{{"access_token": "{tok}", "refresh_token": "refresh-{state["n"]}", "expires_in": 600}}',
            content_type="application/json",
        )

    httpserver.expect_request("/token", method="POST").respond_with_handler(handle)
    files.valid_tokens = set()
    return files, httpserver.url_for("/token"), state


def test_token_expiring_mid_download_is_refreshed(token_server, tmp_path, caplog):
    files, token_url, state = token_server
    auth = TokenAuth(Credentials("ana", Secret("s3cret-pw")), token_url=token_url)
    files.faults = ["drop", "expire-token"]
    caplog.set_level(logging.DEBUG)
    r = fast_downloader(auth=auth).fetch(req(files, tmp_path))
    assert_landed(tmp_path)
    assert state["grants"] == ["password", "refresh_token"]
    assert any("token refreshed" in e for e in r.events)
    # secrets never appear in logs, events or reprs
    text = caplog.text + repr(auth) + repr(auth._cred) + " ".join(r.events)
    for secret in ("s3cret-pw", "tok-1", "tok-2", "refresh-1"):
        assert secret not in text


def test_token_refreshed_before_expiry(token_server):
    _, token_url, state = token_server
    now = [0.0]
    auth = TokenAuth(
        Credentials("ana", Secret("s3cret-pw")), token_url=token_url, clock=lambda: now[0]
    )
    assert auth.token() == "tok-1"
    now[0] = 500.0  # within the 60 s margin of the 600 s lifetime
    assert auth.token() == "tok-1"
    now[0] = 545.0
    assert auth.token() == "tok-2"
    assert state["grants"] == ["password", "refresh_token"]


def test_bad_credentials(token_server):
    _, token_url, _ = token_server
    auth = TokenAuth(Credentials("ana", Secret("wrong")), token_url=token_url)
    with pytest.raises(CredentialsError, match="refused") as exc:
        auth.token()
    assert "wrong" not in str(exc.value)


def test_credentials_from_env_and_netrc(tmp_path, monkeypatch):
    monkeypatch.delenv("CDSE_USERNAME", raising=False)
    monkeypatch.delenv("CDSE_PASSWORD", raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine identity.dataspace.copernicus.eu login bob password pw-from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    c = find_credentials("identity.dataspace.copernicus.eu", "CDSE")
    assert c.username == "bob" and c.password == "pw-from-netrc" and "pw-from-netrc" not in repr(c)
    monkeypatch.setenv("CDSE_USERNAME", "ana")
    monkeypatch.setenv("CDSE_PASSWORD", "pw-env")
    assert find_credentials("identity.dataspace.copernicus.eu", "CDSE").username == "ana"
    monkeypatch.delenv("CDSE_USERNAME")
    with pytest.raises(CredentialsError, match="no credentials for other.host"):
        find_credentials("other.host", "CDSE")
    # a password file other users can read is refused, naming the fix, never its contents
    monkeypatch.delenv("CDSE_PASSWORD")
    netrc.chmod(0o644)
    with pytest.raises(
        CredentialsError, match=r"readable by other users \(mode 644\).*chmod 600"
    ) as err:
        find_credentials("identity.dataspace.copernicus.eu", "CDSE")
    assert "pw-from-netrc" not in str(err.value)


def test_checksums_from_recorded_cdse_odata(shared_data):
    import json

    d = json.loads(
        (shared_data / "cdse-api-responses" / "odata_products_sentinel1_page1.json").read_text()
    )
    cs = from_odata(d["value"][0]["Checksum"])
    assert {c.algorithm for c in cs} == {"md5", "blake3"}
    assert all(len(c.hexdigest) in (32, 64) for c in cs)


def test_at_most_four_connections_per_host(tmp_path):
    """12 files on one (threaded) host, 12 worker threads: never more than 4 requests in flight."""
    import threading
    import time as _time

    from pytest_httpserver import HTTPServer

    httpserver = HTTPServer(threaded=True)
    httpserver.start()

    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    data = os.urandom(200_000)

    def slow(request: Request) -> Response:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        _time.sleep(0.15)
        with lock:
            state["now"] -= 1
        return Response(data, headers={"Content-Length": str(len(data))})

    httpserver.expect_request(re.compile("/f/.*")).respond_with_handler(slow)
    reqs = [
        DownloadRequest(
            httpserver.url_for(f"/f/{i}.bin"),
            tmp_path / f"{i}.bin",
            size=len(data),
            checksums=(Checksum("md5", hashlib.md5(data).hexdigest()),),
        )
        for i in range(12)
    ]
    try:
        results = fast_downloader(max_per_host=4).fetch_all(reqs, workers=12)
    finally:
        httpserver.clear()
        httpserver.stop()
    assert all(r.status == "downloaded" for r in results)
    assert state["peak"] == 4
