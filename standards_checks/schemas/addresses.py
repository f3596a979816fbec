"""统一标准地址 (addresses): the element tree of DB42/T 2175-2024 (湖北省统一标准地址规范) and GA address codes."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series
from pandera.typing.geopandas import GeoSeries

from cimlib.codes import address as tree
from standards_checks.api import frame_rule
from standards_checks.schemas._common import Model
from standards_checks.schemas._grid import declare_grid_rules

ON_MAP_TYPES = ("院落", "建筑物", "单元", "户室")
_TREE = ("address_id", "parent_id", "element_type", "level", "full_address", "door_plate", "name", "street_code", "community_code")
"""The fields the address-tree rules read (element, parent, level, names and codes along the chain)."""
_STD = "DB42/T 2175-2024 统一标准地址（要素层级，待核实）"


class Addresses(Model):
    """Columns of the standard-address element table."""

    address_id: Series[str]
    parent_id: Series[str] = pa.Field(nullable=True)
    element_type: Series[str]
    level: Series[int]
    address_type: Series[str]
    name: Series[str] = pa.Field(nullable=True)
    full_address: Series[str] = pa.Field(nullable=True)
    street_code: Series[str] = pa.Field(nullable=True)
    community_code: Series[str] = pa.Field(nullable=True)
    geometry: GeoSeries = pa.Field(nullable=True)


@frame_rule("addresses", "ADR-001", severity="error", standard="一标三实上图：院落/建筑物/单元/户室地址应有坐标",
            message="地址缺少坐标（未上图）", column="geometry", per_record=True)
def missing_coordinates(frame, ctx) -> pd.Series:
    g = frame.geometry
    return frame["address_type"].isin(ON_MAP_TYPES) & (g.isna() | g.is_empty)


@frame_rule("addresses", "ADR-002", severity="error", standard="GB/T 2260 / 统计用区划代码：地址位于其所属街道内",
            message="地址坐标不在其街道代码所指的街道（乡镇）范围内", column="street_code", needs=("admin_areas",),
            per_record=True)
def outside_street(frame, ctx) -> pd.Series:
    onmap = frame["address_type"].isin(ON_MAP_TYPES)
    return ctx.outside_claimed_area(frame, "street_code", "街道") & onmap


@frame_rule("addresses", "ADR-003", severity="error", standard=f"{_STD}：每个要素有且仅有一个上级要素",
            message="上级地址要素不存在", column="parent_id", reads=_TREE)
def parent_missing(frame, ctx) -> pd.Series:
    return tree.parent_missing(frame)


@frame_rule("addresses", "ADR-004", severity="error", standard=f"{_STD}：要素类型代码", message="地址要素类型代码无效",
            column="element_type", provisional=True, per_record=True)
def element_type_unknown(frame, ctx) -> pd.Series:
    return tree.unknown_element_type(frame)


@frame_rule("addresses", "ADR-005", severity="error", standard=f"{_STD}：上级要素层级高于本要素", message="上级要素层级不正确",
            column="parent_id", provisional=True, reads=_TREE)
def parent_level(frame, ctx) -> pd.Series:
    return tree.parent_level_invalid(frame) & ~tree.parent_missing(frame)


@frame_rule("addresses", "ADR-006", severity="error", standard=f"{_STD}：户室挂接于建筑物（直接或经单元/楼层）",
            message="户室地址未挂接到建筑物", column="parent_id", provisional=True, reads=_TREE)
def room_not_under_building(frame, ctx) -> pd.Series:
    return tree.room_not_under_building(frame) & ~tree.parent_missing(frame)


@frame_rule("addresses", "ADR-007", severity="warning", standard=f"{_STD}：完整地址为上级地址与本要素名称的连接",
            message="完整地址与要素链不一致", column="full_address", provisional=True, reads=_TREE)
def full_address_chain(frame, ctx) -> pd.Series:
    return tree.full_address_mismatch(frame) & ~tree.parent_missing(frame)


@frame_rule("addresses", "ADR-008", severity="error", standard=f"{_STD}：要素的区划代码与上级一致",
            message="地址要素的街道/社区代码与上级要素不一致", column="community_code", provisional=True, reads=_TREE)
def admin_code_mismatch(frame, ctx) -> pd.Series:
    return tree.admin_code_mismatch(frame) & ~tree.parent_missing(frame)


GCJ02_MATCH = 0.25
"""A point is GCJ-02-shifted when its offset from its building differs from the GCJ-02 shift there by less than this
share of the shift (the shift is 300-700 m in China; a building is tens of metres)."""


@frame_rule("addresses", "ADR-009", severity="error", standard="CGCS2000 坐标：互联网地图（GCJ-02，火星坐标）坐标须纠正后入库",
            message="地址点相对其所属建筑的偏移与 GCJ-02 加偏一致（疑似取自互联网地图，请用 cimlib.geo.gcj02_to_wgs84 纠正）",
            column="geometry", needs=("buildings",), per_record=True)
def gcj02_shifted(frame, ctx) -> pd.Series:
    import numpy as np
    import shapely

    from cimlib.geo import gcj02_to_wgs84, inside_china
    from cimlib.lookup import index_in

    out = pd.Series(False, index=frame.index)
    if "building_id" not in frame:
        return out
    buildings = ctx.frame("buildings")
    g = frame.geometry.to_numpy()
    pos = index_in(frame["building_id"], buildings["building_id"])
    ok = (pos >= 0) & inside_china(g) & (shapely.get_type_id(g) == 0)
    if not ok.any():
        return out
    foot = buildings.geometry.to_numpy()[pos[ok]]
    has = inside_china(foot)
    idx = np.flatnonzero(ok)[has]
    pts, foot = g[idx], foot[has]
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    wx, wy = gcj02_to_wgs84(x, y)                     # where the point would be if it was GCJ-02
    shift = np.hypot(x - wx, y - wy)
    away = shapely.distance(pts, foot)                # degrees: only compared with the shift, same units
    back = shapely.distance(shapely.points(wx, wy), foot)
    out.iloc[idx] = (away > GCJ02_MATCH * shift) & (back < GCJ02_MATCH * shift)
    return out


# 北斗网格码 (optional grid_code): the point must lie in the code's cell; only places are expected to carry one
declare_grid_rules("addresses", "ADR-010", "ADR-011", "ADR-012", scope=("address_type", ON_MAP_TYPES))
