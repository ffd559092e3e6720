"""Sentinel-2 L2A: harmonised surface reflectance (0-1) and scene-classification masking.

Since processing baseline 04.00 (25 January 2022) ESA adds ``BOA_ADD_OFFSET = -1000`` to L2A
digital numbers: reflectance = (DN + BOA_ADD_OFFSET) / BOA_QUANTIFICATION_VALUE, with
BOA_QUANTIFICATION_VALUE = 10000 (ESA, *Sentinel-2 Products Specification Document*,
S2-PDGS-TAS-DI-PSD, issue 14.9, and the baseline 04.00 product notice). Collections that have
already removed it (Earth Search ``sentinel-2-c1-l2a``) say so through their ``raster:bands``
offset; Planetary Computer and CDSE serve the raw DNs.

SCL codes (ESA L2A ATBD): 0 no data, 1 saturated/defective, 2 dark area, 3 cloud shadow,
4 vegetation, 5 not vegetated, 6 water, 7 unclassified, 8 cloud medium probability,
9 cloud high probability, 10 thin cirrus, 11 snow/ice. Class 6 (water) is never masked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pystac
import xarray as xr
from odc.geo.geobox import GeoBox

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.load.stac import load_items

BOA_QUANTIFICATION_VALUE = 10000.0
BOA_ADD_OFFSET = -1000.0
#: SCL classes masked by default: no data, saturated, cloud shadow, clouds, cirrus.
SCL_MASK_DEFAULT = (0, 1, 3, 8, 9, 10)
SCL_WATER = 6
#: Sentinel-2 L2A asset names -> the common band names the indices and products use
S2_COMMON_NAMES = {
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B08": "nir",
    "B11": "swir16",
    "B12": "swir22",
}


def boa_offset(item: pystac.Item, band: str) -> float:
    """The additive offset (in DN) still present in ``item``'s pixels for ``band``: ``-1000``
    or ``0``. Reflectance is then ``(DN + offset) / 10000``.

    Evidence, strongest first:

    1. ``earthsearch:boa_offset_applied`` (Earth Search's legacy ``sentinel-2-l2a``): ``true``
       means the pixels were already harmonised (offset 0). Its ``raster:bands`` offset is
       known to say -0.1 even then (Earth Search maintainers, Element84/earth-search issue 9).
    2. The asset's ``raster:bands[0].offset`` (STAC raster 1.x) or ``raster:offset`` (STAC 1.1
       band fields, CDSE), with its scale: ``offset = -0.1, scale = 1e-4`` means -1000 DN is
       still present (Earth Search ``sentinel-2-c1-l2a``, CDSE); ``0`` means removed.
    3. The processing baseline (``s2:processing_baseline``, ``processing:version``, or the
       ``_N0400_`` part of the product id): >= 04.00 means the offset is present
       (Planetary Computer serves ESA's DNs unchanged).
    """
    props = item.properties
    if "earthsearch:boa_offset_applied" in props:
        if props["earthsearch:boa_offset_applied"]:
            return 0.0
        return BOA_ADD_OFFSET if _baseline(item) >= 4.0 else 0.0
    asset = item.assets.get(band)
    if asset is not None:
        fields = asset.extra_fields
        rb = fields.get("raster:bands") or []
        if rb and "offset" in rb[0]:
            return _dn_offset(rb[0]["offset"], rb[0].get("scale"))
        if "raster:offset" in fields:
            return _dn_offset(fields["raster:offset"], fields.get("raster:scale"))
    return BOA_ADD_OFFSET if _baseline(item) >= 4.0 else 0.0


def _dn_offset(offset: float, scale: float | None) -> float:
    scale = float(scale) if scale else 1.0 / BOA_QUANTIFICATION_VALUE
    return round(float(offset) / scale, 6)


def _baseline(item: pystac.Item) -> float:
    """Processing baseline as a number (0.0 when unknown: before 04.00, no offset)."""
    import re

    props = item.properties
    value = props.get("s2:processing_baseline") or props.get("processing:version")
    if value is None:
        m = re.search(r"_N(\d{2})(\d{2})_", item.id + " " + str(props.get("s2:product_uri", "")))
        value = f"{m.group(1)}.{m.group(2)}" if m else None
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0


def load_s2(
    items: Sequence[pystac.Item],
    bands: Sequence[str],
    geobox: GeoBox,
    *,
    chunks: int = 1024,
    mask_scl: bool = True,
    scl_band: str = "SCL",
    masked_classes: Sequence[int] = SCL_MASK_DEFAULT,
    patch_url=None,
) -> xr.Dataset:
    """Load Sentinel-2 L2A bands as surface reflectance (float32, 0-1 nominal; NaN nodata).

    The processing-baseline offset is removed item by item (items with different baselines
    may be mixed). With ``mask_scl``, pixels whose SCL class is in ``masked_classes`` become
    NaN; SCL class 6 (water) is refused in ``masked_classes``. The SCL band itself is
    returned (uint8) when it was asked for. ``patch_url`` rewrites each URL at read time
    (Planetary Computer signing, see :func:`eo_drr.catalog.signing.planetary_computer_patch_url`).
    """
    if SCL_WATER in masked_classes:
        raise InputError(_("masked_classes: SCL class 6 (water) must never be masked"))
    refl_bands = [b for b in bands if b != scl_band]
    need = list(refl_bands) + ([scl_band] if (mask_scl or scl_band in bands) else [])
    # Load item by item group (per offset) so each keeps its own offset.
    ds = load_items(
        items,
        need,
        geobox,
        chunks=chunks,
        resampling={"*": "bilinear", scl_band: "nearest"},
        groupby="solar_day",
        patch_url=patch_url,
    )
    offsets = {}
    for b in refl_bands:
        offs = {boa_offset(it, b) for it in items}
        if len(offs) > 1:
            raise InputError(
                _(
                    "items mix processing baselines with different offsets for {band}; load "
                    "them separately (search one baseline at a time)"
                ).format(band=b)
            )
        offsets[b] = offs.pop()
    out = {}
    scl = ds[scl_band] if scl_band in ds else None
    for b in refl_bands:
        dn = ds[b]
        refl = (dn.astype(np.float32) + np.float32(offsets[b])) / np.float32(
            BOA_QUANTIFICATION_VALUE
        )
        refl = refl.where(dn != 0)  # DN 0 is L2A nodata
        if mask_scl and scl is not None:
            refl = refl.where(~scl.isin(list(masked_classes)))
        refl.attrs = {"units": "reflectance (0-1)", "boa_offset_applied_dn": offsets[b]}
        out[b] = refl.astype(np.float32)
    if scl is not None and scl_band in bands:
        out[scl_band] = scl
    return xr.Dataset(out, attrs=ds.attrs)


def processing_level(items: Sequence[pystac.Item]) -> str:
    """ "L1C" or "L2A" for Sentinel-2 ``items``, from ``processing:level``, ``s2:product_type``
    (S2MSI1C / S2MSI2A) or the collection id; items of mixed or unknown level are refused
    (the urban-growth model treats the two levels differently)."""
    levels = set()
    for it in items:
        p = it.properties
        text = " ".join(
            str(v)
            for v in (p.get("processing:level"), p.get("s2:product_type"), it.collection_id)
            if v
        ).upper()
        found = {
            lvl
            for lvl, keys in (("L1C", ("L1C", "MSI1C")), ("L2A", ("L2A", "MSI2A")))
            if any(k in text for k in keys)
        }
        if len(found) != 1:
            raise InputError(
                _(
                    "Sentinel-2 item {item}: processing level unknown (no processing:level, "
                    "s2:product_type or collection naming L1C or L2A)"
                ).format(item=it.id)
            )
        levels |= found
    if len(levels) != 1:
        raise InputError(
            _("Sentinel-2 items mix processing levels ({levels}); use one collection").format(
                levels=", ".join(sorted(levels))
            )
        )
    return levels.pop()
