"""Benchmark the eo_drr kernels against their memory bound and against peer libraries.

    python benchmarks/bench_kernels.py [--quick] [--json out.json] [--only NAME ...]

For every kernel: the first call (includes numba compilation unless cached) and the median of
several calls after it; in the same run, a trivial numba kernel with the same memory traffic
(same inputs read, same output written and freshly allocated as the kernel's is, no
arithmetic to speak of: the bound; for histograms, one read pass), timed alternately with the
kernel (``bound/k`` is the median of the per-pair ratios), and peers
(numpy; numexpr; xarray-spatial where it has the index; scipy.ndimage for filters;
scikit-image for Otsu) when installed. Ratios: ``bound/kernel`` (1.0 = at the memory bound)
and ``peer/kernel`` (> 1: we are faster). Full sizes: two 10980 x 10980 uint16 bands (one
Sentinel-2 10 m tile) for indices, 4096 x 4096 float32 for the speckle filters,
10980 x 10980 float32 (120 M values) for histograms/Otsu. ``--quick``: small rasters, for CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from eo_drr.indices import sar, spectral, tasseled_cap
from eo_drr.indices import threshold as thr
from eo_drr.kernels._jit import FASTMATH

BLOCK = 1 << 16


# ------------------------------------------------------------------ same-traffic bounds


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH)
def _bound_1in(a, out):
    n = a.size
    for blk in numba.prange((n + BLOCK - 1) // BLOCK):
        for k in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
            out[k] = np.float32(a[k])


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH)
def _bound_2in(a, b, out):
    n = a.size
    for blk in numba.prange((n + BLOCK - 1) // BLOCK):
        for k in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
            out[k] = np.float32(a[k]) + np.float32(b[k])


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH)
def _bound_6in(a, b, c, d, e, f, out):
    n = a.size
    for blk in numba.prange((n + BLOCK - 1) // BLOCK):
        for k in range(blk * BLOCK, min(n, (blk + 1) * BLOCK)):
            out[k] = (
                np.float32(a[k])
                + np.float32(b[k])
                + np.float32(c[k])
                + np.float32(d[k])
                + np.float32(e[k])
                + np.float32(f[k])
            )


@numba.njit(parallel=True, error_model="numpy", fastmath=FASTMATH)
def _bound_read(a, partial):
    n = a.size
    nb = partial.size
    step = (n + nb - 1) // nb
    for b in numba.prange(nb):
        s = np.float32(0.0)
        for k in range(b * step, min(n, (b + 1) * step)):
            s += a[k]
        partial[b] = s


# The bounds allocate their output on every call, as the kernels under test must (a fresh
# float32 array costs page faults on first touch; at 10980^2 that is a visible share).


def bound_1in(a):
    flat = a.reshape(-1)
    return lambda: _bound_1in(flat, np.empty(flat.size, np.float32))


def bound_2in(a, b):
    fa, fb = a.reshape(-1), b.reshape(-1)
    return lambda: _bound_2in(fa, fb, np.empty(fa.size, np.float32))


def bound_6in(*bands):
    flat = [b.reshape(-1) for b in bands]
    return lambda: _bound_6in(*flat, np.empty(flat[0].size, np.float32))


def bound_read(a):
    partial = np.empty(numba.get_num_threads() * 4, np.float32)
    return lambda: _bound_read(a.reshape(-1), partial)


# ------------------------------------------------------------------ timing


def time_call(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """(first call, median of ``repeats`` later calls), seconds."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def time_pair(fn: Callable[[], Any], bound: Callable[[], Any], repeats: int):
    """Kernel and bound timed alternately (so that load from other processes hits both):
    (first kernel call, median kernel, median bound, median of the per-pair bound/kernel)."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    bound()
    tk, tb = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        tk.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bound()
        tb.append(time.perf_counter() - t0)
    ratio = statistics.median(b / k for b, k in zip(tb, tk))
    return first, statistics.median(tk), statistics.median(tb), ratio


def optional(modname: str):
    try:
        return __import__(modname, fromlist=["_"])
    except Exception:  # noqa: BLE001 - any import failure means "peer not available"
        return None


# ------------------------------------------------------------------ peers


def numpy_nd(a, b):
    fa = a.astype(np.float32)
    fb = b.astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (fa - fb) / (fa + fb)
    r[(a == 0) | (b == 0)] = np.nan
    return r


def numexpr_nd(ne, a, b):
    return ne.evaluate(
        "where((a == 0) | (b == 0), nan, (fa - fb) / (fa + fb))",
        local_dict={
            "a": a,
            "b": b,
            "fa": a.astype(np.float32),
            "fb": b.astype(np.float32),
            "nan": np.float32(np.nan),
        },
    )


def numpy_lee(x, w, enl, kuan=False):
    """scipy peer of ``sar.lee`` (W = 1 - Cu^2/Ci^2) or, with ``kuan``, of ``sar.kuan``
    (W = (1 - Cu^2/Ci^2) / (1 + Cu^2)); no NaN handling."""
    from scipy import ndimage

    x64 = x.astype(np.float64)
    m = ndimage.uniform_filter(x64, w, mode="nearest")
    m2 = ndimage.uniform_filter(x64 * x64, w, mode="nearest")
    var = np.maximum(m2 - m * m, 0)
    cu2 = 1.0 / enl
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.clip((var - m * m * cu2) / ((1 + cu2) if kuan else 1.0) / var, 0, 1)
    return (m + np.nan_to_num(k) * (x64 - m)).astype(np.float32)


def numpy_otsu(x, bins=256):
    v = x[~np.isnan(x)]
    counts, edges = np.histogram(v, bins)
    return thr.otsu(counts, edges)


# ------------------------------------------------------------------ cases


def run(quick: bool, only: list[str] | None) -> list[dict]:
    rng = np.random.default_rng(42)
    n_idx = 1024 if quick else 10980
    n_lee = 1024 if quick else 4096
    n_hist = 1024 if quick else 10980
    n_rl = 512 if quick else 2048
    repeats = 3 if quick else 7
    ne = optional("numexpr")
    xrs = optional("xrspatial")
    skf = optional("skimage.filters")
    ndi = optional("scipy.ndimage")
    results = []

    def want(name):
        return not only or name in only

    def record(name, size, fn, bound=None, peers=None, note=""):
        if bound is None:
            first, med = time_call(fn, repeats)
        else:
            first, med, b, ratio = time_pair(fn, bound, repeats)
        rec = {
            "kernel": name,
            "size": size,
            "first_call_s": first,
            "median_s": med,
            "compile_s_estimate": max(first - med, 0.0),
            "note": note,
        }
        if bound is not None:
            rec["bound_s"] = b
            rec["bound_over_kernel"] = ratio
        rec["peers"] = {}
        for pname, pfn in (peers or {}).items():
            if pfn is None:
                continue
            _, p = time_call(pfn, max(1, repeats - 2))
            rec["peers"][pname] = {"median_s": p, "peer_over_kernel": p / med}
        results.append(rec)
        print_row(rec)
        return rec

    print(
        f"numba {numba.__version__}, numpy {np.__version__}, threads "
        f"{numba.get_num_threads()}, {platform.processor() or platform.machine()}, "
        f"{'quick' if quick else 'full'} sizes"
    )
    print(
        f"{'kernel':<22}{'size':<22}{'first s':>9}{'median s':>10}{'bound s':>9}"
        f"{'bound/k':>8}  peers (peer/k)"
    )

    # two-band indices, uint16 DN
    if want("ndwi") or want("ndvi") or want("ndwi_dask"):
        g = rng.integers(1, 10000, (n_idx, n_idx), dtype=np.uint16)
        n = rng.integers(1, 10000, (n_idx, n_idx), dtype=np.uint16)
        g[::97, ::89] = 0
        size = f"2x{n_idx}^2 uint16"
        bnd = bound_2in(g, n)
        if want("ndwi"):
            record(
                "ndwi",
                size,
                lambda: spectral.ndwi(g, n),
                bnd,
                {
                    "numpy": lambda: numpy_nd(g, n),
                    "numexpr": (lambda: numexpr_nd(ne, g, n)) if ne else None,
                },
            )
        if want("ndvi"):
            peers = {"numpy": lambda: numpy_nd(n, g)}
            if xrs is not None:
                import xarray as xr
                from xrspatial import multispectral

                xn = xr.DataArray(n, dims=("y", "x"))
                xg = xr.DataArray(g, dims=("y", "x"))
                peers["xarray-spatial"] = lambda: multispectral.ndvi(xn, xg)
            record("ndvi", size, lambda: spectral.ndvi(n, g), bnd, peers)
        if want("ndwi_dask"):
            # the dask path against the in-memory kernel on the same data ("bound" column:
            # in-memory time; bound/k = in-memory / dask, target >= 1/1.3 = 0.77). The inputs
            # are persisted dask chunks (contiguous blocks, as a reader delivers them).
            # "ndwi (dask)" keeps the result as dask blocks (persist: what a pipeline that
            # writes block by block gets); "ndwi (dask->numpy)" also concatenates the blocks
            # into one numpy array (compute), a copy of the whole output that dask makes.
            import dask
            import dask.array as da

            ch = max(256, n_idx // 4)
            dg = da.from_array(g, chunks=ch).persist()
            dn = da.from_array(n, chunks=ch).persist()
            with dask.config.set(scheduler="threads"):
                record(
                    "ndwi (dask)",
                    f"{size}, {ch}^2 chunks",
                    lambda: spectral.ndwi(dg, dn).persist(),
                    lambda: spectral.ndwi(g, n),
                    note="bound column = in-memory numba kernel",
                )
                record(
                    "ndwi (dask->numpy)",
                    f"{size}, {ch}^2 chunks",
                    lambda: spectral.ndwi(dg, dn).compute(),
                    lambda: spectral.ndwi(g, n),
                    note="bound column = in-memory numba kernel",
                )
            del dg, dn
        del g, n

    if want("wofs") or want("awei_sh") or want("tasseled_cap"):
        bands = [rng.integers(1, 5000, (n_idx, n_idx), dtype=np.uint16) for _ in range(6)]
        size = f"6x{n_idx}^2 uint16"
        bnd = bound_6in(*bands)
        named = dict(zip(("blue", "green", "red", "nir", "swir16", "swir22"), bands))
        if want("awei_sh"):
            b, gr, r, nn, s1, s2 = bands

            def np_awei():
                f = [x.astype(np.float32) * np.float32(1e-4) for x in (b, gr, nn, s1, s2)]
                return f[0] + 2.5 * f[1] - 1.5 * (f[2] + f[3]) - 0.25 * f[4]

            record(
                "awei_sh",
                size,
                lambda: spectral.awei_sh(b, gr, nn, s1, s2),
                bnd,
                {"numpy": np_awei},
            )
        if want("wofs"):
            record("wofs", size, lambda: spectral.wofs(named), bnd)
        if want("tasseled_cap"):
            record(
                "tc_wetness (6 bands)",
                size,
                lambda: tasseled_cap.tc_wetness(named, coefficients="crist1985"),
                bnd,
                note="six-band tasseled cap (Crist 1985 coefficients on B02-B12)",
            )
        del bands, named

    # SAR pointwise
    if want("to_db") or want("log_ratio"):
        x = rng.gamma(4.4, 0.05, (n_idx, n_idx)).astype(np.float32)
        y = rng.gamma(4.4, 0.05, (n_idx, n_idx)).astype(np.float32)
        size = f"{n_idx}^2 float32"

        def np_db():
            with np.errstate(divide="ignore", invalid="ignore"):
                return 10 * np.log10(x)

        if want("to_db"):
            record(
                "to_db",
                size,
                lambda: sar.to_db(x),
                bound_1in(x),
                {
                    "numpy": np_db,
                    "numexpr": (
                        (lambda: ne.evaluate("10 * log10(x)", local_dict={"x": x})) if ne else None
                    ),
                },
            )
        if want("log_ratio"):

            def np_lr():
                with np.errstate(divide="ignore", invalid="ignore"):
                    return 10 * np.log10(x / y)

            record(
                "log_ratio",
                "2x" + size,
                lambda: sar.log_ratio(x, y),
                bound_2in(x, y),
                {
                    "numpy": np_lr,
                    "numexpr": (
                        (lambda: ne.evaluate("10 * log10(x / y)", local_dict={"x": x, "y": y}))
                        if ne
                        else None
                    ),
                },
            )
        del x, y

    # windowed filters
    if want("boxcar") or want("lee") or want("kuan") or want("refined_lee") or want("lee_dask"):
        x = rng.gamma(4.4, 1 / 4.4, (n_lee, n_lee)).astype(np.float32)
        size = f"{n_lee}^2 float32 7x7"
        bnd = bound_1in(x)
        if want("boxcar"):
            record(
                "boxcar",
                size,
                lambda: sar.boxcar(x, 7),
                bnd,
                {
                    "scipy.ndimage": (lambda: ndi.uniform_filter(x, 7)) if ndi else None,
                },
            )
        if want("lee"):
            record(
                "lee",
                size,
                lambda: sar.lee(x, 7),
                bnd,
                {
                    "scipy.ndimage": (lambda: numpy_lee(x, 7, 4.4)) if ndi else None,
                },
            )
        if want("kuan"):  # the same kernel as lee (one flag apart): same speed expected
            record(
                "kuan",
                size,
                lambda: sar.kuan(x, 7),
                bnd,
                {
                    "scipy.ndimage": (lambda: numpy_lee(x, 7, 4.4, kuan=True)) if ndi else None,
                },
            )
        if want("lee_dask"):
            import dask
            import dask.array as da

            ch = max(256, n_lee // 4)
            dx = da.from_array(x, chunks=ch)
            with dask.config.set(scheduler="threads"):
                record(
                    "lee (dask)",
                    f"{size}, {ch}^2 chunks",
                    lambda: sar.lee(dx, 7).compute(),
                    lambda: sar.lee(x, 7),
                    note="bound column = in-memory numba kernel",
                )
        if want("refined_lee"):
            xr_ = x[:n_rl, :n_rl].copy()
            record(
                "refined_lee", f"{n_rl}^2 float32 7x7", lambda: sar.refined_lee(xr_), bound_1in(xr_)
            )
        del x

    # histograms and thresholds
    if want("histogram") or want("otsu") or want("split_based"):
        # land (-8 dB) with bands of water (-20 dB) 128 rows wide every 512 rows: half the
        # 256-px tiles are bimodal (50 % water), as a split-based threshold expects
        x = rng.normal(-8, 2, (n_hist, n_hist)).astype(np.float32)
        water = (np.arange(n_hist) % 512) < 128
        x[water] = rng.normal(-20, 2, (int(water.sum()), n_hist)).astype(np.float32)
        x[::101, ::103] = np.nan
        size = f"{n_hist}^2 float32"
        bnd = bound_read(x)
        if want("histogram"):
            record(
                "histogram(range)",
                size,
                lambda: thr.histogram(x, 256, range=(-40, 10)),
                bnd,
                {"numpy": lambda: np.histogram(x, 256, range=(-40, 10))},
            )
        if want("otsu"):
            record(
                "otsu_threshold",
                size,
                lambda: thr.otsu_threshold(x),
                bnd,
                {
                    "numpy": lambda: numpy_otsu(x),
                    # skimage does not skip NaN: the peer drops them first, as a user must
                    "skimage": (lambda: skf.threshold_otsu(x[~np.isnan(x)])) if skf else None,
                },
                note="includes the nanmin/nanmax pass",
            )
        if want("split_based"):
            record(
                "split_based(otsu)",
                size,
                lambda: thr.split_based_threshold(x, thr.SplitBasedOptions(tile=256)),
                bnd,
            )
        del x
    return results


def print_row(rec: dict) -> None:
    peers = ", ".join(
        f"{k} {v['median_s']:.4f}s ({v['peer_over_kernel']:.2f}x)" for k, v in rec["peers"].items()
    )
    bound = (
        f"{rec['bound_s']:9.4f}{rec['bound_over_kernel']:8.2f}" if "bound_s" in rec else " " * 17
    )
    print(
        f"{rec['kernel']:<22}{rec['size']:<22}{rec['first_call_s']:9.3f}"
        f"{rec['median_s']:10.4f}{bound}  {peers}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small rasters (CI, < 1 minute)")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    ap.add_argument("--only", nargs="*", help="kernels to run (default: all)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    results = run(args.quick, args.only)
    meta = {
        "quick": args.quick,
        "numba": numba.__version__,
        "numpy": np.__version__,
        "threads": numba.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "total_s": time.perf_counter() - t0,
    }
    print(f"total {meta['total_s']:.1f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"meta": meta, "results": results}, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
