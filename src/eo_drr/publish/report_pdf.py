"""The report as PDF (``pdf`` in a job's ``outputs.formats``): headless Chromium prints the
HTML report with its A4 print stylesheet to ``report.pdf`` next to ``report.html``.

Chromium is found on ``PATH`` (:data:`CHROMIUM_NAMES`); a job that asks for a PDF without it
fails before the run starts (:func:`check_pdf_format`), with the command that installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Collection
from pathlib import Path

from eo_drr.errors import ConfigError, OutputError
from eo_drr.publish.report_text import _
from eo_drr.publish.staging import OutputFolder

#: the ``outputs.formats`` value that asks for the PDF
PDF_FORMAT = "pdf"
#: names of a Chromium executable, in the order they are looked for on ``PATH``
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
#: how long Chromium may take to print one report (s)
PRINT_TIMEOUT_S = 180
#: how long the page's scripts (the map) may run before printing, in virtual time (ms)
SCRIPT_BUDGET_MS = 8000


def find_chromium() -> str | None:
    """The path of a Chromium executable on ``PATH``, or None."""
    return next((exe for name in CHROMIUM_NAMES if (exe := shutil.which(name))), None)


def check_pdf_format(formats: Collection[str]) -> None:
    """Refuse a job that asks for the PDF (``pdf`` in ``formats``) where no Chromium is
    installed: one :class:`~eo_drr.errors.ConfigError`, before any work."""
    if PDF_FORMAT in formats and find_chromium() is None:
        raise ConfigError(
            _(
                "outputs.formats: 'pdf' needs Chromium to print the report, and none was found "
                "({names} on PATH); install it (Debian, Ubuntu: apt-get install chromium) or "
                "remove 'pdf' from outputs.formats"
            ).format(names=", ".join(CHROMIUM_NAMES))
        )


def print_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print the report ``html_path`` to ``pdf_path`` (A4, the page's print stylesheet, no
    browser header or footer) with headless Chromium; return ``pdf_path``."""
    exe = find_chromium()
    if exe is None:
        check_pdf_format([PDF_FORMAT])
    with tempfile.TemporaryDirectory(prefix="eo-drr-chromium-") as profile:
        cmd = [
            str(exe),
            "--headless",
            "--no-sandbox",  # a local file eo-drr wrote, no network; root needs it
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={SCRIPT_BUDGET_MS}",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            res = None
    ok = res is not None and res.returncode == 0 and _is_pdf(pdf_path)
    if not ok:
        why = "timeout" if res is None else (res.stderr.strip().splitlines() or ["?"])[-1]
        raise OutputError(
            _("cannot print {html} to PDF with {exe}: {why}").format(
                html=html_path.name, exe=exe, why=why
            )
        )
    return pdf_path


def _is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(5) == b"%PDF-"
    except OSError:
        return False


def write_report_pdf(formats: Collection[str], out: OutputFolder, summary: dict) -> None:
    """When ``formats`` asks for it and the run wrote ``report.html``, print it to
    ``report.pdf`` in the (staged) output folder and name it in ``summary["outputs"]``."""
    html_path = out.path("report.html")
    if PDF_FORMAT not in formats or not html_path.is_file():
        return
    pdf_path = print_pdf(html_path, out.path("report.pdf"))
    summary.setdefault("outputs", {})["report_pdf"] = os.fspath(out.final(pdf_path.name))
