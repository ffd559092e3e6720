"""Numba CPU kernels for the exact coverage of polygons (zonal units) on a raster: spans of
wholly covered pixels per unit, exact polygon-pixel coverage only along unit borders.

The coverage ``cov(u, p)`` (share 0-1 of pixel ``p`` inside unit ``u``) comes from the
signed-area accumulation used by scanline font rasterisers (Levien, "font-rs", 2016; the same
idea as libart and FreeType's "gray" rasteriser): every polygon edge adds, to the cells it
crosses in each pixel row, the signed area between the edge and the cell's right side, so that
the running sum of these deltas along a row is the exact area coverage of each cell (closed
rings of straight edges; holes subtract because their rings run the other way).
:func:`ring_deltas` writes each unit's deltas; :func:`unit_coverage` sorts them by row
(counting sort) and column (short per-row merge sort, no allocation) and
walks each row once: runs of coverage 1 become spans (unit, row, columns), fractional cells
border records (unit, pixel, coverage), both grouped by raster row (:func:`record_offsets`).
The work is proportional to the border length, with no GDAL rasterisation, no label raster and
no sort over a whole unit (exactextract (Baston 2019) computes the same fractions, but for
every pixel of each unit's bounding box). :mod:`eo_drr.kernels.zonal_cpu` then counts the
rasters over these spans and records.

Coordinates are in pixel units of the raster (column, row; row down). Output and scratch
arrays are allocated by the caller (numpy); kernels never allocate.
:mod:`eo_drr.sendai.coverage` builds the argument lists.

:func:`unit_coverage` sorts and walks in one function on purpose (issue 21, "fast first run"):
numba compiles every helper a kernel calls on its own, down to machine code, before LLVM
inlines it again into the caller (a helper of a helper three times over), so the sort helpers
cost ~0.6 s of a cold first run. Its merge passes always merge into the scratch and copy back
(one merge loop, no array variables swapped between passes: ~0.1 s less to compile, no
slower); the scratch is left as the former ping-pong merge left it.
"""

from __future__ import annotations

import numpy as np

from eo_drr.kernels._jit import njit_inner, njit_serial, threaded

#: a running coverage within this of an integer counts as whole (0 or 1)
COVER_EPS = 1e-9


# ---------------------------------------------------------------------------------------------
# border coverage


def delta_bound(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Upper bound on the deltas :func:`ring_deltas` writes for each edge ``i -> i+1`` of the
    vertex arrays (one fewer than the vertices); pixel units."""
    dx = np.abs(np.diff(xs))
    dy = np.abs(np.diff(ys))
    return (np.floor(dx) + 3.0 * (np.floor(dy) + 2.0) + 2.0).astype(np.int64)


@njit_inner
def _edge(x0, y0, x1, y1, sign, width, height, rows, cols, vals, pos):
    """Deltas of one edge into rows/cols/vals from ``pos``; returns the new position.

    Columns left of the raster are clamped to -1 (those deltas only feed the running sum);
    cells right of the raster are dropped (they affect no cell inside). The float ``min`` and
    ``max`` (the same picks as the builtins) and the integer parts are written out, and the
    end points swapped without a tuple: numba compiles each builtin as a function of its own
    (issue 21, ~0.1 s of a cold first run with the tuple).
    """
    if y0 == y1:
        return pos
    d_dir = sign
    if y0 > y1:
        t = x0
        x0 = x1
        x1 = t
        t = y0
        y0 = y1
        y1 = t
        d_dir = -sign
    dxdy = (x1 - x0) / (y1 - y0)
    r0 = np.int64(np.floor(y0))
    r1 = np.int64(np.ceil(y1))
    if r0 < 0:
        r0 = 0
    if r1 > height:
        r1 = height
    for r in range(r0, r1):
        ya = y0 if y0 > r else float(r)  # max(float(r), y0), min(float(r + 1), y1)
        yb = y1 if y1 < r + 1 else float(r + 1)
        dy = yb - ya
        if dy <= 0.0:
            continue
        xa = x0 + dxdy * (ya - y0)
        xb = x0 + dxdy * (yb - y0)
        d = dy * d_dir
        lo = xb if xb < xa else xa
        hi = xb if xb > xa else xa
        lo_f = np.floor(lo)
        c0 = np.int64(lo_f)
        c1 = np.int64(np.ceil(hi))
        if c1 <= c0 + 1:
            xmf = 0.5 * (xa + xb) - lo_f
            pos = _put(rows, cols, vals, pos, r, c0, width, d - d * xmf)
            pos = _put(rows, cols, vals, pos, r, c0 + 1, width, d * xmf)
        else:
            s = 1.0 / (hi - lo)
            x0f = lo - lo_f
            a0 = 0.5 * s * (1.0 - x0f) * (1.0 - x0f)
            x1f = hi - c1 + 1.0
            am = 0.5 * s * x1f * x1f
            pos = _put(rows, cols, vals, pos, r, c0, width, d * a0)
            if c1 == c0 + 2:
                pos = _put(rows, cols, vals, pos, r, c0 + 1, width, d * (1.0 - a0 - am))
            else:
                a1 = s * (1.5 - x0f)
                pos = _put(rows, cols, vals, pos, r, c0 + 1, width, d * (a1 - a0))
                for c in range(c0 + 2, c1 - 1):
                    pos = _put(rows, cols, vals, pos, r, c, width, d * s)
                a2 = a1 + (c1 - c0 - 3) * s
                pos = _put(rows, cols, vals, pos, r, c1 - 1, width, d * (1.0 - a2 - am))
            pos = _put(rows, cols, vals, pos, r, c1, width, d * am)
    return pos


@njit_inner
def _put(rows, cols, vals, pos, row, col, width, v):
    if col >= width:
        return pos
    if col < 0:
        col = -1
    rows[pos] = row
    cols[pos] = col
    vals[pos] = v
    return pos + 1


@threaded(lambda *a: a[4].size - 1)
def ring_deltas(
    start,
    stop,
    xs,
    ys,
    ring_start,
    ring_exterior,
    unit_ring_start,
    unit_off,
    width,
    height,
    rows,
    cols,
    vals,
    counts,
):
    """Coverage deltas of every unit's rings into its segment ``unit_off[u]:unit_off[u+1]``.

    ``xs``/``ys``: ring vertices (closed rings: last vertex = first) in pixel units;
    ``ring_start``: vertex offsets of the rings (n_rings + 1); ``ring_exterior``: 1 for an
    exterior ring, 0 for a hole; ``unit_ring_start``: ring offsets of the units (n_units + 1);
    ``unit_off``: delta offsets (from :func:`delta_bound`). Each ring's sign is set from its
    orientation so that exteriors add and holes subtract. A delta is a pixel row, column (-1:
    left of the raster; int32) and signed area (float64); ``counts[u]`` receives the number of
    deltas written.
    """
    for u in range(start, stop):
        pos = unit_off[u]
        for k in range(unit_ring_start[u], unit_ring_start[u + 1]):
            a = 0.0  # twice the signed area (shoelace), pixel units
            for i in range(ring_start[k], ring_start[k + 1] - 1):
                a += xs[i] * ys[i + 1] - xs[i + 1] * ys[i]
            if a == 0.0:
                continue
            # the running sum right of an edge going down (+y) is +dy: for a ring whose
            # shoelace area is positive (clockwise on screen) the interior lies left of the
            # downward edges, so it is covered by -1: flip
            sign = -1.0 if a > 0.0 else 1.0
            if ring_exterior[k] == 0:
                sign = -sign
            for i in range(ring_start[k], ring_start[k + 1] - 1):
                pos = _edge(
                    xs[i], ys[i], xs[i + 1], ys[i + 1], sign, width, height, rows, cols, vals, pos
                )
        counts[u] = pos - unit_off[u]


@threaded(lambda *a: a[4].size)
def unit_coverage(
    start,
    stop,
    rows,
    cols,
    vals,
    unit_off,
    counts,
    width,
    row_lo,
    row_off,
    row_end,
    row_cnt,
    scols,
    svals,
    span_cnt,
    span_unit,
    span_row,
    span_c0,
    span_c1,
    rec_unit,
    rec_pix,
    rec_w,
    fill,
):
    """Exact coverage of every unit from its deltas (:func:`ring_deltas`) as spans of wholly
    covered pixels and records of partly covered ones, in one scanline walk per unit (units in
    parallel; the units must not overlap). No label raster is written.

    ``fill == 0``: sorts each unit's deltas by row (counting sort) and column into
    ``scols``/``svals`` (``cols``/``vals`` are overwritten as scratch; ``row_lo[u]``: the
    first row the unit's deltas can fall on, ``row_off``: offsets (n_units + 1) into the int64
    scratch ``row_end`` (each row's end in the sorted deltas, kept for the second pass),
    ``row_cnt`` and ``span_cnt``, the unit's row span + 1 slots each), and leaves in
    ``span_cnt``/``row_cnt[row_off[u] + j]`` the number of spans of whole pixels (coverage 1,
    to :data:`COVER_EPS`) and of partly covered pixels of row ``row_lo[u] + j``. ``fill ==
    1``, with both turned into each (unit, row)'s first position by the caller
    (:func:`record_offsets`): writes the spans (``span_unit`` unit index, ``span_row``,
    ``span_c0``/``span_c1`` column range, int32) and the records (``rec_unit`` unit index,
    ``rec_pix`` flat pixel index, ``rec_w`` covered share of the pixel, 0-1, float64), each
    grouped by raster row. Rows come from the buckets, so the walk needs no division.

    So ``sum_p cov(u, p) v[p] = sum_{spans of u} sum_{c0 <= c < c1} v + sum_{rec_unit == u}
    rec_w v[rec_pix]``: a pixel is either whole in one unit (in a span) or recorded for every
    unit that covers part of it.
    """
    for u in range(start, stop):
        a = unit_off[u]
        b = a + counts[u]
        ro = row_off[u]
        nr = row_off[u + 1] - ro - 1
        lo = row_lo[u]
        if not fill:
            for j in range(ro, ro + nr + 1):
                row_end[j] = 0
                row_cnt[j] = 0
                span_cnt[j] = 0
            # counting sort of the deltas by row into scols/svals
            for i in range(a, b):
                row_end[ro + 1 + rows[i] - lo] += 1
            for j in range(ro + 1, ro + nr + 1):
                row_end[j] += row_end[j - 1]
            for i in range(a, b):
                j = ro + rows[i] - lo
                p = a + row_end[j]
                row_end[j] += 1
                scols[p] = cols[i]
                svals[p] = vals[i]
            # then each row's deltas by column, carrying their values (stable; cols/vals as
            # scratch): insertion sort on runs of 16, then bottom-up merges. Already sorted
            # rows (the usual case) cost one comparison per delta
            s = a
            for j in range(ro, ro + nr):  # row_end[j] is now the end of row j
                e = a + row_end[j]
                done = True
                for i in range(s + 1, e):
                    if scols[i] < scols[i - 1]:
                        done = False
                        break
                if done:
                    s = e
                    continue
                for q in range(s, e, 16):
                    for i in range(q + 1, min(q + 16, e)):
                        kk = scols[i]
                        vv = svals[i]
                        t = i - 1
                        while t >= q and scols[t] > kk:
                            scols[t + 1] = scols[t]
                            svals[t + 1] = svals[t]
                            t -= 1
                        scols[t + 1] = kk
                        svals[t + 1] = vv
                size = 16  # of the sorted runs: merged from scols/svals into cols/vals
                odd = False
                while size < e - s:
                    for m0 in range(s, e, 2 * size):
                        mid = min(m0 + size, e)
                        hi = min(m0 + 2 * size, e)
                        x = m0
                        y = mid
                        for o in range(m0, hi):
                            if y >= hi or (x < mid and scols[y] >= scols[x]):
                                cols[o] = scols[x]
                                vals[o] = svals[x]
                                x += 1
                            else:
                                cols[o] = scols[y]
                                vals[o] = svals[y]
                                y += 1
                    size *= 2
                    odd = not odd
                    # back into scols/svals; after the last of an even number of passes the
                    # scratch keeps the pass before (what the former ping-pong merge left)
                    keep = size >= e - s and not odd
                    for i in range(s, e):
                        kk = cols[i]
                        vv = vals[i]
                        if keep:
                            cols[i] = scols[i]
                            vals[i] = svals[i]
                        scols[i] = kk
                        svals[i] = vv
                s = e
        if b == a:
            continue
        s = a
        for j in range(nr):
            e = a + row_end[ro + j]
            row = lo + j
            base = row * width
            jj = ro + j
            run = 0.0
            s0 = -1  # open span of whole pixels s0:s1
            s1 = -1
            i = s
            while i < e:
                col = scols[i]
                run += svals[i]
                i += 1
                while i < e and scols[i] == col:
                    run += svals[i]
                    i += 1
                whole = abs(run - 1.0) <= COVER_EPS
                part = not whole and abs(run) > COVER_EPS
                # the cells up to the next delta in this row hold the running sum (a closed
                # ring's deltas sum to 0 along a row)
                nxt = scols[i] if i < e else width
                c0 = max(col + 1, 0)
                c1 = min(nxt, width)
                if whole:
                    x0 = max(col, 0)
                    x1 = max(c1, x0)
                    if x1 > x0:
                        if s1 == x0:
                            s1 = x1
                        else:
                            if s1 > s0:
                                if fill:
                                    o = span_cnt[jj]
                                    span_unit[o] = u
                                    span_row[o] = row
                                    span_c0[o] = s0
                                    span_c1[o] = s1
                                span_cnt[jj] += 1
                            s0 = x0
                            s1 = x1
                    continue
                if part and col >= 0:
                    if fill:
                        o = row_cnt[jj]
                        rec_unit[o] = u
                        rec_pix[o] = base + col
                        rec_w[o] = run
                    row_cnt[jj] += 1
                if part and c1 > c0:  # an edge running along pixel centres
                    if fill:
                        o = row_cnt[jj]
                        for c in range(c0, c1):
                            rec_unit[o + c - c0] = u
                            rec_pix[o + c - c0] = base + c
                            rec_w[o + c - c0] = run
                    row_cnt[jj] += c1 - c0
            if s1 > s0:
                if fill:
                    o = span_cnt[jj]
                    span_unit[o] = u
                    span_row[o] = row
                    span_c0[o] = s0
                    span_c1[o] = s1
                span_cnt[jj] += 1
            s = e


@njit_serial
def record_offsets(row_lo, row_off, row_cnt, rec_row_off, cursor):
    """Between :func:`unit_coverage`'s passes: from the record counts per unit and row
    (``row_cnt``, layout of ``row_lo``/``row_off``) the row offsets of the records
    (``rec_row_off``, int64 zeros (height + 1)), and ``row_cnt`` turned in place into the
    position of each (unit, row)'s first record (rows in order, units in order within a row;
    ``cursor``: int64 scratch (height,)). Serial on purpose: a prefix scan over the units'
    rows (a few thousand per unit at most, ~1 ms per million), not worth splitting."""
    n = row_lo.size
    h = cursor.size
    for u in range(n):
        ro = row_off[u]
        for j in range(row_off[u + 1] - ro - 1):
            rec_row_off[row_lo[u] + j + 1] += row_cnt[ro + j]
    for r in range(h):
        rec_row_off[r + 1] += rec_row_off[r]
        cursor[r] = rec_row_off[r]
    for u in range(n):
        ro = row_off[u]
        for j in range(row_off[u + 1] - ro - 1):
            c = row_cnt[ro + j]
            row_cnt[ro + j] = cursor[row_lo[u] + j]
            cursor[row_lo[u] + j] += c
