"""Allocation-free sorts of the coverage deltas (numba serial helpers of
:func:`eo_drr.kernels.coverage_cpu.unit_coverage`): a counting sort by pixel row, then a short
sort by column within each row (insertion sort on runs of 16, then bottom-up merges).
"""

from __future__ import annotations

from eo_drr.kernels._jit import njit_serial


@njit_serial
def sort_run(k, v, tk, tv, a, b):
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
def bucket_rows(rows, cols, vals, a, b, lo, ends, ro, nr, scols, svals):
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
        sort_run(scols, svals, cols, vals, s, e)
        s = e
