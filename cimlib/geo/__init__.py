"""Coordinate reference systems and datum helpers (CGCS2000, Gauss-Krüger zones, GCJ-02)."""

from cimlib.geo.crs import (CGCS2000, CHINA_EXTENT, gauss_kruger_crs, gauss_kruger_epsg, gauss_kruger_zone, inside_china,
                            zone_epsg)
from cimlib.geo.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02

__all__ = ["CGCS2000", "CHINA_EXTENT", "inside_china", "gauss_kruger_crs", "gauss_kruger_epsg", "gauss_kruger_zone", "zone_epsg", "gcj02_to_wgs84", "wgs84_to_gcj02"]
