"""Running a spectral index kernel: the bands checked and brought to one dtype, the
reflectance scale/offset and nodata resolved (defaults as documented in
:mod:`eo_drr.indices.spectral`), then the numba CPU kernel (numpy, dask blocks) or the CUDA
kernel (GPU arrays) of :mod:`eo_drr.kernels.spectral_cpu` / ``spectral_cuda``; float32 out,
NaN for nodata.

Scale, offset and the nodata test are fused into the kernels, and on the CPU so is the dtype
conversion of a band that float32 holds exactly (8/16-bit integers, float32): the kernel
converts each value as it reads it, which gives the same float32 (and the same nodata test)
as converting the band to the common dtype first, without a temporary copy of the band.
Wider bands (32/64-bit integers, float64 when the common dtype differs) are still converted
first: float32(int64) directly and through float64 can round differently.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.indices._common import array_kind_checked, check_same_shape, unwrap, wrap
from eo_drr.kernels import spectral_cpu
from eo_drr.kernels._dispatch import (
    dispatch,
    gpu_empty,
    gpu_launch_config_1d,
    guard_parallel,
)

_F32 = np.float32


@dataclasses.dataclass(frozen=True)
class _Prepared:
    arrays: tuple  # the bands, converted to the common dtype only where needed (see above)
    common: np.dtype
    template: xr.DataArray | None
    kind: str
    scale: float
    offset: float
    nodata: Any
    use_nodata: bool


def _kernel_converts(dtype: np.dtype) -> bool:
    """True when the CPU kernels convert a band of ``dtype`` themselves: float32 holds its
    values exactly, and numba reads it (float16 it does not)."""
    return dtype != np.float16 and spectral_cpu.float32_exact(dtype)


def _prepare(name: str, bands: dict[str, Any], scale, offset, nodata) -> _Prepared:
    raw = []
    template = None
    for band, value in bands.items():
        data, tmpl = unwrap(value, band)
        if template is None and tmpl is not None:
            template = tmpl
        raw.append((band, data))
    kinds = {band: array_kind_checked(data, band) for band, data in raw}
    if len(set(kinds.values())) > 1:
        desc = ", ".join(f"{b}={k}" for b, k in kinds.items())
        raise InputError(
            _("{name}: all bands must be the same array type ({desc})").format(name=name, desc=desc)
        )
    b0, d0 = raw[0]
    for band, data in raw[1:]:
        check_same_shape(d0, data, b0, band)
    dtypes = {np.dtype(d.dtype) for _, d in raw}
    is_int = {dt.kind in "iu" for dt in dtypes}
    if len(is_int) > 1 and scale is None:
        raise InputError(
            _(
                "scale: {name} got integer and float bands together; pass scale= (and offset=)"
            ).format(name=name)
        )
    integer = is_int == {True}
    scale = (1e-4 if integer else 1.0) if scale is None else float(scale)
    offset = 0.0 if offset is None else float(offset)
    if not np.isfinite(scale) or scale == 0.0:
        raise InputError(
            _("scale: expected a finite non-zero number, got {scale}").format(scale=scale)
        )
    if not np.isfinite(offset):
        raise InputError(_("offset: expected a finite number, got {offset}").format(offset=offset))
    if nodata is not None:
        try:
            nd = float(nodata)
        except (TypeError, ValueError):
            raise InputError(
                _("nodata: expected a number, got {nodata!r}").format(nodata=nodata)
            ) from None
        use = not np.isnan(nd)
        nd = nd if use else 0.0
    else:
        nd, use = (0.0, True) if integer else (0.0, False)
    common = np.result_type(*dtypes)
    arrays = tuple(
        d if d.dtype == common or _kernel_converts(d.dtype) else d.astype(common) for _, d in raw
    )
    # compare nodata in the bands' own dtype (keeps the kernels' loops in one width)
    if use and common.kind in "iu":
        info = np.iinfo(common)
        if nd != int(nd) or not (info.min <= nd <= info.max):
            use, nd = False, 0  # no raw value can equal it
    nd = common.type(nd)
    return _Prepared(arrays, common, template, kinds[b0], scale, offset, nd, use)


def _np_apply(*arrays, kernel_name: str, extra: tuple, params: tuple):
    kernel = getattr(spectral_cpu, kernel_name)
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    scale, offset, nodata, use_nodata = params
    # nodata is a scalar of the common dtype (see _prepare)
    params = (scale, offset, spectral_cpu.nodata_key(nodata, use_nodata, np.asarray(nodata).dtype))
    out = np.empty(np.shape(arrays[0]), dtype=_F32)
    if kernel_name == "linear_combination":
        # numba unrolls a tuple of mixed dtypes only outside prange: one dtype here
        common = np.asarray(nodata).dtype
        bands = tuple(f.astype(common, copy=False) for f in flat)
        kernel(bands, np.asarray(extra, dtype=_F32), *params, out.reshape(-1))
    else:
        kernel(*flat, *params, out.reshape(-1))
    return out


def _gpu_apply(arrays, kernel_name: str, extra: tuple, params: tuple):
    from numba import cuda

    from eo_drr.kernels import spectral_cuda

    common = np.asarray(params[2]).dtype  # nodata: a scalar of the common dtype
    arrays = [a if a.dtype == common else a.astype(common) for a in arrays]
    a0 = arrays[0]
    out = gpu_empty(a0, a0.shape, _F32)
    flat = [a.ravel() for a in arrays]
    blocks, threads = gpu_launch_config_1d(a0.size)
    kernel = getattr(spectral_cuda, kernel_name)
    if kernel_name == "linear_combination":
        stack = gpu_empty(a0, (len(flat), a0.size), a0.dtype)
        for i, f in enumerate(flat):
            spectral_cuda.copy_into_row[blocks, threads](f, stack, i)
        coefs = cuda.to_device(np.asarray(extra, dtype=np.float64))
        kernel[blocks, threads](stack, coefs, *params, out.ravel())
    else:
        kernel[blocks, threads](*flat, *params, out.ravel())
    return out


def apply(
    name: str, kernel_name: str, bands: dict[str, Any], scale, offset, nodata, extra: tuple = ()
):
    p = _prepare(name, bands, scale, offset, nodata)
    params = (p.scale, p.offset, p.nodata, p.use_nodata)
    arrays = p.arrays

    def dask_func():
        import dask.array as da

        # bands may come chunked differently: follow the first band's chunks
        aligned = [arrays[0]] + [a.rechunk(arrays[0].chunks) for a in arrays[1:]]
        return da.map_blocks(
            guard_parallel(_np_apply),
            *aligned,
            kernel_name=kernel_name,
            extra=extra,
            params=params,
            dtype=_F32,
            meta=np.empty((0,) * arrays[0].ndim, dtype=_F32),
        )

    result = dispatch(
        arrays[0],
        numpy_func=lambda: _np_apply(*arrays, kernel_name=kernel_name, extra=extra, params=params),
        dask_func=dask_func,
        gpu_func=lambda: _gpu_apply(arrays, kernel_name, extra, params),
    )
    return wrap(result, p.template, name)
