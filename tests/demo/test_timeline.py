"""Sample-city timelines: the months a city's registers span follow its programme's deadlines, and every dated thing
of the city moves with them (:mod:`cimlib.demo._timeline`)."""

from __future__ import annotations

import importlib.util
import json
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.dataset as ds
import pytest
from click.testing import CliRunner

from cimlib import Catalog
from cimlib.cli import main
from cimlib.demo import GENERATOR_MARK, PERIODS, build_sample_city
from cimlib.demo._projects import FIRST_DAY, LAST_DAY, fact_periods
from cimlib.demo._timeline import N_MONTHS, REFERENCE, REFERENCE_END, Timeline, _window_end, timeline_for
from cimlib.demo._work import MILESTONES
from cimlib.demo._write import FIXED_DATE
from standards_checks.programmes import programme_for

CHONGQING = "500101"
SNAPSHOTTED = ("addresses", "persons", "houses", "units")


# --------------------------------------------------------------------------- Timeline arithmetic


def test_reference_timeline():
    assert REFERENCE.end == REFERENCE_END == "2024-09" and REFERENCE.offset == 0
    assert REFERENCE.periods == PERIODS == tuple(f"2024-{m:02d}" for m in range(1, 10))
    assert REFERENCE.sensor_period == "2024-09"
    assert REFERENCE.date("2024-06-15") == "2024-06-15" and REFERENCE.month("2024-03") == "2024-03"
    assert REFERENCE.year(2023) == 2023
    days = np.array(["2024-01-31", "2024-02-29", "NaT"], dtype="datetime64[D]")
    assert np.array_equal(REFERENCE.dates(days), days, equal_nan=True)


def test_periods_offset_and_months_across_a_year():
    t = Timeline("2021-12")
    assert t.offset == -33 and len(t.periods) == N_MONTHS
    assert t.periods == ("2021-04", "2021-05", "2021-06", "2021-07", "2021-08", "2021-09", "2021-10", "2021-11", "2021-12")
    assert t.sensor_period == "2021-12" and t.month("2024-01") == "2021-04" and t.month("2024-09") == "2021-12"
    later = Timeline("2025-02")
    assert later.offset == 5 and later.periods[0] == "2024-06" and later.month("2024-09") == "2025-02"
    assert Timeline("2024-03").periods[:3] == ("2023-07", "2023-08", "2023-09")
    assert t.year(2024) == 2021 and later.year(2024) == 2025


@pytest.mark.parametrize("end, ref, expected", [
    ("2021-12", "2024-09-30", "2021-12-31"),   # a month-end stays a month-end (30 -> 31)
    ("2021-12", "2024-03-31", "2021-06-30"),   # (31 -> 30)
    ("2021-12", "2024-06-15", "2021-09-15"),   # another day keeps its number
    ("2023-11", "2024-06-30", "2023-08-31"),
    ("2023-10", "2024-01-30", "2023-02-28"),   # clipped to a short February
    ("2024-10", "2024-01-30", "2024-02-29"),   # ... to a leap February
    ("2024-10", "2024-01-28", "2024-02-28"),   # not a month-end: stays the 28th of a leap February
    ("2024-10", "2024-01-31", "2024-02-29"),   # month-end to the leap month-end
    ("2025-09", "2024-02-29", "2025-02-28"),   # the leap day (a month-end) a year later
    ("2025-09", "2024-02-28", "2025-02-28"),
    ("2023-09", "2024-02-28", "2023-02-28"),
    ("2025-02", "2024-09-30", "2025-02-28"),
    ("2021-12", "1940-01-01", "1937-04-01"),   # far back, negative offset
])
def test_dates_move_by_whole_months(end, ref, expected):
    t = Timeline(end)
    assert t.date(ref) == expected
    assert str(t.dates(np.array([ref], dtype="datetime64[D]"))[0]) == expected


def test_vectorised_dates_keep_time_missing_values_and_order():
    t = Timeline("2023-10")  # -11 months
    stamps = np.array(["2024-01-31T10:00:00", "2024-03-15T23:59:59", "NaT"], dtype="datetime64[s]")
    out = t.dates(stamps)
    assert out.dtype == stamps.dtype
    assert out[:2].astype(str).tolist() == ["2023-02-28T10:00:00", "2023-04-15T23:59:59"] and np.isnat(out[2])
    s = pd.Series(pd.to_datetime(["2024-09-30 08:00", None]), index=[5, 7], name="ts")
    moved = t.dates(s)
    assert moved.index.tolist() == [5, 7] and moved.name == "ts"
    assert moved.iloc[0] == pd.Timestamp("2023-10-31 08:00") and pd.isna(moved.iloc[1])
    assert t.dates(np.array(["2024-05-31"], dtype=object)).astype(str).tolist() == ["2023-06-30"]
    assert t.timestamp("2024-09-30 08:00") == pd.Timestamp("2023-10-31 08:00")
    # monotone on dates: every day of a year, in order, stays in order (ties only at clipped month-ends)
    days = np.arange(np.datetime64("2023-01-01"), np.datetime64("2025-01-01"))
    for end in ("2021-12", "2023-10", "2024-10", "2025-02"):
        assert (np.diff(Timeline(end).dates(days).astype(np.int64)) >= 0).all()


@pytest.mark.parametrize("bad", ["2024-13", "2024-00", "2024-9", "24-09", "2024/09", "", "abc", "1999-12", "2100-01"])
def test_invalid_end_is_a_value_error_naming_the_value(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        Timeline(bad)


def test_invalid_values_to_move_are_value_errors():
    with pytest.raises(ValueError, match="2024-02-30"):
        REFERENCE.date("2024-02-30")
    with pytest.raises(ValueError, match="2024-9"):
        REFERENCE.month("2024-9")
    with pytest.raises(ValueError, match="None"):
        Timeline(None)


# --------------------------------------------------------------------------- timeline_for


@pytest.mark.parametrize("months, end", [
    (["2023-05", "2023-05", "2023-11", "2023-11"], "2023-11"),           # both stages fit: earliest window
    (["2021-12"] * 5 + ["2025-12"] * 2, "2021-12"),                       # the most deadlines win
    (["2021-12"] * 2 + ["2025-12"] * 3, "2025-12"),
    (["2020-01", "2022-01"], "2020-01"),                                  # a tie: the earliest window
    (["2024-03", "2024-06", "2024-09"], "2024-09"),
    ([], None),
])
def test_window_covering_the_most_deadlines(months, end):
    assert _window_end(months) == end


def _fake_programme(monkeypatch, indicators):
    import standards_checks.programmes as programmes

    prog = SimpleNamespace(indicators=[SimpleNamespace(computable=c, deadline=d) for c, d in indicators])
    monkeypatch.setattr(programmes, "programme_for", lambda code: prog)


def test_only_computable_dated_indicators_count(monkeypatch):
    _fake_programme(monkeypatch, [(True, "2022-06-30"), (False, "2019-12-31"), (False, "2019-12-31"),
                                  (True, ""), (True, "2022-01-31")])
    assert timeline_for("999999") == Timeline("2022-06")
    _fake_programme(monkeypatch, [(False, "2022-06-30"), (True, "")])
    assert timeline_for("999999") == REFERENCE


def test_no_programme_is_the_reference():
    assert timeline_for("110101") == REFERENCE  # 北京市东城区: no programme governs it


def _window_count(months: list[str], end: str) -> int:
    window = set(Timeline(end).periods)
    return sum(m in window for m in months)


@pytest.mark.parametrize("code", ["421303", "420105", CHONGQING, "321281", "420500"])
def test_timeline_for_follows_the_programme_files(code):
    """The chosen window holds as many computable deadlines as any window can, and no earlier one holds as many."""
    months = [i.deadline[:7] for i in programme_for(code).indicators if i.computable and i.deadline]
    chosen = timeline_for(code)
    if not months:
        assert chosen == REFERENCE
        return
    ends = _months_between(min(months), _plus(max(months), N_MONTHS - 1))  # every window touching a deadline
    best = max(_window_count(months, x) for x in ends)
    assert _window_count(months, chosen.end) == best
    assert all(_window_count(months, x) < best for x in ends if x < chosen.end)


def _plus(m: str, k: int) -> str:
    i = int(m[:4]) * 12 + int(m[5:]) - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def _months_between(a: str, b: str) -> list[str]:
    out = [a]
    while out[-1] < b:
        out.append(_plus(out[-1], 1))
    return out


def test_chongqing_gets_its_2021_year():
    """重庆's 2021-12-31 targets (five computable rows) outnumber its 2025 ones: the city spans 2021-04 … 2021-12."""
    assert timeline_for(CHONGQING) == Timeline("2021-12")


# --------------------------------------------------------------------------- a city on another timeline


@pytest.fixture(scope="module")
def shifted(sample_cities):
    root = sample_cities.area(CHONGQING)
    facts = json.loads((root / "truth" / "facts.json").read_text(encoding="utf-8"))
    return root, Catalog.load(root / "data_catalog.yaml"), facts, timeline_for(CHONGQING)


def _last_day(t: Timeline) -> pd.Timestamp:
    return pd.Timestamp(t.date(FIXED_DATE))


def test_facts_catalog_and_snapshots_use_the_timeline(shifted):
    root, cat, facts, t = shifted
    assert t != REFERENCE
    assert facts["timeline"] == {"end": t.end, "offset_months": t.offset}
    assert facts["periods"] == list(t.periods) and facts["sensor_period"] == t.end
    assert sorted(facts["smart_compounds_by_period"]) == list(t.periods)
    head = (root / "data_catalog.yaml").read_text(encoding="utf-8").split("\n", 1)[0]
    assert GENERATOR_MARK in head and f"--city {CHONGQING} --until {t.end}:" in head
    for name in SNAPSHOTTED:
        assert cat.periods(name) == list(t.periods)
        assert sorted(p.name for p in (root / "snapshots" / name).iterdir()) == [f"period={p}" for p in t.periods]
        assert f"period={t.end}/" in str(cat[name].path)
        assert len(cat.read(name, period=t.periods[0])) <= len(cat.read(name))
    life = pd.read_parquet(root / "truth" / "lifecycle.parquet")
    assert set(life["entry_period"]) <= set(t.periods)
    assert set(life["mapped_period"]) <= set(t.periods) | {""}


def test_readings_are_of_the_last_month(shifted):
    root, cat, _, t = shifted
    month = pd.Period(t.sensor_period, freq="M")
    parts = sorted(p.name for p in (root / "data" / "readings").iterdir())
    assert parts == [f"date={d:%Y-%m-%d}" for d in pd.date_range(month.start_time, month.end_time.normalize())]
    ts = pd.Series(ds.dataset(root / "data" / "readings", format="parquet").to_table(columns=["ts"]).column("ts")
                   .to_pandas())
    outside = ~ts.between(month.start_time, month.end_time)
    truth = pd.read_csv(root / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    assert outside.sum() == (truth["defect"] == "ts_out_of_range").sum() > 0  # only the injected bad clocks
    events = pd.read_csv(root / "truth" / "sensor_events.csv", parse_dates=["start", "end"])
    assert (events["start"] >= month.start_time).all() and (events["end"] <= month.end_time.ceil("D")).all()
    install = pd.to_datetime(pd.read_csv(root / "data" / "devices.csv", dtype=str)["install_date"])
    assert install.max() < month.start_time and install.min() >= pd.Timestamp(t.date("2019-01-01"))


def test_tasks_and_their_milestones_move(shifted):
    _, cat, _, t = shifted
    tasks = cat.read("tasks")
    deadline = pd.to_datetime(tasks["deadline"])
    first = pd.Period(t.periods[0], freq="M").start_time
    assert deadline.between(first, _last_day(t)).all()
    for col in ("start_date", "completed_date"):
        assert (pd.to_datetime(tasks[col]).dropna() <= _last_day(t)).all()
    nodes = [pd.Timestamp(t.date(d)) for d in MILESTONES]
    labels = [f"{n.year}年{n.month}月节点" for n in nodes]
    expected = [labels[next(k for k, n in enumerate(nodes) if d <= n or k == 2)] for d in deadline]
    assert tasks["milestone"].tolist() == expected
    assert set(tasks["milestone"]) == set(labels) and not any(lab.startswith("2024") for lab in labels)


def test_projects_lie_in_the_timeline(shifted):
    root, cat, facts, t = shifted
    p = cat.read("projects")
    defects = pd.read_csv(root / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    unreadable = set(defects.loc[defects["defect"] == "unreadable_date", "record_id"])
    ok = ~p["project_id"].isin(unreadable)
    approval = pd.to_datetime(p.loc[ok, "approval_date"])
    assert approval.min() >= pd.Timestamp(t.date(FIRST_DAY)) and approval.max() <= pd.Timestamp(t.date(LAST_DAY))
    for col in ("start_date", "completion_date"):
        assert (pd.to_datetime(p[col]).dropna() <= pd.Timestamp(t.date(LAST_DAY))).all()
    years = p.loc[ok, "project_code"].str.slice(0, 4)
    assert years.str.fullmatch(r"\d{4}").sum() > 0 and (years[years.str.fullmatch(r"\d{4}")] <= t.end[:4]).all()
    assert sorted(facts["projects"]["by_period"]) == sorted(fact_periods(t))
    assert fact_periods(t)[-N_MONTHS:] == t.periods and "2021-12" in facts["projects"]["by_period"]
    assert all(m.endswith("-12") and m < t.periods[0] for m in fact_periods(t)[:-N_MONTHS])


def test_project_metrics_equal_the_facts_on_the_shifted_city(shifted):
    from cimlib.metrics import project_metrics

    _, cat, facts, _ = shifted
    by_period = facts["projects"]["by_period"]
    m = project_metrics(cat, sorted(by_period))
    county = m[m.area_level == "county"].set_index(["metric_id", "period"])
    for period, f in by_period.items():
        row = county.loc[("digital_construction_pilots", period)]
        assert (row.numerator, row.denominator) == (f["pilots"], f["approved"])
        row = county.loc[("digital_construction_share", period)]
        assert (row.numerator, row.denominator) == (f["year_digital"], f["year_projects"])


def test_other_dated_layers_move(shifted):
    root, cat, facts, t = shifted
    white = cat.read("white_model_extent")
    assert set(white["produced_by"]) <= set(t.periods) and white["produced_by"].min() == t.periods[0]
    assert set(facts["white_model_produced_by"].values()) == set(white["produced_by"])
    assert cat.read("fine_model_extent")["produced_by"].tolist() == [t.end]
    log = cat.read("address_pipeline")
    first = pd.Period(t.periods[0], freq="M").start_time
    assert set(log["period"]) <= set(t.periods[1:])
    assert log["submitted_at"].min() >= first and log["completed_at"].max() <= _last_day(t) + pd.Timedelta(days=1)
    persons = cat.read("persons")
    birth = pd.to_datetime(persons["birth_date"])
    assert birth.max() < first  # nobody born after the registers began
    assert cat.read("buildings")["year_built"].max() < int(t.end[:4])
    lines = cat.read("control_lines")
    assert (pd.to_datetime(lines["approved"]) <= _last_day(t)).all()
    assert not lines["doc_no"].astype(str).str.contains("〔2023〕").any()


def test_delivery_is_of_the_last_month(shifted):
    root, _, _, t = shifted
    truth = json.loads((root / "truth" / "delivery.json").read_text(encoding="utf-8"))
    assert {f["period"] for f in truth["files"] if f["period"]} == {t.end}
    path = root / "delivery" / "市公安局" / "实有人口.xlsx"
    title = openpyxl.load_workbook(path, read_only=True).worksheets[0]["A1"].value
    assert title.endswith(f"（{t.end[:4]}年{int(t.end[5:])}月）")
    last = _last_day(t)
    for book in (path, root / "data" / "tasks.xlsx"):
        with zipfile.ZipFile(book) as z:
            assert {i.date_time for i in z.infolist()} == {(last.year, last.month, last.day, 0, 0, 0)}


def _truth_module():
    """``tests/standards_checks/test_truth.py``: the comparison of findings with the injected truth (default city)."""
    path = Path(__file__).resolve().parent.parent / "standards_checks" / "test_truth.py"
    spec = importlib.util.spec_from_file_location("_shared_truth_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def shifted_run(shifted):
    from standards_checks import run_checks

    root, cat, _, _ = shifted
    truth = pd.read_csv(root / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    return root, run_checks(cat), truth


@pytest.mark.parametrize("check", ["test_findings_equal_truth_per_rule", "test_clean_layers_have_no_findings",
                                   "test_every_injected_rule_ran_and_summary_counts"])
def test_checks_find_the_injected_truth_on_the_shifted_city(shifted_run, check):
    getattr(_truth_module(), check)(shifted_run)


# --------------------------------------------------------------------------- the default city and the CLI


def test_the_default_city_is_on_the_reference_timeline(sample_cities):
    root = sample_cities.city(7)
    facts = json.loads((root / "truth" / "facts.json").read_text(encoding="utf-8"))
    assert facts["timeline"] == {"end": REFERENCE_END, "offset_months": 0} and facts["periods"] == list(PERIODS)
    head = (root / "data_catalog.yaml").read_text(encoding="utf-8").split("\n", 1)[0]
    assert "--until" not in head and GENERATOR_MARK in head


def test_a_bad_until_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="2024-13"):
        build_sample_city(tmp_path / "x", until="2024-13", progress=False)
    assert not (tmp_path / "x").exists()
    res = CliRunner().invoke(main, ["demo", "--until", "24-09", "--out", str(tmp_path / "y"), "--quiet"])
    assert res.exit_code != 0 and "24-09" in res.output and not (tmp_path / "y").exists()


def test_cli_help_explains_until():
    res = CliRunner().invoke(main, ["demo", "--help"])
    assert res.exit_code == 0
    assert "--until" in res.output and "登记数据最后一个月" in res.output and "工作方案" in res.output
