"""工程建设项目 (construction projects): the national investment-project code, and the dates, flags and areas of a
project list read the same way by the checks (``standards_checks``, PRJ rules) and the metrics
(:mod:`cimlib.metrics.projects`).

项目代码 (project code). Every fixed-asset investment project gets its code from the 全国投资项目在线审批监管平台
before its first approval step; it follows the project through its whole construction period. The form checked
here is the 24-character one written with dashes, ``YYYY-XXXXXX-XX-XX-XXXXXX``:

====  ==============================================================================  ====================
pos.  segment                                                                        checked
====  ==============================================================================  ====================
1–4   year the code was given (时间代码, GB/T 40058-2021 §4.2)                          4 digits, 2015–2099
6–11  division code of the approving authority (地区代码, §4.3; GB/T 2260)               6 digits (existence and
                                                                                      place: :func:`division_in_scope`)
13–14 industry (2017 rules) / 中央业务指导部门代码 (GB/T 40058-2021 §4.4)                   2 digits
16–17 project type (审批/核准/备案 …, §4.5)                                               2 digits
19–24 serial number (2017 rules) / 随机码 and 校验码 (§4.6–4.7)                            6 digits
====  ==============================================================================  ====================

**Provisional** (not verified against the standard's text, which was not available here; only its table of
contents was): the code lists of the two 2-digit segments and whether the last segment ends in a check character
(GB/T 40058-2021 names a 校验码 whose algorithm is not known here), so neither is checked; the lower bound of the
year (the platform's codes began in 2015–2017; earlier years are refused). Correct them here, in one place.

Values are read as departments send them: flags as 是/否, true/false or 1/0 (any case, surrounding spaces ignored;
booleans and 1/0 numbers too); dates as ISO ``YYYY-MM-DD`` (also ``/`` or ``.`` separators, ``YYYYMMDD`` and
``YYYY年M月D日``, an optional time after the date) or as date/datetime values; areas as numbers or numeric text.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from cimlib.codes.divisions import MUNICIPALITIES, division_valid
from cimlib.codes.ids import _DIGIT_VALUE, _calendar_ok, _digits_value, _Verdict

__all__ = ["PROJECT_TYPES", "BUILDING_TYPE", "FLAG_TRUE", "FLAG_FALSE", "PROJECT_CODE_LENGTH", "project_code_valid",
           "project_code_problems", "project_code_division", "project_code_year", "division_in_scope", "read_flags",
           "read_dates", "read_areas"]

PROJECT_TYPES = ("房屋建筑", "市政基础设施", "交通", "水利")
"""Values of ``project_type``."""

BUILDING_TYPE = "房屋建筑"
"""The type whose floor area is 新建建筑 (new buildings): it must have an area above 0."""

FLAG_TRUE = frozenset({"是", "true", "1", "1.0"})
FLAG_FALSE = frozenset({"否", "false", "0", "0.0"})
"""Readable flag values (compared stripped and lower-cased); anything else, empty included, is unreadable."""

PROJECT_CODE_LENGTH = 24
_DASHES = (4, 11, 14, 17)
_SEGMENTS = ((0, 4, "时间代码（第1–4位）"), (5, 11, "地区代码（第6–11位）"), (12, 14, "行业/部门代码（第13–14位）"),
             (15, 17, "项目类型代码（第16–17位）"), (18, 24, "流水号（第19–24位）"))
YEAR_RANGE = (2015, 2099)


def _code_verdict(values) -> _Verdict:
    v = _Verdict(values)
    rows, cp = v.fixed_width(PROJECT_CODE_LENGTH, "长度应为24位（年份-地区代码-行业代码-类型代码-流水号，含4个连字符）")
    dash = np.zeros((len(rows), len(_DASHES)), dtype=bool)
    for k, p in enumerate(_DASHES):
        dash[:, k] = cp[:, p] == ord("-")
    v.fail(~dash.all(axis=1), "第5、12、15、18位应为半角连字符“-”", rows)
    dig = _DIGIT_VALUE[cp]
    for a, b, label in _SEGMENTS:
        v.fail(~(dig[:, a:b] >= 0).all(axis=1), f"{label}应为数字", rows)
    year = _digits_value(np.maximum(dig[:, 0:4], 0)) if len(rows) else np.zeros(0, dtype=np.int64)
    v.fail((year < YEAR_RANGE[0]) | (year > YEAR_RANGE[1]), f"时间代码（第1–4位）应为{YEAR_RANGE[0]}–{YEAR_RANGE[1]}年",
           rows)
    return v


def project_code_valid(values) -> np.ndarray:
    """Whether each 项目代码 has the structure of the national investment-project code, vectorized.

    24 characters ``YYYY-XXXXXX-XX-XX-XXXXXX``: dashes at positions 5, 12, 15 and 18, digits elsewhere, a year from
    2015 to 2099. The division segment's existence is not checked here (:func:`division_in_scope`); the segments'
    code lists and a check character are **provisional** and not checked (module docstring).

    Parameters
    ----------
    values : array-like of str

    Returns
    -------
    numpy.ndarray of bool
    """
    return _code_verdict(values).valid


def project_code_problems(values) -> pd.Series:
    """Reason why each 项目代码 is invalid (``""`` when valid, ``空值`` when missing); see :func:`project_code_valid`."""
    return _code_verdict(values).problems


def project_code_division(values) -> pd.Series:
    """The 6-digit division segment (地区代码) of each structurally valid code; missing for the others.

    Returns
    -------
    pandas.Series of str
        The input's index when the input is a Series.
    """
    v = _code_verdict(values)
    return v.s.str.slice(5, 11).where(v.valid)


def project_code_year(values) -> pd.Series:
    """The year (时间代码) of each structurally valid code as a float (NaN for the others)."""
    v = _code_verdict(values)
    return pd.to_numeric(v.s.str.slice(0, 4), errors="coerce").where(v.valid).astype("float64")


def _scope_prefixes(scope_code: str) -> tuple[set, tuple]:
    """(exact codes, prefixes) a division code may take inside the county or city ``scope_code``."""
    code = str(scope_code).strip()
    if len(code) < 6:
        code = code.ljust(6, "0")
    code = code[:6]
    if code.endswith("0000"):                     # a province (or a 直辖市 as a whole)
        return set(), (code[:2],)
    if code.endswith("00"):                       # a city: any of its divisions, and the city itself
        exact = {code[:2] + "0000"} if code[:2] in MUNICIPALITIES else set()
        return exact, (code[:4],)
    exact = {code, code[:4] + "00"}               # a county: itself and its city's authorities
    if code[:2] in MUNICIPALITIES:
        exact.add(code[:2] + "0000")              # the 直辖市's own authorities (重庆市 500000)
    return exact, ()


def division_in_scope(divisions, scope_codes) -> np.ndarray:
    """Whether each 6-digit division code is a real division (GB/T 2260 reference table) inside the area.

    For a county catalog (``421303``) the approving authority may be the county itself or its city (``421300``;
    for a 直辖市's district also the 直辖市, ``500000``); for a city (``421300``) any division of the city; for a
    province any of its divisions.

    Parameters
    ----------
    divisions : array-like of str
        Six-digit division codes (missing values are not in scope).
    scope_codes : iterable of str
        County-, city- or province-level codes of the catalog (any of them may match).

    Returns
    -------
    numpy.ndarray of bool
    """
    s = pd.Series(divisions, dtype="object").astype("str")
    real = division_valid(s.to_numpy(dtype=object)) & (s.str.len() == 6).fillna(False).to_numpy(dtype=bool)
    inside = np.zeros(len(s), dtype=bool)
    for scope in scope_codes:
        exact, prefixes = _scope_prefixes(scope)
        inside |= s.isin(sorted(exact)).fillna(False).to_numpy(dtype=bool)
        for p in prefixes:
            inside |= s.str.startswith(p).fillna(False).to_numpy(dtype=bool)
    return real & inside


def read_flags(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A 是/否 column as booleans.

    Returns
    -------
    (numpy.ndarray of bool, numpy.ndarray of bool)
        The flag (False where unreadable) and whether the value was readable (是/否, true/false, 1/0, any case;
        a boolean column is read as it is; missing and empty values are unreadable).
    """
    values = pd.Series(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        ok = values.notna().to_numpy(dtype=bool)
        return values.fillna(False).astype(bool).to_numpy(), ok
    text = values.astype("string").str.strip().str.lower()
    true = text.isin(FLAG_TRUE).fillna(False).to_numpy(dtype=bool)
    false = text.isin(FLAG_FALSE).fillna(False).to_numpy(dtype=bool)
    return true, true | false


_DATE = (r"^\s*(?P<y>\d{4})(?:(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})|年(?P<m2>\d{1,2})月(?P<d2>\d{1,2})日"
         r"|(?P<m3>\d{2})(?P<d3>\d{2}))(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$")


def read_dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A date column as ``datetime64[D]``.

    Returns
    -------
    (numpy.ndarray of datetime64[D], numpy.ndarray of bool, numpy.ndarray of bool)
        The dates (NaT where missing or unreadable), whether a value is present (not missing, not blank) and
        whether it was read (a date or datetime value, or text in one of the forms of the module docstring that
        names a real calendar day).
    """
    values = pd.Series(values)
    n = len(values)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        d = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        out = d.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        ok = values.notna().to_numpy(dtype=bool)
        return out, ok, ok
    obj = values.astype(object)
    is_date = np.array([isinstance(x, (_dt.date, np.datetime64)) and not pd.isna(x) for x in obj], dtype=bool) \
        if n and values.dtype == object else np.zeros(n, dtype=bool)
    text = values.astype("string")
    if is_date.any():
        text = text.where(~is_date, pd.Series([pd.Timestamp(x).strftime("%Y-%m-%d") if ok else None
                                               for x, ok in zip(obj, is_date)], index=values.index, dtype="string"))
    present = (text.notna() & (text.str.strip() != "")).fillna(False).to_numpy(dtype=bool)
    parts = text.str.extract(_DATE)
    y = pd.to_numeric(parts["y"], errors="coerce")
    m = pd.to_numeric(parts["m"].fillna(parts["m2"]).fillna(parts["m3"]), errors="coerce")
    d = pd.to_numeric(parts["d"].fillna(parts["d2"]).fillna(parts["d3"]), errors="coerce")
    matched = (y.notna() & m.notna() & d.notna()).to_numpy(dtype=bool)
    yi, mi, di = (x.fillna(0).astype("int64").to_numpy() for x in (y, m, d))
    ok = present & matched & _calendar_ok(yi, mi, di) & (yi >= 1800)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if ok.any():
        out[ok] = pd.to_datetime(pd.DataFrame({"year": yi[ok], "month": mi[ok], "day": di[ok]})).to_numpy(
            dtype="datetime64[ns]").astype("datetime64[D]")
    return out, present, ok


def read_areas(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An area column (square metres) as floats.

    Returns
    -------
    (numpy.ndarray of float, numpy.ndarray of bool, numpy.ndarray of bool)
        The areas (NaN where missing or unreadable), whether a value is present and whether it is a finite number.
    """
    values = pd.Series(values)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        num = values.astype("float64")
        present = num.notna().to_numpy(dtype=bool)
    else:
        text = values.astype("string").str.strip()
        present = (text.notna() & (text != "")).fillna(False).to_numpy(dtype=bool)
        num = pd.to_numeric(text.where(present), errors="coerce").astype("float64")
    arr = num.to_numpy(dtype="float64", na_value=np.nan)
    ok = present & np.isfinite(arr)
    return np.where(ok, arr, np.nan), present, ok
