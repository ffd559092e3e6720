"""Archives (SAFE .zip products, .tar bundles) that cannot write outside their folder.

Prefer reading in place through GDAL's ``/vsizip/`` (:func:`vsizip_path`): nothing is
extracted. When extraction is needed, :func:`safe_extract` refuses absolute paths, ``..``
components, links and device files, and caps the total uncompressed size (zip bombs).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from eo_drr.errors import CorruptInputError, InputError
from eo_drr.i18n import gettext as _

DEFAULT_MAX_TOTAL_BYTES = 20 * 1024**3  # a Sentinel-1 GRD SAFE is about 1-2 GB


def vsizip_path(archive: str | Path, member: str) -> str:
    """GDAL path to ``member`` inside a zip archive, read in place."""
    return f"/vsizip/{Path(archive).resolve()}/{member.lstrip('/')}"


def _check_member(name: str, archive: Path) -> None:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise CorruptInputError(
            _("{archive}: member {name!r} would be written outside the folder").format(
                archive=archive, name=name
            )
        )


def safe_extract(
    archive: str | Path, dest: str | Path, *, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES
) -> list[Path]:
    """Extract ``archive`` (zip or tar, any compression) into ``dest``; return the files.

    All or nothing: the members go to a hidden folder inside ``dest`` first and move into place
    only when every one was extracted; a refused or damaged archive leaves ``dest`` as it was.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise InputError(_("{archive}: no such archive").format(archive=archive))
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    try:
        _extract(archive, tmp, max_total_bytes)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        out = []
        for f in files:
            target = dest / f.relative_to(tmp)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, target)
            out.append(target)
        return out
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as exc:
        raise CorruptInputError(
            _("{archive}: a damaged or unsafe archive ({kind}: {exc})").format(
                archive=archive, kind=type(exc).__name__, exc=exc
            )
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _extract(archive: Path, dest: Path, max_total_bytes: int) -> None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            total = 0
            for info in infos:
                _check_member(info.filename, archive)
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise CorruptInputError(
                        _("{archive}: member {filename!r} is a symbolic link").format(
                            archive=archive, filename=info.filename
                        )
                    )
                total += info.file_size
            if total > max_total_bytes:
                raise CorruptInputError(
                    _(
                        "{archive}: uncompressed size {total} exceeds the cap {max_total_bytes}"
                    ).format(archive=archive, total=total, max_total_bytes=max_total_bytes)
                )
            zf.extractall(dest)
        return
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            total = sum(m.size for m in members if m.isfile())
            if total > max_total_bytes:
                raise CorruptInputError(
                    _(
                        "{archive}: uncompressed size {total} exceeds the cap {max_total_bytes}"
                    ).format(archive=archive, total=total, max_total_bytes=max_total_bytes)
                )
            for m in members:
                _check_member(m.name, archive)
            try:
                tf.extractall(dest, filter="data")  # refuses links out of dest, devices, abs paths
            except tarfile.FilterError as exc:
                raise CorruptInputError(
                    _("{archive}: unsafe member ({exc})").format(archive=archive, exc=exc)
                ) from None
        return
    raise CorruptInputError(_("{archive}: not a zip or tar archive").format(archive=archive))
