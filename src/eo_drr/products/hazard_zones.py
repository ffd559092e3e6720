"""Hazard zones for urban growth, and new built-up inside them.

Every layer here is uint8: 1 hazard (or new built-up in a hazard zone), 0 not, 255 no data.

==========================  =====================================================================
zone                        source
==========================  =====================================================================
flood-prone ground          HAND <= ``max_m`` (m); Nobre et al. 2011, J. Hydrol. 404:13-29
                            class ground below ~5 m HAND as flood-prone bottomland
steep ground                slope >= ``min_deg`` (degrees); debris flows start on slopes steeper
                            than about 15 degrees (Takahashi 1981, Annu. Rev. Fluid Mech. 13:57-77)
riverbank / shore strip     within ``distance_m`` (m) of water; Brazil's Forest Code keeps a
                            30 m strip along rivers under 10 m wide free of building (Lei
                            12.651/2012, art. 4: Areas de Preservacao Permanente, 30-500 m)
an observed hazard          a raster whose value 1 is hazard (e.g. ``flood_extent.tif``: its 2,
                            water already there before the event, is the river itself)
==========================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

#: uint8 no-data value of every layer of this module
NODATA = 255


def from_hand(hand_m: np.ndarray, max_m: float) -> np.ndarray:
    """Flood-prone ground: 1 where HAND (m) <= ``max_m``, 0 above, 255 no data (NaN)."""
    if not 0 < max_m <= 100:
        raise InputError(
            _("hazard.hand_max_m: expected (0, 100] m, got {max_m}").format(max_m=max_m)
        )
    h = np.asarray(hand_m, dtype=np.float32)
    out = (h <= max_m).astype(np.uint8)
    out[~np.isfinite(h)] = NODATA
    return out


def from_slope(slope_deg: np.ndarray, min_deg: float) -> np.ndarray:
    """Steep ground: 1 where the slope (degrees) is >= ``min_deg``, 0 below, 255 no data."""
    if not 0 < min_deg < 90:
        raise InputError(
            _("hazard.slope_min_deg: expected (0, 90) degrees, got {min_deg}").format(
                min_deg=min_deg
            )
        )
    s = np.asarray(slope_deg, dtype=np.float32)
    out = (s >= min_deg).astype(np.uint8)
    out[~np.isfinite(s)] = NODATA
    return out


def near_water(water: np.ndarray, distance_m: float, pixel_m: float) -> np.ndarray:
    """Riverbank and shore strip: 1 on land within ``distance_m`` metres (Euclidean, pixel
    centres) of water, 0 farther away or on the water itself, 255 where ``water`` has no data.

    ``water``: uint8 1 water, 0 land, 255 no data; ``pixel_m``: pixel size in metres.
    """
    from scipy import ndimage

    if not 0 < distance_m <= 5000:
        raise InputError(
            _("hazard.water_distance_m: expected (0, 5000] m, got {distance_m}").format(
                distance_m=distance_m
            )
        )
    w = np.asarray(water)
    wet = w == 1
    out = np.zeros(w.shape, np.uint8)
    if wet.any():
        dist_m = ndimage.distance_transform_edt(~wet) * float(pixel_m)
        out[(dist_m <= distance_m) & ~wet] = 1
    out[w == NODATA] = NODATA
    return out


def from_raster(values: np.ndarray) -> np.ndarray:
    """An observed hazard raster (float, NaN no data): 1 where the value is 1, else 0."""
    v = np.asarray(values, dtype=np.float32)
    return np.where(np.isfinite(v), (v == 1).astype(np.uint8), NODATA).astype(np.uint8)


def union(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Union of hazard layers: 1 where any is 1, 0 where none is 1 and one knows, else 255."""
    if not parts:
        raise InputError(_("hazard: no hazard layer to combine"))
    hazard = np.zeros(parts[0].shape, np.uint8)
    known = np.zeros(parts[0].shape, bool)
    for part in parts:
        if part.shape != hazard.shape:
            raise InputError(
                _("hazard: grid {shape} differs from {shape2}").format(
                    shape=part.shape, shape2=hazard.shape
                )
            )
        hazard |= (part == 1).astype(np.uint8)
        known |= part != NODATA
    hazard[~known & (hazard == 0)] = NODATA
    return hazard


def growth_in_hazard(growth: np.ndarray, hazard: np.ndarray) -> np.ndarray:
    """New built-up inside a hazard zone: 1 where ``growth`` (1 new built-up, 0 not, 255 no
    data; :func:`eo_drr.products.growth_pair.new_builtup`) is 1 and ``hazard`` is 1, 0
    elsewhere, 255 where either has no data."""
    g, h = np.asarray(growth), np.asarray(hazard)
    if g.shape != h.shape:
        raise InputError(
            _("hazard: grid {shape} differs from the growth grid {shape2}").format(
                shape=h.shape, shape2=g.shape
            )
        )
    out = ((g == 1) & (h == 1)).astype(np.uint8)
    out[(g == NODATA) | (h == NODATA)] = NODATA
    return out
