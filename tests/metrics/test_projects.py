"""工程建设项目 metrics: equal to the generator's facts (every December 2019–2023 incl. 2021-12, every month of
2024), areas sum up, unusable records are left out and counted; semantics on a hand-made list."""

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from cimlib import Catalog
from cimlib.catalog import CatalogError
from cimlib.metrics import METRICS, METRICS_COLUMNS, PROJECT_METRICS, project_inputs, project_metrics, project_periods
from cimlib.metrics._areas import Areas
from cimlib.metrics.projects import read_projects

UNUSABLE = {"unreadable_date", "negative_area", "unreadable_flag"}


@pytest.fixture(scope="module", params=[7, 11], ids=lambda s: f"seed{s}")
def city(request, sample_cities):
    root = sample_cities.city(request.param)
    facts = json.loads((root / "truth" / "facts.json").read_text(encoding="utf-8"))["projects"]
    cat = Catalog.load(root / "data_catalog.yaml")
    periods = sorted(facts["by_period"])
    return root, cat, facts, project_metrics(cat, periods)


def test_the_periods_include_2021_12():
    from cimlib.demo._projects import FACT_PERIODS

    assert "2021-12" in FACT_PERIODS and "2019-12" in FACT_PERIODS and "2024-09" in FACT_PERIODS


def test_county_values_equal_the_facts(city):
    _, _, facts, m = city
    county = m[m.area_level == "county"].set_index(["metric_id", "period"])
    assert set(county.index.get_level_values("period")) == set(facts["by_period"])
    for period, f in facts["by_period"].items():
        row = county.loc[("digital_construction_pilots", period)]
        assert (row.numerator, row.denominator, row.value) == (f["pilots"], f["approved"], f["pilots"])
        row = county.loc[("integrated_project_area", period)]
        assert row.numerator == pytest.approx(f["integrated_area_m2"] / 1e4, rel=1e-12, abs=1e-9)
        assert row.denominator == pytest.approx(f["building_area_m2"] / 1e4, rel=1e-12, abs=1e-9)
        assert row.value == row.numerator and row.unit == "万平方米"
        row = county.loc[("digital_construction_share", period)]
        assert (row.numerator, row.denominator) == (f["year_digital"], f["year_projects"])
        if f["year_projects"]:
            assert row.value == pytest.approx(f["year_digital"] / f["year_projects"])
        else:   # no project approved yet this year (e.g. 2024-01 of a small city): no share
            assert np.isnan(row.value)
        row = county.loc[("integrated_project_share", period)]
        assert row.numerator == pytest.approx(f["year_integrated_area_m2"] / 1e4, rel=1e-12, abs=1e-9)
        assert row.denominator == pytest.approx(f["year_building_area_m2"] / 1e4, rel=1e-12, abs=1e-9)
        if f["year_building_area_m2"]:
            assert row.value == pytest.approx(f["year_integrated_area_m2"] / f["year_building_area_m2"], rel=1e-9)
        else:
            assert np.isnan(row.value)
    # cumulative counts never fall; the 2021 targets have their month
    pilots = county.loc["digital_construction_pilots"].sort_index()
    assert pilots.numerator.is_monotonic_increasing and "2021-12" in pilots.index
    assert pilots.loc["2024-09", "denominator"] == facts["count"] - len(facts["excluded"])


def test_streets_and_communities_sum_up(city):
    root, cat, facts, m = city
    areas = Areas(cat.read("admin_areas"))
    for (metric_id, period), g in m.groupby(["metric_id", "period"]):
        county = g[g.area_level == "county"]
        streets = g[g.area_level == "street"]
        comms = g[g.area_level == "community"]
        assert len(county) == 1
        for col in ("numerator", "denominator"):
            assert streets[col].sum() == pytest.approx(county[col].iloc[0], rel=1e-12, abs=1e-9)
            assert comms[col].sum() == pytest.approx(county[col].iloc[0], rel=1e-12, abs=1e-9)
        by_street = comms.groupby(areas.street_of_bucket(pd.Index(comms.area_code)))[["numerator", "denominator"]].sum()
        s = streets.set_index("area_code")
        assert np.allclose(by_street.reindex(s.index).fillna(0).to_numpy(), s[["numerator", "denominator"]].to_numpy())
    last = m[(m.metric_id == "digital_construction_pilots") & (m.period == "2024-09") & (m.area_level == "street")]
    got = {k: v for k, v in zip(last.area_code, last.denominator) if v}
    assert got == facts["approved_by_street"]
    assert set(m.area_code[m.area_level == "street"]) == set(areas.all_streets())   # every street, also with none


def test_unusable_records_are_left_out_and_counted(city):
    root, cat, facts, m = city
    truth = pd.read_csv(root / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    t = truth[truth.dataset == "projects"]
    unusable = set(t.loc[t.defect.isin(UNUSABLE), "record_id"])
    assert unusable and set(facts["excluded"]) == unusable
    assert set(m.attrs["excluded_records"]) == unusable
    assert m.attrs["excluded"]["total"] == len(unusable)
    rec = read_projects(cat)
    rule = dict(zip(rec.excluded.record_id, rec.excluded.rule_id))
    want = dict(zip(t.record_id, t.rule_id))
    assert rule == {r: want[r] for r in unusable}      # each left out by the rule its defect triggers
    assert m.attrs["excluded"] == {**pd.Series(list(rule.values())).value_counts().to_dict(), "total": len(rule)}
    # the other injected records are counted as they are (a 房屋建筑 with area 0, dates out of order, bad codes)
    kept = set(t.record_id) - unusable
    assert kept and kept <= set(rec.frame.record_id)
    assert len(rec.frame) + len(rec.excluded) == facts["count"]


def test_table_format_units_and_fingerprint(city):
    root, cat, facts, m = city
    assert list(m.columns) == METRICS_COLUMNS
    assert set(m.metric_id) == set(PROJECT_METRICS) and set(m.dataset) == {"projects"}
    assert set(m.area_level) == {"county", "street", "community"}
    for metric_id in PROJECT_METRICS:
        assert set(m.loc[m.metric_id == metric_id, "unit"]) == {METRICS[metric_id].unit}
        assert set(m.loc[m.metric_id == metric_id, "name_zh"]) == {METRICS[metric_id].name_zh}
    counts = m[m.metric_id.isin(["digital_construction_pilots", "integrated_project_area"])]
    assert (counts.value == counts.numerator).all()
    h = hashlib.sha256()
    for rel in sorted(["data/admin.gpkg", "data/projects.parquet"]):
        h.update(f"{rel}\0{hashlib.sha256((root / rel).read_bytes()).hexdigest()}\n".encode())
    assert set(m.inputs_sha256) == {h.hexdigest()}
    assert m.attrs["inputs"] == project_inputs(cat) and set(m.attrs["inputs"]) == {"data/admin.gpkg", "data/projects.parquet"}
    assert m.area_name[m.area_level == "county"].iloc[0] == "曾都区"


def test_project_periods(city):
    _, cat, facts, _ = city
    months = [f"2024-{k:02d}" for k in range(1, 10)]
    got = project_periods(cat, months)
    assert got == [f"{y}-12" for y in range(2019, 2024)] + months
    assert project_periods(cat, ["2024-03"], until="2022-06") == ["2019-12", "2020-12", "2021-12", "2024-03"]
    latest = str(read_projects(cat).frame.approval.max())[:7]
    assert project_periods(cat) == sorted(set(got[:5]) | {latest})     # default: the Decembers and the latest month


# ------------------------------------------------------------------------------------- a hand-made list

def _catalog(tmp_path: Path, projects: gpd.GeoDataFrame | None) -> Catalog:
    x0, y0 = 113.36, 31.70
    admin = gpd.GeoDataFrame(
        [("421303", "曾都区", "区", None, shapely.box(x0, y0, x0 + 0.02, y0 + 0.02)),
         ("421303001", "西城街道", "街道", "421303", shapely.box(x0, y0, x0 + 0.01, y0 + 0.02)),
         ("421303002", "东城街道", "街道", "421303", shapely.box(x0 + 0.01, y0, x0 + 0.02, y0 + 0.02)),
         ("421303001001", "甲社区", "社区", "421303001", shapely.box(x0, y0, x0 + 0.01, y0 + 0.02)),
         ("421303002001", "乙社区", "社区", "421303002", shapely.box(x0 + 0.01, y0, x0 + 0.02, y0 + 0.02))],
        columns=["area_code", "name", "level", "parent_code", "geometry"], crs=4490)
    meta = {"title_zh": "测试", "owner": "测试部门", "classification": "内部", "update_cycle": "每月", "crs": "EPSG:4490",
            "format": "geoparquet"}
    admin.to_parquet(tmp_path / "admin.parquet", index=False)
    entries = [{"name": "admin_areas", **meta, "layer": "时空基础", "path": "admin.parquet", "id_column": "area_code",
                "schema": "admin_areas"}]
    if projects is not None:
        projects.to_parquet(tmp_path / "projects.parquet", index=False)
        entries.append({"name": "xm", **meta, "layer": "公共专题", "path": "projects.parquet", "id_column": "project_id",
                        "schema": "projects"})
    doc = {"version": 1, "city_code": "421303", "entries": entries}
    (tmp_path / "data_catalog.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return Catalog.load(tmp_path / "data_catalog.yaml")


def _list() -> gpd.GeoDataFrame:
    rows = [  # id, type, area, pilot, digital, integrated, approval, street, community
        ("A", "房屋建筑", 20_000.0, "是", "是", "是", "2020-05-01", "421303001", "421303001001"),
        ("B", "房屋建筑", 10_000.0, "否", "否", "否", "2021-12-31", "421303001", "421303001001"),
        ("C", "市政基础设施", 0.0, "1", "true", "0", "2021-01-01", "421303002", "421303002001"),
        ("D", "房屋建筑", 30_000.0, "否", "是", "是", "2022-01-01", "421303002", None),        # community unknown
        ("E", "房屋建筑", 5_000.0, "待定", "否", "否", "2021-06-01", "421303002", "421303002001"),  # unusable flag
        ("F", "房屋建筑", -1.0, "否", "否", "否", "2021-06-01", "421303002", "421303002001"),       # negative area
        ("G", "交通", 0.0, "否", "否", "否", "2021-13-01", "421303001", "421303001001"),           # not a date
        ("H", "房屋建筑", 0.0, "否", "否", "是", "2021-07-01", "421303001", "421303001001"),        # area 0: counted
    ]
    df = pd.DataFrame(rows, columns=["project_id", "project_type", "building_area_m2", "digital_pilot",
                                     "digital_construction", "integrated", "approval_date", "street_code", "community_code"])
    df["project_code"] = [f"2021-421303-47-03-{i:06d}" for i in range(len(df))]
    df["name"], df["start_date"] = "项目", None
    return gpd.GeoDataFrame(df, geometry=[shapely.Point(113.365, 31.71)] * len(df), crs=4490)


def test_hand_made_semantics(tmp_path):
    m = project_metrics(_catalog(tmp_path, _list()), ["2019-12", "2021-12", "2022-01"])
    c = m[m.area_level == "county"].set_index(["metric_id", "period"])
    # 2021-12: approved by its last day A, B (2021-12-31), C, H; E, F, G left out
    assert tuple(c.loc[("digital_construction_pilots", "2021-12"), ["numerator", "denominator", "value"]]) == (2, 4, 2)
    assert tuple(c.loc[("integrated_project_area", "2021-12"), ["numerator", "denominator"]]) == (2.0, 3.0)
    assert tuple(c.loc[("digital_construction_share", "2021-12"), ["numerator", "denominator"]]) == (1, 3)
    assert tuple(c.loc[("integrated_project_share", "2021-12"), ["numerator", "denominator", "value"]]) == (0, 1.0, 0)
    # 2022-01: a new year; D approved on its first day
    assert tuple(c.loc[("digital_construction_share", "2022-01"), ["numerator", "denominator", "value"]]) == (1, 1, 1)
    assert c.loc[("integrated_project_share", "2022-01"), "value"] == 1.0
    # before any approval: zero counts, no share
    assert c.loc[("digital_construction_pilots", "2019-12"), "value"] == 0
    assert np.isnan(c.loc[("digital_construction_share", "2019-12"), "value"])
    assert m.attrs["excluded"] == {"PRJ-003": 1, "PRJ-004": 1, "PRJ-005": 1, "total": 3}
    assert m.attrs["excluded_records"] == ("E", "F", "G")
    unk = m[(m.area_code == "421303002-UNK") & (m.period == "2022-01") & (m.metric_id == "digital_construction_pilots")]
    assert unk.denominator.iloc[0] == 1 and set(m.dataset) == {"xm"}


def test_areas_argument_and_errors(tmp_path):
    cat = _catalog(tmp_path, _list())
    admin = cat.read("admin_areas")
    only = Areas(admin[admin.area_code != "421303002001"])   # a layer without 乙社区: its projects go to -UNK
    m = project_metrics(cat, ["2021-12"], areas=only)
    assert "421303002-UNK" in set(m.area_code) and "421303002001" not in set(m.area_code)
    with pytest.raises(ValueError, match="YYYY-MM"):
        project_metrics(cat, ["2021-13"])
    empty = tmp_path / "none"
    empty.mkdir()
    with pytest.raises(CatalogError, match="projects"):
        project_metrics(_catalog(empty, None), ["2021-12"])
