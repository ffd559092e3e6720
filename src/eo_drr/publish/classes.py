"""Writing a class raster on an input file's grid (the single-file commands), safely."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

if TYPE_CHECKING:
    from eo_drr.io.cog import CogStyle


def refuse_overwrite(out: Path, inputs: list[Path | None]) -> None:
    """``out`` must not be an input file, a folder or a device: nothing is ever overwritten
    but the output itself."""
    if out.exists() and not out.is_file():
        raise InputError(
            _("--out: {out} exists and is not a regular file (a folder or a device)").format(
                out=out
            )
        )
    target = out.resolve()
    for p in inputs:
        if p is not None and p.exists() and p.resolve() == target:
            raise InputError(
                _("--out: {out} is one of the inputs; choose another output name").format(out=out)
            )


def write_classes(
    arr: np.ndarray,
    out: Path,
    profile: dict,
    *,
    description: str,
    colormap: dict,
    extra: dict | None = None,
) -> None:
    """uint8 classes (255 no data) on the input grid of ``profile``, with a colour table and
    tags ``extra``: a COG when georeferenced, else a plain GeoTIFF; written atomically."""
    from eo_drr.io.cog import CogStyle

    style = CogStyle(band_descriptions=[description], colormap=colormap, tags=extra or {})
    write_band(
        arr,
        out,
        crs=profile.get("crs"),
        transform=profile.get("transform"),
        nodata=255,
        style=style,
    )


def write_band(
    arr: np.ndarray, out: Path, *, crs: Any, transform: Any, nodata: float | int, style: CogStyle
) -> None:
    """One band ``arr`` (its dtype) on an input file's grid, written atomically: a COG with
    ``style`` (:class:`eo_drr.io.cog.CogStyle`) when ``crs`` is known, else a plain GeoTIFF
    (a file without georeferencing stays without) with the same description, colours and tags."""
    from eo_drr.io import atomic_path, write_cog

    if crs is not None:
        write_cog(arr, out, crs=crs, transform=transform, nodata=nodata, style=style)
        return
    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with (
            atomic_path(out) as tmp,
            rasterio.open(
                tmp,
                "w",
                driver="GTiff",
                width=arr.shape[1],
                height=arr.shape[0],
                count=1,
                dtype=arr.dtype,
                nodata=nodata,
                compress="deflate",
            ) as dst,
        ):
            dst.write(arr, 1)
            if style.colormap:
                dst.write_colormap(1, style.colormap)
            if style.band_descriptions:
                dst.set_band_description(1, style.band_descriptions[0])
            dst.update_tags(**{k: str(v) for k, v in (style.tags or {}).items()})


def pixel_area_m2(profile: dict) -> float | None:
    """Pixel area in m2: from the transform on a projected grid, by latitude on a geographic
    one (WGS84 metres per degree at the grid's centre); None without a CRS."""
    crs, t = profile.get("crs"), profile.get("transform")
    if crs is None or t is None:
        return None
    if crs.is_projected:
        return abs(t.a * t.e) * crs.linear_units_factor[1] ** 2
    lat = t.f + t.e * profile["height"] / 2
    return abs(t.a * 111_320.0 * np.cos(np.radians(lat)) * t.e * 110_574.0)
