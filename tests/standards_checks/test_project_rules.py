"""工程建设项目 rules (PRJ-001…005): each finds exactly the records the sample city injected, and fires on the
record built to break it in a hand-made list."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml

from cimlib import Catalog
from standards_checks import RULES, run_checks

PRJ = ["PRJ-001", "PRJ-002", "PRJ-003", "PRJ-004", "PRJ-005"]


# ------------------------------------------------------------------------------------- the sample city's truth

@pytest.fixture(scope="module", params=[7, 11], ids=lambda s: f"seed{s}")
def city_findings(request, sample_cities):
    city = sample_cities.city(request.param)
    truth = pd.read_csv(city / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    return sample_cities.findings(request.param), truth[truth.dataset == "projects"]


def test_each_rule_finds_exactly_the_injected_records(city_findings):
    findings, truth = city_findings
    got = findings[findings.dataset == "projects"]
    assert set(truth.rule_id) == set(PRJ)   # a few of each rule were injected
    for rule_id in PRJ:
        expected = set(truth.loc[truth.rule_id == rule_id, "record_id"])
        found = set(got.loc[got.rule_id == rule_id, "record_id"])
        assert found == expected, f"{rule_id}: false positives {sorted(found - expected)}, misses {sorted(expected - found)}"
        assert 2 <= len(expected) <= 6, rule_id
    # nothing else: no structural, geometry or field-table finding on the project list
    assert set(got.rule_id) <= set(PRJ), got[~got.rule_id.isin(PRJ)][["rule_id", "record_id", "message"]]


def test_rules_are_registered_with_clause_and_field_names():
    for rule_id in PRJ:
        r = RULES[rule_id]
        assert r.schema == "projects" and r.severity == "error" and r.standard
        assert any(f in r.message for f in ("project_code", "approval_date", "building_area_m2", "digital_pilot")), rule_id
    assert RULES["PRJ-001"].provisional


# ------------------------------------------------------------------------------------- hand-made project lists

def _admin() -> gpd.GeoDataFrame:
    x0, y0 = 113.36, 31.70
    rows = [("421303", "曾都区", "区", "421300", shapely.box(x0, y0, x0 + 0.02, y0 + 0.02)),
            ("421303001", "西城街道", "街道", "421303", shapely.box(x0, y0, x0 + 0.02, y0 + 0.02)),
            ("421303001001", "甲社区", "社区", "421303001", shapely.box(x0, y0, x0 + 0.02, y0 + 0.02))]
    return gpd.GeoDataFrame(rows, columns=["area_code", "name", "level", "parent_code", "geometry"], crs=4490)


def _projects(n: int = 4, **columns) -> gpd.GeoDataFrame:
    base = {"project_id": [f"P{i}" for i in range(n)],
            "project_code": [f"2021-421303-47-03-{i:06d}" for i in range(n)],
            "name": [f"项目{i}" for i in range(n)], "project_type": ["房屋建筑"] * n,
            "building_area_m2": [1000.0 * (i + 1) for i in range(n)],
            "digital_pilot": ["是"] * n, "digital_construction": ["否"] * n, "integrated": ["否"] * n,
            "approval_date": ["2021-03-01"] * n, "start_date": ["2021-05-01"] * n, "completion_date": [None] * n,
            "street_code": ["421303001"] * n, "community_code": ["421303001001"] * n}
    base.update(columns)
    return gpd.GeoDataFrame(base, geometry=[shapely.Point(113.37, 31.71)] * n, crs=4490)


def _catalog(tmp_path: Path, projects: gpd.GeoDataFrame, *, city_code="421303", admin=True) -> Catalog:
    meta = {"title_zh": "测试", "owner": "测试部门", "classification": "内部", "update_cycle": "每月", "crs": "EPSG:4490",
            "format": "geoparquet"}
    entries = []
    projects.to_parquet(tmp_path / "projects.parquet", index=False)
    entries.append({"name": "projects", **meta, "layer": "公共专题", "path": "projects.parquet", "id_column": "project_id",
                    "schema": "projects"})
    if admin:
        _admin().to_parquet(tmp_path / "admin.parquet", index=False)
        entries.append({"name": "admin_areas", **meta, "layer": "时空基础", "path": "admin.parquet", "id_column": "area_code",
                        "schema": "admin_areas"})
    doc = {"version": 1, "entries": entries}
    if city_code:
        doc["city_code"] = city_code
    (tmp_path / "data_catalog.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return Catalog.load(tmp_path / "data_catalog.yaml")


def _failing(result, rule_id) -> set:
    f = result.findings
    return set(f.loc[(f.dataset == "projects") & (f.rule_id == rule_id), "record_id"])


def test_a_clean_list_passes(tmp_path):
    r = run_checks(_catalog(tmp_path, _projects()), ["projects"])
    assert r.findings.empty, r.findings[["rule_id", "record_id", "message"]]
    assert set(r.summary.rule_id) >= set(PRJ)


def test_code_format_and_division(tmp_path):
    codes = ["2021-421303-47-03-000001",      # the county
             "2021-421300-47-03-000002",      # its city
             "2021421303-47-03-0000003",      # a dash misplaced: PRJ-001 only
             "2021-420106-47-03-000004",      # 武昌区: outside
             "2021-421399-47-03-000005"]      # no such division
    r = run_checks(_catalog(tmp_path, _projects(5, project_code=codes)), ["projects"])
    assert _failing(r, "PRJ-001") == {"P2"}
    assert _failing(r, "PRJ-002") == {"P3", "P4"}


def test_division_without_city_code_uses_the_admin_layer(tmp_path):
    codes = ["2021-421303-47-03-000001", "2021-420106-47-03-000002"]
    r = run_checks(_catalog(tmp_path, _projects(2, project_code=codes), city_code=None), ["projects"])
    assert _failing(r, "PRJ-002") == {"P1"}


def test_division_without_any_scope_is_reported_not_guessed(tmp_path):
    r = run_checks(_catalog(tmp_path, _projects(2), city_code=None, admin=False), ["projects"])
    f = r.findings
    assert "PRJ-002" not in set(f.rule_id)
    assert (f.rule_id == "SYS-006").any() and f.loc[f.rule_id == "SYS-006", "message"].str.contains("PRJ-002").any()


def test_dates(tmp_path):
    p = _projects(6, approval_date=["2021-03-01", "2021-03-01", "2021-03-01", "2021-02-30", "2021年3月1日", "2021-03-01"],
                  start_date=["2021-05-01", "2021-02-01", "2021-05-01", "2021-05-01", "2021/5/1", None],
                  completion_date=[None, None, "2021-04-01", None, "20220101", "2021-01-01"])
    r = run_checks(_catalog(tmp_path, p), ["projects"])
    # P1 starts before approval, P2 completes before it starts, P3's approval is not a date, P5 completes before
    # approval (no start); P4's Chinese and compact forms read
    assert _failing(r, "PRJ-003") == {"P1", "P2", "P3", "P5"}


def test_an_empty_approval_date_is_a_missing_value_not_a_date_error(tmp_path):
    r = run_checks(_catalog(tmp_path, _projects(2, approval_date=["2021-03-01", None])), ["projects"])
    f = r.findings
    assert set(zip(f.rule_id, f.record_id)) == {("SYS-004", "P1")}


def test_dates_as_date_values(tmp_path):
    p = _projects(2, approval_date=pd.to_datetime(["2021-03-01", "2021-06-01"]),
                  start_date=pd.to_datetime(["2021-05-01", "2021-05-01"]), completion_date=pd.to_datetime([None, None]))
    r = run_checks(_catalog(tmp_path, p), ["projects"])
    assert _failing(r, "PRJ-003") == {"P1"}
    assert not (r.findings.rule_id == "SYS-003").any()


def test_area(tmp_path):
    p = _projects(5, project_type=["房屋建筑", "房屋建筑", "市政基础设施", "市政基础设施", "房屋建筑"],
                  building_area_m2=[0.0, -5.0, 0.0, -1.0, None])
    r = run_checks(_catalog(tmp_path, p), ["projects"])
    assert _failing(r, "PRJ-004") == {"P0", "P1", "P3", "P4"}   # a 市政 project may have no building area (P2)


def test_flags(tmp_path):
    p = _projects(4, digital_pilot=["是", "待定", "1", "true"], digital_construction=["否", "否", None, "FALSE"],
                  integrated=["否", "否", "否", "0"])
    r = run_checks(_catalog(tmp_path, p), ["projects"])
    assert _failing(r, "PRJ-005") == {"P1", "P2"}
    p = _projects(2, digital_pilot=[True, False], digital_construction=[1, 0], integrated=[0, 1])
    r = run_checks(_catalog(tmp_path, p), ["projects"])
    assert _failing(r, "PRJ-005") == set() and r.findings.empty


def test_an_unknown_type_and_missing_fields_are_structural(tmp_path):
    p = _projects(2, project_type=["房屋建筑", "桥梁"]).drop(columns=["integrated", "approval_date"])
    r = run_checks(_catalog(tmp_path, p), ["projects"])
    f = r.findings
    assert set(f.loc[f.rule_id == "SYS-002", "column"]) == {"integrated", "approval_date"}
    assert set(f.loc[f.rule_id == "SYS-003", "record_id"]) == {"P1"}
    assert not f.rule_id.isin(["PRJ-003", "PRJ-005"]).any()   # what is missing is SYS-002's, not a date or flag error
