"""Urban growth change model: features, model loading, maps, and leave-one-city-out on the
real OSCD cities (benchmarks/urban_accuracy.py)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from eo_drr.errors import InputError
from eo_drr.products import urban_change as uc

ROOT = Path(__file__).resolve().parents[1]
BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")


def _benchmark():
    name = "urban_accuracy_bench"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "urban_accuracy.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _pair(seed=0, size=48, new=((10, 10, 8),)):
    """Vegetated before; after with bright, non-green squares (new buildings); labels."""
    rng = np.random.default_rng(seed)
    veg = dict(B02=0.04, B03=0.07, B04=0.05, B08=0.35, B11=0.20, B12=0.10)
    urb = dict(B02=0.11, B03=0.12, B04=0.13, B08=0.17, B11=0.21, B12=0.19)
    before = {b: (veg[b] + rng.normal(0, 0.01, (size, size))).astype(np.float32) for b in BANDS}
    after = {b: (veg[b] + rng.normal(0, 0.01, (size, size))).astype(np.float32) for b in BANDS}
    label = np.zeros((size, size), np.uint8)
    for r, c, w in new:
        label[r : r + w, c : c + w] = 1
        for b in BANDS:
            after[b][r : r + w, c : c + w] = urb[b] + rng.normal(0, 0.01, (w, w))
    vb = rng.normal(-12, 1, (size, size)).astype(np.float32)
    va = vb + rng.normal(0, 0.5, (size, size)).astype(np.float32) + 6 * label
    return before, after, vb, va, label


def test_features_shape_names_and_s1_optional():
    before, after, vb, va, label = _pair()
    f, names = uc.change_features(before, after, vb, va)
    assert f.dtype == np.float32 and f.shape == (len(names), 48, 48)
    assert len(set(names)) == len(names)
    for k in (
        "cvam",
        "m_B04",
        "ndvi_diff",
        "ndbi_after",
        "mndwi_before",
        "bsi_diff",
        "cvam_m5",
        "vv_diff",
        "vv_diff_m15",
    ):
        assert k in names
    assert np.isfinite(f).all()
    # the new-building squares stand out: change magnitude and VV increase
    cvam, dvv = f[names.index("cvam")], f[names.index("vv_diff")]
    assert cvam[label == 1].mean() > 3 * cvam[label == 0].mean()
    assert dvv[label == 1].mean() > 4 and abs(dvv[label == 0].mean()) < 0.5
    assert f[names.index("ndvi_diff")][label == 1].mean() < -0.3
    # without S1: same names, S1 features NaN, S2 features identical
    f0, names0 = uc.change_features(before, after)
    assert names0 == names
    vv = [i for i, n in enumerate(names) if n.startswith("vv_")]
    s2 = [i for i, n in enumerate(names) if not n.startswith("vv_")]
    assert np.isnan(f0[vv]).all()
    np.testing.assert_array_equal(f0[s2], f[s2])


def test_features_nan_propagation():
    before, after, vb, va, _ = _pair()
    before["B11"][5, 7] = np.nan
    after["B02"][30, 30] = np.nan
    vb[20, 20] = np.nan
    f, names = uc.change_features(before, after, vb, va)
    assert np.isnan(f[:, 5, 7]).all() and np.isnan(f[:, 30, 30]).all()
    # a pixel without S1 only loses the S1 features
    assert np.isnan(f[names.index("vv_diff"), 20, 20])
    assert np.isfinite(f[names.index("cvam"), 20, 20])
    assert np.isfinite(f[:, 0, 0]).all()
    # neighbourhood means ignore the NaN neighbours
    assert np.isfinite(f[names.index("cvam_m5"), 5, 8])


def test_features_reject_bad_input():
    before, after, *_ = _pair()
    with pytest.raises(InputError, match="B12"):
        uc.change_features({k: v for k, v in before.items() if k != "B12"}, after)
    bad = dict(after, B04=after["B04"][:10])
    with pytest.raises(InputError, match="shape"):
        uc.change_features(before, bad)
    with pytest.raises(InputError, match="no pixel"):
        uc.change_features({b: np.full((48, 48), np.nan, np.float32) for b in BANDS}, after)


def test_growth_map_threshold_mmu_nodata():
    p = np.zeros((20, 20), np.float32)
    p[2:6, 2:6] = 0.9  # 16 px
    p[10, 10] = 0.95  # 1 px
    p[15:17, 15:17] = np.nan
    m = uc.growth_map(p, 0.5, 0)
    assert m.dtype == np.uint8 and m.sum() - 255 * 4 == 17 and (m[15:17, 15:17] == 255).all()
    m = uc.growth_map(p, 0.5, 4)
    assert m[10, 10] == 0 and (m[2:6, 2:6] == 1).all()
    assert (uc.growth_map(p, 0.92, 0) == 1).sum() == 1


def test_shipped_model_loads_and_predicts():
    model = uc.load_model()
    assert model["format_version"] == uc.MODEL_FORMAT_VERSION
    assert 0 < model["threshold"] < 1 and 0 < model["threshold_no_s1"] < 1
    assert model["min_mapping_unit_px"] >= 0
    assert "CC BY-NC-SA" in model["labels_licence"]
    assert uc.MODEL_PATH.stat().st_size < 3_000_000
    before, after, vb, va, _ = _pair()
    before["B04"][0, 0] = np.nan
    f, names = uc.change_features(before, after, vb, va)
    assert names == model["feature_names"]
    p = uc.growth_probability(f, model, names)
    assert p.dtype == np.float32 and p.shape == (48, 48)
    assert np.isnan(p[0, 0]) and np.nanmin(p) >= 0 and np.nanmax(p) <= 1
    assert uc.has_s1(f, names) and not uc.has_s1(uc.change_features(before, after)[0], names)
    with pytest.raises(InputError):
        uc.growth_probability(f[:-1], model)


def test_model_missing_or_wrong_version(tmp_path):
    with pytest.raises(InputError, match="not found.*nowhere"):
        uc.load_model(tmp_path / "nowhere.txt")
    shutil.copy(uc.MODEL_PATH, tmp_path / "m.txt")
    with pytest.raises(InputError, match=r"m\.json"):
        uc.load_model(tmp_path / "m.txt")  # sidecar missing
    meta = json.loads(uc.MODEL_PATH.with_suffix(".json").read_text())
    meta["format_version"] = uc.MODEL_FORMAT_VERSION + 1
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=r"m\.json.*format_version"):
        uc.load_model(tmp_path / "m.txt")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(InputError, match="cannot read"):
        uc.load_model(tmp_path / "m.txt")


def test_loco_trainer_never_sees_the_held_out_city():
    bench = _benchmark()
    data = {}
    for i, city in enumerate(("alpha", "bravo", "charlie")):
        before, after, vb, va, label = _pair(seed=i, size=40, new=((5, 5, 6), (25, 20, 5)))
        f, names = uc.change_features(before, after, vb if i else None, va if i else None)
        data[city] = dict(
            city=city,
            before=before,
            after=after,
            vv_before=vb,
            vv_after=va,
            label=label,
            features=f,
            names=names,
        )
    calls = []

    def spy(d, cities, cfg):
        calls.append((sorted(d), sorted(cities)))
        return bench.train_model(d, cities, cfg)

    cfg = dict(bench.QUICK, trees=5, min_data_in_leaf=5, neg_frac=0.2)
    res = bench.loco(data, cfg, trainer=spy, log=lambda *a: None)
    held = list(data)
    assert len(calls) == 3 * 3  # per held-out city: 2 inner + 1 outer
    for k, h in enumerate(held):
        chunk = calls[3 * k : 3 * k + 3]
        for seen, trained in chunk:
            assert h not in seen and h not in trained and set(trained) <= set(seen)
        assert chunk[-1][1] == sorted(c for c in held if c != h)
    assert 0 <= res["pooled_f1"] <= 1 and set(res["with_s1"]) == set(held) | {"pooled"}


@pytest.mark.shared_data
def test_shipped_model_deterministic_on_a_real_city(shared_data):
    bench = _benchmark()
    if not (bench.data_dir() / "bercy" / "change.tif").is_file():
        pytest.skip(f"OSCD cities not found under {bench.data_dir()}")
    city = bench.load_city("bercy")
    model = uc.load_model()
    p1 = uc.growth_probability(city["features"], model, city["names"])
    p2 = uc.growth_probability(bench.load_city("bercy")["features"], uc.load_model(), city["names"])
    np.testing.assert_array_equal(p1, p2)
    m = uc.growth_map(p1, model["threshold"], model["min_mapping_unit_px"])
    share = float((m == 1).mean())
    assert 0.001 < share < 0.2  # a plausible amount of change (0.74 % labelled)


@pytest.mark.shared_data
@pytest.mark.slow
def test_quick_loco_reports_pooled_f1(shared_data):
    bench = _benchmark()
    out = bench.run(quick=True, log=lambda *a: None)
    if "skipped" in out:
        pytest.skip(out["skipped"])
    lo = out["leave_one_city_out"]
    assert set(lo["with_s1"]) == set(bench.CITIES) | {"pooled"}
    f1 = lo["pooled_f1"]
    assert 0 <= f1 <= 1 and 0 <= lo["pooled_f1_no_s1"] <= 1
    # the model, not tuned on the held-out city, beats the unsupervised CVA + Otsu baseline
    assert f1 > out["baselines"]["cva_otsu"]["pooled"]["f1"]
    p = lo["with_s1"]["pooled"]
    assert p["f1"] == pytest.approx(2 * p["tp"] / (2 * p["tp"] + p["fp"] + p["fn"]))
