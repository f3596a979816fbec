"""Reader for PostgreSQL/PostGIS tables and queries (``format: postgis``).

``path`` is the table (``schema.table``); ``options.query`` reads a ``SELECT`` instead. Monthly snapshots live in
one table with a period column (``snapshots.path`` is that table, ``options.period_column`` its column, default
``period``). ``options.partition_column`` (a date, timestamp or ``YYYY-MM-DD`` text column) splits a large table
into one Dask partition per day, read lazily; otherwise the rows are streamed in chunks of ``options.chunksize``.
The connection is described in :mod:`cimlib.catalog._db`: never a password in the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyproj

from .._db import DEFAULT_URL_ENV, TableSource, quote_ident, quote_literal
from ..errors import ReadError
from ._base import Reader
from ._util import as_str_columns, points_from_columns, string_columns, with_columns

__all__ = ["PostGISReader", "arrow_to_frame", "day_sources"]

_GEOMETRY_TYPES = ("geometry", "geography")


def _is_geometry(field) -> bool:
    meta = field.metadata or {}
    typ = meta.get(b"POSTGRESQL:type") or meta.get(b"ADBC:postgresql:typname") or b""
    return typ.decode(errors="replace") in _GEOMETRY_TYPES


def arrow_to_frame(table, entry, source: TableSource, *, x: str | None = None, y: str | None = None):
    """Turn an Arrow table read from PostGIS into a pandas or GeoPandas frame, as the file readers give it.

    Parameters
    ----------
    table : pyarrow.Table
        Rows as read (geometry columns as EWKB binary, :func:`~cimlib.catalog._db.plain_arrow`).
    entry : CatalogEntry
        Catalog entry (declared CRS, identifier and string columns).
    source : TableSource
        For messages.
    x, y : str, optional
        Coordinate columns to build points from when the table has no geometry column.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame

    Raises
    ------
    CRSMismatchError
        If the geometries' SRID differs from the declared CRS.
    """
    import geopandas as gpd
    import shapely

    geoms = [f.name for f in table.schema if _is_geometry(f)]
    plain = table.drop_columns(geoms) if geoms else table
    frame = as_str_columns(plain.to_pandas(), string_columns(entry))
    if not geoms:
        if x and y:
            return points_from_columns(frame, x, y, entry.crs, entry.name, source.what)
        return frame
    gcols = {name: shapely.from_wkb(table.column(name).to_numpy(zero_copy_only=False), on_invalid="ignore")
             for name in geoms}
    primary = "geometry" if "geometry" in gcols else geoms[0]
    srids = np.unique(shapely.get_srid(gcols[primary][~shapely.is_missing(gcols[primary])]))
    srids = srids[srids != 0]
    found = f"EPSG:{int(srids[0])}" if len(srids) == 1 else None
    if len(srids) > 1:
        raise ReadError(f"几何列 {primary} 混有多个 SRID：{', '.join(map(str, srids))}", entry=entry.name, path=source.what)
    order = [f.name for f in table.schema]
    for name, values in gcols.items():
        frame[name] = gpd.GeoSeries(shapely.set_srid(values, 0), index=frame.index)
    gdf = gpd.GeoDataFrame(frame[order], geometry=primary, crs=found or entry.crs)
    if entry.crs is None:
        return gdf
    return PostGISReader().with_declared_crs(entry, source.what, gdf, found,
                                             lambda obj, declared: obj.set_crs(declared, allow_override=True))


def day_sources(base: TableSource, column: str) -> list[tuple[str, TableSource]]:
    """One source per day of a partition column (and one for rows where it is missing).

    Parameters
    ----------
    base : TableSource
        The whole table (possibly already filtered).
    column : str
        Date, timestamp or ``YYYY-MM-DD`` text column.

    Returns
    -------
    list of (str, TableSource)
        ``(day, source)`` sorted by day; the rows without a day get the label ``未分区``.
    """
    import datetime as dt

    col = quote_ident(column)
    where = f" WHERE {base.where}" if base.where else ""
    with base.connect() as conn:
        cursor = conn.cursor()
        base._execute(cursor, f"SELECT DISTINCT CAST({col} AS date)::text AS d {base.from_clause()}{where} ORDER BY 1")
        days = [r[0] for r in cursor.fetchall()]
        cursor.close()
    out = []
    for day in days:
        if day is None:
            pred, label = f"{col} IS NULL", "未分区"
        else:
            nxt = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
            pred, label = f"{col} >= {quote_literal(day)} AND {col} < {quote_literal(nxt)}", day
        both = f"({base.where}) AND {pred}" if base.where else pred
        out.append((label, TableSource(base.entry, base.relation, base.query, base.url_env, base.url, both,
                                       f"postgis:{base.entry}#{label}", base.drop, base.order_by)))
    return out


class PostGISReader(Reader):
    """A PostgreSQL/PostGIS table or query; geometry columns come back as GeoPandas geometry."""

    name = "postgis"
    spatial = False  # a table may be non-spatial; geometry SRIDs are still checked against a declared CRS
    remote = True
    options = {"url_env": str, "url": str, "query": str, "chunksize": int, "period_column": str,
               "partition_column": str, "order_by": (list, str), "x": str, "y": str, "dtype": (list, str),
               "scheduler": str}
    """``url_env`` (default ``CIM_PG_URL``), ``url`` (without password), ``query``, ``chunksize`` (rows per
    streamed batch, default 100000), ``period_column`` (snapshots, default ``period``), ``partition_column`` (one
    Dask partition per day), ``order_by`` (default the identifier column), ``x``/``y`` (points from columns),
    ``dtype`` (columns read as strings), ``scheduler`` (``dask.distributed`` address, :mod:`cimlib.sensors`)."""

    # ------------------------------------------------------------------ sources

    def source(self, entry, period: str | None = None) -> TableSource:
        """The table source of an entry, or of one snapshot period.

        Parameters
        ----------
        entry : CatalogEntry
        period : str, optional
            ``YYYY-MM`` of a snapshot (rows of the snapshot table whose period column equals it).

        Returns
        -------
        TableSource
        """
        opts = entry.options
        order = opts.get("order_by", entry.source_column(entry.id_column) if entry.id_column else None)
        order = tuple([order] if isinstance(order, str) else order or ())
        common = dict(url_env=opts.get("url_env", DEFAULT_URL_ENV), url=opts.get("url"), order_by=order)
        if period is None:
            relation = None if opts.get("query") else entry.path
            return TableSource(entry.name, relation, opts.get("query"), label=f"postgis:{entry.name}", **common)
        column = opts.get("period_column", "period")
        return TableSource(entry.name, entry.snapshots.path, None,
                           where=f"{quote_ident(column)} = {quote_literal(period)}",
                           label=f"postgis:{entry.name}@{period}", drop=(column,), **common)

    # ------------------------------------------------------------------ reading

    def open(self, entry, source: TableSource, columns: Sequence[str] | None = None) -> Any:
        """Read a table source.

        Parameters
        ----------
        entry : CatalogEntry
        source : TableSource
        columns : sequence of str, optional
            Columns to read; geometry columns must be named to be kept (``geometry`` is added when present).

        Returns
        -------
        pandas.DataFrame, geopandas.GeoDataFrame or dask DataFrame
            A Dask frame (one partition per day) when ``options.partition_column`` is set.

        Raises
        ------
        ReadError, SourceNotFoundError, CRSMismatchError
        """
        x, y = entry.options.get("x"), entry.options.get("y")
        wanted = self._columns(source, columns, x, y)
        column = entry.options.get("partition_column")
        column = entry.source_column(column) if column else None  # the field name is accepted too
        if column:
            return self._dask(entry, source, column, wanted, x, y)
        chunk = int(entry.options.get("chunksize", 100_000))
        table = source.read_arrow(wanted, chunk_rows=chunk)
        frame = arrow_to_frame(table, entry, source, x=x, y=y)
        if columns is not None and x and y:
            frame = frame[[c for c in frame.columns if c in columns or c == "geometry"]]
        return frame

    def _columns(self, source: TableSource, columns, x, y):
        if columns is None:
            return None
        names = [f.name for f in source.empty_arrow().schema]
        extra = ["geometry"] if "geometry" in names else []
        wanted = with_columns(columns, x, y, *extra)
        missing = [c for c in wanted if c not in names]
        if missing:
            raise ReadError(f"数据库表缺少列：{', '.join(missing)}；表中的列：{', '.join(names)}", entry=source.entry,
                            path=source.what)
        return wanted

    def _dask(self, entry, source: TableSource, column: str, wanted, x, y):
        import dask
        import dask.dataframe as dd

        days = day_sources(source, column)
        meta = arrow_to_frame(source.empty_arrow(wanted), entry, source, x=x, y=y)
        if not days:
            return dd.from_pandas(meta, npartitions=1)
        parts = [dask.delayed(_read_part, pure=True)(entry, s, wanted, x, y) for _, s in days]
        if hasattr(meta, "geometry"):
            import dask_geopandas  # noqa: F401  (registers the GeoDataFrame collection)
        return dd.from_delayed(parts, meta=meta, verify_meta=False)

    def describe(self, entry, source: TableSource) -> dict[str, Any]:
        """Rows, columns, geometry type, SRID and extent, computed in the database.

        Parameters
        ----------
        entry : CatalogEntry
        source : TableSource

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`; ``files`` is empty and ``size_bytes`` the table's size on disk.
        """
        empty = source.empty_arrow()
        columns = [f.name for f in empty.schema]
        geoms = [f.name for f in empty.schema if _is_geometry(f)]
        where = f" WHERE {source.where}" if source.where else ""
        rows = source.scalar(f"SELECT count(*) {source.from_clause()}{where}")
        found = geometry_type = bounds = None
        if geoms:
            g = quote_ident("geometry" if "geometry" in geoms else geoms[0])
            with source.connect() as conn:
                cur = conn.cursor()
                source._execute(cur, f"SELECT min(ST_SRID({g})), max(ST_SRID({g})), "
                                     f"string_agg(DISTINCT replace(GeometryType({g}), 'MULTI', 'Multi'), '/'), "
                                     f"ST_XMin(ST_Extent({g})), ST_YMin(ST_Extent({g})), ST_XMax(ST_Extent({g})), "
                                     f"ST_YMax(ST_Extent({g})) {source.from_clause()}{where}")
                s0, s1, kinds, *box = cur.fetchone()
                cur.close()
            found = pyproj.CRS.from_epsg(int(s0)) if s0 and s0 == s1 else None
            geometry_type = _title(kinds)
            bounds = tuple(box) if box[0] is not None else None
        elif entry.options.get("x"):
            geometry_type = "Point"
        size = None
        if source.relation:
            size = source.scalar(f"SELECT pg_total_relation_size({quote_literal(quote_ident(source.relation))}::regclass)")
        result = self.summary(entry, source, rows=int(rows or 0), columns=[c for c in columns if c not in source.drop],
                              crs=found, geometry_type=geometry_type, bounds=bounds)
        result["size_bytes"] = int(size) if size is not None else None
        return result

    def files(self, path) -> list:
        """A database table has no files."""
        return []


def _title(kinds: str | None) -> str | None:
    if not kinds:
        return None
    names = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon", "MultiPOINT": "MultiPoint",
             "MultiLINESTRING": "MultiLineString", "MultiPOLYGON": "MultiPolygon",
             "GEOMETRYCOLLECTION": "GeometryCollection"}
    return "/".join(names.get(k, k) for k in kinds.split("/"))


def _read_part(entry, source: TableSource, wanted, x, y):
    return arrow_to_frame(source.read_arrow(wanted), entry, source, x=x, y=y)
