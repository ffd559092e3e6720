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


def _small_tiled_job(tmp_path):
    tf = Transformer.from_crs(32615, 4326, always_xy=True)
    (w, e), (s, n) = tf.transform([506200, 508100], [1987900, 1990300])
    return small_demo_job(
        tmp_path,
        **{
            "exposure": None,
            "tiling": {"tile_size_px": 128},
            "aoi": {"bbox": [w, s, e, n]},
            "cluster": {"kind": "threads"},
        },
    )


@pytest.mark.slow
def test_mosaics_the_finalize_step_reads_come_first_the_others_overlap_it(
    tmp_path, small_demo_scene, monkeypatch
):
    import threading
    import time

    from eo_drr.engine import mosaic
    from eo_drr.pipelines import flood

    events = []
    lock = threading.Lock()
    real_cog = mosaic.mosaic_cog

    def slow_cog(sources, geobox, dest):
        with lock:
            events.append(("start", dest.name))
        if dest.name not in ("flood_extent.tif", "exclusion_mask.tif", "reference_water.tif"):
            time.sleep(0.5)  # still writing when the job-wide step starts
        real_cog(sources, geobox, dest)
        with lock:
            events.append(("end", dest.name))

    real_fin = flood.finalize

    def finalize(cfg, p, tile_outputs, out):
        with lock:
            events.append(("finalize", ""))
        return real_fin(cfg, p, tile_outputs, out)

    monkeypatch.setattr(mosaic, "mosaic_cog", slow_cog)
    monkeypatch.setattr(flood, "finalize", finalize)
    run(load_config(_small_tiled_job(tmp_path)), tmp_path / "out")
    at = events.index(("finalize", ""))
    ended_before = {name for kind, name in events[:at] if kind == "end"}
    assert {"flood_extent.tif", "exclusion_mask.tif", "reference_water.tif"} <= ended_before
    assert {name for kind, name in events[at:] if kind == "end"}  # the others overlap it
    for name in ("log_ratio_db.tif", "water_likelihood.tif", "flood_depth.tif"):
        assert (tmp_path / "out" / name).exists(), name


@pytest.mark.slow
def test_a_failing_mosaic_fails_the_job_with_nothing_left_writing(
    tmp_path, small_demo_scene, monkeypatch
):
    from eo_drr.engine import mosaic
    from eo_drr.errors import EODRRError

    real_cog = mosaic.mosaic_cog

    def broken(sources, geobox, dest):
        if dest.name == "water_likelihood.tif":  # written while the job-wide step runs
            raise OSError(f"disk full writing {dest.name}")
        return real_cog(sources, geobox, dest)

    monkeypatch.setattr(mosaic, "mosaic_cog", broken)
    with pytest.raises((OSError, EODRRError), match="disk full"):
        run(load_config(_small_tiled_job(tmp_path)), tmp_path / "out")
    assert not (tmp_path / "out" / "report.html").exists()  # no partial output folder
