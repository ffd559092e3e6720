"""Numba CPU kernels for exact zonal statistics: spans of wholly covered pixels per unit,
exact polygon-pixel coverage only along unit borders.

The zonal sum of a raster ``v`` over a polygon ``u`` is ``sum_p cov(u, p) * v[p]`` with
``cov(u, p)`` the share (0-1) of pixel ``p`` inside ``u``. Writing ``lab[p]`` for the unit that
covers ``p`` wholly (0 where none does; non-overlapping units; held as row spans, never as a
raster) and ``B(u)`` for the pixels ``u`` covers in part,

    sum_p cov(u, p) v[p] = sum_{p: lab[p] = u} v[p]  +  sum_{p in B(u)} cov(u, p) v[p]

Both terms come from the signed-area accumulation used by scanline font rasterisers (Levien,
"font-rs", 2016; the same idea as libart and FreeType's "gray" rasteriser): every polygon edge
adds, to the cells it crosses in each pixel row, the signed area between the edge and the
cell's right side, so that the running sum of these deltas along a row is the exact area
coverage of each cell (closed rings of straight edges; holes subtract because their rings run
the other way). :func:`ring_deltas` writes each unit's deltas; :func:`unit_coverage` sorts
them by row (counting sort) and column (short per-row merge sort) and walks each row once:
runs of coverage 1 become spans (unit, row, columns), fractional cells border records (unit,
pixel, coverage), both grouped by raster row (:func:`record_offsets`). The work is
proportional to the border length, with no GDAL rasterisation, no label raster and no sort
over a whole unit (exactextract (Baston 2019) computes the same fractions, but for every
pixel of each unit's bounding box).

:func:`interior_counts` is then the one pass over every input raster: the first term as a
histogram of each unit's spans, the second from the border records of each row while its class codes
are in cache, population cells' weight sums and, once a cell row is complete, the persons of
cells cut by unit borders (each thread with private accumulators).

Coordinates are in pixel units of the raster (column, row; row down). Output and scratch
arrays are allocated by the caller (numpy); kernels never allocate.
:class:`eo_drr.sendai.zonal.InteriorPass` builds :func:`interior_counts`' argument list.
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
def _edge(x0, y0, x1, y1, sign, width, height, rows, cols, vals, pos):
    """Deltas of one edge into rows/cols/vals from ``pos``; returns the new position.

    Columns left of the raster are clamped to -1 (those deltas only feed the running sum);
    cells right of the raster are dropped (they affect no cell inside).
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


@njit_serial
def _put(rows, cols, vals, pos, row, col, width, v):
    if col >= width:
        return pos
    if col < 0:
        col = -1
    rows[pos] = row
    cols[pos] = col
    vals[pos] = v
    return pos + 1


@njit_parallel
def ring_deltas(
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
                pos = _edge(
                    xs[i], ys[i], xs[i + 1], ys[i + 1], sign, width, height, rows, cols, vals, pos
                )
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
def _bucket_rows(rows, cols, vals, a, b, lo, ends, ro, nr, scols, svals):
    """Counting sort of the deltas ``a:b`` by row (``rows - lo``, ``nr`` rows) into
    ``scols/svals[a:b]``, then each row's deltas by column (``cols/vals`` as scratch);
    ``ends[ro + j]``: end of row ``j``'s deltas, relative to ``a``."""
    for j in range(ro, ro + nr + 1):
        ends[j] = 0
    for i in range(a, b):
        ends[ro + 1 + rows[i] - lo] += 1
    for j in range(ro + 1, ro + nr + 1):
        ends[j] += ends[j - 1]
    for i in range(a, b):
        j = ro + rows[i] - lo
        p = a + ends[j]
        ends[j] += 1
        scols[p] = cols[i]
        svals[p] = vals[i]
    s = a
    for j in range(ro, ro + nr):  # ends[j] is now the end of row j
        e = a + ends[j]
        _sort_run(scols, svals, cols, vals, s, e)
        s = e


@njit_serial
def _emit_span(u, row, s0, s1, span_cnt, jj, span_unit, span_row, span_c0, span_c1, fill):
    if fill:
        o = span_cnt[jj]
        span_unit[o] = u
        span_row[o] = row
        span_c0[o] = s0
        span_c1[o] = s1
    span_cnt[jj] += 1


@njit_parallel
def unit_coverage(
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
    for u in numba.prange(counts.size):
        a = unit_off[u]
        b = a + counts[u]
        ro = row_off[u]
        nr = row_off[u + 1] - ro - 1
        lo = row_lo[u]
        if not fill:
            if b > a:
                _bucket_rows(rows, cols, vals, a, b, lo, row_end, ro, nr, scols, svals)
            else:
                for j in range(ro, ro + nr + 1):
                    row_end[j] = 0
            for j in range(ro, ro + nr + 1):
                row_cnt[j] = 0
                span_cnt[j] = 0
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
                                _emit_span(
                                    u,
                                    row,
                                    s0,
                                    s1,
                                    span_cnt,
                                    jj,
                                    span_unit,
                                    span_row,
                                    span_c0,
                                    span_c1,
                                    fill,
                                )
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
                _emit_span(
                    u, row, s0, s1, span_cnt, jj, span_unit, span_row, span_c0, span_c1, fill
                )
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


# ---------------------------------------------------------------------------------------------
# the fused interior pass


def blocks(h: int) -> int:
    """Row blocks (private accumulators) of the parallel passes over ``h`` rows."""
    return max(1, min(h, numba.get_num_threads() * 2))


#: bits of the per-pixel class code (used by :mod:`eo_drr.sendai.footprint` too)
OBSERVED, FLOODED, CROP, BUILT, NEW_BUILT = 1, 2, 4, 8, 16
N_CODES = 32


@njit_serial
def _weight(code, bu_weight, floor):
    """Dasymetric weight of a pixel: 1 for built-up, ``floor`` otherwise (``bu_weight`` 0:
    every pixel 1)."""
    if bu_weight == 0:
        return 1.0
    return 1.0 if (code & BUILT) != 0 else floor


@njit_serial
def _span_codes(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata, r, c0, c1, buf):
    """Class codes of pixels ``c0:c1`` of row ``r`` into ``buf[:c1 - c0]`` (uint8): OBSERVED
    where ``flood`` is not ``nodata``, FLOODED where it is 1, CROP (and BUILT when there is no
    built-up layer) from the land-cover LUT, BUILT from ``bu`` != 0, NEW_BUILT where built-up
    and ``bb`` == 0 (the numpy reference is ``eo_drr.sendai.footprint.code_raster``). The
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


@njit_serial
def _flush_cells(
    lr,
    r0,
    r1,
    w,
    cr,
    pw,
    ox,
    fx,
    cell_col,
    bu_weight,
    floor,
    acc,
    cb,
    persons,
    want_pop,
    rec_row_off,
    rec_unit,
    rec_pix,
    rec_w,
    cell_wsum,
    cell_fsum,
    cell_label,
    pop,
    exp,
):
    """Finish cell row ``cr`` (hazard rows ``r0:r1``, their unit labels ``lr[r - r0]``):
    reduce the per-column counts (``acc``, see :func:`interior_counts`) to each cell's weight
    sums and label; place the persons of its cells cut by unit borders on their labelled
    pixels, and of the border records of its rows, from the rows' class codes ``cb`` (still in
    cache); zero ``acc``."""
    nbuilt = acc[0]
    nfl = acc[1]
    nflb = acc[2]
    same = acc[3]
    npx = acc[4]
    nbands = persons.shape[1]
    k0 = cr * pw
    for cc in range(pw):
        c0 = max(0, ox + cc * fx)
        c1 = min(w, ox + (cc + 1) * fx)
        if c1 <= c0:
            continue
        k = k0 + cc
        l0 = lr[0, c0]
        sb = 0
        sf = 0
        sfb = 0
        ss = 0
        sn = 0
        for c in range(c0, c1):
            sb += nbuilt[c]
            sf += nfl[c]
            sfb += nflb[c]
            ss += same[c] if lr[0, c] == l0 else 0
            sn += npx[c]
        if sn == 0:
            continue
        if bu_weight == 0:
            cell_wsum[k] += sn
            cell_fsum[k] += sf
        else:
            cell_wsum[k] += floor * (sn - sb) + sb
            cell_fsum[k] += floor * (sf - sfb) + sfb
        lab = l0 if ss == sn else -2
        cl = cell_label[k]
        if cl == -1:
            cell_label[k] = lab
        elif cl != lab:
            cell_label[k] = -2
        if cell_label[k] != -2 or nbands == 0 or cell_wsum[k] <= 0.0:
            continue
        # a cell cut by unit borders: its persons on each labelled pixel
        inv = 1.0 / cell_wsum[k]
        for r in range(r0, r1):
            crow = cb[r - r0]
            for c in range(c0, c1):
                lb = lr[r - r0, c]
                if lb == 0:
                    continue
                code = crow[c]
                flooded = (code & FLOODED) != 0
                if not (flooded or want_pop):
                    continue
                wt = _weight(code, bu_weight, floor) * inv
                for b in range(nbands):
                    v = persons[k, b] * wt
                    if want_pop:
                        pop[lb - 1, b] += v
                    if flooded:
                        exp[lb - 1, b] += v
    if nbands:
        for r in range(r0, r1):
            crow = cb[r - r0]
            for i in range(rec_row_off[r], rec_row_off[r + 1]):
                c = rec_pix[i] - r * w
                cc = cell_col[c]
                if cc < 0:
                    continue
                k = k0 + cc
                if cell_wsum[k] <= 0.0:
                    continue
                code = crow[c]
                flooded = (code & FLOODED) != 0
                wt = rec_w[i] * _weight(code, bu_weight, floor) / cell_wsum[k]
                u = rec_unit[i]
                for b in range(nbands):
                    v = persons[k, b] * wt
                    if want_pop:
                        pop[u, b] += v
                    if flooded:
                        exp[u, b] += v
    for j in range(5):
        for c in range(w):
            acc[j, c] = 0


@njit_parallel
def interior_counts(
    flood,
    lc,
    lut,
    bu,
    bb,
    has_lc,
    has_bu,
    has_bb,
    nodata,
    cell_row,
    cell_col,
    pw,
    ox,
    fx,
    bu_weight,
    floor,
    persons,
    want_pop,
    span_row_off,
    span_unit,
    span_c0,
    span_c1,
    rec_row_off,
    rec_unit,
    rec_pix,
    rec_w,
    row_start,
    hist,
    areas,
    pop,
    exp,
    cell_wsum,
    cell_fsum,
    cell_label,
    bad,
    codes,
    lrows,
    acc,
):
    """The one pass over every raster for one layer of non-overlapping units (rows in
    parallel blocks; private accumulators per block, summed by the caller):

    * ``hist`` int64 (n_blocks, n_units, 32): pixel count of each class code over the unit's
      spans of wholly covered pixels (``span_*``, row offsets ``span_row_off``, height + 1;
      :func:`unit_coverage`);
    * ``areas`` float64 (n_blocks, n_units, 32): covered pixels (share 0-1 each) of each class
      code over the unit's border records ``rec_unit``/``rec_pix``/``rec_w`` (row offsets
      ``rec_row_off``, height + 1);
    * with a population grid (``pw`` > 0 cells per row): per cell the summed pixel weight
      (``cell_wsum``: all pixels, ``cell_fsum``: flooded pixels; :func:`_weight`; float64
      zeros) and the one label its pixels carry (``cell_label``, int64 filled with -1; unit
      index + 1 for pixels whole in a unit, 0 for the others; -2: several); per unit the
      persons (``persons`` float64 (n_cells, n_bands), a cell's shared among its pixels by
      weight) of the cells cut by unit borders on its labelled pixels and
      of its border records (coverage-weighted): ``exp`` on flooded pixels and, with
      ``want_pop``, ``pop`` on all, float64 (n_blocks, n_units, n_bands). Cells with a single
      label are left to the caller (from ``cell_label``, ``cell_wsum``, ``cell_fsum``);
    * ``bad`` int64 (n_blocks,): the largest flood value other than ``nodata`` (> 1: refuse).

    Rows ``row_start[k]:row_start[k + 1]`` form block ``k``; with a population grid the
    blocks must hold whole cell rows. Hazard row ``r`` is in cell row ``cell_row[r]``, column
    ``c`` in cell column ``cell_col[c]`` (-1 outside); cell column ``cc`` covers hazard columns
    ``ox + cc * fx`` ... ``ox + (cc + 1) * fx - 1``. Scratch (numpy zeros): ``codes`` uint8
    and ``lrows`` int32 (n_blocks, hazard rows per cell row (1 without cells), width): the
    class codes and unit labels of the current cell row's rows (labels painted from the
    spans: no label raster), ``acc`` int32 (n_blocks, 5, width).

    A cell's pixels are first reduced to integer counts per column (built-up, flooded,
    flooded built-up, same label as in the cell row's first row, pixels; plain vector loops
    with no float adds or scatter); when its cell row is complete (:func:`_flush_cells`) they
    are summed per cell, the persons per unit of weight are then known, and the cut cells and
    border records of those rows are placed while the rows' codes are still in cache.
    """
    h, w = flood.shape
    nb = hist.shape[0]
    for blk in numba.prange(nb):
        cbk = codes[blk]
        lbk = lrows[blk]
        a = acc[blk]
        nbuilt = a[0]
        nfl = a[1]
        nflb = a[2]
        same = a[3]
        npx = a[4]
        mx = np.uint8(0)
        nd = np.uint8(nodata)
        zero = np.uint8(0)
        cur = -1  # cell row being summed
        r0 = 0
        for r in range(row_start[blk], row_start[blk + 1]):
            cr = cell_row[r] if pw > 0 else -1
            if cr != cur and cur >= 0:
                _flush_cells(
                    lbk,
                    r0,
                    r,
                    w,
                    cur,
                    pw,
                    ox,
                    fx,
                    cell_col,
                    bu_weight,
                    floor,
                    a,
                    cbk,
                    persons,
                    want_pop,
                    rec_row_off,
                    rec_unit,
                    rec_pix,
                    rec_w,
                    cell_wsum,
                    cell_fsum,
                    cell_label,
                    pop[blk],
                    exp[blk],
                )
            if cr != cur:
                cur = cr
                r0 = r
            buf = cbk[r - r0] if cr >= 0 else cbk[0]
            lrow = lbk[r - r0] if cr >= 0 else lbk[0]
            _span_codes(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata, r, 0, w, buf)
            for c in range(w):
                f = flood[r, c]
                mx = max(mx, zero if f == nd else f)
            for i in range(span_row_off[r], span_row_off[r + 1]):
                u = span_unit[i]
                for c in range(span_c0[i], span_c1[i]):
                    hist[blk, u, buf[c]] += 1
            base = r * w
            for i in range(rec_row_off[r], rec_row_off[r + 1]):
                areas[blk, rec_unit[i], buf[rec_pix[i] - base]] += rec_w[i]
            if cr < 0:
                continue
            for c in range(w):
                lrow[c] = 0
            for i in range(span_row_off[r], span_row_off[r + 1]):
                lab = span_unit[i] + 1
                for c in range(span_c0[i], span_c1[i]):
                    lrow[c] = lab
            lfirst = lbk[0]
            for c in range(w):
                code = buf[c]
                bt = (code >> 3) & 1  # BUILT
                fb = (code >> 1) & 1  # FLOODED
                nbuilt[c] += bt
                nfl[c] += fb
                nflb[c] += bt & fb
                same[c] += 1 if lrow[c] == lfirst[c] else 0
                npx[c] += 1
        if cur >= 0:
            _flush_cells(
                lbk,
                r0,
                row_start[blk + 1],
                w,
                cur,
                pw,
                ox,
                fx,
                cell_col,
                bu_weight,
                floor,
                a,
                cbk,
                persons,
                want_pop,
                rec_row_off,
                rec_unit,
                rec_pix,
                rec_w,
                cell_wsum,
                cell_fsum,
                cell_label,
                pop[blk],
                exp[blk],
            )
        bad[blk] = mx


@njit_parallel
def value_counts_u8(x, out):
    """Histogram of a uint8 array (flat) into ``out`` int64 (n_blocks, 256)."""
    n = x.size
    nb = out.shape[0]
    step = (n + nb - 1) // nb
    for blk in numba.prange(nb):
        for i in range(blk * step, min(n, (blk + 1) * step)):
            out[blk, x[i]] += 1
