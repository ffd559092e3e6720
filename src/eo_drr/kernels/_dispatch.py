"""Dispatch on the type of an array: numpy, dask, cupy (or a numba CUDA device array).

One public function per operation calls :func:`dispatch` with one implementation per backend;
callers never branch on the array type themselves. ``xarray.DataArray`` is unwrapped by the
public layer (``eo_drr.indices``), not here, so kernels know nothing of xarray.

Nothing here imports cupy or ``numba.cuda`` eagerly: the package imports on machines without a
GPU, and a cupy array can only reach us if cupy is installed.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

try:  # dask is a core dependency, but keep the kernels importable without it
    import dask.array as _da
except ImportError:  # pragma: no cover
    _da = None  # type: ignore[assignment]


def is_dask(x: Any) -> bool:
    return _da is not None and isinstance(x, _da.Array)


def is_cupy(x: Any) -> bool:
    """True for a cupy ndarray (checked by module name so that cupy is never imported)."""
    return type(x).__module__.split(".")[0] == "cupy"


def is_cuda_device_array(x: Any) -> bool:
    """True for a numba CUDA device array (real or simulated): handled like a cupy array."""
    mod = type(x).__module__
    return mod.startswith("numba.cuda") or mod.startswith("numba_cuda")


def is_gpu(x: Any) -> bool:
    return is_cupy(x) or is_cuda_device_array(x)


def array_kind(x: Any) -> str:
    """``"numpy"``, ``"dask"`` or ``"gpu"`` (cupy or numba device array)."""
    if isinstance(x, np.ndarray):
        return "numpy"
    if is_dask(x):
        return "dask"
    if is_gpu(x):
        return "gpu"
    raise InputError(
        _(
            "unsupported array type {type}: expected a numpy, dask or cupy array (or an "
            "xarray.DataArray wrapping one)"
        ).format(type=f"{type(x).__module__}.{type(x).__name__}")
    )


def dispatch(
    x: Any,
    *,
    numpy_func: Callable[..., Any],
    dask_func: Callable[..., Any],
    gpu_func: Callable[..., Any] | None,
    args: tuple = (),
    kwargs: dict | None = None,
    name: str = "x",
) -> Any:
    """Call the implementation that matches the type of ``x`` (numpy, dask or gpu)."""
    kind = array_kind(x)
    kwargs = kwargs or {}
    if kind == "numpy":
        return numpy_func(*args, **kwargs)
    if kind == "dask":
        return dask_func(*args, **kwargs)
    if gpu_func is None:
        raise InputError(
            _("{name}: GPU arrays are not supported by this operation").format(name=name)
        )
    return gpu_func(*args, **kwargs)


# --------------------------------------------------------------------------------------------
# numpy in, GPU kernel, numpy out (on GPU workers)

_GPU_FOR_NUMPY: ContextVar[bool] = ContextVar("eo_drr_gpu_for_numpy", default=False)
#: numpy -> GPU -> numpy round trips of the current :func:`gpu_for_numpy` block (a one-item
#: list per block, so that concurrent blocks in one process count only their own)
_GPU_TRIPS: ContextVar[list[int] | None] = ContextVar("eo_drr_gpu_trips", default=None)


@contextlib.contextmanager
def gpu_for_numpy(enabled: bool = True) -> Iterator[None]:
    """Inside the block, operations that have a GPU kernel run *numpy* inputs on the GPU: the
    array moves to the device (cupy when installed, else a numba CUDA device array), the kernel
    runs there and the result comes back as numpy, in the same call. Pipelines keep numpy
    arrays; a tile of a job routed to a GPU worker (``cluster.use_gpu``) runs inside this block.
    Raises :class:`InputError` at the first such operation when no CUDA device is usable."""
    token = _GPU_FOR_NUMPY.set(bool(enabled))
    trips = _GPU_TRIPS.set([0])
    try:
        yield
    finally:
        _GPU_TRIPS.reset(trips)
        _GPU_FOR_NUMPY.reset(token)


def gpu_round_trips() -> int:
    """Round trips (numpy -> GPU -> numpy) so far in the current :func:`gpu_for_numpy` block."""
    count = _GPU_TRIPS.get()
    return count[0] if count is not None else 0


def wants_gpu(x: Any) -> bool:
    """True when ``x`` is a numpy array and :func:`gpu_for_numpy` is on."""
    return _GPU_FOR_NUMPY.get() and isinstance(x, np.ndarray)


def on_gpu(x: np.ndarray, func: Callable[[Any], Any]) -> np.ndarray:
    """``func(x moved to the GPU)`` moved back to numpy."""
    try:
        import cupy
    except ImportError:
        cupy = None
    if cupy is not None:
        result = cupy.asnumpy(func(cupy.asarray(x)))
    else:
        from numba import cuda

        if not cuda.is_available():
            raise InputError(
                _(
                    "cluster.use_gpu: this worker has no usable CUDA device "
                    "(numba.cuda.is_available() is False); run GPU tiles on workers with a GPU, "
                    "or set use_gpu: false"
                )
            ) from None
        out = func(cuda.to_device(np.ascontiguousarray(x)))
        result = out.copy_to_host() if is_cuda_device_array(out) else np.asarray(out)
    count = _GPU_TRIPS.get()
    if count is not None:
        count[0] += 1
    return result


def gpu_empty(like: Any, shape: tuple, dtype: Any) -> Any:
    """An uninitialised GPU array of the same family as ``like`` (cupy or numba device)."""
    if is_cupy(like):
        import cupy

        return cupy.empty(shape, dtype=dtype)
    from numba import cuda

    return cuda.device_array(shape, dtype=dtype)


def gpu_launch_config_2d(shape: tuple, threads: tuple = (16, 16)) -> tuple:
    """``(blocks, threads)`` covering a 2-D array."""
    by = (shape[0] + threads[0] - 1) // threads[0]
    bx = (shape[1] + threads[1] - 1) // threads[1]
    return (max(by, 1), max(bx, 1)), threads


def gpu_launch_config_1d(n: int, threads: int = 256) -> tuple:
    return (max((n + threads - 1) // threads, 1),), (threads,)


# --------------------------------------------------------------------------------------------
# dask blocks and numba's threading layers
#
# Dask's threaded scheduler runs block functions in several threads at once, and each calls a
# ``parallel=True`` kernel. The OpenMP and TBB threading layers allow that; numba's fallback
# "workqueue" layer (used when neither is installed) aborts the process on concurrent launches
# ("Concurrent access has been detected"). Block functions therefore go through
# :func:`guard_parallel`, which serialises the kernel calls while the layer is workqueue or not
# yet known (before the first parallel launch). Each kernel uses every core anyway.

_LAUNCH_LOCK = threading.Lock()


def _layer_is_threadsafe() -> bool:
    import numba

    try:
        return numba.threading_layer() in ("omp", "tbb")
    except ValueError:  # no parallel kernel has run yet in this process
        return False


def guard_parallel(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a dask block function so that its numba kernels never launch concurrently under a
    threading layer that forbids it (see the comment above)."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _layer_is_threadsafe():
            return func(*args, **kwargs)
        with _LAUNCH_LOCK:
            return func(*args, **kwargs)

    return guarded
