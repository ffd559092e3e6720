"""``check_stored`` (the check of a job's loaded scenes on samples) gives the verdict of
``check_backscatter`` on the converted rasters: the same warnings, the same errors (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest

from eo_drr.load import s1_checks as C


def to_db(a):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, 10 * np.log10(a), np.nan).astype(np.float32)


def lin(db):
    return (10.0 ** (np.asarray(db, np.float64) / 10.0)).astype(np.float32)


def pair(seed, shape, water=0.3):
    rng = np.random.default_rng(seed)
    vv = rng.normal(-10, 3, shape).astype(np.float32)
    k = int(shape[0] * water)
    vv[:k] = rng.normal(-20, 2, (k, shape[1]))
    vh = (vv - 7 + rng.normal(0, 1.5, shape)).astype(np.float32)
    return lin(vv), lin(vh)


def verdict(fn, *args, **kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as e:  # noqa: BLE001 - the verdicts are compared, type and message
        return (type(e).__name__, str(e))


def cases():
    """(name, vv linear, vh linear or None, stored units)."""
    for shape in [(30, 40), (47, 43), (61, 70), (100, 97)]:  # 1.2, 2.0, 4.3, 9.7 x SAMPLE 1000
        vv, vh = pair(1, shape)
        yield "plain", vv, vh, "db"
        yield "plain linear", vv, vh, "linear"
        yield "swapped", vh, vv, "db"
        yield "vv only", vv, None, "db"
        yield "vh as vv", vh, None, "db"
        yield "no vh", vv, np.full_like(vh, np.nan), "db"
        yield "vv nodata", np.zeros_like(vv), vh, "db"
        yield "dn", vv * 1e4, vh * 1e4, "linear"
        wild = vv.copy()
        wild.reshape(-1)[::7] = 1e30
        yield "wild", wild, vh, "linear"
        inf = vv.copy()
        inf[0, :5] = np.inf
        yield "infinity", inf, vh, "db"
        off = np.full_like(vv, np.nan)
        off.reshape(-1)[1] = 0.1  # valid pixels, none in the strided sample
        yield "valid off the sample", off, vh, "db"
        yield "shapes", vv, vh[:, :-1], "db"


@pytest.mark.parametrize("sample", [1000, 1 << 20])
def test_check_stored_gives_check_backscatter_verdict(monkeypatch, sample):
    monkeypatch.setattr(C, "SAMPLE", sample)
    monkeypatch.setattr(C, "_PIECE", 256)
    seen = set()
    for name, vv, vh, units in cases():

        def stored(a, units=units):
            return a if units == "linear" else to_db(a)

        names = dict(vv_name="v.tif (VV)", vh_name="v.tif (VH)", units_option="u")
        bh = None if vh is None else stored(vh)
        want = verdict(C.check_backscatter, stored(vv), bh, units=units, **names)
        want = want if want[0] != "ok" else ("ok", want[1][2])
        got = verdict(
            C.check_stored, vv, vh, convert=stored, units=units, bands_option=None, **names
        )
        assert got == want, (name, vv.shape, units)
        seen.add(want[0] if want[0] != "ok" else f"ok/{bool(want[1])}")
    # the cases reach every verdict: no warning, a warning, and each error
    assert seen >= {"ok/False", "ok/True", "InputError", "NoDataError", "CorruptInputError"}
