"""Reader for GeoPackage layers."""

from __future__ import annotations

from ._ogr import LayeredOgrReader

__all__ = ["GeoPackageReader"]


class GeoPackageReader(LayeredOgrReader):
    """GeoPackage vector layer; option ``layer`` (name or index), else the only spatial layer."""

    name = "gpkg"
    suffixes = (".gpkg",)
