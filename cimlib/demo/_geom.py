"""Small vectorized geometry helpers for the generator (projected coordinates, metres)."""

from __future__ import annotations

import numpy as np
import shapely


def sample_points(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``geom``, as an (n, 2) array (rejection sampling in its envelope)."""
    if n <= 0:
        return np.empty((0, 2))
    if geom.is_empty or geom.area <= 0:
        raise ValueError("cannot sample points in an empty or zero-area geometry")
    shapely.prepare(geom)
    xmin, ymin, xmax, ymax = geom.bounds
    frac = max(geom.area / ((xmax - xmin) * (ymax - ymin)), 1e-3)
    out = []
    got = 0
    tries = 0
    while got < n:
        tries += 1
        if tries > 10_000:
            raise ValueError(f"could not place {n} points in a geometry covering {frac:.2e} of its envelope")
        m = int((n - got) / frac * 1.3) + 16
        x = rng.uniform(xmin, xmax, m)
        y = rng.uniform(ymin, ymax, m)
        keep = shapely.contains_xy(geom, x, y)
        pts = np.column_stack([x[keep], y[keep]])
        out.append(pts)
        got += len(pts)
    return np.concatenate(out)[:n]


def spread_points(geom: shapely.Geometry, k: int, rng: np.random.Generator, avoid: np.ndarray | None = None,
                  candidates: int = 30) -> np.ndarray:
    """``k`` well-spread points inside ``geom`` (Mitchell's best-candidate), away from ``avoid`` points too."""
    chosen = [] if avoid is None else [tuple(p) for p in avoid]
    fixed = len(chosen)
    cand_all = sample_points(geom, k * candidates, rng).reshape(k, candidates, 2)
    for i in range(k):
        cand = cand_all[i]
        if chosen:
            c = np.asarray(chosen)
            d = np.sqrt(((cand[:, None, :] - c[None, :, :]) ** 2).sum(-1)).min(axis=1)
            chosen.append(tuple(cand[int(np.argmax(d))]))
        else:
            chosen.append(tuple(cand[0]))
    return np.asarray(chosen[fixed:])


def voronoi_partition(seeds: np.ndarray, region: shapely.Geometry) -> np.ndarray:
    """Cells of ``seeds`` clipped to ``region``, one per seed in seed order (a partition of the region)."""
    if len(seeds) == 1:
        return np.array([region], dtype=object)
    mp = shapely.multipoints(seeds)
    env = shapely.buffer(shapely.envelope(region), max(region.bounds[2] - region.bounds[0], 1.0))
    cells = shapely.get_parts(shapely.voronoi_polygons(mp, extend_to=env, ordered=True))
    out = shapely.intersection(cells, region)
    return out


def rectangles(cx, cy, w, d, angle) -> np.ndarray:
    """Rotated rectangles (w × d metres, angle in radians) centred on (cx, cy), as shapely Polygons."""
    hw, hd = w / 2.0, d / 2.0
    local = np.stack([np.stack([-hw, -hd], -1), np.stack([hw, -hd], -1), np.stack([hw, hd], -1),
                      np.stack([-hw, hd], -1), np.stack([-hw, -hd], -1)], axis=1)  # (n, 5, 2)
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = local[..., 0] * c - local[..., 1] * s + np.asarray(cx)[:, None]
    y = local[..., 0] * s + local[..., 1] * c + np.asarray(cy)[:, None]
    return shapely.polygons(np.stack([x, y], -1))


def gumbel_order(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement with probability proportional to ``weights``, in draw order."""
    keys = np.log(np.maximum(weights, 1e-300)) + rng.gumbel(size=len(weights))
    k = min(k, len(weights))
    idx = np.argpartition(-keys, k - 1)[:k]
    return idx[np.argsort(-keys[idx], kind="stable")]


def distance_to_boundaries(x: np.ndarray, y: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest edge of any of ``polygons`` (indexed by segment)."""
    rings = shapely.get_parts(shapely.boundary(polygons))
    coords, ring_index = shapely.get_coordinates(rings, return_index=True)
    same = ring_index[1:] == ring_index[:-1]
    seg = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
    tree = shapely.STRtree(shapely.linestrings(seg))
    _, dist = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
    return dist
