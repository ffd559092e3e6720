"""Administrative units: reading, checking and preparing them for zonal statistics."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from eo_drr.errors import CorruptInputError, InputError


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
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError(f"admin units: no such file {path}")
    try:
        gdf = gpd.read_file(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise CorruptInputError(f"admin units: cannot read {path} ({exc})") from exc
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
