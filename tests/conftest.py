"""Shared fixtures.

- ``shared_data``: the real data folder (EO_DRR_SHARED_DATA, default ../shared/data); tests
  that need it skip with the reason when it is absent.
- ``demo_scene``: a small demo scene (256 x 256 px) generated once per session into a
  temporary cache, so tests never touch the user's cache.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

#: x86-64-v3 (AVX2, FMA): the CPU code paths the test session is pinned to, so that results
#: compared bit for bit with the recorded manifest (tests/test_behaviour_manifest.py) do not
#: depend on the CPU that runs the tests. Unpinned, numpy takes its AVX-512 paths where the
#: CPU has them (float32 ``log10`` and ``power`` differ from its AVX2 paths in the last
#: bits), numba compiles for the host CPU (its vector width and tuning set the order of
#: fast-math reductions) and OpenBLAS picks a kernel per CPU. Set before numpy is imported
#: (pyproject's ``-p no:zarr`` keeps zarr's pytest plugin from importing it first).
CPU_PINS = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "NUMBA_CPU_NAME": "x86-64-v3",
    "NUMBA_CPU_FEATURES": "",
    "OPENBLAS_CORETYPE": "Haswell",
}
#: the CPU flags of x86-64-v3 (Linux /proc/cpuinfo names)
_V3_FLAGS = {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}


def _runs_x86_64_v3() -> bool:
    if platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = next(
        (ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []
    )
    return _V3_FLAGS <= set(flags)


#: why results here cannot be compared with the manifest bit for bit, or None
CPU_UNPINNED: str | None = None
if not _runs_x86_64_v3():
    CPU_UNPINNED = "the manifest is recorded on x86-64-v3 code paths; this CPU has no AVX2/FMA"
elif "numpy" in sys.modules and not all(os.environ.get(k) == v for k, v in CPU_PINS.items()):
    CPU_UNPINNED = (
        "numpy was imported before tests/conftest.py could pin its CPU code paths (a pytest "
        "plugin?): run with " + " ".join(f"{k}={v!r}" for k, v in CPU_PINS.items())
    )
else:
    os.environ.update(CPU_PINS)  # this process and the eo-drr commands the tests start

import pytest  # noqa: E402

from eo_drr.settings import shared_data_dir  # noqa: E402

# tests read English messages whatever the developer's locale (tests/test_i18n.py sets others)
os.environ.setdefault("EO_DRR_LANG", "en")

DEMO_TEST_SIZE = 256
DEMO_TEST_SEED = 7


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"real data folder not found at {root} (set EO_DRR_SHARED_DATA)")
    return root


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Point EO_DRR_CACHE at a session temp folder (unless the caller set one)."""
    if "EO_DRR_TEST_KEEP_CACHE" in os.environ and "EO_DRR_CACHE" in os.environ:
        yield Path(os.environ["EO_DRR_CACHE"])
        return
    cache = tmp_path_factory.mktemp("eo-drr-cache")
    old = os.environ.get("EO_DRR_CACHE")
    os.environ["EO_DRR_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("EO_DRR_CACHE", None)
    else:
        os.environ["EO_DRR_CACHE"] = old


@pytest.fixture(scope="session")
def small_demo_scene(_isolated_cache):
    """The demo scene at test size, generated once into the session cache."""
    from eo_drr.demo import ensure_demo_scene

    return ensure_demo_scene(seed=DEMO_TEST_SEED, size=DEMO_TEST_SIZE)
