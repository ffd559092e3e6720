"""Flood water depth on raster files, as ``eo-drr depth`` runs it: the flood extent's grid is
the output grid (the DEM and HAND are reprojected onto it when theirs differs), the inputs are
read with the file checks that name the option, and the depth is written as a float32 COG in
metres with NaN no data (a plain GeoTIFF when the flood extent has no CRS), never over an
input. The method is :func:`eo_drr.api.flood_depth.depth`'s."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import MISSING, dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from eo_drr.api.options import option
from eo_drr.api.raster_files import ClassMap, Say, _log
from eo_drr.errors import ConfigError, EODRRError
from eo_drr.i18n import gettext as _

#: the methods of ``--method``
METHODS = ("fwdet", "hand")


@dataclass(frozen=True, kw_only=True)
class DepthFiles:
    """The files of ``eo-drr depth``: the flood extent (its grid is the output grid), the DEM
    (m), the output, the method and, for the HAND method, HAND (m)."""

    flood: Path = option(
        "--flood",
        "Flood extent GeoTIFF as `eo-drr flood` writes it (1 flood, 0 not, 2 reference water, "
        "255 no data) or a 1/0 mask; its grid is the output grid.",
        MISSING,
    )
    dem: Path = option(
        "--dem",
        "DEM (m); resampled (bilinear) onto the grid of --flood when it differs.",
        MISSING,
    )
    out: Path = option(
        "--out,-o", "Output COG: water depth in metres (float32), NaN off the flood.", MISSING
    )
    method: str = option(
        "--method",
        "fwdet (FwDET v2.0 on the DEM, Cohen et al. 2019) or hand (the flood edge's level on "
        "HAND, after Betterle & Salamon 2024).",
        "fwdet",
    )
    hand: Path | None = option(
        "--hand",
        "Height above nearest drainage (m) for --method hand (default: computed from --dem, "
        "which needs a projected grid with square pixels).",
    )


def depth_file(files: DepthFiles, say: Say = _log) -> ClassMap:
    """Flood water depth (m) from ``files.flood`` and ``files.dem`` into ``files.out``; the
    figures in words (flooded pixels with a depth, median and maximum depth in m)."""
    from eo_drr.api.flood_depth import depth
    from eo_drr.api.rasters import _open
    from eo_drr.publish.classes import refuse_overwrite

    if files.method not in METHODS:
        raise ConfigError(
            _("--method: use fwdet or hand, not {method!r}").format(method=files.method)
        )
    if files.hand is not None and files.method != "hand":
        raise ConfigError(
            _("--hand: only --method hand uses HAND (add --method hand, or drop --hand)")
        )
    refuse_overwrite(files.out, [files.flood, files.dem, files.hand])
    flood = _open(files.flood, "--flood")
    dem = _open(files.dem, "--dem")
    hand = _open(files.hand, "--hand") if files.hand is not None else None
    if flood.rio.crs is None:
        say(
            _("warning: --flood {path} has no CRS: the depth is written without one").format(
                path=files.flood
            )
        )
    try:
        with _notes_of("eo_drr.api.flood_depth") as notes:
            d = depth(flood, dem, method=files.method, hand=hand)
    except EODRRError as exc:
        raise type(exc)(_as_options(str(exc))) from None
    for note in notes:
        say(_("note: {text}").format(text=_as_options(note)))
    _write(d, files.out)
    v = np.asarray(d.values)
    wet = v[np.isfinite(v)]
    figures = (
        _("median {median:.2f} m, max {max:.2f} m").format(median=np.median(wet), max=wet.max())
        if wet.size
        else _("none")
    )
    return ClassMap(
        files.out,
        (
            _("depth ({method}): {n:,} flooded px with a depth ({figures}) -> {path}").format(
                method=files.method, n=wet.size, figures=figures, path=files.out
            ),
            _(
                "  from {n:,} flood-edge cells (edges on permanent water, no data or the border "
                "are no evidence)"
            ).format(n=d.attrs["edge_cells"]),
        ),
    )


def _as_options(text: str) -> str:
    """A message of :func:`eo_drr.api.flood_depth.depth` in the command's words: its argument
    names as the options."""
    text = re.sub(r"^(flood|dem|hand|method):", r"--\1:", text)
    return text.replace("give hand=", "give --hand").replace("eo_drr.flood", "eo-drr flood")


@contextmanager
def _notes_of(logger: str) -> Iterator[list[str]]:
    """Collect the warnings ``logger`` logs in the block (instead of printing them)."""
    notes: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            notes.append(record.getMessage())

    log, handler = logging.getLogger(logger), Collect(logging.WARNING)
    propagate, log.propagate = log.propagate, False
    log.addHandler(handler)
    try:
        yield notes
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


def _write(d: xr.DataArray, out: Path) -> None:
    """float32 metres, NaN no data: a COG on a georeferenced grid, else a plain GeoTIFF."""
    from eo_drr.io.cog import CogStyle
    from eo_drr.publish.classes import write_band

    tags = {"units": "m", "method": d.attrs["method"], "edge_cells": d.attrs["edge_cells"]}
    style = CogStyle(
        band_descriptions=["flood depth (m)"], overview_resampling="average", tags=tags
    )
    crs = d.rio.crs
    transform = d.rio.transform() if crs is not None else None
    arr = np.asarray(d.values, dtype=np.float32)
    write_band(arr, out, crs=crs, transform=transform, nodata=np.nan, style=style)
