"""Network failures in words: "no connection to HOST" rather than a urllib3 repr."""

from __future__ import annotations

from urllib.parse import urlsplit


def in_words(exc: BaseException, url: str) -> str:
    """One plain phrase for a failed request to ``url`` (no credentials: only scheme, host and
    port are named)."""
    host = urlsplit(url).netloc.rsplit("@", 1)[-1] or url
    text = repr(exc)
    if (
        "Name or service not known" in text
        or "NameResolutionError" in text
        or "nodename nor servname" in text
    ):
        return f"no connection to {host}: the name does not resolve (check the address, or the network)"
    if "Connection refused" in text:
        return f"no connection to {host}: connection refused (nothing listens there)"
    if "Timeout" in type(exc).__name__ or "timed out" in text:
        return f"no answer from {host} in time (slow network or server; try again later)"
    if "SSLError" in text or "CERTIFICATE" in text:
        return f"no secure connection to {host} (certificate problem)"
    if (
        "ConnectionError" in type(exc).__name__
        or "NewConnectionError" in text
        or "MaxRetryError" in text
    ):
        return f"no connection to {host} ({type(exc).__name__})"
    return f"request to {host} failed ({type(exc).__name__})"
