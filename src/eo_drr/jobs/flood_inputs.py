"""The flood job's inputs from its config: the flood settings, the Sentinel-1 pair (loaded
and checked) and the optional layers (HAND, DEM slope, land cover, JRC seasonality,
Sentinel-2 water) on the job grid."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pystac
import xarray as xr
from odc.geo.geobox import GeoBox

from eo_drr.config import FloodProduct, JobConfig, required
from eo_drr.errors import ConfigError
from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _
from eo_drr.jobs.layers import source_layer
from eo_drr.jobs.progress import Steps
from eo_drr.load import load_s1, load_s2
from eo_drr.load.sentinel1 import check_loaded
from eo_drr.load.sentinel2 import S2_COMMON_NAMES
from eo_drr.products import flood as flood_product
from eo_drr.products import terrain
from eo_drr.products.water_s2 import s2_water

log = logging.getLogger(__name__)

#: the optional single-band layers (``sources.<key>``): resampling onto the job grid, and the
#: progress step that loads them
LAYERS = {
    "hand": ("bilinear", N_("Loading HAND")),
    "dem": ("bilinear", N_("Loading the DEM")),
    "landcover": ("nearest", N_("Loading land cover")),
    "gsw_seasonality": ("nearest", N_("Loading JRC surface-water seasonality")),
}


def flood_params(fp: FloodProduct) -> flood_product.FloodParams:
    """The :class:`~eo_drr.products.flood.FloodParams` of the job: the keys its file sets under
    ``products.flood``, the product's defaults for the rest (null turns the slope and change
    rules off; elsewhere null is the default)."""
    given = fp.model_dump(exclude_unset=True, exclude={"polarization", "speckle_filter"})
    for key in (
        "hand_max_m",
        "min_mapping_unit_px",
        "gsw_min_months",
        "channel_area_km2",
        "no_sensitivity_classes",
    ):
        if key in given and given[key] is None:
            given.pop(key)
    if "no_sensitivity_classes" in given:
        given["no_sensitivity_classes"] = tuple(given["no_sensitivity_classes"])
    if fp.speckle_filter is not None:
        given.update(speckle=fp.speckle_filter.kind, speckle_window=fp.speckle_filter.window)
    return flood_product.FloodParams(**given)


@dataclass(frozen=True)
class S1Pair:
    """Sentinel-1 before and after the event on the job grid (linear power, computed):
    ``pre`` ``(time, y, x)``, ``post`` ``(1, y, x)``; ``band`` the co-polarised band mapped,
    ``vh`` the cross-polarised band when the job loads it."""

    pre: xr.Dataset
    post: xr.Dataset
    band: str
    vh: str | None


def s1_bands(cfg: JobConfig) -> list[str]:
    """The Sentinel-1 bands the flood job loads: ``products.flood.polarization`` (co-polarised),
    then VH when ``sources.s1.bands`` lists it."""
    s1 = required(cfg.sources.s1, "sources.s1", "the flood pipeline maps Sentinel-1")
    band = (cfg.products.flood or FloodProduct()).polarization
    if band not in s1.bands:
        raise ConfigError(
            _("products.flood.polarization: {band!r} is not in sources.s1.bands {bands}").format(
                band=band, bands=s1.bands
            )
        )
    if band.lower() == "vh":
        raise ConfigError(
            _(
                "products.flood.polarization: give the co-polarised band (vv); VH is used "
                "automatically when sources.s1.bands lists it"
            )
        )
    return [band] + [b for b in s1.bands if b != band and b.lower() == "vh"]


def load_s1_pair(
    cfg: JobConfig,
    post_item: pystac.Item,
    pre_items: Sequence[pystac.Item],
    geobox: GeoBox,
    bands: Sequence[str],
) -> S1Pair:
    """Load ``bands`` (:func:`s1_bands`) of the pre- and post-event items on ``geobox``."""
    s1 = required(cfg.sources.s1, "sources.s1")
    pre = load_s1(pre_items, bands, geobox, stored_units=s1.units, chunks=cfg.grid.chunks)
    post = load_s1([post_item], bands, geobox, stored_units=s1.units, chunks=cfg.grid.chunks)
    return S1Pair(pre.compute(), post.compute(), bands[0], bands[1] if len(bands) > 1 else None)


def check_s1_pair(
    cfg: JobConfig, pair: S1Pair, post_item: pystac.Item, pre_items: Sequence[pystac.Item]
) -> None:
    """Check every loaded scene against ``sources.s1.units`` and the band order
    (:func:`~eo_drr.load.sentinel1.check_loaded`): errors raised, warnings logged."""
    s1 = required(cfg.sources.s1, "sources.s1")
    scenes = [(N_("post-event Sentinel-1 {id}"), pair.post, 0, post_item)]
    scenes += [
        (N_("pre-event Sentinel-1 {id}"), pair.pre, k, pre_items[min(k, len(pre_items) - 1)])
        for k in range(pair.pre.sizes["time"])
    ]
    for what, ds, i, item in scenes:
        for note in check_loaded(
            ds[pair.band].isel(time=i).values,
            ds[pair.vh].isel(time=i).values if pair.vh else None,
            stored_units=s1.units,
            what=_(what).format(id=item.id),
        ):
            log.warning("%s", note)


#: the longest side (px) of the coarse read that checks the Sentinel-1 values in a dry run
CHECK_SIDE_PX = 512


def check_s1_sample(
    cfg: JobConfig, post_item: pystac.Item, pre_items: Sequence[pystac.Item], geobox: GeoBox
) -> None:
    """The run's checks of the Sentinel-1 values (:func:`check_s1_pair`: units, band order,
    valid pixels) on a coarse read of the job grid (at most :data:`CHECK_SIDE_PX` px a side,
    from the files' overviews where they have them): what ``--dry-run`` runs instead of
    loading the full scenes."""
    factor = max(1.0, max(geobox.shape) / CHECK_SIDE_PX)
    coarse = geobox.zoom_out(factor) if factor > 1 else geobox
    pair = load_s1_pair(cfg, post_item, pre_items, coarse, s1_bands(cfg))
    check_s1_pair(cfg, pair, post_item, pre_items)


def flood_layers(
    cfg: JobConfig,
    items: Mapping[str, Sequence[pystac.Item]],
    geobox: GeoBox,
    params: flood_product.FloodParams,
    steps: Steps,
) -> tuple[flood_product.Ancillary, xr.DataArray | None]:
    """The optional layers of :func:`~eo_drr.products.flood.flood_extent` on ``geobox``:
    ``sources.hand`` / ``dem`` / ``landcover`` / ``gsw_seasonality`` from ``items`` (by key)
    or their files; the slope (degrees) from the DEM, and HAND (m) from the DEM when the job
    has none; Sentinel-2 water from ``items["s2"]`` (the first post-event scene). Returns them
    and the DEM (m, NaN no data; None without ``sources.dem``) for the water depth."""
    layers: dict[str, xr.DataArray | None] = dict.fromkeys(LAYERS)
    for key, (resampling, title) in LAYERS.items():
        if getattr(cfg.sources, key) is not None:
            with steps.step(title):
                layers[key] = source_layer(cfg, key, items.get(key, ()), geobox, resampling)
    hand, dem = layers["hand"], layers["dem"]
    hand_v = None if hand is None else hand.values
    slope = None
    if dem is not None:
        px = abs(geobox.resolution.x)
        slope = terrain.slope_degrees(dem.values, px)
        if hand is None:
            with steps.step("Computing HAND from the DEM (priority flood, D8)"):
                hand_v = terrain.hand_from_dem(
                    dem.values, px, channel_area_km2=params.channel_area_km2
                )
    water = None
    if items.get("s2"):
        with steps.step("Sentinel-2 water (MNDWI, AWEI, WOfS; SCL clouds masked)"):
            water = _s2_water(cfg, items["s2"], geobox)
    ancillary = flood_product.Ancillary(
        hand=hand_v,
        slope=slope,
        landcover=layers["landcover"],
        gsw_seasonality=layers["gsw_seasonality"],
        s2_water=water,
    )
    return ancillary, dem


def _s2_water(cfg: JobConfig, items: Sequence[pystac.Item], geobox: GeoBox):
    """uint8 water (1 / 0 / 255) of the first Sentinel-2 scene of ``items``."""
    bands = required(cfg.sources.s2, "sources.s2").bands
    s2 = load_s2(items, bands, geobox, chunks=cfg.grid.chunks).isel(time=0).compute()
    named = {S2_COMMON_NAMES.get(b, b): s2[b].values for b in bands if b in s2 and b != "SCL"}
    water, _stats = s2_water(named, s2["SCL"].values if "SCL" in s2 else None)
    return water
