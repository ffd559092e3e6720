"""The flood product on raster files (``eo-drr flood``, ``eo_drr.flood``): the job's code and
defaults (:func:`eo_drr.products.flood.flood_extent`) on images read by
:func:`eo_drr.load.s1_file.read_s1_file`, with the terrain masks from ``--hand`` / ``--dem``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.load.s1_file import S1File, read_on_grid
from eo_drr.products import terrain
from eo_drr.products.flood import FloodThresholds, flood_extent


def terrain_masks(profile: dict, hand: Path | None, dem: Path | None) -> dict[str, np.ndarray]:
    """``hand`` (m) and ``slope`` (degrees) keyword arguments of the flood product from a HAND
    file and / or a DEM file (m) on the grid of ``profile``; without HAND, it comes from the DEM."""
    out: dict[str, np.ndarray] = {}
    if hand is not None:
        out["hand"] = read_on_grid(hand, "--hand", profile)
        if not np.isfinite(out["hand"]).any():  # would exclude nothing without a word
            raise InputError(
                _("--hand: {hand} has no valid pixel (all no data or infinite)").format(hand=hand)
            )
    if dem is not None:
        crs = profile.get("crs")
        if crs is None or not crs.is_projected:
            grid = (
                _("not georeferenced")
                if crs is None
                else _("in degrees ({crs})").format(crs=crs.to_string())
            )
            raise InputError(
                _(
                    "--dem: slope needs a grid in metres, but the post-event image's grid is "
                    "{grid}: reproject the images and the DEM to a projected CRS (e.g. UTM) "
                    "first"
                ).format(grid=grid)
            )
        z = read_on_grid(dem, "--dem", profile)
        px = abs(profile["transform"].a)
        out["slope"] = terrain.slope_degrees(z, px)
        if hand is None:
            out["hand"] = terrain.hand_from_dem(z, px)
    return out


def _linear(a: np.ndarray, units: str) -> xr.DataArray:
    return xr.DataArray(10 ** (a / 10) if units == "db" else a, dims=("y", "x"))


def flood_on_files(
    pres: list[S1File], post: S1File, **masks: Any
) -> tuple[xr.Dataset, FloodThresholds, list[str]]:
    """``(dataset, thresholds, notes)`` of the flood product between pre-event images (their
    median is the reference) and a post-event image, all on one grid. VH is used only when
    every image has it. ``masks``: ``hand`` / ``slope`` arrays on the same grid."""
    notes: list[str] = []
    for pr in pres:
        if pr.vv.shape != post.vv.shape:
            raise InputError(
                _(
                    "--pre-s1: {path} is {shape} px, the post-event image {shape2}: resample "
                    "them onto one grid"
                ).format(path=pr.path, shape=pr.vv.shape[::-1], shape2=post.vv.shape[::-1])
            )
        if pr.profile.get("crs") != post.profile.get("crs") or pr.profile.get(
            "transform"
        ) != post.profile.get("transform"):
            raise InputError(
                _(
                    "--pre-s1: {path} is not on the post-event image's grid (CRS or transform "
                    "differ)"
                ).format(path=pr.path)
            )
    vh_ok = post.vh is not None and all(p.vh is not None for p in pres)
    if post.vh is not None and not vh_ok:
        notes.append(
            _(
                "a pre-event image has no VH: both scenes are mapped on VV alone (the weaker "
                "rule; see the quality flags)"
            )
        )
    pre = xr.concat([_linear(p.vv, p.units) for p in pres], dim="time")
    pre_vh = (
        xr.concat([_linear(p.vh, p.units) for p in pres if p.vh is not None], dim="time")
        if vh_ok
        else None
    )
    post_vh = _linear(post.vh, post.units) if vh_ok and post.vh is not None else None
    ds, thresholds = flood_extent(
        pre, _linear(post.vv, post.units), pre_vh=pre_vh, post_vh=post_vh, **masks
    )
    return ds, thresholds, notes
