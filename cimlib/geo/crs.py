"""CGCS2000 coordinate reference systems used by Chinese CIM data."""

from __future__ import annotations

import math

import numpy as np
import shapely

CGCS2000 = "EPSG:4490"
"""CGCS2000 geographic (lon/lat), the national datum of CIM vector data (CJJ/T 315-2022)."""

# EPSG:4534 is "CGCS2000 / 3-degree Gauss-Kruger CM 75E"; codes run consecutively to CM 135E (EPSG:4554).
_GK3_FIRST_EPSG = 4534
_GK3_FIRST_CM = 75
_GK3_LAST_CM = 135


def gauss_kruger_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (central-meridian form) for a longitude.

    Areas and lengths are computed in this projected CRS, never in degrees (STANDARDS.md §4).

    Parameters
    ----------
    lon : float
        Longitude in degrees east (73.5 .. 135.5 for China).

    Returns
    -------
    int
        EPSG code, e.g. 4547 for the 114°E zone (CGCS2000 / 3-degree Gauss-Kruger CM 114E).

    Raises
    ------
    ValueError
        If the longitude lies outside the zones defined for China.
    """
    cm = 3 * int(math.floor(lon / 3.0 + 0.5))
    if not _GK3_FIRST_CM <= cm <= _GK3_LAST_CM:
        raise ValueError(f"经度 {lon} 不在中国 3 度带（中央经线 75°E–135°E）范围内")
    return _GK3_FIRST_EPSG + (cm - _GK3_FIRST_CM) // 3


def gauss_kruger_crs(lon: float) -> str:
    """``"EPSG:NNNN"`` string of :func:`gauss_kruger_epsg` for a longitude."""
    return f"EPSG:{gauss_kruger_epsg(lon)}"


CHINA_EXTENT = (73.4, 3.8, 135.1, 53.6)
"""lon_min, lat_min, lon_max, lat_max of China in CGCS2000 degrees (GEO-004; the limit of anything projected)."""


def inside_china(geoms) -> np.ndarray:
    """True where a geometry (lon/lat degrees) lies inside :data:`CHINA_EXTENT`; False for missing or empty ones.

    Parameters
    ----------
    geoms : array_like of shapely geometries

    Returns
    -------
    numpy.ndarray of bool
    """
    g = np.asarray(geoms, dtype=object)
    ok = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    b = np.full((len(g), 4), np.nan)
    b[ok] = shapely.bounds(g[ok])
    x0, y0, x1, y1 = CHINA_EXTENT
    return ok & (b[:, 0] >= x0) & (b[:, 2] <= x1) & (b[:, 1] >= y0) & (b[:, 3] <= y1)
