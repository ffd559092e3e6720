"""Search queries written as text (the ``eo-drr search`` / ``fetch`` options), and items as
plain rows for tables and JSON."""

from __future__ import annotations

import datetime as dt

import pystac

from eo_drr.catalog.base import SearchQuery, item_datetime
from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``W,S,E,N`` in degrees, or None."""
    if text is None:
        return None
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(
            _("--bbox: expected W,S,E,N numbers, got {text!r}").format(text=text)
        ) from None
    if not (
        w < e
        and s < n
        and -180 <= w <= 180
        and -180 <= e <= 180
        and -90 <= s <= 90
        and -90 <= n <= 90
    ):
        raise ConfigError(
            _("--bbox: {text!r} is not a non-empty W,S,E,N box in degrees").format(text=text)
        )
    return (w, s, e, n)


def parse_datetime(text: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``START/END`` (dates or ISO datetimes, ``..`` open) as UTC datetimes, whole days inclusive."""
    if text is None:
        return None, None
    start_s, _sep, end_s = text.partition("/")

    def one(v: str, end: bool) -> dt.datetime | None:
        if v in ("", ".."):
            return None
        try:
            if len(v) == 10:
                d = dt.date.fromisoformat(v)
                return dt.datetime.combine(
                    d, dt.time.max if end else dt.time.min, tzinfo=dt.timezone.utc
                )
            t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
            return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
        except ValueError:
            raise ConfigError(
                _("--datetime: {v!r} is not a date (YYYY-MM-DD) or ISO datetime").format(v=v)
            ) from None

    start, end = one(start_s, False), one(end_s or start_s, True)
    if start and end and end < start:
        raise ConfigError(
            _("--datetime: end {end} is before start {start}").format(end=end_s, start=start_s)
        )
    return start, end


def build_query(
    collection: str | None,
    bbox: str | None,
    datetime_: str | None,
    max_cloud: float | None,
    orbit_direction: str | None,
    relative_orbit: int | None,
    limit: int | None,
    ids: tuple[str, ...] = (),
) -> SearchQuery:
    """A :class:`SearchQuery` from the option texts (``--bbox W,S,E,N`` in degrees,
    ``--datetime START/END``, ...); a malformed option is a :class:`ConfigError` naming it."""
    if orbit_direction is not None and orbit_direction not in ("ascending", "descending"):
        raise ConfigError(_("--orbit-direction: use ascending or descending"))
    start, end = parse_datetime(datetime_)
    return SearchQuery(
        collections=(collection,) if collection else (),
        bbox=parse_bbox(bbox),
        start=start,
        end=end,
        max_cloud_cover=max_cloud,
        orbit_direction=orbit_direction,
        relative_orbit=relative_orbit,
        ids=tuple(ids),
        limit=limit,
    )


def item_summary(item: pystac.Item) -> dict:
    """An item as a plain row: id, time, collection, cloud cover (%), orbit, asset keys."""
    return {
        "id": item.id,
        "datetime": item_datetime(item).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "collection": item.collection_id,
        "cloud_cover": item.properties.get("eo:cloud_cover"),
        "relative_orbit": item.properties.get("sat:relative_orbit"),
        "orbit_direction": item.properties.get("sat:orbit_state"),
        "assets": sorted(item.assets),
    }
