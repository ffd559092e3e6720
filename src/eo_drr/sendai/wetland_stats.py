"""Per-wetland-polygon time series of WIT fractions (Dunn et al. 2019, 2023).

Each polygon is rasterised once onto the product grid (pixel centres inside the polygon);
then for every date the clear pixels' classes are counted per polygon with one
``np.bincount`` (so 100 polygons x 50 dates cost little more than reading the rasters).

Per polygon and date: ``valid_fraction`` = clear pixels / the polygon's area in pixels
(parts outside the grid count as missing); observations with more than
``max_missing_fraction`` (WIT: 10 %) missing are dropped, and the kept ones get the mean
fractions of open water, wet, green vegetation, dry vegetation and bare over their clear
pixels, which sum to 1 by construction.

Polygons: invalid geometries are repaired (``make_valid``) and counted; non-polygon results,
empty geometries, duplicate ids and overlapping polygons are refused with the ids named;
polygons entirely outside the grid are dropped and reported (all outside: an error).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from eo_drr.errors import InputError, NoDataError
from eo_drr.i18n import gettext as _
from eo_drr.products.wetlands import MAX_MISSING_FRACTION
from eo_drr.sendai.units import read_vector

log = logging.getLogger(__name__)

NODATA = 255
CLASS_NAMES = ("water", "wet", "green_veg", "dry_veg", "bare")


def read_polygons(
    path: str | Path,
    *,
    layer: str | None = None,
    id_field: str = "id",
    name_field: str | None = None,
    what: str = "products.wetlands.polygons",
):
    """Read wetland polygons: returns a GeoDataFrame with ``id``, ``name``, ``geometry``."""
    path = Path(path)
    gdf = read_vector(path, layer=layer, what=f"{what}.file")
    if gdf.empty:
        raise InputError(_("{what}.file: {path} has no features").format(what=what, path=path))
    if gdf.crs is None:
        raise InputError(_("{what}.file: {path} has no CRS").format(what=what, path=path))
    if id_field not in gdf.columns:
        raise InputError(
            _("{what}.id_field: {path} has no field {id_field!r} (fields: {fields})").format(
                what=what, path=path, id_field=id_field, fields=", ".join(map(str, gdf.columns))
            )
        )
    if name_field is not None and name_field not in gdf.columns:
        raise InputError(
            _("{what}.name_field: {path} has no field {name_field!r}").format(
                what=what, path=path, name_field=name_field
            )
        )
    out = gdf.rename(columns={id_field: "id"})
    out["id"] = out["id"].astype(str)
    out["name"] = out[name_field].astype(str) if name_field else out["id"]
    return check_polygons(out[["id", "name", "geometry"]], what=what)


def check_polygons(gdf, *, what: str = "polygons"):
    """Validate wetland polygons (see the module docstring); returns a repaired copy with
    ``attrs["repaired_geometries"]``."""
    gdf = gdf.copy()
    if gdf["id"].isna().any():
        raise InputError(
            _("{what}: {n} polygon(s) without an id").format(
                what=what, n=int(gdf["id"].isna().sum())
            )
        )
    dup = gdf["id"][gdf["id"].duplicated()].astype(str).unique()
    if len(dup):
        raise InputError(
            _("{what}: duplicate ids: {dup}").format(what=what, dup=", ".join(dup[:10]))
        )
    empty = gdf.geometry.is_empty | gdf.geometry.isna()
    if empty.any():
        raise InputError(
            _("{what}: empty geometry for id(s) {ids}").format(
                what=what, ids=", ".join(gdf["id"][empty].astype(str)[:10])
            )
        )
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, "geometry"] = gdf.geometry[invalid].make_valid()
        log.warning(
            _("{what}: repaired {n} invalid geometries ({ids})").format(
                what=what, n=int(invalid.sum()), ids=", ".join(gdf["id"][invalid][:10])
            )
        )
    area = (
        gdf.geometry.area
        if gdf.crs is not None and gdf.crs.is_projected
        else gdf.to_crs(gdf.estimate_utm_crs()).geometry.area
    )
    bad = ~gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon", "GeometryCollection"]) | (
        area <= 0
    )
    if bad.any():
        raise InputError(
            _("{what}: id(s) {ids} are not polygons with an area").format(
                what=what, ids=", ".join(gdf["id"][bad].astype(str)[:10])
            )
        )
    # overlapping polygons would count pixels twice: refuse, naming the pairs
    metric = (
        gdf if gdf.crs is not None and gdf.crs.is_projected else gdf.to_crs(gdf.estimate_utm_crs())
    )
    left, right = metric.sindex.query(metric.geometry, predicate="intersects")
    pairs = []
    for i, j in zip(left, right):
        if i < j:
            inter = metric.geometry.iloc[i].intersection(metric.geometry.iloc[j]).area
            if inter > 1e-6 * min(metric.geometry.iloc[i].area, metric.geometry.iloc[j].area):
                pairs.append(f"{gdf['id'].iloc[i]}/{gdf['id'].iloc[j]}")
    if pairs:
        raise InputError(
            _(
                "{what}: overlapping polygons (each pixel must belong to one wetland): {pairs}"
            ).format(what=what, pairs=", ".join(pairs[:10]))
        )
    gdf.attrs["repaired_geometries"] = int(invalid.sum())
    return gdf


def rasterize_polygons(
    gdf, transform, shape: tuple[int, int], crs
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(labels, expected_px, outside_ids)``: int32 labels (0 = no polygon, k = row k-1 of
    ``gdf``), each polygon's area in pixels (float, including any part outside the grid) and
    the ids of polygons with no pixel centre on the grid."""
    from rasterio import features

    g = gdf.to_crs(crs)
    px_area = abs(transform.a * transform.e)
    labels = features.rasterize(
        ((geom, k + 1) for k, geom in enumerate(g.geometry)),
        out_shape=shape,
        transform=transform,
        fill=0,
        dtype="int32",
    )
    counts = np.bincount(labels.ravel(), minlength=len(g) + 1)[1:]
    expected = np.maximum(g.geometry.area.to_numpy() / px_area, counts)
    outside = [str(i) for i, c in zip(g["id"], counts) if c == 0]
    return labels, expected, outside


def wit_time_series(
    classes: np.ndarray,
    labels: np.ndarray,
    ids: list[str],
    dates,
    *,
    expected_px: np.ndarray | None = None,
    max_missing_fraction: float = MAX_MISSING_FRACTION,
) -> pd.DataFrame:
    """Per polygon and date WIT fractions (long table).

    ``classes``: uint8 ``(time, y, x)`` WIT classes (0-4, 255 no data); ``labels``: int32
    ``(y, x)`` from :func:`rasterize_polygons`; ``ids``: the polygon ids (row order of the
    labels); ``dates``: one per time step; ``expected_px``: polygon areas in pixels (default:
    the labelled pixel counts). Returns columns ``id``, ``date``, ``valid_fraction``,
    ``water``, ``wet``, ``green_veg``, ``dry_veg``, ``bare`` (fractions 0-1 summing to 1),
    only for observations with at most ``max_missing_fraction`` missing.
    """
    c = np.asarray(classes)
    lab = np.asarray(labels)
    if c.ndim != 3 or c.shape[1:] != lab.shape:
        raise InputError(
            _("classes {shape} and labels {shape2} are not on one grid").format(
                shape=c.shape, shape2=lab.shape
            )
        )
    if len(dates) != c.shape[0]:
        raise InputError(
            _("dates: {n} dates for {steps} time steps").format(n=len(dates), steps=c.shape[0])
        )
    if not 0 <= max_missing_fraction <= 1:
        raise InputError(
            _("max_missing_fraction: expected 0-1, got {max_missing_fraction}").format(
                max_missing_fraction=max_missing_fraction
            )
        )
    n = len(ids)
    flat = lab.ravel().astype(np.int64)
    inside = flat > 0
    idx = flat[inside] - 1
    expected = (
        np.bincount(idx, minlength=n).astype(float)
        if expected_px is None
        else np.asarray(expected_px, float)
    )
    rows = []
    k = len(CLASS_NAMES)
    for t in range(c.shape[0]):
        cl = c[t].ravel()[inside].astype(np.int64)
        ok = cl < k
        counts = np.bincount(idx[ok] * k + cl[ok], minlength=n * k).reshape(n, k)
        clear = counts.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            valid = clear / expected
            frac = counts / clear[:, None]
        keep = (valid >= 1.0 - max_missing_fraction - 1e-9) & (clear > 0)
        for p in np.flatnonzero(keep):
            rows.append((ids[p], dates[t], float(valid[p]), *map(float, frac[p])))
    return pd.DataFrame(rows, columns=["id", "date", "valid_fraction", *CLASS_NAMES])


def polygon_summary(
    series: pd.DataFrame, gdf, n_dates: int, extent_change_px: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per polygon: dates kept of ``n_dates``, mean fractions over the kept dates, and the
    first / last kept date. Polygons with no kept date get ``n_obs = 0`` and empty means
    (documented, and reported by the pipeline), never a silent row of NaN."""
    g = series.groupby("id")
    out = pd.DataFrame(index=pd.Index(gdf["id"].astype(str), name="id"))
    out["name"] = gdf.set_index("id")["name"].reindex(out.index).values
    out["n_obs"] = g.size().reindex(out.index).fillna(0).astype(int)
    out["n_dates"] = int(n_dates)
    for c in CLASS_NAMES:
        out[f"mean_{c}"] = g[c].mean().reindex(out.index)
    out["first_date"] = g["date"].min().reindex(out.index)
    out["last_date"] = g["date"].max().reindex(out.index)
    if extent_change_px is not None:
        out = out.join(extent_change_px)
    return out


def no_observation_ids(summary: pd.DataFrame) -> list[str]:
    """Ids of polygons with no kept observation."""
    return [str(i) for i in summary.index[summary["n_obs"] == 0]]


def require_observations(series: pd.DataFrame, what: str = "time.post") -> None:
    """Raise :class:`NoDataError` when no polygon has any kept observation."""
    if series.empty:
        raise NoDataError(
            _(
                "{what}: no wetland polygon has a Sentinel-2 observation with at most the "
                "allowed missing share (clouds everywhere, or the polygons lie outside the data)"
            ).format(what=what)
        )
