"""A tiled job assembles its mosaics, depth and report in its own process, on local threads,
even when a notebook (or a benchmark) has a dask distributed client current: the assembly
reads this process's files, and a job-wide raster computed on the cluster would travel to
its workers and back (issue 21's job profile: the DEM on the job grid took 2.3 s that way)."""

from __future__ import annotations

import dask
import dask.threaded
import pytest
from pyproj import Transformer
from test_cli import small_demo_job

from eo_drr.api import run
from eo_drr.config import load_config
from eo_drr.engine import tiled


@pytest.mark.slow
def test_assembly_computes_locally_under_a_current_distributed_client(
    tmp_path, small_demo_scene, monkeypatch
):
    from distributed import Client, LocalCluster

    tf = Transformer.from_crs(32615, 4326, always_xy=True)
    (w, e), (s, n) = tf.transform([506200, 508100], [1987900, 1990300])
    job = small_demo_job(
        tmp_path,
        **{
            "exposure": None,
            "tiling": {"tile_size_px": 128},
            "aoi": {"bbox": [w, s, e, n]},
            "cluster": {"kind": "threads"},
        },
    )
    seen = []
    real = tiled.assemble

    def assemble(*args, **kwargs):
        seen.append(dask.base.get_scheduler())
        return real(*args, **kwargs)

    monkeypatch.setattr(tiled, "assemble", assemble)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        assert dask.base.get_scheduler() == client.get  # the notebook's client is current
        result = run(load_config(job), tmp_path / "out")
    assert seen == [dask.threaded.get]
    assert (tmp_path / "out" / "flood_extent.tif").exists()
    assert result.summary["ran"]
