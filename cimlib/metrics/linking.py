"""Linking (上图): standard addresses to buildings, 实有人口/实有单位 to addresses, 实有房屋 to buildings.

Every link records how it was made: ``code`` (a key the record carries resolves in the target), ``spatial`` (the
address point lies in a building footprint, or within ``tolerance_m`` of one, in the projected CRS) or ``none``.
Links are tables, one row per record, so the evidence behind every 上图率 can be shown record by record.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cimlib.geo import gauss_kruger_crs
from cimlib.lookup import index_in

LINK_COLUMNS = ["record_id", "method", "key", "target_id", "distance_m", "in_area", "on_map", "reason"]
"""Columns of a links table. ``key`` is the column the code link used; ``distance_m`` the distance from an address
point to its building (0 inside the footprint); ``in_area`` whether the point lies in the area its codes claim."""

DEFAULT_TOLERANCE_M = 5.0
SPATIAL_PARTITION_ROWS = 1_000_000
"""Above this many points the spatial join runs partition by partition with dask-geopandas."""


def _str(s: pd.Series) -> pd.Series:
    return s.astype("string")


def code_link(frame: pd.DataFrame, target: pd.DataFrame, keys, target_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resolve each record's keys in ``target``, in order; a key value naming several targets does not link.

    Parameters
    ----------
    frame : pandas.DataFrame
        Records to link.
    target : pandas.DataFrame
        What they link to.
    keys : sequence of (str, str)
        ``(column in frame, column in target)``, tried in order; pairs whose columns are absent are skipped.
    target_id : str
        Identifier column of ``target`` reported as the link.

    Returns
    -------
    position : numpy.ndarray of int
        Row position in ``target``, -1 where no key resolved.
    key : numpy.ndarray of object
        The frame column that made the link ("" where none).
    had_key : numpy.ndarray of bool
        Whether the record carried any non-empty key (tells "no link given" from "link does not resolve").
    """
    n = len(frame)
    pos = np.full(n, -1, dtype=np.int64)
    used = np.full(n, "", dtype=object)
    had = np.zeros(n, dtype=bool)
    for col, tcol in keys:
        if col not in frame or tcol not in target:
            continue
        vals = _str(frame[col])
        present = vals.notna().to_numpy() & (vals.fillna("") != "").to_numpy()
        had |= present
        tvals = _str(target[tcol]).reset_index(drop=True)
        unique = ~tvals.duplicated(keep=False) & tvals.notna()
        lookup = tvals.where(unique)
        p = index_in(vals, lookup)
        take = (pos < 0) & present & (p >= 0)
        pos[take] = p[take]
        used[take] = col
    return pos, used, had


def _usable(geoms: np.ndarray) -> np.ndarray:
    """Present, non-empty geometries with finite coordinates (a point in the wrong CRS projects to infinity)."""
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if ok.any():
        b = shapely.bounds(geoms[ok])
        ok[np.flatnonzero(ok)] = np.isfinite(b).all(axis=1)
    return ok


def _targets(ids: pd.Series, pos: np.ndarray) -> np.ndarray:
    """The target id at each position (None where -1)."""
    hit = pos >= 0
    out = ids.astype("string").reset_index(drop=True).take(np.where(hit, pos, 0)) if len(ids) else pd.Series(pd.NA, index=range(len(pos)), dtype="string")
    return out.where(pd.Series(hit, index=out.index)).array if len(ids) else out.array


def projected_crs(geoms: np.ndarray) -> str:
    """The CGCS2000 3-degree Gauss-Krüger zone of the median longitude of ``geoms``."""
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    lon = float(np.nanmedian(shapely.get_x(shapely.centroid(geoms[ok])))) if ok.any() else 114.0
    return gauss_kruger_crs(min(max(lon, 73.5), 135.0))


def _nearest_within(points: np.ndarray, footprints: np.ndarray, tree: shapely.STRtree, tol: float):
    """For each point: the footprint it lies in or nearest within ``tol`` (smallest distance, then lowest index)."""
    pi, fi = tree.query(points, predicate="dwithin", distance=tol)
    best = np.full(len(points), -1, dtype=np.int64)
    dist = np.full(len(points), np.nan)
    if len(pi):
        d = shapely.distance(points[pi], footprints[fi])
        order = np.lexsort((fi, d, pi))
        first = np.unique(pi[order], return_index=True)[1]
        sel = order[first]
        best[pi[sel]] = fi[sel]
        dist[pi[sel]] = d[sel]
    return best, dist


def spatial_match(points: gpd.GeoSeries, footprints: gpd.GeoSeries, tolerance_m: float = DEFAULT_TOLERANCE_M,
                  crs: str | None = None, partition_rows: int = SPATIAL_PARTITION_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """Match points to the footprint containing them, else the nearest within ``tolerance_m`` metres.

    Distances are computed in the projected CRS (CGCS2000 Gauss-Krüger), never in degrees. Above
    ``partition_rows`` points the work is split into spatially sorted partitions with dask-geopandas.

    Parameters
    ----------
    points, footprints : geopandas.GeoSeries
        In any CRS (both are projected to ``crs``).
    tolerance_m : float, default 5.0
    crs : str, optional
        Projected CRS; default the Gauss-Krüger zone of the footprints.
    partition_rows : int

    Returns
    -------
    position : numpy.ndarray of int
        Position in ``footprints`` (-1 where none within the tolerance or the point is missing).
    distance_m : numpy.ndarray of float
    """
    crs = crs or projected_crs(footprints.to_numpy())
    fp = footprints.to_crs(crs).to_numpy() if footprints.crs is not None else footprints.to_numpy()
    tree = shapely.STRtree(fp)
    pts = points.to_crs(crs).to_numpy() if points.crs is not None else points.to_numpy()
    ok = _usable(pts)
    best = np.full(len(pts), -1, dtype=np.int64)
    dist = np.full(len(pts), np.nan)
    idx = np.flatnonzero(ok)
    if len(idx) > partition_rows:
        b, d = _partitioned(pts[idx], fp, tree, tolerance_m, partition_rows)
    else:
        b, d = _nearest_within(pts[idx], fp, tree, tolerance_m)
    best[idx], dist[idx] = b, d
    return best, dist


def _partitioned(pts: np.ndarray, fp: np.ndarray, tree, tol: float, rows: int):
    """The same join on spatially sorted partitions (dask-geopandas Hilbert order), one at a time, in parallel."""
    import dask
    import dask_geopandas

    gs = gpd.GeoDataFrame({"_i": np.arange(len(pts))}, geometry=pts)
    n_parts = int(np.ceil(len(pts) / rows))
    dg = dask_geopandas.from_geopandas(gs, npartitions=n_parts).spatial_shuffle(by="hilbert", npartitions=n_parts)

    def part(df):
        b, d = _nearest_within(df.geometry.to_numpy(), fp, tree, tol)
        return pd.DataFrame({"_i": df["_i"].to_numpy(), "b": b, "d": d})

    out = dg.map_partitions(part, meta={"_i": "int64", "b": "int64", "d": "float64"})
    res = dask.compute(out, scheduler="threads")[0].sort_values("_i")
    return res["b"].to_numpy(), res["d"].to_numpy()


def in_claimed_area(points: np.ndarray, claimed_codes: pd.Series, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Whether each point lies inside the admin area its code names (False for an unknown code or no point).

    Parameters
    ----------
    points : numpy.ndarray of shapely geometries
        In the CRS of ``areas``.
    claimed_codes : pandas.Series
        The code of the claimed area of each point.
    areas : geopandas.GeoDataFrame
        ``area_code`` and polygon geometry.
    """
    polys = pd.Series(areas.geometry.to_numpy(), index=areas["area_code"].astype(str).to_numpy())
    polys = polys[~polys.index.duplicated()]
    shapely.prepare(polys.to_numpy())
    pos = index_in(_str(claimed_codes), pd.Series(polys.index.to_numpy(dtype=object), dtype="string"))
    present = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    sel = present & (pos >= 0)
    inside = np.zeros(len(points), dtype=bool)
    if sel.any():
        inside[sel] = shapely.covers(polys.to_numpy()[pos[sel]], points[sel])
    return inside


def link_addresses(addresses: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, admin: gpd.GeoDataFrame, *,
                   keys=(("building_id", "building_id"), ("building_code", "building_code")), id_column: str = "address_id",
                   tolerance_m: float = DEFAULT_TOLERANCE_M, crs: str | None = None) -> pd.DataFrame:
    """Link standard addresses to buildings and test each point against its claimed area.

    An address is on the map (上图) when it has a point, the point lies inside the area its codes claim (the
    community when ``community_code`` names one, else the street), and it is matched to a building: by code where
    it carries one that resolves, else by its point lying in a footprint or within ``tolerance_m`` of one.

    Parameters
    ----------
    addresses : geopandas.GeoDataFrame
        Point geometry (missing for addresses without coordinates), ``street_code``/``community_code`` and the key
        columns.
    buildings : geopandas.GeoDataFrame
        Footprints with ``building_id`` (and ``building_code``).
    admin : geopandas.GeoDataFrame
        The ``admin_areas`` layer (``area_code, level`` 街道/社区).
    keys : sequence of (str, str)
        Code link keys, tried in order.
    id_column : str
    tolerance_m : float, default 5.0
    crs : str, optional
        Projected CRS for distances; default the Gauss-Krüger zone of the buildings.

    Returns
    -------
    pandas.DataFrame
        :data:`LINK_COLUMNS`, in the order of ``addresses``.
    """
    n = len(addresses)
    pos, key, had = code_link(addresses, buildings, keys, "building_id")
    pts = addresses.geometry.to_numpy()
    if addresses.crs is not None and buildings.crs is not None and addresses.crs != buildings.crs:
        pts = addresses.geometry.to_crs(buildings.crs).to_numpy()
    has_pt = ~shapely.is_missing(pts) & ~shapely.is_empty(pts)
    method = np.where(pos >= 0, "code", "none").astype(object)
    dist = np.full(n, np.nan)
    crs = crs or projected_crs(buildings.geometry.to_numpy())
    need = (pos < 0) & has_pt
    code_pt = (pos >= 0) & has_pt
    fp = buildings.geometry.to_crs(crs) if need.any() or code_pt.any() else None  # footprints projected once
    if need.any():
        b, d = spatial_match(gpd.GeoSeries(pts[need], crs=buildings.crs).to_crs(crs), fp, tolerance_m, crs)
        sub = np.flatnonzero(need)
        hit = b >= 0
        pos[sub[hit]] = b[hit]
        dist[sub[hit]] = d[hit]
        method[sub[hit]] = "spatial"
    if code_pt.any():  # how far a code-linked point is from its building: evidence of a misplaced point
        gp = gpd.GeoSeries(pts[code_pt], crs=buildings.crs).to_crs(crs).to_numpy()
        gb = fp.to_numpy()[pos[code_pt]]
        fin = _usable(gp) & _usable(gb)
        d = np.full(len(gp), np.nan)
        d[fin] = shapely.distance(gp[fin], gb[fin])
        dist[code_pt] = d

    comm = _str(addresses["community_code"]).fillna("") if "community_code" in addresses else pd.Series([""] * n, dtype="string")
    street = _str(addresses["street_code"]).fillna("") if "street_code" in addresses else pd.Series([""] * n, dtype="string")
    level_areas = admin[admin["level"].isin(["街道", "社区"])]
    claimed = comm.where(comm != "", street)
    areas_ll = level_areas if addresses.crs is None or level_areas.crs == addresses.crs else level_areas.to_crs(addresses.crs)
    in_area = in_claimed_area(addresses.geometry.to_numpy(), claimed, areas_ll)
    known = index_in(claimed, _str(level_areas["area_code"])) >= 0

    linked = pos >= 0
    on_map = has_pt & in_area & linked
    reason = np.select(
        [~has_pt, ~known, ~in_area, ~linked],
        ["无坐标", "区划代码缺失或不在行政区划图层中，无法核验位置", "坐标不在所属社区（街道）范围内",
         f"未匹配到建筑物（无有效建筑物编码，且 {tolerance_m:g} 米内无建筑底面）"], "")
    target = _targets(buildings["building_id"], pos)
    return pd.DataFrame({"record_id": addresses[id_column].astype("string").array, "method": method, "key": key,
                         "target_id": target, "distance_m": np.round(dist, 3), "in_area": in_area, "on_map": on_map,
                         "reason": reason})


def link_records(frame: pd.DataFrame, target: pd.DataFrame, *, keys, id_column: str, target_id: str,
                 target_on_map: np.ndarray | None = None, target_name: str = "标准地址",
                 unavailable: bool = False) -> pd.DataFrame:
    """Link register records (实有人口, 实有单位 to addresses; 实有房屋 to buildings) by code.

    Parameters
    ----------
    frame : pandas.DataFrame
        The records.
    target : pandas.DataFrame
        Addresses or buildings.
    keys : sequence of (str, str)
        Code link keys, tried in order.
    id_column, target_id : str
        Identifier columns of the records and of the target.
    target_on_map : numpy.ndarray of bool, optional
        Per target row: whether it is itself on the map (a person is on the map only via an on-map address).
    target_name : str
        Chinese name of the target in the reasons.
    unavailable : bool, default False
        The target dataset could not be read: nothing links, and the reason says so.

    Returns
    -------
    pandas.DataFrame
        :data:`LINK_COLUMNS` (``distance_m`` and ``in_area`` empty).
    """
    pos, key, had = code_link(frame, target, keys, target_id)
    linked = pos >= 0
    target_ok = np.ones(len(frame), dtype=bool)
    if target_on_map is not None:
        on = np.asarray(target_on_map, dtype=bool)
        target_ok = linked & (on[np.maximum(pos, 0)] if len(on) else False)
    on_map = linked & target_ok
    reason = np.select([~had, ~linked, ~target_ok], [f"未关联{target_name}", f"关联的{target_name}不存在", f"关联的{target_name}未上图"], "")
    if unavailable:
        reason = np.where(had, f"{target_name}数据集不可用，无法核验关联", reason)
    n = len(frame)
    return pd.DataFrame({"record_id": frame[id_column].astype("string").array, "method": np.where(linked, "code", "none"),
                         "key": key, "target_id": _targets(target[target_id], pos),
                         "distance_m": np.nan, "in_area": pd.arrays.BooleanArray(np.zeros(n, bool), np.ones(n, bool)),
                         "on_map": on_map, "reason": reason})
