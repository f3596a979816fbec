"""Reader for delimited text (CSV, TSV, TXT): UTF-8 / GBK encoding, delimiter and header rows detected.

Departments export registers as text the way they keep them in Excel: a title line (``某某登记表（2024年9月）``)
or a few note lines above the header, sometimes a header over two rows (a group such as ``基本信息`` over
``姓名``, ``性别``). ``options.header`` says where the header is, as for the xlsx reader: a row index, or a list of
two rows flattened into ``上级_下级`` names. Without it, leading title lines (one non-empty cell above a header of
several) are found, skipped and reported with a :class:`CatalogWarning` suggesting the option; the delimiter is
detected on the header and data lines, never on the title.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ReadError
from ._base import Reader
from ._tables import TITLE_ROWS, drop_total_rows, fill_header_level, title_rows, warn_if_no_records
from ._util import (
    as_str_columns,
    catalog_warn,
    decodes,
    detect_text_encoding,
    is_utf8,
    points_from_columns,
    string_columns,
    with_columns,
)

__all__ = ["CsvReader", "csv_encoding", "detect_separator", "csv_header_names"]

#: Delimiters tried when ``options.sep`` is absent, in order of preference on a tie.
SEPARATORS = (",", "\t", ";", "|")
_SEP_NAMES = {",": "逗号（,）", "\t": "制表符（Tab）", ";": "分号（;）", "|": "竖线（|）"}
#: Bytes of the file looked at to detect the delimiter and title lines.
_SAMPLE = 1 << 16
#: Lines looked at for the delimiter.
_SEP_LINES = 200


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
    if not is_utf8(declared) and not decodes(path, "ascii") and decodes(path, "utf-8"):
        catalog_warn(f"options.encoding 声明为 {declared}，但文件内容是有效的 UTF-8，读取结果可能是乱码", entry.name, path)
    return declared


# --------------------------------------------------------------------------- the head of the file


def _head_lines(path: Path, encoding: str, sample: int = _SAMPLE) -> list[tuple[int, str]]:
    """Non-blank lines of the head of a file, as :func:`pandas.read_csv` counts them for ``header``.

    Returns ``(line number from 1, text)`` pairs; the last line is dropped when the sample cuts it.
    """
    import codecs

    with open(path, "rb") as fh:
        head = fh.read(sample)
        complete = not fh.read(1)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    return [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]


def _split(lines: Sequence[str], sep: str) -> list[list[str]]:
    """Lines split into cells by :mod:`csv` (a delimiter inside quotes does not count)."""
    import csv
    import io

    return [row for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=sep) if row]


def _empty_label(label: str) -> bool:
    """Whether a header cell of a text table is empty (``Unnamed: ...`` already made ``""``)."""
    return not label


def _filled_cells(row: Sequence[str]) -> int:
    """Cells of a line holding something other than blanks."""
    return sum(bool(cell.strip()) for cell in row)


def _title_rows(rows: Sequence[Sequence[str]]) -> int:
    """Leading lines that are a title (one non-empty cell) above a header of several cells, as for a sheet."""
    return title_rows(rows, _filled_cells)


def _consistent_fields(rows: Sequence[Sequence[str]]) -> int:
    """Fields per line when at least 90 % of the lines have the same number of them, two or more; else 1."""
    from collections import Counter

    counts = Counter(len(row) for row in rows)
    if not counts:
        return 1
    fields, times = counts.most_common(1)[0]
    return fields if fields >= 2 and times >= 0.9 * sum(counts.values()) else 1


def _separator(lines: Sequence[str], skip: int | None) -> str:
    """The delimiter of the lines; ``skip`` lines above the header left out (``None``: title lines found per
    candidate delimiter and left out)."""
    best, best_fields = ",", 1
    for sep in SEPARATORS:
        rows = _split(lines[:_SEP_LINES + TITLE_ROWS], sep)
        top = _title_rows(rows) if skip is None else skip
        fields = _consistent_fields(rows[top:top + _SEP_LINES])
        if fields > best_fields:
            best, best_fields = sep, fields
    return best


def detect_separator(path: Path, encoding: str, sample: int = _SAMPLE, *, skip: int | None = None) -> str:
    """Detect the delimiter of a text table among comma, tab, semicolon and vertical bar.

    The first non-blank lines (up to ``sample`` bytes, the last possibly cut line dropped) are parsed with
    :mod:`csv` for each candidate, so a delimiter inside quotes does not count. Lines above the header are left
    out: ``skip`` of them, or, when ``skip`` is ``None``, the title lines that candidate shows (one non-empty cell
    above a line of several). A candidate is consistent when at least 90 % of the remaining lines split into the
    same number of fields, two or more; among consistent candidates the one giving most fields wins, a tie going
    to the earlier of ``, \\t ; |``. Without any consistent candidate, a comma.

    Parameters
    ----------
    path : pathlib.Path
        Text file.
    encoding : str
        Its encoding.
    sample : int, default 65536
        Bytes looked at.
    skip : int, optional
        Non-blank lines above the header (``options.header``); detected when ``None``.

    Returns
    -------
    str
        The delimiter.
    """
    lines = [line for _, line in _head_lines(path, encoding, sample)]
    return _separator(lines, skip) if lines else ","


def csv_header_names(columns) -> list[str]:
    """Column names of a text table read with a header over several rows, flattened into single names.

    A text export of a sheet keeps a merged group title (``基本信息`` over ``姓名``, ``性别``) in its first cell
    only: the blank cells of the upper rows are filled from the left within the same parent, then the levels are
    joined with ``_`` by :func:`~cimlib.catalog.readers.xlsx.flatten_header`, so the columns read from the CSV are
    those read from the sheet (``基本信息_姓名``, ``基本信息_性别``). The lowest row is not filled. A single-row header is
    returned as it is.

    Parameters
    ----------
    columns : pandas.Index or pandas.MultiIndex
        Header read by :func:`pandas.read_csv` (blank cells as ``Unnamed: ...``).

    Returns
    -------
    list of str
        One name per column.
    """
    from .xlsx import flatten_header

    tuples = [c if isinstance(c, tuple) else (c,) for c in columns]
    if not tuples or len(tuples[0]) < 2:
        return [str(c) for c in columns]
    levels = [["" if str(t[k]).startswith("Unnamed:") else str(t[k]).strip() for t in tuples]
              for k in range(len(tuples[0]))]
    control = [True] * len(tuples)
    for labels in levels[:-1]:
        fill_header_level(labels, control, _empty_label)
    return flatten_header(list(zip(*levels)))


# --------------------------------------------------------------------------- options.header


def _header_problem(value: Any) -> str | None:
    """What is wrong with an ``options.header`` value (``None`` when it is a row index or a list of them)."""
    rows = value if isinstance(value, list) else [value]
    if not rows or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in rows):
        return f"取值 {value!r} 无效，应为表头所在行号（从 0 起算，不计空行），或两行表头的行号列表（如 [1, 2]）"
    if any(b <= a for a, b in zip(rows, rows[1:])):
        return f"取值 {value!r} 无效，表头行号应从小到大排列（如 [1, 2]）"
    return None


class _Layout(NamedTuple):
    """How a text table is laid out: encoding, delimiter, header row(s)."""

    encoding: str
    sep: str
    header: int | list[int]


class CsvReader(Reader):
    """Delimited text table; options ``encoding``, ``sep``, ``header`` (row index or list), ``x``/``y`` (point
    geometry), ``dtype``.

    ``header`` counts non-blank lines from 0 as :func:`pandas.read_csv` does; a list of rows is a header over
    several rows, flattened with :func:`csv_header_names` (``上级_下级``) so that ``id_column``, ``x`` and ``y``
    name single columns.
    """

    name = "csv"
    suffixes = (".csv", ".txt", ".tsv")
    options = {"encoding": str, "sep": str, "header": (int, list), "x": str, "y": str, "dtype": (list, str)}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Check option names and value types, and that ``header`` is a row index or an increasing list of them.

        Parameters
        ----------
        options : mapping
            The entry's ``options``.

        Returns
        -------
        list of (str, str)
            ``(option, problem)`` pairs, empty when valid.
        """
        problems = super().validate_options(options)
        if "header" in options and not any(key == "header" for key, _ in problems):
            problem = _header_problem(options["header"])
            if problem:
                problems.append(("header", problem))
        return problems

    def _layout(self, entry, path: Path, *, warn: bool) -> _Layout:
        """Encoding, delimiter (``options.sep``, else detected below the title lines) and header row(s)
        (``options.header``, else below the title lines found); with ``warn``, what was assumed is reported."""
        encoding = csv_encoding(entry, path)
        declared = entry.options.get("header")
        if declared is not None:
            problem = _header_problem(declared)
            if problem:
                raise ReadError(f"options.header {problem}", entry=entry.name, path=path)
        numbered = _head_lines(path, encoding)
        lines = [line for _, line in numbered]
        skip = None if declared is None else (declared[0] if isinstance(declared, list) else declared)
        sep = entry.options.get("sep")
        if sep is None:
            sep = _separator(lines, skip) if lines else ","
            if sep != "," and warn:
                catalog_warn(f"未声明分隔符，按文件内容识别为{_SEP_NAMES[sep]}；建议在目录中写明 options.sep: {sep!r}",
                             entry.name, path)
        if declared is not None:
            header = declared[0] if isinstance(declared, list) and len(declared) == 1 else declared
            return _Layout(encoding, sep, header)
        rows = _split(lines[:TITLE_ROWS + 1], sep)
        top = _title_rows(rows)
        if top and warn:
            title = next((cell.strip() for row in rows[:top] for cell in row if cell.strip()), "")
            catalog_warn(f"表头上方有 {top} 行标题（{title[:40]}），已从文件第 {numbered[top][0]} 行读取表头；"
                         f"建议在目录中写明 options.header: {top}", entry.name, path)
        return _Layout(encoding, sep, top)

    def _parse(self, entry, path: Path, layout: _Layout, *, str_cols: Sequence[str] = (),
               usecols: Sequence[str] | None = None, **kwargs: Any):
        """Call :func:`pandas.read_csv` with the layout; a header over several rows is flattened (the string
        columns then passed by position, ``usecols`` applied after reading). Decode errors and a header beyond
        the end of the file become a :class:`ReadError`."""
        import pandas as pd

        encoding, sep, header = layout
        read = dict(sep=sep, encoding=encoding, header=header)
        try:
            if not isinstance(header, list):
                kwargs.setdefault("dtype", dict.fromkeys(str_cols, str) or None)
                return pd.read_csv(path, usecols=usecols, **read, **kwargs)
            names = csv_header_names(pd.read_csv(path, nrows=0, **read).columns)
            dtype = {names.index(c): str for c in str_cols if c in names} or None
            frame = pd.read_csv(path, dtype=dtype, **read, **kwargs)
        except UnicodeDecodeError as exc:
            raise ReadError(f"按编码 {encoding} 解码失败（{exc}）；请核对 options.encoding", entry=entry.name, path=path) from exc
        except pd.errors.ParserError as exc:
            if str(exc).startswith("Passed header"):
                raise ReadError(f"options.header: {header} 超出文件的行数（表头行号从 0 起算，不计空行）；请核对表头所在的行"
                                f"（原始错误：{type(exc).__name__}: {exc}）", entry=entry.name, path=path) from exc
            raise
        frame.columns = names
        if usecols is not None:
            missing = [c for c in usecols if c not in names]
            if missing:
                raise ReadError(f"列不存在：{'、'.join(missing)}；文件中的列（两行表头已合并为“上级_下级”）："
                                f"{'、'.join(names)}", entry=entry.name, path=path)
            frame = frame[[c for c in names if c in usecols]]
        return frame

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
            If the file cannot be decoded or parsed, or ``options.header`` lies beyond its end.
        """
        x, y = entry.options.get("x"), entry.options.get("y")
        str_cols = string_columns(entry)
        layout = self._layout(entry, path, warn=True)
        frame = self._parse(entry, path, layout, str_cols=str_cols, usecols=with_columns(columns, x, y))
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
        layout = self._layout(entry, path, warn=False)
        columns = [str(c) for c in self._parse(entry, path, layout, nrows=0).columns]
        last = layout._replace(header=max(layout.header) if isinstance(layout.header, list) else layout.header)
        rows = len(self._parse(entry, path, last, usecols=[0], dtype=str)) if columns else 0
        point = "Point" if entry.options.get("x") else None
        return self.summary(entry, path, rows=rows, columns=columns, geometry_type=point)
