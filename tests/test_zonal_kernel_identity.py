"""Issue 21 ("fast first run"): :func:`eo_drr.kernels.zonal_cpu.interior_counts` computes the
class codes itself (no helper compiled on its own), finishes a cell row from one place and
passes no literal-typed argument, so that numba compiles it ~1 s faster. Its results must not
change: the old formulation below (verbatim, docstrings dropped) runs beside the new kernel on
every call of the indicators pipeline (the demo, random rasters with nodata under awkward
units, real Natural Earth states of Brazil) and every output array must be bit-identical (a
version with the cell-row helper written into the kernel failed here: LLVM rounded the
fast-math population sums differently in the last bits)."""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray
import xarray as xr
from kernel_identity_scenes import run_scenes, shadow

from eo_drr.kernels import zonal_cpu
from eo_drr.kernels._jit import njit_serial, threaded
from eo_drr.kernels.zonal_cpu import BUILT, CROP, FLOODED, NEW_BUILT, OBSERVED
from eo_drr.sendai.indicators import indicators_by_unit
from eo_drr.sendai.units import read_units


@njit_serial
def _weight(code, bu_weight, floor):
    if bu_weight == 0:
        return 1.0
    return 1.0 if (code & BUILT) != 0 else floor


@njit_serial
def _span_codes(flood, lc, lut, bu, bb, has_lc, has_bu, has_bb, nodata, r, c0, c1, buf):
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
def old_interior_counts(
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


def _open(path):
    return rioxarray.open_rasterio(path).squeeze("band", drop=True)


@pytest.fixture(scope="module")
def demo(small_demo_scene):
    s = small_demo_scene
    pop_dir = next((s.root / "demo-population").glob("*/total.tif")).parent
    bands = ("total", "female", "male")
    return {
        "flood": _open(s.truth["flood"]),
        "units": read_units(s.admin_units, layer="level2"),
        "layers": dict(
            landcover=_open(s.truth["landcover"]),
            builtup=_open(s.truth["builtup_t2"]),
            builtup_before=_open(s.truth["builtup_t1"]),
            population=xr.Dataset({b: _open(pop_dir / f"{b}.tif") for b in bands}),
        ),
    }


def test_interior_counts_is_bit_identical_to_the_old_formulation(demo, monkeypatch):
    calls: list = []
    new = zonal_cpu.interior_counts
    monkeypatch.setattr(zonal_cpu, "interior_counts", shadow(new, old_interior_counts, calls))
    run_scenes(indicators_by_unit, demo)
    assert len(calls) >= 7  # every scene reached the kernel (overlapping units: several layers)
