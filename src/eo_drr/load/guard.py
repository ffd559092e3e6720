"""Refuse a raster file whose size cannot be read whole on this machine, before reading it
(a header may claim 10^6 x 10^6 pixels: the read would end in MemoryError, or worse)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

#: share of the machine's physical memory one whole-file read may take (the product needs a
#: few float32 copies of it on top)
MAX_MEMORY_SHARE = 0.25


def check_read_size(src: Any, path: Path, option: str) -> None:
    """``src``: an open rasterio dataset about to be read whole as float32."""
    need = src.width * src.height * src.count * 4
    have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > MAX_MEMORY_SHARE * have:
        raise InputError(
            _(
                "{option}: {path} is {width:,} x {height:,} px x {count} band(s) "
                "({need:,.1f} GiB as float32), more than {share:.0%} of this machine's "
                "{have:,.1f} GiB: crop it to the area you need (gdal_translate -projwin), or "
                "run a job with tiling"
            ).format(
                option=option,
                path=path,
                width=src.width,
                height=src.height,
                count=src.count,
                need=need / 2**30,
                share=MAX_MEMORY_SHARE,
                have=have / 2**30,
            )
        )


def check_georef(src: Any, path: Path, option: str) -> None:
    """The CRS must agree with the coordinates: a geographic grid inside +-180 / +-90 degrees;
    a projected grid not with degree-sized pixels at degree-like coordinates (a UTM CRS written
    on a longitude/latitude grid)."""
    crs, b = src.crs, src.bounds
    if crs is None:
        return
    res = abs(src.transform.a)
    if crs.is_geographic:
        if not (-180.5 <= b.left <= b.right <= 360.5 and -90.5 <= b.bottom <= b.top <= 90.5):
            raise InputError(
                _(
                    "{option}: {path} declares a geographic CRS ({crs}) but spans x "
                    "{left:.6g}..{right:.6g}, y {bottom:.6g}..{top:.6g}: not longitudes and "
                    "latitudes (a projected grid with the wrong CRS?)"
                ).format(
                    option=option,
                    path=path,
                    crs=crs.to_string(),
                    left=b.left,
                    right=b.right,
                    bottom=b.bottom,
                    top=b.top,
                )
            )
    elif (
        res < 0.01
        and abs(b.left) <= 180
        and abs(b.right) <= 180
        and abs(b.top) <= 90
        and abs(b.bottom) <= 90
    ):
        raise InputError(
            _(
                "{option}: {path} declares a projected CRS ({crs}) but has {res:.2g}-unit "
                "pixels at x {left:.6g}, y {top:.6g}: these look like degrees (a "
                "longitude/latitude grid with the wrong CRS?)"
            ).format(option=option, path=path, crs=crs.to_string(), res=res, left=b.left, top=b.top)
        )
