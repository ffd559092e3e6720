"""Helpers of the hostile-input suite: the command in a subprocess (with a timeout and,
where needed, resource limits), synthetic rasters and the checks every case makes."""

from __future__ import annotations

import hashlib
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from test_cli import assert_user_error, small_demo_job  # noqa: E402,F401  (re-exported)


def _dotted(node: dict, prefix: str = ""):
    for k, v in node.items():
        yield prefix + k
        if isinstance(v, dict):
            yield from _dotted(v, prefix + k + ".")


#: every key of configs/demo.yaml, dotted (``sources.s1.units``, ...)
DEMO_KEYS = sorted(_dotted(yaml.safe_load((TESTS.parent / "configs" / "demo.yaml").read_text())))

#: the longest any subprocess of the suite may run (seconds)
TIMEOUT = 120

#: hidden names eo-drr uses while writing (staging folders, atomic temp files, downloads,
#: write probes, the job lock): none may be left after a command ended
_PARTIAL = re.compile(r"^\.eo-drr-|\.tmp(\.[^./]*)?$|\.incomplete$")


def cli(
    *args,
    timeout: float = TIMEOUT,
    cwd=None,
    env: dict | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``eo-drr ARGS`` as a user does (the console script of this interpreter)."""
    exe = Path(sys.executable).with_name("eo-drr")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "eo_drr.cli.main"]
    full_env = dict(os.environ, COLUMNS="200", NO_COLOR="1", **(env or {}))
    return subprocess.run(
        cmd + [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def cli_inproc(*args, capsys) -> subprocess.CompletedProcess:
    """``eo-drr ARGS`` through the console script's own entry point (``eo_drr.cli.main:main``)
    inside this process: for cases refused before any pixel is processed (option and argument
    checks), where a subprocess would only add its start-up time. Output captured by
    ``capsys``; the exit code is the one ``main()`` exits with."""
    from eo_drr.cli.main import main

    capsys.readouterr()
    old, sys.argv = sys.argv, ["eo-drr", *(str(a) for a in args)]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out, err)


def one_error(res: subprocess.CompletedProcess, *fragments: str) -> str:
    """The single ``error:`` line of a failed command (the README's promise), checked to hold
    every fragment; no traceback."""
    assert_user_error(res, *fragments)
    return next(line for line in res.stderr.splitlines() if line.startswith("error: "))


def assert_usage_error(res: subprocess.CompletedProcess, *fragments: str) -> None:
    """A bad option value or command: exit code 2 (click's usage error), no traceback, a
    message naming the option (and the limit)."""
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    assert res.returncode == 2, (res.returncode, res.stderr[-3000:])
    for f in fragments:
        assert f in res.stderr, f"{f!r} not in: {res.stderr}"


def partial_files(folder: Path) -> list[Path]:
    """Staging folders, temporary files, ``.incomplete`` downloads and lock files under
    ``folder`` (none may outlive a command)."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if _PARTIAL.search(p.name))


def snapshot(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` (hidden ones too)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_nothing_written(folder: Path, before: dict[str, str] | None = None) -> None:
    """After a failure: ``folder`` does not exist, or holds exactly what it held ``before``."""
    if before is None:
        assert not folder.exists() or not any(folder.iterdir()), sorted(folder.rglob("*"))
    else:
        assert snapshot(folder) == before
    assert partial_files(folder) == []


# ---------------------------------------------------------------- rasters


def write_s1(
    path: Path,
    vv: np.ndarray,
    vh: np.ndarray | None = None,
    *,
    crs="EPSG:4326",
    transform=None,
    tags: dict | None = None,
    names=("VV", "VH"),
    dtype="float32",
    nodata=None,
    **profile,
) -> Path:
    """A GeoTIFF with bands VV[, VH] (band descriptions ``names``); EPSG:4326, about 10 m
    pixels near Valencia unless told otherwise."""
    import rasterio
    from rasterio.transform import Affine

    bands = [vv] if vh is None else [vv, vh]
    transform = transform if transform is not None else Affine(9e-5, 0, -0.78, 0, -9e-5, 38.13)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=vv.shape[1],
        height=vv.shape[0],
        count=len(bands),
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
        **profile,
    ) as dst:
        for k, (band, name) in enumerate(zip(bands, names), start=1):
            dst.write(np.asarray(band).astype(dtype), k)
            dst.set_band_description(k, name)
        dst.update_tags(**(tags or {}))
    return path


def synthetic_s1(seed: int = 0, size: int = 64, lake: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Land VV -9 dB (VH about 7 dB lower) and a square lake (VV -21, VH -27 dB), in dB."""
    rng = np.random.default_rng(seed)
    o = size // 4
    vv = rng.normal(-9, 2, (size, size))
    vv[o : o + lake, o : o + lake] = rng.normal(-21, 1.5, (lake, lake))
    vh = vv - 7 + rng.normal(0, 1, vv.shape)
    vh[o : o + lake, o : o + lake] = rng.normal(-27, 1.5, (lake, lake))
    return vv.astype(np.float32), vh.astype(np.float32)


def crafted_tiff(
    path: Path,
    width: int,
    height: int,
    *,
    bits: int = 32,
    sample_format: int = 3,
    compression: int = 8,
    description: str | None = "VV",
    strip_bytes: int = 16,
    payload: bytes | None = None,
) -> Path:
    """A little-endian baseline TIFF written byte by byte: one strip, whatever ``width`` x
    ``height`` the header claims (e.g. 10**6 x 10**6 in a 200-byte file), the band named by
    a GDAL_METADATA tag. ``payload``: the strip's bytes (default: a tiny deflate stream)."""
    payload = payload if payload is not None else b"\x78\x9c" + b"\x00" * (strip_bytes - 2)
    meta = b""
    if description is not None:
        meta = (
            f'<GDALMetadata><Item name="DESCRIPTION" sample="0" role="description">'
            f"{description}</Item></GDALMetadata>"
        ).encode() + b"\x00"
    entries = [  # (tag, type, count, value); type 3 SHORT, 4 LONG, 2 ASCII
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, bits),
        (259, 3, 1, compression),
        (262, 3, 1, 1),
        (273, 4, 1, None),
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, len(payload)),
        (284, 3, 1, 1),
        (339, 3, 1, sample_format),
    ]
    if meta:
        entries.append((42112, 2, len(meta), None))
    ifd = 8
    data_at = ifd + 2 + 12 * len(entries) + 4
    meta_at = data_at + len(payload)
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd) + struct.pack("<H", len(entries)))
    for tag, typ, count, value in entries:
        if tag == 273:
            value = data_at
        if tag == 42112:
            value = meta_at
        if typ == 3:
            out += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, typ, count, value)
    out += struct.pack("<I", 0) + payload + meta
    path.write_bytes(bytes(out))
    return path


def block_ranges(path: Path) -> list[tuple[int, int]]:
    """(offset, size) in the file of every block of every band (GDAL's TIFF metadata)."""
    import rasterio

    ranges = []
    with rasterio.open(path) as src:
        for b in range(1, src.count + 1):
            rows, cols = (-(-n // s) for n, s in zip(src.shape, src.block_shapes[b - 1]))
            for i in range(rows):
                for j in range(cols):
                    off = src.get_tag_item(f"BLOCK_OFFSET_{j}_{i}", "TIFF", bidx=b)
                    size = src.get_tag_item(f"BLOCK_SIZE_{j}_{i}", "TIFF", bidx=b)
                    ranges.append((int(off), int(size)))
    return ranges
