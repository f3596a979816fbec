"""The 治理工作清单 of the reports on the delivered sample city (registers with address texts) and the plain one."""

import re

import pandas as pd
import pytest

from cimlib.catalog import Catalog
from cimlib.demo._delivery import delivery_catalog
from cimlib.geocode.run import match_dataset
from cimlib.metrics import compute_metrics
from cimlib.reports.worklist import (AREA_COLUMNS, LABELS, NO_TEXT_NOTE, OVERVIEW_COLUMNS, RECORD_COLUMNS,
                                     Worklist, match_registers, reason_kind, worklist_of, worklist_overview,
                                     worklist_records, worklist_table)

DOOR = re.compile(r"[0-9０-９]+\s*(?:号|栋|幢|座|单元|室|户|层)|[0-9]+-[0-9]+")


@pytest.fixture(scope="module")
def delivered(sample_cities):
    """The delivered city of seed 7 (delivery/ and truth/ copied) with its correct catalog, matched and measured."""
    catalog = Catalog.load(sample_cities.delivered(7) / "delivered.yaml")
    wl = match_registers(catalog, "2024-09")
    metrics = compute_metrics(catalog).metrics
    return catalog, wl, metrics


def test_the_table_counts_every_unlinked_record_once_per_area(delivered):
    catalog, wl, metrics = delivered
    assert wl.note is None and set(wl.results) == {"persons", "houses", "units"}
    t = worklist_table(wl, metrics, catalog.read("admin_areas"), "2024-09")
    assert list(t.columns) == AREA_COLUMNS
    parts = t["确定匹配"] + t["多个候选"] + t["需现场核验"] + t["无地址文本"]
    assert (t["未关联记录"] == parts).all() and (t["未关联记录"] > 0).all()
    for name, zh in (("persons", "实有人口"), ("units", "实有单位")):
        res = wl.results[name]
        rows = t[t["数据集"] == zh]
        c = res.counts()
        assert rows["未关联记录"].sum() == res.records - c["linked"]
        assert rows["确定匹配"].sum() == c["matched"] and rows["多个候选"].sum() == c["ambiguous"]
        assert rows["需现场核验"].sum() == c["partial"] + c["unmatched"]
    # houses are linked by their building: only those that lost it (house_no_building) are work
    defects = pd.read_csv(catalog.path.parent / "truth" / "defects.csv", dtype=str)
    lost = defects[(defects["dataset"] == "houses") & (defects["defect"] == "house_no_building")]
    houses = t[t["数据集"] == "实有房屋"]
    assert houses["未关联记录"].sum() == lost["record_id"].nunique() > 0
    # names with codes; records placed nowhere last
    named = t[t["社区"] != "（未知社区）"]
    assert named["社区"].str.fullmatch(r".+社区（\d{12}）|.+村（\d{12}）").all()
    assert named["街道"].str.fullmatch(r".+（\d{9}）").all()
    persons = t[t["数据集"] == "实有人口"]
    unknown = persons["街道"] == "（未知街道）"
    assert unknown.any() and not unknown.iloc[:-1].to_numpy().any()
    # the junk texts (暂无, 同上 ...) are the commonest reason where records have no area
    assert persons.loc[unknown, "常见原因"].iloc[0].startswith("地址文本为空或无效")


def test_reasons_are_counted_by_kind_and_rates_come_from_the_metrics(delivered):
    catalog, wl, metrics = delivered
    t = worklist_table(wl, metrics, catalog.read("admin_areas"), "2024-09")
    with_reason = t[t["需现场核验"] > 0]
    assert len(with_reason) and (with_reason["常见原因"] != "").all()
    first = with_reason["常见原因"].str.split("；").map(len)
    assert (first <= 3).all()
    counts = with_reason["常见原因"].str.findall(r"（(\d+)）$|（(\d+)）；")
    assert counts.map(len).gt(0).all()
    stripped = t["常见原因"].str.replace("地址文本为空或无效（如“暂无”“同上”“不详”）", "", regex=False)
    assert not stripped.str.contains(r"“[^”…]+”", regex=True).any()     # names left out: reasons counted by kind
    ov = worklist_overview(wl, metrics, "2024-09")
    assert list(ov.columns) == OVERVIEW_COLUMNS
    assert (ov["记录数"] == ov["已按编码关联"] + ov["未关联记录"]).all()
    county = metrics[(metrics["area_level"] == "county") & (metrics["period"] == "current")]
    for name, zh in (("persons", "实有人口"), ("units", "实有单位")):
        row = ov[ov["数据集"] == zh].iloc[0]
        real = county[(county["metric_id"] == "mapping_rate") & (county["dataset"] == name)]["value"].iloc[0]
        att = county[(county["metric_id"] == "mapping_rate_attainable") & (county["dataset"] == name)]["value"].iloc[0]
        assert row["上图率"] == pytest.approx(real) and row["可达上图率"] == pytest.approx(att)
        assert row["可达上图率"] > row["上图率"]                 # delivered persons/units carry no address code
    # without metrics the rates are empty, the counts the same
    bare = worklist_table(wl)
    assert bare["上图率"].isna().all() and (bare["未关联记录"].to_numpy() == t["未关联记录"].to_numpy()).all()


def test_reason_kind_leaves_out_names_and_numbers():
    s = pd.Series(["标准地址库中未找到街路巷“交通大道”，只匹配到街道一级", "有3个同等的候选地址（户室），无法确定",
                   "地址文本为空或无效（如“暂无”“同上”“不详”），无法匹配，需核实", "地址中有未能识别的部分：X12，已匹配到可识别的最细一级",
                   "", None])
    k = reason_kind(s)
    assert k.iloc[0] == "标准地址库中未找到街路巷“…”，只匹配到街道一级"
    assert k.iloc[1] == "有多个同等的候选地址（户室），无法确定"
    assert k.iloc[2] == s.iloc[2]
    assert k.iloc[3] == "地址中有未能识别的部分：…，已匹配到可识别的最细一级"
    assert k.iloc[4:].isna().all()


def test_the_record_list_is_masked_as_cim_match_files(delivered):
    catalog, wl, _ = delivered
    r = worklist_records(wl)
    assert list(r.columns) == RECORD_COLUMNS and set(LABELS) == set(RECORD_COLUMNS)
    persons = wl.results["persons"]
    assert (r["dataset"] == "persons").sum() == len(persons.matches)
    assert not r["reason"].str.contains(DOOR).any()
    assert r["candidates"].map(type).eq(str).all()
    matched = r[r["status"].isin(["matched", "partial"])]
    assert (matched["candidates"] == matched["address_id"]).all()
    assert set(r["status_zh"]) <= {"确定匹配", "部分匹配", "多个候选", "未匹配"}
    # no address text and no personal value in the list
    texts = set(catalog.read("persons")["address_text"].dropna().astype(str))
    cells = set(r.astype(str).to_numpy().ravel())
    assert not (cells & texts)
    assert len(worklist_records(wl, limit=10)) == 10


def test_areas_of_a_match_run_follow_its_summary(delivered):
    catalog, wl, _ = delivered
    res = match_dataset(catalog, "units")
    assert res.areas is not None and len(res.areas) == len(res.matches)
    by_area = (res.areas.assign(status=res.matches["status"].to_numpy())
               .groupby(["street_code", "community_code", "status"]).size().rename("records").reset_index())
    s = res.summary[res.summary["status"].isin(["matched", "partial", "ambiguous", "unmatched"])]
    merged = s.merge(by_area, on=["street_code", "community_code", "status"], how="outer", suffixes=("", "_areas"))
    assert (merged["records"] == merged["records_areas"]).all()


def test_a_catalog_without_address_texts_gets_the_note(sample_cities):
    catalog = Catalog.load(sample_cities.without_texts(7))
    wl = match_registers(catalog, "2024-09")
    assert not wl.results and wl.note == NO_TEXT_NOTE and "地址文本" in wl.note
    assert len(wl.skipped) == 3 and all("address_text" in s for s in wl.skipped)
    assert worklist_table(wl).empty and list(worklist_table(wl).columns) == AREA_COLUMNS
    assert worklist_records(wl).empty and worklist_overview(wl).empty
    # the reports' way: from the metrics run, which matched nothing
    wl = worklist_of(compute_metrics(catalog, ["2024-09"]).matches, catalog, "2024-09")
    assert not wl.results and wl.note == NO_TEXT_NOTE and len(wl.skipped) == 3


def test_the_reports_work_list_is_the_metrics_match(sample_cities):
    """The report builds its work list from the match behind ``mapping_rate_attainable`` (matching runs once), for
    the report's month; it equals what ``match_registers`` (``cim match``) finds on the same snapshots."""
    catalog = Catalog.load(sample_cities.city(7) / "data_catalog.yaml")
    res = sample_cities.metrics(7)
    for period in ("2024-09", "2024-05"):
        wl = worklist_of(res.matches, catalog, period)
        assert set(wl.results) == {"persons", "units"} and wl.note is None
        assert all(r.period == period for r in wl.results.values())
        assert len(wl.skipped) == 1 and wl.skipped[0].startswith("houses")   # the plain houses carry no text
    alone = match_registers(catalog, "2024-09")
    wl = worklist_of(res.matches, catalog, "2024-09")
    for name in ("persons", "units"):
        pd.testing.assert_frame_equal(wl.results[name].matches, alone.results[name].matches)
        pd.testing.assert_frame_equal(wl.results[name].summary, alone.results[name].summary)
    t = worklist_table(wl, res.metrics, catalog.read("admin_areas"), "2024-09")
    assert len(t) and (t["可达上图率"] >= t["上图率"]).all()
    # a month before the first snapshot takes the first; no month takes the latest
    assert worklist_of(res.matches, catalog, "2023-12").results["persons"].period == "2024-01"
    assert worklist_of(res.matches, catalog).results["persons"].period == "2024-09"


class _Context:
    """The tables ``runner._excel_tables`` asks a report context for: tiny ones, and the real work list."""

    def __init__(self, worklist, records):
        self._worklist, self._records = worklist, records

    def changes(self):
        return pd.DataFrame({"dataset": ["persons"], "new": [1]}), None

    def sensors(self):
        return {n: pd.DataFrame() for n in ("health", "alarms", "anomalies", "coverage")}

    def metrics(self):
        return pd.DataFrame({"metric_id": ["mapping_rate"], "area_level": ["county"], "value": [0.5]})

    def indicators(self):
        return pd.DataFrame({"indicator_id": ["X"], "value": [0.5]})

    def findings(self):
        return pd.DataFrame({"dataset": ["persons"], "rule_id": ["PER-001"]})

    def problems(self):
        return pd.DataFrame({"dataset": [], "problem": []})

    def worklist(self):
        return self._worklist

    def worklist_records(self):
        return self._records


def test_the_workbook_gets_the_masked_work_list(delivered, tmp_path):
    from cimlib.reports import render
    from cimlib.reports.runner import SHEET_MODULES, _excel_tables
    from cimlib.reports.tables import column_labels

    catalog, wl, metrics = delivered
    t = worklist_table(wl, metrics, catalog.read("admin_areas"), "2024-09")
    tables = _excel_tables(_Context(t, worklist_records(wl)), "acceptance")
    labels = {**column_labels(), **{sheet: column_labels(mod) for sheet, mod in SHEET_MODULES.items()}}
    render.write_excel(tables, tmp_path / "report.xlsx", labels=labels)
    book = pd.read_excel(tmp_path / "report.xlsx", sheet_name=None, dtype=str)
    assert list(book["治理工作清单（汇总）"].columns) == AREA_COLUMNS
    sheet = book["治理工作清单"]
    # the label table's headers in order; the dataset code kept beside its title (and area names beside codes
    # when a catalog is in use)
    assert [c for c in sheet.columns if c not in ("数据集代码", "街道", "社区")] == [LABELS[c] for c in RECORD_COLUMNS]
    assert sheet["数据集代码"].isin(["persons", "houses", "units"]).all() and "persons" not in set(sheet["数据集"])
    assert len(sheet) == sum(len(r.matches) for r in wl.results.values())
    assert not sheet["原因"].dropna().str.contains(DOOR).any()
    assert sheet["社区代码"].dropna().str.fullmatch(r"\d{12}").all()          # codes stay text, not numbers
    # the empty case: one row saying why
    empty = worklist_table(Worklist())
    empty.attrs["note"] = NO_TEXT_NOTE
    assert _excel_tables(_Context(empty, None), "acceptance")["治理工作清单"]["说明"].tolist() == [NO_TEXT_NOTE]


def test_notebook_03_shows_the_work_list(sample_cities, tmp_path):
    """Notebook 03 on the plain city with the delivered persons and units (free-text addresses, no code link)."""
    import papermill as pm
    import yaml

    from cimlib.reports.render import notebook_body
    from cimlib.reports.runner import notebooks_dir

    city = sample_cities.city(7)
    plain = yaml.safe_load((city / "data_catalog.yaml").read_text(encoding="utf-8"))
    deliv = {e["name"]: e for e in yaml.safe_load(delivery_catalog(city))["entries"]}
    plain["entries"] = [deliv[e["name"]] if e["name"] in ("persons", "units") else e for e in plain["entries"]]
    path = city / "worklist_catalog.yaml"
    path.write_text(yaml.safe_dump(plain, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "03.ipynb"
    pm.execute_notebook(str(notebooks_dir() / "03_coverage_mapping.ipynb"), str(out), kernel_name="python3",
                        parameters={"catalog": str(path), "period": "2024-09", "as_of": "2024-09-30",
                                    "output_dir": str(tmp_path), "cache_dir": str(tmp_path / "data")},
                        progress_bar=False, log_output=False, cwd=str(tmp_path))
    from bs4 import BeautifulSoup

    text = BeautifulSoup(notebook_body(out), "html.parser").get_text(" ")
    assert "治理工作清单" in text and "可达上图率" in text and NO_TEXT_NOTE not in text
    assert "实有人口" in text and "（persons）" not in text and "需现场核验" in text and "民主社区（421303001001）" in text
    section = text[text.index("各登记数据"):]
    texts = Catalog.load(path).read("persons")["address_text"].dropna().astype(str)
    assert not [t for t in texts.head(500) if len(t) >= 6 and t in section]     # no address text in the report
