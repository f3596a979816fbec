"""Identification codes carried by 一标三实 records: check characters and vectorized validators.

The check-character functions are the generating side of the rules (the sample city uses them to issue valid
codes and to inject wrong ones); the validators beside them reuse the same arithmetic, so each algorithm is
written once.

Every validator takes an array-like of str (list, numpy array, pandas Series/Index; ``None``/NaN allowed) and
returns a boolean numpy array; its ``*_problems`` twin returns a pandas Series (the input's index when the input
is a Series) holding, per value, the Chinese reason of the *first* failed check, or ``""`` when the value is
valid. Missing values, empty and blank strings are invalid with reason ``空值``. Values are checked exactly as
given: no trimming, no upper-casing, no removal of separators (a register must store the canonical form; the
reason tells the data owner what to fix).

All checks are vectorized: strings of the expected length are turned into an ``(n, width)`` matrix of code points
with numpy, and every check is a table lookup or a matrix product on that matrix; regular expressions (phones)
run in pandas' Arrow string kernels. There are no per-value Python loops.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_CHECK = np.array(list("10X98765432"))

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

HOUSE_CODE_WEIGHTS = np.array([pow(2, i + 1, 11) for i in range(22)], dtype=np.int64)
_CHECK11 = np.array(list("0123456789X"))

#: 统一社会信用代码 GB 32100-2015 附录: 登记管理部门代码 (position 1) -> (department, accepted 机构类别代码 at
#: position 2). ``1`` 机构编制, ``5`` 民政, ``9`` 工商 and ``Y`` 其他 are the ones named in the standard's text
#: (STANDARDS.md §2). The other departments are **provisional**: they follow the department/type table
#: republished by several public sources (and two independent public implementations), not the standard's text
#: read here; correct them in this one place.
USCC_AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "1239"),  # 1 机关, 2 事业单位, 3 中央编办直接管理机构编制的群众团体, 9 其他
    "2": ("外交", "19"),  # provisional: 1 外国常驻新闻机构, 9 其他
    "3": ("司法行政", "123459"),  # provisional: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
    "4": ("文化", "19"),  # provisional: 1 外国在华文化中心, 9 其他
    "5": ("民政", "1239"),  # 1 社会团体, 2 民办非企业单位, 3 基金会, 9 其他
    "6": ("旅游", "129"),  # provisional: 外国 / 港澳台地区旅游部门常驻代表机构, 其他
    "7": ("宗教", "129"),  # provisional: 1 宗教活动场所, 2 宗教院校, 9 其他
    "8": ("工会", "19"),  # provisional: 1 基层工会, 9 其他
    "9": ("工商", "123"),  # 1 企业, 2 个体工商户, 3 农民专业合作社
    "A": ("中央军委改革和编制办公室", "19"),  # provisional: 1 军队事业单位, 9 其他
    "N": ("农业", "1239"),  # provisional: 组级 / 村级 / 乡镇级集体经济组织, 其他
    "Y": ("其他", "1"),
}

#: 不动产单元代码 GB/T 37346-2019 宗地(宗海)特征码. First letter (confirmed): G 国家土地所有权, J 集体土地所有权,
#: Z 土地所有权未确定或有争议. Second letter (**provisional**, from public copies of the standard's code table):
#: A 集体土地所有权宗地, B/S/X 建设用地使用权宗地 地表/地上/地下, C 宅基地使用权, D/E/F 土地承包经营权 耕地/林地/草地,
#: H 海域使用权宗海, G 无居民海岛使用权, W 使用权未确定或有争议, Y 其他土地使用权.
BDCDYH_PARCEL_FIRST = "GJZ"
BDCDYH_PARCEL_SECOND = "ABSXCDEFHGWY"
#: 定着物特征码: F 房屋等建筑物、构筑物, L 森林或林木, Q 其他定着物, W 无定着物.
BDCDYH_FIXTURE = "FLQW"

# code point (clipped to 0..255) -> value lookup tables; -1 = not allowed
_DIGIT_VALUE = np.full(256, -1, dtype=np.int64)
_DIGIT_VALUE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
_USCC_VALUE = np.full(256, -1, dtype=np.int64)
_USCC_VALUE[np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)] = np.arange(31)
_ORG_VALUE = np.full(256, -1, dtype=np.int64)
_ORG_VALUE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
_ORG_VALUE[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)] = np.arange(10, 36)
_CHECK11_VALUE = np.full(256, -1, dtype=np.int64)
_CHECK11_VALUE[np.frombuffer(b"0123456789X", dtype=np.uint8)] = np.arange(11)

_RIC_CHECK_CP = np.frombuffer(b"10X98765432", dtype=np.uint8).astype(np.int64)

EMPTY = "空值"


# ----------------------------------------------------------------------------------------------- shared machinery
def _char_matrix(codes, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of fixed-width ASCII codes."""
    arr = np.asarray(codes, dtype=f"S{width}")
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return np.frombuffer(arr.tobytes(), dtype=np.uint8).reshape(-1, width)


def _as_str_series(values) -> pd.Series:
    """``values`` as a pandas ``str`` Series (missing values stay missing); a Series keeps its index."""
    if isinstance(values, pd.Series):
        s = values
    elif isinstance(values, (str, bytes)) or values is None or np.ndim(values) == 0:
        s = pd.Series([values], dtype=object)
    else:
        s = pd.Series(values)
    if s.dtype != "str":
        s = s.astype("str")
    return s


def _code_points(s: pd.Series, width: int) -> np.ndarray:
    """(n, width) int matrix of the code points of strings that all have exactly ``width`` characters.

    Code points above 255 are clipped to 255, which no lookup table accepts.
    """
    if len(s) == 0:
        return np.zeros((0, width), dtype=np.int64)
    u = np.asarray(s.to_numpy(dtype=object), dtype=f"U{width}")
    return np.minimum(u.view(np.uint32).reshape(-1, width), 255).astype(np.int64)


class _Verdict:
    """Reason code per value (0 = valid); each check flags only values that passed every earlier check."""

    def __init__(self, values):
        self.s = _as_str_series(values)
        self.n = len(self.s)
        self.code = np.zeros(self.n, dtype=np.int16)
        self.labels = [""]
        length = self.s.str.len()
        blank = (self.s.isna() | (length == 0) | self.s.str.isspace()).to_numpy(dtype=bool)
        self.length = length.fillna(0).to_numpy(dtype=np.int64)
        self.fail(blank, EMPTY)

    def fail(self, mask, label: str, rows=None) -> None:
        """Flag ``label`` where ``mask`` (over all values, or over the positions ``rows``) and not yet flagged."""
        if label not in self.labels:
            self.labels.append(label)
        k = self.labels.index(label)
        mask = np.asarray(mask, dtype=bool)
        pos = np.flatnonzero(mask) if rows is None else np.asarray(rows)[mask]
        pos = pos[self.code[pos] == 0]
        self.code[pos] = k

    def open_rows(self) -> np.ndarray:
        """Positions still valid."""
        return np.flatnonzero(self.code == 0)

    def fixed_width(self, width: int, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Flag values whose length is not ``width``; return the remaining positions and their code-point matrix."""
        self.fail(self.length != width, label)
        rows = self.open_rows()
        return rows, _code_points(self.s.iloc[rows], width)

    @property
    def valid(self) -> np.ndarray:
        return self.code == 0

    @property
    def problems(self) -> pd.Series:
        return pd.Series(np.array(self.labels, dtype=object)[self.code], index=self.s.index, dtype="str")


def _today(today) -> _dt.date:
    return _dt.date.today() if today is None else pd.Timestamp(today).date()


def _digits_value(m: np.ndarray) -> np.ndarray:
    """Integer value of each row of a digit matrix (values 0..9)."""
    return m @ (10 ** np.arange(m.shape[1] - 1, -1, -1, dtype=np.int64))


def _calendar_ok(y: np.ndarray, mo: np.ndarray, d: np.ndarray) -> np.ndarray:
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    dim = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(mo, 0, 12)] + ((mo == 2) & leap)
    return (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= dim)


def _division_ok(int_codes: np.ndarray, width: int) -> np.ndarray:
    from cimlib.codes.divisions import _int_code_set  # lazy: divisions imports this module

    return np.isin(int_codes, _int_code_set(width))


# ------------------------------------------------------------------------------------------ check characters
def _ric_check_index(digits: np.ndarray) -> np.ndarray:
    return (digits @ RIC_WEIGHTS) % 11


def _org_check_value(values8: np.ndarray) -> np.ndarray:
    c = 11 - (values8 @ ORG_WEIGHTS) % 11
    return np.where(c == 11, 0, c)


def _uscc_check_value(values17: np.ndarray) -> np.ndarray:
    return (31 - (values17 @ USCC_WEIGHTS) % 31) % 31


def _house_check_value(digits22: np.ndarray) -> np.ndarray:
    return (12 - (digits22 @ HOUSE_CODE_WEIGHTS) % 11) % 11


def ric_check_char(first17) -> np.ndarray:
    """Check character of 公民身份号码 from its first 17 digits (GB 11643-1999 §5, ISO 7064 MOD 11-2).

    Parameters
    ----------
    first17 : array_like of str
        The 17-digit body (6-digit address code, 8-digit birth date, 3-digit sequence).

    Returns
    -------
    numpy.ndarray of str
        ``0``–``9`` or ``X``.
    """
    m = _DIGIT_VALUE[_char_matrix(first17, 17)]
    return RIC_CHECK[_ric_check_index(m)]


def org_check_char(first8) -> np.ndarray:
    """Check character of the 9-character 组织机构代码 from its first 8 characters (GB 11714-1997).

    Parameters
    ----------
    first8 : array_like of str
        Eight digits or upper-case letters.

    Returns
    -------
    numpy.ndarray of str
        ``0``–``9`` or ``X``; ``C9 = 11 - (Σ w_i·c_i mod 11)``, 10 written ``X`` and 11 written ``0``.
    """
    m = _ORG_VALUE[_char_matrix(first8, 8)]
    return _CHECK11[_org_check_value(m)]


def uscc_check_char(first17) -> np.ndarray:
    """Check character of the 统一社会信用代码 from its first 17 characters (GB 32100-2015 §4.2).

    Parameters
    ----------
    first17 : array_like of str
        Registration authority (1), type (1), region code (6) and organisation code (9), over the alphabet
        ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V, Z).

    Returns
    -------
    numpy.ndarray of str
        ``alphabet[(31 - Σ 3^i·c_i mod 31) mod 31]``.
    """
    m = _USCC_VALUE[_char_matrix(first17, 17)]
    return np.array(list(USCC_ALPHABET))[_uscc_check_value(m)]


def house_code_check_char(first22) -> np.ndarray:
    """Check character of the 房屋代码 (JGJ/T 246-2012) from its first 22 digits. Provisional.

    The structure (9-digit 街乡 code, 4-digit year, 4-digit 幢, 5-digit 户) is confirmed; the check table is not
    public here (STANDARDS.md §2, "to verify"): this uses weights ``2^(i+1) mod 11`` and ``(12 - Σ mod 11) mod 11``
    with 10 written ``X``, and must be corrected in this one place once the standard's text is at hand.

    Parameters
    ----------
    first22 : array_like of str
        The 22-digit body.

    Returns
    -------
    numpy.ndarray of str
    """
    m = _DIGIT_VALUE[_char_matrix(first22, 22)]
    return _CHECK11[_house_check_value(m)]


# ----------------------------------------------------------------------------------- 公民身份号码 GB 11643-1999
def _ric_shape(v: _Verdict, allow_lowercase_x: bool):
    """Length / character checks; returns (rows, digit matrix of the first 17, raw last code point)."""
    rows, cp = v.fixed_width(18, "长度应为18位")
    d = _DIGIT_VALUE[cp[:, :17]]
    v.fail((d < 0).any(axis=1), "前17位应为数字", rows)
    last = cp[:, 17]
    if allow_lowercase_x:
        last = np.where(last == ord("x"), ord("X"), last)
    v.fail(last == ord("x"), "校验码应为大写X", rows)
    v.fail(_CHECK11_VALUE[last] < 0, "校验码应为0–9或X", rows)
    keep = v.code[rows] == 0
    return rows[keep], d[keep], last[keep]


def _ric_verdict(values, check_birthplace=False, allow_lowercase_x=False, today=None) -> _Verdict:
    v = _Verdict(values)
    rows, d, last = _ric_shape(v, allow_lowercase_x)
    y, mo, dd = _digits_value(d[:, 6:10]), _digits_value(d[:, 10:12]), _digits_value(d[:, 12:14])
    v.fail(~_calendar_ok(y, mo, dd), "出生日期不是有效日期", rows)
    v.fail(y < 1900, "出生日期早于1900年", rows)
    t = _today(today)
    v.fail(y * 10000 + mo * 100 + dd > t.year * 10000 + t.month * 100 + t.day, "出生日期晚于当前日期", rows)
    v.fail(_RIC_CHECK_CP[_ric_check_index(d)] != last, "校验码错误", rows)
    if check_birthplace:
        v.fail(~_division_ok(_digits_value(d[:, :6]), 6), "地址码不在行政区划参考表中", rows)
    return v


def ric_valid(values, check_birthplace: bool = False, *, allow_lowercase_x: bool = False, today=None) -> np.ndarray:
    """Validate 公民身份号码 (GB 11643-1999), vectorized.

    Checks, in order (the first failure is the reason given by :func:`ric_problems`), all from §5 号码的结构和
    表示形式 of the standard:

    1. 号码的结构: 18 characters, a 17-digit body and a check character ``0``–``9`` or ``X`` (the 15-digit numbers
       of the first generation are not accepted);
    2. 出生日期码 (positions 7–14, GB/T 7408 YYYYMMDD) is a calendar date, not before 1900-01-01 and not after
       ``today`` (the two bounds are plausibility rules of this workbench, not of the standard);
    3. 校验码: the ISO 7064 MOD 11-2 check of the first 17 digits (:func:`ric_check_char`);
    4. only when ``check_birthplace``: 地址码 (positions 1–6) is a county-level code of the packaged division
       table (areas.csv), or a city (``xxxx00``) or province (``xx0000``) code of it.

    The address-code check is off by default and deliberately not delegated to ``stdnum.cn.ric``: a number keeps
    the address code current *when it was issued*, but stdnum checks it against the divisions that existed in
    the birth year, so it rejects real numbers (421303 曾都区 was created in 2009: every number with 421303 and a
    1990 birth date is rejected), and it crashes with ``KeyError('county')`` on development-zone codes such as
    130372. The packaged table is a 2022 snapshot, so ``check_birthplace=True`` also rejects numbers carrying a
    code since abolished (e.g. 110103 崇文区); use it as a warning-level rule. ``stdnum.cn.ric`` is used only in the
    tests, to cross-check the date and check-digit rules.

    Parameters
    ----------
    values : array_like of str
    check_birthplace : bool
        Also require the address code to be in the packaged table.
    allow_lowercase_x : bool
        GB 11643 writes the check value 10 as upper-case ``X`` (Roman numeral ten). By default a lower-case
        ``x`` is rejected with reason ``校验码应为大写X`` (the register should store the canonical form); set True
        to accept it.
    today : date-like, optional
        Reference date for "not in the future" (default: today).

    Returns
    -------
    numpy.ndarray of bool
    """
    return _ric_verdict(values, check_birthplace, allow_lowercase_x, today).valid


def ric_problems(values, check_birthplace: bool = False, *, allow_lowercase_x: bool = False, today=None) -> pd.Series:
    """Reason why each 公民身份号码 is invalid (``""`` when valid); see :func:`ric_valid` for the checks.

    Returns
    -------
    pandas.Series of str
        ``空值``, ``长度应为18位``, ``前17位应为数字``, ``校验码应为大写X``, ``校验码应为0–9或X``,
        ``出生日期不是有效日期``, ``出生日期早于1900年``, ``出生日期晚于当前日期``, ``校验码错误``,
        ``地址码不在行政区划参考表中`` or ``""``.
    """
    return _ric_verdict(values, check_birthplace, allow_lowercase_x, today).problems


def ric_birth_date(values) -> np.ndarray:
    """Birth date (GB 11643-1999 §5 出生日期码, positions 7–14) of each 公民身份号码, vectorized.

    The date is read whenever the value has the shape of a number (18 characters, 17 digits, a check character
    ``0``–``9``/``X``/``x``) and positions 7–14 form a calendar date; the check digit is not required, so a number
    with a typo in its check digit still yields its date. Otherwise NaT.

    Returns
    -------
    numpy.ndarray of datetime64[D]
    """
    v = _Verdict(values)
    rows, d, _ = _ric_shape(v, allow_lowercase_x=True)
    y, mo, dd = _digits_value(d[:, 6:10]), _digits_value(d[:, 10:12]), _digits_value(d[:, 12:14])
    ok = _calendar_ok(y, mo, dd)
    out = np.full(v.n, np.datetime64("NaT"), dtype="datetime64[D]")
    months = ((y[ok] - 1970) * 12 + mo[ok] - 1).astype("datetime64[M]")
    out[rows[ok]] = months.astype("datetime64[D]") + (dd[ok] - 1).astype("timedelta64[D]")
    return out


def ric_gender(values) -> np.ndarray:
    """Gender from the 顺序码 parity (GB 11643-1999 §5: 17th digit odd 男, even 女), vectorized.

    Read whenever the value has the shape of a number (as in :func:`ric_birth_date`); otherwise ``""``.

    Returns
    -------
    numpy.ndarray of str
        ``男``, ``女`` or ``""``.
    """
    v = _Verdict(values)
    rows, d, _ = _ric_shape(v, allow_lowercase_x=True)
    out = np.full(v.n, "", dtype="<U1")
    out[rows] = np.where(d[:, 16] % 2 == 1, "男", "女")
    return out


# ------------------------------------------------------------------------------ 统一社会信用代码 GB 32100-2015
def _uscc_pair_table() -> np.ndarray:
    """(256, 256) bool table: [code point of position 1, code point of position 2] -> accepted."""
    pair_ok = np.zeros((256, 256), dtype=bool)
    for dept, (_, types) in USCC_AUTHORITIES.items():
        pair_ok[ord(dept), np.frombuffer(types.encode(), dtype=np.uint8)] = True
    return pair_ok


def _uscc_verdict(values, check_region=False) -> _Verdict:
    v = _Verdict(values)
    rows, cp = v.fixed_width(18, "长度应为18位")
    val = _USCC_VALUE[cp]
    bad = val < 0
    upper = np.where((cp >= ord("a")) & (cp <= ord("z")), cp - 32, cp)
    v.fail(bad.any(axis=1) & (_USCC_VALUE[upper] >= 0).all(axis=1), "字母应为大写", rows)
    forbidden = np.isin(upper, np.frombuffer(b"IOSVZ", dtype=np.uint8))
    v.fail((bad & forbidden).any(axis=1), "含代码不用的字母（I、O、S、V、Z）", rows)
    v.fail(bad.any(axis=1), "含非法字符（应为数字或大写字母）", rows)
    # registration authority (pos 1) and type (pos 2): one lookup over (authority, type) pairs
    pair_ok = _uscc_pair_table()
    dept_ok = pair_ok.any(axis=1)
    v.fail(~dept_ok[cp[:, 0]], "登记管理部门代码（第1位）无效", rows)
    v.fail(~pair_ok[cp[:, 0], cp[:, 1]], "机构类别代码（第2位）与登记管理部门不符", rows)
    region = _DIGIT_VALUE[cp[:, 2:8]]
    v.fail((region < 0).any(axis=1), "登记管理机关行政区划码（第3–8位）应为数字", rows)
    org = _ORG_VALUE[cp[:, 8:16]]
    v.fail(_CHECK11_VALUE[cp[:, 16]] < 0, "主体标识码（组织机构代码）校验位应为0–9或X", rows)
    v.fail(_org_check_value(org) != _CHECK11_VALUE[cp[:, 16]], "主体标识码（组织机构代码）校验位错误", rows)
    v.fail(_uscc_check_value(val[:, :17]) != val[:, 17], "校验码错误", rows)
    if check_region:
        v.fail(~_division_ok(_digits_value(np.maximum(region, 0)), 6), "登记管理机关行政区划码不在参考表中", rows)
    return v


def uscc_valid(values, *, check_region: bool = False) -> np.ndarray:
    """Validate 统一社会信用代码 (GB 32100-2015), vectorized.

    Checks, in order:

    1. 18 characters over ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (代码结构: digits and upper-case letters without
       I, O, S, V, Z);
    2. 登记管理部门代码 (position 1) and 机构类别代码 (position 2) form a pair of :data:`USCC_AUTHORITIES`
       (1x, 5x, 9x, Y1 per the standard; 2x, 3x, 4x, 6x, 7x, 8x, Ax, Nx provisional);
    3. 登记管理机关行政区划码 (positions 3–8) is 6 digits (GB/T 2260 form; existence in the packaged table only
       with ``check_region=True`` — codes of abolished divisions stay valid in issued codes);
    4. 主体标识码 (positions 9–17) is a 组织机构代码 with a valid GB 11714-1997 check character
       (:func:`org_check_char`);
    5. the check character (position 18) is the mod-31 check (校验码, :func:`uscc_check_char`).

    ``stdnum.cn.uscc`` is not used: it rejects codes whose first 8 characters are not all digits (``N2…``
    农村集体经济组织, ``Y1…``), and it checks neither the department/type pair nor the embedded organisation code.
    On digit-prefixed codes with a valid pair and organisation code the two agree (tested).

    Returns
    -------
    numpy.ndarray of bool
    """
    return _uscc_verdict(values, check_region).valid


def uscc_problems(values, *, check_region: bool = False) -> pd.Series:
    """Reason why each 统一社会信用代码 is invalid (``""`` when valid); see :func:`uscc_valid`."""
    return _uscc_verdict(values, check_region).problems


# ---------------------------------------------------------------------------- 不动产单元代码 GB/T 37346-2019
def _bdcdyh_verdict(values, check_county=False) -> _Verdict:
    v = _Verdict(values)
    rows, cp = v.fixed_width(28, "长度应为28位")
    dig = _DIGIT_VALUE[cp]
    isdig = dig >= 0
    v.fail(~isdig[:, 0:6].all(axis=1), "县级行政区划代码（第1–6位）应为数字", rows)
    if check_county:
        v.fail(~_division_ok(_digits_value(np.maximum(dig[:, :6], 0)), 6), "县级行政区划代码不在参考表中", rows)
    v.fail(~isdig[:, 6:9].all(axis=1), "地籍区代码（第7–9位）应为3位数字", rows)
    v.fail(~isdig[:, 9:12].all(axis=1), "地籍子区代码（第10–12位）应为3位数字", rows)
    first = np.isin(cp[:, 12], np.frombuffer(BDCDYH_PARCEL_FIRST.encode(), dtype=np.uint8))
    second = np.isin(cp[:, 13], np.frombuffer(BDCDYH_PARCEL_SECOND.encode(), dtype=np.uint8))
    v.fail(~first, "宗地特征码第1位（第13位）应为G、J或Z", rows)
    v.fail(~second, f"宗地特征码第2位（第14位）应为{'、'.join(BDCDYH_PARCEL_SECOND)}之一", rows)
    v.fail(~isdig[:, 14:19].all(axis=1), "宗地顺序号（第15–19位）应为5位数字", rows)
    fixture = cp[:, 19]
    v.fail(~np.isin(fixture, np.frombuffer(BDCDYH_FIXTURE.encode(), dtype=np.uint8)), "定着物特征码（第20位）应为F、L、Q或W", rows)
    v.fail(~isdig[:, 20:28].all(axis=1), "定着物单元号（第21–28位）应为8位数字", rows)
    v.fail((fixture == ord("W")) & (dig[:, 20:28] != 0).any(axis=1), "无定着物（W）时定着物单元号应为00000000", rows)
    return v


def bdcdyh_valid(values, *, check_county: bool = False) -> np.ndarray:
    """Validate the structure of 不动产单元代码 (GB/T 37346-2019 §8.1), vectorized. There is no check digit.

    28 characters: ``[0:6]`` 县级行政区划代码 (6 digits; existence in the packaged table only with
    ``check_county=True``), ``[6:9]`` 地籍区 (3 digits), ``[9:12]`` 地籍子区 (3 digits), ``[12:14]`` 宗地(宗海)特征码
    (first letter G/J/Z; second letter from :data:`BDCDYH_PARCEL_SECOND` — provisional), ``[14:19]`` 宗地顺序号
    (5 digits), ``[19]`` 定着物特征码 (F/L/Q/W), ``[20:28]`` 定着物单元号 (8 digits; ``00000000`` when W
    — provisional; for buildings probably 4-digit 幢 + 4-digit 户, not checked). A code is *not* all digits: a
    ``^\\d{28}$`` rule is wrong.

    Returns
    -------
    numpy.ndarray of bool
    """
    return _bdcdyh_verdict(values, check_county).valid


def bdcdyh_problems(values, *, check_county: bool = False) -> pd.Series:
    """Reason why each 不动产单元代码 is invalid (``""`` when valid); see :func:`bdcdyh_valid`."""
    return _bdcdyh_verdict(values, check_county).problems


# ----------------------------------------------------------------------------------- 房屋代码 JGJ/T 246-2012
def _house_verdict(values, check_street=False, today=None) -> _Verdict:
    v = _Verdict(values)
    rows, cp = v.fixed_width(23, "长度应为23位")
    dig = _DIGIT_VALUE[cp]
    isdig = dig >= 0
    v.fail(~isdig[:, 0:9].all(axis=1), "街乡代码（第1–9位）应为数字", rows)
    if check_street:
        v.fail(~_division_ok(_digits_value(np.maximum(dig[:, :9], 0)), 9), "街乡代码不在区划参考表中", rows)
    v.fail(~isdig[:, 9:13].all(axis=1), "年份（第10–13位）应为数字", rows)
    year = _digits_value(np.maximum(dig[:, 9:13], 0))
    v.fail((year < 1900) | (year > _today(today).year), "年份（第10–13位）应在1900年至今年之间", rows)
    v.fail(~isdig[:, 13:17].all(axis=1), "幢号（第14–17位）应为4位数字", rows)
    v.fail(~isdig[:, 17:22].all(axis=1), "户号（第18–22位）应为5位数字", rows)
    check = _CHECK11_VALUE[cp[:, 22]]
    v.fail(check < 0, "校验码（第23位）应为0–9或X", rows)
    v.fail(_house_check_value(np.maximum(dig[:, :22], 0)) != check, "校验码错误", rows)
    return v


def house_code_valid(values, *, check_street: bool = False, today=None) -> np.ndarray:
    """Validate 房屋代码 (JGJ/T 246-2012), vectorized.

    23 characters: 9-digit 街乡 code (统计用区划代码 town level; existence in the packaged streets table only with
    ``check_street=True``), 4-digit year (1900 to the current year), 4-digit 幢, 5-digit 户, and a check character
    ``0``–``9``/``X`` computed by :func:`house_code_check_char` — **provisional**, as documented there.

    Returns
    -------
    numpy.ndarray of bool
    """
    return _house_verdict(values, check_street, today).valid


def house_code_problems(values, *, check_street: bool = False, today=None) -> pd.Series:
    """Reason why each 房屋代码 is invalid (``""`` when valid); see :func:`house_code_valid`."""
    return _house_verdict(values, check_street, today).problems


# ---------------------------------------------------------------------------------------------- phone numbers
#: 固定电话: trunk prefix 0 + area code (10 北京, 2x for the eight 3-digit areas, else 3 digits starting 3–9),
#: optional hyphen, 7–8 digit local number starting 2–9.
PHONE_LANDLINE_RE = r"0(?:10|2[0-9]|[3-9][0-9]{2})-?[2-9][0-9]{6,7}"
#: 手机号码: 11 digits, 1 + second digit 3–9.
PHONE_MOBILE_RE = r"1[3-9][0-9]{9}"


def _phone_verdict(values) -> _Verdict:
    v = _Verdict(values)
    s = v.s
    v.fail(~s.str.fullmatch(r"[0-9-]+").fillna(False).to_numpy(dtype=bool), "含非数字字符")
    first = s.str.slice(0, 1).to_numpy(dtype=object)
    mobile_like = first == "1"
    v.fail(mobile_like & (v.length != 11), "手机号码应为11位")
    v.fail(mobile_like & ~s.str.fullmatch(PHONE_MOBILE_RE).fillna(False).to_numpy(dtype=bool), "手机号码第2位应为3–9")
    land_like = first == "0"
    v.fail(land_like & ~s.str.fullmatch(PHONE_LANDLINE_RE).fillna(False).to_numpy(dtype=bool),
           "固定电话应为区号（含0共3–4位）加7–8位号码")
    v.fail(~mobile_like & ~land_like, "应为11位手机号码或带区号的固定电话")
    return v


def phone_valid(values) -> np.ndarray:
    """Validate mainland China phone numbers, vectorized (regular expressions in pandas' Arrow string kernels).

    Accepted (digits only, plus at most the one hyphen after the area code):

    * 手机号码: 11 digits, ``1[3-9]`` then 9 digits (numbering plan of the 工业和信息化部; the exact open
      segments change, so only the first two digits are checked);
    * 固定电话 with area code: ``0`` + area code (``10``, ``2x``, or 3 digits ``[3-9]xx``) + optional ``-`` +
      7–8 digit local number starting 2–9, e.g. ``027-87654321``, ``07228888888``.

    Not accepted: numbers without area code, ``+86``/``0086`` prefixes, extensions, spaces, service numbers
    (400/800, 95xxx, 12345).

    Returns
    -------
    numpy.ndarray of bool
    """
    return _phone_verdict(values).valid


def phone_problems(values) -> pd.Series:
    """Reason why each phone number is invalid (``""`` when valid); see :func:`phone_valid`."""
    return _phone_verdict(values).problems
