"""The command-line framework's own words (click's and typer's: "Usage:", "Options",
"Show this message and exit.", "Missing option", "Error") and the ledger tables of
``eo-drr status`` follow ``--lang``, and stay click's exact English without it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from eo_drr import i18n
from eo_drr.i18n import framework
from eo_drr.jobs.ledger import JobLedger


def eo_drr(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("eo-drr")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "eo_drr.cli.main"]
    env = {k: v for k, v in os.environ.items() if k not in ("EO_DRR_LANG", *i18n.LOCALE_VARS)}
    return subprocess.run(
        cmd + list(args),
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
        timeout=120,
    )


def test_help_shows_the_framework_words_in_spanish():
    res = eo_drr("--lang", "es", "--help")
    assert res.returncode == 0, res.stderr
    for word in ("Uso: eo-drr", "Opciones", "Comandos", "Mostrar este mensaje y salir."):
        assert word in res.stdout, f"{word!r} missing from:\n{res.stdout}"
    for word in ("Usage:", "Options", "Commands", "Show this message and exit."):
        assert word not in res.stdout, f"{word!r} left in English:\n{res.stdout}"


def test_a_missing_option_is_reported_in_portuguese():
    res = eo_drr("--lang", "pt", "water")
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "Uso: eo-drr water [OPTIONS]",
        "Tente 'eo-drr water --help' para obter ajuda.",
        "",
        "Erro: Falta a opção '--s1'.",
    ]


def test_an_invalid_value_is_reported_in_spanish_with_its_reason():
    res = eo_drr("--lang", "es", "demo", "--size", "9")
    assert res.returncode == 2
    assert res.stderr.splitlines()[-1] == (
        "Error: Valor no válido para '--size': El valor debe ser mayor o igual que 64"
    )


@pytest.mark.parametrize("template", framework.CLICK_MESSAGES + framework.REASONS)
def test_each_click_message_is_matched_by_its_own_template(monkeypatch, template):
    """A message is translated through the template it was written from, not a shorter one
    that also matches (``Missing option X.`` must not swallow ``Missing option X. Why``)."""
    # the "translation" of a template is the template itself, its fields left unfilled
    monkeypatch.setattr(framework, "gettext", lambda t: t.replace("{", "{{").replace("}", "}}"))
    message = template.format(**{name: f"<{name}>" for name in re.findall(r"\{(\w+)\}", template)})
    templates = framework.REASONS if template in framework.REASONS else framework.CLICK_MESSAGES
    assert framework.translate_message(message, templates) == template


def test_an_unknown_click_message_stays_as_it_is():
    assert framework.translate_message("Something click says now.") == "Something click says now."


def test_without_lang_the_usage_error_is_clicks_own_english():

    res = eo_drr("water")
    assert res.returncode == 2
    assert res.stderr == (
        "Usage: eo-drr water [OPTIONS]\n"
        "Try 'eo-drr water --help' for help.\n"
        "\n"
        "Error: Missing option '--s1'.\n"
    )


@pytest.fixture
def ledger_folder(tmp_path: Path) -> Path:
    """A tiled job's output folder: two tiles done, one failed, one finished run."""
    ledger = JobLedger(tmp_path)
    ledger.register_job("demo", "flood", "hash", 512, "EPSG:32617")
    run = ledger.start_run("demo")
    for tile in ("x0_y0", "x1_y0", "x2_y0"):
        ledger.register_tile("demo", tile, "f1", (0, 0, 1, 1), ["s1:a"])
        ledger.mark_running("demo", tile, "f1")
    for tile in ("x0_y0", "x2_y0"):
        ledger.mark_done("demo", tile, "f1", [], seconds=1.0, peak_rss_mb=100)
    ledger.mark_failed("demo", "x1_y0", "f1", "CorruptInputError: bad.tif")
    ledger.finish_run(run, "failed", 2, 0, 1)
    return tmp_path


def test_status_table_in_spanish(ledger_folder: Path):
    res = eo_drr("--lang", "es", "status", str(ledger_folder))
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert (
        "Trabajo 'demo' (flood, teselas de 512 px en EPSG:32617): 2 terminadas, 1 con error" in out
    )
    for word in ("tesela", "estado", "intentos", "Últimas ejecuciones", "ejecutadas", "terminada "):
        assert word in out, f"{word!r} missing from:\n{out}"
    for word in ("Job 'demo'", "attempts", "Last runs", "2 done"):
        assert word not in out, f"{word!r} left in English:\n{out}"


def test_status_table_in_english(ledger_folder: Path):
    res = eo_drr("status", str(ledger_folder))
    assert res.returncode == 0, res.stderr
    assert "Job 'demo' (flood, tiles of 512 px on EPSG:32617): 2 done, 1 failed" in res.stdout

    assert "attempts" in res.stdout and "Last runs" in res.stdout
