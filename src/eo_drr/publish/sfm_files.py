"""The Sendai-shaped EO-proxy table (:mod:`eo_drr.sendai.sfm` builds it) written as CSV,
GeoParquet and GeoPackage, atomically and byte-reproducibly, text made safe for spreadsheets."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.io.atomic import atomic_path
from eo_drr.publish.tables import spreadsheet_safe


def _gpkg_env():
    """GDAL settings that make GeoPackage bytes reproducible (fixed timestamp in
    ``gpkg_contents.last_change``)."""
    return {"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"}


def write_sfm(
    table: pd.DataFrame,
    folder: str | os.PathLike,
    *,
    units: gpd.GeoDataFrame | None = None,
    stem: str = "sendai_eo_proxies",
    formats: Sequence[str] = ("csv", "geoparquet", "gpkg"),
) -> dict[str, Path]:
    """Write the SFM-shaped table as ``<stem>.csv``, ``<stem>.parquet`` (GeoParquet, with the
    unit polygons joined on ``admin_code``) and ``<stem>.gpkg`` (layer ``<stem>``), each
    atomically; reruns with the same inputs give byte-identical files. GeoParquet and
    GeoPackage need ``units`` (``code`` + geometry). Returns ``{format: path}``."""
    folder = Path(folder)
    table = spreadsheet_safe(table)
    unknown = set(formats) - {"csv", "geoparquet", "gpkg"}
    if unknown:
        raise InputError(
            _("write_sfm: unknown format(s) {unknown} (csv, geoparquet, gpkg)").format(
                unknown=sorted(unknown)
            )
        )
    out: dict[str, Path] = {}
    if "csv" in formats:
        path = folder / f"{stem}.csv"
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
        out["csv"] = path
    geo = {"geoparquet", "gpkg"} & set(formats)
    if geo:
        if units is None:
            raise InputError(
                _("write_sfm: GeoParquet and GeoPackage need the admin units (units=)")
            )
        g = units[["code", "geometry"]].drop_duplicates("code").set_index("code").geometry
        missing = set(table["admin_code"]) - set(g.index)
        if missing:
            raise InputError(
                _("write_sfm: no unit polygon for code(s) {missing}").format(
                    missing=", ".join(sorted(missing)[:10])
                )
            )
        gdf = gpd.GeoDataFrame(
            table.reset_index(drop=True),
            geometry=g.loc[table["admin_code"]].to_numpy(),
            crs=units.crs,
        )
        if "geoparquet" in formats:
            path = folder / f"{stem}.parquet"
            with atomic_path(path) as tmp:
                gdf.to_parquet(tmp, index=False, compression="zstd")
            out["geoparquet"] = path
        if "gpkg" in formats:
            import pyogrio

            path = folder / f"{stem}.gpkg"
            with atomic_path(path) as tmp:
                tmp.unlink()  # the driver creates the file
                old = {k: pyogrio.get_gdal_config_option(k) for k in _gpkg_env()}
                try:
                    pyogrio.set_gdal_config_options(_gpkg_env())
                    pyogrio.write_dataframe(gdf, tmp, layer=stem, driver="GPKG")
                finally:
                    pyogrio.set_gdal_config_options(old)
            out["gpkg"] = path
    return out
