"""Tasks and departments of the monthly progress report (月度综合考评): task status, department progress, scores.

The programme's task list (catalog entry ``tasks``, sheet 任务清单: ``task_id, task_name, department, start_date,
deadline, status, progress_pct, completed_date, milestone``) is judged as of a date from its dates, not from the
``status`` typed in the list (kept as ``status_reported``):

- :func:`task_status`: one row per task: 按期完成 / 逾期完成 / 逾期未完成 / 进行中 / 未开始, days overdue;
- :func:`department_progress`: one row per department: tasks, completed, on time, overdue, mean progress;
- :func:`department_scores`: a score per responsible department from its task progress and the data quality of
  the datasets it owns (:mod:`cimlib.reports.changes`), each component with its numerator and denominator, and the
  change from last month (环比). The formula is in the docstring and in ``docs/monthly.md``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cimlib.reports.labels import MODULE_HEADERS

__all__ = ["task_status", "department_progress", "department_scores", "as_of_date", "DEFAULT_WEIGHTS", "LABELS",
           "STATUS_ON_TIME", "STATUS_LATE", "STATUS_OVERDUE", "STATUS_IN_PROGRESS", "STATUS_NOT_STARTED",
           "STATUS_DONE_UNDATED"]

STATUS_ON_TIME = "按期完成"
STATUS_LATE = "逾期完成"
STATUS_OVERDUE = "逾期未完成"
STATUS_IN_PROGRESS = "进行中"
STATUS_NOT_STARTED = "未开始"
STATUS_DONE_UNDATED = "已完成（日期不详）"
STATUS_CODES = {STATUS_ON_TIME: "on_time", STATUS_LATE: "completed_late", STATUS_OVERDUE: "overdue",
                STATUS_IN_PROGRESS: "in_progress", STATUS_NOT_STARTED: "not_started",
                STATUS_DONE_UNDATED: "completed_undated"}
"""Chinese status (``status``) -> English code (``status_code``)."""

DEFAULT_WEIGHTS = {"progress": 0.6, "quality": 0.4, "overdue_penalty": 5.0}
"""Default weights of :func:`department_scores`: progress and data-quality components (their share of 100 points)
and the points deducted per task overdue and not completed."""

_REPORTED_DONE = "已完成"
_NO_DEPARTMENT = "（未填部门）"

LABELS = MODULE_HEADERS["monthly"]
"""Column -> Chinese label, for the Excel sheets of the tables of this module."""


def as_of_date(as_of) -> pd.Timestamp:
    """The assessment date as a day: ``YYYY-MM`` means the last day of that month.

    Parameters
    ----------
    as_of : str, datetime.date, datetime.datetime or pandas.Timestamp

    Returns
    -------
    pandas.Timestamp
        Midnight of the day.

    Raises
    ------
    ValueError
        If the value is not a date.
    """
    if isinstance(as_of, str) and re.fullmatch(r"\d{4}-\d{2}", as_of.strip()):
        return (pd.Period(as_of.strip(), freq="M").end_time).normalize()
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"考评日期无效：{as_of!r}") from exc
    if pd.isna(ts):
        raise ValueError(f"考评日期无效：{as_of!r}")
    return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, errors="coerce").dt.normalize().astype("datetime64[ns]")


def task_status(tasks: pd.DataFrame, as_of) -> pd.DataFrame:
    """The status of every task as of a date, from its dates.

    With ``D`` the assessment day, a task is (``status`` / ``status_code``):

    - **按期完成** ``on_time``: completed on or before ``D`` and on or before its deadline;
    - **逾期完成** ``completed_late``: completed on or before ``D``, after its deadline (``days_late`` =
      completion − deadline);
    - **逾期未完成** ``overdue``: not completed by ``D`` and the deadline has passed, i.e. deadline ≤ ``D``: ``D`` is
      the state at the **end** of that day, so a task due on ``D`` and not completed on ``D`` has missed its
      deadline (``days_overdue`` = ``D`` − deadline, 0 for such a task; completing it on ``D + 1`` makes it
      逾期完成 with ``days_late`` = 1). This is the convention of :func:`cimlib.metrics.target_status` too: a
      deadline falling in the month is judged in that month's report;
    - **未开始** ``not_started``: not completed and its start date is after ``D`` (or, with no start date, the list
      says 未开始);
    - **进行中** ``in_progress``: otherwise;
    - **已完成（日期不详）** ``completed_undated``: the list says 已完成 but gives no completion date (it cannot be
      placed in time; it counts as completed but never as on time).

    A completion date after ``D`` means "not completed yet" as of ``D`` (the list may be newer than the report).

    Parameters
    ----------
    tasks : pandas.DataFrame
        The task list (``task_id, task_name, department, start_date, deadline, status, progress_pct,
        completed_date``; ``milestone`` optional). Dates may be strings, dates or timestamps.
    as_of : str or date-like
        The assessment day; ``YYYY-MM`` means the month's last day.

    Returns
    -------
    pandas.DataFrame
        One row per task: the list's columns (``status`` renamed ``status_reported``), then ``as_of, status,
        status_code, due`` (deadline ≤ ``D``), ``completed`` (by ``D``), ``on_time``, ``days_overdue``,
        ``days_late`` (nullable integers), ``progress_as_of`` (100 when completed by ``D``, 0 when not started,
        the list's ``progress_pct`` when the list says not completed; empty when the list reports completion after
        ``D``, as the progress on ``D`` is then unknown) and ``note`` (inconsistencies of the list).

    Raises
    ------
    ValueError
        If a required column is missing.
    """
    need = ["task_id", "department", "deadline", "completed_date"]
    missing = [c for c in need if c not in tasks]
    if missing:
        raise ValueError(f"任务清单缺少字段：{', '.join(missing)}")
    d = as_of_date(as_of)
    t = tasks.reset_index(drop=True).copy()
    for c in ("task_name", "start_date", "status", "progress_pct", "milestone"):
        if c not in t:
            t[c] = None
    t = t.rename(columns={"status": "status_reported"})
    start, deadline, done = _dates(t["start_date"]), _dates(t["deadline"]), _dates(t["completed_date"])
    reported = t["status_reported"].astype(object)
    reported_done = (reported == _REPORTED_DONE).to_numpy()

    completed = (done.notna() & (done <= d)).to_numpy()
    undated = (done.isna() & reported_done).to_numpy()
    on_time = completed & (deadline.isna() | (done <= deadline)).to_numpy()
    late = completed & ~on_time
    overdue = ~completed & ~undated & (deadline <= d).to_numpy()
    not_started = ~completed & ~undated & ~overdue & np.where(start.notna(), start > d, reported == "未开始")
    status = np.select([on_time, late, undated, overdue, not_started],
                       [STATUS_ON_TIME, STATUS_LATE, STATUS_DONE_UNDATED, STATUS_OVERDUE, STATUS_NOT_STARTED],
                       STATUS_IN_PROGRESS).astype(object)

    out = t.copy()
    for c, v in (("start_date", start), ("deadline", deadline), ("completed_date", done)):
        out[c] = v
    out["as_of"] = d
    out["status"] = status
    out["status_code"] = pd.Series(status).map(STATUS_CODES).to_numpy()
    out["due"] = (deadline <= d).to_numpy()
    out["completed"] = completed | undated
    out["on_time"] = on_time
    out["days_overdue"] = pd.array(np.where(overdue, (d - deadline).dt.days, np.nan), dtype="Int64")
    out["days_late"] = pd.array(np.where(late, (done - deadline).dt.days, np.nan), dtype="Int64")
    pct = pd.to_numeric(t["progress_pct"], errors="coerce").astype("float64")
    unknown = ~completed & ~undated & ~not_started & reported_done  # the list completed it after D
    prog = np.select([completed | undated, not_started, unknown], [100.0, 0.0, np.nan], pct.to_numpy())
    out["progress_as_of"] = prog
    out["note"] = _notes(reported_done, done, start, deadline, d, unknown)
    cols = ["task_id", "task_name", "department", "milestone", "start_date", "deadline", "completed_date",
            "status_reported", "progress_pct", "as_of", "status", "status_code", "due", "completed", "on_time",
            "days_overdue", "days_late", "progress_as_of", "note"]
    return out[cols + [c for c in out if c not in cols]]


def _notes(reported_done, done, start, deadline, d, unknown) -> np.ndarray:
    notes = []
    for i in range(len(done)):
        n = []
        if reported_done[i] and pd.isna(done.iloc[i]):
            n.append("填报已完成但无完成日期")
        if not reported_done[i] and pd.notna(done.iloc[i]):
            n.append("填报未完成但有完成日期")
        if pd.isna(deadline.iloc[i]):
            n.append("无截止日期")
        if pd.notna(done.iloc[i]) and pd.notna(start.iloc[i]) and done.iloc[i] < start.iloc[i]:
            n.append("完成日期早于开始日期")
        if unknown[i]:
            n.append("考评日后才完成，考评日进度不详")
        notes.append("；".join(n) or None)
    return np.array(notes, dtype=object)


def _ensure_status(tasks: pd.DataFrame, as_of) -> pd.DataFrame:
    """``tasks`` judged as of ``as_of``; a :func:`task_status` table of another date is judged again."""
    d = as_of_date(as_of)
    if "status_code" not in tasks:
        return task_status(tasks, d)
    if "as_of" in tasks and (pd.to_datetime(tasks["as_of"]) == d).all():
        return tasks
    raw = tasks.drop(columns=[c for c in _DERIVED if c in tasks]).rename(columns={"status_reported": "status"})
    return task_status(raw, d)


_DERIVED = ["as_of", "status", "status_code", "due", "completed", "on_time", "days_overdue", "days_late",
            "progress_as_of", "note"]


def department_progress(tasks: pd.DataFrame, as_of) -> pd.DataFrame:
    """Task progress per department as of a date.

    Parameters
    ----------
    tasks : pandas.DataFrame
        The task list, or :func:`task_status` of it.
    as_of : str or date-like
        The assessment day; ``YYYY-MM`` means the month's last day.

    Returns
    -------
    pandas.DataFrame
        One row per department (sorted by name): ``tasks, tasks_due`` (deadline ≤ ``D``), ``tasks_completed``
        (by ``D``), ``tasks_on_time, tasks_late, tasks_overdue, tasks_in_progress, tasks_not_started``,
        ``on_time_rate`` = ``tasks_on_time`` of the due tasks / ``tasks_due`` (empty with no due task),
        ``mean_progress`` (mean ``progress_as_of`` of the department's tasks whose progress on ``D`` is known) and
        ``progress_unknown`` (tasks left out of that mean).
    """
    t = _ensure_status(tasks, as_of)
    code = t["status_code"]
    g = pd.DataFrame({
        "department": t["department"].astype(object).fillna(_NO_DEPARTMENT),
        "tasks": 1, "tasks_due": t["due"].astype("int64"), "tasks_completed": t["completed"].astype("int64"),
        "tasks_on_time": (code == "on_time").astype("int64"), "tasks_late": (code == "completed_late").astype("int64"),
        "tasks_overdue": (code == "overdue").astype("int64"), "tasks_in_progress": (code == "in_progress").astype("int64"),
        "tasks_not_started": (code == "not_started").astype("int64"),
        "_on_time_due": ((code == "on_time") & t["due"]).astype("int64"),
        "_progress": t["progress_as_of"].astype("float64"), "progress_unknown": t["progress_as_of"].isna().astype("int64"),
    })
    agg = g.groupby("department", sort=True).agg(
        tasks=("tasks", "sum"), tasks_due=("tasks_due", "sum"), tasks_completed=("tasks_completed", "sum"),
        tasks_on_time=("tasks_on_time", "sum"), tasks_late=("tasks_late", "sum"), tasks_overdue=("tasks_overdue", "sum"),
        tasks_in_progress=("tasks_in_progress", "sum"), tasks_not_started=("tasks_not_started", "sum"),
        _on_time_due=("_on_time_due", "sum"), mean_progress=("_progress", "mean"),
        progress_unknown=("progress_unknown", "sum")).reset_index()
    agg["on_time_rate"] = (agg["_on_time_due"] / agg["tasks_due"].where(agg["tasks_due"] > 0)).astype("float64")
    agg.insert(0, "as_of", as_of_date(as_of))
    cols = ["as_of", "department", "tasks", "tasks_due", "tasks_completed", "tasks_on_time", "tasks_late",
            "tasks_overdue", "tasks_in_progress", "tasks_not_started", "on_time_rate", "mean_progress",
            "progress_unknown"]
    return agg[cols]


def department_scores(task_table: pd.DataFrame, findings_summary, as_of, previous: pd.DataFrame | None = None,
                      weights: dict | None = None, *, datasets: pd.DataFrame | None = None) -> pd.DataFrame:
    """A score (0–100) per responsible department from its task progress and its data quality.

    For a department with ``N_due`` tasks due by the assessment day ``D`` (deadline ≤ ``D``), ``N_on_time`` of them
    completed on or before their deadline, ``O`` tasks overdue and not completed (逾期未完成), ``E`` error findings
    outstanding at the end of the month in the datasets it owns (新增 + 未整改 + this month's 无法比较; warnings do
    not count) and ``R`` records checked in those datasets:

    - progress component ``P = N_on_time / N_due`` (not applicable when ``N_due = 0``);
    - quality component ``Q = 1 − min(1, E / R)`` (not applicable when the department owns no dataset; **0** when
      one of its datasets could not be read or checked this month: data that cannot be checked earns no quality);
    - ``score = max(0, 100 × (w_p × P + w_q × Q) / (w_p + w_q) − d × O)``, the sum and the divisor over the
      applicable components only (a department with tasks but no dataset is scored on progress alone, and the
      other way round; with neither, the score is empty);
    - defaults (:data:`DEFAULT_WEIGHTS`): ``w_p = 0.6`` (``progress``), ``w_q = 0.4`` (``quality``), ``d = 5``
      points per overdue task (``overdue_penalty``). An overdue task lowers ``P`` (it is due and not completed on
      time) and is deducted again while it stays open; a task completed late only lowers ``P``.
    - 环比: ``score_change = score − score_previous`` where ``previous`` (last month's table) has the department.

    Parameters
    ----------
    task_table : pandas.DataFrame
        The task list, or :func:`task_status` of it.
    findings_summary : ChangeResult or pandas.DataFrame
        :func:`cimlib.reports.changes.compare_findings`' result (its ``summary`` and ``datasets`` are used), or a
        summary table with ``dataset, department, severity`` and either ``current`` or ``new, open,
        not_comparable_current`` counts.
    as_of : str or date-like
        The assessment day; ``YYYY-MM`` means the month's last day.
    previous : pandas.DataFrame, optional
        Last month's :func:`department_scores` (``department, score``, optionally ``rank``).
    weights : dict, optional
        Any of ``progress``, ``quality``, ``overdue_penalty`` (others are an error); missing keys keep the defaults.
    datasets : pandas.DataFrame, optional
        Per dataset ``dataset, department, records_current`` and optionally ``checked_current`` (the ``datasets``
        table of a ChangeResult). Default: the ChangeResult's ``datasets``, or ``attrs["datasets"]`` of a summary
        table from :func:`~cimlib.reports.changes.compare_findings`. Without any, ``R`` is unknown and ``Q`` is not
        applicable.

    Returns
    -------
    pandas.DataFrame
        One row per department (of the task list or owning a dataset), by descending score: ``department,
        tasks_due, tasks_on_time, progress_rate (P), overdue (O), datasets, records (R), open_errors (E),
        carried_errors`` (of E, those already open last month), ``error_rate (E/R), quality_rate (Q), unreadable,
        score_progress (100 P), score_quality (100 Q), overdue_deduction (d O), score, rank, score_previous,
        score_change, rank_previous, note``.

    Raises
    ------
    ValueError
        For unknown or negative weights, or both component weights zero.
    """
    w = dict(DEFAULT_WEIGHTS)
    if weights:
        unknown = set(weights) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(f"未知的权重：{', '.join(sorted(unknown))}（可用：{', '.join(DEFAULT_WEIGHTS)}）")
        w.update({k: float(v) for k, v in weights.items()})
    if min(w.values()) < 0 or w["progress"] + w["quality"] <= 0:
        raise ValueError(f"权重不能为负，进度与质量权重不能同时为 0：{w}")

    summary = findings_summary
    if hasattr(findings_summary, "summary") and hasattr(findings_summary, "datasets"):
        summary = findings_summary.summary
        if datasets is None:
            datasets = findings_summary.datasets
    if datasets is None and isinstance(summary, pd.DataFrame) and summary.attrs.get("datasets"):
        datasets = pd.DataFrame(summary.attrs["datasets"])
    tasks = _ensure_status(task_table, as_of)
    prog = department_progress(tasks, as_of).set_index("department")
    dept = tasks["department"].astype(object).fillna(_NO_DEPARTMENT)
    due_on_time = dept[tasks["due"] & (tasks["status_code"] == "on_time")].value_counts()

    quality = _quality(summary, datasets)
    depts = sorted(set(prog.index) | set(quality.index))
    out = pd.DataFrame({"department": depts})
    out["tasks_due"] = out["department"].map(prog["tasks_due"]).fillna(0).astype("int64")
    out["tasks_on_time"] = out["department"].map(due_on_time).fillna(0).astype("int64")
    out["progress_rate"] = (out["tasks_on_time"] / out["tasks_due"].where(out["tasks_due"] > 0)).astype("float64")
    out["overdue"] = out["department"].map(prog["tasks_overdue"]).fillna(0).astype("int64")
    for c in ("datasets", "records", "open_errors", "carried_errors", "unreadable"):
        out[c] = out["department"].map(quality[c]).astype(object)
        out[c] = out[c].where(out[c].notna(), None)
    for c in ("records", "open_errors", "carried_errors"):
        out[c] = pd.array(out[c].tolist(), dtype="Int64")
    R = out["records"].astype("float64")
    E = out["open_errors"].astype("float64")
    out["error_rate"] = (E / R.where(R > 0)).astype("float64")
    q = 1.0 - np.minimum(1.0, out["error_rate"])
    q = q.where(out["unreadable"].isna(), 0.0)
    out["quality_rate"] = q.astype("float64")

    P, Q = out["progress_rate"], out["quality_rate"]
    wp = np.where(P.notna(), w["progress"], 0.0)
    wq = np.where(Q.notna(), w["quality"], 0.0)
    wsum = wp + wq
    base = 100.0 * (wp * P.fillna(0) + wq * Q.fillna(0)) / np.where(wsum > 0, wsum, np.nan)
    out["score_progress"] = 100.0 * P
    out["score_quality"] = 100.0 * Q
    out["overdue_deduction"] = w["overdue_penalty"] * out["overdue"].astype("float64")
    out["score"] = np.maximum(0.0, base - out["overdue_deduction"]).astype("float64")
    out["rank"] = pd.array(out["score"].rank(method="min", ascending=False), dtype="Int64")

    if previous is not None and len(previous):
        prev = previous.drop_duplicates("department").set_index("department")
        out["score_previous"] = out["department"].map(prev["score"]).astype("float64")
        out["rank_previous"] = pd.array(out["department"].map(prev["rank"]) if "rank" in prev else [pd.NA] * len(out),
                                        dtype="Int64")
    else:
        out["score_previous"] = np.nan
        out["rank_previous"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["score_change"] = out["score"] - out["score_previous"]
    out["note"] = [_score_note(r) for r in out.itertuples(index=False)]
    out.insert(0, "as_of", as_of_date(as_of))
    cols = ["as_of", "department", "tasks_due", "tasks_on_time", "progress_rate", "overdue", "datasets", "records",
            "open_errors", "carried_errors", "error_rate", "quality_rate", "unreadable", "score_progress",
            "score_quality", "overdue_deduction", "score", "rank", "score_previous", "score_change", "rank_previous",
            "note"]
    out = out[cols].sort_values(["score", "department"], ascending=[False, True], na_position="last", kind="stable")
    out.attrs["weights"] = w
    return out.reset_index(drop=True)


def _score_note(r) -> str | None:
    n = []
    if pd.isna(r.progress_rate):
        n.append("无到期任务，不计进度分")
    if r.datasets is None or (isinstance(r.datasets, float) and np.isnan(r.datasets)):
        n.append("无负责数据集，不计质量分")
    elif pd.isna(r.records):
        n.append("记录数不详，不计质量分")
    if isinstance(r.unreadable, str) and r.unreadable:
        n.append(f"数据集无法读取或未检查（{r.unreadable}），质量分计 0")
    if pd.isna(r.score):
        n.append("无可考核内容")
    if r.overdue:
        n.append(f"逾期未完成任务 {r.overdue} 项")
    return "；".join(n) or None


def _quality(summary: pd.DataFrame | None, datasets: pd.DataFrame | None) -> pd.DataFrame:
    """Per department: its datasets, records checked (R), outstanding (E) and carried-over error findings, and the
    datasets it owns that could not be checked this month."""
    owned: dict[str, dict] = {}  # department -> {dataset: records or None}
    unreadable: dict[str, list] = {}
    if datasets is not None and len(datasets):
        for r in datasets.to_dict("records"):
            dept = r.get("department")
            if dept is None or pd.isna(dept):
                continue
            checked = r.get("checked_current", True)
            if checked is not None and not pd.isna(checked) and not bool(checked):
                unreadable.setdefault(dept, []).append(r["dataset"])
                owned.setdefault(dept, {})
                continue
            rec = r.get("records_current")
            owned.setdefault(dept, {})[r["dataset"]] = None if rec is None or pd.isna(rec) else int(rec)
    errs, carried = {}, {}
    carried_default = 0 if summary is not None and "open" in summary else None
    if summary is not None and len(summary):
        s = summary[summary["severity"] == "error"].copy()
        if "department" not in s:
            lookup = {ds: dept for dept, m in owned.items() for ds in m}
            s["department"] = s["dataset"].map(lookup)
        s = s[s["department"].notna()]
        cur = s["current"] if "current" in s else s["new"] + s["open"] + s.get("not_comparable_current", 0)
        s = s.assign(_cur=cur, _open=s["open"] if "open" in s else np.nan)
        errs = s.groupby("department")["_cur"].sum().to_dict()
        carried = s.groupby("department")["_open"].sum(min_count=1).to_dict()
        for r in s[["department", "dataset"]].drop_duplicates().itertuples(index=False):
            bad = r.dataset in unreadable.get(r.department, [])
            if not bad:
                owned.setdefault(r.department, {}).setdefault(r.dataset, None)  # in the summary only: records unknown
    rows = []
    for dept in sorted(owned):
        recs = owned[dept]
        names = sorted(set(recs) | set(unreadable.get(dept, [])))
        known = None if any(v is None for v in recs.values()) else sum(recs.values())
        c = carried.get(dept, carried_default)
        rows.append({"department": dept, "datasets": "、".join(names), "records": known,
                     "open_errors": int(errs.get(dept, 0)),
                     "carried_errors": None if c is None or pd.isna(c) else int(c),
                     "unreadable": "、".join(sorted(unreadable.get(dept, []))) or None})
    cols = ["department", "datasets", "records", "open_errors", "carried_errors", "unreadable"]
    return pd.DataFrame(rows, columns=cols).set_index("department")
