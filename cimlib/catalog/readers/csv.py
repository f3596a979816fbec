"""Reader for delimited text (CSV), with UTF-8 / GBK encoding detection."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ReadError
from ._base import Reader
from ._tables import drop_total_rows, warn_if_no_records
from ._util import (
    as_str_columns,
    catalog_warn,
    decodes,
    detect_text_encoding,
    points_from_columns,
    string_columns,
    with_columns,
)

__all__ = ["CsvReader", "csv_encoding", "detect_separator"]

#: Delimiters tried when ``options.sep`` is absent, in order of preference on a tie.
SEPARATORS = (",", "\t", ";", "|")
_SEP_NAMES = {",": "逗号（,）", "\t": "制表符（Tab）", ";": "分号（;）", "|": "竖线（|）"}
#: Bytes of the file looked at to detect the delimiter.
_SAMPLE = 1 << 16


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


def detect_separator(path: Path, encoding: str, sample: int = _SAMPLE) -> str:
    """Detect the delimiter of a text table among comma, tab, semicolon and vertical bar.

    The first lines (up to ``sample`` bytes, the last possibly cut line dropped) are parsed with :mod:`csv` for each
    candidate, so a delimiter inside quotes does not count. A candidate is consistent when at least 90 % of the
    lines split into the same number of fields, two or more; among consistent candidates the one giving most fields
    wins, a tie going to the earlier of ``, \t ; |``. Without any consistent candidate, a comma.

    Parameters
    ----------
    path : pathlib.Path
        Text file.
    encoding : str
        Its encoding.
    sample : int, default 65536
        Bytes looked at.

    Returns
    -------
    str
        The delimiter.
    """
    import codecs
    import csv
    import io
    from collections import Counter

    with open(path, "rb") as fh:
        head = fh.read(sample)
        complete = not fh.read(1)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    lines = [line for line in lines if line.strip()][:200]
    if not lines:
        return ","
    best, best_fields = ",", 1
    for sep in SEPARATORS:
        counts = Counter(len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=sep) if row)
        if not counts:
            continue
        fields, times = counts.most_common(1)[0]
        if fields >= 2 and times >= 0.9 * sum(counts.values()) and fields > best_fields:
            best, best_fields = sep, fields
    return best


class CsvReader(Reader):
    """Delimited text table; options ``encoding``, ``sep``, ``x``/``y`` (point geometry), ``dtype``."""

    name = "csv"
    suffixes = (".csv", ".txt", ".tsv")
    options = {"encoding": str, "sep": str, "x": str, "y": str, "dtype": (list, str)}

    def _read(self, entry, path: Path, *, warn: bool = False, **kwargs: Any):
        """Call :func:`pandas.read_csv` with the entry's encoding and separator (``options.sep``, else detected, with a
        :class:`CatalogWarning` when ``warn`` and it is not a comma), wrapping decode errors."""
        import pandas as pd

        encoding = csv_encoding(entry, path)
        sep = entry.options.get("sep")
        if sep is None:
            sep = detect_separator(path, encoding)
            if sep != "," and warn:
                catalog_warn(f"未声明分隔符，按文件内容识别为{_SEP_NAMES[sep]}；建议在目录中写明 options.sep: {sep!r}",
                             entry.name, path)
        try:
            return pd.read_csv(path, sep=sep, encoding=encoding, **kwargs)
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
        frame = self._read(entry, path, warn=True, dtype=dict.fromkeys(str_cols, str) or None,
                           usecols=with_columns(columns, x, y))
        frame = drop_total_rows(frame, entry, path, lambda pos: f"第 {pos + 1} 条记录")
        warn_if_no_records(frame, entry, path)
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
