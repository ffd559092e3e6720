"""A STAC catalogue of a run's outputs, written last, after every asset is verified.

Layout (inside the run's output folder, all links relative so the folder can move)::

    catalog.json            <- written last
    <item_id>.item.json     <- one item: the run, with every output as an asset
    flood_extent.tif ...    <- the assets themselves (not moved)

Every asset carries the file extension (``file:size`` in bytes, ``file:checksum`` as a
multihash: ``1220`` + hex SHA-256); rasters also the projection (``proj:code``, ``proj:shape``,
``proj:transform``, ``proj:bbox``) and raster (``raster:bands``: nodata, data type, spatial
resolution in CRS units, unit) extensions. Before anything is written each asset is checked:
COGs with :func:`eo_drr.io.validate_cog`, Parquet by its footer, GeoPackage by opening it, CSV
and JSON by parsing, HTML by its closing tag. A failed check raises :class:`OutputError` and
writes nothing. Each JSON file is written atomically; the catalogue is the last file, so a
reader who finds ``catalog.json`` finds a complete, verified set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pystac
from pystac.extensions.file import FileExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, NoDataStrings, RasterBand, RasterExtension

from eo_drr.errors import OutputError
from eo_drr.i18n import gettext as _
from eo_drr.io import atomic_write_text, sha256_file, validate_cog

CATALOG_FILE = "catalog.json"
MEDIA_TYPES = {
    ".tif": pystac.MediaType.COG,
    ".tiff": pystac.MediaType.COG,
    ".parquet": "application/vnd.apache.parquet",
    ".gpkg": pystac.MediaType.GEOPACKAGE,
    ".csv": "text/csv",
    ".json": pystac.MediaType.JSON,
    ".html": pystac.MediaType.HTML,
    ".pdf": pystac.MediaType.PDF,
    ".png": pystac.MediaType.PNG,
}


@dataclass(frozen=True)
class OutputAsset:
    """One output file of a run. ``path`` is relative to the output folder."""

    path: str
    title: str = ""
    roles: tuple[str, ...] = ("data",)
    description: str = ""
    key: str | None = None  #: asset key; default the file name without extension
    unit: str | None = None  #: unit of a raster's values (``"persons"``, ``"dB"``)


def multihash_sha256(path: str | os.PathLike) -> str:
    """``file:checksum`` value: multihash of SHA-256 (code 0x12, length 0x20) in hex."""
    return "1220" + sha256_file(path)


def _verify(path: Path) -> None:
    """Raise :class:`OutputError` unless ``path`` is a complete file of its type."""
    ext = path.suffix.lower()
    try:
        if ext in (".tif", ".tiff"):
            ok, errors, _warnings = validate_cog(path)
            if not ok:
                raise OutputError(
                    _("{name}: not a valid COG ({errors})").format(
                        name=path.name, errors="; ".join(errors)
                    )
                )
        elif ext == ".parquet":
            import pyarrow.parquet as pq

            pq.read_metadata(path)
        elif ext == ".gpkg":
            import pyogrio

            pyogrio.list_layers(path)
        elif ext == ".csv":
            import csv

            with open(path, newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
            if not rows or any(len(r) != len(rows[0]) for r in rows):
                raise OutputError(_("{name}: empty or ragged CSV").format(name=path.name))
        elif ext == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif ext == ".html":
            if b"</html>" not in path.read_bytes()[-4096:].lower():
                raise OutputError(
                    _("{name}: incomplete HTML (no closing tag)").format(name=path.name)
                )
    except OutputError:
        raise
    except Exception as exc:  # any reader failure means a broken file
        raise OutputError(
            _("{name}: cannot be read back ({exc})").format(name=path.name, exc=exc)
        ) from exc


def _raster_fields(asset: pystac.Asset, path: Path, unit: str | None) -> list[float] | None:
    """Projection and raster extension fields; returns the footprint bbox in EPSG:4326."""
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(path) as src:
        proj = ProjectionExtension.ext(asset)
        epsg = src.crs.to_epsg() if src.crs else None
        if epsg:
            proj.epsg = epsg
        elif src.crs:
            proj.wkt2 = src.crs.to_wkt()
        proj.shape = [src.height, src.width]
        proj.transform = list(src.transform)[:6]
        proj.bbox = list(src.bounds)
        bands = []
        for i in range(src.count):
            nod = src.nodatavals[i]
            b = RasterBand.create(
                nodata=None if nod is None else (NoDataStrings.NAN if nod != nod else float(nod)),
                data_type=DataType(src.dtypes[i]),
                spatial_resolution=float(abs(src.transform.a)),
                unit=unit,
            )
            bands.append(b)
        RasterExtension.ext(asset).bands = bands
        if src.crs is None:
            return None
        return list(transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21))


@dataclass(frozen=True)
class CatalogNames:
    """The ids and title of an output catalogue and its one item."""

    catalog_id: str = "eo-drr-run"
    title: str = "eo-drr run outputs"
    item_id: str = "outputs"  #: the item file is ``<item_id>.item.json``


def write_output_catalog(
    folder: str | os.PathLike,
    assets: Sequence[OutputAsset],
    run_manifest: str | os.PathLike | Mapping[str, Any] | None = None,
    *,
    datetime: dt.datetime | dt.date | str,
    names: CatalogNames = CatalogNames(),
    bbox: Sequence[float] | None = None,
    properties: Mapping[str, Any] | None = None,
) -> Path:
    """Verify every asset, then write ``<item_id>.item.json`` and, last, ``catalog.json`` into
    ``folder``; return the catalogue's path.

    ``assets`` are files inside ``folder``. ``run_manifest`` is the run's ``run.json`` (a path
    inside ``folder``: added as a ``metadata`` asset; its ``job`` and ``pipeline`` become the
    item's ``eo_drr:job`` and ``eo_drr:pipeline``) or a mapping with those keys. ``datetime`` is
    the event (observation) date of the outputs (not the wall-clock time, so a rerun writes the
    same bytes). ``bbox`` (W, S, E, N degrees) is needed only when no raster gives a footprint.
    """
    folder = Path(folder)
    item_id, catalog_id, title = names.item_id, names.catalog_id, names.title
    if not assets:
        raise OutputError(_("output catalogue: no assets"))
    if isinstance(datetime, str):
        datetime = dt.datetime.fromisoformat(datetime)
    if isinstance(datetime, dt.date) and not isinstance(datetime, dt.datetime):
        datetime = dt.datetime.combine(datetime, dt.time(), tzinfo=dt.timezone.utc)
    if datetime.tzinfo is None:
        datetime = datetime.replace(tzinfo=dt.timezone.utc)
    entries = list(assets)
    manifest: Mapping[str, Any] = {}
    if isinstance(run_manifest, Mapping):
        manifest = run_manifest
    elif run_manifest is not None:
        mpath = Path(run_manifest)
        rel = mpath.relative_to(folder) if mpath.is_absolute() else mpath
        manifest = json.loads((folder / rel).read_text(encoding="utf-8"))
        entries.append(
            OutputAsset(
                rel.as_posix(),
                "Run manifest (config, versions, inputs, timings)",
                roles=("metadata",),
                key="run-manifest",
            )
        )
    keys = [e.key or Path(e.path).stem for e in entries]
    if len(set(keys)) != len(keys):
        raise OutputError(
            _("output catalogue: duplicate asset keys {keys}").format(
                keys=sorted({k for k in keys if keys.count(k) > 1})
            )
        )

    # verify everything before writing anything
    for e in entries:
        p = folder / e.path
        if not p.is_file():
            raise OutputError(
                _("output catalogue: {path} does not exist in {folder}").format(
                    path=e.path, folder=folder
                )
            )
        _verify(p)

    item_path = folder / f"{item_id}.item.json"
    if any((folder / e.path).resolve() == item_path.resolve() for e in entries):
        raise OutputError(
            _("output catalogue: item file {name} would overwrite an asset").format(
                name=item_path.name
            )
        )
    props = {"title": title}
    for k in ("job", "pipeline"):
        if k in manifest:
            props[f"eo_drr:{k}"] = manifest[k]
    props.update(properties or {})
    item = pystac.Item(item_id, geometry=None, bbox=None, datetime=datetime, properties=props)
    item.set_self_href(str(item_path))
    footprints = []
    for e, key in zip(entries, keys):
        p = folder / e.path
        ext = p.suffix.lower()
        asset = pystac.Asset(
            str(p.resolve()),
            title=e.title or None,
            description=e.description or None,
            media_type=MEDIA_TYPES.get(ext),
            roles=list(e.roles),
        )
        item.add_asset(key, asset)
        fx = FileExtension.ext(asset, add_if_missing=True)
        fx.size = p.stat().st_size
        fx.checksum = multihash_sha256(p)
        if ext in (".tif", ".tiff"):
            ProjectionExtension.add_to(item)
            RasterExtension.add_to(item)
            fp = _raster_fields(asset, p, e.unit)
            if fp is not None:
                footprints.append(fp)
    if footprints:
        bb = [
            min(f[0] for f in footprints),
            min(f[1] for f in footprints),
            max(f[2] for f in footprints),
            max(f[3] for f in footprints),
        ]
    elif bbox is not None:
        bb = [float(v) for v in bbox]
    else:
        bb = None
    if bb is not None:
        item.bbox = bb
        item.geometry = {
            "type": "Polygon",
            "coordinates": [
                [[bb[0], bb[1]], [bb[2], bb[1]], [bb[2], bb[3]], [bb[0], bb[3]], [bb[0], bb[1]]]
            ],
        }
    item.make_asset_hrefs_relative()

    catalog = pystac.Catalog(
        catalog_id, title, title=title, catalog_type=pystac.CatalogType.SELF_CONTAINED
    )
    catalog.set_self_href(str(folder / CATALOG_FILE))
    catalog.add_item(item)
    item.set_self_href(str(item_path))
    item_json = json.dumps(item.to_dict(include_self_link=False, transform_hrefs=True), indent=2)
    cat_json = json.dumps(catalog.to_dict(include_self_link=False, transform_hrefs=True), indent=2)
    atomic_write_text(item_path, item_json + "\n")
    return atomic_write_text(folder / CATALOG_FILE, cat_json + "\n")
