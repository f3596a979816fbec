"""Administrative division codes (GB/T 2260 and 统计用区划代码) from the packaged reference tables.

The tables in ``cimlib/data/divisions/`` are copies of the real codes (data as of 2022-10-31) shipped with the
package, so the installed package never reads files outside itself: ``provinces`` (2-digit codes), ``cities``
(4-digit), ``areas`` (6-digit county level, incl. statistical xx7x development-zone codes) and ``streets``
(9-digit town level). The village level (12-digit 统计用区划代码) is *not* packaged.

Code forms. GB/T 2260 writes every level with 6 digits (province ``xx0000``, city ``xxxx00``, county ``xxxxxx``);
统计用区划代码 uses 12 digits (county + 3 town digits + 3 village digits), padded with zeros for higher levels.
The tables store the short forms (2/4/6/9 digits). :func:`name_of`, :func:`children` and :func:`code_of`'s
``parent`` accept short and padded forms alike: trailing zero groups are dropped until the code is found
(``421300`` -> ``4213``, ``421303000000`` -> ``421303``).

Place names. The city level of the tables is sometimes a placeholder (``市辖区`` and ``县`` of the 直辖市,
``省直辖县级行政区划``): :func:`written_name` composes a county's name as people write it (``重庆市万州区``,
``湖北省仙桃市``), :func:`written_city` gives its city level as written (``""`` for a placeholder).

All lookups are vectorized with pandas Index / hash-table lookups over the whole input.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from cimlib.codes.ids import _as_str_series, _Verdict

_TABLES = {"provinces": "provinces.csv", "cities": "cities.csv", "areas": "areas.csv", "streets": "streets.csv"}


@lru_cache(maxsize=None)
def reference_table(kind: str) -> pd.DataFrame:
    """Return one packaged reference table, every code as a string.

    Parameters
    ----------
    kind : {"provinces", "cities", "areas", "streets"}
        ``areas`` are county-level divisions (6-digit codes), ``streets`` town-level ones (9-digit codes).

    Returns
    -------
    pandas.DataFrame
        Columns ``code, name`` plus the parent codes (``provinceCode``, ``cityCode``, ``areaCode``).

    Raises
    ------
    KeyError
        If ``kind`` is not one of the four tables.
    """
    if kind not in _TABLES:
        raise KeyError(f"未知的区划表 {kind!r}，可选：{', '.join(_TABLES)}")
    src = resources.files("cimlib") / "data" / "divisions" / _TABLES[kind]
    with src.open("rb") as fh:
        return pd.read_csv(fh, dtype=str, encoding="utf-8")


def county(code: str) -> dict:
    """Look up a county-level division (区/县/县级市) by its 6-digit GB/T 2260 code.

    Parameters
    ----------
    code : str
        Six-digit county-level code, e.g. ``"421303"`` (随州市曾都区).

    Returns
    -------
    dict
        ``code, name, city_code, city_name, province_code, province_name``.

    Raises
    ------
    ValueError
        If the code is not six digits or is not in the reference table.
    """
    code = str(code).strip()
    if len(code) != 6 or not code.isdigit():
        raise ValueError(f"县级行政区划代码应为 6 位数字：{code!r}")
    areas = reference_table("areas")
    row = areas[areas["code"] == code]
    if row.empty:
        raise ValueError(f"行政区划代码 {code} 不在参考表（GB/T 2260，2022-10-31）中")
    row = row.iloc[0]
    cities = reference_table("cities").set_index("code")["name"]
    provinces = reference_table("provinces").set_index("code")["name"]
    return {
        "code": code,
        "name": row["name"],
        "city_code": row["cityCode"],
        "city_name": cities.get(row["cityCode"], ""),
        "province_code": row["provinceCode"],
        "province_name": provinces.get(row["provinceCode"], ""),
    }


MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
"""Province codes of the 直辖市 (北京, 天津, 上海, 重庆): the province-level unit is the city."""

PLACEHOLDER_CITY_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
"""City-level names of the reference table that stand for no city of their own and are never written in a place
name: the 直辖市's ``市辖区`` and ``县`` groups, and the county-level divisions directly under a province."""


def written_city(info_or_code) -> str:
    """The city level of a county-level division as people write it in a place name.

    The reference table's city level is not always a city: the 直辖市 group their divisions under ``市辖区`` and
    ``县``, and county-level divisions under a province directly (仙桃市, 石河子市) sit under
    ``省直辖县级行政区划`` / ``自治区直辖县级行政区划``. None of these is written, and neither is a city level
    that is the division itself (东莞市, 嘉峪关市: cities without county-level divisions).

    Parameters
    ----------
    info_or_code : dict or str
        A county record of :func:`county` (``name`` and ``city_name`` are read) or a six-digit county-level code.

    Returns
    -------
    str
        ``"随州市"`` for 421303 曾都区; ``""`` for 500101 万州区, 500235 云阳县, 429004 仙桃市 and 441900 东莞市.

    Raises
    ------
    ValueError
        If a code is given and :func:`county` does not know it.
    """
    info = county(info_or_code) if isinstance(info_or_code, str) else info_or_code
    city = info.get("city_name", "") or ""
    if city in PLACEHOLDER_CITY_NAMES or city == info.get("name", ""):
        return ""
    return city


def written_name(info_or_code, *, province: bool = True) -> str:
    """The name of a county-level division as people write it: province, city and county, without the
    reference table's placeholder city levels (see :func:`written_city`).

    Parameters
    ----------
    info_or_code : dict or str
        A county record of :func:`county` (``name``, ``city_name``, ``province_name``) or a six-digit code.
    province : bool, default True
        With False, leave the province-level unit (省, 自治区, or the 直辖市 itself) out.

    Returns
    -------
    str
        ``"湖北省随州市曾都区"`` (421303), ``"重庆市万州区"`` (500101), ``"重庆市云阳县"`` (500235),
        ``"湖北省仙桃市"`` (429004); with ``province=False``: ``"随州市曾都区"``, ``"万州区"``, ``"云阳县"``,
        ``"仙桃市"``.

    Raises
    ------
    ValueError
        If a code is given and :func:`county` does not know it.

    Examples
    --------
    >>> written_name("500101")
    '重庆市万州区'
    >>> written_name(county("421303"), province=False)
    '随州市曾都区'
    """
    info = county(info_or_code) if isinstance(info_or_code, str) else info_or_code
    head = (info.get("province_name", "") or "") if province else ""
    return head + written_city(info) + info["name"]


def streets_of(county_code: str) -> pd.DataFrame:
    """Town-level divisions (街道/镇/乡) of a county, in code order.

    Parameters
    ----------
    county_code : str
        Six-digit county-level code.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (9 digits), ``name``, ``kind`` (街道/镇/乡/其他 from the town digits: 0xx 街道,
        1xx 镇, 2xx–3xx 乡, 4xx–5xx 政企合一 and other 其他).
    """
    streets = reference_table("streets")
    sel = streets.loc[streets["areaCode"] == str(county_code), ["code", "name"]].sort_values("code")
    sel = sel.reset_index(drop=True)
    sel["kind"] = town_kind(sel["code"])
    return sel


def town_kind(codes) -> pd.Series:
    """Kind of town-level unit from the 3 town digits of a 9- or 12-digit 统计用区划代码.

    Parameters
    ----------
    codes : array_like of str
        Codes of at least 9 digits.

    Returns
    -------
    pandas.Series
        ``街道`` (0xx), ``镇`` (1xx), ``乡`` (2xx–3xx) or ``其他`` (4xx–5xx 政企合一 and anything else).
    """
    s = pd.Series(codes, dtype=str)
    d = s.str.slice(6, 7)
    kind = pd.Series("其他", index=s.index, dtype=object)
    kind[d == "0"] = "街道"
    kind[d == "1"] = "镇"
    kind[d.isin(["2", "3"])] = "乡"
    return kind.astype(str)


# ------------------------------------------------------------------------------------------- lookup structures
@lru_cache(maxsize=None)
def _int_code_set(width: int) -> np.ndarray:
    """Sorted integer codes accepted at ``width`` digits: 6 -> counties + ``xxxx00`` cities + ``xx0000``
    provinces; 9 -> towns."""
    if width == 6:
        parts = [reference_table("areas")["code"].astype("int64"),
                 reference_table("cities")["code"].astype("int64") * 100,
                 reference_table("provinces")["code"].astype("int64") * 10_000]
    elif width == 9:
        parts = [reference_table("streets")["code"].astype("int64")]
    else:
        raise ValueError(f"width must be 6 or 9, got {width}")
    return np.unique(np.concatenate([p.to_numpy() for p in parts]))


@lru_cache(maxsize=None)
def _names() -> pd.Series:
    """Name by canonical (short-form) code: 2-digit provinces, 4-digit cities, 6-digit counties, 9-digit towns."""
    frames = [reference_table(k)[["code", "name"]] for k in ("provinces", "cities", "areas", "streets")]
    both = pd.concat(frames, ignore_index=True)
    return pd.Series(both["name"].to_numpy(), index=pd.Index(both["code"].to_numpy(), dtype="str"), dtype="str")


_PADDING = {12: (9, "000"), 9: (6, "000"), 6: (4, "00"), 4: (2, "00")}


def _canonical(s: pd.Series) -> pd.Series:
    """Short form found in the tables for each code, dropping trailing zero groups while not found.

    Codes not found at any form are returned unchanged (NaN for missing input).
    """
    names = _names()
    cur = s.copy()
    found = names.index.get_indexer(cur) >= 0
    for _ in range(len(_PADDING)):
        length = cur.str.len().to_numpy()
        step = np.zeros(len(cur), dtype=bool)
        new = cur.copy()
        for width, (keep, zeros) in _PADDING.items():
            m = ~found & (length == width) & cur.str.endswith(zeros).fillna(False).to_numpy(dtype=bool)
            if m.any():
                new[m] = cur[m].str.slice(0, keep)
                step |= m
        if not step.any():
            break
        cur = new
        found = names.index.get_indexer(cur) >= 0
    return cur.where(found | s.isna().to_numpy(), s)


def _scalar_in(values) -> bool:
    return isinstance(values, str) or values is None or np.ndim(values) == 0


# --------------------------------------------------------------------------------------------- validation
def _division_verdict(codes, allow_padded: bool = False) -> _Verdict:
    v = _Verdict(codes)
    s = v.s
    v.fail(~s.str.fullmatch(r"[0-9]+").fillna(False).to_numpy(dtype=bool), "应为数字")
    n = v.length.copy()
    work = s
    if allow_padded:  # 12-digit xxxxxxxxx000 / xxxxxx000000 and 9-digit xxxxxx000 stand for the higher level
        work = s.copy()
        for width, (keep, zeros) in ((12, (9, "000")), (9, (6, "000"))):
            m = (work.str.len().to_numpy() == width) & work.str.endswith(zeros).fillna(False).to_numpy(dtype=bool)
            if m.any():
                work[m] = work[m].str.slice(0, keep)
        n = work.str.len().fillna(0).to_numpy(dtype=np.int64)
    v.fail(~np.isin(n, [6, 9, 12]), "长度应为6、9或12位")
    rows = v.open_rows()
    w, nr = work.iloc[rows], n[rows]
    ints = pd.to_numeric(w.str.slice(0, 9), errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    six = nr == 6
    v.fail(six & ~np.isin(ints, _int_code_set(6)), "区划代码不在参考表中（GB/T 2260，2022-10-31）", rows)
    v.fail((nr == 9) & ~np.isin(ints, _int_code_set(9)), "乡级区划代码不在参考表中（2022-10-31）", rows)
    twelve = nr == 12
    v.fail(twelve & ~np.isin(ints, _int_code_set(9)), "所属乡级区划代码（前9位）不在参考表中", rows)
    village = pd.to_numeric(w.str.slice(9, 12), errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    v.fail(twelve & ((village < 1) | (village > 599)), "村级代码（第10–12位）应为001–599", rows)
    return v


def division_valid(codes, *, allow_padded: bool = False) -> np.ndarray:
    """Validate administrative division codes against the packaged reference tables, vectorized.

    * 6 digits (GB/T 2260): a county-level code of areas.csv, or a province ``xx0000`` / city ``xxxx00`` code
      whose 2 / 4 leading digits are in provinces.csv / cities.csv;
    * 9 digits (统计用区划代码, town level): a code of streets.csv;
    * 12 digits (统计用区划代码, village level): the 9-digit town prefix is in streets.csv and the 3 village
      digits are 001–599. The village level itself is not in the packaged tables, so an existing town with a
      non-existent village number passes.

    With ``allow_padded=True``, padded higher-level forms are accepted too: 12 digits ending ``000`` are
    checked as their 9-digit town (or, ending ``000000``, 6-digit county) and 9 digits ending ``000`` as their
    6-digit county. By default they are rejected (``421303000000`` is not a village code).

    Returns
    -------
    numpy.ndarray of bool
    """
    return _division_verdict(codes, allow_padded).valid


def division_problems(codes, *, allow_padded: bool = False) -> pd.Series:
    """Reason why each division code is invalid (``""`` when valid); see :func:`division_valid`."""
    return _division_verdict(codes, allow_padded).problems


# ---------------------------------------------------------------------------------------------- navigation
def name_of(codes):
    """Name of each division code, vectorized (2/4/6/9-digit short forms and their zero-padded 6/9/12-digit forms).

    Parameters
    ----------
    codes : str or array_like of str

    Returns
    -------
    str or None, or pandas.Series of str
        For a scalar input, the name or None; otherwise a Series (the input's index for a Series input) with NaN
        where the code is not in the tables (including every non-zero 12-digit village code).
    """
    s = _as_str_series(codes)
    names = _names()
    out = pd.Series(names.reindex(_canonical(s).to_numpy()).to_numpy(), index=s.index, dtype="str")
    if _scalar_in(codes):
        return None if pd.isna(out.iloc[0]) else out.iloc[0]
    return out


def code_of(name: str, parent=None) -> list[str]:
    """Codes of the divisions named exactly ``name`` (any level), optionally within ``parent``.

    Parameters
    ----------
    name : str
        Exact name as in the tables, e.g. ``"曾都区"``, ``"随州市"``, ``"南郊街道"``.
    parent : str, optional
        Code of an enclosing division, short or padded (``"4213"``, ``"421300"``, ``"42"``...).

    Returns
    -------
    list of str
        Short-form codes (2/4/6/9 digits), sorted; empty if none. Names repeat across the country (``城关镇``,
        ``市辖区``), hence a list.
    """
    names = _names()
    codes = names.index[(names == name).to_numpy()]
    if parent is not None:
        p = _canonical(_as_str_series([str(parent)])).iloc[0]
        codes = codes[codes.str.startswith(p) & (codes.str.len() > len(p))]
    return sorted(codes.tolist())


def parent_code(codes):
    """Code of the enclosing division, vectorized and structural (no table lookup).

    12 digits -> 9 (town), 9 -> 6 (county), 6-digit county -> its city ``xxxx00``, city ``xxxx00`` -> province
    ``xx0000``, 4-digit city -> 2-digit province. Padded forms are first reduced (``421303000000`` is the county
    421303, whose parent is ``421300``). Provinces (``xx``, ``xx0000``) have no parent: ``""``.

    Returns
    -------
    str or pandas.Series of str
        NaN (None for a scalar) where the input is not a 2/4/6/9/12-digit code.
    """
    s = _as_str_series(codes)
    cur = s.copy()
    for width, (keep, zeros) in ((12, (9, "000")), (9, (6, "000"))):  # village / town digits 000 = padding
        m = (cur.str.len().to_numpy() == width) & cur.str.endswith(zeros).fillna(False).to_numpy(dtype=bool)
        if m.any():
            cur[m] = cur[m].str.slice(0, keep)
    n = cur.str.len().fillna(0).to_numpy(dtype=np.int64)
    digits = cur.str.fullmatch(r"[0-9]+").fillna(False).to_numpy(dtype=bool)
    out = pd.Series(np.nan, index=s.index, dtype="str")
    prov6 = (n == 6) & cur.str.endswith("0000").fillna(False).to_numpy(dtype=bool)
    city6 = (n == 6) & ~prov6 & cur.str.endswith("00").fillna(False).to_numpy(dtype=bool)
    county6 = (n == 6) & ~prov6 & ~city6
    rules = [((n == 12), cur.str.slice(0, 9)), ((n == 9), cur.str.slice(0, 6)),
             (county6, cur.str.slice(0, 4) + "00"), (city6, cur.str.slice(0, 2) + "0000"),
             (prov6 | (n == 2), pd.Series("", index=s.index, dtype="str")), ((n == 4), cur.str.slice(0, 2))]
    for mask, val in rules:
        m = mask & digits
        out[m] = val[m]
    if _scalar_in(codes):
        return None if pd.isna(out.iloc[0]) else out.iloc[0]
    return out


def children(code: str) -> pd.DataFrame:
    """Divisions directly under ``code`` (short or padded form), in code order.

    Province (``42``, ``420000``) -> its cities (4-digit codes); city (``4213``, ``421300``) -> its counties
    (6 digits); county (6 digits) -> its towns (9 digits). A town has no children here: the village level is not
    packaged. An unknown code has none either.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, name``.
    """
    c = _canonical(_as_str_series([str(code)])).iloc[0]
    table, key = {2: ("cities", "provinceCode"), 4: ("areas", "cityCode"), 6: ("streets", "areaCode")}.get(
        len(c) if c in _names().index else 0, (None, None))
    if table is None:
        return pd.DataFrame({"code": pd.Series([], dtype="str"), "name": pd.Series([], dtype="str")})
    t = reference_table(table)
    return t.loc[t[key] == c, ["code", "name"]].sort_values("code").reset_index(drop=True)
