"""Relative orbits of a Sentinel-1 pair: :func:`orbit_warning` says when pre- and post-event
images come from different relative orbits (different viewing geometry)."""

from __future__ import annotations

import re

from eo_drr.i18n import gettext as _

__all__ = ["orbit_warning"]


#: tag names (lower case, letters only) that hold a relative orbit number
_ORBIT_KEYS = {
    "relativeorbit",
    "relativeorbitnumber",
    "satrelativeorbit",
    "relorbit",
    "track",
    "pathnumber",
}


def _relative_orbit(tags: dict) -> int | None:
    for key, value in (tags or {}).items():
        # GDAL reads a tag written as "sat:relative_orbit=14" back as {"sat": "relative_orbit=14"}
        name, _sep, number = f"{key}={value}".rpartition("=")
        if re.sub(r"[^a-z]", "", name.lower()) in _ORBIT_KEYS:
            try:
                return int(float(number.strip()))
            except ValueError:
                continue
    return None


def orbit_warning(pre_tags: list[dict], post_tags: dict) -> str | None:
    """A warning when pre- and post-event images come from different relative orbits.

    Tags are GeoTIFF tag dicts (e.g. rasterio's ``src.tags()``); a relative orbit is read
    from keys such as ``RELATIVE_ORBIT``, ``relative_orbit``, ``sat:relative_orbit`` (STAC),
    ``relativeOrbitNumber``, ``track`` or ``pathNumber`` (ASF). Images without one are not
    compared; returns None when every known orbit matches the post-event one.
    """
    post = _relative_orbit(post_tags)
    if post is None:
        return None
    other = sorted({o for o in map(_relative_orbit, pre_tags) if o is not None and o != post})
    if not other:
        return None
    orbits = ", ".join(str(o) for o in other)
    return _(
        "pre-event image(s) from relative orbit {orbits}, the post-event image from {post}: "
        "different viewing geometry: backscatter differences partly reflect the geometry, "
        "not the flood; the change-based parts are less reliable"
    ).format(orbits=orbits, post=post)
