"""Administrative units: reading, checking and preparing them for zonal statistics."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from eo_drr.errors import CorruptInputError, InputError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)


def read_vector(path: str | Path, *, layer: str | None = None, what: str) -> gpd.GeoDataFrame:
    """A vector file (any OGR format) as a GeoDataFrame; a missing file is an InputError and an
    unreadable one a CorruptInputError, both starting with ``what`` (the config key)."""
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError(_("{what}: no such file {path}").format(what=what, path=path))
    try:
        return gpd.read_file(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise CorruptInputError(
            _("{what}: cannot read {path} ({exc})").format(what=what, path=path, exc=exc)
        ) from exc


def read_units(
    path: str | Path,
    *,
    layer: str | None = None,
    code_field: str = "code",
    name_field: str = "name",
) -> gpd.GeoDataFrame:
    """Read administrative units (polygons) with a unique code and a name.

    Invalid geometries are repaired (``make_valid``) and counted in the log, never dropped;
    units without a code or with duplicate codes are refused with the offending codes named.
    Returns columns ``code``, ``name`` (strings) and ``geometry``, plus the file's other fields.
    """
    path = Path(path)
    gdf = read_vector(path, layer=layer, what="admin units")
    if gdf.crs is None:
        raise InputError(_("admin units: {path} has no CRS").format(path=path))
    for field in (code_field, name_field):
        if field not in gdf.columns:
            raise InputError(
                _("admin units: {path} has no field {field!r} (fields: {fields})").format(
                    path=path, field=field, fields=", ".join(map(str, gdf.columns))
                )
            )
    if gdf.empty:
        raise InputError(_("admin units: {path} has no features").format(path=path))
    codes = gdf[code_field]
    if codes.isna().any() or (codes.astype(str).str.strip() == "").any():
        raise InputError(
            _("admin units: {path}: {n} unit(s) without a {code_field!r}").format(
                path=path, n=int(codes.isna().sum()), code_field=code_field
            )
        )
    dup = codes[codes.duplicated()].astype(str).unique()
    if len(dup):
        raise InputError(
            _("admin units: {path}: duplicate {code_field!r} values: {dup}").format(
                path=path, code_field=code_field, dup=", ".join(dup[:10])
            )
        )
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, "geometry"] = gdf.geometry[invalid].make_valid()
    out = gdf.rename(columns={code_field: "code", name_field: "name"})
    out["code"] = out["code"].astype(str)
    out["name"] = out["name"].astype(str)
    out.attrs["repaired_geometries"] = int(invalid.sum())
    return out


def check_units(units: gpd.GeoDataFrame, *, what: str = "admin units") -> gpd.GeoDataFrame:
    """Validate administrative units for zonal statistics; return a clean copy.

    Needs columns ``code`` and ``name`` (as :func:`eo_drr.sendai.units.read_units` gives) and a
    CRS. Units without a code and duplicate codes raise :class:`InputError` naming them.
    Invalid geometries are repaired (``make_valid``, polygonal parts kept) and counted in
    ``attrs["repaired_geometries"]``, never dropped; a unit that is empty after repair is an
    error.
    """
    if not isinstance(units, gpd.GeoDataFrame):
        raise InputError(
            _("{what}: expected a GeoDataFrame, got {type}").format(
                what=what, type=type(units).__name__
            )
        )
    if units.crs is None:
        raise InputError(_("{what}: the units have no CRS").format(what=what))
    for col in ("code", "name"):
        if col not in units.columns:
            raise InputError(
                _("{what}: no {col!r} column (columns: {columns})").format(
                    what=what, col=col, columns=", ".join(map(str, units.columns))
                )
            )
    if units.empty:
        raise InputError(_("{what}: no units").format(what=what))
    codes = units["code"]
    blank = codes.isna() | (codes.astype(str).str.strip() == "")
    if blank.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(blank.to_numpy())[:10])
        raise InputError(
            _("{what}: {blank} unit(s) without a code (rows {rows})").format(
                what=what, blank=int(blank.sum()), rows=rows
            )
        )
    codes = codes.astype(str)
    dup = codes[codes.duplicated()].unique()
    if len(dup):
        raise InputError(
            _("{what}: duplicate codes: {dup}").format(what=what, dup=", ".join(dup[:10]))
        )
    out = units.copy()
    out["code"] = codes.to_numpy()
    out["name"] = out["name"].fillna("").astype(str)
    geoms = out.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
        n = int(invalid.sum())
        text = (
            _("{what}: repaired {n} invalid geometry ({codes})")
            if n == 1
            else _("{what}: repaired {n} invalid geometries ({codes})")
        )
        log.warning(text.format(what=what, n=n, codes=", ".join(out["code"][invalid][:10])))
    empty = out.geometry.is_empty | out.geometry.isna()
    if empty.any():
        raise InputError(
            _("{what}: unit(s) with an empty geometry: {code}").format(
                what=what, code=", ".join(out["code"][empty][:10])
            )
        )
    out.attrs["repaired_geometries"] = int(invalid.sum()) + int(
        units.attrs.get("repaired_geometries", 0)
    )
    return out


def _polygonal(geom):
    """The polygonal part of a repaired geometry (make_valid may add stray lines/points)."""
    if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
