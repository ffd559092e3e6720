"""Sentinel-1 single-date water (prior-anchored threshold, region growing): synthetic truth,
quality flags and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from eo_drr.errors import InputError, NoDataError
from eo_drr.products.water import PROVENANCE_BITS, hsba_threshold, s1_water
from eo_drr.products.water_settings import DEFAULTS, water_params


def _speckled(mean_db: np.ndarray, seed: int = 0, enl: float = 4.4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lin = 10 ** (mean_db / 10) * rng.gamma(enl, 1 / enl, mean_db.shape)
    return (10 * np.log10(lin)).astype(np.float32)


def test_rare_water_found_by_hierarchical_split():
    """3 % water in a 512 x 512 scene: a global histogram is unimodal, tiles are not."""
    mean = np.full((512, 512), -9.0)
    truth = np.zeros((512, 512), bool)
    truth[40:110, 300:420] = True  # a lake of 8,400 px (3 %)
    mean[truth] = -22.0
    vv = _speckled(mean, 1)
    vh = _speckled(mean - 7, 2)
    r = s1_water(vv, vh)
    pred = r.water == 1
    iou = (pred & truth).sum() / (pred | truth).sum()
    assert iou > 0.9, iou
    assert r.fallback is None and r.quality["bimodal"] and r.threshold.polarisation == "vh"
    assert r.quality["reliable"] and r.quality["contrast_db"] > 10
    assert (r.likelihood[truth] >= 50).mean() > 0.95 and r.likelihood.max() <= 100
    assert (r.provenance[truth] & PROVENANCE_BITS["seed"]).astype(bool).mean() > 0.9


def test_land_only_scene_maps_no_water_and_says_why():
    mean = np.where(np.arange(256)[None, :] < 128, -6.0, -9.0) * np.ones(
        (256, 1)
    )  # two kinds of land
    r = s1_water(_speckled(mean, 3))
    assert (r.water == 1).mean() < 0.001
    assert r.fallback is not None and "prior" in r.fallback
    assert not r.quality["reliable"] and r.quality["warnings"]


def test_all_water_scene_is_water_not_zeros():
    """A scene entirely of open water (no bimodal tile): the prior maps it, and says so."""
    vv = _speckled(np.full((256, 256), -21.0), 6)
    vh = _speckled(np.full((256, 256), -28.0), 7)
    r = s1_water(vv, vh)
    assert (r.water == 1).mean() > 0.97
    assert not r.quality["bimodal"] and any("water" in w for w in r.quality["warnings"])


def test_low_contrast_water_grows_from_seeds():
    """Flooded fields 1.1 dB brighter than the VH prior, next to open water: region growing
    takes them in; the same level away from any water stays land."""
    mean = np.full((256, 256), -15.0)
    mean[:, :60] = -27.0  # open water
    mean[:, 60:120] = -20.5  # shallow flood touching it
    mean[:, 180:200] = -20.5  # equally dark land strip, not connected
    vv, vh = (
        _speckled(mean + 7, 8, enl=50),
        _speckled(mean, 9, enl=50),
    )  # multi-looked: little speckle
    r = s1_water(vv, vh, grow_db=2.0, speckle="lee", speckle_window=9)
    w = r.water == 1
    assert w[:, 5:55].mean() > 0.97 and w[:, 65:115].mean() > 0.8
    assert (r.provenance[:, 65:115] & PROVENANCE_BITS["grown"]).astype(bool).mean() > 0.3
    assert w[:, 185:195].mean() < 0.5


def test_vv_only_uses_the_vv_defaults_and_overrides_apply():
    mean = np.full((256, 256), -8.0)
    mean[60:160, 60:160] = -22.0
    r = s1_water(_speckled(mean, 10))
    assert r.threshold.polarisation == "vv" and r.threshold.prior_db == DEFAULTS["vv"].prior_vv_db
    r2 = s1_water(_speckled(mean, 10), speckle="boxcar", speckle_window=5)
    assert r2.threshold.polarisation == "vv"
    with pytest.raises(InputError, match="unknown"):
        water_params(speckel="lee")
    with pytest.raises(InputError, match="speckle"):
        water_params(speckle="gauss")


def test_threshold_of_land_land_bimodality_is_refused():
    mean = np.where(np.arange(256)[None, :] < 128, -3.0, -12.0) * np.ones((256, 1))
    t, n, _ = hsba_threshold(_speckled(mean, 4), max_split_db=-10.0)
    assert t is None and n == 0


def test_nodata_kept():
    mean = np.full((256, 256), -9.0)
    mean[100:160, 100:160] = -22
    vv = _speckled(mean, 5)
    vv[:10] = np.nan
    r = s1_water(vv)
    assert (r.water[:10] == 255).all() and (r.likelihood[:10] == 255).all()


def test_bad_input():
    with pytest.raises(NoDataError, match="all pixels are nodata"):
        s1_water(np.full((64, 64), np.nan, np.float32))
    with pytest.raises(InputError, match="linear"):
        s1_water(np.random.default_rng(0).gamma(4.4, 0.05, (64, 64)).astype(np.float32))
    with pytest.raises(InputError, match="differs"):
        s1_water(np.zeros((64, 64), np.float32) - 10, np.zeros((32, 32), np.float32))


def test_demo_post_event_water_matches_truth(small_demo_scene):
    """The demo's post-event acquisition: water = permanent water + observable flood."""
    from eo_drr.catalog import SearchQuery, StaticCatalog

    cat = StaticCatalog(small_demo_scene.catalog_path)
    post = [
        i for i in cat.search(SearchQuery(collections=("sentinel-1-rtc",), relative_orbit=165))
    ][-1]
    with (
        rasterio.open(post.assets["vv"].get_absolute_href()) as a,
        rasterio.open(post.assets["vh"].get_absolute_href()) as b,
    ):
        vv, vh = a.read(1), b.read(1)
    truth_item = cat.search(SearchQuery(collections=("demo-truth",)))[0]
    with (
        rasterio.open(truth_item.assets["flood_observable"].get_absolute_href()) as f,
        rasterio.open(truth_item.assets["permanent_water"].get_absolute_href()) as w,
    ):
        truth = (f.read(1) == 1) | (w.read(1) == 1)
    r = s1_water(vv, vh, units="linear")
    pred = r.water == 1
    iou = (pred & truth).sum() / (pred | truth).sum()
    assert iou > 0.85, iou


def test_water_far_brighter_than_typical_is_flagged():
    """Wind-roughened water brighter than typical (VH -21 dB, its lower part already below the
    prior) beside bright land (-14 dB): the scene splits near -17 dB, far above the prior, and
    the flags say that water may be missed."""
    mean = np.full((256, 256), -14.0)
    mean[60:200, 40:220] = -21.0
    r = s1_water(_speckled(mean + 6, 11), _speckled(mean, 12))
    assert r.quality["bimodal"] and r.threshold.scene_db > r.threshold.prior_db + 4
    assert not r.quality["reliable"]
    assert any("far above the typical level of water" in w for w in r.quality["warnings"])


def test_likelihood_bins_are_the_searchs_on_and_next_to_every_edge():
    """The arithmetic binning of float32 distances equals the binary search of the edges,
    on every edge, one float32 step either side, far outside, and for NaN and +-inf."""
    from eo_drr.products.water_settings import LIKELIHOOD_EDGES_DB, likelihood_bin

    edges = np.asarray(LIKELIHOOD_EDGES_DB, dtype=np.float32)
    near = np.concatenate(
        [edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)]
    ).astype(np.float32)
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            near,
            rng.normal(0, 5, 200_006).astype(np.float32),
            np.float32([-1e30, 1e30, 0, -0.0, np.nan, np.inf, -np.inf]),
        ]
    ).reshape(-1, 7)
    expected = np.searchsorted(np.asarray(LIKELIHOOD_EDGES_DB), np.nan_to_num(values), "right")
    assert np.array_equal(likelihood_bin(values), expected)
    as64 = np.concatenate([values.reshape(-1).astype(np.float64), [5e-324, -5e-324, 1e300]])
    expected64 = np.searchsorted(np.asarray(LIKELIHOOD_EDGES_DB), np.nan_to_num(as64), "right")
    assert np.array_equal(likelihood_bin(as64), expected64)
