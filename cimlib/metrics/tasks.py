"""Milestones of a work plan measured from its task list (任务清单): the share of a milestone's tasks completed.

随州's plan sets qualitative targets for its first node (到2024年3月底，完成底座平台……建设，完成……“流水线”建设，全面
启动……数据治理，……开展制度规则标准规范本地化建设). The project office tracks them as tasks; an indicator selects its
tasks (by ``milestone`` and a pattern on ``task_name``) and ``task_completion`` is, at each month's end, N = selected
tasks completed by then (status 已完成 with a ``completed_date`` not after the month's end), D = selected tasks.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["TASK_COMPLETION", "select_tasks", "task_completion_rows"]

TASK_COMPLETION = "task_completion"
"""Metric id of a milestone's completed share."""


def select_tasks(tasks: pd.DataFrame, *, milestone: str | None = None, name: str | None = None) -> pd.DataFrame:
    """The tasks of a milestone whose name matches a pattern.

    Parameters
    ----------
    tasks : pandas.DataFrame
        The task list (``task_name``, optional ``milestone``).
    milestone : str, optional
        Value of ``milestone`` (2024年3月节点); without it every milestone.
    name : str, optional
        Regular expression searched in ``task_name`` (底座平台); without it every task.

    Returns
    -------
    pandas.DataFrame
        The selected rows.

    Raises
    ------
    ValueError
        A ``milestone`` asked for when the list has no ``milestone`` column, or a malformed pattern.
    """
    keep = pd.Series(True, index=tasks.index)
    if milestone:
        if "milestone" not in tasks:
            raise ValueError("任务清单没有 milestone（节点）列，无法按节点选取任务")
        keep &= tasks["milestone"].astype("string").str.strip().eq(milestone).fillna(False)
    if name:
        try:
            re.compile(name)
        except re.error as exc:
            raise ValueError(f"任务名称模式 {name!r} 不是合法的正则表达式：{exc}") from None
        keep &= tasks["task_name"].astype("string").str.contains(name, regex=True).fillna(False)
    return tasks[keep.to_numpy(dtype=bool)]


def task_completion_rows(tasks: pd.DataFrame, periods, *, area_code: str, area_name: str, dataset: str,
                         name_zh: str, sha: str) -> pd.DataFrame:
    """``task_completion`` of selected tasks at each month's end, one county row per period.

    Parameters
    ----------
    tasks : pandas.DataFrame
        The selected tasks (:func:`select_tasks`): ``status``, ``completed_date``.
    periods : iterable of str
        ``YYYY-MM``.
    area_code, area_name, dataset, name_zh, sha : str
        Written into the rows (the county the task list is for; ``inputs_sha256``).

    Returns
    -------
    pandas.DataFrame
        Metrics-table rows (``cimlib.metrics.METRICS_COLUMNS``); value NaN where no task is selected.
    """
    from cimlib.metrics._spec import METRICS_COLUMNS

    done = tasks["status"].astype("string").eq("已完成").fillna(False).to_numpy(dtype=bool) if "status" in tasks \
        else np.zeros(len(tasks), bool)
    when = pd.to_datetime(tasks["completed_date"], errors="coerce") if "completed_date" in tasks \
        else pd.Series(pd.NaT, index=tasks.index)
    rows = []
    for p in periods:
        end = pd.Period(p, freq="M").end_time
        n = int((done & (when <= end).fillna(False).to_numpy(dtype=bool)).sum())
        d = len(tasks)
        rows.append({"metric_id": TASK_COMPLETION, "dataset": dataset, "area_code": area_code, "area_level": "county",
                     "period": p, "numerator": float(n), "denominator": float(d), "value": n / d if d else np.nan,
                     "name_zh": name_zh, "area_name": area_name, "unit": "比率", "inputs_sha256": sha})
    return pd.DataFrame(rows, columns=METRICS_COLUMNS)
