"""What a finished job hands back: its outputs by name, its tables, its figures, its flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

#: extensions a table-like output is written with (the Sendai table is a stem + these)
_TABLE_EXTS = (".parquet", ".csv", ".gpkg")


def output_paths(summary_outputs: dict[str, str]) -> dict[str, Path]:
    """``{name: path}`` of the files a run wrote; a stem written in several formats (the Sendai
    table) becomes ``name`` (CSV) plus ``name_parquet`` / ``name_gpkg``."""
    out: dict[str, Path] = {}
    for name, p in summary_outputs.items():
        path = Path(p)
        if path.suffix:
            out[name] = path
            continue
        for ext in (".csv", ".parquet", ".gpkg"):
            f = path.with_name(path.name + ext)
            if f.is_file():
                out[name if ext == ".csv" else f"{name}_{ext[1:]}"] = f
    return out


@dataclass(frozen=True)
class JobResult:
    """A finished job.

    ``outputs``: layer or table name -> file (e.g. ``"flood"`` -> ``.../flood_extent.tif``);
    ``summary``: the figures the command line prints (hectares, people, seconds, thresholds
    in dB, ...), as in ``run.json``; ``folder``: the output folder.
    """

    job: str
    pipeline: str
    folder: Path
    summary: dict[str, Any]
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def quality(self) -> list[str]:
        """Plain-language quality warnings of the products (empty when nothing was flagged)."""
        return [*self.summary.get("quality_warnings", []), *self.summary.get("warnings", [])]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by file stem (``flood_by_unit``, ``sendai_eo_proxies``, ...), read on each
        access: GeoParquet as a GeoDataFrame where written, else CSV."""
        import geopandas as gpd

        stems: dict[str, Path] = {}
        for path in sorted(
            self.outputs.values(),
            key=lambda p: _TABLE_EXTS.index(p.suffix) if p.suffix in _TABLE_EXTS else 9,
        ):
            if path.suffix in (".parquet", ".csv") and path.stem not in stems:
                stems[path.stem] = path
        return {
            s: gpd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
            for s, p in sorted(stems.items())
        }

    def open(self, name: str) -> xr.DataArray:
        """The raster output ``name`` as a georeferenced DataArray (rioxarray; nodata masked to NaN)."""
        import rioxarray

        path = self.outputs.get(name)
        if path is None or path.suffix != ".tif":
            rasters = sorted(k for k, v in self.outputs.items() if v.suffix == ".tif")
            raise InputError(
                _("{name!r}: no such raster output of job {job!r} (have: {rasters})").format(
                    name=name, job=self.job, rasters=", ".join(rasters)
                )
            )
        da = rioxarray.open_rasterio(path, masked=True)
        if not isinstance(da, xr.DataArray):
            raise InputError(_("{path}: not a single raster").format(path=path))
        return da.squeeze("band", drop=True)
