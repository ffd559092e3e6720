"""Fields of the API's option groups (:class:`eo_drr.api.data.Query`,
:class:`eo_drr.api.raster_files.S1Reading`, ...) documented as the command line's options: one
place for each option's name, help and limits, and the field's default."""

from __future__ import annotations

from dataclasses import Field, field
from typing import Any

#: the key of a field's metadata that holds ``(option, help, limits)``
OPTION = "eo_drr.option"


def option(name: str, help: str, default: Any = None, **limits: float) -> Any:
    """A dataclass field with ``default``, given on the command line as ``name``; ``limits``:
    ``min`` / ``max`` of a number."""
    return field(default=default, metadata={OPTION: (name, help, limits)})


def option_of(f: Field) -> tuple[str, str, dict[str, float]] | None:
    """``(option, help, limits)`` of a field, or None when it is no command-line option."""
    return f.metadata.get(OPTION)
