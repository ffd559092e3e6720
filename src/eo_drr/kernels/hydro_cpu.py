"""Hydrological kernels on a DEM grid (numba, CPU): depression filling, D8 flow directions,
flow accumulation and height above nearest drainage (HAND).

- Priority-flood depression filling with an epsilon gradient (Barnes, Lehman & Mulla 2014,
  Computers & Geosciences 62:117-127, Algorithm 3 "priority-flood+epsilon"): every cell then
  has a strictly lower neighbour, so D8 flow never stalls on flats or in pits.
- D8 flow direction (O'Callaghan & Mark 1984): the neighbour of steepest descent (drop over
  distance; diagonals are sqrt(2) cells away). -1 where flow leaves the grid.
- Accumulation and HAND (Rennó et al. 2008, Remote Sens. Environ. 112:3469-3481; Nobre et al.
  2011, J. Hydrol. 404:13-29) visit cells in order of filled elevation, so each cell's
  downstream neighbour is done first: O(n log n) for the sort, O(n) for the rest.

Elevations in metres, NaN nodata; grids are 2-D float64 C-contiguous.
"""

from __future__ import annotations

import heapq

import numba
import numpy as np

from eo_drr.kernels._jit import threaded

DY = np.array([-1, -1, 0, 1, 1, 1, 0, -1], dtype=np.int64)
DX = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
DIST = np.array(
    [
        1.0,
        1.4142135623730951,
        1.0,
        1.4142135623730951,
        1.0,
        1.4142135623730951,
        1.0,
        1.4142135623730951,
    ]
)


@numba.njit(cache=True)
def fill_depressions(dem: np.ndarray, eps: float, out: np.ndarray) -> None:
    """Priority-flood+epsilon into ``out`` (same shape): raises pits/flats so that every
    valid cell drains to the grid edge or to nodata. NaN stays NaN."""
    h, w = dem.shape
    closed = np.zeros((h, w), dtype=np.bool_)
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for y in range(h):
        for x in range(w):
            out[y, x] = dem[y, x]
            if np.isnan(dem[y, x]):
                closed[y, x] = True
                continue
            edge = y == 0 or x == 0 or y == h - 1 or x == w - 1
            if not edge:
                for k in range(8):
                    if np.isnan(dem[y + DY[k], x + DX[k]]):
                        edge = True
                        break
            if edge:
                closed[y, x] = True
                heapq.heappush(heap, (dem[y, x], np.int64(y * w + x)))
    while len(heap) > 0:
        z, idx = heapq.heappop(heap)
        y = idx // w
        x = idx - y * w
        for k in range(8):
            ny = y + DY[k]
            nx = x + DX[k]
            if ny < 0 or nx < 0 or ny >= h or nx >= w or closed[ny, nx]:
                continue
            closed[ny, nx] = True
            nz = out[ny, nx]
            if nz <= z + eps:
                nz = z + eps
                out[ny, nx] = nz
            heapq.heappush(heap, (nz, np.int64(ny * w + nx)))


@threaded(lambda *a: a[-1].shape[0], fastmath=False, error_model="python")
def d8_directions(start: int, stop: int, filled: np.ndarray, out: np.ndarray) -> None:
    """D8 direction index 0-7 (N, NE, E, SE, S, SW, W, NW) of steepest descent; -1 where
    none (edge outlets, nodata)."""
    h, w = filled.shape
    for y in range(start, stop):
        for x in range(w):
            z = filled[y, x]
            best = -1
            best_slope = 0.0
            if not np.isnan(z):
                for k in range(8):
                    ny = y + DY[k]
                    nx = x + DX[k]
                    if ny < 0 or nx < 0 or ny >= h or nx >= w:
                        continue
                    nz = filled[ny, nx]
                    if np.isnan(nz):
                        continue
                    s = (z - nz) / DIST[k]
                    if s > best_slope:
                        best_slope = s
                        best = k
            out[y, x] = best


@numba.njit(cache=True)
def accumulate_and_hand(
    dem: np.ndarray,
    order: np.ndarray,
    dirs: np.ndarray,
    channel_cells: float,
    acc: np.ndarray,
    hand: np.ndarray,
) -> None:
    """Flow accumulation (cells, including itself) and HAND (m) in one pass each.

    ``order``: flat indices sorted by *descending* filled elevation. A cell is drainage when
    its accumulation reaches ``channel_cells``. HAND = elevation - elevation of the drainage
    cell the flow path reaches first; NaN where the path leaves the grid first.
    """
    h, w = dem.shape
    n = order.size
    for i in range(n):
        acc.flat[order[i]] = 0.0 if np.isnan(dem.flat[order[i]]) else 1.0
    for i in range(n):  # upstream to downstream
        idx = order[i]
        y = idx // w
        x = idx - y * w
        k = dirs[y, x]
        if k >= 0 and not np.isnan(dem[y, x]):
            acc[y + DY[k], x + DX[k]] += acc[y, x]
    target = np.full(n, -1, dtype=np.int64)
    for i in range(n - 1, -1, -1):  # downstream to upstream
        idx = order[i]
        y = idx // w
        x = idx - y * w
        if np.isnan(dem[y, x]):
            hand[y, x] = np.nan
            continue
        if acc[y, x] >= channel_cells:
            target[idx] = idx
        else:
            k = dirs[y, x]
            if k >= 0:
                target[idx] = target[(y + DY[k]) * w + (x + DX[k])]
        t = target[idx]
        hand[y, x] = dem[y, x] - dem.flat[t] if t >= 0 else np.nan


@numba.njit(cache=True)
def _difference_span(k: int, n: int, step: float):
    """``(a, b, distance)`` of the difference at index ``k`` of ``n``: central inside,
    one-sided on the first and last index (numpy's ``gradient``, ``edge_order=1``)."""
    if k == 0:
        return 0, 1, step
    if k == n - 1:
        return n - 2, n - 1, step
    return k - 1, k + 1, 2.0 * step


@threaded(lambda *a: a[-1].shape[0], fastmath=False, error_model="python")
def slope_degrees(
    start: int, stop: int, dem: np.ndarray, pixel_size_m: float, out: np.ndarray
) -> None:
    """Slope (degrees) of ``dem`` (metres, NaN nodata; float32 or float64, differences in
    float64 either way) into float32 ``out``: central differences inside, one-sided first
    differences on the raster edges (numpy's ``gradient`` with ``edge_order=1``); NaN
    wherever a difference touches NaN. Needs at least 2 rows and 2 columns
    (:func:`eo_drr.products.terrain.slope_degrees` checks)."""
    H, W = dem.shape
    to_deg = 180.0 / np.pi
    for i in range(start, stop):
        ia, ib, dy = _difference_span(i, H, pixel_size_m)
        for j in range(W):
            ja, jb, dx = _difference_span(j, W, pixel_size_m)
            gy = (np.float64(dem[ib, j]) - np.float64(dem[ia, j])) / dy
            gx = (np.float64(dem[i, jb]) - np.float64(dem[i, ja])) / dx
            out[i, j] = np.arctan(np.sqrt(gx * gx + gy * gy)) * to_deg
