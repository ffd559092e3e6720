"""Flood water depth on any rasters: ``eo_drr.depth(flood, dem)`` from xarray objects or files.

The flood extent's grid is the output grid. The DEM (and HAND and the masks, when given) are
reprojected onto it when their grid differs, with a logged warning: bilinear for the DEM and
HAND (metres), nearest for masks. The computation is eager (the edge allocation is global:
one flooded cell's depth may come from an edge cell anywhere in the scene).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from eo_drr.api.rasters import _open
from eo_drr.errors import InputError, NoDataError
from eo_drr.i18n import gettext as _
from eo_drr.products.depth import METHODS, DepthOptions, edge_cells, flood_depth

log = logging.getLogger(__name__)

Raster = xr.DataArray | xr.Dataset | str | Path

#: Flood-extent codes of :func:`eo_drr.flood` and the flood job: 1 flooded, 2 reference water
#: still water after the event (permanent water: no evidence of the flood's edge), 255 no data.
FLOODED, STILL_WATER, NODATA = 1, 2, 255


def _raster(obj: Raster, what: str, variable: str | None = None) -> xr.DataArray:
    """A 2-D DataArray from a DataArray, a Dataset (its ``variable`` or only variable), a
    one-band raster or a file path (opened masked: no-data becomes NaN)."""
    if isinstance(obj, (str, Path)):
        obj = _open(Path(obj), what)
    if isinstance(obj, xr.Dataset):
        names = list(obj.data_vars)
        if variable in names:
            obj = obj[variable]
        elif len(names) == 1:
            obj = obj[names[0]]
        else:
            raise InputError(
                _("{what}: a Dataset of {names}; give one raster").format(
                    what=what, names=", ".join(map(str, names))
                )
            )
    if not isinstance(obj, xr.DataArray):
        raise InputError(
            _("{what}: expected an xarray DataArray or Dataset or a file path, got {type}").format(
                what=what, type=type(obj).__name__
            )
        )
    if obj.ndim == 3 and obj.shape[0] == 1:
        obj = obj.squeeze(obj.dims[0], drop=True)
    if obj.ndim != 2:
        raise InputError(
            _("{what}: expected one band (y, x), got dims {dims}").format(what=what, dims=obj.dims)
        )
    return obj


def _float(da: xr.DataArray) -> xr.DataArray:
    """Metres as float64 with the raster's no-data value as NaN."""
    nod = da.rio.nodata if da.rio.nodata is not None else da.rio.encoded_nodata
    out = da.astype(np.float64)
    if nod is not None and np.isfinite(nod):
        out = out.where(out != nod)
    return out.rio.write_nodata(np.nan, encoded=False)


def _same_grid(a: xr.DataArray, b: xr.DataArray) -> bool:
    if a.shape != b.shape:
        return False
    if a.rio.crs is None or b.rio.crs is None:
        return True
    ta, tb = a.rio.transform(recalc=True), b.rio.transform(recalc=True)
    return bool(a.rio.crs == b.rio.crs and ta.almost_equals(tb, precision=1e-6 * abs(ta.a)))


def _on_grid(da: xr.DataArray, like: xr.DataArray, what: str, continuous: bool) -> np.ndarray:
    """``da``'s values on ``like``'s grid (float64 NaN no-data when ``continuous``)."""
    src = _float(da) if continuous else da
    if _same_grid(src, like):
        return np.asarray(src.values)
    if src.rio.crs is None or like.rio.crs is None:
        raise InputError(
            _(
                "{what}: {shape} px, the flood {shape2}: different grids and no CRS to reproject "
                "by; put them on one grid"
            ).format(what=what, shape=da.shape, shape2=like.shape)
        )
    from rasterio.enums import Resampling

    how = Resampling.bilinear if continuous else Resampling.nearest
    log.warning(
        _("{what}: not on the flood's grid; reprojected onto it ({how})").format(
            what=what, how=how.name
        )
    )
    return np.asarray(src.rio.reproject_match(like, resampling=how).values)


def _flood_masks(fl: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """(flooded, blocked) from a flood extent: 1 / True flooded, 0 / False not, 2 still water
    (blocked), the raster's no-data, 255 or NaN no data (blocked)."""
    v = np.asarray(fl.values)
    if v.dtype == bool:
        return v, np.zeros(v.shape, bool)
    nod = fl.rio.nodata if fl.rio.nodata is not None else fl.rio.encoded_nodata
    missing = ~np.isfinite(v) if v.dtype.kind == "f" else np.zeros(v.shape, bool)
    missing |= v == NODATA
    if nod is not None and np.isfinite(nod):
        missing |= v == nod
    known = np.where(missing, 0, v)
    bad = np.setdiff1d(np.unique(known), [0, FLOODED, STILL_WATER])
    if len(bad):
        raise InputError(
            _(
                "flood: values other than 0, 1, 2 and no data: {bad} (give the flood extent of "
                "eo_drr.flood or a 1/0 mask)"
            ).format(bad=bad[:5].tolist())
        )
    return known == FLOODED, missing | (known == STILL_WATER)


def depth(
    flood: Raster,
    dem: Raster,
    *,
    method: str = "fwdet",
    hand: Raster | None = None,
    permanent_water: Raster | None = None,
    exclude: Raster | None = None,
    options: DepthOptions | None = None,
) -> xr.DataArray:
    """Flood water depth (m) from a flood extent and a DEM: float32, NaN off the flood.

    ``flood``: the extent on the output grid: 1 flooded, 0 not, 2 reference water still water
    after the event, 255 (or the raster's no-data, or NaN) not observed, as :func:`eo_drr.flood`
    and the flood job write it (its Dataset works too), or a boolean mask. ``dem``: elevation
    (m). ``method``: ``"fwdet"`` (FwDET v2.0, Cohen et al. 2019, on the DEM) or ``"hand"``
    (the edge level on HAND, after Betterle & Salamon 2024); see
    :mod:`eo_drr.products.depth`. ``hand``: height above nearest drainage (m) for
    ``"hand"``; computed from the DEM on the flood's grid when not given
    (:func:`eo_drr.products.terrain.hand_from_dem`, needs a projected grid).
    ``permanent_water`` and ``exclude``: 1/True where a flood edge is no evidence of the water
    surface (rivers and lakes; e.g. built-up or forest where the map is unsure). ``options``:
    :class:`eo_drr.products.depth.DepthOptions`.

    Inputs are DataArrays (rioxarray-georeferenced), Datasets or file paths; the result keeps
    the flood's CRS and transform, with ``attrs`` ``units`` (m), ``method`` and
    ``edge_cells`` (edge cells used). DEM voids give NaN depth and are no edge evidence.
    Raises :class:`~eo_drr.errors.InputError` for unusable inputs and
    :class:`~eo_drr.errors.NoDataError` for a DEM with no valid pixel or a flood with no
    usable edge.
    """
    if method not in METHODS:
        raise InputError(
            _("method: expected one of {methods}, got {method!r}").format(
                methods=", ".join(METHODS), method=method
            )
        )
    opt = options if options is not None else DepthOptions()
    if not isinstance(opt, DepthOptions):
        raise InputError(
            _("options: expected DepthOptions, got {type}").format(type=type(opt).__name__)
        )
    fl = _raster(flood, "flood", variable="flood")
    flooded, blocked = _flood_masks(fl)
    z = _on_grid(_raster(dem, "dem"), fl, "dem", continuous=True)
    if not np.isfinite(z).any():
        raise NoDataError(_("dem: no valid elevation on the flood's grid"))
    for mask, what in ((permanent_water, "permanent_water"), (exclude, "exclude")):
        if mask is not None:
            m = _on_grid(_raster(mask, what), fl, what, continuous=False)
            blocked |= np.nan_to_num(m.astype(np.float64)) == 1
    surface = z if method == "fwdet" else _hand(hand, z, fl)
    d = flood_depth(flooded, surface, blocked=blocked, options=opt)
    wet = flooded & np.isfinite(surface)
    n_edges = int(edge_cells(wet, (blocked | ~np.isfinite(surface)) & ~wet).sum())
    out = xr.DataArray(
        d,
        coords={k: v for k, v in fl.coords.items() if k in ("y", "x", "spatial_ref")},
        dims=fl.dims,
        name="flood_depth",
    )
    if fl.rio.crs is not None:
        out = out.rio.write_crs(fl.rio.crs).rio.write_transform(fl.rio.transform())
    out = out.rio.write_nodata(np.nan, encoded=False)
    out.attrs.update(units="m", method=method, edge_cells=n_edges)
    return out


def _hand(hand: Raster | None, z: np.ndarray, fl: xr.DataArray) -> np.ndarray:
    """HAND (m) on the flood's grid: the given raster, or computed from the DEM there."""
    if hand is not None:
        return _on_grid(_raster(hand, "hand"), fl, "hand", continuous=True)
    from eo_drr.products.terrain import hand_from_dem

    crs = fl.rio.crs
    if crs is None or not crs.is_projected:
        raise InputError(
            _(
                "hand: not given, and HAND needs a projected (metre) flood grid to be computed "
                "from the DEM; give hand= or reproject"
            )
        )
    tr = fl.rio.transform(recalc=True)
    if abs(abs(tr.a) - abs(tr.e)) > 1e-6 * abs(tr.a):
        raise InputError(
            _("hand: not given, and HAND from the DEM needs square pixels; give hand=")
        )
    return np.asarray(hand_from_dem(z, abs(tr.a)), dtype=np.float64)
