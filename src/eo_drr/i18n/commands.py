"""The command line in the user's language: ``--lang`` on every command, and the help texts
(the app's, each command's docstring, each option's ``help=``) translated before click
parses anything, so that ``eo-drr --lang es --help`` is Spanish too (the framework's own
words, "Usage:", "Options", its errors: :mod:`eo_drr.i18n.framework`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from eo_drr.i18n import (
    HELP_FIELDS,
    N_,
    SUPPORTED,
    Choice,
    checked,
    from_environment,
    gettext,
    set_language,
)
from eo_drr.i18n.framework import localize

OPTION = "--lang"
#: the option as the app's callback declares it (for the help; :class:`LangGroup` takes its
#: value before click parses, wherever it is on the line, so the callback always gets None)
LangOption = Annotated[
    str | None,
    typer.Option(
        OPTION,
        metavar="|".join(SUPPORTED),
        help=N_(
            "Language of messages, help and reports: en, es or pt (default: EO_DRR_LANG, "
            "then the locale). Works on every command."
        ),
    ),
]


def take_language(args: Sequence[str]) -> tuple[str | None, list[str]]:
    """The value of ``--lang X`` / ``--lang=X`` anywhere before ``--`` (the last one given), and
    the other arguments. A ``--lang`` without a value is left for click to refuse."""
    value: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg.startswith(OPTION + "="):
            value = arg.split("=", 1)[1]
        elif arg == OPTION and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        else:
            rest.append(arg)
        i += 1
    return value, rest


def choose_language(args: Sequence[str]) -> list[str]:
    """Set the language of ``args``' ``--lang``, else of EO_DRR_LANG or the locale (a locale
    without a catalogue: English, and a note on stderr); returns the other arguments."""
    value, rest = take_language(args)
    choice = Choice(checked(value, OPTION)) if value is not None else from_environment()
    set_language(choice.lang)
    if choice.note:
        typer.echo(choice.note, err=True)
    return rest


def filled(text: str) -> str:
    """``text`` with its ``{name}`` fields of :data:`~eo_drr.i18n.HELP_FIELDS` filled in;
    other braces stay as they are."""
    return re.sub(
        r"\{(\w+)\}", lambda m: HELP_FIELDS[m[1]]() if m[1] in HELP_FIELDS else m[0], text
    )


def translate_help(command: Any) -> None:
    """Translate the help texts of a click ``command``, its parameters and its subcommands in
    place (by attribute: typer >= 0.22 builds them with its own copy of click), then fill in
    their fields (:func:`filled`)."""
    for obj in (command, *command.params):
        for attr in ("help", "short_help"):
            text = getattr(obj, attr, None)
            if text:
                setattr(obj, attr, filled(gettext(text)))
    for sub in getattr(command, "commands", {}).values():
        translate_help(sub)


class LangGroup(TyperGroup):
    """The ``eo-drr`` group: takes ``--lang`` anywhere on the line, sets the language before
    parsing, and shows its commands' help in that language."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        if parent is None:
            args = choose_language(args)
            translate_help(self)
            localize(self)
        return super().make_context(info_name, args, parent=parent, **extra)


__all__ = ["LangGroup", "LangOption", "choose_language", "take_language", "translate_help"]
