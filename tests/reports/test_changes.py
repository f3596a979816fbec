"""Findings over time: 新增 / 未整改 / 已整改 / 无法比较, on generated frames and on two months of the sample city."""

import shutil

import pandas as pd
import pytest

from cimlib import Catalog
from cimlib.reports.changes import LABELS, compare_findings, period_findings
from standards_checks import FINDINGS_COLUMNS

REGISTERS = ["addresses", "persons", "houses", "units"]


def _findings(rows, period=None, checked=None):
    """rows: (dataset, rule_id, record_id, value); column/message/etc. filled in plausibly."""
    out = pd.DataFrame([{"dataset": d, "department": f"{d}部门", "rule_id": r, "severity": "error", "record_id": rid,
                         "column": None if rid is None else "id_number", "value": v, "message": f"{r} 说明",
                         "standard": "GB 11643-1999", "geometry": None} for d, r, rid, v in rows],
                       columns=["dataset", "department"] + FINDINGS_COLUMNS[1:])
    if period:
        out.attrs = {"period": period, "datasets": {
            d: {"department": f"{d}部门", "checked": ok, "records": 100 if ok else None} for d, ok in (checked or {}).items()}}
    return out


def _status(result, dataset, rule_id, record_id):
    d = result.detail
    rid = d["record_id"].isna() if record_id is None else d["record_id"].astype(object) == record_id
    sel = d[(d["dataset"] == dataset) & (d["rule_id"] == rule_id) & rid]
    return sel["change"].tolist()


def _consistent(result, previous, current):
    d = result.detail
    n_prev = 0 if previous is None else len(previous)
    assert int(d["in_previous"].sum()) == n_prev and int(d["in_current"].sum()) == len(current)
    s = result.summary
    assert s["previous"].sum() == n_prev and s["current"].sum() == len(current)
    assert (s["open"] + s["fixed"] + s["not_comparable_previous"] == s["previous"]).all()
    assert (s["open"] + s["new"] + s["not_comparable_current"] == s["current"]).all()
    counts = d["change"].value_counts()
    assert counts.get("未整改", 0) + counts.get("已整改", 0) + int((d["change"].eq("无法比较") & d["in_previous"]).sum()) == n_prev
    assert counts.get("未整改", 0) + counts.get("新增", 0) + int((d["change"].eq("无法比较") & d["in_current"]).sum()) == len(current)


def test_new_open_fixed_on_generated_frames():
    prev = _findings([
        ("persons", "PER-001", "P1", "421303********001X"),   # still wrong next month
        ("persons", "PER-001", "P2", "421303********0022"),   # corrected
        ("persons", "PER-001", "P3", "421303********0033"),   # record deleted from the register
        ("persons", "PER-002", "P1", "421303********001X"),   # a different rule on the same record: fixed
    ])
    cur = _findings([
        ("persons", "PER-001", "P1", "421303********009X"),   # same record and rule, another (masked) value
        ("persons", "PER-001", "P4", "421303********0044"),   # new
    ])
    r = compare_findings(prev, cur)
    assert _status(r, "persons", "PER-001", "P1") == ["未整改"]
    assert _status(r, "persons", "PER-001", "P2") == ["已整改"]
    assert _status(r, "persons", "PER-001", "P3") == ["已整改"]
    assert _status(r, "persons", "PER-002", "P1") == ["已整改"]
    assert _status(r, "persons", "PER-001", "P4") == ["新增"]
    _consistent(r, prev, cur)
    row = r.detail[r.detail["record_id"] == "P1"].set_index("rule_id").loc["PER-001"]
    assert row["value"] == "421303********009X" and row["value_previous"] == "421303********001X"
    fixed = r.detail[r.detail["change"] == "已整改"]
    assert set(fixed["value"]) == {"421303********0022", "421303********0033", "421303********001X"}
    assert set(r.detail["value"].dropna()) | set(r.detail["value_previous"].dropna()) <= set(prev["value"]) | set(cur["value"])
    s = r.summary.set_index("rule_id")
    assert s.loc["PER-001", ["previous", "current", "new", "open", "fixed"]].tolist() == [3, 2, 1, 1, 2]
    assert s.loc["PER-001", "fix_rate"] == pytest.approx(2 / 3)
    assert s.loc["PER-002", ["new", "open", "fixed"]].tolist() == [0, 0, 1]
    assert s.loc["PER-001", "department"] == "persons部门"
    assert s.loc["PER-001", "message"] == "公民身份号码无效（长度、出生日期或校验码错误）"  # the rule's message


def test_duplicate_keys_are_matched_one_by_one():
    """Two records sharing an identifier fail the same rule twice under one key: 2 then 1 = one open, one fixed."""
    prev = _findings([("houses", "SYS-005", "H1", None), ("houses", "SYS-005", "H1", None),
                      ("dem", "DEM-001", "band1", "0.02")])
    cur = _findings([("houses", "SYS-005", "H1", None), ("dem", "DEM-001", "band1", "0.01")])
    r = compare_findings(prev, cur)
    assert sorted(_status(r, "houses", "SYS-005", "H1")) == ["已整改", "未整改"]
    assert _status(r, "dem", "DEM-001", "band1") == ["未整改"]
    _consistent(r, prev, cur)


def test_first_period_everything_is_new():
    cur = _findings([("persons", "PER-001", "P1", "x"), ("units", "SYS-001", None, None)])
    r = compare_findings(None, cur)
    assert (r.detail["change"] == "新增").all() and r.detail["note"].str.contains("首期").all()
    assert r.summary["new"].sum() == 2 and r.summary["fixed"].sum() == 0
    assert (r.datasets["comparison"] == "首期").all()
    _consistent(r, None, cur)


def test_dataset_unreadable_this_month_is_not_fixed():
    prev = _findings([("units", "UNT-001", "U1", "x"), ("units", "UNT-003", "U2", None), ("persons", "PER-001", "P1", "y")])
    cur = _findings([("units", "SYS-001", None, None), ("persons", "PER-001", "P1", "y")])
    r = compare_findings(prev, cur)
    assert _status(r, "units", "UNT-001", "U1") == ["无法比较"] and _status(r, "units", "UNT-003", "U2") == ["无法比较"]
    assert _status(r, "units", "SYS-001", None) == ["新增"]  # becoming unreadable is itself a new problem
    assert _status(r, "persons", "PER-001", "P1") == ["未整改"]
    assert r.summary.loc[r.summary["dataset"] == "units", "fixed"].sum() == 0
    assert r.detail.loc[r.detail["change"] == "无法比较", "note"].str.contains("无法读取").all()
    ds = r.datasets.set_index("dataset")
    assert ds.loc["units", "comparison"] == "无法比较" and "本期" in ds.loc["units", "note"]
    assert ds.loc["units", "not_comparable_previous"] == 2 and ds.loc["persons", "comparison"] == "可比较"
    _consistent(r, prev, cur)


def test_dataset_unreadable_last_month():
    prev = _findings([("units", "SYS-001", None, None)])
    cur = _findings([("units", "UNT-001", "U1", "x")])
    r = compare_findings(prev, cur)
    assert _status(r, "units", "UNT-001", "U1") == ["无法比较"]
    assert _status(r, "units", "SYS-001", None) == ["已整改"]  # readable again
    assert "上期" in r.datasets.set_index("dataset").loc["units", "note"]
    _consistent(r, prev, cur)


def test_dataset_left_out_of_this_months_run():
    """With the datasets each run checked (period_findings' attrs), a dataset not run this month is not 'fixed'."""
    prev = _findings([("units", "UNT-001", "U1", "x"), ("persons", "PER-001", "P1", "y")], "2024-05",
                     {"units": True, "persons": True})
    cur = _findings([("persons", "PER-001", "P1", "y")], "2024-06", {"persons": True})
    r = compare_findings(prev, cur)
    assert _status(r, "units", "UNT-001", "U1") == ["无法比较"]
    assert (r.previous_period, r.current_period) == ("2024-05", "2024-06")
    # ... while a checked dataset with no finding left is genuinely fixed
    cur2 = _findings([("persons", "PER-001", "P1", "y")], "2024-06", {"persons": True, "units": True})
    assert _status(compare_findings(prev, cur2), "units", "UNT-001", "U1") == ["已整改"]


def test_missing_key_column():
    with pytest.raises(ValueError, match="record_id"):
        compare_findings(None, _findings([("a", "SYS-001", None, None)]).drop(columns=["record_id"]))


def test_labels_cover_the_columns():
    r = compare_findings(_findings([("a", "PER-001", "1", "x")]), _findings([("a", "PER-001", "2", "x")]))
    for t in (r.detail, r.summary, r.datasets):
        assert set(t.columns) <= set(LABELS), set(t.columns) - set(LABELS)


# ---------------------------------------------------------------- two months of the sample city

A, B = "2024-05", "2024-06"


@pytest.fixture(scope="module")
def city(sample_cities):
    return sample_cities.city(7)   # shared: tests must not change it


@pytest.fixture(scope="module")
def months(city):
    cat = Catalog.load(city / "data_catalog.yaml")
    names = REGISTERS + ["buildings", "tasks"]
    prev, cur = period_findings(cat, A, names), period_findings(cat, B, names)
    return cat, prev, cur, compare_findings(prev, cur)


def _expected(city, period):
    """From truth/ (and the links the registers name) alone: the records that must fail the "not yet mapped /
    linked / coded" rules in ``period``, without running a check.

    A record is in the snapshot from its entry month; until its mapped month its mapped field is empty (addresses:
    coordinates -> ADR-001; houses: house_code -> HSE-002; persons, units: address_id -> PER-003, UNT-003). Persons
    and units injected with a dangling or empty link fail whenever present; and a person or unit linked to an
    address that only enters the register later has a dangling link until that address enters.
    """
    life = pd.read_parquet(city / "truth" / "lifecycle.parquet")
    defects = pd.read_csv(city / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    snap = city / "snapshots"
    links = {  # the address each person / unit names once linked (the last snapshot has every link)
        "persons": pd.read_parquet(snap / "persons" / "period=2024-09" / "part-0.parquet", columns=["person_id", "address_id"])
        .set_index("person_id")["address_id"],
        "units": pd.read_csv(snap / "units" / "period=2024-09" / "part-0.csv", encoding="gbk", dtype=str,
                             usecols=["unit_id", "address_id"]).set_index("unit_id")["address_id"],
    }
    addr = life[life["dataset"] == "addresses"]
    addresses_then = set(addr.loc[addr["entry_period"] <= period, "record_id"])
    present = life["entry_period"] <= period
    unmapped = (life["mapped_period"] == "") | (life["mapped_period"] > period)
    out = {}
    for dataset, rule, always in (("addresses", "ADR-001", None), ("houses", "HSE-002", None),
                                  ("persons", "PER-003", "person_no_address"), ("units", "UNT-003", "unit_no_address")):
        mine = life["dataset"] == dataset
        bad = set(defects.loc[(defects["dataset"] == dataset) & (defects["defect"] == always), "record_id"]) if always else set()
        fails = unmapped | life["record_id"].isin(bad)
        if dataset in links:
            target = life["record_id"].map(links[dataset])
            fails |= mine & ~target.isin(addresses_then)
        out[rule] = set(life.loc[mine & present & fails, "record_id"])
    return out


def test_sample_city_counts_are_consistent(months):
    cat, prev, cur, r = months
    _consistent(r, prev, cur)
    for name, grp in r.datasets.groupby("dataset"):
        row = grp.iloc[0]
        assert row["open"] + row["fixed"] + row["not_comparable_previous"] == (prev["dataset"] == name).sum()
        assert row["open"] + row["new"] + row["not_comparable_current"] == (cur["dataset"] == name).sum()
    assert (r.datasets["comparison"] == "可比较").all()
    assert (r.detail["change"] != "无法比较").all()
    # the department is the catalog entry's owner
    owners = {e.name: e.owner for e in cat}
    assert (r.detail["department"] == r.detail["dataset"].map(owners)).all()
    # datasets without snapshots are read as they are now: the same findings in both months
    for name in ("buildings", "tasks"):
        assert (r.detail.loc[r.detail["dataset"] == name, "change"] == "未整改").all()
    assert (r.detail["dataset"] == "buildings").sum() > 0


def test_sample_city_records_follow_the_lifecycle(months, city):
    _, prev, cur, r = months
    life = pd.read_parquet(city / "truth" / "lifecycle.parquet")
    for findings, period in ((prev, A), (cur, B)):
        assert findings.attrs["period"] == period
        for name in ("persons", "houses", "units"):  # one row per record of the snapshot
            expected = ((life["dataset"] == name) & (life["entry_period"] <= period)).sum()
            assert findings.attrs["datasets"][name]["records"] == expected
    persons = r.datasets.set_index("dataset").loc["persons"]
    assert persons["records_current"] > persons["records_previous"]


def test_sample_city_changes_match_the_truth(months, city):
    """Records not yet mapped in May and mapped in June are 已整改, those unmapped in both 未整改, those entering
    unmapped in June 新增 — derived from truth/lifecycle.parquet, not from the checks."""
    _, _, _, r = months
    before, after = _expected(city, A), _expected(city, B)
    d = r.detail
    for rule in before:
        got = {c: set(d.loc[(d["rule_id"] == rule) & (d["change"] == c), "record_id"]) for c in ("新增", "未整改", "已整改")}
        assert got["已整改"] == before[rule] - after[rule], rule
        assert got["未整改"] == before[rule] & after[rule], rule
        assert got["新增"] == after[rule] - before[rule], rule
        assert got["已整改"] and got["未整改"], rule  # the months really differ: both kinds occur


def test_sample_city_unreadable_snapshot(city, tmp_path):
    """June's snapshot of units is missing: May's unit findings are 无法比较, not 已整改."""
    copy = tmp_path / "city"
    shutil.copytree(city, copy, ignore=shutil.ignore_patterns("delivery"))
    shutil.rmtree(copy / "snapshots" / "units" / f"period={B}")
    cat = Catalog.load(copy / "data_catalog.yaml")
    prev, cur = period_findings(cat, A, ["units"]), period_findings(cat, B, ["units"])
    assert cur.attrs["datasets"]["units"]["checked"] is False
    r = compare_findings(prev, cur)
    units = r.detail[r.detail["dataset"] == "units"]
    assert (units.loc[units["in_previous"], "change"] == "无法比较").all() and units["in_previous"].sum() == len(prev)
    assert units.loc[units["in_current"], "rule_id"].tolist() == ["SYS-001"]
    assert r.summary["fixed"].sum() == 0
    assert r.datasets.set_index("dataset").loc["units", "comparison"] == "无法比较"
    _consistent(r, prev, cur)


def test_period_must_be_a_month(months):
    cat = months[0]
    with pytest.raises(ValueError, match="YYYY-MM"):
        period_findings(cat, "2024-6", ["tasks"])
