"""Water from dask-backed rasters: pixel for pixel the map of the in-memory rule, computed
chunk by chunk (water bodies that cross chunk borders included)."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from eo_drr.products.water import s1_water
from eo_drr.products.water_dask import s1_water_dask


def _scene(seed: int = 3, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """VV, VH in dB: land (VV -8, VH -15 dB) with a river, lakes of all sizes and a
    flooded field a little brighter than open water, under 4.4-look gamma speckle."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    water = np.abs(yy - (0.4 * xx + 60)) < 6  # a river crossing every chunk row
    for cy, cx, r in rng.integers((0, 0, 1), (n, n, 25), size=(40, 3)):
        water |= (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
    shallow = (np.abs(yy - 230) < 15) & (np.abs(xx - 150) < 40)
    vv = np.where(water, -20.0, np.where(shallow, -14.0, -8.0))
    vh = np.where(water, -26.0, np.where(shallow, -21.0, -15.0))
    speckle = rng.gamma(4.4, 1 / 4.4, size=(2, n, n))
    vv_db = (vv + 10 * np.log10(speckle[0])).astype(np.float32)
    vh_db = (vh + 10 * np.log10(speckle[1])).astype(np.float32)
    vv_db[:5, :7] = np.nan  # no data in a corner
    vh_db[:5, :7] = np.nan
    vv_db[n // 2, n // 2] = np.inf  # inf is no data
    return vv_db, vh_db


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"min_mapping_unit_px": 30},
        {"speckle": "refined_lee", "grow_db": 2.0},
        {"speckle": "none", "min_mapping_unit_px": 5},
    ],
    ids=["defaults", "mmu", "refined-lee-grow", "no-filter"],
)
@pytest.mark.parametrize("with_vh", [True, False], ids=["vv+vh", "vv"])
def test_dask_map_is_the_in_memory_map(options, with_vh):
    vv, vh = _scene()
    eager = s1_water(vv, vh if with_vh else None, **options)
    lazy, t, notes = s1_water_dask(
        da.from_array(vv, chunks=64),
        da.from_array(vh, chunks=64) if with_vh else None,
        **options,
    )
    assert isinstance(lazy, da.Array) and lazy.chunks == da.from_array(vv, chunks=64).chunks
    assert t == eager.threshold and notes == eager.quality["input_notes"]
    got = lazy.compute()
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, eager.water)
    assert (got == 1).sum() > 1000 and got[150, 150] == 255


def test_linear_units_and_single_chunk_border_cases():
    vv, vh = _scene(seed=5, n=130)
    lin = (10 ** (vv / 10), 10 ** (vh / 10))
    eager = s1_water(*lin, units="linear")
    lazy, _, _ = s1_water_dask(
        da.from_array(lin[0], chunks=(40, 130)),
        da.from_array(lin[1], chunks=(40, 130)),
        units="linear",
    )
    np.testing.assert_array_equal(lazy.compute(), eager.water)


def test_lazy_water_refuses_what_the_eager_rule_refuses():
    from eo_drr.errors import InputError

    vv, _ = _scene(n=64)
    with pytest.raises(InputError, match="units"):
        s1_water_dask(da.from_array(vv), units="decibel")
    with pytest.raises(InputError, match="linear"):  # linear power declared as dB
        s1_water_dask(da.from_array(10 ** (vv / 10)), units="db")
    with pytest.raises(InputError, match="speckle window"):
        s1_water_dask(da.from_array(vv[10:15, 10:15]))


def test_an_unnamed_lazy_dataarray_is_taken_as_vv():
    """xarray names a DataArray after its dask array's key: that is no band name."""
    import xarray as xr

    import eo_drr

    vv, _ = _scene(n=128)
    lazy = eo_drr.water(xr.DataArray(da.from_array(vv, chunks=64), dims=("y", "x")))
    np.testing.assert_array_equal(lazy.values, s1_water(vv).water)
