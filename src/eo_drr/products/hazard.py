"""Flood hazard classes from water depth and, when known, the annual probability of flooding.

Source: the Swiss intensity x probability matrix of the federal flood hazard maps
(Gefahrenkarten): BWW, BRP, BUWAL (1997), *Empfehlungen: Berücksichtigung der
Hochwassergefahren bei raumwirksamen Tätigkeiten*, Bundesamt für Wasserwirtschaft, Bundesamt
für Raumplanung, Bundesamt für Umwelt, Wald und Landschaft, Biel/Bern; the cantons map flood
hazard with it (e.g. the Canton of Valais' hydrological hazard maps). We transcribed the
breaks and the matrix's cells from our reading of that practice, not line by line from the
1997 document: check them there before quoting them.

Intensity of static flooding from the water depth ``h`` (m; the matrix's dynamic criterion,
velocity x depth, needs a velocity we do not have and is not used):

========= ====================
weak      ``h < 0.5 m``
medium    ``0.5 m <= h < 2 m``
strong    ``h >= 2 m``
========= ====================

Probability from the annual probability of flooding ``p`` (1 / return period ``T``, per
year): high ``T <= 30`` years (``p >= 1/30``), medium ``30 < T <= 100``, low
``100 < T <= 300``, very low ``T > 300`` (``p < 1/300``).

Hazard classes (:data:`CLASS_NAMES`; the Swiss colours)::

                       probability:  high      medium    low       very low
    intensity strong                 4 high    4 high    4 high    1 residual
              medium                 4 high    3 medium  3 medium  1 residual
              weak                   3 medium  3 medium  2 low     1 residual

4 high is the Swiss red zone (considerable hazard), 3 medium blue, 2 low yellow, 1 residual
the yellow-white hatched zone (very rare events); 0 no flood, 255 no data.

**Depth only** (``frequency=None``, e.g. the flood job, which maps one event and knows no
return period): the class is the intensity alone, weak -> 2 low, medium -> 3 medium,
strong -> 4 high. That is an intensity map of the observed event in the matrix's class
names, not the Swiss hazard level (which needs the probability): a weak flood of high
probability is medium hazard in the matrix, low here.

The water-series job's ``water_frequency.tif`` is the share of *observation dates* with
water, not an annual probability: convert it (e.g. to the share of years flooded) before
passing it as ``frequency``. That job has no depth (no flood extent and DEM pair), so it
writes no hazard classes.
"""

from __future__ import annotations

import numpy as np

from eo_drr.errors import InputError

NO_FLOOD, RESIDUAL, LOW, MEDIUM, HIGH, NODATA = 0, 1, 2, 3, 4, 255
CLASS_NAMES = {
    NO_FLOOD: "no flood",
    RESIDUAL: "residual (very rare)",
    LOW: "low",
    MEDIUM: "medium",
    HIGH: "high",
}
#: the ``classes`` tag of the hazard raster
HAZARD_CLASSES = (
    "0 no flood, 1 residual, 2 low, 3 medium, 4 high, 255 no data (Swiss intensity x "
    "probability matrix, BWW/BRP/BUWAL 1997; from depth alone without a probability)"
)
#: colours of the Swiss hazard maps: red, blue, yellow, yellow-white
HAZARD_COLORS = {
    NO_FLOOD: (0, 0, 0, 0),
    RESIDUAL: (255, 255, 190, 255),
    LOW: (255, 230, 0, 255),
    MEDIUM: (0, 112, 255, 255),
    HIGH: (230, 0, 0, 255),
    NODATA: (128, 128, 128, 0),
}
#: intensity breaks (m of water depth): weak | medium | strong (BWW/BRP/BUWAL 1997)
DEPTH_BREAKS_M = (0.5, 2.0)
#: probability breaks (per year: 1/300, 1/100, 1/30): very low | low | medium | high
PROBABILITY_BREAKS = (1 / 300, 1 / 100, 1 / 30)
#: hazard class by [intensity: weak, medium, strong][probability: very low, low, medium, high]
MATRIX = np.array(
    [
        [RESIDUAL, LOW, MEDIUM, MEDIUM],
        [RESIDUAL, MEDIUM, MEDIUM, HIGH],
        [RESIDUAL, HIGH, HIGH, HIGH],
    ],
    dtype=np.uint8,
)
#: the class of each intensity without a probability (depth only)
DEPTH_ONLY = np.array([LOW, MEDIUM, HIGH], dtype=np.uint8)


def flood_hazard(
    depth: np.ndarray,
    frequency: np.ndarray | None = None,
    *,
    nodata: np.ndarray | None = None,
) -> np.ndarray:
    """Hazard classes (uint8, :data:`CLASS_NAMES`) of water ``depth`` (m, NaN where not
    flooded) and, when given, ``frequency``: the annual probability of flooding (0-1 per
    year, 1 / return period; NaN unknown). See the module's notes for the matrix.

    ``nodata``: True where it is not known whether there was a flood (255). A flooded pixel
    (finite depth) with an unknown ``frequency`` is 255 too; NaN depth elsewhere is 0 (no
    flood). Raises :class:`~eo_drr.errors.InputError` for negative depths, probabilities
    outside 0-1 or rasters of different shapes.
    """
    d = np.asarray(depth, dtype=np.float64)
    if d.ndim != 2:
        raise InputError(f"depth: expected a 2-D raster, got shape {d.shape}")
    wet = np.isfinite(d)
    if (d[wet] < 0).any():
        raise InputError("depth: negative water depths (expected metres >= 0, NaN off the flood)")
    intensity = np.digitize(np.where(wet, d, 0.0), DEPTH_BREAKS_M)
    if frequency is None:
        out = np.where(wet, DEPTH_ONLY[intensity], NO_FLOOD).astype(np.uint8)
    else:
        p = np.asarray(frequency, dtype=np.float64)
        if p.shape != d.shape:
            raise InputError(f"frequency {p.shape}: expected the depth's shape {d.shape}")
        known = np.isfinite(p)
        if ((p[known] < 0) | (p[known] > 1)).any():
            raise InputError("frequency: expected an annual probability, 0-1 per year")
        prob = np.digitize(np.where(known, p, 0.0), PROBABILITY_BREAKS)
        out = np.where(wet, MATRIX[intensity, prob], NO_FLOOD).astype(np.uint8)
        out[wet & ~known] = NODATA
    if nodata is not None:
        m = np.asarray(nodata, dtype=bool)
        if m.shape != d.shape:
            raise InputError(f"nodata {m.shape}: expected the depth's shape {d.shape}")
        out[m] = NODATA
    return out
