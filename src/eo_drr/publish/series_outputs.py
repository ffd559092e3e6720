"""The water series job's report: the water frequency map, the surface-water classes with
their cut-offs in words, the number of dates and the class areas (:mod:`eo_drr.products.frequency`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pystac
from affine import Affine
from odc.geo.geobox import GeoBox

from eo_drr.i18n import N_
from eo_drr.io.cog import CogStyle, write_cog
from eo_drr.load import read_for_display
from eo_drr.products import frequency as fq
from eo_drr.publish.demo_marks import items_are_synthetic
from eo_drr.publish.headline import KeyFigure
from eo_drr.publish.rasters import grid_array
from eo_drr.publish.report import MapLayer, ReportContent, write_report
from eo_drr.publish.report_text import _, area_text, percent
from eo_drr.publish.staging import OutputFolder

#: no data on the classes map (fewer valid observations than ``min_observations``)
NODATA_COLOR = (150, 150, 150, 140)
#: a series covering fewer days is read as a year all the same: the report warns
YEAR_DAYS = 365
METHOD = N_(
    "Open water was mapped on each Sentinel-1 date (a scene threshold of the backscatter, "
    "grown from confident seeds). The water frequency of a pixel is the share of its valid "
    "observations that saw open water; the classes read it as months of water in a year, in "
    "the style of the JRC Global Surface Water dataset (Pekel et al. 2016, Nature "
    "540:418-422)."
)


@dataclass(frozen=True)
class SeriesReport:
    """What the series report shows: the job's name, the Sentinel-1 ``items`` of the series,
    the frequency result (:class:`~eo_drr.products.frequency.FrequencyResult`) on
    ``geobox``, the cube's ``dates`` (ISO, oldest first), the relative orbit and the class
    cut-offs used."""

    job: str
    items: Sequence[pystac.Item]
    result: fq.FrequencyResult
    geobox: GeoBox
    dates: Sequence[str]
    relative_orbit: int | None
    params: fq.FrequencyParams
    #: hectares per class code, counted at full resolution where ``result`` is a display
    #: read of a larger grid (a tiled job's mosaics, :func:`class_areas`); None: from
    #: ``result``
    class_ha: Mapping[int, float] | None = None


def cut_off_words(params: fq.FrequencyParams) -> dict[int, str]:
    """Each class's rule in words (class code -> text), shares of the valid observations in
    percent and months of water a year (``12 x frequency``)."""
    perm, rare = params.permanent_months, params.rare_months
    p_share, r_share = percent(perm / 12), percent(rare / 12)
    return {
        fq.PERMANENT: _(
            "water on {share} or more of the valid observations ({months} months a year or more)"
        ).format(share=p_share, months=f"{perm:g}"),
        fq.SEASONAL: _(
            "water on {low} to {high} of the valid observations ({m1} to {m2} months a year)"
        ).format(low=r_share, high=p_share, m1=f"{rare:g}", m2=f"{perm:g}"),
        fq.RARE: _(
            "water on some valid observations, but fewer than {share} (less than {months} "
            "month(s) a year): the one-off floods"
        ).format(share=r_share, months=f"{rare:g}"),
        fq.NEVER: _("no water on any valid observation"),
        fq.NODATA: _("fewer than {n} valid observations").format(n=params.min_observations),
    }


def read_mosaics(
    frequency: Path, observations: Path, classes: Path
) -> tuple[fq.FrequencyResult, GeoBox]:
    """A tiled job's frequency layers (the mosaics' paths) read for its report, at most 2048
    px on the longer side (:func:`~eo_drr.load.read_for_display`: the full resolution up to
    that size, else the COG overviews: the frequency's averaged, the others' nearest), on
    the grid returned. ``water`` is the frequency times the observations (exact at full
    resolution: the counts' quotient)."""
    freq = read_for_display(frequency)
    f = freq.values.astype(np.float32)
    n_valid = read_for_display(observations).values.astype(np.uint16)
    n_water = np.rint(np.nan_to_num(f) * n_valid).astype(np.uint16)
    result = fq.FrequencyResult(f, n_valid, n_water, read_for_display(classes).values)
    shape = (freq.shape[0], freq.shape[1])
    return result, GeoBox(shape, freq.rio.transform(), freq.rio.crs.to_wkt())


def class_areas(path: Path) -> dict[int, float]:
    """Hectares per class code of a classes raster (``water_classes.tif``), counted block by
    block (memory of one block, whatever the size of the raster)."""
    import rasterio

    with rasterio.open(path) as src:
        px_ha = abs(src.transform.a * src.transform.e) / 1e4
        n = np.zeros(256, dtype=np.int64)
        for _ij, window in src.block_windows(1):
            n += np.bincount(src.read(1, window=window).ravel(), minlength=256)
    return {code: float(n[code] * px_ha) for code in fq.CLASS_NAMES}


def covered_days(dates: Sequence[str]) -> float:
    """The days a series of ``dates`` (ISO, oldest first, two or more) stands for: its span
    plus one mean interval (each date stands for the interval around it), so 31 dates 12
    days apart cover 372 days."""
    span = (dt.date.fromisoformat(dates[-1]) - dt.date.fromisoformat(dates[0])).days
    return span * len(dates) / (len(dates) - 1)


def _title(job: str, start: str, end: str, synthetic: bool) -> str:
    if synthetic:
        return _(
            "Water frequency in a synthetic demo scene (job {job}, simulated dates {start} to "
            "{end})"
        ).format(job=job, start=start, end=end)
    return _("Water frequency: {job} ({start} to {end})").format(job=job, start=start, end=end)


def _layers(r: SeriesReport) -> list[MapLayer]:
    freq = np.where(r.result.frequency > 0, r.result.frequency, np.nan).astype(np.float32)
    words = cut_off_words(r.params)
    shown = (fq.RARE, fq.SEASONAL, fq.PERMANENT)
    colors = {**{c: fq.CLASS_COLORS[c] for c in shown}, fq.NODATA: NODATA_COLOR}
    labels = {c: f"{_(fq.CLASS_NAMES[c])}: {words[c]}" for c in shown}
    return [
        MapLayer(
            _("Water frequency"),
            grid_array(freq, "frequency", r.geobox),
            cmap="Blues",
            vmin=0.0,
            vmax=1.0,
            legend=_(
                "share of the valid observations with open water, light (rarely) to dark "
                "(always); never water is left clear"
            ),
        ),
        MapLayer(
            _("Surface-water classes"),
            grid_array(r.result.classes, "classes", r.geobox),
            colors=colors,
            labels={**labels, fq.NODATA: f"{_('no data')}: {words[fq.NODATA]}"},
            show=False,
        ),
    ]


def _headline(r: SeriesReport, start: str, end: str) -> list[KeyFigure]:
    px_ha = abs(r.geobox.resolution.x * r.geobox.resolution.y) / 1e4
    figures = [
        KeyFigure(
            _("Dates in the series"),
            str(len(r.dates)),
            _("{start} to {end}, relative orbit {orbit}").format(
                start=start, end=end, orbit=r.relative_orbit
            ),
        )
    ]
    for code in (fq.PERMANENT, fq.SEASONAL, fq.RARE):
        ha = r.class_ha[code] if r.class_ha else float((r.result.classes == code).sum() * px_ha)
        figures.append(KeyFigure(_(fq.CLASS_NAMES[code]), area_text(ha)))
    return figures


def write_series_report(path: Path, r: SeriesReport) -> Path:
    """Write the water series report (HTML) at ``path``."""
    start, end = r.dates[0], r.dates[-1]
    warnings = []
    days = covered_days(r.dates)
    if days < YEAR_DAYS:
        warnings.append(
            _(
                "The series' {n} dates cover about {days} days, less than a year: the classes "
                "read them as a whole year, so seasonal and rare water may be over- or "
                "under-stated."
            ).format(n=len(r.dates), days=round(days))
        )
    words = cut_off_words(r.params)
    synthetic = items_are_synthetic(r.items)
    content = ReportContent(
        title=_title(r.job, start, end, synthetic),
        layers=_layers(r),
        provenance={
            _("Sentinel-1 acquisitions"): _(
                "{n} dates from {start} to {end}, relative orbit {orbit}"
            ).format(n=len(r.dates), start=start, end=end, orbit=r.relative_orbit),
            _("Method"): _(METHOD),
            _("Surface-water classes"): {
                **{_(name): words[c] for c, name in reversed(fq.CLASS_NAMES.items())},
                _("no data"): words[fq.NODATA],
            },
        },
        warnings=warnings,
        synthetic=synthetic,
        headline=_headline(r, start, end),
        data_date=end,
        exposure_help=False,
    )
    return write_report(path, content)


def write_series_rasters(
    out: OutputFolder,
    names: Mapping[str, str],
    georef: tuple[str, Affine],
    res: fq.FrequencyResult,
    n_dates: int,
) -> None:
    """The series' COGs into ``out``: ``names["frequency"]`` (float32 0-1, NaN where no
    observation was valid), ``names["observations"]`` (valid observations per pixel) and
    ``names["classes"]`` (uint8 surface-water classes with their colours), on the grid
    ``georef`` (CRS WKT, affine transform); ``n_dates`` goes into their tags."""
    crs, tf = georef
    write_cog(
        res.frequency,
        out.path(names["frequency"]),
        nodata=float("nan"),
        style=CogStyle(
            band_descriptions=["water_frequency"],
            overview_resampling="average",
            tags={"units": "water observations / valid observations (0-1)", "dates": n_dates},
        ),
        crs=crs,
        transform=tf,
    )
    write_cog(
        res.observations,
        out.path(names["observations"]),
        style=CogStyle(
            band_descriptions=["valid_observations"], tags={"units": "count", "dates": n_dates}
        ),
        crs=crs,
        transform=tf,
    )
    write_cog(
        res.classes,
        out.path(names["classes"]),
        nodata=fq.NODATA,
        style=CogStyle(
            band_descriptions=["water_classes"],
            colormap=fq.CLASS_COLORS,
            tags={"classes": fq.CLASS_NAMES, "cut_offs": "products.frequency.FrequencyParams"},
        ),
        crs=crs,
        transform=tf,
    )
