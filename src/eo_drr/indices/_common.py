"""Helpers shared by the public index functions: xarray in/out, nodata, argument checks.

Every public function accepts a numpy, dask or cupy array, or an ``xarray.DataArray`` wrapping
one, and returns the same kind. For a DataArray the result keeps dims, coords (including
rioxarray's ``spatial_ref``) and attrs; attrs describing the *input* encoding that no longer
apply to a float32 result with NaN nodata (``_FillValue``, ``nodata``, ``scale_factor``,
``add_offset``) are rewritten: ``_FillValue``/``nodata`` become NaN, scale and offset are dropped.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.kernels._dispatch import array_kind

_ENCODING_ATTRS_TO_NAN = ("_FillValue", "nodata", "missing_value")
_ENCODING_ATTRS_TO_DROP = ("scale_factor", "add_offset")


def unwrap(x: Any, name: str) -> tuple[Any, xr.DataArray | None]:
    """(raw array, template DataArray or None). Raises InputError for unsupported types."""
    if isinstance(x, xr.Dataset):
        raise InputError(f"{name}: expected an array or DataArray, got a Dataset")
    if isinstance(x, xr.DataArray):
        data = x.data
        array_kind_checked(data, name)
        return data, x
    if isinstance(x, (list, tuple)) or np.isscalar(x):
        x = np.asarray(x)
    array_kind_checked(x, name)
    return x, None


def array_kind_checked(x: Any, name: str) -> str:
    try:
        kind = array_kind(x)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
    dt = np.dtype(x.dtype)
    if dt.kind not in "iuf":
        raise InputError(f"{name}: dtype {dt} is not supported (expected integer or float)")
    return kind


def wrap(result: Any, template: xr.DataArray | None, name: str | None = None) -> Any:
    """Put ``result`` back into a DataArray shaped like ``template`` (if there is one)."""
    if template is None:
        return result
    attrs = dict(template.attrs)
    for key in _ENCODING_ATTRS_TO_NAN:
        if key in attrs:
            attrs[key] = np.float32(np.nan)
    for key in _ENCODING_ATTRS_TO_DROP:
        attrs.pop(key, None)
    out = xr.DataArray(
        result,
        dims=template.dims,
        coords=template.coords,
        attrs=attrs,
        name=name if name is not None else template.name,
    )
    return out


def resolve_nodata(dtype: Any, nodata: float | None, name: str = "nodata") -> tuple[float, bool]:
    """(value, in force?). Integer inputs default to nodata 0; floats to none (NaN only)."""
    dt = np.dtype(dtype)
    if nodata is not None:
        try:
            value = float(nodata)
        except (TypeError, ValueError):
            raise InputError(f"{name}: expected a number, got {nodata!r}") from None
        if math.isnan(value):
            return 0.0, False
        return value, True
    if dt.kind in "iu":
        return 0.0, True
    return 0.0, False


def check_same_shape(a: Any, b: Any, name_a: str, name_b: str) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise InputError(
            f"{name_a} and {name_b}: shapes differ ({tuple(a.shape)} vs {tuple(b.shape)})"
        )


def check_same_kind(a: Any, b: Any, name_a: str, name_b: str) -> str:
    ka = array_kind_checked(a, name_a)
    kb = array_kind_checked(b, name_b)
    if ka != kb:
        raise InputError(f"{name_a} and {name_b}: array types differ ({ka} vs {kb})")
    return ka


def check_window(window: Any, shape: tuple, name: str = "window", only: int | None = None) -> int:
    """Validate an odd window size >= 3 that fits the raster; returns it as int."""
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
        raise InputError(f"{name}: expected an odd integer >= 3, got {window!r}")
    window = int(window)
    if window < 3 or window % 2 == 0:
        raise InputError(f"{name}: expected an odd integer >= 3, got {window}")
    if only is not None and window != only:
        raise InputError(f"{name}: only {only} is supported by this filter, got {window}")
    if len(shape) != 2:
        raise InputError(f"x: expected a 2-D raster (y, x), got shape {tuple(shape)}")
    if window > min(shape):
        raise InputError(
            f"{name}: {window} is larger than the raster ({shape[0]} x {shape[1]} pixels)"
        )
    return window


def check_enl(enl: Any) -> float:
    try:
        value = float(enl)
    except (TypeError, ValueError):
        raise InputError(f"enl: expected a positive number, got {enl!r}") from None
    if not (value > 0.0) or math.isinf(value):
        raise InputError(f"enl: expected a positive finite number, got {enl!r}")
    return value
