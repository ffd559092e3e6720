"""Urban growth per administrative unit: hectares of new built-up, in hazard zones, and inside
or outside formal (planned) areas.

Zonal sums are coverage-fraction weighted (exactextract): a 10 m pixel half inside a unit
counts half. All areas in hectares (the raster must be on a projected metre grid).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.i18n import gettext as _

NODATA = 255


def _layer(values: np.ndarray, like: xr.DataArray) -> xr.DataArray:
    da = xr.DataArray(values.astype(np.float32), coords=like.coords, dims=like.dims)
    return da.rio.write_crs(like.rio.crs).rio.write_nodata(np.nan, encoded=False)


def growth_by_unit(
    growth: xr.DataArray,
    units,
    *,
    builtup_t1: np.ndarray | None = None,
    builtup_t2: np.ndarray | None = None,
    hazard_growth: xr.DataArray | None = None,
    formal: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per-unit urban growth statistics.

    ``growth``: uint8 new built-up (1 new, 0 not, 255 no data;
    :func:`eo_drr.products.growth_pair.new_builtup`) with a projected CRS (rioxarray).
    ``units``: GeoDataFrame with ``code`` and ``name`` (any CRS). ``builtup_t1`` /
    ``builtup_t2``: uint8 built-up per epoch (1 / 0 / 255) on the growth grid, optional.
    ``hazard_growth``: uint8 1 where new built-up lies in a hazard zone (255 no data).
    ``formal``: boolean array on the growth grid, True inside formal / planned areas
    (reported apart from the rest).

    Returns a DataFrame indexed by ``code``: ``name``, ``observed_ha``, ``new_builtup_ha``,
    with the epochs ``builtup_t1_ha`` / ``builtup_t2_ha``, with a hazard layer
    ``new_builtup_hazard_ha``, and with formal areas ``new_builtup_formal_ha``,
    ``new_builtup_informal_ha`` and the hazard split likewise. Pixels without data count in
    no column but ``observed_ha`` shows how much of each unit was seen.
    """
    from exactextract import exact_extract

    if growth.rio.crs is None or not growth.rio.crs.is_projected:
        raise InputError(_("growth: the raster needs a projected (metre) CRS"))
    g = np.asarray(growth.values)
    res = growth.rio.resolution()
    px_ha = abs(res[0] * res[1]) / 1e4
    layers = {"observed": g != NODATA}
    for key, b in (("builtup_t1", builtup_t1), ("builtup_t2", builtup_t2)):
        if b is not None:
            if np.shape(b) != g.shape:
                raise InputError(
                    _("{key}: grid {shape} differs from the growth grid {shape2}").format(
                        key=key, shape=np.shape(b), shape2=g.shape
                    )
                )
            layers[key] = np.asarray(b) == 1
    layers["new_builtup"] = g == 1
    if hazard_growth is not None:
        hz = np.asarray(hazard_growth.values)
        if hz.shape != g.shape:
            raise InputError(
                _("hazard: grid {shape} differs from the growth grid {shape2}").format(
                    shape=hz.shape, shape2=g.shape
                )
            )
        layers["new_builtup_hazard"] = hz == 1
    if formal is not None:
        formal = np.asarray(formal, dtype=bool)
        if formal.shape != g.shape:
            raise InputError(
                _("formal_areas: grid {shape} differs from the growth grid {shape2}").format(
                    shape=formal.shape, shape2=g.shape
                )
            )
        for key in [k for k in layers if k.startswith("new_builtup")]:
            layers[f"{key}_formal"] = layers[key] & formal
            layers[f"{key}_informal"] = layers[key] & ~formal
    units_p = units.to_crs(growth.rio.crs)
    names = list(layers)
    stack = xr.concat([_layer(layers[k], growth) for k in names], dim="band")
    stack = stack.assign_coords(band=np.arange(1, len(names) + 1))
    df = exact_extract(
        stack.rio.write_crs(growth.rio.crs),
        units_p,
        ["sum"],
        include_cols=["code"],
        output="pandas",
    )
    df = df.set_index("code")
    cols = [c for c in df.columns if c.endswith("sum")]
    if len(cols) != len(names):
        raise RuntimeError(f"zonal statistics returned {len(cols)} columns for {len(names)} layers")
    out = pd.DataFrame(index=df.index)
    out["name"] = units.set_index("code").loc[df.index, "name"].values
    for name, col in zip(names, cols):
        out[f"{name}_ha"] = df[col].astype(float) * px_ha
    out.index.name = "code"
    return out
