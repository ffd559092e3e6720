"""The job ledger: fingerprints, the done-only-when-verified rule, attempts, WAL, the lock."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest

from eo_drr.config import parse_config
from eo_drr.engine.tile_plan import config_hash
from eo_drr.errors import OutputError
from eo_drr.jobs.ledger import LEDGER_NAME, JobLedger, JobLock, fingerprint, record_outputs

JOB = "j"


def _cfg(**changes):
    data = {
        "name": "j",
        "aoi": {"bbox": [0, 0, 1, 1]},
        "time": {"post": {"start": "2024-01-01", "end": "2024-01-02"}},
        "sources": {},
    }
    for k, v in changes.items():
        data[k] = v
    return parse_config(data)


def test_fingerprint_follows_inputs_settings_and_tile_only():
    fp = fingerprint("c", "x1_y2", (0, 0, 10, 10), ["b", "a"])
    assert fp == fingerprint("c", "x1_y2", (0, 0, 10, 10), ["a", "b"])  # order does not matter
    assert fp != fingerprint("c", "x1_y2", (0, 0, 10, 10), ["a", "b", "new"])
    assert fp != fingerprint("d", "x1_y2", (0, 0, 10, 10), ["a", "b"])
    assert fp != fingerprint("c", "x1_y3", (0, 0, 10, 10), ["a", "b"])
    # where the job runs and writes does not change results; processing settings do
    base = config_hash(_cfg())
    assert (
        config_hash(
            _cfg(
                cluster={"kind": "processes"},
                outputs={"dir": "elsewhere"},
                tiling={"tile_size_px": 256},
                description="x",
            )
        )
        == base
    )
    assert config_hash(_cfg(time={"post": {"start": "2024-01-01", "end": "2024-01-09"}})) == base
    assert config_hash(_cfg(grid={"resolution": 20})) != base
    assert config_hash(_cfg(products={"flood": {"hand_max_m": 10}})) != base


def _done_tile(tmp_path, ledger, tile="x0_y0", fp="f1"):
    d = tmp_path / "tiles" / tile
    d.mkdir(parents=True)
    (d / "a.tif").write_bytes(b"raster bytes")
    (d / "t.csv").write_text("code,v\n1,2\n")
    ledger.register_tile(JOB, tile, fp, (0, 0, 1, 1), ["s1:post"])
    ledger.mark_running(JOB, tile, fp)
    assert ledger.verified_done(JOB, tile, fp) == (False, "running")
    ledger.mark_done(
        JOB, tile, fp, record_outputs(tmp_path, d.iterdir()), seconds=1.0, peak_rss_mb=100
    )
    return d


def test_done_only_while_outputs_verify(tmp_path):
    ledger = JobLedger(tmp_path)
    d = _done_tile(tmp_path, ledger)
    assert ledger.verified_done(JOB, "x0_y0", "f1") == (True, "")
    (d / "a.tif").write_bytes(b"raster bytez")  # same size, other bytes
    ok, why = ledger.verified_done(JOB, "x0_y0", "f1")
    assert not ok and "checksum" in why
    (d / "a.tif").unlink()
    ok, why = ledger.verified_done(JOB, "x0_y0", "f1")
    assert not ok and "missing" in why
    assert ledger.verified_done(JOB, "x0_y0", "other-fingerprint") == (False, "not done")


def test_new_fingerprint_supersedes_and_attempts_count(tmp_path):
    ledger = JobLedger(tmp_path)
    _done_tile(tmp_path, ledger)
    ledger.register_tile(JOB, "x0_y0", "f2", (0, 0, 1, 1), ["s1:newer"])
    rows = ledger.tiles(JOB)
    assert [(r["fingerprint"], r["status"]) for r in rows] == [("f2", "pending")]
    assert {r["fingerprint"] for r in ledger.tiles(JOB, current_only=False)} == {"f1", "f2"}
    for _ in range(2):
        ledger.mark_running(JOB, "x0_y0", "f2")
        ledger.mark_failed(JOB, "x0_y0", "f2", "CorruptInputError: bad.tif")
    row = ledger.tile(JOB, "x0_y0", "f2")
    assert row["attempts"] == 2 and row["status"] == "failed" and "bad.tif" in row["error"]
    assert ledger.reset_attempts(JOB) == 1 and ledger.tile(JOB, "x0_y0", "f2")["attempts"] == 0
    assert ledger.counts(JOB) == {"pending": 0, "running": 0, "done": 0, "failed": 1}


def test_wal_mode_and_schema(tmp_path):
    JobLedger(tmp_path)
    con = sqlite3.connect(tmp_path / LEDGER_NAME)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"jobs", "tiles", "outputs", "runs"} <= tables
    with pytest.raises(sqlite3.IntegrityError):  # statuses are checked by the database
        con.execute(
            "INSERT INTO tiles (job, tile_id, fingerprint, status, bounds, inputs, updated_at) "
            "VALUES ('j', 't', 'f', 'half-done', '[]', '[]', 0)"
        )
    con.close()


def _try_lock(root, q):
    try:
        JobLock(root).acquire()
        q.put("acquired")
    except OutputError as exc:
        q.put(str(exc))


def test_lock_refuses_a_second_process_and_is_released(tmp_path):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    with JobLock(tmp_path):
        p = ctx.Process(target=_try_lock, args=(tmp_path, q))
        p.start()
        p.join(60)
        msg = q.get(timeout=5)
    assert "in use by another eo-drr run" in msg and "pid" in msg
    p = ctx.Process(target=_try_lock, args=(tmp_path, q))
    p.start()
    p.join(60)
    assert q.get(timeout=5) == "acquired"


def test_unreadable_ledger_is_a_plain_error(tmp_path):
    (tmp_path / LEDGER_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutputError, match="job ledger .* cannot open"):
        JobLedger(tmp_path)
