"""A time cube of single-date class rasters in a Zarr store, with running per-pixel counts of
its classes, appended to without losing it.

Layout (Zarr format 2, consolidated metadata in ``.zmetadata``)::

    <name>.zarr/
        water          (time, y, x) uint8 class codes, chunks (1, 256, 256): an append writes
                       its own chunks only, whatever the length of the series
        water_count    (counted_dates, y, x) uint16: per pixel, the dates of code 1 (water)
        valid_count    (counted_dates, y, x) uint16: per pixel, the dates of code 0 or 1
                       (valid); both chunked (1, 1024, 1024), one slot per chunk
        counted_dates  (counted_dates) int64, 2 slots: how many dates (from the first) each
                       slot of the counts covers. The slot whose value is the cube's number of
                       dates holds the counts of the committed cube (:func:`counts`); the
                       other holds the previous commit's, or an append's killed before its
                       commit
        time           (time) int64 seconds since 1970-01-01 (decoded by xarray to datetime64)
        y, x           pixel-centre coordinates (CRS units)
        spatial_ref    the CRS (WKT) and GeoTransform, CF ``grid_mapping`` (rioxarray)

``xarray.open_zarr(path)`` gives the cube with ``.rio.crs`` and ``.rio.transform()``; the
counts of its committed dates are ``ds["water_count"].sel(counted_dates=ds.sizes["time"])``.
The counted codes (:data:`COUNTS`) are those of :func:`eo_drr.products.water.s1_water`, so
a frequency needs the two count rasters only, never the dates (:func:`counts`).

Atomic semantics: a new cube is written into a hidden temporary folder beside the target and
renamed into place. An append writes the new slices, then the counts of the new length into
the slot that is not the committed one, and the consolidated metadata last: ``.zmetadata``
(one file, replaced atomically) is the commit point. A reader opens the cube through it and
takes the counts of the slot matching the committed length, so an append killed half way
leaves the cube, its counts included, as it was before (no chunk of a committed date or of the
committed slot is written). The next append opens the arrays at their committed length (from
``.zmetadata``) and grows them from there, overwriting what the killed one wrote past it and
its uncommitted slot (:func:`append_slices`).

The cube's root attributes carry :data:`FORMAT` and :data:`VERSION`; a store written by
another format version is refused with an :class:`~eo_drr.errors.InputError`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from eo_drr.errors import CorruptInputError, InputError, OutputError
from eo_drr.i18n import gettext as _
from eo_drr.io.atomic import is_stale_temp

#: what the root attribute ``eo_drr_cube`` says: the layout above, and its version
FORMAT = "eo-drr-class-cube"
VERSION = 2
#: chunking: one date (an append writes new chunks only, never a committed one), 256 x 256 px
CHUNKS = (1, 256, 256)
#: the counts' chunks: one slot, 1024 x 1024 px (an append reads one slot and writes the other)
COUNT_CHUNKS = (1, 1024, 1024)
TIME_UNITS = "seconds since 1970-01-01"
#: the variable's name in the store
VARIABLE = "water"
#: the running counts: variable -> the class codes it counts per pixel (1 water, 0 not water)
COUNTS = {"water_count": (1,), "valid_count": (0, 1)}
#: the dimension (and coordinate) of the counts' two slots
SLOT = "counted_dates"
#: most dates a cube holds (uint16 counts)
MAX_DATES = int(np.iinfo(np.uint16).max)


def _stamp() -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION}


def _unreadable(path: Path, exc: Exception) -> CorruptInputError:
    return CorruptInputError(
        _(
            "{path}: not a readable Zarr time cube ({error}); move it aside to start the "
            "series again"
        ).format(path=path, error=f"{type(exc).__name__}: {exc}")
    )


def _check_stamp(attrs: Mapping[str, Any], path: Path) -> None:
    """Refuse a store that is not a cube of this :data:`VERSION` (root ``attrs``)."""
    stamp = attrs.get("eo_drr_cube")
    if not isinstance(stamp, Mapping) or stamp.get("format") != FORMAT:
        raise InputError(
            _("{path}: a Zarr store that eo-drr did not write as a time cube").format(path=path)
        )
    if stamp.get("version") != VERSION:
        raise InputError(
            _(
                "{path}: written by another eo-drr version (cube format version {found}, this "
                "one reads version {version}); move it aside or delete it to map the series "
                "again"
            ).format(path=path, found=repr(stamp.get("version")), version=VERSION)
        )


def open_cube(path: str | os.PathLike) -> xr.Dataset | None:
    """The committed cube at ``path`` (lazy: a variable is read from the store when indexed,
    without dask; no indexes), or None when there is none. Raises :class:`InputError` for a
    store of another format version and :class:`CorruptInputError` for one that cannot be
    read."""
    import zarr

    path = Path(path)
    if not path.exists():
        return None
    try:
        ds = xr.open_zarr(path, consolidated=True, chunks=None, create_default_indexes=False)
    except (OSError, ValueError, KeyError, zarr.errors.BaseZarrError) as exc:
        raise _unreadable(path, exc) from None
    _check_stamp(ds.attrs, path)
    if VARIABLE not in ds or ds[VARIABLE].dims != ("time", "y", "x"):
        raise CorruptInputError(
            _("{path}: the cube has no {name}(time, y, x) variable").format(
                path=path, name=VARIABLE
            )
        )
    if any(name not in ds or ds[name].dims != (SLOT, "y", "x") for name in COUNTS):
        raise CorruptInputError(
            _("{path}: the cube lacks its counts {names}").format(
                path=path, names=", ".join(COUNTS)
            )
        )
    _slot(ds[SLOT].values, ds.sizes["time"], path)
    return ds


def _slot(counted: np.ndarray, n_dates: int, path: Path) -> int:
    """The index of the counts' slot covering the ``n_dates`` committed dates (``counted``:
    the :data:`SLOT` coordinate's values)."""
    match = np.flatnonzero(np.asarray(counted) == n_dates)
    if len(match) != 1:
        raise CorruptInputError(
            _(
                "{path}: the counts cover {counted} dates, the cube holds {n}: move it aside "
                "to map the series again"
            ).format(path=path, counted=np.asarray(counted).tolist(), n=n_dates)
        )
    return int(match[0])


def committed_slot(ds: xr.Dataset) -> int:
    """The index along :data:`SLOT` of the counts of a cube's committed dates (``ds`` from
    :func:`open_cube` or ``xarray.open_zarr``)."""
    return _slot(ds[SLOT].values, ds.sizes["time"], Path(ds.encoding.get("source", "cube")))


def counts(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """The counts of the committed dates of a cube from :func:`open_cube`: :data:`COUNTS`'
    names -> ``(y, x)`` uint16 numbers of dates."""
    slot = committed_slot(ds)
    return {name: np.asarray(ds[name][slot].values) for name in COUNTS}


def _count(values: np.ndarray, codes: Sequence[int]) -> np.ndarray:
    """Per pixel, the slices of ``values`` (k, y, x uint8) holding one of ``codes`` (uint16)."""
    counted = np.zeros(256, dtype=np.uint16)
    counted[list(codes)] = 1
    return counted[values].sum(axis=0, dtype=np.uint16)


def check_grid(
    ds: xr.Dataset, path: Path, *, crs: str, transform: Any, shape: tuple[int, int]
) -> None:
    """Refuse (:class:`InputError`) a cube (from :func:`open_cube`) whose grid differs from
    the job's: ``crs`` (WKT or EPSG), ``transform`` (affine, CRS units), ``shape`` (y, x px)."""
    have = (ds.sizes["y"], ds.sizes["x"])
    _check_grid(ds["spatial_ref"].attrs, have, path, crs=crs, transform=transform, shape=shape)


def _check_grid(
    ref: Mapping[str, Any],
    have: tuple[int, ...],
    path: Path,
    *,
    crs: str,
    transform: Any,
    shape: tuple[int, int],
) -> None:
    """:func:`check_grid` on the attributes of the cube's ``spatial_ref`` (``crs_wkt``, GDAL
    ``GeoTransform``) and its ``have`` (y, x) shape."""
    from affine import Affine
    from pyproj import CRS

    try:
        wkt = ref["crs_wkt"]
        tr = Affine.from_gdal(*(float(v) for v in str(ref["GeoTransform"]).split()))
    except (KeyError, TypeError, ValueError):
        raise CorruptInputError(
            _("{path}: the cube's spatial_ref has no CRS or transform").format(path=path)
        ) from None
    same_crs = CRS.from_user_input(wkt) == CRS(crs)
    same_tr = np.allclose(tuple(tr)[:6], tuple(transform)[:6], rtol=0, atol=1e-6)
    if not (same_crs and tuple(have) == tuple(shape) and same_tr):
        raise InputError(
            _(
                "{path}: the cube's grid ({crs}, {width} x {height} px, origin {x}, {y}) "
                "differs from the job's ({job_width} x {job_height} px, origin {job_x}, "
                "{job_y}): use another output folder"
            ).format(
                path=path,
                crs=CRS.from_user_input(wkt).to_string(),
                width=have[1],
                height=have[0],
                x=f"{tr.c:.2f}",
                y=f"{tr.f:.2f}",
                job_width=shape[1],
                job_height=shape[0],
                job_x=f"{transform.c:.2f}",
                job_y=f"{transform.f:.2f}",
            )
        )


def _dataset(
    values: np.ndarray,
    times: Sequence[np.datetime64],
    *,
    crs: str,
    transform: Any,
    var_attrs: Mapping[str, Any],
) -> xr.Dataset:
    k, h, w = values.shape
    y = transform.f + transform.e * (np.arange(h) + 0.5)
    x = transform.c + transform.a * (np.arange(w) + 0.5)
    tile = (min(CHUNKS[1], h), min(CHUNKS[2], w))
    dims = ("time", "y", "x")
    ds = xr.Dataset(
        {VARIABLE: (dims, values, dict(var_attrs))},
        coords={
            "time": np.asarray(times, dtype="datetime64[ns]"),
            SLOT: np.array([k, 0], dtype=np.int64),
            "y": y,
            "x": x,
        },
    )
    for name, codes in COUNTS.items():  # slot 0: the k dates; slot 1: none yet
        slots = np.stack([_count(values, codes), np.zeros((h, w), np.uint16)])
        attrs = {"long_name": f"dates of class {list(codes)}", "units": "count"}
        ds[name] = ((SLOT, "y", "x"), slots, attrs)
        ds[name].encoding["chunks"] = (1, min(COUNT_CHUNKS[1], h), min(COUNT_CHUNKS[2], w))
    ds = ds.rio.write_crs(crs).rio.write_transform(transform)
    ds[VARIABLE].encoding["chunks"] = (CHUNKS[0], *tile)
    for name in (VARIABLE, *COUNTS):
        ds[name].encoding.update({"_FillValue": None, "coordinates": "spatial_ref"})
    ds["time"].encoding.update({"units": TIME_UNITS, "dtype": "int64", "chunks": (1024,)})
    return ds


def _create(path: Path, ds: xr.Dataset, attrs: Mapping[str, Any]) -> None:
    """Write a new cube into a hidden temporary folder, then rename it onto ``path``."""
    for stale in path.parent.glob(f".{path.stem}.*.tmp.zarr"):  # left by killed writers
        if is_stale_temp(stale):
            shutil.rmtree(stale, ignore_errors=True)
    ds.attrs.update({**attrs, "eo_drr_cube": _stamp()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(
                prefix=f".{path.stem}.{os.getpid()}-", suffix=".tmp.zarr", dir=path.parent
            )
        )
    except OSError as exc:
        raise OutputError(
            _("cannot write {path}: {why}").format(path=path, why=exc.strerror or exc)
        ) from None
    try:
        ds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _commit(path: Path) -> None:
    """The commit point of an append: the consolidated metadata ``.zmetadata`` (what
    ``zarr.consolidate_metadata`` writes for a Zarr format 2 store), its entries read again
    from the metadata files they copy, replaced in one atomic write. An append adds no array,
    so the entries are those the cube was created with."""
    meta = json.loads((path / ".zmetadata").read_text())
    entries = meta["metadata"]
    for key in entries:
        entries[key] = json.loads((path / key).read_text())
    tmp = path / f".zmetadata.{os.getpid()}.tmp"  # renamed over it: readers see old or new
    try:
        tmp.write_text(json.dumps(meta, indent=4, sort_keys=True))
        os.replace(tmp, path / ".zmetadata")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def append_slices(
    path: str | os.PathLike,
    values: np.ndarray,
    times: Sequence[np.datetime64],
    *,
    crs: str,
    transform: Any,
    attrs: Mapping[str, Any] | None = None,
    var_attrs: Mapping[str, Any] | None = None,
) -> int:
    """Append ``values`` (``(k, y, x)`` uint8, one slice per time in ``times``) to the cube at
    ``path`` and update its counts, creating it (with root ``attrs`` and variable
    ``var_attrs``) when missing. ``crs`` (WKT or EPSG) and ``transform`` (affine, CRS units)
    must match an existing cube's grid. Returns the cube's number of dates afterwards. Costs
    the k slices and the counts, whatever the number of dates already in the cube."""
    path = Path(path)
    values = np.asarray(values)
    if values.ndim != 3 or values.shape[0] != len(times):
        raise InputError(
            _("{path}: expected {n} slices (k, y, x), got {shape}").format(
                path=path, n=len(times), shape=values.shape
            )
        )
    committed = _committed(path)
    if committed is None:
        new = _dataset(values, times, crs=crs, transform=transform, var_attrs=var_attrs or {})
        _create(path, new, attrs or {})
        return len(times)
    arrays, ref, n, slot = committed
    shape = tuple(arrays[VARIABLE].shape[1:])
    _check_grid(ref, shape, path, crs=crs, transform=transform, shape=values.shape[1:])
    if n + len(times) > MAX_DATES:
        raise InputError(_("{path}: a cube holds at most {n} dates").format(path=path, n=MAX_DATES))
    seconds = (
        np.asarray(times, dtype="datetime64[s]").astype(np.int64)
        - np.datetime64("1970-01-01T00:00:00", "s").astype(np.int64)
    ).astype(np.int64)
    try:
        _append(arrays, path, values, seconds, slot)
    except OSError as exc:
        raise OutputError(
            _(
                "cannot append to {path}: {why} (the cube keeps its {n} committed dates; a "
                "rerun completes the append)"
            ).format(path=path, why=exc.strerror or exc, n=n)
        ) from None
    return n + len(times)


def _committed(path: Path) -> tuple[dict[str, Any], dict[str, Any], int, int] | None:
    """The cube at ``path`` opened for an append through its consolidated metadata (no other
    read): its arrays (zarr, at their committed shapes), the attributes of its
    ``spatial_ref``, its number of dates and its counts' slot; None when there is no cube."""
    import zarr

    if not path.exists():
        return None
    try:
        group = zarr.open_group(str(path), mode="r+", use_consolidated=True)
        _check_stamp(group.attrs.asdict(), path)
        found = {name: group[name] for name in (VARIABLE, "time", SLOT, *COUNTS)}
        ref = group["spatial_ref"].attrs.asdict()
    except (OSError, ValueError, KeyError, zarr.errors.BaseZarrError) as exc:
        raise _unreadable(path, exc) from None
    arrays = {name: a for name, a in found.items() if isinstance(a, zarr.Array)}
    if len(arrays) != len(found):
        raise CorruptInputError(
            _("{path}: {names} must be arrays").format(path=path, names=", ".join(found))
        )
    units = arrays["time"].attrs.get("units")
    if units != TIME_UNITS:
        raise CorruptInputError(
            _("{path}: time units {units}, expected {expected}").format(
                path=path, units=repr(units), expected=repr(TIME_UNITS)
            )
        )
    n = arrays["time"].shape[0]
    return arrays, ref, n, _slot(np.asarray(arrays[SLOT][:]), n, path)


def _append(
    arrays: dict[str, Any], path: Path, values: np.ndarray, seconds: np.ndarray, slot: int
) -> None:
    """Write the slices (``seconds`` since 1970) past the committed length of ``arrays``
    (zarr arrays at their committed shapes), their counts into the slot other than the
    committed ``slot``, then commit (module docstring). Growing from the committed length
    drops what a killed append left past it (its chunks are overwritten as the cube grows).
    The writes before the commit touch no committed chunk, so they go out together."""
    from zarr.core.sync import sync

    sync(_write(arrays, values, seconds, slot))
    _commit(path)


async def _write(
    arrays: dict[str, Any], values: np.ndarray, seconds: np.ndarray, slot: int
) -> None:
    """:func:`_append`'s writes, concurrent (zarr's asynchronous arrays)."""
    import asyncio

    a = {name: arr.async_array for name, arr in arrays.items()}
    n, k = a["time"].shape[0], values.shape[0]
    _resized, _resized_time, *before = await asyncio.gather(
        a[VARIABLE].resize((n + k, *a[VARIABLE].shape[1:])),
        a["time"].resize((n + k,)),
        *(a[name].getitem(slot) for name in COUNTS),
    )
    new = slice(n, n + k)
    await asyncio.gather(
        a[VARIABLE].setitem(new, values),
        a["time"].setitem(new, seconds),
        *(
            a[name].setitem(1 - slot, prev + _count(values, codes))
            for (name, codes), prev in zip(COUNTS.items(), before, strict=True)
        ),
        a[SLOT].setitem(1 - slot, n + k),
    )


def cube_time(t: dt.datetime) -> np.datetime64:
    """An acquisition time as the cube stores it (UTC, whole seconds)."""
    return np.datetime64(t.astimezone(dt.timezone.utc).replace(tzinfo=None), "s")
