"""``DemoScene``: where a generated demo scene lies and what it holds (read back from scene.json)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affine import Affine

from eo_drr.errors import CorruptInputError, InputError
from eo_drr.i18n import gettext as _

SCENE_FILE = "scene.json"
CATALOG_FILE = "catalog.json"


def as_bbox(v: list[float] | tuple[float, ...]) -> tuple[float, float, float, float]:
    """(W, S, E, N) as four floats."""
    w, south, e, n = (float(x) for x in v)
    return (w, south, e, n)


@dataclass(frozen=True)
class DemoScene:
    """A generated demo scene with known truth, read through its STAC catalogue.

    Grid: ``shape`` pixels of ``resolution`` m (10 m) in ``crs`` (UTM, ``"EPSG:326xx"`` or
    ``"EPSG:327xx"``), upper-left corner and pixel size in ``transform``; ``bbox`` is the
    projected (W, S, E, N) in metres and ``bbox_wgs84`` the (W, S, E, N) in degrees.

    Dates: ``event_date`` is the flood peak; ``pre_dates`` the Sentinel-1 pre-event dates on
    the reference track (``relative_orbit``, ``orbit_state``) and ``post_date`` its post-event
    date (= ``event_date``); ``s1_epoch1_dates`` the reference-track dates a year before, which
    show built-up epoch 1 (for urban-growth jobs; no flood job's pre-event window reaches them);
    ``s2_dates`` all Sentinel-2 dates, ``s2_pre_date``/``s2_post_date``
    the two around the event. ``flood_level_m`` is the flood's height above nearest drainage.

    Files: ``catalog_path`` (static STAC catalogue), ``admin_units`` (GeoPackage, layers
    ``level1`` and ``level2``), ``facilities`` and ``roads`` (GeoPackages, EPSG:4326), and
    ``truth``: layer name -> uint8 COG (1/0, nodata 255; ``landcover`` holds WorldCover codes),
    and ``flood_depth``: float32 COG of the true water depth (m, 0 off the flood; not an asset
    of the STAC truth item).
    """

    root: Path
    catalog_path: Path
    crs: str
    resolution: float
    shape: tuple[int, int]
    transform: Affine
    bbox: tuple[float, float, float, float]
    bbox_wgs84: tuple[float, float, float, float]
    event_date: dt.date
    pre_dates: tuple[dt.date, ...]
    post_date: dt.date
    s2_dates: tuple[dt.date, ...]
    s2_pre_date: dt.date
    s2_post_date: dt.date
    admin_units: Path
    facilities: Path
    roads: Path
    truth: dict[str, Path] = field(hash=False)
    seed: int
    size: int
    landscape: str
    place: str
    relative_orbit: int
    orbit_state: str
    flood_level_m: float
    generator_version: int
    s1_epoch1_dates: tuple[dt.date, ...] = ()

    @property
    def epsg(self) -> int:
        """EPSG code of ``crs`` as an integer."""
        return int(self.crs.split(":")[1])

    def open_catalog(self):
        """The scene's ``pystac.Catalog``."""
        import pystac

        return pystac.Catalog.from_file(str(self.catalog_path))

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-able description with paths relative to ``root`` (so the folder can move)."""

        def rel(p: Path) -> str:
            return Path(p).relative_to(self.root).as_posix()

        return {
            "catalog_path": rel(self.catalog_path),
            "crs": self.crs,
            "resolution": self.resolution,
            "shape": list(self.shape),
            "transform": list(self.transform)[:6],
            "bbox": list(self.bbox),
            "bbox_wgs84": list(self.bbox_wgs84),
            "event_date": self.event_date.isoformat(),
            "pre_dates": [d.isoformat() for d in self.pre_dates],
            "post_date": self.post_date.isoformat(),
            "s2_dates": [d.isoformat() for d in self.s2_dates],
            "s2_pre_date": self.s2_pre_date.isoformat(),
            "s2_post_date": self.s2_post_date.isoformat(),
            "admin_units": rel(self.admin_units),
            "facilities": rel(self.facilities),
            "roads": rel(self.roads),
            "truth": {k: rel(v) for k, v in self.truth.items()},
            "seed": self.seed,
            "size": self.size,
            "landscape": self.landscape,
            "place": self.place,
            "relative_orbit": self.relative_orbit,
            "orbit_state": self.orbit_state,
            "flood_level_m": self.flood_level_m,
            "generator_version": self.generator_version,
            "s1_epoch1_dates": [d.isoformat() for d in self.s1_epoch1_dates],
        }

    @classmethod
    def from_json_dict(cls, root: str | Path, d: dict[str, Any]) -> DemoScene:
        """Rebuild from :meth:`to_json_dict` output, with paths under ``root``."""
        root = Path(root).resolve()
        day = dt.date.fromisoformat
        return cls(
            root=root,
            catalog_path=root / d["catalog_path"],
            crs=d["crs"],
            resolution=float(d["resolution"]),
            shape=(int(d["shape"][0]), int(d["shape"][1])),
            transform=Affine(*d["transform"]),
            bbox=as_bbox(d["bbox"]),
            bbox_wgs84=as_bbox(d["bbox_wgs84"]),
            event_date=day(d["event_date"]),
            pre_dates=tuple(day(v) for v in d["pre_dates"]),
            post_date=day(d["post_date"]),
            s2_dates=tuple(day(v) for v in d["s2_dates"]),
            s2_pre_date=day(d["s2_pre_date"]),
            s2_post_date=day(d["s2_post_date"]),
            admin_units=root / d["admin_units"],
            facilities=root / d["facilities"],
            roads=root / d["roads"],
            truth={k: root / v for k, v in d["truth"].items()},
            seed=int(d["seed"]),
            size=int(d["size"]),
            landscape=d["landscape"],
            place=d["place"],
            relative_orbit=int(d["relative_orbit"]),
            orbit_state=d["orbit_state"],
            flood_level_m=float(d["flood_level_m"]),
            generator_version=int(d["generator_version"]),
            s1_epoch1_dates=tuple(day(v) for v in d.get("s1_epoch1_dates", ())),
        )

    @classmethod
    def load(cls, root: str | Path) -> DemoScene:
        """Read ``root/scene.json`` written by :func:`eo_drr.demo.generate_scene`."""
        path = Path(root) / SCENE_FILE
        if not path.is_file():
            raise InputError(
                _("{path}: no demo scene here (scene.json is missing)").format(path=path)
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls.from_json_dict(root, data["scene"])
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise CorruptInputError(
                _("{path}: not a readable demo scene description ({exc})").format(
                    path=path, exc=exc
                )
            ) from exc
