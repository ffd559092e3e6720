"""CUDA kernels under the numba CUDA simulator, in a child process.

``NUMBA_ENABLE_CUDASIM`` must be set before numba is imported and would leak into every other
test, so :func:`test_cuda_kernels_under_simulator` runs this module again in a subprocess with
the variable set; the ``sim_`` tests only run there. Arrays stay at 64 x 64 or less: the
simulator runs every thread in Python (~0.3 ms each).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

CHILD = os.environ.get("EO_DRR_CUDASIM_CHILD") == "1"
child_only = pytest.mark.skipif(not CHILD, reason="runs in the simulator child process only")


def test_cuda_kernels_under_simulator():
    if CHILD:
        pytest.skip("this is the child")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", EO_DRR_CUDASIM_CHILD="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-k", "sim_"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1]


def test_package_imports_without_touching_cuda():
    """The CUDA kernels are imported lazily: importing and using the CPU path never loads them."""
    if CHILD:
        pytest.skip("parent only")
    code = (
        "import sys, numpy as np\n"
        "import eo_drr.indices as I\n"
        "I.ndwi(np.ones(4, np.float32), np.ones(4, np.float32))\n"
        "I.sar.lee(np.ones((9, 9), np.float32))\n"
        "I.threshold.otsu_threshold(np.arange(10.0))\n"
        "bad = [m for m in sys.modules if m.endswith('_cuda') and m.startswith('eo_drr')]\n"
        "assert not bad, bad\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


# ---------------------------------------------------------------- child-only tests


def _dev(a):
    from numba import cuda

    assert cuda.is_available() or os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    return cuda.to_device(np.ascontiguousarray(a))


def _host(d):
    return d.copy_to_host()


def _speckle(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.gamma(4.4, 1 / 4.4, shape).astype(np.float32)
    x[:, shape[1] // 2 :] *= 6
    x[rng.random(shape) < 0.05] = np.nan
    return x


@child_only
def test_sim_environment():
    from numba import config

    assert config.ENABLE_CUDASIM


@child_only
@pytest.mark.parametrize("name", ["to_db", "to_linear"])
def test_sim_pointwise(name):
    from eo_drr.indices import sar

    x = _speckle((9, 14))
    x[0, :3] = [0.0, -1.0, np.inf]
    f = getattr(sar, name)
    out = f(_dev(x))
    assert not isinstance(out, np.ndarray)
    np.testing.assert_allclose(_host(out), f(x), rtol=1e-6)


@child_only
def test_sim_pointwise_integer_nodata_and_log_ratio():
    from eo_drr.indices import sar

    xi = (np.arange(60, dtype=np.uint16).reshape(6, 10)) * 97
    np.testing.assert_allclose(_host(sar.to_db(_dev(xi))), sar.to_db(xi), rtol=1e-6)
    a, b = _speckle((8, 9), 1), _speckle((8, 9), 2)
    np.testing.assert_allclose(
        _host(sar.log_ratio(_dev(a), _dev(b))), sar.log_ratio(a, b), rtol=1e-5, atol=1e-6
    )


@child_only
@pytest.mark.parametrize(
    "name,kw",
    [
        ("boxcar", {"window": 3}),
        ("boxcar", {"window": 5}),
        ("lee", {"window": 7}),
        ("lee", {"window": 3, "enl": 1.0}),
        ("kuan", {"window": 7}),
        ("kuan", {"window": 5, "enl": 9.0}),
        ("refined_lee", {}),
    ],
)
def test_sim_windowed(name, kw):
    from eo_drr.indices import sar

    x = _speckle((16, 19), 3)
    f = getattr(sar, name)
    np.testing.assert_allclose(_host(f(_dev(x), **kw)), f(x, **kw), rtol=1e-5, atol=1e-7)


@child_only
def test_sim_windowed_integer_input():
    from eo_drr.indices import sar

    xi = (np.random.default_rng(5).random((10, 12)) * 100).astype(np.uint16)
    np.testing.assert_allclose(_host(sar.lee(_dev(xi), 3)), sar.lee(xi, 3), rtol=1e-5)
    np.testing.assert_allclose(_host(sar.kuan(_dev(xi), 3)), sar.kuan(xi, 3), rtol=1e-5)


@child_only
def test_sim_lee_keeps_a_point_target_kuan_pulls_it():
    """The CUDA Lee / Kuan gains are the CPU ones: a bright pixel on a flat background keeps
    its value under Lee and loses ~18 % of its contrast under Kuan (ENL 4.4); a constant
    image gives its value; NaN stays NaN."""
    from eo_drr.indices import sar

    x = np.ones((15, 16), np.float32)
    x[7, 8] = 1000.0
    x[2, 2] = np.nan
    for name in ("lee", "kuan"):
        f = getattr(sar, name)
        got = _host(f(_dev(x), 7))
        np.testing.assert_allclose(got, f(x, 7), rtol=1e-5, atol=1e-7, equal_nan=True)
        assert np.isnan(got[2, 2]) and np.isnan(got).sum() == 1
        c = np.full((9, 9), 0.25, np.float32)
        np.testing.assert_allclose(_host(f(_dev(c), 5)), c, rtol=1e-6)
    assert _host(sar.lee(_dev(x), 7))[7, 8] == pytest.approx(1000.0, rel=0.01)
    m = (48 * 1.0 + 1000.0) / 49
    pull = (1000.0 - _host(sar.kuan(_dev(x), 7))[7, 8]) / (1000.0 - m)
    assert 0.18 <= pull <= 0.19


@child_only
def test_sim_histogram_and_otsu():
    from eo_drr.indices import threshold as T

    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(-20, 2, 800), rng.normal(-8, 2, 1200)]).astype(np.float32)
    x[::50] = np.nan
    c, e = T.histogram(_dev(x), bins=64)
    rc, re = T.histogram(x, bins=64)
    np.testing.assert_array_equal(c, rc)
    np.testing.assert_array_equal(e, re)
    assert T.otsu_threshold(_dev(x), bins=64) == T.otsu_threshold(x, bins=64)
    opt = T.SplitBasedOptions(tile=20, bins=64)
    r = T.split_based_threshold(_dev(x.reshape(40, 50)), opt)
    assert r == T.split_based_threshold(x.reshape(40, 50), opt)


@child_only
def test_sim_spectral_indices():
    import eo_drr.indices as I

    rng = np.random.default_rng(7)
    bands = {
        b: rng.integers(0, 10000, (12, 20)).astype(np.uint16)
        for b in ("blue", "green", "red", "nir", "swir16", "swir22")
    }
    bands["green"][0, :4] = 0
    dev = {b: _dev(v) for b, v in bands.items()}
    for name in ("ndwi", "mndwi", "ndvi", "ndbi", "bui", "bsi", "awei_nsh", "awei_sh", "wofs"):
        ref = I.compute(name, bands)
        out = I.compute(name, dev)
        assert not isinstance(out, np.ndarray), name
        got = _host(out)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=name)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6, err_msg=name)
    tc = I.tc_wetness(dev, "crist1985")
    np.testing.assert_allclose(_host(tc), I.tc_wetness(bands, "crist1985"), rtol=1e-5, atol=1e-6)
    f = {b: (v / 1e4).astype(np.float32) for b, v in bands.items()}
    np.testing.assert_allclose(
        _host(I.ndvi(_dev(f["nir"]), _dev(f["red"]))),
        I.ndvi(f["nir"], f["red"]),
        rtol=1e-5,
        atol=1e-6,
    )


@child_only
def test_sim_numpy_inputs_go_through_the_cuda_kernel_on_gpu_workers():
    """Inside ``gpu_for_numpy`` (a tile on a GPU worker), a numpy array goes to the device,
    through the CUDA refined Lee and back: numpy out, equal to the CPU kernel; outside, nothing
    moves."""
    import xarray as xr

    from eo_drr.indices import sar
    from eo_drr.kernels import _dispatch, gpu_for_numpy

    x = _speckle((20, 23), seed=5)
    cpu = sar.refined_lee(x)
    with gpu_for_numpy():
        assert _dispatch.gpu_round_trips() == 0
        got = sar.refined_lee(x)
        da = sar.boxcar(xr.DataArray(x, dims=("y", "x")), 3)
        assert _dispatch.gpu_round_trips() == 2
        with gpu_for_numpy(False):
            sar.refined_lee(x)  # switched off inside: the CPU kernel, counted apart
            assert _dispatch.gpu_round_trips() == 0
        assert _dispatch.gpu_round_trips() == 2
    assert (
        isinstance(got, np.ndarray)
        and isinstance(da, xr.DataArray)
        and isinstance(da.data, np.ndarray)
    )
    np.testing.assert_allclose(got, cpu, rtol=1e-5, atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(da.values, sar.boxcar(x, 3), rtol=1e-5, atol=1e-7, equal_nan=True)
    assert _dispatch.gpu_round_trips() == 0  # outside any block


@child_only
def test_sim_tiled_job_on_a_gpu_worker_runs_the_cuda_kernels(tmp_path, small_demo_scene):
    """A one-tile flood job with ``cluster.use_gpu`` on a LocalCluster whose only worker
    advertises a GPU (the simulator stands in for the card, inherited by the worker process):
    the tile runs on that worker through the CUDA kernels (its manifest counts the numpy ->
    GPU -> numpy round trips) and its flood map equals the CPU run's."""
    import json

    import geopandas as gpd
    import rasterio
    from shapely.geometry import box
    from test_cli import eo_drr, small_demo_job

    s = small_demo_scene
    tile_m = 64 * 10
    left, bottom = s.bbox[0], s.bbox[1]
    ix, iy = int(left // tile_m) + 2, int(bottom // tile_m) + 2  # a whole tile inside the scene
    aoi = tmp_path / "aoi.gpkg"
    gpd.GeoDataFrame(
        geometry=[
            box(ix * tile_m + 10, iy * tile_m + 10, (ix + 1) * tile_m - 10, (iy + 1) * tile_m - 10)
        ],
        crs=s.crs,
    ).to_file(aoi)
    outs = {}
    for name, cluster in (
        ("cpu", {"kind": "threads"}),
        ("gpu", {"kind": "processes", "n_workers": 1, "gpu_workers": 1, "use_gpu": True}),
    ):
        (tmp_path / name).mkdir()
        job = small_demo_job(
            tmp_path / name,
            exposure=None,
            aoi={"file": str(aoi)},
            tiling={"tile_size_px": 64},
            cluster=cluster,
        )
        res = eo_drr("run", job, "-o", tmp_path / f"out-{name}", timeout=900)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        outs[name] = tmp_path / f"out-{name}"
    tile = f"x{ix}_y{iy}"
    gpu_manifest = json.loads((outs["gpu"] / "tiles" / tile / "tile.json").read_text())
    cpu_manifest = json.loads((outs["cpu"] / "tiles" / tile / "tile.json").read_text())
    assert gpu_manifest["gpu_round_trips"] >= 4  # refined Lee on post/reference VV and VH
    assert cpu_manifest["gpu_round_trips"] == 0
    with (
        rasterio.open(outs["cpu"] / "flood_extent.tif") as a,
        rasterio.open(outs["gpu"] / "flood_extent.tif") as b,
    ):
        fa, fb = a.read(1), b.read(1)
    assert fa.shape == fb.shape and fa.size >= 60 * 60
    assert (fa == fb).mean() >= 0.999
