"""Common base of the readers backed by GDAL/OGR through pyogrio (GeoPackage, Shapefile)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._base import Reader
from ._util import as_str_columns, string_columns

__all__ = ["OgrReader"]


class OgrReader(Reader):
    """Vector layer read with :func:`pyogrio.read_dataframe`; subclasses choose layer and encoding."""

    spatial = True

    def ogr_kwargs(self, entry, path: Path) -> dict[str, Any]:
        """Extra keyword arguments for pyogrio (``layer``, ``encoding``).

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Data file.

        Returns
        -------
        dict
            Keyword arguments passed to ``read_dataframe`` and ``read_info``.
        """
        return {}

    def open(self, entry, path: Path, columns: Sequence[str] | None = None) -> Any:
        """Read the layer as a GeoDataFrame in the declared CRS.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Data file.
        columns : sequence of str, optional
            Attribute columns to read (geometry always read).

        Returns
        -------
        geopandas.GeoDataFrame
            Layer; identifier and ``options.dtype`` columns as strings.

        Raises
        ------
        CRSMismatchError
            If the file CRS differs from the declared one.
        """
        import pyogrio

        frame = pyogrio.read_dataframe(path, columns=list(columns) if columns is not None else None, **self.ogr_kwargs(entry, path))
        frame = as_str_columns(frame, string_columns(entry))
        return self.with_declared_crs(entry, path, frame, frame.crs, lambda f, crs: f.set_crs(crs))

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """Feature count, fields, CRS, geometry type and (cheap) bounds from :func:`pyogrio.read_info`.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Data file.

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`.
        """
        import pyogrio

        info = pyogrio.read_info(path, **self.ogr_kwargs(entry, path))
        rows = info.get("features")
        bounds = info.get("total_bounds")
        geometry_type = info.get("geometry_type")
        return self.summary(
            entry,
            path,
            rows=int(rows) if rows is not None and rows >= 0 else None,
            columns=[str(c) for c in info.get("fields", [])],
            crs=info.get("crs"),
            geometry_type=geometry_type if geometry_type not in (None, "Unknown") else None,
            bounds=bounds if bounds is not None and all(map(_finite, bounds)) else None,
        )


def _finite(value: float) -> bool:
    """Whether a bound is a finite number."""
    return value is not None and value == value and abs(value) != float("inf")
