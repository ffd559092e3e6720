"""The demo landscape on the 10 m grid: river, lake, terrain (HAND, DEM), land cover, flood truth.

Everything is built in pixel space (row ``y`` down, column ``x`` right, 10 m pixels) from
smooth random fields, so shapes look natural and scale with ``size``:

1. A meandering river crosses the scene from west to east; an oxbow lake (floodplain) or a
   small reservoir (desert city) lies beside it. River + lake = permanent water.
2. HAND (height above nearest drainage, m) rises with the distance to that water, with smooth
   roughness and, away from the river, hills of tens of metres. It is scaled so that the land
   below the flood level covers the site's ``flood_fraction`` of the scene. The DEM (m) is a
   gently downstream-sloping river profile plus HAND: consistent by construction.
3. Land cover follows the terrain: marsh on the lowest ground, forest on hills, crops and grass
   on the floodplain, a town beside the river. The town exists at two epochs, epoch 1 inside
   epoch 2; the growth is at the edge, partly in low, flood-prone ground.
4. The flood (the event) is every non-water pixel whose HAND is below the flood level and that
   is connected to the river, with edges smoothed over ~15 m.

How flooded pixels look to the sensors (see :mod:`eo_drr.demo.sensors`): flooded open land and
marsh turn into open water (dark in SAR, turbid water in optical): that is ``flood_observable``.
Flooded forest keeps its canopy optically and brightens in SAR (trunk-water double bounce,
about +3 dB VV); flooded built-up stays bright in SAR (the double bounce of walls persists).
Both are in ``flood`` but not in ``flood_observable``; the generator keeps them a small share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from eo_drr.demo.fields import rng_for, smooth_field
from eo_drr.demo.physics import WATER_CLASSES, WORLDCOVER, SurfaceClass
from eo_drr.demo.sites import Site

RESOLUTION_M = 10.0
C = SurfaceClass


@dataclass(frozen=True)
class Landscape:
    """All 10 m truth arrays of one scene (``size x size``).

    ``classes_t1``/``classes_t2``: ``SurfaceClass`` codes (uint8) at built-up epoch 1 and 2
    (epoch 2 = at the event). ``hand_m``: height above nearest drainage (float32, m, >= 0).
    ``profile_m``: elevation of the river surface below each pixel (float32, m);
    ``dem = profile_m + hand_m``. Masks are boolean. ``wet_pre`` marks marsh pixels that hold
    open water on the wettest pre-event date. ``river_xy``: river centreline (pixel x, y).
    ``town_yx``/``town_radius_px``: centre and epoch-2 radius of the town (pixels).
    """

    size: int
    classes_t1: np.ndarray
    classes_t2: np.ndarray
    hand_m: np.ndarray
    profile_m: np.ndarray
    permanent_water: np.ndarray
    flood: np.ndarray
    flood_observable: np.ndarray
    builtup_t1: np.ndarray
    builtup_t2: np.ndarray
    wet_pre: np.ndarray
    river_xy: np.ndarray
    town_yx: tuple[float, float]
    town_radius_px: float
    flood_level_m: float

    @property
    def dem_m(self) -> np.ndarray:
        """Elevation (m) = river profile + HAND, float32."""
        return (self.profile_m + self.hand_m).astype(np.float32)

    def worldcover(self, epoch: int = 2) -> np.ndarray:
        """ESA WorldCover codes (uint8) of the given built-up epoch."""
        lut = np.zeros(max(int(c) for c in SurfaceClass) + 1, dtype=np.uint8)
        for cls, code in WORLDCOVER.items():
            lut[int(cls)] = code
        return lut[self.classes_t1 if epoch == 1 else self.classes_t2]

    @property
    def wetland(self) -> np.ndarray:
        """Herbaceous wetland (WorldCover 90) at the event."""
        return self.classes_t2 == C.WETLAND


def build_landscape(site: Site, seed: int, size: int) -> Landscape:
    """Generate the landscape of ``site`` for ``seed`` on a ``size x size`` 10 m grid."""
    n = int(size)
    desert = site.name == "desert_city"
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)

    # -- river centreline and channel ----------------------------------------------------------
    rng = rng_for(seed, site.name, "river")
    a1, a2 = (0.08, 0.02) if desert else (0.16, 0.05)
    l1, l2 = rng.uniform(0.75, 1.0), rng.uniform(0.25, 0.35)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    y0 = rng.uniform(0.42, 0.58)
    xs = np.arange(-2.0, n + 2.0, 0.25)
    wiggle = np.interp(xs, np.linspace(-2, n + 2, 32), rng.normal(0, 0.01, 32))
    ys = n * (
        y0
        + a1 * np.sin(2 * np.pi * xs / (l1 * n) + p1)
        + a2 * np.sin(2 * np.pi * xs / (l2 * n) + p2)
        + wiggle
    )
    width = max(3.0, 0.004 * n) if desert else max(4.0, 0.012 * n)  # px
    line = np.zeros((n, n), dtype=bool)
    iy, ix = np.round(ys).astype(int), np.round(xs).astype(int)
    ok = (iy >= 0) & (iy < n) & (ix >= 0) & (ix < n)
    line[iy[ok], ix[ok]] = True
    d_center = ndimage.distance_transform_edt(~line).astype(np.float32)  # px
    river = d_center <= width / 2

    # -- oxbow lake (floodplain) or small reservoir (desert) ------------------------------------
    rng = rng_for(seed, site.name, "lake")
    lake = _place_lake(rng, n, xs, ys, width, desert, yy, xx)
    water = river | lake
    water_cls = np.where(lake, C.WATER_CLEAR, C.WATER_CLEAR if desert else C.WATER_TURBID)

    # -- HAND -----------------------------------------------------------------------------------
    rng = rng_for(seed, site.name, "terrain")
    d_bank = ndimage.distance_transform_edt(~water).astype(np.float32) * RESOLUTION_M  # m
    rough = smooth_field(rng, (n, n), 0.05 * n)
    hills_f = smooth_field(rng, (n, n), 0.12 * n)
    hills = np.clip((hills_f - 0.5) / 1.3, 0, 1) ** 1.2 * 45.0  # m
    riverbed_half = 0.03 * n  # px from the centreline (desert quebrada)
    unit = 0.01 * n * RESOLUTION_M  # m: 1 % of the scene width, so shapes scale with size
    if desert:
        d_c = d_center  # px
        inside = d_c < riverbed_half
        bed = 0.2 + 1.0 * (d_c / riverbed_half) ** 2 + 0.1 * rough
        beyond = np.maximum(d_c - riverbed_half, 0) * RESOLUTION_M  # m beyond the riverbed
        terrace = 1.5 + beyond / unit + 1.2 * rough * np.clip(beyond / (2 * unit), 0, 1)
        ramp = np.clip(beyond / (0.1 * n * RESOLUTION_M), 0, 1)
        hand = np.where(inside, bed, terrace + hills * ramp)
        near_pond = d_bank < 0.05 * n * RESOLUTION_M
        pond_low = 0.3 + 2.2 * (d_bank / (0.05 * n * RESOLUTION_M))
        hand = np.where(near_pond & ~inside, np.minimum(hand, pond_low), hand)
    else:
        plain = 2.2 * (d_bank / (4 * unit)) ** 0.9
        ramp = np.clip(d_bank / (0.08 * n * RESOLUTION_M), 0, 1)
        hand = plain + 0.6 * rough * np.clip(d_bank / (1.5 * unit), 0, 1) + hills * ramp
    hand = np.maximum(hand, 0.0)
    hand[water] = 0.0
    land = ~water
    target = min(0.95, site.flood_fraction * n * n / max(land.sum(), 1))
    q = float(np.quantile(hand[land], target))
    hand = (hand * (site.flood_level_m / max(q, 1e-3))).astype(np.float32)
    x_m = (xx + 0.5) * RESOLUTION_M
    profile = (site.base_elevation_m - site.river_slope * x_m).astype(np.float32)

    # -- flood truth ----------------------------------------------------------------------------
    level = site.flood_level_m
    below = ndimage.gaussian_filter((hand < level).astype(np.float32), 1.5) > 0.5
    labels, _ = ndimage.label(below | water)
    connected = np.unique(labels[water])
    flood = np.isin(labels, connected[connected > 0]) & below & ~water

    # -- land cover -----------------------------------------------------------------------------
    rng = rng_for(seed, site.name, "landcover")
    f = {k: smooth_field(rng, (n, n), s * n) for k, s in _FIELD_SCALES.items()}
    if desert:
        cls = np.full((n, n), C.DESERT, dtype=np.uint8)
        cls[f["shrub"] > 0.8] = C.SHRUB
        bank_px = d_center - riverbed_half
        campina = (bank_px > 0) & (bank_px < 0.12 * n) & (hand < 25)
        cls[campina & (f["ag"] > -0.4)] = C.CROP
        cls[campina & (f["ag"] > -0.4) & (f["tree"] > 1.6)] = C.TREE
        cls[(d_center < riverbed_half) & (f["tree"] > 2.2)] = C.SHRUB
        riverbed = (d_center < riverbed_half) & ~water
        cls[riverbed] = C.RIVERBED
        lake_margin = (ndimage.distance_transform_edt(~lake) < 0.02 * n) & ~water
        cls[lake_margin & ~riverbed] = C.WETLAND
    else:
        cls = np.full((n, n), C.CROP, dtype=np.uint8)
        cls[f["ag"] > 0.3] = C.GRASS
        cls[(f["bare"] > 1.6) & (hand < 8)] = C.BARE
        cls[(hand > 5) & (hand < 12) & (f["shrub"] > 0.5)] = C.SHRUB
        cls[(hand > 10) & (f["tree"] > -0.3)] = C.TREE
        riparian = (d_bank < 0.03 * n * RESOLUTION_M) & (f["tree"] > 1.4)
        cls[riparian] = C.TREE
        marsh = (hand < 0.45 * level) & (f["wet"] > -0.2)
        lake_dist = ndimage.distance_transform_edt(~lake) * RESOLUTION_M
        marsh |= (lake_dist < 0.04 * n * RESOLUTION_M) & (hand < 0.6 * level)
        cls[marsh] = C.WETLAND

    # -- town at two epochs -------------------------------------------------------------------
    rng = rng_for(seed, site.name, "town")
    town_yx, r1, r2 = _place_town(rng, n, xs, ys, width, desert, riverbed_half)
    dist_t = np.hypot(yy - town_yx[0], xx - town_yx[1])
    shape_noise = smooth_field(rng, (n, n), 0.04 * n)
    urban = f["urban"] > (-1.3 if desert else -1.0)
    # Growth reaches towards the river: the epoch-2 radius stretches on the river side.
    river_y_at = np.interp(xx, xs, ys)
    towards = np.sign(river_y_at - town_yx[0]) == np.sign(yy - town_yx[0])
    stretch = np.where(towards, 1.25, 1.0)
    blob1 = dist_t / r1 + 0.18 * shape_noise < 1
    blob2 = dist_t / (r2 * stretch) + 0.18 * shape_noise < 1
    high = hand >= level + (0.3 if not desert else 0.5)
    t1 = blob1 & urban & ~water & high
    # Growth: dry ground at the edge, plus a few informal patches on flood-prone ground.
    informal = smooth_field(rng, (n, n), 0.015 * n) > 1.0
    growth = blob2 & urban & ~water & (~flood | informal)
    if desert:
        t1 &= d_center > riverbed_half
        growth &= d_center > 0.8 * riverbed_half
    if not (growth & flood).any():  # always some growth on flood-prone ground
        near = flood & ~water
        if near.any():
            cy, cx = (
                int(v)
                for v in np.unravel_index(np.argmin(np.where(near, dist_t, np.inf)), near.shape)
            )
            patch = np.hypot(yy - cy, xx - cx) <= max(2.0, 0.012 * n)
            growth |= patch & flood & ~water
    t2 = t1 | growth
    green = (blob1 | blob2) & ~urban & ~water
    cls[green] = np.where(f["tree"][green] > 0, C.TREE, C.GRASS)
    classes_t1 = cls.copy()
    classes_t1[t1] = C.BUILT
    classes_t2 = cls.copy()
    classes_t2[t2] = C.BUILT
    classes_t1[water] = water_cls[water]
    classes_t2[water] = water_cls[water]

    hidden = (classes_t2 == C.TREE) | (classes_t2 == C.BUILT)
    wet_pre = (classes_t2 == C.WETLAND) & (f["wetpre"] > 0)
    return Landscape(
        size=n,
        classes_t1=classes_t1,
        classes_t2=classes_t2,
        hand_m=hand,
        profile_m=profile,
        permanent_water=water,
        flood=flood,
        flood_observable=flood & ~hidden,
        builtup_t1=t1,
        builtup_t2=t2,
        wet_pre=wet_pre,
        river_xy=np.column_stack([xs, ys]),
        town_yx=town_yx,
        town_radius_px=float(r2),
        flood_level_m=float(level),
    )


#: Correlation lengths of the land-cover fields, as fractions of the scene size.
_FIELD_SCALES = {
    "ag": 0.04,
    "bare": 0.03,
    "shrub": 0.03,
    "tree": 0.025,
    "wet": 0.03,
    "urban": 0.008,
    "wetpre": 0.03,
}


def _place_lake(rng, n, xs, ys, width, desert, yy, xx) -> np.ndarray:
    """An oxbow-lake crescent (floodplain) or a rounded reservoir (desert), clear of the river."""
    radius = (0.035 if desert else 0.07) * n
    x_l = rng.uniform(0.15, 0.3) * n if rng.random() < 0.5 else rng.uniform(0.7, 0.85) * n
    y_r = float(np.interp(x_l, xs, ys))
    side = 1.0 if y_r < n / 2 else -1.0  # the side with more room
    gap = radius + width + (0.07 if desert else 0.05) * n
    cy = float(np.clip(y_r + side * gap, radius + 2, n - radius - 2))
    cx = float(x_l)
    r = np.hypot(yy - cy, xx - cx)
    if desert:
        wobble = 1 + 0.15 * np.sin(3 * np.arctan2(yy - cy, xx - cx) + rng.uniform(0, 6))
        return r < radius * wobble
    # Crescent: a ring of thickness ~1.3 channel widths, open towards the river.
    ang = np.arctan2(yy - cy, xx - cx)
    open_dir = np.arctan2(-side, 0.0)  # towards the river
    delta = np.angle(np.exp(1j * (ang - open_dir)))
    thickness = max(3.0, 1.3 * width)
    ring = np.abs(r - radius) <= thickness / 2
    return ring & (np.abs(delta) > np.deg2rad(60))


def _place_town(
    rng, n, xs, ys, width, desert, riverbed_half
) -> tuple[tuple[float, float], float, float]:
    """Centre (y, x) and epoch-1/epoch-2 radii (px) of the town beside the river."""
    r1 = (0.17 if desert else 0.09) * n
    r2 = (0.22 if desert else 0.12) * n
    x_t = rng.uniform(0.4, 0.6) * n
    y_r = float(np.interp(x_t, xs, ys))
    side = 1.0 if rng.random() < 0.5 else -1.0
    off = (riverbed_half + 0.2 * n) if desert else (width / 2 + 0.14 * n)
    y_t = y_r + side * off
    if not (r1 < y_t < n - r1):
        y_t = y_r - side * off
    return (float(np.clip(y_t, 0.1 * n, 0.9 * n)), float(x_t)), float(r1), float(r2)


def water_class_mask(classes: np.ndarray) -> np.ndarray:
    """Boolean mask of water classes in a ``SurfaceClass`` array."""
    return np.isin(classes, [int(c) for c in WATER_CLASSES])
