"""Tasks and departments of the monthly report: task status at the boundaries, department progress, scores."""

import numpy as np
import pandas as pd
import pytest

from cimlib import Catalog
from cimlib.reports.changes import compare_findings, period_findings
from cimlib.reports.monthly import (DEFAULT_WEIGHTS, LABELS, as_of_date, department_progress, department_scores,
                                    task_status)

AS_OF = "2024-06-30"


def _task(deadline, completed=None, start="2024-03-01", reported=None, progress=50, dept="市公安局", tid="T1"):
    if reported is None:
        reported = "已完成" if completed else "进行中"
    return {"task_id": tid, "task_name": f"任务{tid}", "department": dept, "start_date": start, "deadline": deadline,
            "status": reported, "progress_pct": 100 if reported == "已完成" else progress,
            "completed_date": completed, "milestone": "2024年6月节点"}


@pytest.mark.parametrize("task, status, days_overdue, days_late, due, progress", [
    # deadline on the assessment day: not completed on that day -> overdue by 0 days
    (_task("2024-06-30"), "逾期未完成", 0, None, True, 50.0),
    # completed on the deadline day, which is the assessment day -> on time
    (_task("2024-06-30", "2024-06-30"), "按期完成", None, None, True, 100.0),
    # completed on its deadline day, before the assessment day
    (_task("2024-06-15", "2024-06-15"), "按期完成", None, None, True, 100.0),
    # completed the day after the deadline
    (_task("2024-06-15", "2024-06-16"), "逾期完成", None, 1, True, 100.0),
    # completed after the deadline and after the assessment day: as of D it is still overdue
    (_task("2024-06-15", "2024-07-02"), "逾期未完成", 15, None, True, None),
    # completed early, before the deadline
    (_task("2024-07-31", "2024-06-01"), "按期完成", None, None, False, 100.0),
    # deadline tomorrow, not completed
    (_task("2024-07-01"), "进行中", None, None, False, 50.0),
    # completed after the assessment day, deadline not reached: in progress, progress on D unknown
    (_task("2024-07-31", "2024-07-02"), "进行中", None, None, False, None),
    # starts after the assessment day
    (_task("2024-09-30", start="2024-07-01"), "未开始", None, None, False, 0.0),
    # starts on the assessment day
    (_task("2024-09-30", start="2024-06-30"), "进行中", None, None, False, 50.0),
    # the list says completed but gives no date
    (_task("2024-06-15", None, reported="已完成"), "已完成（日期不详）", None, None, True, 100.0),
])
def test_task_status_boundaries(task, status, days_overdue, days_late, due, progress):
    for as_of in (AS_OF, "2024-06", pd.Timestamp(AS_OF)):
        row = task_status(pd.DataFrame([task]), as_of).iloc[0]
        assert row["status"] == status, as_of
        assert (pd.isna(row["days_overdue"]) if days_overdue is None else row["days_overdue"] == days_overdue)
        assert (pd.isna(row["days_late"]) if days_late is None else row["days_late"] == days_late)
        assert bool(row["due"]) is due
        assert (pd.isna(row["progress_as_of"]) if progress is None else row["progress_as_of"] == progress)
        assert row["on_time"] == (status == "按期完成")
        assert row["status_reported"] == task["status"]


def test_as_of_date():
    assert as_of_date("2024-02") == pd.Timestamp("2024-02-29")
    assert as_of_date("2024-06-30") == pd.Timestamp("2024-06-30")
    assert as_of_date(pd.Timestamp("2024-06-30 17:45")) == pd.Timestamp("2024-06-30")
    with pytest.raises(ValueError, match="考评日期"):
        as_of_date("not a date")


def test_task_status_notes_and_missing_columns():
    t = pd.DataFrame([_task("2024-06-15", None, reported="已完成"), _task("2024-06-15", "2024-06-01", reported="进行中", tid="T2")])
    notes = task_status(t, AS_OF)["note"].tolist()
    assert "无完成日期" in notes[0] and "填报未完成但有完成日期" in notes[1]
    with pytest.raises(ValueError, match="deadline"):
        task_status(t.drop(columns=["deadline"]), AS_OF)


def _tasks_two_departments():
    return pd.DataFrame([
        _task("2024-05-31", "2024-05-20", dept="甲", tid="A1"),            # on time
        _task("2024-05-31", "2024-06-10", dept="甲", tid="A2"),            # late
        _task("2024-06-10", dept="甲", tid="A3", progress=40),             # overdue
        _task("2024-09-30", dept="甲", tid="A4", progress=20),             # in progress
        _task("2024-09-30", start="2024-08-01", dept="甲", tid="A5"),       # not started
        _task("2024-06-30", "2024-06-30", dept="乙", tid="B1"),            # on time, on the day
        _task("2024-09-30", "2024-08-01", dept="乙", tid="B2"),            # completed after D: progress unknown
    ])


def test_department_progress_counts():
    p = department_progress(_tasks_two_departments(), AS_OF).set_index("department")
    a, b = p.loc["甲"], p.loc["乙"]
    assert (a.tasks, a.tasks_due, a.tasks_completed, a.tasks_on_time, a.tasks_late, a.tasks_overdue,
            a.tasks_in_progress, a.tasks_not_started) == (5, 3, 2, 1, 1, 1, 1, 1)
    assert a.on_time_rate == pytest.approx(1 / 3)
    assert a.mean_progress == pytest.approx((100 + 100 + 40 + 20 + 0) / 5)
    assert (b.tasks, b.tasks_due, b.tasks_on_time, b.progress_unknown) == (2, 1, 1, 1)
    assert b.on_time_rate == 1.0 and b.mean_progress == 100.0
    # the same from a task_status table, and re-judged when that table is of another day
    st = task_status(_tasks_two_departments(), AS_OF)
    pd.testing.assert_frame_equal(department_progress(st, AS_OF), department_progress(_tasks_two_departments(), AS_OF))
    may = department_progress(st, "2024-05-31").set_index("department")
    assert may.loc["甲", "tasks_due"] == 2 and may.loc["甲", "tasks_overdue"] == 1


def _summary(rows):
    cols = ["dataset", "department", "rule_id", "severity", "message", "previous", "current", "new", "open", "fixed",
            "not_comparable_previous", "not_comparable_current"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


def _datasets(rows):
    return pd.DataFrame(rows, columns=["dataset", "department", "checked_current", "records_current"])


def test_department_scores_formula():
    tasks = _tasks_two_departments()
    summary = _summary([
        ("d1", "甲", "R-1", "error", "m", 8, 10, 4, 6, 2, 0, 0),     # 10 outstanding errors, 6 carried over
        ("d1", "甲", "R-2", "warning", "m", 50, 50, 0, 50, 0, 0, 0),  # warnings do not count
        ("d2", "乙", "R-1", "error", "m", 1, 0, 0, 0, 1, 0, 0),
        ("d3", "丙", "R-1", "error", "m", 0, 300, 300, 0, 0, 0, 0),  # more errors than records: Q floors at 0
    ])
    datasets = _datasets([("d1", "甲", True, 60), ("d1b", "甲", True, 40), ("d2", "乙", True, 50),
                          ("d3", "丙", True, 100), ("d4", "丁", False, None)])
    s = department_scores(tasks, summary, AS_OF, datasets=datasets).set_index("department")
    a = s.loc["甲"]
    assert (a.tasks_due, a.tasks_on_time, a.overdue, a.records, a.open_errors, a.carried_errors) == (3, 1, 1, 100, 10, 6)
    assert a.progress_rate == pytest.approx(1 / 3) and a.quality_rate == pytest.approx(0.9)
    assert a.score == pytest.approx(100 * (0.6 / 3 + 0.4 * 0.9) - 5)
    assert a.datasets == "d1、d1b"
    b = s.loc["乙"]
    assert b.score == pytest.approx(100.0) and b.open_errors == 0 and b.carried_errors == 0
    c = s.loc["丙"]  # no task: quality alone, floored
    assert pd.isna(c.progress_rate) and c.quality_rate == 0.0 and c.score == 0.0 and "不计进度分" in c.note
    d = s.loc["丁"]  # its only dataset could not be read: quality 0
    assert d.quality_rate == 0.0 and d.unreadable == "d4" and "无法读取" in d.note
    assert s["rank"].tolist() == [1, 2, 3, 3] and s.index[0] == "乙"

    # weights are parameters; a department with tasks but no dataset is scored on progress alone
    w = department_scores(tasks, summary, AS_OF, weights={"progress": 1, "quality": 3, "overdue_penalty": 0},
                          datasets=datasets).set_index("department")
    assert w.loc["甲", "score"] == pytest.approx(100 * (1 / 3 + 3 * 0.9) / 4)
    no_data = department_scores(tasks, summary.iloc[0:0], AS_OF).set_index("department")
    assert no_data.loc["甲", "score"] == pytest.approx(100 / 3 - 5) and pd.isna(no_data.loc["甲", "quality_rate"])
    with pytest.raises(ValueError, match="未知的权重"):
        department_scores(tasks, summary, AS_OF, weights={"speed": 1})
    with pytest.raises(ValueError, match="不能"):
        department_scores(tasks, summary, AS_OF, weights={"progress": 0, "quality": 0})


def test_department_scores_month_on_month():
    tasks = _tasks_two_departments()
    summary = _summary([("d1", "甲", "R-1", "error", "m", 0, 20, 20, 0, 0, 0, 0)])
    datasets = _datasets([("d1", "甲", True, 100)])
    may = department_scores(tasks, summary, "2024-05-31", datasets=datasets)
    june = department_scores(tasks, summary, "2024-06", previous=may, datasets=datasets).set_index("department")
    m = may.set_index("department")
    for dept in june.index:
        assert june.loc[dept, "score_previous"] == pytest.approx(m.loc[dept, "score"], nan_ok=True)
        assert june.loc[dept, "score_change"] == pytest.approx(june.loc[dept, "score"] - m.loc[dept, "score"], nan_ok=True)
        prev_rank = m.loc[dept, "rank"]
        assert (pd.isna(june.loc[dept, "rank_previous"]) if pd.isna(prev_rank) else june.loc[dept, "rank_previous"] == prev_rank)
    assert june["score_previous"].notna().any()
    first = department_scores(tasks, summary, AS_OF, datasets=datasets)
    assert first["score_previous"].isna().all() and first["score_change"].isna().all()


def test_labels_cover_the_columns():
    tasks = _tasks_two_departments()
    for table in (task_status(tasks, AS_OF), department_progress(tasks, AS_OF),
                  department_scores(tasks, _summary([]), AS_OF)):
        assert set(table.columns) <= set(LABELS), set(table.columns) - set(LABELS)
    assert set(DEFAULT_WEIGHTS) == {"progress", "quality", "overdue_penalty"}


# ---------------------------------------------------------------- the sample city

@pytest.fixture(scope="module")
def city(sample_cities):
    return Catalog.load(sample_cities.city(7) / "data_catalog.yaml")   # shared: tests must not change it


def test_sample_city_task_status_against_the_raw_list(city):
    raw = city.read("tasks")
    d = pd.Timestamp(AS_OF)
    st = task_status(raw, "2024-06")
    done = pd.to_datetime(raw["completed_date"])
    deadline = pd.to_datetime(raw["deadline"])
    by_d = done.notna() & (done <= d)
    assert (st["status"] == "按期完成").sum() == (by_d & (done <= deadline)).sum()
    assert (st["status"] == "逾期完成").sum() == (by_d & (done > deadline)).sum()
    assert (st["status"] == "逾期未完成").sum() == (~by_d & (deadline <= d)).sum()
    assert (st["status"] == "未开始").sum() == (~by_d & (deadline > d) & (pd.to_datetime(raw["start_date"]) > d)).sum()
    assert len(st) == len(raw) and st["task_id"].tolist() == raw["task_id"].tolist()
    # on the list's own date (every completion is before it) the judged state agrees with the reported one
    end = task_status(raw, "2024-09-30")
    assert (end["completed"] == (raw["status"] == "已完成")).all()
    assert end["progress_as_of"].notna().all()

    prog = department_progress(raw, "2024-06")
    assert prog["tasks"].sum() == len(raw)
    assert set(prog["department"]) == set(raw["department"])
    parts = ["tasks_on_time", "tasks_late", "tasks_overdue", "tasks_in_progress", "tasks_not_started"]
    assert (prog[parts].sum(axis=1) == prog["tasks"]).all()


def test_sample_city_scores(city):
    names = [e.name for e in city if e.name != "readings"]  # the sensor stream is slow and adds nothing here
    before, now = period_findings(city, "2024-05", names), period_findings(city, "2024-06", names)
    changes = compare_findings(before, now)
    raw = city.read("tasks")
    scores = department_scores(raw, changes, "2024-06")
    # the summary alone carries what the score needs
    pd.testing.assert_frame_equal(scores, department_scores(task_status(raw, "2024-06"), changes.summary, "2024-06"))
    owners = {city[n].owner for n in names}
    assert set(scores["department"]) == owners | set(raw["department"])
    assert scores["score"].dropna().between(0, 100).all()
    s = scores.set_index("department")
    # components recomputed from the raw tables
    for dept, grp in changes.datasets.groupby("department"):
        errors = changes.summary[(changes.summary["department"] == dept) & (changes.summary["severity"] == "error")]
        assert s.loc[dept, "records"] == grp["records_current"].sum()
        assert s.loc[dept, "open_errors"] == errors["new"].sum() + errors["open"].sum()
        assert s.loc[dept, "carried_errors"] == errors["open"].sum()
    police = s.loc["市公安局"]  # persons and addresses not yet mapped are outstanding errors of 市公安局
    assert police.open_errors > 0 and 0 < police.quality_rate < 1
    may = department_scores(raw, compare_findings(None, before), "2024-05")
    june = department_scores(raw, changes, "2024-06", previous=may).set_index("department")
    change = june["score"] - may.set_index("department")["score"].reindex(june.index)
    assert np.allclose(june["score_change"].astype(float), change.astype(float), equal_nan=True)
