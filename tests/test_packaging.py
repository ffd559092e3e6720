"""pyproject.toml and environment.yml list the same packages; the README's commands and
.ci/run agree."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name where they differ.
CONDA_NAME = {"dask[array]": "dask", "cupy-cuda12x": "cupy"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~ ;]", req, maxsplit=1)[0].strip().lower()


def _pyproject_packages() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for lst in meta["optional-dependencies"].values():
        reqs += [r for r in lst if not r.startswith("eo-drr")]
    return {CONDA_NAME.get(_name(r), _name(r)) for r in reqs}


def _environment_packages() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    return names - {"python", "pip"}


def test_environment_yml_matches_pyproject():
    py, conda = _pyproject_packages(), _environment_packages()
    assert py - conda == set(), f"in pyproject.toml but not environment.yml: {sorted(py - conda)}"
    assert conda - py == set(), f"in environment.yml but not pyproject.toml: {sorted(conda - py)}"


def test_versions_agree():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + [
        r for v in meta["optional-dependencies"].values() for r in v
    ]
    py = {
        CONDA_NAME.get(_name(r), _name(r)): r[len(_name(r)) :].strip()
        for r in reqs
        if not r.startswith("eo-drr")
    }
    py = {k: re.sub(r"^\[[^\]]*\]", "", v) for k, v in py.items()}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    for dep in env["dependencies"]:
        if not isinstance(dep, str) or _name(dep) in ("python", "pip"):
            continue
        assert dep[len(_name(dep)) :].strip() == py[_name(dep)], (
            f"version bound of {_name(dep)} differs"
        )


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S)
    return [b.strip() for b in blocks[:2]]


def test_readme_opens_with_the_two_commands():
    demo, tests = _readme_commands()
    assert "eo-drr demo" in demo or "eo-drr run configs/demo.yaml" in demo
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command():
    _, tests = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    for line in tests.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            assert line in ci, f".ci/run does not run the README's test command line: {line}"
