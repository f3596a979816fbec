"""PostgreSQL/PostGIS access for the catalog: connections, table sources, fingerprints and bulk loading.

Connections go through ADBC (``adbc-driver-postgresql``, libpq underneath): results arrive as Arrow record batches
(PostGIS ``geometry`` as EWKB), and loading uses ``COPY`` in binary form. The connection URL comes from an
environment variable (``options.url_env``, default ``CIM_PG_URL``), else from a password-free ``options.url``, else
from libpq's own variables (``PGHOST``, ``PGUSER``, ``PGPASSWORD``, ``~/.pgpass``...). A password never comes
from the catalog, and every URL in a message is shown with its password masked.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from .errors import ReadError, SourceNotFoundError

__all__ = ["DEFAULT_URL_ENV", "TableSource", "mask_url", "url_has_password", "quote_ident", "quote_literal",
           "connect", "strip_password"]

DEFAULT_URL_ENV = "CIM_PG_URL"
"""Environment variable holding the database URL when an entry does not name another one."""

HIDDEN_PREFIX = "_cim_"
"""Columns whose names start with this are workbench bookkeeping, never returned by a read."""


def mask_url(url: str | None) -> str:
    """A URL with its password (if any) replaced by ``***``.

    Parameters
    ----------
    url : str or None

    Returns
    -------
    str
        ``postgresql://user:***@host:port/db``; libpq defaults are shown as ``（libpq 环境变量）``.
    """
    if not url or url in ("postgresql://", "postgres://"):
        return "（libpq 环境变量 PGHOST/PGUSER/PGDATABASE）"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "（无法解析的数据库地址）"
    if parts.password is None:
        return re.sub(r"(password=)[^&\s]*", r"\1***", url)
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def url_has_password(url: str) -> bool:
    """Whether a connection URL carries a password (in the user part or as ``password=``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.password is not None or "password=" in (parts.query or "")


def strip_password(url: str) -> str:
    """The URL without its password (for writing into a catalog)."""
    parts = urlsplit(url)
    if parts.password is not None:
        user, host = parts.netloc.rsplit("@", 1)
        parts = parts._replace(netloc=f"{user.split(':', 1)[0]}@{host}")
    query = "&".join(q for q in (parts.query or "").split("&") if q and not q.startswith("password="))
    return urlunsplit(parts._replace(query=query))


def quote_ident(name: str) -> str:
    """A (possibly schema-qualified) identifier, double-quoted for SQL.

    Raises
    ------
    ValueError
        If a part is empty or holds a double quote or a NUL.
    """
    parts = name.split(".")
    if not all(parts) or any('"' in p or "\0" in p for p in parts) or len(parts) > 2:
        raise ValueError(f"表名 {name!r} 不合规，应为 表 或 模式.表")
    return ".".join(f'"{p}"' for p in parts)


def quote_literal(value: str) -> str:
    """A string literal for SQL (single quotes doubled)."""
    if "\0" in value:
        raise ValueError("SQL 字面量不能包含 NUL 字符")
    return "'" + value.replace("'", "''") + "'"


def resolve_url(url_env: str | None, url: str | None) -> str:
    """The URL to connect with: ``$url_env`` if set, else ``url``, else libpq's defaults (``postgresql://``)."""
    env = os.environ.get(url_env or DEFAULT_URL_ENV)
    return env or url or "postgresql://"


_POOL: dict = {}
_POOL_LOCK = threading.Lock()


def _close_pool() -> None:
    with _POOL_LOCK:
        conns = list(_POOL.values())
        _POOL.clear()
    for conn in conns:
        with contextlib.suppress(Exception):
            conn.close()


atexit.register(_close_pool)


@contextlib.contextmanager
def shared_connection(url: str, *, entry: str | None = None, what: str | None = None):
    """An autocommit connection reused by the reads of one thread (a new connection costs tens of ms).

    A connection that raised is closed and forgotten, so the next read reconnects.

    Parameters
    ----------
    url, entry, what
        As :func:`connect`.

    Yields
    ------
    adbc_driver_manager.dbapi.Connection
    """
    key = (url, os.getpid(), threading.get_ident())
    with _POOL_LOCK:
        conn = _POOL.get(key)
    if conn is None:
        conn = connect(url, entry=entry, what=what, autocommit=True)
        with _POOL_LOCK:
            _POOL[key] = conn
    try:
        yield conn
    except BaseException:
        with _POOL_LOCK:
            _POOL.pop(key, None)
        with contextlib.suppress(Exception):
            conn.close()
        raise


def connect(url: str, *, entry: str | None = None, what: str | None = None, autocommit: bool = False):
    """Open an ADBC connection.

    Parameters
    ----------
    url : str
        ``postgresql://`` URL (libpq fills in what it leaves out).
    entry : str, optional
        Catalog entry, for the message.
    what : str, optional
        The table or source, for the message.

    Returns
    -------
    adbc_driver_manager.dbapi.Connection

    Raises
    ------
    ReadError
        If the database cannot be reached or refuses the login (message names the masked URL).
    """
    import adbc_driver_postgresql.dbapi as pg

    try:
        return pg.connect(url, autocommit=autocommit)
    except Exception as exc:  # adbc_driver_manager.OperationalError and friends
        raise ReadError(f"无法连接数据库 {mask_url(url)}：{_reason(exc, url)}", entry=entry, path=what) from None


def _reason(exc: BaseException, url: str | None = None) -> str:
    """The first useful line of a driver error, with any password masked."""
    text = str(exc).strip()
    text = re.sub(r"\s*Query was:.*", "", text, flags=re.S)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    if url:
        parts = urlsplit(url)
        if parts.password:
            first = first.replace(parts.password, "***")
    return re.sub(r"(password=)\S+", r"\1***", first)


def _sqlstate(exc: BaseException) -> str | None:
    m = re.search(r"SQLSTATE: (\w{5})", str(exc))
    return getattr(exc, "sqlstate", None) or (m.group(1) if m else None)


def plain_arrow(table):
    """``table`` with the driver's opaque extension columns (PostGIS geometry as EWKB, other types it does not know)
    as their plain binary storage; each field keeps its metadata (the PostgreSQL type name)."""
    import pyarrow as pa

    if not any(isinstance(f.type, pa.ExtensionType) for f in table.schema):
        return table
    fields, columns = [], []
    for f, c in zip(table.schema, table.columns):
        if isinstance(f.type, pa.ExtensionType):
            c = c.cast(f.type.storage_type)
            f = pa.field(f.name, f.type.storage_type, f.nullable, f.metadata)
        fields.append(f)
        columns.append(c)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


@dataclass(frozen=True)
class TableSource:
    """One table (or query) of a PostGIS database, optionally filtered: what one catalog read fetches.

    Attributes
    ----------
    entry : str
        Catalog entry name.
    relation : str or None
        ``schema.table`` (``None`` when ``query`` is given).
    query : str or None
        A ``SELECT`` to read instead of a table.
    url_env : str
        Environment variable naming the URL.
    url : str or None
        Password-free URL from the catalog.
    where : str or None
        SQL predicate built by the workbench (snapshot period, day partition), ``None`` for all rows.
    label : str
        Stable name of the source in manifests: ``postgis:<entry>``, ``postgis:<entry>@<period>`` or
        ``postgis:<entry>#<day>``.
    drop : tuple of str
        Columns not returned (the snapshot period column).
    order_by : tuple of str
        Columns the rows are ordered by (the identifier), so that reads are repeatable.
    """

    entry: str
    relation: str | None
    query: str | None
    url_env: str = DEFAULT_URL_ENV
    url: str | None = None
    where: str | None = None
    label: str = ""
    drop: tuple[str, ...] = ()
    order_by: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return self.label

    @property
    def what(self) -> str:
        """The table (or ``查询``) for messages."""
        return f"postgis:{self.relation}" if self.relation else f"postgis:{self.entry}（查询）"

    def hidden(self, column: str) -> bool:
        """Whether a column is left out of what is returned: the period column, or workbench bookkeeping
        (``_cim_*``, e.g. the load order written by ``cim load``)."""
        return column in self.drop or column.startswith(HIDDEN_PREFIX)

    def from_clause(self) -> str:
        """``FROM ...`` with the table, or the query as a subquery."""
        if self.relation:
            return f"FROM {quote_ident(self.relation)}"
        return f"FROM ({self.query.strip().rstrip(';')}) AS _q"

    def sql(self, columns: Sequence[str] | None = None) -> str:
        """The ``SELECT`` that reads this source."""
        cols = ", ".join(quote_ident(c) for c in columns) if columns is not None else "*"
        where = f" WHERE {self.where}" if self.where else ""
        order = f" ORDER BY {', '.join(quote_ident(c) for c in self.order_by)}" if self.order_by else ""
        return f"SELECT {cols} {self.from_clause()}{where}{order}"

    def connect(self):
        """The thread's shared autocommit connection to the source's database (see :func:`shared_connection`)."""
        return shared_connection(resolve_url(self.url_env, self.url), entry=self.entry, what=self.what)

    def _execute(self, cursor, sql: str) -> None:
        try:
            cursor.execute(sql)
        except Exception as exc:
            state = _sqlstate(exc)
            if state == "42P01":
                raise SourceNotFoundError(f"数据库中没有该表（{_reason(exc)}）", entry=self.entry, path=self.what) from None
            if state == "42703":
                raise ReadError(f"数据库表缺少列：{_reason(exc)}", entry=self.entry, path=self.what) from None
            raise ReadError(f"数据库查询失败：{_reason(exc)}", entry=self.entry, path=self.what) from None

    def batches(self, columns: Sequence[str] | None = None, *, chunk_rows: int | None = None) -> Iterator:
        """Stream the rows as Arrow record batches (the period column left out).

        Parameters
        ----------
        columns : sequence of str, optional
            Columns to read (all by default).
        chunk_rows : int, optional
            Approximate rows per batch (the driver's batch size is set from it).

        Yields
        ------
        pyarrow.RecordBatch

        Raises
        ------
        ReadError, SourceNotFoundError
            If the database cannot be reached, the table does not exist or the query fails.
        """
        with self.connect() as conn:
            cursor = conn.cursor()
            if chunk_rows:
                # ~100 bytes a row: the hint is in bytes
                cursor.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(chunk_rows * 100)})
            self._execute(cursor, self.sql(columns))
            try:
                reader = cursor.fetch_record_batch()
                for batch in reader:
                    keep = [i for i, n in enumerate(batch.schema.names) if not self.hidden(n)]
                    if len(keep) < batch.num_columns:
                        batch = batch.select(keep)
                    yield batch
            finally:
                cursor.close()

    def read_arrow(self, columns: Sequence[str] | None = None, *, chunk_rows: int | None = None):
        """All rows as one Arrow table (built from streamed batches; see :func:`plain_arrow`)."""
        import pyarrow as pa

        batches = list(self.batches(columns, chunk_rows=chunk_rows))
        if not batches:
            return self.empty_arrow(columns)
        return plain_arrow(pa.Table.from_batches(batches))

    def empty_arrow(self, columns: Sequence[str] | None = None):
        """A zero-row Arrow table with the source's columns and types."""

        with self.connect() as conn:
            cursor = conn.cursor()
            cols = ", ".join(quote_ident(c) for c in columns) if columns is not None else "*"
            self._execute(cursor, f"SELECT {cols} {self.from_clause()} LIMIT 0")
            table = cursor.fetch_arrow_table()
            cursor.close()
        keep = [n for n in table.schema.names if not self.hidden(n)]
        return plain_arrow(table.select(keep) if keep else table)

    def scalar(self, sql: str):
        """Run a one-value query against the source's database."""
        with self.connect() as conn:
            cursor = conn.cursor()
            self._execute(cursor, sql)
            row = cursor.fetchone()
            cursor.close()
        return row[0] if row else None

    def sha256(self) -> str:
        """Content fingerprint, computed in the database.

        sha256 over the sorted md5 of every row's text form (``row::text``), so it does not depend on the physical
        order of the rows; the snapshot period column is excluded along with the row filter.

        Returns
        -------
        str
            Hex digest (of an empty input for an empty source).
        """
        names = [f.name for f in self.empty_arrow().schema]
        cols = ", ".join(quote_ident(c) for c in names)
        where = f" WHERE {self.where}" if self.where else ""
        sql = (f"SELECT encode(sha256(convert_to(coalesce(string_agg(h, '' ORDER BY h), ''), 'UTF8')), 'hex') "
               f"FROM (SELECT md5(_r::text) AS h FROM (SELECT {cols} {self.from_clause()}{where}) AS _r) AS _s")
        return self.scalar(sql)
