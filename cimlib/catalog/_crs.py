"""Geometry read in a department's CRS, brought to the workbench's CGCS2000 geographic CRS (EPSG:4490).

Departments deliver in CGCS2000 geographic or Gauss-Krüger zones (3° EPSG:4513–4554, 6° EPSG:4491–4512, with or
without the zone number in front of the easting), Xi'an 1980 and Beijing 1954 zones, and cities' own local systems
(城市独立坐标系) given as WKT or a PROJ string with their transformation parameters. The reader has already checked
the file's CRS against the one declared in the catalog; here the geometry is transformed to EPSG:4490, the CRS every
rule and metric works in, and the source CRS is kept in ``attrs["source_crs"]`` for the inventory.

The transformation is chosen once per source CRS (:func:`workbench_transformer`) and never depends on the network
or on grids that happen to be installed, so a read gives the same coordinates on every machine:

- a CRS with transformation parameters (``+towgs84=`` seven parameters in a PROJ string, ``TOWGS84[...]`` in WKT1, a
  WKT2 ``BOUNDCRS``) is transformed with those parameters. Parameters written against WGS 84 are read as the local
  system's parameters to CGCS2000 (as Chinese surveying offices publish them; the two frames agree at the centimetre
  level), because PROJ knows no WGS 84 → CGCS2000 operation and would otherwise silently drop them;
- any other CRS uses PROJ's first operation that needs no grid file. For Xi'an 1980 and Beijing 1954 there is no
  published transformation to CGCS2000, so PROJ keeps latitude and longitude as they are (a "ballpark" operation,
  off by tens of metres); each read of such a layer emits a :class:`~cimlib.catalog.CatalogWarning` asking for the
  local parameters.

Coordinates that cannot belong to the declared CRS (degrees declared as metres, swapped axes) are transformed like
any others and land outside China (or at infinity), where the GEO-004 rule reports them.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyproj

from cimlib.geo import CGCS2000

from .readers._util import as_pyproj_crs, catalog_warn, crs_equal, crs_label, parse_crs

__all__ = ["to_workbench_crs", "workbench_transformer", "WORKBENCH_CRS"]

WORKBENCH_CRS = CGCS2000
"""The CRS every frame has after :meth:`cimlib.catalog.Catalog.read` (CGCS2000 geographic, lon/lat)."""

_DATUM_ZH = {"Xian 1980": "西安1980坐标系", "Beijing 1954": "北京1954坐标系", "New Beijing": "新1954年北京坐标系"}
_ELLIPSOID_TOLERANCE_M = 0.001  # GRS 80, WGS 84 and CGCS2000 ellipsoids agree to 0.1 mm: the same figure


class _Operation(NamedTuple):
    transformer: pyproj.Transformer
    approximate: bool  # a datum shift without parameters (Xi'an 1980, Beijing 1954 ...): tens of metres off
    datum: str


def _is_workbench(crs: pyproj.CRS) -> bool:
    return not crs.is_bound and crs_equal(crs, WORKBENCH_CRS)


def _same_ellipsoid(crs: pyproj.CRS, other: pyproj.CRS) -> bool:
    a, b = crs.ellipsoid, other.ellipsoid
    if a is None or b is None:
        return False
    return (abs(a.semi_major_metre - b.semi_major_metre) < _ELLIPSOID_TOLERANCE_M
            and abs(a.semi_minor_metre - b.semi_minor_metre) < _ELLIPSOID_TOLERANCE_M)


def _rebound_to_workbench(crs: pyproj.CRS) -> pyproj.CRS:
    """A bound CRS whose parameters lead to WGS 84, re-bound to CGCS2000 with the same parameters."""
    hub = crs.target_crs
    if hub is None or crs_equal(hub, WORKBENCH_CRS) or not crs_equal(hub, "EPSG:4326"):
        return crs
    doc = crs.to_json_dict()
    doc["target_crs"] = pyproj.CRS.from_user_input(WORKBENCH_CRS).to_json_dict()
    return pyproj.CRS.from_json_dict(doc)


@functools.lru_cache(maxsize=64)
def _operation(wkt: str) -> _Operation:
    """The operation from a source CRS (as WKT2) to EPSG:4490; cached, so every read of a CRS uses the same one."""
    source = pyproj.CRS.from_wkt(wkt)
    target = pyproj.CRS.from_user_input(WORKBENCH_CRS)
    datum = source.datum.name if source.datum is not None else (source.name or "")
    if source.is_bound:
        source = _rebound_to_workbench(source)
        if crs_equal(source.target_crs, WORKBENCH_CRS):  # the parameters lead straight to CGCS2000
            return _Operation(pyproj.Transformer.from_crs(source, target, always_xy=True), False, datum)
    group = pyproj.transformer.TransformerGroup(source, target, always_xy=True, allow_ballpark=True)
    # grid-based operations depend on what is installed or downloadable: never use them
    chosen = next((t for t in group.transformers if "grids=" not in t.definition), None)
    if chosen is None:
        chosen = pyproj.Transformer.from_crs(source, target, always_xy=True, allow_ballpark=True)
    ballpark = "ballpark" in (chosen.description or "").lower()
    approximate = ballpark and not source.is_bound and not _same_ellipsoid(source, target)
    return _Operation(chosen, approximate, datum)


def _source_wkt(crs: Any) -> str:
    return as_pyproj_crs(crs).to_wkt()


def workbench_transformer(crs: Any) -> pyproj.Transformer:
    """The transformer :meth:`Catalog.read <cimlib.catalog.Catalog.read>` uses from ``crs`` to EPSG:4490.

    Parameters
    ----------
    crs : object
        Source CRS: a :class:`pyproj.CRS` or anything pyproj accepts (``EPSG:4526``, WKT, PROJ string).

    Returns
    -------
    pyproj.Transformer
        ``always_xy`` (easting/longitude first) transformer; ``transform(..., direction="INVERSE")`` goes back
        from EPSG:4490 to ``crs`` through the same operation.
    """
    return _operation(_source_wkt(crs)).transformer


def _transform_geometries(values: Any, transformer: pyproj.Transformer) -> np.ndarray:
    """Transform an array of shapely geometries (Z kept and transformed where present, like ``to_crs``)."""
    import shapely

    geoms = np.asarray(values, dtype=object).copy()
    present = ~shapely.is_missing(geoms)
    has_z = np.zeros(len(geoms), dtype=bool)
    has_z[present] = shapely.has_z(geoms[present])
    flat, deep = present & ~has_z, present & has_z
    if flat.any():
        geoms[flat] = shapely.transform(geoms[flat], transformer.transform, interleaved=False)
    if deep.any():
        geoms[deep] = shapely.transform(geoms[deep], transformer.transform, include_z=True, interleaved=False)
    return geoms


def _frame_to_workbench(frame: Any, wkt: str, source: str) -> Any:
    """One GeoDataFrame (or a Dask partition) transformed with the cached operation of ``wkt``."""
    import geopandas as gpd

    transformer = _operation(wkt).transformer
    out = frame.copy(deep=False)
    name = frame.geometry.name
    out[name] = gpd.GeoSeries(_transform_geometries(frame.geometry.to_numpy(), transformer), index=frame.index,
                              crs=WORKBENCH_CRS)
    out = out.set_crs(WORKBENCH_CRS, allow_override=True)
    out.attrs["source_crs"] = source
    return out


def _source_crs(entry, found: Any) -> pyproj.CRS:
    """The CRS to transform from: the declared one, unless only the file carries transformation parameters."""
    declared = parse_crs(entry.crs) if getattr(entry, "crs", None) else None
    found = None if found is None else as_pyproj_crs(found)
    if declared is None:
        return found
    if found is not None and found.is_bound and not declared.is_bound:
        return found
    return declared


def _warn_approximate(entry, path: Path, source: pyproj.CRS, operation: _Operation) -> None:
    datum = _DATUM_ZH.get(operation.datum, operation.datum)
    catalog_warn(
        f"声明坐标系 {crs_label(source)}（{datum}）到 CGCS2000（{WORKBENCH_CRS}）未给出转换参数，按椭球近似转换，"
        f"误差可达数十米；请在 crs 中用 +towgs84 给出本地转换参数（七参数，如 "
        f"+proj=tmerc ... +towgs84=dx,dy,dz,rx,ry,rz,ds）",
        getattr(entry, "name", None), path)


def to_workbench_crs(entry, path: Path, obj: Any) -> Any:
    """Transform a vector frame from its (declared, already checked) CRS to EPSG:4490.

    Parameters
    ----------
    entry : CatalogEntry
        Catalog entry (for its declared ``crs``).
    path : pathlib.Path
        What was read (for the warning on a transformation without parameters).
    obj : object
        GeoDataFrame or Dask-GeoPandas frame in the source CRS; any other object is returned unchanged (rasters
        keep their grid: resampling them would change the data).

    Returns
    -------
    object
        The frame in EPSG:4490, with ``attrs["source_crs"]`` naming the source CRS when it was another one (for a
        Dask frame, on every computed partition).

    Warns
    -----
    CatalogWarning
        Once per read when the source datum differs from CGCS2000 and no transformation parameters are known
        (Xi'an 1980, Beijing 1954 without ``+towgs84``): the result may be tens of metres off.
    """
    crs = getattr(obj, "crs", None)
    if crs is None or not hasattr(obj, "to_crs") or hasattr(obj, "rio"):
        return obj
    source = _source_crs(entry, crs)
    if _is_workbench(source):
        if crs_label(crs) != WORKBENCH_CRS:  # the same datum written another way (an ESRI .prj): one label
            obj = obj.set_crs(WORKBENCH_CRS, allow_override=True)
        return obj
    wkt = source.to_wkt()
    operation = _operation(wkt)
    if operation.approximate:
        _warn_approximate(entry, path, source, operation)
    label = crs_label(source)
    if hasattr(obj, "map_partitions"):  # Dask-GeoPandas: the same per partition, lazily
        meta = _frame_to_workbench(obj._meta, wkt, label)
        return obj.map_partitions(_frame_to_workbench, wkt, label, meta=meta)
    return _frame_to_workbench(obj, wkt, label)
