"""Data flows one way: no module imports a layer above its own.

Layers, lowest first (a module may import its own package and any lower rank; packages of
the same rank are independent of each other)::

    errors, settings  <  i18n  <  io  <  kernels | config | demo  <  catalog  <  load  <  indices
    <  products  <  sendai  <  publish  <  jobs  <  pipelines  <  engine  <  api  <  cli
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RANK = {
    "errors": 0,
    "settings": 0,
    "io": 2,
    "i18n": 1,
    "kernels": 3,
    "config": 3,
    "demo": 3,
    "catalog": 4,
    "load": 5,
    "indices": 6,
    "products": 7,
    "sendai": 8,
    "publish": 9,
    "jobs": 10,
    "pipelines": 11,
    "engine": 12,
    "api": 13,
    "cli": 14,
}


def _modules():
    for path in sorted((ROOT / "src" / "eo_drr").rglob("*.py")):
        rel = path.relative_to(ROOT / "src" / "eo_drr").parts
        yield path, (rel[0].removesuffix(".py") if len(rel) > 1 or rel[0] != "__init__.py" else "")
    for path in sorted((ROOT / "pipelines").rglob("*.py")):
        yield path, "pipelines"


def _eo_drr_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [m for m in found if m == "eo_drr" or m.startswith("eo_drr.")]


MODULES = list(_modules())


def test_every_layer_is_ranked():
    layers = {layer for _, layer in MODULES if layer and layer != "__main__"}
    assert layers - set(RANK) == set(), f"unranked layer(s): {layers - set(RANK)}; add them to RANK"


@pytest.mark.parametrize("path,layer", MODULES, ids=[str(p.relative_to(ROOT)) for p, _ in MODULES])
def test_no_import_reaches_up(path, layer):
    if not layer:
        return
    for mod in _eo_drr_imports(path):
        parts = mod.split(".")
        if len(parts) < 2:
            continue
        target = parts[1]
        if target == layer:
            continue
        assert target in RANK, f"{path.name} imports unknown layer {mod}"
        assert RANK[target] < RANK[layer], (
            f"{path.relative_to(ROOT)} (layer {layer}, rank {RANK[layer]}) imports {mod} "
            f"(layer {target}, rank {RANK[target]}): data must flow one way"
        )


def test_the_architecture_page_lists_the_layers_in_order():
    """docs/architecture.md shows the same layers and ranks as RANK (a newcomer reads it)."""
    import re

    page = (ROOT / "docs" / "architecture.md").read_text()
    rows = re.findall(r"^\| (\d+) \| ([a-z0-9, ]+) \|", page, re.M)
    documented = {name.strip(): int(rank) for rank, names in rows for name in names.split(",")}
    assert documented == RANK
