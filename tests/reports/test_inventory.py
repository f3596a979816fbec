"""The inventory (数据资源清单): coordinate systems as declared and as found, by name; a record count for every entry
(cells for rasters) saying what it counts; ``—`` with a reason instead of nan/None."""

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from cimlib.catalog import Catalog
from cimlib.reports.inventory import (INVENTORY_LABELS, NOT_IN_FILE, NOT_SPATIAL, crs_name, inventory_display,
                                      inventory_table, write_inventory)


@pytest.fixture(scope="module")
def inventory(city):
    return inventory_table(Catalog.load(city / "data_catalog.yaml"), fingerprints=False)


def test_coordinate_systems_have_chinese_names():
    assert crs_name("EPSG:4490") == "CGCS2000 地理坐标系（EPSG:4490）"
    assert crs_name("EPSG:4547") == "CGCS2000 3 度带高斯-克吕格投影（中央经线 114°E，EPSG:4547）"
    assert crs_name("EPSG:4526") == "CGCS2000 3 度带高斯-克吕格投影（第 38 带，EPSG:4526）"
    assert crs_name("EPSG:2383") == "西安 1980 3 度带高斯-克吕格投影（中央经线 114°E，EPSG:2383）"
    assert crs_name(None) is None and crs_name(float("nan")) is None
    assert crs_name("+proj=tmerc +lon_0=114") == "+proj=tmerc +lon_0=114"   # a city's own system keeps its label


def test_every_entry_has_a_record_count_saying_what_it_counts(inventory):
    rows = inventory.set_index("name")
    assert rows["rows"].notna().all(), rows.loc[rows["rows"].isna()].index.tolist()
    dem = rows.loc["dem"]
    assert dem["geometry_type"] == "Raster" and dem["rows"] > 0 and dem["rows_basis"].startswith("栅格像元数")
    assert rows.loc["addresses", "rows_basis"].startswith("最新一期快照（")
    assert rows.loc["readings", "rows_basis"].endswith("个文件合计")
    assert rows.loc["control_lines", "rows_basis"] == "全部记录"       # a Shapefile's sidecars are not a sum
    assert list(inventory.columns) == list(INVENTORY_LABELS)


def test_the_displayed_inventory_names_coordinate_systems_and_gives_reasons_not_nan(inventory):
    shown = inventory_display(inventory)
    by_name = shown.set_index(inventory["name"])
    text = shown.to_string()
    assert "nan" not in text.lower() and "None" not in text and "<NA>" not in text
    assert not shown.isna().any().any()
    assert by_name.loc["addresses", "声明坐标系"] == "CGCS2000 地理坐标系（EPSG:4490）"
    assert by_name.loc["addresses", "文件坐标系"] == "CGCS2000 地理坐标系（EPSG:4490）"
    assert by_name.loc["persons", "文件坐标系"] == NOT_SPATIAL == by_name.loc["persons", "几何类型"]
    assert by_name.loc["devices", "文件坐标系"] == NOT_IN_FILE            # CSV coordinates: the file says nothing
    assert by_name.loc["devices", "声明坐标系"].startswith("CGCS2000")
    assert by_name.loc["dem", "几何类型"] == "栅格" and by_name.loc["dem", "记录数"] != ""
    assert by_name.loc["readings", "记录数"].replace(",", "").isdigit() and "," in by_name.loc["readings", "记录数"]
    assert "addresses" not in shown.to_string() and "gpkg" not in text    # entry ids and format codes stay in files


def test_a_mismatch_and_an_unreadable_entry_are_shown_as_such():
    table = pd.DataFrame([
        {"title_zh": "建筑", "format": "shapefile", "rows": 10, "rows_basis": "全部记录", "crs_declared": "EPSG:4547",
         "crs": "EPSG:4490", "crs_matches": False, "crs_workbench": "EPSG:4490", "geometry_type": "Polygon",
         "n_periods": 0, "size_bytes": 100, "status": "警告", "problem": "文件坐标系与声明不一致"},
        {"title_zh": "道路", "format": "gpkg", "rows": None, "rows_basis": None, "crs_declared": "EPSG:4490",
         "crs": None, "crs_matches": None, "crs_workbench": None, "geometry_type": None, "n_periods": None,
         "size_bytes": None, "status": "错误", "problem": "文件不存在"}])
    shown = inventory_display(table).to_dict("records")
    assert shown[0]["坐标系一致"] == "不一致" and "中央经线 114°E" in shown[0]["声明坐标系"]
    assert shown[1]["记录数"] == shown[1]["文件坐标系"] == "—（无法读取）" and shown[1]["问题"] == "文件不存在"


def test_inventory_html_has_no_nan_and_names_coordinate_systems(city, tmp_path):
    write_inventory(city / "data_catalog.yaml", tmp_path, progress=False)
    soup = BeautifulSoup((tmp_path / "inventory.html").read_text(encoding="utf-8"), "html.parser")
    cells = [td.get_text() for td in soup.find_all("td")]
    assert cells and not [c for c in cells if c.strip() in ("", "nan", "None", "<NA>", "NaN")]
    assert "CGCS2000 地理坐标系（EPSG:4490）" in cells and NOT_SPATIAL in cells
    assert "记录数口径" in [th.get_text() for th in soup.find_all("th")]
    csv = pd.read_csv(tmp_path / "inventory.csv", encoding="utf-8-sig")
    assert "rows_basis" in csv and csv.loc[csv["name"] == "dem", "rows"].iloc[0] > 0   # files for programs keep codes
