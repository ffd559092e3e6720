"""Package layout: the library lives in src/eo_drr, the pipeline definitions in the
top-level pipelines/ folder (the layout our users asked for); both install as one package,
the pipelines as ``eo_drr.pipelines`` and the example job files as ``eo_drr.configs``
(so ``eo-drr demo`` finds configs/demo.yaml in any install). Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=find_packages("src") + ["eo_drr.pipelines", "eo_drr.configs"],
    package_dir={"": "src", "eo_drr.pipelines": "pipelines", "eo_drr.configs": "configs"},
    package_data={"eo_drr.configs": ["*.yaml"], "eo_drr.publish": ["static/leaflet/*"]},
)
