"""工程建设项目 (projects): the project list behind 重庆's 数字化建造 and 建筑工业化和信息化融合 targets.

One row per project: 项目编号 ``project_id`` (unique: SYS-005 on the catalog ``id_column``), the national 项目代码
``project_code`` (全国投资项目在线审批监管平台, ``YYYY-XXXXXX-XX-XX-XXXXXX``), type, building area, three 是/否 flags
(数字化建造试点, 采用数字化建造模式, 建筑工业化和信息化融合项目), the approval, start and completion dates, the street and
community codes and a point. The values are read by :mod:`cimlib.codes.projects`, the same functions the metrics
(:mod:`cimlib.metrics.projects`) use, so a value a rule rejects is a value the metrics cannot use.

PRJ-001 is **provisional**: the code's structure is checked (24 characters, dashes, digits, year); the code lists
of its 2-digit segments and the 校验码 of GB/T 40058-2021 are not (see :mod:`cimlib.codes.projects`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series
from pandera.typing.geopandas import GeoSeries

from cimlib.catalog import CatalogError
from cimlib.codes.projects import (BUILDING_TYPE, PROJECT_TYPES, division_in_scope, project_code_division,
                                   project_code_valid, read_areas, read_dates, read_flags)
from standards_checks.api import frame_rule
from standards_checks.schemas._common import Model

FLAG_COLUMNS = {"digital_pilot": "是否数字化建造试点", "digital_construction": "是否采用数字化建造模式",
                "integrated": "是否建筑工业化和信息化融合项目"}
"""The 是/否 fields of a project and their Chinese names."""

DATE_COLUMNS = {"approval_date": "批准日期", "start_date": "开工日期", "completion_date": "竣工日期"}

_CODE_STD = "GB/T 40058-2021 全国固定资产投资项目代码编码规范 §4 项目代码结构（24位，段的代码表与校验码待核实）"


class Projects(Model):
    """Columns of the project list (dates, flags and area are read by :mod:`cimlib.codes.projects`, whatever their
    type: text as departments export it, or date/boolean/number values)."""

    project_id: Series[str]
    project_code: Series[str]
    name: Series[str] = pa.Field(nullable=True)
    project_type: Series[str] = pa.Field(isin=list(PROJECT_TYPES))
    building_area_m2: Series[Any] = pa.Field(nullable=True)
    digital_pilot: Series[Any] = pa.Field(nullable=True)
    digital_construction: Series[Any] = pa.Field(nullable=True)
    integrated: Series[Any] = pa.Field(nullable=True)
    approval_date: Series[Any]
    start_date: Series[Any] = pa.Field(nullable=True)
    street_code: Series[str] = pa.Field(nullable=True)
    community_code: Series[str] = pa.Field(nullable=True)
    geometry: GeoSeries = pa.Field(nullable=True)


@frame_rule("projects", "PRJ-001", severity="error", standard=f"{_CODE_STD}；《固定资产投资项目代码管理规范》（发改投资〔2020〕1439号）",
            message="项目代码（project_code）格式错误：应为24位“年份-地区代码-行业代码-类型代码-流水号”"
                    "（如 2021-421303-47-03-012345）", column="project_code", provisional=True)
def code_format(frame, ctx) -> pd.Series:
    code = frame["project_code"]
    return pd.Series(code.notna().to_numpy() & ~project_code_valid(code), index=frame.index)


def _scope_codes(ctx) -> list[str]:
    """The county (or city) the catalog covers: its ``city_code``, else the 区 codes of its admin layer."""
    code = getattr(ctx.catalog, "city_code", None)
    if code:
        return [str(code)]
    admin = ctx.frame("admin_areas")  # CatalogError when absent: the rule cannot run (SYS-006)
    counties = admin.loc[admin["level"] == "区", "area_code"].dropna().astype(str).unique().tolist()
    if not counties:
        raise CatalogError("数据目录没有 city_code，行政区划图层也没有区县级记录，无法判断项目代码的地区代码")
    return counties


@frame_rule("projects", "PRJ-002", severity="error",
            standard="GB/T 40058-2021 §4.3 地区代码（GB/T 2260 行政区划代码，赋码机关所在地）：项目位于本区县（市）",
            message="项目代码（project_code）的地区代码（第6–11位）不是本数据目录所属区县或其所在市的行政区划代码",
            column="project_code")
def code_division(frame, ctx) -> pd.Series:
    division = project_code_division(frame["project_code"])
    well_formed = division.notna().to_numpy()
    inside = division_in_scope(division.to_numpy(dtype=object), _scope_codes(ctx))
    return pd.Series(well_formed & ~inside, index=frame.index)


@frame_rule("projects", "PRJ-003", severity="error",
            standard="工程建设项目审批流程（国办发〔2019〕11号）：立项批准→施工许可（开工）→竣工验收，日期先后有序",
            message="项目日期无法识别或先后颠倒：应为 批准日期（approval_date）≤ 开工日期（start_date）≤ 竣工日期（completion_date），"
                    "日期写作 YYYY-MM-DD")
def dates_in_order(frame, ctx) -> pd.Series:
    parsed = {}
    bad = np.zeros(len(frame), dtype=bool)
    for col in DATE_COLUMNS:
        if col not in frame:
            parsed[col] = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
            continue
        value, present, ok = read_dates(frame[col])
        bad |= present & ~ok
        parsed[col] = value
    a, s, c = parsed["approval_date"], parsed["start_date"], parsed["completion_date"]
    with np.errstate(invalid="ignore"):
        bad |= ~np.isnat(a) & ~np.isnat(s) & (s < a)
        bad |= ~np.isnat(s) & ~np.isnat(c) & (c < s)
        bad |= ~np.isnat(a) & ~np.isnat(c) & (c < a)
    return pd.Series(bad, index=frame.index)


@frame_rule("projects", "PRJ-004", severity="error",
            standard="工程建设项目数据字段约束：建筑面积（平方米）为非负数值，房屋建筑工程须有大于 0 的建筑面积",
            message="建筑面积（building_area_m2）无效：应为不小于 0 的数值，房屋建筑项目应大于 0", column="building_area_m2")
def area_valid(frame, ctx) -> pd.Series:
    area, present, ok = read_areas(frame["building_area_m2"])
    building = (frame["project_type"].astype("string") == BUILDING_TYPE).fillna(False).to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        bad = (present & ~ok) | (ok & (area < 0)) | (building & ~(ok & (area > 0)))
    return pd.Series(bad, index=frame.index)


@frame_rule("projects", "PRJ-005", severity="error", standard="数据交换约定：是否类字段取值为 是/否（true/false、1/0）",
            message="是否类字段无法识别：是否数字化建造试点（digital_pilot）、是否采用数字化建造模式（digital_construction）、"
                    "是否建筑工业化和信息化融合项目（integrated）应为 是/否、true/false 或 1/0，不能为空")
def flags_readable(frame, ctx) -> pd.Series:
    bad = np.zeros(len(frame), dtype=bool)
    for col in FLAG_COLUMNS:
        if col not in frame:  # a missing field is SYS-002's finding
            continue
        _, ok = read_flags(frame[col])
        bad |= ~ok
    return pd.Series(bad, index=frame.index)
