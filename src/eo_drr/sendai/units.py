"""Administrative units: reading, checking and preparing them for zonal statistics."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from eo_drr.errors import CorruptInputError, InputError


def read_vector(path: str | Path, *, layer: str | None = None, what: str) -> gpd.GeoDataFrame:
    """A vector file (any OGR format) as a GeoDataFrame; a missing file is an InputError and an
    unreadable one a CorruptInputError, both starting with ``what`` (the config key)."""
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError(f"{what}: no such file {path}")
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
        raise InputError(f"admin units: {path}: {int(codes.isna().sum())} unit(s) without a {code_field!r}")
    dup = codes[codes.duplicated()].astype(str).unique()
    if len(dup):
        raise InputError(f"admin units: {path}: duplicate {code_field!r} values: {', '.join(dup[:10])}")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, "geometry"] = gdf.geometry[invalid].make_valid()
    out = gdf.rename(columns={code_field: "code", name_field: "name"})
    out["code"] = out["code"].astype(str)
    out["name"] = out["name"].astype(str)
    out.attrs["repaired_geometries"] = int(invalid.sum())
    return out
