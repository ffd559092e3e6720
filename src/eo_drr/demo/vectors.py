"""Vector layers of the demo scene: admin units, health/education facilities, roads.

All are built in the scene's UTM CRS and returned in EPSG:4326 (as users' admin files usually
are). Admin units are a domain-warped Voronoi partition of the 10 m grid (natural, wiggly
borders), polygonised, simplified as a coverage (shared borders stay shared: no gaps, no
overlaps) and nested: each level-1 unit is exactly the union of its level-2 units, and together
they cover the scene footprint.
"""

from __future__ import annotations

from collections import defaultdict

import geopandas as gpd
import numpy as np
import rasterio.features
import shapely
from affine import Affine
from shapely.geometry import LineString, Point, box, shape

from eo_drr.demo.fields import rng_for, smooth_field
from eo_drr.demo.landscape import RESOLUTION_M, Landscape
from eo_drr.demo.sites import Site

WGS84 = "EPSG:4326"
_LEVEL1_NAMES = {
    "MX": ("Municipio Poniente", "Municipio Oriente"),
    "PE": ("Provincia Oeste", "Provincia Este"),
}
_LEVEL2_NAMES = (
    "San Isidro",
    "La Ceiba",
    "El Espino",
    "Las Lomas",
    "Santa Rosa",
    "El Bajio",
    "Buenavista",
    "Los Rios",
    "La Esperanza",
)


def admin_units(
    land: Landscape, site: Site, seed: int, transform: Affine, crs: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Level-1 (2 units) and level-2 (6-9 units) admin polygons in EPSG:4326.

    Columns: ``code`` (e.g. ``"MX27-001"`` and ``"MX27-001-02"``), ``name``, ``level`` (1 or
    2), ``parent_code`` (the level-1 code; for level 1 the state/region prefix ``"MX27"``).
    """
    n = land.size
    rng = rng_for(seed, site.name, "admin")
    k = int(rng.integers(6, 10))
    seeds = _spread_points(rng, k, n)
    direction = rng.uniform(0, np.pi)
    order = np.argsort(seeds[:, 0] * np.cos(direction) + seeds[:, 1] * np.sin(direction))
    seeds = seeds[order]
    group = (np.arange(k) >= k // 2).astype(int)  # level-1 membership of each level-2 unit

    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    amp = 0.06 * n
    wx = xx + amp * smooth_field(rng, (n, n), 0.1 * n)
    wy = yy + amp * smooth_field(rng, (n, n), 0.1 * n)
    label = np.zeros((n, n), dtype=np.int32)
    best = np.full((n, n), np.inf, dtype=np.float32)
    for i, (sx, sy) in enumerate(seeds):
        d = (wx - sx) ** 2 + (wy - sy) ** 2
        closer = d < best
        best[closer] = d[closer]
        label[closer] = i
    present = np.unique(label)

    pieces: dict[int, list] = defaultdict(list)
    for geom, value in rasterio.features.shapes(label, transform=transform):
        pieces[int(value)].append(shape(geom))
    polys = [shapely.union_all(pieces[int(i)]) for i in present]
    polys = list(shapely.coverage_simplify(polys, 1.5 * RESOLUTION_M, simplify_boundary=False))

    l1_codes = [f"{site.admin_prefix}-{g + 1:03d}" for g in range(2)]
    l1_names = _LEVEL1_NAMES.get(site.country, ("Unit A", "Unit B"))
    rows2 = []
    counters = [0, 0]
    for idx, poly in zip(present, polys):
        g = int(group[idx])
        counters[g] += 1
        rows2.append(
            {
                "code": f"{l1_codes[g]}-{counters[g]:02d}",
                "name": _LEVEL2_NAMES[int(idx) % len(_LEVEL2_NAMES)],
                "level": 2,
                "parent_code": l1_codes[g],
                "geometry": poly,
                "_group": g,
            }
        )
    rows1 = []
    for g in range(2):
        members = [r["geometry"] for r in rows2 if r["_group"] == g]
        if not members:
            continue
        rows1.append(
            {
                "code": l1_codes[g],
                "name": l1_names[g],
                "level": 1,
                "parent_code": site.admin_prefix,
                "geometry": shapely.union_all(members),
            }
        )
    for r in rows2:
        del r["_group"]
    level1 = gpd.GeoDataFrame(rows1, geometry="geometry", crs=crs).to_crs(WGS84)
    level2 = gpd.GeoDataFrame(rows2, geometry="geometry", crs=crs).to_crs(WGS84)
    return level1, level2


def facilities(
    land: Landscape, site: Site, seed: int, transform: Affine, crs: str
) -> gpd.GeoDataFrame:
    """20-40 health and education points (EPSG:4326): mostly in built-up, some in the flood.

    Columns: ``id``, ``type`` (``"health"`` or ``"education"``), ``name``.
    """
    rng = rng_for(seed, site.name, "facilities")
    total = int(rng.integers(24, 37))
    built = land.builtup_t2
    flooded = land.flood & built
    if flooded.sum() < 3:
        flooded = land.flood
    n_flood = max(3, round(0.15 * total))
    n_urban = round(0.7 * total)
    n_rural = total - n_flood - n_urban
    rural = ~land.permanent_water & ~land.flood & ~built
    picks = [
        _sample_pixels(rng, flooded, n_flood),
        _sample_pixels(rng, built & ~land.flood, n_urban),
        _sample_pixels(rng, rural, n_rural),
    ]
    rows_cols = np.concatenate([p for p in picks if len(p)], axis=0)
    rows_cols = rows_cols[rng.permutation(len(rows_cols))]
    jitter = rng.uniform(-0.3, 0.3, size=rows_cols.shape)
    types = np.where(np.arange(len(rows_cols)) % 3 == 0, "health", "education")
    names, points, counts = [], [], {"health": 0, "education": 0}
    for (r, c), (jr, jc), kind in zip(rows_cols, jitter, types):
        counts[kind] += 1
        i = counts[kind]
        if kind == "health":
            names.append("Hospital General" if i == 1 else f"Centro de Salud {i - 1}")
        else:
            names.append(f"Escuela Secundaria {i}" if i % 3 == 0 else f"Escuela Primaria {i}")
        points.append(Point(*_to_map(transform, c + 0.5 + jc, r + 0.5 + jr)))
    gdf = gpd.GeoDataFrame(
        {"id": np.arange(1, len(points) + 1), "type": list(types), "name": names},
        geometry=points,
        crs=crs,
    )
    return gdf.to_crs(WGS84)


def roads(land: Landscape, site: Site, seed: int, transform: Affine, crs: str) -> gpd.GeoDataFrame:
    """Road lines (EPSG:4326): a primary road crossing the river (and the flood), secondary
    roads out of town and a residential grid. Columns: ``class``, ``name``."""
    n = land.size
    rng = rng_for(seed, site.name, "roads")
    ty, tx = land.town_yx
    river_x, river_y = land.river_xy[:, 0], land.river_xy[:, 1]
    t = np.linspace(-0.05, 1.05, 60)
    lines: list[tuple[str, str, np.ndarray]] = []
    # Primary: north-south through the town, crossing the river on a bridge.
    wob = np.interp(t, np.linspace(-0.05, 1.05, 6), rng.normal(0, 0.03 * n, 6))
    lines.append(("primary", "Carretera 1", np.column_stack([tx + wob, t * n])))
    # Secondary: west-east through the town, roughly following the valley.
    wob = np.interp(t, np.linspace(-0.05, 1.05, 6), rng.normal(0, 0.02 * n, 6))
    ry = np.interp(t * n, river_x, river_y)
    y_sec = ty + 0.3 * (ry - np.interp(tx, river_x, river_y)) + wob
    lines.append(("secondary", "Camino Real", np.column_stack([t * n, y_sec])))
    # Secondary: from the town to the far corner across the floodplain.
    corner = (n * 1.02, n * 1.02) if ty < n / 2 else (n * 1.02, -0.02 * n)
    s = np.linspace(0, 1, 30)
    bend = rng.normal(0, 0.05 * n) * np.sin(np.pi * s)
    lines.append(
        (
            "secondary",
            "Camino Vecinal",
            np.column_stack([tx + s * (corner[0] - tx), ty + s * (corner[1] - ty) + bend]),
        )
    )
    # Residential grid inside the town, rotated a little.
    angle = rng.uniform(-0.3, 0.3)
    step = max(4.0, 0.02 * n)
    reach = land.town_radius_px
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    k = 0
    for off in np.arange(-reach, reach + 1e-6, step):
        for seg in (
            np.array([[-reach, off], [reach, off]]),
            np.array([[off, -reach], [off, reach]]),
        ):
            k += 1
            lines.append(("residential", f"Calle {k}", seg @ rot.T + np.array([tx, ty])))
    town = Point(tx, ty).buffer(0.9 * reach)
    frame = box(0, 0, n, n)
    rows = []
    for cls, name, xy in lines:
        geom = LineString(xy).intersection(town if cls == "residential" else frame)
        if geom.is_empty:
            continue
        geom = shapely.transform(
            geom, lambda a: np.column_stack(_to_map(transform, a[:, 0], a[:, 1]))
        )
        rows.append({"class": cls, "name": name, "geometry": geom})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).to_crs(WGS84)


def _to_map(transform: Affine, col, row):
    """Pixel (column, row) -> map (x, y) in the grid's CRS (scalars or arrays)."""
    t = transform
    return t.c + t.a * col + t.b * row, t.f + t.d * col + t.e * row


def _spread_points(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """``k`` well-spread points (x, y) in pixel space (best-candidate sampling)."""
    pts = [rng.uniform(0.1 * n, 0.9 * n, 2)]
    while len(pts) < k:
        cand = rng.uniform(0.05 * n, 0.95 * n, (20, 2))
        d = np.min(np.linalg.norm(cand[:, None, :] - np.array(pts)[None], axis=-1), axis=1)
        pts.append(cand[np.argmax(d)])
    return np.array(pts)


def _sample_pixels(rng: np.random.Generator, mask: np.ndarray, count: int) -> np.ndarray:
    """``count`` distinct (row, col) pixels drawn from ``mask`` (fewer if it is smaller)."""
    rows, cols = np.nonzero(mask)
    if count <= 0 or rows.size == 0:
        return np.zeros((0, 2), dtype=int)
    idx = rng.choice(rows.size, size=min(count, rows.size), replace=False)
    return np.column_stack([rows[idx], cols[idx]])
