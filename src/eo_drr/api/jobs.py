"""Jobs from Python: validate, build the demo, run, search, load (the engine under the CLI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pystac

from eo_drr.config import JobConfig, load_config, parse_config
from eo_drr.engine import JobResult, Reporter, log_reporter, run_job, tqdm_reporter
from eo_drr.errors import ConfigError, InputError
from eo_drr.i18n import gettext as _

#: a validated job (the same object the command line runs)
Job = JobConfig
#: the bundled example jobs, by pipeline
DEMO_CONFIGS = {
    "flood": "demo.yaml",
    "urban_growth": "urban_growth_demo.yaml",
    "wetlands": "wetlands_demo.yaml",
}


def load_job(job: str | Path | dict[str, Any], *, base_dir: str | Path | None = None) -> Job:
    """A validated job from a YAML job file or a mapping of the same keys.

    Raises :class:`~eo_drr.errors.ConfigError` naming the file (or ``<dict>``) and the key,
    as ``eo-drr run`` does. Relative paths in a mapping resolve against ``base_dir``
    (default: the current folder)."""
    if isinstance(job, dict):
        return parse_config(
            job, source="<dict>", base_dir=Path(base_dir) if base_dir is not None else Path.cwd()
        )
    if isinstance(job, (str, Path)):
        return load_config(job)
    raise ConfigError(
        _("job: expected a job file path or a dict, got {type}").format(type=type(job).__name__)
    )


def demo_job(size: int | None = None, seed: int | None = None, *, pipeline: str = "flood") -> Job:
    """The bundled demo job of ``pipeline`` (flood, urban_growth, wetlands) on the synthetic
    scene of ``size`` x ``size`` pixels (10 m) generated from ``seed`` on first use (default:
    the job file's, 1024 px and seed 42). The scene is made up, with known truth; its outputs
    never stand for a real event."""
    import yaml

    if pipeline not in DEMO_CONFIGS:
        raise ConfigError(
            _("pipeline: no demo job for {pipeline!r} (have: {demo_configs})").format(
                pipeline=pipeline, demo_configs=", ".join(DEMO_CONFIGS)
            )
        )
    for name, value in (("size", size), ("seed", seed)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ConfigError(
                _("{name}: expected an integer, got {value!r}").format(name=name, value=value)
            )
    text = (
        resources.files("eo_drr.configs")
        .joinpath(DEMO_CONFIGS[pipeline])
        .read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text)
    demo = data["sources"].setdefault("demo", {})
    demo.update({k: v for k, v in (("size", size), ("seed", seed)) if v is not None})
    return parse_config(data, source=f"configs/{DEMO_CONFIGS[pipeline]}", base_dir=Path.cwd())


def _reporter(progress: str | Reporter | None) -> Reporter:
    if progress is None or progress == "log":
        return log_reporter
    if progress == "tqdm":
        return tqdm_reporter()
    if callable(progress):
        return progress
    raise InputError(
        _(
            "progress: use 'log', 'tqdm' or a callable taking eo_drr.engine.Event, got {progress!r}"
        ).format(progress=progress)
    )


def run(
    job: Job | str | Path | dict[str, Any],
    output: str | Path | None = None,
    *,
    progress: str | Reporter | None = None,
    tile_size_px: int | None = None,
    retry_failed: bool = False,
) -> JobResult:
    """Run a job (a :class:`Job`, a job file or a mapping) into ``output`` (default: the job's
    ``outputs.dir``) exactly as ``eo-drr run`` does, and return its :class:`JobResult`:
    ``.outputs`` (name -> file), ``.tables`` (name -> DataFrame), ``.summary`` (hectares,
    people, seconds, thresholds in dB), ``.quality`` (plain-language warnings).

    ``progress``: ``"log"`` (default, logger ``eo_drr.engine``), ``"tqdm"`` (bars in a
    notebook) or a callable taking :class:`eo_drr.engine.Event`. ``tile_size_px``: run tile
    by tile (reruns skip finished tiles)."""
    cfg = job if isinstance(job, JobConfig) else load_job(job)
    return run_job(
        cfg,
        output,
        report=_reporter(progress),
        tile_size_px=tile_size_px,
        retry_failed=retry_failed,
    )


def _date(value: dt.date | str, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(
            _("{name}: expected a date YYYY-MM-DD, got {value!r}").format(name=name, value=value)
        ) from None


def search(
    collection: str,
    bbox: Sequence[float],
    start: dt.date | str,
    end: dt.date | str,
    *,
    catalog: str = "earth-search",
    max_cloud_cover: float | None = None,
    orbit_direction: str | None = None,
    relative_orbit: int | None = None,
) -> list[pystac.Item]:
    """STAC items of ``collection`` over ``bbox`` (west, south, east, north in degrees) from
    ``start`` to ``end`` (whole UTC days, inclusive), sorted by time.

    ``catalog``: a preset (``earth-search``, ``planetary-computer``, ``cdse``, ``demo``, ...),
    a STAC API URL or a static catalogue path. ``max_cloud_cover`` in percent (0-100)."""
    from eo_drr.catalog import SearchQuery, open_catalog

    d0, d1 = _date(start, "start"), _date(end, "end")
    if d1 < d0:
        raise InputError(_("end: {d1} is before start {d0}").format(d1=d1, d0=d0))
    if max_cloud_cover is not None and not 0 <= max_cloud_cover <= 100:
        raise InputError(
            _("max_cloud_cover: expected a percentage 0-100, got {max_cloud_cover!r}").format(
                max_cloud_cover=max_cloud_cover
            )
        )
    if relative_orbit is not None and not 1 <= relative_orbit <= 175:
        raise InputError(
            _("relative_orbit: Sentinel-1 tracks are 1-175, got {relative_orbit!r}").format(
                relative_orbit=relative_orbit
            )
        )
    if orbit_direction not in (None, "ascending", "descending"):
        raise InputError(
            _("orbit_direction: use 'ascending' or 'descending', not {orbit_direction!r}").format(
                orbit_direction=orbit_direction
            )
        )

    if len(bbox) != 4 or not (-180 <= bbox[0] < bbox[2] <= 180 and -90 <= bbox[1] < bbox[3] <= 90):
        raise InputError(
            _(
                "bbox: expected west, south, east, north in degrees (west < east, south < "
                "north), got {bbox}"
            ).format(bbox=tuple(bbox))
        )
    q = SearchQuery.for_days(
        collection,
        _date(start, "start"),
        _date(end, "end"),
        bbox=tuple(float(v) for v in bbox),
        max_cloud_cover=max_cloud_cover,
        orbit_direction=orbit_direction,
        relative_orbit=relative_orbit,
    )
    return open_catalog(catalog).search(q)
