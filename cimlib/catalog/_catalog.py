"""The :class:`Catalog`: load a ``data_catalog.yaml``, look entries up, read and describe them."""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable

from ._conform import conform, source_columns
from ._diagnose import guarded
from ._model import PERIOD_PATTERN, CatalogEntry
from ._parse import parse_catalog
from .errors import CatalogError, EntryNotFoundError, ReadError, SourceNotFoundError
from .readers import Reader, get_reader
from .readers._util import list_files

__all__ = ["Catalog"]


class Catalog:
    """A validated data catalog.

    Build it with :meth:`Catalog.load`. ``catalog.entries`` maps entry names to :class:`CatalogEntry`
    (a read-only mapping, file order: entries of included catalogs first, then the file's own);
    ``catalog[name]`` returns one entry; iterating over the catalog yields the entries (not the names).

    Parameters
    ----------
    path : pathlib.Path
        Absolute path of the catalog file.
    entries : sequence of CatalogEntry
        Entries in file order (names must be unique).
    version : int, default 1
        Catalog format version.
    title_zh, city_code, crs : str, optional
        Top-level metadata; ``crs`` is the default CRS.
    includes : sequence of pathlib.Path, optional
        Included catalog files.

    Attributes
    ----------
    path : pathlib.Path
        Catalog file.
    version : int
        Format version.
    title_zh : str or None
        Chinese title.
    city_code : str or None
        Division code.
    crs : str or None
        Default CRS.
    includes : tuple of pathlib.Path
        Included catalog files.
    """

    def __init__(
        self,
        path: Path,
        entries: Sequence[CatalogEntry],
        *,
        version: int = 1,
        title_zh: str | None = None,
        city_code: str | None = None,
        crs: str | None = None,
        includes: Sequence[Path] = (),
    ) -> None:
        self.path = Path(path)
        self.version = version
        self.title_zh = title_zh
        self.city_code = city_code
        self.crs = crs
        self.includes = tuple(includes)
        self._entries = {entry.name: entry for entry in entries}
        if len(self._entries) != len(entries):
            raise ValueError("目录条目名称必须唯一")

    # ------------------------------------------------------------------ construction

    @classmethod
    def load(cls, path: str | os.PathLike) -> Catalog:
        """Load and validate a catalog file (version 1), including the catalogs it ``include``\\ s.

        Parameters
        ----------
        path : str or os.PathLike
            ``data_catalog.yaml``.

        Returns
        -------
        Catalog
            The validated catalog.

        Raises
        ------
        SourceNotFoundError
            If the catalog file or an included catalog does not exist.
        CatalogSyntaxError
            If the YAML is malformed or any entry is invalid (all problems listed in one message).
        UnknownFormatError
            If the only problems are unknown formats (a subclass of CatalogSyntaxError).
        """
        parsed = parse_catalog(Path(path))
        return cls(
            parsed.path,
            parsed.entries,
            version=parsed.version,
            title_zh=parsed.title_zh,
            city_code=parsed.city_code,
            crs=parsed.crs,
            includes=parsed.includes,
        )

    # ------------------------------------------------------------------ mapping-like access

    @property
    def entries(self) -> Mapping[str, CatalogEntry]:
        """Read-only mapping name -> entry, in file order (included entries first)."""
        return MappingProxyType(self._entries)

    @property
    def names(self) -> list[str]:
        """Entry names in file order."""
        return list(self._entries)

    def __getitem__(self, name: str) -> CatalogEntry:
        """Return the entry called ``name``.

        Parameters
        ----------
        name : str
            Entry name.

        Returns
        -------
        CatalogEntry
            The entry.

        Raises
        ------
        EntryNotFoundError
            If there is no such entry (a CatalogError and a KeyError); the message lists the names.
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(name), list(self._entries), n=1)
            hint = f"是否想用 '{close[0]}'？" if close else ""
            available = "、".join(self._entries) or "（目录为空）"
            raise EntryNotFoundError(f"目录中没有该条目。{hint}可用条目：{available}", entry=str(name), path=self.path) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Catalog({str(self.path)!r}, entries=[{', '.join(self._entries)}])"

    # ------------------------------------------------------------------ reading

    def read(self, name: str, period: str | None = None, columns: Sequence[str] | None = None) -> Any:
        """Read an entry with the reader of its format.

        Parameters
        ----------
        name : str
            Entry name.
        period : str, optional
            ``YYYY-MM``: read the monthly snapshot ``<snapshots.path>/period=YYYY-MM/`` instead of ``path``.
        columns : sequence of str, optional
            Columns to read (data variables for netCDF), by schema field name; geometry is always kept.

        Returns
        -------
        object
            ``pandas.DataFrame``, ``geopandas.GeoDataFrame``, a Dask (-GeoPandas) frame for a folder of
            Parquet parts, ``xarray.Dataset`` or ``xarray.DataArray``, depending on the format. Columns carry the
            schema's field names (the entry's ``columns:`` mapping and ``values:`` applied) and vector geometry is
            in EPSG:4490 whatever CRS the source was declared in.

        Raises
        ------
        EntryNotFoundError
            If ``name`` is not in the catalog.
        SourceNotFoundError
            If the file or the snapshot period does not exist.
        CRSMismatchError
            If the file CRS differs from the declared one.
        ReadError
            If the file cannot be parsed.
        ColumnMappingError
            If a column named in the entry's ``columns:`` mapping is not in the data.
        """
        entry = self[name]
        reader = get_reader(entry.format)()
        path = self._source(entry, reader, period)
        wanted = source_columns(entry, columns)
        return conform(entry, path, _guarded(reader.open, entry, path, wanted), wanted)

    def row_ranges(self, name: str, period: str | None = None, rows: int = 500_000) -> list[tuple[int, int]] | None:
        """Contiguous row ranges of about ``rows`` records covering an entry's file, following its row groups.

        Parameters
        ----------
        name : str
        period : str, optional
        rows : int, default 500000
            Target records per range; a range holds whole row groups unless one group is larger.

        Returns
        -------
        list of (start, stop) or None
            None when the format cannot read a range of rows (only Parquet and GeoParquet files can): the caller
            reads the whole table and splits it.
        """
        import pyarrow.parquet as pq

        entry = self[name]
        reader = get_reader(entry.format)()
        if not getattr(reader, "row_ranges", False):
            return None
        path = self._source(entry, reader, period)
        if path.is_dir():
            return None
        meta = pq.ParquetFile(path).metadata
        bounds, offset, start = [], 0, 0
        for g in range(meta.num_row_groups):
            end = offset + meta.row_group(g).num_rows
            if end - offset > rows:   # a row group larger than a range: what is pending, then the group in pieces
                if offset > start:
                    bounds.append((start, offset))
                bounds += [(a, min(a + rows, end)) for a in range(offset, end, rows)]
                start = end
            elif end - start >= rows:
                bounds.append((start, end))
                start = end
            offset = end
        if offset > start or not bounds:
            bounds.append((start, offset))
        return bounds

    def read_rows(self, name: str, period: str | None, start: int, stop: int, columns: Sequence[str] | None = None) -> Any:
        """Rows ``[start, stop)`` of an entry's file, read as :meth:`read` reads the whole (same fields, types and CRS).

        Parameters
        ----------
        name : str
        period : str or None
        start, stop : int
            Row positions (from :meth:`row_ranges`).
        columns : sequence of str, optional

        Returns
        -------
        pandas.DataFrame or geopandas.GeoDataFrame

        Raises
        ------
        CatalogError
            As :meth:`read`; also when the format cannot read a range of rows.
        """
        entry = self[name]
        reader = get_reader(entry.format)()
        if not getattr(reader, "row_ranges", False):
            raise ReadError(f"格式 {entry.format} 不支持按行读取", entry=name)
        path = self._source(entry, reader, period)
        wanted = source_columns(entry, columns)
        return conform(entry, path, _guarded(reader.open, entry, path, wanted, (start, stop)), wanted)

    def describe(self, name: str, period: str | None = None) -> dict[str, Any]:
        """Cheap metadata of an entry's data without loading it all (for an inventory).

        Parameters
        ----------
        name : str
            Entry name.
        period : str, optional
            Describe a snapshot period instead of the current data.

        Returns
        -------
        dict
            Keys ``name, title_zh, layer, format, path, period, periods, files, size_bytes, rows, columns,
            crs, crs_declared, crs_matches, geometry_type, bounds, dims``. ``crs`` is the CRS found in the
            file (``EPSG:xxxx`` label) and a mismatch is reported in ``crs_matches`` rather than raised;
            keys that do not apply to the format are ``None``.

        Raises
        ------
        EntryNotFoundError
            If ``name`` is not in the catalog.
        SourceNotFoundError
            If the file does not exist.
        ReadError
            If the file cannot be parsed.
        """
        entry = self[name]
        reader = get_reader(entry.format)()
        path = self._source(entry, reader, period)
        result = _guarded(reader.describe, entry, path)
        result["period"] = period
        result["periods"] = entry.snapshots.available() if entry.snapshots else []
        return result

    def files(self, name: str, period: str | None = None) -> list[Path]:
        """The files an entry's data consists of (for fingerprints), without reading them.

        Parameters
        ----------
        name : str
            Entry name.
        period : str, optional
            A snapshot period instead of the current data.

        Returns
        -------
        list of pathlib.Path
            Sorted; a Shapefile's sidecar files and a partitioned folder's parts included.

        Raises
        ------
        EntryNotFoundError, SourceNotFoundError, CatalogError
            As :meth:`read`.
        """
        entry = self[name]
        reader = get_reader(entry.format)()
        path = self._source(entry, reader, period)
        if getattr(reader, "remote", False):
            return []
        if path.is_dir():
            return sorted(list_files(path))
        if entry.format == "shapefile":
            return sorted(f for f in path.parent.iterdir() if f.is_file() and f.stem == path.stem)
        return [path]

    def inputs(self, name: str, period: str | None = None) -> list:
        """What an entry's data is read from, for fingerprints: its files, or its database table source.

        Parameters
        ----------
        name : str
            Entry name.
        period : str, optional
            A snapshot period instead of the current data.

        Returns
        -------
        list of pathlib.Path or TableSource
            Files as :meth:`files`; a ``postgis`` entry gives one :class:`~cimlib.catalog._db.TableSource`
            (``str()`` of it is its label, ``.sha256()`` its content fingerprint computed in the database).

        Raises
        ------
        EntryNotFoundError, SourceNotFoundError, CatalogError
            As :meth:`read`.
        """
        entry = self[name]
        reader = get_reader(entry.format)()
        if getattr(reader, "remote", False):
            return [self._source(entry, reader, period)]
        return self.files(name, period)

    def resolve_input(self, label: str):
        """The database source named by a manifest label (``postgis:<entry>[@period | #day]``).

        Parameters
        ----------
        label : str

        Returns
        -------
        TableSource

        Raises
        ------
        CatalogError
            If the label does not name a ``postgis`` entry of this catalog.
        """
        from .readers.postgis import day_sources

        body = label.removeprefix("postgis:")
        name, period, day = body, None, None
        if "#" in body:
            name, day = body.split("#", 1)
        elif "@" in body:
            name, period = body.split("@", 1)
        entry = self[name]
        reader = get_reader(entry.format)()
        if not getattr(reader, "remote", False):
            raise CatalogError(f"清单中的输入 {label} 指向数据库，但该条目的格式是 {entry.format}", entry=name,
                               path=self.path)
        source = self._source(entry, reader, period)
        if day is None:
            return source
        column = entry.options.get("partition_column")
        for got, part in day_sources(source, column) if column else []:
            if got == day:
                return part
        return dataclasses.replace(source, where="false", label=label)

    def entry_for(self, schema: str) -> str | None:
        """The entry a schema is read from: the entry of that name when its schema matches, else the first entry
        with that schema (a city may name its entries as it likes), else None.

        Parameters
        ----------
        schema : str
            A schema name (:data:`standards_checks.SCHEMA_NAMES`).

        Returns
        -------
        str or None
        """
        if schema in self and self[schema].schema == schema:
            return schema
        return next((e.name for e in self if e.schema == schema), None)

    def periods(self, name: str) -> list[str]:
        """Snapshot periods of an entry, declared or present on disk.

        Parameters
        ----------
        name : str
            Entry name.

        Returns
        -------
        list of str
            Sorted ``YYYY-MM`` periods, empty if the entry has no snapshots.
        """
        entry = self[name]
        return entry.snapshots.available() if entry.snapshots else []

    def _source(self, entry: CatalogEntry, reader: Reader, period: str | None) -> Path:
        """Existing file or folder to read for ``entry`` (its path, or the file(s) of a snapshot period).

        For a database reader, its table source (checked only when read)."""
        if getattr(reader, "remote", False):
            if period is not None:
                self._check_period(entry, period)
            return reader.source(entry, period)
        if period is None:
            path = entry.resolved_path
            if not path.exists():
                raise SourceNotFoundError("数据文件不存在", entry=entry.name, path=path)
            if path.is_dir() and not reader.accepts_folder:
                raise ReadError(f"路径是文件夹，而格式 {entry.format} 需要单个文件", entry=entry.name, path=path)
            return path
        self._check_period(entry, period)
        folder = entry.snapshots.folder(period)
        if not folder.is_dir():
            available = "、".join(entry.snapshots.available()) or "（无）"
            raise SourceNotFoundError(f"快照期次 {period} 不存在；可用期次：{available}", entry=entry.name, path=folder)
        files = [f for f in list_files(folder) if f.suffix.lower() in reader.suffixes]
        files += sorted(d for d in folder.iterdir() if d.is_dir() and d.suffix.lower() in reader.suffixes)  # a .gdb
        if len(files) == 1:
            return files[0]
        if not files:
            raise SourceNotFoundError(
                f"快照期次 {period} 的文件夹中没有 {entry.format} 文件（{'/'.join(reader.suffixes)}）", entry=entry.name, path=folder
            )
        if reader.accepts_folder:
            return folder
        raise ReadError(f"快照期次 {period} 的文件夹中有多个 {entry.format} 文件，无法确定读取哪一个", entry=entry.name, path=folder)


    @staticmethod
    def _check_period(entry: CatalogEntry, period: str) -> None:
        if entry.snapshots is None:
            raise CatalogError(f"条目没有声明 snapshots，无法读取期次 {period!r}", entry=entry.name, path=entry.catalog_path)
        if not isinstance(period, str) or not PERIOD_PATTERN.match(period):
            raise CatalogError(f"期次 {period!r} 不合规，应为 YYYY-MM", entry=entry.name, path=entry.snapshots.resolved_path)
        if getattr(get_reader(entry.format), "remote", False) and period not in entry.snapshots.periods:
            available = "、".join(entry.snapshots.periods) or "（无）"
            raise SourceNotFoundError(f"快照期次 {period} 未在目录中声明；可用期次：{available}", entry=entry.name,
                                      path=entry.snapshots.resolved_path)


def _guarded(method: Callable[..., Any], entry: CatalogEntry, path: Path, *args: Any) -> Any:
    """Call a reader method, turning library exceptions into :class:`ReadError`/:class:`SourceNotFoundError` that say
    what is wrong with the file and what to do (:func:`cimlib.catalog._diagnose.guarded`: empty or encrypted files,
    another format under the declared suffix, a shapefile missing its index or with a truncated ``.dbf``, ...)."""
    return guarded(method, entry, path, *args)
