"""The base of every job-file model: frozen, unknown keys refused, strings stripped, and a
YAML boolean never taken for a number."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from eo_drr.i18n import gettext as _


def _is_number(annotation: Any) -> bool:
    """True for int / float annotations (optionally with None), not for bool."""
    from typing import get_args

    kinds = {a for a in (get_args(annotation) or (annotation,)) if a is not type(None)}
    return bool(kinds) and kinds <= {int, float}


class ConfigModel(BaseModel):
    """A frozen job-file model: unknown keys are errors, strings are stripped."""

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
                    raise ValueError(
                        _("{name}: expected a number, got {value}").format(
                            name=name, value=str(value).lower()
                        )
                    )
        return data
