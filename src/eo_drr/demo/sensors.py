"""Sentinel-1 RTC and Sentinel-2 L2A simulation over a :class:`~eo_drr.demo.landscape.Landscape`.

Sentinel-2 (L2A-like): per-class surface reflectance (:data:`physics.S2_REFLECTANCE`) with a
static smooth texture, per-date pixel noise and a yearly vegetation cycle; clouds (bright, SCL 8
and 9), their shadows offset from them (dark, SCL 3) and thin cirrus (SCL 10). Reflectance is
stored as ``uint16`` DN = round(reflectance * 10000) + 1000 (processing baseline >= 04.00),
nodata 0; B02/B03/B04/B08 at 10 m, B11/B12/SCL at 20 m (2x2 block mean, SCL by decimation).

Sentinel-1 (RTC-like): per-class mean gamma0 (:data:`physics.S1_GAMMA0_DB`) plus a smooth
texture (dB) and a date jitter, converted to linear power and multiplied by gamma-distributed
speckle of mean 1 and ENL 4.4. ``float32`` linear gamma0, nodata -32768.

Seasonal marsh water (Sentinel-2 only): on each date the lowest-lying share of the herbaceous
marsh holds shallow standing water among the plants (:func:`marsh_inundated`; an assumed
hydroperiod in :mod:`.physics`), so that a wetland is *repeatedly* wet, as the Wetlands Insight
Tool expects of one, and not only on the flood date. Sentinel-1 keeps its one wettest
pre-event date (``wettest``).

What the flood does to each sensor (post-event dates only):

- flooded open land and marsh (``flood_observable``): turbid water optically, calm open water
  in SAR (VV about -23 dB);
- flooded forest: canopy unchanged optically; SAR VV +3 dB, VH +1 dB (double bounce);
- flooded built-up: a 60/40 mix of built-up and turbid water optically; SAR unchanged (bright).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from eo_drr.demo import physics as P
from eo_drr.demo.fields import block_reduce, rng_for, shift, smooth_field
from eo_drr.demo.landscape import Landscape, water_class_mask
from eo_drr.demo.physics import SurfaceClass as C
from eo_drr.demo.sites import BUILTUP_T2_FROM_DAYS, Site

_NCLS = max(int(c) for c in C) + 1
#: Day of year of the vegetation peak (wet-season end in Tabasco; irrigated summer in Arequipa).
_PEAK_DOY = {"floodplain": 260, "desert_city": 60}
#: Day of year of the marsh's highest standing water (end of the rainy season: Tabasco's autumn
#: fronts; the Andean summer rains at Arequipa). Assumed, see :data:`physics.S2_MARSH_WET_MEAN`.
_MARSH_WET_PEAK_DOY = {"floodplain": 315, "desert_city": 75}


def marsh_wet_share(site: Site, day: dt.date) -> float:
    """Share (0-1) of the marsh holding standing water on ``day`` (see :mod:`.physics`)."""
    doy = day.timetuple().tm_yday
    phase = 2 * np.pi * (doy - _MARSH_WET_PEAK_DOY.get(site.name, 300)) / 365.25
    s = P.S2_MARSH_WET_MEAN + P.S2_MARSH_WET_AMPLITUDE * float(np.cos(phase))
    return float(min(max(s, 0.0), 1.0))


def marsh_inundated(land: Landscape, site: Site, day: dt.date) -> np.ndarray:
    """Marsh pixels (bool, ``size x size``) holding standing water on ``day``: the
    :func:`marsh_wet_share` of the marsh with the lowest HAND (ties broken by position)."""
    marsh = land.classes_t2 == C.WETLAND
    out = np.zeros(marsh.shape, dtype=bool)
    share = marsh_wet_share(site, day)
    k = int(round(share * int(marsh.sum())))
    if k > 0:
        order = np.argsort(land.hand_m[marsh], kind="stable")
        wet = np.zeros(order.size, dtype=bool)
        wet[order[:k]] = True
        out[marsh] = wet
    return out


@dataclass(frozen=True)
class S2Acquisition:
    """One simulated Sentinel-2 L2A date.

    ``bands``: band name -> ``uint16`` DN array (10 m bands ``size x size``, 20 m bands
    ``ceil(size/2)`` square). ``scl``: ``uint8`` scene classification at 20 m.
    ``cloud_cover``: percentage (0-100) of 10 m pixels under cloud or cirrus (SCL 8, 9, 10).
    ``epoch``: the built-up epoch shown (1 or 2).
    """

    datetime: dt.datetime
    bands: dict[str, np.ndarray]
    scl: np.ndarray
    cloud_cover: float
    epoch: int


@dataclass(frozen=True)
class S1Acquisition:
    """One simulated Sentinel-1 RTC date: linear gamma0 ``vv``/``vh`` (float32, nodata -32768).

    ``epoch``: the built-up epoch shown (1 or 2), by the same date rule as Sentinel-2.
    """

    datetime: dt.datetime
    vv: np.ndarray
    vh: np.ndarray
    relative_orbit: int
    orbit_state: str
    epoch: int = 2


def _lut(table, width: int) -> np.ndarray:
    lut = np.zeros((_NCLS, width), dtype=np.float32)
    for cls, values in table.items():
        lut[int(cls)] = values
    return lut


def reflectance_to_dn(refl: np.ndarray) -> np.ndarray:
    """Reflectance (0..1) -> L2A DN (uint16): ``round(refl * 10000) - BOA_ADD_OFFSET``."""
    dn = np.rint(np.clip(refl, 0.0, 1.0) * P.S2_QUANTIFICATION_VALUE) - P.S2_BOA_ADD_OFFSET
    return dn.astype(np.uint16)


def simulate_s2(
    land: Landscape, site: Site, seed: int, when: dt.datetime, *, cloud: float, cirrus: bool
) -> S2Acquisition:
    """Simulate one Sentinel-2 L2A date ``when`` with a cloud fraction near ``cloud`` (0..1)."""
    n = land.size
    days = (when.date() - site.event).days
    epoch = 1 if days < BUILTUP_T2_FROM_DAYS else 2
    post = days > 0
    classes = (land.classes_t1 if epoch == 1 else land.classes_t2).copy()
    flooded_built = land.flood & (classes == C.BUILT) if post else None
    if post:
        classes[land.flood_observable] = C.WATER_TURBID

    refl = _lut(P.S2_REFLECTANCE, len(P.S2_BANDS))[classes]  # (y, x, band)
    refl = np.moveaxis(refl, -1, 0).copy()  # (band, y, x)
    if post and flooded_built is not None and flooded_built.any():
        turbid = np.asarray(P.S2_REFLECTANCE[C.WATER_TURBID], dtype=np.float32)[:, None]
        refl[:, flooded_built] = 0.6 * refl[:, flooded_built] + 0.4 * turbid

    # Vegetation cycle: NIR up, red down at the peak of the season.
    veg = np.isin(classes, [int(c) for c in P.VEGETATION_CLASSES])
    doy = when.timetuple().tm_yday
    season = float(np.cos(2 * np.pi * (doy - _PEAK_DOY.get(site.name, 200)) / 365.25))
    pheno = 1.0 + P.S2_PHENOLOGY_AMPLITUDE * season
    refl[3][veg] *= pheno
    refl[2][veg] /= pheno

    # Seasonal standing water among the marsh plants (the flood, when there is one, wins).
    pond = marsh_inundated(land, site, when.date()) & (classes == C.WETLAND)
    if pond.any():
        a = P.S2_MARSH_WATER_FRACTION
        clear = np.asarray(P.S2_REFLECTANCE[C.WATER_CLEAR], dtype=np.float32)[:, None]
        refl[:, pond] = (1 - a) * refl[:, pond] + a * clear

    # Static surface texture (the same every date) and per-date pixel noise.
    tex = smooth_field(rng_for(seed, site.name, "s2-texture"), (n, n), 0.01 * n)
    rng = rng_for(seed, site.name, "s2", when.isoformat())
    common = rng.standard_normal((n, n), dtype=np.float32)
    gain = (1.0 + P.S2_TEXTURE * tex) * (1.0 + P.S2_PIXEL_NOISE * common)
    for b in range(refl.shape[0]):
        own = rng.standard_normal((n, n), dtype=np.float32)
        refl[b] *= gain * (1.0 + 0.3 * P.S2_PIXEL_NOISE * own)

    # Scene classification before clouds.
    water = water_class_mask(classes)
    scl = np.where(veg, P.SCL["vegetation"], P.SCL["not_vegetated"]).astype(np.uint8)
    scl[water] = P.SCL["water"]
    unclassified = (rng.random((n, n)) < 0.003) & ~water
    scl[unclassified] = P.SCL["unclassified"]

    # Clouds, shadows, cirrus.
    crng = rng_for(seed, site.name, "s2-clouds", when.isoformat())
    cloudy = np.zeros((n, n), dtype=bool)
    if cloud > 0:
        field = smooth_field(crng, (n, n), 0.05 * n)
        thr = float(np.quantile(field, 1.0 - cloud))
        alpha = np.clip((field - thr) / 0.6, 0.0, 1.0)
        cloudy = alpha > 0
        cref = np.asarray(P.S2_CLOUD_REFLECTANCE, dtype=np.float32)[:, None]
        a_cloud = alpha[cloudy]
        refl[:, cloudy] = (1 - a_cloud) * refl[:, cloudy] + a_cloud * cref
        scl[cloudy] = np.where(a_cloud >= 0.5, P.SCL["cloud_high"], P.SCL["cloud_medium"])
        # Shadow: the cloud projected away from the sun (about 0.4-0.5 km at these scales).
        shadow = shift(cloudy, int(0.04 * n), -int(0.05 * n)) & ~cloudy
        refl[:, shadow] *= P.S2_SHADOW_FACTOR
        scl[shadow] = P.SCL["cloud_shadow"]
    if cirrus:
        veil = smooth_field(crng, (n, n), 0.04 * n, anisotropy=4.0) > 1.6
        veil &= ~cloudy
        refl[:, veil] += np.asarray(P.S2_CIRRUS_ADD, dtype=np.float32)[:, None]
        scl[veil] = P.SCL["thin_cirrus"]
    covered = np.isin(scl, (P.SCL["cloud_medium"], P.SCL["cloud_high"], P.SCL["thin_cirrus"]))

    bands: dict[str, np.ndarray] = {}
    for b, name in enumerate(P.S2_BANDS):
        if name in P.S2_BANDS_20M:
            bands[name] = reflectance_to_dn(block_reduce(refl[b], 2, "mean"))
        else:
            bands[name] = reflectance_to_dn(refl[b])
    return S2Acquisition(
        datetime=when,
        bands=bands,
        scl=np.ascontiguousarray(scl[::2, ::2]),
        cloud_cover=round(float(covered.mean()) * 100.0, 2),
        epoch=epoch,
    )


def simulate_s1(
    land: Landscape,
    site: Site,
    seed: int,
    when: dt.datetime,
    *,
    relative_orbit: int,
    orbit_state: str,
    wettest: bool = False,
) -> S1Acquisition:
    """Simulate one Sentinel-1 RTC date (linear gamma0, float32).

    ``wettest`` marks the pre-event date on which part of the marsh holds open water.
    Dates before ``BUILTUP_T2_FROM_DAYS`` (days from the event) show the epoch-1 settlement
    (``land.classes_t1``), later ones epoch 2, exactly as :func:`simulate_s2` does.
    The ascending (distractor) track is offset by ``S1_ASCENDING_OFFSET_DB`` and misses a
    wedge at the west edge of the scene (nodata), as a neighbouring track's swath would.
    """
    n = land.size
    days = (when.date() - site.event).days
    post = days >= 0
    epoch = 1 if days < BUILTUP_T2_FROM_DAYS else 2
    classes = (land.classes_t1 if epoch == 1 else land.classes_t2).copy()
    rng = rng_for(seed, site.name, "s1", when.isoformat(), relative_orbit)
    lut = _lut(P.S1_GAMMA0_DB, 2)
    for cls in C:
        sd = P.S1_DATE_JITTER_DB.get(cls, P.S1_DATE_JITTER_DEFAULT_DB)
        lut[int(cls)] += rng.normal(0.0, sd)
    water_db = np.asarray(P.S1_GAMMA0_DB[C.WATER_CLEAR], dtype=np.float32)
    for cls in (C.WATER_CLEAR, C.WATER_TURBID):  # water stays water whatever the jitter
        lut[int(cls)] = P.S1_GAMMA0_DB[cls]
    if wettest:
        classes[land.wet_pre] = C.WATER_CLEAR
    db = np.moveaxis(lut[classes], -1, 0).copy()  # (pol, y, x)
    if post:
        db[:, land.flood_observable] = water_db[:, None]
        flooded_forest = land.flood & (classes == C.TREE)
        db[:, flooded_forest] += np.asarray(P.S1_FLOODED_FOREST_DB, dtype=np.float32)[:, None]
    tex = smooth_field(rng_for(seed, site.name, "s1-texture"), (n, n), 0.01 * n)
    db += P.S1_TEXTURE_DB * tex
    if orbit_state == "ascending":
        db += P.S1_ASCENDING_OFFSET_DB
    lin = np.power(10.0, db / 10.0, dtype=np.float32)
    for p in range(2):
        lin[p] *= rng.gamma(P.S1_ENL, 1.0 / P.S1_ENL, size=(n, n)).astype(np.float32)
    if orbit_state == "ascending":
        yy, xx = np.mgrid[0:n, 0:n]
        lin[:, xx + 0.3 * yy < 0.15 * n] = P.S1_NODATA
    return S1Acquisition(
        datetime=when,
        vv=lin[0],
        vh=lin[1],
        relative_orbit=relative_orbit,
        orbit_state=orbit_state,
        epoch=epoch,
    )
