"""Job configuration: YAML job files validated by pydantic models.

A job file says *where* (``aoi``), *when* (``time``), *from what* (``sources``), *what to make*
(``products``, ``exposure``), *where to put it* (``outputs``) and *on what* (``cluster``).
Files are read with ``yaml.safe_load`` only; nothing a user writes is ever evaluated.
Unknown keys, wrong types, impossible dates or an empty AOI raise :class:`ConfigError` with the
file and the dotted key, e.g. ``configs/x.yaml: time.post.end: must not be before start``.

Relative paths in a job file are relative to the job file's folder. ``demo://NAME`` paths
point into the bundled demo scene (generated on first use).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from eo_drr.errors import ConfigError

#: Named catalogues; anything else must be an http(s) URL of a STAC API or a path to a
#: static STAC catalogue (catalog.json) or a folder holding one.
CATALOG_PRESETS = ("demo", "earth-search", "planetary-computer", "cdse")


_T = TypeVar("_T")


def _is_number(annotation: Any) -> bool:
    """True for int / float annotations (optionally with None), not for bool."""
    from typing import get_args

    kinds = {a for a in (get_args(annotation) or (annotation,)) if a is not type(None)}
    return bool(kinds) and kinds <= {int, float}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data: Any) -> Any:
        """YAML reads ``yes``/``true`` as a boolean, which pydantic would take as 1: a number
        key given a boolean is an error naming the key, never 1 m or 1 dB."""
        if isinstance(data, dict):
            for name, f in cls.model_fields.items():
                value = data.get(name)
                if isinstance(value, bool) and _is_number(f.annotation):
                    raise ValueError(f"{name}: expected a number, got {str(value).lower()}")
        return data


class AOI(_Model):
    """Area of interest: a WGS84 bounding box, or a vector file (any OGR format)."""

    bbox: tuple[float, float, float, float] | None = Field(
        None, description="west, south, east, north in degrees (EPSG:4326)"
    )
    file: str | None = Field(None, description="vector file whose union is the AOI")
    layer: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AOI:
        if (self.bbox is None) == (self.file is None):
            raise ValueError("give exactly one of 'bbox' or 'file'")
        if self.bbox is not None:
            w, s, e, n = self.bbox
            if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
                raise ValueError("bbox must be west, south, east, north in degrees (EPSG:4326)")
            if not (w < e and s < n):
                raise ValueError(
                    f"bbox is empty: need west < east and south < north (got {w}, {s}, {e}, {n})"
                )
        return self


class Window(_Model):
    """A closed date interval (UTC days)."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    def as_stac(self) -> str:
        """The interval as a STAC ``datetime`` search string covering whole days."""
        return f"{self.start.isoformat()}T00:00:00Z/{self.end.isoformat()}T23:59:59Z"


class TimeWindows(_Model):
    """Pre-event and post-event windows (the post window must not start before pre ends)."""

    pre: Window | None = None
    post: Window

    @model_validator(mode="after")
    def _order(self) -> TimeWindows:
        if self.pre is not None and self.post.start < self.pre.end:
            raise ValueError("post.start must not be before pre.end")
        return self


class S1Source(_Model):
    """Sentinel-1 backscatter (RTC gamma0) from a catalogue collection."""

    collection: str = "sentinel-1-rtc"
    bands: list[str] = Field(default_factory=lambda: ["vv", "vh"], min_length=1)
    units: Literal["linear", "db"] = Field("linear", description="units of the stored pixels")
    orbit_direction: Literal["ascending", "descending"] | None = None
    relative_orbit: int | None = Field(
        None, ge=1, le=175, description="only this track; default: the post-event item's"
    )


class S2Source(_Model):
    """Sentinel-2 L2A surface reflectance."""

    collection: str = "sentinel-2-l2a"
    bands: list[str] = Field(
        default_factory=lambda: ["B02", "B03", "B04", "B08", "B11", "B12", "SCL"], min_length=1
    )
    max_cloud_cover: float = Field(80.0, ge=0, le=100)


class RasterSource(_Model):
    """A single-layer raster input: a catalogue collection + asset, or a file."""

    collection: str | None = None
    asset: str = "data"
    file: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> RasterSource:
        if (self.collection is None) == (self.file is None):
            raise ValueError("give exactly one of 'collection' or 'file'")
        return self


class DemoOptions(_Model):
    """Which synthetic demo scene ``catalog: demo`` generates (see :mod:`eo_drr.demo`)."""

    seed: int = Field(42, ge=0)
    size: int = Field(1024, ge=64, le=8192, description="pixels per side at 10 m")
    landscape: Literal["floodplain", "desert_city"] = "floodplain"


class Sources(_Model):
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
            raise ValueError("must not be empty")
        return v


class GridConfig(_Model):
    """The common output grid every input is loaded onto."""

    crs: str = Field("auto", description="'auto' (UTM zone of the AOI / the data) or EPSG:xxxx")
    resolution: float = Field(10.0, gt=0, le=10000, description="metres")
    chunks: int = Field(1024, ge=64, le=16384, description="dask chunk size in pixels")


class SpeckleFilter(_Model):
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
            raise ValueError("must be odd (3, 5, 7, ...)")
        return v

    @model_validator(mode="after")
    def _refined_is_7(self) -> SpeckleFilter:
        if self.kind == "refined_lee" and self.window not in (None, 7):
            raise ValueError("refined_lee is defined for a 7 x 7 window only (window: 7)")
        return self


class FloodProduct(_Model):
    """Sentinel-1 flood mapping, GFM-style: observed water minus reference water
    (see :mod:`eo_drr.products.flood`)."""

    polarization: str = Field(
        "vv",
        description="the co-polarised band of sources.s1.bands (VV); VH, when listed, is loaded too and decides",
    )
    speckle_filter: SpeckleFilter | None = Field(
        None,
        description="override the water rule's default filter (eo_drr.products.water.DEFAULTS)",
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
            raise ValueError(f"unsupported classes {bad}: use 10 (tree cover) and/or 50 (built-up)")
        return v


class VectorInput(_Model):
    file: str
    layer: str | None = None


class HazardSource(_Model):
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
                "give at least one of 'file', 'hand_max_m', 'slope_min_deg' or 'water_distance_m'"
            )
        return self


class BuiltupThresholds(_Model):
    """Thresholds of the built-up rule; a key left out takes the rule's default
    (:class:`eo_drr.products.urban.BuiltupRule`, the one source of them and of their sources)."""

    ndvi_max: float | None = Field(None, ge=-1, le=1)
    mndwi_max: float | None = Field(None, ge=-1, le=1)
    ndbi_min: float | None = Field(None, ge=-1, le=1)
    bsi_max: float | None = Field(None, ge=-1, le=1)
    vv_mean_min_db: float | None = Field(None, ge=-30, le=10)
    vv_std_max_db: float | None = Field(None, gt=0, le=20)


class UrbanGrowthProduct(_Model):
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


class WetlandPolygons(_Model):
    """Wetland polygons from a vector file (e.g. Ramsar sites), one row per wetland."""

    file: str
    layer: str | None = None
    id_field: str = "id"
    name_field: str | None = None


class WetlandsProduct(_Model):
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
                f"{v} is outside the sensible range [-0.2, 0.05] (reflectance 0-1 units; the "
                "Landsat value -350 is -0.035 in these units)"
            )
        return v

    @field_validator("ndvi_green_min")
    @classmethod
    def _ndvi(cls, v: float) -> float:
        if not 0.05 <= v <= 0.9:
            raise ValueError(
                f"{v} is outside the sensible range [0.05, 0.9] for green vegetation NDVI"
            )
        return v


class Products(_Model):
    flood: FloodProduct | None = None
    urban_growth: UrbanGrowthProduct | None = None
    wetlands: WetlandsProduct | None = None


class AdminUnits(VectorInput):
    code_field: str = "code"
    name_field: str = "name"
    level: int | None = Field(None, ge=0, le=5)


class Exposure(_Model):
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


class Outputs(_Model):
    dir: str = Field("output", description="output folder (the CLI's -o overrides it)")
    formats: list[Literal["cog", "csv", "geoparquet"]] = Field(
        default_factory=lambda: ["cog", "csv", "geoparquet"]  # type: ignore[arg-type]
    )


#: ``cluster.kind`` values: local (no distributed), local distributed, an existing scheduler,
#: batch schedulers through dask-jobqueue, and cloud clusters (dask-gateway, dask-kubernetes).
CLUSTER_KINDS = (
    "threads",
    "synchronous",
    "processes",
    "address",
    "scheduler_file",
    "slurm",
    "pbs",
    "gateway",
    "kubernetes",
)


class ClusterConfig(_Model):
    """Where a job's dask graph runs (see :mod:`eo_drr.jobs.cluster` and README "Running on a
    cluster"). Sizes apply to the clusters eo-drr starts (``processes``, ``slurm``, ``pbs``,
    ``gateway``, ``kubernetes``); ``address`` and ``scheduler_file`` join a running one."""

    kind: Literal[
        "threads",
        "synchronous",
        "processes",
        "address",
        "scheduler_file",
        "slurm",
        "pbs",
        "gateway",
        "kubernetes",
    ] = "threads"
    n_workers: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="threads: threads; processes/gateway/kubernetes: workers; slurm/pbs: batch jobs",
    )
    threads_per_worker: int | None = Field(
        None, ge=1, le=1024, description="default 1 for processes"
    )
    memory_limit: str | None = Field(
        None, description="per worker, e.g. '4GiB' (dask's default: auto)"
    )
    address: str | None = Field(
        None, description="kind address: tcp://host:port of a running scheduler"
    )
    scheduler_file: str | None = Field(
        None, description="kind scheduler_file: the JSON file the scheduler wrote"
    )
    gpu_workers: int = Field(
        0,
        ge=0,
        le=4096,
        description="processes: how many of the local workers advertise resources GPU=1; "
        "slurm/pbs/gateway/kubernetes: >0 makes every started worker advertise GPU=1",
    )
    use_gpu: bool = Field(
        False,
        description="route tile tasks to workers advertising a GPU resource (resources={'GPU': 1})",
    )
    lifetime: str | None = Field(
        None, description="slurm/pbs: worker --lifetime before the walltime, e.g. '55m'"
    )
    lifetime_stagger: str | None = Field(
        None, description="slurm/pbs: worker --lifetime-stagger, e.g. '5m'"
    )
    dashboard: bool = Field(True, description="start (and print the link of) the dask dashboard")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="extra keyword arguments of the backend's cluster class (SLURMCluster, PBSCluster, "
        "Gateway.new_cluster, KubeCluster), e.g. queue, account, walltime, cores, memory",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ClusterConfig:
        if self.kind == "address" and not self.address:
            raise ValueError("kind 'address' needs 'address: tcp://host:port'")
        if self.kind == "scheduler_file" and not self.scheduler_file:
            raise ValueError(
                "kind 'scheduler_file' needs 'scheduler_file: PATH' (the scheduler's JSON file)"
            )
        if self.memory_limit is not None:
            from dask.utils import parse_bytes

            try:
                parse_bytes(self.memory_limit)
            except (ValueError, TypeError):
                raise ValueError(
                    f"memory_limit: {self.memory_limit!r} is not a size (use e.g. '4GiB', '8GB')"
                ) from None
        for key in ("lifetime", "lifetime_stagger"):
            value = getattr(self, key)
            if value is None:
                continue
            if self.kind not in ("slurm", "pbs"):
                raise ValueError(
                    f"{key} applies to kind slurm or pbs (workers killed at the walltime)"
                )
            from dask.utils import parse_timedelta

            try:
                parse_timedelta(value)
            except (ValueError, KeyError, TypeError):
                raise ValueError(
                    f"{key}: {value!r} is not a duration (use e.g. '55m', '1h')"
                ) from None
        if self.use_gpu and self.kind in ("threads", "synchronous"):
            raise ValueError(
                "use_gpu needs a dask.distributed cluster whose workers advertise a GPU resource "
                "(kind processes with gpu_workers, address, scheduler_file, slurm, pbs, gateway, kubernetes)"
            )
        if self.use_gpu and self.kind == "processes" and self.gpu_workers == 0:
            raise ValueError("use_gpu with kind 'processes' needs gpu_workers >= 1")
        if self.kind == "processes" and self.n_workers and self.gpu_workers > self.n_workers:
            raise ValueError(
                f"gpu_workers ({self.gpu_workers}) is more than n_workers ({self.n_workers})"
            )
        if self.options and self.kind not in ("slurm", "pbs", "gateway", "kubernetes"):
            raise ValueError("options apply to kind slurm, pbs, gateway or kubernetes")
        return self


class TilingConfig(_Model):
    """Run the job tile by tile (see :mod:`eo_drr.jobs.tiling`): square tiles of
    ``tile_size_px`` output pixels on a fixed grid anchored at the origin of the job's output
    CRS, so the same place always has the same tile id (``x{ix}_y{iy}``) whatever the AOI."""

    tile_size_px: int = Field(1024, ge=32, le=16384, description="tile side in output pixels")
    max_attempts: int = Field(
        3, ge=1, le=100, description="a failed tile is retried by reruns up to this"
    )
    mosaic: bool = Field(
        True, description="assemble COG mosaics and tables once every tile is done"
    )


class JobConfig(_Model):
    """A whole job file."""

    name: Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._-]+$")]
    description: str = ""
    pipeline: Literal["flood", "urban_growth", "wetlands"] = "flood"
    aoi: AOI
    time: TimeWindows
    sources: Sources
    grid: GridConfig = Field(default_factory=GridConfig)
    products: Products = Field(default_factory=Products)
    exposure: Exposure | None = None
    outputs: Outputs = Field(default_factory=Outputs)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    tiling: TilingConfig | None = Field(
        None, description="run tile by tile with a resumable job ledger"
    )
    #: The job file's folder; relative paths resolve against it. Not part of the YAML.
    base_dir: Path = Field(default=Path("."), exclude=True)

    def resolve_path(self, value: str) -> str:
        """Resolve a path from the job file: ``demo://...`` and URLs stay, relative paths are
        taken from the job file's folder."""
        if "://" in value:
            return value
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else (self.base_dir / p).resolve())


def _format_loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _format_validation_error(path: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(x for x in err["loc"] if x not in ("function-after",))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see configs/demo.yaml for the known keys)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
            named = re.match(r"^([a-z][a-z0-9_]*): (.*)$", msg, re.S)  # a validator naming its key
            if named:
                loc, msg = (*loc, named.group(1)), named.group(2)
        lines.append(f"{path}: {_format_loc(loc)}: {msg}")
    return "\n".join(lines)


def parse_config(data: Any, *, source: str = "<config>", base_dir: Path | None = None) -> JobConfig:
    """Validate an already-parsed mapping into a :class:`JobConfig`."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{source}: a job file must be a mapping of keys, but it is {kind}")
    try:
        cfg = JobConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None
    if base_dir is not None:
        cfg = cfg.model_copy(update={"base_dir": base_dir})
    return cfg


class _JobLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with an impossible date (``2024-11-31``) as a YAML error at its
    line and column instead of a ValueError from deep inside."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({exc})", node.start_mark
        ) from None


_JobLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def load_config(path: str | Path) -> JobConfig:
    """Read and validate a YAML job file. Raises :class:`ConfigError` naming file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such job file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a job file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the job file ({exc})") from None
    try:
        data = yaml.load(text, Loader=_JobLoader)  # a SafeLoader: no user string is evaluated
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{where}: malformed YAML: {problem}") from None
    return parse_config(data, source=str(path), base_dir=path.resolve().parent)


def required(value: _T | None, key: str, why: str = "this pipeline needs it") -> _T:
    """``value`` of the optional job key ``key``, or a :class:`ConfigError` naming the key."""
    if value is None:
        raise ConfigError(f"{key}: missing ({why})")
    return value
