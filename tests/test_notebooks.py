"""The notebooks under notebooks/ run end to end (offline) and are committed without outputs.

Each notebook is executed with nbclient in a kernel of this interpreter (ipykernel), in a
temporary working folder, with the demo cache isolated (conftest's ``EO_DRR_CACHE``) and the
online cells told to skip (``EO_DRR_OFFLINE=1``), so the result never depends on the network.
The online cells of your_own_town.ipynb run once more against the demo scene's static
catalogue (a cell injected after its helpers), so their search-pick-run path is exercised too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 240
KERNEL = "eo-drr-tests"


def _kernel_manager(tmp_path: Path):
    """A kernel manager that starts ipykernel in this very interpreter (whatever kernels the
    user has installed elsewhere)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = tmp_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "eo-drr tests",
                "language": "python",
            }
        )
    )
    specs = KernelSpecManager(kernel_dirs=[str(spec.parent)])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def _execute(nb, tmp_path: Path) -> Path:
    """Run ``nb`` in place in a fresh kernel, in ``tmp_path/work``; returns that folder."""
    work = tmp_path / "work"
    work.mkdir()
    client = nbclient.NotebookClient(
        nb,
        km=_kernel_manager(tmp_path),
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()  # raises CellExecutionError naming the cell when one raises
    errors = [
        (i, out.get("ename"), out.get("evalue"))
        for i, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, errors
    return work


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
    return "".join(parts)


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "your_own_town.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    stored = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not stored, (
        f"{path.name}: cells {stored} hold outputs; clear them "
        "(jupyter nbconvert --clear-output --inplace notebooks/*.ipynb)"
    )


def test_quickstart_says_the_demo_is_synthetic():
    nb = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "SYNTHETIC" in first.source
    assert "not a real event" in first.source.lower()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_offline(path, tmp_path, monkeypatch, _isolated_cache):
    monkeypatch.setenv("EO_DRR_OFFLINE", "1")
    monkeypatch.setenv("EO_DRR_CACHE", str(_isolated_cache))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    work = _execute(nb, tmp_path)
    text = _outputs_text(nb)
    if path.name == "your_own_town.ipynb":
        assert "offline: skipping this cell" in text
    if path.name == "quickstart.ipynb":
        assert (work / "out" / "report.html").is_file()
        # every plot cell shows its figure: a run must not switch the notebook's matplotlib
        # backend (matplotlib.use("Agg") in the report code did, and the plots vanished)
        plots = [i for i, cell in enumerate(nb.cells) if "plt.show()" in cell.source]
        shown = {
            i
            for i, cell in enumerate(nb.cells)
            for out in cell.get("outputs", [])
            if "image/png" in out.get("data", {})
        }
        assert plots and set(plots) <= shown, f"cells {sorted(set(plots) - shown)} showed no plot"
        assert not (path.parent / "out").exists(), "the notebook wrote next to itself"


@pytest.mark.slow
def test_your_own_town_online_path_on_the_demo_catalogue(
    tmp_path, monkeypatch, _isolated_cache, small_demo_scene
):
    """The online cells (search, group by relative orbit, pick the dates, build and run the
    job) on the demo scene's static catalogue instead of Planetary Computer: a cell injected
    after the helpers points the parameters at it and says the host is reachable."""
    monkeypatch.delenv("EO_DRR_OFFLINE", raising=False)
    monkeypatch.setenv("EO_DRR_CACHE", str(_isolated_cache))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    sc = small_demo_scene
    nb = nbformat.read(ROOT / "notebooks" / "your_own_town.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "def online(" in c.source) + 1
    nb.cells.insert(
        at,
        nbformat.v4.new_code_cell(
            "import sys, types\n"
            f"BBOX = {tuple(sc.bbox_wgs84)!r}\n"
            f"CATALOG = {str(sc.catalog_path)!r}\n"
            f"EVENT_DATE = {sc.post_date.isoformat()!r}\n"
            "online = lambda *a, **k: True  # noqa: E731\n"
            "sys.modules.setdefault('planetary_computer', types.ModuleType('planetary_computer'))\n"
        ),
    )
    work = _execute(nb, tmp_path)
    text = _outputs_text(nb)
    assert "offline: skipping" not in text
    assert f"picked orbit {sc.relative_orbit} {sc.orbit_state}: " in text
    assert "suggested pair" in text
    assert (work / "my-town-output" / "flood_extent.tif").is_file()
    assert any("image/png" in o.get("data", {}) for o in nb.cells[-1].outputs)
