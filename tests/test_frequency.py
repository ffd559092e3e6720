"""Water frequency from a Sentinel-1 series: the frequency and classes, the Zarr time cube
(read back with open_zarr + rioxarray, its running counts, an append killed half way, another
version), the
water_series pipeline on the demo series against its truth, incremental reruns, bad input."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
import xarray as xr
from affine import Affine

from eo_drr.errors import InputError
from eo_drr.io import zarr_cube
from eo_drr.products import frequency as fq

sys.path.insert(0, str(Path(__file__).parent))

CRS = "EPSG:32615"
TRANSFORM = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 2000000.0)


def _times(n: int) -> list[np.datetime64]:
    return [np.datetime64("2024-01-01T12:05:12") + np.timedelta64(12 * i, "D") for i in range(n)]


def test_frequency_counts_and_classes():
    # 12 dates: pixel 0 water on all, 1 on 6, 2 on 1, 3 never, 4 no data but 2, 5 all no data
    stack = np.zeros((12, 1, 6), dtype=np.uint8)
    stack[:, 0, 0] = 1
    stack[:6, 0, 1] = 1
    stack[0, 0, 2] = 1
    stack[2:, 0, 4] = 255
    stack[:, 0, 5] = 255
    res = fq.water_frequency(stack, fq.FrequencyParams(rare_months=1.0))
    np.testing.assert_allclose(res.frequency[0, :5], [1, 0.5, 1 / 12, 0, 0], rtol=1e-6)
    assert np.isnan(res.frequency[0, 5])
    assert res.observations[0].tolist() == [12, 12, 12, 12, 2, 0]
    assert res.observations.dtype == np.uint16 and res.frequency.dtype == np.float32
    # 1/12 is exactly one month's worth: seasonal; a pixel with < 3 valid dates: no data
    assert res.classes[0].tolist() == [fq.PERMANENT, fq.SEASONAL, fq.SEASONAL, fq.NEVER, 255, 255]
    rare = fq.water_frequency(np.concatenate([stack, np.zeros_like(stack)]))
    assert rare.classes[0, 2] == fq.RARE  # 1 of 24 dates: less than a month a year


def test_one_date_is_refused():
    with pytest.raises(InputError, match="at least 2 acquisitions"):
        fq.water_frequency(np.zeros((1, 4, 4), dtype=np.uint8))
    with pytest.raises(InputError, match="rare_months"):
        fq.FrequencyParams(rare_months=11, permanent_months=10)


def test_cube_reads_back_with_rioxarray(tmp_path):
    path = tmp_path / "c.zarr"
    values = np.random.default_rng(0).integers(0, 2, (3, 300, 280), dtype=np.uint8)
    assert zarr_cube.append_slices(path, values, _times(3), crs=CRS, transform=TRANSFORM) == 3
    ds = xr.open_zarr(path)
    assert ds["water"].dtype == np.uint8 and ds["water"].shape == (3, 300, 280)
    assert ds.rio.crs == CRS and ds["water"].rio.crs == CRS
    assert tuple(ds["water"].rio.transform())[:6] == tuple(TRANSFORM)[:6]
    assert ds["water"].encoding["chunks"] == (1, 256, 256)
    np.testing.assert_array_equal(ds["water"].values, values)
    assert ds["water_count"].rio.crs == CRS and ds["water_count"].dtype == np.uint16
    committed = ds["water_count"].sel(counted_dates=ds.sizes["time"])
    np.testing.assert_array_equal(committed, (values == 1).sum(axis=0))
    assert list(ds["time"].values) == [np.datetime64(t, "ns") for t in _times(3)]
    with pytest.raises(InputError, match="grid"):
        zarr_cube.append_slices(
            path, values[:1], _times(1), crs=CRS, transform=TRANSFORM @ Affine.translation(1, 0)
        )


def _expected_counts(stack: np.ndarray) -> dict[str, np.ndarray]:
    return {"water_count": (stack == 1).sum(axis=0), "valid_count": (stack <= 1).sum(axis=0)}


def test_counts_follow_the_appends_and_give_the_frequency(tmp_path):
    assert zarr_cube.COUNTS == {"water_count": (fq.WATER,), "valid_count": (fq.NOT_WATER, fq.WATER)}
    path = tmp_path / "c.zarr"
    rng = np.random.default_rng(2)
    stack = rng.choice(np.array([0, 1, 255], np.uint8), (7, 40, 50))
    zarr_cube.append_slices(path, stack[:2], _times(2), crs=CRS, transform=TRANSFORM)
    for i in range(2, 7):  # one date at a time, as the job appends
        zarr_cube.append_slices(
            path, stack[i : i + 1], _times(7)[i : i + 1], crs=CRS, transform=TRANSFORM
        )
        got = zarr_cube.counts(zarr_cube.open_cube(path))
        for name, want in _expected_counts(stack[: i + 1]).items():
            np.testing.assert_array_equal(got[name], want)
    res = fq.from_counts(got["water_count"], got["valid_count"])
    whole = fq.water_frequency(stack)
    np.testing.assert_array_equal(res.frequency, whole.frequency)
    np.testing.assert_array_equal(res.classes, whole.classes)
    np.testing.assert_array_equal(res.observations, whole.observations)


def test_killed_append_leaves_the_cube_readable_and_the_rerun_completes(tmp_path, monkeypatch):
    path = tmp_path / "c.zarr"
    rng = np.random.default_rng(1)
    old = rng.integers(0, 2, (33, 64, 64), dtype=np.uint8)
    zarr_cube.append_slices(path, old, _times(33), crs=CRS, transform=TRANSFORM)
    new = np.full((2, 64, 64), 255, dtype=np.uint8)
    new[:, :10] = 1

    def killed(p):
        raise KeyboardInterrupt("killed before the commit")

    monkeypatch.setattr(zarr_cube, "_commit", killed)
    with pytest.raises(KeyboardInterrupt):
        zarr_cube.append_slices(path, new, _times(35)[33:], crs=CRS, transform=TRANSFORM)
    monkeypatch.undo()
    ds = xr.open_zarr(path)  # slices and counts were written, the metadata says 33 dates
    assert ds.sizes["time"] == 33
    np.testing.assert_array_equal(ds["water"].values, old)
    for name, want in _expected_counts(old).items():  # the committed counts, not the new ones
        np.testing.assert_array_equal(zarr_cube.counts(zarr_cube.open_cube(path))[name], want)
        np.testing.assert_array_equal(ds[name].sel(counted_dates=33), want)
    other = np.zeros((1, 64, 64), dtype=np.uint8)  # the rerun appends something else
    assert zarr_cube.append_slices(path, other, _times(34)[33:], crs=CRS, transform=TRANSFORM) == 34
    assert zarr_cube.append_slices(path, new, _times(36)[34:], crs=CRS, transform=TRANSFORM) == 36
    ds = xr.open_zarr(path)
    whole = np.concatenate([old, other, new])
    np.testing.assert_array_equal(ds["water"].values, whole)
    assert list(ds["time"].values) == [np.datetime64(t, "ns") for t in _times(36)]
    for name, want in _expected_counts(whole).items():
        np.testing.assert_array_equal(zarr_cube.counts(zarr_cube.open_cube(path))[name], want)


def test_store_of_another_version_is_refused(tmp_path):
    import zarr

    path = tmp_path / "c.zarr"
    zarr_cube.append_slices(
        path, np.zeros((2, 8, 8), np.uint8), _times(2), crs=CRS, transform=TRANSFORM
    )
    group = zarr.open_group(str(path), mode="r+", use_consolidated=False)
    group.attrs["eo_drr_cube"] = {"format": zarr_cube.FORMAT, "version": 1}  # 32-date chunks
    zarr.consolidate_metadata(str(path))
    with pytest.raises(InputError, match="another eo-drr version"):
        zarr_cube.open_cube(path)
    with pytest.raises(InputError, match="another eo-drr version"):  # nor appended to
        zarr_cube.append_slices(
            path, np.zeros((1, 8, 8), np.uint8), _times(3)[2:], crs=CRS, transform=TRANSFORM
        )
    group.attrs["eo_drr_cube"] = "something else"
    zarr.consolidate_metadata(str(path))
    with pytest.raises(InputError, match="did not write"):
        zarr_cube.open_cube(path)


def _item(day: int, orbit: int) -> pystac.Item:
    when = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc) + dt.timedelta(days=day)
    return pystac.Item(f"s1-{day}-{orbit}", None, None, when, {"sat:relative_orbit": orbit})


def test_mixed_orbits_are_refused_and_days_grouped():
    from eo_drr.pipelines.water_series import group_by_orbit

    with pytest.raises(InputError, match="relative orbits 99 .*165.*sources.s1.relative_orbit"):
        group_by_orbit([_item(0, 165), _item(5, 99), _item(12, 165)], None)
    acqs = group_by_orbit([_item(12, 165), _item(0, 165), _item(0, 165)], 165)
    assert [len(a.items) for a in acqs] == [2, 1] and acqs[0].time < acqs[1].time


def test_demo_series_truth_kill_and_incremental_rerun(tmp_path, small_demo_scene, monkeypatch):
    from test_cli import small_demo_job

    from eo_drr.config import load_config
    from eo_drr.engine.run import run_job

    out = tmp_path / "out"
    early = load_config(
        small_demo_job(tmp_path, "demo_frequency.yaml", **{"time.post.end": "2024-02-28"})
    )
    calls = {"n": 0}
    commit = zarr_cube._commit

    def dies_on_third(p):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed mid-append")
        commit(p)

    monkeypatch.setattr(zarr_cube, "_commit", dies_on_third)
    with pytest.raises(RuntimeError, match="killed"):
        run_job(early, out)
    monkeypatch.undo()
    assert xr.open_zarr(out / "water_series.zarr").sizes["time"] == 3  # created, then 2 appends
    assert not (out / "water_frequency.tif").exists()  # the failed run committed nothing

    first = run_job(early, out)  # completes the series of the early window
    assert first.summary["dates"] == 10 and len(first.summary["new_dates"]) == 7
    full = load_config(small_demo_job(tmp_path, "demo_frequency.yaml"))
    second = run_job(full, out)  # the rest of the year: only the new dates are mapped
    assert second.summary["dates"] == 31 and len(second.summary["new_dates"]) == 21
    ds = xr.open_zarr(out / "water_series.zarr")
    times = ds["time"].values
    assert len(set(times)) == 31 and (np.diff(times) > np.timedelta64(0)).all()

    truth_path = small_demo_scene.truth["water_frequency"]
    with rasterio.open(truth_path) as f:
        truth = f.read(1)
    with rasterio.open(second.outputs["frequency"]) as f:
        freq = f.read(1)
    with rasterio.open(second.outputs["observations"]) as f:
        n_obs = f.read(1)
    enough = n_obs >= 3
    assert enough.mean() > 0.99
    assert float(np.abs(freq[enough] - truth[enough]).mean()) <= 0.10
    with rasterio.open(second.outputs["classes"]) as f:
        classes = f.read(1)
    assert {fq.NEVER, fq.RARE, fq.SEASONAL, fq.PERMANENT} <= set(np.unique(classes).tolist())


def test_single_date_series_is_refused(tmp_path, small_demo_scene):
    from test_cli import assert_user_error, eo_drr, small_demo_job

    window = {"start": "2024-01-01", "end": "2024-01-10"}  # one date of the series
    job = small_demo_job(tmp_path, "demo_frequency.yaml", **{"time.post": window})
    res = eo_drr("run", job, "-o", tmp_path / "out")
    assert_user_error(res, "at least 2 acquisitions")
    assert not (tmp_path / "out").exists()
