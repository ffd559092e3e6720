"""Where and when each demo landscape lies: location, UTM zone, dates and acquisition plan.

Two landscapes, at real coordinates so that maps and WGS84 footprints look right:

- ``"floodplain"``: a humid river floodplain town at Villahermosa, Tabasco, Mexico
  (-92.93, 17.99; UTM 15N, EPSG:32615; MGRS tile 15QWV). Event 2024-11-05 (Tabasco's floods
  come with the autumn fronts).
- ``"desert_city"``: a desert city beside a dry riverbed (quebrada) at Arequipa, Peru
  (-71.54, -16.40; UTM 19S, EPSG:32719; MGRS tile 19KBB). Event 2025-02-19 (the Andean rainy
  season brings the quebrada floods in February-March).

Acquisition plan, relative to the event date ``E`` (the flood peak):

- Sentinel-1 (S1A, IW GRDH, relative orbit 165 descending): ``E-36``, ``E-24``, ``E-12`` and the
  post-event ``E`` (12-day repeat). One distractor on relative orbit 99 ascending at ``E-7``
  that a search restricted to the reference track must exclude. Three more reference-track
  dates a year earlier, ``E-348``, ``E-336``, ``E-324`` (same 12-day repeat), show built-up
  epoch 1 like the early Sentinel-2 dates, so that an urban-growth job's first epoch has
  Sentinel-1 too; they lie far outside any pre-event window of a flood job.
- Sentinel-2 (L2A): four dates over the year before (``E-351``, ``E-261``, ``E-171``, ``E-81``),
  the pre-event ``E-11`` and the post-event ``E+2``. The two earliest dates show built-up
  epoch 1, the later four epoch 2 (``BUILTUP_T2_FROM_DAYS``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType

#: Sentinel-1 reference track (relative orbit, orbit state) and the distractor track.
S1_TRACK = (165, "descending")
S1_OTHER_TRACK = (99, "ascending")
#: Days from the event of the reference-track pre-event acquisitions (12-day repeat).
S1_PRE_DAYS = (-36, -24, -12)
#: Days from the event of the reference-track acquisitions inside built-up epoch 1 (all before
#: ``BUILTUP_T2_FROM_DAYS``; 12-day repeat, on the same cycle as the pre-event dates).
S1_EPOCH1_DAYS = (-348, -336, -324)
#: Day of the distractor acquisition on the other track.
S1_OTHER_DAYS = -7
#: Days from the event of the Sentinel-2 acquisitions (the last two: pre- and post-event).
S2_DAYS = (-351, -261, -171, -81, -11, 2)
#: Sentinel-2 and Sentinel-1 dates at or after this offset (days) show built-up epoch 2;
#: earlier ones epoch 1.
BUILTUP_T2_FROM_DAYS = -200
#: Cloud fraction (0..1) aimed at on each Sentinel-2 date, and which dates carry thin cirrus.
S2_CLOUD_TARGETS = (0.12, 0.0, 0.08, 0.18, 0.06, 0.15)
S2_CIRRUS_DATES = (True, False, False, True, False, True)


@dataclass(frozen=True)
class Site:
    """One landscape's location and calendar.

    ``lon``/``lat`` (degrees) is the scene centre; ``epsg`` its UTM zone; ``event`` the date of
    the flood peak; ``s1_utc``/``s2_utc`` the usual overpass times (UTC) of the reference track
    and of Sentinel-2; ``flood_level_m`` the water level above the nearest drainage reached at
    the peak (m) and ``flood_fraction`` the share of the scene the flood is tuned to cover.
    """

    name: str
    place: str
    country: str  # ISO 3166-1 alpha-2
    admin_prefix: str  # e.g. "MX27" (INEGI state 27, Tabasco)
    lon: float
    lat: float
    epsg: int
    mgrs_tile: str
    s2_relative_orbit: int
    event: dt.date
    s1_utc: dt.time
    s1_other_utc: dt.time
    s2_utc: dt.time
    base_elevation_m: float  # river elevation at the upstream (west) edge, m
    river_slope: float  # river gradient, m per m, falling towards the east
    flood_level_m: float
    flood_fraction: float


SITES = MappingProxyType(
    {
        "floodplain": Site(
            name="floodplain",
            place="Villahermosa, Tabasco, Mexico",
            country="MX",
            admin_prefix="MX27",
            lon=-92.93,
            lat=17.99,
            epsg=32615,
            mgrs_tile="15QWV",
            s2_relative_orbit=83,
            event=dt.date(2024, 11, 5),
            s1_utc=dt.time(12, 5, 12),
            s1_other_utc=dt.time(0, 23, 41),
            s2_utc=dt.time(16, 46, 9),
            base_elevation_m=12.0,
            river_slope=0.0002,
            flood_level_m=3.0,
            flood_fraction=0.17,
        ),
        "desert_city": Site(
            name="desert_city",
            place="Arequipa, Peru",
            country="PE",
            admin_prefix="PE04",
            lon=-71.54,
            lat=-16.40,
            epsg=32719,
            mgrs_tile="19KBB",
            s2_relative_orbit=96,
            event=dt.date(2025, 2, 19),
            s1_utc=dt.time(10, 47, 33),
            s1_other_utc=dt.time(23, 26, 5),
            s2_utc=dt.time(15, 7, 21),
            base_elevation_m=2380.0,
            river_slope=0.012,
            flood_level_m=2.0,
            flood_fraction=0.11,
        ),
    }
)

#: Landscape names accepted by :func:`eo_drr.demo.generate_scene`.
LANDSCAPES: tuple[str, ...] = tuple(SITES)
