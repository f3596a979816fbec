"""Where the header of a sheet or CSV file is: under a title row, and over one or two rows.

Registers arrive as forms: a title row (``实有人口登记表（2024年9月）``), sometimes a line of ``填报单位：…`` above
the table, a header over two rows when columns are grouped under merged cells (``基本信息`` over ``姓名``,
``性别``), then the data. :func:`find_header` looks at the first rows as the reader sees them (``header=None``:
blank rows included for Excel, skipped for CSV, the way pandas counts ``header``) and returns the ``header``
option the readers accept: an int, or a list of two rows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = ["HeaderGuess", "find_header", "period_of", "clean_grid", "looks_like_labels"]

_PERIOD = (
    re.compile(r"(20\d{2}|19\d{2})\s*年\s*(\d{1,2})\s*月"),
    re.compile(r"(20\d{2})[-_.](\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)"),
)
_DIGIT = re.compile(r"\d")
_CJK = re.compile(r"[\u3400-\u9fff]")
_NOTE = re.compile(r"[:：]")


@dataclass
class HeaderGuess:
    """Header rows of a table and what lies above them.

    Attributes
    ----------
    header : int or list of int
        Row index (or the two row indices) of the header, counted as the reader counts ``header``.
    title : str or None
        Text of a title row above the header.
    period : str or None
        ``YYYY-MM`` named in the title.
    data_start : int
        First data row.
    confidence : float
        0..1.
    notes : list of str
        What was found (Chinese), for the catalog comment.
    """

    header: int | list[int] = 0
    title: str | None = None
    period: str | None = None
    data_start: int = 1
    confidence: float = 1.0
    notes: list[str] = field(default_factory=list)


def period_of(text: str | None) -> str | None:
    """The ``YYYY-MM`` a title or file name names (``（2024年9月）``, ``2024-09``, ``202409``), if any.

    Parameters
    ----------
    text : str or None

    Returns
    -------
    str or None
    """
    if not text:
        return None
    for pattern in _PERIOD:
        m = pattern.search(text)
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            if 1 <= month <= 12:
                return f"{year:04d}-{month:02d}"
    return None


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def clean_grid(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows with blank cells as ``None`` and strings stripped, all padded to the same width.

    Parameters
    ----------
    rows : list of list

    Returns
    -------
    list of list
    """
    width = max((len(r) for r in rows), default=0)
    out = []
    for row in rows:
        cells = [None if _blank(v) else (v.strip() if isinstance(v, str) else v) for v in row]
        out.append(cells + [None] * (width - len(cells)))
    return out


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    """Every field name of the field-name table, normalised."""
    from .fields import load_field_names, normalize_name

    table = load_field_names()
    names = {normalize_name(n) for s in table.schemas.values() for f in s.fields.values() for n in f.names}
    return frozenset(n for n in names if len(n) >= 2)


def _is_label(value: Any) -> bool:
    """A cell that reads like a column label: short text, not a number, date or code."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text or len(text) > 40:
        return False
    try:
        float(text.replace(",", ""))
        return False
    except ValueError:
        pass
    digits = len(_DIGIT.findall(text))
    return digits / len(text) < 0.34


def _is_known(value: Any) -> bool:
    from .fields import normalize_name

    if not isinstance(value, str):
        return False
    norm = normalize_name(value)
    if norm in _known_names():
        return True
    bare = re.sub(r"[\(（][^\)）]*[\)）]", "", norm)
    return bare in _known_names()


def _row_stats(row: list[Any], width: int) -> dict[str, float]:
    cells = [v for v in row if v is not None]
    k = len(cells)
    if k == 0:
        return {"k": 0, "fill": 0.0, "label": 0.0, "known": 0.0, "data": 0.0}
    labels = sum(_is_label(v) for v in cells)
    known = sum(_is_known(v) for v in cells)
    data = sum((not isinstance(v, str)) or (len(_DIGIT.findall(v)) >= 3) or len(v) > 40 for v in cells)
    return {"k": k, "fill": k / max(width, 1), "label": labels / k, "known": known / k, "data": data / k}


def looks_like_labels(row: list[Any]) -> bool:
    """Whether a row reads like a row of column labels (short texts, no numbers or codes), not like a record.

    Parameters
    ----------
    row : list
        Cell values (blank cells ``None``/NaN/``""``).

    Returns
    -------
    bool
    """
    cells = clean_grid([row])[0] if row else []
    st = _row_stats(cells, len(cells))
    return st["k"] > 0 and st["label"] >= 0.95 and st["data"] == 0


def find_header(rows: list[list[Any]]) -> HeaderGuess:
    """Find the header row(s) in the first rows of a sheet or CSV file.

    Parameters
    ----------
    rows : list of list
        The first rows (30–40 are enough) as read with ``header=None``; blank cells ``None``/NaN/``""``.

    Returns
    -------
    HeaderGuess
        ``header=0`` with low confidence when nothing looks like a header (the first row is then taken).
    """
    grid = clean_grid(rows)
    if not grid:
        return HeaderGuess(confidence=0.0, notes=["表格为空"])
    width = max(sum(v is not None for v in r) for r in grid)
    stats = [_row_stats(r, width) for r in grid]
    best, best_score = None, -1.0
    for i, st in enumerate(stats[:25]):
        if st["k"] < 2 or st["fill"] < 0.5 or st["label"] < 0.75:
            continue
        below = [s for s in stats[i + 1:i + 6] if s["k"]]
        if not below:
            continue
        score = st["label"] + 1.5 * st["known"] + 0.5 * st["fill"] + 0.3 * max(s["data"] for s in below) - 0.02 * i
        if best is None or score > best_score + 0.25:  # the earliest header-like row, unless a later one is clearly better
            best, best_score = i, score
    if best is None:
        return HeaderGuess(header=0, data_start=1, confidence=0.2, notes=["未找到像表头的行，按第 1 行为表头（待确认）"])
    top = best
    if best >= 1 and stats[best - 1]["k"] >= 2 and stats[best - 1]["label"] >= 0.95 and _two_row_header(
            grid[best - 1], grid[best], stats[best - 1], stats[best], grid[best + 1:]):
        top = best - 1  # a sparse group row above the labels (few wide groups)
    guess = HeaderGuess(header=top, data_start=top + 1, confidence=min(1.0, 0.5 + best_score / 4))
    best = top
    above = [r for r in grid[:best] if any(v is not None for v in r)]
    titles = []
    for r in above:
        texts = [str(v) for v in r if v is not None]
        distinct = list(dict.fromkeys(texts))
        if len(distinct) <= 2 and any(_CJK.search(t) for t in distinct):
            text = max(distinct, key=len)
            if not _NOTE.search(text) or len(distinct) == 1 and len(text) > 12 and "表" in text:
                titles.append(text)
    if titles:
        guess.title = max(titles, key=len)
        guess.period = period_of(guess.title)
        guess.notes.append(f"表头在第 {best + 1} 行，其上为标题“{guess.title}”")
    elif best:
        guess.notes.append(f"表头在第 {best + 1} 行（其上 {best} 行不是数据）")
    second = best + 1
    if second < len(grid) and _two_row_header(grid[best], grid[second], stats[best], stats[second], grid[second + 1:]):
        guess.header = [best, second]
        guess.data_start = second + 1
        guess.notes.append(f"表头占两行（第 {best + 1}–{second + 1} 行，合并单元格），列名为“上级_下级”")
    return guess


def _two_row_header(top: list[Any], low: list[Any], st_top: dict, st_low: dict, rest: list[list[Any]]) -> bool:
    """Whether the row under a header row is a second header row (grouped columns under merged cells)."""
    if st_low["k"] == 0 or st_low["label"] < 0.95 or st_low["data"] > 0:
        return False
    if not any(any(v is not None for v in r) for r in rest[:5]):
        return False
    under_gap = sum(1 for a, b in zip(top, low) if a is None and b is not None)      # a group title spans it
    vertical = sum(1 for a, b in zip(top, low) if a is not None and b is None)       # merged over both rows
    if under_gap == 0:
        return False
    if st_low["known"] >= 0.3 or vertical >= 1:
        data_rows = [_row_stats(r, len(r)) for r in rest[:5] if any(v is not None for v in r)]
        # the rows below must not read like more labels (a text-only table would)
        return not data_rows or max(s["data"] for s in data_rows) > 0 or min(s["label"] for s in data_rows) < 0.95
    return False
