"""Synthetic demo scene with known truth, read through the normal STAC search-and-load path.

A river floodplain town (Villahermosa, Mexico) or a desert city beside a dry riverbed
(Arequipa, Peru) on a 10 m UTM grid, deterministic from a seed and sized by a parameter:
Sentinel-1 RTC and Sentinel-2 L2A time series, a 30 m DEM and HAND, a 100 m population grid,
WorldCover-like land cover, admin units, facilities and roads, and the truth (flood extent,
permanent water, built-up at two epochs, wetland), all in a static STAC catalogue of COGs.

>>> from eo_drr.demo import ensure_demo_scene
>>> scene = ensure_demo_scene(seed=42, size=256)            # doctest: +SKIP
>>> scene.catalog_path, scene.crs, scene.event_date         # doctest: +SKIP

Modules: :mod:`.physics` (published constants), :mod:`.sites` (places and dates),
:mod:`.fields` (seeded smooth noise), :mod:`.landscape` (terrain, land cover, flood truth),
:mod:`.sensors` (S1/S2 simulation), :mod:`.population`, :mod:`.vectors`, :mod:`.catalog`
(COGs + STAC), :mod:`.generate` (``generate_scene``), :mod:`.cache` (``ensure_demo_scene``),
:mod:`.scene` (``DemoScene``).
"""

from eo_drr.demo.cache import ensure_demo_scene
from eo_drr.demo.generate import GENERATOR_VERSION, generate_scene
from eo_drr.demo.scene import DemoScene
from eo_drr.demo.sites import LANDSCAPES
from eo_drr.demo.truth import TRUTH_LAYERS

__all__ = [
    "GENERATOR_VERSION",
    "LANDSCAPES",
    "TRUTH_LAYERS",
    "DemoScene",
    "ensure_demo_scene",
    "generate_scene",
]
