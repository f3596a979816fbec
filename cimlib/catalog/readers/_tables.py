"""What office tables carry besides their records: title rows above the header, a header over two rows, a 合计/总计
row at the foot, or no records at all (shared by the xlsx and csv readers)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._util import catalog_warn

__all__ = ["drop_total_rows", "warn_if_no_records", "TOTAL_LABELS", "TITLE_ROWS", "title_rows", "fill_header_level"]

#: Rows (a sheet's, or the non-blank lines of a text table) looked at for title rows above the header.
TITLE_ROWS = 10

#: Labels of a summary row (after removing blanks): 合计, 总计, 小计, 共计, 总合计, optionally followed by ``：…`` or ``（…）``.
TOTAL_LABELS = re.compile(r"^(合计|总计|小计|共计|总合计)([:：（(].*)?$")
_BLANKS = re.compile(r"\s+")
#: How many rows from the foot are looked at (a 小计 and a 合计, blank rows between).
_FOOT = 10


def title_rows(rows: Sequence[Sequence[Any]], filled: Callable[[Sequence[Any]], int]) -> int:
    """Leading rows that are a title (one filled cell, or none) above a header of several cells.

    Parameters
    ----------
    rows : sequence of sequences
        The first rows of the table (cell values, or the cells of text lines).
    filled : callable
        ``filled(row) -> int``: how many cells of a row hold something.

    Returns
    -------
    int
        Rows above the header among the first :data:`TITLE_ROWS`; 0 when no row of the first ``TITLE_ROWS + 1``
        has two filled cells, or when every row is a title.
    """
    counts = [filled(row) for row in rows[:TITLE_ROWS + 1]]
    if max(counts, default=0) < 2:
        return 0
    count = 0
    for cells in counts[:TITLE_ROWS]:
        if cells > 1:
            break
        count += 1
    return count if count < len(rows) else 0


def fill_header_level(labels: list[Any], control: list[bool], blank: Callable[[Any], bool]) -> None:
    """Forward-fill the blank labels of an upper header row within the same parent, in place, as
    :func:`pandas.read_excel` does for the cells a merged group title leaves blank.

    Parameters
    ----------
    labels : list
        One header row (changed in place).
    control : list of bool
        Shared by the rows of one header, from the top (all ``True`` at first): where a parent ends.
    blank : callable
        ``blank(label) -> bool``: whether a cell is blank.
    """
    last = labels[0]
    for i in range(1, len(labels)):
        if not control[i]:
            last = labels[i]
        if blank(labels[i]):
            labels[i] = last
        else:
            control[i] = False
            last = labels[i]


def _label(value: object) -> str | None:
    """Text of a cell without blanks (``合  计`` -> ``合计``), ``None`` for an empty cell or a non-text value."""
    if isinstance(value, str):
        text = _BLANKS.sub("", value)
        return text or None
    return None


def _empty(value: object) -> bool:
    """Whether a cell is empty (missing, or blank text)."""
    if isinstance(value, str):
        return not value.strip()
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))


def _id_source(entry) -> str | None:
    """The source column of the entry's identifier (the schema field mapped back, when a mapping is declared)."""
    id_column = getattr(entry, "id_column", None)
    if not id_column:
        return None
    source = getattr(entry, "source_column", None)
    return source(id_column) if callable(source) else id_column


def drop_total_rows(frame: pd.DataFrame, entry, path: Path, where: Callable[[int], str], *,
                    warn: bool = True) -> pd.DataFrame:
    """Leave out the summary rows (合计, 总计, 小计, ...) at the foot of a table, with a :class:`CatalogWarning`.

    A row is a summary row when its first non-empty cell, or its identifier cell, reads 合计/总计/小计/共计/总合计
    (blanks ignored, ``合计：`` and ``合计（万元）`` included). Rows are looked at from the last one up; blank rows are
    passed over (and kept), the first row that is neither blank nor a summary ends the search. Only the foot is
    looked at: a label inside the table is data.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table as read, in source column names, before geometry is built.
    entry : CatalogEntry
        Catalog entry (name, identifier column).
    path : pathlib.Path
        File, for the message.
    where : callable
        ``where(position) -> str``: where a row is in the file, for the message (``第 12 行``).
    warn : bool, default True
        Emit the warning (off for a description of the file).

    Returns
    -------
    pandas.DataFrame
        ``frame`` without its summary rows (the same object when there are none).
    """
    if len(frame) == 0 or len(frame.columns) == 0:
        return frame
    id_column = _id_source(entry)
    id_position = list(frame.columns).index(id_column) if id_column in frame.columns else None
    foot = frame.iloc[-_FOOT:].astype(object).to_numpy()
    offset = len(frame) - len(foot)
    dropped: list[tuple[int, str]] = []
    for i in range(len(foot) - 1, -1, -1):
        cells = foot[i]
        present = [v for v in cells if not _empty(v)]
        if not present:
            continue
        label = _label(present[0])
        if not (label and TOTAL_LABELS.match(label)) and id_position is not None:
            label = _label(cells[id_position])
        if label and TOTAL_LABELS.match(label):
            dropped.append((offset + i, label))
            continue
        break
    if not dropped:
        return frame
    dropped.reverse()
    if not warn:
        return frame.drop(index=frame.index[[pos for pos, _ in dropped]])
    shown = "、".join(f"{where(pos)}（{label}）" for pos, label in dropped)
    catalog_warn(f"表尾的汇总行 {shown} 不是记录，已排除，不参与检查和统计；建议交付时去掉汇总行", entry.name, path)
    return frame.drop(index=frame.index[[pos for pos, _ in dropped]])


def warn_if_no_records(frame: pd.DataFrame, entry, path: Path, what: str = "文件") -> None:
    """Warn when a table has a header but no record (read as an empty table with its columns).

    Parameters
    ----------
    frame : pandas.DataFrame
        Table as read.
    entry : CatalogEntry
        Catalog entry.
    path : pathlib.Path
        File, for the message.
    what : str, default "文件"
        What holds the table (``文件``, ``工作表 '实有人口'``).
    """
    if len(frame) == 0 and len(frame.columns) > 0:
        catalog_warn(f"{what}只有表头，没有记录（0 条）；请核对导出时是否选中了数据，或向提供部门重新索取",
                     entry.name, path)
