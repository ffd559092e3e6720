"""Sentinel-1 RTC backscatter: linear gamma0 power or dB, nodata as NaN."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox

from eo_drr.errors import InputError
from eo_drr.load.stac import load_items, nodata_to_nan

#: Planetary Computer's sentinel-1-rtc marks nodata with -32768 in float32 pixels.
S1_RTC_NODATA = -32768.0


def check_not_grd_bbox_geotransform(items: Sequence[pystac.Item]) -> None:
    """Refuse GRD items whose only georeferencing is a bbox-derived geotransform.

    Sentinel-1 GRD in slant/ground-range geometry is georeferenced by GCPs; a catalogue that
    derives a north-up geotransform from the footprint (Earth Search's ``sentinel-1-grd``)
    would misplace every pixel by kilometres. Use an RTC / GRD-COG collection instead.
    """
    for item in items:
        ptype = str(item.properties.get("sar:product_type", "")).upper()
        rtc = "rtc" in (item.collection_id or "").lower() or any(
            "rtc" in (a.href or "").lower() for a in item.assets.values()
        )
        if ptype == "GRD" and not rtc and item.collection_id == "sentinel-1-grd":
            if not any("proj:transform" in a.extra_fields for a in item.assets.values()) and (
                "proj:transform" not in item.properties
            ):
                raise InputError(
                    f"item {item.id}: Sentinel-1 GRD without a projected geotransform "
                    "(georeferenced by GCPs only); use a terrain-corrected collection such as "
                    "sentinel-1-rtc, or the CDSE GRD-COG collection"
                )


def load_s1(
    items: Sequence[pystac.Item],
    bands: Sequence[str],
    geobox: GeoBox,
    *,
    units: str = "linear",
    stored_units: str = "linear",
    chunks: int = 1024,
    patch_url=None,
) -> xr.Dataset:
    """Load Sentinel-1 backscatter, one variable per polarisation (``vv``, ``vh``).

    ``stored_units`` is what the pixels hold (``linear`` power or ``db``); ``units`` is what
    to return. Output: float32, NaN for nodata, attribute ``units`` = ``"linear power"`` or
    ``"dB"``. Resampling is bilinear (backscatter is continuous).
    """
    if units not in ("linear", "db") or stored_units not in ("linear", "db"):
        raise InputError("units must be 'linear' or 'db'")
    check_not_grd_bbox_geotransform(items)
    ds = load_items(items, bands, geobox, chunks=chunks, resampling="bilinear", dtype="float32", patch_url=patch_url)
    out = {}
    for b in bands:
        da = nodata_to_nan(ds[b], S1_RTC_NODATA if stored_units == "linear" else None)
        if stored_units == "linear":
            da = da.where(da > 0)
        if stored_units != units:
            da = (10.0 * np.log10(da)) if units == "db" else 10.0 ** (da / 10.0)
            da = da.astype(np.float32)
        da.attrs["units"] = "dB" if units == "db" else "linear power"
        da.attrs["quantity"] = "gamma0 backscatter"
        out[b] = da
    return xr.Dataset(out, attrs=ds.attrs)
