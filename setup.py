"""Package layout: the library lives in src/eo_drr, the pipeline definitions in the
top-level pipelines/ folder (the layout our users asked for); both install as one package,
the pipelines as ``eo_drr.pipelines``. Everything else is in pyproject.toml."""
from setuptools import find_packages, setup

setup(
    packages=find_packages("src") + ["eo_drr.pipelines"],
    package_dir={"": "src", "eo_drr.pipelines": "pipelines"},
)
