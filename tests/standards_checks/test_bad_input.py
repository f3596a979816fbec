"""Bad input as departments really send it: one test per case.

Each case writes one broken dataset beside an intact one (``admin_areas`` of the sample city) in a small catalog,
runs the standard checks, and asserts that the broken dataset becomes findings naming the file, record and rule,
that the intact dataset is still checked, and that no input file was written.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml

from cimlib.catalog import Catalog
from cimlib.demo import build_sample_city
from standards_checks import run_checks


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return build_sample_city(tmp_path_factory.mktemp("bad") / "city", seed=7, scale="small", progress=False).parent


def _entry(city_catalog: Catalog, name: str, path: Path, **change) -> dict:
    """The sample city's entry ``name`` rewritten to read ``path`` (with changed keys)."""
    e = city_catalog[name]
    doc = {"name": e.name, "title_zh": e.title_zh, "layer": e.layer, "format": e.format, "path": str(path),
           "schema": e.schema, "owner": e.owner, "classification": e.classification, "update_cycle": e.update_cycle}
    if e.crs:
        doc["crs"] = e.crs
    if e.id_column:
        doc["id_column"] = e.id_column
    if e.options:
        doc["options"] = dict(e.options)
    doc.update(change)
    return {k: v for k, v in doc.items() if v is not None}


def _sha(paths) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def run_case(city: Path, tmp_path: Path, broken: dict):
    """Checks on a catalog of the broken entry and the intact admin areas; inputs must stay byte-identical."""
    base = Catalog.load(city / "data_catalog.yaml")
    entries = [_entry(base, "admin_areas", base["admin_areas"].resolved_path), broken]
    path = tmp_path / "data_catalog.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "entries": entries}, allow_unicode=True), encoding="utf-8")
    inputs = [p for p in [*city.rglob("*"), *tmp_path.rglob("*")] if p.is_file() and p != path]
    before = _sha(inputs)
    result = run_checks(Catalog.load(path))
    assert _sha(inputs) == before, "an input file was written"
    admin = result.summary[result.summary["dataset"] == "admin_areas"]
    assert len(admin) > 5 and (admin["checked"] > 0).all(), "the intact dataset was not checked"
    return result.findings[result.findings["dataset"] == broken["name"]], result


def _only(findings: pd.DataFrame, rule_id: str) -> pd.DataFrame:
    got = findings[findings["rule_id"] == rule_id]
    assert len(got), f"no {rule_id} finding; found {sorted(set(findings['rule_id']))}"
    return got


# ------------------------------------------------------------------------------------------ encodings and sidecars


def test_gbk_csv_is_read_with_its_chinese_intact(city, tmp_path):
    base = Catalog.load(city / "data_catalog.yaml")
    utf8 = base.read("units")
    src = tmp_path / "units_gbk.csv"
    utf8.to_csv(src, index=False, encoding="gbk")
    findings, _ = run_case(city, tmp_path, _entry(base, "units", src))
    assert not findings["rule_id"].isin(["SYS-001", "SYS-007"]).any()
    got = Catalog.load(tmp_path / "data_catalog.yaml").read("units")
    assert list(got["name"]) == list(utf8["name"]) and got["name"].str.contains("公司").any()


def test_csv_declared_utf8_but_gbk_is_an_unreadable_finding(city, tmp_path):
    base = Catalog.load(city / "data_catalog.yaml")
    src = tmp_path / "units.csv"
    base.read("units").to_csv(src, index=False, encoding="gbk")
    options = {**base["units"].options, "encoding": "utf-8"}
    findings, _ = run_case(city, tmp_path, _entry(base, "units", src, options=options))
    text = _only(findings, "SYS-001")["message"].iloc[0]
    assert "units.csv" in text and "utf-8" in text.lower()


def _control_lines(city: Path, tmp_path: Path, *, encoding: str, drop: tuple[str, ...] = ()) -> tuple[dict, gpd.GeoDataFrame]:
    base = Catalog.load(city / "data_catalog.yaml")
    layer = base.read("control_lines")
    folder = tmp_path / "shp"
    folder.mkdir()
    layer.to_file(folder / "lines.shp", encoding=encoding, engine="pyogrio")
    for suffix in drop:
        (folder / f"lines{suffix}").unlink(missing_ok=True)
    return _entry(base, "control_lines", folder / "lines.shp"), layer


def test_gbk_dbf_without_cpg_is_decoded(city, tmp_path):
    broken, layer = _control_lines(city, tmp_path, encoding="gbk", drop=(".cpg",))
    findings, _ = run_case(city, tmp_path, broken)
    assert not findings["rule_id"].isin(["SYS-001"]).any()
    got = Catalog.load(tmp_path / "data_catalog.yaml").read("control_lines")
    assert list(got["name"]) == list(layer["name"])


def test_shapefile_without_prj_assumes_the_declared_crs_and_says_so(city, tmp_path):
    broken, _ = _control_lines(city, tmp_path, encoding="utf-8", drop=(".prj",))
    findings, _ = run_case(city, tmp_path, broken)
    text = _only(findings, "SYS-007")["message"].iloc[0]
    assert "lines.shp" in text and "EPSG:4490" in text and "没有坐标参考系" in text


def test_shapefile_without_cpg_reads_utf8(city, tmp_path):
    broken, layer = _control_lines(city, tmp_path, encoding="utf-8", drop=(".cpg",))
    findings, _ = run_case(city, tmp_path, broken)
    assert not findings["rule_id"].isin(["SYS-001"]).any()
    assert list(Catalog.load(tmp_path / "data_catalog.yaml").read("control_lines")["name"]) == list(layer["name"])


# ------------------------------------------------------------------------------------------ Excel


def _tasks_workbook(city: Path, tmp_path: Path, *, group_header: bool, merge_rows: bool) -> tuple[dict, pd.DataFrame]:
    import openpyxl

    base = Catalog.load(city / "data_catalog.yaml")
    tasks = base.read("tasks")
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = base["tasks"].options.get("sheet", "Sheet1")
    cols = list(tasks.columns)
    if group_header:  # 基本信息 over every column but the id, the id merged over both header rows
        ws.append([cols[0], "基本信息"] + [None] * (len(cols) - 2))
        ws.append([None] + cols[1:])
        ws.merge_cells(start_row=1, start_column=2, end_row=1, end_column=len(cols))
        ws.merge_cells(start_row=1, start_column=1, end_row=2, end_column=1)
    else:
        ws.append(cols)
    first = ws.max_row + 1
    for row in tasks.itertuples(index=False):
        ws.append([None if pd.isna(v) else (v.to_pydatetime() if hasattr(v, "to_pydatetime") else v) for v in row])
    if merge_rows:  # the department column merged over the first three tasks, as offices type it
        col = cols.index("department") + 1
        for r in (first + 1, first + 2):
            ws.cell(r, col).value = None
        ws.merge_cells(start_row=first, start_column=col, end_row=first + 2, end_column=col)
    path = tmp_path / "tasks.xlsx"
    book.save(path)
    return _entry(base, "tasks", path), tasks


def test_excel_two_row_header_is_detected_and_flattened(city, tmp_path):
    broken, tasks = _tasks_workbook(city, tmp_path, group_header=True, merge_rows=False)
    findings, _ = run_case(city, tmp_path, broken)
    text = _only(findings, "SYS-007")["message"].iloc[0]
    assert "tasks.xlsx" in text and "两行表头" in text and "options.header" in text
    got = Catalog.load(tmp_path / "data_catalog.yaml").read("tasks")
    assert got.columns[0] == "task_id" and len(got) == len(tasks) and f"基本信息_{tasks.columns[1]}" in got.columns
    missing = findings[findings["rule_id"] == "SYS-002"]
    assert len(missing) and missing["message"].str.contains("基本信息_").any()  # renamed columns: named, with the hint


def test_excel_merged_cells_are_filled_and_reported(city, tmp_path):
    broken, tasks = _tasks_workbook(city, tmp_path, group_header=False, merge_rows=True)
    findings, _ = run_case(city, tmp_path, broken)
    text = _only(findings, "SYS-007")["message"].iloc[0]
    assert "合并单元格" in text and "tasks.xlsx" in text
    got = Catalog.load(tmp_path / "data_catalog.yaml").read("tasks")
    assert list(got["department"].iloc[:3]) == [tasks["department"].iloc[0]] * 3


def test_excel_97_2003_xls_is_read(city, tmp_path):
    """An .xls workbook (fixture written with xlwt 1.3.0: three tasks, the third with an unknown status)."""
    src = Path(__file__).parent / "data" / "tasks_excel2003.xls"
    path = tmp_path / "任务清单.xls"
    shutil.copyfile(src, path)
    base = Catalog.load(city / "data_catalog.yaml")
    findings, _ = run_case(city, tmp_path, _entry(base, "tasks", path))
    assert list(_only(findings, "TSK-001")["record_id"]) == ["T003"]
    assert not findings["rule_id"].isin(["SYS-001", "SYS-003"]).any()
    got = Catalog.load(tmp_path / "data_catalog.yaml").read("tasks")
    assert list(got["department"]) == ["市公安局", "市住房和城乡建设局", "市自然资源和规划局"]
    assert str(got["deadline"].iloc[0].date()) == "2024-06-30"


# ------------------------------------------------------------------------------------------ geometry


def _buildings(city: Path, tmp_path: Path, change) -> tuple[dict, gpd.GeoDataFrame]:
    base = Catalog.load(city / "data_catalog.yaml")
    layer = base.read("buildings")
    layer = change(layer.copy())
    path = tmp_path / "buildings.parquet"
    layer.to_parquet(path)
    return _entry(base, "buildings", path), layer


@pytest.mark.parametrize("rule_id, geometry", [
    ("GEO-001", shapely.Polygon([(113.30, 31.30), (113.31, 31.31), (113.31, 31.30), (113.30, 31.31)])),  # bow-tie
    ("GEO-002", shapely.Polygon()),
    ("GEO-003", shapely.LineString([(113.30, 31.30), (113.31, 31.31)])),  # a line in a polygon layer
    ("GEO-006", shapely.Polygon([(113.30, 31.30, 5), (113.31, 31.30, 5), (113.31, 31.31, 5)])),  # 3D
], ids=["invalid", "empty", "mixed", "3d"])
def test_bad_geometry_is_a_finding_on_that_record(city, tmp_path, rule_id, geometry):
    def change(layer):
        layer.loc[layer.index[3], "geometry"] = geometry
        return layer

    broken, layer = _buildings(city, tmp_path, change)
    findings, _ = run_case(city, tmp_path, broken)
    assert layer["building_id"].iloc[3] in set(_only(findings, rule_id)["record_id"])


def test_projected_metres_declared_as_degrees(city, tmp_path):
    def change(layer):
        metres = layer.to_crs("EPSG:4547")  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
        return metres.set_crs("EPSG:4490", allow_override=True)

    broken, layer = _buildings(city, tmp_path, change)
    findings, _ = run_case(city, tmp_path, broken)
    got = _only(findings, "GEO-004")
    assert set(got["record_id"]) == set(layer["building_id"])
    assert "投影坐标" in got["message"].iloc[0]


def test_swapped_lon_lat(city, tmp_path):
    base = Catalog.load(city / "data_catalog.yaml")
    addresses = base.read("addresses")
    swapped = addresses.copy()
    swapped["geometry"] = shapely.transform(addresses.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    path = tmp_path / "addresses.parquet"
    swapped.to_parquet(path)
    findings, _ = run_case(city, tmp_path, _entry(base, "addresses", path))
    present = ~addresses.geometry.isna() & ~addresses.geometry.is_empty
    assert set(_only(findings, "GEO-004")["record_id"]) == set(addresses.loc[present, "address_id"])


def test_points_taken_from_an_internet_map_gcj02(city, tmp_path):
    from cimlib.geo import wgs84_to_gcj02

    base = Catalog.load(city / "data_catalog.yaml")
    addresses = base.read("addresses")
    buildings = base.read("buildings")
    linked = addresses["building_id"].isin(set(buildings["building_id"])) & (addresses.geometry.geom_type == "Point")
    linked &= addresses.geometry.distance(  # the sample city's points that lie at their building
        buildings.set_index("building_id").geometry.reindex(addresses["building_id"]).set_axis(addresses.index)) < 1e-4
    chosen = addresses.index[linked.to_numpy()][::7][:25]
    pts = addresses.geometry.loc[chosen]
    gx, gy = wgs84_to_gcj02(pts.x.to_numpy(), pts.y.to_numpy())
    shifted = addresses.copy()
    shifted.loc[chosen, "geometry"] = gpd.points_from_xy(gx, gy, crs=addresses.crs)
    path = tmp_path / "addresses.parquet"
    shifted.to_parquet(path)
    entries = [_entry(base, "buildings", base["buildings"].resolved_path), _entry(base, "addresses", path)]
    cat = tmp_path / "two.yaml"
    cat.write_text(yaml.safe_dump({"version": 1, "entries": entries}, allow_unicode=True), encoding="utf-8")
    before = run_checks(Catalog.load(city / "data_catalog.yaml"), ["addresses", "buildings"]).findings
    assert not (before["rule_id"] == "ADR-009").any()  # the sample city's own points are not flagged
    got = run_checks(Catalog.load(cat)).findings
    assert set(got.loc[got["rule_id"] == "ADR-009", "record_id"]) == set(addresses.loc[chosen, "address_id"])


def test_wrong_crs_in_the_file_is_a_crs_finding(city, tmp_path):
    broken, _ = _buildings(city, tmp_path, lambda layer: layer.to_crs("EPSG:3857"))
    findings, _ = run_case(city, tmp_path, broken)
    text = _only(findings, "GEO-005")["message"].iloc[0]
    assert "EPSG:3857" in text and "buildings.parquet" in text


# ------------------------------------------------------------------------------------------ columns and values


def _persons(city: Path, tmp_path: Path, change) -> tuple[dict, pd.DataFrame]:
    base = Catalog.load(city / "data_catalog.yaml")
    table = change(base.read("persons", period="2024-09").copy())
    path = tmp_path / "persons.parquet"
    table.to_parquet(path)
    entry = _entry(base, "persons", path)
    return entry, table


def test_missing_column_names_it_and_a_renamed_one(city, tmp_path):
    broken, _ = _persons(city, tmp_path, lambda t: t.rename(columns={"id_number": "ID_Number"}))
    findings, _ = run_case(city, tmp_path, broken)
    got = _only(findings, "SYS-002")
    row = got[got["column"] == "id_number"]
    assert len(row) and "ID_Number" in row["message"].iloc[0]


def test_extra_column_is_reported_and_kept(city, tmp_path):
    broken, _ = _persons(city, tmp_path, lambda t: t.assign(备注="临时"))
    findings, result = run_case(city, tmp_path, broken)
    got = _only(findings, "SYS-008")
    assert list(got["column"]) == ["备注"] and "字段表" in got["message"].iloc[0]
    assert not findings["rule_id"].isin(["SYS-001", "SYS-002"]).any()


def test_wrong_dtype_is_a_finding_and_the_rules_still_run(city, tmp_path):
    broken, layer = _buildings(city, tmp_path, lambda t: t.assign(height=t["height"].astype(str) + "米"))
    findings, result = run_case(city, tmp_path, broken)
    got = _only(findings, "SYS-003")
    assert "height" in set(got["column"])
    ran = set(result.summary.loc[result.summary["dataset"] == "buildings", "rule_id"])
    assert {"GEO-001", "BLD-004"} <= ran  # rules on other columns still judged every record


def test_duplicate_ids_name_every_copy(city, tmp_path):
    def change(t):
        t.loc[t.index[5], "person_id"] = t["person_id"].iloc[4]
        return t

    broken, table = _persons(city, tmp_path, change)
    findings, _ = run_case(city, tmp_path, broken)
    got = _only(findings, "SYS-005")
    assert list(got["record_id"]) == [table["person_id"].iloc[4]] * 2


# ------------------------------------------------------------------------------------------ files that are not there


def test_empty_file(city, tmp_path):
    base = Catalog.load(city / "data_catalog.yaml")
    path = tmp_path / "units.csv"
    path.write_bytes(b"")
    findings, _ = run_case(city, tmp_path, _entry(base, "units", path))
    text = _only(findings, "SYS-001")["message"].iloc[0]
    assert "units.csv" in text and "units" in text


def test_truncated_parquet(city, tmp_path):
    base = Catalog.load(city / "data_catalog.yaml")
    data = base["buildings"].resolved_path.read_bytes()
    path = tmp_path / "buildings.parquet"
    path.write_bytes(data[: len(data) // 2])
    findings, _ = run_case(city, tmp_path, _entry(base, "buildings", path))
    text = _only(findings, "SYS-001")["message"].iloc[0]
    assert "buildings.parquet" in text


def test_catalog_entry_pointing_nowhere(city, tmp_path):
    base = Catalog.load(city / "data_catalog.yaml")
    findings, _ = run_case(city, tmp_path, _entry(base, "buildings", tmp_path / "gone" / "buildings.parquet"))
    text = _only(findings, "SYS-001")["message"].iloc[0]
    assert "不存在" in text and "gone/buildings.parquet" in text


def test_database_down(city, tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CIM_PG_URL", f"postgresql://cim:hunter2@127.0.0.1:{port}/cim")
    base = Catalog.load(city / "data_catalog.yaml")
    broken = _entry(base, "buildings", "cim.buildings", format="postgis", options={})
    findings, _ = run_case(city, tmp_path, broken)
    text = _only(findings, "SYS-001")["message"].iloc[0]
    assert "无法连接数据库" in text and "***" in text and "hunter2" not in text


def test_table_that_does_not_exist(city, tmp_path, postgis_url):
    base = Catalog.load(city / "data_catalog.yaml")
    broken = _entry(base, "buildings", "cim.no_buildings_here", format="postgis", options={"url": postgis_url})
    findings, _ = run_case(city, tmp_path, broken)
    text = _only(findings, "SYS-001")["message"].iloc[0]
    assert "postgis:cim.no_buildings_here" in text and "没有该表" in text


def test_personal_values_in_a_parser_message_are_masked(city, tmp_path):
    base = Catalog.load(city / "data_catalog.yaml")
    persons = base.read("persons", period="2024-09")
    number = persons["id_number"].dropna().iloc[0]
    path = tmp_path / "persons.parquet"
    path.write_text(f"person_id,id_number\nP1,{number}\n", encoding="utf-8")  # CSV text in a .parquet file
    findings, result = run_case(city, tmp_path, _entry(base, "persons", path))
    for text in result.findings["message"].dropna():
        assert number not in text


def test_a_broken_input_is_a_failed_input_row_of_the_report(city, tmp_path):
    from cimlib.reports.context import ReportContext

    copy = tmp_path / "city"
    shutil.copytree(city, copy)
    part = copy / "snapshots" / "houses" / "period=2024-09" / "part-0.parquet"
    part.write_bytes(part.read_bytes()[:200])
    ctx = ReportContext(Catalog.load(copy / "data_catalog.yaml"), period="2024-09", as_of="2024-09-30",
                        cache_dir=tmp_path / "cache")
    problems = ctx.problems()
    hit = problems[(problems["dataset"] == "houses") & (problems["period"] == "2024-09")]
    assert len(hit) and hit["problem"].str.contains("part-0.parquet").any()
    findings = ctx.findings()
    assert findings[(findings["dataset"] == "houses") & (findings["rule_id"] == "SYS-001")]["message"] \
        .str.contains("part-0.parquet").any()
    ind = ctx.indicators().set_index("indicator_id")
    persons = ind[ind["metric_id"].str.contains("person", na=False) | ind.index.str.contains("person")]
    assert len(persons) and persons["value"].notna().all()  # the other registers are still measured
