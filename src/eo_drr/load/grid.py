"""The common output grid: CRS, resolution and pixel alignment shared by every input."""

from __future__ import annotations

from odc.geo import CRS
from odc.geo.geobox import GeoBox
from odc.geo.geom import BoundingBox

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _


def utm_crs(lon: float, lat: float) -> str:
    """EPSG code of the WGS84 / UTM zone containing ``lon``, ``lat`` (degrees)."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(
            _("utm_crs: ({lon}, {lat}) is not a longitude/latitude in degrees").format(
                lon=lon, lat=lat
            )
        )
    zone = min(int((lon + 180) // 6) + 1, 60)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def make_geobox(
    bbox_wgs84: tuple[float, float, float, float],
    *,
    crs: str = "auto",
    resolution: float = 10.0,
) -> GeoBox:
    """A pixel grid covering ``bbox_wgs84`` (west, south, east, north; degrees).

    ``crs="auto"`` picks the UTM zone of the box's centre. ``resolution`` is in the CRS's units
    (metres for UTM). Pixel edges are aligned to multiples of the resolution, so grids of
    different jobs over the same place line up pixel for pixel.
    """
    w, s, e, n = bbox_wgs84
    if crs == "auto":
        crs = utm_crs((w + e) / 2, (s + n) / 2)
    try:
        target = CRS(crs)
    except Exception as exc:
        raise InputError(
            _("grid.crs: unknown CRS {crs!r} ({exc})").format(crs=crs, exc=exc)
        ) from exc
    box = BoundingBox(w, s, e, n, crs="EPSG:4326").to_crs(target)
    return GeoBox.from_bbox(box, crs=target, resolution=resolution, anchor="edge", tight=False)


def crs_wkt(geobox: GeoBox) -> str:
    """The WKT of ``geobox``'s CRS (every job grid has one)."""
    if geobox.crs is None:
        raise InputError(_("the grid has no CRS"))
    return geobox.crs.to_wkt()
