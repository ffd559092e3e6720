"""Assembling a tiled job: mosaics of the tiles' rasters (a VRT, then one COG) and the tiles'
tables concatenated, each written atomically into the job's staging folder.

The mosaics are written on :data:`MOSAIC_THREADS` threads (GDAL works without the GIL), and
those the pipeline's job-wide step (:class:`Finalizer`) does not read are written while that
step computes (issue 21: COG writing overlapped with compute)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from odc.geo.geobox import GeoBox

from eo_drr.io.atomic import atomic_path
from eo_drr.jobs.ledger import JobLedger
from eo_drr.publish import OutputFolder

#: each tile's manifest (see :mod:`eo_drr.engine.tiled`)
TILE_MANIFEST = "tile.json"
#: per-tile files that are not assembled into the output folder
NOT_ASSEMBLED = (TILE_MANIFEST, "report.html")
TABLE_SUFFIXES = (".csv", ".parquet", ".gpkg")
#: mosaics written at once (each also compresses on GDAL's own threads)
MOSAIC_THREADS = min(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class Finalizer:
    """A pipeline's job-wide step: ``run(per_tile, out)`` over the tiles' files (``{relative
    path: {tile id: file}}``) writes into the folder and returns the relative paths it wrote;
    ``reads``: the mosaics (relative paths) it reads, which are complete before it starts."""

    run: Callable[[dict[str, dict[str, Path]], OutputFolder], set[str]]
    reads: frozenset[str]


def assemble(
    root: Path,
    tile_ids: list[str],
    job_geobox: GeoBox,
    fps: dict[str, str],
    ledger: JobLedger,
    job: str,
    out: OutputFolder,
    finalize: Finalizer | None = None,
) -> dict[str, str]:
    """COG mosaics of every raster output and the pipeline's ``finalize`` (job-wide tables
    and report, see :class:`Finalizer`; the mosaics it does not read are written meanwhile),
    then, for the tables it does not write, concatenated tables with a ``tile`` column;
    written into ``out``; returns ``{name: final path}``."""
    per_tile: dict[str, dict[str, Path]] = {}
    for tid in tile_ids:
        for rec in ledger.outputs(job, tid, fps[tid]):
            rel = rec.path.split("/", 2)[2]
            per_tile.setdefault(rel, {})[tid] = root / rec.path
    rasters = [
        rel
        for rel in sorted(per_tile)
        if rel.endswith(".tif") and Path(rel).name not in NOT_ASSEMBLED
    ]
    reads = finalize.reads if finalize is not None else frozenset()
    written: dict[str, str] = {rel: str(out.final(rel)) for rel in rasters}
    with ThreadPoolExecutor(MOSAIC_THREADS, thread_name_prefix="eo-drr-mosaic") as pool:

        def start(rels: list[str]) -> list[Future]:
            return [
                pool.submit(
                    mosaic_cog,
                    [per_tile[rel][t] for t in sorted(per_tile[rel])],
                    job_geobox,
                    out.path(rel),
                )
                for rel in rels
            ]

        _wait(start([rel for rel in rasters if rel in reads]))
        later = start([rel for rel in rasters if rel not in reads])
        try:
            done = finalize.run(per_tile, out) if finalize is not None else set()
        except BaseException:
            for f in later:
                f.cancel()
            wait(later)  # its own error comes first: nothing is left writing behind it
            raise
        _wait(later)
    written.update({rel: str(out.final(rel)) for rel in sorted(done)})
    for rel, srcs in sorted(per_tile.items()):
        if rel in done or Path(rel).name in NOT_ASSEMBLED or not rel.endswith(TABLE_SUFFIXES):
            continue
        concat_tables({t: srcs[t] for t in sorted(srcs)}, out.path(rel))
        written[rel] = str(out.final(rel))
    return written


def _wait(futures: list[Future]) -> None:
    """Wait for every one of ``futures``; then raise the first error among them."""
    errors = [f.exception() for f in futures]
    for exc in errors:
        if exc is not None:
            raise exc


_GDAL_TYPES = {
    "uint8": "Byte",
    "int8": "Int8",
    "uint16": "UInt16",
    "int16": "Int16",
    "uint32": "UInt32",
    "int32": "Int32",
    "float32": "Float32",
    "float64": "Float64",
}


def mosaic_vrt(sources: list[Path], geobox: GeoBox) -> str:
    """A GDAL VRT (XML text) placing each tile COG (absolute paths) in the extent of all of
    them on the job grid; nodata, colour table, band descriptions and tags from the first."""
    import rasterio

    with rasterio.open(sources[0]) as first:
        count, dtypes, nodata = first.count, first.dtypes, first.nodata
        crs_wkt, res = first.crs.to_wkt(), first.transform.a
        descriptions, tags = first.descriptions, first.tags()
        cmap = None
        try:
            cmap = first.colormap(1) if count == 1 else None
        except ValueError:
            cmap = None
    boxes = []
    for s in sources:
        with rasterio.open(s) as src:
            b = src.bounds
            boxes.append((s, b.left, b.top, src.width, src.height))
    left = min(b[1] for b in boxes)
    top = max(b[2] for b in boxes)
    right = max(b[1] + b[3] * res for b in boxes)
    bottom = min(b[2] - b[4] * res for b in boxes)
    width, height = round((right - left) / res), round((top - bottom) / res)
    x = [
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">',
        f"<SRS>{escape(crs_wkt)}</SRS>",
        f"<GeoTransform>{left!r}, {res!r}, 0, {top!r}, 0, {-res!r}</GeoTransform>",
    ]
    if tags:
        x.append(
            "<Metadata>"
            + "".join(f'<MDI key="{escape(k)}">{escape(str(v))}</MDI>' for k, v in tags.items())
            + "</Metadata>"
        )
    for band in range(1, count + 1):
        x.append(f'<VRTRasterBand dataType="{_GDAL_TYPES[dtypes[band - 1]]}" band="{band}">')
        if descriptions and descriptions[band - 1]:
            x.append(f"<Description>{escape(descriptions[band - 1])}</Description>")
        if nodata is not None:
            x.append(f"<NoDataValue>{'nan' if nodata != nodata else repr(nodata)}</NoDataValue>")
        if cmap:
            x.append("<ColorInterp>Palette</ColorInterp><ColorTable>")
            x += [
                f'<Entry c1="{c[0]}" c2="{c[1]}" c3="{c[2]}" c4="{c[3] if len(c) > 3 else 255}"/>'
                for _, c in sorted(cmap.items())
            ]
            x.append("</ColorTable>")
        for s, west, t, w, h in boxes:
            xoff, yoff = round((west - left) / res), round((top - t) / res)
            x.append(
                f'<SimpleSource><SourceFilename relativeToVRT="0">{escape(str(Path(s).resolve()))}</SourceFilename>'
                f"<SourceBand>{band}</SourceBand>"
                f'<SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
                f'<DstRect xOff="{xoff}" yOff="{yoff}" xSize="{w}" ySize="{h}"/></SimpleSource>'
            )
        x.append("</VRTRasterBand>")
    x.append("</VRTDataset>")
    return "\n".join(x)


def mosaic_cog(sources: list[Path], geobox: GeoBox, dest: Path) -> Path:
    """Mosaic tile COGs into one COG at ``dest`` (atomically). GDAL streams it block by
    block, so memory does not grow with the mosaic."""
    import rasterio
    import rasterio.shutil

    with rasterio.open(sources[0]) as first:
        floating = first.dtypes[0].startswith("float")
    with tempfile.TemporaryDirectory(prefix=".eo-drr-vrt-", dir=dest.parent) as tmpdir:
        vrt = Path(tmpdir) / "mosaic.vrt"
        vrt.write_text(mosaic_vrt(sources, geobox))
        with atomic_path(dest) as tmp:
            rasterio.shutil.copy(
                str(vrt),
                str(tmp),
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="YES",
                BLOCKSIZE=512,
                OVERVIEWS="AUTO",
                OVERVIEW_RESAMPLING="AVERAGE" if floating else "NEAREST",
                BIGTIFF="IF_SAFER",
                NUM_THREADS="ALL_CPUS",
            )
    return dest


def concat_tables(sources: dict[str, Path], dest: Path) -> Path:
    """Concatenate one table per tile (CSV, GeoParquet or GeoPackage) with a ``tile`` column."""
    import geopandas as gpd
    import pandas as pd

    from eo_drr.publish import write_csv, write_geoparquet

    frames = []
    for tid, path in sources.items():
        if dest.suffix == ".csv":
            df = pd.read_csv(path)
        elif dest.suffix == ".parquet":
            try:
                df = gpd.read_parquet(path)
            except (ValueError, KeyError):  # a plain (non-geo) parquet
                df = pd.read_parquet(path)
        else:
            df = gpd.read_file(path)
        df.insert(0, "tile", tid)
        frames.append(df)
    table = pd.concat(frames, ignore_index=True)
    if dest.suffix == ".csv":
        return write_csv(table, dest)
    if dest.suffix == ".parquet":
        if isinstance(table, gpd.GeoDataFrame):
            return write_geoparquet(table, dest)
        with atomic_path(dest) as tmp:
            table.to_parquet(tmp, index=False, compression="zstd")
        return dest
    with atomic_path(dest) as tmp:
        table.to_file(tmp, driver="GPKG", layer=dest.stem)
    return dest
