"""The products on any rasters: water, flood and new built-up from xarray objects or files.

Inputs are xarray objects (a Dataset with one variable per band, or a DataArray with a
``band`` dimension whose coordinate or ``long_name`` names the bands) or raster file paths.
Outputs are georeferenced xarray objects on the input grid: the CRS and transform are kept
through rioxarray, class rasters are uint8 with their no-data code (255) written as
``_FillValue``. A dask-backed input gives a dask-backed (lazy) result. :func:`water` runs
chunk by chunk (speckle filter through ``map_overlap``, the scene threshold from histogram
passes when it is called, region growing as connected components across chunks:
:mod:`eo_drr.products.water_dask`), so its memory is bounded by the chunks; :func:`flood`
too (the pre-event median, both water maps, change detection, exclusions and the minimum
mapping unit: :mod:`eo_drr.products.flood_dask`), and :func:`growth` (change features and
the model through ``map_overlap``, scene statistics from exact histogram passes, the minimum
mapping unit across chunks: :mod:`eo_drr.products.growth_dask`; Level-1C cloud masks are
computed whole, s2cloudless not being chunk-local).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

Raster = xr.DataArray | xr.Dataset | str | Path


def _open(path: Path, what: str) -> xr.DataArray:
    if not path.is_file():
        raise InputError(_("{what}: no such file {path}").format(what=what, path=path))
    try:
        da = rioxarray.open_rasterio(path, masked=True)
    except Exception as exc:  # rasterio raises several types for unreadable files
        raise InputError(
            _("{what}: {path} is not a readable raster ({exc})").format(
                what=what, path=path, exc=exc
            )
        ) from None
    if not isinstance(da, xr.DataArray):
        raise InputError(
            _("{what}: {path} holds several subdatasets; give one raster").format(
                what=what, path=path
            )
        )
    import rasterio

    from eo_drr.load.guard import check_georef, check_read_size

    with rasterio.open(path) as src:
        check_read_size(src, path, what)
        check_georef(src, path, what)
    return da


def _bands(obj: Raster, what: str) -> dict[str, xr.DataArray]:
    """``{BAND NAME (upper case): 2-D DataArray}`` of ``obj``."""
    if isinstance(obj, (str, Path)):
        obj = _open(Path(obj), what)
    if isinstance(obj, xr.Dataset):
        return {str(k).upper(): v for k, v in obj.data_vars.items()}
    if not isinstance(obj, xr.DataArray):
        raise InputError(
            _("{what}: expected an xarray DataArray or Dataset or a file path, got {type}").format(
                what=what, type=type(obj).__name__
            )
        )
    if obj.ndim == 2:
        name = obj.name
        if obj.chunks is not None and name == getattr(obj.data, "name", None):
            name = None  # xarray names a DataArray after its dask array's generated key
        return {str(name or "").upper(): obj}
    if obj.ndim != 3 or "band" not in obj.dims:
        raise InputError(
            _("{what}: expected dims (band, y, x) or (y, x), got {dims}").format(
                what=what, dims=obj.dims
            )
        )
    names = obj.attrs.get("long_name")
    if isinstance(names, str):
        names = (names,)
    if not names or len(names) != obj.sizes["band"]:
        coord = obj["band"].values
        names = [str(v) for v in coord] if coord.dtype.kind in "US" else None
    if not names:
        raise InputError(
            _("{what}: the bands are not named (set the band coordinate or long_name)").format(
                what=what
            )
        )
    return {str(n).upper(): obj.isel(band=i, drop=True) for i, n in enumerate(names)}


def _pick(bands: dict[str, xr.DataArray], name: str, what: str) -> xr.DataArray:
    """Band ``name`` (a single unnamed band counts as VV), or an error naming the bands."""
    if name in bands:
        return bands[name]
    if len(bands) == 1 and name == "VV" and "" in bands:
        return bands[""]
    raise InputError(
        _("{what}: no {name} band (bands: {bands})").format(
            what=what, name=name, bands=", ".join(b or _("(unnamed)") for b in bands)
        )
    )


def _georef(values: Any, like: xr.DataArray, name: str, nodata: float | int | None) -> xr.DataArray:
    out = xr.DataArray(
        values,
        coords={k: v for k, v in like.coords.items() if k in ("y", "x", "spatial_ref")},
        dims=("y", "x"),
        name=name,
    )
    if like.rio.crs is not None:
        out = out.rio.write_crs(like.rio.crs).rio.write_transform(like.rio.transform())
    if nodata is not None:
        out = out.rio.write_nodata(nodata, encoded=False)
    return out


def _lazy(
    fn: Callable[..., np.ndarray], like: xr.DataArray, dtype: Any, *arrays: xr.DataArray | None
) -> Any:
    """``fn(*numpy arrays)`` as one dask task when any input is dask-backed, else now."""
    if not any(a is not None and a.chunks is not None for a in arrays):
        return fn(*[None if a is None else np.asarray(a.values) for a in arrays])
    import dask
    import dask.array as da

    task = dask.delayed(fn)(*[None if a is None else a.data for a in arrays])
    return da.from_delayed(task, shape=like.shape, dtype=dtype)


def water(s1: Raster, *, units: str = "db", **params: Any) -> xr.DataArray:
    """Open water from one Sentinel-1 image: uint8 1 water, 0 not, 255 no data.

    ``s1``: VV (and VH when present, which then decides) in ``units`` ``"db"`` or
    ``"linear"`` (power). ``params``: fields of :class:`eo_drr.products.water_settings.WaterParams`
    (``speckle=``, ``speckle_window=``, ...); default: the product's. The result's ``attrs``
    carry ``threshold_db`` and ``polarisation``; an eager result also ``quality_warnings``
    (a lazy one ``input_notes``: the quality flags need the finished map). A dask-backed
    ``s1`` gives a lazy result computed chunk by chunk (module docstring)."""
    from eo_drr.products.water import s1_water

    b = _bands(s1, "s1")
    vv, vh = _pick(b, "VV", "s1"), b.get("VH")
    if vv.chunks is not None:
        return _water_dask(vv, vh, units, params)
    info: dict[str, Any] = {}

    def run(vv_np: np.ndarray, vh_np: np.ndarray | None) -> np.ndarray:
        r = s1_water(vv_np, vh_np, units=units, **params)
        info.update(
            threshold_db=r.threshold.threshold_db,
            polarisation=r.threshold.polarisation,
            quality_warnings=list(r.quality["warnings"]),
        )
        return r.water

    out = _georef(_lazy(run, vv, np.uint8, vv, vh), vv, "water", 255)
    out.attrs.update(info)
    return out


def _water_dask(
    vv: xr.DataArray, vh: xr.DataArray | None, units: str, params: dict[str, Any]
) -> xr.DataArray:
    """:func:`water` of a dask-backed VV (and VH): lazy, chunk by chunk."""
    import dask.array as da

    from eo_drr.products.water_dask import s1_water_dask

    vh_data = None
    if vh is not None:
        vh_data = vh.data if vh.chunks is not None else da.from_array(np.asarray(vh.values))
        vh_data = vh_data.rechunk(vv.data.chunks)
    lazy, t, notes = s1_water_dask(vv.data, vh_data, units=units, **params)
    out = _georef(lazy, vv, "water", 255)
    out.attrs.update(
        threshold_db=t.threshold_db, polarisation=t.polarisation, input_notes=list(notes)
    )
    return out


def _linear(a: xr.DataArray, units: str, what: str = "s1") -> xr.DataArray:
    """``a`` in linear power after the unit checks (of a regular sample when dask-backed)."""
    from eo_drr.load.s1_checks import check_backscatter
    from eo_drr.products.water_dask import sample

    if units not in ("db", "linear"):
        raise InputError(_("units: use 'db' or 'linear', not {units!r}").format(units=units))
    a = a.drop_vars("spatial_ref", errors="ignore")
    values = sample(a.data) if a.chunks is not None else np.asarray(a.values)
    check_backscatter(values, units=units, vv_name=what, units_option="units")
    return 10 ** (a / 10) if units == "db" else a


def flood(
    pre: Raster | Sequence[Raster],
    post: Raster,
    *,
    units: str = "db",
    hand: xr.DataArray | None = None,
    **options: Any,
) -> xr.Dataset:
    """Flood extent between pre-event image(s) and a post-event image (Sentinel-1, VV and
    optionally VH, in ``units``), as ``eo-drr flood`` and the flood job compute it.

    Returns the Dataset of :func:`eo_drr.products.flood.flood_extent` (``flood``: 0 not
    flooded, 1 flood, 2 reference water still water after the event, 255 no data; and its
    other layers) on the post-event grid, with ``quality_warnings`` in ``attrs``. ``hand``:
    height above nearest drainage (m) on the same grid. ``options``: further keywords of
    ``flood_extent`` (e.g. ``hand_max_m``, ``min_mapping_unit_px``, ``slope=``). A
    dask-backed ``post`` or ``pre`` gives a lazy Dataset computed chunk by chunk
    (:func:`eo_drr.products.flood_dask.flood_extent_dask`; ancillary layers, numpy or dask,
    are read lazily too), with ``input_notes`` in ``attrs`` instead of ``quality_warnings``
    (the quality flags need the finished maps)."""
    from eo_drr.products.flood import flood_extent
    from eo_drr.products.flood_dask import flood_extent_dask

    pres: list[Raster] = list(pre) if isinstance(pre, (list, tuple)) else [pre]  # type: ignore[list-item]
    if not pres:
        raise InputError(_("pre: give at least one pre-event image"))
    pb = [_bands(p, f"pre[{i}]") for i, p in enumerate(pres)]
    qb = _bands(post, "post")
    post_vv, post_vh = _pick(qb, "VV", "post"), qb.get("VH")
    pre_vv = [_pick(b, "VV", f"pre[{i}]") for i, b in enumerate(pb)]
    for i, a in enumerate(pre_vv):
        if a.shape != post_vv.shape:
            raise InputError(
                _(
                    "pre[{i}]: {shape} px, the post-event image {shape2}: put them on one grid"
                ).format(i=i, shape=a.shape, shape2=post_vv.shape)
            )
    pre_vh = [b.get("VH") for b in pb]
    use_vh = post_vh is not None and all(v is not None for v in pre_vh)
    lazy = any(a.chunks is not None for a in [post_vv, *pre_vv])
    ds, thresholds = (flood_extent_dask if lazy else flood_extent)(
        xr.concat([_linear(a, units, f"pre[{i}]") for i, a in enumerate(pre_vv)], dim="time"),
        _linear(post_vv, units, "post"),
        pre_vh=xr.concat([_linear(v, units) for v in pre_vh if v is not None], dim="time")
        if use_vh
        else None,
        post_vh=_linear(post_vh, units) if use_vh and post_vh is not None else None,
        hand=hand,
        **options,
    )
    if post_vv.rio.crs is not None:
        ds = ds.rio.write_crs(post_vv.rio.crs).rio.write_transform(post_vv.rio.transform())
    ds.attrs["input_notes" if lazy else "quality_warnings"] = list(thresholds.warnings())
    return ds


def _s2(
    obj: Raster, what: str, level: str | None
) -> tuple[dict[str, np.ndarray], str, xr.DataArray]:
    """(bands by ESA name as float32 numpy reflectance 0-1, level, template DataArray)."""
    from eo_drr.load.s2_file import read_s2_file

    if isinstance(obj, (str, Path)):
        img = read_s2_file(Path(obj), option=what, level=level)
        return img.bands, str(img.level), _open(Path(obj), what).isel(band=0, drop=True)
    b = _bands(obj, what)
    lvl = level or (
        obj.attrs.get("PROCESSING_LEVEL") if isinstance(obj, (xr.DataArray, xr.Dataset)) else None
    )
    if lvl is None or str(lvl).upper() not in ("L1C", "L2A"):
        raise InputError(
            _(
                "{what}: say the processing level (level='L1C' or 'L2A'; or attrs PROCESSING_LEVEL)"
            ).format(what=what)
        )
    from eo_drr.products.urban_change import BANDS

    missing = [n for n in BANDS if n not in b]
    if missing:
        raise InputError(
            _("{what}: no band {missing} (bands: {bands})").format(
                what=what, missing=", ".join(missing), bands=", ".join(sorted(b))
            )
        )
    like = next(iter(b.values()))
    return {k: np.asarray(v.values, dtype=np.float32) for k, v in b.items()}, str(lvl).upper(), like


def growth(
    before: Raster,
    after: Raster,
    *,
    s1_before: Raster | None = None,
    s1_after: Raster | None = None,
    level: str | None = None,
    min_mapping_unit_px: int | None = None,
) -> xr.DataArray:
    """New built-up between two Sentinel-2 images: uint8 1 new built-up, 0 not, 255 no data
    (cloud, shadow or missing), on the grid of ``before``; the model ``eo-drr growth`` runs.

    xarray inputs hold reflectance (0-1) by ESA band name (B02, B03, B04, B08, B11, B12;
    SCL for Level-2A cloud masking) on one grid; files are read as ``eo-drr growth`` reads
    them (DN / 10000). ``level``: "L1C" or "L2A" (files: their PROCESSING_LEVEL tag).
    ``s1_before`` / ``s1_after``: Sentinel-1 VV in dB on the same grid, both or neither.
    ``attrs``: ``probability_threshold``, ``sentinel1``, ``cloud_share`` (before, after).
    Dask-backed xarray inputs give a lazy result computed chunk by chunk
    (:func:`eo_drr.products.growth_dask.new_builtup_dask`; the cloud shares and scene
    statistics are computed now); cloud masks other than the Level-2A SCL classes
    (s2cloudless at 60 m for Level-1C, not chunk-local; the spectral tests) are then
    computed eagerly, over the whole scene."""
    from eo_drr.products.growth_pair import PairImage, new_builtup

    if (s1_before is None) != (s1_after is None):
        raise InputError(_("s1_before / s1_after: give both, or neither"))
    inputs = ((before, "before"), (after, "after"))
    if any(
        not isinstance(r, (str, Path)) and any(v.chunks is not None for v in _bands(r, n).values())
        for r, n in inputs
    ):
        import dask.array as dsk

        from eo_drr.products.growth_dask import new_builtup_dask

        def lazy(v: xr.DataArray) -> dsk.Array:
            return (v.data if v.chunks is not None else dsk.from_array(v.values)).astype(np.float32)

        images = []
        for (src, n), vr in zip(inputs, (s1_before, s1_after), strict=True):
            vv_n = f"s1_{n}"
            vv_d = None if vr is None else lazy(_pick(_bands(vr, vv_n), "VV", vv_n))
            if isinstance(src, (str, Path)):  # a file beside a dask input: read now
                read, lvl, _template = _s2(src, n, level)
                images.append(PairImage(read, lvl, n, vv_d))  # type: ignore[arg-type]
            else:
                named = _bands(src, n)
                corner = {d: slice(0, 1) for d in next(iter(named.values())).dims}
                _head, lvl, _template = _s2(
                    src.isel(corner), n, level
                )  # checks the level and bands only
                bands = {k: lazy(v) for k, v in named.items()}
                images.append(PairImage(bands, lvl, n, vv_d))  # type: ignore[arg-type]
        like = next(iter(_bands(before, "before").values()))
        if images[1].bands["B04"].shape != like.shape:
            raise InputError(
                _("after: {shape} px, before {shape2}: put them on one grid").format(
                    shape=images[1].bands["B04"].shape, shape2=like.shape
                )
            )
        lz = new_builtup_dask(images[0], images[1], min_mapping_unit_px=min_mapping_unit_px)
        out = _georef(lz.growth, like, "growth", 255)
        out.attrs.update(
            probability_threshold=lz.threshold,
            sentinel1=lz.with_s1,
            cloud_share=list(lz.cloud_share),
        )
        return out
    b, lb, like = _s2(before, "before", level)
    a, la, like_a = _s2(after, "after", level)
    if next(iter(a.values())).shape != next(iter(b.values())).shape:
        raise InputError(
            _(
                "after: {shape} px, before {shape2}: put them on one grid (e.g. "
                "rio.reproject_match)"
            ).format(shape=like_a.shape, shape2=like.shape)
        )
    vv = [
        None if r is None else np.asarray(_pick(_bands(r, n), "VV", n).values, dtype=np.float32)
        for r, n in ((s1_before, "s1_before"), (s1_after, "s1_after"))
    ]
    r = new_builtup(
        PairImage(b, lb, "before", vv[0]),
        PairImage(a, la, "after", vv[1]),
        min_mapping_unit_px=min_mapping_unit_px,
    )
    out = _georef(r.growth, like, "growth", 255)
    out.attrs.update(
        probability_threshold=r.threshold, sentinel1=r.with_s1, cloud_share=list(r.cloud_share)
    )
    return out
