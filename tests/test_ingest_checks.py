"""Ingest checks: truncated COGs caught at ingest, archives that cannot escape their folder."""

from __future__ import annotations

import io
import tarfile
import zipfile

import numpy as np
import pytest
from affine import Affine

from eo_drr.catalog.archives import safe_extract, vsizip_path
from eo_drr.catalog.verify import check_raster_decodes
from eo_drr.errors import CorruptInputError
from eo_drr.io import write_cog


@pytest.fixture
def cog(tmp_path):
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 10000, (1024, 1024), dtype=np.uint16)
    return write_cog(
        arr,
        tmp_path / "b04.tif",
        crs="EPSG:32615",
        transform=Affine(10, 0, 5e5, 0, -10, 2e6),
        nodata=0,
    )


def test_complete_cog_decodes(cog):
    check_raster_decodes(cog)


def test_truncated_cog_opens_but_is_caught(cog, tmp_path):
    import rasterio

    data = cog.read_bytes()
    bad = tmp_path / "truncated.tif"
    bad.write_bytes(data[: int(len(data) * 0.8)])
    with rasterio.open(bad) as src:  # it opens: the header is intact
        assert src.width == 1024
    with pytest.raises(CorruptInputError, match="truncated.tif"):
        check_raster_decodes(bad)


def test_vsizip_reads_in_place(cog, tmp_path):
    import rasterio

    z = tmp_path / "product.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(cog, "S2.SAFE/GRANULE/b04.tif")
    with rasterio.open(vsizip_path(z, "S2.SAFE/GRANULE/b04.tif")) as src:
        assert src.shape == (1024, 1024)


def _zip_with(tmp_path, name):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(name, b"x")
    return z


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/evil", "a/../../escape.txt"])
def test_zip_slip_refused(tmp_path, name):
    with pytest.raises(CorruptInputError, match="outside the folder"):
        safe_extract(_zip_with(tmp_path, name), tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_tar_link_escape_refused(tmp_path):
    t = tmp_path / "evil.tar"
    with tarfile.open(t, "w") as tf:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(CorruptInputError, match="unsafe member"):
        safe_extract(t, tmp_path / "out")


def test_size_cap(tmp_path):
    z = tmp_path / "big.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * 10_000_000)
    with pytest.raises(CorruptInputError, match="exceeds the cap"):
        safe_extract(z, tmp_path / "out", max_total_bytes=1_000_000)


def test_good_archives_extract(tmp_path):
    z = _zip_with(tmp_path, "S1.SAFE/manifest.safe")
    assert [p.name for p in safe_extract(z, tmp_path / "o1")] == ["manifest.safe"]
    t = tmp_path / "ok.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        data = b"hello"
        info = tarfile.TarInfo("dir/a.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    files = safe_extract(t, tmp_path / "o2")
    assert files[0].read_bytes() == b"hello"


def test_downloader_rejects_truncated_cog_without_checksum(httpserver, cog, tmp_path):
    """No checksum and no size from the catalogue: the full decode still catches it."""
    from eo_drr.catalog.download import Downloader, DownloadRequest, RetryPolicy
    from eo_drr.errors import DownloadError

    data = cog.read_bytes()
    httpserver.expect_request("/b04.tif").respond_with_data(data[: int(len(data) * 0.8)])
    d = Downloader(policy=RetryPolicy(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02))
    with pytest.raises(DownloadError, match="does not decode"):
        d.fetch(DownloadRequest(httpserver.url_for("/b04.tif"), tmp_path / "dl" / "b04.tif"))
    assert list((tmp_path / "dl").iterdir()) == []
