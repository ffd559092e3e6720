"""The flood product's masks (HAND, slope, no-sensitivity) and change-detected water, on
synthetic scenes whose truth is known by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from scipy import ndimage

from eo_drr.config import parse_config
from eo_drr.errors import ConfigError, InputError
from eo_drr.products import flood as fp
from eo_drr.products.change import CHANGE_PROVENANCE_BIT, ChangeRule, s1_flood
from eo_drr.products.terrain import slope_degrees


def _speckled_db(mean_db, seed, enl=4.4):
    rng = np.random.default_rng(seed)
    return (10 * np.log10(10 ** (mean_db / 10) * rng.gamma(enl, 1 / enl, mean_db.shape))).astype(
        np.float32
    )


def _scene(n=256):
    """Land at -8 dB, a permanent lake (water before and after) and a flood after the event."""
    lake = np.zeros((n, n), bool)
    lake[20:70, 20:120] = True
    flood = np.zeros((n, n), bool)
    flood[120:200, 60:200] = True
    pre_mean = np.where(lake, -22.0, -8.0)
    post_mean = np.where(lake | flood, -22.0, -8.0)
    pre = [10 ** (_speckled_db(pre_mean, s) / 10) for s in (1, 2, 3)]
    post = 10 ** (_speckled_db(post_mean, 9) / 10)
    return lake, flood, pre, post


def _da(a):
    return xr.DataArray(np.asarray(a, dtype=np.float32), dims=("y", "x"))


def test_flood_is_new_water_and_masks_apply():
    lake, flood, pre, post = _scene()
    n = lake.shape[0]
    pre_da = xr.concat([_da(p) for p in pre], dim="time")
    hand = np.zeros((n, n), np.float32)
    hand[:, 230:] = 40.0  # a hill strip: HAND above 15 m
    dem = np.zeros((n, n))
    dem[180:, :] = np.arange(n - 180)[:, None] * 5.0  # 5 m per 10 m cell: ~27 degrees
    slope = slope_degrees(dem, 10.0)
    lc = np.zeros((n, n), np.uint8)
    lc[150:170, 100:140] = 50  # built-up block inside the flood
    ds, thr = fp.flood_extent(
        pre_da, _da(post), hand=hand, slope=slope, landcover=lc, min_mapping_unit_px=4
    )
    f = ds["flood"].values
    ex = ds["exclusion"].values
    # the permanent lake is reference water, never flood: class 2 (still water)
    assert (f[lake] == fp.STILL_WATER).mean() > 0.98
    assert (ds["reference_water"].values[lake] == 1).mean() > 0.9
    # flood found where no mask applies
    free = flood & (ex == 0)
    assert (f[free] == 1).mean() > 0.9
    # slope-excluded flood rows are not flood, and flagged with the slope bit
    steep = slope > 5
    assert ((ex[steep] & fp.EXCLUDED_SLOPE) > 0).all()
    assert (f[flood & steep] != 1).all()
    # HAND bit
    assert ((ex[:, 230:] & fp.EXCLUDED_HAND) > 0).all() and (f[:, 230:] != 1).all()
    # no-sensitivity: flagged, and the flood there is no data (SAR decided), not "no flood"
    urban = lc == 50
    assert ((ex[urban] & fp.NO_SENSITIVITY_URBAN) > 0).all()
    assert (f[urban] == fp.NODATA).all()
    assert "slope" in ds["exclusion"].attrs["classes"]


def test_no_sensitivity_keeps_a_sentinel2_verdict():
    lake, flood, pre, post = _scene()
    n = lake.shape[0]
    lc = np.zeros((n, n), np.uint8)
    lc[150:170, 100:140] = 50
    s2 = np.full((n, n), 255, np.uint8)  # S2 saw only the urban block: water there
    s2[150:170, 100:140] = 1
    pre_da = xr.concat([_da(p) for p in pre], dim="time")
    ds, _ = fp.flood_extent(pre_da, _da(post), landcover=lc, s2_water=s2)
    f = ds["flood"].values
    assert (f[150:170, 100:140] == 1).all()  # S2 decided: its verdict stands
    assert (ds["water_source"].values[150:170, 100:140] == 1).all()


def test_change_detection_adds_water_never_removes():
    """With the VV threshold held at -20 dB (no adaptation, no region growing), flooded
    10 x 10 patches at -18 dB (darkened by 10 dB from -8 dB) sit just above it: the single-date
    rule misses them, change detection adds them, and unchanged land gains nothing."""
    n = 256
    rows = np.arange(n)[:, None] % 64
    water = np.broadcast_to(rows < 32, (n, n)).copy()
    patches = np.zeros((n, n), bool)
    for i in (38, 50):
        for j in range(4, n - 12, 18):
            patches[i : i + 10, j : j + 10] = True
    patches = np.tile(patches[:64], (n // 64, 1))
    pre = [_speckled_db(np.where(water, -22.0, -8.0), s) for s in (1, 2)]
    post = _speckled_db(np.where(water, -22.0, np.where(patches, -18.0, -8.0)), 5)
    rule = dict(
        prior_vv_db=-20.0, adapt_db=0.0, grow_db=0.0, speckle="refined_lee", speckle_window=7
    )
    with_change = s1_flood(pre, post, min_mapping_unit_px=4, **rule)
    alone = s1_flood(pre, post, min_mapping_unit_px=4, change=ChangeRule(None), **rule)
    w1, w0 = with_change.water.water == 1, alone.water.water == 1
    assert not (w0 & ~w1).any()  # adds only
    added = with_change.change_added.astype(bool)
    assert not (added & w0).any()
    core = ndimage.binary_erosion(patches, iterations=2)  # away from the speckle filter's blur
    assert w0[patches].mean() < 0.05 and w1[core].mean() > 0.6, (
        w0[patches].mean(),
        w1[core].mean(),
    )
    land = ~(water | patches)
    assert added[land].mean() < 0.002
    assert ((with_change.water.provenance[added] & CHANGE_PROVENANCE_BIT) > 0).all()
    assert alone.change_added is None
    # the flood (water - reference water) gains the patches too; the open water stays reference
    assert (with_change.flood[core] == 1).mean() > 0.6 and (
        with_change.flood[water] == 1
    ).mean() < 0.03


def test_mask_layers_must_be_on_the_sar_grid():
    lake, flood, pre, post = _scene(64)
    pre_da = xr.concat([_da(p) for p in pre], dim="time")
    with pytest.raises(InputError, match="slope: grid"):
        fp.flood_extent(pre_da, _da(post), slope=np.zeros((10, 10)))
    with pytest.raises(InputError, match="landcover: grid"):
        fp.flood_extent(pre_da, _da(post), landcover=np.zeros((10, 10)))


def test_config_rejects_unknown_no_sensitivity_class(tmp_path):
    base = """
name: x
aoi: {bbox: [-93, 17.9, -92.9, 18]}
time: {pre: {start: 2024-09-01, end: 2024-10-01}, post: {start: 2024-11-01, end: 2024-11-10}}
sources: {s1: {}}
products: {flood: {no_sensitivity_classes: [10, 80]}}
"""
    with pytest.raises(ConfigError, match="products.flood.no_sensitivity_classes"):
        parse_config(yaml.safe_load(base), source="job.yaml")
    with pytest.raises(ConfigError, match="slope_max_deg"):
        parse_config(
            yaml.safe_load(base.replace("no_sensitivity_classes: [10, 80]", "slope_max_deg: 120")),
            source="job.yaml",
        )


def test_jrc_seasonality_adds_reference_water():
    """A seasonal lake the pre-event scenes missed (dry then) but JRC says is water >= 10
    months a year is reference water, not flood; below the limit it stays flood."""
    lake, flood, pre, post = _scene()
    n = lake.shape[0]
    pre_da = xr.concat([_da(p) for p in pre], dim="time")
    months = np.zeros((n, n), np.float32)
    months[120:160, 60:200] = 11  # the northern half of the flood: seasonal water
    months[160:200, 60:200] = 6  # the southern half: water only 6 months a year
    months[0:5, :] = np.nan  # no data in JRC does not change anything
    ds, _ = fp.flood_extent(pre_da, _da(post), gsw_seasonality=months)
    f, ref = ds["flood"].values, ds["reference_water"].values
    assert (ref[125:155, 65:195] == 1).all() and (f[125:155, 65:195] == fp.STILL_WATER).all()
    assert (f[165:195, 65:195] == 1).mean() > 0.9
    with pytest.raises(InputError, match="gsw_min_months"):
        fp.flood_extent(pre_da, _da(post), gsw_seasonality=months, gsw_min_months=13)


def test_flood_params_are_the_one_source_of_defaults(tmp_path):
    """The job file, the API and the product share FloodParams: the config holds no default of
    its own (a key left out takes the product's), null turns the slope and change rules off,
    and an unknown option is refused by name."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_cli import small_demo_job

    from eo_drr.config import FloodProduct, load_config
    from eo_drr.jobs.flood_inputs import flood_params

    assert flood_params(FloodProduct()) == fp.FloodParams()
    for name, f in FloodProduct.model_fields.items():
        if name not in ("polarization",):
            assert f.default is None, name  # defaults live in FloodParams only
    cfg = load_config(small_demo_job(tmp_path, **{"products.flood.hand_max_m": 8.0}))
    p = flood_params(cfg.products.flood)
    assert p.hand_max_m == 8.0 and p.slope_max_deg == fp.FloodParams().slope_max_deg
    data = FloodProduct.model_validate(
        {"slope_max_deg": None, "change_decrease_db": None, "hand_max_m": None}
    )
    p = flood_params(data)
    assert p.slope_max_deg is None and p.change_decrease_db is None and p.hand_max_m == 15.0
    with pytest.raises(InputError, match="unknown option.*hand_max"):
        fp.flood_extent(
            xr.DataArray(np.ones((10, 10))), xr.DataArray(np.ones((10, 10))), hand_max=3
        )
    with pytest.raises(InputError, match="gsw_min_months"):
        fp.FloodParams(gsw_min_months=0)
