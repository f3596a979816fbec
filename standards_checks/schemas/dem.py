"""数字高程模型 (DEM), CIM1 地表模型: a DEM must cover its area without voids."""

from __future__ import annotations

import numpy as np
import shapely

from standards_checks.api import frame_rule


@frame_rule("dem", "DEM-001", severity="warning", standard="CH/T 9008.2-2010 数字高程模型：成果范围内不应有数据空洞",
            message="县域范围内存在 DEM 无数据（空洞）像元；取值为无数据像元占县域像元的比例", column="elevation",
            needs=("admin_areas",))
def nodata_inside(array, ctx) -> dict:
    """Share of no-data cells whose centre lies inside the county, per band (failing bands only)."""
    areas = ctx.frame("admin_areas")
    county = areas.loc[areas["level"] == "区"].geometry
    if county.empty:
        return {}
    region = county.iloc[0]
    if array.rio.crs is not None and areas.crs is not None and not areas.crs.equals(array.rio.crs):
        region = county.to_crs(array.rio.crs).iloc[0]
    xs, ys = np.meshgrid(array["x"].to_numpy(), array["y"].to_numpy())
    inside = shapely.contains_xy(region, xs, ys)
    nodata = array.rio.nodata
    out = {}
    bands = array["band"].to_numpy() if "band" in array.dims else [1]
    for b in bands:
        v = (array.sel(band=b) if "band" in array.dims else array).to_numpy()
        missing = ~np.isfinite(v) | ((v == nodata) if nodata is not None else False)
        share = float((missing & inside).sum() / max(inside.sum(), 1))
        if share > 0:
            out[f"band{int(b)}"] = round(share, 6)
    return out
