"""Administrative units: reading, checking and preparing them for zonal statistics."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from eo_drr.errors import CorruptInputError, InputError
from eo_drr.i18n import gettext

log = logging.getLogger(__name__)


def read_vector(path: str | Path, *, layer: str | None = None, what: str) -> gpd.GeoDataFrame:
    """A vector file (any OGR format) as a GeoDataFrame; a missing file is an InputError and an
    unreadable one a CorruptInputError, both starting with ``what`` (the config key)."""
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError(gettext("{what}: no such file {path}").format(what=what, path=path))
    try:
        return gpd.read_file(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise CorruptInputError(f"{what}: cannot read {path} ({exc})") from exc


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
        raise InputError(f"admin units: {path} has no CRS")
    for field in (code_field, name_field):
        if field not in gdf.columns:
            raise InputError(
                f"admin units: {path} has no field {field!r} (fields: {', '.join(map(str, gdf.columns))})"
            )
    if gdf.empty:
        raise InputError(f"admin units: {path} has no features")
    codes = gdf[code_field]
    if codes.isna().any() or (codes.astype(str).str.strip() == "").any():
        raise InputError(
            f"admin units: {path}: {int(codes.isna().sum())} unit(s) without a {code_field!r}"
        )
    dup = codes[codes.duplicated()].astype(str).unique()
    if len(dup):
        raise InputError(
            f"admin units: {path}: duplicate {code_field!r} values: {', '.join(dup[:10])}"
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
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(units).__name__}")
    if units.crs is None:
        raise InputError(f"{what}: the units have no CRS")
    for col in ("code", "name"):
        if col not in units.columns:
            raise InputError(
                f"{what}: no {col!r} column (columns: {', '.join(map(str, units.columns))})"
            )
    if units.empty:
        raise InputError(f"{what}: no units")
    codes = units["code"]
    blank = codes.isna() | (codes.astype(str).str.strip() == "")
    if blank.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(blank.to_numpy())[:10])
        raise InputError(f"{what}: {int(blank.sum())} unit(s) without a code (rows {rows})")
    codes = codes.astype(str)
    dup = codes[codes.duplicated()].unique()
    if len(dup):
        raise InputError(f"{what}: duplicate codes: {', '.join(dup[:10])}")
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
        log.warning(
            "%s: repaired %d invalid geometr%s (%s)",
            what,
            int(invalid.sum()),
            "y" if invalid.sum() == 1 else "ies",
            ", ".join(out["code"][invalid][:10]),
        )
    empty = out.geometry.is_empty | out.geometry.isna()
    if empty.any():
        raise InputError(
            f"{what}: unit(s) with an empty geometry: {', '.join(out['code'][empty][:10])}"
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
