"""道路 (roads) and 城市控制线 (control lines): 时空基础 and 规划管控 layers of the CIM basic platform."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series
from pandera.typing.geopandas import GeoSeries

from standards_checks.api import column_rule
from standards_checks.schemas._common import Model

CONTROL_LINE_TYPES = ("道路红线", "绿线", "蓝线", "紫线", "黄线", "生态保护红线", "永久基本农田", "城镇开发边界")
"""城市控制线 kinds of the CIM 基础平台技术导则 (2021) 规划管控 layer and the 三区三线."""


class Roads(Model):
    """Road centre lines."""

    road_id: Series[str]
    name: Series[str] = pa.Field(nullable=True)
    road_class: Series[str] = pa.Field(nullable=True)
    width_m: Series[float] = pa.Field(nullable=True)
    geometry: GeoSeries

    @column_rule("roads", "width_m", "ROD-001", severity="warning", standard="CJJ 37-2012 城市道路工程设计规范：道路宽度",
                 message="道路宽度不在合理范围（3–120 米）")
    def width_range(cls, s: Series[float]) -> Series[bool]:
        return s.between(3.0, 120.0)


class ControlLines(Model):
    """城市控制线 polygons."""

    line_id: Series[str]
    line_type: Series[str]
    geometry: GeoSeries

    @column_rule("control_lines", "line_type", "CTL-001", severity="error",
                 standard="CIM 基础平台技术导则（2021）规划管控：城市控制线类型", message="控制线类型不在规定类型之内")
    def line_type_known(cls, s: Series[str]) -> Series[bool]:
        return s.isin(CONTROL_LINE_TYPES)
