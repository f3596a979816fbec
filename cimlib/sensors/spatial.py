"""Where the sensing network is: road length covered by devices, device density per BeiDou grid cell and street.

Road coverage (道路感知覆盖里程): a stretch of road counts as covered when it lies within ``distance_m`` (default
50 m) of a device, measured in the CGCS2000 Gauss-Krüger projection, never in degrees. Covered length = length of
(road ∩ union of the devices' ``distance_m`` discs). The programme's target is at least 10 km of covered road.
Which devices count is the caller's choice; :func:`cimlib.sensors.analyse_sensors` uses the devices that sent at
least one good reading in the period (a silent device senses nothing).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cimlib.codes import beidou
from cimlib.geo.crs import gauss_kruger_crs

DEFAULT_COVER_DISTANCE_M = 50.0
"""A road point within this distance of a device is covered (metres)."""

DENSITY_LEVEL = 4
"""BeiDou grid level of the density table: level 4 cells are 1′ x 1′ (about 1.5 km x 1.85 km in Hubei)."""


def _projected(frame: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ValueError("图层没有坐标系，无法计算距离与长度")
    if crs is None:
        lon = float(frame.to_crs("EPSG:4490").geometry.union_all().centroid.x) if len(frame) else 114.0
        crs = gauss_kruger_crs(lon)
    return frame.to_crs(crs)


def road_coverage(roads: gpd.GeoDataFrame, devices: gpd.GeoDataFrame, *, distance_m: float = DEFAULT_COVER_DISTANCE_M,
                  streets: gpd.GeoDataFrame | None = None, crs: str | None = None) -> pd.DataFrame:
    """Road length covered by sensing devices, in total and per street.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        Road centre lines (any CRS with a definition).
    devices : geopandas.GeoDataFrame
        Device points; rows with an empty or missing geometry are ignored.
    distance_m : float, default 50
        Coverage distance in metres.
    streets : geopandas.GeoDataFrame, optional
        Street polygons with ``area_code``: adds one row per street (roads cut at street borders).
    crs : str, optional
        Metric CRS; default the Gauss-Krüger 3-degree zone of the roads' centre.

    Returns
    -------
    pandas.DataFrame
        ``area_code, area_level (county|street), covered_km, road_km, share, devices, distance_m``; the first row
        (``area_code`` ``"全部"``) is the total.

    Raises
    ------
    ValueError
        If a layer has no CRS or ``distance_m`` is not positive.
    """
    if not distance_m > 0:
        raise ValueError(f"覆盖距离应为正数（米），得到 {distance_m!r}")
    roads_p = _projected(roads[~(roads.geometry.isna() | roads.geometry.is_empty)], crs)
    crs = roads_p.crs
    pts = devices[~(devices.geometry.isna() | devices.geometry.is_empty)].to_crs(crs)
    lines = roads_p.geometry.to_numpy()
    cover = shapely.union_all(shapely.buffer(pts.geometry.to_numpy(), distance_m, quad_segs=16)) if len(pts) else None
    covered = shapely.intersection(lines, cover) if cover is not None else np.array([shapely.LineString()] * len(lines))
    rows = [{"area_code": "全部", "area_level": "county", "covered_km": float(shapely.length(covered).sum()) / 1000,
             "road_km": float(shapely.length(lines).sum()) / 1000, "devices": len(pts)}]
    if streets is not None and len(streets):
        st = streets.to_crs(crs)
        geoms = st.geometry.to_numpy()
        tree = shapely.STRtree(lines)
        li, si = tree.query(geoms, predicate="intersects")[::-1]
        road_len = np.zeros(len(st))
        cov_len = np.zeros(len(st))
        if len(li):
            np.add.at(road_len, si, shapely.length(shapely.intersection(lines[li], geoms[si])))
            np.add.at(cov_len, si, shapely.length(shapely.intersection(covered[li], geoms[si])))
        in_street = shapely.STRtree(geoms).query(pts.geometry.to_numpy(), predicate="within")
        n_dev = np.bincount(in_street[1], minlength=len(st)) if len(pts) else np.zeros(len(st), dtype=np.int64)
        for code, c, r, nd in zip(st["area_code"].astype(str), cov_len, road_len, n_dev):
            rows.append({"area_code": code, "area_level": "street", "covered_km": c / 1000, "road_km": r / 1000,
                         "devices": int(nd)})
    out = pd.DataFrame(rows)
    out["share"] = out["covered_km"] / out["road_km"].where(out["road_km"] > 0)
    out["distance_m"] = float(distance_m)
    return out[["area_code", "area_level", "covered_km", "road_km", "share", "devices", "distance_m"]]


def grid_density(devices: gpd.GeoDataFrame, level: int = DENSITY_LEVEL) -> pd.DataFrame:
    """Devices per BeiDou grid cell (GB/T 39409), with the cell's area.

    Parameters
    ----------
    devices : geopandas.GeoDataFrame
        Device points (``device_type`` column optional).
    level : int, default 4
        Grid level.

    Returns
    -------
    pandas.DataFrame
        ``grid_code, level, devices, area_km2, per_km2`` and one column per device type (counts), sorted by
        ``grid_code``. Devices without a location are left out.
    """
    pts = devices[~(devices.geometry.isna() | devices.geometry.is_empty)].to_crs("EPSG:4490")
    if pts.empty:
        return pd.DataFrame(columns=["grid_code", "level", "devices", "area_km2", "per_km2"])
    codes = beidou.encode(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), level=level)
    frame = pd.DataFrame({"grid_code": np.asarray(codes, dtype=object),
                          "device_type": pts["device_type"].astype(str).to_numpy() if "device_type" in pts else "全部"})
    out = frame.groupby("grid_code").size().rename("devices").to_frame()
    by_type = frame.pivot_table(index="grid_code", columns="device_type", aggfunc="size", fill_value=0)
    out = out.join(by_type)
    boxes = np.asarray(beidou.decode(out.index.to_numpy()), dtype=np.float64).reshape(len(out), -1)
    cells = gpd.GeoSeries(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]), crs="EPSG:4490")
    area = _projected(gpd.GeoDataFrame(geometry=cells), None).area.to_numpy() / 1e6
    out.insert(0, "level", level)
    out.insert(2, "area_km2", area)
    out.insert(3, "per_km2", out["devices"].to_numpy() / area)
    return out.reset_index()


def street_density(devices: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> pd.DataFrame:
    """Devices per street (by location, not by the register's street code), per km² of the street.

    Parameters
    ----------
    devices : geopandas.GeoDataFrame
    streets : geopandas.GeoDataFrame
        Street polygons with ``area_code`` and ``name``.

    Returns
    -------
    pandas.DataFrame
        ``area_code, name, devices, area_km2, per_km2``.
    """
    st = _projected(streets, None)
    pts = devices[~(devices.geometry.isna() | devices.geometry.is_empty)].to_crs(st.crs)
    hit = shapely.STRtree(st.geometry.to_numpy()).query(pts.geometry.to_numpy(), predicate="within")
    n = np.bincount(hit[1], minlength=len(st)) if len(pts) else np.zeros(len(st), dtype=np.int64)
    area = st.area.to_numpy() / 1e6
    return pd.DataFrame({"area_code": st["area_code"].astype(str).to_numpy(),
                         "name": st["name"].astype(str).to_numpy() if "name" in st else "",
                         "devices": n, "area_km2": area, "per_km2": n / np.where(area > 0, area, np.nan)})
