"""Band lookup for the spectral indices: the names each band may carry in an
``xarray.Dataset`` or mapping (:data:`BAND_NAMES`: common names of the STAC ``eo`` extension
first, then the Sentinel-2 asset names), and the gathering of an index's bands from separate
arrays or from one Dataset/mapping (see :mod:`eo_drr.indices.spectral`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

#: canonical band -> names looked up in a Dataset / mapping, in order
BAND_NAMES: dict[str, tuple[str, ...]] = {
    "coastal": ("coastal", "B01", "b01", "B1"),
    "blue": ("blue", "B02", "b02", "B2"),
    "green": ("green", "B03", "b03", "B3"),
    "red": ("red", "B04", "b04", "B4"),
    "rededge1": ("rededge1", "rededge", "B05", "b05", "B5"),
    "rededge2": ("rededge2", "B06", "b06", "B6"),
    "rededge3": ("rededge3", "B07", "b07", "B7"),
    "nir": ("nir", "B08", "b08", "B8"),
    "nir08": ("nir08", "B8A", "b8a", "B8a"),
    "nir09": ("nir09", "B09", "b09", "B9"),
    "cirrus": ("cirrus", "B10", "b10"),
    "swir16": ("swir16", "swir1", "B11", "b11"),
    "swir22": ("swir22", "swir2", "B12", "b12"),
}


def lookup(source: Any, band: str):
    for name in BAND_NAMES[band]:
        if isinstance(source, xr.Dataset):
            if name in source.data_vars:
                return source[name]
        elif name in source:
            return source[name]
    return None


def gather(name: str, given: dict[str, Any], optional: frozenset[str] = frozenset()):
    """Band arrays in the order of ``given`` (a Dataset/mapping may stand in the first slot)."""
    names = list(given)
    first = given[names[0]]
    if isinstance(first, (xr.Dataset, Mapping)) and not isinstance(first, xr.DataArray):
        extra = [n for n in names[1:] if given[n] is not None]
        if extra:
            raise InputError(
                _(
                    "{name}: pass either a Dataset/mapping of bands or separate arrays, not both "
                    "({extra} given too)"
                ).format(name=name, extra=", ".join(extra))
            )
        out = {}
        for band in names:
            arr = lookup(first, band)
            if arr is None and band not in optional:
                have = list(first.data_vars) if isinstance(first, xr.Dataset) else list(first)
                raise InputError(
                    _(
                        "{band}: band missing for {name} (looked for {band_names}; the input has "
                        "{have})"
                    ).format(
                        band=band,
                        name=name,
                        band_names=", ".join(BAND_NAMES[band]),
                        have=", ".join(map(str, have)) or _("nothing"),
                    )
                )
            if arr is not None:
                out[band] = arr
        return out
    missing = [n for n in names if given[n] is None and n not in optional]
    if missing:
        raise InputError(
            _("{missing}: band missing for {name}").format(missing=", ".join(missing), name=name)
        )
    return {n: v for n, v in given.items() if v is not None}


def bands_from(
    name: str, source: Any, order: tuple[str, ...], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The bands ``order`` of index ``name`` from ``source``, a Dataset or mapping holding them
    under any of their :data:`BAND_NAMES` (bands in ``optional`` may be absent)."""
    if not isinstance(source, (xr.Dataset, Mapping)) or isinstance(source, xr.DataArray):
        raise InputError(_("bands: expected an xarray.Dataset or a mapping of band name -> array"))
    given: dict[str, Any] = {b: None for b in order}
    given[order[0]] = source
    return gather(name, given, optional=optional)
