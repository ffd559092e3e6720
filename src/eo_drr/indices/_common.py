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
from eo_drr.i18n import gettext as _
from eo_drr.kernels._dispatch import array_kind

_ENCODING_ATTRS_TO_NAN = ("_FillValue", "nodata", "missing_value")
_ENCODING_ATTRS_TO_DROP = ("scale_factor", "add_offset")


def unwrap(x: Any, name: str) -> tuple[Any, xr.DataArray | None]:
    """(raw array, template DataArray or None). Raises InputError for unsupported types."""
    if isinstance(x, xr.Dataset):
        raise InputError(
            _("{name}: expected an array or DataArray, got a Dataset").format(name=name)
        )
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
        raise InputError(_("{name}: {exc}").format(name=name, exc=exc)) from None
    dt = np.dtype(x.dtype)
    if dt.kind not in "iuf":
        raise InputError(
            _("{name}: dtype {dt} is not supported (expected integer or float)").format(
                name=name, dt=dt
            )
        )
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
            raise InputError(
                _("{name}: expected a number, got {nodata!r}").format(name=name, nodata=nodata)
            ) from None
        if math.isnan(value):
            return 0.0, False
        return value, True
    if dt.kind in "iu":
        return 0.0, True
    return 0.0, False


def check_same_shape(a: Any, b: Any, name_a: str, name_b: str) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise InputError(
            _("{name_a} and {name_b}: shapes differ ({shape} vs {shape2})").format(
                name_a=name_a, name_b=name_b, shape=tuple(a.shape), shape2=tuple(b.shape)
            )
        )


def check_same_kind(a: Any, b: Any, name_a: str, name_b: str) -> str:
    ka = array_kind_checked(a, name_a)
    kb = array_kind_checked(b, name_b)
    if ka != kb:
        raise InputError(
            _("{name_a} and {name_b}: array types differ ({ka} vs {kb})").format(
                name_a=name_a, name_b=name_b, ka=ka, kb=kb
            )
        )
    return ka


def check_window(window: Any, shape: tuple, name: str = "window", only: int | None = None) -> int:
    """Validate an odd window size >= 3 that fits the raster; returns it as int."""
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
        raise InputError(
            _("{name}: expected an odd integer >= 3, got {window!r}").format(
                name=name, window=window
            )
        )
    window = int(window)
    if window < 3 or window % 2 == 0:
        raise InputError(
            _("{name}: expected an odd integer >= 3, got {window}").format(name=name, window=window)
        )
    if only is not None and window != only:
        raise InputError(
            _("{name}: only {only} is supported by this filter, got {window}").format(
                name=name, only=only, window=window
            )
        )
    if len(shape) != 2:
        raise InputError(
            _("x: expected a 2-D raster (y, x), got shape {shape}").format(shape=tuple(shape))
        )
    if window > min(shape):
        raise InputError(
            _("{name}: {window} is larger than the raster ({height} x {width} pixels)").format(
                name=name, window=window, height=shape[0], width=shape[1]
            )
        )
    return window


def check_enl(enl: Any) -> float:
    try:
        value = float(enl)
    except (TypeError, ValueError):
        raise InputError(
            _("enl: expected a positive number, got {enl!r}").format(enl=enl)
        ) from None
    if not (value > 0.0) or math.isinf(value):
        raise InputError(_("enl: expected a positive finite number, got {enl!r}").format(enl=enl))
    return value
