"""Display tables for the report notebooks: findings by rule and by area, metrics by area, indicators in Chinese."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cimlib.reports import labels as lt

BASE_LABELS = lt.HEADERS
"""Column -> Chinese header for columns shared by several tables (alias of :data:`cimlib.reports.labels.HEADERS`)."""

DATASET_TITLES = lt.DATASET_TITLES
"""Catalog entry name -> Chinese title (alias of :data:`cimlib.reports.labels.DATASET_TITLES`; the catalog's own
``title_zh`` wins, see :func:`cimlib.reports.labels.dataset_title`)."""

INDICATOR_DISPLAY = lt.MODULE_HEADERS["indicators"]
"""Indicator column -> Chinese header, in display order (alias of the ``indicators`` section of the label table)."""


def missing_note(names, consequence: str = "本节不适用") -> str:
    """The sentence a report shows for datasets the catalog lacks.

    Parameters
    ----------
    names : iterable of str
        Entry names missing from the catalog.
    consequence : str, default "本节不适用"
        What follows for the section or indicator.

    Returns
    -------
    str
        E.g. ``数据目录中没有 工作任务清单，本节不适用``; empty when ``names`` is empty.
    """
    names = list(names)
    if not names:
        return ""
    items = "、".join(lt.dataset_title(n) for n in names)
    return f"数据目录中没有 {items}，{consequence}"


def column_labels(module: str | None = None) -> dict[str, str]:
    """Column -> Chinese header (see :func:`cimlib.reports.labels.column_labels`).

    Parameters
    ----------
    module : {"changes", "monthly", "store", "worklist", "inventory", "indicators"}, optional
        The module whose table is shown (its labels win: e.g. ``status`` is 考评状态 in the task table).
    """
    return lt.column_labels(module)


_FIELD_NOTE = re.compile(r"（[a-z][a-z0-9_]*）")
"""An English field name in brackets after its Chinese name (``开工日期（start_date）``): not shown in tables."""

_TECHNICAL = re.compile(r"[A-Za-z]\w*_\w+|\w+\.parquet|\w+=|\bcim [a-z]+")
"""A part of an indicator's evidence that points into the data files (ids, file and column names): the Excel
workbook and the data files keep it, the tables a person reads say where to look in Chinese."""

EVIDENCE_POINTER = "明细见报告数据文件与 Excel 工作簿"
"""What a displayed evidence says instead of its pointers into the data files."""

_NUMBERED = ("_code", "_id")
"""Columns ending so hold identifiers, never numbers to format."""


def _missing(s: pd.Series) -> pd.Series:
    text = s.astype(object)
    return s.isna() | text.isin(["nan", "NaN", "None", "NaT", "<NA>", "none", "null"])


def format_column(s: pd.Series, *, percent: bool = False, km2: bool = False, identifier: bool = False) -> pd.Series:
    """One column as the text a person reads.

    Whole numbers as integers with thousands separators (``2,783``, not ``2,783.00``), other numbers with two
    decimals (cell by cell: a table of several metrics mixes counts and areas), shares as percentages, areas in km², dates as ``YYYY-MM-DD`` (with the time when there is one), yes/no
    in Chinese, and :data:`cimlib.reports.labels.MISSING` (``—``) for a missing value (never ``nan``/``None``/``NaT``).

    Parameters
    ----------
    s : pandas.Series
    percent : bool, default False
        The column holds shares (0–1).
    km2 : bool, default False
        The column holds areas in square kilometres.
    identifier : bool, default False
        The column holds identifiers or codes (shown as they are, whole numbers without separators).

    Returns
    -------
    pandas.Series
        Text (object dtype), same index.
    """
    missing = _missing(s)
    out = pd.Series(lt.MISSING, index=s.index, dtype=object)
    ok = ~missing
    if not ok.any():
        return out
    v = s[ok]
    if pd.api.types.is_bool_dtype(v) or (v.dtype == object and v.map(lambda x: isinstance(x, (bool, np.bool_))).all()):
        out[ok] = np.where(v.astype(bool), "是", "否")
        return out
    if isinstance(v.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(v):
        t = pd.to_datetime(v)
        if isinstance(t.dtype, pd.DatetimeTZDtype):
            t = t.dt.tz_localize(None)
        whole_days = bool((t == t.dt.normalize()).all())
        out[ok] = t.dt.strftime("%Y-%m-%d" if whole_days else "%Y-%m-%d %H:%M")
        return out
    if v.dtype == object:
        num = pd.to_numeric(v, errors="coerce")
        if num.isna().any() or not v.map(lambda x: isinstance(x, (int, float, np.number))).all():
            out[ok] = v.astype(str).str.replace(_FIELD_NOTE, "", regex=True)
            return out
        v = num
    if not pd.api.types.is_numeric_dtype(v):
        out[ok] = v.astype(str).str.replace(_FIELD_NOTE, "", regex=True)
        return out
    x = v.astype(float).to_numpy()
    finite = np.isfinite(x)
    if percent:
        text = [f"{a:.2%}" for a in x]
    elif km2:
        text = [f"{a:,.2f} km²" for a in x]
    elif identifier:
        text = [str(int(a)) if float(a).is_integer() else str(a) for a in x]
    else:   # whole numbers (counts) as integers, others with two decimals
        text = [f"{int(a):,}" if f and float(a).is_integer() else f"{a:,.2f}" for a, f in zip(x, finite)]
    out[ok] = [t if f else lt.MISSING for t, f in zip(text, finite)]
    return out


def display_frame(frame: pd.DataFrame, *, percent=(), km2=(), drop=(), labels: str | None = None,
                  area_names: dict[str, str] | None = None) -> pd.DataFrame:
    """A table as a person reads it: Chinese headers and names, numbers formatted, ``—`` for missing values.

    - code columns (:data:`cimlib.reports.labels.CODE_COLUMNS`: dataset, severity, device type, anomaly kind, area
      level) show their Chinese names (unknown codes stay as they are);
    - an area-code column gets the area's name beside it (:func:`cimlib.reports.labels.add_area_names`);
    - every column is formatted by :func:`format_column` (shares in
      :data:`~cimlib.reports.labels.PERCENT_COLUMNS` and ``percent`` as percentages, ``km2`` as areas);
    - headers from the label table (:func:`cimlib.reports.labels.header`).

    Parameters
    ----------
    frame : pandas.DataFrame
    percent, km2, drop : iterable of str
        Columns (original names) holding shares, areas in km², or to leave out (geometry is always left out).
    labels : str, optional
        Report module whose headers and code columns apply (see :func:`column_labels`).
    area_names : dict, optional
        Area code -> name (default: the admin areas of the catalog in use, :func:`cimlib.reports.labels.use_catalog`).

    Returns
    -------
    pandas.DataFrame
        All cells text; English stays only in data (identifiers, rule ids, dates).
    """
    out = pd.DataFrame(frame).drop(columns=["geometry", *drop], errors="ignore")
    out = lt.label_codes(out, module=labels)
    added = set()
    if len(out):
        before = set(out.columns)
        out = lt.add_area_names(out, area_names)
        added = set(out.columns) - before
    percent, km2 = set(percent) | lt.PERCENT_COLUMNS, set(km2) | lt.KM2_COLUMNS
    cols = {}
    for c in out.columns:
        name = str(c)
        ident = name.endswith(_NUMBERED) or name in ("period", "rank", "rank_previous") or c in added
        cols[c] = format_column(out[c], percent=c in percent, km2=c in km2, identifier=ident)
    shown = pd.DataFrame(cols, index=out.index)
    shown.columns = [lt.header(str(c), labels) if c not in added else c for c in out.columns]
    return shown.reset_index(drop=True)


def show(frame: pd.DataFrame, n: int | None = None, *, percent: tuple[str, ...] = (), drop: tuple[str, ...] = (),
         labels: str | None = None, km2: tuple[str, ...] = (), area_names: dict[str, str] | None = None):
    """Display a table in a report (:func:`display_frame`: Chinese headers and names, numbers formatted, no index),
    at most ``n`` rows.

    Parameters
    ----------
    frame : pandas.DataFrame
    n : int, optional
        Show the first ``n`` rows (and say how many there are).
    percent : tuple of str
        Columns holding shares (0-1) to show as percent (besides those of the label table).
    drop : tuple of str
        Columns to leave out (geometry is always left out).
    labels : str, optional
        Report module whose column labels apply (see :func:`column_labels`).
    km2 : tuple of str
        Columns holding areas in km².
    area_names : dict, optional
        Area code -> name (see :func:`display_frame`).
    """
    from IPython.display import Markdown, display

    if frame is None or len(frame) == 0:
        display(Markdown("（无）"))
        return
    total = len(frame)
    head = frame.head(n) if n is not None and total > n else frame
    out = display_frame(head, percent=percent, km2=km2, drop=drop, labels=labels, area_names=area_names)
    display(out.style.hide(axis="index"))
    if n is not None and total > n:
        display(Markdown(f"（共 {total:,} 行，显示前 {n} 行；完整表格见 Excel 工作簿。）"))


EXCEL_KEEP_CODES = ("dataset", "device_type")
"""Code columns an Excel sheet keeps as codes (headed ``…代码``) beside their Chinese names; the other code columns
of the label table (severity, anomaly kind, area level) show only the names."""


def excel_frame(frame: pd.DataFrame, headers: dict[str, str] | None = None) -> pd.DataFrame:
    """A table for an Excel sheet people read: names beside codes, numbers left as numbers (for sorting and sums).

    ``dataset`` and ``device_type`` keep their codes under ``数据集代码``/``设备类型代码`` with the Chinese names in
    ``数据集``/``设备类型`` beside them; severities, anomaly kinds and area levels show their Chinese names; area-code
    columns get the area's name beside them. Headers are not changed except for those code columns.

    Parameters
    ----------
    frame : pandas.DataFrame
    headers : dict, optional
        Column -> header of the sheet (for the names of the kept code columns; default the label table).

    Returns
    -------
    pandas.DataFrame
    """
    headers = headers or {}
    out = lt.label_codes(frame, columns=[c for c in frame.columns if c not in EXCEL_KEEP_CODES])
    for c in EXCEL_KEEP_CODES:
        if c not in out.columns:
            continue
        title = headers.get(c) or lt.header(c)
        if title in out.columns or f"{title}代码" in out.columns:
            continue
        named = lt.label_codes(out[[c]])[c]
        at = list(out.columns).index(c)
        out = out.rename(columns={c: f"{title}代码"})
        out.insert(at + 1, title, named)
    return lt.add_area_names(out) if len(out) else out


def pivot_display(frame: pd.DataFrame, index: str, columns: str, values: str, *, percent: bool = True,
                  labels: str | None = None) -> pd.DataFrame:
    """A pivot table as a person reads it: codes by their Chinese names on both axes, Chinese axis titles, values
    formatted (percentages by default), ``—`` where a cell has no value.

    Parameters
    ----------
    frame : pandas.DataFrame
    index, columns, values : str
        Column names (English) of ``frame``; codes in ``index``/``columns`` (e.g. ``dataset``, ``device_type``) show
        their Chinese names.
    percent : bool, default True
        The values are shares.
    labels : str, optional
        Report module whose headers apply.

    Returns
    -------
    pandas.DataFrame
        Text cells; the index and the columns are named by their Chinese headers.
    """
    named = lt.label_codes(frame, columns=[index, columns], module=labels)
    table = named.pivot_table(index=index, columns=columns, values=values)
    table = table.apply(lambda s: format_column(s, percent=percent))
    table.index.name = lt.header(index, labels)
    table.columns.name = lt.header(columns, labels)
    return table


def show_pivot(frame: pd.DataFrame, index: str, columns: str, values: str, *, percent: bool = True,
               labels: str | None = None, order=None):
    """Display :func:`pivot_display` (``order``: the columns to show, in this order, by their Chinese names)."""
    from IPython.display import Markdown, display

    if frame is None or len(frame) == 0:
        display(Markdown("（无）"))
        return
    table = pivot_display(frame, index, columns, values, percent=percent, labels=labels)
    if order is not None:
        table = table[[c for c in order if c in table.columns]]
    display(table)


def findings_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings counted by dataset, rule and severity, largest first, with the rule's message and clause.

    Parameters
    ----------
    findings : pandas.DataFrame
        The findings table (``dataset, rule_id, severity, record_id, message, standard``).

    Returns
    -------
    pandas.DataFrame
        ``数据集, 规则, 级别, 问题数, 记录数, 说明, 标准条款``; datasets by their titles, severities in Chinese.
    """
    if findings is None or findings.empty:
        return pd.DataFrame(columns=["数据集", "规则", "级别", "问题数", "记录数", "说明", "标准条款"])
    g = findings.groupby(["dataset", "rule_id", "severity"], sort=False)
    out = pd.DataFrame({"问题数": g.size(), "记录数": g["record_id"].nunique(), "说明": g["message"].first(),
                        "标准条款": g["standard"].first()}).reset_index()
    out = out.sort_values(["问题数", "dataset", "rule_id"], ascending=[False, True, True]).reset_index(drop=True)
    out = lt.label_codes(out, columns=["dataset", "severity"])
    return out.rename(columns={"dataset": "数据集", "rule_id": "规则", "severity": "级别"})


def findings_by_area(catalog, findings: pd.DataFrame, period: str | None, areas: pd.DataFrame) -> pd.DataFrame:
    """Error findings and records per street, for the datasets whose records carry a ``street_code``.

    Parameters
    ----------
    catalog : Catalog
    findings : pandas.DataFrame
    period : str or None
        Snapshot of the registers to read the records' street codes from.
    areas : pandas.DataFrame
        Admin areas (``area_code, name, level``).

    Returns
    -------
    pandas.DataFrame
        ``area_code, 街道, 记录数, 有错误的记录, 每千条记录问题数`` sorted worst first.
    """
    errors = findings[findings["severity"] == "error"] if len(findings) else findings
    parts, totals = [], []
    for name in sorted(set(errors["dataset"]) if len(errors) else ()):
        if name not in catalog:
            continue
        entry = catalog[name]
        if not entry.id_column:
            continue
        try:
            frame = catalog.read(name, period=period if entry.snapshots and period else None)
        except Exception:  # an unreadable dataset is already a finding of its own
            continue
        if "street_code" not in frame.columns or entry.id_column not in frame.columns:
            continue
        ids = pd.DataFrame({"record_id": frame[entry.id_column].astype(str).to_numpy(),
                            "area_code": frame["street_code"].astype(str).to_numpy()})
        totals.append(ids.groupby("area_code").size())
        bad = errors.loc[errors["dataset"] == name, "record_id"].astype(str).unique()
        parts.append(ids[ids["record_id"].isin(bad)].drop_duplicates("record_id").groupby("area_code").size())
    if not totals:
        return pd.DataFrame(columns=["area_code", "街道", "记录数", "有错误的记录", "每千条记录问题数"])
    total = pd.concat(totals, axis=1).sum(axis=1)
    bad = pd.concat(parts, axis=1).sum(axis=1).reindex(total.index, fill_value=0) if parts else total * 0
    names = areas.set_index(areas["area_code"].astype(str))["name"] if "name" in areas else pd.Series(dtype=str)
    out = pd.DataFrame({"area_code": total.index, "街道": names.reindex(total.index).fillna("（未知街道）").to_numpy(),
                        "记录数": total.to_numpy(dtype=np.int64), "有错误的记录": bad.to_numpy(dtype=np.int64)})
    out["每千条记录问题数"] = (1000 * out["有错误的记录"] / out["记录数"]).round(2)
    return out.sort_values("每千条记录问题数", ascending=False).reset_index(drop=True)


def metric_by_area(metrics: pd.DataFrame, metric_id: str, level: str, period: str,
                   dataset: str | None = None) -> pd.DataFrame:
    """One metric of one period at one area level: ``area_code, area_name, dataset, numerator, denominator, value``."""
    m = metrics[(metrics["metric_id"] == metric_id) & (metrics["area_level"] == level) & (metrics["period"] == period)]
    if dataset is not None:
        m = m[m["dataset"] == dataset]
    cols = [c for c in ("area_code", "area_name", "dataset", "numerator", "denominator", "value") if c in m]
    return m[cols].sort_values(["dataset", "value"] if "dataset" in cols else ["value"]).reset_index(drop=True)


def metric_parts(metrics: pd.DataFrame) -> pd.DataFrame:
    """Metric rows with numerator and denominator as a person reads them: areas in km² (the data files hold m²).

    Parameters
    ----------
    metrics : pandas.DataFrame
        Rows of the metrics table (``metric_id, numerator, denominator, ...``).

    Returns
    -------
    pandas.DataFrame
        A copy whose ``numerator`` and ``denominator`` are text: counts as integers, and for the metrics whose
        :attr:`~cimlib.metrics._spec.MetricDef.parts_unit` is m² (area coverage) the area in km².
    """
    from cimlib.metrics._spec import METRICS

    out = metrics.copy()
    area = out["metric_id"].map({k: m.parts_unit for k, m in METRICS.items()}).eq("m²").to_numpy()
    for c in ("numerator", "denominator"):
        if c in out:
            values = pd.to_numeric(out[c], errors="coerce")
            out[c] = format_column(values).where(~area, format_column(values / 1e6, km2=True))
    return out


def readable_evidence(text) -> str:
    """An indicator's evidence as a person reads it: its parts that point into the data files (indicator, metric and
    column ids, file names; :data:`_TECHNICAL`) become one :data:`EVIDENCE_POINTER`, English field names in brackets
    go; ``—`` for none.

    Parameters
    ----------
    text : str or None
        The ``evidence`` of an indicator row (``2024-06：标准地址已治理 2,217/收到 2,221 条；拉低指标的记录见
        evidence.parquet（dataset=addresses，period=2024-06）``).

    Returns
    -------
    str
    """
    if text is None or (isinstance(text, float) and np.isnan(text)) or str(text) in ("", "nan", "None"):
        return lt.MISSING
    parts, pointer = [], False
    for part in str(text).split("；"):
        if _TECHNICAL.search(part):
            if not pointer:
                parts.append(EVIDENCE_POINTER)
            pointer = True
        else:
            parts.append(_FIELD_NOTE.sub("", part))
    return "；".join(parts)


def indicator_display(indicators: pd.DataFrame) -> pd.DataFrame:
    """Indicators with Chinese headers and readable values (shares in percent, km with one decimal)."""
    out = indicators.copy()
    ratio = out["unit"].isin(["比率", "%"]) if "unit" in out else pd.Series(True, index=out.index)

    def fmt(v, is_ratio, unit):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "—"
        return f"{v:.2%}" if is_ratio else f"{v:,.2f} {unit or ''}".strip()

    units = out["unit"] if "unit" in out else pd.Series("", index=out.index)
    out["value"] = [fmt(v, r, u) for v, r, u in zip(out["value"], ratio, units)]
    out["target"] = [fmt(v, r, u) for v, r, u in zip(out["target"], ratio, units)]
    for c in ("numerator", "denominator"):
        if c in out:
            out[c] = out[c].map(lambda v: "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:,.0f}")
    if "deadline" in out:  # a target without a date (the document sets none) shows as a dash
        out["deadline"] = out["deadline"].astype(object).where(out["deadline"].fillna("").astype(str) != "", "—")
    if "deadline_text" in out:
        out["deadline_text"] = out["deadline_text"].astype(object).where(
            out["deadline_text"].fillna("").astype(str) != "", "（文件未规定期限）")
    if "period" in out:   # months; none (no data for the indicator) shows as a dash, not "nan"
        out["period"] = out["period"].astype(object).where(out["period"].notna(), "—")
    if "evidence" in out:
        out["evidence"] = out["evidence"].map(readable_evidence)
    if "projected_date" in out:
        out["projected_date"] = pd.to_datetime(out["projected_date"], errors="coerce").dt.strftime("%Y-%m-%d").fillna("—")
    keep = [c for c in INDICATOR_DISPLAY if c in out]
    return out[keep].rename(columns=INDICATOR_DISPLAY)
