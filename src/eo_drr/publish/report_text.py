"""Every word the HTML report shows, in one place, so that translations can be added later
without touching the layout.

``_(msgid)`` is the one door: the text in the current language (:mod:`eo_drr.i18n`, the
gettext catalogues); texts kept in tables are marked ``N_`` so that extraction finds them, and
translated where they are shown. Texts with figures are format strings (``_("about {n} people").format(n=...)``), so a
translator sees the whole sentence. This module also holds how numbers are said: people
rounded and prefixed "about", shares as percent, thresholds to one or two decimals.
"""

from __future__ import annotations

import math
import re
from typing import Any

from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _


# -- numbers in words ---------------------------------------------------------------------------
def round_people(n: float) -> int:
    """People rounded to what the data can tell: whole persons below 100, then two
    significant figures (1 234 -> 1 200): population grids are estimates, not counts."""
    if not math.isfinite(n) or n < 0.5:
        return 0
    if n < 100:
        return int(round(n))
    digits = int(math.floor(math.log10(n))) - 1
    return int(round(n, -digits))


def people_text(n: float) -> str:
    """``about 1,200 people``; ``fewer than one person`` under half a person."""
    if math.isfinite(n) and 0 < n < 0.5:
        return _("fewer than one person")
    r = round_people(n)
    if r == 1:
        return _("about 1 person")
    return _("about {n} people").format(n=f"{r:,}")


def area_text(ha: float) -> str:
    """Hectares with a precision that suits the size (0.3 ha, 12 ha, 1,230 ha)."""
    if ha < 10:
        return _("{x} ha").format(x=f"{ha:,.1f}")
    return _("{x} ha").format(x=f"{ha:,.0f}")


def number(v: Any) -> str:
    """A table cell: at most two decimals, thousands separated."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    x = float(v)
    if not math.isfinite(x):
        return ""
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:,.2f}" if abs(x) >= 1 else f"{x:.2g}"


def percent(share: float) -> str:
    """A 0-1 share as ``93 %`` (one decimal under 10 %)."""
    p = 100 * share
    return f"{p:.1f} %" if 0 < p < 10 else f"{p:.0f} %"


# -- the per-unit table's headers ------------------------------------------------------------
#: human headers (with units) of the indicator tables' columns; others are spelled out
COLUMN_LABELS = {
    "code": N_("Code"),
    "name": N_("Place"),
    "level": N_("Admin level"),
    "area_ha": N_("Area (ha)"),
    "observed_ha": N_("Area observed (ha)"),
    "observed_share": N_("Observed (%)"),
    "nodata_share": N_("Not observed (%)"),
    "flooded_ha": N_("Flooded area (ha)"),
    "population": N_("People living here (about)"),
    "exposed_population": N_("People in the flooded area (about)"),
    "cropland_ha": N_("Cropland (ha)"),
    "flooded_cropland_ha": N_("Flooded cropland (ha)"),
    "builtup_ha": N_("Built-up area (ha)"),
    "flooded_builtup_ha": N_("Flooded built-up area (ha)"),
    "health_facilities": N_("Health facilities"),
    "flooded_health": N_("Health facilities flooded"),
    "education_facilities": N_("Schools"),
    "flooded_education": N_("Schools flooded"),
    "road_km": N_("Roads (km)"),
    "flooded_road_km": N_("Flooded roads (km)"),
    "new_builtup_ha": N_("New built-up (ha)"),
    "new_builtup_hazard_ha": N_("New built-up in hazard zones (ha)"),
    "new_builtup_formal_ha": N_("New built-up, formal (ha)"),
    "builtup_t1_ha": N_("Built-up, first period (ha)"),
    "builtup_t2_ha": N_("Built-up, second period (ha)"),
}
#: columns that hold a 0-1 share, shown as percent
SHARE_COLUMNS = ("observed_share", "nodata_share")
#: columns that hold people, rounded with :func:`round_people`
PEOPLE_COLUMNS = ("population", "exposed_population")


def column_label(key: str) -> str:
    """The header of column ``key``: from :data:`COLUMN_LABELS`, else spelled out
    (``flooded_bridge_km`` -> ``Flooded bridge (km)``)."""
    if key in COLUMN_LABELS:
        return _(COLUMN_LABELS[key])
    m = re.fullmatch(r"(.*)_(ha|km|m|pct)", key)
    words, unit = (m.group(1), m.group(2)) if m else (key, "")
    text = words.replace("_", " ").strip().capitalize()
    return f"{text} ({'%' if unit == 'pct' else unit})" if unit else text


# -- the map's class words --------------------------------------------------------------------
#: words of the flood classes (1 flood, 2 water before and after, 0 not flooded, 255 no data)
FLOOD_CLASS_WORDS = {
    0: N_("not flooded"),
    1: N_("flooded"),
    2: N_("water before and after the event (rivers, lakes)"),
    255: N_("not observed (no data)"),
}


def class_words(value: int) -> str:
    """The words of a flood class, or ``class N`` for a code without words."""
    words = FLOOD_CLASS_WORDS.get(int(value))
    return _(words) if words else _("class {n}").format(n=int(value))


# -- titles ---------------------------------------------------------------------------------
def flood_title(job: str, date: str, synthetic: bool) -> str:
    """The flood report's title; the demo's does not read like a real event."""
    if synthetic:
        return _("Flood map of a synthetic demo scene (job {job}, simulated date {date})").format(
            job=job, date=date
        )
    return _("Flood: {job} ({date})").format(job=job, date=date)


def growth_title(job: str, start: str, end: str, synthetic: bool) -> str:
    """The urban-growth report's title; the demo's does not read like a real place."""
    if synthetic:
        return _("Urban growth in a synthetic demo scene (job {job}, {start} to {end})").format(
            job=job, start=start, end=end
        )
    return _("Urban growth: {job} ({start} to {end})").format(job=job, start=start, end=end)


# -- the boxes ------------------------------------------------------------------------------
DEMO_BANNER = N_("Synthetic demo data — not a real event")
DEMO_EXPLAINED = N_(
    "Everything in this report was computed from a simulated scene that eo-drr generates for "
    "practice and testing. The places, people, dates and satellite images are made up. Do not "
    "use these figures for any decision."
)
PROXY_NOTE = N_(
    "All figures are Earth-observation proxies computed inside the observed hazard footprint. "
    "They are not reported Sendai Framework values: satellites cannot count deaths, injuries "
    "or damage. Areas the satellite did not see count as not flooded, so the counts are lower "
    "bounds; see the observed share."
)
#: where to get admin units and population, with their licences (the no-exposure box)
EXPOSURE_SOURCES = (
    ("geoBoundaries", N_("administrative units"), "CC BY 4.0", "https://www.geoboundaries.org"),
    (
        "GADM",
        N_("administrative units"),
        N_("free for non-commercial use only"),
        "https://gadm.org",
    ),
    ("WorldPop", N_("population"), "CC BY 4.0", "https://www.worldpop.org"),
    ("GHS-POP", N_("population"), "CC BY 4.0", "https://human-settlement.emergency.copernicus.eu"),
)
EXPOSURE_HOWTO = N_(
    "This report shows the hazard over the whole area only. To see flooded area, people, "
    "cropland, facilities and roads per municipality or district, add an exposure: section "
    "to the job file with admin_units (a file of boundaries with a code and a name) and "
    "population (a raster of people per cell), then run the job again."
)
