"""A time cube of single-date class rasters in a Zarr store, appended to without losing it.

Layout (Zarr format 2, consolidated metadata in ``.zmetadata``)::

    <name>.zarr/
        water       (time, y, x) uint8 class codes, chunks (32, 256, 256): a pixel's whole
                    series is read from one chunk per 32 dates
        time        (time) int64 seconds since 1970-01-01 (decoded by xarray to datetime64)
        y, x        pixel-centre coordinates (CRS units)
        spatial_ref the CRS (WKT) and GeoTransform, CF ``grid_mapping`` (rioxarray)

``xarray.open_zarr(path)`` gives the cube with ``.rio.crs`` and ``.rio.transform()``.

Atomic semantics: a new cube is written into a hidden temporary folder beside the target and
renamed into place. An append writes the new slices first and the consolidated metadata last:
``.zmetadata`` (one file, replaced atomically) is the commit point. A reader opens the cube
through it, so an append killed half way leaves the cube as it was before (the chunks it
rewrote hold the same values for the dates already committed), and the next append first
cuts the arrays back to the committed length (:func:`append_slices`).

The cube's root attributes carry :data:`FORMAT` and :data:`VERSION`; a store written by
another format version is refused with an :class:`~eo_drr.errors.InputError`.
"""

from __future__ import annotations

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
from eo_drr.io.atomic import is_stale_temp

#: what the root attribute ``eo_drr_cube`` says: the layout above, and its version
FORMAT = "eo-drr-class-cube"
VERSION = 1
#: chunking: all dates of 32 in one chunk (per-pixel time reads), 256 x 256 px tiles
CHUNKS = (32, 256, 256)
TIME_UNITS = "seconds since 1970-01-01"
#: the variable's name in the store
VARIABLE = "water"


def _stamp() -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION}


def open_cube(path: str | os.PathLike) -> xr.Dataset | None:
    """The committed cube at ``path`` (lazy, dask), or None when there is none. Raises
    :class:`InputError` for a store of another format version and
    :class:`CorruptInputError` for one that cannot be read."""
    import zarr

    path = Path(path)
    if not path.exists():
        return None
    try:
        ds = xr.open_zarr(path, consolidated=True)
    except (OSError, ValueError, KeyError, zarr.errors.BaseZarrError) as exc:
        raise CorruptInputError(
            f"{path}: not a readable Zarr time cube ({type(exc).__name__}: {exc}); move it "
            "aside to start the series again"
        ) from None
    stamp = ds.attrs.get("eo_drr_cube")
    if not isinstance(stamp, Mapping) or stamp.get("format") != FORMAT:
        raise InputError(f"{path}: a Zarr store that eo-drr did not write as a time cube")
    if stamp.get("version") != VERSION:
        raise InputError(
            f"{path}: written by another eo-drr version (cube format version "
            f"{stamp.get('version')!r}, this one reads version {VERSION}); move it aside or "
            "delete it to map the series again"
        )
    if VARIABLE not in ds or ds[VARIABLE].dims != ("time", "y", "x"):
        raise CorruptInputError(f"{path}: the cube has no {VARIABLE}(time, y, x) variable")
    return ds


def check_grid(
    ds: xr.Dataset, path: Path, *, crs: str, transform: Any, shape: tuple[int, int]
) -> None:
    """Refuse (:class:`InputError`) a cube whose grid differs from the job's."""
    from pyproj import CRS

    same_crs = ds.rio.crs is not None and CRS.from_user_input(ds.rio.crs) == CRS(crs)
    have = tuple(ds[VARIABLE].shape[1:])
    tr = ds.rio.transform()
    same_tr = np.allclose(tuple(tr)[:6], tuple(transform)[:6], rtol=0, atol=1e-6)
    if not (same_crs and have == tuple(shape) and same_tr):
        raise InputError(
            f"{path}: the cube's grid ({ds.rio.crs}, {have[1]} x {have[0]} px, origin "
            f"{tr.c:.2f}, {tr.f:.2f}) differs from the job's ({shape[1]} x {shape[0]} px, "
            f"origin {transform.c:.2f}, {transform.f:.2f}): use another output folder"
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
    da = xr.DataArray(
        values,
        dims=("time", "y", "x"),
        coords={"time": np.asarray(times, dtype="datetime64[ns]"), "y": y, "x": x},
        attrs=dict(var_attrs),
    )
    da = da.rio.write_crs(crs).rio.write_transform(transform)
    ds = da.to_dataset(name=VARIABLE)
    ds[VARIABLE].encoding.update(
        {"chunks": CHUNKS[:1] + (min(CHUNKS[1], h), min(CHUNKS[2], w)), "_FillValue": None}
    )
    ds[VARIABLE].encoding["coordinates"] = "spatial_ref"  # read back as a coordinate
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
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        ds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _commit(path: Path) -> None:
    """The commit point of an append: the consolidated metadata, one atomic file write."""
    import zarr

    zarr.consolidate_metadata(str(path))


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
    ``path``, creating it (with root ``attrs`` and variable ``var_attrs``) when missing.
    ``crs`` (WKT or EPSG) and ``transform`` (affine, CRS units) must match an existing
    cube's grid. Returns the cube's number of dates afterwards."""
    import zarr

    path = Path(path)
    values = np.asarray(values)
    if values.ndim != 3 or values.shape[0] != len(times):
        raise InputError(f"{path}: expected {len(times)} slices (k, y, x), got {values.shape}")
    ds = open_cube(path)
    if ds is None:
        new = _dataset(values, times, crs=crs, transform=transform, var_attrs=var_attrs or {})
        _create(path, new, attrs or {})
        return len(times)
    check_grid(ds, path, crs=crs, transform=transform, shape=values.shape[1:])
    n = ds.sizes["time"]
    units = ds["time"].encoding.get("units")
    if units != TIME_UNITS:
        raise CorruptInputError(f"{path}: time units {units!r}, expected {TIME_UNITS!r}")
    ds.close()
    seconds = (
        np.asarray(times, dtype="datetime64[s]").astype(np.int64)
        - np.datetime64("1970-01-01T00:00:00", "s").astype(np.int64)
    ).astype(np.int64)
    try:
        group = zarr.open_group(str(path), mode="r+", use_consolidated=False)
        water, time = group[VARIABLE], group["time"]
        if not (isinstance(water, zarr.Array) and isinstance(time, zarr.Array)):
            raise CorruptInputError(f"{path}: {VARIABLE} and time must be arrays")
        for arr in (water, time):  # cut back what a killed append left past the commit
            if arr.shape[0] != n:
                arr.resize((n, *arr.shape[1:]))
        k = values.shape[0]
        water.resize((n + k, *water.shape[1:]))
        water[n : n + k] = values
        time.resize((n + k,))
        time[n : n + k] = seconds
        _commit(path)
    except OSError as exc:
        raise OutputError(
            f"cannot append to {path}: {exc.strerror or exc} (the cube keeps its "
            f"{n} committed dates; a rerun completes the append)"
        ) from None
    return n + k
