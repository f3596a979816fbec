"""Reader for plain (Geo-less) Parquet: a file, or a (hive-)partitioned folder read with Dask."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._base import Reader
from ._util import as_str_columns, points_from_columns, string_columns, with_columns

__all__ = ["ParquetReader", "parquet_metadata"]


def parquet_metadata(path: Path) -> tuple[int, list[str], dict[bytes, bytes]]:
    """Row count, column names and key-value metadata of a Parquet file or folder, from footers only.

    Parameters
    ----------
    path : pathlib.Path
        Parquet file, or folder of parts (hive partition columns included).

    Returns
    -------
    tuple
        ``(rows, columns, metadata)``; ``metadata`` is the key-value metadata of the (first) file.
    """
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if path.is_dir():
        dataset = ds.dataset(path, format="parquet", partitioning="hive")
        files = dataset.files
        metadata = dict(pq.read_schema(files[0]).metadata or {}) if files else {}
        return dataset.count_rows(), list(dataset.schema.names), metadata
    parquet = pq.ParquetFile(path)
    return parquet.metadata.num_rows, list(parquet.schema_arrow.names), dict(parquet.schema_arrow.metadata or {})


class ParquetReader(Reader):
    """Parquet table; a folder gives a Dask DataFrame, options ``x``/``y`` give point geometry."""

    name = "parquet"
    accepts_folder = True
    suffixes = (".parquet", ".pq")
    options = {"x": str, "y": str, "dtype": (list, str), "scheduler": str}
    """``scheduler``: a ``dask.distributed`` address for the work on this (partitioned) table (``cimlib.sensors``)."""

    def open(self, entry, path: Path, columns: Sequence[str] | None = None) -> Any:
        """Read a Parquet file (pandas/GeoPandas) or folder (Dask/Dask-GeoPandas).

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Parquet file or partitioned folder.
        columns : sequence of str, optional
            Columns to read (``x``/``y`` are read too when needed for the geometry).

        Returns
        -------
        pandas.DataFrame, geopandas.GeoDataFrame, dask DataFrame or dask_geopandas GeoDataFrame
            Table; identifier and ``options.dtype`` columns as strings.
        """
        x, y = entry.options.get("x"), entry.options.get("y")
        wanted = with_columns(columns, x, y)
        str_cols = string_columns(entry)
        if path.is_dir():
            import dask.dataframe as dd

            frame = dd.read_parquet(path, columns=wanted)
            if any(c in frame.columns for c in str_cols):
                frame = frame.map_partitions(as_str_columns, str_cols)
            if x and y:
                import dask_geopandas  # noqa: F401  (registers the GeoDataFrame collection)

                frame = frame.map_partitions(points_from_columns, x, y, entry.crs, entry.name, path)
        else:
            import pandas as pd

            frame = as_str_columns(pd.read_parquet(path, columns=wanted), str_cols)
            if x and y:
                frame = points_from_columns(frame, x, y, entry.crs, entry.name, path)
        if columns is not None and x and y:
            keep = [c for c in frame.columns if c in columns or c == "geometry"]
            frame = frame[keep]
        return frame

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """Rows and columns from the Parquet footers.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Parquet file or folder.

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`; ``geometry_type`` is ``Point`` when ``x``/``y`` are set.
        """
        rows, columns, _ = parquet_metadata(path)
        point = "Point" if entry.options.get("x") else None
        return self.summary(entry, path, rows=rows, columns=columns, geometry_type=point)
