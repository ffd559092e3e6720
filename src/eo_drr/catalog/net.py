"""Network failures in words: "no connection to HOST" rather than a urllib3 repr."""

from __future__ import annotations

from urllib.parse import urlsplit

from eo_drr.i18n import gettext as _


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
        return _(
            "no connection to {host}: the name does not resolve (check the address, or the network)"
        ).format(host=host)
    if "Connection refused" in text:
        return _("no connection to {host}: connection refused (nothing listens there)").format(
            host=host
        )
    if "Timeout" in type(exc).__name__ or "timed out" in text:
        return _("no answer from {host} in time (slow network or server; try again later)").format(
            host=host
        )
    if "SSLError" in text or "CERTIFICATE" in text:
        return _("no secure connection to {host} (certificate problem)").format(host=host)
    if (
        "ConnectionError" in type(exc).__name__
        or "NewConnectionError" in text
        or "MaxRetryError" in text
    ):
        return _("no connection to {host} ({kind})").format(host=host, kind=type(exc).__name__)
    return _("request to {host} failed ({kind})").format(host=host, kind=type(exc).__name__)
