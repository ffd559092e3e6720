"""Numba CPU kernels of the flood depth (FwDET, :mod:`eo_drr.products.depth`) on large rasters.

They compute what :mod:`eo_drr.products.depth`'s scipy formulation computes, value for value
(bit for bit: ``tests/test_depth_kernels.py``), on every core and without its full-size
float64 temporaries; the scipy formulation stays in use below
:data:`eo_drr.products.depth.KERNELS_FROM` cells, where a first run would spend longer
compiling the kernels (~2.7 s, once; then cached on disk) than scipy takes (~0.3 s per
million cells; the kernels ~0.1 s on 2 cores).

- :func:`edge_mask`: the flood's edge cells (Cohen et al. 2019's boundary rule) from the two
  3 x 3 binary dilations of :func:`eo_drr.products.depth.edge_cells`, in one pass;
- :func:`nearest_in_columns` and :func:`nearest_in_rows`: each cell's nearest edge cell (the
  Euclidean feature transform of Maurer, Qi & Raghavan 2003), with
  ``scipy.ndimage.distance_transform_edt``'s arithmetic and tie rules, so that the same cell is
  chosen where two are as near;
- :func:`edge_levels`: the water level at each edge cell: its terrain, or (``shore``) the mean
  of it and of its dry neighbours' terrain, the neighbours summed in
  ``scipy.ndimage.convolve``'s order (rows, then columns, of the 3 x 3 window, from 0.0, with
  0.0 for a cell that is not dry or lies off the raster), so that the sum rounds the same;
- :func:`mean_columns` and :func:`mean_rows`: the flooded cells' mean of ``level - terrain``
  over a ``size`` x ``size`` window, as ``scipy.ndimage.uniform_filter`` computes it: a
  running sum along each column, then along each row, divided by ``size`` at each cell
  (scipy's ``NI_UniformFilter1D``: the sum of the first window in order, then
  ``sum += in[i + size2] - in[i - size1 - 1]``, zeros off the raster), for the values and for
  the count of flooded cells alike; then their ratio, clipped at 0 m, as float32.

Terrain (``surface``) in metres, float64 or float32 (each value widened to float64 where it
is read, exactly), NaN no data; masks boolean; all arrays 2-D on one
grid. Kernels are exact IEEE arithmetic: no fast-math flags (they would let LLVM reorder the
running sums and divide by reciprocals).
"""

from __future__ import annotations

import numpy as np

from eo_drr.kernels._jit import threaded

#: numba options of these kernels: the house's, without fast-math (see the module docstring)
EXACT = dict(fastmath=False)


@threaded(lambda *a: a[0].shape[0], **EXACT)
def edge_mask(start, stop, wet, stop_mask, edges):
    """``edges[y, x]``: flooded (``wet``) with a dry 8-neighbour and no blocked 8-neighbour
    nor the raster's border among them. A cell is blocked when ``stop_mask`` and not ``wet``,
    dry when neither. Rows ``start:stop``."""
    h, w = wet.shape
    for y in range(start, stop):
        for x in range(w):
            if not wet[y, x]:
                edges[y, x] = False
                continue
            near_dry = False
            near_blocked = y == 0 or x == 0 or y == h - 1 or x == w - 1
            for yy in range(max(y - 1, 0), min(y + 2, h)):
                for xx in range(max(x - 1, 0), min(x + 2, w)):
                    if not wet[yy, xx]:
                        if stop_mask[yy, xx]:
                            near_blocked = True
                        else:
                            near_dry = True
            edges[y, x] = near_dry and not near_blocked


@threaded(lambda *a: a[0].shape[0], **EXACT)
def edge_levels(start, stop, surface, wet, stop_mask, edges, shore, level):
    """``level[y, x]`` at the edge cells (other cells are left as they are): the terrain, or
    with ``shore`` the mean of the terrain and of the dry 8-neighbours' terrain (where there
    is a dry neighbour), summed in ``scipy.ndimage.convolve``'s order. Rows ``start:stop``."""
    h, w = surface.shape
    for y in range(start, stop):
        for x in range(w):
            if not edges[y, x]:
                continue
            z = surface[y, x]
            if not shore:
                level[y, x] = z
                continue
            num = 0.0
            den = 0.0
            for dy in range(-1, 2):
                for dx in range(-1, 2):
                    yy = y + dy
                    xx = x + dx
                    v = 0.0
                    d = 0.0
                    if 0 <= yy < h and 0 <= xx < w:
                        if not wet[yy, xx] and not stop_mask[yy, xx]:
                            v = surface[yy, xx]
                            d = 1.0
                    num += v
                    den += d
            level[y, x] = 0.5 * (z + num / den) if den > 0.0 else z


@threaded(lambda *a: a[0].shape[1], **EXACT)
def mean_columns(start, stop, iy, ix, level, surface, wet, size, num, den, ok):
    """First pass of the masked mean over columns ``start:stop``: ``ok`` (a flooded cell
    whose value ``level[iy, ix] - surface`` is finite), and the running means along each
    column (``size`` rows) of those values (0 where not ``ok``) into ``num`` and of ``ok``
    into ``den``. ``iy``/``ix``: each cell's nearest edge cell (int32,
    :func:`nearest_in_rows`). The columns of the part are swept together,
    row by row (contiguous memory); each keeps its own running sum."""
    h = iy.shape[0]
    bw = stop - start
    s1 = size // 2
    s2 = size - s1 - 1
    fs = float(size)
    for y in range(h):
        for x in range(start, stop):
            v = 0.0
            good = False
            if wet[y, x]:
                v = level[iy[y, x], ix[y, x]] - surface[y, x]
                good = np.isfinite(v)
                if not good:
                    v = 0.0
            ok[y, x] = good
            num[y, x] = v
            den[y, x] = 1.0 if good else 0.0
    tn = np.zeros(bw)
    td = np.zeros(bw)
    for j in range(-s1, s2 + 1):
        for k in range(bw):
            if 0 <= j < h:
                tn[k] += num[j, start + k]
                td[k] += den[j, start + k]
            else:
                tn[k] += 0.0
                td[k] += 0.0
    # the raw values of the last s1 + 1 rows: the running sum drops them as it moves on,
    # after their rows were overwritten by the means
    keep = s1 + 1
    raw_n = np.empty((keep, bw))
    raw_d = np.empty((keep, bw))
    for y in range(h):
        a = y + s2
        b = y - s1 - 1
        slot = y % keep  # the slot of row b, read before row y takes it
        for k in range(bw):
            x = start + k
            if y > 0:
                an = num[a, x] if a < h else 0.0
                ad = den[a, x] if a < h else 0.0
                bn = raw_n[slot, k] if b >= 0 else 0.0
                bd = raw_d[slot, k] if b >= 0 else 0.0
                tn[k] += an - bn
                td[k] += ad - bd
            raw_n[slot, k] = num[y, x]
            raw_d[slot, k] = den[y, x]
            num[y, x] = tn[k] / fs
            den[y, x] = td[k] / fs


@threaded(lambda *a: a[0].shape[0], **EXACT)
def mean_rows(start, stop, num, den, ok, size, depth):
    """Second pass: the running means along each row (``size`` columns) of the first pass's
    ``num`` and ``den``, and ``depth`` (float32 m) = their ratio on ``ok`` cells, clipped at
    0 m as ``numpy.maximum`` does, NaN elsewhere. Rows ``start:stop``."""
    w = num.shape[1]
    s1 = size // 2
    s2 = size - s1 - 1
    fs = float(size)
    for y in range(start, stop):
        rn = num[y]
        rd = den[y]
        tn = 0.0
        td = 0.0
        for j in range(-s1, s2 + 1):
            if 0 <= j < w:
                tn += rn[j]
                td += rd[j]
            else:
                tn += 0.0
                td += 0.0
        for x in range(w):
            if x > 0:
                a = x + s2
                b = x - s1 - 1
                tn += (rn[a] if a < w else 0.0) - (rn[b] if b >= 0 else 0.0)
                td += (rd[a] if a < w else 0.0) - (rd[b] if b >= 0 else 0.0)
            if not ok[y, x]:
                depth[y, x] = np.nan
                continue
            mn = tn / fs
            md = td / fs
            d = mn / (md if md > 0.0 else 1.0)
            if not (d >= 0.0 or np.isnan(d)):
                d = 0.0
            depth[y, x] = np.float32(d)


@threaded(lambda *a: a[0].shape[1], **EXACT)
def nearest_in_columns(start, stop, edges, fy):
    """First pass of the feature transform: ``fy[y, x]``, the row of the nearest edge cell
    in column ``x`` (the upper one of two as near), -1 in a column without one. Columns
    ``start:stop``, swept together row by row, down then up."""
    h = edges.shape[0]
    bw = stop - start
    seen = np.full(bw, -1, dtype=np.int32)
    for y in range(h):
        for k in range(bw):
            if edges[y, start + k]:
                seen[k] = y
            fy[y, start + k] = seen[k]
    seen[:] = -1
    for y in range(h - 1, -1, -1):
        for k in range(bw):
            x = start + k
            if edges[y, x]:
                seen[k] = y
            above = fy[y, x]
            below = seen[k]
            if below >= 0 and (above < 0 or below - y < y - above):
                fy[y, x] = below


@threaded(lambda *a: a[0].shape[0], **EXACT)
def nearest_in_rows(start, stop, fy, iy, ix):
    """Second pass: ``iy``/``ix``, the row and column of each cell's nearest edge cell, from
    the first pass's column sites ``fy``, by the lower envelope of their distance parabolas
    along each row (Maurer, Qi & Raghavan 2003, IEEE TPAMI 25:265-270), with
    ``scipy.ndimage.distance_transform_edt``'s arithmetic (float64 of integers) and tie
    rules, so that the same cell is chosen. Rows ``start:stop``."""
    w = fy.shape[1]
    g = np.empty(w, dtype=np.int64)
    for y in range(start, stop):
        fr = fy[y]
        k = -1
        for i in range(w):
            if fr[i] < 0:
                continue
            fd = float(i)
            tw = float(fr[i]) - y
            wr = 0.0 + tw * tw
            while k >= 1:
                i1 = g[k]
                i2 = g[k - 1]
                f1 = float(i1)
                a = f1 - float(i2)
                b = fd - f1
                c = a + b
                tu = float(fr[i2]) - y
                tv = float(fr[i1]) - y
                ur = 0.0 + tu * tu
                vr = 0.0 + tv * tv
                if c * vr - b * ur - a * wr - a * b * c <= 0.0:
                    break
                k -= 1
            k += 1
            g[k] = i
        top = k
        if top < 0:
            continue
        k = 0
        for i in range(w):
            t0 = float(fr[g[k]]) - y
            t1 = float(g[k]) - i
            d1 = 0.0 + t0 * t0 + t1 * t1
            while k < top:
                t0 = float(fr[g[k + 1]]) - y
                t1 = float(g[k + 1]) - i
                d2 = 0.0 + t0 * t0 + t1 * t1
                if d1 <= d2:
                    break
                d1 = d2
                k += 1
            iy[y, i] = fr[g[k]]
            ix[y, i] = g[k]
