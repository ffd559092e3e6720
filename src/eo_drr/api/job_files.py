"""The job files that come with eo-drr, as ``eo-drr init`` writes them: the demo job and the
event jobs (real floods in Latin America and the Caribbean, ``events/<name>.yaml``). They are
read from the installed package (``eo_drr.configs``: the repository's configs/ folder), so a
pip install without the repository has them too. Nothing is ever overwritten."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from eo_drr.api.options import option
from eo_drr.errors import ConfigError, InputError, OutputError
from eo_drr.i18n import HELP_FIELDS
from eo_drr.i18n import gettext as _

#: the demo job (the synthetic scene; no internet needed)
DEMO = "demo.yaml"
#: the folder of the event jobs inside ``eo_drr.configs``
EVENTS = "events"


def event_names() -> list[str]:
    """The names of the bundled event jobs (their file names without ``.yaml``)."""
    folder = resources.files("eo_drr.configs").joinpath(EVENTS)
    return sorted(
        f.name.removesuffix(".yaml") for f in folder.iterdir() if f.name.endswith(".yaml")
    )


def job_text(event: str | None = None) -> str:
    """The text of the demo job, or of the event job ``event`` (comments included)."""
    root = resources.files("eo_drr.configs")
    if event is None:
        return root.joinpath(DEMO).read_text(encoding="utf-8")
    if event not in event_names():
        raise ConfigError(
            _("--event: no event job {event!r}; the known events: {event_names}").format(
                event=event, event_names=", ".join(event_names())
            )
        )
    return root.joinpath(EVENTS, f"{event}.yaml").read_text(encoding="utf-8")


HELP_FIELDS["events"] = lambda: ", ".join(event_names())  # the --event help's list


@dataclass(frozen=True)
class InitOptions:
    """What ``eo-drr init`` writes: the demo job, or the job of ``event``, into ``dir``."""

    event: str | None = option(
        "--event",
        "Write this event's job instead of the demo job: {events}.",
    )
    dir: Path = option("--dir", "Folder to write the job file into (made when missing).", Path("."))


@dataclass(frozen=True)
class Written:
    """A job file written to ``path``, and what to do next (``lines``)."""

    path: Path
    lines: tuple[str, ...]


def write_job(opts: InitOptions) -> Written:
    """Write the job file of ``opts`` into ``opts.dir`` as ``demo.yaml`` or ``<event>.yaml``;
    an existing file is refused, never overwritten."""
    text = job_text(opts.event)
    path = opts.dir / f"{opts.event or 'demo'}.yaml"
    if opts.dir.exists() and not opts.dir.is_dir():
        raise InputError(_("--dir: {dir} is a file, not a folder").format(dir=opts.dir))
    try:
        opts.dir.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise InputError(
            _(
                "{path} exists: eo-drr init never overwrites a file (remove it, or give another "
                "--dir)"
            ).format(path=path)
        ) from None
    except OSError as exc:
        raise OutputError(
            _("--dir: cannot write {path} ({strerror})").format(
                path=path, strerror=exc.strerror or exc
            )
        ) from None
    return Written(
        path, (_("wrote {path}").format(path=path), *_next_steps(path, text, opts.event))
    )


def _next_steps(path: Path, text: str, event: str | None) -> tuple[str, ...]:
    import yaml

    if event is None:
        return (
            _(
                "run it: eo-drr run {path} -o demo-output (a synthetic scene; no internet needed)"
            ).format(path=path),
        )
    job = yaml.safe_load(text)
    bbox = ",".join(f"{v:g}" for v in job["aoi"]["bbox"])
    return (
        _(
            "check the Sentinel-1 dates: eo-drr dates --bbox {bbox} --around {date} --catalog "
            "{catalog}"
        ).format(bbox=bbox, date=job["time"]["post"]["start"], catalog=job["sources"]["catalog"]),
        _("download the admin units its header names, then: eo-drr run {path} --dry-run").format(
            path=path
        ),
    )
