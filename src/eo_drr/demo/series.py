"""A year of Sentinel-1 acquisitions on the reference track, in a catalogue of its own, with
the true water frequency over its dates.

The scene's own catalogue has seven reference-track dates in two bursts (a year apart), too
few for a water frequency; adding dates to it would change what the flood and urban jobs
find. So the series lies beside it, in ``<scene>/s1-series/catalog.json`` (a job reads it
with ``sources.catalog: demo://s1-series/catalog.json``): one acquisition every 12 days
(the Sentinel-1A repeat) from ``E-360`` to the event ``E`` (31 dates), simulated exactly as
the scene's own (:func:`~eo_drr.demo.sensors.simulate_s1`).

Water on each date: the rivers and lakes (permanent), the marsh's open water (``wet_pre``)
on the wet-season dates, when the marsh holds at least :data:`WET_SEASON_SHARE` of its
standing water (:func:`~eo_drr.demo.sensors.marsh_wet_share`, an assumed hydroperiod), and
the flood (``flood_observable``) on the event date. The truth ``water_frequency`` (float32
0-1) is the share of the series' dates on which a pixel is such water.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from eo_drr.demo import catalog as cat
from eo_drr.demo import physics as P
from eo_drr.demo import sites as S
from eo_drr.demo.landscape import Landscape, water_class_mask
from eo_drr.demo.sensors import marsh_wet_share, simulate_s1
from eo_drr.io.cog import CogStyle

#: folder of the series (beside the scene's own catalogue)
SERIES_DIR = "s1-series"
#: the truth layer's name in ``scene.truth``
FREQUENCY_TRUTH = "water_frequency"
#: days from the event of the series' acquisitions: 12-day repeat, E-360 .. E
SERIES_DAYS = tuple(range(-360, 1, 12))
#: share of the marsh holding standing water from which its open part (``wet_pre``) shows
#: open water in SAR (assumed: the wettest weeks of the hydroperiod)
WET_SEASON_SHARE = 0.9


def series_dates(site: S.Site) -> list[dt.datetime]:
    """The acquisition times (UTC) of the series."""
    return [
        dt.datetime.combine(site.event + dt.timedelta(days=d), site.s1_utc, tzinfo=dt.timezone.utc)
        for d in SERIES_DAYS
    ]


def true_water(land: Landscape, site: S.Site, when: dt.datetime) -> np.ndarray:
    """Open water (bool) on the series date ``when`` (module docstring)."""
    days = (when.date() - site.event).days
    classes = land.classes_t1 if days < S.BUILTUP_T2_FROM_DAYS else land.classes_t2
    water = water_class_mask(classes)
    if marsh_wet_share(site, when.date()) >= WET_SEASON_SHARE:
        water = water | land.wet_pre
    if days >= 0:
        water = water | land.flood_observable
    return water


def write_series(root: Path, land: Landscape, site: S.Site, seed: int, grid, writer) -> Path:
    """Simulate the series into ``root/s1-series`` (COGs, a static STAC catalogue) and write
    the truth ``water_frequency.tif`` there; returns the truth file. ``grid`` is the scene's
    ``(transform, shape)``."""
    transform, shape = grid
    folder = root / SERIES_DIR
    crs = f"EPSG:{site.epsg}"
    orbit, state = S.S1_TRACK
    items = []
    n_water = np.zeros(shape, dtype=np.uint16)
    dates = series_dates(site)
    for when in dates:
        wet = marsh_wet_share(site, when.date()) >= WET_SEASON_SHARE
        acq = simulate_s1(
            land, site, seed, when, relative_orbit=orbit, orbit_state=state, wettest=wet
        )
        n_water += true_water(land, site, when)
        item_id = cat.s1_item_id(when, orbit)
        files = {
            key: writer.submit(
                arr,
                folder / "sentinel-1-rtc" / item_id / f"{key}.tif",
                crs=crs,
                transform=transform,
                nodata=P.S1_NODATA,
                style=CogStyle(
                    band_descriptions=[key.upper()],
                    overview_resampling="average",
                    tags={"units": "linear gamma0 (power)"},
                ),
            )
            for key, arr in (("vv", acq.vv), ("vh", acq.vh))
        }
        items.append(
            cat.s1_item(
                item_id,
                when,
                relative_orbit=orbit,
                orbit_state=state,
                grid=cat.ItemGrid(site.epsg, transform, shape),
                files=files,
            )
        )
    truth = writer.submit(
        (n_water / np.float32(len(dates))).astype(np.float32),
        folder / f"{FREQUENCY_TRUTH}.tif",
        crs=crs,
        transform=transform,
        style=CogStyle(
            band_descriptions=[FREQUENCY_TRUTH],
            overview_resampling="average",
            tags={
                "units": "share of the series' dates with open water (0-1)",
                "dates": ",".join(f"{d:%Y-%m-%d}" for d in dates),
            },
        ),
    )
    cat.save_catalog(
        folder,
        f"eo-drr-demo-{site.name}-s{seed}-series",
        f"eo-drr demo Sentinel-1 series: {site.place}",
        {"sentinel-1-rtc": items},
    )
    return truth
