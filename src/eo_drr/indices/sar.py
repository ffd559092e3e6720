"""SAR backscatter: dB conversions, change (log-ratio) and speckle filters.

Every function takes a numpy, dask or cupy array or an ``xarray.DataArray`` (returning the same
kind, float32) and dispatches on the array type itself (``eo_drr.kernels._dispatch``).

Units and conventions
---------------------
- Inputs of ``to_db``, ``boxcar``, ``lee``, ``kuan``, ``refined_lee`` and ``log_ratio`` are *linear*
  backscatter intensity (power: sigma0 / gamma0 as a ratio; not amplitude, not dB).
  ``to_linear`` takes dB.
- Nodata: NaN in float inputs; for integer inputs the value 0 (or ``nodata=`` when given) is
  nodata. Nodata gives NaN. Integer inputs are computed in floating point, never wrapped.
- Windowed filters (``boxcar``, ``lee``, ``kuan``, ``refined_lee``) take 2-D rasters (y, x). NaN and
  +-inf pixels are nodata. Edge rule: pixels outside the raster are treated like nodata, so
  every statistic is over the valid in-raster pixels of the window (at the edges the window
  shrinks). A nodata centre pixel stays nodata: the filters never fill holes. Dask arrays go
  through ``map_overlap`` (depth = window // 2, NaN boundary), which gives the same result as
  numpy on the whole array, across chunk boundaries too: the same pixels are NaN and values
  agree to float32 rounding (the CPU boxcar/Lee/Kuan use float64 running sums, whose last bits
  depend on where a chunk starts; ``refined_lee`` takes a branch-free path away from block
  edges). GPU results agree with the CPU ones to float32 rounding too.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.indices._common import (
    check_enl,
    check_same_kind,
    check_same_shape,
    check_window,
    resolve_nodata,
    unwrap,
    wrap,
)
from eo_drr.kernels import refined_lee_cpu, sar_cpu, speckle_cpu
from eo_drr.kernels._dispatch import (
    dispatch,
    gpu_empty,
    gpu_launch_config_1d,
    gpu_launch_config_2d,
    guard_parallel,
    on_gpu,
    wants_gpu,
)

__all__ = [
    "to_db",
    "to_linear",
    "log_ratio",
    "boxcar",
    "lee",
    "kuan",
    "refined_lee",
    "temporal_median",
]

_F32 = np.float32
_DIRECTION_SPANS = refined_lee_cpu.direction_spans()


def _meta(ndim: int) -> np.ndarray:
    return np.empty((0,) * ndim, dtype=_F32)


# --------------------------------------------------------------------------------------------
# pointwise: numpy / dask / gpu backends


def _np_unary(x, kernel_name, nodata, use):
    xc = np.ascontiguousarray(x)
    out = np.empty(xc.shape, dtype=_F32)
    flat = xc.reshape(-1)
    if kernel_name == "to_db" and xc.dtype == np.float32:  # vectorised log (see sar_cpu)
        sar_cpu.to_db_f32(flat, flat.view(np.uint32), nodata, use, out.reshape(-1))
    else:
        getattr(sar_cpu, kernel_name)(flat, nodata, use, out.reshape(-1))
    return out


def _gpu_unary(x, kernel_name, nodata, use):
    from eo_drr.kernels import sar_cuda

    kernel = getattr(sar_cuda, kernel_name)
    out = gpu_empty(x, x.shape, _F32)
    blocks, threads = gpu_launch_config_1d(x.size)
    kernel[blocks, threads](x.ravel(), nodata, use, out.ravel())
    return out


def _unary(x: Any, kernel_name: str, nodata: float | None) -> Any:
    data, template = unwrap(x, "x")
    value, use = resolve_nodata(data.dtype, nodata)
    args = (kernel_name, value, use)
    result = dispatch(
        data,
        numpy_func=lambda: _np_unary(data, *args),
        dask_func=lambda: data.map_blocks(
            guard_parallel(_np_unary), *args, dtype=_F32, meta=_meta(data.ndim)
        ),
        gpu_func=lambda: _gpu_unary(data, *args),
    )
    return wrap(result, template)


def _np_log_ratio(post, pre, nodata, use):
    a = np.ascontiguousarray(post).reshape(-1)
    b = np.ascontiguousarray(pre).reshape(-1)
    out = np.empty(np.shape(post), dtype=_F32)
    if a.dtype == np.float32 and b.dtype == np.float32:  # vectorised log (see sar_cpu)
        sar_cpu.log_ratio_f32(
            a, b, a.view(np.uint32), b.view(np.uint32), nodata, use, out.reshape(-1)
        )
    else:
        sar_cpu.log_ratio(a, b, nodata, use, out.reshape(-1))
    return out


def _gpu_log_ratio(post, pre, nodata, use):
    from eo_drr.kernels import sar_cuda

    out = gpu_empty(post, post.shape, _F32)
    blocks, threads = gpu_launch_config_1d(post.size)
    sar_cuda.log_ratio[blocks, threads](post.ravel(), pre.ravel(), nodata, use, out.ravel())
    return out


def to_db(x: Any, *, nodata: float | None = None) -> Any:
    """Linear power to decibels: ``10 * log10(x)``; ``x <= 0``, NaN or nodata give NaN,
    ``+inf`` gives ``+inf``.

    Returns float32 of the same array kind as ``x``. float32 input on the CPU takes a
    vectorised logarithm (``sar_cpu.to_db_f32``), within one float32 rounding of numpy's.
    """
    return _unary(x, "to_db", nodata)


def to_linear(x_db: Any, *, nodata: float | None = None) -> Any:
    """Decibels to linear power: ``10 ** (x_db / 10)``; NaN or nodata give NaN. float32."""
    return _unary(x_db, "to_linear", nodata)


def log_ratio(post: Any, pre: Any, *, nodata: float | None = None) -> Any:
    """Change between two *linear* intensities, in dB: ``10 * log10(post / pre)``.

    Equal to ``to_db(post) - to_db(pre)``; negative where backscatter fell (e.g. open water
    appearing after a flood), positive where it rose. NaN where either input is NaN, <= 0 or
    nodata. Both inputs must have the same shape and array kind; the result (float32) takes
    coords and attrs from ``post`` when it is a DataArray.
    """
    a, template = unwrap(post, "post")
    b, _coords = unwrap(pre, "pre")
    check_same_shape(a, b, "post", "pre")
    check_same_kind(a, b, "post", "pre")
    value, use = resolve_nodata(np.result_type(a.dtype, b.dtype), nodata)
    result = dispatch(
        a,
        numpy_func=lambda: _np_log_ratio(a, b, value, use),
        dask_func=lambda: _dask_log_ratio(a, b, value, use),
        gpu_func=lambda: _gpu_log_ratio(a, b, value, use),
        name="post",
    )
    return wrap(result, template)


def _dask_log_ratio(a, b, value, use):
    import dask.array as da

    b = b.rechunk(a.chunks)
    return da.map_blocks(
        guard_parallel(_np_log_ratio), a, b, value, use, dtype=_F32, meta=_meta(a.ndim)
    )


# --------------------------------------------------------------------------------------------
# windowed filters


def _np_float(x, nodata, use):
    """float32/float64 view with NaN nodata (no copy for float input without a nodata value)."""
    if x.dtype.kind == "f" and not use:
        return np.ascontiguousarray(x)
    return _np_unary(x, "as_float32", nodata, use)


def _np_window(x, r, mode, cu2, nodata, use):
    xf = _np_float(x, nodata, use)
    out = np.empty(xf.shape, dtype=_F32)
    speckle_cpu.window_filter(xf, r, mode, cu2, speckle_cpu.window_scratch(xf.shape, r), out)
    return out


def _np_refined(x, cu2, nodata, use):
    xf = _np_float(x, nodata, use)
    out = np.empty(xf.shape, dtype=_F32)
    if xf.size >= refined_lee_cpu.GROUPED_FROM:
        scratch = refined_lee_cpu.grouped_scratch(xf.shape)
        refined_lee_cpu.refined_lee_grouped(xf, cu2, *scratch, _DIRECTION_SPANS, out)
    else:
        ring = refined_lee_cpu.refined_scratch(xf.shape)
        refined_lee_cpu.refined_lee(xf, cu2, ring, _DIRECTION_SPANS, out)
    return out


def _gpu_float(x, nodata, use):
    if x.dtype.kind == "f" and not use:
        return x
    return _gpu_unary(x, "as_float32", nodata, use)


def _gpu_window(x, r, mode, cu2, nodata, use):
    from eo_drr.kernels import sar_cuda

    xf = _gpu_float(x, nodata, use)
    s = gpu_empty(x, x.shape, np.float64)
    q = gpu_empty(x, x.shape, np.float64)
    c = gpu_empty(x, x.shape, np.float64)
    out = gpu_empty(x, x.shape, _F32)
    blocks, threads = gpu_launch_config_2d(x.shape)
    sar_cuda.window_horizontal[blocks, threads](xf, r, s, q, c)
    sar_cuda.window_vertical[blocks, threads](xf, r, mode, cu2, s, q, c, out)
    return out


def _gpu_refined(x, cu2, nodata, use):
    from eo_drr.kernels import sar_cuda

    xf = _gpu_float(x, nodata, use)
    out = gpu_empty(x, x.shape, _F32)
    blocks, threads = gpu_launch_config_2d(x.shape)
    sar_cuda.refined_lee[blocks, threads](xf, cu2, out)
    return out


_BLOCK_ARGS = {
    "_np_window": ("r", "mode", "cu2", "nodata", "use"),
    "_np_refined": ("cu2", "nodata", "use"),
}


def _dask_windowed(data, depth, block_func, *args):
    """float conversion blockwise, then ``map_overlap`` with a NaN boundary of ``depth``."""
    value, use = args[-2], args[-1]
    xf = data
    if not (data.dtype.kind == "f" and not use):
        xf = data.map_blocks(
            guard_parallel(_np_unary), "as_float32", value, use, dtype=_F32, meta=_meta(2)
        )
        args = args[:-2] + (0.0, False)
    # every chunk must be at least `depth` wide for the overlap
    min_chunk = min(min(c) for c in xf.chunks)
    if min_chunk < depth:
        xf = xf.rechunk({0: max(depth, max(xf.chunks[0])), 1: max(depth, max(xf.chunks[1]))})
    return xf.map_overlap(
        guard_parallel(
            functools.partial(block_func, **dict(zip(_BLOCK_ARGS[block_func.__name__], args)))
        ),
        depth=depth,
        boundary=np.nan,
        trim=True,
        dtype=_F32,
        meta=_meta(2),
    )


def _windowed(x, window, mode, cu2, only=None):
    data, template = unwrap(x, "x")
    if wants_gpu(data):  # numpy on a GPU worker: to the device, the CUDA kernel, and back
        return wrap(on_gpu(data, lambda d: _windowed(d, window, mode, cu2, only)), template)
    window = check_window(window, tuple(data.shape), only=only)
    r = window // 2
    value, use = resolve_nodata(data.dtype, None)
    if mode == "refined":
        result = dispatch(
            data,
            numpy_func=lambda: _np_refined(data, cu2, value, use),
            dask_func=lambda: _dask_windowed(data, r, _np_refined, cu2, value, use),
            gpu_func=lambda: _gpu_refined(data, cu2, value, use),
        )
    else:
        result = dispatch(
            data,
            numpy_func=lambda: _np_window(data, r, mode, cu2, value, use),
            dask_func=lambda: _dask_windowed(data, r, _np_window, r, mode, cu2, value, use),
            gpu_func=lambda: _gpu_window(data, r, mode, cu2, value, use),
        )
    return wrap(result, template)


def boxcar(x: Any, window: int = 5) -> Any:
    """NaN-aware mean over a ``window`` x ``window`` square (odd, 3 <= window <= raster size).

    Separable window sums (O(window) work per pixel, not O(window**2)). Edges and nodata: the
    mean is over the valid in-raster pixels of the window; a nodata centre stays NaN.
    Units are those of ``x`` (average linear intensity, not dB, for SAR). float32.
    """
    return _windowed(x, window, speckle_cpu.MODE_BOXCAR, 0.0)


def lee(x: Any, window: int = 7, enl: float = 4.4) -> Any:
    """Lee speckle filter on *linear* intensity (power), multiplicative-noise form (Lee 1980,
    "Digital image enhancement and noise filtering by use of local statistics", IEEE TPAMI
    2(2):165-168; written in this form by Lopes, Touzi & Nezry 1990, "Adaptive speckle filters
    and scene heterogeneity", IEEE TGRS 28(6):992-1000).

    With the local mean ``m`` and variance ``var_y`` over the ``window`` x ``window`` square
    (separable window sums, NaN-aware, shrinking at the edges), the local coefficient of
    variation ``Ci**2 = var_y / m**2`` and the speckle one ``Cu**2 = 1 / enl`` (``enl``:
    equivalent number of looks; 4.4 is the usual value for Sentinel-1 IW GRD high
    resolution):

        W = clip(1 - Cu**2 / Ci**2, 0, 1),   out = m + W * (x - m)

    (``W = 0`` where ``var_y <= 0``). Homogeneous areas (``Ci <= Cu``: W = 0) get the local
    mean; strong texture and point targets (``Ci >> Cu``: W -> 1) keep ``x``. Compare
    :func:`kuan`, whose weight is smaller by ``1 / (1 + Cu**2)``.

    Nodata and edges as for every windowed filter here (module docstring): NaN/+-inf pixels
    are left out of the window statistics and a nodata centre stays NaN. float32, same units
    as ``x`` (linear intensity in, linear intensity out; not dB).
    """
    cu2 = 1.0 / check_enl(enl)
    return _windowed(x, window, speckle_cpu.MODE_LEE, cu2)


def kuan(x: Any, window: int = 7, enl: float = 4.4) -> Any:
    """Kuan speckle filter on *linear* intensity (power) (Kuan, Sawchuk, Strand & Chavel 1985,
    "Adaptive noise smoothing filter for images with signal-dependent noise", IEEE TPAMI
    7(2):165-177): the local linear MMSE estimate for multiplicative noise, without Lee's
    linearisation. ESA SNAP's "Lee" speckle filter computes this weight too.

    Local statistics as in :func:`lee` (mean ``m``, variance ``var_y`` over the ``window`` x
    ``window`` square, ``Ci**2 = var_y / m**2``, ``Cu**2 = 1 / enl``):

        var_x = (var_y - m**2 * Cu**2) / (1 + Cu**2),   W = max(var_x / var_y, 0)
              = max((1 - Cu**2 / Ci**2) / (1 + Cu**2), 0),
        out = m + W * (x - m)

    (``W = 0`` where ``var_y <= 0``). Homogeneous areas (``Ci <= Cu``) get the local mean, but
    the weight never exceeds ``1 / (1 + Cu**2)`` (0.815 at ``enl=4.4``), even on strong texture
    or point targets: a bright isolated pixel is pulled about ``Cu**2 / (1 + Cu**2)`` (18 % at
    ``enl=4.4``) of the way toward the local mean. Use :func:`lee` to keep such pixels.

    Nodata and edges as for every windowed filter here (module docstring): NaN/+-inf pixels
    are left out of the window statistics and a nodata centre stays NaN. float32, same units
    as ``x`` (linear intensity in, linear intensity out; not dB).
    """
    cu2 = 1.0 / check_enl(enl)
    return _windowed(x, window, speckle_cpu.MODE_KUAN, cu2)


def refined_lee(x: Any, window: int = 7, enl: float = 4.4) -> Any:
    """Lee's refined filter with edge-aligned windows (Lee 1981, "Refined filtering of image
    noise using local statistics", Computer Graphics and Image Processing 15(4):380-389).

    In the 7 x 7 window, the means of nine 3 x 3 sub-windows (centres 2 pixels apart) form a
    3 x 3 matrix; four gradient masks on it (vertical, horizontal, two diagonals) pick the
    strongest edge, and the side of the edge whose sub-window mean is closer to the centre
    one picks one of 8 directional half windows (28 pixels, edge line included). The weight is
    then computed from the mean and variance over that half window only, so edges are not
    blurred. Where no gradient can be computed (nodata, raster edges) the whole square is used.

    The weight is the variance-ratio one of :func:`kuan`, ``W = max(var_x / var_y, 0)`` with
    ``var_x = (var_y - m**2 * Cu**2) / (1 + Cu**2)`` (never above ``1 / (1 + Cu**2)``), not
    the ``1 - Cu**2 / Ci**2`` of :func:`lee`: within a half window, point targets are pulled
    toward its mean as by :func:`kuan`. Only ``window=7`` (the published one) is supported.
    float32, linear intensity in and out.
    """
    cu2 = 1.0 / check_enl(enl)
    return _windowed(x, window, "refined", cu2, only=7)


def _np_temporal_median(stack):
    out = np.empty(stack.shape[1:], dtype=_F32)
    bufs = np.empty((stack.shape[1], stack.shape[0]), dtype=_F32)  # the kernel's sort buffers
    sar_cpu.nanmedian_time(np.ascontiguousarray(stack, dtype=_F32), bufs, out)
    return out


def temporal_median(stack: Any) -> Any:
    """Per-pixel median over time of a ``(time, y, x)`` stack, ignoring NaN (and +-inf):
    the reference backscatter of several pre-event scenes. NaN where no date is valid; an
    even number of valid dates gives the mean of the middle two (as ``numpy.nanmedian``).

    Take the median of *linear* intensity (power), then convert to dB if needed: the median
    commutes with the monotonic dB transform for odd counts only. float32, units of ``stack``.
    A dask stack must have a single chunk along time.
    """
    data, template = unwrap(stack, "stack")
    if data.ndim != 3:
        raise InputError(
            _("stack: expected (time, y, x), got shape {shape}").format(shape=tuple(data.shape))
        )

    def _dask():
        if len(data.chunks[0]) != 1:
            raise InputError(
                _("stack: a dask stack must have one chunk along time (rechunk({0: -1}))")
            )
        return data.map_blocks(
            guard_parallel(_np_temporal_median), drop_axis=0, dtype=_F32, meta=_meta(2)
        )

    def _gpu():
        try:
            import cupy
        except ImportError:
            raise InputError(_("stack: the temporal median of GPU arrays needs cupy")) from None
        a = cupy.asarray(data, dtype=_F32)
        a = cupy.where(cupy.isinf(a), cupy.float32(cupy.nan), a)  # +-inf is nodata, as on the CPU
        return cupy.nanmedian(a, axis=0).astype(_F32)

    result = dispatch(
        data, numpy_func=lambda: _np_temporal_median(data), dask_func=_dask, gpu_func=_gpu
    )
    if template is not None:
        template = template.isel({template.dims[0]: 0}, drop=True)
    return wrap(result, template)
