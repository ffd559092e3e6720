"""Incremental monitoring: which post-event Sentinel-1 acquisitions are new since the last run.

``eo-drr monitor CONFIG -o OUTPUT`` (for cron) searches the job's catalogue for Sentinel-1
items over the AOI acquired from ``time.post.start`` up to now (``time.post.end`` is not a
limit here: a monitored event is open-ended), with the job's orbit filters. An item is *new*
when it is newer than the newest acquisition recorded ``done`` in the ledger of OUTPUT for
this job and AOI (:meth:`JobLedger.last_acquisition`); an item recorded ``failed`` is tried
again. Items acquired on the same UTC day on the same relative orbit (adjacent slices of one
pass) form one :class:`Acquisition`, which becomes its own event run: the job with
``time.post`` set to that day and ``sources.s1`` pinned to that orbit, written into
``OUTPUT/<YYYY-MM-DD>_r<orbit>/``. The pre-event window stays as configured. Sentinel-2 is
kept only when the catalogue has a scene of that day (within ``max_cloud_cover``), else that
event run is Sentinel-1 only. A late-ingested item older than the newest processed one is not
picked up (rerun it with ``eo-drr run`` and a post window on its date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

import pystac

from eo_drr.catalog import SearchQuery, item_datetime
from eo_drr.config import JobConfig, Window, required
from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _
from eo_drr.jobs import inputs
from eo_drr.jobs.ledger import JobLedger


def aoi_key(cfg: JobConfig) -> str:
    """Short hash of the job's AOI setting: acquisitions are recorded per job and AOI."""
    return hashlib.sha256(json.dumps(cfg.aoi.model_dump(), sort_keys=True).encode()).hexdigest()[
        :16
    ]


def iso(t: dt.datetime) -> str:
    """UTC time as ``YYYY-MM-DDTHH:MM:SSZ`` (sorts as text)."""
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Acquisition:
    """One pass to process: the items of one UTC day and relative orbit."""

    day: dt.date
    relative_orbit: int | None
    orbit_direction: str | None
    items: list[pystac.Item] = field(default_factory=list)
    has_s2: bool = False

    @property
    def folder(self) -> str:
        """Sub-folder of the output folder for this event run."""
        return (
            f"{self.day.isoformat()}_r{self.relative_orbit:03d}"
            if self.relative_orbit
            else self.day.isoformat()
        )

    @property
    def acquired_at(self) -> dt.datetime:
        return min(item_datetime(it) for it in self.items)


@dataclass
class Scan:
    """The result of a search: ``since`` (the newest processed acquisition, ISO, or None) and
    the acquisitions to process, oldest first."""

    since: str | None
    new: list[Acquisition]


def scan(cfg: JobConfig, ledger: JobLedger, now: dt.datetime | None = None) -> Scan:
    """Search the catalogue for post-event acquisitions not yet processed (see the module)."""
    if cfg.pipeline != "flood":
        raise ConfigError(
            _(
                "pipeline: eo-drr monitor follows new Sentinel-1 acquisitions of a flood or "
                "water_series job, not {pipeline!r}"
            ).format(pipeline=cfg.pipeline)
        )
    if cfg.sources.s1 is None:
        raise ConfigError(_("sources.s1: eo-drr monitor needs Sentinel-1 (add sources.s1)"))
    if cfg.time.pre is None:
        raise ConfigError(_("time.pre: the flood pipeline needs a pre-event window"))
    s1 = cfg.sources.s1
    key = aoi_key(cfg)
    since = ledger.last_acquisition(cfg.name, key)
    failed = {a["item_id"] for a in ledger.acquisitions(cfg.name, key) if a["status"] == "failed"}
    done = {a["item_id"] for a in ledger.acquisitions(cfg.name, key) if a["status"] == "done"}
    catalog = inputs.job_catalog(cfg)
    aoi = inputs.aoi_geometry(cfg)
    start = dt.datetime.combine(cfg.time.post.start, dt.time.min, tzinfo=dt.timezone.utc)
    q = SearchQuery(
        collections=(s1.collection,),
        bbox=inputs.aoi_bbox(aoi),
        start=start,
        end=now,
        orbit_direction=s1.orbit_direction,
        relative_orbit=s1.relative_orbit,
    )
    groups: dict[tuple, Acquisition] = {}
    for it in catalog.search(q):
        if it.id in done:
            continue
        if since is not None and iso(item_datetime(it)) <= since and it.id not in failed:
            continue
        orbit = it.properties.get("sat:relative_orbit")
        day = item_datetime(it).date()
        acq = groups.setdefault(
            (day, orbit), Acquisition(day, orbit, it.properties.get("sat:orbit_state"))
        )
        acq.items.append(it)
    new = sorted(groups.values(), key=lambda a: (a.acquired_at, a.relative_orbit or 0))
    if cfg.sources.s2 is not None:
        s2 = cfg.sources.s2
        for acq in new:
            acq.has_s2 = bool(
                catalog.search(
                    SearchQuery.for_days(
                        s2.collection,
                        acq.day,
                        acq.day,
                        bbox=inputs.aoi_bbox(aoi),
                        max_cloud_cover=s2.max_cloud_cover,
                    )
                )
            )
    return Scan(since, new)


def event_config(cfg: JobConfig, acq: Acquisition) -> JobConfig:
    """The job of one acquisition: ``time.post`` on its day, Sentinel-1 pinned to its orbit,
    Sentinel-2 dropped when there is no scene of that day."""
    s1cfg = required(cfg.sources.s1, "sources.s1", "monitoring follows Sentinel-1 acquisitions")
    s1 = s1cfg.model_copy(
        update={
            "relative_orbit": acq.relative_orbit or s1cfg.relative_orbit,
            "orbit_direction": acq.orbit_direction or s1cfg.orbit_direction,
        }
    )
    sources = cfg.sources.model_copy(
        update={"s1": s1, "s2": cfg.sources.s2 if acq.has_s2 else None}
    )
    time = cfg.time.model_copy(update={"post": Window(start=acq.day, end=acq.day)})
    return cfg.model_copy(update={"sources": sources, "time": time})
