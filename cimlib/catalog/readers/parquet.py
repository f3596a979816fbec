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


def row_range(path: Path, start: int, stop: int, columns: Sequence[str] | None = None):
    """Rows ``[start, stop)`` of a Parquet file, as an in-memory Parquet file of those rows only.

    Only the row groups holding the range are read. The result keeps the file's schema and key-value metadata
    (pandas and GeoParquet ``geo``), so ``pandas.read_parquet`` / ``geopandas.read_parquet`` of it give the same
    types as reading the whole file (a partition of :mod:`standards_checks.backends.partitioned`).

    Parameters
    ----------
    path : pathlib.Path
        A Parquet file (not a folder).
    start, stop : int
        Row positions in the file.
    columns : sequence of str, optional
        Columns to keep (those absent from the file are skipped).

    Returns
    -------
    io.BytesIO
    """
    import io

    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    meta = parquet.metadata
    names = parquet.schema_arrow.names
    cols = None if columns is None else [c for c in names if c in set(columns)]
    groups, offset, first = [], 0, None
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if offset + n > start and offset < stop:
            groups.append(g)
            first = offset if first is None else first
        offset += n
    if groups:
        table = parquet.read_row_groups(groups, columns=cols, use_pandas_metadata=False)
        table = table.slice(start - first, stop - start)
    else:
        table = parquet.schema_arrow.empty_table()
        if cols is not None:
            table = table.select(cols)
    out = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(parquet.schema_arrow.metadata), out)
    out.seek(0)
    return out


class ParquetReader(Reader):
    """Parquet table; a folder gives a Dask DataFrame, options ``x``/``y`` give point geometry."""

    name = "parquet"
    accepts_folder = True
    row_ranges = True
    suffixes = (".parquet", ".pq")
    options = {"x": str, "y": str, "dtype": (list, str), "scheduler": str}
    """``scheduler``: a ``dask.distributed`` address for the work on this (partitioned) table (``cimlib.sensors``)."""

    def open(self, entry, path: Path, columns: Sequence[str] | None = None, rows: tuple[int, int] | None = None) -> Any:
        """Read a Parquet file (pandas/GeoPandas) or folder (Dask/Dask-GeoPandas).

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Parquet file or partitioned folder.
        columns : sequence of str, optional
            Columns to read (``x``/``y`` are read too when needed for the geometry).
        rows : tuple of int, optional
            ``(start, stop)``: only these rows of a file (:func:`row_range`).

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

            source = path if rows is None else row_range(path, *rows, columns=wanted)
            frame = as_str_columns(pd.read_parquet(source, columns=wanted), str_cols)
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
