"""Column mapping in the catalog (``columns:``, ``values:``): department names in, schema fields out."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from catalog_helpers import entry
from cimlib.catalog import Catalog, CatalogSyntaxError, ColumnMappingError

PERSONS = {"人员编号": "person_id", "公民身份号码": "id_number", "姓名": "name", "性别": "gender",
           "居住地址": "address_text", "联系电话": "phone", "地址编码": "address_id"}


@pytest.fixture
def persons_csv(tmp_path):
    """A 公安 register in its own column names, a coded 性别 and one bad ID number."""
    frame = pd.DataFrame({
        "人员编号": ["P001", "P002", "P003"],
        "公民身份号码": ["11010519491231002X", "110105194912310021", "420102199003071232"],
        "姓名": ["张三", "李四", "王五"],
        "性别": [1, 2, 9],
        "居住地址": ["曾都区西城街道烈山大道1号", "西关佳苑8栋1单元501室", "不详"],
        "联系电话": ["13800000000", "13900000000", "027-1234"],
        "地址编码": ["A1", None, "A3"],
        "备注": ["", "", ""],
    })
    path = tmp_path / "人口.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    return path


def persons_entry(**extra):
    base = entry("persons", "csv", "人口.csv", schema="persons", id_column="人员编号", columns=dict(PERSONS),
                 values={"gender": {1: "男", "2": "女"}}, layer="公共专题", classification="敏感")
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def test_read_maps_columns_and_values(persons_csv, write_catalog):
    catalog = Catalog.load(write_catalog([persons_entry()]))
    e = catalog["persons"]
    assert e.id_column == "person_id"  # the source name in id_column means its field
    assert e.source_column("id_number") == "公民身份号码" and e.field_column("姓名") == "name"
    frame = catalog.read("persons")
    assert list(frame.columns) == ["person_id", "id_number", "name", "gender", "address_text", "phone",
                                   "address_id", "备注"]
    assert frame["person_id"].tolist() == ["P001", "P002", "P003"]
    assert frame["gender"].tolist() == ["男", "女", "9"]  # an unlisted code is kept, as text
    assert catalog.read("persons", columns=["id_number", "name"]).columns.tolist() == ["id_number", "name"]


def test_id_column_may_name_the_field(persons_csv, write_catalog):
    catalog = Catalog.load(write_catalog([persons_entry(id_column="person_id")]))
    assert catalog["persons"].id_column == "person_id"
    assert catalog.read("persons")["person_id"].tolist() == ["P001", "P002", "P003"]


def test_findings_name_field_and_source_column(persons_csv, write_catalog):
    from standards_checks import run_checks

    catalog = Catalog.load(write_catalog([persons_entry()]))
    findings = run_checks(catalog, ["persons"]).findings
    bad_id = findings[findings["rule_id"] == "PER-001"]
    assert bad_id["record_id"].tolist() == ["P002"]
    assert bad_id["column"].tolist() == ["id_number"]
    assert "id_number（源字段 公民身份号码）" in bad_id["message"].iloc[0]
    assert bad_id["value"].iloc[0] != "110105194912310021"  # still masked
    phone = findings[findings["rule_id"] == "PER-004"]
    assert phone["record_id"].tolist() == ["P003"] and "源字段 联系电话" in phone["message"].iloc[0]
    extra = findings[findings["rule_id"] == "SYS-008"]
    assert extra["column"].tolist() == ["备注"]  # an unmapped department column is kept and reported


@pytest.mark.parametrize(
    ("change", "key", "text"),
    [
        ({"columns": {**PERSONS, "户籍地": "hukou_place"}}, "columns.户籍地", "不在数据集 persons 的字段表中"),
        ({"columns": {**PERSONS, "身份证号": "id_number"}}, "columns.身份证号", "映射到同一标准字段 'id_number'"),
        ({"columns": {**PERSONS, "证件号码": "id_numbr"}}, "columns.证件号码", "是否想写 'id_number'"),
        ({"columns": ["人员编号", "person_id"]}, "columns", "应为映射"),
        ({"values": {"sex": {"1": "男"}}}, "values.sex", "不在数据集 persons 的字段表中"),
        ({"values": {"gender": "男女"}}, "values.gender", "应为非空映射"),
    ],
    ids=["unknown-field", "two-sources", "typo", "not-a-mapping", "values-unknown-field", "values-not-a-mapping"],
)
def test_mapping_errors_name_entry_and_key(persons_csv, write_catalog, change, key, text):
    with pytest.raises(CatalogSyntaxError) as info:
        Catalog.load(write_catalog([persons_entry(**change)]))
    message = str(info.value)
    assert "'persons'" in message and f"'{key}'" in message and text in message


def test_mapped_column_missing_from_file(persons_csv, write_catalog):
    catalog = Catalog.load(write_catalog([persons_entry(columns={**PERSONS, "户籍地址": "registration"})]))
    with pytest.raises(ColumnMappingError) as info:
        catalog.read("persons")
    message = str(info.value)
    assert "persons" in message and "'columns.户籍地址'" in message and "人口.csv" in message
    assert "公民身份号码" in message  # the columns the file does have are listed
    # a subset read that does not need the missing column still works
    assert len(catalog.read("persons", columns=["id_number"])) == 3

    from standards_checks import run_checks

    findings = run_checks(catalog, ["persons"]).findings
    assert findings["rule_id"].tolist() == ["SYS-001"]  # a finding of the run, not a crash
    assert "columns.户籍地址" in findings["message"].iloc[0]


def test_source_column_clashing_with_a_field_name(tmp_path, write_catalog):
    pd.DataFrame({"编号": ["1"], "person_id": ["x"]}).to_csv(tmp_path / "人口.csv", index=False)
    catalog = Catalog.load(write_catalog([entry("persons", "csv", "人口.csv", schema="persons", id_column="编号",
                                                columns={"编号": "person_id"})]))
    with pytest.raises(ColumnMappingError, match="columns.编号.*已有同名字段 'person_id'"):
        catalog.read("persons")


def test_mapping_on_a_vector_layer_and_its_dtype(tmp_path, write_catalog):
    boxes = [shapely.box(113.3 + i * 0.01, 31.6, 113.305 + i * 0.01, 31.605) for i in range(2)]
    gdf = gpd.GeoDataFrame({"JZWBH": [1, 20], "JZGD": [12.5, 30.0]}, geometry=boxes, crs="EPSG:4490")
    gdf.to_file(tmp_path / "b.gpkg", layer="JZW", driver="GPKG")
    catalog = Catalog.load(write_catalog([entry("buildings", "gpkg", "b.gpkg", schema="buildings",
                                                id_column="building_id",
                                                columns={"JZWBH": "building_id", "JZGD": "height"},
                                                options={"layer": "JZW"})]))
    frame = catalog.read("buildings")
    assert frame["building_id"].tolist() == ["1", "20"]  # the id read as text under its source name
    assert frame["height"].tolist() == [12.5, 30.0] and frame.crs.to_epsg() == 4490


def test_mapping_on_a_partitioned_folder(tmp_path, write_catalog):
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(2):
        pd.DataFrame({"设备编号": [f"D{i}"], "监测值": [float(i)], "设备类型": ["1"]}).to_parquet(folder / f"part-{i}.parquet")
    catalog = Catalog.load(write_catalog([entry("stream", "parquet", "parts", schema="devices", id_column="设备编号",
                                                columns={"设备编号": "device_id", "设备类型": "device_type"},
                                                values={"device_type": {"1": "GAS"}})]))
    frame = catalog.read("stream")
    assert hasattr(frame, "compute")  # still out-of-core
    got = frame.compute().sort_values("device_id")
    assert got["device_id"].tolist() == ["D0", "D1"] and got["device_type"].tolist() == ["GAS", "GAS"]
    assert "监测值" in got.columns
