"""The SFM-shaped table: shape, labels (always an EO proxy), zeros for an empty flood,
byte-identical reruns of every writer, and a writer killed mid-way leaves no corrupt output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from eo_drr.errors import InputError
from eo_drr.publish.sfm_files import write_sfm
from eo_drr.sendai.sfm import COLUMNS, HIP_FLOOD, INDICATORS, METHOD, sfm_table


def _indicators(n=3, flooded=True):
    codes = [f"MX27-{i:03d}" for i in range(n)]
    t = pd.DataFrame(index=pd.Index(codes, name="code"))
    t["name"] = [f"Unit {i}" for i in range(n)]
    t["level"] = 2
    t["area_ha"] = 100.0
    t["observed_share"] = [1.0, 0.5, 0.25][:n] + [1.0] * max(0, n - 3)
    t["nodata_share"] = 1 - t["observed_share"]
    k = 1.0 if flooded else 0.0
    t["flooded_ha"] = k * np.arange(1, n + 1) * 3.5
    t["exposed_population"] = k * np.arange(1, n + 1) * 10.25
    t["exposed_population_female"] = t["exposed_population"] * 0.5
    t["flooded_cropland_ha"] = k * 2.0
    t["flooded_health"] = int(k)
    return t


def _units(codes):
    return gpd.GeoDataFrame(
        {"code": codes, "name": codes},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(len(codes))],
        crs="EPSG:4326",
    )


def test_long_table_shape_and_labels():
    ind = _indicators()
    t = sfm_table(ind, event_id="EV-1", date="2024-11-05")
    present = [i for i in INDICATORS if i.column in ind.columns]
    assert list(t.columns) == list(COLUMNS)
    assert len(t) == len(ind) * len(present)
    assert (t["method"] == METHOD).all() and METHOD == "EO proxy"
    assert (t["hazard_code"] == "MH0600").all() and (t["hazard_name"] == HIP_FLOOD["MH0600"]).all()
    assert t["note"].str.contains("not a reported Sendai value").all()
    assert not t["indicator_code"].isin(["B-1", "C-2", "D-2"]).any()  # our codes, never SFM's own
    row = t[
        (t["admin_code"] == "MX27-001")
        & (t["indicator_code"] == "EO-B1")
        & (t["disaggregation"] == "total")
    ]
    assert row["value"].item() == pytest.approx(20.5)
    assert row["proxy_for"].item() == "B-1" and row["unit"].item() == "persons"
    assert row["observed_share"].item() == 0.5 and row["admin_level"].item() == "2"
    assert set(t.loc[t["indicator_code"] == "EO-B1", "disaggregation"]) == {"total", "sex:female"}


def test_empty_flood_gives_zero_rows_not_missing_rows():
    t = sfm_table(_indicators(flooded=False), event_id="EV-0", date="2024-11-05")
    full = sfm_table(_indicators(), event_id="EV-0", date="2024-11-05")
    assert len(t) == len(full)
    assert (t.loc[t["indicator_code"] == "EO-B1", "value"] == 0).all()


def test_bad_event_fields():
    with pytest.raises(InputError, match="HIP"):
        sfm_table(_indicators(), event_id="E", date="2024-11-05", hazard_code="FL")
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        sfm_table(_indicators(), event_id="E", date="5 Nov")


def test_writers_are_byte_identical_and_readable(tmp_path):
    ind = _indicators()
    t = sfm_table(ind, event_id="EV-1", date="2024-11-05")
    units = _units(list(ind.index))
    a = write_sfm(t, tmp_path / "a", units=units)
    time.sleep(1.1)  # a timestamp in any file would now differ
    b = write_sfm(sfm_table(ind, event_id="EV-1", date="2024-11-05"), tmp_path / "b", units=units)
    assert set(a) == {"csv", "geoparquet", "gpkg"}
    for fmt in a:
        assert a[fmt].read_bytes() == b[fmt].read_bytes(), fmt
    back = pd.read_csv(a["csv"])
    assert len(back) == len(t) and back["value"].sum() == pytest.approx(t["value"].sum())
    g = gpd.read_parquet(a["geoparquet"])
    assert g.crs.to_epsg() == 4326 and len(g) == len(t) and not g.geometry.is_empty.any()
    assert b"geo" in pq.read_metadata(a["geoparquet"]).metadata
    gp = pyogrio.read_dataframe(a["gpkg"])
    assert len(gp) == len(t) and (gp["method"] == "EO proxy").all()
    assert not list((tmp_path / "a").glob(".*tmp*"))


def test_geo_formats_need_units(tmp_path):
    t = sfm_table(_indicators(), event_id="EV-1", date="2024-11-05")
    with pytest.raises(InputError, match="units"):
        write_sfm(t, tmp_path, formats=("geoparquet",))
    with pytest.raises(InputError, match="no unit polygon"):
        write_sfm(t, tmp_path, units=_units(["MX27-000"]), formats=("gpkg",))


def test_writer_killed_mid_way_leaves_the_old_files(tmp_path):
    """Write v1, then start writing a big v2 whose CSV writer stalls half-way; SIGKILL it;
    the folder still holds v1, byte for byte, and every file reads back."""
    script = textwrap.dedent(f"""
        import sys, time, numpy as np, pandas as pd, geopandas as gpd, shapely
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_sfm import _indicators, _units
        from eo_drr.publish.sfm_files import write_sfm
        from eo_drr.sendai.sfm import sfm_table
        folder = {str(tmp_path)!r}
        ind = _indicators()
        write_sfm(sfm_table(ind, event_id="V1", date="2024-11-05"), folder, units=_units(list(ind.index)))
        big = _indicators(n=20000)
        table = sfm_table(big, event_id="V2", date="2024-11-05")
        real = pd.DataFrame.to_csv
        def stalled(self, path, **kw):
            text = real(self, None, **kw)
            with open(path, "w") as fh:
                fh.write(text[: len(text) // 2]); fh.flush()
            print("STALLED", flush=True)
            time.sleep(60)
        pd.DataFrame.to_csv = stalled
        write_sfm(table, folder, units=_units(list(big.index)))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "STALLED"
        v1 = {p.name: p.read_bytes() for p in tmp_path.glob("sendai_eo_proxies.*")}
        assert tmp_path.joinpath("sendai_eo_proxies.csv").read_text().count("V1") > 0
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    after = {p.name: p.read_bytes() for p in tmp_path.glob("sendai_eo_proxies.*")}
    assert after == v1 and len(after) == 3
    assert "V2" not in pd.read_csv(tmp_path / "sendai_eo_proxies.csv")["event_id"].unique()
    gpd.read_parquet(tmp_path / "sendai_eo_proxies.parquet")
    pyogrio.read_dataframe(tmp_path / "sendai_eo_proxies.gpkg")


def _growth_raster():
    import rioxarray  # noqa: F401
    import xarray as xr

    g = np.zeros((100, 200), np.uint8)
    g[40:60, 20:40] = 1  # new: 400 px = 4 ha (west)
    g[40:50, 120:160] = 1  # new: 400 px = 4 ha (east)
    g[90:, :] = 255  # 10 rows unobserved
    hz = np.zeros_like(g)
    hz[40:50, 20:40] = 1  # half of the west growth in a hazard zone: 2 ha
    coords = {"y": 2000000 - 5 - 10 * np.arange(100), "x": 500005 + 10 * np.arange(200)}
    mk = lambda a: xr.DataArray(a, dims=("y", "x"), coords=coords).rio.write_crs("EPSG:32615")  # noqa: E731
    units = gpd.GeoDataFrame(
        {"code": ["W", "E"], "name": ["west", "east"]},
        geometry=[
            shapely.box(500000, 1999000, 501000, 2000000),
            shapely.box(501000, 1999000, 502000, 2000000),
        ],
        crs="EPSG:32615",
    )
    return mk(g), mk(hz), units


def test_growth_rows_exposure_trend():
    from eo_drr.sendai.growth import growth_by_unit
    from eo_drr.sendai.sfm_trends import GROWTH_INDICATORS, TREND_NOTE, growth_rows

    g, hz, units = _growth_raster()
    table = growth_by_unit(g, units, hazard_growth=hz)
    rows = growth_rows(
        table,
        event_id="EV-1",
        date="2024-11-05",
        admin_level=2,
        area_ha=units.geometry.area.to_numpy() / 1e4,
    )
    assert list(rows.columns) == list(COLUMNS)
    assert set(rows["indicator_code"]) == {"EO-TREND-BU", "EO-TREND-HZ"}
    assert (rows["proxy_for"] == "").all() and (rows["method"] == METHOD).all()
    assert (rows["note"] == TREND_NOTE).all() and rows["note"].str.contains(
        "not a reported Sendai value"
    ).all()
    v = rows.set_index(["admin_code", "indicator_code"])["value"]
    assert v[("W", "EO-TREND-BU")] == pytest.approx(4.0) and v[
        ("E", "EO-TREND-BU")
    ] == pytest.approx(4.0)
    assert v[("W", "EO-TREND-HZ")] == pytest.approx(2.0) and v[
        ("E", "EO-TREND-HZ")
    ] == pytest.approx(0.0)
    np.testing.assert_allclose(rows["observed_share"], 0.9)  # 10 of 100 rows unobserved
    assert len(rows) == 2 * 2 and {i.code for i in GROWTH_INDICATORS} == {
        "EO-TREND-BU",
        "EO-TREND-HZ",
    }
    # formal / informal split adds disaggregated rows
    formal = np.zeros(g.shape, bool)
    formal[:, :30] = True
    rows2 = growth_rows(
        growth_by_unit(g, units, hazard_growth=hz, formal=formal),
        event_id="EV-1",
        date="2024-11-05",
    )
    w = rows2[(rows2["admin_code"] == "W") & (rows2["indicator_code"] == "EO-TREND-BU")].set_index(
        "disaggregation"
    )["value"]
    assert w["settlement:formal"] + w["settlement:informal"] == pytest.approx(w["total"])
    assert w["settlement:formal"] == pytest.approx(2.0)
    assert rows2["observed_share"].isna().all()  # no unit areas: unknown, not invented
    with pytest.raises(InputError, match="new_builtup_ha"):
        growth_rows(pd.DataFrame({"name": ["x"]}, index=["A"]), event_id="E", date="2024-01-01")


def test_wetland_rows_gain_loss_net_and_zeros(tmp_path):
    from eo_drr.sendai.sfm_trends import WETLAND_INDICATORS, wetland_rows

    change = pd.DataFrame(
        {
            "name": ["Lagoon", "Marsh"],
            "area_ha": [50.0, 20.0],
            "observed_ha": [40.0, 20.0],
            "gained_ha": [3.5, 0.0],
            "lost_ha": [1.25, 0.0],
        },
        index=pd.Index(["W001", "W002"], name="id"),
    )
    rows = wetland_rows(change, event_id="EV-1", date="2024-11-05")
    assert list(rows.columns) == list(COLUMNS)
    assert len(rows) == 2 * len(WETLAND_INDICATORS)  # no missing rows for the unchanged marsh
    assert (rows["indicator_code"] == "EO-WET").all() and (rows["admin_level"] == "wetland").all()
    v = rows.set_index(["admin_code", "disaggregation"])["value"]
    assert v[("W001", "change:gained")] == 3.5 and v[("W001", "change:lost")] == 1.25
    assert v[("W001", "change:net")] == pytest.approx(2.25)
    assert (rows[rows["admin_code"] == "W002"]["value"] == 0).all()
    assert rows.set_index("admin_code")["observed_share"].loc["W001"].iloc[0] == pytest.approx(0.8)
    # combined with the event's proxies in one table, written by the same writers
    both = pd.concat(
        [sfm_table(_indicators(), event_id="EV-1", date="2024-11-05"), rows], ignore_index=True
    )
    out = write_sfm(both, tmp_path, formats=("csv",))
    back = pd.read_csv(out["csv"])
    assert len(back) == len(both) and (back["indicator_code"] == "EO-WET").sum() == len(rows)
    with pytest.raises(InputError, match="negative"):
        wetland_rows(change.assign(lost_ha=[-1.0, 0.0]), event_id="E", date="2024-11-05")
    with pytest.raises(InputError, match="gained_ha"):
        wetland_rows(change.drop(columns="gained_ha"), event_id="E", date="2024-11-05")


def test_text_that_a_spreadsheet_would_run_is_escaped(tmp_path):
    """Unit names come from the user's files: a name starting with = + - @ is written with a
    leading apostrophe in CSV and GeoPackage (OWASP CSV injection), numbers are untouched."""
    import pandas as pd

    from eo_drr.publish.tables import spreadsheet_safe, write_csv

    df = pd.DataFrame(
        {"name": ['=HYPERLINK("http://x")', "+1", "Tabasco", "@SUM(A1)"], "value": [-1.5, 2, 3, 4]}
    )
    write_csv(df, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text()
    assert "'=HYPERLINK" in text and "'+1" in text and "'@SUM" in text and ",-1.5" in text
    assert "Tabasco" in text and "'Tabasco" not in text
    once = spreadsheet_safe(df)
    assert spreadsheet_safe(once).equals(once)  # idempotent
