"""Sentinel-2 / Sentinel-1 GeoTIFFs for the raster commands: band names, processing level,
scaling, grids (eo_drr.load.s2_file)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from eo_drr.errors import InputError
from eo_drr.load.s2_file import S2_BANDS, read_band_file, read_s2_file, reproject_to


def _write_s2(
    path, *, dark=0.08, names=S2_BANDS, level="L1C", size=64, origin=(500000, 2000000), dn=None
):
    rng = np.random.default_rng(0)
    refl = rng.uniform(dark, 0.3, (len(names), size, size)).astype(np.float32)
    data = (
        (refl * 10000).astype(np.uint16)
        if dn is None
        else np.full((len(names), size, size), dn, np.uint16)
    )
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=len(names),
        dtype="uint16",
        crs="EPSG:32615",
        transform=from_origin(*origin, 10, 10),
        nodata=0,
    ) as dst:
        dst.write(data)
        for i, n in enumerate(names, start=1):
            dst.set_band_description(i, n)
        if level:
            dst.update_tags(PROCESSING_LEVEL=level)
    return path


def test_reads_bands_by_name_and_scales_dn(tmp_path):
    img = read_s2_file(_write_s2(tmp_path / "a.tif"), option="--before")
    assert img.level == "L1C" and set(img.bands) == set(S2_BANDS)
    assert 0.07 < np.nanmin(img.bands["B02"]) and np.nanmax(img.bands["B02"]) <= 0.3
    common = ("blue", "green", "red", "nir", "swir16", "swir22")
    img = read_s2_file(_write_s2(tmp_path / "c.tif", names=common), option="--before")
    assert set(img.bands) == {"B02", "B03", "B04", "B08", "B11", "B12"}


def test_missing_band_and_level_are_named(tmp_path):
    with pytest.raises(InputError, match="lacks band.*B11"):
        read_s2_file(
            _write_s2(tmp_path / "a.tif", names=("B02", "B03", "B04", "B08")), option="--after"
        )
    with pytest.raises(InputError, match="--level"):
        read_s2_file(_write_s2(tmp_path / "b.tif", level=None), option="--after")
    assert read_s2_file(tmp_path / "b.tif", option="--after", level="L1C").level == "L1C"
    with pytest.raises(InputError, match="--level: use L1C or L2A"):
        read_s2_file(tmp_path / "b.tif", option="--after", level="L3")


def test_level_checked_against_dark_pixels(tmp_path):
    # surface reflectance as dark as 0.01 cannot be top of atmosphere
    with pytest.raises(InputError, match="declared Level-1C.*pass --level L2A"):
        read_s2_file(_write_s2(tmp_path / "a.tif", dark=0.01), option="--before")
    # L1C declared L2A: a warning (a bright scene can be L2A too)
    img = read_s2_file(_write_s2(tmp_path / "b.tif", dark=0.08, level="L2A"), option="--before")
    assert img.notes and "pass --level L1C" in img.notes[0]


def test_all_nodata_and_wrong_scale_refused(tmp_path):
    with pytest.raises(InputError, match="no valid pixel"):
        read_s2_file(_write_s2(tmp_path / "a.tif", dn=0), option="--before")
    with pytest.raises(InputError, match="implausible"):
        read_s2_file(_write_s2(tmp_path / "b.tif", dn=60000), option="--before")
    with pytest.raises(InputError, match="no such file"):
        read_s2_file(tmp_path / "none.tif", option="--before")
    with pytest.raises(InputError, match="folder"):
        read_s2_file(tmp_path, option="--before")


def test_reproject_onto_the_before_grid_or_refuse(tmp_path):
    before = read_s2_file(_write_s2(tmp_path / "a.tif"), option="--before")
    shifted = read_s2_file(
        _write_s2(tmp_path / "b.tif", origin=(500100, 1999900)), option="--after"
    )
    same, moved = reproject_to(before, before, option="--after")
    assert same is before and not moved
    out, moved = reproject_to(shifted, before, option="--after")
    assert (
        moved
        and out.shape == before.shape
        and out.profile["transform"] == before.profile["transform"]
    )
    assert (
        np.isnan(out.bands["B02"][:10, :]).all()
        and np.isfinite(out.bands["B02"][20:50, 20:50]).all()
    )
    far = read_s2_file(_write_s2(tmp_path / "c.tif", origin=(600000, 2000000)), option="--after")
    with pytest.raises(InputError, match="does not overlap"):
        reproject_to(far, before, option="--after")


@pytest.mark.shared_data
def test_oscd_cities_read_as_level_1c(shared_data):
    root = shared_data / "oscd-urban-change"
    cities = sorted(p for p in root.glob("*") if (p / "s2_before.tif").exists())
    if not cities:
        pytest.skip(f"no OSCD cities under {root}")
    for city in cities:
        for when in ("before", "after"):
            img = read_s2_file(city / f"s2_{when}.tif", option=f"--{when}")
            assert img.level == "L1C" and not img.notes
        vv = sorted(city.glob("s1_vv_db_*_before.tif"))
        if vv:
            band = read_band_file(vv[0], option="--s1-before").bands["VV"]
            assert -30 < np.nanmedian(band) < 5


def test_reflectance_stored_as_0_1_floats_is_refused_not_read_as_dn(tmp_path):
    """Bands holding reflectance 0-1 instead of DN x 10000 would be read 10000 x too dark."""
    import rasterio
    from rasterio.transform import from_origin

    from eo_drr.load.s2_file import read_s2_file

    names = ("B02", "B03", "B04", "B08", "B11", "B12")
    data = np.random.default_rng(0).uniform(0.02, 0.3, (len(names), 32, 32)).astype(np.float32)
    path = tmp_path / "refl.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=32,
        height=32,
        count=len(names),
        dtype="float32",
        crs="EPSG:32615",
        transform=from_origin(500000, 2000000, 10, 10),
    ) as dst:
        dst.write(data)
        dst.descriptions = names
        dst.update_tags(PROCESSING_LEVEL="L2A")
    with pytest.raises(InputError, match="looks like reflectance 0-1.*multiply the bands by 10000"):
        read_s2_file(path, option="--before")
