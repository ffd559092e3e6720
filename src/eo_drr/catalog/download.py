"""Robust downloads: resume, verify, retry, land atomically.

Each file is streamed into ``<dest>.incomplete``. A rerun (or a retry after a dropped
connection) resumes it with an HTTP ``Range`` request; a server that ignores the range
(answers 200) restarts it from zero. When the body is complete the size and the catalogue's
checksum are verified over the whole file; only then is it renamed onto ``dest`` and recorded
in the ledger. A checksum mismatch deletes the partial file and retries from scratch.

Retries: connection errors, timeouts, truncated bodies, HTTP 429 (honouring ``Retry-After``),
500/502/503/504, with exponential backoff and full jitter (tenacity). A 401 with token auth
refreshes the token once. Other 4xx fail at once. At most ``max_per_host`` connections per
host (CDSE's quota is 4).
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt

from eo_drr.catalog.checksums import Checksum, best, file_digest
from eo_drr.catalog.ledger import DownloadLedger
from eo_drr.catalog.verify import RASTER_SUFFIXES, check_raster_decodes
from eo_drr.errors import CorruptInputError, DownloadError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)

RETRY_STATUS = {429, 500, 502, 503, 504}
CHUNK = 1 << 16  # 64 KiB: a dropped connection loses at most this much


@dataclass(frozen=True)
class DownloadRequest:
    """One file to fetch: ``url`` into ``dest``, with the catalogue's size and checksums."""

    url: str
    dest: Path
    size: int | None = None
    checksums: tuple[Checksum, ...] = ()
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.dest.name


@dataclass
class DownloadResult:
    request: DownloadRequest
    status: str  # "downloaded" | "skipped" | "failed"
    path: Path | None = None
    size: int = 0
    checksum: str | None = None
    attempts: int = 0
    error: str | None = None
    events: list[str] = field(default_factory=list)


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a :class:`Downloader` tries: ``max_attempts`` per file, exponential backoff with
    full jitter from ``backoff_base_s`` up to ``backoff_max_s`` between them, a server's
    ``Retry-After`` honoured up to ``max_retry_after_s``, ``timeout_s`` per request, and at most
    ``max_per_host`` connections per host (CDSE's quota is 4)."""

    max_attempts: int = 6
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    max_retry_after_s: float = 300.0
    timeout_s: float = 60.0
    max_per_host: int = 4


class Downloader:
    """Fetch many files robustly (see the module docstring)."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        auth: requests.auth.AuthBase | None = None,
        ledger: DownloadLedger | None = None,
        policy: RetryPolicy | None = None,
        progress: Callable[[DownloadRequest, int], None] | None = None,
        decode_rasters: bool = True,
    ):
        self.session = session or requests.Session()
        self.auth = auth
        self.ledger = ledger
        self.policy = policy or RetryPolicy()
        self.progress = progress
        self.decode_rasters = decode_rasters
        self._host_locks: dict[str, threading.BoundedSemaphore] = {}
        self._locks_guard = threading.Lock()

    # -- public -------------------------------------------------------------------------
    def fetch_all(
        self, requests_: Iterable[DownloadRequest], workers: int | None = None
    ) -> list[DownloadResult]:
        """Fetch every request (in parallel, at most ``max_per_host`` per host); never raises
        for one failed file: look at each result's ``status``."""
        reqs = list(requests_)
        workers = workers or min(8, max(1, len(reqs)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self._fetch_safe, reqs))

    def fetch(self, req: DownloadRequest) -> DownloadResult:
        """Fetch one file; raises :class:`DownloadError` when it cannot be had."""
        res = self._fetch_safe(req)
        if res.status == "failed":
            raise DownloadError(_("{file}: {error}").format(file=req.label, error=res.error))

        return res

    # -- internals ----------------------------------------------------------------------
    def _fetch_safe(self, req: DownloadRequest) -> DownloadResult:
        expected = best(list(req.checksums))
        if self.ledger is not None and self.ledger.is_verified(
            req.dest, req.size, str(expected) if expected else None
        ):
            return DownloadResult(
                req,
                "skipped",
                req.dest,
                req.dest.stat().st_size,
                str(expected) if expected else None,
            )
        res = DownloadResult(req, "failed")
        wait = self._wait
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(_Retryable),
                stop=stop_after_attempt(self.policy.max_attempts),
                wait=wait,
                reraise=False,
            ):
                with attempt:
                    res.attempts += 1
                    self._attempt(req, expected, res)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            res.error = _("gave up after {n} attempts: {error}").format(n=res.attempts, error=last)

            return res
        except DownloadError as exc:
            res.error = str(exc)
            return res
        res.status = "downloaded"
        return res

    def _wait(self, retry_state) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.policy.max_retry_after_s)
        cap = min(
            self.policy.backoff_max_s,
            self.policy.backoff_base_s * 2 ** (retry_state.attempt_number - 1),
        )
        return random.uniform(0, cap)  # full jitter

    def _host_lock(self, url: str) -> threading.BoundedSemaphore:
        host = urlsplit(url).netloc
        with self._locks_guard:
            if host not in self._host_locks:
                self._host_locks[host] = threading.BoundedSemaphore(self.policy.max_per_host)
            return self._host_locks[host]

    def _attempt(
        self, req: DownloadRequest, expected: Checksum | None, res: DownloadResult
    ) -> None:
        dest = Path(req.dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".incomplete")
        have = part.stat().st_size if part.exists() else 0
        if req.size is not None and have > req.size:
            part.unlink()
            have = 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        if not (req.size is not None and have == req.size):
            with self._host_lock(req.url):
                self._stream(req, part, have, headers, res)
        size = part.stat().st_size
        if req.size is not None and size != req.size:
            if size > req.size:
                part.unlink()
            raise _Retryable(
                _("size {size} != expected {expected}").format(size=size, expected=req.size)
            )
        digest = None
        if expected is not None:
            digest = file_digest(part, expected)
            if digest != expected.hexdigest:
                part.unlink()
                res.events.append(_("checksum mismatch: partial file deleted"))
                log.warning(
                    _("{file}: {algorithm} checksum mismatch, downloading again").format(
                        file=req.label, algorithm=expected.algorithm
                    )
                )
                raise _Retryable(
                    _("{algorithm} checksum mismatch").format(algorithm=expected.algorithm)
                )
        if self.decode_rasters and dest.suffix.lower() in RASTER_SUFFIXES:
            try:
                check_raster_decodes(part)
            except CorruptInputError as exc:
                part.unlink()
                res.events.append(_("raster does not decode: partial file deleted"))
                raise _Retryable(str(exc).replace(str(part), dest.name)) from None
        os.replace(part, dest)
        res.path, res.size = dest, size
        res.checksum = f"{expected.algorithm}:{digest}" if expected else None
        if self.ledger is not None:
            self.ledger.record(dest, req.url, size, res.checksum)

    def _stream(
        self, req: DownloadRequest, part: Path, have: int, headers: dict, res: DownloadResult
    ) -> None:
        refreshed = False
        while True:
            try:
                r = self.session.get(
                    req.url,
                    headers=headers,
                    auth=self.auth,
                    stream=True,
                    timeout=self.policy.timeout_s,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                res.events.append(_("connection error: {kind}").format(kind=type(exc).__name__))
                raise _Retryable(
                    _("connection error ({kind})").format(kind=type(exc).__name__)
                ) from None
            if (
                r.status_code == 401
                and self.auth is not None
                and hasattr(self.auth, "invalidate")
                and not refreshed
            ):
                r.close()
                self.auth.invalidate()
                refreshed = True
                res.events.append(_("401: token refreshed"))
                continue
            break
        with r:
            if r.status_code in RETRY_STATUS:
                ra = _retry_after(r.headers.get("Retry-After"))
                res.events.append(
                    f"HTTP {r.status_code}" + (f" Retry-After {ra:g}s" if ra is not None else "")
                )
                raise _Retryable(f"HTTP {r.status_code}", retry_after=ra)
            if r.status_code == 416:  # range not satisfiable: our partial file is bad
                part.unlink(missing_ok=True)
                raise _Retryable(_("HTTP 416 on resume; restarting"))
            if r.status_code >= 400:
                raise DownloadError(
                    _("HTTP {status_code} for {netloc}{path}").format(
                        status_code=r.status_code,
                        netloc=urlsplit(req.url).netloc,
                        path=urlsplit(req.url).path,
                    )
                )
            mode = "ab"
            if have and r.status_code == 200:  # server ignored the range: start over
                mode = "wb"
                res.events.append(_("server ignored Range: restarted"))
            elif have and r.status_code == 206:
                res.events.append(_("resumed at byte {have}").format(have=have))
            try:
                with open(part, mode) as fh:
                    for block in r.iter_content(CHUNK):
                        fh.write(block)
                        if self.progress is not None:
                            self.progress(req, len(block))
            except (
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.Timeout,
            ) as exc:
                res.events.append(_("connection dropped: {kind}").format(kind=type(exc).__name__))
                raise _Retryable(
                    _("connection dropped ({kind})").format(kind=type(exc).__name__)
                ) from None
