"""Validators of the identification codes (cimlib.codes.ids): structure, check characters, reasons."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric as std_ric
from stdnum.cn import uscc as std_uscc

from cimlib.codes.ids import (USCC_ALPHABET, USCC_AUTHORITIES, bdcdyh_problems, bdcdyh_valid, house_code_check_char,
                              house_code_problems, house_code_valid, org_check_char, phone_problems, phone_valid,
                              ric_birth_date, ric_check_char, ric_gender, ric_problems, ric_valid, uscc_check_char,
                              uscc_problems, uscc_valid)

TODAY = "2024-06-30"


def ric(body17: str) -> str:
    return body17 + ric_check_char([body17])[0]


def uscc(dept_type: str, region: str, org8: str, org_check: str | None = None) -> str:
    org9 = org8 + (org_check if org_check is not None else org_check_char([org8])[0])
    body = dept_type + region + org9
    return body + uscc_check_char([body])[0]


def house(body22: str) -> str:
    return body22 + house_code_check_char([body22])[0]


def wrong_last(code: str, alphabet: str) -> str:
    return code[:-1] + alphabet[(alphabet.index(code[-1]) + 1) % len(alphabet)]


# ------------------------------------------------------------------------------------------------------ RIC
VALID_RIC = [ric("42130319900101123"), ric("11010119491001001"), ric("13037220100101001"), ric("11010120000229002")]


@pytest.mark.parametrize("number", VALID_RIC)
def test_ric_valid_examples(number):
    assert ric_valid([number], today=TODAY).tolist() == [True]
    assert ric_problems([number], today=TODAY).tolist() == [""]


def test_ric_x_check_character():
    number = ric("11010119491001001")
    assert number.endswith("X")
    assert ric_valid([number]).all()


@pytest.mark.parametrize("value, reason", [
    (None, "空值"), (np.nan, "空值"), ("", "空值"), ("   ", "空值"),
    ("42130319900101123", "长度应为18位"),
    ("4213031990010112345", "长度应为18位"),
    ("421303900101123", "长度应为18位"),  # first-generation 15-digit number
    ("4213031990O101123X", "前17位应为数字"),
    ("４２1303199001011234", "前17位应为数字"),  # full-width digits
    ("42130319900101123Y", "校验码应为0–9或X"),
    (ric("42130319900230123"), "出生日期不是有效日期"),  # Feb 30
    (ric("42130319001301123"), "出生日期不是有效日期"),  # month 13
    (ric("42130319000229123"), "出生日期不是有效日期"),  # 1900 is not a leap year
    (ric("42130318991231123"), "出生日期早于1900年"),
    (ric("42130320240701123"), "出生日期晚于当前日期"),
    (wrong_last(ric("42130319900101123"), "0123456789X"), "校验码错误"),
])
def test_ric_problems(value, reason):
    assert ric_problems([value], today=TODAY).tolist() == [reason]
    assert ric_valid([value], today=TODAY).tolist() == [False]


def test_ric_today_boundary():
    assert ric_valid([ric("42130320240630123"), ric("42130320240701123")], today=TODAY).tolist() == [True, False]


def test_ric_lowercase_x_is_rejected_unless_allowed():
    upper = ric("11010119491001001")
    lower = upper[:-1] + "x"
    assert ric_problems([lower]).tolist() == ["校验码应为大写X"]
    assert ric_valid([lower], allow_lowercase_x=True).tolist() == [True]
    assert ric_valid([lower[:-1] + "x"], allow_lowercase_x=True).all()
    assert not ric_valid([ric("42130319900101123")[:-1] + "x"], allow_lowercase_x=True).any()


def test_ric_birthplace_only_when_asked():
    fake_place = ric("99999919900101123")
    assert ric_valid([fake_place]).tolist() == [True]
    assert ric_problems([fake_place], check_birthplace=True).tolist() == ["地址码不在行政区划参考表中"]
    # 曾都区 (created 2009) with a 1990 birth date and the development-zone code 130372: real codes, accepted
    ok = [ric("42130319900101123"), ric("13037220100101001"), ric("42000019900101123"), ric("42130019900101123")]
    assert ric_valid(ok, check_birthplace=True).all()


def test_ric_series_keeps_index_and_types():
    s = pd.Series([VALID_RIC[0], None, "x"], index=[10, 20, 30])
    p = ric_problems(s)
    assert p.index.tolist() == [10, 20, 30]
    assert p.tolist() == ["", "空值", "长度应为18位"]
    v = ric_valid(s)
    assert isinstance(v, np.ndarray) and v.dtype == bool and v.tolist() == [True, False, False]
    assert ric_valid(np.array(VALID_RIC, dtype=object)).all()
    assert ric_valid(pd.Series(VALID_RIC, dtype=object)).all()
    assert ric_valid([]).shape == (0,)


def test_ric_birth_date_and_gender():
    values = [ric("42130319900101123"), ric("42130319900102124"), ric("42130319900230123"), None, "abc"]
    got = ric_birth_date(values)
    assert got.dtype == np.dtype("datetime64[D]")
    assert got[:2].tolist() == [dt.date(1990, 1, 1), dt.date(1990, 1, 2)]
    assert np.isnat(got[2:]).all()
    assert ric_gender(values).tolist() == ["男", "女", "男", "", ""]
    # a wrong check digit does not hide the date
    assert ric_birth_date([wrong_last(values[0], "0123456789X")])[0] == np.datetime64("1990-01-01")


@settings(max_examples=300, deadline=None)
@given(year=st.integers(1900, 2023), month=st.integers(0, 13), day=st.integers(0, 32), seq=st.integers(0, 999),
       corrupt=st.booleans())
def test_ric_agrees_with_stdnum_for_an_old_county(year, month, day, seq, corrupt):
    # 110101 东城区 exists over the whole range in stdnum's birthplace history, so stdnum is right here
    number = ric(f"110101{year:04d}{month:02d}{day:02d}{seq:03d}")
    if corrupt:
        number = wrong_last(number, "0123456789X")
    assert bool(ric_valid([number], today="2024-01-01")[0]) == std_ric.is_valid(number)


# ----------------------------------------------------------------------------------------------------- USCC
DIGIT_PAIRS = [d + t for d, (_, types) in USCC_AUTHORITIES.items() if d.isdigit() for t in types]


@pytest.mark.parametrize("code", [
    "91110000600037341L",  # the example of python-stdnum's documentation
    uscc("91", "421303", "MA4F3K2L"), uscc("92", "421303", "L12345AB"), uscc("12", "420000", "42000000"),
    uscc("52", "421303", "MJ1234XY"), uscc("93", "421303", "MA12345B"),
])
def test_uscc_digit_prefixed_agrees_with_stdnum(code):
    assert uscc_valid([code]).tolist() == [True]
    assert std_uscc.is_valid(code)


@pytest.mark.parametrize("code", [
    uscc("N2", "421303", "MF1234AB"), uscc("N1", "421303", "00000012"), uscc("Y1", "421303", "MA1234AB"),
    uscc("A1", "100000", "MA1234AB"), uscc("31", "421303", "45678901"), uscc("71", "421303", "MA1234AB"),
])
def test_uscc_letter_prefixed_and_other_departments(code):
    assert uscc_problems([code]).tolist() == [""]


@pytest.mark.parametrize("value, reason", [
    (None, "空值"),
    ("91110000600037341", "长度应为18位"),
    ("91110000600037341LL", "长度应为18位"),
    ("91110000600037341M", "校验码错误"),
    (uscc("91", "421303", "MA4F3K2L", org_check="7")[:-1] + "X", "主体标识码（组织机构代码）校验位错误"),
    ("91110000600037341l", "字母应为大写"),
    ("9111000060003734IL", "含代码不用的字母（I、O、S、V、Z）"),
    ("911100006000373O1L", "含代码不用的字母（I、O、S、V、Z）"),
    ("91110000S00037341L", "含代码不用的字母（I、O、S、V、Z）"),
    ("91110000V00037341L", "含代码不用的字母（I、O、S、V、Z）"),
    ("91110000Z00037341L", "含代码不用的字母（I、O、S、V、Z）"),
    ("91110000-00037341L", "含非法字符（应为数字或大写字母）"),
    (uscc("B1", "421303", "MA4F3K2L"), "登记管理部门代码（第1位）无效"),
    (uscc("94", "421303", "MA4F3K2L"), "机构类别代码（第2位）与登记管理部门不符"),
    (uscc("Y2", "421303", "MA4F3K2L"), "机构类别代码（第2位）与登记管理部门不符"),
    (uscc("91", "42A303", "MA4F3K2L"), "登记管理机关行政区划码（第3–8位）应为数字"),
])
def test_uscc_problems(value, reason):
    assert uscc_problems([value]).tolist() == [reason]
    assert not uscc_valid([value]).any()


def test_uscc_bad_org_check_alone():
    good = uscc("91", "421303", "MA4F3K2L")
    org_ok = good[16]
    bad_org = "0123456789X".replace(org_ok, "")[0]
    code = uscc("91", "421303", "MA4F3K2L", org_check=bad_org)  # the mod-31 check is right, the org check not
    assert uscc_problems([code]).tolist() == ["主体标识码（组织机构代码）校验位错误"]


def test_uscc_region_only_when_asked():
    code = uscc("91", "999999", "MA4F3K2L")
    assert uscc_valid([code]).all()
    assert uscc_problems([code], check_region=True).tolist() == ["登记管理机关行政区划码不在参考表中"]


_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@settings(max_examples=300, deadline=None)
@given(pair=st.sampled_from(DIGIT_PAIRS), region=st.from_regex(r"[0-9]{6}", fullmatch=True),
       org8=st.text(alphabet=_ORG_CHARS, min_size=8, max_size=8), shift=st.integers(0, 30))
def test_uscc_agrees_with_stdnum(pair, region, org8, shift):
    code = uscc(pair, region, org8)
    if shift:
        code = code[:-1] + USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + shift) % 31]
    assert bool(uscc_valid([code])[0]) == std_uscc.is_valid(code) == (shift == 0)


# --------------------------------------------------------------------------------------------------- BDCDYH
@pytest.mark.parametrize("code", [
    "421303001002GB00011F00010001", "340123002004GS00019F00010002", "421303001002JC00001F00010101",
    "421303001002JA00001W00000000", "421303001002ZW00001Q00000001", "340123002004GE00022L00000001",
])
def test_bdcdyh_valid(code):
    assert bdcdyh_valid([code]).tolist() == [True]


@pytest.mark.parametrize("value, reason", [
    (None, "空值"),
    ("421303001002GB00011F0001000", "长度应为28位"),
    ("421303001002GB00011F000100011", "长度应为28位"),
    ("4213030010020000000110001000", "宗地特征码第1位（第13位）应为G、J或Z"),  # all digits: never valid
    ("42130A001002GB00011F00010001", "县级行政区划代码（第1–6位）应为数字"),
    ("421303A01002GB00011F00010001", "地籍区代码（第7–9位）应为3位数字"),
    ("42130300100AGB00011F00010001", "地籍子区代码（第10–12位）应为3位数字"),
    ("421303001002XB00011F00010001", "宗地特征码第1位（第13位）应为G、J或Z"),
    ("421303001002gb00011F00010001", "宗地特征码第1位（第13位）应为G、J或Z"),
    ("421303001002GQ00011F00010001", "宗地特征码第2位（第14位）应为A、B、S、X、C、D、E、F、H、G、W、Y之一"),
    ("421303001002GB0001AF00010001", "宗地顺序号（第15–19位）应为5位数字"),
    ("421303001002GB00011K00010001", "定着物特征码（第20位）应为F、L、Q或W"),
    ("421303001002GB00011F0001000A", "定着物单元号（第21–28位）应为8位数字"),
    ("421303001002GB00011W00010001", "无定着物（W）时定着物单元号应为00000000"),
])
def test_bdcdyh_problems(value, reason):
    assert bdcdyh_problems([value]).tolist() == [reason]


def test_bdcdyh_county_only_when_asked():
    code = "999999001002GB00011F00010001"
    assert bdcdyh_valid([code]).all()
    assert bdcdyh_problems([code], check_county=True).tolist() == ["县级行政区划代码不在参考表中"]
    assert bdcdyh_valid(["130372001002GB00011F00010001"], check_county=True).all()


# ----------------------------------------------------------------------------------------------- house code
STREET, YEAR, ZHUANG, HU = "421303001", "2010", "0001", "00001"


def test_house_code_valid():
    codes = [house(STREET + YEAR + ZHUANG + HU), house("421303002" + "1990" + "0123" + "04501"),
             house(STREET + "2024" + ZHUANG + HU), house(STREET + "1900" + ZHUANG + HU)]
    assert house_code_valid(codes, today=TODAY).all()
    assert house_code_valid(codes, check_street=True, today=TODAY).all()


@pytest.mark.parametrize("value, reason", [
    (None, "空值"),
    (house(STREET + YEAR + ZHUANG + HU)[:-1], "长度应为23位"),
    ("42130300A" + YEAR + ZHUANG + HU + "1", "街乡代码（第1–9位）应为数字"),
    (STREET + "2O10" + ZHUANG + HU + "1", "年份（第10–13位）应为数字"),
    (house(STREET + "1899" + ZHUANG + HU), "年份（第10–13位）应在1900年至今年之间"),
    (house(STREET + "2025" + ZHUANG + HU), "年份（第10–13位）应在1900年至今年之间"),
    (STREET + YEAR + "00A1" + HU + "1", "幢号（第14–17位）应为4位数字"),
    (STREET + YEAR + ZHUANG + "00A01" + "1", "户号（第18–22位）应为5位数字"),
    (STREET + YEAR + ZHUANG + HU + "Y", "校验码（第23位）应为0–9或X"),
    (wrong_last(house(STREET + YEAR + ZHUANG + HU), "0123456789X"), "校验码错误"),
])
def test_house_code_problems(value, reason):
    assert house_code_problems([value], today=TODAY).tolist() == [reason]


def test_house_code_street_only_when_asked():
    code = house("421303999" + YEAR + ZHUANG + HU)
    assert house_code_valid([code]).all()
    assert house_code_problems([code], check_street=True).tolist() == ["街乡代码不在区划参考表中"]


# ---------------------------------------------------------------------------------------------------- phone
@pytest.mark.parametrize("value", [
    "13812345678", "19912345678", "16612345678", "027-87654321", "02787654321", "010-62345678", "0722-3456789",
    "07223456789", "0722-34567890",
])
def test_phone_valid(value):
    assert phone_valid([value]).tolist() == [True]


@pytest.mark.parametrize("value, reason", [
    (None, "空值"), ("", "空值"),
    ("+8613812345678", "含非数字字符"), ("138 1234 5678", "含非数字字符"), ("１３８12345678", "含非数字字符"),
    ("1381234567", "手机号码应为11位"), ("138123456789", "手机号码应为11位"),
    ("12812345678", "手机号码第2位应为3–9"),
    ("027-07654321", "固定电话应为区号（含0共3–4位）加7–8位号码"),
    ("0123-4567890", "固定电话应为区号（含0共3–4位）加7–8位号码"),
    ("010-12345678", "固定电话应为区号（含0共3–4位）加7–8位号码"),
    ("027-876543", "固定电话应为区号（含0共3–4位）加7–8位号码"),
    ("027--87654321", "固定电话应为区号（含0共3–4位）加7–8位号码"),
    ("87654321", "应为11位手机号码或带区号的固定电话"),
    ("95588", "应为11位手机号码或带区号的固定电话"),
])
def test_phone_problems(value, reason):
    assert phone_problems([value]).tolist() == [reason]
