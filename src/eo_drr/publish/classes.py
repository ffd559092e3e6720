"""Writing a class raster on an input file's grid (the single-file commands), safely."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from eo_drr.errors import InputError


def refuse_overwrite(out: Path, inputs: list[Path | None]) -> None:
    """``out`` must not be an input file, a folder or a device: nothing is ever overwritten
    but the output itself."""
    if out.exists() and not out.is_file():
        raise InputError(f"--out: {out} exists and is not a regular file (a folder or a device)")
    target = out.resolve()
    for p in inputs:
        if p is not None and p.exists() and p.resolve() == target:
            raise InputError(f"--out: {out} is one of the inputs; choose another output name")


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
    from eo_drr.io import atomic_path, write_cog
    from eo_drr.io.cog import CogStyle

    if profile.get("crs") is not None:
        write_cog(
            arr,
            out,
            crs=profile["crs"],
            transform=profile["transform"],
            nodata=255,
            style=CogStyle(band_descriptions=[description], colormap=colormap, tags=extra or {}),
        )
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
                dtype="uint8",
                nodata=255,
                compress="deflate",
            ) as dst,
        ):
            dst.write(arr, 1)
            dst.write_colormap(1, colormap)
            dst.set_band_description(1, description)
            dst.update_tags(**{k: str(v) for k, v in (extra or {}).items()})


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
