"""Flood water depth (m) from an observed flood extent and terrain: FwDET v2 on a DEM, and the
same edge-level idea on HAND (FLEXTH).

FwDET (Cohen et al. 2018, "Estimating floodwater depths from flood inundation maps and
topography", J. Am. Water Resour. Assoc. 54(4):847-858; v2.0: Cohen et al. 2019, "The
Floodwater Depth Estimation Tool (FwDET v2.0) for improved remote sensing analysis of coastal
flooding", Nat. Hazards Earth Syst. Sci. 19:2053-2065) takes the water surface at the edge of
the flood to lie at the ground elevation of the edge cells, gives every flooded cell the water
surface elevation (WSE) of its nearest edge cell (Euclidean allocation), and subtracts the
ground::

    depth = WSE(nearest edge cell) - DEM,  smoothed by a low-pass (mean) filter,  >= 0

v2.0's boundary rule: flood edges that touch permanent water (its shoreline case), the
raster's border, no-data or an excluded area are *not* evidence of the water surface (the flood
goes on there, unseen), so they are dropped before the allocation. The v2.0 scripts smooth
with ArcGIS "Filter LOW", a 3 x 3 mean (:attr:`DepthOptions.lowpass_px`); here the mean is
taken over flooded cells only, so dry neighbours do not pull the depth down at the edges.

Edge elevation (:attr:`DepthOptions.edge_elevation`): FwDET takes the terrain of the flooded
edge cell, which lies *below* the water's edge (the water ends somewhere between it and the
first dry cell), so depth comes out low by about half the rise of one cell. The default,
``"shoreline"``, takes the mean of the edge cell's terrain and the mean terrain of its dry
neighbours: the water's edge at the cell boundary. This is our choice, not FwDET's; on the demo
scene (512 px, true extent, 30 m DEM) it brings the bias from -0.155 m to -0.060 m
(``benchmarks/depth_accuracy.py``); ``"edge_cell"`` is FwDET's rule.

Enclosed dry patches (:attr:`DepthOptions.enclosed_dry_is_evidence`, default False): dry
cells entirely surrounded by the flood (and by blocked cells) are, in a SAR flood map, mostly
flooding the radar did not see (water under trees, between buildings, in radar shadow: Chini
et al. 2019, Remote Sens. 11:107; Tanguy et al. 2017, Int. J. Appl. Earth Obs. 63:46-57); their
edges lie deep inside the flood and pull the water surface down. By default they are blocked
like v2.0's no-data, so only the flood's outer edges count. This is our extension of v2.0's rule, chosen on the demo scene at four sizes and seeds,
each better with it (``benchmarks/depth_accuracy.py``, mapped extent: bias -0.37 m to -0.06 m
at 1024 px, -0.32 m to -0.11 m at 512 px; the true extent unchanged within 0.01 m);
real islands lose their shores as evidence, which costs little where an outer edge is near.

HAND method (Betterle & Salamon 2024, "Water depth estimate and flood extent enhancement for
satellite-based inundation maps", Nat. Hazards Earth Syst. Sci. 24:2817-2836, FLEXTH): the
water level is estimated relative to the drainage, from the height above nearest drainage
(HAND; Rennó et al. 2008, Nobre et al. 2011) of the flood's edge cells, propagated to the
flooded cells as above::

    depth = HAND level(nearest edge cell) - HAND

HAND removes the down-valley slope of the terrain, so a far edge of another reach of the
valley gives the right level. This is a simplification of FLEXTH (which also extends the
flood into no-data areas and weighs several border cells); the edge rule and the smoothing
are FwDET's, above.

Arrays: 2-D, one grid; elevations and HAND in metres with NaN no-data; masks boolean. Results
are float32 metres, NaN outside the flood and where the terrain is no-data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from eo_drr.errors import InputError, NoDataError
from eo_drr.i18n import gettext as _
from eo_drr.kernels import depth_cpu as K

#: Methods of :func:`flood_depth`.
METHODS = ("fwdet", "hand")
#: Values of :attr:`DepthOptions.edge_elevation`.
EDGE_ELEVATIONS = ("shoreline", "edge_cell")
#: rasters of at least this many cells go through the numba kernels
#: (:mod:`eo_drr.kernels.depth_cpu`: the same values, on every core, ~5x faster); smaller
#: ones through scipy, which takes less time there than compiling the kernels on a first run
KERNELS_FROM = 1 << 22


@dataclass(frozen=True)
class DepthOptions:
    """How depth is estimated (one place for the defaults).

    lowpass_px
        Side (pixels, odd) of the mean filter applied to the depth over flooded cells; 3 is
        FwDET v2.0's ArcGIS "Filter LOW" (Cohen et al. 2019); 1 switches smoothing off.
    edge_elevation
        ``"shoreline"`` (default): the water's edge between the flooded edge cell and its dry
        neighbours (mean of the two terrains); ``"edge_cell"``: the edge cell's terrain, as
        FwDET (see the module's notes).
    enclosed_dry_is_evidence
        False (default): edges of dry patches enclosed by the flood are no evidence of the
        water surface (the module's notes); True: every edge counts, as FwDET v2.0.
    """

    lowpass_px: int = 3
    edge_elevation: str = "shoreline"
    enclosed_dry_is_evidence: bool = False

    def __post_init__(self) -> None:
        n = self.lowpass_px
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or n % 2 == 0:
            raise InputError(_("lowpass_px: expected an odd integer >= 1, got {n!r}").format(n=n))
        if self.edge_elevation not in EDGE_ELEVATIONS:
            raise InputError(
                _(
                    "edge_elevation: expected one of {edge_elevations}, got {edge_elevation!r}"
                ).format(
                    edge_elevations=", ".join(EDGE_ELEVATIONS), edge_elevation=self.edge_elevation
                )
            )


_RING = np.ones((3, 3), dtype=bool)


def edge_cells(flood: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """Flood cells that are evidence of the water surface (Cohen et al. 2019's boundary rule).

    ``flood``: flooded cells; ``blocked``: cells that do not show where the water ends
    (permanent water, no-data, an exclusion mask). An edge cell is a flooded cell with a dry,
    unblocked cell among its 8 neighbours and no blocked cell (nor the raster's border) among
    them. Returns a boolean mask.
    """
    flood = np.asarray(flood, dtype=bool)
    blocked = np.asarray(blocked, dtype=bool) & ~flood
    dry = ~flood & ~blocked
    near_dry = ndimage.binary_dilation(dry, structure=_RING)
    # the raster's border counts as blocked: the flood may go on beyond it
    near_blocked = ndimage.binary_dilation(
        np.pad(blocked, 1, constant_values=True), structure=_RING
    )[1:-1, 1:-1]
    return flood & near_dry & ~near_blocked


def shoreline_surface(surface: np.ndarray, edges: np.ndarray, dry: np.ndarray) -> np.ndarray:
    """``surface`` with each edge cell's value replaced by the mean of it and the mean of its
    dry 8-neighbours' values (the water's edge at the cell boundary); a copy, float64."""
    ring = _RING.astype(np.float64)
    num = ndimage.convolve(np.where(dry, surface, 0.0), ring, mode="constant")
    den = ndimage.convolve(dry.astype(np.float64), ring, mode="constant")
    shore = 0.5 * (surface + num / np.where(den > 0, den, 1.0))
    return np.where(edges & (den > 0), shore, surface)


def enclosed(around: np.ndarray) -> np.ndarray:
    """Cells outside ``around`` that ``around`` encloses: those not joined to the raster's
    border through 4-connected cells outside ``around`` (``scipy.ndimage.binary_fill_holes``'s
    holes, found by labelling, ~5x faster on large rasters)."""
    labels, n = ndimage.label(~around)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.zeros(n + 1, dtype=bool)
    outside[0] = True  # label 0: the cells of around
    outside[border] = True
    return ~outside[labels]


def nearest_edge_values(surface: np.ndarray, edges: np.ndarray, flood: np.ndarray) -> np.ndarray:
    """``surface`` (float) at the nearest edge cell of every flooded cell (Euclidean allocation,
    :func:`scipy.ndimage.distance_transform_edt`), NaN elsewhere; float64."""
    iy, ix = ndimage.distance_transform_edt(~edges, return_distances=False, return_indices=True)
    out = np.full(surface.shape, np.nan)
    out[flood] = surface[iy[flood], ix[flood]]
    return out


def masked_mean(values: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
    """Mean of the finite ``values`` on ``mask`` in a ``size`` x ``size`` window around every
    cell of ``mask`` (normalised convolution); NaN off ``mask`` and where ``values`` is NaN."""
    ok = mask & np.isfinite(values)
    if size == 1:
        return np.where(ok, values, np.nan)
    num = ndimage.uniform_filter(np.where(ok, values, 0.0), size=size, mode="constant")
    den = ndimage.uniform_filter(ok.astype(np.float64), size=size, mode="constant")
    return np.where(ok, num / np.where(den > 0, den, 1.0), np.nan)


def flood_depth(
    flood: np.ndarray,
    surface: np.ndarray,
    *,
    blocked: np.ndarray | None = None,
    options: DepthOptions | None = None,
) -> np.ndarray:
    """Water depth (m, float32; NaN off the flood) by edge-level allocation.

    ``surface``: the DEM (m; FwDET, Cohen et al. 2018, 2019) or HAND (m; the HAND method,
    after Betterle & Salamon 2024), NaN no-data; ``flood``: flooded cells (bool);
    ``blocked``: cells that are no evidence of the water's edge (permanent water, no-data,
    excluded). Cells with no-data terrain are blocked too and get NaN depth.

    Raises :class:`~eo_drr.errors.NoDataError` when the flood has cells but no edge is
    evidence (e.g. it touches only permanent water and the raster's border); an empty flood
    gives all NaN.
    """
    opt = options if options is not None else DepthOptions()
    flood = np.asarray(flood, dtype=bool)
    surface = np.asarray(surface)
    kernels = flood.size >= KERNELS_FROM and opt.lowpass_px > 1
    # the kernels read float32 terrain as it is (numba widens each value to float64 exactly,
    # as the copy would: issue 21, the copy took 0.3 s of a 16.8 Mpx job); scipy needs float64
    surface = surface.astype(
        np.float32 if kernels and surface.dtype == np.float32 else np.float64, copy=False
    )
    if flood.ndim != 2 or flood.shape != surface.shape:
        raise InputError(
            _("flood {shape} and terrain {shape2}: expected two 2-D rasters on one grid").format(
                shape=flood.shape, shape2=surface.shape
            )
        )
    void = ~np.isfinite(surface)
    stop = void if blocked is None else (np.asarray(blocked, dtype=bool) | void)
    if stop.shape != flood.shape:
        raise InputError(
            _("blocked {shape}: expected the flood's shape {shape2}").format(
                shape=stop.shape, shape2=flood.shape
            )
        )
    wet = flood & ~void
    if not flood.any():
        return np.full(flood.shape, np.nan, dtype=np.float32)
    if not opt.enclosed_dry_is_evidence:
        stop = stop | enclosed(wet | stop)
    if kernels:
        return _depth_kernels(wet, surface, stop, opt)
    edges = edge_cells(wet, stop & ~wet)
    _check_edges(edges)
    if opt.edge_elevation == "shoreline":
        surface_at_edge = shoreline_surface(surface, edges, ~wet & ~stop)
    else:
        surface_at_edge = surface
    level = nearest_edge_values(surface_at_edge, edges, wet)
    depth = masked_mean(level - surface, wet, opt.lowpass_px)
    return np.maximum(depth, 0.0, where=np.isfinite(depth), out=depth).astype(np.float32)


def _check_edges(edges: np.ndarray) -> None:
    if not edges.any():
        raise NoDataError(
            _(
                "flood: no flood edge shows the water surface (every edge touches permanent "
                "water, no-data, an excluded area or the raster's border); depth cannot be "
                "estimated"
            )
        )


def _depth_kernels(
    wet: np.ndarray, surface: np.ndarray, stop: np.ndarray, opt: DepthOptions
) -> np.ndarray:
    """:func:`flood_depth`'s steps after the enclosed patches, by the numba kernels
    (:mod:`eo_drr.kernels.depth_cpu`; the same float32 values as the scipy steps)."""
    surface = np.ascontiguousarray(surface)
    edges = np.empty(wet.shape, dtype=bool)
    K.edge_mask(wet, stop, edges)
    _check_edges(edges)
    level = np.empty(wet.shape)  # set and read at the edge cells only
    K.edge_levels(surface, wet, stop, edges, int(opt.edge_elevation == "shoreline"), level)
    fy = np.empty(wet.shape, dtype=np.int32)
    K.nearest_in_columns(edges, fy)
    iy = np.empty(wet.shape, dtype=np.int32)
    ix = np.empty(wet.shape, dtype=np.int32)
    K.nearest_in_rows(fy, iy, ix)
    del fy
    num = np.empty(wet.shape)
    den = np.empty(wet.shape)
    ok = np.empty(wet.shape, dtype=bool)
    size = int(opt.lowpass_px)
    K.mean_columns(iy, ix, level, surface, wet, size, num, den, ok)
    depth = np.empty(wet.shape, dtype=np.float32)
    K.mean_rows(num, den, ok, size, depth)
    return depth
