"""A job's area cut into tiles on a fixed grid, aligned to the output grid.

The grid: square tiles of ``tile_size_px`` output pixels (``tile_size_px x resolution``
metres) in the job's output CRS (the UTM zone with ``grid.crs: auto``), anchored at the CRS
origin. Tile ``x{ix}_y{iy}`` covers easting ``[ix*S, (ix+1)*S)`` and northing
``[iy*S, (iy+1)*S)`` with ``S = tile_size_px * resolution``; so the same place always has the
same tile id, whatever the AOI of the job, and a tile's pixels are exactly the job grid's
pixels (the job grid's edges are multiples of the resolution). Tiles at the border of the
job's grid are clipped to it; only tiles that overlap the AOI (with a non-zero area) are kept.
A border tile clipped to a sliver narrower than :data:`MIN_SIDE_PX` (a 4 px strip where the
job grid ends just past a tile edge) joins its inner neighbour, which keeps its id: a sliver
is too small for the products' windows and scene statistics (the 7 x 7 speckle filter refuses
it), and the neighbour grows by less than ``MIN_SIDE_PX`` per side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from odc.geo.geobox import GeoBox
from odc.geo.geom import Geometry

from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _

#: the folder of a tiled job's tiles inside its output folder: ``tiles/<tile id>/``
TILES_DIR = "tiles"
#: a border tile narrower than this (px, or than the tile size when smaller) joins its
#: neighbour (module notes)
MIN_SIDE_PX = 32


@dataclass(frozen=True)
class Tile:
    """One tile: its grid indices and its part of the job's output grid."""

    ix: int
    iy: int
    geobox: GeoBox

    @property
    def id(self) -> str:
        return f"x{self.ix}_y{self.iy}"

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """left, bottom, right, top in the job's CRS (metres)."""
        b = self.geobox.boundingbox
        return (b.left, b.bottom, b.right, b.top)

    def search_bbox(self) -> tuple[float, float, float, float]:
        """West, south, east, north (degrees) to search the catalogue for this tile: the tile
        inset by half a pixel, so that a tile does not pick up items that only touch its edge."""
        res = abs(self.geobox.resolution.x)
        left, bottom, right, top = self.bounds
        inset = res / 2
        g = Geometry(
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        (left + inset, bottom + inset),
                        (right - inset, bottom + inset),
                        (right - inset, top - inset),
                        (left + inset, top - inset),
                        (left + inset, bottom + inset),
                    ]
                ],
            },
            crs=self.geobox.crs,
        ).to_crs("EPSG:4326")
        b = g.boundingbox
        return (b.left, b.bottom, b.right, b.top)

    def footprint(self) -> Geometry:
        """The tile's area as a polygon in EPSG:4326."""
        return self.geobox.extent.to_crs("EPSG:4326")


def tile_grid(geobox: GeoBox, tile_size_px: int, aoi: Geometry | None = None) -> list[Tile]:
    """The tiles of ``geobox`` (a north-up job grid) on the fixed grid of ``tile_size_px``
    pixels, keeping those that overlap ``aoi`` (any CRS); sorted north to south, west to east."""
    if tile_size_px < 1:
        raise ConfigError(
            _("tiling.tile_size_px: must be >= 1 (got {tile_size_px})").format(
                tile_size_px=tile_size_px
            )
        )
    a = geobox.affine
    if a.b != 0 or a.d != 0 or a.a <= 0 or a.e >= 0:
        raise ConfigError(_("grid: tiling needs a north-up output grid without rotation"))
    res = a.a
    if abs(abs(a.e) - res) > 1e-9 * res:
        raise ConfigError(_("grid: tiling needs square pixels"))
    ny, nx = geobox.shape.y, geobox.shape.x
    left, top = a.c, a.f
    size = tile_size_px * res
    aoi_crs = aoi.to_crs(geobox.crs) if aoi is not None and geobox.crs is not None else None

    def col(x: float) -> int:
        return int(round((x - left) / res))

    def row(y: float) -> int:
        return int(round((top - y) / res))

    right, bottom = left + nx * res, top - ny * res
    min_px = min(MIN_SIDE_PX, tile_size_px)
    cols = _spans(
        [
            (ix, max(col(ix * size), 0), min(col((ix + 1) * size), nx))
            for ix in range(math.floor(left / size + 1e-9), math.ceil(right / size - 1e-9))
        ],
        min_px,
    )
    rows = _spans(
        [
            (iy, max(row((iy + 1) * size), 0), min(row(iy * size), ny))
            for iy in range(math.floor(bottom / size + 1e-9), math.ceil(top / size - 1e-9))
        ],
        min_px,
    )
    tiles = []
    for iy, r0, r1 in rows:
        for ix, c0, c1 in cols:
            gb = geobox[r0:r1, c0:c1]
            if aoi_crs is not None and aoi_crs.intersection(gb.extent).area <= 0:
                continue
            tiles.append(Tile(ix, iy, gb))
    tiles.sort(key=lambda t: (-t.iy, t.ix))
    return tiles


def _spans(spans: list[tuple[int, int, int]], min_px: int) -> list[tuple[int, int, int]]:
    """``(index, first px, end px)`` of the tiles along one axis, empty ones dropped and a
    border one narrower than ``min_px`` merged into its neighbour (which keeps its index)."""
    out = sorted((s for s in spans if s[2] > s[1]), key=lambda s: s[1])
    if len(out) > 1 and out[0][2] - out[0][1] < min_px:
        first, second = out[0], out[1]
        out[:2] = [(second[0], first[1], second[2])]
    if len(out) > 1 and out[-1][2] - out[-1][1] < min_px:
        before, last = out[-2], out[-1]
        out[-2:] = [(before[0], before[1], last[2])]
    return out
