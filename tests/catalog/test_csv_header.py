"""CSV/TSV/TXT as departments export registers: a title line (or note lines) above the header, a header over two
rows; ``options.header`` as for the xlsx reader, title lines found when it is absent, and ``cim catalog init``
writing the option so that the scaffolded catalog reads the right columns."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from catalog_helpers import ZH, entry

from cimlib.catalog import Catalog, CatalogError, CatalogWarning, ReadError
from cimlib.catalog.readers.csv import csv_header_names, detect_separator

TITLE = "实有单位登记表（2024年9月）"


def _read(catalog_path, name="t", **kwargs):
    """``Catalog.read``: (frame, catalog warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = Catalog.load(catalog_path).read(name, **kwargs)
    return frame, [str(w.message) for w in caught if issubclass(w.category, CatalogWarning)]


def _sys007(catalog_path, name="t") -> list[str]:
    """Messages of the SYS-007 findings of the checks on the entry."""
    from standards_checks import run_checks

    findings = run_checks(Catalog.load(catalog_path)).findings
    got = findings[(findings["dataset"] == name) & (findings["rule_id"] == "SYS-007")]
    return got["message"].tolist()


def _lines(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


# --------------------------------------------------------------------------- a title above the header


def test_title_row_gbk_is_skipped_and_reported(tmp_path, write_catalog):
    text = _lines(TITLE, "code,name,address", f"001,{ZH[0]},{ZH[2]}1号", f"002,{ZH[1]},{ZH[2]}2号",
                  f"010,{ZH[0]},{ZH[2]}3号")
    (tmp_path / "t.csv").write_bytes(text.encode("gbk"))
    path = write_catalog([entry("t", "csv", "t.csv")])
    frame, warned = _read(path)
    assert list(frame.columns) == ["code", "name", "address"]
    assert frame["code"].tolist() == ["001", "002", "010"] and frame["name"].tolist() == [ZH[0], ZH[1], ZH[0]]
    (title,) = [w for w in warned if "标题" in w]
    assert TITLE in title and "options.header: 1" in title and "第 2 行" in title
    assert not any("分隔符" in w for w in warned)  # a comma: nothing to report
    info = Catalog.load(path).describe("t")
    assert info["columns"] == ["code", "name", "address"] and info["rows"] == 3
    assert any("options.header: 1" in m for m in _sys007(path))


def test_declared_header_reads_silently(tmp_path, write_catalog):
    text = _lines(TITLE, "code,name", "001,甲", "002,乙")
    (tmp_path / "t.csv").write_bytes(text.encode("gbk"))
    frame, warned = _read(write_catalog([entry("t", "csv", "t.csv", options={"header": 1, "encoding": "gbk"})]))
    assert frame["code"].tolist() == ["001", "002"] and frame["name"].tolist() == ["甲", "乙"] and not warned


def test_note_lines_and_a_blank_line_above_the_header(tmp_path, write_catalog):
    # an Excel export keeps the width of the sheet on the title lines; pandas does not count the blank line
    text = _lines(f"{TITLE},,", "填报单位：市场监管局,,", "", "code,name,count", "001,甲,3", "002,乙,4")
    (tmp_path / "t.txt").write_bytes(text.encode("gbk"))
    path = write_catalog([entry("t", "csv", "t.txt")])
    frame, warned = _read(path)
    assert list(frame.columns) == ["code", "name", "count"] and frame["count"].tolist() == [3, 4]
    (title,) = [w for w in warned if "标题" in w]
    assert "2 行标题" in title and "文件第 4 行" in title and "options.header: 2" in title
    declared = write_catalog([entry("t", "csv", "t.txt", options={"header": 2})], filename="declared.yaml")
    again, warned = _read(declared)
    pd.testing.assert_frame_equal(again, frame)
    assert not any("标题" in w for w in warned)


def test_plain_csv_has_no_title(tmp_path, write_catalog, frame):
    frame.to_csv(tmp_path / "t.csv", index=False, encoding="gbk")
    got, warned = _read(write_catalog([entry("t", "csv", "t.csv")]))
    assert got["code"].tolist() == ["001", "002", "010"] and not warned


# --------------------------------------------------------------------------- the delimiter under a title


@pytest.mark.parametrize("sep", [";", "\t", "|"], ids=["semicolon", "tab", "bar"])
def test_delimiter_is_detected_below_the_title(tmp_path, write_catalog, sep):
    # the title holds an ASCII comma: looked at with the title, the delimiter would be taken for a comma
    lines = ["房屋登记表, 曾都区（2024年9月）", sep.join(["code", "name", "address"]),
             sep.join(["001", ZH[0], "涢水大道1号"]), sep.join(["002", ZH[1], "涢水大道2号"]),
             sep.join(["010", ZH[2], "涢水大道3号"])]
    (tmp_path / "t.csv").write_bytes(_lines(*lines).encode("gbk"))
    assert detect_separator(tmp_path / "t.csv", "gbk") == sep
    assert detect_separator(tmp_path / "t.csv", "gbk", skip=1) == sep
    path = write_catalog([entry("t", "csv", "t.csv")])
    frame, warned = _read(path)
    assert list(frame.columns) == ["code", "name", "address"] and frame["code"].tolist() == ["001", "002", "010"]
    assert any("分隔符" in w and f"options.sep: {sep!r}" in w for w in warned)
    assert any("标题" in w and "options.header: 1" in w for w in warned)


def test_semicolon_with_title_and_declared_header(tmp_path, write_catalog):
    text = _lines(TITLE, "code;name;address", f"001;{ZH[0]};a", f"002;{ZH[1]};b")
    (tmp_path / "t.csv").write_bytes(text.encode("gbk"))
    frame, warned = _read(write_catalog([entry("t", "csv", "t.csv", options={"header": 1})]))
    assert list(frame.columns) == ["code", "name", "address"] and frame["name"].tolist() == ZH[:2]
    assert any("分号" in w for w in warned) and not any("标题" in w for w in warned)


# --------------------------------------------------------------------------- a header over two rows


_GROUPED = ["人员编号,基本信息,,,居住信息", ",公民身份号码,姓名,性别,居住地址"]
_GROUPED_NAMES = ["人员编号", "基本信息_公民身份号码", "基本信息_姓名", "基本信息_性别", "居住信息_居住地址"]


def _two_row_csv(tmp_path, *records: str, name="t.csv"):
    (tmp_path / name).write_bytes(_lines("实有人口信息表（2024年9月）", *_GROUPED, *records).encode("gbk"))


def test_two_row_header_is_flattened_as_the_xlsx_reader_does(tmp_path, write_catalog):
    import openpyxl

    _two_row_csv(tmp_path, "0001,421303199001011234,张三,1,解放路1号", "0002,421303199202022345,李四,2,青年路2号")
    options = {"header": [1, 2], "dtype": ["基本信息_公民身份号码"]}
    path = write_catalog([entry("t", "csv", "t.csv", id_column="人员编号", options=options)])
    frame, warned = _read(path)
    assert list(frame.columns) == _GROUPED_NAMES and not warned
    assert frame["人员编号"].tolist() == ["0001", "0002"]  # id column read as text (by position)
    assert frame["基本信息_公民身份号码"].tolist() == ["421303199001011234", "421303199202022345"]
    assert frame["基本信息_性别"].tolist() == [1, 2]
    subset, _ = _read(path, columns=["人员编号", "居住信息_居住地址"])
    assert list(subset.columns) == ["人员编号", "居住信息_居住地址"] and subset["居住信息_居住地址"].iloc[1] == "青年路2号"
    info = Catalog.load(path).describe("t")
    assert info["columns"] == _GROUPED_NAMES and info["rows"] == 2

    # the same register as a sheet (merged group titles) reads to the same column names
    book = openpyxl.Workbook()
    ws = book.active
    for row in (["实有人口信息表（2024年9月）", None, None, None, None], ["人员编号", "基本信息", None, None, "居住信息"],
                [None, "公民身份号码", "姓名", "性别", "居住地址"], ["0001", "421303199001011234", "张三", 1, "解放路1号"]):
        ws.append(row)
    ws.merge_cells("A1:E1")
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:D2")
    book.save(tmp_path / "t.xlsx")
    sheet = write_catalog([entry("x", "xlsx", "t.xlsx", id_column="人员编号", options={"header": [1, 2]})],
                          filename="sheet.yaml")
    assert list(Catalog.load(sheet).read("x").columns) == _GROUPED_NAMES


def test_csv_header_names_fills_upper_rows_only():
    columns = pd.MultiIndex.from_tuples([("序号", "Unnamed: 0_level_1"), ("基本信息", "姓名"), ("Unnamed: 2_level_0", "性别"),
                                         ("备注", "Unnamed: 3_level_1")])
    assert csv_header_names(columns) == ["序号", "基本信息_姓名", "基本信息_性别", "备注"]
    assert csv_header_names(pd.Index(["a", "b"])) == ["a", "b"]


def test_two_row_header_column_missing_names_the_flattened_columns(tmp_path, write_catalog):
    _two_row_csv(tmp_path, "0001,421303199001011234,张三,1,解放路1号")
    path = write_catalog([entry("t", "csv", "t.csv", id_column="人员编号", options={"header": [1, 2]})])
    with pytest.raises(ReadError) as info:
        Catalog.load(path).read("t", columns=["姓名"])
    assert "姓名" in str(info.value) and "基本信息_姓名" in str(info.value)


# --------------------------------------------------------------------------- header only, header out of range


def test_header_only_after_a_title(tmp_path, write_catalog):
    (tmp_path / "t.csv").write_bytes(_lines(TITLE, "code,name,address").encode("gbk"))
    path = write_catalog([entry("t", "csv", "t.csv")])
    frame, warned = _read(path)
    assert len(frame) == 0 and list(frame.columns) == ["code", "name", "address"]
    assert any("options.header: 1" in w for w in warned) and any("只有表头，没有记录" in w for w in warned)
    assert Catalog.load(path).describe("t")["rows"] == 0


def test_two_row_header_only_after_a_title(tmp_path, write_catalog):
    _two_row_csv(tmp_path)
    frame, warned = _read(write_catalog([entry("t", "csv", "t.csv", id_column="人员编号", options={"header": [1, 2]})]))
    assert len(frame) == 0 and list(frame.columns) == _GROUPED_NAMES
    assert any("只有表头" in w for w in warned)


def test_header_beyond_the_file_is_explained(tmp_path, write_catalog):
    (tmp_path / "t.csv").write_text("code,name\n001,甲\n", encoding="utf-8")
    with pytest.raises(ReadError) as info:
        Catalog.load(write_catalog([entry("t", "csv", "t.csv", options={"header": 5})])).read("t")
    assert "options.header: 5 超出文件的行数" in str(info.value) and "t.csv" in str(info.value)


@pytest.mark.parametrize("value", ["1", [2, 1], [-1], True])
def test_invalid_header_option_is_a_catalog_error(tmp_path, write_catalog, value):
    (tmp_path / "t.csv").write_text("code,name\n001,甲\n", encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        Catalog.load(write_catalog([entry("t", "csv", "t.csv", options={"header": value})]))
    assert "options.header" in str(info.value)


# --------------------------------------------------------------------------- cim catalog init


def _units(n: int = 20) -> pd.DataFrame:
    from cimlib.codes.ids import org_check_char, uscc_check_char

    rng = np.random.default_rng(5)
    org8 = ["".join(rng.choice(list("0123456789ABCDEFGHJKLMNPQRTUWXY"), 8)) for _ in range(n)]
    org9 = [o + c for o, c in zip(org8, org_check_char(org8))]
    first17 = [f"91421303{o}" for o in org9]
    return pd.DataFrame({
        "单位编号": [f"DW{i:05d}" for i in range(n)],
        "单位名称": [f"随州{rng.choice(['鑫源', '博雅', '嘉禾'])}{rng.choice(['有限公司', '超市'])}" for _ in range(n)],
        "统一社会信用代码": [f + c for f, c in zip(first17, uscc_check_char(first17))],
        "法定代表人": [rng.choice(list("王李张刘")) + rng.choice(["伟", "芳", "娜"]) for _ in range(n)],
        "联系电话": [f"13{rng.integers(0, 10**9):09d}" for _ in range(n)],
        "经营地址": [f"随州市曾都区解放路{rng.integers(1, 300)}号" for _ in range(n)],
    })


def test_catalog_init_writes_the_header_option(tmp_path):
    from cimlib.catalog.onboard import scaffold_catalog, write_scaffold

    folder = tmp_path / "交付" / "市场监管局"
    folder.mkdir(parents=True)
    units = _units()
    body = units.to_csv(index=False, sep=";", lineterminator="\r\n")
    (folder / "实有单位.csv").write_bytes((f"{TITLE}\r\n" + body).encode("gbk"))
    scaffold = scaffold_catalog(tmp_path / "交付", city="421303")
    (proposed,) = scaffold.entries
    assert proposed.schema == "units"
    assert proposed.options["header"] == 1 and proposed.options["sep"] == ";"
    assert not any("csv 读取器不支持" in n for n in proposed.notes)
    out = write_scaffold(scaffold, tmp_path / "data_catalog.yaml")
    assert "header: 1" in out.read_text(encoding="utf-8")
    catalog = Catalog.load(out)
    frame, warned = _read(out, proposed.name)
    assert not any("标题" in w for w in warned)  # the option is written: nothing left to assume
    assert len(frame) == len(units)
    field = catalog.entries[proposed.name].columns["统一社会信用代码"]
    assert field == "uscc" and frame["uscc"].tolist() == units["统一社会信用代码"].tolist()
    assert frame[catalog.entries[proposed.name].columns["单位编号"]].tolist() == units["单位编号"].tolist()


def test_catalog_init_two_row_header_reads_the_flattened_columns(tmp_path):
    from cimlib.catalog.onboard import scaffold_catalog, write_scaffold

    folder = tmp_path / "交付" / "市场监管局"
    folder.mkdir(parents=True)
    units = _units()
    upper = "单位编号,基本信息,,,联系方式,"
    lower = ",单位名称,统一社会信用代码,法定代表人,联系电话,经营地址"
    body = units.to_csv(index=False, header=False, lineterminator="\r\n")
    (folder / "单位.csv").write_bytes((f"{TITLE}\r\n{upper}\r\n{lower}\r\n" + body).encode("gbk"))
    scaffold = scaffold_catalog(tmp_path / "交付", city="421303")
    (proposed,) = scaffold.entries
    assert proposed.options["header"] == [1, 2]
    out = write_scaffold(scaffold, tmp_path / "data_catalog.yaml")
    catalog = Catalog.load(out)
    mapped = catalog.entries[proposed.name].columns
    assert mapped["基本信息_统一社会信用代码"] == "uscc"
    frame = catalog.read(proposed.name)
    assert len(frame) == len(units) and frame["uscc"].tolist() == units["统一社会信用代码"].tolist()
