"""Formats departments deliver: File Geodatabase, GeoJSON, Excel read with calamine, CSV delimiters."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from catalog_helpers import ZH, entry

from cimlib.catalog import Catalog, CatalogWarning, CRSMismatchError, ReadError
from cimlib.catalog.readers import READERS


def _read(catalog_path, name, **kwargs):
    """Read an entry, returning the frame and the catalog warnings it emitted."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = Catalog.load(catalog_path).read(name, **kwargs)
    return frame, [str(w.message) for w in caught if issubclass(w.category, CatalogWarning)]


# --------------------------------------------------------------------------- File Geodatabase


@pytest.fixture
def gdb(tmp_path, gdf):
    """A File Geodatabase with two feature classes and one attribute table."""
    import pyogrio

    path = tmp_path / "自然资源数据.gdb"
    pyogrio.write_dataframe(gdf, path, layer="JZW_建筑物", driver="OpenFileGDB")
    pyogrio.write_dataframe(gdf.iloc[:1], path, layer="DLTB_地类图斑", driver="OpenFileGDB")
    pyogrio.write_dataframe(pd.DataFrame({"code": ["001"], "备注": ["表"]}), path, layer="备注表", driver="OpenFileGDB")
    return path


@pytest.mark.parametrize("fmt", ["filegdb", "gdb"])
def test_filegdb_layer_by_name_and_alias(tmp_path, write_catalog, gdb, fmt):
    path = write_catalog([entry("buildings", fmt, gdb.name, crs="EPSG:4490", options={"layer": "JZW_建筑物"})])
    result, warned = _read(path, "buildings")
    assert isinstance(result, gpd.GeoDataFrame) and not warned
    assert result["code"].tolist() == ["001", "002", "010"] and result["name"].tolist() == ZH
    assert result.crs.equals("EPSG:4490")
    assert READERS["gdb"] is READERS["filegdb"]


def test_filegdb_layer_by_index_and_attribute_table(tmp_path, write_catalog, gdb):
    import pyogrio

    names = [str(n) for n in pyogrio.list_layers(gdb)[:, 0]]
    path = write_catalog([
        entry("by_index", "filegdb", gdb.name, crs="EPSG:4490", options={"layer": names.index("DLTB_地类图斑")}),
        entry("notes", "filegdb", gdb.name, crs="EPSG:4490", options={"layer": "备注表"}),
    ])
    catalog = Catalog.load(path)
    assert len(catalog.read("by_index")) == 1
    table = catalog.read("notes")
    assert not isinstance(table, gpd.GeoDataFrame) and table["备注"].tolist() == ["表"]


def test_filegdb_without_layer_lists_the_layers(tmp_path, write_catalog, gdb):
    catalog = Catalog.load(write_catalog([entry("buildings", "filegdb", gdb.name, crs="EPSG:4490")]))
    with pytest.raises(ReadError) as info:
        catalog.read("buildings")
    text = str(info.value)
    assert "JZW_建筑物" in text and "DLTB_地类图斑" in text and "备注表（表格）" in text and "options.layer" in text


def test_filegdb_unknown_layer_lists_the_layers(tmp_path, write_catalog, gdb):
    catalog = Catalog.load(write_catalog([entry("b", "gdb", gdb.name, crs="EPSG:4490", options={"layer": "建筑"})]))
    with pytest.raises(ReadError) as info:
        catalog.read("b")
    assert "'建筑' 不存在" in str(info.value) and "JZW_建筑物" in str(info.value) and "文件地理数据库" in str(info.value)


def test_filegdb_single_spatial_layer_is_the_default(tmp_path, write_catalog, gdf):
    import pyogrio

    path = tmp_path / "one.gdb"
    pyogrio.write_dataframe(gdf, path, layer="道路", driver="OpenFileGDB")
    pyogrio.write_dataframe(pd.DataFrame({"code": ["1"]}), path, layer="属性表", driver="OpenFileGDB")
    result = Catalog.load(write_catalog([entry("roads", "filegdb", "one.gdb", crs="EPSG:4490")])).read("roads")
    assert len(result) == 3 and isinstance(result, gpd.GeoDataFrame)


def test_filegdb_files_describe_and_crs_check(tmp_path, write_catalog, gdb):
    path = write_catalog([
        entry("buildings", "filegdb", gdb.name, crs="EPSG:4490", options={"layer": "JZW_建筑物"}),
        entry("wrong", "filegdb", gdb.name, crs="EPSG:4526", options={"layer": "JZW_建筑物"}),
    ])
    catalog = Catalog.load(path)
    files = catalog.files("buildings")
    assert files and all(gdb in f.parents for f in files) and any(f.suffix == ".gdbtable" for f in files)
    info = catalog.describe("buildings")
    assert info["rows"] == 3 and info["crs"] == "EPSG:4490" and info["crs_matches"] is True
    assert {"code", "name"} <= set(info["columns"]) and sorted(info["files"]) == sorted(map(str, files))
    with pytest.raises(CRSMismatchError):
        catalog.read("wrong")


def test_filegdb_snapshot_period_folder(tmp_path, write_catalog, gdf):
    import pyogrio

    folder = tmp_path / "snap" / "period=2024-09"
    folder.mkdir(parents=True)
    pyogrio.write_dataframe(gdf.iloc[:2], folder / "自规.gdb", layer="JZW", driver="OpenFileGDB")
    pyogrio.write_dataframe(gdf, tmp_path / "now.gdb", layer="JZW", driver="OpenFileGDB")
    snapshots = {"path": "snap", "periods": ["2024-09"]}
    catalog = Catalog.load(write_catalog([entry("b", "filegdb", "now.gdb", crs="EPSG:4490", snapshots=snapshots)]))
    assert len(catalog.read("b")) == 3 and len(catalog.read("b", period="2024-09")) == 2
    assert all((folder / "自规.gdb") in f.parents for f in catalog.files("b", period="2024-09"))


# --------------------------------------------------------------------------- GeoJSON


def _feature_collection(gdf, crs_member: str | None = None) -> dict:
    doc = json.loads(gdf.to_json(drop_id=True))
    doc.pop("crs", None)
    if crs_member:
        doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": crs_member}},
               "features": doc["features"]}
    return doc


@pytest.mark.parametrize("suffix", [".geojson", ".json"])
def test_geojson_rfc7946_declared_cgcs2000_matches_silently(tmp_path, write_catalog, gdf, suffix):
    (tmp_path / f"b{suffix}").write_text(json.dumps(_feature_collection(gdf), ensure_ascii=False), encoding="utf-8")
    path = write_catalog([entry("b", "geojson", f"b{suffix}", crs="EPSG:4490")])
    result, warned = _read(path, "b")
    assert not warned
    assert result["code"].tolist() == ["001", "002", "010"] and result["name"].tolist() == ZH
    assert result.crs.equals("EPSG:4490") and result.geometry.equals(gdf.geometry)
    info = Catalog.load(path).describe("b")
    assert info["crs_matches"] is True and info["rows"] == 3


def test_geojson_crs_member_other_than_declared_is_a_mismatch(tmp_path, write_catalog, gdf):
    doc = _feature_collection(gdf.to_crs("EPSG:3857"), "urn:ogc:def:crs:EPSG::3857")
    (tmp_path / "b.geojson").write_text(json.dumps(doc), encoding="utf-8")
    catalog = Catalog.load(write_catalog([entry("b", "geojson", "b.geojson", crs="EPSG:4490")]))
    with pytest.raises(CRSMismatchError, match="3857"):
        catalog.read("b")


def test_geojson_without_crs_member_declared_projected_is_assumed_with_warning(tmp_path, write_catalog, gdf):
    metres = gdf.to_crs("EPSG:4526")
    (tmp_path / "b.geojson").write_text(json.dumps(_feature_collection(metres)), encoding="utf-8")
    path = write_catalog([entry("b", "geojson", "b.geojson", crs="EPSG:4526")])
    result, warned = _read(path, "b")
    assert any("RFC 7946" in w and "EPSG:4526" in w for w in warned)
    assert len(result) == 3 and result.crs.equals("EPSG:4490")  # assumed EPSG:4526, then brought to EPSG:4490
    assert 113.2 < result.total_bounds[0] < result.total_bounds[2] < 113.4


def test_geojson_gbk_is_decoded_and_codes_stay_text(tmp_path, write_catalog, gdf):
    text = json.dumps(_feature_collection(gdf.assign(code=["001", "002", "010"])), ensure_ascii=False)
    (tmp_path / "b.geojson").write_bytes(text.encode("gbk"))
    path = write_catalog([entry("b", "geojson", "b.geojson", crs="EPSG:4490", options={"dtype": ["code"]})])
    result, warned = _read(path, "b")
    assert result["name"].tolist() == ZH and result["code"].tolist() == ["001", "002", "010"]
    assert any("UTF-8" in w and "gb18030" in w.lower() for w in warned)
    declared = write_catalog([entry("b", "geojson", "b.geojson", crs="EPSG:4490", options={"encoding": "gbk"})],
                             filename="declared.yaml")
    result, warned = _read(declared, "b")
    assert result["name"].tolist() == ZH and not warned


# --------------------------------------------------------------------------- Excel through calamine


def test_excel_is_read_without_openpyxl(tmp_path, write_catalog, frame, monkeypatch):
    import openpyxl

    frame.to_excel(tmp_path / "t.xlsx", index=False, sheet_name="名录")

    def forbidden(*args, **kwargs):
        raise AssertionError("cell values must be read with calamine")

    monkeypatch.setattr(openpyxl, "load_workbook", forbidden)
    monkeypatch.setattr(pd, "read_excel", forbidden)
    result, warned = _read(write_catalog([entry("t", "xlsx", "t.xlsx", options={"sheet": "名录"})]), "t")
    assert result["code"].tolist() == ["001", "002", "010"] and result["name"].tolist() == ZH and not warned
    assert pd.isna(result["lon"].iloc[2]) and result["lat"].dtype == float


def test_excel_types_match_pandas_read_excel(tmp_path, write_catalog):
    table = pd.DataFrame({"code": ["A1", "A2", "A3"], "count": [1, 2, 3], "ratio": [0.5, 1.0, None],
                          "day": pd.to_datetime(["2024-01-02", "2024-02-03", None]), "flag": [True, False, True],
                          "note": ["甲", None, "丙"]})
    table.to_excel(tmp_path / "t.xlsx", index=False)
    result = Catalog.load(write_catalog([entry("t", "xlsx", "t.xlsx")])).read("t")
    expected = pd.read_excel(tmp_path / "t.xlsx", engine="openpyxl", dtype={"code": str})
    pd.testing.assert_frame_equal(result, expected, check_dtype=False)
    assert result["count"].dtype.kind == "i" and result["day"].dtype.kind == "M"


def test_excel_xls_content_under_xlsx_name(tmp_path, write_catalog):
    import shutil
    from pathlib import Path

    src = Path(__file__).parent.parent / "standards_checks" / "data" / "tasks_excel2003.xls"
    shutil.copyfile(src, tmp_path / "任务.xlsx")
    result = Catalog.load(write_catalog([entry("t", "xlsx", "任务.xlsx", id_column="task_id")])).read("t")
    assert result["task_id"].tolist() == ["T001", "T002", "T003"] and str(result["deadline"].iloc[0].date()) == "2024-06-30"


def test_excel_title_row_is_skipped_and_reported(tmp_path, write_catalog):
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["实有单位登记表（2024年9月）", None, None])
    ws.merge_cells("A1:C1")
    ws.append(["code", "name", "address"])
    ws.append(["001", ZH[0], ZH[2]])
    ws.append(["002", ZH[1], ZH[2]])
    book.save(tmp_path / "t.xlsx")
    result, warned = _read(write_catalog([entry("t", "xlsx", "t.xlsx")]), "t")
    assert list(result.columns) == ["code", "name", "address"] and result["code"].tolist() == ["001", "002"]
    assert any("标题" in w and "options.header: 1" in w for w in warned)


def test_excel_sheet_index_out_of_range_lists_sheets(tmp_path, write_catalog, frame):
    frame.to_excel(tmp_path / "t.xlsx", index=False, sheet_name="名录")
    with pytest.raises(ReadError) as info:
        Catalog.load(write_catalog([entry("t", "xlsx", "t.xlsx", options={"sheet": 3})])).read("t")
    assert "名录" in str(info.value) and "3" in str(info.value)


# --------------------------------------------------------------------------- CSV delimiters


@pytest.mark.parametrize("sep", [";", "\t", "|"], ids=["semicolon", "tab", "bar"])
def test_csv_delimiter_is_detected(tmp_path, write_catalog, sep):
    lines = [sep.join(["code", "name", "address"]),
             sep.join(["001", ZH[0], '"涢水大道1号, 2栋"']),  # a comma inside quotes must not fool the detection
             sep.join(["002", ZH[1], '"涢水大道2号, 3栋"']),
             sep.join(["010", ZH[2], "涢水大道3号"])]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n", encoding="gbk")
    result, warned = _read(write_catalog([entry("t", "csv", "t.csv")]), "t")
    assert list(result.columns) == ["code", "name", "address"]
    assert result["code"].tolist() == ["001", "002", "010"] and result["address"].iloc[0] == "涢水大道1号, 2栋"
    assert any("分隔符" in w and "options.sep" in w for w in warned)


def test_csv_comma_with_other_delimiters_in_quoted_text_stays_comma(tmp_path, write_catalog):
    text = 'code,name,note\n001,甲,"a;b;c|d"\n002,乙,"e;f;g|h"\n'
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    result, warned = _read(write_catalog([entry("t", "csv", "t.csv")]), "t")
    assert list(result.columns) == ["code", "name", "note"] and result["note"].tolist() == ["a;b;c|d", "e;f;g|h"]
    assert not warned


def test_csv_declared_sep_wins(tmp_path, write_catalog):
    (tmp_path / "t.csv").write_text("code;name\n001;甲\n", encoding="utf-8")
    result, warned = _read(write_catalog([entry("t", "csv", "t.csv", options={"sep": ","})]), "t")
    assert list(result.columns) == ["code;name"] and not warned
