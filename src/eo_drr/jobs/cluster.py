"""Where a job's dask graph runs (``cluster:`` in the job file), resolved by one function.

:func:`open_cluster` turns a :class:`~eo_drr.config.ClusterConfig` into a
:class:`ComputeTarget`: either a local dask scheduler (``threads``, ``synchronous``; no
``Client``) or a ``distributed.Client`` connected to

- ``processes``: a ``LocalCluster`` of worker processes started here (``gpu_workers`` of them
  advertise ``resources={"GPU": 1}``);
- ``address`` / ``scheduler_file``: a scheduler someone else started;
- ``slurm`` / ``pbs``: dask-jobqueue (defaults from ``~/.config/dask/jobqueue.yaml``, overridden
  by ``cluster.options``; ``lifetime``/``lifetime_stagger`` become the workers'
  ``--lifetime``/``--lifetime-stagger`` so that they leave before the walltime kills them);
- ``gateway``: dask-gateway; ``kubernetes``: the dask-kubernetes operator's ``KubeCluster``.

The backends other than ``threads``/``synchronous`` are optional dependencies (the ``cluster``
extra) imported only when asked for; a missing one is a :class:`ConfigError` naming the
extra. Links and addresses are printed without credentials.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dask

from eo_drr.config import ClusterConfig, required
from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)

#: how long to wait for a scheduler (address, scheduler_file) or for started workers
CONNECT_TIMEOUT_S = 30

#: which package brings each backend (all in the ``cluster`` extra)
BACKEND_PACKAGE = {
    "processes": ("distributed", "distributed"),
    "address": ("distributed", "distributed"),
    "scheduler_file": ("distributed", "distributed"),
    "slurm": ("dask_jobqueue", "dask-jobqueue"),
    "pbs": ("dask_jobqueue", "dask-jobqueue"),
    "gateway": ("dask_gateway", "dask-gateway"),
    "kubernetes": ("dask_kubernetes", "dask-kubernetes"),
}


@dataclass
class ComputeTarget:
    """Where computations run: ``client`` is None for the local schedulers."""

    kind: str
    description: str
    client: Any = None
    dashboard: str | None = None
    cluster: Any = None
    #: threads a tile may use inside one worker task (the worker's threads)
    threads_per_task: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def distributed(self) -> bool:
        return self.client is not None


def safe_link(url: str | None) -> str | None:
    """``url`` without user, password and query string (tokens), for printing."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _require(kind: str):
    module, package = BACKEND_PACKAGE[kind]
    try:
        return __import__(module)
    except ImportError:
        raise ConfigError(
            _(
                "cluster.kind: {kind!r} needs {package}, which is not installed: pip install "
                "'eo-drr[cluster]' (or pip install {package})"
            ).format(kind=kind, package=package)
        ) from None


def _worker_resources_args(cfg: ClusterConfig) -> list[str]:
    return ["--resources", "GPU=1"] if cfg.gpu_workers > 0 else []


def jobqueue_cluster(cfg: ClusterConfig):
    """The dask-jobqueue cluster object for ``kind: slurm|pbs`` (not yet scaled: no job is
    submitted). Its ``job_script()`` shows the batch script each worker job will run."""
    if cfg.kind not in ("slurm", "pbs"):
        raise ConfigError(
            _("cluster.kind: {kind!r} is not a batch scheduler (slurm or pbs)").format(
                kind=cfg.kind
            )
        )
    _require(cfg.kind)
    import dask_jobqueue

    cls = dask_jobqueue.SLURMCluster if cfg.kind == "slurm" else dask_jobqueue.PBSCluster
    kw = dict(cfg.options)
    extra = list(kw.pop("worker_extra_args", []) or [])
    if cfg.lifetime:
        extra += ["--lifetime", cfg.lifetime, "--lifetime-restart"]
    if cfg.lifetime_stagger:
        extra += ["--lifetime-stagger", cfg.lifetime_stagger]
    extra += _worker_resources_args(cfg)
    if extra:
        kw["worker_extra_args"] = extra
    if cfg.memory_limit and "memory" not in kw:
        kw["memory"] = cfg.memory_limit
    if cfg.threads_per_worker and "cores" not in kw and "processes" not in kw:
        kw["cores"] = cfg.threads_per_worker
    if not cfg.dashboard:
        kw.setdefault("scheduler_options", {})["dashboard_address"] = None
    try:
        return cls(**kw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            _(
                "cluster.options: dask-jobqueue refused the {kind} settings ({why}); set them "
                "in cluster.options or ~/.config/dask/jobqueue.yaml (cores, memory, queue, "
                "walltime ...)"
            ).format(kind=cfg.kind, why=" ".join(str(exc).split()))
        ) from None


def local_process_cluster(cfg: ClusterConfig):
    """A ``LocalCluster`` of worker processes; the last ``gpu_workers`` of them advertise
    ``resources={"GPU": 1}`` (they are meant to sit on a machine with that many GPUs)."""
    _require("processes")
    from distributed import LocalCluster

    n = cfg.n_workers or 2
    n_gpu = min(cfg.gpu_workers, n)
    cluster = LocalCluster(
        n_workers=n - n_gpu,
        threads_per_worker=cfg.threads_per_worker or 1,
        processes=True,
        memory_limit=cfg.memory_limit or "auto",
        dashboard_address=":0" if cfg.dashboard else None,
    )
    if n_gpu:
        for i in range(n_gpu):
            name, spec = next(iter(cluster.new_worker_spec().items()))
            spec = copy.deepcopy(spec)
            spec["options"]["resources"] = {"GPU": 1}
            cluster.worker_spec[f"gpu-{i}"] = spec
        cluster.sync(cluster._correct_state)
    return cluster


def _start_client(cfg: ClusterConfig, base_dir: Path | None):
    """``(client, cluster or None)`` for a distributed kind."""
    distributed = _require("processes")
    Client = distributed.Client
    if cfg.kind == "processes":
        cluster = local_process_cluster(cfg)
        client = Client(cluster, set_as_default=False)
        client.wait_for_workers(cfg.n_workers or 2, timeout=CONNECT_TIMEOUT_S)
        return client, cluster
    if cfg.kind == "address":
        try:
            return Client(cfg.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False), None
        except (OSError, TimeoutError, ValueError) as exc:
            why = (
                "not an address like tcp://host:port"
                if isinstance(exc, ValueError)
                else type(exc).__name__
            )
            raise ConfigError(  # the exception text may repeat the address with its credentials
                _("cluster.address: cannot reach a dask scheduler at {safe_link} ({why})").format(
                    safe_link=safe_link(cfg.address), why=why
                )
            ) from None
    if cfg.kind == "scheduler_file":
        path = Path(required(cfg.scheduler_file, "cluster.scheduler_file")).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise ConfigError(
                _("{what}: no such file {path}").format(what="cluster.scheduler_file", path=path)
            )
        try:
            return Client(
                scheduler_file=str(path), timeout=CONNECT_TIMEOUT_S, set_as_default=False
            ), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(
                _("cluster.scheduler_file: cannot reach the scheduler in {path} ({exc})").format(
                    path=path, exc=exc
                )
            ) from None
    if cfg.kind in ("slurm", "pbs"):
        cluster = jobqueue_cluster(cfg)
        cluster.scale(jobs=cfg.n_workers or 1)
        return Client(cluster, set_as_default=False), cluster
    if cfg.kind == "gateway":
        _require("gateway")
        from dask_gateway import Gateway

        opts = dict(cfg.options)
        gw_kw = {
            k: opts.pop(k)
            for k in ("address", "proxy_address", "public_address", "auth")
            if k in opts
        }
        try:
            cluster = Gateway(**gw_kw).new_cluster(**opts)
        except Exception as exc:  # dask-gateway raises its own and HTTP errors
            raise ConfigError(
                _("cluster.options: dask-gateway could not start a cluster ({type})").format(
                    type=type(exc).__name__
                )
            ) from None
        cluster.scale(cfg.n_workers or 1)
        return Client(cluster, set_as_default=False), cluster
    if cfg.kind == "kubernetes":
        _require("kubernetes")
        from dask_kubernetes.operator import KubeCluster

        opts = dict(cfg.options)
        opts.setdefault("name", "eo-drr")
        opts.setdefault("n_workers", cfg.n_workers or 1)
        if cfg.gpu_workers:
            opts.setdefault("resources", {"limits": {"nvidia.com/gpu": "1"}})
            opts.setdefault("worker_command", ["dask-worker", "--resources", "GPU=1"])
        try:
            cluster = KubeCluster(**opts)
        except Exception as exc:
            raise ConfigError(
                _(
                    "cluster.options: dask-kubernetes could not start a cluster ({type}: {exc})"
                ).format(type=type(exc).__name__, exc=exc)
            ) from None
        return Client(cluster, set_as_default=False), cluster
    raise ConfigError(
        _("cluster.kind: unknown kind {kind!r}").format(kind=cfg.kind)
    )  # pragma: no cover - validated


@contextlib.contextmanager
def open_cluster(cfg: ClusterConfig, *, base_dir: Path | None = None) -> Iterator[ComputeTarget]:
    """The one place a ``cluster:`` section becomes a place to compute.

    ``threads`` (default): dask's threaded scheduler with ``n_workers`` threads (all cores
    when unset); ``synchronous``: one thread, for debugging. Every other kind yields a target
    with a ``distributed.Client`` (and closes what it started on exit). Within the context,
    ``.compute()`` uses that scheduler.
    """
    if cfg.kind == "threads":
        with dask.config.set(scheduler="threads", num_workers=cfg.n_workers):
            yield ComputeTarget("threads", f"dask threads ({cfg.n_workers or 'all cores'})")
        return
    if cfg.kind == "synchronous":
        with dask.config.set(scheduler="synchronous"):
            yield ComputeTarget("synchronous", "dask synchronous (one thread)")
        return
    client, cluster = _start_client(cfg, base_dir)
    try:
        link = safe_link(client.dashboard_link) if cfg.dashboard else None
        info = client.scheduler_info()
        workers = info.get("workers", {})
        nthreads = [w.get("nthreads", 1) for w in workers.values()]
        gpus = sum(1 for w in workers.values() if (w.get("resources") or {}).get("GPU"))
        desc = (
            f"dask distributed ({cfg.kind}) at {safe_link(client.scheduler.address)}: "
            f"{len(workers)} workers, {sum(nthreads)} threads"
            + (f", {gpus} with a GPU" if gpus else "")
            + (f" (dashboard: {link})" if link else "")
        )
        log.info("%s", desc)
        # The client is made current only for this context (never process-wide: a client
        # that fails to connect, or clients closed out of order, would otherwise leave dask
        # pointed at a scheduler that is gone).
        with client.as_current(), dask.config.set(scheduler="dask.distributed"):
            yield ComputeTarget(
                cfg.kind,
                desc,
                client=client,
                dashboard=link,
                cluster=cluster,
                threads_per_task=cfg.threads_per_worker or (min(nthreads) if nthreads else 1),
            )
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


@contextlib.contextmanager
def compute_context(cfg: ClusterConfig, *, base_dir: Path | None = None) -> Iterator[str]:
    """Context in which ``.compute()`` runs as ``cfg`` says; yields a one-line description
    (with the dashboard link of a distributed cluster)."""
    with open_cluster(cfg, base_dir=base_dir) as target:
        yield target.description
