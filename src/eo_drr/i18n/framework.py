"""The command-line framework's own words in the user's language: typer's help panels
("Options", "Commands", ...), click's "Usage:" and help option, and click's usage errors
("Missing option '--s1'.", "No such option: --x", ...).

Typer >= 0.22 runs on its own copy of click, which has no gettext calls, and typer takes the
titles of its help panels from module constants (``typer.rich_utils``) set once, at import;
so these words cannot come through a gettext domain of click's. Instead, once the language is
chosen, :func:`localize` sets typer's constants from eo-drr's catalogue and gives every
command a :class:`LangContext` (its usage line and help option in the current language), and
:func:`usage_error_text` writes a click usage error as click does, in the current language,
by matching click's English message against :data:`CLICK_MESSAGES`. Unknown messages (a new
click wording, a type's own explanation) stay in English.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from typer.core import TyperGroup

from eo_drr.i18n import N_, gettext

#: typer's help and error words: the ``typer.rich_utils`` constant, and its English text
TYPER_WORDS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
}
#: click's usage line prefix and the help of its ``--help`` option
USAGE = N_("Usage:")
HELP_OPTION = N_("Show this message and exit.")

#: click's (and typer's) English usage-error messages, as templates (a ``{name}`` stands for
#: any text), the more specific of two that could both match first
CLICK_MESSAGES = (
    N_("Missing option {name}. {reason}"),
    N_("Missing argument {name}. {reason}"),
    N_("Missing option {name}."),
    N_("Missing argument {name}."),
    N_("Missing parameter {name}."),
    N_("Missing command."),
    N_("No such command {name}."),
    N_("No such option: {name} (Possible options: {options})"),
    N_("No such option: {name} Did you mean {option}?"),
    N_("No such option: {name}"),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {n} arguments."),
    N_("Option {name} does not take a value."),
    N_("Argument {name} takes {n} values."),
    N_("Got unexpected extra argument ({args})"),
    N_("Got unexpected extra arguments ({args})"),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Invalid value for {name}: {reason}"),
    N_("Invalid value: {reason}"),
)
#: the ``{reason}`` of an invalid value, as click's types (and typer's, through pydantic)
#: word it
REASONS = (
    N_("{value} is not one of {choices}."),
    N_("{value} is not a valid integer."),
    N_("{value} is not a valid float."),
    N_("{value} is not in the range {range}."),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be greater than or equal to {n}"),
    N_("Input should be less than or equal to {n}"),
    N_("Path {path} does not exist."),
    N_("File {path} does not exist."),
    N_("Directory {path} does not exist."),
)


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """``template`` as a regular expression that matches its English message whole."""
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        + r"\Z",
        re.S,
    )


def translate_message(message: str, templates: tuple[str, ...] = CLICK_MESSAGES) -> str:
    """A click usage-error ``message`` in the current language: that of the first of
    ``templates`` that matches it, its ``{reason}`` translated by :data:`REASONS` (a message
    none matches stays as it is)."""
    for template in templates:
        m = _pattern(template).match(message)
        if m:
            fields = {
                k: translate_message(v, REASONS) if k == "reason" else v
                for k, v in m.groupdict().items()
            }
            return gettext(template).format(**fields)
    return message


def usage_error_text(exc: Any) -> str:
    """What click shows for the usage error ``exc`` (a ``ClickException`` of click's or of
    typer's copy): the usage line and the hint to ``--help`` when it has a context, then
    ``Error: ...``, in the current language."""
    text = ""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = gettext("Try '{command} {option}' for help.").format(
                command=ctx.command_path, option=ctx.help_option_names[0]
            )
            hint += "\n"
        text = f"{ctx.get_usage()}\n{hint}\n"
    return text + gettext("Error: {message}").format(
        message=translate_message(exc.format_message())
    )


#: the context class of typer's commands (click's, or that of typer's own copy of click)
_Context: Any = TyperGroup.context_class


class LangFormatter(_Context.formatter_class):
    """Click's help formatter, its ``Usage:`` in the current language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, gettext(USAGE) + " " if prefix is None else prefix)


class LangContext(_Context):
    """The context of an eo-drr command: its usage line and the help of its ``--help``
    option in the current language."""

    formatter_class = LangFormatter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        option = self.command.get_help_option(self)
        if option is not None:  # click >= 8.2 and typer's copy keep this object
            option.help = gettext(HELP_OPTION)
            _no_flag_badge(option)


def localize(command: Any) -> None:
    """Put typer's help words in the current language, and make ``command`` and its
    subcommands run in a :class:`LangContext`."""
    import typer.rich_utils as rich_utils

    for name, english in TYPER_WORDS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, gettext(english))
    _use_context(command)


def _no_flag_badge(param: Any) -> None:
    """An on/off flag takes no value: no ``<bool>`` after its name in the help (typer >= 0.20
    shows one for every option)."""
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        param.metavar = param.metavar or ""


def _use_context(command: Any) -> None:
    command.context_class = LangContext
    for param in getattr(command, "params", ()):
        _no_flag_badge(param)
    for sub in getattr(command, "commands", {}).values():
        _use_context(sub)


__all__ = ["LangContext", "localize", "translate_message", "usage_error_text"]
