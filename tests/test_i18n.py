"""Spanish and Portuguese: complete, current catalogues; ``--lang``, ``EO_DRR_LANG`` and the
locale choose the language; an unsupported ``--lang`` is one clear error."""

from __future__ import annotations

import fnmatch
import gettext
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

babel = pytest.importorskip("babel")
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir  # noqa: E402
from babel.messages.frontend import parse_mapping_cfg  # noqa: E402
from babel.messages.mofile import write_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

from eo_drr import i18n  # noqa: E402
from eo_drr.errors import InputError  # noqa: E402
from eo_drr.i18n import maintain  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "eo_drr" / "locale"
LANGS = ("es", "pt")
#: the keywords of the extraction (the same as in src/eo_drr/locale/README.md)
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "step": None, "option": (2,)}
UPDATE = "run the commands in src/eo_drr/locale/README.md (extract, update, translate, compile)"


def _po(lang: str):
    with open(LOCALE / lang / "LC_MESSAGES" / "eo_drr.po", "rb") as f:
        return read_po(f, locale=lang)


def _ids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def _extracted() -> set[str]:
    with open(LOCALE / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = extract_from_dir(ROOT, method_map, options_map, keywords=KEYWORDS)
    return {msg if isinstance(msg, str) else msg[0] for _, _, msg, _, _ in found if msg}


def eo_drr(*args: str, **env: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("eo-drr")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "eo_drr.cli.main"]
    base = {k: v for k, v in os.environ.items() if k not in ("EO_DRR_LANG", *i18n.LOCALE_VARS)}
    return subprocess.run(
        cmd + list(args),
        capture_output=True,
        text=True,
        env={**base, "COLUMNS": "200", "NO_COLOR": "1", **env},
        timeout=120,
    )


# -- the catalogues -------------------------------------------------------------------------
def test_the_catalogues_hold_every_message_of_the_code():
    code = _extracted()
    with open(LOCALE / "eo_drr.pot", "rb") as f:
        template = _ids(read_po(f))
    assert code - template == set(), (
        f"new messages not in eo_drr.pot: {sorted(code - template)}; {UPDATE}"
    )
    assert template - code == set(), (
        f"eo_drr.pot has messages the code lost: {sorted(template - code)}; {UPDATE}"
    )
    for lang in LANGS:
        assert _ids(_po(lang)) == template, f"{lang}: eo_drr.po differs from eo_drr.pot; {UPDATE}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_has_a_translation(lang):
    catalog = _po(lang)
    assert catalog.locale is not None and str(catalog.locale) == lang
    untranslated = [
        m.id
        for m in catalog
        if m.id
        and (
            m.fuzzy
            or not all(s.strip() for s in ([m.string] if isinstance(m.string, str) else m.string))
        )
    ]
    assert untranslated == [], f"{lang}: empty or fuzzy: {untranslated}"
    assert not catalog.obsolete, f"{lang}: obsolete entries: {list(catalog.obsolete)}"
    # the texts are str.format texts: each translation keeps the msgid's {placeholders}
    # (Babel's own check takes "12 % of" for a printf "% o" and is not used)
    errors = []
    for m in catalog:
        ids, texts = maintain._texts(m.id), maintain._texts(m.string)
        if m.id:  # the first form against the msgid, the plural forms against msgid_plural
            wanted = ids[:1] + ids[-1:] * (len(texts) - 1)
            errors += [m.id for t, w in zip(texts, wanted) if not maintain._same_placeholders(t, w)]
    assert errors == [], f"{lang}: placeholders differ: {errors}"


#: European-Portuguese-only words; the pt catalogue is Brazilian Portuguese (registro, arquivo,
#: tela, usuário, úmidas, fato, equipe, contato, atual, ação, baixar)
EUROPEAN_PT = re.compile(
    r"(?<!\w)(registos?|ficheiros?|ecrãs?|utilizador(?:es)?|húmidas?|factos?|equipas?"
    r"|contactos?|actua(?:l|is)|acç(?:ão|ões)|descarregar)(?!\w)",
    re.IGNORECASE,
)


def test_the_portuguese_catalogue_is_brazilian():
    # whole words only: no match inside registro, fato, atualizar, contato, equipamento
    assert EUROPEAN_PT.findall("o Ficheiro actual; registro, atualizar, equipamento") == [
        "Ficheiro",
        "actual",
    ]
    found = {
        m.id if isinstance(m.id, str) else m.id[0]: hits
        for m in _po("pt")
        if m.id
        and (
            hits := EUROPEAN_PT.findall(
                " ".join([m.string] if isinstance(m.string, str) else m.string)
            )
        )
    }
    assert found == {}, f"pt: European Portuguese forms (msgid: words): {found}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_compiled_catalogues_are_current(lang):
    buf = io.BytesIO()
    write_mo(buf, _po(lang))
    fresh = gettext.GNUTranslations(io.BytesIO(buf.getvalue()))
    with open(LOCALE / lang / "LC_MESSAGES" / "eo_drr.mo", "rb") as f:
        committed = gettext.GNUTranslations(f)
    assert committed._catalog == fresh._catalog, f"{lang}: eo_drr.mo is stale; {UPDATE}"  # type: ignore[attr-defined]


def test_the_compiled_catalogues_are_package_data():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    for lang in LANGS:
        mo = f"locale/{lang}/LC_MESSAGES/eo_drr.mo"
        assert any(fnmatch.fnmatch(mo, g) for g in data["eo_drr"]), f"{mo} is not package data"


# -- choosing the language --------------------------------------------------------------------
@pytest.mark.parametrize(
    "env,lang,note",
    [
        ({}, "en", False),
        ({"LANG": "C.UTF-8"}, "en", False),
        ({"LANG": "POSIX"}, "en", False),
        ({"LANG": "en_US.UTF-8"}, "en", False),
        ({"LANG": "es_MX.UTF-8"}, "es", False),
        ({"LANG": "pt_BR.UTF-8"}, "pt", False),
        ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "es_CO.UTF-8"}, "es", False),
        ({"LC_ALL": "pt_PT.UTF-8", "LANG": "es_ES.UTF-8"}, "pt", False),
        ({"LANG": "fr_FR.UTF-8"}, "en", True),
        ({"EO_DRR_LANG": "pt", "LANG": "es_ES.UTF-8"}, "pt", False),
        ({"EO_DRR_LANG": "es-AR"}, "es", False),
    ],
)
def test_the_language_comes_from_eo_drr_lang_then_the_locale(env, lang, note):
    choice = i18n.from_environment(env)
    assert choice.lang == lang
    assert bool(choice.note) == note
    if note:
        assert "fr_FR.UTF-8" in choice.note and "English" in choice.note


def test_an_unsupported_eo_drr_lang_is_refused_with_the_supported_ones():
    with pytest.raises(InputError, match=r"EO_DRR_LANG.*'fr'.*en \(English\), es .*, pt "):
        i18n.from_environment({"EO_DRR_LANG": "fr"})


def test_the_python_api_switches_language():
    try:
        i18n.set_language("es")
        assert i18n.gettext("Flooded area (ha)") == "Superficie inundada (ha)"
        from eo_drr.sendai.names import indicator_label
        from eo_drr.sendai.sfm import INDICATORS

        label = indicator_label(INDICATORS[0])
        assert "proxy EO" in label and "personas directamente afectadas" in label
        i18n.set_language("pt")
        assert "pessoas diretamente afetadas" in indicator_label(INDICATORS[0])
        assert i18n.gettext("not flooded") == "não inundado"
    finally:
        i18n.set_language("en")
    assert i18n.gettext("Flooded area (ha)") == "Flooded area (ha)"


# -- the command line -------------------------------------------------------------------------
def test_lang_es_shows_the_help_in_spanish():
    res = eo_drr("--lang", "es", "--help")
    assert res.returncode == 0, res.stderr
    assert "Mostrar las trazas completas" in res.stdout  # --debug
    assert "Ejecutar un archivo de trabajo" in res.stdout  # run
    res = eo_drr("run", "--help", "--lang", "pt")  # anywhere on the line
    assert res.returncode == 0, res.stderr
    assert "Executar um arquivo de trabalho" in res.stdout


def test_help_with_a_list_is_translated_whole():
    """``--event``'s help is one format string: translated, then the event names go in."""
    from eo_drr.api.job_files import event_names

    res = eo_drr("init", "--help", "--lang", "es")
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.replace("│", " ").split())
    assert "Escribir el trabajo de este evento en lugar del trabajo de demostración:" in text
    assert all(name in text for name in event_names()) and "{events}" not in text


def test_eo_drr_lang_and_the_locale_choose_the_language():
    res = eo_drr("run", "--help", EO_DRR_LANG="pt")
    assert "Executar um arquivo de trabalho" in res.stdout
    res = eo_drr("demo", "--help", LANG="es_ES.UTF-8")
    assert "Ejecutar el trabajo de demostración" in res.stdout and res.stderr == ""
    res = eo_drr("demo", "--help", LANG="C.UTF-8")
    assert "Run the bundled demo job" in res.stdout and res.stderr == ""
    res = eo_drr("demo", "--help", LANG="de_DE.UTF-8")
    assert res.returncode == 0 and "Run the bundled demo job" in res.stdout
    assert res.stderr.count("note: no translation for the locale de_DE.UTF-8") == 1


def test_an_unsupported_lang_is_one_error_listing_the_supported_ones():
    res = eo_drr("--lang", "fr", "versions")
    assert res.returncode != 0 and "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --lang: language 'fr'")
    assert "en (English), es (español), pt (português)" in lines[0]


def test_user_errors_are_translated(tmp_path):
    res = eo_drr("--lang", "pt", "run", str(tmp_path / "missing.yaml"))
    assert res.returncode != 0
    assert res.stderr.startswith("erro: ") and "o arquivo de trabalho não existe" in res.stderr
    res = eo_drr("search", "--collection", "sentinel-1-rtc", "--bbox", "1,2", "--lang", "es")
    assert res.stderr.startswith("error: --bbox: se esperaban números O,S,E,N"), res.stderr
