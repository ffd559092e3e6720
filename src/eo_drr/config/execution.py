"""Where the outputs go and how the job runs: output folder and formats, the dask cluster,
tile-by-tile runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from eo_drr.config.base import ConfigModel
from eo_drr.i18n import gettext as _


class Outputs(ConfigModel):
    dir: str = Field("output", description="output folder (the CLI's -o overrides it)")
    formats: list[Literal["cog", "csv", "geoparquet", "pdf"]] = Field(
        default_factory=lambda: ["cog", "csv", "geoparquet"]  # type: ignore[arg-type]
    )


class ClusterConfig(ConfigModel):
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
            raise ValueError(_("kind 'address' needs 'address: tcp://host:port'"))
        if self.kind == "scheduler_file" and not self.scheduler_file:
            raise ValueError(
                _("kind 'scheduler_file' needs 'scheduler_file: PATH' (the scheduler's JSON file)")
            )
        if self.memory_limit is not None:
            from dask.utils import parse_bytes

            try:
                parse_bytes(self.memory_limit)
            except (ValueError, TypeError):
                raise ValueError(
                    _(
                        "memory_limit: {memory_limit!r} is not a size (use e.g. '4GiB', '8GB')"
                    ).format(memory_limit=self.memory_limit)
                ) from None
        for key in ("lifetime", "lifetime_stagger"):
            value = getattr(self, key)
            if value is None:
                continue
            if self.kind not in ("slurm", "pbs"):
                raise ValueError(
                    _("{key} applies to kind slurm or pbs (workers killed at the walltime)").format(
                        key=key
                    )
                )
            from dask.utils import parse_timedelta

            try:
                parse_timedelta(value)
            except (ValueError, KeyError, TypeError):
                raise ValueError(
                    _("{key}: {value!r} is not a duration (use e.g. '55m', '1h')").format(
                        key=key, value=value
                    )
                ) from None
        if self.use_gpu and self.kind in ("threads", "synchronous"):
            raise ValueError(
                _(
                    "use_gpu needs a dask.distributed cluster whose workers advertise a GPU "
                    "resource (kind processes with gpu_workers, address, scheduler_file, "
                    "slurm, pbs, gateway, kubernetes)"
                )
            )
        if self.use_gpu and self.kind == "processes" and self.gpu_workers == 0:
            raise ValueError(_("use_gpu with kind 'processes' needs gpu_workers >= 1"))
        if self.kind == "processes" and self.n_workers and self.gpu_workers > self.n_workers:
            raise ValueError(
                _("gpu_workers ({gpu_workers}) is more than n_workers ({n_workers})").format(
                    gpu_workers=self.gpu_workers, n_workers=self.n_workers
                )
            )
        if self.options and self.kind not in ("slurm", "pbs", "gateway", "kubernetes"):
            raise ValueError(_("options apply to kind slurm, pbs, gateway or kubernetes"))
        return self


class TilingConfig(ConfigModel):
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
