"""Administrative division codes (GB/T 2260 and 统计用区划代码) from the packaged reference tables.

The tables in ``cimlib/data/divisions/`` are copies of the real codes (data as of 2022-10-31) shipped with the
package, so the installed package never reads files outside itself.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

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
