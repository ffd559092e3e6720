"""The fast zonal path checks the flood values in its fused pass
(:func:`eo_drr.kernels.zonal_cpu.interior_counts`' ``bad``): 0, 1, 2 (reference water) and
nodata pass without the separate histogram (``check_flood_values``, issue 21: not compiled on
a first demo run, whose flood has reference water), any other value is refused by name."""

from __future__ import annotations

import pandas as pd
import pytest
import rioxarray

from eo_drr.errors import InputError
from eo_drr.kernels import zonal_cpu
from eo_drr.sendai import footprint
from eo_drr.sendai.indicators import indicators_by_unit
from eo_drr.sendai.units import read_units


@pytest.fixture(scope="module")
def scene(small_demo_scene):
    s = small_demo_scene
    flood = rioxarray.open_rasterio(s.truth["flood"]).squeeze("band", drop=True)
    return flood, read_units(s.admin_units, layer="level2")


def _flood_with(flood, values):
    out = flood.copy()
    v = out.values
    for k, value in enumerate(values):
        v[k, : v.shape[1] // 2] = value  # in the units (the demo's units tile its extent)
    return out


def test_reference_water_and_nodata_pass_without_the_histogram(scene, monkeypatch):
    flood, units = scene
    nodata = 255
    fl = _flood_with(flood, [2, nodata, 1, 0])
    base = indicators_by_unit(_flood_with(flood, [0, nodata, 1, 0]), units)

    def refuse(*args):
        raise AssertionError("the histogram pass ran")

    monkeypatch.setattr(zonal_cpu, "value_counts_u8", refuse)
    t = indicators_by_unit(fl, units)
    # reference water (2) is observed and not flooded: the same table as 0 there
    pd.testing.assert_frame_equal(t, base)
    assert footprint.K is zonal_cpu  # the module whose histogram kernel was replaced


@pytest.mark.parametrize("bad", [3, 7, 254])
def test_other_values_are_refused_also_next_to_reference_water(scene, bad):
    flood, units = scene
    fl = _flood_with(flood, [2, 2, bad])
    with pytest.raises(InputError, match=f"values other than 0, 1, 2 and nodata 255: \\[{bad}\\]"):
        indicators_by_unit(fl, units)
