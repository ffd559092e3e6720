"""Routing work to GPU workers of a dask.distributed cluster.

Workers with a GPU advertise a resource (``dask worker --resources GPU=1``, or
``cluster.gpu_workers`` for clusters eo-drr starts). Work is routed there by passing
``resources={"GPU": 1}`` to ``Client.submit`` / ``Client.compute`` **at submit time**.
``with dask.annotate(resources=...)`` is not used: graph optimisation (blockwise fusion) drops
annotations, so part of the blocks silently run on CPU workers (dask/dask issue 7036).

On the GPU worker, :func:`map_blocks_on_gpu` moves each block to cupy, runs the function there
and moves the result back to numpy within one task, so no cupy array leaves the GPU worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _

#: the resource a GPU worker advertises, and what a GPU task asks for
GPU_RESOURCE = "GPU"
GPU = {GPU_RESOURCE: 1}


def gpu_workers(client) -> list[str]:
    """Addresses of the workers that advertise a ``GPU`` resource."""
    workers = client.scheduler_info().get("workers", {})
    return sorted(
        a for a, w in workers.items() if (w.get("resources") or {}).get(GPU_RESOURCE, 0) >= 1
    )


def require_gpu_workers(client) -> list[str]:
    """The GPU workers; a :class:`ConfigError` when there is none (tasks that ask for a GPU
    would otherwise wait forever)."""
    found = gpu_workers(client)
    if not found:
        raise ConfigError(
            _(
                "cluster.use_gpu: no worker of the cluster advertises a GPU resource; start "
                "workers with 'dask worker ... --resources GPU=1' or set cluster.gpu_workers"
            )
        )
    return found


def submit_on_gpu(client, fn: Callable, *args, **kwargs):
    """``client.submit(fn, *args, **kwargs)`` on a GPU worker (a future)."""
    return client.submit(fn, *args, resources=GPU, **kwargs)


def compute_on_gpu(client, collection, **kwargs):
    """``client.compute(collection)`` with every task on GPU workers (a future)."""
    return client.compute(collection, resources=GPU, **kwargs)


def _on_device(block, func: Callable, kwargs: dict[str, Any]):
    import cupy

    out = func(cupy.asarray(block), **kwargs)
    return cupy.asnumpy(out)


def map_blocks_on_gpu(array, func: Callable, *, dtype=None, **kwargs):
    """A lazy dask array: ``func`` applied to each block as a cupy array on the worker, the
    result moved back to numpy in the same task. Compute it with :func:`compute_on_gpu`."""
    return array.map_blocks(_on_device, func=func, kwargs=kwargs, dtype=dtype or array.dtype)
