"""Reader for GeoParquet: a file (GeoPandas) or a folder of parts (Dask-GeoPandas)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ReadError
from ._base import Reader
from ._util import as_str_columns, string_columns, with_columns
from .parquet import parquet_metadata, row_range

__all__ = ["GeoParquetReader"]

_CRS84 = "OGC:CRS84"  # GeoParquet default when a geometry column has no "crs" member


def _geo_metadata(metadata: dict[bytes, bytes], entry: str, path: Path) -> dict[str, Any]:
    """Decode the GeoParquet ``geo`` key-value metadata, raising :class:`ReadError` when absent."""
    raw = metadata.get(b"geo")
    if raw is None:
        raise ReadError("不是 GeoParquet 文件（缺少 geo 元数据）；普通 Parquet 请使用 format: parquet", entry=entry, path=path)
    return json.loads(raw)


def _bbox2d(bbox: list[float] | None) -> tuple[float, ...] | None:
    """Reduce a GeoParquet ``bbox`` (4 or 6 numbers) to ``(minx, miny, maxx, maxy)``."""
    if not bbox:
        return None
    if len(bbox) == 6:
        return (bbox[0], bbox[1], bbox[3], bbox[4])
    return tuple(bbox[:4]) if len(bbox) == 4 else None


class GeoParquetReader(Reader):
    """GeoParquet vector layer; CRS from the ``geo`` metadata checked against the declared one."""

    name = "geoparquet"
    spatial = True
    accepts_folder = True
    row_ranges = True
    suffixes = (".parquet", ".geoparquet", ".pq")
    options = {"dtype": (list, str)}

    def open(self, entry, path: Path, columns: Sequence[str] | None = None, rows: tuple[int, int] | None = None) -> Any:
        """Read a GeoParquet file or folder.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            GeoParquet file, or folder of parts.
        columns : sequence of str, optional
            Attribute columns to read; the primary geometry column is always read.
        rows : tuple of int, optional
            ``(start, stop)``: only these rows of a file (:func:`cimlib.catalog.readers.parquet.row_range`).

        Returns
        -------
        geopandas.GeoDataFrame or dask_geopandas.GeoDataFrame
            Layer in the declared CRS.

        Raises
        ------
        CRSMismatchError
            If the file CRS differs from the declared one.
        ReadError
            If the file is not GeoParquet or cannot be parsed.
        """
        _, _, metadata = parquet_metadata(path)
        geometry = _geo_metadata(metadata, entry.name, path).get("primary_column", "geometry")
        wanted = with_columns(columns, geometry)
        str_cols = string_columns(entry)
        if path.is_dir():
            import dask_geopandas

            frame = dask_geopandas.read_parquet(path, columns=wanted)
            if any(c in frame.columns for c in str_cols):
                frame = frame.map_partitions(as_str_columns, str_cols)
        else:
            import geopandas as gpd

            source = path if rows is None else row_range(path, *rows, columns=wanted)
            frame = as_str_columns(gpd.read_parquet(source, columns=wanted), str_cols)
        return self.with_declared_crs(entry, path, frame, frame.crs, lambda f, crs: f.set_crs(crs))

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """Rows, columns, CRS, geometry types and bbox from the Parquet footer and ``geo`` metadata.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            GeoParquet file or folder (bounds are taken from the first part of a folder only if single).

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`.
        """
        import pyproj

        rows, columns, metadata = parquet_metadata(path)
        geo = _geo_metadata(metadata, entry.name, path)
        column = geo.get("columns", {}).get(geo.get("primary_column", "geometry"), {})
        crs = column.get("crs", _CRS84)
        crs = pyproj.CRS.from_user_input(crs) if crs is not None else None
        types = column.get("geometry_types") or []
        bounds = column.get("bbox") if not path.is_dir() else None
        return self.summary(
            entry,
            path,
            rows=rows,
            columns=columns,
            crs=crs,
            geometry_type="/".join(types) if types else None,
            bounds=_bbox2d(bounds),
        )
