"""One tile of a tiled job, run on a worker: the pipeline's ``run`` on the tile's plan into
``<root>/tiles/<tile id>/`` (staged, then moved into place), with its outputs checksummed for
the ledger. Errors are returned, not raised, so that every error type reaches the ledger.
What a pipeline writes into the tile's folder itself rather than the staging (the water
series' time cube, at ``out.final``) is neither moved nor recorded: it stays between reruns.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eo_drr.config import JobConfig
from eo_drr.engine.mosaic import TILE_MANIFEST
from eo_drr.io import without_overviews
from eo_drr.io.atomic import sha256_file
from eo_drr.jobs.progress import Steps
from eo_drr.jobs.tiling import TILES_DIR
from eo_drr.kernels import gpu_for_numpy
from eo_drr.pipelines import get_pipeline
from eo_drr.publish import OutputFolder


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_tile(
    pipeline_name: str,
    tcfg: JobConfig,
    plan: Any,
    root: str,
    tile_id: str,
    threads: int | None = None,
) -> dict:
    """Run one tile into ``root/tiles/<tile_id>/`` (staged, then moved into place).

    Returns ``{"ok": True, "outputs": [(path, size, sha256)], "seconds", "peak_rss_mb",
    "worker", "summary"}`` or ``{"ok": False, "error", "traceback", ...}``: errors are
    returned, not raised, so that every error type reaches the ledger intact."""
    import dask

    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    rel_dir = f"{TILES_DIR}/{tile_id}"
    out = OutputFolder(Path(root) / rel_dir)
    try:
        pipeline = get_pipeline(pipeline_name)
        out.open()
        from eo_drr.kernels._dispatch import gpu_round_trips

        trips = 0
        sched: dict[str, Any] = {"scheduler": "threads", "num_workers": threads} if threads else {}
        # the mosaics get overviews; the tiles' own would be thrown away
        # on a GPU worker (cluster.use_gpu) the kernels that have a CUDA version run there
        with (
            dask.config.set(**sched),
            without_overviews(),
            _kernel_threads(threads),
            gpu_for_numpy(bool(tcfg.cluster.use_gpu)),
        ):
            summary = pipeline.run(tcfg, plan, out, Steps())
            trips = gpu_round_trips()
        # deterministic content only (no worker name, no times): a tile that runs twice (a
        # task retried after its worker died) writes the same bytes the ledger recorded
        manifest = {
            "tile": tile_id,
            "summary": summary,
            "bounds": list(plan.geobox.boundingbox)[:4],
            "gpu_round_trips": trips,
        }
        out.path(TILE_MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True, default=str)
        )
        staging = out.path("")
        staged = sorted(p for p in staging.rglob("*") if p.is_file())
        records = [
            (f"{rel_dir}/{p.relative_to(staging).as_posix()}", p.stat().st_size, sha256_file(p))
            for p in staged
        ]
        out.commit()
    except BaseException as exc:
        out.abort()
        if not isinstance(exc, Exception):
            raise
        return {
            "ok": False,
            "error": _describe(exc),
            "traceback": traceback.format_exc(),
            "seconds": time.perf_counter() - t0,
            "worker": worker,
        }
    return {
        "ok": True,
        "outputs": records,
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": _peak_rss_mb(),
        "worker": worker,
        "summary": {k: v for k, v in summary.items() if isinstance(v, (int, float, str))},
    }


@contextlib.contextmanager
def _kernel_threads(threads: int | None) -> Iterator[None]:
    """Numba's parallel kernels called from this thread use at most ``threads`` threads inside
    the block (``numba.set_num_threads`` is per calling thread). With the usual one-thread
    workers, each worker process then uses one core instead of one thread per core of the
    machine (oversubscription). A worker with N threads that runs N tiles at once still gives
    each tile N kernel threads. None: leave numba as it is."""
    if not threads:
        yield
        return
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _describe(exc: BaseException) -> str:
    """One line for the ledger: the error's type and message; where it was raised when the
    message is empty (a bare ``assert`` in a library, say)."""
    text = f"{type(exc).__name__}: {exc}".strip()
    cause, seen = exc.__cause__ or exc.__context__, 0
    while cause is not None and seen < 3:  # "Read failed. See previous exception": say which
        if str(cause).strip() and str(cause) not in text:
            text += f" <- {type(cause).__name__}: {cause}"
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    if not str(exc).strip():
        tb = traceback.extract_tb(exc.__traceback__)
        if tb:
            text += f" (raised at {Path(tb[-1].filename).name}:{tb[-1].lineno} in {tb[-1].name})"
    return text
