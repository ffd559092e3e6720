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


@njit_serial
def _sort_run(k, v, tk, tv, a, b):
    """Sort ``k[a:b]`` ascending, carrying ``v[a:b]``, with ``tk``/``tv[a:b]`` as scratch
    (insertion sort on runs of 16, then bottom-up merges; no allocation). Already sorted
    input (the usual case for one row of one unit) costs one comparison per element."""
    n = b - a
    if n < 2:
        return
    done = True
    for i in range(a + 1, b):
        if k[i] < k[i - 1]:
            done = False
            break
    if done:
        return
    for s in range(a, b, 16):
        e = min(s + 16, b)
        for i in range(s + 1, e):
            kk = k[i]
            vv = v[i]
            j = i - 1
            while j >= s and k[j] > kk:
                k[j + 1] = k[j]
                v[j + 1] = v[j]
                j -= 1
            k[j + 1] = kk
            v[j + 1] = vv
    width = 16
    sk, sv, dk, dv = k, v, tk, tv
    flipped = False
    while width < n:
        for lo in range(a, b, 2 * width):
            mid = min(lo + width, b)
            hi = min(lo + 2 * width, b)
            i = lo
            j = mid
            o = lo
            while i < mid and j < hi:
                if sk[j] < sk[i]:
                    dk[o] = sk[j]
                    dv[o] = sv[j]
                    j += 1
                else:
                    dk[o] = sk[i]
                    dv[o] = sv[i]
                    i += 1
                o += 1
            while i < mid:
                dk[o] = sk[i]
                dv[o] = sv[i]
                i += 1
                o += 1
            while j < hi:
                dk[o] = sk[j]
                dv[o] = sv[j]
                j += 1
                o += 1
        sk, sv, dk, dv = dk, dv, sk, sv
        flipped = not flipped
        width *= 2
    if flipped:
        for i in range(a, b):
            k[i] = tk[i]
            v[i] = tv[i]


@njit_serial
def _bucket_rows(keys, vals, a, b, w1, lo, cnt, ro, nr, skeys, svals):
    """Counting sort of ``keys/vals[a:b]`` by row (``key // w1 - lo``, ``nr`` rows) into
    ``skeys/svals[a:b]``, then each row's deltas by column (``keys/vals`` as scratch)."""
    for j in range(ro, ro + nr + 1):
        cnt[j] = 0
    for i in range(a, b):
        cnt[ro + 1 + keys[i] // w1 - lo] += 1
    for j in range(ro + 1, ro + nr + 1):
        cnt[j] += cnt[j - 1]
    for i in range(a, b):
        j = ro + keys[i] // w1 - lo
        p = a + cnt[j]
        cnt[j] += 1
        skeys[p] = keys[i]
        svals[p] = vals[i]
    s = a
    for j in range(ro, ro + nr):  # cnt[j] is now the end of row j
        e = a + cnt[j]
        _sort_run(skeys, svals, keys, vals, s, e)
        s = e


@njit_parallel
def unit_coverage(keys, vals, unit_off, counts, width, row_lo, row_off, row_cnt, skeys, svals,
                  labels, unit_label, out_off, out_pix, out_w, out_counts, fill):
    """Label raster and exact border coverage of every unit from its deltas
    (:func:`ring_deltas`), in one scanline walk per unit (units in parallel; the units must
    not overlap).

    ``fill == 0``: sorts each unit's deltas by row (counting sort) and column into
    ``skeys``/``svals`` (``keys``/``vals`` are overwritten as scratch; ``row_lo[u]``: the
    first row the unit's deltas can fall on, ``row_off``: offsets (n_units + 1) into the int64
    scratch ``row_cnt``, at least the unit's row span + 1 slots each), writes
    ``unit_label[u]`` into ``labels`` (flat, zeros from the caller) on every pixel the unit
    covers wholly (coverage 1, to :data:`COVER_EPS`) and counts in ``out_counts[u]`` the
    pixels it covers in part. ``fill == 1`` (after allocating ``out_pix``/``out_w`` from the
    cumulative counts in ``out_off``): writes those pixels (flat index) and their coverage
    (0-1 share of the pixel's area, float64), from the sorted deltas.

    So ``sum_p cov(u, p) v[p] = sum_{labels == unit_label[u]} v + sum_i out_w[i] v[out_pix[i]]``
    over the unit's records: a pixel is either whole in one unit (labelled) or recorded for
    every unit that covers part of it (its label stays 0).
    """
    w1 = width + 1
    for u in numba.prange(counts.size):
        lab = unit_label[u]
        a = unit_off[u]
        b = a + counts[u]
        if not fill and b > a:
            ro = row_off[u]
            _bucket_rows(keys, vals, a, b, w1, row_lo[u], row_cnt, ro, row_off[u + 1] - ro - 1,
                         skeys, svals)
        n = 0
        o = out_off[u] if fill else 0
        run = 0.0
        i = a
        while i < b:
            key = skeys[i]
            row = key // w1
            col = key % w1 - 1
            run += svals[i]
            i += 1
            while i < b and skeys[i] == key:
                run += svals[i]
                i += 1
            whole = abs(run - 1.0) <= COVER_EPS
            part = not whole and abs(run) > COVER_EPS
            if col >= 0:
                p = row * width + col
                if whole:
                    if not fill:
                        labels[p] = lab
                elif part:
                    if fill:
                        out_pix[o + n] = p
                        out_w[o + n] = run
                    n += 1
            # the cells up to the next delta in this row hold the running sum
            same_row = i < b and skeys[i] // w1 == row
            nxt = skeys[i] % w1 - 1 if same_row else width
            c0 = max(col + 1, 0)
            c1 = min(nxt, width)
            if c1 > c0:
                if whole:
                    if not fill:
                        base = row * width
                        for c in range(c0, c1):
                            labels[base + c] = lab
                elif part:  # an edge running along pixel centres
                    if fill:
                        for c in range(c0, c1):
                            out_pix[o + n + c - c0] = row * width + c
                            out_w[o + n + c - c0] = run
                    n += c1 - c0
            if not same_row:
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
                    cell_row, pw, ox, fx, bu_weight, floor, row_start,
                    hist, cell_wsum, cell_fsum, cell_label, bad, scratch):
    """One pass over every raster: per label (0 = no unit) the pixel count of each class code
    and, with a population grid, per population cell the summed pixel weight (all pixels and
    flooded pixels, :func:`_weight`; float64) and the one label its pixels carry (-2:
    several); also the number of flood values other than 0, 1 and ``nodata``.

    Rows ``row_start[k]:row_start[k + 1]`` form parallel block ``k``; with a population grid
    the blocks must hold whole cell rows (the cell arrays are then written by one block only).
    ``hist``: int64 (n_blocks, n_labels, 32) private histograms (summed by the caller);
    ``cell_wsum``/``cell_fsum``: float64 (n_cells,) zeros; ``cell_label``: int64 (n_cells,)
    filled with -1; hazard row ``r`` is in cell row ``cell_row[r]`` (-1 outside), cell column
    ``cc`` (0 .. ``pw`` - 1; ``pw`` 0: no population grid) covers hazard columns
    ``ox + cc * fx`` ... ``ox + (cc + 1) * fx - 1``. ``bad``: int64 (n_blocks,) zeros, the
    count of bad flood values per block. ``scratch``: uint8 (n_blocks, width).

    Each cell's share of a row is reduced to integer counts (pixels, built-up, flooded,
    flooded built-up) before one float update, so the weights need no per-pixel float adds.
    """
    h, w = labels.shape
    nb = hist.shape[0]
    for blk in numba.prange(nb):
        buf = scratch[blk]
        nbad = 0
        for r in range(row_start[blk], row_start[blk + 1]):
            _span_codes(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata, r, 0, w, buf)
            for c in range(w):
                f = flood[r, c]
                nbad += (f > 1) & (f != nodata)
            for c in range(w):
                hist[blk, labels[r, c], buf[c]] += 1
            if pw == 0:
                continue
            cr = cell_row[r]
            if cr < 0:
                continue
            base = cr * pw
            for cc in range(pw):
                c0 = max(0, ox + cc * fx)
                c1 = min(w, ox + (cc + 1) * fx)
                if c1 <= c0:
                    continue
                k = base + cc
                l0 = labels[r, c0]
                nbuilt = 0
                nfl = 0
                nflb = 0
                nsame = 0
                for c in range(c0, c1):
                    code = buf[c]
                    bt = (code >> 3) & 1  # BUILT
                    fb = (code >> 1) & 1  # FLOODED
                    nbuilt += bt
                    nfl += fb
                    nflb += bt & fb
                    nsame += labels[r, c] == l0
                npx = c1 - c0
                if bu_weight == 0:
                    cell_wsum[k] += npx
                    cell_fsum[k] += nfl
                else:
                    cell_wsum[k] += floor * (npx - nbuilt) + nbuilt
                    cell_fsum[k] += floor * (nfl - nflb) + nflb
                lab = l0 if nsame == npx else -2
                cl = cell_label[k]
                if cl == -1:
                    cell_label[k] = lab
                elif cl != lab:
                    cell_label[k] = -2
        bad[blk] = nbad


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
