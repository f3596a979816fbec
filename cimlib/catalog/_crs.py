"""Geometry read in a department's CRS, brought to the workbench's CGCS2000 geographic CRS (EPSG:4490).

Departments deliver in CGCS2000 geographic or Gauss-Krüger zones (3° EPSG:4513–4554, 6° EPSG:4491–4512, with or
without the zone number in front of the easting), Xi'an 1980 and Beijing 1954 zones, and cities' own local systems
(城市独立坐标系) given as WKT or a PROJ string with their transformation parameters. The reader has already checked
the file's CRS against the one declared in the catalog; here the geometry is transformed to EPSG:4490, the CRS every
rule and metric works in, and the source CRS is kept in ``attrs["source_crs"]`` for the inventory.

Coordinates that cannot belong to the declared CRS (degrees declared as metres, swapped axes) are transformed like
any others and land outside China (or at infinity), where the GEO-004 rule reports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cimlib.geo import CGCS2000

from .readers._util import crs_equal, crs_label

__all__ = ["to_workbench_crs", "WORKBENCH_CRS"]

WORKBENCH_CRS = CGCS2000
"""The CRS every frame has after :meth:`cimlib.catalog.Catalog.read` (CGCS2000 geographic, lon/lat)."""


def _is_workbench(crs: Any) -> bool:
    return crs_equal(crs, WORKBENCH_CRS)


def to_workbench_crs(entry, path: Path, obj: Any) -> Any:
    """Transform a vector frame from its (declared, already checked) CRS to EPSG:4490.

    Parameters
    ----------
    entry : CatalogEntry
        Catalog entry (for its declared ``crs``).
    path : pathlib.Path
        What was read (unused; for symmetry with the other read steps).
    obj : object
        GeoDataFrame or Dask-GeoPandas frame in the source CRS; any other object is returned unchanged (rasters
        keep their grid: resampling them would change the data).

    Returns
    -------
    object
        The frame in EPSG:4490, with ``attrs["source_crs"]`` naming the source CRS when it was another one.
    """
    crs = getattr(obj, "crs", None)
    if crs is None or not hasattr(obj, "to_crs") or hasattr(obj, "rio"):
        return obj
    if _is_workbench(crs):
        if crs_label(crs) != WORKBENCH_CRS:  # the same datum written another way (an ESRI .prj): one label
            obj = obj.set_crs(WORKBENCH_CRS, allow_override=True)
        return obj
    source = crs_label(crs)
    out = obj.to_crs(WORKBENCH_CRS)
    attrs = getattr(out, "attrs", None)
    if isinstance(attrs, dict):
        attrs["source_crs"] = source
    return out
