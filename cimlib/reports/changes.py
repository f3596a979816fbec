"""Findings over time (问题整改): which problems of a month are new, still open or fixed since the month before.

The monthly report checks the registers' snapshot of each month with :func:`standards_checks.run_checks` and
compares two months finding by finding. A finding is identified by ``(dataset, rule_id, record_id, column)``; the
same record failing the same rule in both months is one problem still open, whatever its (masked) value is now.

- :func:`period_findings`: the findings of one month, with the responsible department (the entry's ``owner``);
- :func:`compare_findings`: every finding of the two months marked 新增 / 未整改 / 已整改 (or 无法比较 when the
  dataset could not be checked in one of the months), with counts per dataset, rule and department.

Values are compared never: the ``value`` column stays masked exactly as the checks wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cimlib.catalog import Catalog
from cimlib.catalog._model import PERIOD_PATTERN
from cimlib.reports.labels import MODULE_HEADERS

__all__ = ["ChangeResult", "period_findings", "compare_findings", "LABELS", "CHANGE_NEW", "CHANGE_OPEN",
           "CHANGE_FIXED", "CHANGE_NOT_COMPARABLE", "KEY"]

CHANGE_NEW = "新增"
CHANGE_OPEN = "未整改"
CHANGE_FIXED = "已整改"
CHANGE_NOT_COMPARABLE = "无法比较"
_ORDER = {CHANGE_NEW: 0, CHANGE_OPEN: 1, CHANGE_FIXED: 2, CHANGE_NOT_COMPARABLE: 3}

KEY = ["dataset", "rule_id", "record_id", "column"]
"""What identifies a finding from one month to the next."""

BLOCKING_RULES = ("SYS-001", "GEO-005")
"""Dataset-level findings that mean the dataset was not checked at all (unreadable; file CRS not the declared one)."""

LABELS = MODULE_HEADERS["changes"]
"""Column -> Chinese label, for the Excel sheets of :class:`ChangeResult` tables."""


@dataclass
class ChangeResult:
    """Findings of two months compared.

    Attributes
    ----------
    detail : pandas.DataFrame
        One row per finding of either month: ``change`` (新增 / 未整改 / 已整改 / 无法比较), ``note``, the
        findings columns (``dataset, department, rule_id, severity, record_id, column, value, message, standard,
        geometry``; ``value`` is this month's masked value, or last month's for fixed findings),
        ``value_previous`` (last month's masked value), ``in_previous``, ``in_current``.
    summary : pandas.DataFrame
        Per ``dataset, department, rule_id``: ``severity, message`` (the rule's message), ``previous, current,
        new, open, fixed, not_comparable_previous, not_comparable_current, fix_rate``. Always
        ``previous = open + fixed + not_comparable_previous`` and ``current = open + new + not_comparable_current``;
        ``fix_rate = fixed / (open + fixed)`` (empty when nothing could be fixed). ``attrs["datasets"]`` lists
        per dataset ``department, checked_current, records_current`` (plain values), so that
        :func:`cimlib.reports.monthly.department_scores` can be given the summary alone.
    datasets : pandas.DataFrame
        Per dataset: ``department, checked_previous, checked_current, records_previous, records_current,
        comparison`` (可比较 / 首期 / 无法比较), ``note`` and the same counts as ``summary``. ``records_*`` are the
        records checked (from :func:`period_findings`; empty when unknown).
    previous_period, current_period : str or None
        The months compared, when the findings carry them (:func:`period_findings` does).
    """

    detail: pd.DataFrame
    summary: pd.DataFrame
    datasets: pd.DataFrame = field(default_factory=pd.DataFrame)
    previous_period: str | None = None
    current_period: str | None = None


def period_findings(catalog: Catalog, period: str | None, datasets=None, *, progress: bool = False) -> pd.DataFrame:
    """The findings of one month: registers as in their ``period`` snapshot, other datasets as they are now.

    :func:`standards_checks.run_checks` with ``period`` reads the entries that have monthly ``snapshots`` (the
    registers: addresses, persons, houses, units) for that month and every other entry in its current state
    (buildings, devices, readings, tasks, ...). A register without a snapshot of that month cannot be read: it
    becomes a ``SYS-001`` finding and is marked as not checked.

    Parameters
    ----------
    catalog : Catalog
    period : str or None
        ``YYYY-MM``; ``None`` checks every entry in its current state (a catalog without monthly snapshots).
    datasets : list of str, optional
        Entry names; default every entry of the catalog.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        The findings table (``dataset, department, rule_id, severity, record_id, column, value, message, standard,
        geometry``), values masked, with ``department`` = the entry's ``owner``. ``attrs["period"]`` is the month
        and ``attrs["datasets"]`` maps each dataset that was asked for to ``{"department", "records", "checked"}``:
        records checked (the largest ``checked`` count of its rules; ``None`` when it was not checked) and whether
        it could be checked at all. :func:`compare_findings` uses these to tell "no findings" from "not checked".

    Raises
    ------
    ValueError
        If ``period`` is given and is not ``YYYY-MM``.
    cimlib.catalog.CatalogError
        If a requested dataset name is not in the catalog.
    """
    from standards_checks import run_checks

    if period is not None and (not isinstance(period, str) or not PERIOD_PATTERN.match(period)):
        raise ValueError(f"统计期应为 YYYY-MM 格式：{period!r}")
    names = list(datasets) if datasets else [e.name for e in catalog]
    result = run_checks(catalog, names, period=period, masked=True, progress=progress)
    owners = {e.name: e.owner for e in catalog}
    findings = result.findings.copy()
    findings.insert(1, "department", findings["dataset"].map(owners).astype(object))
    checked = result.summary.dropna(subset=["checked"]).groupby("dataset")["checked"].max()  # SYS-001 rows: NA
    blocked = set(_blocked(findings))
    info = {}
    for name in names:
        ran = name in checked.index
        ok = ran or name not in blocked
        n = checked.get(name)
        info[name] = {"department": owners.get(name), "checked": bool(ok),
                      "records": int(n) if ran and pd.notna(n) else None}
    findings.attrs = {"period": period, "datasets": info}
    return findings


def _blocked(findings: pd.DataFrame) -> np.ndarray:
    """Datasets with a dataset-level finding that means they were not checked (unreadable, wrong CRS)."""
    if findings is None or not len(findings):
        return np.array([], dtype=object)
    sel = findings["rule_id"].isin(BLOCKING_RULES) & findings["record_id"].isna()
    return findings.loc[sel, "dataset"].unique()


def _is_blocking(frame: pd.DataFrame) -> pd.Series:
    return frame["rule_id"].isin(BLOCKING_RULES) & frame["record_id"].isna()


def _dataset_info(findings: pd.DataFrame | None) -> dict | None:
    if findings is None:
        return None
    info = findings.attrs.get("datasets") if hasattr(findings, "attrs") else None
    return dict(info) if info else None


def _unchecked(findings: pd.DataFrame, info: dict | None, other_info: dict | None) -> set:
    """Datasets that were not checked in this month: unreadable (or wrong CRS), or left out of this month's run
    although the other month checked them (known only when both months say what they checked)."""
    blocked = set(_blocked(findings))
    if info is None:
        return blocked
    out = {d for d, i in info.items() if not i.get("checked", True)}
    out |= blocked - set(info)
    if other_info is not None:
        out |= set(other_info) - set(info)
    return out


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """Frame with the key columns made comparable (missing -> sentinel) and an occurrence number per key, so that
    a key occurring twice in a month (duplicate record identifiers) is matched as a multiset."""
    missing = [c for c in KEY if c not in frame]
    if missing:
        raise ValueError(f"问题清单缺少字段：{', '.join(missing)}")
    out = frame.reset_index(drop=True).copy()
    for c in _CARRIED:
        if c not in out:
            out[c] = None
    for c in KEY:
        out[f"_k_{c}"] = out[c].astype(object).where(out[c].notna(), "\0")
        out[f"_k_{c}"] = out[f"_k_{c}"].astype(str)
    kcols = [f"_k_{c}" for c in KEY]
    out["_occ"] = out.groupby(kcols, sort=False, dropna=False).cumcount()
    return out


_CARRIED = ["department", "severity", "value", "message", "standard", "geometry"]
_DETAIL_COLUMNS = ["change", "note", "dataset", "department", "rule_id", "severity", "record_id", "column", "value",
                   "value_previous", "message", "standard", "geometry", "in_previous", "in_current"]
_COUNTS = ["previous", "current", "new", "open", "fixed", "not_comparable_previous", "not_comparable_current"]


def compare_findings(previous: pd.DataFrame | None, current: pd.DataFrame) -> ChangeResult:
    """Compare the findings of two months: each finding is 新增, 未整改, 已整改 or 无法比较.

    A finding is identified by ``(dataset, rule_id, record_id, column)`` (a key found ``k`` times in a month,
    e.g. under a duplicated record identifier, is matched occurrence by occurrence):

    - **未整改** (still open): in both months;
    - **新增** (new): only this month; with no previous month (``previous=None``, the first report) every finding is
      新增;
    - **已整改** (fixed): only last month (the record was corrected, or no longer fails, or left the register);
    - **无法比较** (cannot compare): the dataset could not be checked in the other month (unreadable, wrong CRS,
      or not part of that month's run), so its findings are neither counted as fixed nor as new; ``note`` says why.
      The dataset-level finding itself (``SYS-001`` 数据集无法读取) is compared like any other: a dataset that
      became unreadable this month is a 新增 problem, one readable again is 已整改.

    Parameters
    ----------
    previous : pandas.DataFrame or None
        Last month's findings (:func:`period_findings`), or None for the first period.
    current : pandas.DataFrame
        This month's findings.

    Returns
    -------
    ChangeResult
        ``detail`` (one row per finding of either month), ``summary`` (counts per dataset, department and rule)
        and ``datasets`` (per dataset, with records checked and whether the months could be compared).

    Notes
    -----
    Whether a dataset was checked is taken from ``attrs["datasets"]`` of the findings (set by
    :func:`period_findings`); findings from elsewhere fall back on the dataset-level findings ``SYS-001`` /
    ``GEO-005`` (a dataset without findings is then taken as checked and clean).
    """
    first = previous is None
    cur = _keyed(current)
    prev = _keyed(previous if previous is not None else current.iloc[0:0])
    info_cur, info_prev = _dataset_info(current), _dataset_info(previous)
    un_cur = _unchecked(current, info_cur, info_prev)
    un_prev = set() if first else _unchecked(previous, info_prev, info_cur)

    kcols = [f"_k_{c}" for c in KEY] + ["_occ"]
    m = prev.merge(cur, on=kcols, how="outer", suffixes=("_p", "_c"), indicator=True, sort=False)
    in_p = (m["_merge"] != "right_only").to_numpy()
    in_c = (m["_merge"] != "left_only").to_numpy()

    def pick(col, prefer_current=True):
        c, p = m[f"{col}_c"].astype(object), m[f"{col}_p"].astype(object)
        return c.where(in_c, p) if prefer_current else p.where(in_p, None)

    detail = pd.DataFrame({c: pick(c) for c in ["dataset", "department", "rule_id", "severity", "record_id", "column",
                                                 "value", "message", "standard", "geometry"]})
    detail["value_previous"] = pick("value", prefer_current=False)
    detail["in_previous"], detail["in_current"] = in_p, in_c

    blocking = _is_blocking(detail).to_numpy()
    ds = detail["dataset"].astype(object).to_numpy()
    change = np.where(in_p & in_c, CHANGE_OPEN, np.where(in_c, CHANGE_NEW, CHANGE_FIXED)).astype(object)
    note = np.full(len(detail), None, dtype=object)
    if first:
        note[:] = "首期：无上期结果，全部计为新增"
    else:
        nc_prev = in_p & ~in_c & np.isin(ds, list(un_cur)) & ~blocking
        nc_cur = in_c & ~in_p & np.isin(ds, list(un_prev)) & ~blocking
        change[nc_prev] = CHANGE_NOT_COMPARABLE
        note[nc_prev] = "本期该数据集无法读取或未检查，无法判断是否已整改"
        change[nc_cur] = CHANGE_NOT_COMPARABLE
        note[nc_cur] = "上期该数据集无法读取或未检查，无法判断是否为新增"
    detail["change"], detail["note"] = change, note
    detail = detail[_DETAIL_COLUMNS]
    detail = detail.assign(_o=detail["change"].map(_ORDER)).sort_values(
        ["_o", "dataset", "rule_id", "record_id"], kind="stable", na_position="first").drop(columns="_o").reset_index(drop=True)

    summary = _summary(detail)
    datasets = _datasets_table(detail, info_prev, info_cur, un_prev, un_cur, first)
    # what department_scores needs besides the counts, as plain values (attrs are compared and deep-copied by pandas)
    summary.attrs["datasets"] = [
        {"dataset": r["dataset"], "department": r["department"], "checked_current": bool(r["checked_current"]),
         "records_current": None if pd.isna(r["records_current"]) else int(r["records_current"])}
        for r in datasets.to_dict("records")]
    return ChangeResult(detail, summary, datasets,
                        previous_period=None if first else (previous.attrs or {}).get("period"),
                        current_period=(current.attrs or {}).get("period"))


def _counts(detail: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    d = detail
    nc = d["change"] == CHANGE_NOT_COMPARABLE
    parts = pd.DataFrame({
        "previous": d["in_previous"].astype("int64"), "current": d["in_current"].astype("int64"),
        "new": (d["change"] == CHANGE_NEW).astype("int64"), "open": (d["change"] == CHANGE_OPEN).astype("int64"),
        "fixed": (d["change"] == CHANGE_FIXED).astype("int64"),
        "not_comparable_previous": (nc & d["in_previous"]).astype("int64"),
        "not_comparable_current": (nc & d["in_current"]).astype("int64"),
    })
    keys = d[by].astype(object).fillna("")
    out = pd.concat([keys, parts], axis=1).groupby(by, sort=True, dropna=False)[_COUNTS].sum().reset_index()
    for c in by:
        out[c] = out[c].replace("", None)
    done = out["open"] + out["fixed"]
    out["fix_rate"] = (out["fixed"] / done.where(done > 0)).astype("float64")
    return out


def _summary(detail: pd.DataFrame) -> pd.DataFrame:
    from standards_checks.api import RULES

    out = _counts(detail, ["dataset", "department", "rule_id"])
    sev = detail.drop_duplicates("rule_id").set_index("rule_id")["severity"]
    out["severity"] = out["rule_id"].map(lambda r: RULES[r].severity if r in RULES else sev.get(r))
    out["message"] = out["rule_id"].map(lambda r: RULES[r].message if r in RULES else None)
    cols = ["dataset", "department", "rule_id", "severity", "message"] + _COUNTS + ["fix_rate"]
    return out[cols]


def _datasets_table(detail, info_prev, info_cur, un_prev, un_cur, first) -> pd.DataFrame:
    names = list(dict.fromkeys(list((info_prev or {}).keys()) + list((info_cur or {}).keys())
                               + detail["dataset"].dropna().astype(str).tolist()))
    counts = _counts(detail, ["dataset"]).set_index("dataset") if len(detail) else pd.DataFrame(columns=_COUNTS)
    depts = detail.dropna(subset=["department"]).drop_duplicates("dataset").set_index("dataset")["department"]
    rows = []
    for name in sorted(names):
        ip, ic = (info_prev or {}).get(name, {}), (info_cur or {}).get(name, {})
        row = {"dataset": name, "department": ic.get("department") or ip.get("department") or depts.get(name),
               "checked_previous": None if first else name not in un_prev,
               "checked_current": name not in un_cur,
               "records_previous": ip.get("records"), "records_current": ic.get("records")}
        if first:
            row["comparison"], row["note"] = "首期", "首期：无上期结果"
        elif name in un_prev or name in un_cur:
            row["comparison"] = "无法比较"
            which = "本期" if name in un_cur else "上期"
            if name in un_prev and name in un_cur:
                which = "上期和本期"
            row["note"] = f"{which}该数据集无法读取或未检查，其问题不计入整改统计"
        else:
            row["comparison"], row["note"] = "可比较", None
        for c in _COUNTS:
            row[c] = int(counts.at[name, c]) if name in counts.index else 0
        rows.append(row)
    out = pd.DataFrame(rows, columns=["dataset", "department", "checked_previous", "checked_current",
                                      "records_previous", "records_current", "comparison", "note"] + _COUNTS)
    for c in ("records_previous", "records_current"):
        out[c] = pd.array(out[c], dtype="Int64")
    done = out["open"] + out["fixed"]
    out["fix_rate"] = (out["fixed"] / done.where(done > 0)).astype("float64")
    return out
