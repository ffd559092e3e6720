"""Sentinel-1 RTC backscatter: linear gamma0 power or dB, nodata as NaN."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.load.stac import AssetOverrides, load_items, nodata_to_nan

#: Planetary Computer's sentinel-1-rtc marks nodata with -32768 in float32 pixels.
S1_RTC_NODATA = -32768.0


def _is_ground_range(item: pystac.Item) -> bool:
    """A Sentinel-1 GRD product in radar (ground-range) geometry, not terrain-corrected."""
    coll = (item.collection_id or "").lower()
    ptype = str(
        item.properties.get("sar:product_type") or item.properties.get("product:type") or ""
    ).upper()
    return "GRD" in ptype and "rtc" not in coll and "rtc" not in item.id.lower()


def check_s1_georeferencing(items: Sequence[pystac.Item]) -> None:
    """Refuse Sentinel-1 GRD items that would be silently misplaced.

    GRD images are in radar ground-range geometry, georeferenced only by GCPs. Two kinds of
    catalogue entry would load them wrongly: a north-up geotransform derived from the
    footprint's bounding box (Earth Search ``sentinel-1-grd``: ``proj:transform`` starting at
    the ``proj:bbox`` corner, kilometres off and skewed), and assets without any projection
    (CDSE GRD COGs: ``proj:code`` null). Use a terrain-corrected collection (Planetary
    Computer ``sentinel-1-rtc``) or terrain-correct the GRD first.
    """
    for item in items:
        if not _is_ground_range(item):
            continue
        props = item.properties
        tr = props.get("proj:transform")
        bbox = props.get("proj:bbox")
        shape = props.get("proj:shape")
        if tr and bbox and shape:
            width_deg = abs(tr[0]) * shape[1]
            if (
                abs(tr[2] - bbox[0]) < 1e-6
                and abs(tr[5] - bbox[3]) < 1e-6
                and abs(width_deg - (bbox[2] - bbox[0])) < 1e-3
            ):
                raise InputError(
                    _(
                        "item {item}: Sentinel-1 GRD with a geotransform derived from its "
                        "bounding box (the image is in radar geometry, georeferenced by "
                        "GCPs): its pixels would be misplaced. Use a terrain-corrected "
                        "collection such as sentinel-1-rtc, or terrain-correct it first"
                    ).format(item=item.id)
                )
        codes = [
            a.extra_fields.get("proj:code", "missing")
            for a in item.assets.values()
            if "data" in (a.roles or [])
        ]
        if (
            not tr
            and (not codes or all(c in (None, "missing") for c in codes))
            and "proj:epsg" not in props
        ):
            raise InputError(
                _(
                    "item {item}: Sentinel-1 GRD in radar geometry without a map projection "
                    "(GCPs only); use a terrain-corrected collection such as sentinel-1-rtc, "
                    "or terrain-correct it first"
                ).format(item=item.id)
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
        raise InputError(_("units must be 'linear' or 'db'"))
    check_s1_georeferencing(items)
    ds = load_items(
        items,
        bands,
        geobox,
        chunks=chunks,
        resampling="bilinear",
        overrides=AssetOverrides(dtype="float32"),
        patch_url=patch_url,
    )
    out = {}
    for b in bands:
        da = nodata_to_nan(ds[b], S1_RTC_NODATA if stored_units == "linear" else None)
        if stored_units == "linear":
            da = da.where(da > 0)
        if stored_units != units:
            da = (10.0 * np.log10(da)) if units == "db" else 10.0 ** (da / 10.0)  # type: ignore[assignment]
            da = da.astype(np.float32)
        da.attrs["units"] = "dB" if units == "db" else "linear power"
        da.attrs["quantity"] = "gamma0 backscatter"
        out[b] = da
    return xr.Dataset(out, attrs=ds.attrs)


def check_loaded(
    vv_linear: np.ndarray,
    vh_linear: np.ndarray | None,
    *,
    stored_units: str,
    what: str,
) -> list[str]:
    """Check Sentinel-1 loaded by :func:`load_s1` (linear power, 2-D) against the units the job
    says its files hold (``sources.s1.units``) and the band order (``sources.s1.bands``): the
    values go back to their stored units (only the samples the checks read:
    :func:`eo_drr.load.s1_checks.check_stored`, the verdict of ``check_backscatter``).
    Returns its warnings; raises its errors, naming ``what`` (e.g. "post-event Sentinel-1
    S1A_...") and the job keys."""
    from eo_drr.load.s1_checks import check_stored

    def stored(a: np.ndarray) -> np.ndarray:
        if stored_units == "linear":
            return a
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, 10 * np.log10(a), np.nan).astype(np.float32)

    notes = check_stored(
        vv_linear,
        vh_linear,
        convert=stored,
        units=stored_units,
        vv_name=f"{what} (VV)",
        vh_name=f"{what} (VH)",
        units_option="sources.s1.units",
        bands_option="sources.s1.bands",
    )
    return notes
