"""Sendai-framework EO-proxy indicators per administrative unit and event: the table.

Earth observation cannot count deaths, damage or losses; it can count what lies inside an
*observed* flood footprint. Every figure here is an **EO proxy** for a Sendai Framework
indicator, never a reported Sendai value:

======================  ============================================  =========
column                  proxy for                                     unit
======================  ============================================  =========
exposed_population      B-1 (directly affected people)                persons
exposed_population_*    B-1 disaggregated by sex / age band            persons
flooded_cropland_ha     C-2 (agricultural land affected)              ha
flooded_builtup_ha      C-4 (housing affected; built-up area)         ha
flooded_health          D-2 (health facilities affected)              count
flooded_education       D-3 (educational facilities affected)         count
flooded_road_km         D-4 (critical infrastructure: roads)          km
new_builtup_flooded_ha  exposure trend: settlement added since the    ha
                        earlier built-up epoch, inside the flood
observed_share          hazard coverage: share of the unit observed   0-1
nodata_share            not observed (cloud, radar shadow, outside)   0-1
======================  ============================================  =========

:func:`indicators_by_unit` builds the table from the modules that each do one job:
:mod:`~eo_drr.sendai.units` (the units checked), :mod:`~eo_drr.sendai.footprint` (the
hazard's class codes and flooded shares), :mod:`~eo_drr.sendai.population` (dasymetric
population on the hazard grid; Mennis 2003, Stevens et al. 2015),
:mod:`~eo_drr.sendai.coverage` and :mod:`~eo_drr.sendai.zonal` (exact, coverage-weighted
zonal sums, fast or by exactextract, Baston 2019), :mod:`~eo_drr.sendai.points_lines`
(facilities and roads) and :mod:`~eo_drr.sendai.tiles` (tiles of a job). Unobserved pixels
count as not flooded, so every count is a lower bound; ``observed_share`` says how much of the
unit the hazard layer actually saw. Writing the table is :mod:`eo_drr.publish`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from affine import Affine
from pyproj import CRS

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.kernels.zonal_cpu import BUILT, CROP, FLOODED, N_CODES, NEW_BUILT, OBSERVED
from eo_drr.sendai.footprint import Pixels, check_flood_values, flooded_share_on_grid, pixels
from eo_drr.sendai.grids import georef, on_grid, to_numpy
from eo_drr.sendai.points_lines import (
    facility_counts,
    road_lengths,
)
from eo_drr.sendai.population import (
    DASYMETRIC_FLOOR,
    aligned_cells,
    cell_grid,
    no_cells,
    pixel_weights,
    population_bands,
)
from eo_drr.sendai.tiles import job_window, tile_area_share
from eo_drr.sendai.units import check_units
from eo_drr.sendai.zonal import exact_classes, exact_sums, fast_classes, fast_sums

__all__ = ["ExposureLayers", "IndicatorOptions", "indicators_by_unit"]

#: ESA WorldCover class codes (v200): cropland and built-up.
WORLDCOVER_CROPLAND = 40
WORLDCOVER_BUILTUP = 50


@dataclass(frozen=True)
class ExposureLayers:
    """What may lie in the flood footprint (each optional).

    population
        Persons per cell (GHS-POP/WorldPop style), any CRS and resolution: a 2-D DataArray
        (total) or bands (a Dataset, or a DataArray with a leading band dimension) with a
        ``total`` band and optional ``female``, ``male``, ``age_0_14``, ``age_15_64``,
        ``age_65_plus``. Nodata as NaN or the raster's nodata value.
    landcover
        Land-cover classes (ESA WorldCover codes) for cropland (``cropland_classes``) and, when
        ``builtup`` is None, built-up (``builtup_classes``). Categorical: put on the hazard grid
        by nearest neighbour when its grid differs.
    builtup, builtup_before
        Built-up 1/0 at the event and at an earlier epoch (e.g. our urban product); the pair
        gives new settlement inside the flood.
    facilities
        Points with a ``type`` column (``health``, ``education``; others are ignored).
    roads
        Lines.
    """

    population: xr.DataArray | xr.Dataset | None = None
    landcover: xr.DataArray | None = None
    builtup: xr.DataArray | None = None
    builtup_before: xr.DataArray | None = None
    facilities: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None


@dataclass(frozen=True)
class IndicatorOptions:
    """How the indicators are counted.

    nodata
        The flood raster's unobserved value (0-255).
    cropland_classes, builtup_classes
        Land-cover codes of cropland and built-up (ESA WorldCover 40 and 50).
    facility_type_field
        The facilities' column with their type.
    dasymetric
        Share each population cell's persons among its hazard pixels in proportion to a
        built-up weight (1 on built-up, ``dasymetric_floor`` elsewhere; see
        :data:`~eo_drr.sendai.population.DASYMETRIC_FLOOR`) instead of evenly. None (default):
        on when a built-up layer is known (``builtup``, or ``landcover`` with its built-up
        classes). True without one is an error.
    method
        ``"fast"`` (default): the units' spans of whole pixels, a fused numba pass over the
        rasters and exact coverage on unit borders only (:mod:`eo_drr.kernels.zonal_cpu`);
        ``"exact"``: the reference, exactextract coverage for every pixel. Both give the same
        numbers (coverage-weighted, to floating-point rounding).
    job_grid
        When ``flood`` is one tile of a tiled job: the job's whole grid (an odc-geo
        ``GeoBox``, same CRS and pixel size, the tile inside it). Population cells cut by
        tile borders are then shared between the tiles (see :mod:`eo_drr.sendai.tiles`).
    """

    nodata: int = 255
    cropland_classes: Sequence[int] = (WORLDCOVER_CROPLAND,)
    builtup_classes: Sequence[int] = (WORLDCOVER_BUILTUP,)
    facility_type_field: str = "type"
    dasymetric: bool | None = None
    dasymetric_floor: float = DASYMETRIC_FLOOR
    method: str = "fast"
    job_grid: Any = None


def indicators_by_unit(
    flood: xr.DataArray,
    units: gpd.GeoDataFrame,
    *,
    layers: ExposureLayers | None = None,
    options: IndicatorOptions | None = None,
    **keywords: Any,
) -> pd.DataFrame:
    """EO-proxy Sendai indicators per administrative unit for one event.

    Parameters
    ----------
    flood
        Hazard extent, uint8 (1 flooded, 0 not flooded, ``nodata`` unobserved) on a projected
        metre grid with a CRS (rioxarray); numpy- or dask-backed.
    units
        Admin units (GeoDataFrame, any CRS) with ``code`` and ``name`` (and optionally
        ``level``), e.g. from :func:`eo_drr.sendai.units.read_units`; checked by
        :func:`~eo_drr.sendai.units.check_units`.
    layers, options
        The exposure layers (:class:`ExposureLayers`) and how to count
        (:class:`IndicatorOptions`).
    **keywords
        Any field of either, e.g. ``population=..., landcover=..., dasymetric=...,
        job_grid=...``; given with ``layers`` / ``options``, a keyword replaces that field.

    Returns
    -------
    DataFrame indexed by unit ``code`` in the units' order, one row per unit (also when nothing
    is flooded: zeros, never missing rows), with ``name`` (and ``level``), ``area_ha`` (unit
    area on the hazard grid's CRS), ``observed_ha``, ``observed_share`` and ``nodata_share``
    (0-1 of the unit area), ``flooded_ha``; with population ``population`` and
    ``exposed_population`` (persons, B-1) plus ``population_<band>`` and
    ``exposed_population_<band>`` per extra band; with land cover ``cropland_ha`` and
    ``flooded_cropland_ha`` (C-2); with built-up ``builtup_ha`` and ``flooded_builtup_ha``
    (C-4), and with both epochs ``new_builtup_ha`` and ``new_builtup_flooded_ha``; with
    facilities ``health_facilities``, ``flooded_health`` (D-2), ``education_facilities``,
    ``flooded_education`` (D-3); with roads ``road_km``, ``flooded_road_km`` (D-4).
    ``attrs``: ``repaired_geometries``, ``facilities_outside_units``, ``pixel_area_m2``,
    ``zonal_method``, ``dasymetric`` (bool), ``dasymetric_floor``.
    """
    layers, opt = _arguments(layers, options, keywords)
    if opt.method not in ("fast", "exact"):
        raise InputError(
            _("method: expected 'fast' or 'exact', got {method!r}").format(method=opt.method)
        )
    if not 0.0 < opt.dasymetric_floor <= 1.0:
        raise InputError(
            _("dasymetric_floor: expected 0 < floor <= 1, got {dasymetric_floor}").format(
                dasymetric_floor=opt.dasymetric_floor
            )
        )
    hz, units = _hazard(flood, units, opt)
    up = units.to_crs(hz.crs)
    lc = on_grid(layers.landcover, flood, "landcover") if layers.landcover is not None else None
    px = pixels(
        hz.values,
        opt.nodata,
        lc,
        layers.builtup,
        layers.builtup_before,
        flood,
        opt.cropland_classes,
        opt.builtup_classes,
    )
    if opt.dasymetric and not px.built_known:
        raise InputError(
            _("dasymetric: needs a built-up layer (builtup=, or landcover with built-up classes)")
        )
    dasym = bool(px.built_known if opt.dasymetric is None else opt.dasymetric)
    people = _population_grid(layers.population, hz) if layers.population is not None else None
    window = job_window(opt.job_grid, hz.tr, hz.values.shape) if opt.job_grid is not None else None
    if window is not None and people is not None and people.aligned is None:
        # a grid not aligned with the job's (another CRS or cell size): each cell keeps the
        # share of its persons whose area lies in this tile, out of its area in the job grid
        share = tile_area_share(people.template, hz.tr, hz.crs, hz.values.shape, opt.job_grid)
        people = replace(people, bands={k: v * share for k, v in people.bands.items()})
    aligned = people.aligned if people is not None else None
    cells = (
        cell_grid(px, people.bands, aligned, dasym, opt.dasymetric_floor, window)
        if people is not None and aligned is not None
        else no_cells(px)
    )
    # people per unit on the fine grid: dasymetric, or a tile of a job (its own part of each
    # unit's people, so that tiles add up)
    want_pop = (dasym or window is not None) and aligned is not None
    if opt.method == "fast":
        counts, pop_fine, exp_fine = fast_classes(
            px, cells, hz.tr, up.geometry.to_numpy(), want_pop
        )
    else:
        counts, pop_fine, exp_fine = exact_classes(px, cells, hz.tr, hz.crs, up, want_pop)
    areas = counts * (abs(hz.tr.a * hz.tr.e) / 1e4)  # ha per class code per unit
    out = _unit_columns(up, areas)
    columns = {}
    if people is not None:
        columns.update(
            _population_columns(
                people, pop_fine if want_pop else None, exp_fine, hz, px, units, opt, dasym
            )
        )
    columns.update(_class_columns(areas, px))
    vectors, outside = _vector_columns(layers, up, hz, opt)
    for col, values in {**columns, **vectors}.items():
        out[col] = values
    out.attrs = {
        "repaired_geometries": int(units.attrs.get("repaired_geometries", 0)),
        "facilities_outside_units": int(outside),
        "pixel_area_m2": float(abs(hz.tr.a * hz.tr.e)),
        "zonal_method": opt.method,
        "dasymetric": dasym if people is not None else False,
        "dasymetric_floor": float(opt.dasymetric_floor),
    }
    return out


_LAYER_FIELDS = tuple(f.name for f in fields(ExposureLayers))
_OPTION_FIELDS = tuple(f.name for f in fields(IndicatorOptions))


def _arguments(
    layers: ExposureLayers | None, options: IndicatorOptions | None, keywords: dict[str, Any]
) -> tuple[ExposureLayers, IndicatorOptions]:
    """:func:`indicators_by_unit`'s keywords folded into its two dataclasses."""
    for k in keywords:
        if k not in _LAYER_FIELDS and k not in _OPTION_FIELDS:
            raise TypeError(
                _("indicators_by_unit() got an unexpected keyword argument {k!r}").format(k=k)
            )
    layers = replace(
        layers if layers is not None else ExposureLayers(),
        **{k: v for k, v in keywords.items() if k in _LAYER_FIELDS},
    )
    options = replace(
        options if options is not None else IndicatorOptions(),
        **{k: v for k, v in keywords.items() if k in _OPTION_FIELDS},
    )
    return layers, options


@dataclass(frozen=True)
class _Hazard:
    """The hazard raster as the counts take it."""

    values: np.ndarray  #: uint8 classes (1 flooded, 0 / 2 not flooded, ``nodata``)
    tr: Affine
    crs: CRS  #: projected (metres)


def _hazard(
    flood: xr.DataArray, units: gpd.GeoDataFrame, opt: IndicatorOptions
) -> tuple[_Hazard, gpd.GeoDataFrame]:
    """The hazard raster and the units, checked (in this order: the hazard's grid, the units,
    the hazard's values)."""
    fcrs, ftr, _shape = georef(flood, "flood")
    if not fcrs.is_projected:
        raise InputError(_("flood: the hazard raster must be on a projected (metre) grid"))
    if opt.method == "fast" and (ftr.a < 0 or ftr.e > 0):
        raise InputError(
            _("flood: the fast zonal statistics need a north-up grid (use method='exact')")
        )
    units = check_units(units)
    fl = to_numpy(flood)
    if fl.ndim != 2:
        raise InputError(
            _("flood: expected a 2-D raster, got shape {shape}").format(shape=fl.shape)
        )
    if opt.method == "exact" or fl.dtype != np.uint8:
        check_flood_values(fl, opt.nodata)  # the fast path checks uint8 values in its fused pass
    if not 0 <= opt.nodata <= 255:
        raise InputError(
            _("flood: nodata must be 0-255 for a class raster, got {nodata}").format(
                nodata=opt.nodata
            )
        )
    return _Hazard(fl.astype(np.uint8, copy=False), ftr, fcrs), units


@dataclass(frozen=True)
class _PopulationGrid:
    """The population as the counts take it."""

    bands: dict[str, np.ndarray]  #: persons per cell (in a tile of a job: the tile's share)
    template: xr.DataArray  #: the grid
    aligned: tuple[int, int, int, int] | None  #: :func:`~eo_drr.sendai.population.aligned_cells`


def _population_grid(population: xr.DataArray | xr.Dataset, hz: _Hazard) -> _PopulationGrid:
    bands, template = population_bands(population)
    return _PopulationGrid(bands, template, aligned_cells(hz.tr, hz.crs, template))


_CODES = np.arange(N_CODES)


def _ha(areas: np.ndarray, *bits: int) -> np.ndarray:
    """Hectares per unit of the pixels whose class code has all ``bits``."""
    m = np.ones(N_CODES, bool)
    for b in bits:
        m &= (_CODES & b) != 0
    return areas[:, m].sum(axis=1)


def _unit_columns(up: gpd.GeoDataFrame, areas: np.ndarray) -> pd.DataFrame:
    """The table's first columns: the unit, its area, observed and flooded hectares."""
    out = pd.DataFrame(index=pd.Index(up["code"].to_numpy(), name="code"))
    out["name"] = up["name"].to_numpy()
    if "level" in up.columns:
        out["level"] = up["level"].to_numpy()
    out["area_ha"] = up.geometry.area.to_numpy() / 1e4
    out["observed_ha"] = _ha(areas, OBSERVED)
    out["observed_share"] = np.clip(out["observed_ha"] / out["area_ha"], 0.0, 1.0)
    out["nodata_share"] = 1.0 - out["observed_share"]
    out["flooded_ha"] = _ha(areas, FLOODED)
    return out


def _column(sums: pd.DataFrame | None, name: str) -> np.ndarray:
    if sums is None:
        raise InputError(_("population: no zonal sums for {name}").format(name=name))
    return sums[name].to_numpy()


def _population_columns(
    people: _PopulationGrid,
    pop_fine: np.ndarray | None,
    exp_fine: np.ndarray,
    hz: _Hazard,
    px: Pixels,
    units: gpd.GeoDataFrame,
    opt: IndicatorOptions,
    dasym: bool,
) -> dict[str, np.ndarray]:
    """``population[_<band>]`` and ``exposed_population[_<band>]``: the persons placed on the
    hazard pixels (``pop_fine`` when placed there, else None; ``exp_fine`` on an aligned grid),
    otherwise coverage-weighted sums on the population grid (of the persons x the flooded share
    of each cell for the exposed)."""
    pcrs, ptr, _shape = georef(people.template, "population")
    want_pop = pop_fine is not None
    arrays = {} if want_pop else {f"pop_{name}": v for name, v in people.bands.items()}
    if people.aligned is None:  # hazard aggregated onto the population grid
        share = flooded_share_on_grid(
            hz.values,
            hz.tr,
            hz.crs,
            people.template,
            nodata=opt.nodata,
            weight=pixel_weights(px, opt.dasymetric_floor) if dasym else None,
        )
        arrays.update({f"exp_{name}": v * share for name, v in people.bands.items()})
    sums = None
    if arrays:
        zonal = fast_sums if opt.method == "fast" else exact_sums
        sums = zonal(arrays, ptr, pcrs, units.to_crs(pcrs)).fillna(0.0)
    out = {}
    for b, name in enumerate(people.bands):
        suffix = "" if name == "total" else f"_{name}"
        out[f"population{suffix}"] = (
            pop_fine[:, b] if pop_fine is not None else _column(sums, f"pop_{name}")
        )
        out[f"exposed_population{suffix}"] = (
            exp_fine[:, b] if people.aligned is not None else _column(sums, f"exp_{name}")
        )
    return out


def _class_columns(areas: np.ndarray, px: Pixels) -> dict[str, np.ndarray]:
    """Cropland, built-up and new built-up hectares per unit, all and flooded."""
    out = {}
    if px.has_lc:
        out["cropland_ha"] = _ha(areas, CROP)
        out["flooded_cropland_ha"] = _ha(areas, CROP, FLOODED)
    if px.built_known:
        out["builtup_ha"] = _ha(areas, BUILT)
        out["flooded_builtup_ha"] = _ha(areas, BUILT, FLOODED)
        if px.has_bb:
            out["new_builtup_ha"] = _ha(areas, NEW_BUILT)
            out["new_builtup_flooded_ha"] = _ha(areas, NEW_BUILT, FLOODED)
    return out


def _vector_columns(
    layers: ExposureLayers, up: gpd.GeoDataFrame, hz: _Hazard, opt: IndicatorOptions
) -> tuple[dict[str, np.ndarray], int]:
    """Facility counts and road lengths per unit (all and flooded), and the number of
    facilities outside every unit."""
    out, outside = {}, 0
    if layers.facilities is not None:
        fc, outside = facility_counts(
            layers.facilities,
            up,
            hz.values,
            hz.tr,
            hz.crs,
            type_field=opt.facility_type_field,
            nodata=opt.nodata,
        )
        out.update({col: fc[col].to_numpy() for col in fc.columns})
    if layers.roads is not None:
        rl = road_lengths(layers.roads, up, hz.values, hz.tr, hz.crs)
        out.update({col: rl[col].to_numpy() for col in rl.columns})
    return out, outside
