"""Standard-address tree rules (cimlib.codes.address): one violation of each rule in a small hand-built tree."""

from __future__ import annotations

import pandas as pd
import pytest

from cimlib.codes.address import (ELEMENT_TYPES, admin_code_mismatch, full_address_mismatch, level_mismatch,
                                  parent_level_invalid, parent_missing, room_not_under_building,
                                  unknown_element_type)

ST, CM = "421303001", "421303001001"
ROOT = "湖北省随州市曾都区"
STREET = ROOT + "西城街道"
COMM = STREET + "烈山社区"
ROAD = COMM + "解放路"
YARD = COMM + "解放路101号阳光小区"
BLDG = YARD + "1栋"
UNIT = BLDG + "1单元"

# address_id, parent_id, element_type, level, name, door_plate, full_address, street_code, community_code
GOOD = [
    ("A1", None, "13", 1, "曾都区", "", ROOT, "", ""),
    ("A2", "A1", "23", 2, "西城街道", "", STREET, ST, ""),
    ("A3", "A2", "31", 3, "烈山社区", "", COMM, ST, CM),
    ("A4", "A3", "41", 4, "解放路", "", ROAD, ST, CM),
    ("A5", "A3", "42", 4, "阳光小区", "解放路101号", YARD, ST, CM),
    ("A6", "A5", "50", 5, "1栋", None, BLDG, ST, CM),
    ("A7", "A6", "61", 6, "1单元", "", UNIT, ST, CM),
    ("A8", "A7", "62", 6, "101室", "", UNIT + "101室", ST, CM),
    ("A9", "A6", "62", 6, "102室", "", BLDG + "102室", ST, CM),
    ("A10", "A7", "63", 6, "2层", "", UNIT + "2层", ST, CM),
    ("A11", "A10", "62", 6, "201室", "", UNIT + "2层201室", ST, CM),
    ("A12", "A4", "50", 5, "3号", "", ROAD + "3号", ST, CM),
    ("A13", "A3", "34", 3, "一组", "", COMM + "一组", ST, CM),
]
BAD = {
    "unknown_element_type": ("B1", "A4", "99", 5, "5号", "", ROAD + "5号", ST, CM),
    "level_mismatch": ("B2", "A4", "50", 6, "7号", "", ROAD + "7号", ST, CM),
    "parent_missing": ("B3", "NOPE", "50", 5, "9号", "", "某地9号", ST, CM),
    "parent_level_invalid": ("B4", "A6", "50", 5, "附楼", "", BLDG + "附楼", ST, CM),
    "room_not_under_building": ("B5", "A4", "62", 6, "11号101室", "", ROAD + "11号101室", ST, CM),
    "full_address_mismatch": ("B6", "A4", "50", 5, "13号", "", COMM + "解放路13号楼", ST, CM),
    "admin_code_mismatch": ("B7", "A4", "50", 5, "15号", "", ROAD + "15号", ST, "421303001002"),
}
RULES = {
    "unknown_element_type": unknown_element_type, "level_mismatch": level_mismatch, "parent_missing": parent_missing,
    "parent_level_invalid": parent_level_invalid, "room_not_under_building": room_not_under_building,
    "full_address_mismatch": full_address_mismatch, "admin_code_mismatch": admin_code_mismatch,
}
COLUMNS = ["address_id", "parent_id", "element_type", "level", "name", "door_plate", "full_address", "street_code",
           "community_code"]


def table(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.index = pd.RangeIndex(100, 100 + len(df))  # results must align with the table's own index
    return df


@pytest.fixture(scope="module")
def tree():
    return table(GOOD + list(BAD.values()))


@pytest.mark.parametrize("rule", list(RULES))
def test_each_rule_flags_exactly_its_row(tree, rule):
    got = RULES[rule](tree)
    assert isinstance(got, pd.Series) and got.dtype == bool
    assert got.index.equals(tree.index)
    assert tree.loc[got, "address_id"].tolist() == [BAD[rule][0]]


@pytest.mark.parametrize("rule", list(RULES))
def test_clean_tree_passes(rule):
    assert not RULES[rule](table(GOOD)).any()


def test_element_types_table():
    assert ELEMENT_TYPES["code"].tolist() == ["11", "12", "13", "21", "22", "23", "31", "32", "33", "34", "41", "42",
                                              "43", "44", "50", "61", "62", "63"]
    assert set(ELEMENT_TYPES["level"]) == {1, 2, 3, 4, 5, 6}
    assert (ELEMENT_TYPES["code"].str.slice(0, 1).astype(int) == ELEMENT_TYPES["level"]).all()
    assert set(ELEMENT_TYPES["address_type"]) <= {"行政区划", "街路巷", "院落", "建筑物", "单元", "楼层", "户室"}


def test_root_with_empty_parent_and_missing_parent_below_root():
    df = table([GOOD[0], ("X1", "", "23", 2, "某街道", "", ROOT + "某街道", ST, ""),
                ("X2", None, "50", 5, "1号", "", "1号", ST, CM)])
    assert parent_missing(df).tolist() == [False, True, True]


def test_room_chain_broken_above_is_left_to_parent_missing():
    df = table([("U1", "GONE", "61", 6, "1单元", "", "1单元", ST, CM),
                ("R1", "U1", "62", 6, "101室", "", "1单元101室", ST, CM)])
    assert not room_not_under_building(df).any()
    assert parent_missing(df).tolist() == [True, False]


def test_room_under_unit_under_road_is_flagged():
    df = table(GOOD + [("U9", "A4", "61", 6, "1单元", "", ROAD + "1单元", ST, CM),
                       ("R9", "U9", "62", 6, "101室", "", ROAD + "1单元101室", ST, CM)])
    assert df.loc[room_not_under_building(df), "address_id"].tolist() == ["R9"]


def test_admin_elements_carry_their_own_codes():
    df = table(GOOD + [("C9", "A2", "31", 3, "新社区", "", STREET + "新社区", ST, "421303002001"),  # wrong street prefix
                       ("S9", "A1", "23", 2, "新街道", "", ROOT + "新街道", "", "")])  # street without its code
    assert df.loc[admin_code_mismatch(df), "address_id"].tolist() == ["C9", "S9"]


def test_duplicate_ids_resolve_to_first_and_missing_level_column():
    df = table(GOOD + [("A6", "A5", "50", 5, "1栋", "", BLDG, ST, CM)]).drop(columns=["level"])
    for rule in ("parent_missing", "parent_level_invalid", "room_not_under_building", "full_address_mismatch",
                 "admin_code_mismatch", "unknown_element_type"):
        assert not RULES[rule](df).any(), rule


def test_integer_element_types_are_understood():
    df = table(GOOD)
    df["element_type"] = df["element_type"].astype(int)
    assert not unknown_element_type(df).any()
    assert not room_not_under_building(df).any()
