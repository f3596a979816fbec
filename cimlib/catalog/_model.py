"""Value objects of the data catalog: :class:`CatalogEntry`, :class:`Snapshots` and the allowed values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CatalogEntry", "Snapshots", "LAYERS", "CLASSIFICATIONS", "NAME_PATTERN", "PERIOD_PATTERN"]

#: CJJ/T 315 data categories allowed in ``layer``.
LAYERS: tuple[str, ...] = ("时空基础", "资源调查", "规划管控", "工程建设项目", "公共专题", "物联感知")
#: Data security levels allowed in ``classification``.
CLASSIFICATIONS: tuple[str, ...] = ("公开", "内部", "敏感")
#: Pattern an entry ``name`` must match.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
#: Pattern of a snapshot period (``YYYY-MM``).
PERIOD_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])\Z")


@dataclass(frozen=True, kw_only=True)
class Snapshots:
    """Monthly snapshots of an entry: ``<path>/period=YYYY-MM/part-0.<ext>``.

    Attributes
    ----------
    path : str
        Folder as written in the catalog.
    periods : tuple of str
        Periods declared in the catalog (``YYYY-MM``), possibly empty.
    resolved_path : pathlib.Path
        Absolute folder.
    """

    path: str
    periods: tuple[str, ...]
    resolved_path: Path

    def folder(self, period: str) -> Path:
        """Folder of one period.

        Parameters
        ----------
        period : str
            ``YYYY-MM``.

        Returns
        -------
        pathlib.Path
            ``resolved_path / "period=YYYY-MM"`` (may not exist).
        """
        return self.resolved_path / f"period={period}"

    def available(self) -> list[str]:
        """Periods declared in the catalog or present on disk, sorted.

        Returns
        -------
        list of str
            ``YYYY-MM`` strings.
        """
        found: set[str] = set(self.periods)
        if self.resolved_path.is_dir():
            found.update(
                p.name.split("=", 1)[1]
                for p in self.resolved_path.iterdir()
                if p.is_dir() and p.name.startswith("period=") and PERIOD_PATTERN.match(p.name.split("=", 1)[1])
            )
        return sorted(found)


@dataclass(frozen=True, kw_only=True)
class CatalogEntry:
    """One dataset of the catalog, validated.

    Attributes
    ----------
    name : str
        Unique identifier, ``[a-z][a-z0-9_]*``.
    title_zh : str
        Chinese title shown in reports.
    layer : str
        CJJ/T 315 category (one of :data:`LAYERS`).
    format : str
        Reader name (key of :data:`cimlib.catalog.READERS`).
    path : str
        Path as written in the catalog.
    crs : str or None
        Declared CRS (the catalog-level default when the entry omits it).
    id_column : str or None
        Identifier column (``None`` for rasters).
    schema : str
        Name of the ``standards_checks`` schema.
    owner : str
        Responsible department.
    classification : str
        Security level (one of :data:`CLASSIFICATIONS`).
    update_cycle : str
        Update cycle, e.g. ``季度``.
    options : dict
        Reader-specific options (treat as read-only).
    snapshots : Snapshots or None
        Monthly snapshots, if declared.
    resolved_path : pathlib.Path
        Absolute path of the data (relative paths resolved against the catalog file holding the entry).
    catalog_path : pathlib.Path
        Absolute path of the catalog file holding the entry (the included file for included entries).
    columns : dict of str to str
        Column mapping, source column name -> schema field name (``columns:`` in the catalog); empty when the
        source already uses the schema's names. Applied on read by :meth:`cimlib.catalog.Catalog.read`.
    values : dict of str to dict
        Coded values per schema field, source value (as text) -> value (``values:`` in the catalog).
    """

    name: str
    title_zh: str
    layer: str
    format: str
    path: str
    crs: str | None
    id_column: str | None
    schema: str
    owner: str
    classification: str
    update_cycle: str
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    snapshots: Snapshots | None = None
    resolved_path: Path
    catalog_path: Path
    columns: dict[str, str] = field(default_factory=dict, hash=False)
    values: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)

    def source_column(self, name: str) -> str:
        """The source column that holds schema field ``name`` (``name`` itself when it is not mapped).

        Parameters
        ----------
        name : str
            Schema field name.

        Returns
        -------
        str
            Column name as in the source file or table.
        """
        for source, target in self.columns.items():
            if target == name:
                return source
        return name

    def field_column(self, name: str) -> str:
        """The schema field a source column is mapped to (``name`` itself when it is not mapped).

        Parameters
        ----------
        name : str
            Column name as in the source.

        Returns
        -------
        str
            Schema field name.
        """
        return self.columns.get(name, name)

    def field_label(self, name: str) -> str:
        """``name`` for messages: ``id_number（源字段 公民身份号码）`` when the field is mapped from another column.

        Parameters
        ----------
        name : str
            Schema field name.

        Returns
        -------
        str
            The field name, followed by its source column when they differ.
        """
        source = self.source_column(name)
        return name if source == name else f"{name}（源字段 {source}）"
