"""Roads, 城市控制线 and the DEM of the sample city."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr

from cimlib.demo._admin import AdminAreas
from cimlib.demo._geom import sample_points
from cimlib.demo._names import unique_place_names
from cimlib.demo._timeline import REFERENCE, Timeline


def build_roads(rng: np.random.Generator, admin: AdminAreas, county_code: str) -> gpd.GeoDataFrame:
    """A road network: an urban grid over the central area and trunk roads from the centre to every town.

    Returns projected LineStrings with ``road_id, name, road_class, width_m``.
    """
    region = admin.areas.geometry.iloc[0]
    central = admin.central_area
    lines, classes = [], []
    xmin, ymin, xmax, ymax = central.bounds
    spacing = 700.0
    for x in np.arange(xmin + spacing / 2, xmax, spacing):
        lines.append(shapely.LineString([(x + rng.normal(0, 40), ymin), (x + rng.normal(0, 40), ymax)]))
        classes.append("主干路" if len(lines) % 3 == 0 else "次干路")
    for y in np.arange(ymin + spacing / 2, ymax, spacing):
        lines.append(shapely.LineString([(xmin, y + rng.normal(0, 40)), (xmax, y + rng.normal(0, 40))]))
        classes.append("主干路" if len(lines) % 3 == 0 else "次干路")
    grid = shapely.intersection(np.array(lines, dtype=object), central)
    towns = admin.level("街道")
    towns = towns[towns["kind"] != "街道"]
    trunks = []
    for g in towns.geometry:
        p = shapely.point_on_surface(g)
        mid = (np.array([p.x, p.y]) + admin.center) / 2 + rng.normal(0, 0.03 * admin.radius, 2)
        trunks.append(shapely.LineString([tuple(admin.center), tuple(mid), (p.x, p.y)]))
    trunks = shapely.intersection(np.array(trunks, dtype=object), region) if trunks else np.array([], dtype=object)
    geoms = np.concatenate([grid, trunks])
    cls = np.array(classes + ["公路"] * len(trunks))
    parts, pcls = [], []
    for g, c in zip(geoms, cls):  # split multi-part clips into single LineStrings
        for part in shapely.get_parts(shapely.line_merge(g) if g.geom_type == "MultiLineString" else g):
            if part.geom_type == "LineString" and part.length > 50:
                parts.append(part)
                pcls.append(c)
    n = len(parts)
    suffix = np.where(np.array(pcls) == "主干路", "大道", np.where(np.array(pcls) == "公路", "线", "路"))
    names = unique_place_names(rng, n, suffix)
    width = np.select([np.array(pcls) == "主干路", np.array(pcls) == "次干路"], [40.0, 24.0], 12.0)
    return gpd.GeoDataFrame({"road_id": [f"{county_code}R{i + 1:05d}" for i in range(n)], "name": names,
                             "road_class": pcls, "width_m": width}, geometry=parts, crs=admin.areas.crs)


LINE_TYPES = ["道路红线", "绿线", "蓝线", "紫线", "黄线", "生态保护红线", "永久基本农田", "城镇开发边界"]


def build_control_lines(rng: np.random.Generator, admin: AdminAreas, roads: gpd.GeoDataFrame, county_code: str,
                        timeline: Timeline = REFERENCE) -> gpd.GeoDataFrame:
    """城市控制线 polygons: red (road) lines, green, blue, purple and yellow lines, ecological red line, permanent
    basic farmland and the urban development boundary (CIM 基础平台技术导则, 规划管控 layer).

    Approved 2023-06-30 under documents of 2021–2023 on the reference timeline; both move with ``timeline`` (the
    documents' years with the approval's year, so none is dated after the approval)."""
    approved = timeline.date("2023-06-30")

    def y(year: int) -> int:
        return year + int(approved[:4]) - 2023
    region = admin.areas.geometry.iloc[0]
    central = admin.central_area
    outer = shapely.difference(region, central)
    if outer.area < 0.05 * region.area:  # an all-urban county (e.g. 武汉市汉阳区): rural lines fall anywhere
        outer = region
    rows = []

    def add(kind, geoms, doc):
        for g in geoms:
            g = shapely.intersection(g, region)
            if not g.is_empty and g.area > 1.0:
                rows.append((kind, g, doc))

    main = roads[roads["road_class"] != "公路"]
    add("道路红线", shapely.buffer(main.geometry.to_numpy(), main["width_m"].to_numpy() / 2, cap_style="flat"), f"随政规〔{y(2023)}〕12号")
    add("绿线", shapely.buffer(shapely.points(sample_points(central, 12, rng)), rng.uniform(80, 300, 12)), f"随政规〔{y(2023)}〕13号")
    river = shapely.LineString(sample_points(region, 5, rng)[np.argsort(sample_points(region, 5, rng)[:, 0])])
    add("蓝线", [shapely.buffer(river, 60.0)], f"随政规〔{y(2022)}〕7号")
    add("紫线", [shapely.Point(admin.center).buffer(400.0)], f"随政规〔{y(2021)}〕3号")
    add("黄线", shapely.buffer(shapely.points(sample_points(central, 6, rng)), rng.uniform(50, 120, 6)), f"随政规〔{y(2023)}〕14号")
    add("生态保护红线", shapely.buffer(shapely.points(sample_points(outer, 4, rng)), 0.08 * admin.radius), f"鄂政函〔{y(2022)}〕88号")
    add("永久基本农田", shapely.buffer(shapely.points(sample_points(outer, 10, rng)), 0.04 * admin.radius), f"鄂自然资发〔{y(2022)}〕21号")
    add("城镇开发边界", [shapely.buffer(central, 800.0)], f"鄂政函〔{y(2023)}〕35号")
    kinds, geoms, docs = zip(*rows)
    n = len(rows)
    return gpd.GeoDataFrame({"line_id": [f"{county_code}K{i + 1:04d}" for i in range(n)], "line_type": list(kinds),
                             "name": [f"{k}{i + 1}" for i, k in enumerate(kinds)], "doc_no": list(docs),
                             "approved": approved}, geometry=list(geoms), crs=admin.areas.crs)


def build_dem(rng: np.random.Generator, outline_lonlat: shapely.Geometry, step: float, truth) -> xr.DataArray:
    """A synthetic DEM (metres) on a regular lon/lat grid over the county, no-data (-9999) outside the outline and
    in one injected hole (defect ``dem_nodata_hole``)."""
    xmin, ymin, xmax, ymax = outline_lonlat.bounds
    step = max(step, float(np.sqrt((xmax - xmin) * (ymax - ymin) / 4_000_000)))  # at most ~4 million cells
    xs = np.arange(xmin - step, xmax + 2 * step, step) + step / 2
    ys = np.arange(ymax + step, ymin - 2 * step, -step) - step / 2
    X, Y = np.meshgrid(xs, ys)
    z = np.full(X.shape, 60.0)
    for _ in range(12):
        cx, cy = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
        s = rng.uniform(0.03, 0.15)
        z += rng.uniform(40, 400) * np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * s * s))
    z += rng.normal(0, 1.5, X.shape)
    inside = shapely.contains_xy(outline_lonlat, X, Y)
    z[~inside] = -9999.0
    # a no-data hole inside the county (a tile the surveyor never delivered)
    iy, ix = np.argwhere(inside)[rng.integers(0, inside.sum())]
    h = max(2, X.shape[0] // 20)
    hole = np.zeros_like(inside)
    hole[max(iy - h, 0):iy + h, max(ix - h, 0):ix + h] = True
    hole &= inside
    z[hole] = -9999.0
    truth.add("dem", ["band1"], "dem_nodata_hole")
    da = xr.DataArray(z.astype("float32"), dims=("y", "x"), coords={"y": ys, "x": xs}, name="elevation",
                      attrs={"units": "m", "long_name": "高程"})
    da.attrs["_nodata_share_inside"] = float(hole.sum() / inside.sum())
    return da
