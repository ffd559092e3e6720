"""Checksums as catalogues publish them, and verification of downloaded files.

- CDSE OData: ``Checksum: [{"Algorithm": "MD5", "Value": hex}, {"Algorithm": "BLAKE3", ...}]``.
- STAC ``file:checksum`` (Earth Search, CDSE STAC): a hex *multihash*
  (https://multiformats.io/multihash/): a varint code, a varint length, then the digest;
  ``1220...`` is SHA2-256 with 32 bytes, ``d50110...`` MD5 with 16 bytes, ``1e20...`` BLAKE3.
- Planetary Computer's ``file:checksum`` on RTC assets is a plain 32-hex MD5.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

#: multihash code -> hashlib-style name
MULTIHASH_CODES = {0x11: "sha1", 0x12: "sha256", 0x13: "sha512", 0xD5: "md5", 0x1E: "blake3"}
#: preference when a catalogue gives several (fastest trustworthy first)
PREFERENCE = ("blake3", "sha256", "sha512", "md5", "sha1")


@dataclass(frozen=True)
class Checksum:
    """An expected digest: ``algorithm`` (hashlib name, or ``blake3``) and lowercase hex."""

    algorithm: str
    hexdigest: str

    def new(self):
        """A fresh hasher object for this algorithm."""
        if self.algorithm == "blake3":
            try:
                from blake3 import blake3
            except ImportError:
                raise InputError(_("BLAKE3 checksums need the 'blake3' package")) from None
            return blake3()
        return hashlib.new(self.algorithm)

    def available(self) -> bool:
        if self.algorithm != "blake3":
            return self.algorithm in hashlib.algorithms_available
        try:
            import blake3  # noqa: F401
        except ImportError:
            return False
        return True

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hexdigest}"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        b = data[pos]
        value |= (b & 0x7F) << shift
        pos += 1
        if not b & 0x80:
            return value, pos
        shift += 7


def parse_multihash(text: str) -> Checksum:
    """Parse a hex multihash (STAC ``file:checksum``); a bare 32-hex string is taken as MD5
    (Planetary Computer)."""
    text = text.strip().lower()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InputError(_("file:checksum {text!r} is not hexadecimal").format(text=text)) from None
    try:
        code, pos = _varint(raw, 0)
        length, pos = _varint(raw, pos)
    except ValueError:
        code, length, pos = -1, -1, 0
    if code in MULTIHASH_CODES and len(raw) - pos == length:
        return Checksum(MULTIHASH_CODES[code], raw[pos:].hex())
    if len(raw) == 16:
        return Checksum("md5", text)
    raise InputError(
        _("file:checksum {text!r}: unknown multihash code {code:#x}").format(text=text, code=code)
    )


def from_odata(entries: list[dict]) -> list[Checksum]:
    """Checksums of a CDSE OData product (``Checksum`` list); unknown algorithms skipped."""
    out = []
    for e in entries or []:
        alg = str(e.get("Algorithm", "")).lower().replace("-", "")
        if alg in ("md5", "sha256", "sha512", "sha1", "blake3") and e.get("Value"):
            out.append(Checksum(alg, str(e["Value"]).lower()))
    return out


def best(checksums: list[Checksum]) -> Checksum | None:
    """The preferred checksum that can be computed here."""
    usable = [c for c in checksums if c.available()]
    usable.sort(key=lambda c: PREFERENCE.index(c.algorithm) if c.algorithm in PREFERENCE else 99)
    return usable[0] if usable else None


def file_digest(path: str | Path, checksum: Checksum, chunk_size: int = 1 << 20) -> str:
    """Hex digest of ``path`` with ``checksum``'s algorithm."""
    h = checksum.new()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk_size), b""):
            h.update(block)
    return h.hexdigest()


def asset_checksums(asset) -> tuple[Checksum, ...]:
    """Every checksum a STAC asset declares: ``file:checksum`` (multihash) and the OData
    checksums our CDSE OData backend stores in ``eo_drr:checksums``."""
    out: list[Checksum] = []
    fc = asset.extra_fields.get("file:checksum")
    if fc:
        out.append(parse_multihash(str(fc)))
    odata = asset.extra_fields.get("eo_drr:checksums")
    if odata:
        out += from_odata([{"Algorithm": c["algorithm"], "Value": c["value"]} for c in odata])
    return tuple(out)
