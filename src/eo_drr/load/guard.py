"""Refuse a raster file whose size cannot be read whole on this machine, before reading it
(a header may claim 10^6 x 10^6 pixels: the read would end in MemoryError, or worse)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from eo_drr.errors import InputError

#: share of the machine's physical memory one whole-file read may take (the product needs a
#: few float32 copies of it on top)
MAX_MEMORY_SHARE = 0.25


def check_read_size(src: Any, path: Path, option: str) -> None:
    """``src``: an open rasterio dataset about to be read whole as float32."""
    need = src.width * src.height * src.count * 4
    have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > MAX_MEMORY_SHARE * have:
        raise InputError(
            f"{option}: {path} is {src.width:,} x {src.height:,} px x {src.count} band(s) "
            f"({need / 2**30:,.1f} GiB as float32), more than {MAX_MEMORY_SHARE:.0%} of this machine's "
            f"{have / 2**30:,.1f} GiB: crop it to the area you need (gdal_translate -projwin), or run a job "
            "with tiling"
        )
