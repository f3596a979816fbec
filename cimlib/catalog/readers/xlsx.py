"""Reader for Excel workbooks through pandas: ``.xlsx``/``.xlsm`` with openpyxl, Excel 97-2003 ``.xls`` with xlrd."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ReadError
from ._base import Reader
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


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _is_xls(path: Path) -> bool:
    """Whether the file is an Excel 97-2003 workbook (an OLE2 compound file), whatever its name says."""
    with open(path, "rb") as fh:
        return fh.read(8) == _OLE2


def _unmerged(entry, path: Path, sheet, header, *, warn: bool):
    """The workbook to read (the file, or the bytes of an in-memory copy with merged cells filled) and the header
    rows to use."""
    import io

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception:  # not a workbook: let pandas raise its own error
        return path, header
    try:
        ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
    except (KeyError, IndexError):
        book.close()
        return path, header
    ranges = list(ws.merged_cells.ranges)
    if not ranges:
        book.close()
        return path, header
    if "header" not in entry.options and any(r.min_row == 1 and (r.max_col > r.min_col or r.max_row > 1) for r in ranges):
        header = [0, 1]
        if warn:
            catalog_warn("表头第 1 行含合并单元格，已按两行表头读取（列名为“上级_下级”）；建议在目录中写明 "
                         "options.header: [0, 1]", entry.name, path)
    data_start = (max(header) if isinstance(header, list) else header) + 2  # first data row, 1-based
    in_data = [r for r in ranges if r.max_row >= data_start]
    for r in ranges:
        value = ws.cell(r.min_row, r.min_col).value
        ws.unmerge_cells(str(r))
        for row in ws.iter_rows(min_row=r.min_row, max_row=r.max_row, min_col=r.min_col, max_col=r.max_col):
            for cell in row:
                cell.value = value
    if in_data and warn:
        shown = "、".join(str(r) for r in in_data[:5]) + ("等" if len(in_data) > 5 else "")
        catalog_warn(f"数据区含 {len(in_data)} 处合并单元格（{shown}），已把左上角的值填入合并范围内的每个单元格",
                     entry.name, path)
    buffer = io.BytesIO()
    book.save(buffer)
    book.close()
    return buffer.getvalue(), header


class XlsxReader(Reader):
    """Excel sheet; options ``sheet`` (name or index), ``header`` (row index or list), ``x``/``y``, ``dtype``.

    A multi-row ``header`` is flattened with :func:`flatten_header` so that ``id_column``, ``x`` and ``y``
    name single columns.
    """

    name = "xlsx"
    suffixes = (".xlsx", ".xlsm", ".xls")
    options = {"sheet": (str, int), "header": (int, list), "x": str, "y": str, "dtype": (list, str)}

    def _prepare(self, entry, path: Path, *, warn: bool) -> tuple[Any, Any, str]:
        """What to read, with which header rows and engine: ``(source, header, engine)``.

        Merged cells are filled with their top-left value (on an in-memory copy: the file is never written), and
        a header whose first row holds merged cells is read as two rows when the catalog does not say otherwise;
        with ``warn``, both emit a :class:`CatalogWarning`. Excel 97-2003 (``.xls``), as many offices still send,
        is read with xlrd as it is.
        """
        sheet = entry.options.get("sheet", 0)
        header = entry.options.get("header", 0)
        if _is_xls(path):
            return path, header, "xlrd"
        source, header = _unmerged(entry, path, sheet, header, warn=warn)
        return source, header, "openpyxl"

    def _read(self, entry, path: Path, prepared: tuple | None = None, **kwargs: Any):
        """Call :func:`pandas.read_excel` on what :meth:`_prepare` gave, flattening multi-row headers."""
        import io

        import pandas as pd

        sheet = entry.options.get("sheet", 0)
        source, header, engine = prepared or self._prepare(entry, path, warn=False)
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        try:
            frame = pd.read_excel(source, sheet_name=sheet, header=header, engine=engine, **kwargs)
        except ValueError as exc:
            if "Worksheet" in str(exc):
                raise ReadError(f"工作表 {sheet!r} 不存在（{exc}）", entry=entry.name, path=path) from exc
            raise
        if isinstance(header, list):
            frame.columns = flatten_header(frame.columns)
        return frame

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
            If the file is not a workbook or the sheet does not exist.
        """
        x, y = entry.options.get("x"), entry.options.get("y")
        str_cols = string_columns(entry)
        prepared = self._prepare(entry, path, warn=True)
        dtype = None
        if str_cols:
            names = list(self._read(entry, path, prepared, nrows=0).columns)
            if any(c not in names for c in str_cols) or isinstance(prepared[1], list):
                # flattened names are only known after reading the header: pass positions instead
                dtype = {names.index(c): str for c in str_cols if c in names}
            else:
                dtype = dict.fromkeys(str_cols, str)
        frame = as_str_columns(self._read(entry, path, prepared, dtype=dtype or None), str_cols)
        if x and y:
            frame = points_from_columns(frame, x, y, entry.crs, entry.name, path)
        if columns is not None:
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ReadError(f"列不存在：{'、'.join(missing)}", entry=entry.name, path=path)
            frame = frame[[c for c in frame.columns if c in columns or (x and c == "geometry")]]
        return frame

    def describe(self, entry, path: Path) -> dict[str, Any]:
        """Columns from the header rows; rows from the sheet dimension (counted if the file lacks one).

        Parameters
        ----------
        entry : CatalogEntry
            Catalog entry.
        path : pathlib.Path
            Workbook.

        Returns
        -------
        dict
            See :data:`DESCRIBE_KEYS`; ``rows`` may include trailing blank rows kept in the sheet dimension.
        """
        import openpyxl

        prepared = self._prepare(entry, path, warn=False)
        columns = [str(c) for c in self._read(entry, path, prepared, nrows=0).columns]
        header = prepared[1]
        header_rows = (max(header) if isinstance(header, list) else header) + 1
        sheet = entry.options.get("sheet", 0)
        if _is_xls(path):
            point = "Point" if entry.options.get("x") else None
            return self.summary(entry, path, rows=len(self._read(entry, path, prepared)), columns=columns,
                                geometry_type=point)
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            worksheet = workbook[sheet] if isinstance(sheet, str) else workbook.worksheets[sheet]
            total = worksheet.max_row
            if total is None:
                total = sum(1 for _ in worksheet.iter_rows(max_col=1, values_only=True))
        finally:
            workbook.close()
        point = "Point" if entry.options.get("x") else None
        return self.summary(entry, path, rows=max(total - header_rows, 0), columns=columns, geometry_type=point)
