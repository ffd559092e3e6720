"""Atomic file writes: write to a temporary file in the same folder, then rename.

A crash (or a kill) in the middle leaves either the old file or the new one, never half of
one. Temporary files are named ``.<stem>.<pid>-<random>.tmp<ext>`` (hidden, beside the target,
with the writer's process id) so that :func:`clean_stale_temp_files` can remove those a killed
writer left behind, and only those.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from eo_drr.errors import EODRRError, OutputError
from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _
from eo_drr.io import tiff_errors

log = logging.getLogger(__name__)

#: name prefix of a run's hidden staging folder (:data:`eo_drr.publish.staging.STAGING_PREFIX`):
#: messages name the file where the run would have put it, not inside that folder
STAGING_PREFIX = ".eo-drr-staging-"

#: a write that failed with one of these OS errors is told in plain words
WRITE_FAILURES = {
    errno.ENOSPC: N_("the disk is full"),
    errno.EFBIG: N_(
        "the file is larger than the file system or this process allows (file too large)"
    ),
    errno.EDQUOT: N_("the disk quota is exceeded"),
    errno.EROFS: N_("the file system is read-only"),
    errno.EIO: N_("an input/output error of the disk"),
}

#: Names of our temporary files: ``.<stem>.<pid>-<random>.tmp<ext>``.
TEMP_NAME = re.compile(r"^\.(?P<stem>.*)\.(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.tmp(?P<ext>\.[^./]*)?$")

_UMASK = os.umask(0)
os.umask(_UMASK)


def shown_path(path: Path) -> Path:
    """``path`` as a user will find it: without a run's hidden staging folder."""
    parts = path.parts
    keep = [p for p in parts if not p.startswith(STAGING_PREFIX)]
    return Path(*keep) if len(keep) != len(parts) else path


def _write_failure(exc: BaseException, libtiff_errno: int | None) -> int | None:
    """The OS error that stopped a write: the exception's own, else the one libtiff reported
    (GDAL's exception then names a later symptom, e.g. a directory it cannot read back)."""
    if isinstance(exc, EODRRError) or not isinstance(exc, Exception):
        return None
    code = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    return code if code in WRITE_FAILURES else libtiff_errno


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary name keeps the file's extension (or ``suffix``) so that format drivers
    which look at the extension (GDAL, pyarrow) still recognise it. On any exception the
    temporary file is removed and ``path`` is left untouched; a write that failed for a full
    disk, a file-size limit, a quota, a read-only or a failing disk (the OS error, or libtiff's
    report of it) becomes one :class:`OutputError` naming ``path`` (outside a run's staging
    folder) and the reason. libtiff's own printed messages are kept off stderr
    (:mod:`eo_drr.io.tiff_errors`).
    """
    tiff_errors.install()
    since = tiff_errors.mark()
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            _("cannot create output folder {folder}: {why}").format(
                folder=folder, why=exc.strerror or exc
            )
        ) from exc
    ext = suffix if suffix is not None else "".join(path.suffixes[-1:])
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.stem}.{os.getpid()}-", suffix=f".tmp{ext}", dir=folder
        )
    except OSError as exc:
        raise OutputError(
            _("cannot write in {folder}: {why}").format(folder=folder, why=exc.strerror or exc)
        ) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are shared files
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise OutputError(_("nothing was written for {path}").format(path=path))
        code = tiff_errors.write_errno_since(since)
        if code is not None:  # GDAL may close a file whose writes failed without an exception
            raise OSError(code, os.strerror(code))
        with open(tmp_path, "rb+") as fh:  # make the bytes durable before the rename
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        code = _write_failure(exc, tiff_errors.write_errno_since(since))
        if code is not None:
            raise OutputError(
                _("cannot write {path}: {why} (nothing was written under that name)").format(
                    path=shown_path(path), why=_(WRITE_FAILURES[code])
                )
            ) from exc
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    return atomic_write_bytes(path, text.encode(encoding))


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def _boot_time() -> float | None:
    try:
        with open("/proc/stat") as fh:
            for line in fh:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def process_start_time(pid: int) -> float | None:
    """Start of process ``pid`` (Unix seconds; Linux ``/proc``), or None when unknown."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return None
    boot = _boot_time()
    if boot is None:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces
    try:
        ticks = int(fields[19])  # field 22 of proc(5): starttime, clock ticks after boot
    except (IndexError, ValueError):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a process of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def is_stale_temp(path: str | os.PathLike) -> bool:
    """Whether ``path`` is one of our temporary files whose writer is gone: its name matches
    :data:`TEMP_NAME` and the process id in the name is dead, or now belongs to a process that
    started after the file was last written (the id was reused). Files of a live writer, and
    files whose age cannot be compared, are never stale."""
    p = Path(path)
    m = TEMP_NAME.match(p.name)
    if m is None:
        return False
    pid = int(m.group("pid"))
    if pid == os.getpid():
        return False
    if not pid_alive(pid):
        return True
    started = process_start_time(pid)
    try:
        written = p.stat().st_mtime
    except OSError:
        return False
    return started is not None and started > written + 1.0  # 1 s: clock-tick rounding


def clean_stale_temp_files(folder: str | os.PathLike, *, recursive: bool = True) -> list[Path]:
    """Remove the temporary files that killed writers left in ``folder`` (and below, with
    ``recursive``); see :func:`is_stale_temp`. Returns the removed paths. Nothing else is
    touched: a name must match our pattern exactly."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = root.rglob(".*.tmp*") if recursive else root.glob(".*.tmp*")
    removed = []
    for p in found:
        try:
            if p.is_file() and not p.is_symlink() and is_stale_temp(p):
                p.unlink()
                removed.append(p)
        except OSError as exc:  # a file another cleaner removed first, or no permission
            log.debug("could not remove stale temporary file %s: %s", p, exc)
    if removed:
        log.info("removed %d temporary file(s) left by killed writers in %s", len(removed), root)
    return removed
