"""Numba CPU kernels for exact zonal statistics: unit labels for interior pixels, exact
polygon-pixel coverage only along unit borders.

The zonal sum of a raster ``v`` over a polygon ``u`` is ``sum_p cov(u, p) * v[p]`` with
``cov(u, p)`` the share (0-1) of pixel ``p`` inside ``u``. Writing ``lab[p]`` for the unit whose
polygon holds the centre of ``p`` (one rasterisation of all units),

    sum_p cov(u, p) v[p] = sum_{p: lab[p] = u} v[p]  +  sum_p (cov(u, p) - [lab[p] = u]) v[p]

The first term is a histogram over the label raster (:func:`interior_counts`, one fused pass
over every input raster, each thread counting into its own private accumulator). The second
term is non-zero only on pixels that the border of ``u`` crosses, where ``cov`` is fractional;
it is computed exactly with the signed-area accumulation used by scanline font rasterisers
(Levien, "font-rs", 2016; the same idea as libart and FreeType's "gray" rasteriser): every
polygon edge adds, to the cells it crosses in each pixel row, the signed area between the edge
and the cell's right side, so that the running sum of these deltas along a row is the exact
area coverage of each cell (closed rings of straight edges; holes subtract because their
rings run the other way). Only the cells the edges touch (and runs between them whose
running sum is fractional, e.g. an edge running along pixel centres) are visited, so the work
is proportional to the border length, not the unit area (exactextract (Baston 2019) computes
the same fractions, but for every pixel of each unit's bounding box).

Coordinates are in pixel units of the raster (column, row; row down). Output arrays are
allocated by the caller (numpy).
"""

from __future__ import annotations

import numba
import numpy as np

from eo_drr.kernels._jit import njit_parallel, njit_serial

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


@njit_serial
def _edge(x0, y0, x1, y1, sign, width, height, keys, vals, pos):
    """Deltas of one edge into keys/vals from ``pos``; returns the new position.

    key = row * (width + 1) + (col + 1) with col clamped to -1 on the left (those deltas only
    feed the running sum); cells right of the raster are dropped (they affect no cell inside).
    """
    if y0 == y1:
        return pos
    d_dir = sign
    if y0 > y1:
        x0, y0, x1, y1 = x1, y1, x0, y0
        d_dir = -sign
    dxdy = (x1 - x0) / (y1 - y0)
    r0 = int(np.floor(y0))
    r1 = int(np.ceil(y1))
    if r0 < 0:
        r0 = 0
    if r1 > height:
        r1 = height
    w1 = width + 1
    for r in range(r0, r1):
        ya = max(float(r), y0)
        yb = min(float(r + 1), y1)
        dy = yb - ya
        if dy <= 0.0:
            continue
        xa = x0 + dxdy * (ya - y0)
        xb = x0 + dxdy * (yb - y0)
        d = dy * d_dir
        lo = min(xa, xb)
        hi = max(xa, xb)
        lo_f = np.floor(lo)
        c0 = int(lo_f)
        c1 = int(np.ceil(hi))
        base = r * w1
        if c1 <= c0 + 1:
            xmf = 0.5 * (xa + xb) - lo_f
            pos = _put(keys, vals, pos, base, c0, width, d - d * xmf)
            pos = _put(keys, vals, pos, base, c0 + 1, width, d * xmf)
        else:
            s = 1.0 / (hi - lo)
            x0f = lo - lo_f
            a0 = 0.5 * s * (1.0 - x0f) * (1.0 - x0f)
            x1f = hi - c1 + 1.0
            am = 0.5 * s * x1f * x1f
            pos = _put(keys, vals, pos, base, c0, width, d * a0)
            if c1 == c0 + 2:
                pos = _put(keys, vals, pos, base, c0 + 1, width, d * (1.0 - a0 - am))
            else:
                a1 = s * (1.5 - x0f)
                pos = _put(keys, vals, pos, base, c0 + 1, width, d * (a1 - a0))
                for c in range(c0 + 2, c1 - 1):
                    pos = _put(keys, vals, pos, base, c, width, d * s)
                a2 = a1 + (c1 - c0 - 3) * s
                pos = _put(keys, vals, pos, base, c1 - 1, width, d * (1.0 - a2 - am))
            pos = _put(keys, vals, pos, base, c1, width, d * am)
    return pos


@njit_serial
def _put(keys, vals, pos, base, col, width, v):
    if col >= width:
        return pos
    if col < 0:
        col = -1
    keys[pos] = base + col + 1
    vals[pos] = v
    return pos + 1


@njit_parallel
def ring_deltas(xs, ys, ring_start, ring_exterior, unit_ring_start, unit_off, width, height,
                keys, vals, counts):
    """Coverage deltas of every unit's rings into its segment ``unit_off[u]:unit_off[u+1]``.

    ``xs``/``ys``: ring vertices (closed rings: last vertex = first) in pixel units;
    ``ring_start``: vertex offsets of the rings (n_rings + 1); ``ring_exterior``: 1 for an
    exterior ring, 0 for a hole; ``unit_ring_start``: ring offsets of the units (n_units + 1);
    ``unit_off``: delta offsets (from :func:`delta_bound`). Each ring's sign is set from its
    orientation so that exteriors add and holes subtract. ``counts[u]`` receives the number of
    deltas written.
    """
    n_units = unit_ring_start.size - 1
    for u in numba.prange(n_units):
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
                pos = _edge(xs[i], ys[i], xs[i + 1], ys[i + 1], sign, width, height, keys, vals, pos)
        counts[u] = pos - unit_off[u]


@njit_parallel
def sort_segments(keys, vals, unit_off, counts):
    """Sort each unit's deltas by key (row, then column), in place."""
    for u in numba.prange(counts.size):
        a = unit_off[u]
        b = a + counts[u]
        if b - a < 2:
            continue
        order = np.argsort(keys[a:b], kind="mergesort")
        k = keys[a:b][order]
        v = vals[a:b][order]
        keys[a:b] = k
        vals[a:b] = v


@njit_serial
def _frac(x):
    return abs(x - np.floor(x + 0.5)) > COVER_EPS


@njit_parallel
def border_corrections(keys, vals, unit_off, counts, labels, unit_label, width, out_off,
                       out_pix, out_w, out_counts, fill):
    """Per unit: the pixels where its exact coverage differs from ``[labels == unit_label[u]]``
    and the difference ``cov - [lab = u]`` (float64, -1..1).

    Two passes: with ``fill == 0`` only ``out_counts[u]`` is set (allocate ``out_pix``/``out_w``
    from its cumulative sum into ``out_off``); with ``fill == 1`` the pairs are written. Needs
    the deltas sorted (:func:`sort_segments`).
    """
    w1 = width + 1
    for u in numba.prange(counts.size):
        lab = unit_label[u]
        a = unit_off[u]
        b = a + counts[u]
        n = 0
        o = out_off[u] if fill else 0
        run = 0.0
        i = a
        while i < b:
            key = keys[i]
            row = key // w1
            col = key % w1 - 1
            run += vals[i]
            i += 1
            while i < b and keys[i] == key:
                run += vals[i]
                i += 1
            if col >= 0:
                p = row * width + col
                diff = run - (1.0 if labels[p] == lab else 0.0)
                if abs(diff) > COVER_EPS:
                    if fill:
                        out_pix[o + n] = p
                        out_w[o + n] = diff
                    n += 1
            # the cells up to the next delta in this row hold the running sum: visit them
            # only when it is fractional (edges running along pixel centres)
            nxt = width
            if i < b and keys[i] // w1 == row:
                nxt = keys[i] % w1 - 1
            if nxt > col + 1 and _frac(run):
                for c in range(max(col + 1, 0), min(nxt, width)):
                    p = row * width + c
                    diff = run - (1.0 if labels[p] == lab else 0.0)
                    if abs(diff) > COVER_EPS:
                        if fill:
                            out_pix[o + n] = p
                            out_w[o + n] = diff
                        n += 1
            if i >= b or keys[i] // w1 != row:
                run = 0.0  # a closed ring's deltas sum to 0 along a row
        out_counts[u] = n


# ---------------------------------------------------------------------------------------------
# the fused interior pass

#: bits of the per-pixel class code (shared with :mod:`eo_drr.sendai.indicators`)
OBSERVED, FLOODED, CROP, BUILT, NEW_BUILT = 1, 2, 4, 8, 16
N_CODES = 32


@njit_serial
def _code(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata, r, c):
    """Class code of pixel (r, c): observed / flooded from ``flood``, cropland (and built-up
    when no built-up layer) from the land-cover LUT, built-up and new built-up."""
    f = flood[r, c]
    code = 0
    if f != nodata:
        code |= OBSERVED
        if f == 1:
            code |= FLOODED
    built = False
    if has_lc:
        lb = lut[lc[r, c]]
        code |= lb & CROP
        if not has_bu:
            built = (lb & BUILT) != 0
    if has_bu:
        built = bu[r, c] != 0
    if built:
        code |= BUILT
        if has_bb and bb[r, c] == 0:
            code |= NEW_BUILT
    return code


@njit_serial
def _weight(code, bu_weight, floor):
    """Dasymetric weight of a pixel: 1 for built-up, ``floor`` otherwise (``bu_weight`` 0:
    every pixel 1)."""
    if bu_weight == 0:
        return 1.0
    return 1.0 if (code & BUILT) != 0 else floor


@njit_serial
def _span_codes(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata, r, c0, c1, buf):
    """:func:`_code` of pixels ``c0:c1`` of row ``r`` into ``buf[:c1 - c0]`` (uint8). The
    flags are tested once per span, so each inner loop is a plain, vectorisable loop (with the
    flags inside the pixel loop the pass runs ~25x slower)."""
    n = c1 - c0
    for i in range(n):
        f = flood[r, c0 + i]
        buf[i] = (OBSERVED if f != nodata else 0) | (FLOODED if f == 1 else 0)
    if has_lc:
        keep = CROP if has_bu else CROP | BUILT
        for i in range(n):
            buf[i] |= lut[lc[r, c0 + i]] & keep
    if has_bu:
        for i in range(n):
            buf[i] |= BUILT if bu[r, c0 + i] != 0 else 0
    if has_bb:
        for i in range(n):
            if (buf[i] & BUILT) != 0 and bb[r, c0 + i] == 0:
                buf[i] |= NEW_BUILT


@njit_parallel
def interior_counts(labels, flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata,
                    cell_row, cell_col, pw, bu_weight, floor, row_start,
                    hist, cell_wsum, cell_fsum, cell_label, scratch):
    """One pass over every raster: per label (0 = no unit) the pixel count of each class code
    and, with a population grid, per population cell the summed pixel weight (all pixels and
    flooded pixels, :func:`_weight`) and the one label its pixels carry (-2: several).

    Rows ``row_start[k]:row_start[k + 1]`` form parallel block ``k``; with a population grid
    the blocks must hold whole cell rows (the cell arrays are then written by one block only).
    ``hist``: int64 (n_blocks, n_labels, 32) private histograms (summed by the caller);
    ``cell_wsum``/``cell_fsum``: float64 (n_cells,) zeros; ``cell_label``: int64 (n_cells,)
    filled with -1; a pixel at (r, c) is in cell ``cell_row[r] * pw + cell_col[c]`` (-1
    outside; ``pw`` 0: no population grid). ``scratch``: uint8 (n_blocks, width).
    """
    h, w = labels.shape
    nb = hist.shape[0]
    for blk in numba.prange(nb):
        buf = scratch[blk]
        for r in range(row_start[blk], row_start[blk + 1]):
            _span_codes(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata, r, 0, w, buf)
            for c in range(w):
                hist[blk, labels[r, c], buf[c]] += 1
            if pw == 0:
                continue
            cr = cell_row[r]
            if cr < 0:
                continue
            base = cr * pw
            for c in range(w):
                cc = cell_col[c]
                if cc < 0:
                    continue
                k = base + cc
                code = buf[c]
                wt = _weight(code, bu_weight, floor)
                cell_wsum[k] += wt
                if (code & FLOODED) != 0:
                    cell_fsum[k] += wt
                lab = labels[r, c]
                cl = cell_label[k]
                if cl != lab:
                    cell_label[k] = lab if cl == -1 else -2


@njit_parallel
def mixed_cell_persons(labels, flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata,
                       cells, cell_w, pw, ox, oy, fx, fy, bu_weight, floor, want_pop,
                       pop, exp, scratch):
    """Persons of the population cells ``cells`` (ids whose pixels carry several labels) per
    label: ``exp`` (n_blocks, n_labels, n_bands) on flooded pixels, ``pop`` on all pixels
    (only with ``want_pop``), a pixel holding ``cell_w[cell, b] * weight`` persons of band b.
    Cell ``k`` covers hazard rows ``oy + (k // pw) * fy`` ... and columns ``ox + (k % pw) * fx``
    ...; private accumulators per block, ``scratch`` uint8 (n_blocks, fx)."""
    h, w = labels.shape
    nb = pop.shape[0]
    nbands = cell_w.shape[1]
    n = cells.size
    step = (n + nb - 1) // nb
    for blk in numba.prange(nb):
        buf = scratch[blk]
        for i in range(blk * step, min(n, (blk + 1) * step)):
            k = cells[i]
            cr = k // pw
            cc = k % pw
            c0 = max(0, ox + cc * fx)
            c1 = min(w, ox + (cc + 1) * fx)
            for r in range(max(0, oy + cr * fy), min(h, oy + (cr + 1) * fy)):
                _span_codes(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata, r, c0, c1, buf)
                for j in range(c1 - c0):
                    code = buf[j]
                    flooded = (code & FLOODED) != 0
                    if not (flooded or want_pop):
                        continue
                    wt = _weight(code, bu_weight, floor)
                    lab = labels[r, c0 + j]
                    for b in range(nbands):
                        v = cell_w[k, b] * wt
                        if want_pop:
                            pop[blk, lab, b] += v
                        if flooded:
                            exp[blk, lab, b] += v


@njit_parallel
def pixels_at(pix, flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata,
              cell_row, cell_col, cell_w, pw, bu_weight, floor, codes, persons):
    """Class code (``codes``, int64) and persons per band (``persons``, float64 (n, n_bands))
    of the flat pixel indices ``pix``: the same rules as :func:`interior_counts` and
    :func:`mixed_cell_persons`."""
    w = flood.shape[1]
    nbands = cell_w.shape[1]
    for i in numba.prange(pix.size):
        r = pix[i] // w
        c = pix[i] % w
        code = _code(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata, r, c)
        codes[i] = code
        for b in range(nbands):
            persons[i, b] = 0.0
        if nbands:
            cr = cell_row[r]
            cc = cell_col[c]
            if cr >= 0 and cc >= 0:
                wt = _weight(code, bu_weight, floor)
                for b in range(nbands):
                    persons[i, b] = cell_w[cr * pw + cc, b] * wt


@njit_parallel
def value_counts_u8(x, out):
    """Histogram of a uint8 array (flat) into ``out`` int64 (n_blocks, 256)."""
    n = x.size
    nb = out.shape[0]
    step = (n + nb - 1) // nb
    for blk in numba.prange(nb):
        for i in range(blk * step, min(n, (blk + 1) * step)):
            out[blk, x[i]] += 1
