"""Scaffold a data catalog from a folder of department deliveries (``cim catalog init``).

Departments deliver files as they keep them: registers in Excel under a title row, GBK CSV, a shapefile with
10-byte field names, layers in a File Geodatabase in a Gauss-Krüger zone, each with its own column names. This
package walks such a folder, finds every dataset (every layer, every sheet), reads its header, encoding, CRS,
geometry type and row count, proposes the schema and the ``columns:`` mapping from a table of field names in common
Chinese use *and* from the values themselves, and writes a catalog whose comments say what was inferred from what,
so that the analyst reviews one file instead of writing fifteen entries. Inputs are only read.

Typical use (a notebook)::

    from cimlib.catalog.onboard import scaffold_catalog, write_scaffold

    scaffold = scaffold_catalog("delivery/", city="421303")
    scaffold.table()                       # file -> schema, mapped fields, unmapped required fields
    print(scaffold.to_yaml())
    write_scaffold(scaffold, "data_catalog.yaml")

Modules: :mod:`._discover` (walk the folder), :mod:`._header` (header rows), :mod:`.fields` (field names per schema
field, ``cimlib/data/field_names.yaml``), :mod:`._values` (value detectors), :mod:`._infer` (schema and column
assignment), :mod:`._write` (YAML and table).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._discover import SAMPLE_ROWS, Skipped, Source, discover
from ._header import HeaderGuess, find_header
from ._infer import FieldChoice, Scaffold, ScaffoldEntry, assign, infer
from ._write import check_loadable, table_text, write_scaffold
from .fields import FieldNames, load_field_names, name_score, normalize_name

__all__ = [
    "scaffold_catalog",
    "write_scaffold",
    "check_loadable",
    "table_text",
    "Scaffold",
    "ScaffoldEntry",
    "FieldChoice",
    "Source",
    "Skipped",
    "discover",
    "find_header",
    "HeaderGuess",
    "infer",
    "assign",
    "load_field_names",
    "FieldNames",
    "name_score",
    "normalize_name",
    "SAMPLE_ROWS",
]


def scaffold_catalog(folder: str | os.PathLike, *, city: str | None = None, field_names: str | os.PathLike | None = None,
                     sample_rows: int = SAMPLE_ROWS) -> Scaffold:
    """Propose a catalog for a folder of delivered files.

    Parameters
    ----------
    folder : str or os.PathLike
        Delivery folder (only read).
    city : str, optional
        Six-digit county-level division code (GB/T 2260); inferred from the division codes in the data when not
        given.
    field_names : str or os.PathLike, optional
        A field-name table of the same structure as ``cimlib/data/field_names.yaml`` (default: that file).
    sample_rows : int, default :data:`SAMPLE_ROWS`
        Rows read per dataset for value detection.

    Returns
    -------
    Scaffold
        Proposed entries with their evidence (``.entries``), datasets no schema fits (``.unrecognised``) and files
        left out (``.skipped``); ``.to_yaml()`` gives the catalog text, ``.table()`` the summary.

    Raises
    ------
    NotADirectoryError
        If ``folder`` is not a folder.
    ValueError
        If ``city`` is not a six-digit code.
    """
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise NotADirectoryError(f"交付目录不存在或不是文件夹：{root}")
    if city is not None:
        city = str(city).strip()
        if not re.fullmatch(r"\d{6}", city):
            raise ValueError(f"--city 应为 6 位县级行政区划代码（GB/T 2260），如 421303：{city!r}")
    table = load_field_names(field_names)
    sources, skipped = discover(root, sample_rows=sample_rows)
    return infer(sources, root=root, city=city, table=table, skipped=skipped)
