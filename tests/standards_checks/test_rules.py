"""Rules on small hand-made datasets: each fires on exactly the record built to break it; bad data never crashes."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml
from click.testing import CliRunner

from cimlib import Catalog
from cimlib.cli import main
from standards_checks import run_checks

META = {"title_zh": "测试", "owner": "测试部门", "classification": "内部", "update_cycle": "每月"}


def _catalog(tmp_path: Path, entries: dict) -> Catalog:
    """entries: name -> (frame, schema, id_column); spatial frames go to GeoParquet, others to Parquet."""
    docs = []
    for name, (frame, schema, id_col) in entries.items():
        path = tmp_path / f"{name}.parquet"
        spatial = isinstance(frame, gpd.GeoDataFrame)
        frame.to_parquet(path, index=False)
        e = {"name": name, **META, "layer": "时空基础" if spatial else "公共专题",
             "format": "geoparquet" if spatial else "parquet", "path": path.name, "id_column": id_col, "schema": schema}
        if spatial:
            e["crs"] = "EPSG:4490"
        docs.append(e)
    cat = tmp_path / "data_catalog.yaml"
    cat.write_text(yaml.safe_dump({"version": 1, "entries": docs}, allow_unicode=True), encoding="utf-8")
    return Catalog.load(cat)


def _admin(gap=False, overlap=False, bad_code=False, bad_parent=False) -> gpd.GeoDataFrame:
    """County 421303 as a 0.02° square split into two streets, each split into two communities."""
    x0, y0 = 113.36, 31.70
    county = shapely.box(x0, y0, x0 + 0.02, y0 + 0.02)
    s1, s2 = shapely.box(x0, y0, x0 + 0.01, y0 + 0.02), shapely.box(x0 + 0.01, y0, x0 + 0.02, y0 + 0.02)
    c = [shapely.box(x0, y0, x0 + 0.01, y0 + 0.01), shapely.box(x0, y0 + 0.01, x0 + 0.01, y0 + 0.02),
         shapely.box(x0 + 0.01, y0, x0 + 0.02, y0 + 0.01), shapely.box(x0 + 0.01, y0 + 0.01, x0 + 0.02, y0 + 0.02)]
    if gap:
        c[3] = shapely.box(x0 + 0.01, y0 + 0.011, x0 + 0.02, y0 + 0.02)  # a 0.001° strip (~100 m) uncovered
    if overlap:
        c[1] = shapely.box(x0, y0 + 0.009, x0 + 0.01, y0 + 0.02)
    rows = [("421303", "曾都区", "区", "421300", county), ("421303001", "西城街道", "街道", "421303", s1),
            ("421303002", "东城街道", "街道", "421303", s2)]
    codes = ["421303001001", "421303001002", "421303002001", "421303002002"]
    if bad_code:
        codes[2] = "421303998001"
    parents = [c_[:9] for c_ in codes]
    if bad_parent:
        parents[0] = "421303002"
    rows += [(codes[i], f"社区{i}", "社区", parents[i], c[i]) for i in range(4)]
    return gpd.GeoDataFrame(rows, columns=["area_code", "name", "level", "parent_code", "geometry"], crs=4490)


def _failing(result, rule_id):
    f = result.findings
    return set(f.loc[f.rule_id == rule_id, "record_id"])


def test_clean_admin_partition_passes(tmp_path):
    r = run_checks(_catalog(tmp_path, {"admin_areas": (_admin(), "admin_areas", "area_code")}))
    assert r.findings.empty
    assert set(r.summary.rule_id) >= {"ADM-001", "ADM-002", "ADM-003", "ADM-004", "GEO-001"}


@pytest.mark.parametrize("kwargs, rule_id, expected", [
    ({"gap": True}, "ADM-004", {"421303002"}),
    ({"overlap": True}, "ADM-003", {"421303001001", "421303001002"}),
    ({"bad_code": True}, "ADM-001", {"421303998001"}),
    ({"bad_parent": True}, "ADM-002", {"421303001001"}),
])
def test_admin_rule_fires_on_the_broken_record(tmp_path, kwargs, rule_id, expected):
    r = run_checks(_catalog(tmp_path, {"admin_areas": (_admin(**kwargs), "admin_areas", "area_code")}))
    assert _failing(r, rule_id) == expected


def _persons(n=4) -> pd.DataFrame:
    from cimlib.codes.ids import ric_check_char

    body = [f"42130319900101{i:03d}" for i in range(n)]
    return pd.DataFrame({"person_id": [f"P{i}" for i in range(n)],
                         "id_number": [b + ric_check_char([b])[0] for b in body],
                         "name": ["张三", "李四", "王五", "赵六"][:n], "phone": ["13800000000"] * n,
                         "address_id": [None] * n})


def test_missing_columns_and_wrong_dtypes_become_findings_and_others_still_run(tmp_path):
    persons = _persons().drop(columns=["id_number"])
    persons["phone"] = [13800000000 + i for i in range(4)]  # numbers, not text
    r = run_checks(_catalog(tmp_path, {"persons": (persons, "persons", "person_id"),
                                       "admin_areas": (_admin(), "admin_areas", "area_code")}))
    f = r.findings
    sys2 = f[(f.dataset == "persons") & (f.rule_id == "SYS-002")]
    assert set(sys2.column) == {"id_number"}
    assert set(f.loc[(f.dataset == "persons") & (f.rule_id == "SYS-003"), "column"]) == {"phone"}
    assert not (f.dataset == "admin_areas").any()  # the other dataset was checked, and is clean
    assert "admin_areas" in set(r.summary.dataset)
    # the link rule still ran on what is there: no addresses dataset -> reported, not crashed
    assert (f.rule_id == "SYS-006").any()


def test_unreadable_file_is_a_finding(tmp_path):
    cat = _catalog(tmp_path, {"persons": (_persons(), "persons", "person_id"),
                              "admin_areas": (_admin(), "admin_areas", "area_code")})
    p = tmp_path / "persons.parquet"
    p.write_bytes(p.read_bytes()[:100])  # truncated
    r = run_checks(cat)
    f = r.findings
    assert list(f.loc[f.dataset == "persons", "rule_id"]) == ["SYS-001"]
    assert "persons.parquet" in f.loc[f.dataset == "persons", "message"].iloc[0]
    assert not (f.dataset == "admin_areas").any()


def test_personal_values_are_masked(tmp_path):
    persons = _persons()
    persons.loc[1, "id_number"] = persons.loc[1, "id_number"][:17] + ("0" if persons.loc[1, "id_number"][17] != "0" else "1")
    persons.loc[2, "phone"] = "1380000"
    r = run_checks(_catalog(tmp_path, {"persons": (persons, "persons", "person_id")}))
    f = r.findings.set_index("rule_id")
    assert f.loc["PER-001", "value"] == persons.loc[1, "id_number"][:6] + "*" * 8 + persons.loc[1, "id_number"][-4:]
    assert f.loc["PER-004", "value"] == "138****0000"
    raw = run_checks(_catalog(tmp_path, {"persons": (persons, "persons", "person_id")}), masked=False).findings
    assert persons.loc[1, "id_number"] in set(raw.value)


def test_cim_check_writes_outputs_and_fail_on(tmp_path):
    _catalog(tmp_path, {"persons": (_persons(), "persons", "person_id")})
    cat = str(tmp_path / "data_catalog.yaml")
    runner = CliRunner()
    ok = runner.invoke(main, ["check", "--catalog", cat, "--out", str(tmp_path / "out"), "--quiet"])
    assert ok.exit_code == 0, ok.output  # findings exist (addresses missing), but no --fail-on
    for name in ("findings.parquet", "findings.csv", "summary.csv"):
        assert (tmp_path / "out" / name).exists()
    assert (tmp_path / "out" / "findings.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    failing = runner.invoke(main, ["check", "--catalog", cat, "--out", str(tmp_path / "o2"), "--quiet", "--fail-on", "warning"])
    assert failing.exit_code == 1
    unknown = runner.invoke(main, ["check", "--catalog", cat, "--dataset", "nope", "--out", str(tmp_path / "o3")])
    assert unknown.exit_code != 0 and "nope" in unknown.output


@pytest.mark.parametrize("name, schema, frame, rule_id, expected", [
    ("roads", "roads", gpd.GeoDataFrame({"road_id": ["R1", "R2"], "width_m": [24.0, 0.5]},
                                        geometry=[shapely.LineString([(113.3, 31.7), (113.31, 31.7)])] * 2, crs=4490),
     "ROD-001", {"R2"}),
    ("control_lines", "control_lines", gpd.GeoDataFrame({"line_id": ["K1", "K2"], "line_type": ["绿线", "橙线"]},
                                                        geometry=[shapely.box(113.3, 31.7, 113.31, 31.71)] * 2, crs=4490),
     "CTL-001", {"K2"}),
    ("tasks", "tasks", pd.DataFrame({"task_id": ["T1", "T2", "T3"], "task_name": ["a", "b", "c"], "department": ["d"] * 3,
                                     "deadline": pd.to_datetime(["2024-06-30", None, "2024-09-30"]),
                                     "status": ["已完成", "进行中", "搁置"],
                                     "completed_date": pd.to_datetime(["2024-06-01", None, None])}), "TSK-001", {"T3"}),
    ("tasks", "tasks", pd.DataFrame({"task_id": ["T1", "T2"], "task_name": ["a", "b"], "department": ["d"] * 2,
                                     "deadline": pd.to_datetime(["2024-06-30", None]), "status": ["进行中", "进行中"],
                                     "completed_date": pd.to_datetime([None, None])}), "TSK-002", {"T2"}),
    ("tasks", "tasks", pd.DataFrame({"task_id": ["T1", "T2"], "task_name": ["a", "b"], "department": ["d"] * 2,
                                     "deadline": pd.to_datetime(["2024-06-30"] * 2), "status": ["已完成", "进行中"],
                                     "completed_date": pd.to_datetime([None, "2024-05-01"])}), "TSK-003", {"T1", "T2"}),
    ("address_pipeline", "address_pipeline", pd.DataFrame({
        "step_id": ["A-1-1", "A-2-1", "A-3-1"], "address_id": ["A"] * 3, "stage": ["自规提名", "住建审核", "民政确认"],
        "attempt": [1, 1, 1], "submitted_at": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-05"]),
        "completed_at": pd.to_datetime(["2024-03-02", "2024-03-03", "2024-03-04"]), "result": ["通过", "通过", "搁置"]}),
     "PIP-001", {"A-2-1"}),
])
def test_planning_and_work_rules(tmp_path, name, schema, frame, rule_id, expected):
    r = run_checks(_catalog(tmp_path, {name: (frame, schema, frame.columns[0])}))
    assert _failing(r, rule_id) == expected


def test_pipeline_result_and_time_order(tmp_path):
    frame = pd.DataFrame({"step_id": ["A-1-1", "A-2-1"], "address_id": ["A"] * 2, "stage": ["自规提名", "住建加工"],
                          "attempt": [1, 1], "submitted_at": pd.to_datetime(["2024-03-01", "2024-03-05"]),
                          "completed_at": pd.to_datetime(["2024-03-02", "2024-03-04"]), "result": ["通过", "搁置"]})
    r = run_checks(_catalog(tmp_path, {"address_pipeline": (frame, "address_pipeline", "step_id")}))
    assert _failing(r, "PIP-002") == {"A-2-1"} and _failing(r, "PIP-003") == {"A-2-1"}


def test_a_building_code_naming_two_buildings_across_datasets(tmp_path):
    b = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "building_code": ["C1", "C2"], "floors": [3, 3],
                          "height": [10.0, 10.0], "community_code": [None, None]},
                         geometry=[shapely.box(113.30, 31.70, 113.3001, 31.7001), shapely.box(113.31, 31.70, 113.3101, 31.7001)],
                         crs=4490)
    h = pd.DataFrame({"house_id": ["H1", "H2", "H3"], "house_code": [None] * 3, "bdcdyh": [None] * 3,
                      "building_id": ["B1", "B2", "B9"], "building_code": ["C1", "C1", "C2"]})  # H2 says C1 for B2
    r = run_checks(_catalog(tmp_path, {"buildings": (b, "buildings", "building_id"), "houses": (h, "houses", "house_id")}))
    assert _failing(r, "HSE-007") == {"H1", "H2"}   # H3's building does not exist: that is HSE-004's business
    assert _failing(r, "BLD-007") == {"B1"}          # the building record whose code is ambiguous
    assert _failing(r, "HSE-006") == {"H2"}         # 制码用码一致: the house's copy disagrees with the building's


def test_rules_document_is_current():
    from standards_checks.rules_doc import render

    doc = (Path(__file__).resolve().parents[2] / "docs" / "checks.md").read_text(encoding="utf-8")
    assert doc == render(), "docs/checks.md is stale: run python -m standards_checks.rules_doc > docs/checks.md"


def test_unmasked_is_refused_outside_a_terminal(tmp_path):
    _catalog(tmp_path, {"persons": (_persons(), "persons", "person_id")})
    res = CliRunner().invoke(main, ["check", "--catalog", str(tmp_path / "data_catalog.yaml"), "--out",
                                    str(tmp_path / "out"), "--quiet", "--unmasked"])
    assert res.exit_code == 2 and "交互会话" in res.output
    assert not (tmp_path / "out").exists()


def test_unmasked_shows_raw_values_on_the_terminal_only(tmp_path, monkeypatch):
    persons = _persons()
    bad = persons.loc[1, "id_number"][:17] + ("0" if persons.loc[1, "id_number"][17] != "0" else "1")
    persons.loc[1, "id_number"] = bad
    _catalog(tmp_path, {"persons": (persons, "persons", "person_id")})
    monkeypatch.setattr("cimlib.cli._interactive", lambda: True)  # as in an analyst's terminal
    res = CliRunner().invoke(main, ["check", "--catalog", str(tmp_path / "data_catalog.yaml"), "--out",
                                    str(tmp_path / "out"), "--quiet", "--unmasked"])
    assert res.exit_code == 0, res.output
    assert f"id_number={bad}" in res.output
    for name in ("findings.csv", "summary.csv"):
        assert bad not in (tmp_path / "out" / name).read_text(encoding="utf-8-sig")
    assert bad not in pd.read_parquet(tmp_path / "out" / "findings.parquet").astype(str).to_string()


def test_the_report_command_has_no_unmasked_switch():
    import inspect

    from cimlib.reports import runner
    from cimlib.reports.context import ReportContext

    res = CliRunner().invoke(main, ["report", "acceptance", "--as-of", "2024-09-30", "--unmasked"])
    assert res.exit_code == 2 and "--unmasked" in res.output
    for fn in (runner.run_report, ReportContext.__init__):
        assert not {"masked", "unmasked"} & set(inspect.signature(fn).parameters)
    reports = Path(runner.__file__).parent
    assert not [p for p in reports.glob("*.py") if "masked=False" in p.read_text(encoding="utf-8")]
