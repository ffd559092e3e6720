"""Numba CPU kernels for exact zonal statistics: the one pass over every input raster.

The zonal sum of a raster ``v`` over a polygon ``u`` is ``sum_p cov(u, p) * v[p]`` with
``cov(u, p)`` the share (0-1) of pixel ``p`` inside ``u``. Writing ``lab[p]`` for the unit that
covers ``p`` wholly (0 where none does; non-overlapping units; held as row spans, never as a
raster) and ``B(u)`` for the pixels ``u`` covers in part,

    sum_p cov(u, p) v[p] = sum_{p: lab[p] = u} v[p]  +  sum_{p in B(u)} cov(u, p) v[p]

The spans and the border records with their coverage come from
:mod:`eo_drr.kernels.coverage_cpu` (signed-area scanline coverage, Levien 2016).

:func:`interior_counts` is then the one pass over every input raster: the first term as a
histogram of each unit's spans, the second from the border records of each row while its class codes
are in cache, population cells' weight sums and, once a cell row is complete, the persons of
cells cut by unit borders (each thread with private accumulators).

Coordinates are in pixel units of the raster (column, row; row down). Output and scratch
arrays are allocated by the caller (numpy); kernels never allocate.
:class:`eo_drr.sendai.zonal.InteriorPass` builds :func:`interior_counts`' argument list.

Compile time (issue 21, "fast first run"): numba compiles every helper a kernel calls on its
own, down to machine code, before LLVM inlines it again into the caller, once per call site
and argument types. So the class codes are computed in the kernel itself, :func:`_flush_cells`
is called from one place (also for the block's last cell row) and no argument of it starts as a
bare integer literal (``r0 = 0`` made numba compile it twice: once with ``Literal[int](0)``);
together ~1 s of a cold first run. :func:`_flush_cells` stays a helper: written into the kernel
it lets LLVM round the fast-math population sums differently in the last bits.
"""

from __future__ import annotations

import numba
import numpy as np

from eo_drr.kernels._jit import njit_inner, threaded


def blocks(h: int) -> int:
    """Row blocks (private accumulators) of the parallel passes over ``h`` rows."""
    return max(1, min(h, numba.get_num_threads() * 2))


#: bits of the per-pixel class code (used by :mod:`eo_drr.sendai.footprint` too)
OBSERVED, FLOODED, CROP, BUILT, NEW_BUILT = 1, 2, 4, 8, 16
N_CODES = 32


@njit_inner
def _weight(code, bu_weight, floor):
    """Dasymetric weight of a pixel: 1 for built-up, ``floor`` otherwise (``bu_weight`` 0:
    every pixel 1)."""
    if bu_weight == 0:
        return 1.0
    return 1.0 if (code & BUILT) != 0 else floor


@njit_inner
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


@threaded(lambda *a: a[27].shape[0])
def interior_counts(
    start,
    stop,
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
      :func:`eo_drr.kernels.coverage_cpu.unit_coverage`);
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
    * ``bad`` int64 (n_blocks,): the largest flood value other than ``nodata`` and 2 (the
      flood product's reference water, a valid value), so > 1 only for values to refuse.

    Rows ``row_start[k]:row_start[k + 1]`` form block ``k``; with a population grid the
    blocks must hold whole cell rows. Hazard row ``r`` is in cell row ``cell_row[r]``, column
    ``c`` in cell column ``cell_col[c]`` (-1 outside); cell column ``cc`` covers hazard columns
    ``ox + cc * fx`` ... ``ox + (cc + 1) * fx - 1``. Scratch (numpy zeros): ``codes`` uint8
    and ``lrows`` int32 (n_blocks, hazard rows per cell row (1 without cells), width): the
    class codes and unit labels of the current cell row's rows (labels painted from the
    spans: no label raster), ``acc`` int32 (n_blocks, 5, width).

    A cell's pixels are first reduced to integer counts per column (built-up, flooded,
    flooded built-up, same label as in the cell row's first row, pixels; plain vector loops
    with no float adds or scatter); when its cell row is complete (:func:`_flush_cells`, at the
    next cell row or at the block's end, ``r == end``) they are summed per cell, the persons
    per unit of weight are then known, and the cut cells and border records of those rows are
    placed while the rows' codes are still in cache.
    """
    h, w = flood.shape
    for blk in range(start, stop):
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
        two = np.uint8(2)
        cur = np.int64(-1)  # cell row being summed (not a literal: see the module docstring)
        r0 = row_start[blk]
        end = row_start[blk + 1]
        for r in range(row_start[blk], end + 1):  # r == end: flush the last cell row
            cr = cell_row[r] if pw > 0 and r < end else -1
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
            if r == end:
                break
            if cr != cur:
                cur = cr
                r0 = r
            buf = cbk[r - r0] if cr >= 0 else cbk[0]
            lrow = lbk[r - r0] if cr >= 0 else lbk[0]
            # class codes of row r (the numpy reference is
            # ``eo_drr.sendai.footprint.code_raster``): OBSERVED where ``flood`` is not
            # ``nodata``, FLOODED where it is 1, CROP (and BUILT when there is no built-up
            # layer) from the land-cover LUT, BUILT from ``bu`` != 0, NEW_BUILT where built-up
            # and ``bb`` == 0. The flags are tested once per row, so each loop is a plain,
            # vectorisable loop (with the flags inside the pixel loop the pass runs ~25x slower)
            for c in range(w):
                f = flood[r, c]
                buf[c] = (OBSERVED if f != nodata else 0) | (FLOODED if f == 1 else 0)
            if has_lc:
                keep = CROP if has_bu else CROP | BUILT
                for c in range(w):
                    buf[c] |= lut[lc[r, c]] & keep
            if has_bu:
                for c in range(w):
                    buf[c] |= BUILT if bu[r, c] != 0 else 0
            if has_bb:
                for c in range(w):
                    if (buf[c] & BUILT) != 0 and bb[r, c] == 0:
                        buf[c] |= NEW_BUILT
            for c in range(w):
                f = flood[r, c]
                mx = max(mx, zero if (f == nd) | (f == two) else f)
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
        bad[blk] = mx


@threaded(lambda *a: a[-1].shape[0])
def value_counts_u8(start, stop, x, out):
    """Histogram of a uint8 array (flat) into ``out`` int64 (n_blocks, 256)."""
    n = x.size
    nb = out.shape[0]
    step = (n + nb - 1) // nb
    for blk in range(start, stop):
        for i in range(blk * step, min(n, (blk + 1) * step)):
            out[blk, x[i]] += 1
