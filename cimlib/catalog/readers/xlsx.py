"""Reader for Excel workbooks (``.xlsx``/``.xlsm``, Excel 97-2003 ``.xls``): cell values with python-calamine.

calamine (Rust) reads the cell values and the sheet's merged ranges, whatever the workbook's real format (it is
recognised by content, so an ``.xls`` under an ``.xlsx`` name reads too); pandas' own text parser then gives the
columns their types exactly as :func:`pandas.read_excel` does. The sheet's structure is inspected on those values:
leading title rows (``某某登记表（2024年9月）`` over the header), a header whose first row holds merged cells (read
as two rows), merged cells in the data (filled), and 合计/总计 rows at the foot (left out); each is reported with
a :class:`CatalogWarning`. The workbook is never written.

Measured on a 300,000-row register (``benchmarks/bench_xlsx.py``): see ``docs/catalog.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from ..errors import ReadError
from ._base import Reader
from ._tables import drop_total_rows, fill_header_level, title_rows, warn_if_no_records
from ._util import as_str_columns, catalog_warn, points_from_columns, string_columns

__all__ = ["XlsxReader", "flatten_header"]


def flatten_header(columns) -> list[str]:
    """Flatten a multi-row header into single names joined with ``_``.

    Levels that pandas filled with ``Unnamed: ...`` (empty cells) are skipped, as are repeats of the
    level above (vertically merged cells), so ``("基本信息", "名称")`` becomes ``基本信息_名称``.

    Parameters
    ----------
    columns : pandas.Index or pandas.MultiIndex
        Header read by pandas.

    Returns
    -------
    list of str
        One name per column.
    """
    names = []
    for column in columns:
        parts: list[str] = []
        for level in column if isinstance(column, tuple) else (column,):
            text = str(level).strip()
            if text and not text.startswith("Unnamed:") and (not parts or parts[-1] != text):
                parts.append(text)
        names.append("_".join(parts))
    return names


class _Sheet(NamedTuple):
    """Cell values of a sheet (rows of Python values, ``""`` for empty cells), its merged ranges and its name."""

    rows: list[list[Any]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]]
    name: str
    names: list[str]


def _load_sheet(entry, path: Path) -> _Sheet:
    """Read a sheet's cell values and merged ranges with calamine (the workbook's format recognised by content)."""
    from python_calamine import CalamineWorkbook

    sheet = entry.options.get("sheet", 0)
    with open(path, "rb") as fh:
        book = CalamineWorkbook.from_filelike(fh)
    try:
        names = list(book.sheet_names)
        listed = "、".join(names) or "（无）"
        if isinstance(sheet, str) and sheet not in names:
            raise ReadError(f"工作表 {sheet!r} 不存在；工作簿中的工作表：{listed}", entry=entry.name, path=path)
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise ReadError(f"工作表序号 {sheet} 超出范围（共 {len(names)} 个，从 0 起算）；工作簿中的工作表：{listed}",
                            entry=entry.name, path=path)
        name = sheet if isinstance(sheet, str) else names[sheet]
        ws = book.get_sheet_by_name(name)
        rows = ws.to_python(skip_empty_area=False)
        merged = list(ws.merged_cell_ranges or [])
    finally:
        book.close()
    return _Sheet(_trimmed(rows), merged, name, names)


def _blank(value: Any) -> bool:
    return value == "" or value is None


def _trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows without the trailing empty rows and columns (formatted but empty cells), as pandas' openpyxl path gives."""
    end = len(rows)
    while end and all(map(_blank, rows[end - 1])):
        end -= 1
    rows = rows[:end]
    width = 0
    for row in rows:
        last = len(row)
        while last > width and _blank(row[last - 1]):
            last -= 1
        width = max(width, last)
    return [row[:width] for row in rows] if rows and width < len(rows[0]) else rows


def _convert(value: Any) -> Any:
    """One cell as pandas' Excel readers give it: whole floats as ``int``, dates as ``datetime``."""
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


def _filled(rows: list[list[Any]], merged) -> None:
    """Write each merged range's top-left value into every cell of the range (in place, on the values read)."""
    for (r0, c0), (r1, c1) in merged:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                row[c] = value


def _range_label(r0: int, c0: int, r1: int, c1: int) -> str:
    """``B3:B5`` from 0-based corners."""
    def cell(r: int, c: int) -> str:
        letters = ""
        c += 1
        while c:
            c, rem = divmod(c - 1, 26)
            letters = chr(65 + rem) + letters
        return f"{letters}{r + 1}"

    return f"{cell(r0, c0)}:{cell(r1, c1)}"


def _filled_cells(row: list[Any]) -> int:
    """Cells of a row holding a value."""
    return sum(not _blank(v) for v in row)


def _header(entry, path: Path, sheet: _Sheet, *, warn: bool) -> int | list[int]:
    """Header row(s): ``options.header``, or found under title rows, two rows when the first holds merged cells."""
    if "header" in entry.options:
        return entry.options["header"]
    top = title_rows(sheet.rows, _filled_cells)
    if top and warn:
        title = next((str(v) for row in sheet.rows[:top] for v in row if not _blank(v)), "")
        catalog_warn(f"工作表前 {top} 行是标题（{title[:40]}），已从第 {top + 1} 行读取表头；建议在目录中写明 "
                     f"options.header: {top}", entry.name, path)
    if any(r0 == top and (c1 > c0 or r1 > r0) for (r0, c0), (r1, c1) in sheet.merged):
        if warn:
            catalog_warn(f"表头第 {top + 1} 行含合并单元格，已按两行表头读取（列名为“上级_下级”）；建议在目录中写明 "
                         f"options.header: [{top}, {top + 1}]", entry.name, path)
        return [top, top + 1]
    return top


def _parse(rows: list[list[Any]], header: int | list[int], **kwargs: Any) -> pd.DataFrame:
    """Parse cell values as :func:`pandas.read_excel` does (pandas' text parser, blank rows kept)."""
    from pandas.errors import EmptyDataError
    from pandas.io.parsers import TextParser

    if isinstance(header, list):
        if len(header) == 1:
            header = header[0]
        else:
            control = [True] * len(rows[0])
            for r in header:
                if r > len(rows) - 1:
                    raise ValueError(f"表头行 {r} 超出工作表的行数 {len(rows)}")
                fill_header_level(rows[r], control, _blank)  # as pandas.read_excel
    try:
        return TextParser(rows, header=header, skip_blank_lines=False, **kwargs).read()
    except EmptyDataError:
        return pd.DataFrame()


class XlsxReader(Reader):
    """Excel sheet; options ``sheet`` (name or index), ``header`` (row index or list), ``x``/``y``, ``dtype``.

    A multi-row ``header`` is flattened with :func:`flatten_header` so that ``id_column``, ``x`` and ``y``
    name single columns.
    """

    name = "xlsx"
    suffixes = (".xlsx", ".xlsm", ".xls")
    options = {"sheet": (str, int), "header": (int, list), "x": str, "y": str, "dtype": (list, str)}

    def _table(self, entry, path: Path, *, warn: bool) -> pd.DataFrame:
        """The sheet as a table in source column names (merged cells filled, summary rows left out).

        With ``warn``, what was assumed (title rows, two-row header, merged cells in the data, summary rows, no
        records) is reported with a :class:`CatalogWarning`.
        """
        sheet = _load_sheet(entry, path)
        rows = sheet.rows
        if not rows:
            raise ReadError(f"工作表 '{sheet.name}' 为空（没有表头也没有记录）；请核对 options.sheet 是否指向数据所在的"
                            f"工作表（工作簿中的工作表：{'、'.join(sheet.names)}）", entry=entry.name, path=path)
        header = _header(entry, path, sheet, warn=warn)
        last_header = max(header) if isinstance(header, list) else header
        data_start = last_header + 1
        _filled(rows, sheet.merged)
        in_data = [m for m in sheet.merged if m[1][0] >= data_start]
        if in_data and warn:
            shown = "、".join(_range_label(*m[0], *m[1]) for m in in_data[:5]) + ("等" if len(in_data) > 5 else "")
            catalog_warn(f"数据区含 {len(in_data)} 处合并单元格（{shown}），已把左上角的值填入合并范围内的每个单元格",
                         entry.name, path)
        rows = [[_convert(v) for v in row] for row in rows]
        str_cols = string_columns(entry)
        dtype = None
        if str_cols:
            names = list(_parse([list(r) for r in rows[:data_start]], header, nrows=0).columns)
            if isinstance(header, list):
                names = flatten_header(names)
                # flattened names are only known after reading the header: pass positions instead
                dtype = {names.index(c): str for c in str_cols if c in names} or None
            else:
                dtype = {c: str for c in str_cols if c in names} or None
        frame = _parse(rows, header, dtype=dtype)
        if isinstance(header, list):
            frame.columns = flatten_header(frame.columns)
        frame = drop_total_rows(frame, entry, path, lambda pos: f"工作表第 {data_start + pos + 1} 行", warn=warn)
        if warn:
            warn_if_no_records(frame, entry, path, f"工作表 '{sheet.name}' ")
        return as_str_columns(frame, str_cols)

    def open(self, entry, path: Path, columns: Sequence[str] | None = None) -> Any:
        """Read the sheet.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Workbook.
        columns : sequence of str, optional
            Columns to keep (plus ``geometry`` when ``x``/``y`` are set).

        Returns
        -------
        pandas.DataFrame or geopandas.GeoDataFrame
            Table; identifier and ``options.dtype`` columns as strings.

        Raises
        ------
        ReadError
            If the file is not a workbook or the sheet does not exist or is empty.
        """
        x, y = entry.options.get("x"), entry.options.get("y")
        frame = self._table(entry, path, warn=True)
        if x and y:
            frame = points_from_columns(frame, x, y, entry.crs, entry.name, path)
        if columns is not None:
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ReadError(f"列不存在：{'、'.join(missing)}", entry=entry.name, path=path)
            frame = frame[[c for c in frame.columns if c in columns or (x and c == "geometry")]]
        return frame

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """Columns from the header rows; rows counted from the sheet's cell values.

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Workbook.

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`; ``rows`` counts the rows under the header (blank rows inside the data
            included, summary rows at the foot left out).
        """
        frame = self._table(entry, path, warn=False)
        point = "Point" if entry.options.get("x") else None
        return self.summary(entry, path, rows=len(frame), columns=[str(c) for c in frame.columns], geometry_type=point)
