"""Options shared by several commands, and option groups: a frozen dataclass of the API whose
documented fields become one command's options and reach it as one argument."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from eo_drr.api.options import option_of

KEYWORD = inspect.Parameter.KEYWORD_ONLY

#: ``--output/-o`` of the commands that run a job file
JobOutput = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Output folder (default: the job's outputs.dir)."),
]
JobFile = Annotated[Path, typer.Argument(help="A YAML job file (`eo-drr init` writes one).")]
TileSize = Annotated[
    int | None,
    typer.Option(
        "--tile-size",
        min=32,
        max=16384,
        help="Run tile by tile: square tiles of this many output pixels on a fixed grid "
        "(overrides tiling.tile_size_px). Reruns skip finished tiles.",
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan and write nothing.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def grouped(*groups: type, skip: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    """Decorate a command whose first parameters take ``groups`` (dataclasses of the API): the
    fields documented as options (:func:`eo_drr.api.options.option`: "--out,-o" adds a short
    name, no default makes it required), except those in ``skip``, become options of the
    command and reach it as one value per group."""
    fields = [
        [(f, spec) for f in dataclasses.fields(g) if (spec := option_of(f)) and f.name not in skip]
        for g in groups
    ]
    extra = []
    for group, group_fields in zip(groups, fields):
        hints = typing.get_type_hints(group)
        for f, (name, help, limits) in group_fields:
            option = typer.Option(
                *name.split(","), help=help, min=limits.get("min"), max=limits.get("max")
            )
            hint = Annotated[hints[f.name], option]  # type: ignore[valid-type,name-defined]
            default = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
            extra.append(inspect.Parameter(f.name, KEYWORD, default=default, annotation=hint))

    def decorate(command: Callable) -> Callable:
        own = list(inspect.signature(command, eval_str=True).parameters.values())[len(groups) :]

        @functools.wraps(command)
        def run(**kwargs: Any) -> Any:
            values = [
                g(**{f.name: kwargs.pop(f.name) for f, _ in gf}) for g, gf in zip(groups, fields)
            ]
            return command(*values, **kwargs)

        params = [*extra, *(p.replace(kind=KEYWORD) for p in own)]
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run

    return decorate
