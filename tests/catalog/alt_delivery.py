"""A held-out delivery of the sample city: the same datasets as *other* departments deliver them.

``cim demo --delivery`` (:mod:`cimlib.demo._delivery`) writes the sample city the way one set of departments keeps
it. ``cim catalog init`` must not be built for those names and layouts only: this module writes the same city again,
from the plain city's catalog, with the conventions of another county's departments, so that the onboarding path can
be judged on a delivery its inference was not tuned on (issue 13's held-out acceptance). It lives with the tests, not
in ``cimlib``, on purpose.

===============================  ====================================================================================
``2024年9月报送/区自然资源和规划分局/``
                                 ``基础地理数据.gpkg``: a GeoPackage with two layers, ``LDM`` (buildings; pinyin
                                 initials ``LDID``, ``LDBM``, ``JZGD``, ``DSCS``, ``SSJDDM`` ... plus ``BSM``,
                                 ``SJLY``, ``GXSJ``, ``BZ``) and ``道路中心线`` (roads, Chinese names), both in the
                                 CGCS2000 3° Gauss-Krüger zone of the county **without** zone prefix (EPSG:4534–4554)
``2024年9月报送/区民政局/xzqh/``    ``XZQH_2024.shp``: admin areas, UTF-8 ``.dbf`` **with** ``.cpg``, pinyin field
                                 names (``XZQDM``, ``XZQMC``, ``JB`` ...), 级别 written 县级/乡镇级/村级, CGCS2000 6°
                                 zone **with** zone prefix (EPSG:4491–4501)
``2024年9月报送/公安分局/``        ``人口信息表_202409.xlsx`` (a 填表说明 sheet first; the data sheet has a title row and
                                 a two-row header with merged group cells: ``基本信息_身份证号码`` ...; 性别 as 男/女,
                                 人口类型 as 户籍/流动, a 现住址 *and* a 户籍地址, 民族) and
                                 ``BZDZ_标准地址_20240930.txt`` (tab-separated UTF-8, 横坐标/纵坐标 in the 3° zone
                                 without prefix, no 经纬度)
``2024年9月报送/区住房和城乡建设局/``  ``fangwu.csv``: houses, UTF-8 with BOM, ``;``-separated, pinyin headers (``FWBH``,
                                 ``FWDM``, ``BDCDYH``, ``MPDZ`` ...), columns shuffled
``2024年9月报送/区市场监督管理局/``  ``法人单位库.xlsx``: a 说明 sheet (a field dictionary, a table that is not data) and
                                 the 法人单位 sheet (社会信用代码, 企业名称, 法人, 注册地址, 从业人员期末人数, a 合计 row
                                 at the foot)
``2024年9月报送/区城市管理执法局/``  ``物联感知设备台账.xlsx``: devices with 经度/纬度 and the device type written as
                                 its Chinese name (coded back with ``values``)
``2024年9月报送/数据说明.txt``     a note in prose (not a table)
===============================  ====================================================================================

Lossless for admin areas, buildings, houses and addresses (every record and every value the rules read; codes as
text; floats at full precision; nulls as nulls), so that checks on the delivered files find what they find on the
plain city. Coordinates pass through the projected zones and back (nanometre differences).

The truth has the format of ``OUT/truth/delivery.json`` (see ``/work/notes/CONTRACT.md``), with ``path`` relative to
the delivery folder given to :func:`write_alt_delivery` (the held-out delivery lives outside the city folder).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from cimlib.codes.divisions import written_city, written_name

__all__ = ["write_alt_delivery", "truth_catalog", "zones", "PERIOD"]

PERIOD = "2024-09"
ROOT = "2024年9月报送"



def zones(lon: float) -> dict[str, str]:
    """The CRSs the held-out deliveries use at a longitude (the county's): CGCS2000 3° and 6° Gauss-Krüger zones
    with and without zone prefix, and the Xi'an 1980 3° zone.

    Parameters
    ----------
    lon : float
        Longitude of the county (degrees).

    Returns
    -------
    dict
        ``gk3`` (no prefix, EPSG:4534–4554), ``gk3_prefix`` (EPSG:4513–4533), ``gk6`` (no prefix, EPSG:4502–4512),
        ``gk6_prefix`` (EPSG:4491–4501) and ``xian80_gk3`` (EPSG:2370–2390), e.g. for 113.4°E: 4547, 4526, 4508, 4497
        and 2383.
    """
    cm3 = int(np.clip(round(lon / 3.0) * 3, 75, 135))
    zone6 = int(np.clip(np.floor(lon / 6.0) + 1, 13, 23))
    return {"gk3": f"EPSG:{4534 + (cm3 - 75) // 3}", "gk3_prefix": f"EPSG:{4513 + (cm3 - 75) // 3}",
            "gk6": f"EPSG:{4502 + zone6 - 13}", "gk6_prefix": f"EPSG:{4491 + zone6 - 13}",
            "xian80_gk3": f"EPSG:{2370 + (cm3 - 75) // 3}"}


# --------------------------------------------------------------------------------------------- truth records


def _file(path: str, dataset: str, fmt: str, *, layer=None, period=None, crs=None, encoding=None, options=None,
          id_column: str, columns: dict, values=None, rows: int) -> dict:
    """One ``files`` record of the truth (the keys of ``delivery.json``, in its order)."""
    return {"path": path, "layer": layer, "format": fmt, "dataset": dataset, "schema": dataset, "period": period,
            "crs": crs, "encoding": encoding, "options": options or {}, "id_column": id_column,
            "columns": {s: f for s, f in columns.items() if f is not None}, "values": values or {},
            "unmapped": [s for s, f in columns.items() if f is None], "rows": int(rows)}


def _delivered(df: pd.DataFrame, columns: dict, order: list[str]) -> pd.DataFrame:
    """The frame renamed to the department's columns (``None``: a column made up here), in ``order``."""
    assert sorted(order) == sorted(columns), "column order must list every delivered column once"
    out = df.rename(columns={f: s for s, f in columns.items() if f is not None})
    return out[order]


def _text(values) -> pd.Series:
    """Values as object text with ``None`` for missing (Excel/CSV cells)."""
    s = pd.Series(np.asarray(values, dtype=object))
    return s.where(s.notna(), None)


# --------------------------------------------------------------------------------------------- writers


def _write_xlsx(path: Path, sheets: list[tuple[str, list[list]]], merges: dict[str, list[str]] | None = None) -> None:
    """A workbook from rows of Python values (``None``: empty cell), merged ranges per sheet."""
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook(write_only=True)
    for name, rows in sheets:
        ws = book.create_sheet(name)
        for rng in (merges or {}).get(name, []):
            ws.merged_cells.add(rng)
        for row in rows:
            ws.append(row)
    book.save(path)


def _rows(frame: pd.DataFrame) -> list[list]:
    """Rows of plain Python values (``None`` for missing, ``int`` for integer columns, dates as ``date``)."""
    cols = []
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_integer_dtype(s.dtype):
            cols.append([int(v) for v in s.to_numpy()])
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            cols.append([None if pd.isna(v) else v.date() for v in s])
        else:
            values = s.astype(object).to_numpy(dtype=object)
            cols.append([None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v
                         for v in values])
    return [list(r) for r in zip(*cols)]


# --------------------------------------------------------------------------------------------- datasets


_BUILDINGS = {"BSM": None, "LDID": "building_id", "LDBM": "building_code", "LDMC": "name", "GHYT": "use",
              "DSCS": "floors", "JZGD": "height", "JGNF": "year_built", "SSJDDM": "street_code",
              "SSSQDM": "community_code", "MXLB": "model_level", "XJCC": "lod", "BDWGM": "grid_code", "SJLY": None,
              "GXSJ": None, "BZ": None}
_BUILDINGS_ORDER = ["BSM", "LDID", "LDMC", "DSCS", "JZGD", "LDBM", "GHYT", "JGNF", "SSSQDM", "SSJDDM", "XJCC",
                    "MXLB", "BDWGM", "SJLY", "GXSJ", "BZ"]

_ROADS = {"道路编号": "road_id", "路名": "name", "道路等级": "road_class", "道路宽度": "width_m", "养护单位": None}
_ROADS_ORDER = ["道路编号", "路名", "道路等级", "道路宽度", "养护单位"]


def _gpkg(root: Path, buildings, roads, crs: str) -> list[dict]:
    import geopandas as gpd
    import pyogrio

    rel = f"{ROOT}/区自然资源和规划分局/基础地理数据.gpkg"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    b = pd.DataFrame(buildings.drop(columns="geometry"))
    b["BSM"] = np.arange(1, len(b) + 1, dtype="int64")
    b["SJLY"] = "2023年度城市三维白模更新"
    b["GXSJ"] = "2024-09-30"
    b["BZ"] = pd.Series([None] * len(b), dtype=object)
    b = _delivered(b, _BUILDINGS, _BUILDINGS_ORDER)
    gb = gpd.GeoDataFrame(b, geometry=buildings.geometry.to_numpy(), crs=buildings.crs).to_crs(crs)
    pyogrio.write_dataframe(gb, path, layer="LDM", driver="GPKG")
    r = pd.DataFrame(roads.drop(columns="geometry"))
    r["养护单位"] = "区市政设施养护中心"
    r = _delivered(r, _ROADS, _ROADS_ORDER)
    gr = gpd.GeoDataFrame(r, geometry=roads.geometry.to_numpy(), crs=roads.crs).to_crs(crs)
    pyogrio.write_dataframe(gr, path, layer="道路中心线", driver="GPKG", append=True)
    return [
        _file(rel, "buildings", "gpkg", layer="LDM", crs=crs, options={"layer": "LDM"},
              id_column="building_id", columns=_BUILDINGS, rows=len(gb)),
        _file(rel, "roads", "gpkg", layer="道路中心线", crs=crs, options={"layer": "道路中心线"},
              id_column="road_id", columns=_ROADS, rows=len(gr)),
    ]


_ADMIN = {"XZQDM": "area_code", "XZQMC": "name", "JB": "level", "SJXZQDM": "parent_code", "QHLX": "kind",
          "SFZHSQ": "smart_community", "MJ": None, "BZ": None}
_ADMIN_ORDER = ["XZQDM", "XZQMC", "JB", "SJXZQDM", "QHLX", "SFZHSQ", "MJ", "BZ"]
_ADMIN_LEVELS = {"县级": "区", "乡镇级": "街道", "村级": "社区"}


def _admin(root: Path, areas, crs: str) -> dict:
    import geopandas as gpd
    import pyogrio
    import shapely

    proj = areas.to_crs(crs)
    df = pd.DataFrame(areas.drop(columns="geometry"))
    inverse = {v: k for k, v in _ADMIN_LEVELS.items()}
    df["level"] = df["level"].map(inverse)
    assert df["level"].notna().all(), "an admin level the held-out delivery does not code"
    df["MJ"] = np.round(shapely.area(proj.geometry.to_numpy()) / 1e6, 4)
    df["BZ"] = pd.Series([None] * len(df), dtype=object)
    df = _delivered(df, _ADMIN, _ADMIN_ORDER)
    gdf = gpd.GeoDataFrame(df, geometry=proj.geometry.to_numpy(), crs=crs)
    rel = f"{ROOT}/区民政局/xzqh/XZQH_2024.shp"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding="UTF-8")
    assert path.with_suffix(".cpg").exists()
    return _file(rel, "admin_areas", "shapefile", crs=crs, encoding="utf-8", id_column="area_code",
                 columns=_ADMIN, values={"level": dict(_ADMIN_LEVELS)}, rows=len(gdf))


_ADDRESSES = {"序号": None, "标准地址编码": "address_id", "父级地址编码": "parent_id", "地址要素类型": "element_type",
              "地址级别": "level", "地址类别": "address_type", "要素名称": "name", "地址全称": "full_address",
              "乡镇（街道）编码": "street_code", "村（社区）编码": "community_code", "所在建筑物ID": "building_id",
              "门楼牌号": "door_plate", "县级行政区划代码": "county_code", "横坐标": None, "纵坐标": None,
              "北斗网格位置码": "grid_code", "采集人": None, "采集时间": None, "备注": None}
_ADDRESSES_ORDER = ["序号", "标准地址编码", "地址全称", "要素名称", "地址要素类型", "地址类别", "地址级别", "父级地址编码",
                    "县级行政区划代码", "乡镇（街道）编码", "村（社区）编码", "所在建筑物ID", "门楼牌号", "横坐标", "纵坐标",
                    "北斗网格位置码", "采集人", "采集时间", "备注"]
_ADDRESS_TEXT = ["标准地址编码", "父级地址编码", "地址要素类型", "乡镇（街道）编码", "村（社区）编码", "所在建筑物ID",
                 "门楼牌号", "县级行政区划代码", "北斗网格位置码"]


def _addresses(root: Path, a, rng: np.random.Generator, crs: str) -> dict:
    import shapely

    df = pd.DataFrame(a.drop(columns=["geometry", "lon", "lat"]))
    g = a.to_crs(crs).geometry.to_numpy()
    has = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    x = np.full(len(a), np.nan)
    y = np.full(len(a), np.nan)
    x[has], y[has] = shapely.get_x(g[has]), shapely.get_y(g[has])
    df["横坐标"], df["纵坐标"] = x, y
    df["序号"] = np.arange(1, len(df) + 1, dtype="int64")
    df["采集人"] = np.array(["王建国", "李红梅", "张伟", "陈静"], dtype=object)[rng.integers(0, 4, len(df))]
    df["采集时间"] = "2024-09-" + pd.Series(rng.integers(1, 31, len(df))).astype(str).str.zfill(2)
    df["备注"] = pd.Series([None] * len(df), dtype=object)
    df = _delivered(df, _ADDRESSES, _ADDRESSES_ORDER)
    rel = f"{ROOT}/公安分局/BZDZ_标准地址_20240930.txt"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, sep="\t", index=False, encoding="utf-8", lineterminator="\r\n")
    options = {"sep": "\t", "x": "横坐标", "y": "纵坐标", "dtype": _ADDRESS_TEXT}
    return _file(rel, "addresses", "csv", period=PERIOD, crs=crs, encoding="utf-8", options=options,
                 id_column="address_id", columns=_ADDRESSES, rows=len(df))


_HOUSES = {"FWBH": "house_id", "FWDM": "house_code", "BDCDYH": "bdcdyh", "LDID": "building_id",
           "LDBM": "building_code", "SZC": "floor", "FH": "room_no", "JZMJ": "area_m2", "FWYT": "use",
           "JDDM": "street_code", "SQDM": "community_code", "DZBM": "address_id", "MPDZ": "address_text",
           "BDWGM": "grid_code", "LRR": None, "GXSJ": None, "BZ": None}
_HOUSES_ORDER = ["FWBH", "MPDZ", "DZBM", "BDCDYH", "FWDM", "LDBM", "LDID", "FH", "SZC", "JZMJ", "FWYT", "SQDM",
                 "JDDM", "BDWGM", "LRR", "GXSJ", "BZ"]
_HOUSE_TEXT = ["FWBH", "DZBM", "BDCDYH", "FWDM", "LDBM", "LDID", "FH", "SQDM", "JDDM", "BDWGM"]


def _houses(root: Path, h: pd.DataFrame, full: pd.Series, rng: np.random.Generator) -> dict:
    df = h.copy()
    df["address_text"] = full.reindex(h["address_id"].to_numpy()).to_numpy(dtype=object)
    df["LRR"] = np.array(["刘洋", "赵敏", "孙立"], dtype=object)[rng.integers(0, 3, len(df))]
    df["GXSJ"] = "2024-09-28 17:30:00"
    df["BZ"] = pd.Series([None] * len(df), dtype=object)
    df = _delivered(df, _HOUSES, _HOUSES_ORDER)
    rel = f"{ROOT}/区住房和城乡建设局/fangwu.csv"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    options = {"sep": ";", "dtype": _HOUSE_TEXT}
    return _file(rel, "houses", "csv", period=PERIOD, encoding="utf-8-sig", options=options, id_column="house_id",
                 columns=_HOUSES, rows=len(df))


_PERSON_HEADER = [  # (group, name, field); group None: one name over both header rows
    (None, "序号", None), (None, "人口编号", "person_id"),
    ("基本信息", "姓名", "name"), ("基本信息", "性别", "gender"), ("基本信息", "民族", None),
    ("基本信息", "出生日期", "birth_date"), ("基本信息", "身份证号码", "id_number"),
    ("联系方式", "手机号码", "phone"),
    ("居住信息", "人口类型", "registration"), ("居住信息", "现住址", "address_text"), ("居住信息", "户籍地址", None),
    ("居住信息", "所属社区", None),
    ("登记信息", "登记单位", None), ("登记信息", "录入人", None), ("登记信息", "更新时间", None), ("登记信息", "备注", None),
]
_REGISTRATION = {"户籍": "户籍人口", "流动": "流动人口"}
_NATIONS = ["汉族", "汉族", "汉族", "汉族", "汉族", "汉族", "回族", "土家族", "苗族", "满族"]
_ELSEWHERE = ["河南省信阳市浉河区", "湖北省孝感市孝南区", "湖北省襄阳市枣阳市", "湖北省武汉市洪山区", "安徽省六安市金安区"]


def _letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(65 + rem) + out
    return out


def _persons(root: Path, p: pd.DataFrame, full: pd.Series, areas, info: dict, rng: np.random.Generator) -> dict:
    n = len(p)
    address = _text(full.reindex(p["address_id"].to_numpy()).to_numpy(dtype=object))
    # the form people write: without 省 for a third of the records, 暂无 where there is no address
    short = address.str.replace("^" + re.escape(info["province_name"]), "", regex=True)
    address = address.where(rng.random(n) < 0.66, short).where(address.notna(), "暂无")
    registration = p["registration"].map({v: k for k, v in _REGISTRATION.items()})
    assert registration.notna().all(), "a registration value the held-out delivery does not code"
    elsewhere = (pd.Series(np.array(_ELSEWHERE, dtype=object)[rng.integers(0, len(_ELSEWHERE), n)])
                 + pd.Series(rng.integers(1, 300, n)).astype(str) + "号")
    hukou = _text(np.where(registration.to_numpy() == "户籍", address.to_numpy(dtype=object),
                           elsewhere.to_numpy(dtype=object)))
    names = pd.Series(areas["name"].to_numpy(), index=areas["area_code"].to_numpy())
    names = names[~names.index.duplicated()]
    community = _text(names.reindex(p["community_code"].to_numpy()).to_numpy(dtype=object))
    street = _text(names.reindex(p["street_code"].to_numpy()).to_numpy(dtype=object))
    values = {
        "序号": pd.Series(np.arange(1, n + 1, dtype="int64")),
        "人口编号": p["person_id"], "姓名": p["name"], "性别": p["gender"],
        "民族": pd.Series(np.array(_NATIONS, dtype=object)[rng.integers(0, len(_NATIONS), n)]),
        "出生日期": pd.to_datetime(p["birth_date"]), "身份证号码": p["id_number"], "手机号码": p["phone"],
        "人口类型": registration, "现住址": address, "户籍地址": hukou, "所属社区": community,
        "登记单位": street.str.replace(r"(街道|镇|乡)$", "", regex=True) + "派出所",
        "录入人": pd.Series(np.array(["民警甲", "民警乙", "辅警丙"], dtype=object)[rng.integers(0, 3, n)]),
        "更新时间": pd.Series(["2024-09-30"] * n, dtype=object),
        "备注": pd.Series([None] * n, dtype=object),
    }
    frame = pd.DataFrame({name: pd.Series(values[name]).reset_index(drop=True) for _, name, _ in _PERSON_HEADER})
    width = len(_PERSON_HEADER)
    title = f"{info['name']}实有人口信息表（截至2024年9月30日）"
    upper, lower, merges = [], [], [f"A1:{_letter(width - 1)}1"]
    k = 0
    while k < width:
        group = _PERSON_HEADER[k][0]
        if group is None:
            upper.append(_PERSON_HEADER[k][1])
            lower.append(None)
            merges.append(f"{_letter(k)}2:{_letter(k)}3")
            k += 1
            continue
        span = 1
        while k + span < width and _PERSON_HEADER[k + span][0] == group:
            span += 1
        upper.extend([group] + [None] * (span - 1))
        lower.extend(h[1] for h in _PERSON_HEADER[k:k + span])
        if span > 1:
            merges.append(f"{_letter(k)}2:{_letter(k + span - 1)}2")
        k += span
    notes = [["填表说明"], ["1. 本表由各派出所按月报送，统计截至每月最后一日。"],
             ["2. 身份证号码填写18位公民身份号码，末位X大写。"], ["3. 人口类型：户籍、流动。"],
             ["4. 现住址填写实际居住地址，须具体到门牌、楼栋、单元、户室。"]]
    rel = f"{ROOT}/公安分局/人口信息表_202409.xlsx"
    sheet = "人口信息"
    _write_xlsx(root / rel, [("填表说明", notes), (sheet, [[title] + [None] * (width - 1), upper, lower] + _rows(frame))],
                merges={sheet: merges})
    columns = {(name if group is None else f"{group}_{name}"): field for group, name, field in _PERSON_HEADER}
    text = ["人口编号", "基本信息_身份证号码", "联系方式_手机号码"]
    return _file(rel, "persons", "xlsx", layer=sheet, period=PERIOD,
                 options={"sheet": sheet, "header": [1, 2], "dtype": text}, id_column="person_id",
                 columns=columns, values={"registration": dict(_REGISTRATION)}, rows=n)


_UNITS = {"序号": None, "单位编码": "unit_id", "社会信用代码": "uscc", "企业名称": "name", "法人": "legal_rep",
          "联系电话": "phone", "行业门类": "industry", "从业人员期末人数": "employees", "注册地址": "address_text",
          "成立日期": None, "经营状态": None, "备注": None}
_UNITS_ORDER = ["序号", "社会信用代码", "企业名称", "单位编码", "法人", "注册地址", "行业门类", "从业人员期末人数",
                "联系电话", "成立日期", "经营状态", "备注"]


def _units(root: Path, u: pd.DataFrame, full: pd.Series, rng: np.random.Generator) -> dict:
    n = len(u)
    df = u.copy()
    df["address_text"] = _text(full.reindex(u["address_id"].to_numpy()).to_numpy(dtype=object)).fillna("不详")
    df["序号"] = np.arange(1, n + 1, dtype="int64")
    start = np.datetime64("2005-01-01")
    df["成立日期"] = pd.to_datetime(start + rng.integers(0, 7000, n).astype("timedelta64[D]"))
    df["经营状态"] = np.array(["存续", "存续", "存续", "在业", "吊销"], dtype=object)[rng.integers(0, 5, n)]
    df["备注"] = pd.Series([None] * n, dtype=object)
    df = _delivered(df, _UNITS, _UNITS_ORDER)
    rows = _rows(df)
    total = [None] * len(_UNITS_ORDER)
    total[0] = "合计"
    total[_UNITS_ORDER.index("从业人员期末人数")] = int(df["从业人员期末人数"].sum())
    dictionary = [["字段名称", "字段说明", "数据类型", "是否必填"],
                  ["序号", "顺序号", "整数", "否"],
                  ["社会信用代码", "18位统一社会信用代码（GB 32100-2015）", "文本", "是"],
                  ["企业名称", "营业执照上的名称", "文本", "是"],
                  ["单位编码", "本库内部编码", "文本", "是"],
                  ["法人", "法定代表人或负责人姓名", "文本", "是"],
                  ["注册地址", "营业执照登记的住所", "文本", "是"],
                  ["行业门类", "国民经济行业分类门类", "文本", "否"],
                  ["从业人员期末人数", "报告期末从业人员数", "整数", "否"],
                  ["联系电话", "手机或固定电话", "文本", "否"],
                  ["成立日期", "营业执照成立日期", "日期", "否"],
                  ["经营状态", "存续、在业、吊销、注销", "文本", "否"]]
    rel = f"{ROOT}/区市场监督管理局/法人单位库.xlsx"
    sheet = "法人单位"
    _write_xlsx(root / rel, [("说明", dictionary), (sheet, [list(df.columns)] + rows + [total])])
    return _file(rel, "units", "xlsx", layer=sheet, period=PERIOD,
                 options={"sheet": sheet, "dtype": ["单位编码", "社会信用代码", "联系电话"]}, id_column="unit_id",
                 columns=_UNITS, rows=n)


_DEVICES = {"设备编码": "device_id", "设备类型": "device_type", "设备类型名称": None, "监测指标": "metric",
            "计量单位": "unit", "采集频率（秒）": "interval_s", "所在道路编号": "road_id", "所属街道编码": "street_code",
            "安装日期": "install_date", "权属单位": "owner", "经度": "lon", "纬度": "lat", "运行状态": None}
_DEVICES_ORDER = ["设备编码", "设备类型", "监测指标", "计量单位", "采集频率（秒）", "经度", "纬度", "所属街道编码",
                  "所在道路编号", "权属单位", "安装日期", "运行状态"]


def _devices(root: Path, d, rng: np.random.Generator) -> dict:
    from standards_checks.schemas.devices import DEVICE_CATEGORIES

    df = pd.DataFrame(d.drop(columns=["geometry", "type_name_zh"]))
    df["device_type"] = df["device_type"].map(DEVICE_CATEGORIES)
    df["运行状态"] = np.array(["在线", "在线", "在线", "离线"], dtype=object)[rng.integers(0, 4, len(df))]
    columns = {s: f for s, f in _DEVICES.items() if s != "设备类型名称"}
    df = _delivered(df, columns, _DEVICES_ORDER)
    rel = f"{ROOT}/区城市管理执法局/物联感知设备台账.xlsx"
    sheet = "设备台账"
    _write_xlsx(root / rel, [(sheet, [list(df.columns)] + _rows(df))])
    present = sorted(set(d["device_type"]))
    values = {"device_type": {DEVICE_CATEGORIES[c]: c for c in present}}
    return _file(rel, "devices", "xlsx", layer=sheet, crs="EPSG:4490",
                 options={"sheet": sheet, "x": "经度", "y": "纬度", "dtype": ["设备编码", "所属街道编码", "所在道路编号"]},
                 id_column="device_id", columns=columns, values=values, rows=len(df))


# --------------------------------------------------------------------------------------------- variant B
#
# A second set of conventions, flat numbered files in one folder as a county office sends them: an admin GeoJSON
# with 级别 codes 3/4/5, an ArcGIS-style GBK shapefile (``.cpg`` GBK, ``Shape_Area``) in Xi'an 1980 3° CM 114E,
# a GBK comma CSV whose ``X`` is the northing and ``Y`` the easting (surveying convention) in the 3° zone **with**
# prefix, 实有人口 as Excel's "Unicode 文本" (UTF-16, tab), 实有房屋 in Excel under a title row and a 填报单位/填报日期
# row, 实有单位 as UTF-8 CSV under a title line; an Excel lock file and a zip beside them.

B_ROOT = "报送数据"

_B_ADMIN = {"区划代码": "area_code", "区划名称": "name", "区划层级": "level", "上级代码": "parent_code",
            "区划类别": "kind", "是否智慧社区": "smart_community", "备注": None}
_B_ADMIN_ORDER = ["区划名称", "区划代码", "上级代码", "区划层级", "区划类别", "是否智慧社区", "备注"]
_B_ADMIN_LEVELS = {"3": "区", "4": "街道", "5": "社区"}


def _b_admin(root: Path, areas) -> dict:
    import geopandas as gpd
    import pyogrio

    df = pd.DataFrame(areas.drop(columns="geometry"))
    df["level"] = df["level"].map({v: int(k) for k, v in _B_ADMIN_LEVELS.items()})
    assert df["level"].notna().all()
    df["level"] = df["level"].astype("int64")
    df["备注"] = pd.Series([None] * len(df), dtype=object)
    df = _delivered(df, _B_ADMIN, _B_ADMIN_ORDER)
    gdf = gpd.GeoDataFrame(df, geometry=areas.geometry.to_numpy(), crs=areas.crs)
    rel = f"{B_ROOT}/01-行政区划.geojson"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gdf, root / rel, driver="GeoJSON", layer="行政区划",
                            layer_options={"COORDINATE_PRECISION": 15})
    return _file(rel, "admin_areas", "geojson", crs="EPSG:4490", encoding="utf-8", id_column="area_code",
                 columns=_B_ADMIN, values={"level": dict(_B_ADMIN_LEVELS)}, rows=len(gdf))


_B_BUILDINGS = {"OBJECTID": None, "建筑物标识": "building_id", "建筑物统一": "building_code", "建筑物名称": "name",
                "建筑物用途": "use", "总层数": "floors", "高度（米）": "height", "竣工年份": "year_built",
                "乡镇代码": "street_code", "村居代码": "community_code", "模型类型": "model_level",
                "细节层次": "lod", "北斗网格码": "grid_code", "Shape_Leng": None, "Shape_Area": None}
_B_BUILDINGS_ORDER = ["OBJECTID", "建筑物统一", "建筑物标识", "建筑物名称", "建筑物用途", "竣工年份", "总层数", "高度（米）",
                      "村居代码", "乡镇代码", "模型类型", "细节层次", "北斗网格码", "Shape_Leng", "Shape_Area"]


def _b_buildings(root: Path, b, crs: str) -> dict:
    import geopandas as gpd
    import pyogrio
    import shapely

    proj = b.to_crs(crs)
    df = pd.DataFrame(b.drop(columns="geometry"))
    df["OBJECTID"] = np.arange(1, len(df) + 1, dtype="int64")
    g = proj.geometry.to_numpy()
    df["Shape_Leng"] = shapely.length(g)
    df["Shape_Area"] = shapely.area(g)
    df = _delivered(df, _B_BUILDINGS, _B_BUILDINGS_ORDER)
    for name in df.columns:
        assert len(name.encode("gbk")) <= 10, name
    gdf = gpd.GeoDataFrame(df, geometry=g, crs=crs)
    rel = f"{B_ROOT}/02_建筑物/JZW.shp"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding="GBK")
    path.with_suffix(".cpg").write_text("GBK", encoding="ascii")  # as QGIS writes it
    return _file(rel, "buildings", "shapefile", crs=crs, encoding="gbk", id_column="building_id",
                 columns=_B_BUILDINGS, rows=len(gdf))


_B_ADDRESSES = {"地址ID": "address_id", "上级ID": "parent_id", "要素类型代码": "element_type", "地址层级": "level",
                "地址类型名称": "address_type", "地址要素名称": "name", "标准地址全称": "full_address",
                "街道编码": "street_code", "社区编码": "community_code", "建筑物ID": "building_id",
                "门牌号码": "door_plate", "区县编码": "county_code", "X": None, "Y": None, "网格码": "grid_code",
                "状态": None}
_B_ADDRESSES_ORDER = ["地址ID", "上级ID", "地址层级", "要素类型代码", "地址类型名称", "地址要素名称", "标准地址全称",
                      "区县编码", "街道编码", "社区编码", "建筑物ID", "门牌号码", "X", "Y", "网格码", "状态"]
_B_ADDRESS_TEXT = ["地址ID", "上级ID", "要素类型代码", "街道编码", "社区编码", "建筑物ID", "门牌号码", "区县编码", "网格码"]


def _b_addresses(root: Path, a, crs: str) -> dict:
    import shapely

    df = pd.DataFrame(a.drop(columns=["geometry", "lon", "lat"]))
    g = a.to_crs(crs).geometry.to_numpy()
    has = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    east = np.full(len(a), np.nan)
    north = np.full(len(a), np.nan)
    east[has], north[has] = shapely.get_x(g[has]), shapely.get_y(g[has])
    df["X"], df["Y"] = north, east  # surveying convention: X is the northing, Y the easting
    df["状态"] = "现势"
    df = _delivered(df, _B_ADDRESSES, _B_ADDRESSES_ORDER)
    rel = f"{B_ROOT}/03 标准地址.csv"
    path = root / rel
    df.to_csv(path, index=False, encoding="gbk", quoting=1, lineterminator="\r\n")  # every field quoted
    options = {"encoding": "gbk", "x": "Y", "y": "X", "dtype": _B_ADDRESS_TEXT}
    return _file(rel, "addresses", "csv", period=PERIOD, crs=crs, encoding="gbk", options=options,
                 id_column="address_id", columns=_B_ADDRESSES, rows=len(df))


_B_PERSONS = {"人口ID": "person_id", "姓名": "name", "性别代码": "gender", "民族代码": None, "出生日期": "birth_date",
              "公民身份证号": "id_number", "联系手机": "phone", "户籍类型": "registration", "居住地详址": "address_text",
              "户籍地详址": None, "所属派出所": None, "采集时间": None, "采集人员": None}
_B_PERSONS_ORDER = ["人口ID", "公民身份证号", "姓名", "性别代码", "民族代码", "出生日期", "户籍类型", "户籍地详址",
                    "居住地详址", "联系手机", "所属派出所", "采集时间", "采集人员"]
_B_GENDER = {"1": "男", "2": "女"}
_B_REGISTRATION = {"1": "户籍人口", "2": "流动人口"}


def _b_persons(root: Path, p: pd.DataFrame, full: pd.Series, areas, info: dict, rng: np.random.Generator) -> dict:
    n = len(p)
    df = p.copy()
    df["gender"] = p["gender"].map({v: k for k, v in _B_GENDER.items()})
    df["registration"] = p["registration"].map({v: k for k, v in _B_REGISTRATION.items()})
    assert df["gender"].notna().all() and df["registration"].notna().all()
    df["birth_date"] = pd.to_datetime(p["birth_date"]).dt.strftime("%Y%m%d")
    address = _text(full.reindex(p["address_id"].to_numpy()).to_numpy(dtype=object))
    head = "^" + re.escape(info["province_name"] + written_city(info))
    df["address_text"] = address.str.replace(head, "", regex=True).fillna("不详").to_numpy(dtype=object)
    df["民族代码"] = np.array(["01", "01", "01", "01", "01", "03", "15", "06"], dtype=object)[rng.integers(0, 8, n)]
    hukou = (pd.Series(np.array(_ELSEWHERE, dtype=object)[rng.integers(0, len(_ELSEWHERE), n)])
             + pd.Series(rng.integers(1, 90, n)).astype(str) + "组")
    df["户籍地详址"] = np.where(df["registration"].to_numpy() == "1", df["address_text"].to_numpy(dtype=object),
                               hukou.to_numpy(dtype=object))
    names = pd.Series(areas["name"].to_numpy(), index=areas["area_code"].to_numpy())
    names = names[~names.index.duplicated()]
    street = _text(names.reindex(p["street_code"].to_numpy()).to_numpy(dtype=object)).fillna("")
    df["所属派出所"] = (street.str.replace(r"(街道|镇|乡)$", "", regex=True) + "派出所").to_numpy(dtype=object)
    seconds = rng.integers(0, 30 * 86400, n).astype("timedelta64[s]")
    df["采集时间"] = pd.Series(np.datetime64("2024-09-01T08:00:00") + seconds).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    df["采集人员"] = np.array(["周斌", "吴芳", "郑凯"], dtype=object)[rng.integers(0, 3, n)]
    df = _delivered(df, _B_PERSONS, _B_PERSONS_ORDER)
    rel = f"{B_ROOT}/04实有人口.txt"
    df.to_csv(root / rel, sep="\t", index=False, encoding="utf-16", lineterminator="\r\n")  # Excel "Unicode 文本"
    options = {"sep": "\t", "dtype": ["人口ID", "公民身份证号", "性别代码", "民族代码", "出生日期", "户籍类型", "联系手机"]}
    return _file(rel, "persons", "csv", period=PERIOD, encoding="utf-16", options=options, id_column="person_id",
                 columns=_B_PERSONS, values={"gender": dict(_B_GENDER), "registration": dict(_B_REGISTRATION)},
                 rows=n)


_B_HOUSES = {"房屋标识码": "house_id", "房屋代码": "house_code", "不动产单元代码": "bdcdyh", "建筑物标识": "building_id",
             "建筑物统一编码": "building_code", "所在层": "floor", "室号": "room_no", "建筑面积（㎡）": "area_m2",
             "规划用途": "use", "乡镇代码": "street_code", "村居代码": "community_code", "标准地址ID": "address_id",
             "房屋坐落": "address_text", "北斗码": "grid_code", "产权人": None, "不动产权证号": None, "房屋状态": None}
_B_HOUSES_ORDER = ["房屋标识码", "房屋坐落", "产权人", "不动产权证号", "不动产单元代码", "房屋代码", "规划用途",
                   "建筑面积（㎡）", "所在层", "室号", "建筑物标识", "建筑物统一编码", "乡镇代码", "村居代码", "标准地址ID",
                   "北斗码", "房屋状态"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"


def _b_houses(root: Path, h: pd.DataFrame, full: pd.Series, info: dict, rng: np.random.Generator) -> dict:
    n = len(h)
    df = h.copy()
    address = _text(full.reindex(h["address_id"].to_numpy()).to_numpy(dtype=object))
    df["address_text"] = address.str.replace("^" + re.escape(info["province_name"]), "", regex=True).to_numpy(dtype=object)
    s = np.array(list(_SURNAMES), dtype=object)[rng.integers(0, len(_SURNAMES), n)]
    g = np.array(list(_GIVEN), dtype=object)[rng.integers(0, len(_GIVEN), (n, 2))]
    df["产权人"] = s + g[:, 0] + np.where(rng.random(n) < 0.5, g[:, 1], "")
    df["不动产权证号"] = ("（" + pd.Series(rng.integers(2010, 2024, n)).astype(str) + f"）{written_city(info) or info['province_name']}不动产权第"
                        + pd.Series(rng.integers(1, 9_999_999, n)).astype(str).str.zfill(7) + "号").to_numpy()
    df["房屋状态"] = "正常"
    df = _delivered(df, _B_HOUSES, _B_HOUSES_ORDER)
    width = len(df.columns)
    rows = [["实有房屋信息登记表"] + [None] * (width - 1),
            ["填报单位：区住房和城乡建设局"] + [None] * (width - 3) + ["填报日期：2024年9月30日", None],
            list(df.columns)] + _rows(df)
    rel = f"{B_ROOT}/05实有房屋.xlsx"
    _write_xlsx(root / rel, [("Sheet1", rows)], merges={"Sheet1": [f"A1:{_letter(width - 1)}1"]})
    text = ["房屋标识码", "不动产单元代码", "房屋代码", "室号", "建筑物标识", "建筑物统一编码", "乡镇代码", "村居代码", "标准地址ID",
            "北斗码"]
    return _file(rel, "houses", "xlsx", layer="Sheet1", period=PERIOD,
                 options={"sheet": "Sheet1", "header": 2, "dtype": text}, id_column="house_id", columns=_B_HOUSES,
                 rows=n)


_B_UNITS = {"市场主体ID": "unit_id", "名称": "name", "信用代码": "uscc", "负责人": "legal_rep", "住所": "address_text",
            "所属行业门类": "industry", "从业人员": "employees", "企业联系电话": "phone", "注册资本（万元）": None,
            "成立日期": None, "登记机关": None, "企业类型": None}
_B_UNITS_ORDER = ["市场主体ID", "信用代码", "名称", "企业类型", "负责人", "注册资本（万元）", "成立日期", "住所",
                  "所属行业门类", "从业人员", "企业联系电话", "登记机关"]


def _b_units(root: Path, u: pd.DataFrame, full: pd.Series, info: dict, rng: np.random.Generator) -> dict:
    n = len(u)
    df = u.copy()
    df["address_text"] = _text(full.reindex(u["address_id"].to_numpy()).to_numpy(dtype=object)).to_numpy(dtype=object)
    df["注册资本（万元）"] = np.round(rng.gamma(1.2, 200.0, n), 2)
    start = np.datetime64("2003-01-01")
    df["成立日期"] = pd.Series(start + rng.integers(0, 7500, n).astype("timedelta64[D]")).dt.strftime("%Y/%m/%d").to_numpy()
    df["登记机关"] = f"{written_name(info, province=False)}市场监督管理局"
    kinds = np.array(["有限责任公司(自然人独资)", "个体工商户", "有限责任公司(自然人投资或控股)", "农民专业合作社"],
                     dtype=object)
    df["企业类型"] = kinds[rng.integers(0, len(kinds), n)]
    df = _delivered(df, _B_UNITS, _B_UNITS_ORDER)
    rel = f"{B_ROOT}/06实有单位.csv"
    path = root / rel
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(f"{info['name']}实有单位名录（2024年9月）\r\n")
        df.to_csv(fh, index=False, lineterminator="\r\n")
    return _file(rel, "units", "csv", period=PERIOD, encoding="utf-8",
                 options={"header": 1, "dtype": ["市场主体ID", "信用代码", "企业联系电话"]}, id_column="unit_id",
                 columns=_B_UNITS, rows=n)


def _variant_b(out: Path, src: dict, full: pd.Series, info: dict, z: dict, rng: np.random.Generator) -> list[dict]:
    import zipfile

    (out / B_ROOT).mkdir(parents=True, exist_ok=True)
    files = [_b_admin(out, src["admin_areas"]), _b_buildings(out, src["buildings"], z["xian80_gk3"]),
             _b_addresses(out, src["addresses"], z["gk3_prefix"]),
             _b_persons(out, src["persons"], full, src["admin_areas"], info, rng),
             _b_houses(out, src["houses"], full, info, rng), _b_units(out, src["units"], full, info, rng)]
    lock = out / B_ROOT / "~$05实有房屋.xlsx"  # Excel's owner file while the workbook is open
    lock.write_bytes(b"\x08\xe7\x8e\x8b\xe5\xb7\xa5" + b"\x00" * 155)
    with zipfile.ZipFile(out / B_ROOT / "原始数据备份.zip", "w") as z:
        z.writestr("readme.txt", "backup")
    return files


# --------------------------------------------------------------------------------------------- variant C
#
# Office and vendor-platform habits: header cells broken over lines and spaced out as on a printed form (``公民身份\n号码``,
# ``姓　名``), a blank row between the title and the header, a workbook with the default empty Sheet2/Sheet3, gender
# as 男性/女性; a platform export with camelCase English headers (``houseId``, ``buildArea``); lower-case pinyin
# initials from a database (``dzbm``, ``bzdz``, ``jd``/``wd``); a GeoJSON with ``中文(拼音)`` headers; a GBK shapefile
# without ``.prj`` in the 6° zone without prefix (the CRS must come from the coordinates and the city).

C_ROOT = "数据汇交"

_C_ADMIN = {"区划编码": "area_code", "区划名称": "name", "级别": "level", "上级编码": "parent_code", "类型": "kind",
            "智慧社区": "smart_community", "面积": None}
_C_ADMIN_ORDER = ["区划编码", "区划名称", "级别", "类型", "上级编码", "智慧社区", "面积"]


def _c_admin(root: Path, areas, crs: str) -> dict:
    import geopandas as gpd
    import pyogrio
    import shapely

    proj = areas.to_crs(crs)
    df = pd.DataFrame(areas.drop(columns="geometry"))
    df["面积"] = np.round(shapely.area(proj.geometry.to_numpy()), 1)
    df = _delivered(df, _C_ADMIN, _C_ADMIN_ORDER)
    gdf = gpd.GeoDataFrame(df, geometry=proj.geometry.to_numpy(), crs=crs)
    rel = f"{C_ROOT}/民政/行政区划界线.shp"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding="GBK")
    for sidecar in (".prj", ".cpg"):  # an export that lost its projection file, GBK without code page
        path.with_suffix(sidecar).unlink(missing_ok=True)
    return _file(rel, "admin_areas", "shapefile", crs=crs, encoding="gbk", options={"encoding": "gbk"},
                 id_column="area_code", columns=_C_ADMIN, rows=len(gdf))


_C_BUILDINGS = {"建筑物编号(JZWBH)": "building_id", "建筑物编码(JZWBM)": "building_code", "名称(MC)": "name",
                "用途(YT)": "use", "层数(CS)": "floors", "高度(GD)": "height", "建成年份(JCNF)": "year_built",
                "街道(JD)": "street_code", "社区(SQ)": "community_code", "模型类型(MXLX)": "model_level",
                "LOD": "lod", "北斗网格码(BDWGM)": "grid_code", "数据来源(SJLY)": None}
_C_BUILDINGS_ORDER = ["建筑物编号(JZWBH)", "建筑物编码(JZWBM)", "名称(MC)", "用途(YT)", "层数(CS)", "高度(GD)",
                      "建成年份(JCNF)", "街道(JD)", "社区(SQ)", "模型类型(MXLX)", "LOD", "北斗网格码(BDWGM)",
                      "数据来源(SJLY)"]


def _c_buildings(root: Path, b) -> dict:
    import geopandas as gpd
    import pyogrio

    df = pd.DataFrame(b.drop(columns="geometry"))
    df["数据来源(SJLY)"] = "倾斜摄影单体化"
    df = _delivered(df, _C_BUILDINGS, _C_BUILDINGS_ORDER)
    gdf = gpd.GeoDataFrame(df, geometry=b.geometry.to_numpy(), crs=b.crs)
    rel = f"{C_ROOT}/自规/建筑物.geojson"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gdf, root / rel, driver="GeoJSON", layer="建筑物", layer_options={"COORDINATE_PRECISION": 15})
    return _file(rel, "buildings", "geojson", crs="EPSG:4490", encoding="utf-8", id_column="building_id",
                 columns=_C_BUILDINGS, rows=len(gdf))


_C_ADDRESSES = {"dzbm": "address_id", "sjdzbm": "parent_id", "yslx": "element_type", "cj": "level",
                "dzlx": "address_type", "dzmc": "name", "bzdz": "full_address", "jddm": "street_code",
                "sqdm": "community_code", "jzwbh": "building_id", "mph": "door_plate", "qxdm": "county_code",
                "jd": "lon", "wd": "lat", "bdwgm": "grid_code", "cjsj": None, "zt": None}
_C_ADDRESSES_ORDER = ["dzbm", "sjdzbm", "yslx", "cj", "dzlx", "dzmc", "bzdz", "qxdm", "jddm", "sqdm", "jzwbh", "mph",
                      "jd", "wd", "bdwgm", "cjsj", "zt"]


def _c_addresses(root: Path, a, rng: np.random.Generator) -> dict:
    df = pd.DataFrame(a.drop(columns="geometry"))
    seconds = rng.integers(0, 200 * 86400, len(df)).astype("timedelta64[s]")
    df["cjsj"] = pd.Series(np.datetime64("2024-03-01T08:00:00") + seconds).to_numpy()
    df["zt"] = "1"
    df = _delivered(df, _C_ADDRESSES, _C_ADDRESSES_ORDER)
    rel = f"{C_ROOT}/公安/bzdz.xlsx"
    _write_xlsx(root / rel, [("bzdz", [list(df.columns)] + _rows(df))])
    text = ["dzbm", "sjdzbm", "yslx", "jddm", "sqdm", "jzwbh", "mph", "qxdm", "bdwgm"]
    return _file(rel, "addresses", "xlsx", layer="bzdz", period=PERIOD, crs="EPSG:4490",
                 options={"sheet": "bzdz", "x": "jd", "y": "wd", "dtype": text}, id_column="address_id",
                 columns=_C_ADDRESSES, rows=len(df))


_C_PERSONS = {"序　号": None, "人员\n编号": "person_id", "姓　名": "name", "性　别": "gender", "出生\n日期": "birth_date",
              "公民身份\n号码": "id_number", "联系\n电话": "phone", "现居住\n地址": "address_text",
              "户籍\n地址": None, "备　注": None}
_C_PERSONS_ORDER = list(_C_PERSONS)
_C_GENDER = {"男性": "男", "女性": "女"}


def _c_persons(root: Path, p: pd.DataFrame, full: pd.Series, county_name: str) -> dict:
    n = len(p)
    df = p.copy()
    df["gender"] = p["gender"].map({v: k for k, v in _C_GENDER.items()})
    df["birth_date"] = pd.to_datetime(p["birth_date"])
    address = _text(full.reindex(p["address_id"].to_numpy()).to_numpy(dtype=object))
    df["address_text"] = address.fillna("").to_numpy(dtype=object)
    df["户籍\n地址"] = df["address_text"]
    df["序　号"] = np.arange(1, n + 1, dtype="int64")
    df["备　注"] = pd.Series([None] * n, dtype=object)
    df = _delivered(df, _C_PERSONS, _C_PERSONS_ORDER)
    width = len(df.columns)
    rows = [[f"{county_name}实有人口登记表"] + [None] * (width - 1), [None] * width, list(df.columns)] + _rows(df)
    rel = f"{C_ROOT}/公安/实有人口登记表.xlsx"
    _write_xlsx(root / rel, [("Sheet1", rows), ("Sheet2", []), ("Sheet3", [])],
                merges={"Sheet1": [f"A1:{_letter(width - 1)}1"]})
    return _file(rel, "persons", "xlsx", layer="Sheet1", period=PERIOD,
                 options={"sheet": "Sheet1", "header": 2, "dtype": ["人员\n编号", "公民身份\n号码", "联系\n电话"]},
                 id_column="person_id", columns=_C_PERSONS, values={"gender": dict(_C_GENDER)}, rows=n)


_C_HOUSES = {"id": None, "houseId": "house_id", "houseCode": "house_code", "bdcdyh": "bdcdyh",
             "buildingId": "building_id", "buildingCode": "building_code", "floorNo": "floor", "roomNo": "room_no",
             "buildArea": "area_m2", "houseUse": "use", "streetCode": "street_code",
             "communityCode": "community_code", "addressId": "address_id", "houseAddress": "address_text",
             "gridCode": "grid_code", "createBy": None, "createTime": None, "updateTime": None, "delFlag": None}
_C_HOUSES_ORDER = list(_C_HOUSES)


def _c_houses(root: Path, h: pd.DataFrame, full: pd.Series, rng: np.random.Generator) -> dict:
    n = len(h)
    df = h.copy()
    df["address_text"] = _text(full.reindex(h["address_id"].to_numpy()).to_numpy(dtype=object)).to_numpy(dtype=object)
    df["id"] = np.arange(100001, 100001 + n, dtype="int64")
    df["createBy"] = "admin"
    df["createTime"] = "2023-11-02 09:15:00"
    df["updateTime"] = "2024-09-29 18:00:00"
    df["delFlag"] = 0
    df = _delivered(df, _C_HOUSES, _C_HOUSES_ORDER)
    rel = f"{C_ROOT}/住建/t_house_info.csv"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    text = ["houseId", "houseCode", "bdcdyh", "buildingId", "buildingCode", "roomNo", "streetCode", "communityCode",
            "addressId", "gridCode"]
    return _file(rel, "houses", "csv", period=PERIOD, encoding="utf-8", options={"dtype": text}, id_column="house_id",
                 columns=_C_HOUSES, rows=n)


_C_UNITS = {"单位\n编号": "unit_id", "单 位 名 称": "name", "统一社会\n信用代码": "uscc", "法定代表人\n（负责人）": "legal_rep",
            "联系\n电话": "phone", "行　业": "industry", "从业\n人数": "employees", "单位\n地址": "address_text",
            "备　注": None}
_C_UNITS_ORDER = list(_C_UNITS)


def _c_units(root: Path, u: pd.DataFrame, full: pd.Series) -> dict:
    df = u.copy()
    df["address_text"] = _text(full.reindex(u["address_id"].to_numpy()).to_numpy(dtype=object)).to_numpy(dtype=object)
    df["备　注"] = pd.Series([None] * len(df), dtype=object)
    df = _delivered(df, _C_UNITS, _C_UNITS_ORDER)
    rel = f"{C_ROOT}/市场监管/实有单位.xlsx"
    _write_xlsx(root / rel, [("Sheet1", [list(df.columns)] + _rows(df)), ("Sheet2", []), ("Sheet3", [])])
    return _file(rel, "units", "xlsx", layer="Sheet1", period=PERIOD,
                 options={"sheet": "Sheet1", "dtype": ["单位\n编号", "统一社会\n信用代码", "联系\n电话"]},
                 id_column="unit_id", columns=_C_UNITS, rows=len(df))


def _variant_c(out: Path, src: dict, full: pd.Series, info: dict, z: dict, rng: np.random.Generator) -> list[dict]:
    (out / C_ROOT).mkdir(parents=True, exist_ok=True)
    return [_c_admin(out, src["admin_areas"], z["gk6"]), _c_buildings(out, src["buildings"]),
            _c_addresses(out, src["addresses"], rng), _c_persons(out, src["persons"], full, info["name"]),
            _c_houses(out, src["houses"], full, rng), _c_units(out, src["units"], full)]


# --------------------------------------------------------------------------------------------- entry point


def write_alt_delivery(city: Path, out: Path, *, variant: str = "A", seed: int = 0) -> dict:
    """Write a held-out delivery of a built sample city into ``out``; return its truth.

    Parameters
    ----------
    city : pathlib.Path
        Sample city folder (``data_catalog.yaml`` of ``cim demo``).
    out : pathlib.Path
        Delivery folder to write (created; must not hold anything else init would find).
    variant : {"A", "B", "C"}, default "A"
        Which departments' conventions (see the module docstring and the variant B notes).
    seed : int, default 0
        Seed of the made-up columns (录入人, 成立日期, ...).

    Returns
    -------
    dict
        Truth in the format of ``truth/delivery.json``, ``path`` relative to ``out``; also written to
        ``out.parent / (out.name + ".truth.json")`` (outside the delivery folder).
    """
    import shapely

    from cimlib.catalog import Catalog
    from cimlib.codes.divisions import county

    if variant not in ("A", "B", "C"):
        raise ValueError(f"unknown variant {variant!r}")
    city, out = Path(city), Path(out)
    catalog = Catalog.load(city / "data_catalog.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = {name: catalog.read(name) for name in ("admin_areas", "buildings", "roads", "addresses", "persons",
                                                     "houses", "units", "devices")}
    info = county(catalog.city_code)
    rng = np.random.default_rng([seed, 1913, ord(variant)])
    full = pd.Series(src["addresses"]["full_address"].to_numpy(dtype=object),
                     index=src["addresses"]["address_id"].to_numpy(dtype=object))
    full = full[~full.index.duplicated()]
    areas = src["admin_areas"]
    z = zones(float(shapely.centroid(areas.loc[areas["level"] == "区"].geometry.union_all()).x))
    if variant == "B":
        files = _variant_b(out, src, full, info, z, rng)
    elif variant == "C":
        files = _variant_c(out, src, full, info, z, rng)
    else:
        files = _gpkg(out, src["buildings"], src["roads"], z["gk3"])
        files.append(_admin(out, areas, z["gk6_prefix"]))
        files.append(_addresses(out, src["addresses"], rng, z["gk3"]))
        files.append(_houses(out, src["houses"], full, rng))
        files.append(_persons(out, src["persons"], full, areas, info, rng))
        files.append(_units(out, src["units"], full, rng))
        files.append(_devices(out, src["devices"], rng))
        note = out / ROOT / "数据说明.txt"
        note.write_text("本次报送为2024年9月各部门数据，坐标系统一采用2000国家大地坐标系（CGCS2000）。\n"
                        "人口、法人单位数据涉及个人信息，请按规定使用，不得外传。\n", encoding="utf-8")
    truth = {"city": catalog.city_code, "seed": int(seed), "scale": None, "variant": variant, "files": files}
    (out.parent / f"{out.name}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n",
                                                       encoding="utf-8")
    return truth


_TITLES = {"admin_areas": ("行政区划", "时空基础", "公开", "每年"), "buildings": ("建筑白模", "时空基础", "内部", "季度"),
           "roads": ("道路中心线", "时空基础", "公开", "季度"), "addresses": ("标准地址", "公共专题", "内部", "每月"),
           "persons": ("实有人口", "公共专题", "敏感", "每月"), "houses": ("实有房屋", "公共专题", "内部", "每月"),
           "units": ("实有单位", "公共专题", "内部", "每月"), "devices": ("物联感知设备", "物联感知", "内部", "每日")}


def truth_catalog(truth: dict, out: Path) -> str:
    """YAML text of the correct catalog of the held-out delivery (the truth's mapping), paths absolute.

    The control of the held-out test: checks with this catalog must already find what they find on the plain city,
    so that a difference with the scaffolded catalog is the inference's, not the fixture's.

    Parameters
    ----------
    truth : dict
        What :func:`write_alt_delivery` returned.
    out : pathlib.Path
        The delivery folder it was written to.

    Returns
    -------
    str
    """
    import yaml

    entries = []
    for f in truth["files"]:
        title, layer, cls, cycle = _TITLES[f["dataset"]]
        e = {"name": f["dataset"], "title_zh": title, "layer": layer, "format": f["format"],
             "path": str((Path(out) / f["path"]).resolve())}
        if f["crs"]:
            e["crs"] = f["crs"]
        e.update({"id_column": f["id_column"], "schema": f["schema"], "owner": Path(f["path"]).parts[-2],
                  "classification": cls, "update_cycle": cycle, "columns": f["columns"]})
        if f["values"]:
            e["values"] = f["values"]
        if f["options"]:
            e["options"] = f["options"]
        entries.append(e)
    doc = {"version": 1, "title_zh": "留出交付（真值目录）", "city_code": truth["city"], "crs": "EPSG:4490",
           "entries": entries}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)


if __name__ == "__main__":  # python tests/catalog/alt_delivery.py CITY OUT [A|B]
    import sys

    t = write_alt_delivery(Path(sys.argv[1]), Path(sys.argv[2]), variant=sys.argv[3] if len(sys.argv) > 3 else "A")
    print(json.dumps([{k: f[k] for k in ("path", "layer", "schema", "rows")} for f in t["files"]], ensure_ascii=False))
