"""The one interface every catalogue backend implements: ``search(query) -> list[Item]``.

Backends return plain :class:`pystac.Item` objects sorted by acquisition time, so the load
layer never needs to know where an item came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import pystac

from eo_drr.i18n import gettext as _


@dataclass(frozen=True)
class SearchQuery:
    """What to look for.

    ``bbox`` is west, south, east, north in degrees (EPSG:4326); ``start``/``end`` are UTC
    datetimes, both inclusive; ``max_cloud_cover`` is a percentage (0-100, ``eo:cloud_cover``);
    ``orbit_direction`` is ``"ascending"`` or ``"descending"`` (``sat:orbit_state``);
    ``relative_orbit`` is the Sentinel-1 track number (``sat:relative_orbit``).
    """

    collections: tuple[str, ...]
    bbox: tuple[float, float, float, float] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    max_cloud_cover: float | None = None
    orbit_direction: str | None = None
    relative_orbit: int | None = None
    ids: tuple[str, ...] = field(default_factory=tuple)
    limit: int | None = None

    @property
    def datetime(self) -> str | None:
        """The interval as a STAC API ``datetime`` string (open ends as ``..``)."""
        if self.start is None and self.end is None:
            return None
        fmt = lambda t: ".." if t is None else _utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        return f"{fmt(self.start)}/{fmt(self.end)}"

    @classmethod
    def for_days(
        cls, collections: Sequence[str] | str, start: dt.date, end: dt.date, **kw
    ) -> SearchQuery:
        """A query covering whole UTC days from ``start`` to ``end``."""
        if isinstance(collections, str):
            collections = (collections,)
        return cls(
            collections=tuple(collections),
            start=dt.datetime.combine(start, dt.time.min, tzinfo=dt.timezone.utc),
            end=dt.datetime.combine(end, dt.time.max, tzinfo=dt.timezone.utc),
            **kw,
        )


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def item_datetime(item: pystac.Item) -> dt.datetime:
    """Acquisition time of an item (``datetime`` or the start of its interval), in UTC."""
    t = item.datetime or item.common_metadata.start_datetime
    if t is None:
        raise ValueError(_("item {item} has no datetime").format(item=item.id))
    return _utc(t)


def matches(item: pystac.Item, query: SearchQuery) -> bool:
    """Whether an item satisfies every filter of ``query`` (used by local backends, and to
    re-check results of remote ones whose servers ignore a filter)."""
    if query.collections and item.collection_id not in query.collections:
        return False
    if query.ids and item.id not in query.ids:
        return False
    if query.bbox is not None and item.bbox is not None:
        w, s, e, n = query.bbox
        b = item.bbox
        iw, is_, ie, in_ = (b[0], b[1], b[3], b[4]) if len(b) == 6 else b  # 3-D boxes: x, y, z
        if iw > e or ie < w or is_ > n or in_ < s:
            return False
    t = item_datetime(item)
    if query.start is not None and t < _utc(query.start):
        return False
    if query.end is not None and t > _utc(query.end):
        return False
    props = item.properties
    if query.max_cloud_cover is not None:
        cc = props.get("eo:cloud_cover")
        if cc is not None and cc > query.max_cloud_cover:
            return False
    if query.orbit_direction is not None:
        if str(props.get("sat:orbit_state", "")).lower() != query.orbit_direction.lower():
            return False
    if query.relative_orbit is not None:
        if props.get("sat:relative_orbit") != query.relative_orbit:
            return False
    return True


def sort_items(items: Iterable[pystac.Item]) -> list[pystac.Item]:
    """Items in acquisition order (ties broken by id, so results are deterministic)."""
    return sorted(items, key=lambda it: (item_datetime(it), it.id))


@runtime_checkable
class Catalog(Protocol):
    """A searchable source of STAC items."""

    name: str

    def search(self, query: SearchQuery) -> list[pystac.Item]:  # pragma: no cover - protocol
        """Items matching ``query``, sorted by acquisition time."""
        ...
