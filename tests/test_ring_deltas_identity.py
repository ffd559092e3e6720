"""Issue 21 ("fast first run"): :func:`eo_drr.kernels.coverage_cpu.ring_deltas`' edge helper
swaps its end points without a tuple, and takes minima, maxima and integer parts without the
``min``/``max``/``int`` builtins (each a function numba compiles on its own), so that numba
compiles it faster. Its results must not change: the old formulation below (verbatim,
docstrings dropped) runs beside the new kernel on every call of the indicators pipeline (the
scenes of :mod:`kernel_identity_scenes`) and on random rings with vertices on pixel edges,
pixel centres and off the raster, and every output array must be bit-identical."""

from __future__ import annotations

import numpy as np
from kernel_identity_scenes import run_scenes, shadow
from test_zonal_kernel_identity import demo  # noqa: F401 - the fixture

from eo_drr.kernels import coverage_cpu
from eo_drr.kernels._jit import njit_inner, threaded
from eo_drr.sendai.indicators import indicators_by_unit


@njit_inner
def old_edge(x0, y0, x1, y1, sign, width, height, rows, cols, vals, pos):
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
            pos = old_put(rows, cols, vals, pos, r, c0, width, d - d * xmf)
            pos = old_put(rows, cols, vals, pos, r, c0 + 1, width, d * xmf)
        else:
            s = 1.0 / (hi - lo)
            x0f = lo - lo_f
            a0 = 0.5 * s * (1.0 - x0f) * (1.0 - x0f)
            x1f = hi - c1 + 1.0
            am = 0.5 * s * x1f * x1f
            pos = old_put(rows, cols, vals, pos, r, c0, width, d * a0)
            if c1 == c0 + 2:
                pos = old_put(rows, cols, vals, pos, r, c0 + 1, width, d * (1.0 - a0 - am))
            else:
                a1 = s * (1.5 - x0f)
                pos = old_put(rows, cols, vals, pos, r, c0 + 1, width, d * (a1 - a0))
                for c in range(c0 + 2, c1 - 1):
                    pos = old_put(rows, cols, vals, pos, r, c, width, d * s)
                a2 = a1 + (c1 - c0 - 3) * s
                pos = old_put(rows, cols, vals, pos, r, c1 - 1, width, d * (1.0 - a2 - am))
            pos = old_put(rows, cols, vals, pos, r, c1, width, d * am)
    return pos


@njit_inner
def old_put(rows, cols, vals, pos, row, col, width, v):
    if col >= width:
        return pos
    if col < 0:
        col = -1
    rows[pos] = row
    cols[pos] = col
    vals[pos] = v
    return pos + 1


@threaded(lambda *a: a[4].size - 1)
def old_ring_deltas(
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
                pos = old_edge(
                    xs[i], ys[i], xs[i + 1], ys[i + 1], sign, width, height, rows, cols, vals, pos
                )
        counts[u] = pos - unit_off[u]


def test_ring_deltas_is_bit_identical_to_the_old_formulation(demo, monkeypatch):  # noqa: F811
    calls: list = []
    new = coverage_cpu.ring_deltas
    monkeypatch.setattr(coverage_cpu, "ring_deltas", shadow(new, old_ring_deltas, calls))
    run_scenes(indicators_by_unit, demo)
    assert len(calls) >= 7  # one per layer of every scene


def test_ring_deltas_random_rings_bit_identical():
    rng = np.random.default_rng(21)
    w, h = 37, 29
    calls: list = []
    run = shadow(coverage_cpu.ring_deltas, old_ring_deltas, calls)
    for trial in range(60):
        n_units = int(rng.integers(1, 5))
        xs, ys, ring_start, exterior, unit_ring_start = [], [], [0], [], [0]
        for _u in range(n_units):
            for k in range(int(rng.integers(1, 3))):
                m = int(rng.integers(3, 9))
                if trial % 3 == 0:  # vertices on pixel edges and centres
                    vx = rng.integers(-4, 2 * w + 8, m) / 2.0
                    vy = rng.integers(-4, 2 * h + 8, m) / 2.0
                else:
                    vx = rng.uniform(-5, w + 5, m)
                    vy = rng.uniform(-5, h + 5, m)
                vx[rng.random(m) < 0.2] = vx[0]  # vertical edges
                vy[rng.random(m) < 0.2] = vy[0]  # horizontal edges
                xs.extend([*vx, vx[0]])
                ys.extend([*vy, vy[0]])
                ring_start.append(len(xs))
                exterior.append(1 if k == 0 else 0)
            unit_ring_start.append(len(exterior))
        xs, ys = np.array(xs), np.array(ys)
        ring_start = np.array(ring_start, np.int64)
        bound = np.zeros(len(xs) - 1, np.int64)
        for a, b in zip(ring_start[:-1], ring_start[1:]):
            bound[a : b - 1] = coverage_cpu.delta_bound(xs[a:b], ys[a:b])
        per_unit = [
            bound[ring_start[unit_ring_start[u]] : ring_start[unit_ring_start[u + 1]]].sum()
            for u in range(n_units)
        ]
        unit_off = np.zeros(n_units + 1, np.int64)
        np.cumsum(per_unit, out=unit_off[1:])
        size = int(unit_off[-1])
        run(
            xs,
            ys,
            ring_start,
            np.array(exterior, np.uint8),
            np.array(unit_ring_start, np.int64),
            unit_off,
            w,
            h,
            np.zeros(size, np.int32),
            np.zeros(size, np.int32),
            np.zeros(size, np.float64),
            np.zeros(n_units, np.int64),
        )
    assert len(calls) == 60
