"""CGCS2000 coordinate reference systems used by Chinese CIM data."""

from __future__ import annotations

import math

import numpy as np
import shapely

CGCS2000 = "EPSG:4490"
"""CGCS2000 geographic (lon/lat), the national datum of CIM vector data (CJJ/T 315-2022)."""

# CGCS2000 Gauss-Krüger EPSG codes run consecutively over China's zones in four families: (zone width, zone number
# written in front of the easting) -> first code. 3° zones 25-45 (central meridians 75°E-135°E), 6° zones 13-23.
_GK_FIRST_EPSG = {(3, False): 4534, (3, True): 4513, (6, False): 4502, (6, True): 4491}
_GK_ZONES = {3: (25, 45), 6: (13, 23)}


def gauss_kruger_zone(lon: float, width: int = 3) -> int:
    """Number of the Gauss-Krüger zone of a longitude (3°: central meridian ``3 × zone``; 6°: ``6 × zone − 3``).

    Parameters
    ----------
    lon : float
        Longitude in degrees east.
    width : {3, 6}, default 3
        Zone width in degrees.

    Returns
    -------
    int
        Zone number (not checked against China's zones: see :func:`zone_epsg`).
    """
    if width == 3:
        return int(math.floor(lon / 3.0 + 0.5))
    if width == 6:
        return int(math.floor(lon / 6.0)) + 1
    raise ValueError(f"高斯-克吕格投影带宽应为 3 或 6 度，而不是 {width!r}")


def zone_epsg(zone: int, width: int = 3, *, zone_prefix: bool = False) -> int:
    """EPSG code of a CGCS2000 Gauss-Krüger zone.

    Parameters
    ----------
    zone : int
        Zone number (3°: 25–45; 6°: 13–23).
    width : {3, 6}, default 3
        Zone width in degrees.
    zone_prefix : bool, default False
        The zone number is written in front of the easting (EPSG:4513–4533, 4491–4501), rather than the
        central-meridian form (EPSG:4534–4554, 4502–4512).

    Returns
    -------
    int
        EPSG code, e.g. 4526 for 3° zone 38 with prefix, 4547 without.

    Raises
    ------
    ValueError
        If the zone lies outside the zones defined for China.
    """
    if width not in _GK_ZONES:
        raise ValueError(f"高斯-克吕格投影带宽应为 3 或 6 度，而不是 {width!r}")
    first, last = _GK_ZONES[width]
    if not first <= zone <= last:
        raise ValueError(f"{width} 度带第 {zone} 带不在中国的投影带（第 {first}–{last} 带）范围内")
    return _GK_FIRST_EPSG[(width, bool(zone_prefix))] + zone - first


def gauss_kruger_epsg(lon: float, *, width: int = 3, zone_prefix: bool = False) -> int:
    """EPSG code of the CGCS2000 Gauss-Krüger zone for a longitude (3° central-meridian form by default).

    Areas and lengths are computed in the 3° zone, never in degrees (STANDARDS.md §4).

    Parameters
    ----------
    lon : float
        Longitude in degrees east (73.5 .. 135.5 for China).
    width : {3, 6}, default 3
        Zone width in degrees.
    zone_prefix : bool, default False
        The form with the zone number in front of the easting.

    Returns
    -------
    int
        EPSG code, e.g. 4547 for the 114°E zone (CGCS2000 / 3-degree Gauss-Kruger CM 114E), 4526 with the prefix.

    Raises
    ------
    ValueError
        If the longitude lies outside the zones defined for China.
    """
    try:
        return zone_epsg(gauss_kruger_zone(lon, width), width, zone_prefix=zone_prefix)
    except ValueError:
        raise ValueError(f"经度 {lon} 不在中国 {width} 度带（中央经线 75°E–135°E）范围内") from None


def gauss_kruger_crs(lon: float, *, width: int = 3, zone_prefix: bool = False) -> str:
    """``"EPSG:NNNN"`` string of :func:`gauss_kruger_epsg` for a longitude."""
    return f"EPSG:{gauss_kruger_epsg(lon, width=width, zone_prefix=zone_prefix)}"


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
