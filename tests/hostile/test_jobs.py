"""Hostile job files against ``eo-drr run`` (and ``eo_drr.load_job``): invalid dates, wrong
types, impossible grids, boxes and CRSs, missing and ignored files, exposure units elsewhere,
YAML that is not a mapping, tags and alias bombs; a property-based test generates job files."""

from __future__ import annotations

import datetime as dt
import resource
import subprocess

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eo_drr.errors import ConfigError
from hostile.helpers import (
    DEMO_KEYS,
    assert_nothing_written,
    cli,
    one_error,
    partial_files,
    small_demo_job,
)


def _run(job, out, *extra, timeout=120, **kw):
    return cli("run", job, "-o", out, *extra, timeout=timeout, **kw)


def _demo_dict(tmp_path) -> dict:
    return yaml.safe_load(small_demo_job(tmp_path).read_text())


# ---------------------------------------------------------------- dates


def test_unquoted_invalid_date_is_one_line(tmp_path):
    """The issue: an unquoted `2024-11-31` ended in a ValueError traceback out of the YAML
    parser (a real process: the case that crashed)."""
    job = small_demo_job(tmp_path)
    job.write_text(job.read_text().replace("end: 2024-11-15", "end: 2024-11-31"))
    out = tmp_path / "out"
    one_error(_run(job, out), "job.yaml", "2024-11-31")
    assert_nothing_written(out)


@pytest.mark.parametrize(
    "changes,words",
    [
        ({"time.post.end": "2024-11-31"}, ("time.post.end",)),
        ({"time.post.end": "2024-11-01"}, ("time.post", "before start")),
        ({"time.post.start": "2024-10-01"}, ("post.start must not be before pre.end",)),
        ({"time.post.start": 20241104}, ("time.post.start",)),
    ],
    ids=["quoted-2024-11-31", "end-before-start", "post-before-pre", "date-as-integer"],
)
def test_bad_dates_are_one_line(eo, tmp_path, changes, words):
    out = tmp_path / "out"
    one_error(eo("run", small_demo_job(tmp_path, **changes), "-o", out), "job.yaml", *words)
    assert_nothing_written(out)


def test_time_window_without_data_names_the_window(tmp_path, small_demo_scene):
    out = tmp_path / "out"
    job = small_demo_job(
        tmp_path, **{"time.post.start": "2999-01-01", "time.post.end": "2999-01-02"}
    )
    one_error(_run(job, out), "time.post", "2999-01-01")
    assert_nothing_written(out)


# ---------------------------------------------------------------- keys and types


def test_unknown_nested_key_is_one_line(eo, tmp_path):
    out = tmp_path / "out"
    one_error(
        eo("run", small_demo_job(tmp_path, **{"grid.resolutoin": 10}), "-o", out),
        "grid.resolutoin",
        "unknown key",
    )
    assert_nothing_written(out)


def test_boolean_for_a_number_is_refused(eo, tmp_path):
    """The issue: `hand_max_m: true` was taken as 1 m."""
    out = tmp_path / "out"
    one_error(
        eo("run", small_demo_job(tmp_path, **{"products.flood.hand_max_m": True}), "-o", out),
        "products.flood.hand_max_m",
    )
    assert_nothing_written(out)


def test_boolean_for_a_number_is_refused_by_load_job(tmp_path):
    data = _demo_dict(tmp_path)
    data["products"]["flood"]["hand_max_m"] = True
    with pytest.raises(ConfigError, match="products.flood.hand_max_m"):
        from eo_drr import load_job

        load_job(data)


#: (dotted key, bad value): each must be a ConfigError naming the key (in-process, fast)
BAD_VALUES = [
    ("grid.resolution", "ten metres"),
    ("grid.resolution", 0),
    ("grid.resolution", -10),
    ("grid.resolution", float("nan")),
    ("grid.resolution", float("inf")),
    ("grid.chunks", 1),
    ("grid.crs", 32615),
    ("sources.s1.bands", "vv"),
    ("sources.s1.units", "dB"),
    ("sources.s1.relative_orbit", 0),
    ("sources.s1.relative_orbit", 176),
    ("sources.s1.orbit_direction", "sideways"),
    ("sources.s2.max_cloud_cover", 200),
    ("sources.catalog", ""),
    ("sources.demo.size", 63),
    ("sources.hand", {"asset": "data"}),
    ("products.flood.speckle_filter", {"kind": "lee", "window": 4}),
    ("products.flood.speckle_filter", {"kind": "median"}),
    ("products.flood.min_mapping_unit_px", 0),
    ("products.flood.slope_max_deg", 91),
    ("products.flood.hand_max_m", -1),
    ("products.flood.no_sensitivity_classes", [30]),
    ("products.flood.threshold_method", "magic"),
    ("exposure.hazard_code", "flood"),
    ("exposure.admin_units.level", 9),
    ("outputs.formats", ["shp"]),
    ("cluster.kind", "mainframe"),
    ("cluster.memory_limit", "lots"),
    ("cluster.n_workers", 0),
    ("tiling.tile_size_px", 1),
    ("name", "../../etc"),
    ("name", ""),
    ("pipeline", "volcano"),
    ("aoi.bbox", [1, 2, 3]),
    ("time.pre.start", "yesterday"),
]


@pytest.mark.parametrize("key,value", BAD_VALUES, ids=[f"{k}={v!r}" for k, v in BAD_VALUES])
def test_bad_value_names_the_key(tmp_path, key, value):
    from eo_drr import load_job

    job = small_demo_job(tmp_path, **{key: value})
    with pytest.raises(ConfigError) as exc:
        load_job(job)
    assert str(job) in str(exc.value) and key.split(".")[-1] in str(exc.value), exc.value


# ---------------------------------------------------------------- grids, boxes, CRSs


def test_resolution_of_a_millimetre_is_refused_by_dry_run(eo, tmp_path, small_demo_scene):
    """The issue's hang: `grid.resolution: 0.001` plans 10^7 x 10^7 pixels."""
    out = tmp_path / "out"
    one_error(
        eo("run", small_demo_job(tmp_path, **{"grid.resolution": 0.001}), "-o", out, "--dry-run"),
        "grid.resolution",
        "0.001",
    )
    assert_nothing_written(out)


def test_resolution_of_a_millimetre_is_refused_quickly(tmp_path, small_demo_scene):
    """A real process with a 20 s limit (the issue's run hung)."""
    out = tmp_path / "out"
    try:
        res = _run(small_demo_job(tmp_path, **{"grid.resolution": 0.001}), out, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("still running after 20 s")
    one_error(res, "grid.resolution")
    assert_nothing_written(out)


@pytest.mark.parametrize(
    "bbox,words",
    [
        ([-92.8, 17.9, -93.0, 18.1], "bbox is empty"),
        ([-93.0, 17.9, -92.8, 200], "bbox must be"),
        ([-93.0, float("nan"), -92.8, 18.1], "bbox must be"),
        ([-200, 17.9, -92.8, 18.1], "bbox must be"),
    ],
    ids=["inverted", "latitude-200", "nan", "longitude-200"],
)
def test_bad_bbox_is_one_line(eo, tmp_path, bbox, words):
    out = tmp_path / "out"
    job = small_demo_job(tmp_path, **{"aoi.file": None, "aoi.layer": None, "aoi.bbox": bbox})
    one_error(eo("run", job, "-o", out), "job.yaml", "aoi", words)
    assert_nothing_written(out)


def test_aoi_file_in_utm_with_degree_coordinates_is_one_line(tmp_path, small_demo_scene):
    """A vector file whose CRS says UTM but whose coordinates are degrees: the AOI lands near
    the equator, and the error says which AOI found no data."""
    import geopandas as gpd

    units = gpd.read_file(small_demo_scene.root / "admin_units.gpkg", layer="level1")
    units.set_crs("EPSG:32615", allow_override=True).to_file(tmp_path / "aoi_utm.gpkg")
    out = tmp_path / "out"
    job = small_demo_job(tmp_path, **{"aoi.file": "aoi_utm.gpkg", "aoi.layer": None})
    one_error(_run(job, out), "aoi", "no sentinel-1-rtc items")
    assert_nothing_written(out)


def test_geographic_grid_crs_with_metre_resolution_names_the_keys(tmp_path, small_demo_scene):
    """10 'metre' pixels in EPSG:4326 are 10-degree pixels: the error ('vv: all pixels are
    nodata' when this suite was written) names the keys."""
    out = tmp_path / "out"
    line = one_error(_run(small_demo_job(tmp_path, **{"grid.crs": "EPSG:4326"}), out))
    assert "grid.crs" in line or "grid.resolution" in line, line
    assert_nothing_written(out)


def test_unknown_grid_crs_is_one_line(tmp_path, small_demo_scene):
    out = tmp_path / "out"
    one_error(
        _run(small_demo_job(tmp_path, **{"grid.crs": "EPSG:999999"}), out),
        "grid.crs",
        "EPSG:999999",
    )
    assert_nothing_written(out)


# ---------------------------------------------------------------- files


def test_missing_aoi_and_hand_files_are_named(tmp_path, small_demo_scene):
    out = tmp_path / "out"
    job = small_demo_job(tmp_path, **{"aoi.file": "nowhere.gpkg", "aoi.layer": None})
    one_error(_run(job, out), "aoi.file", "nowhere.gpkg")
    job = small_demo_job(tmp_path, **{"sources.hand": {"file": "no_hand.tif"}})
    one_error(_run(job, out), "sources.hand.file", "no_hand.tif")
    assert_nothing_written(out)


def test_population_file_is_used_or_refused(tmp_path, small_demo_scene):
    """The issue: sources.population.file was ignored without a warning (even a missing one)."""
    out = tmp_path / "out"
    job = small_demo_job(tmp_path, **{"sources.population": {"file": "no_population.tif"}})
    one_error(_run(job, out), "sources.population.file", "no_population.tif")
    assert_nothing_written(out)


def _raster(path, width, height, transform, crs="EPSG:32615", value=0.0):
    import rasterio

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
    ) as dst:
        dst.write(np.full((height, width), value, np.float32), 1)
    return path


def test_hand_file_that_does_not_overlap_is_refused(tmp_path, small_demo_scene):
    """The issue: a HAND file that does not overlap ended in a traceback."""
    from rasterio.transform import Affine

    _raster(tmp_path / "hand_far.tif", 64, 64, Affine(10, 0, 100000, 0, -10, 100000))
    out = tmp_path / "out"
    job = small_demo_job(tmp_path, **{"sources.hand": {"file": "hand_far.tif"}})
    one_error(_run(job, out), "sources.hand.file", "hand_far.tif")
    assert_nothing_written(out)


def test_admin_units_that_do_not_overlap_are_refused(tmp_path, small_demo_scene):
    """The issue: admin units that do not overlap the AOI gave "0 people exposed"."""
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame(
        {"code": ["X1"], "name": ["Nowhere"]}, geometry=[box(10, 10, 10.1, 10.1)], crs="EPSG:4326"
    ).to_file(tmp_path / "far.gpkg", layer="units")
    out = tmp_path / "out"
    job = small_demo_job(
        tmp_path, **{"exposure.admin_units.file": "far.gpkg", "exposure.admin_units.layer": "units"}
    )
    one_error(_run(job, out), "exposure.admin_units", "far.gpkg")
    assert_nothing_written(out)


def test_linear_data_declared_db_in_a_job_is_refused(tmp_path, small_demo_scene):
    """The issue: linear backscatter declared as dB in a job was mapped."""
    out = tmp_path / "out"
    one_error(
        _run(small_demo_job(tmp_path, **{"sources.s1.units": "db"}), out),
        "sources.s1.units",
        "linear",
    )
    assert_nothing_written(out)


# ---------------------------------------------------------------- what the YAML is


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "it is empty"),
        ("- a\n- b\n", "it is a list"),
        ("hello\n", "it is a str"),
        ("name: x\naoi: [1, 2\n", "malformed YAML"),
        ("name: !!python/object/apply:os.system ['touch PWNED']\n", "malformed YAML"),
    ],
    ids=["empty", "list", "scalar", "unclosed", "python-tag"],
)
def test_yaml_that_is_not_a_job_is_one_line(eo, tmp_path, monkeypatch, text, words):
    job = tmp_path / "job.yaml"
    job.write_text(text)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    one_error(eo("run", job, "-o", out), "job.yaml", words)
    assert not (tmp_path / "PWNED").exists()
    assert_nothing_written(out)


def test_job_that_is_binary_or_a_folder_is_one_line(eo, tmp_path):
    job = tmp_path / "job.yaml"
    job.write_bytes(b"\xff\xfe\x00garbage\x00")
    one_error(eo("run", job, "-o", tmp_path / "out"), "job.yaml", "cannot read the job file")
    one_error(eo("run", tmp_path, "-o", tmp_path / "out"), "is a folder")


def _bomb(levels: int = 9, indent: str = "    ") -> str:
    """Anchors whose last alias expands to 9**levels strings ("billion laughs")."""
    lines = [f'{indent}l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, levels):
        lines.append(f"{indent}l{k}: &l{k} [" + ",".join([f"*l{k - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_under_a_checked_key_is_refused_quickly(eo, tmp_path):
    data = _demo_dict(tmp_path)
    data.pop("description")
    text = yaml.safe_dump(data, sort_keys=False) + "products_extra:\n" + _bomb()
    job = tmp_path / "job.yaml"
    job.write_text(text)
    one_error(eo("run", job, "-o", tmp_path / "out"), "job.yaml", "alias bomb", "100,000 values")


def test_alias_within_its_own_anchor_is_one_line(eo, tmp_path):
    data = _demo_dict(tmp_path)
    data.pop("cluster")
    job = tmp_path / "job.yaml"
    job.write_text(
        yaml.safe_dump(data, sort_keys=False) + "cluster:\n  kind: slurm\n  options: &o {x: *o}\n"
    )
    one_error(eo("run", job, "-o", tmp_path / "out"), "job.yaml", "inside of")


def test_aliases_within_the_bound_still_load(eo, tmp_path):
    """Anchors are legitimate YAML: aliases expanding to fewer values than the bound load as
    before (9**4 strings in the free-form options)."""
    from eo_drr.config import MAX_YAML_VALUES, load_config

    data = _demo_dict(tmp_path)
    data.pop("cluster")
    job = tmp_path / "job.yaml"
    job.write_text(
        yaml.safe_dump(data, sort_keys=False)
        + "cluster:\n  kind: slurm\n  options:\n"
        + _bomb(levels=4)  # 9**4 = 6,561 values, well within the bound
    )
    assert MAX_YAML_VALUES > 9**4
    cfg = load_config(job)
    assert len(cfg.cluster.options["l3"]) == 9


def test_alias_bomb_in_free_form_options_is_refused_quickly(tmp_path):
    """The issue's case: a MemoryError traceback after ~17 s under a 3 GiB cap (OOM-killed
    without one): cluster.options takes any YAML and dask-jobqueue formatted 9^9 strings. The
    loader now counts what aliases expand to before building any value."""
    data = _demo_dict(tmp_path)
    data.pop("cluster")
    job = tmp_path / "job.yaml"
    job.write_text(
        yaml.safe_dump(data, sort_keys=False) + "cluster:\n  kind: slurm\n  options:\n" + _bomb()
    )
    cap = 3 * 1024**3
    out = tmp_path / "out"
    try:
        res = _run(
            job,
            out,
            timeout=30,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)),
        )
    except subprocess.TimeoutExpired:
        pytest.fail("still running after 30 s")
    one_error(res, "job.yaml", "alias bomb")
    assert_nothing_written(out)


# ---------------------------------------------------------------- property: job files

#: every key of the demo job, dotted, plus keys that do not exist
_KEYS = sorted(
    set(DEMO_KEYS)
    | {"grid.resolutoin", "sources.s3", "products.flood.hand_max", "time.during", "aoi.bbox"}
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(min_value=dt.date(1, 1, 1)).map(str),
    st.tuples(st.integers(0, 9999), st.integers(0, 20), st.integers(0, 40)).map(
        lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"
    ),
    st.lists(
        st.one_of(st.integers(-1000, 1000), st.floats(allow_nan=True), st.text(max_size=5)),
        max_size=5,
    ),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=st.dictionaries(st.sampled_from(_KEYS), _VALUES, min_size=1, max_size=4))
def test_any_job_file_is_a_job_or_a_config_error(tmp_path_factory, changes):
    """A job file with any keys set to any values (written by a YAML emitter: strings are
    quoted where YAML would read them as something else) is a valid job or a ConfigError
    naming the file: never another exception."""
    from eo_drr import load_job

    folder = tmp_path_factory.mktemp("job")
    try:
        job = small_demo_job(folder, **changes)
    except (TypeError, AttributeError):  # a change below a key that became a scalar
        return
    try:
        load_job(job)
    except ConfigError as exc:
        assert str(job) in str(exc), exc


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(y=st.integers(1, 9999), m=st.integers(0, 19), d=st.integers(0, 39))
def test_any_unquoted_date_is_a_job_or_a_config_error(tmp_path_factory, y, m, d):
    from eo_drr import load_job

    folder = tmp_path_factory.mktemp("job")
    job = small_demo_job(folder)
    job.write_text(job.read_text().replace("end: 2024-11-15", f"end: {y:04d}-{m:02d}-{d:02d}"))
    try:
        load_job(job)
    except ConfigError as exc:
        assert str(job) in str(exc), exc


def test_nothing_is_left_by_failed_validation(tmp_path):
    """A real process refused at validation: no output folder, no temp file."""
    out = tmp_path / "out"
    one_error(_run(small_demo_job(tmp_path, **{"grid.chunks": 1}), out), "grid.chunks")
    assert not out.exists() and partial_files(tmp_path) == []


# ---------------------------------------------------------------- dry run refuses what the run refuses


def _far_units(folder) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame(
        {"code": ["X1"], "name": ["Nowhere"]}, geometry=[box(10, 10, 10.1, 10.1)], crs="EPSG:4326"
    ).to_file(folder / "far.gpkg", layer="units")


#: jobs the run refuses (tests above), with the words of its error line
_REFUSED = {
    "hh polarisation": ({"products.flood.polarization": "hh"}, "polarization"),
    "missing code_field": ({"exposure.admin_units.code_field": "no_such_field"}, "no_such_field"),
    "outputs.dir a file": ({"outputs.dir": "afile"}, "afile"),
    "admin units elsewhere": (
        {"exposure.admin_units.file": "far.gpkg", "exposure.admin_units.layer": "units"},
        "far.gpkg",
    ),
    "linear S1 declared dB": ({"sources.s1.units": "db"}, "sources.s1.units"),
}


@pytest.mark.parametrize("case", sorted(_REFUSED))
def test_dry_run_refuses_what_the_run_refuses(eo, tmp_path, small_demo_scene, case):
    changes, words = _REFUSED[case]
    _far_units(tmp_path)
    (tmp_path / "afile").write_text("a file, not a folder")
    job = small_demo_job(tmp_path, **changes)
    args = ["run", job, "--dry-run"] + (
        [] if "outputs.dir" in changes else ["-o", tmp_path / "out"]
    )
    one_error(eo(*args), words)
