"""The whole job file (:class:`JobConfig`) and :func:`required`, the accessor of its optional
keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import Field

from eo_drr.config.base import ConfigModel
from eo_drr.config.execution import ClusterConfig, Outputs, TilingConfig
from eo_drr.config.inputs import AOI, GridConfig, Sources, TimeWindows
from eo_drr.config.products import Exposure, Products
from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _

_T = TypeVar("_T")


class JobConfig(ConfigModel):
    """A whole job file."""

    name: Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._-]+$")]
    description: str = ""
    pipeline: Literal["flood", "urban_growth", "wetlands", "water_series"] = "flood"
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


def required(value: _T | None, key: str, why: str | None = None) -> _T:
    """``value`` of the optional job key ``key``, or a :class:`ConfigError` naming the key and
    ``why`` it is needed (translated by the caller; default: "this pipeline needs it")."""
    if value is None:
        why = why or _("this pipeline needs it")
        raise ConfigError(_("{key}: missing ({why})").format(key=key, why=why))

    return value
