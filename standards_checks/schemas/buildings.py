"""建筑白模 (buildings): CIM2 框架模型, LOD1 extruded footprints (CIM 基础平台技术导则; CJJ/T 315-2022)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import shapely
from pandera.typing import Series
from pandera.typing.geopandas import GeoSeries

from standards_checks.api import column_rule, frame_rule
from standards_checks.schemas._common import Model, repeated
from standards_checks.schemas._grid import declare_grid_rules

FLOOR_HEIGHT_RANGE = (2.2, 8.0)  # metres per floor: outside this, height and floors disagree
HEIGHT_RANGE = (2.0, 600.0)
OVERLAP_TOLERANCE_M2 = 1.0  # two footprints sharing more than this area overlap


class Buildings(Model):
    """Columns of the building white model; rules below."""

    building_id: Series[str]
    building_code: Series[str] = pa.Field(nullable=True)
    community_code: Series[str] = pa.Field(nullable=True)
    floors: Series[int] = pa.Field(nullable=True)
    height: Series[float] = pa.Field(nullable=True)
    geometry: GeoSeries

    @column_rule("buildings", "height", "BLD-002", severity="error", standard="CIM 基础平台技术导则 白模：高度属性必填且合理",
                 message=f"建筑高度超出合理范围（{HEIGHT_RANGE[0]}–{HEIGHT_RANGE[1]} 米）")
    def height_range(cls, s: Series[float]) -> Series[bool]:
        return s.between(*HEIGHT_RANGE)


@frame_rule("buildings", "BLD-001", severity="error", standard="CIM 基础平台技术导则 白模：高度属性必填（M）",
            message="建筑高度缺失", column="height")
def height_missing(frame, ctx) -> pd.Series:
    return frame["height"].isna()


@frame_rule("buildings", "BLD-003", severity="warning", standard="CIM 基础平台技术导则 白模：高度与层数一致",
            message=f"建筑高度与层数不一致（层高应在 {FLOOR_HEIGHT_RANGE[0]}–{FLOOR_HEIGHT_RANGE[1]} 米）", column="height")
def height_floors(frame, ctx) -> pd.Series:
    per_floor = frame["height"] / frame["floors"].where(frame["floors"] > 0)
    return per_floor.notna() & ~per_floor.between(*FLOOR_HEIGHT_RANGE)


@frame_rule("buildings", "BLD-004", severity="error", standard="编码赋码：建筑物编码唯一", message="建筑物编码重复",
            column="building_code")
def code_duplicate(frame, ctx) -> pd.Series:
    return repeated(frame, "building_code")


@frame_rule("buildings", "BLD-005", severity="error", standard="CJJ/T 315-2022 §4 拓扑：建筑底面不重叠",
            message=f"建筑底面与其他建筑重叠（重叠面积超过 {OVERLAP_TOLERANCE_M2} 平方米）", column="geometry")
def footprints_overlap(frame, ctx) -> pd.Series:
    g = ctx.projected(frame).geometry.to_numpy()
    ok = shapely.is_valid(g) & ~shapely.is_empty(g) & ~shapely.is_missing(g)
    idx = np.flatnonzero(ok)
    tree = shapely.STRtree(g[idx])
    left, right = tree.query(g[idx], predicate="intersects")
    pair = left < right
    left, right = idx[left[pair]], idx[right[pair]]
    area = shapely.area(shapely.intersection(g[left], g[right]))
    hit = area > OVERLAP_TOLERANCE_M2
    fails = np.zeros(len(g), dtype=bool)
    fails[left[hit]] = True
    fails[right[hit]] = True
    return pd.Series(fails, index=frame.index)


@frame_rule("buildings", "BLD-006", severity="error", standard="GB/T 2260 / 统计用区划代码：记录位于其所属社区内",
            message="建筑不在其社区代码所指的社区范围内", column="community_code", needs=("admin_areas",))
def outside_community(frame, ctx) -> pd.Series:
    return ctx.outside_claimed_area(frame, "community_code", "社区")


# 北斗网格码 (optional grid_code): the code's cell must meet the footprint (standards_checks.schemas._grid)
declare_grid_rules("buildings", "BLD-008", "BLD-009", "BLD-010", location="footprint")
