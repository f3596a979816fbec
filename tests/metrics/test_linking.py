"""Linking on small hand-made layers: code first, then point-in-footprint within a tolerance, with reasons."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cimlib.metrics.linking import code_link, link_addresses, link_records, spatial_match

CRS = "EPSG:4547"  # CGCS2000 3-degree Gauss-Krüger, central meridian 114°E: metres
X0, Y0 = 500_000.0, 3_500_000.0


def _box(x, y, w=20.0):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + w)


@pytest.fixture()
def layers():
    buildings = gpd.GeoDataFrame({"building_id": ["B1", "B2", "B3", "B4"], "building_code": ["C1", "C2", "CX", "CX"]},
                                 geometry=[_box(0, 0), _box(100, 0), _box(200, 0), _box(300, 0)], crs=CRS)
    admin = gpd.GeoDataFrame({"area_code": ["421303", "421303001", "421303001001", "421303001002"],
                              "level": ["区", "街道", "社区", "社区"]},
                             geometry=[shapely.box(X0 - 50, Y0 - 50, X0 + 450, Y0 + 50), shapely.box(X0 - 50, Y0 - 50, X0 + 450, Y0 + 50),
                                       shapely.box(X0 - 50, Y0 - 50, X0 + 150, Y0 + 50), shapely.box(X0 + 150, Y0 - 50, X0 + 450, Y0 + 50)],
                             crs=CRS)
    return buildings, admin


def _addresses(rows):
    ids, bids, pts, comm = zip(*rows)
    return gpd.GeoDataFrame({"address_id": ids, "building_id": bids, "street_code": "421303001", "community_code": comm},
                            geometry=[None if p is None else shapely.Point(X0 + p[0], Y0 + p[1]) for p in pts], crs=CRS)


def test_code_first_then_space_then_none(layers):
    buildings, admin = layers
    a = _addresses([
        ("A1", "B1", (10, 10), "421303001001"),      # code resolves
        ("A2", "", (110, 10), "421303001001"),        # no code: inside B2 -> spatial, distance 0
        ("A3", "B9", (123, 10), "421303001001"),      # dangling code: 3 m east of B2 -> spatial within 5 m
        ("A4", "", (130, 10), "421303001001"),        # 10 m from B2: none
        ("A5", "B1", None, "421303001001"),           # no coordinates
        ("A6", "B4", (310, 10), "421303001001"),      # point in the other community than claimed
        ("A7", "B3", (210, 10), "421303009999"),      # unknown community code
    ])
    links = link_addresses(a, buildings, admin, tolerance_m=5.0, crs=CRS).set_index("record_id")
    assert links.loc["A1", ["method", "key", "target_id"]].tolist() == ["code", "building_id", "B1"]
    assert links.loc["A2", ["method", "target_id", "distance_m"]].tolist() == ["spatial", "B2", 0.0]
    assert links.loc["A3", "method"] == "spatial" and links.loc["A3", "distance_m"] == pytest.approx(3.0)
    assert links.loc["A4", "method"] == "none" and "未匹配到建筑物" in links.loc["A4", "reason"]
    assert links.loc["A5", "reason"] == "无坐标" and links.loc["A5", "method"] == "code"
    assert not links.loc["A6", "in_area"] and "不在所属社区" in links.loc["A6", "reason"]
    assert "区划代码" in links.loc["A7", "reason"]
    assert links["on_map"].tolist() == [True, True, True, False, False, False, False]


def test_tolerance_is_in_metres_even_for_a_lon_lat_layer(layers):
    buildings, admin = layers
    a = _addresses([("A3", "", (123, 10), "421303001001")])
    ll = link_addresses(a.to_crs(4490), buildings.to_crs(4490), admin.to_crs(4490), tolerance_m=5.0, crs=CRS)
    assert ll.loc[0, "method"] == "spatial" and ll.loc[0, "distance_m"] == pytest.approx(3.0, abs=0.01)
    strict = link_addresses(a.to_crs(4490), buildings.to_crs(4490), admin.to_crs(4490), tolerance_m=2.0, crs=CRS)
    assert strict.loc[0, "method"] == "none"


def test_a_code_naming_two_buildings_does_not_link():
    target = pd.DataFrame({"building_id": ["B1", "B2", "B3"], "building_code": ["C1", "CX", "CX"]})
    frame = pd.DataFrame({"building_id": [None, "B2", None, "B7"], "building_code": ["C1", None, "CX", None]})
    pos, key, had = code_link(frame, target, (("building_id", "building_id"), ("building_code", "building_code")), "building_id")
    assert pos.tolist() == [0, 1, -1, -1]
    assert key.tolist() == ["building_code", "building_id", "", ""]
    assert had.tolist() == [True, True, True, True]


def test_link_records_reasons():
    target = pd.DataFrame({"address_id": ["A1", "A2"]})
    persons = pd.DataFrame({"person_id": ["P1", "P2", "P3", "P4"], "address_id": ["A1", "A2", "A9", None]})
    out = link_records(persons, target, keys=(("address_id", "address_id"),), id_column="person_id", target_id="address_id",
                       target_on_map=np.array([True, False]))
    assert out.on_map.tolist() == [True, False, False, False]
    assert out.reason.tolist() == ["", "关联的标准地址未上图", "关联的标准地址不存在", "未关联标准地址"]
    assert out.method.tolist() == ["code", "code", "none", "none"]


def test_partitioned_spatial_match_agrees_with_the_direct_one():
    rng = np.random.default_rng(3)
    cx, cy = rng.uniform(0, 2000, 400), rng.uniform(0, 2000, 400)
    fp = gpd.GeoSeries(shapely.box(X0 + cx, Y0 + cy, X0 + cx + 15, Y0 + cy + 12), crs=CRS)
    pts = gpd.GeoSeries(shapely.points(X0 + rng.uniform(0, 2000, 3000), Y0 + rng.uniform(0, 2000, 3000)), crs=CRS)
    direct = spatial_match(pts, fp, 5.0, CRS)
    parts = spatial_match(pts, fp, 5.0, CRS, partition_rows=500)
    np.testing.assert_array_equal(direct[0], parts[0])
    np.testing.assert_allclose(direct[1], parts[1], equal_nan=True)
    assert (direct[0] >= 0).sum() > 50
