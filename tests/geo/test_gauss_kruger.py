"""CGCS2000 Gauss-Krüger zone codes: the four families (3°/6°, with or without the zone number in the easting)."""

import pyproj
import pytest

from cimlib.geo import gauss_kruger_epsg, gauss_kruger_zone, zone_epsg


@pytest.mark.parametrize(("lon", "width", "prefix", "code"), [
    (113.3, 3, False, 4547), (113.3, 3, True, 4526), (113.3, 6, False, 4508), (113.3, 6, True, 4497),
    (75.0, 3, False, 4534), (135.0, 3, True, 4533), (87.6, 6, False, 4504), (87.6, 3, True, 4517),
])
def test_code_of_a_longitude(lon, width, prefix, code):
    assert gauss_kruger_epsg(lon, width=width, zone_prefix=prefix) == code


@pytest.mark.parametrize("width", [3, 6])
@pytest.mark.parametrize("prefix", [False, True])
def test_every_zone_code_names_its_own_central_meridian(width, prefix):
    first, last = {3: (25, 45), 6: (13, 23)}[width]
    for zone in range(first, last + 1):
        crs = pyproj.CRS.from_epsg(zone_epsg(zone, width, zone_prefix=prefix))
        cm = 3 * zone if width == 3 else 6 * zone - 3
        assert crs.name.startswith("CGCS2000") and (("3-degree" in crs.name) == (width == 3))  # 6° names say no width
        assert (f"zone {zone}" in crs.name.lower()) if prefix else (f"CM {cm}E" in crs.name), crs.name
        assert gauss_kruger_zone(cm, width) == zone


def test_outside_china_is_an_error():
    with pytest.raises(ValueError, match="不在中国 3 度带"):
        gauss_kruger_epsg(10.0)
    with pytest.raises(ValueError, match="第 24 带"):
        zone_epsg(24, 6)
