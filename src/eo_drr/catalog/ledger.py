"""A small SQLite ledger of verified downloads, so a rerun skips them."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS downloads (
    path TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    size INTEGER NOT NULL,
    checksum TEXT,
    verified_at REAL NOT NULL
)
"""


class DownloadLedger:
    """``path -> (url, size, checksum)`` of files that were downloaded and verified."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as con:
            con.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        return con

    def record(self, path: Path, url: str, size: int, checksum: str | None) -> None:
        # URLs may carry signatures (SAS tokens): store them without the query string.
        with self._lock, self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO downloads VALUES (?, ?, ?, ?, ?)",
                (str(Path(path).resolve()), url.split("?", 1)[0], int(size), checksum, time.time()),
            )

    def lookup(self, path: Path) -> dict | None:
        with self._lock, self._connect() as con:
            row = con.execute(
                "SELECT url, size, checksum, verified_at FROM downloads WHERE path = ?",
                (str(Path(path).resolve()),),
            ).fetchone()
        if row is None:
            return None
        return {"url": row[0], "size": row[1], "checksum": row[2], "verified_at": row[3]}

    def is_verified(self, path: Path, size: int | None, checksum: str | None) -> bool:
        """True when ``path`` exists, was verified, and still has the recorded size, and the
        expected size/checksum (when known) match the record."""
        rec = self.lookup(path)
        p = Path(path)
        if rec is None or not p.exists() or p.stat().st_size != rec["size"]:
            return False
        if size is not None and size != rec["size"]:
            return False
        if checksum is not None and rec["checksum"] is not None and checksum != rec["checksum"]:
            return False
        return True
