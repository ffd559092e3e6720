"""The language of what eo-drr says: English, Spanish or Portuguese, through GNU gettext.

Every user-visible text is written in English in the code and looked up here:
``_("Flooded area (ha)")`` gives the text in the current language (the English itself when
there is no translation). Texts with figures are format strings, translated whole before the
figures go in: ``_("about {n} people").format(n=...)``. Texts kept in tables are marked with
:func:`N_` where they are defined (so that extraction finds them) and translated where used.

The current language is, in order: :func:`set_language` (the command line's ``--lang``), the
``EO_DRR_LANG`` environment variable, the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, the
first that is set: ``es_*`` Spanish, ``pt_*`` Portuguese, anything else English).

The catalogues are ``locale/<lang>/LC_MESSAGES/eo_drr.po`` next to this package, compiled to
``.mo`` files that are committed and installed with the package (``locale/README.md`` says how
to extract, update and compile them; tests/test_i18n.py checks that they are complete and
current). Files written (CSV, GeoParquet, ``run.json``, the STAC catalogue) stay in English
whatever the language: only what people read is translated.
"""

from __future__ import annotations

import gettext as _gettext
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from eo_drr.errors import InputError

#: the languages with a catalogue (English: the message ids themselves), with their own names
SUPPORTED = {"en": "English", "es": "español", "pt": "português"}
#: gettext domain of the catalogues
DOMAIN = "eo_drr"
#: folder of the catalogues: ``<lang>/LC_MESSAGES/eo_drr.mo``
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
#: the environment variable that picks the language
ENV = "EO_DRR_LANG"
#: the locale variables, in the order POSIX gives them precedence for messages
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")

log = logging.getLogger("eo_drr.i18n")


class _Current:
    """The language in use (None: not chosen yet) and its catalogue."""

    lang: str | None = None
    translations: _gettext.NullTranslations = _gettext.NullTranslations()


_current = _Current()


class Choice(NamedTuple):
    """The language a run uses, and a note to show when a locale had to fall back to English."""

    lang: str
    note: str = ""


def supported_text() -> str:
    """``en (English), es (español), pt (português)``."""
    return ", ".join(f"{code} ({name})" for code, name in SUPPORTED.items())


def normalize(value: str) -> str:
    """``es_MX.UTF-8`` / ``pt-BR`` / ``ES`` -> ``es`` / ``pt`` / ``es``: the language part."""
    return value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].strip().lower()


def checked(value: str, source: str) -> str:
    """The supported language that ``value`` names (``source``: where it came from, e.g.
    ``--lang``); anything else is an :class:`~eo_drr.errors.InputError` that lists them."""
    lang = normalize(value)
    if lang not in SUPPORTED:
        raise InputError(  # in the language chosen so far: choosing one must not recurse
            _current.translations.gettext(
                "{source}: language {value!r} is not supported; use one of: {supported}"
            ).format(source=source, value=value, supported=supported_text())
        )
    return lang


def from_environment(environ: dict[str, str] | os._Environ[str] = os.environ) -> Choice:
    """The language of ``EO_DRR_LANG`` (checked), else of the locale: ``C``, ``POSIX`` and
    locales without a catalogue give English, the latter with a note."""
    if environ.get(ENV):
        return Choice(checked(environ[ENV], ENV))
    value = next((environ[v] for v in LOCALE_VARS if environ.get(v)), "")
    lang = normalize(value)
    if lang in SUPPORTED:
        return Choice(lang)
    if lang in ("", "c", "posix"):
        return Choice("en")
    return Choice(
        "en",
        _current.translations.gettext(
            "note: no translation for the locale {locale}; messages are in English "
            "(supported: {supported}; choose with --lang or {env})"
        ).format(locale=value, supported=supported_text(), env=ENV),
    )


def set_language(lang: str) -> str:
    """Use ``lang`` (``en``, ``es`` or ``pt``; checked) from now on; returns the code."""
    code = checked(lang, "language")
    _current.translations = (
        _gettext.translation(DOMAIN, LOCALE_DIR, languages=[code])
        if code != "en"
        else _gettext.NullTranslations()
    )
    _current.lang = code
    return code


def language() -> str:
    """The current language's code."""
    _translations()
    return _current.lang or "en"


def _translations() -> _gettext.NullTranslations:
    if _current.lang is None:
        try:
            set_language(from_environment().lang)
        except InputError as exc:  # a library call: say so in the log, never fail a lookup
            log.warning(_current.translations.gettext("{error}; using English").format(error=exc))

            set_language("en")
    return _current.translations


def gettext(message: str) -> str:
    """``message`` in the current language (itself when it has no translation)."""
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return _translations().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined (a table); translate it where it
    is shown, with :func:`gettext`."""
    return message


_ = gettext

#: the values of ``{name}`` fields in command-line help texts (``{events}``: the bundled event
#: jobs), put in after translation; each is called only where a help text names it
HELP_FIELDS: dict[str, Callable[[], str]] = {}

__all__ = [
    "HELP_FIELDS",
    "SUPPORTED",
    "Choice",
    "N_",
    "from_environment",
    "gettext",
    "language",
    "ngettext",
    "set_language",
    "supported_text",
]
