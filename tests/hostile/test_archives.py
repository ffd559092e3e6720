"""Hostile archives against the extractor (``eo_drr.catalog.archives.safe_extract``): members
that escape the folder, links and devices, size caps, headers that lie about sizes, corrupt and
truncated archives. A refused archive leaves nothing in the destination folder."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile

import pytest

from eo_drr.catalog.archives import safe_extract
from eo_drr.errors import CorruptInputError, EODRRError, InputError


def _zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _tar(path, members: list[tarfile.TarInfo | tuple[str, bytes]], mode="w"):
    with tarfile.open(path, mode) as tf:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tf.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tf.addfile(info, io.BytesIO(m[1]))
    return path


def _link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _device(name):
    info = tarfile.TarInfo(name)
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    return info


def _left(dest):
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) if dest.exists() else []


@pytest.mark.parametrize(
    "name", ["../../evil.txt", "/tmp/evil.txt", "ok/../../evil.txt", "C:/evil.txt"]
)
def test_zip_member_outside_the_folder_is_refused(tmp_path, name):
    z = _zip(tmp_path / "slip.zip", {"ok.txt": b"x", name: b"y"})
    dest = tmp_path / "out"
    with pytest.raises(CorruptInputError, match="outside the folder"):
        safe_extract(z, dest)
    assert _left(dest) == [] and not (tmp_path / "evil.txt").exists()


def test_size_caps_hold_for_zip_and_tar_gz(tmp_path):
    z = _zip(tmp_path / "bomb.zip", {"zeros": b"\0" * 5_000_000})
    t = _tar(tmp_path / "bomb.tar.gz", [("zeros", b"\0" * 5_000_000)], mode="w:gz")
    for archive in (z, t):
        dest = tmp_path / archive.name.replace(".", "_")
        with pytest.raises(CorruptInputError, match="exceeds the cap"):
            safe_extract(archive, dest, max_total_bytes=1_000_000)
        assert _left(dest) == []


@pytest.mark.parametrize(
    "content", [b"", b"PK\x03\x04 not really", b"hello"], ids=["empty", "zip-magic", "text"]
)
def test_not_an_archive_is_refused(tmp_path, content):
    f = tmp_path / "x.zip"
    f.write_bytes(content)
    with pytest.raises(CorruptInputError, match="not a zip or tar"):
        safe_extract(f, tmp_path / "out")


def test_truncated_zip_is_refused(tmp_path):
    z = _zip(tmp_path / "t.zip", {"a.txt": b"hello" * 1000, "b.txt": bytes(range(256)) * 400})
    z.write_bytes(z.read_bytes()[:-30])  # the central directory is cut
    with pytest.raises(CorruptInputError):
        safe_extract(z, tmp_path / "out")
    assert _left(tmp_path / "out") == []


def test_missing_archive_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="nothing.zip"):
        safe_extract(tmp_path / "nothing.zip", tmp_path / "out")


def _lie_about_size(z, member: str, size: int):
    """Rewrite the uncompressed size ``member`` declares (local header and central directory)."""
    raw = bytearray(z.read_bytes())
    i = raw.find(b"PK\x01\x02")
    while i != -1:
        n = struct.unpack_from("<H", raw, i + 28)[0]
        if raw[i + 46 : i + 46 + n] == member.encode():
            struct.pack_into("<I", raw, i + 24, size)
            struct.pack_into("<I", raw, struct.unpack_from("<I", raw, i + 42)[0] + 22, size)
        i = raw.find(b"PK\x01\x02", i + 4)
    z.write_bytes(bytes(raw))


def test_zip_member_lying_about_its_size_is_refused_whole(tmp_path):
    """A member that declares 10 bytes (so it passes the size cap) but holds 5 MB."""
    z = _zip(tmp_path / "lie.zip", {"a.txt": b"hello", "big.bin": b"\0" * 5_000_000})
    _lie_about_size(z, "big.bin", 10)
    dest = tmp_path / "out"
    with pytest.raises(CorruptInputError, match="big.bin"):
        safe_extract(z, dest, max_total_bytes=1000)
    assert _left(dest) == []


def test_zip_with_corrupt_member_data_is_refused_whole(tmp_path):
    z = _zip(
        tmp_path / "c.zip",
        {"a.txt": b"hello" * 1000, "b.txt": bytes(range(256)) * 400},
        compression=zipfile.ZIP_STORED,
    )
    raw = bytearray(z.read_bytes())
    at = raw.find(bytes(range(256)))
    raw[at + 100 : at + 160] = b"\xff" * 60
    z.write_bytes(bytes(raw))
    dest = tmp_path / "out"
    with pytest.raises(CorruptInputError, match="b.txt"):
        safe_extract(z, dest)
    assert _left(dest) == []


def test_zip_with_a_file_where_a_folder_must_be_is_refused(tmp_path):
    z = _zip(tmp_path / "d.zip", {"a": b"x", "a/b": b"y"})
    dest = tmp_path / "out"
    with pytest.raises(CorruptInputError):
        safe_extract(z, dest)
    assert _left(dest) == []


@pytest.mark.parametrize("bad", ["absolute-symlink", "device", "hardlink-out", "zip-symlink"])
def test_links_and_devices_are_refused(tmp_path, bad):
    if bad == "zip-symlink":
        archive = tmp_path / "l.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            info = zipfile.ZipInfo("link")
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    else:
        member = {
            "absolute-symlink": _link("sub/evil", "/etc/passwd"),
            "device": _device("dev"),
            "hardlink-out": _link("hard", "../../outside", tarfile.LNKTYPE),
        }[bad]
        archive = _tar(tmp_path / "l.tar", [member])
    with pytest.raises(CorruptInputError):
        safe_extract(archive, tmp_path / "out")


@pytest.mark.parametrize("bad", ["absolute-symlink", "device"])
def test_refused_tar_leaves_nothing(tmp_path, bad):
    member = _link("sub/evil", "/etc/passwd") if bad == "absolute-symlink" else _device("dev")
    archive = _tar(tmp_path / "p.tar", [("good.txt", b"good"), member])
    dest = tmp_path / "out"
    with pytest.raises(CorruptInputError):
        safe_extract(archive, dest)
    assert _left(dest) == []


def test_truncated_tar_gz_is_refused(tmp_path):
    t = _tar(tmp_path / "t.tar.gz", [("a.bin", bytes(range(256)) * 4000)], mode="w:gz")
    t.write_bytes(t.read_bytes()[: t.stat().st_size // 2])
    with pytest.raises(EODRRError):
        safe_extract(t, tmp_path / "out")
    assert _left(tmp_path / "out") == []


def test_good_archives_extract_whole(tmp_path):
    z = _zip(
        tmp_path / "ok.zip",
        {"S1.SAFE/manifest.safe": b"<xml/>", "S1.SAFE/measurement/vv.tiff": b"II*\0"},
    )
    assert sorted(p.name for p in safe_extract(z, tmp_path / "o1")) == ["manifest.safe", "vv.tiff"]
    t = _tar(tmp_path / "ok.tar.gz", [("dir/a.txt", b"hello")], mode="w:gz")
    assert [p.read_bytes() for p in safe_extract(t, tmp_path / "o2")] == [b"hello"]
