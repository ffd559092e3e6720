"""Sentinel-2 open water: a majority of three published spectral rules, clouds masked by SCL,
and the fusion with the Sentinel-1 result.

Rules (inputs: surface reflectance 0-1, or TOA reflectance for L1C):

- MNDWI = (green - swir1) / (green + swir1) > 0 (Xu 2006, Int. J. Remote Sens. 27(14):3025-3033);
- AWEI_sh > 0 (Feyisa et al. 2014, Remote Sens. Environ. 140:23-35: 0 is the paper's threshold);
- the WOfS decision tree (Mueller et al. 2016, Remote Sens. Environ. 174:341-352) on the
  equivalent Sentinel-2 bands.

A pixel is water when at least two of the three say so. Without SWIR bands only NDWI > 0
(McFeeters 1996, Int. J. Remote Sens. 17(7):1425-1432) is possible, and is used alone.

Scene classification (SCL) masks no data, saturated pixels, cloud shadows, clouds and cirrus
(0, 1, 3, 8, 9, 10). SCL class 6 (water) is never masked.

Fusion with Sentinel-1 (:func:`fuse_water`): where Sentinel-2 has a valid, cloud-free
observation its result is used (open water is spectrally unambiguous there, while calm land
such as tarmac, sand or dry fields can be as dark as water in SAR); where Sentinel-2 is
cloudy or missing, Sentinel-1 (which sees through clouds) fills in. Provenance says which.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from eo_drr import indices
from eo_drr.errors import InputError

SCL_MASKED = (0, 1, 3, 8, 9, 10)
SCL_WATER = 6
#: provenance of fused pixels
FROM_S2, FROM_S1 = 1, 2


def s2_water(bands: Mapping[str, np.ndarray], scl: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(water, likelihood)``: uint8 1 water / 0 not / 255 no data, and 0-100 (255 no data).

    ``bands``: reflectance (0-1) arrays by common name: green and nir are required; blue, red,
    swir16, swir22 enable the three-rule majority.
    """
    for need in ("green", "nir"):
        if need not in bands:
            raise InputError(f"s2_water: missing band {need!r} (have {', '.join(sorted(bands))})")
    b = {k: np.asarray(v, dtype=np.float32) for k, v in bands.items()}
    shape = b["green"].shape
    if any(v.shape != shape for v in b.values()):
        raise InputError("s2_water: bands have different shapes")
    full = all(k in b for k in ("blue", "red", "swir16", "swir22"))
    if full:
        votes_list = [
            np.asarray(indices.mndwi(b["green"], b["swir16"])) > 0,
            np.asarray(indices.awei_sh(b["blue"], b["green"], b["nir"], b["swir16"], b["swir22"])) > 0,
            np.asarray(indices.wofs(b["blue"], b["green"], b["red"], b["nir"], b["swir16"], b["swir22"])) > 0.5,
        ]
    else:
        votes_list = [np.asarray(indices.ndwi(b["green"], b["nir"])) > 0]
    votes = np.sum(votes_list, axis=0)
    water = votes * 2 > len(votes_list)
    valid = np.all([np.isfinite(v) for v in b.values()], axis=0)
    if scl is not None:
        scl = np.asarray(scl)
        if scl.shape != shape:
            raise InputError("s2_water: SCL has a different shape than the bands")
        valid &= ~np.isin(scl, SCL_MASKED)
    out = np.where(water, 1, 0).astype(np.uint8)
    out[~valid] = 255
    lik = np.round(100.0 * votes / len(votes_list)).astype(np.uint8)
    lik[~valid] = 255
    return out, lik


def fuse_water(s1: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(water, provenance)`` from S1 and S2 class rasters (1/0/255) on one grid: S2 where it
    observed, S1 elsewhere. Provenance: 1 from S2, 2 from S1, 0 no data."""
    if s1.shape != s2.shape:
        raise InputError(f"fuse_water: S1 grid {s1.shape} differs from S2 grid {s2.shape}")
    use_s2 = s2 != 255
    out = np.where(use_s2, s2, s1).astype(np.uint8)
    prov = np.where(use_s2, FROM_S2, np.where(s1 != 255, FROM_S1, 0)).astype(np.uint8)
    return out, prov
