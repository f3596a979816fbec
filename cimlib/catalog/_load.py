"""``cim load``: copy a catalog's data into PostgreSQL/PostGIS and write a catalog that points at the tables.

Every vector or tabular entry becomes one table ``<schema>.<name>`` with the rows as the file reader gives them
(identifiers as text, geometry as PostGIS ``geometry`` with the declared SRID); monthly snapshots become one table
``<schema>.<name>_snapshots`` with a ``period`` column; a folder of parts (the readings) becomes one table with
its ``key=value`` partition folders as text columns. Each table gets a ``_cim_seq`` column, the rows' order in the
source, so that reads from the database return the rows in the order the files hold them (the order matters
to rules such as out-of-order readings). Rasters (GeoTIFF, netCDF) stay files: the new catalog points at them by
absolute path.

Bulk loading uses ADBC's ``COPY``; a table is loaded in one transaction, so a failed load leaves no half table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._db import DEFAULT_URL_ENV, connect, mask_url, quote_ident, quote_literal, strip_password, url_has_password
from ._crs import WORKBENCH_CRS
from .errors import CatalogError

__all__ = ["load_to_postgis", "LoadResult", "SEQ_COLUMN"]

SEQ_COLUMN = "_cim_seq"
"""Bookkeeping column holding each row's position in its source (never returned by the reader)."""

_FILE_ONLY = ("geotiff", "netcdf", "postgis")
_HIVE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


@dataclass
class LoadResult:
    """What :func:`load_to_postgis` did.

    Attributes
    ----------
    catalog_path : pathlib.Path
        The catalog written.
    tables : list of dict
        One per table: ``entry, table, rows``.
    kept_files : list of str
        Entries left as files (rasters).
    problems : list of (str, str)
        ``(entry, problem)`` for entries or files that could not be loaded (the rest was loaded).
    """

    catalog_path: Path
    tables: list[dict] = field(default_factory=list)
    kept_files: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def _arrow(frame):
    """A (Geo)DataFrame as an Arrow table for COPY: geometry columns as WKB, categoricals as their values."""
    import pyarrow as pa
    import shapely

    geoms = [c for c in frame.columns if str(frame[c].dtype) == "geometry"]
    srids = {}
    plain = frame.drop(columns=geoms) if geoms else frame
    table = pa.Table.from_pandas(plain.reset_index(drop=True), preserve_index=False)
    cols = {}
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_null(col.type):
            col = col.cast(pa.string())
        if pa.types.is_timestamp(col.type) and col.type.unit == "ns":
            col = col.cast(pa.timestamp("us", col.type.tz), safe=False)
        cols[name] = col
    for name in geoms:
        values = frame[name].to_numpy()
        cols[name] = pa.array(shapely.to_wkb(values, output_dimension=3), type=pa.binary())
        crs = getattr(frame[name], "crs", None)
        srids[name] = crs.to_epsg() if crs is not None and crs.to_epsg() else 0
    order = [c for c in frame.columns]
    return pa.table({c: cols[c] for c in order}), srids


class _Loader:
    def __init__(self, url: str, schema: str, replace: bool):
        self.url, self.schema, self.replace = url, schema, replace
        self.conn = connect(url, what=mask_url(url))
        cur = self.conn.cursor()
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        cur.close()
        self.conn.commit()

    def close(self):
        self.conn.close()

    def table(self, name: str) -> str:
        return f"{self.schema}.{name}"

    def write(self, name: str, chunks, *, index: tuple[str, ...] = ()) -> int:
        """Create ``schema.name`` from an iterable of ``(arrow_table, srids)`` chunks; returns the row count."""
        import pyarrow as pa

        qualified = quote_ident(self.table(name))
        cur = self.conn.cursor()
        try:
            cur.execute(f"SELECT to_regclass({quote_literal(qualified)})::text")
            exists = cur.fetchone()[0]
            if exists:
                if not self.replace:
                    raise CatalogError(f"数据库中已有表 {self.table(name)}；如需覆盖请加 --replace", entry=name,
                                       path=mask_url(self.url))
                cur.execute(f"DROP TABLE {qualified}")
            rows, schema, srids, seq = 0, None, {}, 0
            for table, got in chunks:
                table = table.append_column(SEQ_COLUMN, pa.array(np.arange(seq, seq + table.num_rows, dtype=np.int64)))
                seq += table.num_rows
                if schema is None:
                    schema, srids = table.schema, got
                    cur.adbc_ingest(name, table, mode="create",
                                    db_schema_name=self.schema)
                else:
                    if table.schema.names != schema.names:
                        raise CatalogError(f"各部分的列不一致：{', '.join(table.schema.names)}", entry=name)
                    cur.adbc_ingest(name, table.cast(schema), mode="append",
                                    db_schema_name=self.schema)
                rows += table.num_rows
            for col, srid in srids.items():
                c = quote_ident(col)
                cur.execute(f"ALTER TABLE {qualified} ALTER COLUMN {c} TYPE geometry "
                            f"USING ST_SetSRID(ST_GeomFromWKB({c}), {int(srid)})")
                cur.execute(f"CREATE INDEX ON {qualified} USING gist ({c})")
            if schema is not None:
                cur.execute(f"CREATE INDEX ON {qualified} ({', '.join(quote_ident(c) for c in (*index, SEQ_COLUMN))})")
                cur.execute(f"ANALYZE {qualified}")
            self.conn.commit()
            return rows
        except BaseException:
            self.conn.rollback()
            raise
        finally:
            cur.close()


def _folder_chunks(folder: Path, problems: list, name: str):
    """Arrow tables of each Parquet part of a folder, with its ``key=value`` folders as text columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .readers._util import list_files

    for path in list_files(folder):
        if path.suffix.lower() not in (".parquet", ".pq"):
            continue
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            problems.append((name, f"{path}：无法读取，未导入（{exc}）"))
            continue
        cols = {}
        for n, c in zip(table.column_names, table.columns):
            if pa.types.is_dictionary(c.type):
                c = c.cast(c.type.value_type)
            cols[n] = c
        table = pa.table(cols)
        for part in path.relative_to(folder).parent.parts:
            m = _HIVE.match(part)
            if m and m.group(1) not in table.column_names:
                table = table.append_column(m.group(1), pa.array([m.group(2)] * table.num_rows, pa.string()))
        yield table, {}


def load_to_postgis(catalog, url: str, out, *, schema: str = "cim", replace: bool = False,
                    url_env: str = DEFAULT_URL_ENV, names=None, snapshots: bool = True,
                    progress: bool = False) -> LoadResult:
    """Load every entry of a catalog into PostGIS and write ``out/data_catalog.yaml`` pointing at the tables.

    Parameters
    ----------
    catalog : Catalog
        Source catalog (files).
    url : str
        ``postgresql://`` URL of the target database (its password, if any, is not written anywhere).
    out : path-like
        Folder of the new catalog.
    schema : str, default "cim"
        Database schema of the tables (created if missing).
    replace : bool, default False
        Replace tables that exist (otherwise an existing table is a problem and is left alone).
    url_env : str, default "CIM_PG_URL"
        Environment variable the new catalog reads the URL from (it falls back to the password-free URL).
    names : sequence of str, optional
        Load only these entries (the new catalog lists only them); default every entry.
    snapshots : bool, default True
        Also load the monthly snapshots (``False``: the current data only; the new entries declare no snapshots).
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    LoadResult

    Raises
    ------
    ReadError
        If the database cannot be reached (message with the password masked).
    """
    import yaml
    from tqdm.auto import tqdm

    from cimlib._io import atomic_path

    out = Path(out)
    result = LoadResult(catalog_path=out / "data_catalog.yaml")
    loader = _Loader(url, schema, replace)
    entries = []
    try:
        chosen = [catalog[n] for n in names] if names else list(catalog)
        for entry in tqdm(chosen, desc="导入数据库", unit="项", disable=not progress):
            doc = {"name": entry.name, "title_zh": entry.title_zh, "layer": entry.layer, "format": "postgis",
                   "path": loader.table(entry.name)}
            if entry.crs:  # tables hold what Catalog.read gives: geometry in EPSG:4490, schema field names
                doc["crs"] = entry.crs if entry.format in _FILE_ONLY else WORKBENCH_CRS
            if entry.id_column:
                doc["id_column"] = entry.id_column
            doc.update(schema=entry.schema, owner=entry.owner, classification=entry.classification,
                       update_cycle=entry.update_cycle)
            if entry.format in _FILE_ONLY:  # stays where it is, referenced by absolute path
                doc.update(format=entry.format, path=str(entry.resolved_path))
                if entry.options:
                    doc["options"] = dict(entry.options)
                entries.append(doc)
                result.kept_files.append(entry.name)
                continue
            options = {"url": strip_password(url), "url_env": url_env, "order_by": SEQ_COLUMN}
            if entry.options.get("dtype"):
                dtype = entry.options["dtype"]
                options["dtype"] = [entry.field_column(c) for c in ([dtype] if isinstance(dtype, str) else dtype)]
            if entry.options.get("scheduler"):
                options["scheduler"] = entry.options["scheduler"]
            try:
                path = entry.resolved_path
                if path.is_dir() and entry.format == "parquet":
                    keys = _hive_keys(path)
                    n = loader.write(entry.name, _folder_chunks(path, result.problems, entry.name), index=keys)
                    # the parts are copied as they are, in their source names: the mapping still applies on read
                    doc.update({k: dict(v) for k, v in (("columns", entry.columns), ("values", entry.values)) if v})
                    if "date" in keys:
                        options["partition_column"] = "date"
                else:
                    n = loader.write(entry.name, [_arrow(_frame(catalog.read(entry.name)))])
                result.tables.append({"entry": entry.name, "table": loader.table(entry.name), "rows": n})
                if entry.snapshots is not None and snapshots:
                    periods = entry.snapshots.available()
                    name = f"{entry.name}_snapshots"
                    n = loader.write(name, (_with_period(_arrow(_frame(catalog.read(entry.name, period=p))), p)
                                            for p in periods), index=("period",))
                    result.tables.append({"entry": entry.name, "table": loader.table(name), "rows": n})
                    doc["snapshots"] = {"path": loader.table(name), "periods": list(periods)}
            except CatalogError as exc:
                result.problems.append((entry.name, str(exc)))
                continue
            doc["options"] = options
            entries.append(doc)
    finally:
        loader.close()
    header = (f"# cim load：由 {catalog.path} 导入 PostgreSQL/PostGIS（{mask_url(url)}，模式 {schema}）生成。\n"
              f"# 连接：环境变量 {url_env}（若已设置）优先，否则用下方不含密码的 url；密码请用 PGPASSWORD 或 ~/.pgpass。\n")
    doc = {"version": 1, "title_zh": catalog.title_zh, "city_code": catalog.city_code, "crs": catalog.crs,
           "entries": entries}
    doc = {k: v for k, v in doc.items() if v is not None}
    with atomic_path(result.catalog_path) as tmp:
        tmp.write_text(header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if url_has_password(url):
        result.problems.append(("", "目录中未写入密码：运行时请设置 PGPASSWORD、~/.pgpass 或环境变量 " + url_env))
    return result


def _hive_keys(folder: Path) -> tuple[str, ...]:
    keys = []
    for sub in sorted(folder.rglob("*=*")):
        m = _HIVE.match(sub.name)
        if sub.is_dir() and m and m.group(1) not in keys:
            keys.append(m.group(1))
    return tuple(keys)


def _frame(obj):
    """A pandas frame of what a reader returned (Dask frames computed)."""
    return obj.compute() if hasattr(obj, "compute") else obj


def _with_period(chunk, period: str):
    import pyarrow as pa

    table, srids = chunk
    return table.append_column("period", pa.array([period] * table.num_rows, pa.string())), srids
