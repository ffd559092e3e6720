"""The flood accuracy benchmark's machinery on the real chips: stress cases, leave-one-event-out
(quick grid), the calibration table, and that the benchmark scores the product's own code.

The figures themselves are in ``python benchmarks/flood_accuracy.py`` (README); here only what
must hold whatever the figures are.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from eo_drr.products.water import s1_water
from eo_drr.products.water_settings import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def E():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    return importlib.import_module("flood_eval")


@pytest.fixture(scope="module")
def chips(E, shared_data):
    found, _ = E.s1_chips(shared_data)
    if not found:
        pytest.skip(f"no Sen1Floods11 chips under {shared_data}")
    return found


def test_stress_cases_are_what_they_say(E, chips):
    cases = E.stress_cases(chips)
    for c in cases["water-dominated (crops >= 60 % water)"]:
        assert (c.label[c.valid] == 1).mean() >= 0.6
    for c in cases["scarce water (crops 0-2 % water)"]:
        assert 0 < (c.label[c.valid] == 1).mean() <= 0.02
    for c in cases["low contrast (VV gap 2 dB)"]:
        w, land = c.valid & (c.label == 1), c.valid & (c.label == 0)
        assert abs(np.median(c.vv[land]) - np.median(c.vv[w]) - 2.0) < 0.05
    assert all(c.vh is None for c in cases["VV only"])
    assert all(len(v) for v in cases.values())


def test_product_does_not_collapse_on_stress_cases(E, chips):
    """With the product's defaults: water-dominated crops stay mostly water, low contrast is
    not zero, VV only still maps water (figures in the benchmark)."""
    cases = E.stress_cases(chips)

    def pooled(cs):
        return E.iou(
            sum(
                E.confusion(
                    E.predict(c, DEFAULTS["vv" if c.vh is None else "vh"])[0], c.label, c.valid
                )
                for c in cs
            )
        )

    assert pooled(cases["water-dominated (crops >= 60 % water)"]) > 0.7
    assert pooled(cases["low contrast (VV gap 2 dB)"]) > 0.15
    assert pooled(cases["VV only"]) > 0.25


def test_benchmark_predicts_with_the_product_code(E, chips):
    c = next(c for c in chips if c.event == "India")
    pred, lik = E.predict(c, DEFAULTS["vh"])
    r = s1_water(c.vv, c.vh)
    assert np.array_equal(pred & c.valid, (r.water == 1) & c.valid)
    assert np.array_equal(lik[np.isfinite(c.vv)], r.likelihood[np.isfinite(c.vv)])


def test_leave_one_event_out_quick(E, chips):
    """Each held-out event is scored with settings selected without it; every event appears,
    the pooled confusion is the sum of the events', the calibration table has its deciles."""
    r = E.leave_one_event_out(chips, E.QUICK_GRID)
    assert set(r["per_event"]) == {c.event for c in chips}
    assert sum(v["tp"] for v in r["per_event"].values()) == r["pooled"]["tp"]
    assert 0.3 < r["pooled"]["iou"] <= 1
    assert len(r["calibration"]) >= 5
    assert all(0 <= row["observed_water"] <= 100 for row in r["calibration"])


def test_selection_never_sees_the_held_out_event(E, chips, monkeypatch):
    seen = []
    real = E.select

    def spy(train, *a, **k):
        seen.append({c.event for c in train})
        return real(train, *a, **k)

    monkeypatch.setattr(E, "select", spy)
    E.leave_one_event_out(chips, E.QUICK_GRID)
    events = sorted({c.event for c in chips})
    assert len(seen) == len(events)
    for held_out, train_events in zip(events, seen):
        assert held_out not in train_events
