"""The job ledger: which tiles of a job are done, with which inputs, outputs and timings.

An embedded SQLite database (``.eo-drr-ledger.sqlite`` in the output folder, WAL mode, no
server). One row per tile x input fingerprint (the fingerprint hashes the processing settings
and the ids of the items the tile reads, see :func:`fingerprint`), with its status
(``pending``, ``running``, ``done``, ``failed``), attempts, timings, peak memory, worker and
error; one row per output file with its size and SHA-256. The ``jobs`` row keeps the job's settings
(``config``, JSON, and the job file's folder ``base_dir``) so that ``eo-drr jobs retry`` can
rerun a job from its output folder alone. ``eo-drr monitor`` records every post-event
acquisition it processed (item id, acquisition time, sub-folder, ``done``/``failed``) in the
``acquisitions`` table, per job and AOI.

A tile is marked ``done`` only after its outputs were committed (moved into place) and in the
same transaction as their checksums, so a tile killed mid-write is never ``done``. A rerun
skips a tile only when its current fingerprint is ``done`` **and** every recorded output still
exists with the recorded size and checksum (:meth:`JobLedger.verified_done`).

:class:`JobLock` keeps two runs off the same output folder (an ``flock`` the kernel releases
when the process dies, even by SIGKILL).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from eo_drr.errors import OutputError
from eo_drr.i18n import gettext as _
from eo_drr.io.atomic import sha256_file

LEDGER_NAME = ".eo-drr-ledger.sqlite"
LOCK_NAME = ".eo-drr-job.lock"
STATUSES = ("pending", "running", "done", "failed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    name TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    tile_size_px INTEGER NOT NULL,
    crs TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tiles (
    job TEXT NOT NULL,
    tile_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    current INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    bounds TEXT NOT NULL,
    inputs TEXT NOT NULL,
    started_at REAL,
    finished_at REAL,
    seconds REAL,
    peak_rss_mb REAL,
    worker TEXT,
    error TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (job, tile_id, fingerprint)
);
CREATE TABLE IF NOT EXISTS outputs (
    job TEXT NOT NULL,
    tile_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (job, tile_id, fingerprint, path)
);
CREATE TABLE IF NOT EXISTS acquisitions (
    job TEXT NOT NULL,
    aoi TEXT NOT NULL,
    item_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    folder TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    error TEXT,
    processed_at REAL NOT NULL,
    PRIMARY KEY (job, aoi, item_id)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    ran INTEGER DEFAULT 0,
    skipped INTEGER DEFAULT 0,
    failed INTEGER DEFAULT 0
);
"""


def fingerprint(
    config_hash: str, tile_id: str, bounds: Iterable[float], inputs: Iterable[str]
) -> str:
    """SHA-256 (hex, first 32 characters) of the processing settings' hash, the tile and its
    bounds, and the sorted input ids: changes exactly when a tile's result may change."""
    payload = json.dumps(
        {
            "config": config_hash,
            "tile": tile_id,
            "bounds": [round(float(b), 6) for b in bounds],
            "inputs": sorted(inputs),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class OutputRecord:
    """One output file of a tile, relative to the output folder."""

    path: str
    size: int
    sha256: str


class JobLedger:
    """The ledger of one output folder (``root / LEDGER_NAME``)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.path = self.root / LEDGER_NAME
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(SCHEMA)
                cols = {r["name"] for r in con.execute("PRAGMA table_info(jobs)")}
                for col in ("config", "base_dir"):  # ledgers written before these columns
                    if col not in cols:
                        con.execute(f"ALTER TABLE jobs ADD COLUMN {col} TEXT")
        except sqlite3.DatabaseError as exc:
            raise OutputError(
                _("job ledger {path}: cannot open ({exc})").format(path=self.path, exc=exc)
            ) from None
        except OSError as exc:
            raise OutputError(
                _("job ledger {path}: {strerror}").format(
                    path=self.path, strerror=exc.strerror or exc
                )
            ) from None

    @classmethod
    def existing(cls, root: str | Path) -> JobLedger | None:
        """The ledger of ``root`` if there is one (never creates it)."""
        return cls(root) if (Path(root) / LEDGER_NAME).is_file() else None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=60)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.row_factory = sqlite3.Row
            with con:  # one transaction
                yield con
        finally:
            con.close()

    # -- jobs and runs ----------------------------------------------------------------------
    def register_job(
        self,
        name: str,
        pipeline: str,
        config_hash: str,
        tile_size_px: int,
        crs: str,
        *,
        config: str | None = None,
        base_dir: str | None = None,
    ) -> None:
        """Create or update the job's row; ``config`` is the job's settings as JSON and
        ``base_dir`` the job file's folder (what :meth:`job_config` gives back)."""
        now = time.time()
        with self._connect() as con:
            con.execute(
                "INSERT INTO jobs (name, pipeline, config_hash, tile_size_px, crs, created_at, updated_at, "
                "config, base_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "pipeline=excluded.pipeline, config_hash=excluded.config_hash, "
                "tile_size_px=excluded.tile_size_px, crs=excluded.crs, updated_at=excluded.updated_at, "
                "config=COALESCE(excluded.config, config), base_dir=COALESCE(excluded.base_dir, base_dir)",
                (name, pipeline, config_hash, tile_size_px, crs, now, now, config, base_dir),
            )

    def job(self, name: str) -> dict | None:
        with self._connect() as con:
            row = con.execute("SELECT * FROM jobs WHERE name=?", (name,)).fetchone()
        return dict(row) if row else None

    def start_run(self, job: str) -> int:
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO runs (job, host, pid, started_at, status) VALUES (?, ?, ?, ?, 'running')",
                (job, socket.gethostname(), os.getpid(), time.time()),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, ran: int, skipped: int, failed: int) -> None:
        with self._connect() as con:
            con.execute(
                "UPDATE runs SET finished_at=?, status=?, ran=?, skipped=?, failed=? WHERE id=?",
                (time.time(), status, ran, skipped, failed, run_id),
            )

    def jobs(self) -> list[dict]:
        with self._connect() as con:
            return [dict(r) for r in con.execute("SELECT * FROM jobs ORDER BY name")]

    def runs(self, job: str | None = None) -> list[dict]:
        q = "SELECT * FROM runs" + (" WHERE job=?" if job else "") + " ORDER BY id"
        with self._connect() as con:
            return [dict(r) for r in con.execute(q, (job,) if job else ())]

    # -- tiles --------------------------------------------------------------------------------
    def register_tile(self, job: str, tile_id: str, fp: str, bounds, inputs: list[str]) -> dict:
        """Make ``fp`` the current fingerprint of the tile (a new ``pending`` row when it is
        new); return its row."""
        now = time.time()
        with self._connect() as con:
            con.execute(
                "UPDATE tiles SET current=0 WHERE job=? AND tile_id=? AND fingerprint<>?",
                (job, tile_id, fp),
            )
            con.execute(
                "INSERT INTO tiles (job, tile_id, fingerprint, current, status, bounds, inputs, updated_at) "
                "VALUES (?, ?, ?, 1, 'pending', ?, ?, ?) ON CONFLICT(job, tile_id, fingerprint) DO UPDATE SET current=1",
                (
                    job,
                    tile_id,
                    fp,
                    json.dumps([float(b) for b in bounds]),
                    json.dumps(sorted(inputs)),
                    now,
                ),
            )
            return dict(
                con.execute(
                    "SELECT * FROM tiles WHERE job=? AND tile_id=? AND fingerprint=?",
                    (job, tile_id, fp),
                ).fetchone()
            )

    def tile(self, job: str, tile_id: str, fp: str) -> dict | None:
        with self._connect() as con:
            row = con.execute(
                "SELECT * FROM tiles WHERE job=? AND tile_id=? AND fingerprint=?",
                (job, tile_id, fp),
            ).fetchone()
        return dict(row) if row else None

    def tiles(self, job: str | None = None, *, current_only: bool = True) -> list[dict]:
        q = "SELECT * FROM tiles WHERE 1=1"
        args: list = []
        if job:
            q += " AND job=?"
            args.append(job)
        if current_only:
            q += " AND current=1"
        with self._connect() as con:
            return [dict(r) for r in con.execute(q + " ORDER BY job, tile_id", args)]

    def mark_running(self, job: str, tile_id: str, fp: str, worker: str | None = None) -> None:
        with self._connect() as con:
            con.execute(
                "UPDATE tiles SET status='running', attempts=attempts+1, started_at=?, finished_at=NULL, "
                "error=NULL, worker=?, updated_at=? WHERE job=? AND tile_id=? AND fingerprint=?",
                (time.time(), worker, time.time(), job, tile_id, fp),
            )

    def mark_done(
        self,
        job: str,
        tile_id: str,
        fp: str,
        outputs: list[OutputRecord],
        *,
        seconds: float | None = None,
        peak_rss_mb: float | None = None,
        worker: str | None = None,
    ) -> None:
        """Record the committed outputs and ``done`` in one transaction."""
        now = time.time()
        with self._connect() as con:
            con.execute(
                "DELETE FROM outputs WHERE job=? AND tile_id=? AND fingerprint=?",
                (job, tile_id, fp),
            )
            con.executemany(
                "INSERT INTO outputs VALUES (?, ?, ?, ?, ?, ?)",
                [(job, tile_id, fp, o.path, o.size, o.sha256) for o in outputs],
            )
            con.execute(
                "UPDATE tiles SET status='done', finished_at=?, seconds=?, peak_rss_mb=?, worker=COALESCE(?, worker), "
                "error=NULL, updated_at=? WHERE job=? AND tile_id=? AND fingerprint=?",
                (now, seconds, peak_rss_mb, worker, now, job, tile_id, fp),
            )

    def mark_failed(
        self,
        job: str,
        tile_id: str,
        fp: str,
        error: str,
        *,
        seconds: float | None = None,
        worker: str | None = None,
        count_attempt: bool = False,
    ) -> None:
        now = time.time()
        with self._connect() as con:
            con.execute(
                "UPDATE tiles SET status='failed', finished_at=?, seconds=?, error=?, worker=COALESCE(?, worker), "
                f"attempts=attempts+{1 if count_attempt else 0}, updated_at=? "
                "WHERE job=? AND tile_id=? AND fingerprint=?",
                (now, seconds, error[:4000], worker, now, job, tile_id, fp),
            )

    def reset_attempts(self, job: str) -> int:
        """Give failed tiles of ``job`` their attempts back (``--retry-failed``)."""
        with self._connect() as con:
            return con.execute(
                "UPDATE tiles SET attempts=0 WHERE job=? AND status='failed'", (job,)
            ).rowcount

    def failed_tiles(self, job: str) -> list[dict]:
        """Current tiles of ``job`` whose status is ``failed``."""
        return [t for t in self.tiles(job) if t["status"] == "failed"]

    # -- monitored acquisitions ------------------------------------------------------------
    def record_acquisition(
        self,
        job: str,
        aoi: str,
        item_id: str,
        collection: str,
        acquired_at: str,
        folder: str,
        status: str,
        error: str | None = None,
    ) -> None:
        """Record a post-event acquisition ``eo-drr monitor`` processed (``done``) or tried
        (``failed``); ``acquired_at`` is an ISO 8601 UTC time, ``folder`` relative to the
        output folder."""
        with self._connect() as con:
            con.execute(
                "INSERT INTO acquisitions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job, aoi, item_id) "
                "DO UPDATE SET folder=excluded.folder, status=excluded.status, error=excluded.error, "
                "processed_at=excluded.processed_at",
                (
                    job,
                    aoi,
                    item_id,
                    collection,
                    acquired_at,
                    folder,
                    status,
                    error[:4000] if error else None,
                    time.time(),
                ),
            )

    def acquisitions(self, job: str | None = None, aoi: str | None = None) -> list[dict]:
        q, args = "SELECT * FROM acquisitions WHERE 1=1", list[str]()
        if job:
            q, args = q + " AND job=?", [*args, job]
        if aoi:
            q, args = q + " AND aoi=?", [*args, aoi]
        with self._connect() as con:
            return [dict(r) for r in con.execute(q + " ORDER BY job, acquired_at, item_id", args)]

    def last_acquisition(self, job: str, aoi: str) -> str | None:
        """ISO time of the newest acquisition processed (``done``) for ``job`` over ``aoi``."""
        with self._connect() as con:
            row = con.execute(
                "SELECT MAX(acquired_at) AS t FROM acquisitions WHERE job=? AND aoi=? AND status='done'",
                (job, aoi),
            ).fetchone()
        return row["t"] if row else None

    def outputs(self, job: str, tile_id: str, fp: str) -> list[OutputRecord]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT path, size, sha256 FROM outputs WHERE job=? AND tile_id=? AND fingerprint=? ORDER BY path",
                (job, tile_id, fp),
            ).fetchall()
        return [OutputRecord(r["path"], r["size"], r["sha256"]) for r in rows]

    def verified_done(self, job: str, tile_id: str, fp: str) -> tuple[bool, str]:
        """``(True, "")`` when the tile is ``done`` for ``fp`` and every recorded output
        exists with its size and checksum; else ``(False, why)``."""
        row = self.tile(job, tile_id, fp)
        if row is None or row["status"] != "done":
            return False, "not done" if row is None else row["status"]
        outs = self.outputs(job, tile_id, fp)
        if not outs:
            return False, "no outputs recorded"
        for o in outs:
            p = self.root / o.path
            if not p.is_file():
                return False, f"{o.path} is missing"
            if p.stat().st_size != o.size:
                return False, f"{o.path} changed size"
            if sha256_file(p) != o.sha256:
                return False, f"{o.path} changed (checksum)"
        return True, ""

    def counts(self, job: str) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for t in self.tiles(job):
            out[t["status"]] += 1
        return out


def _lock_holder(fh, wait_s: float = 2.0) -> str:
    """Who holds the lock, as the holder wrote it ("pid N on host"). The holder writes its
    name just after taking the lock, so a refused run may look in between: poll briefly."""
    deadline = time.monotonic() + wait_s
    while True:
        fh.seek(0)
        holder = fh.read().strip()
        if holder or time.monotonic() > deadline:
            return holder or "another process"
        time.sleep(0.02)


class JobLock:
    """An exclusive lock on an output folder for the time of a run (``fcntl.flock``)."""

    def __init__(self, root: str | Path, *, remove: bool = False):
        """``remove``: delete the lock file when releasing (for runs that should leave no
        file of their own behind; a tiled job keeps it beside its ledger)."""
        self.path = Path(root) / LOCK_NAME
        self.remove = remove
        self._fh: TextIO | None = None

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fh = open(self.path, "a+")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _lock_holder(fh)
                fh.close()
                raise OutputError(
                    _(
                        "output folder {parent} is in use by another eo-drr run ({holder}; lock "
                        "file {path}); wait for it to finish or use another output folder"
                    ).format(parent=self.path.parent, holder=holder, path=self.path)
                ) from None
            # a holder that removes the file on release may have done so between our open and
            # our flock: then we hold a lock on a file nobody else will open; take the new one
            try:
                same = os.fstat(fh.fileno()).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            fh.close()
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            import fcntl

            if self.remove:  # unlink while still holding the lock (see acquire)
                self.path.unlink(missing_ok=True)
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> JobLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def record_outputs(root: Path, files: Iterable[Path]) -> list[OutputRecord]:
    """Size and SHA-256 of ``files`` (inside ``root``), paths relative to ``root``."""
    out = []
    for f in sorted(files):
        out.append(OutputRecord(f.relative_to(root).as_posix(), f.stat().st_size, sha256_file(f)))
    return out
