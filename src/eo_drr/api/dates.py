"""Which Sentinel-1 acquisitions are there around an event, as ``eo-drr dates`` lists them:
the catalogue's items over a box from some days before to some days after the event date,
grouped into acquisitions (one pass: relative orbit, orbit direction, UTC day) by orbit, and a
suggested pre/post pair of one orbit (change detection needs one viewing geometry): the first
acquisition on or after the event date and the last one before it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import MISSING, dataclass
from typing import TYPE_CHECKING

from eo_drr.api.options import option
from eo_drr.errors import ConfigError, NoDataError
from eo_drr.i18n import gettext as _

if TYPE_CHECKING:
    import pystac

    from eo_drr.engine.tables import Rows

#: the Sentinel-1 collection of each preset catalogue (others: sentinel-1-rtc)
S1_COLLECTIONS = {"earth-search": "sentinel-1-grd", "cdse": "sentinel-1-grd"}


@dataclass(frozen=True, kw_only=True)
class DatesQuery:
    """Where and when to look: ``bbox`` "W,S,E,N" (degrees), ``around`` the event date
    (YYYY-MM-DD), ``days`` before and after it, in ``catalog`` (a preset, a STAC API URL or a
    static catalogue) and ``collection`` (default: the catalogue's Sentinel-1 collection)."""

    bbox: str = option("--bbox", "W,S,E,N in degrees.", MISSING)
    around: str = option(
        "--around", "The event date, YYYY-MM-DD (acquisitions on it count as after).", MISSING
    )
    days: int = option("--days", "Days searched before and after --around.", 30, min=1, max=366)
    catalog: str = option(
        "--catalog,-c",
        "planetary-computer, earth-search, cdse, demo, a STAC API URL, or a catalog.json.",
        "planetary-computer",
    )
    collection: str | None = option(
        "--collection",
        "Sentinel-1 collection (default: sentinel-1-grd on earth-search and cdse, else "
        "sentinel-1-rtc).",
    )

    def event_date(self) -> dt.date:
        """``around`` as a date; a malformed one is a :class:`ConfigError` naming --around."""
        try:
            return dt.date.fromisoformat(self.around)
        except ValueError:
            raise ConfigError(
                _("--around: expected a date YYYY-MM-DD, got {around!r}").format(around=self.around)
            ) from None


@dataclass(frozen=True)
class Acquisition:
    """One pass over the box: its ``relative_orbit`` (track), ``direction`` (ascending or
    descending), start ``time`` (UTC), ``platform`` and how many catalogue ``items`` (frames)."""

    relative_orbit: int | None
    direction: str | None
    time: dt.datetime
    platform: str
    items: int

    @property
    def orbit(self) -> str:
        """``"<track> <direction>"``, "?" for what the catalogue does not say."""
        return f"{self.relative_orbit or '?'} {self.direction or '?'}"

    def label(self) -> str:
        """Its day and platform, e.g. ``2024-05-11 S1A``."""
        return f"{self.time.date()} {self.platform}".strip()


@dataclass(frozen=True)
class Dates:
    """The acquisitions found around ``around`` (sorted by time) and the suggested ``pair``
    (before, after) of one orbit, or None when no orbit has both."""

    query: DatesQuery
    collection: str
    around: dt.date
    acquisitions: list[Acquisition]
    pair: tuple[Acquisition, Acquisition] | None

    def table(self) -> Rows:
        """One row per orbit: the acquisitions before the event date and those on or after it
        (nearest first), orbits with the earliest acquisition after the date first."""
        from eo_drr.engine.tables import Rows

        rows = []
        for orbit in _orbits(self.acquisitions, self.around):
            before = [a for a in reversed(self.acquisitions) if a.orbit == orbit and _pre(a, self)]
            after = [a for a in self.acquisitions if a.orbit == orbit and not _pre(a, self)]
            rows.append((orbit, *(", ".join(a.label() for a in x) or "-" for x in (before, after))))
        q = self.query
        title = _(
            "Sentinel-1 acquisitions over {bbox}, {days} days around {date} ({collection} in "
            "{catalog})"
        ).format(
            bbox=q.bbox,
            days=q.days,
            date=self.around,
            collection=self.collection,
            catalog=q.catalog,
        )
        columns = (
            _("orbit"),
            _("before {date}").format(date=self.around),
            _("on or after {date}").format(date=self.around),
        )
        return Rows(title, columns, rows)

    def lines(self) -> list[str]:
        """The suggested pair in words, and how to put it in a job file."""
        if self.pair is None:
            return [
                _(
                    "no orbit has acquisitions both before and after {date} within {days} days: "
                    "try a larger --days"
                ).format(date=self.around, days=self.query.days)
            ]
        pre, post = self.pair
        gap = (post.time.date() - pre.time.date()).days
        return [
            _(
                "suggested pair (relative orbit {orbit}): before {before}, after {after} ({gap} "
                "days apart)"
            ).format(orbit=pre.orbit, before=pre.label(), after=post.label(), gap=gap),
            "  "
            + _("job file:")
            + f" time: {{pre: {{start: {pre.time.date()}, end: {pre.time.date()}}}, "
            f"post: {{start: {post.time.date()}, end: {post.time.date()}}}}}; sources.s1: "
            f"{{relative_orbit: {pre.relative_orbit}, orbit_direction: {pre.direction}}}",
        ]


def _pre(a: Acquisition, d: Dates) -> bool:
    return a.time.date() < d.around


def _orbits(acqs: Sequence[Acquisition], around: dt.date) -> list[str]:
    """The orbits, the one with the earliest acquisition on or after ``around`` first (orbits
    with none after last)."""
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    first_after: dict[str, dt.datetime] = {}
    for a in acqs:
        t = a.time if a.time.date() >= around else far
        first_after[a.orbit] = min(first_after.get(a.orbit, far), t)
    return sorted(first_after, key=lambda o: (first_after[o], o))


def acquisitions(items: Sequence[pystac.Item]) -> list[Acquisition]:
    """The items grouped into passes (relative orbit, orbit direction, UTC day), by time."""
    from eo_drr.catalog import item_datetime

    groups: dict[tuple, list[pystac.Item]] = {}
    for it in items:
        p = it.properties
        key = (p.get("sat:relative_orbit"), p.get("sat:orbit_state"), item_datetime(it).date())
        groups.setdefault(key, []).append(it)
    found = []
    for (orbit, direction, _day), group in groups.items():
        platform = str(group[0].properties.get("platform") or "")
        found.append(
            Acquisition(
                None if orbit is None else int(orbit),
                None if direction is None else str(direction),
                min(item_datetime(it) for it in group),
                platform.upper().replace("SENTINEL-", "S"),
                len(group),
            )
        )
    return sorted(found, key=lambda a: a.time)


def suggest_pair(
    acqs: Sequence[Acquisition], around: dt.date
) -> tuple[Acquisition, Acquisition] | None:
    """The first acquisition on or after ``around`` whose orbit (known track and direction)
    also has one before it, and the last such one before it; None when no orbit has both."""
    for post in (a for a in acqs if a.time.date() >= around and a.relative_orbit is not None):
        before = [a for a in acqs if a.orbit == post.orbit and a.time.date() < around]
        if before:
            return before[-1], post
    return None


def find_dates(query: DatesQuery) -> Dates:
    """Search the catalogue and group what it has around the event date (:class:`Dates`).
    Raises :class:`NoDataError` when it has no acquisition there, and an
    :class:`~eo_drr.errors.InputError` saying "no connection to HOST" when it cannot be
    reached."""
    from eo_drr.api.data import Query, search_items

    around = query.event_date()
    collection = query.collection or S1_COLLECTIONS.get(query.catalog, "sentinel-1-rtc")
    span = dt.timedelta(days=query.days)
    window = f"{around - span}/{around + span}"
    items = search_items(query.catalog, Query(collection, query.bbox, window))
    acqs = acquisitions(items)
    if not acqs:
        raise NoDataError(
            _(
                "no {collection} acquisition over --bbox {bbox} from {start} to {end} in {catalog}: "
                "widen --days, or check --bbox and --collection"
            ).format(
                collection=collection,
                bbox=query.bbox,
                start=around - span,
                end=around + span,
                catalog=query.catalog,
            )
        )
    return Dates(query, collection, around, acqs, suggest_pair(acqs, around))
