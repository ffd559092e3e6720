"""An output folder that receives a run's files all together, or not at all.

Files are written into a hidden staging folder inside the output folder (same filesystem,
so the final moves are renames). :meth:`OutputFolder.commit` moves them into place; if the run
fails, :meth:`OutputFolder.abort` removes the staging folder, so a failed run leaves the
output folder as it was. Staging folders left by a killed process, and the hidden temporary
files of killed atomic writers (:func:`eo_drr.io.atomic.clean_stale_temp_files`), are removed by
the next run when it opens the folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from eo_drr.errors import OutputError
from eo_drr.i18n import gettext as _
from eo_drr.io.atomic import clean_stale_temp_files, pid_alive

STAGING_PREFIX = ".eo-drr-staging-"


#: files moved into place after all others by :meth:`OutputFolder.commit`, in this order
COMMIT_LAST = ("run.json", "outputs.item.json", "catalog.json")


class OutputFolder:
    """Stage a run's outputs, then move them into ``root`` in one step."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()
        self.staging: Path | None = None
        self._created_root = False

    def check_writable(self) -> None:
        """Raise :class:`OutputError` (naming the folder) unless ``root`` can be written."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise OutputError(
                _("output folder {root} exists and is not a folder").format(root=root)
            )
        probe = root
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir():
            raise OutputError(
                _("output folder {root}: {probe} is a file, not a folder").format(
                    root=root, probe=probe
                )
            )
        try:  # a real write (os.access says yes to root even on read-only mounts)
            with tempfile.TemporaryFile(dir=probe, prefix=".eo-drr-probe-"):
                pass
        except OSError as exc:
            raise OutputError(
                _("output folder {root} is not writable ({strerror})").format(
                    root=root, strerror=exc.strerror or exc
                )
            ) from None

    def open(self) -> Path:
        """Create the output and staging folders; return the staging folder."""
        self.check_writable()
        self._created_root = not self.root.exists()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._clean_stale()
            clean_stale_temp_files(self.root)
            self.staging = Path(
                tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=self.root)
            )
        except OSError as exc:
            raise OutputError(
                _("output folder {root}: {strerror}").format(
                    root=self.root, strerror=exc.strerror or exc
                )
            ) from exc
        return self.staging

    def _clean_stale(self) -> None:
        """Remove staging folders whose owner process (pid in the name) is gone."""
        for p in self.root.glob(STAGING_PREFIX + "*"):
            pid_text = p.name[len(STAGING_PREFIX) :].split("-", 1)[0]
            if not p.is_dir() or not pid_text.isdigit() or pid_alive(int(pid_text)):
                continue
            shutil.rmtree(p, ignore_errors=True)

    def path(self, relative: str) -> Path:
        """Where to write ``relative`` during the run (inside the staging folder)."""
        if self.staging is None:
            raise RuntimeError("OutputFolder.open() was not called")
        p = self.staging / relative
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def final(self, relative: str) -> Path:
        """Where ``relative`` will be once the run commits."""
        return self.root / relative

    def commit(self) -> list[Path]:
        """Move every staged file into place (each move a rename); return final paths."""
        if self.staging is None:
            return []
        moved = []
        # the run's manifest and catalogue move last: if the move is interrupted, they still
        # describe the previous complete run, never files that are not all in place yet
        staging = self.path("")

        def order(p: Path) -> tuple[bool, int, str]:
            rel = p.relative_to(staging).as_posix()
            return (rel in COMMIT_LAST, COMMIT_LAST.index(rel) if rel in COMMIT_LAST else 0, rel)

        for src in sorted((p for p in self.staging.rglob("*") if p.is_file()), key=order):
            rel = src.relative_to(self.staging)
            dst = self.root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            moved.append(dst)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging = None
        return moved

    def abort(self) -> None:
        """Remove the staging folder and everything in it."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        if self._created_root:  # leave no empty folder behind that we created
            try:
                self.root.rmdir()
            except OSError:
                pass
