"""Rules every spatial dataset shares: valid, non-empty geometry of the expected type, inside China."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from cimlib.geo import CHINA_EXTENT  # lon_min, lat_min, lon_max, lat_max (CGCS2000 degrees)
from standards_checks.api import frame_rule

EXPECTED_TYPES = {
    "admin_areas": {"Polygon", "MultiPolygon"}, "central_area": {"Polygon", "MultiPolygon"},
    "demo_zone": {"Polygon", "MultiPolygon"},
    "control_lines": {"Polygon", "MultiPolygon"}, "buildings": {"Polygon", "MultiPolygon"},
    "fine_model_extent": {"Polygon", "MultiPolygon"}, "white_model_extent": {"Polygon", "MultiPolygon"},
    "roads": {"LineString", "MultiLineString"},
    "addresses": {"Point"}, "devices": {"Point"}, "projects": {"Point"},
}


def _geoms(frame) -> np.ndarray:
    return frame.geometry.to_numpy()


@frame_rule("*", "GEO-001", severity="error", standard="CJJ/T 315-2022 §4 空间数据质量（几何有效性，OGC SFA）",
            message="几何图形无效（自相交或环方向错误等）", column="geometry", per_record=True)
def geometry_invalid(frame, ctx) -> pd.Series:
    g = _geoms(frame)
    present = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    return pd.Series(present & ~shapely.is_valid(g), index=frame.index)


@frame_rule("*", "GEO-002", severity="error", standard="CJJ/T 315-2022 §4 空间数据质量", message="几何图形为空",
            column="geometry", per_record=True)
def geometry_empty(frame, ctx) -> pd.Series:
    g = _geoms(frame)
    return pd.Series(~shapely.is_missing(g) & shapely.is_empty(g), index=frame.index)


@frame_rule("*", "GEO-003", severity="error", standard="CJJ/T 315-2022 §4 图层几何类型约定", message="几何类型与图层约定不符",
            column="geometry", per_record=True)
def geometry_type(frame, ctx) -> pd.Series:
    expected = EXPECTED_TYPES.get(ctx.schema_of(frame))
    g = _geoms(frame)
    if not expected:
        return pd.Series(False, index=frame.index)
    types = pd.Series(shapely.get_type_id(g), index=frame.index)
    names = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon",
             7: "GeometryCollection"}
    present = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    return ~types.map(names).isin(expected) & present


@frame_rule("*", "GEO-004", severity="error", standard="GB/T 2260 / CGCS2000：坐标应位于中国范围内",
            message="坐标超出中国范围（可能为投影坐标或经纬度颠倒）", column="geometry", per_record=True)
def outside_china(frame, ctx) -> pd.Series:
    g = _geoms(frame)
    present = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    b = np.full((len(g), 4), np.nan)
    if present.any():
        b[present] = shapely.bounds(g[present])
    x0, y0, x1, y1 = CHINA_EXTENT
    out = (b[:, 0] < x0) | (b[:, 2] > x1) | (b[:, 1] < y0) | (b[:, 3] > y1)
    return pd.Series(present & out, index=frame.index)


@frame_rule("*", "GEO-006", severity="warning", standard="CJJ/T 315-2022 §4 平面图层为二维几何（高度、楼层以属性记录）",
            message="几何含 Z 坐标（平面图层应为二维，高度请记入属性字段）", column="geometry", per_record=True)
def geometry_3d(frame, ctx) -> pd.Series:
    g = _geoms(frame)
    present = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    return pd.Series(present & shapely.has_z(g), index=frame.index)
