"""项目代码 structure, the division's place, and how dates, flags and areas of a project list are read."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cimlib.codes.projects import (division_in_scope, project_code_division, project_code_problems, project_code_valid,
                                   project_code_year, read_areas, read_dates, read_flags)


@pytest.mark.parametrize("code, reason", [
    ("2021-421303-47-03-012345", ""),
    ("2021421303-47-03-012345", "长度应为24位"),               # a dash left out
    ("2021－421303-47-03-012345", "半角连字符"),                # full-width dash
    ("2021-421303-47-03-0123O5", "流水号"),                    # letter O for a zero
    ("21-421303-47-03-01234500", "半角连字符"),                 # two-digit year
    ("2014-421303-47-03-012345", "2015–2099"),
    ("20X1-421303-47-03-012345", "时间代码"),
    ("2021-42130A-47-03-012345", "地区代码"),
    (None, "空值"),
])
def test_project_code_structure(code, reason):
    got = project_code_problems([code]).iloc[0]
    assert (reason in got and got != "") if reason else got == ""
    assert project_code_valid([code])[0] == (reason == "")


def test_division_and_year_only_of_well_formed_codes():
    s = pd.Series(["2021-421303-47-03-012345", "2021421303-47-03-012345"], index=[5, 9])
    assert project_code_division(s).tolist()[0] == "421303" and pd.isna(project_code_division(s).iloc[1])
    assert project_code_division(s).index.tolist() == [5, 9]
    assert project_code_year(s).iloc[0] == 2021.0 and np.isnan(project_code_year(s).iloc[1])


def test_division_in_scope_of_a_county_a_city_and_a_municipality():
    codes = ["421303", "421300", "420000", "421381", "420106", "421399", None]
    assert division_in_scope(codes, ["421303"]).tolist() == [True, True, False, False, False, False, False]
    # a city catalog: any real division of the city (421399 does not exist)
    assert division_in_scope(codes, ["421300"]).tolist() == [True, True, False, True, False, False, False]
    # a 直辖市 district: the district, and 重庆市 itself
    assert division_in_scope(["500101", "500000", "510100"], ["500101"]).tolist() == [True, True, False]


def test_flags():
    value, ok = read_flags(pd.Series(["是", "否", " TRUE ", "0", None, "待定", "1.0", "Y"]))
    assert value.tolist() == [True, False, True, False, False, False, True, False]
    assert ok.tolist() == [True, True, True, True, False, False, True, False]
    value, ok = read_flags(pd.Series([True, False]))
    assert value.tolist() == [True, False] and ok.all()
    value, ok = read_flags(pd.Series([1, 0, 2]))
    assert value.tolist() == [True, False, False] and ok.tolist() == [True, True, False]


def test_dates_in_every_written_form():
    s = pd.Series(["2021-03-05", "2021/3/5", "2021.03.05", "20210305", "2021年3月5日", "2021-03-05 10:00:00",
                   "2021-02-30", "2021.13.01", "待补录", None, ""])
    value, present, ok = read_dates(s)
    assert ok.tolist() == [True] * 6 + [False] * 5
    assert present.tolist() == [True] * 9 + [False] * 2
    assert (value[:6] == np.datetime64("2021-03-05")).all() and np.isnat(value[6:]).all()
    value, present, ok = read_dates(pd.Series([dt.date(2021, 1, 2), None, "x"], dtype=object))
    assert str(value[0]) == "2021-01-02" and ok.tolist() == [True, False, False] and present.tolist() == [True, False, True]
    value, present, ok = read_dates(pd.Series(pd.to_datetime(["2021-01-02 08:00", None])))
    assert str(value[0]) == "2021-01-02" and ok.tolist() == [True, False]


def test_areas():
    value, present, ok = read_areas(pd.Series(["1.5", "abc", "", None, "-3"]))
    assert present.tolist() == [True, True, False, False, True] and ok.tolist() == [True, False, False, False, True]
    assert value[0] == 1.5 and value[4] == -3 and np.isnan(value[1])
    value, present, ok = read_areas(pd.Series([2, None], dtype="Int64"))
    assert value[0] == 2.0 and ok.tolist() == [True, False]
