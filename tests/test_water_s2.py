"""Sentinel-2 water (three-rule majority), SCL masking (never class 6) and S1/S2 fusion."""

from __future__ import annotations

import numpy as np
import pytest

from eo_drr.errors import InputError
from eo_drr.products.water_s2 import FROM_S1, FROM_S2, fuse_water, s2_water

# typical surface reflectances (0-1): clear water, green vegetation, dry soil
WATER = dict(blue=0.06, green=0.07, red=0.05, nir=0.02, swir16=0.01, swir22=0.008)
VEG = dict(blue=0.03, green=0.07, red=0.04, nir=0.40, swir16=0.20, swir22=0.10)
SOIL = dict(blue=0.10, green=0.14, red=0.18, nir=0.25, swir16=0.32, swir22=0.28)


def scene():
    cls = np.zeros((40, 60), np.uint8)
    cls[:, 20:40] = 1
    cls[:, 40:] = 2
    bands = {k: np.choose(cls, [WATER[k], VEG[k], SOIL[k]]).astype(np.float32) for k in WATER}
    return cls, bands


def test_water_found_and_land_not():
    cls, bands = scene()
    water, lik = s2_water(bands)
    assert (water[cls == 0] == 1).all() and (water[cls != 0] == 0).all()
    assert (lik[cls == 0] >= 67).all() and (lik[cls != 0] <= 33).all()


def test_scl_masks_clouds_not_water():
    cls, bands = scene()
    scl = np.full(cls.shape, 4, np.uint8)
    scl[cls == 0] = 6  # water
    scl[:5] = 9  # cloud
    scl[5:8] = 3  # shadow
    water, lik = s2_water(bands, scl)
    assert (water[:8] == 255).all() and (lik[:8] == 255).all()
    assert (water[8:][cls[8:] == 0] == 1).all()


def test_ndwi_only_without_swir():
    cls, bands = scene()
    water, _ = s2_water({"green": bands["green"], "nir": bands["nir"]})
    assert (water[cls == 0] == 1).all() and (water[cls == 1] == 0).all()


def test_missing_band():
    with pytest.raises(InputError, match="missing band 'nir'"):
        s2_water({"green": np.zeros((2, 2), np.float32)})


def test_fusion_prefers_cloud_free_s2():
    s1 = np.array([[1, 0, 255, 1]], np.uint8)
    s2 = np.array([[0, 1, 1, 255]], np.uint8)
    out, prov = fuse_water(s1, s2)
    assert out.tolist() == [[0, 1, 1, 1]]
    assert prov.tolist() == [[FROM_S2, FROM_S2, FROM_S2, FROM_S1]]
