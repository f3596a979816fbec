"""行政区划 (admin areas): real division codes, a strict tree, and a partition without gaps or overlaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import shapely
from pandera.typing import Series
from pandera.typing.geopandas import GeoSeries

from cimlib.codes.divisions import division_valid
from standards_checks.api import frame_rule
from standards_checks.schemas._common import Model

PARTITION_TOLERANCE_M2 = 1.0
"""A gap or overlap of at most this many square metres is numerical noise (sub-millimetre slivers along a
shared border after reprojection), not a hole in the partition."""

_CHILD = {"区": "街道", "街道": "社区"}


class AdminAreas(Model):
    """Columns of the admin-area layer (区/街道/社区)."""

    area_code: Series[str]
    name: Series[str]
    level: Series[str] = pa.Field(isin=["区", "街道", "社区"])
    parent_code: Series[str] = pa.Field(nullable=True)
    geometry: GeoSeries


@frame_rule("admin_areas", "ADM-001", severity="error", standard="GB/T 2260 / 统计用区划代码：代码存在于区划代码表",
            message="行政区划代码不在区划代码参考表中（社区级只核对所属街道与结构）", column="area_code")
def code_unknown(frame, ctx) -> pd.Series:
    return pd.Series(~division_valid(frame["area_code"].to_numpy()), index=frame.index)


@frame_rule("admin_areas", "ADM-002", severity="error", standard="统计用区划代码：下级代码以上级代码为前缀",
            message="区划代码与上级区划代码不一致", column="parent_code")
def parent_prefix(frame, ctx) -> pd.Series:
    code, parent = frame["area_code"], frame["parent_code"].fillna("")
    return frame["level"].isin(["街道", "社区"]) & ~_startswith(code, parent)


def _startswith(code: pd.Series, prefix: pd.Series) -> pd.Series:
    n = prefix.str.len().fillna(0).astype("int64").to_numpy()
    c = code.to_numpy(dtype=object)
    out = np.zeros(len(c), dtype=bool)
    for k in np.unique(n):  # one vectorized comparison per prefix length (a handful)
        sel = n == k
        out[sel] = pd.Series(c[sel]).str.slice(0, int(k)).to_numpy() == prefix.to_numpy(dtype=object)[sel]
    return pd.Series(out, index=code.index)


@frame_rule("admin_areas", "ADM-003", severity="error", standard="CJJ/T 315-2022 §4 拓扑：同级行政区划互不重叠",
            message=f"与同级行政区划重叠（超过 {PARTITION_TOLERANCE_M2} 平方米）", column="geometry")
def overlaps(frame, ctx) -> pd.Series:
    proj = ctx.projected(frame)
    fails = np.zeros(len(frame), dtype=bool)
    for level in ("街道", "社区"):
        idx = np.flatnonzero((frame["level"] == level).to_numpy())
        g = proj.geometry.to_numpy()[idx]
        ok = shapely.is_valid(g)
        tree = shapely.STRtree(g)
        a, b = tree.query(g, predicate="intersects")
        keep = (a < b) & ok[a] & ok[b]
        a, b = a[keep], b[keep]
        area = shapely.area(shapely.intersection(g[a], g[b]))
        hit = area > PARTITION_TOLERANCE_M2
        fails[idx[a[hit]]] = True
        fails[idx[b[hit]]] = True
    return pd.Series(fails, index=frame.index)


@frame_rule("admin_areas", "ADM-004", severity="error", standard="CJJ/T 315-2022 §4 拓扑：下级区划无缝覆盖上级区划",
            message=f"下级区划未完整覆盖本区划（存在超过 {PARTITION_TOLERANCE_M2} 平方米的缝隙）", column="geometry")
def gaps(frame, ctx) -> pd.Series:
    proj = ctx.projected(frame)
    g = pd.Series(proj.geometry.to_numpy(), index=frame.index)
    fails = pd.Series(False, index=frame.index)
    for parent_level, child_level in _CHILD.items():
        parents = frame.index[frame["level"] == parent_level]
        children = frame[frame["level"] == child_level]
        for i in parents:
            kids = children[children["parent_code"] == frame.at[i, "area_code"]]
            if kids.empty:
                continue
            hole = shapely.difference(g[i], shapely.union_all(g[kids.index].to_numpy()))
            fails[i] = any(p.area > PARTITION_TOLERANCE_M2 for p in shapely.get_parts(hole))
    return fails
