"""Lazy loading of STAC items into dask-backed xarray with odc-stac.

Every loader takes the items found by the catalogue layer and a :class:`~odc.geo.geobox.GeoBox`
(the common grid) and returns a lazy ``xarray.Dataset`` with dims ``(time, y, x)`` (or
``(y, x)`` for static layers). Nodata becomes NaN in float outputs. Units are stated in the
``units`` attribute of each variable.

Sentinel-2 is harmonised to surface reflectance 0-1 (:mod:`eo_drr.load.sentinel2`);
Sentinel-1 RTC is returned as linear gamma0 power or dB (:mod:`eo_drr.load.sentinel1`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)


def check_bands(items: Sequence[pystac.Item], bands: Sequence[str]) -> None:
    """Raise :class:`InputError` naming the item and band when an item lacks a band."""
    if not items:
        raise InputError(_("no items to load"))
    for item in items:
        missing = [b for b in bands if b not in item.assets]
        if missing:
            raise InputError(
                _(
                    "item {item} ({collection_id}) has no band(s) {missing}; it has: {assets}"
                ).format(
                    item=item.id,
                    collection_id=item.collection_id,
                    missing=", ".join(missing),
                    assets=", ".join(sorted(item.assets)),
                )
            )


@dataclass(frozen=True)
class AssetOverrides:
    """What to assume of every loaded asset instead of its ``raster:bands``: the ``dtype``
    (numpy name, e.g. ``"float32"``) and the ``nodata`` value (in the stored units)."""

    dtype: str | None = None
    nodata: float | None = None

    def stac_cfg(self) -> dict | None:
        """odc-stac's ``stac_cfg`` for these overrides; None when there are none."""
        asset_cfg: dict = {}
        if self.nodata is not None:
            asset_cfg["nodata"] = self.nodata
        if self.dtype is not None:
            asset_cfg["data_type"] = self.dtype
        return {"*": {"assets": {"*": asset_cfg}}} if asset_cfg else None


def load_items(
    items: Sequence[pystac.Item],
    bands: Sequence[str],
    geobox: GeoBox,
    *,
    chunks: int = 1024,
    resampling: str | dict[str, str] = "nearest",
    groupby: str | None = "solar_day",
    overrides: AssetOverrides = AssetOverrides(),
    patch_url: Callable[[str], str] | None = None,
) -> xr.Dataset:
    """Load ``bands`` of ``items`` onto ``geobox`` lazily (odc-stac), one dask chunk per
    ``chunks x chunks`` pixels. ``overrides`` replace the items' ``raster:bands`` data type
    and nodata. Items of the same solar day are fused into one time step (``groupby``)."""
    import odc.stac

    check_bands(items, bands)
    stac_cfg = overrides.stac_cfg()
    try:
        ds = odc.stac.load(
            items,
            bands=list(bands),
            geobox=geobox,
            chunks={"x": chunks, "y": chunks},
            resampling=resampling,
            groupby=groupby,
            stac_cfg=stac_cfg,
            patch_url=patch_url,
        )
    except (ValueError, KeyError) as exc:
        raise InputError(
            _("cannot load bands {bands}: {exc}").format(bands=list(bands), exc=exc)
        ) from exc
    return ds


def nodata_to_nan(da: xr.DataArray, nodata: float | None = None) -> xr.DataArray:
    """Float32 copy of ``da`` with its nodata value (attribute ``nodata`` or given) as NaN."""
    nodata = da.attrs.get("nodata") if nodata is None else nodata
    out = da.astype(np.float32)
    if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
        out = out.where(da != nodata)
    out.attrs = {k: v for k, v in da.attrs.items() if k != "nodata"}
    out.attrs["nodata"] = np.nan
    return out
