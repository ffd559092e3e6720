"""COG writing and the static STAC catalogue of the demo scene (Planetary-Computer-style items).

Layout under the scene root::

    catalog.json
    scene.json
    admin_units.gpkg, facilities.gpkg, roads.gpkg   (EPSG:4326; "demo://admin_units.gpkg")
    <collection>/collection.json
    <collection>/<item id>/<item id>.json
    <collection>/<item id>/<asset key>.tif

Items carry ``proj:code`` (and ``proj:epsg``), ``proj:shape``, ``proj:transform`` and
``proj:bbox`` (at item level for the 10 m grid, at asset level for every asset, since
Sentinel-2 mixes 10 m and 20 m bands), geometry and bbox in WGS84, and ``raster:bands`` per
asset (nodata, data type, scale/offset, spatial resolution) so that ``odc.stac.load`` needs no
configuration.
"""

from __future__ import annotations

import datetime as dt
import os
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pystac
from affine import Affine
from pyproj import Transformer

from eo_drr.demo import physics as P
from eo_drr.io import write_cog

COG_TYPE = pystac.MediaType.COG
EXTENSIONS = {
    "proj": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "raster": "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "eo": "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
    "sar": "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
}
#: ESA WorldCover colour table (product user manual v2).
WORLDCOVER_COLORS = {
    10: (0, 100, 0, 255),
    20: (255, 187, 34, 255),
    30: (255, 255, 76, 255),
    40: (240, 150, 255, 255),
    50: (250, 0, 0, 255),
    60: (180, 180, 180, 255),
    70: (240, 240, 240, 255),
    80: (0, 100, 200, 255),
    90: (0, 150, 160, 255),
    95: (0, 207, 117, 255),
    100: (250, 230, 160, 255),
}

#: Collection id -> (title, description, license).
COLLECTIONS: dict[str, tuple[str, str, str]] = {
    "sentinel-1-rtc": (
        "Sentinel-1 RTC (demo)",
        (
            "Simulated Sentinel-1 IW GRDH radiometrically terrain-corrected backscatter: linear "
            "gamma0 (power, not dB), float32, nodata -32768, 10 m."
        ),
        "CC-BY-4.0",
    ),
    "sentinel-2-l2a": (
        "Sentinel-2 Level-2A (demo)",
        (
            "Simulated Sentinel-2 L2A surface reflectance, uint16 DN = reflectance * 10000 + 1000 "
            "(processing baseline 05.10, offset not applied), nodata 0; B11, B12 and SCL at 20 m."
        ),
        "proprietary",
    ),
    "cop-dem-glo-30": (
        "Copernicus DEM GLO-30 (demo)",
        (
            "Simulated 30 m digital elevation model (m above sea level), float32, nodata -9999, "
            "in the scene's UTM CRS."
        ),
        "proprietary",
    ),
    "demo-hand": (
        "Height above nearest drainage (demo)",
        "Height above nearest drainage (m) on the DEM's 30 m grid, float32, nodata -9999.",
        "CC-BY-4.0",
    ),
    "demo-population": (
        "GHS-POP-like population (demo)",
        "Residents per 100 m cell (float32, nodata -200), total and by sex and age group.",
        "CC-BY-4.0",
    ),
    "esa-worldcover": (
        "ESA WorldCover (demo)",
        "Simulated 10 m land cover with ESA WorldCover class codes (uint8, nodata 0).",
        "CC-BY-4.0",
    ),
    "demo-truth": (
        "Demo scene truth",
        (
            "Known truth of the demo scene (uint8, 1/0, nodata 255): flood extent, flood visible "
            "to SAR as open water, permanent water, built-up at two epochs, wetland, land cover."
        ),
        "CC-BY-4.0",
    ),
}


class CogWriter:
    """Writes COGs on a small thread pool (GDAL releases the GIL while compressing)."""

    def __init__(self, workers: int | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 2))
        self._futures: list[Future] = []

    def submit(self, array: np.ndarray, path: Path, **kwargs: Any) -> Path:
        """Queue ``write_cog(array, path, **kwargs)``; returns ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._futures.append(self._pool.submit(write_cog, array, path, **kwargs))
        return path

    def wait(self) -> None:
        """Wait for every queued write; re-raise the first failure."""
        try:
            for fut in self._futures:
                fut.result()
        finally:
            self._futures.clear()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class ItemGrid:
    """A raster grid of an item: its UTM ``epsg`` code, ``transform`` (metres) and ``shape``
    (rows, cols)."""

    epsg: int
    transform: Affine
    shape: tuple[int, int]

    def projection_fields(self) -> dict[str, Any]:
        """``proj:*`` fields of the grid."""
        h, w = self.shape
        west, north = self.transform.c, self.transform.f
        east, south = west + self.transform.a * w, north + self.transform.e * h
        return {
            "proj:code": f"EPSG:{self.epsg}",
            "proj:epsg": self.epsg,
            "proj:shape": [int(h), int(w)],
            "proj:transform": [float(v) for v in list(self.transform)[:6]],
            "proj:bbox": [float(west), float(south), float(east), float(north)],
        }


def footprint_wgs84(epsg: int, bbox: Sequence[float]) -> tuple[dict[str, Any], list[float]]:
    """GeoJSON polygon (lon, lat) of a projected bbox, densified along its edges, and its bbox."""
    west, south, east, north = bbox
    t = np.linspace(0.0, 1.0, 11)[:-1]
    xs = np.concatenate(
        [west + (east - west) * t, np.full(10, east), east - (east - west) * t, np.full(10, west)]
    )
    ys = np.concatenate(
        [
            np.full(10, north),
            north - (north - south) * t,
            np.full(10, south),
            south + (north - south) * t,
        ]
    )
    tf = Transformer.from_crs(epsg, 4326, always_xy=True)
    lon, lat = tf.transform(xs, ys)
    ring = [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat)]
    ring.append(ring[0])
    box = [min(lon), min(lat), max(lon), max(lat)]
    return {"type": "Polygon", "coordinates": [ring]}, [round(float(v), 7) for v in box]


def _asset(
    path: Path,
    *,
    title: str,
    raster_band: Mapping[str, Any],
    proj: Mapping[str, Any],
    description: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> pystac.Asset:
    fields: dict[str, Any] = {"raster:bands": [dict(raster_band)], **proj}
    if extra:
        fields.update(extra)
    return pystac.Asset(
        href=str(path),
        media_type=COG_TYPE,
        roles=["data"],
        title=title,
        description=description,
        extra_fields=fields,
    )


def new_item(
    item_id: str,
    when: dt.datetime | None,
    grid: ItemGrid,
    *,
    properties: Mapping[str, Any],
    extensions: Sequence[str] = ("proj", "raster"),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> pystac.Item:
    """A STAC item on ``grid``, with WGS84 geometry/bbox and item-level ``proj:*``; ``start``
    and ``end`` (UTC) make it cover an interval."""
    proj = grid.projection_fields()
    geometry, bbox = footprint_wgs84(grid.epsg, proj["proj:bbox"])
    props = {**proj, **properties}
    if start is not None:
        props["start_datetime"] = _iso(start)
        props["end_datetime"] = _iso(end or start)
    item = pystac.Item(
        id=item_id,
        geometry=geometry,
        bbox=bbox,
        datetime=when,
        properties=props,
        stac_extensions=[EXTENSIONS[e] for e in extensions],
    )
    return item


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- Sentinel-1 ---------------------------------------------------------------------------------

_S1A_LAUNCH_ORBIT_DATE = dt.date(2014, 4, 3)


def s1_absolute_orbit(day: dt.date, relative_orbit: int) -> int:
    """A Sentinel-1A absolute orbit number consistent with ``relative_orbit`` on ``day``.

    S1A flies 175 orbits per 12-day cycle and ``relative = (absolute - 73) mod 175 + 1``.
    """
    estimate = int((day - _S1A_LAUNCH_ORBIT_DATE).days * 175 / 12)
    base = estimate - ((estimate - 73) % 175)
    return base + (relative_orbit - 1)


def s1_item_id(start: dt.datetime, relative_orbit: int) -> str:
    """``S1A_IW_GRDH_1SDV_<start>_<end>_<abs orbit>_<datatake>_rtc`` (PC sentinel-1-rtc style)."""
    end = start + dt.timedelta(seconds=25)
    absolute = s1_absolute_orbit(start.date(), relative_orbit)
    datatake = zlib.crc32(f"{absolute}{start:%H%M%S}".encode()) & 0xFFFFFF
    return f"S1A_IW_GRDH_1SDV_{start:%Y%m%dT%H%M%S}_{end:%Y%m%dT%H%M%S}_{absolute:06d}_{datatake:06X}_rtc"


def s1_item(
    item_id: str,
    when: dt.datetime,
    *,
    relative_orbit: int,
    orbit_state: str,
    grid: ItemGrid,
    files: Mapping[str, Path],
) -> pystac.Item:
    """A ``sentinel-1-rtc`` item with ``vv`` and ``vh`` assets (linear gamma0, float32)."""
    props = {
        "platform": "sentinel-1a",
        "constellation": "sentinel-1",
        "instruments": ["c-sar"],
        "sat:orbit_state": orbit_state,
        "sat:relative_orbit": relative_orbit,
        "sat:absolute_orbit": s1_absolute_orbit(when.date(), relative_orbit),
        "sar:polarizations": ["VV", "VH"],
        "sar:instrument_mode": "IW",
        "sar:frequency_band": "C",
        "sar:center_frequency": 5.405,
        "sar:product_type": "GRD",
        "sar:looks_equivalent_number": P.S1_ENL,
        "s1:processing_level": "1",
        "gsd": 10,
    }
    item = new_item(
        item_id, when, grid, properties=props, extensions=("proj", "raster", "sat", "sar")
    )
    proj = grid.projection_fields()
    band = {"nodata": P.S1_NODATA, "data_type": "float32", "spatial_resolution": 10}
    for key, pol in (("vv", "VV"), ("vh", "VH")):
        item.add_asset(
            key,
            _asset(
                files[key],
                title=f"{pol}: {pol[0]}-transmit, {pol[1]}-receive",
                description=(
                    f"Terrain-corrected gamma naught backscatter, {pol} polarisation, linear "
                    "power (not dB): dB = 10 * log10(value)."
                ),
                raster_band=band,
                proj=proj,
                extra={"sar:polarizations": [pol]},
            ),
        )
    return item


# -- Sentinel-2 ---------------------------------------------------------------------------------


def s2_item_id(when: dt.datetime, platform: str, relative_orbit: int, tile: str) -> str:
    """``S2B_MSIL2A_<sensing>_N0510_R<orbit>_T<tile>_<processing>`` (ESA product name style)."""
    processed = when + dt.timedelta(hours=3, minutes=17, seconds=8)
    sat = platform[-1].upper()
    return (
        f"S2{sat}_MSIL2A_{when:%Y%m%dT%H%M%S}_N{P.S2_PROCESSING_BASELINE.replace('.', '')}"
        f"_R{relative_orbit:03d}_T{tile}_{processed:%Y%m%dT%H%M%S}"
    )


@dataclass(frozen=True)
class S2Pass:
    """Which Sentinel-2 acquisition: the ``platform`` (``sentinel-2a`` / ``-2b``), its
    ``relative_orbit`` and the MGRS ``tile``."""

    platform: str
    relative_orbit: int
    tile: str


def s2_item(
    item_id: str,
    when: dt.datetime,
    *,
    acquisition: S2Pass,
    cloud_cover: float,
    grid10: ItemGrid,
    grid20: ItemGrid,
    files: Mapping[str, Path],
) -> pystac.Item:
    """A ``sentinel-2-l2a`` item with B02, B03, B04, B08 (10 m grid), B11, B12 and SCL (20 m
    grid); ``cloud_cover`` in percent."""
    props = {
        "platform": acquisition.platform,
        "constellation": "sentinel-2",
        "instruments": ["msi"],
        "eo:cloud_cover": cloud_cover,
        "s2:processing_baseline": P.S2_PROCESSING_BASELINE,
        "s2:mgrs_tile": acquisition.tile,
        "s2:product_type": "S2MSI2A",
        "sat:relative_orbit": acquisition.relative_orbit,
        "sat:orbit_state": "descending",
        "gsd": 10,
    }
    item = new_item(
        item_id, when, grid10, properties=props, extensions=("proj", "raster", "eo", "sat")
    )
    scale = 1.0 / P.S2_QUANTIFICATION_VALUE
    offset = P.S2_BOA_ADD_OFFSET / P.S2_QUANTIFICATION_VALUE
    for name in P.S2_BANDS:
        res = 20 if name in P.S2_BANDS_20M else 10
        proj = (grid20 if res == 20 else grid10).projection_fields()
        common, wavelength = P.S2_BAND_INFO[name]
        item.add_asset(
            name,
            _asset(
                files[name],
                title=f"Band {int(name[1:])} - {common} - {res}m",
                description="Surface reflectance DN; reflectance = (DN - 1000) / 10000.",
                raster_band={
                    "nodata": 0,
                    "data_type": "uint16",
                    "scale": scale,
                    "offset": offset,
                    "spatial_resolution": res,
                },
                proj=proj,
                extra={
                    "gsd": res,
                    "eo:bands": [
                        {"name": name, "common_name": common, "center_wavelength": wavelength}
                    ],
                },
            ),
        )
    item.add_asset(
        "SCL",
        _asset(
            files["SCL"],
            title="Scene classification map (SCL)",
            description="Sen2Cor scene classification: 3 cloud shadow, 4 vegetation, 5 not "
            "vegetated, 6 water, 7 unclassified, 8/9 cloud medium/high, 10 thin cirrus, 11 snow.",
            raster_band={"nodata": 0, "data_type": "uint8", "spatial_resolution": 20},
            proj=grid20.projection_fields(),
            extra={"gsd": 20},
        ),
    )
    return item


# -- single-grid items (DEM, HAND, population, land cover, truth) ---------------------------------


def raster_item(
    item_id: str,
    when: dt.datetime | None,
    grid: ItemGrid,
    *,
    assets: Mapping[str, tuple[Path, str, Mapping[str, Any]]],
    properties: Mapping[str, Any] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> pystac.Item:
    """An item whose assets share ``grid``. ``assets``: key -> (file, title, raster band)."""
    item = new_item(item_id, when, grid, properties=dict(properties or {}), start=start, end=end)
    proj = grid.projection_fields()
    for key, (path, title, band) in assets.items():
        item.add_asset(key, _asset(path, title=title, raster_band=band, proj=proj))
    return item


def save_catalog(
    root: Path, catalog_id: str, title: str, items: Mapping[str, Sequence[pystac.Item]]
) -> Path:
    """Write a self-contained static catalogue of ``collection id -> items`` under ``root``."""
    catalog = pystac.Catalog(
        id=catalog_id,
        title=title,
        description=f"{title}: synthetic scene with known truth, generated by eo_drr.demo.",
    )
    for cid, col_items in items.items():
        ctitle, desc, lic = COLLECTIONS[cid]
        bboxes = np.array([it.bbox for it in col_items])
        times = []
        for it in col_items:
            if it.datetime is not None:
                times.append(it.datetime)
            else:
                times.append(pystac.utils.str_to_datetime(it.properties["start_datetime"]))
                times.append(pystac.utils.str_to_datetime(it.properties["end_datetime"]))
        extent = pystac.Extent(
            pystac.SpatialExtent([[*bboxes[:, :2].min(axis=0), *bboxes[:, 2:].max(axis=0)]]),
            pystac.TemporalExtent([[min(times), max(times)]]),
        )
        collection = pystac.Collection(
            id=cid,
            description=desc,
            extent=extent,
            title=ctitle,
            license=lic,
        )
        for it in col_items:
            collection.add_item(it)
        catalog.add_child(collection)
    # The trailing slash matters: pystac takes a folder name with a dot for a file name.
    catalog.normalize_hrefs(str(root).rstrip("/") + "/")
    catalog.make_all_asset_hrefs_relative()
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root / "catalog.json"
