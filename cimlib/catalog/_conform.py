"""What every read goes through after its reader: source columns mapped to schema fields, coded values mapped.

A department's file keeps its own column names (``公民身份号码``, ``JZWBH``); the catalog entry's ``columns:`` says
which schema field each one holds and ``values:`` how coded values read (``1`` → ``男``). :func:`conform` applies
both to whatever a reader returned (pandas, GeoPandas or Dask frames), so no rule or metric ever sees a source name,
and then brings geometry to the workbench CRS (:func:`cimlib.catalog._crs.to_workbench_crs`). The source is never
modified: only the frame in memory is renamed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._crs import to_workbench_crs
from ._model import CatalogEntry
from .errors import CatalogError

__all__ = ["conform", "source_columns", "ColumnMappingError"]


class ColumnMappingError(CatalogError):
    """The entry's ``columns:`` mapping does not fit the data (a mapped column missing, a name taken twice)."""


def source_columns(entry: CatalogEntry, columns: Sequence[str] | None) -> list[str] | None:
    """Translate requested schema field names into the source's column names.

    Parameters
    ----------
    entry : CatalogEntry
        Catalog entry with its ``columns`` mapping.
    columns : sequence of str or None
        Field names asked for (a source name is accepted too); ``None`` means all columns.

    Returns
    -------
    list of str or None
        Column names as the reader must ask the file for them.
    """
    if columns is None or not entry.columns:
        return None if columns is None else list(columns)
    return list(dict.fromkeys(entry.source_column(c) for c in columns))


def _column_names(obj: Any) -> list[str] | None:
    names = getattr(obj, "columns", None)
    if names is None or not hasattr(obj, "rename"):
        return None
    return [str(c) for c in names]


def conform(entry: CatalogEntry, path: Path, obj: Any, requested: Sequence[str] | None = None) -> Any:
    """Map an entry's source columns and coded values to schema fields, then transform geometry to EPSG:4490.

    Parameters
    ----------
    entry : CatalogEntry
        Catalog entry (``columns``, ``values``, declared ``crs``).
    path : pathlib.Path
        What was read (for messages).
    obj : object
        What the reader returned: a pandas/GeoPandas/Dask frame, or an xarray object (returned unchanged).
    requested : sequence of str, optional
        The source columns asked for (only those must exist); ``None`` when the whole table was read.

    Returns
    -------
    object
        The same kind of object with schema field names, mapped values and geometry in EPSG:4490.

    Raises
    ------
    ColumnMappingError
        A mapped source column is missing from the data, or a source column already carries the name a mapping
        gives to another one (the catalog error names the entry and the ``columns`` key).
    """
    names = _column_names(obj)
    if names is not None and (entry.columns or entry.values):
        obj = _rename(entry, path, obj, names, requested)
        obj = _map_values(entry, obj)
    return to_workbench_crs(entry, path, obj)


def _rename(entry: CatalogEntry, path: Path, obj: Any, names: list[str], requested: Sequence[str] | None) -> Any:
    wanted = set(requested) if requested is not None else None
    present = set(names)
    missing = [s for s in entry.columns if s not in present and (wanted is None or s in wanted)]
    if missing:
        listed = "、".join(names) or "（无）"
        lines = [f"键 'columns.{s}'：源字段 '{s}'（映射为 {entry.columns[s]}）在数据中不存在" for s in missing]
        raise ColumnMappingError("；".join(lines) + f"。数据中的字段：{listed}", entry=entry.name, path=path)
    targets = {t: s for s, t in entry.columns.items() if s in present}
    clash = [t for t in targets if t in present and t not in entry.columns]
    if clash:
        lines = [f"键 'columns.{targets[t]}'：映射为 '{t}'，但数据中已有同名字段 '{t}'（请把它也写进 columns 映射，"
                 f"或改映射）" for t in clash]
        raise ColumnMappingError("；".join(lines), entry=entry.name, path=path)
    rename = {s: t for s, t in entry.columns.items() if s in present and s != t}
    return obj.rename(columns=rename) if rename else obj


def _map_series(series: pd.Series, table: dict[str, Any]) -> pd.Series:
    """Map coded values (compared as text; ``1.0`` reads as ``1``); values not in ``table`` are kept.

    When every value of ``table`` is text the result is a text column (unlisted codes as their text), whatever the
    source type was, so that a partitioned read declares the same type as each partition holds.
    """
    from .readers._util import _series_to_str

    text = _series_to_str(series)
    mapped = text.map(table)
    if _all_text(table):
        return mapped.where(mapped.notna(), text).astype("str")
    hit = mapped.notna() & series.notna()
    if not hit.any():
        return series
    return series.astype(object).where(~hit, mapped)


def _all_text(table: dict[str, Any]) -> bool:
    return all(isinstance(v, str) for v in table.values())


def _map_values(entry: CatalogEntry, obj: Any) -> Any:
    present = [f for f in entry.values if f in obj.columns]
    if not present:
        return obj
    if isinstance(obj, pd.DataFrame):
        obj = obj.copy(deep=False)
        for field in present:
            obj[field] = _map_series(obj[field], entry.values[field])
        return obj
    for field in present:  # Dask (-GeoPandas) frames: the same per partition
        table = entry.values[field]
        meta = (field, "str" if _all_text(table) else "object")
        obj = obj.assign(**{field: obj[field].map_partitions(_map_series, table, meta=meta)})
    return obj
