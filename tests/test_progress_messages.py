"""What a run says while it works: the first run's notes (demo scene, kernel compilation),
plain progress lines with the elapsed time when the output is no terminal, step names with
figures translated whole."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from eo_drr import i18n
from eo_drr.api import demo_job
from eo_drr.cli.render import ConsoleReporter
from eo_drr.engine import Event
from eo_drr.engine import first_run as fr
from eo_drr.engine.events import EventSteps


@pytest.fixture
def spanish():
    i18n.set_language("es")
    yield
    i18n.set_language("en")


def test_a_cold_kernel_cache_is_seen_without_numba(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert not fr.kernels_compiled()
    (folder,) = fr.kernel_cache_folders()
    assert folder.parent == tmp_path and folder.name.startswith("kernels_")
    folder.mkdir()
    (folder / "sar_cpu.speckle-10.py311.nbi").write_bytes(b"")
    assert fr.kernels_compiled()


def test_the_first_run_says_what_it_does(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.setenv("EO_DRR_CACHE", str(tmp_path / "cache"))
    events: list[Event] = []
    fr.first_run_notes(demo_job(size=512, seed=3), events.append)
    assert [e.kind for e in events] == ["note", "note"]
    scene, kernels = (e.text for e in events)
    assert scene.startswith("first run: generating the demo scene, about 5 s")
    assert str(tmp_path / "cache") in scene
    assert kernels == (
        f"first run: compiling the numerical kernels, about {fr.COMPILE_S} s; later runs reuse them"
    )
    monkeypatch.setattr(fr, "kernels_compiled", lambda: True)
    monkeypatch.setattr(fr, "_scene_missing", lambda cfg: None)
    events.clear()
    fr.first_run_notes(demo_job(), events.append)
    assert events == []  # later runs say nothing


def test_plain_progress_lines_have_the_elapsed_time_and_are_never_cut(spanish):
    buf = io.StringIO()
    console = Console(file=buf, width=40, force_terminal=False)
    steps_events: list[Event] = []
    with ConsoleReporter(console) as show:
        steps = EventSteps(lambda e: (steps_events.append(e), show(e)))
        with steps.step("New built-up (urban-growth model, {sensors})", sensors="Sentinel-2"):
            pass
        show(Event("note", "first run: " + "x" * 80))
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3, lines  # one line per event, however narrow the console
    assert all(re.match(r"\s+\d+\.\d s  ", line) for line in lines), lines
    assert "Nueva superficie construida (modelo de crecimiento urbano, Sentinel-2) ..." in lines[0]
    assert "━" not in buf.getvalue() and "…" not in buf.getvalue()
    # the step's name in the run's timings (run.json) stays English
    assert list(steps.timings) == ["New built-up (urban-growth model, Sentinel-2)"]
    assert steps_events[-1].seconds is not None
