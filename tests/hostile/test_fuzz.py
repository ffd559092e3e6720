"""Fuzzing the ingest path: a valid Sentinel-1 GeoTIFF with its header and pixel bytes mutated,
read as a user's file is (``eo_drr.load.s1_file.read_s1_file``: open, size and georeference
guards, decode, units and band checks). The outcome must always be a checked image or an
``EODRRError`` naming the file: never another exception, a hang or a crash.

Two bounded runs: a derandomized hypothesis test (``EO_DRR_FUZZ_EXAMPLES`` examples, 60 by
default, about 10 s), and a time-boxed random loop (``EO_DRR_FUZZ_SECONDS``, 5 s by default;
``.ci/run`` runs it for longer).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eo_drr.errors import EODRRError
from eo_drr.load.s1_file import read_s1_file
from hostile.helpers import block_ranges, synthetic_s1, write_s1

EXAMPLES = int(os.environ.get("EO_DRR_FUZZ_EXAMPLES", "60"))
SECONDS = float(os.environ.get("EO_DRR_FUZZ_SECONDS", "5"))


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory) -> tuple[bytes, list[tuple[int, int]]]:
    """The bytes of a good 64 x 64 VV/VH float32 GeoTIFF (uncompressed: mutated pixel bytes
    reach the decoder as they are), and the (offset, size) of its pixel blocks."""
    vv, vh = synthetic_s1()
    path = write_s1(tmp_path_factory.mktemp("seed") / "seed.tif", vv, vh)
    return path.read_bytes(), block_ranges(path)


def _outcome(path: Path) -> str:
    """Read ``path``; a checked image or an EODRRError naming it, else the test fails."""
    try:
        img = read_s1_file(path)
    except EODRRError as exc:
        assert str(path) in str(exc) or "--s1" in str(exc), exc
        return type(exc).__name__
    assert img.vv.dtype == np.float32 and img.vv.ndim == 2
    assert img.vh is None or img.vh.shape == img.vv.shape
    assert not np.isinf(img.vv).any()  # +-inf is no data (NaN); a few wild values may stay
    wild = np.abs(img.vv[np.isfinite(img.vv)]) > 1e4
    assert wild.size == 0 or wild.mean() <= 0.01  # more: refused as corrupt
    return "image"


def _mutate(raw: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(raw)
    for pos, value in edits:
        out[pos % len(out)] = value
    return bytes(out[:cut] if cut is not None else out)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    header=st.lists(st.tuples(st.integers(0, 511), st.integers(0, 255)), max_size=12),
    pixels=st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 255)), max_size=64),
    cut=st.one_of(st.none(), st.integers(0, 40_000)),
)
def test_mutated_geotiff_gives_an_image_or_a_typed_error(
    tmp_path_factory, seed_file, header, pixels, cut
):
    raw, blocks = seed_file
    start, size = blocks[0][0], sum(s for _, s in blocks)
    edits = header + [(start + pos % size, value) for pos, value in pixels]
    path = tmp_path_factory.mktemp("fuzz") / "mutant.tif"
    path.write_bytes(_mutate(raw, edits, cut))
    _outcome(path)


def test_random_mutations_for_a_bounded_time(tmp_path, seed_file):
    """As above with numpy's generator, for ``EO_DRR_FUZZ_SECONDS``: more cases in CI."""
    raw, _ = seed_file
    rng = np.random.default_rng(20240611)
    seen: dict[str, int] = {}
    path = tmp_path / "mutant.tif"
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        n = int(rng.integers(1, 40))
        in_header = rng.random(n) < 0.5
        pos = np.where(in_header, rng.integers(0, 512, n), rng.integers(0, len(raw), n))
        edits = list(zip(pos.tolist(), rng.integers(0, 256, n).tolist()))
        cut = int(rng.integers(0, len(raw))) if rng.random() < 0.1 else None
        path.write_bytes(_mutate(raw, edits, cut))
        kind = _outcome(path)
        seen[kind] = seen.get(kind, 0) + 1
    assert sum(seen.values()) > 0, seen
