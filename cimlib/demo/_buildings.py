"""Building white model (白模) of the sample city, with the 精模 production extent."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cimlib.demo._admin import AdminAreas
from cimlib.demo._defects import Truth, n_defects, pick
from cimlib.demo._geom import distance_to_boundaries, gumbel_order, rectangles, sample_points
from cimlib.demo._timeline import REFERENCE, Timeline

USES = np.array(["住宅", "商业", "办公", "公共服务", "工业"])
_MAX_CELLS = 4_000_000  # candidate grid cells at most (a 2-core, 24 GB machine; Xinjiang-sized fallbacks too)
RATES = {"invalid_geometry": 0.004, "missing_height": 0.01, "height_floor_mismatch": 0.004,
         "duplicate_code": 0.003, "overlapping_footprint": 0.003}


def fine_model_extent(rng: np.random.Generator, admin: AdminAreas) -> shapely.Geometry:
    """Where 精模 (CIM4 fine models) have been produced: a few blobs covering most of the central urban area."""
    central = admin.central_area
    r = np.sqrt(central.area / np.pi)
    seeds = sample_points(central, 5, rng)
    discs = shapely.buffer(shapely.points(seeds), rng.uniform(0.35, 0.6, len(seeds)) * r)
    core = shapely.Point(admin.center).buffer(0.5 * r)
    return shapely.intersection(shapely.union_all(np.append(discs, core)), central)


def build_buildings(rng: np.random.Generator, admin: AdminAreas, n: int, county_code: str, fine_extent: shapely.Geometry,
                    truth: Truth, timeline: Timeline = REFERENCE, *, first_year: int = 1975, min_cell: float = 18.0,
                    max_cells: int = _MAX_CELLS, pairs_in_street: bool = False) -> gpd.GeoDataFrame:
    """Place ``n`` non-overlapping building footprints, denser towards the centre and around villages.

    Built 1975–2023 on the reference timeline (before the registers' year); the years move with ``timeline``.

    Each footprint sits inside its own grid cell, so footprints never overlap unless a defect says so.
    Returns projected-CRS polygons with ``building_id, building_code, street_code, community_code, name, use,
    floors, height, year_built, model_level, lod``.

    ``first_year`` (reference frame), ``min_cell`` (m) and ``max_cells`` are the scale's
    (:class:`~cimlib.demo._scale.Scale`); ``pairs_in_street`` puts both buildings of an injected duplicated code in
    one street, so a city generated street by street sees both (:mod:`cimlib.demo._stream`).
    """
    region = admin.areas.geometry.iloc[0]
    cell = float(np.clip(np.sqrt(region.area / (n * 3.0)), min_cell, 90.0))
    xmin, ymin, xmax, ymax = region.bounds
    cell = max(cell, float(np.sqrt((xmax - xmin) * (ymax - ymin) / max_cells)))  # huge counties: bounded memory
    size = min(cell, 60.0)  # footprints keep a building's size however large the cells
    inner = shapely.buffer(region, -cell)
    shapely.prepare(inner)
    xmin, ymin, xmax, ymax = inner.bounds
    gx = np.arange(xmin + cell / 2, xmax, cell)
    gy = np.arange(ymin + cell / 2, ymax, cell)
    xx, yy = np.meshgrid(gx, gy)
    xx, yy = xx.ravel(), yy.ravel()
    inside = shapely.contains_xy(inner, xx, yy)
    xx, yy = xx[inside], yy[inside]

    d_center = np.hypot(xx - admin.center[0], yy - admin.center[1])
    villages = admin.areas[admin.areas["kind"] == "村"]
    w = 0.002 + np.exp(-d_center / (0.10 * admin.radius))
    if len(villages):
        vtree = shapely.STRtree(shapely.point_on_surface(villages.geometry.to_numpy()))
        _, dist = vtree.query_nearest(shapely.points(xx, yy), return_distance=True, all_matches=False)
        w = w + 0.08 * np.exp(-dist / 500.0)
    # draw a few more cells than needed and drop those whose cell crosses a community border: a building
    # belongs to exactly one community, and its address point stays clear of the border in any datum
    order = gumbel_order(w, int(n * 1.15) + 10, rng)
    comm_polys = admin.level("社区").geometry.to_numpy()
    clear = distance_to_boundaries(xx[order], yy[order], comm_polys) > cell * np.sqrt(0.5) + 2.0
    idx = np.sort(order[clear][:n])
    n = len(idx)
    cx, cy = xx[idx], yy[idx]
    urban = np.exp(-d_center[idx] / (0.10 * admin.radius))

    wid = rng.uniform(0.3, 0.6, n) * size
    dep = rng.uniform(0.3, 0.6, n) * size
    ang = rng.uniform(-0.26, 0.26, n)
    slack = cell / 2 - np.hypot(wid, dep) / 2
    cx = cx + rng.uniform(-1, 1, n) * slack * 0.8
    cy = cy + rng.uniform(-1, 1, n) * slack * 0.8
    geoms = rectangles(cx, cy, wid, dep, ang)

    floors = np.clip(np.round(1 + rng.gamma(1.5, 1.0 + 9.0 * urban)), 1, 45).astype("int64")
    height = np.round(floors * rng.uniform(2.9, 3.3, n) + rng.uniform(0.0, 2.0, n), 1)
    use_p_urban = np.array([0.68, 0.12, 0.07, 0.05, 0.08])
    use_p_rural = np.array([0.88, 0.04, 0.01, 0.03, 0.04])
    is_urban = urban > 0.2
    use = np.where(is_urban, USES[rng.choice(5, n, p=use_p_urban)], USES[rng.choice(5, n, p=use_p_rural)])
    year = rng.integers(timeline.year(first_year), timeline.year(2024), n)

    pts = shapely.points(cx, cy)
    comm = admin.level("社区")
    tree = shapely.STRtree(comm.geometry.to_numpy())
    pi, ci = tree.query(pts, predicate="within")
    community = np.empty(n, dtype=object)
    community[pi] = comm["area_code"].to_numpy()[ci]
    missing = pd.isna(community)
    if missing.any():  # on a shared edge: take the nearest community
        near = tree.query_nearest(pts[missing], all_matches=False)[1]
        community[missing] = comm["area_code"].to_numpy()[near]
    community = community.astype(str)
    street = pd.Series(community).str.slice(0, 9).to_numpy()

    df = pd.DataFrame({"street_code": street, "year_built": year})
    seq = df.groupby(["street_code", "year_built"]).cumcount().to_numpy() + 1
    code = pd.Series(street).str.cat([pd.Series(year.astype(str)), pd.Series(seq.astype(str)).str.zfill(4)]).to_numpy()
    ids = np.char.add(f"{county_code}B", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    fine = shapely.contains_xy(fine_extent, cx, cy)

    gdf = gpd.GeoDataFrame({
        "building_id": ids, "building_code": code, "street_code": street, "community_code": community,
        "name": pd.Series(np.char.add(np.char.add(seq.astype(str), "号"), "楼")),
        "use": use, "floors": floors, "height": height, "year_built": year,
        "model_level": np.where(fine, "精模", "白模"), "lod": np.where(fine, "LOD3", "LOD1"),
    }, geometry=geoms, crs=admin.areas.crs)
    gdf["height"] = gdf["height"].astype("float64")
    return _inject(rng, gdf, truth, pairs_in_street)


def _street_pairs(rows: np.ndarray, street: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """Pair ``rows`` (sorted positions) within their street, consecutively; an odd one out is freed again."""
    order = np.lexsort((rows, street[rows]))
    r = rows[order]
    rank = pd.Series(street[r]).groupby(street[r]).cumcount().to_numpy()
    size = pd.Series(street[r]).groupby(street[r]).transform("size").to_numpy()
    first = (rank % 2 == 0) & (rank + 1 < size)
    i = np.flatnonzero(first)
    taken[r[(rank % 2 == 0) & ~first]] = False
    return np.stack([r[i], r[i + 1]], axis=1) if len(i) else np.empty((0, 2), dtype=int)


def _inject(rng: np.random.Generator, gdf: gpd.GeoDataFrame, truth: Truth, pairs_in_street: bool = False
            ) -> gpd.GeoDataFrame:
    n = len(gdf)
    taken = np.zeros(n, dtype=bool)
    pool = np.arange(n)
    ids = gdf["building_id"].to_numpy()

    bad = pick(rng, pool, n_defects(n, RATES["invalid_geometry"]), taken)
    coords = shapely.get_coordinates(gdf.geometry.to_numpy()[bad]).reshape(len(bad), 5, 2)
    coords[:, [1, 2]] = coords[:, [2, 1]]  # swap two corners: a self-intersecting "bow tie"
    gdf.loc[bad, "geometry"] = shapely.polygons(coords)
    truth.add("buildings", ids[bad], "invalid_geometry")

    miss = pick(rng, pool, n_defects(n, RATES["missing_height"]), taken)
    gdf.loc[miss, "height"] = np.nan
    truth.add("buildings", ids[miss], "missing_height")

    mism = pick(rng, pool[gdf["floors"].to_numpy() <= 6], n_defects(n, RATES["height_floor_mismatch"]), taken)
    gdf.loc[mism, "height"] = np.round(gdf.loc[mism, "floors"].to_numpy() * rng.uniform(12, 20, len(mism)), 1)
    truth.add("buildings", ids[mism], "height_floor_mismatch")

    k = n_defects(n, RATES["duplicate_code"])
    if n < 4 * k:
        pairs = np.empty((0, 2), dtype=int)
    elif pairs_in_street:
        pairs = _street_pairs(pick(rng, pool, 2 * k, taken), gdf["street_code"].to_numpy(), taken)
    else:
        pairs = pick(rng, pool, 2 * k, taken).reshape(-1, 2)
    gdf.loc[pairs[:, 1], "building_code"] = gdf.loc[pairs[:, 0], "building_code"].to_numpy()
    truth.add("buildings", ids[pairs.ravel()], "duplicate_code")

    # the same building digitized twice (a new record, shifted a couple of metres): both overlap
    dup = pick(rng, pool, n_defects(n, RATES["overlapping_footprint"]), taken)
    extra = gdf.loc[dup].copy()
    extra["geometry"] = shapely.transform(extra.geometry.to_numpy(), lambda c: c + np.array([2.0, 1.5]))
    new_ids = np.char.add(ids[dup].astype(str), "D")
    extra["building_id"] = new_ids
    extra["building_code"] = [c[:13] + str(9000 + i % 999) for i, c in enumerate(extra["building_code"])]
    truth.add("buildings", np.concatenate([ids[dup], new_ids]), "overlapping_footprint")
    out = pd.concat([gdf, extra], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=gdf.crs)
