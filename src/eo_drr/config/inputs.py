"""Where, when and from what: the AOI, the time windows, the input sources and the output
grid of a job file."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from eo_drr.config.base import ConfigModel
from eo_drr.i18n import gettext as _

#: Named catalogues; anything else must be an http(s) URL of a STAC API or a path to a
#: static STAC catalogue (catalog.json) or a folder holding one.
CATALOG_PRESETS = ("demo", "earth-search", "planetary-computer", "cdse")


class AOI(ConfigModel):
    """Area of interest: a WGS84 bounding box, or a vector file (any OGR format)."""

    bbox: tuple[float, float, float, float] | None = Field(
        None, description="west, south, east, north in degrees (EPSG:4326)"
    )
    file: str | None = Field(None, description="vector file whose union is the AOI")
    layer: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AOI:
        if (self.bbox is None) == (self.file is None):
            raise ValueError(_("give exactly one of 'bbox' or 'file'"))
        if self.bbox is not None:
            w, s, e, n = self.bbox
            if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
                raise ValueError(_("bbox must be west, south, east, north in degrees (EPSG:4326)"))
            if not (w < e and s < n):
                raise ValueError(
                    _(
                        "bbox is empty: need west < east and south < north (got {w}, {s}, {e}, {n})"
                    ).format(w=w, s=s, e=e, n=n)
                )
        return self


class Window(ConfigModel):
    """A closed date interval (UTC days)."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            raise ValueError(
                _("end ({end}) is before start ({start})").format(end=self.end, start=self.start)
            )
        return self

    def as_stac(self) -> str:
        """The interval as a STAC ``datetime`` search string covering whole days."""
        return f"{self.start.isoformat()}T00:00:00Z/{self.end.isoformat()}T23:59:59Z"


class TimeWindows(ConfigModel):
    """Pre-event and post-event windows (the post window must not start before pre ends)."""

    pre: Window | None = None
    post: Window

    @model_validator(mode="after")
    def _order(self) -> TimeWindows:
        if self.pre is not None and self.post.start < self.pre.end:
            raise ValueError(_("post.start must not be before pre.end"))
        return self


class S1Source(ConfigModel):
    """Sentinel-1 backscatter (RTC gamma0) from a catalogue collection."""

    collection: str = "sentinel-1-rtc"
    bands: list[str] = Field(default_factory=lambda: ["vv", "vh"], min_length=1)
    units: Literal["linear", "db"] = Field("linear", description="units of the stored pixels")
    orbit_direction: Literal["ascending", "descending"] | None = None
    relative_orbit: int | None = Field(
        None, ge=1, le=175, description="only this track; default: the post-event item's"
    )


class S2Source(ConfigModel):
    """Sentinel-2 L2A surface reflectance."""

    collection: str = "sentinel-2-l2a"
    bands: list[str] = Field(
        default_factory=lambda: ["B02", "B03", "B04", "B08", "B11", "B12", "SCL"], min_length=1
    )
    max_cloud_cover: float = Field(80.0, ge=0, le=100)


class RasterSource(ConfigModel):
    """A single-layer raster input: a catalogue collection + asset, or a file."""

    collection: str | None = None
    asset: str = "data"
    file: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> RasterSource:
        if (self.collection is None) == (self.file is None):
            raise ValueError(_("give exactly one of 'collection' or 'file'"))
        return self


class DemoOptions(ConfigModel):
    """Which synthetic demo scene ``catalog: demo`` generates (see :mod:`eo_drr.demo`)."""

    seed: int = Field(42, ge=0)
    size: int = Field(1024, ge=64, le=8192, description="pixels per side at 10 m")
    landscape: Literal["floodplain", "desert_city"] = "floodplain"


class Sources(ConfigModel):
    """Where the inputs come from."""

    catalog: str = Field("demo", description="preset name, STAC API URL or static catalogue")
    demo: DemoOptions = Field(default_factory=DemoOptions)
    s1: S1Source | None = None
    s2: S2Source | None = None
    dem: RasterSource | None = None
    hand: RasterSource | None = None
    landcover: RasterSource | None = None
    gsw_seasonality: RasterSource | None = Field(
        None, description="JRC Global Surface Water seasonality (months of water per year)"
    )
    population: RasterSource | None = None

    @field_validator("catalog")
    @classmethod
    def _catalog(cls, v: str) -> str:
        if not v:
            raise ValueError(_("must not be empty"))
        return v


class GridConfig(ConfigModel):
    """The common output grid every input is loaded onto."""

    crs: str = Field("auto", description="'auto' (UTM zone of the AOI / the data) or EPSG:xxxx")
    resolution: float = Field(10.0, gt=0, le=10000, description="metres")
    chunks: int = Field(1024, ge=64, le=16384, description="dask chunk size in pixels")
