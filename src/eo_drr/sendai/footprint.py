"""The hazard footprint on the hazard grid: the flood values checked, every pixel's packed class
code (bit 0 observed, bit 1 flooded, bit 2 cropland, bit 3 built-up, bit 4 new built-up; the
bits of :mod:`eo_drr.kernels.zonal_cpu`), and the flooded share of the cells of another grid
(the population grid when it is not aligned with the hazard grid).

Flood values: 1 flooded, 0 not flooded, 2 reference water still water after the event
(observed, not flooded), ``nodata`` not observed. Unobserved pixels count as not flooded, so
every count is a lower bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from affine import Affine
from pyproj import CRS

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.kernels import zonal_cpu as K
from eo_drr.kernels.zonal_cpu import BUILT, CROP, FLOODED, NEW_BUILT, OBSERVED
from eo_drr.sendai.grids import georef, on_grid, to_numpy


def check_flood_values(fl: np.ndarray, nodata: int) -> None:
    """Refuse values other than 0, 1, 2 and ``nodata`` (one histogram pass for uint8); 2 is the
    flood product's reference water still water after the event: observed, not flooded."""
    if fl.dtype == np.uint8:
        hist = np.zeros((K.blocks(fl.shape[0]), 256), np.int64)
        K.value_counts_u8(fl.reshape(-1), hist)
        present = np.flatnonzero(hist.sum(axis=0))
    else:
        present = np.unique(fl)
    bad = present[~np.isin(present, [0, 1, 2, nodata])]
    if len(bad):
        raise InputError(
            _("flood: values other than 0, 1, 2 and nodata {nodata}: {bad}").format(
                nodata=nodata, bad=bad[:5].tolist()
            )
        )


@dataclass(frozen=True)
class Pixels:
    """The 10 m layers as the kernels take them (see :func:`eo_drr.kernels.zonal_cpu.interior_counts`)."""

    flood: np.ndarray
    lc: np.ndarray
    lut: np.ndarray
    bu: np.ndarray
    bb: np.ndarray
    has_lc: bool
    has_bu: bool
    has_bb: bool
    nodata: int
    built_known: bool  #: built-up from ``bu`` or from the land-cover LUT

    def kernel_args(self) -> tuple:
        """``pixels`` of :class:`eo_drr.sendai.zonal.InteriorPass`."""
        return (
            self.flood,
            self.lc,
            self.lut,
            self.bu,
            self.bb,
            self.has_lc,
            self.has_bu,
            self.has_bb,
            self.nodata,
        )


def _u8(a: np.ndarray) -> np.ndarray:
    """A 1/0 (or class) layer as uint8 without a copy when it already is one."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.view(np.uint8)
    return np.nan_to_num(a, nan=0).astype(np.uint8) if a.dtype.kind == "f" else a.astype(np.uint8)


def pixels(
    fl: np.ndarray,
    nodata: int,
    lc: np.ndarray | None,
    builtup: xr.DataArray | None,
    builtup_before: xr.DataArray | None,
    flood: xr.DataArray,
    cropland_classes: Sequence[int],
    builtup_classes: Sequence[int],
) -> Pixels:
    """The layers of :class:`Pixels` from the uint8 flood ``fl``, the land cover ``lc`` on its
    grid (classes -> bits by a LUT), and built-up 1/0 at the event and before (put on
    ``flood``'s grid by nearest neighbour; the earlier epoch only when built-up is known)."""
    dummy = np.zeros((1, 1), np.uint8)
    lut = np.zeros(256, np.uint8)
    has_lc = lc is not None
    if lc is not None:
        if lc.dtype.kind in "iu" and lc.size and (lc.min() < 0 or lc.max() > 255):
            raise InputError(_("landcover: class codes must be 0-255"))
        for c in cropland_classes:
            lut[int(c)] |= CROP
        for c in builtup_classes:
            lut[int(c)] |= BUILT
        lc = _u8(lc)
    bu = bb = None
    if builtup is not None:
        bu = (on_grid(builtup, flood, "builtup") == 1).view(np.uint8)
    built_known = bu is not None or (has_lc and len(builtup_classes) > 0)
    if builtup_before is not None and built_known:
        bb = (on_grid(builtup_before, flood, "builtup_before") == 1).view(np.uint8)
    return Pixels(
        fl,
        lc if lc is not None else dummy,
        lut,
        bu if bu is not None else dummy,
        bb if bb is not None else dummy,
        has_lc,
        bu is not None,
        bb is not None,
        nodata,
        built_known,
    )


def code_raster(px: Pixels) -> np.ndarray:
    """Packed class code of every pixel (uint8; numpy, the reference for the kernels' rules)."""
    fl = px.flood
    bits = np.where(fl != px.nodata, OBSERVED, 0).astype(np.uint8)
    bits |= np.where(fl == 1, FLOODED, 0).astype(np.uint8)
    built = None
    if px.has_lc:
        lb = px.lut[px.lc]
        bits |= lb & CROP
        built = (lb & BUILT) != 0
    if px.has_bu:
        built = px.bu != 0
    if px.built_known and built is not None:
        bits |= np.where(built, BUILT, 0).astype(np.uint8)
        if px.has_bb:
            bits |= np.where(built & (px.bb == 0), NEW_BUILT, 0).astype(np.uint8)
    return bits


def flooded_share_on_grid(
    flood: np.ndarray,
    flood_tr: Affine,
    flood_crs: CRS,
    template: xr.DataArray,
    *,
    nodata: int = 255,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """Flooded share (0-1, float64) of every cell of ``template``'s grid (the population grid).

    The share is the mean of the 1/0 flood pixels inside the cell (weighted by ``weight``, a
    per-pixel dasymetric weight on the hazard grid, when given: sum of weight x flooded / sum
    of weight), with unobserved pixels counted as not flooded; cells beyond the hazard raster
    get 0, and a cell cut by the raster's edge gets the share of its part inside the raster.
    When the cell grid is an aligned integer multiple of the hazard grid in the same CRS
    (GHS-POP 100 m over a 10 m flood) the mean is computed exactly by block sums; otherwise
    GDAL's area-weighted ``average`` resampling is used, of the flooded weight and of the
    weight separately, over a hazard padded with a zero-weight margin (the hazard, never the
    population, is resampled).
    """
    pcrs, ptr, pshape = georef(template, "population")
    fl = (flood == 1).astype(np.float32)
    wt = None if weight is None else np.asarray(weight, np.float32)
    if pcrs == flood_crs and ptr.b == 0 and ptr.d == 0:
        fx, fy = ptr.a / flood_tr.a, ptr.e / flood_tr.e
        ox, oy = (ptr.c - flood_tr.c) / flood_tr.a, (ptr.f - flood_tr.f) / flood_tr.e
        ints = [fx, fy, ox, oy]
        if all(abs(v - round(v)) < 1e-6 for v in ints) and round(fx) >= 1 and round(fy) >= 1:
            return _block_share(
                fl, int(round(fx)), int(round(fy)), int(round(ox)), int(round(oy)), pshape, wt
            )
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import xr_coords, xr_reproject

    # pad the hazard with a zero-weight margin wider than a cell: GDAL's average then sees
    # whole cells, and a cell cut by the raster's edge gets the flooded share of its part
    # inside the raster (numerator and denominator both averaged over the whole cell)
    from pyproj import Transformer

    tb = template.odc.geobox.boundingbox
    fx0, fy0, fx1, fy1 = Transformer.from_crs(pcrs, flood_crs, always_xy=True).transform_bounds(
        tb.left, tb.bottom, tb.right, tb.top, densify_pts=21
    )
    cell = max((fx1 - fx0) / max(pshape[1], 1), (fy1 - fy0) / max(pshape[0], 1))
    pad = int(np.ceil(cell / min(abs(flood_tr.a), abs(flood_tr.e)))) + 2
    h, w = fl.shape
    fbox = GeoBox((h + 2 * pad, w + 2 * pad), flood_tr @ Affine.translation(-pad, -pad), flood_crs)

    def avg(a: np.ndarray) -> np.ndarray:
        padded = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
        padded[pad : pad + h, pad : pad + w] = a
        src = xr.DataArray(padded, coords=xr_coords(fbox), dims=("y", "x")).odc.assign_crs(
            flood_crs
        )
        out = xr_reproject(src, template.odc.geobox, resampling="average", dst_nodata=np.nan)
        return np.nan_to_num(to_numpy(out).astype(np.float64), nan=0.0)

    w8 = np.ones(fl.shape, np.float32) if wt is None else wt
    num, den = avg(fl * w8), avg(w8)
    return np.clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0), 0.0, 1.0)


def _block_share(
    fl: np.ndarray, fx: int, fy: int, ox: int, oy: int, pshape, weight: np.ndarray | None = None
) -> np.ndarray:
    """(Weighted) mean of the flood pixels inside each (fy x fx) cell, over the pixels the
    raster has."""
    ph, pw = pshape
    # the window of flood pixels covered by the population grid, padded to whole cells
    y0, x0 = oy, ox
    h, w = ph * fy, pw * fx
    val = np.zeros((h, w), np.float32)
    cnt = np.zeros((h, w), np.float32)
    sy0, sx0 = max(0, y0), max(0, x0)
    sy1, sx1 = min(fl.shape[0], y0 + h), min(fl.shape[1], x0 + w)
    if sy1 > sy0 and sx1 > sx0:
        wt = 1.0 if weight is None else weight[sy0:sy1, sx0:sx1]
        val[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = fl[sy0:sy1, sx0:sx1] * wt
        cnt[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = wt
    s = val.reshape(ph, fy, pw, fx).sum(axis=(1, 3), dtype=np.float64)
    n = cnt.reshape(ph, fy, pw, fx).sum(axis=(1, 3), dtype=np.float64)
    return np.divide(s, n, out=np.zeros_like(s), where=n > 0)
