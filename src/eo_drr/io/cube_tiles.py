"""The time cubes of a tiled job's tiles read as one lazy cube.

A tiled water series keeps one cube per tile (``tiles/<tile id>/water_series.zarr``, each
with its own commit point and counts, :mod:`eo_drr.io.zarr_cube`). :func:`open_tiles`
combines them on their coordinates (``xarray.combine_by_coords`` on dask-backed
``open_zarr``: nothing is read until computed) into::

    water        (time, y, x) uint8, 255 (no data) where no tile covers the job grid
    water_count  (y, x) uint16, the committed counts of each tile (0 outside the tiles)
    valid_count  (y, x) uint16

with the job grid's CRS and transform (``.rio.crs``, ``.rio.transform()``), north up. The
tiles must hold the same dates: a tile whose append has not caught up with the others (a
tile that failed, a run killed between tiles) is refused, naming it, until a rerun completes
it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from pyproj import CRS

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.io import zarr_cube

#: where no tile covers the job grid: the no-data code of the class cube (255, as
#: :func:`eo_drr.products.water.s1_water` writes it) and no counted date
FILL = {zarr_cube.VARIABLE: 255, **dict.fromkeys(zarr_cube.COUNTS, 0)}


def _tile(tile: str, path: Path) -> tuple[xr.Dataset, CRS, float]:
    """One tile's committed cube, lazy (dask chunks of the store), its counts' committed slot
    only (``(y, x)``) and no ``spatial_ref``; with its CRS and pixel size (CRS units)."""
    from affine import Affine

    checked = zarr_cube.open_cube(path)  # the format version and the committed counts' slot
    if checked is None:
        raise InputError(
            _(
                "tile {tile}: no time cube at {path} (the tile has not run yet): rerun the job"
            ).format(tile=tile, path=path)
        )
    ref = checked["spatial_ref"].attrs
    res = Affine.from_gdal(*(float(v) for v in str(ref["GeoTransform"]).split())).a
    ds = xr.open_zarr(path, consolidated=True)
    slot = zarr_cube.committed_slot(ds)  # of this opening (an append may have committed since)
    counts = {name: ds[name].isel({zarr_cube.SLOT: slot}, drop=True) for name in zarr_cube.COUNTS}
    lazy = xr.Dataset({zarr_cube.VARIABLE: ds[zarr_cube.VARIABLE], **counts}, attrs=ds.attrs)
    return lazy.drop_vars("spatial_ref", errors="ignore"), CRS.from_wkt(ref["crs_wkt"]), res


def _check_dates(tiles: Mapping[str, xr.Dataset]) -> None:
    """Refuse tiles whose dates differ from the first tile's, naming the tile and the dates."""
    first, ref = next(iter(tiles.items()))
    want = ref["time"].values
    for tile, ds in tiles.items():
        have = ds["time"].values
        if len(have) == len(want) and (have == want).all():
            continue
        missing = sorted(set(want.tolist()) ^ set(have.tolist()))
        shown = ", ".join(str(np.datetime64(t, "ns").astype("datetime64[D]")) for t in missing[:3])
        raise InputError(
            _(
                "tile {tile}: its cube holds {n} dates, tile {first} {m} (differing: {dates}): "
                "the tiles are not at the same date; rerun the job (eo-drr run or eo-drr "
                "monitor) to complete them"
            ).format(tile=tile, n=len(have), first=first, m=len(want), dates=shown)
        )


def open_tiles(cubes: Mapping[str, str | os.PathLike]) -> xr.Dataset:
    """The cubes of ``cubes`` (tile id -> cube path) as one lazy cube (module docstring).
    Raises :class:`InputError` when a tile has no cube, its dates differ from the other
    tiles', or its CRS or pixel size does."""
    from affine import Affine

    if not cubes:
        raise InputError(_("no tile cubes to combine"))
    opened = {tile: _tile(tile, Path(path)) for tile, path in cubes.items()}
    first, (_ds, crs, res) = next(iter(opened.items()))
    for tile, (_ds, c, r) in opened.items():
        if c != crs or not np.isclose(r, res, rtol=0, atol=1e-9):
            raise InputError(
                _(
                    "tile {tile}: its cube is on {crs} at {res} m, tile {first} on {crs0} at "
                    "{res0} m"
                ).format(
                    tile=tile, crs=c.to_string(), res=r, first=first, crs0=crs.to_string(), res0=res
                )
            )
    tiles = {tile: ds for tile, (ds, _c, _r) in opened.items()}
    _check_dates(tiles)
    combined = xr.combine_by_coords(
        list(tiles.values()), fill_value=FILL, join="outer", combine_attrs="drop_conflicts"
    )
    assert isinstance(combined, xr.Dataset)  # combined from datasets
    combined = combined.sortby("y", ascending=False).sortby("x")  # north up
    left = float(combined["x"].values[0]) - res / 2
    top = float(combined["y"].values[0]) + res / 2
    combined = combined.rio.write_crs(crs.to_wkt())
    return combined.rio.write_transform(Affine(res, 0.0, left, 0.0, -res, top))
