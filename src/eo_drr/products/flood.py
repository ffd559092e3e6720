"""Sentinel-1 flood extent, GFM-style: observed water after the event minus reference water,
inside the area where SAR can see a flood.

1. Observed water: :func:`eo_drr.products.water.s1_water` on the post-event scene (VH
   threshold anchored to a published prior, region growing, calibrated likelihood; its
   defaults chosen by leave-one-event-out on labelled floods).
2. Reference water: the same rule on the per-pixel median of the pre-event scenes of the
   same relative orbit (Schlaffer et al. 2015, Int. J. Appl. Earth Obs. Geoinf. 38:15-24).
   When a JRC Global Surface Water seasonality layer is supplied (Pekel et al. 2016, Nature
   540:418-422; months of water per year, 0-12), pixels with at least
   ``gsw_min_months`` (default 10, the seasonality mask of the UN-SPIDER Recommended
   Practice) are reference water too.
3. Observed flood = observed water - reference water (Copernicus GFM product definition).
4. Exclusion mask: height above nearest drainage above ``hand_max_m`` (default 15 m, the
   HAND exclusion of Copernicus GFM; Twele et al. 2016, Int. J. Remote Sens.
   37(13):2990-3004; HAND after Nobre et al. 2011, J. Hydrol. 404:13-29). Excluded pixels are
   never flood; they keep their class in the exclusion layer.
   Steep slopes: above ``slope_max_deg`` (default 5 degrees, the slope mask of the UN-SPIDER
   Recommended Practice "Flood mapping and damage assessment using Sentinel-1 SAR data in
   Google Earth Engine", 2019) flood water cannot stand; excluded like HAND.
   No-sensitivity areas (Copernicus GFM exclusion mask; Bauer-Marschallinger et al. 2022,
   Remote Sens. 14(15):3673): where C-band backscatter does not drop when flooded, i.e. dense
   built-up (double bounce) and dense tree cover (volume scattering), taken from a land-cover
   layer (ESA WorldCover classes 50 and 10 by default). They are *flagged, not guessed*: where
   the water verdict came from Sentinel-1, the flood layer there is no data (255), not "no
   flood"; where a cloud-free Sentinel-2 scene decided, its verdict stands.
   Radar shadow and layover need the acquisition geometry (local incidence angle), which the
   RTC products we load do not carry per pixel; they are not flagged (a documented gap).
5. Minimum mapping unit: 8-connected flood patches smaller than ``min_mapping_unit_px`` go.

Also returned: the log-ratio change 10*log10(post/pre) in dB, the calibrated likelihood of
water after the event (0-100, :mod:`eo_drr.products.water`) and its per-pixel provenance bits
(``eo_drr.products.water.PROVENANCE_BITS``, plus 8 for change detection).

Output classes of ``flood`` (uint8, the same in ``eo-drr flood --out`` and the job's
``flood_extent.tif``): 0 not flooded, 1 flood (water after the event that was not water in
the reference, where a flood can be: outside the exclusion mask, in patches of at least the
minimum mapping unit), 2 reference water that is still water after the event, 255 no data.
Without exclusions, the observed water after the event is classes 1 and 2; the ``water``
layer has it in full. ``water`` and ``reference_water``: 1 water, 0 not, 255 no data.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _
from eo_drr.products.change import CHANGE_DECREASE_DB, ChangeRule, s1_flood
from eo_drr.products.terrain import CHANNEL_AREA_KM2
from eo_drr.products.water import remove_small_objects
from eo_drr.products.water_s2 import FROM_S1, fuse_water

log = logging.getLogger(__name__)

FLOOD, NOT_FLOOD, NODATA = 1, 0, 255
#: class of ``flood``: reference water that is still water after the event
STILL_WATER = 2
FLOOD_CLASSES = (
    "0 not flooded (no water, or water the exclusion mask or minimum mapping unit rules out), "
    "1 flood, 2 reference water still water after the event, 255 no data"
)
CLASS_COLORS = {NOT_FLOOD: (0, 0, 0, 0), FLOOD: (0, 92, 230, 255), NODATA: (128, 128, 128, 0)}
FLOOD_COLORS = {**CLASS_COLORS, STILL_WATER: (20, 40, 110, 255)}
#: flood patches smaller than this (8-connected pixels) are dropped (0.04 ha at 10 m)
MIN_MAPPING_UNIT_PX = 4

#: bits of the ``exclusion`` layer
EXCLUDED_HAND, EXCLUDED_SLOPE, NO_SENSITIVITY_URBAN, NO_SENSITIVITY_FOREST = 1, 2, 4, 8
EXCLUSION_CLASSES = (
    "bits: 1 HAND above the limit, 2 slope above the limit, "
    "4 no sensitivity (dense built-up), 8 no sensitivity (dense tree cover)"
)
#: colour table of the exclusion layer (the dominant reason per value)
EXCLUSION_COLORS = {
    0: (0, 0, 0, 0),
    **{
        v: (
            (150, 110, 60, 200)
            if v & (EXCLUDED_HAND | EXCLUDED_SLOPE)
            else (200, 40, 40, 200)
            if v & NO_SENSITIVITY_URBAN
            else (30, 120, 40, 200)
        )
        for v in range(1, 16)
    },
}
#: default no-sensitivity land-cover classes (ESA WorldCover 2021: 50 built-up, 10 tree cover)
NO_SENSITIVITY_CLASSES = {50: NO_SENSITIVITY_URBAN, 10: NO_SENSITIVITY_FOREST}
#: colour table of the water-source layer
SOURCE_COLORS = {0: (0, 0, 0, 0), 1: (20, 160, 60, 255), 2: (40, 80, 200, 255)}


@dataclass(frozen=True)
class FloodParams:
    """Settings of the flood product: the one source of their defaults (the job's
    ``products.flood`` and the API override fields of this object; nothing else holds one).

    ``hand_max_m`` (m): exclude ground higher than this above the drainage (GFM's HAND
    exclusion, 15 m; Chow et al. 2016 / Twele et al. 2016); ``slope_max_deg`` (degrees,
    None off): exclude steeper terrain (5 degrees, Twele et al. 2016); ``no_sensitivity_classes``:
    ESA WorldCover classes where SAR cannot see a flood (10 tree cover, 50 built-up; GFM);
    ``change_decrease_db`` (dB, None off): backscatter decrease for change-detected water
    (:mod:`eo_drr.products.change`); ``gsw_min_months`` (months): JRC seasonality from which
    water is reference water (Pekel et al. 2016; 10 months, near-permanent); ``channel_area_km2``
    (km2): drainage threshold when HAND is computed from a DEM; ``min_mapping_unit_px``: the
    smallest flood patch kept (pixels); ``speckle``, ``speckle_window``, ``threshold_method``:
    overrides of the water rule's defaults (:data:`eo_drr.products.water_settings.DEFAULTS`), None = its own.
    """

    hand_max_m: float = 15.0
    slope_max_deg: float | None = 5.0
    no_sensitivity_classes: tuple[int, ...] = (10, 50)
    change_decrease_db: float | None = CHANGE_DECREASE_DB
    gsw_min_months: int = 10
    channel_area_km2: float = CHANNEL_AREA_KM2
    min_mapping_unit_px: int = MIN_MAPPING_UNIT_PX
    speckle: str | None = None
    speckle_window: int | None = None
    threshold_method: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            numeric = f.name not in ("no_sensitivity_classes", "speckle", "threshold_method")
            if (
                numeric
                and v is not None
                and (isinstance(v, bool) or not isinstance(v, (int, float)))
            ):
                raise InputError(_("{name}: expected a number, got {v!r}").format(name=f.name, v=v))
        checks = (
            ("hand_max_m", self.hand_max_m >= 0),
            ("channel_area_km2", self.channel_area_km2 > 0),
            ("slope_max_deg", self.slope_max_deg is None or 0 < self.slope_max_deg <= 90),
            ("change_decrease_db", self.change_decrease_db is None or self.change_decrease_db > 0),
            ("gsw_min_months", 1 <= self.gsw_min_months <= 12),
            ("min_mapping_unit_px", self.min_mapping_unit_px >= 1),
            (
                "no_sensitivity_classes",
                set(self.no_sensitivity_classes) <= set(NO_SENSITIVITY_CLASSES),
            ),
        )
        for name, ok in checks:
            if not ok:
                raise InputError(
                    _(
                        "{name}: {value!r} is out of range (see eo_drr.products.flood.FloodParams)"
                    ).format(name=name, value=getattr(self, name))
                )


@dataclass(frozen=True)
class Ancillary:
    """Optional layers on the SAR grid: ``hand`` (m), ``slope`` (degrees), ``landcover`` (ESA
    WorldCover codes), ``gsw_seasonality`` (JRC months of water per year, 0-12), ``s2_water``
    (uint8 1/0/255 from :func:`eo_drr.products.water_s2.s2_water`)."""

    hand: Any = None
    slope: Any = None
    landcover: Any = None
    gsw_seasonality: Any = None
    s2_water: Any = None


_PARAM_FIELDS = {f.name for f in fields(FloodParams)}
_LAYER_FIELDS = {f.name for f in fields(Ancillary)}


@dataclass(frozen=True)
class FloodThresholds:
    """The thresholds the run derived (dB) and the quality flags, per scene, and any fallback."""

    post: dict
    reference: dict
    post_fallback: str | None
    reference_fallback: str | None

    def as_dict(self) -> dict:
        return asdict(self)

    def warnings(self) -> list[str]:
        """Plain-language warnings of both scenes (empty when both maps look reliable)."""
        return quality_warnings(self.as_dict())


def quality_warnings(thresholds: dict) -> list[str]:
    """The plain-language quality warnings of :meth:`FloodThresholds.as_dict` output."""
    out = [
        f"After the event: {w}"
        for w in thresholds.get("post", {}).get("quality", {}).get("warnings", [])
    ]
    out += [
        f"Reference (before the event): {w}"
        for w in thresholds.get("reference", {}).get("quality", {}).get("warnings", [])
    ]
    return out


def _as_2d(da: xr.DataArray, name: str) -> xr.DataArray:
    if "time" in da.dims:
        if da.sizes["time"] != 1:
            raise InputError(
                _("{name}: give exactly one scene (a 1-long time axis)").format(name=name)
            )
        da = da.isel(time=0, drop=True)
    return da


def _on_grid(layer, shape: tuple, name: str) -> np.ndarray:
    v = np.asarray(layer.values if hasattr(layer, "values") else layer)
    if v.shape != shape:
        raise InputError(
            _("{name}: grid {shape} differs from the SAR grid {shape2}").format(
                name=name, shape=v.shape, shape2=shape
            )
        )
    return v


@dataclass(frozen=True)
class FloodLayers:
    """The layers of a flood extent (numpy or dask arrays on the post-event grid)."""

    flood: Any
    water: Any
    source: Any
    reference: Any
    exclusion: Any
    likelihood: Any
    provenance: Any
    log_ratio: Any


def flood_dataset(layers: FloodLayers, like: xr.DataArray, p: FloodParams) -> xr.Dataset:
    """The Dataset :func:`flood_extent` returns, its layers with their codes and units in
    ``attrs``, on the grid of ``like`` (the 2-D post-event scene)."""
    coords = {k: v for k, v in like.coords.items() if k != "time"}

    def da(values: Any, **attrs: Any) -> xr.DataArray:
        return xr.DataArray(values, dims=like.dims, coords=coords, attrs=attrs)

    classes = "1 water/flood, 0 not, 255 no data"
    return xr.Dataset(
        {
            "flood": da(layers.flood, nodata=NODATA, classes=FLOOD_CLASSES),
            "water": da(layers.water, nodata=NODATA, classes=classes),
            "water_source": da(layers.source, classes="1 Sentinel-2, 2 Sentinel-1, 0 no data"),
            "reference_water": da(layers.reference, nodata=NODATA, classes=classes),
            "exclusion": da(
                layers.exclusion,
                classes=EXCLUSION_CLASSES,
                hand_max_m=p.hand_max_m,
                slope_max_deg=-1.0 if p.slope_max_deg is None else p.slope_max_deg,
            ),
            "likelihood": da(layers.likelihood, nodata=NODATA, units="percent"),
            "provenance": da(
                layers.provenance,
                classes="bits: 1 below the threshold, 2 region growing, 4 prior decided, "
                "8 change detection",
            ),
            "log_ratio": da(layers.log_ratio, units="dB"),
        }
    )


def split_options(
    params: FloodParams | None, options: dict[str, Any]
) -> tuple[FloodParams, Ancillary]:
    """``flood_extent``'s keyword ``options`` as (settings over ``params``, ancillary layers);
    an unknown name is an :class:`InputError` listing the known ones."""
    unknown = set(options) - _PARAM_FIELDS - _LAYER_FIELDS
    if unknown:
        raise InputError(
            _(
                "flood_extent: unknown option(s) {unknown} (layers: {layer_fields}; settings: "
                "{param_fields})"
            ).format(
                unknown=", ".join(sorted(unknown)),
                layer_fields=", ".join(sorted(_LAYER_FIELDS)),
                param_fields=", ".join(sorted(_PARAM_FIELDS)),
            )
        )
    p = replace(params or FloodParams(), **{k: v for k, v in options.items() if k in _PARAM_FIELDS})
    return p, Ancillary(**{k: v for k, v in options.items() if k in _LAYER_FIELDS})


def flood_extent(
    pre: xr.DataArray,
    post: xr.DataArray,
    *,
    pre_vh: xr.DataArray | None = None,
    post_vh: xr.DataArray | None = None,
    params: FloodParams | None = None,
    **options: Any,
) -> tuple[xr.Dataset, FloodThresholds]:
    """Flood extent from Sentinel-1 gamma0 before and after an event.

    Parameters
    ----------
    pre, pre_vh
        Pre-event backscatter, **linear power**, dims ``(time, y, x)`` or ``(y, x)``, NaN nodata.
    post, post_vh
        Post-event backscatter, **linear power**, dims ``(y, x)`` (or a 1-long time axis).
    params
        The settings (:class:`FloodParams`; default: its defaults).
    options
        Layers of :class:`Ancillary` on the same grid (``hand=``, ``slope=``, ``landcover=``,
        ``gsw_seasonality=``, ``s2_water=``) and overrides of ``params`` fields
        (``hand_max_m=``, ``min_mapping_unit_px=``, ...). With HAND, ground above
        ``hand_max_m`` is excluded; with a slope, terrain above ``slope_max_deg``; with land
        cover, the no-sensitivity classes are flagged (no data unless Sentinel-2 saw the
        ground); with ``s2_water``, S2 water is fused with the S1 water
        (:func:`eo_drr.products.water_s2.fuse_water`) before the reference water is taken
        away; with ``gsw_seasonality``, pixels with >= ``gsw_min_months`` are reference water.

    Returns
    -------
    ``(dataset, thresholds)``; the dataset has ``flood``, ``water`` (observed, post event),
    ``reference_water`` (uint8 1/0/255), ``exclusion`` (uint8 bits, :data:`EXCLUSION_CLASSES`), ``likelihood``
    (uint8 0-100, 255 no data), ``provenance`` (uint8 bits) and ``log_ratio`` (float32 dB).
    """
    p, lay = split_options(params, options)
    post = _as_2d(post, "post")
    post_vh = _as_2d(post_vh, "post_vh") if post_vh is not None else None
    if "time" not in pre.dims:
        pre = pre.expand_dims(time=1)
    if pre_vh is not None and "time" not in pre_vh.dims:
        pre_vh = pre_vh.expand_dims(time=1)
    if pre.shape[1:] != post.shape:
        raise InputError(
            _("pre and post are on different grids: {shape} vs {shape2}").format(
                shape=pre.shape[1:], shape2=post.shape
            )
        )
    use_vh = pre_vh is not None and post_vh is not None
    res = s1_flood(
        [np.asarray(pre.isel(time=i).values) for i in range(pre.sizes["time"])],
        np.asarray(post.values),
        [np.asarray(pre_vh.isel(time=i).values) for i in range(pre_vh.sizes["time"])]
        if pre_vh is not None and use_vh
        else None,
        np.asarray(post_vh.values) if post_vh is not None and use_vh else None,
        units="linear",
        speckle=p.speckle,
        speckle_window=p.speckle_window,
        threshold_method=p.threshold_method,
        change=ChangeRule(decrease_db=p.change_decrease_db),
    )
    water = res.water.water
    source = np.where(water != NODATA, np.uint8(FROM_S1), np.uint8(0))
    if lay.s2_water is not None:
        water, source = fuse_water(water, _on_grid(lay.s2_water, post.shape, "s2_water"))
    reference = res.reference.water.copy()
    if lay.gsw_seasonality is not None:
        months = _on_grid(lay.gsw_seasonality, post.shape, "gsw_seasonality").astype(np.float32)
        reference[np.isfinite(months) & (months >= p.gsw_min_months) & (months <= 12)] = FLOOD
    flooded = (water == FLOOD) & (reference != FLOOD)
    exclusion = np.zeros(post.shape, dtype=np.uint8)
    if lay.hand is not None:
        hand_v = _on_grid(lay.hand, post.shape, "hand")
        exclusion |= np.where(
            np.isfinite(hand_v) & (hand_v > p.hand_max_m), np.uint8(EXCLUDED_HAND), np.uint8(0)
        )
    if lay.slope is not None and p.slope_max_deg is not None:
        slope_v = _on_grid(lay.slope, post.shape, "slope")
        exclusion |= np.where(
            np.isfinite(slope_v) & (slope_v > p.slope_max_deg),
            np.uint8(EXCLUDED_SLOPE),
            np.uint8(0),
        )
    if lay.landcover is not None:
        lc = _on_grid(lay.landcover, post.shape, "landcover")
        for cls in p.no_sensitivity_classes:
            exclusion |= np.where(lc == cls, np.uint8(NO_SENSITIVITY_CLASSES[cls]), np.uint8(0))
    flooded &= (exclusion & (EXCLUDED_HAND | EXCLUDED_SLOPE)) == 0
    # no-sensitivity: SAR cannot tell, so where SAR decided the pixel is unobserved
    blind = ((exclusion & (NO_SENSITIVITY_URBAN | NO_SENSITIVITY_FOREST)) != 0) & (
        source == FROM_S1
    )
    flooded &= ~blind
    flooded = remove_small_objects(flooded, p.min_mapping_unit_px)
    if not flooded.any():
        log.warning(_("no flooded pixel found: the flood extent is empty"))
    flood = np.where(flooded, np.uint8(FLOOD), np.uint8(NOT_FLOOD))
    flood[(water == FLOOD) & (reference == FLOOD)] = STILL_WATER
    flood[(water == NODATA) | (reference == NODATA) | blind] = NODATA

    layers = FloodLayers(
        flood,
        water,
        source,
        reference,
        exclusion,
        res.water.likelihood,
        res.water.provenance,
        res.log_ratio_db,
    )
    ds = flood_dataset(layers, post, p)
    thresholds = FloodThresholds(
        post=res.water.summary(),
        reference=res.reference.summary(),
        post_fallback=res.water.fallback,
        reference_fallback=res.reference.fallback,
    )
    return ds, thresholds
