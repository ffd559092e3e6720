"""Issue 21 ("fast first run"): :func:`eo_drr.kernels.coverage_cpu.unit_coverage` sorts and walks
in one function (the row sort of the old ``rowsort_cpu`` module and the span helper inlined by
hand) so that numba compiles it ~0.6 s faster. Its results must not change: the old
formulation below (verbatim, docstrings dropped) runs beside the new kernel on every call of
the indicators pipeline (the demo, random rasters under awkward units with edges along pixel
centres and pixel edges, real Natural Earth states of Brazil) and every output array (sorted
deltas, counts, spans, records) must be bit-identical."""

from __future__ import annotations

from kernel_identity_scenes import run_scenes, shadow
from test_zonal_kernel_identity import demo  # noqa: F401 - the fixture

from eo_drr.kernels import coverage_cpu
from eo_drr.kernels._jit import njit_serial, threaded
from eo_drr.kernels.coverage_cpu import COVER_EPS
from eo_drr.sendai.indicators import indicators_by_unit


@njit_serial
def sort_run(k, v, tk, tv, a, b):
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
def bucket_rows(rows, cols, vals, a, b, lo, ends, ro, nr, scols, svals):
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
        sort_run(scols, svals, cols, vals, s, e)
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


@threaded(lambda *a: a[4].size)
def old_unit_coverage(
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
    for u in range(start, stop):
        a = unit_off[u]
        b = a + counts[u]
        ro = row_off[u]
        nr = row_off[u + 1] - ro - 1
        lo = row_lo[u]
        if not fill:
            if b > a:
                bucket_rows(rows, cols, vals, a, b, lo, row_end, ro, nr, scols, svals)
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


def test_unit_coverage_is_bit_identical_to_the_old_formulation(demo, monkeypatch):  # noqa: F811
    calls: list = []
    new = coverage_cpu.unit_coverage
    monkeypatch.setattr(coverage_cpu, "unit_coverage", shadow(new, old_unit_coverage, calls))
    run_scenes(indicators_by_unit, demo)
    assert len(calls) >= 14  # two passes (count, fill) per layer of every scene
