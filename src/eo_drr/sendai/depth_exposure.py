"""Exposure by flood depth per administrative unit, and a depth-damage proxy for built-up area.

People, built-up area, cropland and road length inside the flood are counted per unit in depth
classes (:data:`DEPTH_CLASSES`, metres) by the indicator engine
(:func:`eo_drr.sendai.indicators.indicators_by_unit`: the same dasymetric population, exact
coverage-weighted zonal sums and road cutting), run once per class on the pixels whose depth
falls in it. The result is a tidy table, one row per unit x depth class, and
:func:`depth_sfm_rows` turns it into rows of the SFM-shaped table
(:func:`eo_drr.sendai.sfm.sfm_table`), disaggregated ``depth:<class>``.

Depth classes: 0-0.5 m, 0.5-1.5 m and above 1.5 m, the water depths commonly given for the
low / medium / high classes of the Philippines' Project NOAH flood hazard maps. Project NOAH
and its Web-GIS: Lagmay, A.M.F.A., Racoma, B.A.B., Aracan, K.A.B., Alconis-Ayco, J.A., Saddi,
I.L. (2017), "Disseminating near real-time hazards information and flood maps in the
Philippines through Web-GIS", *Journal of Environmental Sciences* (Elsevier), published online
18 March 2017 (authors, title, journal and date as on the UP NOAH Center's page of the paper,
http://center.noah.up.edu.ph/disseminating-near-real-time-hazards-information-and-flood-maps-in-the-philippines-through-web-gis/;
volume 59, pages 13-23 not verified). The 0.5 m and 1.5 m values were not found in that paper
or on a NOAH page: they come from secondary descriptions of the NOAH hazard shapefiles (field
``Var`` 1/2/3 = low/medium/high), while the NOAH data description distributed with them is
qualitative (below the knee, knee to neck, above the neck of a 5 ft 6 in adult) and says the
levels also weigh flow velocity.
So the classes here are depth-only bins in the spirit of NOAH's levels, not NOAH's hazard
classes, and not a Sendai or international standard.

Damage proxy: built-up hectares weighted by the damage fraction of the JRC global flood
depth-damage function for **residential buildings in Central & South America** (Huizinga, J.,
de Moel, H., Szewczyk, W. 2017, *Global flood depth-damage functions: Methodology and the
database with guidelines*, JRC Technical Report EUR 28552 EN, JRC105688, Publications Office
of the European Union, Luxembourg, ISBN 978-92-79-67781-6, doi:10.2760/16510), linearly
interpolated between the tabulated depths (:data:`JRC_RESIDENTIAL_CSA`). The fractions are
the report's database values for South America, residential, to four decimals, as CLIMADA
(climada_petals, ``ImpfRiverFlood.from_RF_Impf_SouthAmerica``, "Flood South America JRC
Residential noPAA") carries them. The result,
``builtup_damage_ha``, is an **EO proxy**: "damage-equivalent" built-up area, built-up pixels
times the fraction of a residential building's value a flood of that depth typically destroys,
not a damage or loss estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.sendai.grids import georef, on_grid, to_numpy
from eo_drr.sendai.indicators import ExposureLayers, IndicatorOptions, indicators_by_unit
from eo_drr.sendai.sfm import INDICATORS, Indicator, event_key, long_rows
from eo_drr.sendai.units import check_units
from eo_drr.sendai.zonal import exact_sums, fast_sums

__all__ = [
    "DAMAGE_INDICATOR",
    "DEPTH_CLASSES",
    "DEPTH_NOTE",
    "JRC_RESIDENTIAL_CSA",
    "DepthClass",
    "damage_fraction",
    "depth_sfm_rows",
    "exposure_by_depth",
]


@dataclass(frozen=True)
class DepthClass:
    """Water depth ``lower_m <= depth < upper_m`` (metres), named ``label``."""

    label: str
    lower_m: float
    upper_m: float


#: Depth classes (m): the depths given for Project NOAH's low / medium / high flood hazard
#: levels (secondary sources; module docstring).
DEPTH_CLASSES: tuple[DepthClass, ...] = (
    DepthClass("0-0.5m", 0.0, 0.5),
    DepthClass("0.5-1.5m", 0.5, 1.5),
    DepthClass(">1.5m", 1.5, float("inf")),
)

#: JRC depth-damage function, residential buildings, Central & South America (Huizinga et al.
#: 2017, EUR 28552): water depth (m) -> damage fraction (0-1); deeper than 6 m: 1.
JRC_RESIDENTIAL_CSA: tuple[tuple[float, ...], tuple[float, ...]] = (
    (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0),
    (0.0, 0.4908, 0.7112, 0.8420, 0.9494, 0.9836, 1.0, 1.0, 1.0),
)

#: Indicator columns of :func:`~eo_drr.sendai.indicators.indicators_by_unit` kept per class.
_KEPT = ("flooded_builtup_ha", "flooded_cropland_ha", "flooded_road_km")

#: The damage proxy as an SFM-shaped indicator (C-4: housing; an EO proxy, not a loss).
DAMAGE_INDICATOR = Indicator(
    "EO-C4-DMG",
    "C-4",
    "builtup_damage_ha",
    "ha",
    "Built-up area x JRC residential depth-damage fraction (damage proxy, damage-equivalent ha)",
)

#: What the depth rows say about themselves.
DEPTH_NOTE = (
    "Earth-observation proxy: counts in modelled flood-depth classes (water depth from the "
    "observed flood extent and terrain); not a reported Sendai value"
)


def damage_fraction(depth_m: np.ndarray) -> np.ndarray:
    """Damage fraction (0-1) of residential buildings at water depth ``depth_m`` (m) by
    :data:`JRC_RESIDENTIAL_CSA`, linear between the tabulated depths; NaN stays NaN."""
    d = np.asarray(depth_m, dtype=np.float64)
    x, y = JRC_RESIDENTIAL_CSA
    return np.where(np.isfinite(d), np.interp(np.clip(d, 0.0, None), x, y), np.nan)


def _class_mask(depth: np.ndarray, c: DepthClass) -> np.ndarray:
    """Flooded pixels (finite depth) in class ``c`` (a depth of 0 is in the first class)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(depth) & (depth >= c.lower_m) & (depth < c.upper_m)


def _check_classes(classes: tuple[DepthClass, ...]) -> None:
    if not classes:
        raise InputError(_("classes: give at least one depth class"))
    for a, b in zip(classes, classes[1:]):
        if a.upper_m != b.lower_m:
            raise InputError(
                _("classes: {a} and {b} do not meet (a gap or an overlap)").format(
                    a=a.label, b=b.label
                )
            )
    if any(not c.lower_m < c.upper_m for c in classes) or classes[0].lower_m > 0:
        raise InputError(
            _("classes: each needs lower_m < upper_m, the first starting at 0 m or below")
        )


def _builtup(depth: xr.DataArray, layers: ExposureLayers, opt: IndicatorOptions):
    """Built-up 1/0 on the depth grid (``builtup``, else the land cover's built-up classes),
    or None when neither is given."""
    if layers.builtup is not None:
        return on_grid(layers.builtup, depth, "builtup") == 1
    if layers.landcover is not None and len(opt.builtup_classes):
        lc = on_grid(layers.landcover, depth, "landcover")
        return np.isin(lc, [int(c) for c in opt.builtup_classes])
    return None


def exposure_by_depth(
    depth: xr.DataArray,
    units: gpd.GeoDataFrame,
    *,
    layers: ExposureLayers | None = None,
    options: IndicatorOptions | None = None,
    classes: tuple[DepthClass, ...] = DEPTH_CLASSES,
) -> pd.DataFrame:
    """People, built-up area, cropland and road length per unit in each depth class.

    Parameters
    ----------
    depth
        Water depth (m, NaN off the flood), e.g. from :func:`eo_drr.depth`, on a projected
        north-up grid with a CRS (rioxarray).
    units
        Admin units with ``code`` and ``name`` (checked by
        :func:`~eo_drr.sendai.units.check_units`).
    layers, options
        As :func:`~eo_drr.sendai.indicators.indicators_by_unit` (``population``,
        ``landcover``, ``builtup``, ``roads``; facilities and the earlier built-up epoch are
        not used here).
    classes
        Contiguous depth classes (:data:`DEPTH_CLASSES`).

    Returns
    -------
    A tidy DataFrame, one row per unit x class (units in order, classes in order, zeros where
    nothing is flooded): ``code``, ``name`` (and ``level``), ``depth_class``, ``depth_min_m``,
    ``depth_max_m``; with population ``exposed_population`` and
    ``exposed_population_<band>`` (persons); with land cover ``flooded_cropland_ha``; with
    built-up (``builtup`` or land cover) ``flooded_builtup_ha`` and ``builtup_damage_ha``
    (built-up ha x :func:`damage_fraction`, the EO damage proxy); with roads
    ``flooded_road_km`` (km).
    """
    _check_classes(tuple(classes))
    layers = layers if layers is not None else ExposureLayers()
    opt = options if options is not None else IndicatorOptions()
    layers = replace(layers, facilities=None, builtup_before=None)
    crs, tr, _shape = georef(depth, "depth")
    d = np.asarray(to_numpy(depth), dtype=np.float64)
    if d.ndim != 2:
        raise InputError(_("depth: expected a 2-D raster, got shape {shape}").format(shape=d.shape))
    if (np.nan_to_num(d, nan=0.0) < 0).any():
        raise InputError(
            _("depth: negative water depths (expected metres >= 0, NaN off the flood)")
        )
    units = check_units(units)
    built = _builtup(depth, layers, opt)
    damage = (
        np.where(built, np.nan_to_num(damage_fraction(d)), 0.0) * abs(tr.a * tr.e) / 1e4
        if built is not None
        else None
    )
    zonal = fast_sums if opt.method == "fast" else exact_sums
    tables = []
    for c in classes:
        inside = _class_mask(d, c)
        hazard = xr.DataArray(inside.astype(np.uint8), coords=depth.coords, dims=depth.dims)
        hazard = hazard.rio.write_crs(crs).rio.write_transform(tr)
        t = indicators_by_unit(hazard, units, layers=layers, options=opt)
        keep = [k for k in t.columns if k.startswith("exposed_population") or k in _KEPT]
        out = t[[k for k in ("name", "level") if k in t.columns] + keep].copy()
        if damage is not None:
            sums = zonal({"damage": np.where(inside, damage, 0.0)}, tr, crs, units.to_crs(crs))
            out["builtup_damage_ha"] = sums["damage"].to_numpy()
        out.insert(out.columns.get_loc("name") + 1 + ("level" in out), "depth_class", c.label)
        out.insert(out.columns.get_loc("depth_class") + 1, "depth_min_m", c.lower_m)
        out.insert(out.columns.get_loc("depth_min_m") + 1, "depth_max_m", c.upper_m)
        tables.append(out.reset_index())
    order = {c.label: i for i, c in enumerate(classes)}
    table = pd.concat(tables, ignore_index=True)
    units_order = {code: i for i, code in enumerate(units["code"])}
    key = table["code"].map(units_order) * len(classes) + table["depth_class"].map(order)
    return table.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)


def depth_sfm_rows(
    table: pd.DataFrame,
    *,
    event_id: str,
    date,
    hazard_code: str = "MH0600",
    admin_level: int | str | None = None,
) -> pd.DataFrame:
    """SFM-shaped rows (the columns of :func:`eo_drr.sendai.sfm.sfm_table`) of
    :func:`exposure_by_depth`'s table: the indicators of :data:`eo_drr.sendai.sfm.INDICATORS`
    it holds (B-1 people, C-2 cropland, C-4 built-up, D-4 roads) and the damage proxy
    (:data:`DAMAGE_INDICATOR`), one row per unit x class x indicator, disaggregation
    ``depth:<class>`` (``depth:<class>;sex:female`` etc. for the population bands).
    ``observed_share`` is NaN (a depth raster does not say what was observed);
    ``uncertainty`` says the values come from modelled depth."""
    key = event_key(event_id, date, hazard_code, admin_level)
    for col in ("code", "name", "depth_class"):
        if col not in table.columns:
            raise InputError(
                _("depth exposure table: no {col!r} column (see exposure_by_depth)").format(col=col)
            )
    rows = []
    for label in pd.unique(table["depth_class"]):
        part = table[table["depth_class"] == label].set_index("code")
        present = [
            replace(ind, disaggregation=_disaggregation(label, ind.disaggregation))
            for ind in (*INDICATORS, DAMAGE_INDICATOR)
            if ind.column in part.columns
        ]
        rows.append(
            long_rows(
                part,
                present,
                key,
                observed=np.full(len(part), np.nan),
                uncertainty="estimate from modelled water depth",
                note=DEPTH_NOTE,
            )
        )
    return pd.concat(rows, ignore_index=True)


def _disaggregation(label: str, base: str) -> str:
    return f"depth:{label}" if base == "total" else f"depth:{label};{base}"
