"""Crash safety of the catalogue and report writers: a writer SIGKILLed half-way through a
file leaves the old file byte for byte (never a partial one), and the hidden temporary file it
left behind is removed by the next run, while temporary files of live writers and files that
only look similar are kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from eo_drr.io.atomic import TEMP_NAME, atomic_write_text, clean_stale_temp_files, is_stale_temp
from eo_drr.publish import OutputFolder

TESTS = os.path.dirname(__file__)

#: In the child: the next atomic write of the target puts half of its bytes in the temp file
#: and stalls (other files are written normally).
STALL = """
import pathlib, time
real = pathlib.Path.write_bytes
def stalled(self, data):
    if not self.name.startswith("." + TARGET_STEM + "."):
        return real(self, data)
    with open(self, "wb") as fh:
        fh.write(data[: len(data) // 2]); fh.flush(); os.fsync(fh.fileno())
    print("STALLED", flush=True)
    time.sleep(120)
pathlib.Path.write_bytes = stalled
"""

WRITERS = {
    "catalog": (
        "catalog.json",
        """
        from test_stac_outputs import _flood, ASSETS
        from eo_drr.io import write_cog
        from eo_drr.publish.stac_outputs import CatalogNames, write_output_catalog
        write_cog(_flood(), folder / "flood_extent.tif", nodata=255)
        (folder / "table.csv").write_text("code,value\\nA,1.5\\n")
        (folder / "run.json").write_text(json.dumps({"job": "v1"}))
        write_output_catalog(folder, ASSETS, datetime="2024-11-05", names=CatalogNames(title="v1"))
        def second():
            (folder / "run.json").write_text(json.dumps({"job": "v2-" + "x" * 100000}))
            write_output_catalog(
                folder, ASSETS, datetime="2024-11-05", names=CatalogNames(title="v2-" + "y" * 100000)
            )
    """,
    ),
    "report": (
        "report.html",
        """
        from test_report import _report
        _report(folder / "report.html")
        def second():
            _report(folder / "report.html")
    """,
    ),
}


def _run_and_kill(kind: str, folder) -> tuple[subprocess.Popen, bytes]:
    target, body = WRITERS[kind]
    script = (
        "import os, sys, json, pathlib\n"
        f"sys.path.insert(0, {TESTS!r})\nfolder = pathlib.Path({str(folder)!r})\n"
        f"TARGET_STEM = {target.split('.')[0]!r}\n"
        + textwrap.dedent(body)
        + "\nprint('V1', flush=True)\ninput()\n"
        + STALL
        + "second()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "V1"
        v1 = (folder / target).read_bytes()
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "STALLED"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc, v1


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_writer_killed_mid_file_leaves_the_old_file(kind, tmp_path):
    target = WRITERS[kind][0]
    proc, v1 = _run_and_kill(kind, tmp_path)
    assert proc.returncode == -signal.SIGKILL
    assert (tmp_path / target).read_bytes() == v1  # the old file, whole
    left = [p for p in tmp_path.iterdir() if TEMP_NAME.match(p.name)]
    assert len(left) == 1, left  # the killed writer's half-written temp file
    m = TEMP_NAME.match(left[0].name)
    assert int(m.group("pid")) == proc.pid
    assert left[0].stat().st_size > 0
    assert is_stale_temp(left[0])
    OutputFolder(tmp_path).open()  # the next run cleans up at start
    assert not left[0].exists()
    assert (tmp_path / target).read_bytes() == v1


def test_cleanup_keeps_live_writers_and_lookalikes(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        keep_live = tmp_path / f".table.{live.pid}-abc123.tmp.csv"  # a live writer
        keep_live.write_text("x")
        keep_own = tmp_path / f".table.{os.getpid()}-zz9.tmp.csv"  # this process
        keep_own.write_text("x")
        reused = tmp_path / "sub" / f".old.{live.pid}-q1.tmp.tif"  # written before that pid started
        reused.parent.mkdir()
        reused.write_text("x")
        past = time.time() - 3600
        os.utime(reused, (past, past))
        lookalikes = [
            tmp_path / ".notes.tmp",
            tmp_path / "table.123-abc.tmp.csv",
            tmp_path / ".table.abc-1.tmp.csv",
        ]
        for p in lookalikes:
            p.write_text("x")
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        )
        gone = tmp_path / f".report.{int(dead.stdout)}-k_2.tmp.html"
        gone.write_text("half")
        removed = clean_stale_temp_files(tmp_path)
        assert sorted(removed) == sorted([gone, reused])
        for p in [keep_live, keep_own, *lookalikes]:
            assert p.exists(), p
        assert clean_stale_temp_files(tmp_path, recursive=False) == []
    finally:
        live.kill()
        live.wait()


def test_atomic_temp_names_carry_the_pid(tmp_path, monkeypatch):
    seen = []
    import eo_drr.io.atomic as A

    real = A.os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real(src, dst)

    monkeypatch.setattr(A.os, "replace", spy)
    atomic_write_text(tmp_path / "a.b.json", "{}")
    m = TEMP_NAME.match(seen[0])
    assert (
        m
        and int(m.group("pid")) == os.getpid()
        and m.group("ext") == ".json"
        and m.group("stem") == "a.b"
    )
