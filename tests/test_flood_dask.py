"""Flood from dask-backed rasters: pixel for pixel the product of the in-memory path,
computed chunk by chunk (water bodies and flood patches that cross chunk borders included)."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

import eo_drr
from eo_drr.products.flood import flood_extent
from eo_drr.products.flood_dask import flood_extent_dask
from tests.test_water_dask import _scene

N = 200
CHUNK = 48  # smaller than the river, the lakes and the flooded field


def _scenes(n: int = N) -> dict[str, np.ndarray]:
    """Linear power: the post scene of ``_scene`` and two pre scenes without its flooded
    field and without the lakes of the post scene's other seed (new flood water)."""
    post_vv, post_vh = _scene(seed=3, n=n)
    out = {"post_vv": post_vv, "post_vh": post_vh}
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[:n, :n]
    river = np.abs(yy - (0.4 * xx + 60)) < 6
    for i in (0, 1):
        speckle = rng.gamma(4.4, 1 / 4.4, size=(2, n, n))
        out[f"pre{i}_vv"] = (np.where(river, -20.0, -8.0) + 10 * np.log10(speckle[0])).astype(
            np.float32
        )
        out[f"pre{i}_vh"] = (np.where(river, -26.0, -15.0) + 10 * np.log10(speckle[1])).astype(
            np.float32
        )
    out["pre1_vv"][40:44, 100:104] = np.nan  # no data in one pre scene only
    return {k: 10 ** (v / 10) for k, v in out.items()}


def _da(a: np.ndarray, chunks: int | None) -> xr.DataArray:
    data = a if chunks is None else da.from_array(a, chunks=chunks)
    return xr.DataArray(data, dims=("y", "x"), coords={"y": np.arange(N), "x": np.arange(N)})


def _inputs(s: dict, chunks: int | None, with_vh: bool) -> tuple[xr.DataArray, ...]:
    pre = xr.concat([_da(s[f"pre{i}_vv"], chunks) for i in (0, 1)], dim="time")
    pre_vh = xr.concat([_da(s[f"pre{i}_vh"], chunks) for i in (0, 1)], dim="time")
    return (
        pre,
        _da(s["post_vv"], chunks),
        pre_vh if with_vh else None,
        _da(s["post_vh"], chunks) if with_vh else None,
    )


def _layers() -> dict[str, np.ndarray]:
    yy, xx = np.mgrid[:N, :N]
    hand = (0.2 * xx).astype(np.float32)  # above 15 m from x = 76 on
    hand[0, :] = np.nan
    landcover = np.where((yy > 150) & (xx < 40), 50, 30).astype(np.uint8)
    return {"hand": hand, "landcover": landcover, "slope": (0.05 * yy).astype(np.float32)}


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"min_mapping_unit_px": 25, "hand_max_m": 12.5},
        {"min_mapping_unit_px": 1, "change_decrease_db": None, "speckle": "refined_lee"},
        {"layers": True, "min_mapping_unit_px": 9},
    ],
    ids=["defaults", "mmu-hand", "no-change", "all-layers"],
)
@pytest.mark.parametrize("with_vh", [True, False], ids=["vv+vh", "vv"])
def test_dask_flood_is_the_in_memory_flood(options, with_vh):
    s = _scenes()
    options = dict(options)
    extra: dict = {"hand": _layers()["hand"]}
    if options.pop("layers", False):
        extra = _layers()
    pre, post, pre_vh, post_vh = _inputs(s, None, with_vh)
    eager, t_eager = flood_extent(pre, post, pre_vh=pre_vh, post_vh=post_vh, **extra, **options)
    pre, post, pre_vh, post_vh = _inputs(s, CHUNK, with_vh)
    lazy_layers = {k: da.from_array(v, chunks=CHUNK) for k, v in extra.items()}
    lazy, t_lazy = flood_extent_dask(
        pre, post, pre_vh=pre_vh, post_vh=post_vh, **lazy_layers, **options
    )
    assert set(lazy) == set(eager)
    for name in eager:
        assert isinstance(lazy[name].data, da.Array), name
        assert lazy[name].data.chunks == post.data.chunks, name
        assert lazy[name].attrs == eager[name].attrs, name
    for key in ("polarisation", "threshold_db", "scene_threshold_db", "tiles_used"):
        assert t_lazy.post[key] == t_eager.post[key]
        assert t_lazy.reference[key] == t_eager.reference[key]
    got = lazy.compute()
    for name in eager:
        assert got[name].dtype == eager[name].dtype, name
        np.testing.assert_array_equal(got[name].values, eager[name].values, err_msg=name)
    flood = got["flood"].values
    assert (flood == 1).sum() > 500 and (flood == 2).sum() > 500 and (flood == 255).any()


def test_api_flood_of_dask_inputs_is_lazy_and_the_eager_product():
    s = _scenes()
    db = {k: (10 * np.log10(v)).astype(np.float32) for k, v in s.items()}

    def image(prefix: str, chunks: int | None) -> xr.Dataset:
        return xr.Dataset({b.upper(): _da(db[f"{prefix}_{b}"], chunks) for b in ("vv", "vh")})

    hand = _layers()["hand"]
    eager = eo_drr.flood([image("pre0", None), image("pre1", None)], image("post", None), hand=hand)
    lazy = eo_drr.flood(
        [image("pre0", CHUNK), image("pre1", CHUNK)],
        image("post", CHUNK),
        hand=xr.DataArray(da.from_array(hand, chunks=CHUNK), dims=("y", "x")),
        min_mapping_unit_px=4,
    )
    assert all(isinstance(v.data, da.Array) for v in lazy.data_vars.values())
    assert "input_notes" in lazy.attrs and "quality_warnings" not in lazy.attrs
    got = lazy.compute()
    for name in eager.data_vars:
        np.testing.assert_array_equal(got[name].values, eager[name].values, err_msg=name)


def test_lazy_flood_refuses_what_the_eager_product_refuses():
    from eo_drr.errors import InputError

    s = _scenes()
    pre, post, _, _ = _inputs(s, CHUNK, False)
    with pytest.raises(InputError, match="unknown option"):
        flood_extent_dask(pre, post, hand_max=3)
    with pytest.raises(InputError, match="hand: grid"):
        flood_extent_dask(pre, post, hand=np.zeros((N, N + 1)))
    with pytest.raises(InputError, match="different grids"):
        flood_extent_dask(pre[:, 1:], post)
    with pytest.raises(InputError, match="linear"):  # linear power declared as dB
        eo_drr.flood(_da(s["pre0_vv"], CHUNK).rename("VV"), _da(s["post_vv"], CHUNK).rename("VV"))
