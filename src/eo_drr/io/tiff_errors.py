"""libtiff's own error messages, kept off the terminal and kept for the one error line.

GDAL reads and writes GeoTIFFs through libtiff. Most libtiff errors reach GDAL's error handler
(and rasterio's exceptions), but those of the file I/O callbacks (``_tiffWriteProc``,
``_tiffSeekProc``: "File too large", "No space left on device") go to libtiff's process-wide
handler, which prints them straight to the C-level stderr, before and besides eo-drr's one
``error:`` line. :func:`install` replaces that handler (once libtiff is loaded, i.e. after
``import rasterio``) with one that logs at DEBUG level (``--debug`` shows them) and records the
messages, so that :func:`write_errno_since` can tell a writer which OS error stopped it.

Linux only (the loaded libtiffs are found in ``/proc/self/maps``); elsewhere, or when libtiff
cannot be found, nothing changes.
"""

from __future__ import annotations

import collections
import ctypes
import errno
import logging
import os
import platform
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

#: OS errors of a failed write that libtiff reports by their text (strerror)
WRITE_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EIO)

_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)
_lock = threading.Lock()
_seen: collections.deque[tuple[int, str]] = collections.deque(maxlen=64)
_count = 0
_installed: dict[str, bool] = {}  # library path: whether our handler is in place
_modules_seen = -1  # len(sys.modules) at the last look for libtiff (install)


def _libtiff_paths() -> set[str]:
    """Every libtiff mapped into this process (rasterio's GDAL and Pillow may bring one each)."""
    try:
        with open("/proc/self/maps") as fh:
            names = {line.rsplit(None, 1)[-1] for line in fh if "libtiff" in line}
    except OSError:
        return set()
    return {n for n in names if Path(n).name.startswith("libtiff") and ".so" in n}


def _format(fmt: bytes | None, args: int | None) -> str:
    """The message of a printf format and its ``va_list`` (x86-64 and arm64: passed by
    pointer, which vsnprintf takes back); the bare format elsewhere."""
    if not fmt:
        return ""
    if platform.machine().lower() not in ("x86_64", "amd64", "aarch64", "arm64") or not args:
        return fmt.decode("utf-8", "replace")
    buf = ctypes.create_string_buffer(512)
    ctypes.CDLL(None).vsnprintf(buf, ctypes.c_size_t(512), fmt, ctypes.c_void_p(args))
    return buf.value.decode("utf-8", "replace")


def _on_error(module: bytes | None, fmt: bytes | None, args: int | None) -> None:
    global _count
    try:
        text = _format(fmt, args)
        where = module.decode("utf-8", "replace") if module else "libtiff"
        with _lock:
            _count += 1
            _seen.append((_count, text))
        log.debug("libtiff: %s: %s", where, text)
    except Exception:  # noqa: BLE001  (an exception may not cross back into C)
        return


#: the handler as libtiff calls it (a module global: it must outlive every call)
_CALLBACK = _HANDLER(_on_error)


def install() -> bool:
    """Route the process-wide error messages of every loaded libtiff to this module (each
    library once; call again after loading more). Returns whether a handler is in place
    (False until libtiff is loaded, or off Linux).

    The loaded libraries are looked up again (``/proc/self/maps``, thousands of lines in a
    process with numba and GDAL) only when Python modules were imported since the last look:
    a new libtiff comes with a new extension module (rasterio, Pillow's TIFF plugin)."""
    global _modules_seen
    with _lock:
        if len(sys.modules) == _modules_seen:
            return any(_installed.values())
        _modules_seen = len(sys.modules)
    for path in sorted(_libtiff_paths() - set(_installed)):
        try:
            lib = ctypes.CDLL(path)
            lib.TIFFSetErrorHandler.argtypes = [_HANDLER]
            lib.TIFFSetErrorHandler.restype = ctypes.c_void_p
            lib.TIFFSetErrorHandler(_CALLBACK)
        except (OSError, AttributeError) as exc:
            log.debug("libtiff %s: error handler left as it is (%s)", path, exc)
            _installed[path] = False
            continue
        _installed[path] = True
    return any(_installed.values())


def mark() -> int:
    """A position in the record of messages, for :func:`write_errno_since`."""
    with _lock:
        return _count


def write_errno_since(position: int) -> int | None:
    """The OS error (one of :data:`WRITE_ERRNOS`) of a libtiff message recorded after
    ``position`` (from :func:`mark`), or None."""
    texts = {os.strerror(code): code for code in WRITE_ERRNOS}
    with _lock:
        recent = [text for seq, text in _seen if seq > position]
    return next((texts[t.strip()] for t in recent if t.strip() in texts), None)
