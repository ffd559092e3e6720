"""Raster kernels: numba CPU kernels (``*_cpu``), CUDA kernels (``*_cuda``, imported lazily)
and the dispatch on array types (``_dispatch``). The public functions live in
:mod:`eo_drr.indices`; :func:`gpu_for_numpy` sends numpy inputs through the CUDA kernels."""

from eo_drr.kernels._dispatch import gpu_for_numpy

__all__ = ["gpu_for_numpy"]
