"""The Sentinel-2 processing-baseline offset, decided from real catalogue items."""

from __future__ import annotations

import json

import pystac
import pytest

from eo_drr.errors import InputError
from eo_drr.load.sentinel2 import BOA_ADD_OFFSET, boa_offset, load_s2


def _item(shared_data, rel, index=None):
    d = json.loads((shared_data / "stac-items" / rel).read_text())
    if index is not None:
        d = d[index]
    return pystac.Item.from_dict(d)


@pytest.mark.parametrize(
    "rel,index,band,expected",
    [
        # Planetary Computer: ESA DNs unchanged, baseline 05.10 -> offset present
        ("planetary-computer/sentinel-2-l2a-pc.items.json", 0, "B04", BOA_ADD_OFFSET),
        # Earth Search collection 1: raster:bands offset -0.1 at scale 1e-4 -> present
        (
            "earth-search-v1/sentinel-2-c1-l2a__S2B_T24MUV_20250731T130245_L2A.json",
            None,
            "red",
            BOA_ADD_OFFSET,
        ),
        # Earth Search legacy: harmonised by the provider (earthsearch:boa_offset_applied)
        ("earth-search-v1/sentinel-2-l2a__S2B_24MUV_20250731_0_L2A.json", None, "red", 0.0),
        # CDSE STAC v1: STAC 1.1 raster:offset -0.1 on the asset
        (
            "cdse-v1/sentinel-2-l2a__S2B_MSIL2A_20200705T101559_N0500_R065_T32TNT_20230530T175912.json",
            None,
            "B04_10m",
            BOA_ADD_OFFSET,
        ),
        # odc-stac fixture: Earth Search v0, baseline before 04.00 -> none
        ("odc-stac-fixtures/S2A_28QCH_20200714_0_L2A.json", None, "B04", 0.0),
    ],
)
def test_boa_offset_on_real_items(shared_data, rel, index, band, expected):
    assert boa_offset(_item(shared_data, rel, index), band) == expected


def test_scl_water_is_never_masked():
    with pytest.raises(InputError, match="class 6"):
        load_s2([], ["B03"], None, masked_classes=(3, 6, 8))
