"""Administrative areas of the sample city: the real county and its real streets, synthetic communities."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cimlib.codes.divisions import streets_of
from cimlib.demo._geom import spread_points, voronoi_partition
from cimlib.demo._names import unique_place_names


@dataclass
class AdminAreas:
    """Admin areas in the projected CRS, plus the city centre and the central urban area."""

    areas: gpd.GeoDataFrame  # area_code, name, level, parent_code, kind, smart_community, geometry
    center: np.ndarray  # (x, y)
    radius: float  # radius of a disc with the county's area, metres
    central_area: shapely.Geometry

    def level(self, level: str) -> gpd.GeoDataFrame:
        return self.areas[self.areas["level"] == level].reset_index(drop=True)


def build_admin(rng: np.random.Generator, county_info: dict, outline_proj: shapely.Geometry, crs: str,
                communities_per_street: int) -> AdminAreas:
    """Partition the county outline into its real streets and synthetic communities (Voronoi cells).

    街道 (urban sub-districts) are placed near the city centre and are small; 镇/乡 and other town-level units
    spread over the rest of the county. Communities (社区/村) partition each street; codes follow 统计用区划代码
    (street code + 3 digits, 001–199 居委会/社区, 200–399 村委会).
    """
    streets = streets_of(county_info["code"])
    if streets.empty:  # counties without town-level rows in the reference table: one pseudo-street
        streets = pd.DataFrame({"code": [county_info["code"] + "001"], "name": [county_info["name"] + "城区街道"],
                                "kind": ["街道"]})
    region = outline_proj
    c = shapely.centroid(region)
    if not region.contains(c):
        c = shapely.point_on_surface(region)
    center = np.array([c.x, c.y])
    radius = float(np.sqrt(region.area / np.pi))

    is_urban = (streets["kind"] == "街道").to_numpy()
    n_urban = int(is_urban.sum())
    seeds = np.zeros((len(streets), 2))
    if n_urban:
        core = shapely.intersection(region, shapely.Point(center).buffer(0.22 * radius))
        seeds[is_urban] = spread_points(core, n_urban, rng)
    if (~is_urban).any():
        outer = shapely.difference(region, shapely.Point(center).buffer(0.3 * radius))
        if outer.is_empty or outer.area < 0.05 * region.area:
            outer = region
        seeds[~is_urban] = spread_points(outer, int((~is_urban).sum()), rng, avoid=seeds[is_urban] if n_urban else None)
    street_geoms = voronoi_partition(seeds, region)

    rows = [{"area_code": county_info["code"], "name": county_info["name"], "level": "区", "parent_code": county_info["city_code"] + "00",
             "kind": "区县", "smart_community": pd.NA, "geometry": region}]
    for i, st in streets.reset_index(drop=True).iterrows():
        rows.append({"area_code": st["code"], "name": st["name"], "level": "街道", "parent_code": county_info["code"],
                     "kind": st["kind"], "smart_community": pd.NA, "geometry": street_geoms[i]})
        urban = st["kind"] == "街道"
        k = max(2, communities_per_street + int(rng.integers(-1, 2)))
        n_comm = k if urban else max(1, k // 4)
        n_vill = 0 if urban else k - n_comm
        cseeds = spread_points(street_geoms[i], k, rng)
        cells = voronoi_partition(cseeds, street_geoms[i])
        names = np.concatenate([unique_place_names(rng, n_comm, "社区"), unique_place_names(rng, n_vill, "村")])
        codes = [f"{st['code']}{j + 1:03d}" for j in range(n_comm)] + [f"{st['code']}{200 + j + 1:03d}" for j in range(n_vill)]
        smart = rng.random(k) < (0.45 if urban else 0.12)
        for j in range(k):
            rows.append({"area_code": codes[j], "name": names[j], "level": "社区", "parent_code": st["code"],
                         "kind": "社区" if j < n_comm else "村", "smart_community": bool(smart[j]), "geometry": cells[j]})
    areas = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    areas["smart_community"] = areas["smart_community"].astype("boolean")
    urban_streets = areas[(areas["level"] == "街道") & (areas["kind"] == "街道")]
    if len(urban_streets):
        central = shapely.union_all(urban_streets.geometry.to_numpy())
    else:
        hit = areas[(areas["level"] == "街道") & areas.contains(shapely.Point(center))]
        central = hit.geometry.iloc[0] if len(hit) else region
    return AdminAreas(areas=areas, center=center, radius=radius, central_area=central)
