"""Where a job's dask graph runs (``cluster:`` in the job file)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import dask

from eo_drr.config import ClusterConfig
from eo_drr.errors import ConfigError

log = logging.getLogger(__name__)


@contextlib.contextmanager
def compute_context(cfg: ClusterConfig) -> Iterator[str]:
    """Context in which ``.compute()`` runs as ``cfg`` says; yields a one-line description.

    ``threads`` (default): dask's threaded scheduler with ``n_workers`` threads (all cores
    when unset); ``synchronous``: one thread, for debugging; ``processes`` and ``address``
    start or join a ``dask.distributed`` cluster (needs the ``cluster`` extra).
    """
    if cfg.kind == "threads":
        with dask.config.set(scheduler="threads", num_workers=cfg.n_workers):
            yield f"dask threads ({cfg.n_workers or 'all cores'})"
    elif cfg.kind == "synchronous":
        with dask.config.set(scheduler="synchronous"):
            yield "dask synchronous (one thread)"
    else:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError(
                f"cluster.kind: {cfg.kind!r} needs dask.distributed: pip install 'eo-drr[cluster]'"
            ) from None
        if cfg.kind == "processes":
            cluster = LocalCluster(n_workers=cfg.n_workers or 2, threads_per_worker=1, processes=True)
            client = Client(cluster)
        else:
            cluster = None
            client = Client(cfg.address)
        try:
            yield f"dask distributed at {client.scheduler.address} (dashboard: {client.dashboard_link})"
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
