"""Chinese wherever a person reads: no English header, code or ``nan`` in any table of the rendered report and of the
executed notebooks' displayed tables (issue 16, item 2).

What a table may still show in Latin letters is data: rule ids (ADR-001, the standard's references), division
codes, record and device ids, dates, units and format names. What it must not show: catalog entry names, column
names of the data tables, the label table's keys and codes, indicator ids, ``nan``/``None``/``NaT``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from bs4 import BeautifulSoup

from cimlib.catalog import Catalog
from cimlib.reports import labels

MISSING_WORDS = {"nan", "NaN", "None", "NaT", "<NA>", "null"}
"""Missing values as Python prints them."""

TOKEN = re.compile(r"[A-Za-z0-9_<][A-Za-z0-9_.<>\-]*")
"""A word of a cell: identifiers joined by ``-`` stay one word (ADR-001, 421303-MC-000003 are data, not codes)."""


def forbidden_words(catalog: Catalog, data: Path | None = None) -> set[str]:
    """Identifiers a person must not read in a table: entry names and schemas, data-table column names, the label
    table's keys and codes, indicator ids, missing-value words.

    Parameters
    ----------
    catalog : Catalog
    data : Path, optional
        A report's ``data/`` folder (column names of its Parquet tables, indicator ids).
    """
    from standards_checks.schemas.devices import DEVICE_CATEGORIES

    words = set(MISSING_WORDS)
    for entry in catalog:
        words |= {entry.name, entry.schema}
    words |= set(labels.HEADERS) | {k for section in labels.MODULE_HEADERS.values() for k in section}
    words |= {code for table in labels.VALUES.values() for code in table} | set(DEVICE_CATEGORIES)
    words |= set(labels.DATASET_TITLES)
    for path in sorted(Path(data).glob("*.parquet")) if data else ():
        frame = pd.read_parquet(path)
        words |= {str(c) for c in frame.columns}
        if "indicator_id" in frame.columns:
            words |= set(frame["indicator_id"].dropna().astype(str))
    return {w for w in words if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*|<NA>", w)}


def table_cells(html: str) -> list[tuple[str, str]]:
    """``(kind, text)`` of every header and cell of every ``<table>`` in ``html`` (kind ``th`` or ``td``)."""
    page = BeautifulSoup(html, "html.parser")
    return [(cell.name, cell.get_text(" ", strip=True)) for table in page.find_all("table")
            for cell in table.find_all(["th", "td"])]


def english_in_tables(html: str, words: set[str]) -> list[tuple[str, str, str]]:
    """``(kind, word, cell text)`` for every forbidden word found in a table of ``html``."""
    hits = []
    for kind, text in table_cells(html):
        tokens = set(TOKEN.findall(text))
        tokens |= {part for t in tokens if not re.search(r"\.(parquet|csv|json|xlsx|yaml)$", t)
                   for part in t.split(".") if part}
        for word in sorted(tokens & words):
            hits.append((kind, word, text[:80]))
    return hits


def notebook_tables(path: Path) -> str:
    """The ``text/html`` outputs of an executed notebook, joined."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html")
            if html:
                parts.append("".join(html) if isinstance(html, list) else html)
    return "\n".join(parts)


def assert_chinese_tables(folder: Path, catalog: Catalog) -> None:
    """No forbidden word in the tables of ``folder/report.html`` nor of its executed notebooks."""
    words = forbidden_words(catalog, folder / "data")
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert len(table_cells(report)) > 100, "the report shows (almost) no tables"
    hits = english_in_tables(report, words)
    assert not hits, f"English/codes/nan in the tables of report.html: {hits[:20]}"
    notebooks = sorted((folder / "notebooks").glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        hits = english_in_tables(notebook_tables(nb), words)
        assert not hits, f"English/codes/nan in the tables of {nb.name}: {hits[:20]}"


def test_the_scanner_finds_what_it_must_and_allows_data():
    words = {"addresses", "area_code", "DL", "error", "addresses.mapping_rate.50", "nan", "None"}
    html = ("<table><tr><th>area_code</th><th>规则</th></tr><tr><td>ADR-001</td><td>421303001</td></tr>"
            "<tr><td>421303-DL-000001</td><td>metrics.parquet</td></tr>"
            "<tr><td>DL</td><td>nan</td></tr><tr><td>addresses.mapping_rate.50</td><td>2024-09-30</td></tr>"
            "<tr><td>GB/T 2260 error</td><td>错误</td></tr></table><p>area_code outside a table</p>")
    found = {(kind, word) for kind, word, _ in english_in_tables(html, words)}
    assert found == {("th", "area_code"), ("td", "DL"), ("td", "nan"), ("td", "addresses.mapping_rate.50"),
                     ("td", "addresses"), ("td", "error")}


def test_the_acceptance_report_reads_in_chinese(acceptance_run):
    city, _out, run, _unchanged = acceptance_run
    assert_chinese_tables(run.folder, Catalog.load(city / "data_catalog.yaml"))


def test_device_types_anomaly_kinds_and_datasets_are_named(acceptance_run):
    """The names a person should read instead of the codes are there."""
    city, _out, run, _unchanged = acceptance_run
    text = " ".join(t for _, t in table_cells((run.folder / "report.html").read_text(encoding="utf-8")))
    catalog = Catalog.load(city / "data_catalog.yaml")
    assert catalog["addresses"].title_zh in text and "设备类型" in text
    assert any(name in text for name in ("排水液位", "燃气浓度", "井盖位移", "停车泊位"))
    assert not re.search(r"\b\d{1,3}(,\d{3})+\.00\b", text), "a whole count printed with decimals"
