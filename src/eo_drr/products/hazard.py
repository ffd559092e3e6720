"""Flood hazard classes from water depth and, when known, the annual probability of flooding.

Practice followed: the Swiss hazard-map matrix, which crosses an intensity class (weak, medium,
strong) with a probability class (high, medium, low, very low) into hazard levels coloured red,
blue, yellow and yellow-white hatched. It was set out in BWW, BRP, BUWAL (1997),
*Empfehlungen: Berücksichtigung der Hochwassergefahren bei raumwirksamen Tätigkeiten*,
Bundesamt für Wasserwirtschaft, Bundesamt für Raumplanung, Bundesamt für Umwelt, Wald und
Landschaft, Biel/Bern, and restated in the federal *Vademecum: Hazard maps and related
instruments* (2005). Neither federal text was available to us; what we checked, and where:

- Probability classes by return period ``T``: high ``T < 30`` years, medium 30-100, low
  100-300, very low ``T > 300`` ("événement extrême"); four hazard degrees faible (jaune), moyen
  (bleu), élevé (rouge) and résiduel (hachuré). Source: Canton of Neuchâtel, SITN metadata of
  the water hazard map ``dn14_dangers_eaux``
  (https://sitn.ne.ch/geoshop2_api/metadata/dn14_dangers_eaux/html).
- Return periods 30, 100, 300 years and extreme; intensity in three steps from the water depth
  ``h`` and, for the dynamics, ``v*h``; red = considerable hazard (building ban), blue = medium
  (building with conditions), yellow = low (protection recommended), yellow-white hatched =
  residual hazard of very low probability. Source: Canton of Valais, "Hydrologische
  Gefahrenkarten" (https://vs.ch/de/web/sdana/hydrologie); its matrix is an image we could not
  read.
- Intensity of flooding: strong ``h > 2 m`` or ``v*h > 2 m2/s``, medium 0.5-2 m (0.5-2 m2/s),
  weak ``h < 0.5 m`` or ``v*h < 0.5 m2/s``, as the FLO-2D MapCrafter documentation quotes the
  2005 Vademecum (GitHub FLO-2DSoftware/FLO-2DMapCrafter, help page "Hazard Maps"); a secondary
  source, not the federal text.
- NOT verified: the class of each matrix cell below. It is the Swiss diagram as two of us
  independently remember it (nine fields: red for strong intensity at high, medium and low
  probability and for medium intensity at high probability; blue for medium intensity at
  medium and low probability and for weak intensity at high probability; yellow for weak
  intensity at medium and low probability; yellow-white hatched for very low probability), not
  a transcription: check it in BWW/BRP/BUWAL (1997) before quoting these cells as the Swiss
  matrix.

Latin America and the Caribbean: we found no national depth x frequency matrix with a text we
could read. Swiss cooperation (COSUDE) carried the Swiss method to Central America, e.g.
COSUDE/ALARN (2002), *Instrumentos de apoyo para el análisis y la gestión de riesgos naturales
en el ámbito municipal de Nicaragua - Guía para el especialista*, Managua, whose section
"Evaluación del grado de amenaza o peligrosidad" we saw only in its table of contents. Peru's
CENEPRED *Manual para la evaluación del riesgo originado por fenómenos naturales* (2nd ed. 2014,
3rd ed. 2019) appears to grade hazard by weighted parameters (Saaty pairwise comparison), not
by a depth x frequency matrix (seen in a practitioner worksheet, not in the manual).

Intensity of static flooding from the water depth ``h`` (m; the dynamic criterion ``v*h``
needs a velocity we do not have and is not used; the quoted criteria do not say clearly where
a depth of exactly 0.5 m or 2 m falls, and here it goes to the higher class):

========= ====================
weak      ``h < 0.5 m``
medium    ``0.5 m <= h < 2 m``
strong    ``h >= 2 m``
========= ====================

Probability from the annual probability of flooding ``p`` (1 / return period ``T``, per
year): high ``T <= 30`` years (``p >= 1/30``), medium ``30 < T <= 100``, low
``100 < T <= 300``, very low ``T > 300`` (``p < 1/300``); a return period of exactly 30, 100
or 300 years, which the sources leave open, goes to the more probable class.

Hazard classes (:data:`CLASS_NAMES`; the Swiss colours; cells NOT verified, see above)::

                       probability:  high      medium    low       very low
    intensity strong                 4 high    4 high    4 high    1 residual
              medium                 4 high    3 medium  3 medium  1 residual
              weak                   3 medium  2 low     2 low     1 residual

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
from eo_drr.i18n import gettext as _

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
#: intensity breaks (m of water depth): weak | medium | strong (Swiss practice, module notes)
DEPTH_BREAKS_M = (0.5, 2.0)
#: probability breaks (per year: 1/300, 1/100, 1/30): very low | low | medium | high
PROBABILITY_BREAKS = (1 / 300, 1 / 100, 1 / 30)
#: hazard class by [intensity: weak, medium, strong][probability: very low, low, medium, high]
#: (our reading of the Swiss diagram, not verified cell by cell: module notes)
MATRIX = np.array(
    [
        [RESIDUAL, LOW, LOW, MEDIUM],
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
        raise InputError(_("depth: expected a 2-D raster, got shape {shape}").format(shape=d.shape))
    wet = np.isfinite(d)
    if (d[wet] < 0).any():
        raise InputError(
            _("depth: negative water depths (expected metres >= 0, NaN off the flood)")
        )
    intensity = np.digitize(np.where(wet, d, 0.0), DEPTH_BREAKS_M)
    if frequency is None:
        out = np.where(wet, DEPTH_ONLY[intensity], NO_FLOOD).astype(np.uint8)
    else:
        p = np.asarray(frequency, dtype=np.float64)
        if p.shape != d.shape:
            raise InputError(
                _("frequency {shape}: expected the depth's shape {expected}").format(
                    shape=p.shape, expected=d.shape
                )
            )
        known = np.isfinite(p)
        if ((p[known] < 0) | (p[known] > 1)).any():
            raise InputError(_("frequency: expected an annual probability, 0-1 per year"))
        prob = np.digitize(np.where(known, p, 0.0), PROBABILITY_BREAKS)
        out = np.where(wet, MATRIX[intensity, prob], NO_FLOOD).astype(np.uint8)
        out[wet & ~known] = NODATA
    if nodata is not None:
        m = np.asarray(nodata, dtype=bool)
        if m.shape != d.shape:
            raise InputError(
                _("nodata {shape}: expected the depth's shape {expected}").format(
                    shape=m.shape, expected=d.shape
                )
            )
        out[m] = NODATA
    return out
