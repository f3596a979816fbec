"""Loading and validating catalog files: structure, includes, every syntax problem."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
from catalog_helpers import entry

from cimlib.catalog import (
    Catalog,
    CatalogEntry,
    CatalogError,
    CatalogSyntaxError,
    EntryNotFoundError,
    SourceNotFoundError,
    UnknownFormatError,
)


def test_load_builds_entries_in_file_order(tmp_path, write_catalog):
    path = write_catalog(
        [entry("roads", "geoparquet", "data/roads.parquet"), entry("buildings", "csv", str(tmp_path / "abs.csv"))],
        title_zh="样例城市",
        city_code="421303",
        crs="EPSG:4490",
    )
    catalog = Catalog.load(path)
    assert catalog.path == path.resolve()
    assert (catalog.version, catalog.title_zh, catalog.city_code, catalog.crs) == (1, "样例城市", "421303", "EPSG:4490")
    assert list(catalog.entries) == ["roads", "buildings"] == catalog.names
    assert [e.name for e in catalog] == ["roads", "buildings"]
    assert len(catalog) == 2 and "roads" in catalog and "nope" not in catalog
    roads = catalog["roads"]
    assert isinstance(roads, CatalogEntry)
    assert roads.resolved_path == tmp_path / "data" / "roads.parquet"
    assert roads.path == "data/roads.parquet"
    assert roads.catalog_path == path.resolve()
    assert catalog["buildings"].resolved_path == tmp_path / "abs.csv"
    with pytest.raises(dataclasses.FrozenInstanceError):
        roads.name = "other"  # type: ignore[misc]


def test_entry_crs_defaults_to_top_level(write_catalog):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet", crs=None)], crs="EPSG:4490")
    assert Catalog.load(path)["roads"].crs == "EPSG:4490"


def test_include_resolves_paths_relative_to_included_file(tmp_path, write_catalog):
    write_catalog([entry("sample_roads", "geoparquet", "roads.parquet")], filename="data/sample/data_catalog.yaml")
    path = write_catalog([entry("roads", "geoparquet", "roads.parquet")], include="data/sample/data_catalog.yaml")
    catalog = Catalog.load(path)
    assert catalog.names == ["sample_roads", "roads"]
    assert catalog["sample_roads"].resolved_path == tmp_path / "data" / "sample" / "roads.parquet"
    assert catalog["sample_roads"].catalog_path == tmp_path / "data" / "sample" / "data_catalog.yaml"
    assert catalog["roads"].resolved_path == tmp_path / "roads.parquet"
    assert catalog.includes == (tmp_path / "data" / "sample" / "data_catalog.yaml",)


def test_include_only_catalog_without_entries(write_catalog):
    write_catalog([entry("sample_roads", "geoparquet", "roads.parquet")], filename="sample/data_catalog.yaml")
    path = write_catalog(None, include="sample/data_catalog.yaml")
    assert Catalog.load(path).names == ["sample_roads"]


# --------------------------------------------------------------------------- load-time errors


def _assert_names(exc: CatalogError, *parts: str) -> None:
    message = str(exc)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    assert f"[{type(exc).__name__}]" in message


def test_missing_catalog_file(tmp_path):
    with pytest.raises(SourceNotFoundError) as info:
        Catalog.load(tmp_path / "nope.yaml")
    assert isinstance(info.value, FileNotFoundError)
    _assert_names(info.value, str(tmp_path / "nope.yaml"))


def test_malformed_yaml(tmp_path):
    path = tmp_path / "data_catalog.yaml"
    path.write_text("version: 1\nentries:\n  - name: roads\n    layer: [时空基础\n", encoding="utf-8")
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, str(path), "YAML", "行")
    assert info.value.path == str(path)


@pytest.mark.parametrize("content", ["- a\n- b\n", "", "just text\n"], ids=["list", "empty", "scalar"])
def test_top_level_not_a_mapping(tmp_path, content):
    path = tmp_path / "data_catalog.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, str(path), "顶层")


@pytest.mark.parametrize("key", ["title_zh", "layer", "format", "path", "schema", "owner", "classification", "update_cycle"])
def test_missing_required_key(write_catalog, key):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet", **{key: None})])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'roads'", f"'{key}'", "缺少必填键", str(path))
    assert info.value.entry == "roads"


def test_missing_name_is_reported_by_position(write_catalog):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet", name=None)])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "#1", "'name'", "缺少必填键", str(path))


@pytest.mark.parametrize(
    ("fmt", "key"), [("geoparquet", "crs"), ("geotiff", "crs"), ("csv", "id_column"), ("gpkg", "id_column")]
)
def test_conditionally_required_keys(write_catalog, fmt, key):
    path = write_catalog([entry("layer1", fmt, "f", **{key: None})])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'layer1'", f"'{key}'", str(path))


def test_xy_options_require_crs(write_catalog):
    path = write_catalog([entry("sites", "csv", "t.csv", options={"x": "lon", "y": "lat"})])
    with pytest.raises(CatalogSyntaxError, match="'crs'"):
        Catalog.load(path)


def test_unknown_key(write_catalog):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet", ower="市交通局")])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'roads'", "'ower'", "未知的键", "'owner'", str(path))


def test_unknown_top_level_key(write_catalog):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet")], entires=[])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'entires'", str(path))


@pytest.mark.parametrize("version", [2, None, "1"])
def test_bad_version(write_catalog, version):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet")], version=version)
    with pytest.raises(CatalogSyntaxError, match="'version'"):
        Catalog.load(path)


def test_duplicate_name(write_catalog):
    path = write_catalog([entry("roads", "geoparquet", "a.parquet"), entry("roads", "geoparquet", "b.parquet")])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'roads'", "'name'", "重复", str(path))


def test_duplicate_name_across_include(write_catalog):
    write_catalog([entry("roads", "geoparquet", "a.parquet")], filename="sample/data_catalog.yaml")
    path = write_catalog([entry("roads", "geoparquet", "b.parquet")], include="sample/data_catalog.yaml")
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'roads'", "重复", "sample/data_catalog.yaml", str(path))


def test_duplicate_yaml_key_in_entry(tmp_path):
    path = tmp_path / "data_catalog.yaml"
    text = (
        "version: 1\nentries:\n  - name: roads\n    title_zh: 道路\n    layer: 时空基础\n    format: geoparquet\n"
        "    path: r.parquet\n    crs: EPSG:4490\n    id_column: code\n    schema: roads\n    owner: 交通局\n"
        "    classification: 内部\n    update_cycle: 季度\n    owner: 自然资源局\n"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'roads'", "'owner'", "重复出现", "第 14 行", str(path))


@pytest.mark.parametrize("name", ["Roads", "1roads", "road-s", "道路"])
def test_bad_name(write_catalog, name):
    path = write_catalog([entry(name, "geoparquet", "r.parquet")])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, f"'{name}'", "'name'", "[a-z][a-z0-9_]*", str(path))


@pytest.mark.parametrize(("key", "value"), [("layer", "基础地理"), ("classification", "机密")])
def test_bad_layer_or_classification(write_catalog, key, value):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet", **{key: value})])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'roads'", f"'{key}'", value, str(path))


def test_unknown_format(write_catalog):
    path = write_catalog([entry("roads", "geoparket", "r.parquet", crs="EPSG:4490")])
    with pytest.raises(UnknownFormatError) as info:
        Catalog.load(path)
    assert isinstance(info.value, CatalogSyntaxError)
    _assert_names(info.value, "'roads'", "'geoparket'", "'geoparquet'", str(path))


@pytest.mark.parametrize("crs", ["EPSG:999999", "not a crs"])
def test_unparseable_crs(write_catalog, crs):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet", crs=crs)])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'roads'", "'crs'", crs, str(path))


@pytest.mark.parametrize(
    ("fmt", "options", "key"),
    [
        ("csv", {"encodng": "gbk"}, "options.encodng"),
        ("csv", {"x": "lon"}, "options"),
        ("geotiff", {"band": "2"}, "options.band"),
        ("xlsx", {"header": "1"}, "options.header"),
        ("csv", ["x"], "options"),
    ],
)
def test_bad_options(write_catalog, fmt, options, key):
    path = write_catalog([entry("layer1", fmt, "f", options=options, crs="EPSG:4490")])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'layer1'", f"'{key}'", str(path))


@pytest.mark.parametrize(
    "snapshots",
    [{"periods": ["2024-01"]}, {"path": "s", "periods": ["2024-13"]}, {"path": "s", "perods": []}, "s"],
    ids=["no-path", "bad-period", "unknown-key", "not-mapping"],
)
def test_bad_snapshots(write_catalog, snapshots):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet", snapshots=snapshots)])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'roads'", "'snapshots", str(path))


def test_city_code_must_be_quoted(write_catalog):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet")], city_code=421303)
    with pytest.raises(CatalogSyntaxError, match="city_code"):
        Catalog.load(path)


def test_all_problems_reported_together(write_catalog):
    path = write_catalog(
        [
            entry("roads", "geoparquet", "r.parquet", layer="基础"),
            entry("Bad", "csv", "b.csv", classification="绝密"),
            entry("pipes", "shapefle", "p.shp"),
        ]
    )
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    error = info.value
    assert type(error) is CatalogSyntaxError  # mixed problems: not the UnknownFormatError subclass
    assert len(error.problems) == 4
    _assert_names(error, "'roads'", "'layer'", "'Bad'", "'classification'", "'name'", "'pipes'", "'format'", str(path))
    assert error.entry is None


def test_missing_included_catalog_suggests_cim_demo(tmp_path, write_catalog):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet")], include="data/sample/data_catalog.yaml")
    with pytest.raises(SourceNotFoundError) as info:
        Catalog.load(path)
    assert isinstance(info.value, FileNotFoundError)
    _assert_names(info.value, str(tmp_path / "data" / "sample" / "data_catalog.yaml"), "cim demo", str(path))


def test_problems_in_included_catalog_name_that_file(tmp_path, write_catalog):
    included = write_catalog([entry("roads", "geoparquet", "r.parquet", owner=None)], filename="s/data_catalog.yaml")
    path = write_catalog([], include="s/data_catalog.yaml")
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    _assert_names(info.value, "'roads'", "'owner'", str(included), str(path))


def test_include_cycle(write_catalog):
    write_catalog([], filename="a.yaml", include="b.yaml")
    path = write_catalog([], filename="b.yaml", include="a.yaml")
    with pytest.raises(CatalogSyntaxError, match="循环"):
        Catalog.load(path)


# --------------------------------------------------------------------------- lookup


def test_unknown_entry_name_lists_available(write_catalog):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet"), entry("buildings", "geoparquet", "b.parquet")])
    catalog = Catalog.load(path)
    with pytest.raises(EntryNotFoundError) as info:
        catalog["road"]
    assert isinstance(info.value, CatalogError) and isinstance(info.value, KeyError)
    _assert_names(info.value, "'road'", "roads", "buildings", "是否想用 'roads'", str(path))
    with pytest.raises(EntryNotFoundError):
        catalog.read("road")
    with pytest.raises(EntryNotFoundError):
        catalog.describe("road")


def test_errors_pickle_round_trip(write_catalog):
    path = write_catalog([entry("roads", "geoparquet", "r.parquet", layer="基础")])
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(path)
    clone = pickle.loads(pickle.dumps(info.value))
    assert type(clone) is CatalogSyntaxError
    assert str(clone) == str(info.value) and clone.problems == info.value.problems and clone.path == info.value.path


def test_error_message_format():
    from cimlib.catalog import CRSMismatchError

    error = CRSMismatchError(
        "坐标参考系不一致：声明 EPSG:4490，文件为 EPSG:4326", entry="buildings", path=Path("/abs/data/buildings.parquet")
    )
    assert str(error) == (
        "目录条目 'buildings'（文件 /abs/data/buildings.parquet）：坐标参考系不一致：声明 EPSG:4490，文件为 EPSG:4326 [CRSMismatchError]"
    )
    assert (error.entry, error.path, error.problem) == ("buildings", "/abs/data/buildings.parquet", error.problem)
    assert isinstance(error, ValueError)
