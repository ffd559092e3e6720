"""Where a water series keeps its time cubes in an output folder, and the whole series read
back as one lazy cube.

A job without tiling keeps one cube, ``<folder>/water_series.zarr``; a tiled job one per
tile, ``<folder>/tiles/<tile id>/water_series.zarr`` (:data:`eo_drr.jobs.tiling.TILES_DIR`),
each with its own commit point and counts (:mod:`eo_drr.io.zarr_cube`). A folder holds one
kind or the other: a job of the other kind is refused, since its frequency would mix two
series.
"""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.errors import ConfigError, InputError
from eo_drr.i18n import gettext as _
from eo_drr.io import cube_tiles
from eo_drr.jobs.tiling import TILES_DIR, Tile, tile_grid


def series_cubes(
    root: Path, name: str, tile_size_px: int | None, geobox: GeoBox, aoi: Geometry
) -> list[tuple[Tile | None, Path]]:
    """The cube(s) of a series job in its output folder ``root``: ``[(None, path)]`` for a job
    without tiling (``tile_size_px`` None), else ``(tile, path)`` for every tile of the job
    grid ``geobox`` over ``aoi`` (:func:`~eo_drr.jobs.tiling.tile_grid`). ``name``: the
    cube's folder name. Raises :class:`ConfigError` when ``root`` holds the other kind."""
    whole = root / name
    if tile_size_px is None:
        found = sorted((root / TILES_DIR).glob(f"*/{name}"))
        if found:
            raise ConfigError(
                _(
                    "{root}: the folder holds a tiled water series ({n} tile cubes under "
                    "{tiles}/): run it with the same tiling: section or --tile-size, or use "
                    "another output folder"
                ).format(root=root, n=len(found), tiles=TILES_DIR)
            )
        return [(None, whole)]
    if whole.exists():
        raise ConfigError(
            _(
                "{path}: the folder holds the water series of a run without tiling: run it "
                "without the tiling: section and --tile-size, or use another output folder"
            ).format(path=whole)
        )
    return [(t, root / TILES_DIR / t.id / name) for t in tile_grid(geobox, tile_size_px, aoi)]


def open_series(root: str | Path, name: str) -> xr.Dataset:
    """The whole series of the output folder ``root`` as one lazy cube (dask; nothing is read
    until computed; :func:`eo_drr.io.cube_tiles.open_tiles`): ``water(time, y, x)`` and the
    committed ``water_count`` and ``valid_count`` ``(y, x)``, with the job grid's CRS and
    transform. The one cube ``name`` of a job without tiling, or the cubes of the tiles of
    a tiled job's last assembled run (named in its ``run.json``); tiles at different dates
    are refused, naming the tile."""
    root = Path(root)
    if (root / name).exists():
        return cube_tiles.open_tiles({name: root / name})
    try:
        manifest = json.loads((root / "run.json").read_text())
        tiles = sorted(manifest["summary"]["tile_fingerprints"])
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(
            _("{root}: no water series here (no {name}, no run.json of a tiled run)").format(
                root=root, name=name
            )
        ) from None
    return cube_tiles.open_tiles({t: root / TILES_DIR / t / name for t in tiles})
