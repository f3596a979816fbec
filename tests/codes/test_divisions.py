"""Division codes (cimlib.codes.divisions): validation against the packaged tables, names, parents, children."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cimlib.codes.divisions import (children, code_of, county, division_problems, division_valid, name_of,
                                    parent_code, streets_of)


@pytest.mark.parametrize("code, ok", [
    ("421303", True), ("421303001", True), ("421303001001", True), ("421303001599", True),
    ("420000", True), ("421300", True), ("110100", True), ("130372", True), ("441900", True),
    ("421399", False), ("421303999", False), ("421303999001", False), ("421303001000", False),
    ("421303001600", False), ("429900", False), ("990000", False), ("4213", False), ("42130", False),
    ("421303000000", False), (None, False), ("42130A", False),
])
def test_division_valid(code, ok):
    assert division_valid([code]).tolist() == [ok]
    assert (division_problems([code]).iloc[0] == "") == ok


@pytest.mark.parametrize("code, reason", [
    (None, "空值"), ("42130A", "应为数字"), ("4213", "长度应为6、9或12位"),
    ("421399", "区划代码不在参考表中（GB/T 2260，2022-10-31）"),
    ("421303999", "乡级区划代码不在参考表中（2022-10-31）"),
    ("421303999001", "所属乡级区划代码（前9位）不在参考表中"),
    ("421303001000", "村级代码（第10–12位）应为001–599"),
    ("421303001600", "村级代码（第10–12位）应为001–599"),
])
def test_division_problems(code, reason):
    assert division_problems([code]).tolist() == [reason]


def test_division_padded_forms_only_when_allowed():
    padded = ["421303000000", "421303001000", "421303000", "421300000000"]
    assert not division_valid(padded).any()
    assert division_valid(padded, allow_padded=True).all()
    assert not division_valid(["421399000000"], allow_padded=True).any()


def test_division_vectorized_keeps_index():
    s = pd.Series(["421303", "421399", None], index=["a", "b", "c"])
    assert division_problems(s).index.tolist() == ["a", "b", "c"]
    assert division_valid(s).tolist() == [True, False, False]


def test_name_of_forms():
    assert name_of("421303") == "曾都区"
    assert name_of("421399") is None
    got = name_of(["42", "420000", "4213", "421300", "421303", "421303000000", "421303001", "421303001000",
                   "421303001001", None])
    assert got.iloc[:8].tolist() == ["湖北省", "湖北省", "随州市", "随州市", "曾都区", "曾都区", "西城街道", "西城街道"]
    assert got.iloc[8:].isna().all()  # the village level is not packaged


def test_name_code_round_trip():
    assert code_of("曾都区") == ["421303"]
    assert name_of(code_of("曾都区")).tolist() == ["曾都区"]
    assert code_of("随州市") == ["4213"]
    assert code_of("西城街道", parent="421303") == ["421303001"]
    assert code_of("西城街道", parent="421300") == ["421303001"]
    assert len(code_of("西城街道")) > 1  # names repeat across the country
    assert code_of("城关镇", parent="421303") == []
    assert code_of("没有这个地方") == []


def test_parent_code_chain():
    chain = ["421303001001", "421303001", "421303", "421300", "420000"]
    assert parent_code(chain).tolist() == ["421303001", "421303", "421300", "420000", ""]
    assert parent_code("4213") == "42" and parent_code("42") == ""
    assert parent_code("421303000000") == "421300"
    assert parent_code("abc") is None


def test_children():
    streets = children("421303")
    assert streets["code"].tolist() == streets_of("421303")["code"].tolist()
    assert "421303001" in streets["code"].tolist()
    counties = children("421300")
    assert counties["code"].tolist() == ["421303", "421321", "421381"]
    assert children("4213")["code"].tolist() == counties["code"].tolist()
    cities = children("42")
    assert "4213" in cities["code"].tolist() and children("420000").equals(cities)
    assert children("421303001").empty and children("999999").empty
    assert list(children("421303001").columns) == ["code", "name"]


def test_existing_helpers_unchanged():
    assert county("421303")["city_name"] == "随州市"
    assert set(streets_of("421303")["kind"]) <= {"街道", "镇", "乡", "其他"}


def test_every_packaged_code_is_valid_and_named():
    from cimlib.codes.divisions import reference_table

    codes = pd.concat([reference_table("areas")["code"], reference_table("streets")["code"]], ignore_index=True)
    assert division_valid(codes).all()
    assert name_of(codes).notna().all()
    assert division_valid(reference_table("streets")["code"] + "001").all()
    assert np.array_equal(name_of(reference_table("areas")["code"]).to_numpy(dtype=object),
                          reference_table("areas")["name"].to_numpy(dtype=object))


@pytest.mark.parametrize("code, written, without_province", [
    ("500101", "重庆市万州区", "万州区"),  # 直辖市 district: the table's city level 市辖区 is not written
    ("500235", "重庆市云阳县", "云阳县"),  # 直辖市 county: nor is its city level 县
    ("110101", "北京市东城区", "东城区"),
    ("421303", "湖北省随州市曾都区", "随州市曾都区"),  # a prefecture's district: province, city, district
    ("321281", "江苏省泰州市兴化市", "泰州市兴化市"),  # a county-level city under a prefecture keeps its city
    ("429004", "湖北省仙桃市", "仙桃市"),  # under 省直辖县级行政区划
    ("659001", "新疆维吾尔自治区石河子市", "石河子市"),  # under 自治区直辖县级行政区划
    ("441900", "广东省东莞市", "东莞市"),  # a city without county-level divisions is not written twice
])
def test_written_name(code, written, without_province):
    from cimlib.codes.divisions import written_name

    info = county(code)
    assert written_name(code) == written_name(info) == written
    assert written_name(info, province=False) == without_province
    assert "市辖区" not in written and "直辖" not in written


def test_written_city_leaves_the_record_alone():
    from cimlib.codes.divisions import written_city

    info = county("500101")
    assert (written_city(info), written_city("500235"), written_city("429004"), written_city("421303")) == (
        "", "", "", "随州市")
    # the record keeps the table's names: other code reads city_name
    assert info == {"code": "500101", "name": "万州区", "city_code": "5001", "city_name": "市辖区",
                    "province_code": "50", "province_name": "重庆市"}
    with pytest.raises(ValueError):
        written_city("999999")
