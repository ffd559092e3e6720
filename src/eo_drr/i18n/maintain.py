"""Bring the message catalogues up to date with the code (maintainers only; needs Babel, a
test dependency): extract, update, fill new entries from translation files, compile.

    python -m eo_drr.i18n.maintain                      # extract + update + compile
    python -m eo_drr.i18n.maintain new-es-pt.json ...   # ... and fill new entries from JSON

Run from the repository root. A translation file is JSON: ``{"<English msgid>": {"es": "...",
"pt": "..."}}``; a plural message adds ``"msgid_plural"``, ``"es_plural"`` and ``"pt_plural"``
(the plural text fills every plural form after the first). A translation is taken only when
its ``{placeholders}`` are those of the msgid. Entries already translated are left alone.

eo-drr's messages are ``str.format`` texts (``python-brace-format``). Babel also takes a text
for a printf-style one when it merely contains ``%`` before a letter ("12 % of the pixels"),
and ``pybabel compile`` then refuses a translation whose ``%`` is followed by another letter
("12 % de"). So this compiles the ``.mo`` files itself (Babel's ``write_mo``, as
tests/test_i18n.py does) after checking that each translation keeps the msgid's
``{placeholders}``.

Prints what is still untranslated and exits 1 when something is (translate those entries in
``locale/<lang>/LC_MESSAGES/eo_drr.po`` by hand, then run this again).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from eo_drr.i18n import DOMAIN, LOCALE_DIR, SUPPORTED

#: the extraction keywords beyond Babel's defaults (see src/eo_drr/locale/README.md)
KEYWORDS = ("-k", "N_", "-k", "step", "-k", "option:2")
#: line width of the catalogues
WIDTH = 100
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _run(*args: str) -> None:
    subprocess.run(args, check=True)


def _read(path: Path, lang: str | None = None) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f, locale=lang)


def _write(path: Path, catalog: Catalog) -> None:
    with open(path, "wb") as f:
        write_po(f, catalog, width=WIDTH, ignore_obsolete=True, omit_header=False)


def _same_placeholders(text: str, msgid: str) -> bool:
    return sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid))


def _texts(value: object) -> list[str]:
    """A message's id or translation as a list (one text, or the plural forms)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]  # type: ignore[attr-defined]


def _compile(mo: Path, catalog: Catalog) -> None:
    """Write ``mo`` from ``catalog`` after checking every translation's placeholders."""
    for message in catalog:
        ids, texts = _texts(message.id), _texts(message.string)
        for text in filter(None, texts):
            if not _same_placeholders(
                text, ids[-1] if len(ids) > 1 and text != texts[0] else ids[0]
            ):
                raise SystemExit(f"{mo}: {ids[0]!r}: the translation's placeholders differ")
    with open(mo, "wb") as f:
        write_mo(f, catalog)


def _fill(catalog: Catalog, lang: str, translations: dict[str, dict]) -> list[str]:
    """Fill the empty entries of ``catalog`` from ``translations``; the msgids left empty."""
    missing = []
    for message in catalog:
        if not message.id:
            continue
        msgid = _texts(message.id)[0]
        forms = _texts(message.string)
        if forms and all(forms):
            continue
        entry = translations.get(msgid, {})
        text, plural = entry.get(lang), entry.get(f"{lang}_plural")
        if not text or not _same_placeholders(text, msgid):
            missing.append(msgid)
        elif isinstance(message.id, str):
            message.string = text
        elif plural:
            message.string = (text,) + (plural,) * (len(forms) - 1)
        else:
            missing.append(msgid)
    return missing


def update(translation_files: list[Path]) -> dict[str, list[str]]:
    """Extract, update, fill and compile; the msgids still untranslated per language."""
    pot = LOCALE_DIR / f"{DOMAIN}.pot"
    _run(
        "pybabel", "extract", "-F", str(LOCALE_DIR / "babel.cfg"), *KEYWORDS, "--no-location",
        "--sort-output", "-w", str(WIDTH), "-o", str(pot), ".",
    )  # fmt: skip
    _run(
        "pybabel", "update", "-i", str(pot), "-d", str(LOCALE_DIR), "-D", DOMAIN,
        "-w", str(WIDTH), "--no-fuzzy-matching", "--ignore-obsolete",
    )  # fmt: skip
    translations: dict[str, dict] = {}
    for path in translation_files:
        for msgid, entry in json.loads(path.read_text(encoding="utf-8")).items():
            translations.setdefault(msgid, entry)
    missing = {}
    for lang in sorted(set(SUPPORTED) - {"en"}):
        po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog = _read(po, lang)
        missing[lang] = _fill(catalog, lang, translations)
        _write(po, catalog)
        _compile(po.with_suffix(".mo"), catalog)
    return missing


def main(argv: list[str] | None = None) -> int:
    missing = update([Path(p) for p in (sys.argv[1:] if argv is None else argv)])
    for lang, ids in missing.items():
        for msgid in ids:
            print(f"{lang}: untranslated: {msgid!r}")
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
