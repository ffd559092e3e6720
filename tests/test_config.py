"""Job files: safe loading, validation, and messages that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from eo_drr.config import JobConfig, load_config, parse_config
from eo_drr.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = {
    "name": "t",
    "aoi": {"bbox": [-93.0, 17.9, -92.9, 18.0]},
    "time": {
        "pre": {"start": "2024-09-01", "end": "2024-10-31"},
        "post": {"start": "2024-11-01", "end": "2024-11-10"},
    },
    "sources": {"catalog": "demo", "s1": {}},
}


def _write(tmp_path: Path, data, name="job.yaml") -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return p


def _with(path: str, value):
    data = yaml.safe_load(yaml.safe_dump(MINIMAL))
    node = data
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return data


@pytest.mark.parametrize("cfg", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_configs_validate(cfg):
    job = load_config(cfg)
    assert isinstance(job, JobConfig)
    assert job.base_dir == cfg.parent.resolve()


def test_minimal_defaults():
    job = parse_config(MINIMAL)
    assert job.sources.s1.bands == ["vv", "vh"]
    assert job.grid.resolution == 10
    assert job.time.post.as_stac() == "2024-11-01T00:00:00Z/2024-11-10T23:59:59Z"


@pytest.mark.parametrize(
    "path,value,key,words",
    [
        ("aoi.bbxo", [1, 2, 3, 4], "aoi.bbxo", "unknown key"),
        ("sources.s1.unts", "db", "sources.s1.unts", "unknown key"),
        ("grid.resolution", "ten", "grid.resolution", "number"),
        ("grid.resolution", True, "grid.resolution", "expected a number, got true"),
        ("products.flood.hand_max_m", True, "products.flood.hand_max_m", "expected a number"),
        ("grid.resolution", -10, "grid.resolution", "greater than 0"),
        ("time.post.end", "2024-10-01", "time.post", "before start"),
        ("time.post.start", "2024-02-30", "time.post.start", "date"),
        ("aoi.bbox", [-92.9, 18.0, -93.0, 17.9], "aoi", "empty"),
        ("aoi.bbox", [10, 10, 10, 10], "aoi", "empty"),
        ("aoi.bbox", [-200, 10, 10, 20], "aoi", "degrees"),
        ("sources.s1.units", "decibel", "sources.s1.units", "linear"),
        (
            "products.flood",
            {"speckle_filter": {"window": 4}},
            "products.flood.speckle_filter.window",
            "odd",
        ),
        ("name", "has spaces/and slash", "name", "pattern"),
        ("cluster.kind", "address", "cluster", "address"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path, path, value, key, words):
    p = _write(tmp_path, _with(path, value))
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    msg = str(exc.value)
    assert str(p) in msg
    assert f": {key}" in msg, msg
    assert words.lower() in msg.lower(), msg


def test_malformed_yaml_gives_line(tmp_path):
    p = _write(tmp_path, "name: x\naoi: {bbox: [1, 2\ntime: ]\n")
    with pytest.raises(ConfigError, match=rf"{p}:\d+:\d+: malformed YAML"):
        load_config(p)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string"])
def test_not_a_mapping(tmp_path, text):
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(p)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such job file"):
        load_config(tmp_path / "nope.yaml")


def test_yaml_is_loaded_safely(tmp_path):
    """A python-object tag is refused (never constructed)."""
    p = _write(tmp_path, "name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_config(p)


def test_missing_required_key(tmp_path):
    data = dict(MINIMAL)
    data.pop("time")
    with pytest.raises(ConfigError, match=r": time: Field required"):
        load_config(_write(tmp_path, data))


def test_relative_paths_resolve_against_job_file(tmp_path):
    sub = tmp_path / "jobs"
    sub.mkdir()
    job = load_config(_write(sub, MINIMAL))
    assert job.resolve_path("units.gpkg") == str((sub / "units.gpkg").resolve())
    assert job.resolve_path("demo://admin_units.gpkg") == "demo://admin_units.gpkg"


@pytest.mark.parametrize(
    "catalog,kind",
    [
        ("cdse-odata:http://127.0.0.1:9/odata/v1", "CdseODataCatalog"),
        ("earth-search", "StacApiCatalog"),
        ("https://example.org/stac/v1", "StacApiCatalog"),
    ],
)
def test_catalog_names_are_not_taken_for_paths(catalog, kind):
    from eo_drr.jobs.inputs import job_catalog

    job = parse_config(_with("sources.catalog", catalog))
    assert type(job_catalog(job)).__name__ == kind


def test_static_catalogue_path_is_relative_to_the_job_file(tmp_path):
    import pystac

    from eo_drr.jobs.inputs import job_catalog

    cat = pystac.Catalog(id="c", description="d")
    cat.normalize_hrefs(str(tmp_path / "cat"))
    cat.save(pystac.CatalogType.SELF_CONTAINED)
    job = load_config(_write(tmp_path, _with("sources.catalog", "cat/catalog.json")))
    assert type(job_catalog(job)).__name__ == "StaticCatalog"


def test_an_impossible_unquoted_date_is_one_line_with_its_place(tmp_path):
    """YAML reads an unquoted 2024-11-31 as a date and fails inside PyYAML: a ConfigError at
    the line and column, not a 65-line traceback."""
    p = tmp_path / "job.yaml"
    p.write_text("name: x\ntime:\n  post: {start: 2024-11-31, end: 2024-12-01}\n")
    with pytest.raises(
        ConfigError, match=r"job.yaml:3:\d+: malformed YAML: '2024-11-31' is not a date"
    ):
        load_config(p)
