"""Coverage of a CIM layer over an area and completeness of a layer against a register.

Coverage = area(area ∩ production extent) / area(area), in the projected CRS (CGCS2000 Gauss-Krüger), computed per
community and summed up (square metres are additive). An extent layer with a ``produced_by`` column (YYYY-MM) is
read as delivered in batches: a period's coverage counts the features produced by then.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cimlib.geo import inside_china
from cimlib.metrics.linking import code_link


def project(gdf: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """Geometries in ``crs``, edges densified first (about 20 m) so shared borders stay shared."""
    g = gdf.geometry.to_numpy().copy()
    ok = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    if gdf.crs is not None and gdf.crs.is_geographic:
        inside = inside_china(g)  # outside China (metres declared as degrees...): GEO-004's finding, not projected
        g[ok & ~inside] = None
        ok &= inside
        g[ok] = shapely.segmentize(g[ok], 0.0002)
    return gpd.GeoSeries(g, crs=gdf.crs).to_crs(crs).to_numpy()


def extent_as_of(extent: gpd.GeoDataFrame, period: str | None, latest: str | None) -> np.ndarray | None:
    """Which features of an extent layer were produced by ``period`` (None when the layer cannot say).

    Without a ``produced_by`` column the layer only describes the current state: it stands for the latest period
    and for no earlier one.

    Returns
    -------
    numpy.ndarray of bool or None
    """
    if "produced_by" in extent:
        when = extent["produced_by"].astype("string").fillna("")
        return ((when != "") & (when <= (period or "9999-99"))).to_numpy()
    if period is None or period == latest:
        return np.ones(len(extent), dtype=bool)
    return None


def clip_to(polys: np.ndarray, mask: shapely.Geometry) -> np.ndarray:
    """Each polygon ∩ ``mask``, skipping the work for polygons inside or away from it."""
    out = np.array([shapely.Polygon()] * len(polys), dtype=object)
    shapely.prepare(mask)
    inside = shapely.covers(mask, polys)
    touch = shapely.intersects(mask, polys) & ~inside
    out[inside] = polys[inside]
    if touch.any():
        out[touch] = shapely.intersection(polys[touch], mask)
    return out


def area_coverage(codes, polys: np.ndarray, extent: np.ndarray, *, ids: np.ndarray | None = None,
                  memo: dict | None = None) -> pd.DataFrame:
    """Per area: its area (m²) and the area of its part inside the extent.

    An area covered by a single extent feature counts whole without an overlay; otherwise it is intersected with
    the union of the features that touch it (features may overlap: the union counts each square metre once).

    Parameters
    ----------
    codes : sequence of str
        Area codes (the index of the result).
    polys : numpy.ndarray of polygons
        The areas, in a projected CRS.
    extent : numpy.ndarray of polygons
        Production extent features (already filtered to the period), in the same CRS.
    ids, memo : optional
        Stable identifiers of the ``extent`` features (their positions in the unfiltered layer) and a dict kept
        across calls: an area partly covered by the same features as in an earlier call (another month) reuses
        that overlay instead of computing it again.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bucket`` (the area code) with ``covered_m2`` and ``area_m2``.
    """
    area = shapely.area(polys)
    covered = np.zeros(len(polys))
    present = ~shapely.is_missing(extent) & ~shapely.is_empty(extent) if len(extent) else np.zeros(0, bool)
    ext = extent[present] if len(extent) else extent
    ids = np.asarray(ids)[present] if ids is not None and len(extent) else np.arange(len(ext))
    if len(ext):
        ext = shapely.make_valid(ext)
        tree = shapely.STRtree(ext)
        pi, ei = tree.query(polys, predicate="intersects")
        whole = np.zeros(len(polys), dtype=bool)
        if len(pi):
            shapely.prepare(ext)
            cov = shapely.covers(ext[ei], polys[pi])
            whole[pi[cov]] = True
        covered[whole] = area[whole]
        for i in np.unique(pi[~whole[pi]]) if len(pi) else []:
            sel = ei[pi == i]
            key = (i, tuple(sorted(ids[sel].tolist())))
            if memo is not None and key in memo:
                covered[i] = memo[key]
                continue
            covered[i] = shapely.area(shapely.intersection(polys[i], shapely.union_all(ext[sel])))
            if memo is not None:
                memo[key] = covered[i]
    return pd.DataFrame({"covered_m2": covered, "area_m2": area}, index=pd.Index([str(c) for c in codes], name="bucket"))


def completeness_counts(houses: pd.DataFrame, buildings: pd.DataFrame, buckets: np.ndarray, keys) -> pd.DataFrame:
    """Per community bucket: building references of the house register, and those found in the white model.

    A reference is the building a house names (its ``building_id``, else its ``building_code``), counted once per
    community; houses naming no building are not references (they lower the houses' 上图率 instead).

    Returns
    -------
    pandas.DataFrame
        Indexed by bucket with ``matched`` and ``referenced``.
    """
    return completeness_from_refs(building_refs(houses, buildings, buckets, keys))


def building_refs(houses: pd.DataFrame, buildings: pd.DataFrame, buckets: np.ndarray, keys) -> pd.DataFrame:
    """The distinct ``(bucket, ref)`` building references of houses and whether each is in the white model
    (``matched``), first occurrence kept: what :func:`completeness_counts` counts, for a register read in parts
    (concatenate the parts' references in order, then :func:`completeness_from_refs`)."""
    pos, _, had = code_link(houses, buildings, keys, "building_id")
    ref = pd.Series(pd.NA, index=range(len(houses)), dtype="string")
    for col, _t in reversed(list(keys)):  # the first key present wins, as in the link
        if col in houses:
            v = houses[col].astype("string").reset_index(drop=True)
            ref = v.where(v.notna() & (v != ""), ref)
    df = pd.DataFrame({"bucket": buckets, "ref": ref.to_numpy(), "matched": pos >= 0})
    return df[df["ref"].notna()].drop_duplicates(["bucket", "ref"])


def completeness_from_refs(refs: pd.DataFrame) -> pd.DataFrame:
    """Per community bucket, ``matched`` and ``referenced`` from :func:`building_refs` (parts deduplicated again)."""
    refs = refs.drop_duplicates(["bucket", "ref"])
    return refs.groupby("bucket").agg(matched=("matched", "sum"), referenced=("ref", "size"))
