"""Reader for delimited text (CSV), with UTF-8 / GBK encoding detection."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ReadError
from ._base import Reader
from ._util import (
    as_str_columns,
    catalog_warn,
    decodes,
    detect_text_encoding,
    points_from_columns,
    string_columns,
    with_columns,
)

__all__ = ["CsvReader", "csv_encoding"]


def _is_utf8(encoding: str) -> bool:
    """Whether a codec name designates UTF-8 (with or without BOM)."""
    import codecs

    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


def csv_encoding(entry, path: Path) -> str:
    """Encoding of a CSV file: ``options.encoding`` if set, otherwise detected.

    Detection order: byte-order mark, UTF-8, GB18030 (superset of GBK/GB2312), charset-normalizer's guess
    (with a :class:`CatalogWarning`). A declared non-UTF-8 encoding on a file that is valid, non-ASCII
    UTF-8 is kept but warned about, since it would most likely produce mojibake.

    Parameters
    ----------
    entry : CatalogEntry
        Catalog entry.
    path : pathlib.Path
        CSV file.

    Returns
    -------
    str
        Python codec name.

    Raises
    ------
    ReadError
        If the declared encoding is unknown or no encoding can be detected.
    """
    import codecs

    declared = entry.options.get("encoding")
    if not declared:
        return detect_text_encoding(path, entry.name)
    try:
        codecs.lookup(declared)
    except LookupError:
        raise ReadError(f"options.encoding 声明的编码 '{declared}' 无法识别", entry=entry.name, path=path) from None
    if not _is_utf8(declared) and not decodes(path, "ascii") and decodes(path, "utf-8"):
        catalog_warn(f"options.encoding 声明为 {declared}，但文件内容是有效的 UTF-8，读取结果可能是乱码", entry.name, path)
    return declared


class CsvReader(Reader):
    """Delimited text table; options ``encoding``, ``sep``, ``x``/``y`` (point geometry), ``dtype``."""

    name = "csv"
    suffixes = (".csv", ".txt", ".tsv")
    options = {"encoding": str, "sep": str, "x": str, "y": str, "dtype": (list, str)}

    def _read(self, entry, path: Path, **kwargs: Any):
        """Call :func:`pandas.read_csv` with the entry's encoding and separator, wrapping decode errors."""
        import pandas as pd

        encoding = csv_encoding(entry, path)
        try:
            return pd.read_csv(path, sep=entry.options.get("sep", ","), encoding=encoding, **kwargs)
        except UnicodeDecodeError as exc:
            raise ReadError(f"按编码 {encoding} 解码失败（{exc}）；请核对 options.encoding", entry=entry.name, path=path) from exc

    def open(self, entry, path: Path, columns: Sequence[str] | None = None) -> Any:
        """Read the CSV file.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            CSV file.
        columns : sequence of str, optional
            Columns to read (plus ``geometry`` when ``x``/``y`` are set).

        Returns
        -------
        pandas.DataFrame or geopandas.GeoDataFrame
            Table; identifier and ``options.dtype`` columns as strings (leading zeros kept).

        Raises
        ------
        ReadError
            If the file cannot be decoded or parsed.
        """
        x, y = entry.options.get("x"), entry.options.get("y")
        str_cols = string_columns(entry)
        frame = self._read(entry, path, dtype=dict.fromkeys(str_cols, str) or None, usecols=with_columns(columns, x, y))
        frame = as_str_columns(frame, str_cols)
        if x and y:
            frame = points_from_columns(frame, x, y, entry.crs, entry.name, path)
            if columns is not None:
                frame = frame[[c for c in frame.columns if c in columns or c == "geometry"]]
        return frame

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """Columns from the header; rows by parsing the first column only.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            CSV file.

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`.
        """
        columns = [str(c) for c in self._read(entry, path, nrows=0).columns]
        rows = len(self._read(entry, path, usecols=[0], dtype=str)) if columns else 0
        point = "Point" if entry.options.get("x") else None
        return self.summary(entry, path, rows=rows, columns=columns, geometry_type=point)
