"""GHS-POP-like population grid at 100 m, with bands by sex and age.

Persons are first spread over the 10 m pixels (dense in built-up, sparse on farmland), then
summed into 100 m cells aligned with the 10 m grid (each cell = 10 x 10 pixels; the last row
and column of cells may stick out of the scene, and hold only the people inside it). Sex and
age bands split each cell's total with the national census shares of
:data:`eo_drr.demo.physics.POP_SHARES`, so ``female + male == total`` and
``age_0_14 + age_15_64 + age_65_plus == total`` up to float32 rounding.
"""

from __future__ import annotations

import numpy as np

from eo_drr.demo import physics as P
from eo_drr.demo.fields import block_reduce, rng_for, smooth_field
from eo_drr.demo.landscape import RESOLUTION_M, Landscape
from eo_drr.demo.physics import SurfaceClass as C
from eo_drr.demo.sites import Site

#: Population cell size (m) and cells per 10 m pixel side.
POP_RESOLUTION_M = 100.0
POP_FACTOR = int(POP_RESOLUTION_M / RESOLUTION_M)
#: Asset names of the population bands, in order.
POP_BANDS: tuple[str, ...] = ("total", "female", "male", "age_0_14", "age_15_64", "age_65_plus")


def persons_per_pixel(land: Landscape, site: Site, seed: int) -> np.ndarray:
    """Residents per 10 m pixel (float64) at the event (built-up epoch 2)."""
    n = land.size
    rng = rng_for(seed, site.name, "population")
    km2 = (RESOLUTION_M / 1000.0) ** 2  # one pixel, km^2
    spread = np.tanh(smooth_field(rng, (n, n), 0.03 * n))  # -1..1
    density = np.zeros((n, n), dtype=np.float64)  # persons / km^2
    core = land.builtup_t1
    growth = land.builtup_t2 & ~land.builtup_t1
    urban = P.POP_URBAN_DENSITY_KM2 * (1.0 + P.POP_URBAN_SPREAD * spread)
    density[core] = urban[core]
    density[growth] = P.POP_GROWTH_FRACTION * urban[growth]
    yy, xx = np.mgrid[0:n, 0:n]
    dist = np.hypot(yy - land.town_yx[0], xx - land.town_yx[1]) / n
    rural_classes = [C.CROP, C.GRASS, C.SHRUB, C.BARE]
    rural = np.isin(land.classes_t2, [int(c) for c in rural_classes]) & ~land.builtup_t2
    desert = land.classes_t2 == C.DESERT
    near = np.exp(-dist / 0.3)
    rural_density = P.POP_RURAL_DENSITY_KM2 * (0.6 + 0.4 * spread) * (0.4 + near)
    density[rural] = rural_density[rural]
    density[desert] = 0.1 * rural_density[desert]
    return density * km2


def population_bands(persons: np.ndarray, site: Site) -> dict[str, np.ndarray]:
    """100 m cells of persons (float32) per band of :data:`POP_BANDS`."""
    total = block_reduce(persons, POP_FACTOR, "sum", pad="zero")
    shares = P.POP_SHARES[site.country]
    female = total * shares["female"]
    young = total * shares["age_0_14"]
    old = total * shares["age_65_plus"]
    out = {
        "total": total,
        "female": female,
        "male": total - female,
        "age_0_14": young,
        "age_15_64": total - young - old,
        "age_65_plus": old,
    }
    return {k: v.astype(np.float32) for k, v in out.items()}
