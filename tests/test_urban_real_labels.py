"""Partial real-label check of the built-up rule: only its NDVI condition, on the real
Sentinel-2 NDVI series and reference land cover of the eo-learn test EOPatch (Slovenia).

The benchmark (benchmarks/urban_wetland_accuracy.py) reports the numbers; this test checks
that they are computed right (against an independent numpy computation) and labelled as
what they are: one condition of the rule, not the rule."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "urban_wetland_accuracy", ROOT / "benchmarks" / "urban_wetland_accuracy.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def eopatch(shared_data) -> Path:
    folder = shared_data / "eolearn-testeopatch" / "TestEOPatch"
    if not (folder / "data" / "NDVI.npy").is_file():
        pytest.skip(f"{folder} not found (the eo-learn test EOPatch of the shared data folder)")
    return folder


def test_ndvi_condition_against_eolearn_lulc(eopatch):
    from eo_drr.products.urban import BuiltupRule

    got = _benchmark().eolearn_ndvi_condition(eopatch)
    assert (
        "PARTIAL" in got["label"]
        and "NDVI condition" in got["label"]
        and "NOT checked" in got["label"]
    )
    assert got["ndvi_max"] == BuiltupRule().ndvi_max

    # independent computation: numpy's nanmedian over the clear dates
    ndvi = np.load(eopatch / "data" / "NDVI.npy")[..., 0].astype(np.float64)
    clear = np.load(eopatch / "mask" / "IS_DATA.npy")[..., 0].astype(bool) & ~np.load(
        eopatch / "mask" / "CLM.npy"
    )[..., 0].astype(bool)
    lulc = np.load(eopatch / "mask_timeless" / "LULC.npy")[..., 0]
    assert ndvi.shape == (68, 101, 100)
    med = np.nanmedian(np.where(clear, ndvi, np.nan), axis=0)
    lab = lulc != 0
    pred, truth = med < got["ndvi_max"], lulc == 8
    tp, fp, fn = (
        int((pred & truth & lab).sum()),
        int((pred & ~truth & lab).sum()),
        int((~pred & truth & lab).sum()),
    )
    assert (got["tp"], got["fp"], got["fn"]) == (tp, fp, fn)
    assert (
        got["artificial_pixels"] == 198 and got["labelled_pixels"] == 101 * 100 - 155
    )  # PROVENANCE.md counts
    assert got["recall"] == pytest.approx(tp / (tp + fn))
    if tp + fp:
        assert got["precision"] == pytest.approx(tp / (tp + fp))
    else:
        assert math.isnan(got["precision"])
    assert got["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    # per-class distribution of the NDVI median, against numpy
    for name, row in got["per_class"].items():
        v = med[lab & (lulc == row["class"])]
        assert row["pixels"] == v.size
        assert row["ndvi_p50_q50"] == pytest.approx(np.median(v), abs=2e-3), name
    assert got["per_class"]["artificial surface"]["pixels"] == 198
    # the real signal the condition relies on: artificial surfaces are less green than forest
    # and grassland (clouds masked; without the mask the medians drop for every class)
    art = got["per_class"]["artificial surface"]["ndvi_p50_q50"]
    assert art < got["per_class"]["forest"]["ndvi_p50_q50"] - 0.05
    assert art < got["per_class"]["grassland"]["ndvi_p50_q50"] - 0.05


def test_missing_folder_is_skipped_with_a_reason(tmp_path):
    got = _benchmark().eolearn_ndvi_condition(tmp_path / "nowhere")
    assert set(got) == {"skipped"} and "not found" in got["skipped"]
