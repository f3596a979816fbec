"""``cim catalog init``: scaffolding a catalog from a folder of department deliveries (cimlib.catalog.onboard).

The fixtures are small files written here in the layouts and naming conventions departments use — a GBK CSV with a
title row, an Excel register with a title row and a two-row header, a shapefile with 10-byte GBK field names in a
Gauss-Krüger zone, a File Geodatabase, pinyin-initial field names, generic column names only the values can explain —
deliberately *not* the sample city generator's names.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cimlib.catalog import READERS, Catalog
from cimlib.catalog.onboard import (
    assign,
    discover,
    find_header,
    load_field_names,
    name_score,
    scaffold_catalog,
    write_scaffold,
)
from cimlib.catalog.onboard._values import FitContext, profile_column, value_fit, vocabularies
from cimlib.cli import main
from cimlib.codes.ids import org_check_char, ric_check_char, uscc_check_char

CITY = "421303"
STREETS = ["421303001", "421303002", "421303101"]
COMMUNITIES = ["421303001001", "421303001002", "421303002001", "421303101201"]
SURNAMES = list("王李张刘陈杨黄赵吴周")
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明"]


# --------------------------------------------------------------------------------------------- value generators


def _rics(rng: np.random.Generator, n: int) -> list[str]:
    births = pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 25000, n), unit="D")
    bodies = [f"{CITY}{b:%Y%m%d}{s:03d}" for b, s in zip(births, rng.integers(0, 1000, n))]
    return [b + c for b, c in zip(bodies, ric_check_char(bodies))]


def _usccs(rng: np.random.Generator, n: int) -> list[str]:
    org8 = ["".join(rng.choice(list("0123456789ABCDEFGHJKLMNPQRTUWXY"), 8)) for _ in range(n)]
    org9 = [o + c for o, c in zip(org8, org_check_char(org8))]
    first17 = [f"91{CITY}{o}" for o in org9]
    return [f + c for f, c in zip(first17, uscc_check_char(first17))]


def _mobiles(rng: np.random.Generator, n: int) -> list[str]:
    return [f"1{rng.choice([3, 5, 8])}{rng.integers(0, 10**9):09d}" for _ in range(n)]


def _names(rng: np.random.Generator, n: int) -> list[str]:
    return [rng.choice(SURNAMES) + "".join(rng.choice(GIVEN, rng.integers(1, 3))) for _ in range(n)]


def _addresses(rng: np.random.Generator, n: int) -> list[str]:
    roads = ["解放路", "青年路", "烈山大道", "舜井街", "沿河巷"]
    return [f"随州市曾都区{rng.choice(roads)}{rng.integers(1, 300)}号{rng.integers(1, 20)}栋{rng.integers(1, 6)}单元"
            f"{rng.integers(1, 30)}0{rng.integers(1, 5)}室" for _ in range(n)]


def _persons(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "person_id": [f"RK{CITY}{i:06d}" for i in range(n)],
        "id_number": _rics(rng, n),
        "name": _names(rng, n),
        "gender": rng.choice(["1", "2"], n),
        "phone": _mobiles(rng, n),
        "address_text": _addresses(rng, n),
        "street_code": rng.choice(STREETS, n),
        "community_code": rng.choice(COMMUNITIES, n),
    })


def _units(n: int = 40, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    suffix = ["有限公司", "超市", "餐饮店", "建材经营部", "幼儿园"]
    return pd.DataFrame({
        "unit_id": [f"DW{i:05d}" for i in range(n)],
        "name": [f"随州{rng.choice(['鑫源', '博雅', '嘉禾', '华联'])}{rng.choice(suffix)}" for _ in range(n)],
        "uscc": _usccs(rng, n),
        "legal_rep": _names(rng, n),
        "phone": _mobiles(rng, n),
        "address_text": _addresses(rng, n),
        "employees": rng.integers(1, 300, n),
    })


def _buildings(n: int = 30, seed: int = 3):
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    x0, y0 = 38_500_000.0, 3_470_000.0  # CGCS2000 3-degree Gauss-Krüger zone 38 (EPSG:4526), with zone prefix
    boxes = [shapely.box(x0 + 40 * i, y0, x0 + 40 * i + 25, y0 + 18) for i in range(n)]
    floors = rng.integers(1, 30, n)
    return gpd.GeoDataFrame({
        "building_id": [f"JZ{CITY}{i:05d}" for i in range(n)],
        "building_code": [f"{CITY}001{2000 + i % 20}{i:04d}" for i in range(n)],
        "community_code": rng.choice(COMMUNITIES, n),
        "floors": floors,
        "height": np.round(floors * 3.1 + rng.uniform(0, 2, n), 1),
    }, geometry=boxes, crs="EPSG:4526")


def _write_register(path: Path, frame: pd.DataFrame, *, title: str | None, groups: list | None = None,
                    sheet: str = "Sheet1") -> None:
    """An Excel register: optional title row (merged), optional group row over the header (merged cells)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    width = len(frame.columns)
    row = 1
    if title:
        ws.cell(1, 1, title)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        row = 2
    if groups:
        col = 1
        for label, span in groups:
            ws.cell(row, col, label)
            if span > 1:
                ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + span - 1)
                for k, name in enumerate(frame.columns[col - 1: col - 1 + span]):
                    ws.cell(row + 1, col + k, name)
            else:  # a column not in a group: its label spans both header rows
                ws.merge_cells(start_row=row, start_column=col, end_row=row + 1, end_column=col)
            col += span
        row += 2
    else:
        for k, name in enumerate(frame.columns, start=1):
            ws.cell(row, k, name)
        row += 1
    for values in frame.astype(object).itertuples(index=False):
        for k, v in enumerate(values, start=1):
            ws.cell(row, k, v)
        row += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


# --------------------------------------------------------------------------------------------- a delivery


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    """A delivery folder in department layouts and naming conventions other than the sample city generator's."""
    root = tmp_path / "交付"
    # 市公安局: Excel register, title row + two-row header (group cells merged), 性别 coded 1/2
    persons = _persons().rename(columns={
        "person_id": "人口编码", "id_number": "身份证件号码", "name": "姓名", "gender": "性别代码", "phone": "手机",
        "address_text": "现居住地详址", "street_code": "乡镇（街道）代码", "community_code": "村（社区）代码"})
    _write_register(root / "市公安局" / "实有人口.xlsx", persons, title="城区实有人口信息表（2024年9月）",
                    groups=[("人口编码", 1), ("基本信息", 4), ("居住信息", 3)], sheet="人口")
    # 市市场监督管理局: GBK CSV with pinyin-initial names, separated by semicolons
    units = _units().rename(columns={"unit_id": "DWBH", "name": "DWMC", "uscc": "TYSHXYDM", "legal_rep": "FDDBR",
                                     "phone": "LXDH", "address_text": "JYCS", "employees": "CYRS"})
    (root / "市市场监督管理局").mkdir(parents=True)
    units.to_csv(root / "市市场监督管理局" / "dwxx.csv", sep=";", index=False, encoding="gbk")
    # 市自然资源和规划局: shapefile, GBK, no .cpg, Chinese names cut to 10 bytes, Gauss-Krüger zone 38
    b = _buildings().rename(columns={"building_id": "建筑物编号", "building_code": "建筑物统一编码",
                                     "community_code": "所在社区代码", "floors": "地上层数", "height": "建筑高度"})
    folder = root / "市自然资源和规划局"
    folder.mkdir(parents=True)
    b.to_file(folder / "房屋面.shp", encoding="GBK")
    for cpg in folder.glob("*.cpg"):
        cpg.unlink()
    # files that are not datasets
    (root / "说明.docx").write_bytes(b"PK\x03\x04")
    (root / "市自然资源和规划局" / "旧数据.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return root


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------------- header rows


def test_header_under_a_title_row_and_a_note_row():
    grid = [["实有单位登记表（2024年9月）", None, None, None],
            ["填报单位：市场监管局", None, "填报日期：2024-09-30", None],
            ["单位编号", "单位名称", "统一社会信用代码", "联系电话"],
            ["DW0001", "随州鑫源有限公司", "91421303MA4F00001X", "13800000000"],
            ["DW0002", "随州博雅超市", "91421303MA4F00002X", "13800000001"]]
    guess = find_header(grid)
    assert guess.header == 2
    assert guess.title == "实有单位登记表（2024年9月）"
    assert guess.period == "2024-09"
    assert guess.data_start == 3


def test_header_over_two_rows_with_grouped_columns():
    grid = [["人员编号", "基本信息", None, None, "居住信息"],
            [None, "公民身份号码", "姓名", "性别", "居住地址"],
            ["P001", "421303199001011234", "张三", "1", "解放路1号"],
            ["P002", "421303199001011235", "李四", "2", "青年路2号"]]
    guess = find_header(grid)
    assert guess.header == [0, 1]
    assert guess.data_start == 2


def test_plain_header_is_row_zero():
    grid = [["code", "name"], ["001", "甲"], ["002", "乙"]]
    guess = find_header(grid)
    assert guess.header == 0 and guess.title is None


def test_text_only_table_is_not_taken_as_a_two_row_header():
    grid = [["任务名称", "责任单位", "状态"], ["数据治理", "市公安局", "进行中"], ["地址赋码", None, "已完成"]]
    assert find_header(grid).header == 0


# --------------------------------------------------------------------------------------------- field names


@pytest.mark.parametrize(("column", "schema", "field", "at_least"), [
    ("公民身份号码", "persons", "id_number", 1.0),
    ("GMSFHM", "persons", "id_number", 1.0),
    ("sfzh", "persons", "id_number", 1.0),
    ("证件号码", "persons", "id_number", 1.0),
    ("XM", "persons", "name", 1.0),
    ("基本信息_姓名", "persons", "name", 0.9),          # group prefix of a flattened two-row header
    ("联系电话（手机）", "persons", "phone", 0.9),        # bracketed note
    ("现居住地详细地址", "persons", "address_text", 0.6),  # a listed name with a qualifier
    ("信用代码", "units", "uscc", 1.0),
    ("TYSHXYDM", "units", "uscc", 1.0),
    ("法人代表", "units", "legal_rep", 1.0),
    ("不动产单元代码", "houses", "bdcdyh", 1.0),
    ("BDCDYH", "houses", "bdcdyh", 1.0),
    ("FWBM", "houses", "house_code", 1.0),
    ("建筑高度(米)", "buildings", "height", 0.9),
    ("JZGD", "buildings", "height", 1.0),
    ("楼层数", "buildings", "floors", 1.0),
    ("行政区划代", "admin_areas", "area_code", 0.9),      # 行政区划代码 cut to 10 GBK bytes by a shapefile
    ("building_i", "buildings", "building_id", 0.9),     # building_id cut to 10 bytes
    ("街道(乡镇)代码", "persons", "street_code", 1.0),
    ("社区（村）代码", "houses", "community_code", 1.0),
    ("DZBM", "addresses", "address_id", 1.0),
])
def test_names_in_common_use_match_their_field(column, schema, field, at_least):
    spec = load_field_names().schemas[schema].fields[field]
    assert name_score(column, spec).score >= at_least


@pytest.mark.parametrize(("column", "schema", "field"), [
    ("姓名", "persons", "id_number"),
    ("联系电话", "persons", "address_text"),
    ("备注", "houses", "house_code"),
])
def test_unrelated_names_do_not_match(column, schema, field):
    spec = load_field_names().schemas[schema].fields[field]
    assert name_score(column, spec).score == 0.0


def test_parent_code_name_prefers_parent_field():
    fields = load_field_names().schemas["admin_areas"].fields
    assert name_score("上级区划代码", fields["parent_code"]).score > name_score("上级区划代码", fields["area_code"]).score


def test_field_table_covers_every_schema_field():
    from standards_checks.schemas import MODELS, OPTIONAL_COLUMNS

    table = load_field_names()
    assert set(table.schemas) == set(MODELS)
    for schema, spec in table.schemas.items():
        model_fields = [c for c in MODELS[schema].to_schema().columns if c != "geometry"]
        assert set(model_fields) | set(OPTIONAL_COLUMNS.get(schema, ())) - {"geometry"} == set(spec.fields)
        assert spec.required and set(spec.required) <= set(model_fields)
    assert "address_text" in table.schemas["persons"].fields


# --------------------------------------------------------------------------------------------- value detectors


@pytest.fixture
def ctx() -> FitContext:
    return FitContext(city=CITY, vocab=vocabularies(load_field_names().vocabularies))


def test_id_numbers_are_recognised_from_their_check_digit(ctx):
    rng = np.random.default_rng(5)
    good = profile_column(pd.Series(_rics(rng, 200), name="ZJHM"))
    assert good.share("ric") == 1.0
    v, specific, note = value_fit(good, "ric", ctx)
    assert v == 1.0 and specific and "GB 11643" in note
    assert value_fit(good, "phone", ctx)[0] < 0
    broken = [r[:-1] + ("0" if r[-1] != "0" else "1") for r in _rics(rng, 200)]  # same shape, wrong check digit
    bad = profile_column(pd.Series(broken))
    assert bad.share("ric") == 0.0 and value_fit(bad, "ric", ctx)[0] < 1.0


def test_credit_codes_phones_names_and_addresses(ctx):
    rng = np.random.default_rng(6)
    assert value_fit(profile_column(pd.Series(_usccs(rng, 100))), "uscc", ctx)[0] == 1.0
    assert value_fit(profile_column(pd.Series(_mobiles(rng, 100))), "phone", ctx)[0] == 1.0
    names = profile_column(pd.Series(_names(rng, 100)))
    assert value_fit(names, "person_name", ctx)[1]
    assert value_fit(names, "address", ctx)[0] <= 0
    addresses = profile_column(pd.Series(_addresses(rng, 100)))
    assert value_fit(addresses, "address", ctx)[0] > 0.5
    assert value_fit(addresses, "person_name", ctx)[0] <= 0


def test_street_and_community_codes_under_the_city(ctx):
    streets = profile_column(pd.Series(STREETS * 20))
    communities = profile_column(pd.Series(COMMUNITIES * 20))
    assert value_fit(streets, "street", ctx)[0] == 1.0
    assert value_fit(streets, "community", ctx)[0] < 0
    assert value_fit(communities, "community", ctx)[0] == 1.0
    elsewhere = FitContext(city="420102", vocab=ctx.vocab)  # codes not under this city
    assert value_fit(streets, "street", elsewhere)[0] < 0


def test_coordinates_dates_gender_and_identifiers(ctx):
    rng = np.random.default_rng(7)
    lon = profile_column(pd.Series(rng.uniform(113.2, 113.5, 100)))
    lat = profile_column(pd.Series(rng.uniform(31.5, 31.8, 100)))
    assert value_fit(lon, "lon", ctx)[0] == 1.0 and value_fit(lon, "lat", ctx)[0] < 0
    assert value_fit(lat, "lat", ctx)[0] == 1.0 and value_fit(lat, "lon", ctx)[0] < 0
    dates = profile_column(pd.Series(pd.date_range("1960-01-01", periods=100, freq="37D")))
    assert value_fit(dates, "date", ctx)[0] > 0.5
    gender = profile_column(pd.Series(["1", "2"] * 50))
    assert value_fit(gender, "gender", ctx)[:2] == (0.9, True)
    unique = profile_column(pd.Series([f"BH{i:05d}" for i in range(100)]))
    repeated = profile_column(pd.Series([f"BH{i % 10:05d}" for i in range(100)]))
    assert value_fit(unique, "id", ctx)[0] > 0.5
    assert value_fit(repeated, "id", ctx)[0] < 0


def test_division_codes_tell_the_city():
    from cimlib.catalog.onboard._values import infer_city

    profiles = [{"a": profile_column(pd.Series(COMMUNITIES * 5)), "b": profile_column(pd.Series(["x"] * 20))}]
    assert infer_city(profiles)[0] == CITY


# --------------------------------------------------------------------------------------------- assignment


def test_assignment_is_globally_best_not_greedy():
    weights = np.array([[0.9, 0.8], [0.85, 0.0]])  # greedy takes (0,0) and leaves row 1 empty
    assert assign(weights) == [(0, 1), (1, 0)]
    assert assign(np.zeros((2, 3))) == []
    rect = np.array([[0.5, 0.0, 0.9], [0.6, 0.7, 0.0], [0.0, 0.0, 0.1]])
    assert assign(rect) == [(0, 2), (1, 1)]  # 0.9 + 0.7; row 2 would only get a zero


def test_one_source_per_field_and_required_fields_first():
    frame = _persons(40)
    # two columns could be the ID number: the valid one wins, the other stays unmapped
    frame["证件号码"] = frame.pop("id_number")
    frame["身份证号"] = ["X" * 18] * len(frame)
    folder_frame = frame.rename(columns={"person_id": "人员编号", "name": "姓名"})
    from cimlib.catalog.onboard._discover import Source
    from cimlib.catalog.onboard._infer import infer

    source = Source(path=Path("/d/实有人口.csv"), format="csv", columns=list(folder_frame.columns), sample=folder_frame)
    scaffold = infer([source], root=Path("/d"))
    entry = scaffold.entries[0]
    assert entry.schema == "persons"
    assert entry.columns["证件号码"] == "id_number"
    assert "身份证号" not in entry.columns
    assert len(set(entry.columns.values())) == len(entry.columns)


# --------------------------------------------------------------------------------------------- a whole delivery


def test_discover_finds_every_dataset_and_skips_the_rest(delivery):
    sources, skipped = discover(delivery)
    labels = {s.label(delivery): s for s in sources}
    assert set(labels) == {"市公安局/实有人口.xlsx[人口]", "市市场监督管理局/dwxx.csv", "市自然资源和规划局/房屋面.shp"}
    xlsx = labels["市公安局/实有人口.xlsx[人口]"]
    assert xlsx.options == {"sheet": "人口", "header": [1, 2]}
    assert xlsx.title == "城区实有人口信息表（2024年9月）" and xlsx.period == "2024-09"
    assert "基本信息_身份证件号码" in xlsx.columns and "人口编码" in xlsx.columns
    csv = labels["市市场监督管理局/dwxx.csv"]
    assert csv.options["sep"] == ";" and csv.options["encoding"] == "gbk"
    shp = labels["市自然资源和规划局/房屋面.shp"]
    assert shp.geometry_type == "Polygon" and shp.options == {"encoding": "GBK"}
    assert "建筑物统一" in shp.columns  # 10 GBK bytes
    reasons = {p.name: r for p, r in ((s.path, s.reason) for s in skipped)}
    assert "文档" in reasons["说明.docx"] and "压缩包" in reasons["旧数据.zip"]


def test_scaffold_maps_every_required_field_without_hand_edits(delivery):
    scaffold = scaffold_catalog(delivery)
    assert scaffold.city == CITY
    by_schema = {e.schema: e for e in scaffold.entries}
    assert set(by_schema) == {"persons", "units", "buildings"}

    persons = by_schema["persons"]
    assert persons.columns["人口编码"] == "person_id"
    assert persons.columns["基本信息_身份证件号码"] == "id_number"
    assert persons.columns["基本信息_姓名"] == "name"
    assert persons.columns["基本信息_手机"] == "phone"
    assert persons.columns["居住信息_现居住地详址"] == "address_text"
    assert persons.columns["居住信息_乡镇（街道）代码"] == "street_code"
    assert persons.columns["居住信息_村（社区）代码"] == "community_code"
    assert persons.values["gender"] == {"1": "男", "2": "女"}
    assert persons.unmapped_required == ["address_id"]
    assert persons.owner == "市公安局" and persons.classification == "敏感"
    assert persons.id_column == "person_id"
    assert persons.title_zh == "城区实有人口信息表（2024年9月）"

    units = by_schema["units"]
    assert {k: units.columns[k] for k in ("DWBH", "TYSHXYDM", "DWMC", "FDDBR", "LXDH", "JYCS", "CYRS")} == {
        "DWBH": "unit_id", "TYSHXYDM": "uscc", "DWMC": "name", "FDDBR": "legal_rep", "LXDH": "phone",
        "JYCS": "address_text", "CYRS": "employees"}
    assert units.options["encoding"] == "gbk" and units.options["sep"] == ";"
    assert {"DWBH", "TYSHXYDM", "LXDH"} <= set(units.options["dtype"])

    buildings = by_schema["buildings"]
    assert buildings.crs == "EPSG:4526"
    assert buildings.columns == {"建筑物编号": "building_id", "建筑物统一": "building_code", "所在社区代": "community_code",
                                 "地上层数": "floors", "建筑高度": "height"}
    assert buildings.unmapped_required == []
    assert buildings.source.format == "shapefile"


def test_values_alone_identify_columns_with_generic_names(tmp_path):
    frame = _persons(80).drop(columns=["gender"])
    cols = list(frame.columns)
    frame.columns = [f"字段{i + 1}" for i in range(len(cols))]
    (tmp_path / "d").mkdir()
    frame.to_csv(tmp_path / "d" / "export.csv", index=False)
    entry = scaffold_catalog(tmp_path / "d").entries[0]
    assert entry.schema == "persons"
    truth = dict(zip(frame.columns, cols))
    for source, field in entry.columns.items():
        assert truth[source] == field
    assert {"id_number", "phone", "name", "street_code", "community_code", "address_text", "person_id"} <= set(
        entry.columns.values())
    assert all(c.to_confirm or c.value_score > 0.5 for c in entry.choices)


def test_yaml_loads_and_reads_through_the_catalog(delivery, tmp_path):
    scaffold = scaffold_catalog(delivery)
    out = tmp_path / "目录" / "data_catalog.yaml"
    written = write_scaffold(scaffold, out)
    text = written.read_text(encoding="utf-8")
    assert "# 待确认" in text or "待确认" in text
    assert "未能映射的必填字段：address_id" in text
    raw = yaml.safe_load(text)
    paths = {e["name"]: e["path"] for e in raw["entries"]}
    assert paths["persons"] == "../交付/市公安局/实有人口.xlsx"  # relative to the catalog's folder
    catalog = Catalog.load(written)
    assert catalog.city_code == CITY
    persons = catalog.read("persons")
    assert {"person_id", "id_number", "name", "phone", "gender", "address_text"} <= set(persons.columns)
    assert set(persons["gender"].dropna()) <= {"男", "女"}
    assert persons["id_number"].str.len().eq(18).all()
    units = catalog.read("units")
    assert {"unit_id", "uscc", "name", "legal_rep"} <= set(units.columns)
    buildings = catalog.read("buildings")
    assert {"building_id", "building_code", "floors", "height"} <= set(buildings.columns)
    assert buildings.crs.to_epsg() == 4490  # transformed from the declared Gauss-Krüger zone on read


def test_filegdb_layers_and_geojson(tmp_path):
    import pyogrio

    root = tmp_path / "自规"
    root.mkdir()
    b = _buildings(12).rename(columns={"building_id": "JZWBH", "building_code": "JZWBM", "community_code": "SQDM",
                                       "floors": "CS", "height": "JZGD"})
    gdb = root / "基础数据.gdb"
    pyogrio.write_dataframe(b, gdb, layer="JZW_建筑物", driver="OpenFileGDB")
    roads = b.iloc[:5][["geometry"]].copy()
    roads["geometry"] = roads.geometry.boundary
    roads["DLBM"] = [f"R{i:03d}" for i in range(5)]
    roads["DLMC"] = ["解放路", "青年路", "烈山大道", "舜井街", "沿河巷"]
    pyogrio.write_dataframe(roads, gdb, layer="DL_道路", driver="OpenFileGDB", append=True)
    roads.to_crs("EPSG:4490").to_file(root / "道路.geojson", driver="GeoJSON")
    sources, _ = discover(root)
    assert {(s.format, s.layer) for s in sources} == {("filegdb", "JZW_建筑物"), ("filegdb", "DL_道路"),
                                                      ("geojson", None)}
    scaffold = scaffold_catalog(root)
    by_layer = {e.source.layer: e for e in scaffold.entries}
    assert by_layer["JZW_建筑物"].schema == "buildings" and by_layer["JZW_建筑物"].options == {"layer": "JZW_建筑物"}
    assert by_layer["JZW_建筑物"].crs == "EPSG:4526"
    assert by_layer["DL_道路"].schema == "roads"
    assert {e.source.format for e in scaffold.entries if e.schema == "roads"} == {"filegdb", "geojson"}
    assert sorted(e.name for e in scaffold.entries if e.schema == "roads") == ["roads", "roads_2"]
    out = write_scaffold(scaffold, tmp_path / "cat.yaml")
    assert len(Catalog.load(out)) == 3


def test_admin_level_codes_mapped_by_code_length(tmp_path):
    import geopandas as gpd
    import shapely

    codes = ["421303", "421303001", "421303002", "421303001001", "421303001002", "421303002001"]
    frame = gpd.GeoDataFrame({
        "XZQDM": codes,
        "XZQMC": ["曾都区", "东城街道", "西城街道", "清河社区", "白云社区", "舜井社区"],
        "JB": ["1", "2", "2", "3", "3", "3"],
        "SJXZQDM": [None, "421303", "421303", "421303001", "421303001", "421303002"],
    }, geometry=[shapely.box(113 + i * 0.01, 31, 113.005 + i * 0.01, 31.005) for i in range(6)], crs="EPSG:4490")
    (tmp_path / "d").mkdir()
    frame.to_file(tmp_path / "d" / "XZQ.gpkg", layer="XZQ", driver="GPKG")
    entry = scaffold_catalog(tmp_path / "d").entries[0]
    assert entry.schema == "admin_areas"
    assert entry.columns == {"XZQDM": "area_code", "XZQMC": "name", "JB": "level", "SJXZQDM": "parent_code"}
    assert entry.values["level"] == {"1": "区", "2": "街道", "3": "社区"}


def test_csv_title_row_is_found(tmp_path):
    units = _units(20)
    folder = tmp_path / "d"
    folder.mkdir()
    body = units.rename(columns={"unit_id": "单位编号", "name": "单位名称", "uscc": "统一社会信用代码",
                                 "legal_rep": "法定代表人", "phone": "联系电话", "address_text": "经营地址",
                                 "employees": "从业人数"}).to_csv(index=False)
    (folder / "单位.csv").write_bytes(("实有单位登记表（2024年9月）\n" + body).encode("gbk"))
    entry = scaffold_catalog(folder).entries[0]
    assert entry.schema == "units"
    assert entry.columns["统一社会信用代码"] == "uscc"
    assert entry.source.period == "2024-09"
    if "header" in READERS["csv"].options:
        assert entry.options["header"] == 1
    else:  # the CSV reader cannot skip a title row: the entry says so, to be confirmed
        assert any("标题行" in n and "待确认" in n for n in entry.notes)


# --------------------------------------------------------------------------------------------- command line


def test_cli_default_out_force_and_input_untouched(delivery, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = _tree(delivery)
    runner = CliRunner()
    first = runner.invoke(main, ["catalog", "init", str(delivery), "--city", CITY])
    assert first.exit_code == 0, first.output
    assert (work / "data_catalog.yaml").is_file()
    assert "数据集" in first.output and "未映射的必填字段" in first.output and "persons" in first.output
    Catalog.load(work / "data_catalog.yaml")
    stamp = (work / "data_catalog.yaml").read_text(encoding="utf-8")

    again = runner.invoke(main, ["catalog", "init", str(delivery)])
    assert again.exit_code != 0 and "--force" in again.output
    assert (work / "data_catalog.yaml").read_text(encoding="utf-8") == stamp

    forced = runner.invoke(main, ["catalog", "init", str(delivery), "--out", "sub/cat.yaml", "--force"])
    assert forced.exit_code == 0 and (work / "sub" / "cat.yaml").is_file()

    inside = runner.invoke(main, ["catalog", "init", str(delivery), "--out", str(delivery / "data_catalog.yaml")])
    assert inside.exit_code != 0 and "交付目录" in inside.output
    assert _tree(delivery) == before  # nothing written into (or changed in) the delivery folder


def test_cli_rejects_a_bad_city_code(delivery, tmp_path):
    result = CliRunner().invoke(main, ["catalog", "init", str(delivery), "--city", "42", "--out",
                                       str(tmp_path / "x.yaml")])
    assert result.exit_code != 0 and "6 位" in result.output
    assert not (tmp_path / "x.yaml").exists()


def test_unusable_files_are_listed_with_what_to_do(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "加密.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)  # an encrypted workbook
    (folder / "空表.csv").write_bytes(b"")
    (folder / "假的.parquet").write_text('{"type": "FeatureCollection"}', encoding="utf-8")
    (folder / "孤立.dbf").write_bytes(b"\x03" + b"\0" * 40)
    scaffold = scaffold_catalog(folder, city=CITY)
    assert scaffold.entries == []
    reasons = {item.path.name: item.reason for item in scaffold.skipped}
    assert "密码" in reasons["加密.xlsx"]
    assert "为空" in reasons["空表.csv"]
    assert "不是 Parquet" in reasons["假的.parquet"]
    assert ".shp" in reasons["孤立.dbf"]
    text = scaffold.to_yaml()
    assert "跳过的文件" in text and "加密.xlsx" in text
    assert yaml.safe_load(text)["entries"] == []


def test_local_crs_is_written_as_wkt_and_loads(tmp_path):
    import pyproj

    local = pyproj.CRS.from_proj4("+proj=tmerc +lat_0=0 +lon_0=113.35 +k=1 +x_0=50000 +y_0=-3400000 +ellps=GRS80 "
                                  "+units=m +no_defs")
    b = _buildings(8).to_crs(local).rename(columns={"building_id": "楼栋编号", "floors": "层数", "height": "高度"})
    folder = tmp_path / "d"
    folder.mkdir()
    b.to_file(folder / "建筑物.gpkg", layer="建筑物", driver="GPKG")
    scaffold = scaffold_catalog(folder, city=CITY)
    entry = scaffold.entries[0]
    assert entry.schema == "buildings"
    assert entry.crs.startswith(("PROJCRS", "PROJCS")) and "WKT" in entry.crs_note
    out = write_scaffold(scaffold, tmp_path / "cat.yaml")
    catalog = Catalog.load(out)
    assert pyproj.CRS.from_user_input(catalog["buildings"].crs).equals(local)


def test_write_scaffold_refuses_to_overwrite_or_write_into_the_delivery(delivery, tmp_path):
    scaffold = scaffold_catalog(delivery, city=CITY)
    out = write_scaffold(scaffold, tmp_path / "a.yaml")
    with pytest.raises(FileExistsError):
        write_scaffold(scaffold, out)
    assert write_scaffold(scaffold, out, force=True) == out
    with pytest.raises(ValueError, match="交付目录"):
        write_scaffold(scaffold, delivery / "sub" / "a.yaml", force=True)
    assert not (delivery / "sub").exists()


@pytest.mark.parametrize(("column", "schema", "field"), [
    ("LDID", "buildings", "building_id"),        # 楼栋ID
    ("SZLDBH", "houses", "building_id"),         # 所在楼栋编号
    ("HYLX", "units", "industry"),               # 行业类型 (行 read hang in 行业)
    ("ldid", "buildings", "building_id"),
])
def test_pinyin_initials_of_chinese_names_match(column, schema, field):
    spec = load_field_names().schemas[schema].fields[field]
    assert normalize(column) not in {normalize(n) for n in spec.names}  # not listed: derived from the Chinese names
    match = name_score(column, spec)
    assert match.score >= 0.9 and "拼音首字母" in match.how


def normalize(text: str) -> str:
    from cimlib.catalog.onboard import normalize_name

    return normalize_name(text)


def test_projected_coordinates_without_zone_number_use_the_citys_zone():
    import pyproj

    from cimlib.catalog.onboard._discover import guess_crs

    x, y = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4547", always_xy=True).transform([113.38, 113.40],
                                                                                           [31.70, 31.72])
    crs, note = guess_crs(np.array(x), np.array(y), CITY)
    assert crs == "EPSG:4547" and "114" in note
    assert guess_crs(np.array(x), np.array(y))[0] is None  # without the city the central meridian is unknown
    zoned = np.array(x) + 38_000_000  # with the zone number: 3° zone 38
    assert guess_crs(zoned, np.array(y))[0] == "EPSG:4526"


def test_abbreviated_category_values_are_mapped(tmp_path):
    frame = _persons(50)
    frame["人口类型"] = np.where(np.arange(50) % 3 == 0, "流动", "户籍")
    folder = tmp_path / "d"
    folder.mkdir()
    frame.rename(columns={"person_id": "人员编号", "id_number": "公民身份号码", "name": "姓名", "phone": "联系电话"}).to_csv(
        folder / "实有人口.csv", index=False)
    entry = scaffold_catalog(folder).entries[0]
    assert entry.columns["人口类型"] == "registration"
    assert entry.values["registration"] == {"户籍": "户籍人口", "流动": "流动人口"}
