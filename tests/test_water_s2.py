"""Sentinel-2 water (three-rule majority), SCL masking (never class 6) and S1/S2 fusion."""

from __future__ import annotations

import numpy as np
import pytest

from eo_drr.errors import InputError
from eo_drr.products.water_s2 import FROM_S1, FROM_S2, fuse_water, s2_water

# typical surface reflectances (0-1): clear water, green vegetation, dry soil
WATER = {"blue": 0.06, "green": 0.07, "red": 0.05, "nir": 0.02, "swir16": 0.01, "swir22": 0.008}
VEG = {"blue": 0.03, "green": 0.07, "red": 0.04, "nir": 0.40, "swir16": 0.20, "swir22": 0.10}
SOIL = {"blue": 0.10, "green": 0.14, "red": 0.18, "nir": 0.25, "swir16": 0.32, "swir22": 0.28}


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


# --- clouds and cloud shadows without SCL (L1C TOA) -------------------------------------------

# a thick cloud (TOA): bright and flat from the visible to the NIR, SWIR1 a little lower
CLOUD = {"blue": 0.48, "green": 0.46, "red": 0.45, "nir": 0.47, "swir16": 0.40, "swir22": 0.28}
# TOA path radiance added to every surface (visible-heavy); a shadow keeps it, loses the sun
PATH = {"blue": 0.05, "green": 0.03, "red": 0.02, "nir": 0.01, "swir16": 0.0, "swir22": 0.0}


def cloudy_scene(factor=0.3):
    """Water (left), vegetation and soil (right), a cloud and, beside it, its shadow on land
    (land reflectance x ``factor``, path radiance unchanged). 120 x 60 px, so that the shadow is
    a small part of the land, as in real scenes."""
    cls, bands = scene()
    cls = np.tile(cls, (3, 1))
    bands = {k: np.tile(v, (3, 1)) for k, v in bands.items()}
    toa = {k: v + PATH[k] for k, v in bands.items()}
    cloud = np.zeros(cls.shape, bool)
    cloud[5:20, 30:45] = True
    shadow = np.zeros(cls.shape, bool)
    shadow[22:36, 26:58] = True  # on vegetation and soil, 2-10 px from the cloud
    for k, v in bands.items():
        lit = np.where(shadow, v * factor + PATH[k], toa[k])
        toa[k] = np.where(cloud, CLOUD[k], lit).astype(np.float32)
    return cls, toa, cloud, shadow


@pytest.mark.parametrize("factor", [0.2, 0.25, 0.35])
def test_cloud_shadow_never_water(factor):
    cls, toa, cloud, shadow = cloudy_scene(factor)
    water, lik = s2_water(toa)
    assert (water[cloud] == 255).all() and (lik[cloud] == 255).all()
    assert (water[shadow] == 255).all() and (lik[shadow] == 255).all()
    assert (water[(cls == 0) & ~cloud & ~shadow] == 1).all()  # real water stays water
    assert (water[(cls != 0) & ~cloud & ~shadow] != 1).all()


def test_shadow_over_water_stays_water():
    cls, toa, _, _ = cloudy_scene()
    near = np.zeros(cls.shape, bool)
    near[22:36, 0:20] = True  # water next to the cloud, darkened like a shadow
    for k in toa:
        toa[k] = np.where(near, toa[k] * 0.5, toa[k]).astype(np.float32)
    water, _ = s2_water(toa)
    assert (water[near] == 1).all()


def test_cloud_test_off_and_with_scl():
    cls, toa, cloud, _ = cloudy_scene()
    water, _ = s2_water(toa, cloud_test="none")
    assert (water != 255).all()
    scl = np.full(cls.shape, 4, np.uint8)
    scl[cls == 0] = 6
    water, _ = s2_water(toa, scl)  # SCL given: it alone masks (here it says clear)
    assert (water[cloud] != 255).all()
    water, _ = s2_water(toa, scl, cloud_test="fmask")
    assert (water[cloud] == 255).all()
    with pytest.raises(InputError, match="cloud_test"):
        s2_water(toa, cloud_test="maybe")
    with pytest.raises(InputError, match="rule"):
        s2_water(toa, rule="two")


def test_rules():
    cls, bands = scene()
    for rule in ("majority", "all", "any", "mndwi", "awei", "wofs"):
        water, _ = s2_water(bands, rule=rule)
        assert (water[cls == 0] == 1).all() and (water[cls != 0] == 0).all(), rule


def _s2_chips(root):
    import rasterio

    pairs = [
        (
            root / "sen1floods11-sample" / "Spain_7370579_S2Hand.tif",
            root / "sen1floods11-sample" / "Spain_7370579_LabelHand.tif",
        ),
        (
            root / "sen1floods11-chips" / "S2Hand" / "India_900498_S2Hand.tif",
            root / "sen1floods11-chips" / "LabelHand" / "India_900498_LabelHand.tif",
        ),
    ]
    out = []
    for s2p, labp in pairs:
        if not (s2p.exists() and labp.exists()):
            continue
        with rasterio.open(s2p) as src:
            s2 = src.read().astype(np.float32) / 10000.0
        s2[:, (s2 == 0).all(axis=0)] = np.nan
        with rasterio.open(labp) as src:
            label = src.read(1)
        bands = {
            "blue": s2[1],
            "green": s2[2],
            "red": s2[3],
            "nir": s2[7],
            "swir16": s2[11],
            "swir22": s2[12],
        }
        out.append((s2p.name, bands, s2[10], label))
    return out


@pytest.mark.shared_data
def test_real_chips_mask_keeps_labelled_water(shared_data):
    from eo_drr.products.water_s2 import cloud_shadow_mask

    found = _s2_chips(shared_data)
    if not found:
        pytest.skip("no Sen1Floods11 S2 chips under the shared data folder")
    for name, bands, cirrus, label in found:
        cloud, shadow = cloud_shadow_mask(bands, cirrus=cirrus)
        water = label == 1
        lost = (water & (cloud | shadow)).sum() / water.sum()
        assert lost < 0.03, f"{name}: cloud/shadow mask removes {lost:.1%} of labelled water"
        w, _ = s2_water(bands, cirrus=cirrus)
        valid = label >= 0
        tp = ((w == 1) & water & valid).sum()
        iou = tp / (((w == 1) | water) & valid).sum()
        assert iou > 0.7, f"{name}: water IoU {iou:.3f}"
