"""Helpers for the loopback servers tests run (no network beyond 127.0.0.1)."""

from __future__ import annotations

import re


def serve_stac_landing(httpserver, base: str) -> None:
    """Serve a minimal STAC API landing page at ``base`` (core + item-search, search by GET
    and POST at ``base/search``) on a pytest-httpserver."""
    landing = {
        "type": "Catalog",
        "id": "loopback",
        "description": "loopback STAC API",
        "stac_version": "1.0.0",
        "conformsTo": [
            "https://api.stacspec.org/v1.0.0/core",
            "https://api.stacspec.org/v1.0.0/item-search",
        ],
        "links": [
            {"rel": "self", "href": base + "/"},
            {"rel": "root", "href": base + "/"},
            {"rel": "search", "href": base + "/search", "method": "GET"},
            {"rel": "search", "href": base + "/search", "method": "POST"},
        ],
    }
    httpserver.expect_request(re.compile("^/?$")).respond_with_json(landing)
