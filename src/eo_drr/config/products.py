"""What to make: the product settings (flood, urban growth, wetlands) and the exposure inputs
of the per-unit statistics. A product setting left out takes the product's own default (the
one source of it, named in each model's docstring)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from eo_drr.config.base import ConfigModel
from eo_drr.i18n import gettext as _


class SpeckleFilter(ConfigModel):
    """Speckle filter on linear power before thresholding (see :func:`eo_drr.products.water.s1_water`);
    leave ``speckle_filter`` out to use the water rule's selected default."""

    kind: Literal["none", "boxcar", "lee", "kuan", "refined_lee"]
    window: int | None = Field(
        None, ge=3, le=31, description="odd size (px); default: the water rule's"
    )

    @field_validator("window")
    @classmethod
    def _odd(cls, v: int | None) -> int | None:
        if v is not None and v % 2 == 0:
            raise ValueError(_("must be odd (3, 5, 7, ...)"))
        return v

    @model_validator(mode="after")
    def _refined_is_7(self) -> SpeckleFilter:
        if self.kind == "refined_lee" and self.window not in (None, 7):
            raise ValueError(_("refined_lee is defined for a 7 x 7 window only (window: 7)"))
        return self


class FloodProduct(ConfigModel):
    """Sentinel-1 flood mapping, GFM-style: observed water minus reference water
    (see :mod:`eo_drr.products.flood`)."""

    polarization: str = Field(
        "vv",
        description="the co-polarised band of sources.s1.bands (VV); VH, when listed, is loaded too and decides",
    )
    speckle_filter: SpeckleFilter | None = Field(
        None,
        description="override the water rule's default filter (eo_drr.products.water_settings.DEFAULTS)",
    )
    # the product's settings: left out, each takes eo_drr.products.flood.FloodParams' default
    # (the one source of them); null turns slope_max_deg / change_decrease_db off
    hand_max_m: float | None = Field(
        None, ge=0, le=500, description="exclude pixels higher than this above drainage (m)"
    )
    min_mapping_unit_px: int | None = Field(
        None, ge=1, le=100000, description="smallest flood patch kept (px)"
    )
    threshold_method: Literal["ki", "otsu"] | None = None
    slope_max_deg: float | None = Field(
        None,
        gt=0,
        le=90,
        description="exclude steeper terrain (degrees; needs sources.dem; null: off)",
    )
    no_sensitivity_classes: list[int] | None = Field(
        None,
        description="land-cover classes (ESA WorldCover) where SAR cannot see a flood: "
        "10 tree cover, 50 built-up (needs sources.landcover)",
    )
    change_decrease_db: float | None = Field(
        None,
        gt=0,
        le=20,
        description="backscatter decrease that adds change-detected water (dB; null: off)",
    )
    gsw_min_months: int | None = Field(
        None,
        ge=1,
        le=12,
        description="JRC seasonality (months) from which water is reference water",
    )
    channel_area_km2: float | None = Field(
        None,
        gt=0,
        le=10000,
        description="drainage threshold when HAND is computed from sources.dem (km2)",
    )

    @field_validator("no_sensitivity_classes")
    @classmethod
    def _classes(cls, v: list[int] | None) -> list[int] | None:
        if v is None:
            return v
        known = {10: "tree cover", 50: "built-up"}
        bad = [c for c in v if c not in known]
        if bad:
            raise ValueError(
                _("unsupported classes {bad}: use 10 (tree cover) and/or 50 (built-up)").format(
                    bad=bad
                )
            )
        return v


class VectorInput(ConfigModel):
    file: str
    layer: str | None = None


class HazardSource(ConfigModel):
    """Hazard zones for urban growth (see :mod:`eo_drr.products.hazard_zones`): a raster file
    (1 hazard, 0 not, 255 / NaN no data, e.g. the flood product's ``flood_extent.tif``),
    flood-prone ground from HAND (``sources.hand``), steep ground from the DEM
    (``sources.dem``) and/or the strip along the water seen at epoch 1 (Sentinel-2). Several
    given: their union."""

    file: str | None = Field(
        None, description="hazard raster (1 hazard, any other value not; e.g. flood_extent.tif)"
    )
    hand_max_m: float | None = Field(
        None, gt=0, le=100, description="flood-prone: HAND <= this (m)"
    )
    slope_min_deg: float | None = Field(
        None, gt=0, lt=90, description="steep: slope >= this (degrees)"
    )
    water_distance_m: float | None = Field(
        None,
        gt=0,
        le=5000,
        description="riverbank / shore strip: land "
        "within this distance (m) of the water seen at epoch 1",
    )

    @model_validator(mode="after")
    def _some(self) -> HazardSource:
        if all(
            v is None
            for v in (self.file, self.hand_max_m, self.slope_min_deg, self.water_distance_m)
        ):
            raise ValueError(
                _(
                    "give at least one of 'file', 'hand_max_m', 'slope_min_deg' or "
                    "'water_distance_m'"
                )
            )
        return self


class BuiltupThresholds(ConfigModel):
    """Thresholds of the built-up rule; a key left out takes the rule's default
    (:class:`eo_drr.products.urban.BuiltupRule`, the one source of them and of their sources)."""

    ndvi_max: float | None = Field(None, ge=-1, le=1)
    mndwi_max: float | None = Field(None, ge=-1, le=1)
    ndbi_min: float | None = Field(None, ge=-1, le=1)
    bsi_max: float | None = Field(None, ge=-1, le=1)
    vv_mean_min_db: float | None = Field(None, ge=-30, le=10)
    vv_std_max_db: float | None = Field(None, gt=0, le=20)


class UrbanGrowthProduct(ConfigModel):
    """Built-up per epoch (``time.pre`` = epoch 1, ``time.post`` = epoch 2; the rule of
    :mod:`eo_drr.products.urban`) and new built-up between them (the urban-growth model of
    :mod:`eo_drr.products.growth_pair`, as ``eo-drr growth``)."""

    thresholds: BuiltupThresholds = Field(default_factory=BuiltupThresholds)
    builtup_min_mapping_unit_px: int | None = Field(
        None,
        ge=1,
        le=100000,
        description="smallest built-up patch kept (px); default: products.urban's",
    )
    growth_min_mapping_unit_px: int | None = Field(
        None,
        ge=1,
        le=100000,
        description="smallest patch of new built-up kept (px); default: the model's",
    )
    hazard: HazardSource | None = None
    formal_areas: VectorInput | None = Field(
        None, description="formal / planned settlement polygons"
    )


class WetlandPolygons(ConfigModel):
    """Wetland polygons from a vector file (e.g. Ramsar sites), one row per wetland."""

    file: str
    layer: str | None = None
    id_field: str = "id"
    name_field: str | None = None


class WetlandsProduct(ConfigModel):
    """WIT-style wetland monitoring (see :mod:`eo_drr.products.wetlands`). ``time.post`` is
    the monitoring period; ``time.pre`` (optional) a reference period for extent change."""

    polygons: WetlandPolygons | None = Field(
        None, description="wetland polygons; default: derived from the product's wetland extent"
    )
    # left out, each takes eo_drr.products.wetlands.WetlandParams' default (the one source)
    tcw_wet_threshold: float | None = Field(
        None,
        description="tasseled-cap wetness (reflectance 0-1 units) above which a pixel is wet "
        "(Crist 1985 coefficients; recalibrated for Sentinel-2 against open water; default -0.030)",
    )
    ndvi_green_min: float | None = Field(
        None, description="NDVI at or above which vegetation is green (default 0.35)"
    )
    max_missing_fraction: float | None = Field(
        None, ge=0, le=1, description="drop observations with more missing (default 0.10)"
    )
    extent_min_frequency: float | None = Field(
        None,
        gt=0,
        le=1,
        description="wetland extent: water or wet in at least this share of clear dates (default 0.25)",
    )
    extent_min_observations: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="wetland extent: and water or wet on at least this many clear dates "
        "(a single flood date cannot make a wetland); pixels with fewer clear dates are no data (default 2)",
    )
    min_polygon_px: int | None = Field(
        None, ge=1, le=10000000, description="derived polygons: smallest size (px; default 20)"
    )

    @field_validator("tcw_wet_threshold")
    @classmethod
    def _tcw(cls, v: float | None) -> float | None:
        if v is not None and not -0.2 <= v <= 0.05:
            raise ValueError(
                _(
                    "{value} is outside the sensible range [-0.2, 0.05] (reflectance 0-1 "
                    "units; the Landsat value -350 is -0.035 in these units)"
                ).format(value=v)
            )
        return v

    @field_validator("ndvi_green_min")
    @classmethod
    def _ndvi(cls, v: float) -> float:
        if not 0.05 <= v <= 0.9:
            raise ValueError(
                _(
                    "{value} is outside the sensible range [0.05, 0.9] for green vegetation NDVI"
                ).format(value=v)
            )
        return v


class Products(ConfigModel):
    flood: FloodProduct | None = None
    urban_growth: UrbanGrowthProduct | None = None
    wetlands: WetlandsProduct | None = None


class AdminUnits(VectorInput):
    code_field: str = "code"
    name_field: str = "name"
    level: int | None = Field(None, ge=0, le=5)


class Exposure(ConfigModel):
    """Exposure inputs for per-unit statistics (Sendai-framework EO proxies)."""

    admin_units: AdminUnits
    facilities: VectorInput | None = Field(
        None, description="critical facilities (points) with a 'type' column: health, education"
    )
    roads: VectorInput | None = Field(None, description="road network (lines)")
    event_id: str | None = Field(
        None, description="event id in the Sendai table (default: job name)"
    )
    hazard_code: str = Field(
        "MH0600",
        pattern=r"^[A-Z]{2}\d{4}$",
        description="UNDRR-ISC Hazard Information Profile code (MH0600: flooding)",
    )
