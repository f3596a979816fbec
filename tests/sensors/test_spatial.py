"""Road coverage by sensing devices and device density, on small geometry with known answers."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cimlib.sensors import road_coverage, street_density
from estimates import covered_road_km

CRS = "EPSG:4547"   # CGCS2000 3-degree Gauss-Krüger, central meridian 114°E
X0, Y0 = 500_000.0, 3_500_000.0


@pytest.fixture()
def road():
    return gpd.GeoDataFrame({"road_id": ["R1"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 1000, Y0)])], crs=CRS)


def _devices(*xy):
    return gpd.GeoDataFrame({"device_id": [f"D{i}" for i in range(len(xy))], "device_type": ["WP"] * len(xy)},
                            geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


@pytest.mark.parametrize("xy, covered_m", [
    ([(500, 0)], 100.0),                     # on the road: 2 x 50 m
    ([(500, 30)], 80.0),                     # 30 m off: 2 x sqrt(50² - 30²)
    ([(500, 0), (520, 0)], 120.0),           # overlapping discs count once
    ([(20, 0)], 70.0),                       # near the road's end
    ([(500, 60)], 0.0),                      # too far
])
def test_covered_length_in_metres(road, xy, covered_m):
    cov = road_coverage(road.to_crs("EPSG:4490"), _devices(*xy).to_crs("EPSG:4490"), distance_m=50, crs=CRS)
    top = cov.iloc[0]
    assert top["covered_km"] * 1000 == pytest.approx(covered_m, abs=0.5)   # discs are 64-gons
    assert top["road_km"] == pytest.approx(1.0, abs=1e-6)
    assert top["share"] == pytest.approx(covered_m / 1000, abs=5e-4)


def test_per_street_rows_add_up(road):
    streets = gpd.GeoDataFrame({"area_code": ["A", "B"], "name": ["甲", "乙"]}, geometry=[
        shapely.box(X0 - 10, Y0 - 500, X0 + 400, Y0 + 500), shapely.box(X0 + 400, Y0 - 500, X0 + 1010, Y0 + 500)],
        crs=CRS)
    cov = road_coverage(road, _devices((390, 0), (900, 0)), distance_m=50, streets=streets, crs=CRS)
    st = cov[cov["area_level"] == "street"].set_index("area_code")
    assert st.loc["A", "road_km"] == pytest.approx(0.4) and st.loc["B", "road_km"] == pytest.approx(0.6)
    assert st.loc["A", "covered_km"] == pytest.approx(0.06) and st.loc["B", "covered_km"] == pytest.approx(0.14)
    assert st["covered_km"].sum() == pytest.approx(cov.iloc[0]["covered_km"])
    assert st["devices"].tolist() == [1, 1]
    dens = street_density(_devices((100, 0), (900, 0), (950, 0)), streets).set_index("area_code")
    assert dens.loc["A", "devices"] == 1 and dens.loc["B", "devices"] == 2
    assert dens.loc["B", "per_km2"] == pytest.approx(2 / 0.61, rel=1e-3)


def test_bad_distance_and_missing_crs(road):
    with pytest.raises(ValueError, match="覆盖距离"):
        road_coverage(road, _devices((0, 0)), distance_m=0)
    with pytest.raises(ValueError, match="坐标系"):
        road_coverage(road.set_crs(None, allow_override=True), _devices((0, 0)))


def test_grid_density_counts_every_located_device(sensor_run):
    _, catalog, _, result = sensor_run
    devices = catalog.read("devices")
    g = result.density_grid
    assert g["devices"].sum() == devices.geometry.notna().sum()
    assert g["grid_code"].str.len().eq(9).all()                       # level 4: 9 characters
    assert g["area_km2"].between(2.0, 3.5).all()                      # 1' x 1' near 31°N
    np.testing.assert_allclose(g["per_km2"], g["devices"] / g["area_km2"])
    types = [c for c in g.columns if c not in ("grid_code", "level", "devices", "area_km2", "per_km2")]
    assert (g[types].sum(axis=1) == g["devices"]).all()


def test_city_road_coverage_uses_only_devices_that_reported(sensor_run):
    _, catalog, truth, result = sensor_run
    d = truth["defects"]
    offline = d.loc[d["defect"] == "device_offline", "record_id"]
    cov = result.coverage
    assert cov.iloc[0]["devices"] == len(catalog.read("devices")) - len(offline)
    streets = cov[cov["area_level"] == "street"]
    assert streets["covered_km"].sum() == pytest.approx(cov.iloc[0]["covered_km"], rel=1e-6)
    # independent estimate: points every 2 m along the roads, the share within 50 m of a reporting device
    roads = catalog.read("roads").to_crs(CRS)
    online = set(result.health_daily.loc[result.health_daily["received"] > 0, "device_id"])
    dev = catalog.read("devices")
    dev = dev[dev["device_id"].isin(online)].to_crs(CRS)
    estimate_km, road_km = covered_road_km(roads.geometry.to_numpy(), dev.geometry.to_numpy())
    assert cov.iloc[0]["covered_km"] == pytest.approx(estimate_km, rel=0.01)
    assert cov.iloc[0]["road_km"] == pytest.approx(road_km, rel=1e-6)
