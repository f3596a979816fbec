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
