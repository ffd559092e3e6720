"""The ``cluster:`` section: one function to a Client, optional backends, GPU routing on a real
LocalCluster, a tiled job on worker processes with a worker killed mid-job, and the SLURM
job script rendered from configs/cluster_slurm.yaml (no SLURM needed)."""

from __future__ import annotations

import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import psutil
import pytest
from test_cli import small_demo_job
from test_tiling import WEST_TILES, _assert_complete, _ledger_rows

from eo_drr.config import ClusterConfig, load_config, parse_config
from eo_drr.errors import ConfigError
from eo_drr.jobs import cluster as cluster_mod
from eo_drr.jobs.cluster import jobqueue_cluster, open_cluster, safe_link
from eo_drr.jobs.gpu import compute_on_gpu, gpu_workers, require_gpu_workers, submit_on_gpu
from eo_drr.jobs.ledger import LEDGER_NAME

ROOT = Path(__file__).resolve().parents[1]
LOCAL = dict(kind="processes", n_workers=2, threads_per_worker=1, dashboard=False)


# -- configuration ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "section,words",
    [
        ({"kind": "scheduler_file"}, "scheduler_file"),
        ({"kind": "processes", "lifetime": "55m"}, "lifetime applies to kind slurm or pbs"),
        ({"kind": "slurm", "lifetime": "soon"}, "not a duration"),
        ({"kind": "processes", "memory_limit": "lots"}, "not a size"),
        ({"kind": "threads", "use_gpu": True}, "use_gpu needs a dask.distributed cluster"),
        ({"kind": "processes", "use_gpu": True}, "gpu_workers >= 1"),
        ({"kind": "processes", "n_workers": 1, "gpu_workers": 2}, "more than n_workers"),
        (
            {"kind": "address", "address": "tcp://h:1", "options": {"queue": "x"}},
            "options apply to",
        ),
        ({"kind": "yarn"}, "cluster.kind"),
    ],
)
def test_bad_cluster_sections_name_the_key(tmp_path, section, words):
    data = {
        "name": "x",
        "aoi": {"bbox": [0, 0, 1, 1]},
        "time": {"post": {"start": "2024-01-01", "end": "2024-01-02"}},
        "sources": {},
        "cluster": section,
    }
    with pytest.raises(ConfigError) as exc:
        parse_config(data, source="job.yaml")
    msg = str(exc.value)
    assert msg.startswith("job.yaml: cluster"), msg
    assert words in msg, msg


def test_local_schedulers_need_no_client():
    with open_cluster(ClusterConfig(kind="threads", n_workers=2)) as t:
        assert not t.distributed and "threads" in t.description
        assert dask.config.get("scheduler") == "threads"
    with open_cluster(ClusterConfig(kind="synchronous")) as t:
        assert dask.config.get("scheduler") == "synchronous" and t.client is None


@pytest.mark.parametrize(
    "kind,package", [("gateway", "dask-gateway"), ("kubernetes", "dask-kubernetes")]
)
def test_missing_backend_names_the_extra(kind, package):
    module = cluster_mod.BACKEND_PACKAGE[kind][0]
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{package} is installed here")
    with pytest.raises(
        ConfigError, match=rf"cluster.kind: '{kind}' needs {package}.*eo-drr\[cluster\]"
    ):
        with open_cluster(ClusterConfig(kind=kind)):
            pass


def test_unreachable_scheduler_is_a_plain_error(monkeypatch, tmp_path):
    monkeypatch.setattr(cluster_mod, "CONNECT_TIMEOUT_S", 2)
    with pytest.raises(
        ConfigError, match=r"cluster.address: cannot reach a dask scheduler at tcp://127.0.0.1:9"
    ):
        with open_cluster(ClusterConfig(kind="address", address="tcp://user:secret@127.0.0.1:9")):
            pass
    with pytest.raises(ConfigError, match="cluster.scheduler_file: no such file"):
        with open_cluster(
            ClusterConfig(kind="scheduler_file", scheduler_file="nope.json"), base_dir=tmp_path
        ):
            pass
    # a client that never connected leaves dask's scheduler setting as it was: later local
    # computations still run (it once stayed on "dask.distributed" with no client)
    assert dask.config.get("scheduler", None) in (None, "threads", "sync", "synchronous")
    assert int(da.ones(4, chunks=2).sum().compute()) == 4


def test_links_are_printed_without_credentials():
    assert (
        safe_link("https://me:pw@gw.example.org:8443/clusters/a/status?token=abc")
        == "https://gw.example.org:8443/clusters/a/status"
    )


def test_bundled_cluster_examples():
    addr = load_config(ROOT / "configs" / "cluster_address.yaml")
    assert addr.cluster.kind == "address" and addr.tiling is not None
    slurm = load_config(ROOT / "configs" / "cluster_slurm.yaml")
    assert slurm.cluster.kind == "slurm"


def test_slurm_job_script_renders_from_the_example():
    pytest.importorskip("dask_jobqueue", reason="dask-jobqueue (cluster extra) is not installed")
    cfg = load_config(ROOT / "configs" / "cluster_slurm.yaml").cluster
    cfg = cfg.model_copy(update={"gpu_workers": 1, "dashboard": False})
    cluster = jobqueue_cluster(cfg)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert script.startswith("#!/usr/bin/env bash")
    for line in (
        "#SBATCH -p normal",
        "#SBATCH -A drr-project",
        "#SBATCH -t 01:00:00",
        "#SBATCH --hint=nomultithread",
    ):
        assert line in script, script
    worker = next(
        ln
        for ln in script.splitlines()
        if "distributed.cli.dask_worker" in ln or "dask worker" in ln
    )
    for arg in (
        "--lifetime 55m",
        "--lifetime-stagger 4m",
        "--lifetime-restart",
        "--resources GPU=1",
        "--nworkers 4",
        "--nthreads 2",
    ):
        assert arg in worker, worker


def test_slurm_without_settings_names_where_to_set_them(monkeypatch):
    pytest.importorskip("dask_jobqueue")
    with dask.config.set({"jobqueue.slurm.cores": None, "jobqueue.slurm.memory": None}):
        with pytest.raises(ConfigError, match=r"cluster.options: .*jobqueue.yaml"):
            jobqueue_cluster(ClusterConfig(kind="slurm"))


# -- GPU routing on a real LocalCluster ----------------------------------------------------------
def _where(x):
    from distributed import get_worker

    return get_worker().address


def _block_where(block):
    from distributed import get_worker

    return np.full(block.shape, int(get_worker().address.rsplit(":", 1)[1]), dtype=np.int64)  # port


def test_gpu_work_goes_to_the_gpu_worker_only():
    with open_cluster(ClusterConfig(**LOCAL | {"gpu_workers": 1})) as target:
        client = target.client
        gpus = require_gpu_workers(client)
        assert len(gpus) == 1 and len(client.scheduler_info()["workers"]) == 2
        cpu = next(a for a in client.scheduler_info()["workers"] if a not in gpus)
        # submit-time resources: every task on the GPU worker
        where = client.gather([submit_on_gpu(client, _where, i, pure=False) for i in range(12)])
        assert set(where) == set(gpus)
        # a whole (optimised, fused) graph with resources at compute time: every block there
        arr = da.ones((64, 64), chunks=16).map_blocks(_block_where, dtype=np.int64) + 0
        got = compute_on_gpu(client, arr).result()
        assert set(np.unique(got).tolist()) == {int(gpus[0].rsplit(":", 1)[1])}
        assert cpu not in set(where)


def test_use_gpu_without_gpu_workers_is_refused():
    with open_cluster(ClusterConfig(**LOCAL)) as target:
        assert gpu_workers(target.client) == []
        with pytest.raises(ConfigError, match="cluster.use_gpu: no worker .* GPU"):
            require_gpu_workers(target.client)


# -- a tiled job on worker processes; one worker killed mid-job ------------------------------------
@pytest.mark.slow
def test_tiled_job_on_local_cluster_survives_a_killed_worker(tmp_path, small_demo_scene):
    from pyproj import Transformer

    # the four western tiles only (x 506100..508160), to stay quick on 2 cores
    tf = Transformer.from_crs(32615, 4326, always_xy=True)
    (w, e), (s, n) = tf.transform([506200, 508100], [1987900, 1990300])
    job = small_demo_job(
        tmp_path,
        **{
            "exposure": None,
            "tiling": {"tile_size_px": 128},
            "aoi": {"bbox": [w, s, e, n]},
            "cluster": {
                "kind": "processes",
                "n_workers": 2,
                "threads_per_worker": 1,
                "dashboard": False,
            },
        },
    )
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("eo-drr")
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    proc = subprocess.Popen(
        [str(exe), "run", str(job), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    killed = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and killed is None:
            time.sleep(0.05)
            try:
                rows = _ledger_rows(out) if (out / LEDGER_NAME).exists() else {}
            except sqlite3.OperationalError:
                continue
            done = [r for r in rows.values() if r["status"] == "done"]
            if done and len(done) < len(rows) - 1:
                pid = int(done[0]["worker"].rsplit(":", 1)[1])
                assert pid != proc.pid  # tiles run in worker processes, not in the CLI
                os.kill(pid, signal.SIGKILL)
                killed = pid
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert killed is not None, "the job finished before a worker could be killed"
    assert proc.returncode == 0, stderr
    assert "dask distributed (processes)" in stdout
    rows = _ledger_rows(out)
    workers = {r["worker"] for r in rows.values()}
    assert len(workers) >= 2 and all(int(w.rsplit(":", 1)[1]) != proc.pid for w in workers)
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    _assert_complete(out, WEST_TILES, shape=None)

    # the same job, undisturbed and on local threads, gives identical products
    (tmp_path / "calm").mkdir()
    calm = small_demo_job(
        tmp_path / "calm",
        **{
            "exposure": None,
            "tiling": {"tile_size_px": 128},
            "aoi": {"bbox": [w, s, e, n]},
            "cluster": {"kind": "threads"},
        },
    )
    res = subprocess.run(
        [str(exe), "run", str(calm), "-o", str(tmp_path / "calm_out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    import rasterio

    for name in (
        "flood_extent.tif",
        "observed_water.tif",
        "reference_water.tif",
        "exclusion_mask.tif",
    ):
        with rasterio.open(out / name) as a, rasterio.open(tmp_path / "calm_out" / name) as b:
            assert a.transform == b.transform and a.crs == b.crs
            assert np.array_equal(a.read(1), b.read(1)), name
