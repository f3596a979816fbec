"""Readings and devices delivered under a department's own column names (``columns:``, ``values:`` in the catalog)
give the same sensor analysis and the same check findings as the same data under the schema's field names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xarray as xr
import yaml

from cimlib import Catalog
from cimlib.sensors import analyse_sensors, good_readings, load_devices
from cimlib.sensors.readings import ReadingTask, ScanSpec, catalog_reading_tasks, period_bounds, scan_readings
from standards_checks import run_checks

PERIOD = "2024-09"
DAYS = ("2024-09-01", "2024-09-02")

#: Department column name -> schema field of the sample city's ``readings`` and ``devices``.
READING_COLUMNS = {"设备编号": "device_id", "采集时间": "ts", "监测指标": "metric", "监测值": "value",
                   "质量标志": "quality", "接收时间": "received_at"}
DEVICE_COLUMNS = {"设备编号": "device_id", "设备类型": "device_type", "监测指标": "metric", "采集间隔": "interval_s",
                  "街道编码": "street_code", "安装日期": "install_date", "经度": "lon", "纬度": "lat"}
#: The department numbers its pressure gauge ``WP01`` in the readings; ``values:`` maps it to the register's id.
READING_VALUES = {"device_id": {"WP01": "421303-WP-000001"}, "quality": {"0": "正常", "1": "可疑"}}
DEVICE_VALUES = {"device_type": {"供水压力": "WP", "排水液位": "DL", "供水流量": "WF"}}

WP, DL, WF = "421303-WP-000001", "421303-DL-000001", "421303-WF-000001"


def _devices() -> pd.DataFrame:
    return pd.DataFrame({
        "device_id": [WP, DL, WF],
        "device_type": ["WP", "DL", "WF"],
        "metric": ["pressure", "water_level", "flow"],
        "interval_s": [300, 600, 300],
        "street_code": ["421303001", "421303001", "421303002"],
        "install_date": ["2024-01-01", "2024-01-01", "2024-09-02"],
        "lon": [113.37, 113.38, 113.39],
        "lat": [31.70, 31.71, 31.72],
    })


def _readings(day: str) -> pd.DataFrame:
    """Six hours of one day: a pressure excursion, duplicates, out-of-order rows, late and bad rows."""
    t0 = pd.Timestamp(day)
    parts = []
    for dev, interval, base, metric in ((WP, 300, 0.3, "pressure"), (DL, 600, 1.2, "water_level"),
                                        (WF, 300, 150.0, "flow")):
        ts = t0 + pd.to_timedelta(np.arange(0, 6 * 3600, interval), unit="s")
        value = base + 0.01 * np.sin(np.arange(len(ts)))
        if dev == WP:
            value[20:30] = 0.5                           # above 0.45 for 50 minutes: an alarm
        lat = np.full(len(ts), 2.0)
        lat[::7] = 900.0                                 # some late (more than 300 s)
        parts.append(pd.DataFrame({"device_id": dev, "ts": ts, "metric": metric, "value": value,
                                   "quality": np.int8(0), "received_at": ts + pd.to_timedelta(lat, unit="s")}))
    frame = pd.concat(parts, ignore_index=True).sort_values("ts", kind="stable", ignore_index=True)
    frame = pd.concat([frame, frame.iloc[[3, 10]]], ignore_index=True)   # two duplicates
    order = np.arange(len(frame))
    order[[40, 41]] = [41, 40]
    frame = frame.iloc[order].reset_index(drop=True)                      # out of order
    extra = pd.DataFrame({
        "device_id": ["421303-XX-999999", DL, WP, WF],                    # unknown device, bad value, stray, no ts
        "ts": [t0 + pd.Timedelta("1h"), t0 + pd.Timedelta("2h1s"), t0 - pd.Timedelta("1h"), pd.NaT],
        "metric": ["x", "water_level", "pressure", "flow"],
        "value": [1.0, np.nan, 0.3, 150.0],
        "quality": np.int8([0, 1, 1, 0]),
    })
    extra["received_at"] = extra["ts"] + pd.Timedelta("3s")
    frame = pd.concat([frame, extra], ignore_index=True)
    frame["ts"] = frame["ts"].astype("datetime64[ms]")
    frame["received_at"] = frame["received_at"].astype("datetime64[ms]")
    return frame


def _catalog_doc(mapped: bool, readings: dict | None = None) -> dict:
    devices = {"name": "devices", "title_zh": "物联感知设备", "layer": "物联感知", "format": "csv",
               "path": "devices.csv", "crs": "EPSG:4490", "id_column": "设备编号" if mapped else "device_id",
               "schema": "devices", "owner": "市城市管理执法局", "classification": "内部", "update_cycle": "每日",
               "options": {"x": "经度" if mapped else "lon", "y": "纬度" if mapped else "lat",
                           "dtype": ["街道编码" if mapped else "street_code"]}}
    readings = readings or {"format": "parquet", "path": "readings"}
    readings = {"name": "readings", "title_zh": "物联感知监测数据", "layer": "物联感知", "id_column": "device_id",
                "schema": "readings", "owner": "市城市管理执法局", "classification": "内部", "update_cycle": "实时",
                **readings}
    if mapped:
        devices.update(columns=DEVICE_COLUMNS, values=DEVICE_VALUES)
        readings.update(columns=READING_COLUMNS, values=READING_VALUES)
    return {"version": 1, "title_zh": "测试城市", "city_code": "421303", "crs": "EPSG:4490",
            "entries": [devices, readings]}


def _write_city(root, mapped: bool):
    """``root/data_catalog.yaml`` with ``devices.csv`` and ``readings/date=YYYY-MM-DD/part-0.parquet``."""
    root.mkdir(parents=True)
    devices = _devices()
    if mapped:
        code = {v: k for k, v in DEVICE_VALUES["device_type"].items()}
        devices = devices.assign(device_type=devices["device_type"].map(code))
        devices = devices.rename(columns={v: k for k, v in DEVICE_COLUMNS.items()})
    devices.to_csv(root / "devices.csv", index=False)
    for day in DAYS:
        frame = _readings(day)
        if mapped:
            frame["device_id"] = frame["device_id"].replace({WP: "WP01"})
            frame = frame.rename(columns={v: k for k, v in READING_COLUMNS.items()})
        (root / "readings" / f"date={day}").mkdir(parents=True)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, root / "readings" / f"date={day}" / "part-0.parquet")
    (root / "data_catalog.yaml").write_text(yaml.safe_dump(_catalog_doc(mapped), allow_unicode=True),
                                            encoding="utf-8")
    return Catalog.load(root / "data_catalog.yaml")


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    """(catalog with the schema's names, catalog with the department's names and a ``columns:`` mapping)."""
    root = tmp_path_factory.mktemp("mapped")
    return _write_city(root / "en", mapped=False), _write_city(root / "zh", mapped=True)


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_tasks_carry_the_mapping_and_the_scan_reads_the_source_names(cities):
    plain, mapped = cities
    tasks = catalog_reading_tasks(mapped, PERIOD)
    assert [t.label for t in tasks] == list(DAYS)
    assert tasks[0].columns == READING_COLUMNS and tasks[0].values["device_id"] == {"WP01": WP}
    assert catalog_reading_tasks(plain, PERIOD)[0].columns == {}
    devices = load_devices(mapped)
    assert devices["device_id"].tolist() == [DL, WF, WP] and devices["device_type"].tolist() == ["DL", "WF", "WP"]
    _frames_equal(pd.DataFrame(devices), pd.DataFrame(load_devices(plain)))
    p0, n_days = period_bounds(PERIOD)
    spec = ScanSpec(device_ids=devices["device_id"].to_numpy(dtype=object), p0_ms=p0, n_days=n_days)
    got = scan_readings(tasks, spec)
    ref = scan_readings(catalog_reading_tasks(plain, PERIOD), spec)
    assert got.failed.empty and got.rows_read == ref.rows_read > 0
    assert got.daily["rows"].sum() > 0 and got.daily["latency_n"].sum() > 0   # received_at read under its name
    assert set(got.daily["dev"]) == {0, 1, 2}                                 # WP01 counted as the pressure gauge
    _frames_equal(got.daily, ref.daily)
    _frames_equal(got.bad_counts, ref.bad_counts)
    assert dict(zip(got.bad_counts["kind"], got.bad_counts["rows"])) == {
        "unknown_device": 2, "ts_invalid": 2, "ts_out_of_range": 1, "value_invalid": 2}


def test_analyse_sensors_gives_the_same_health_and_alarms(cities):
    plain, mapped = cities
    a = analyse_sensors(plain, PERIOD, cube=True)
    b = analyse_sensors(mapped, PERIOD, cube=True)
    assert b.problems[b.problems["dataset"] == "readings"].empty
    assert b.health["numerator"].sum() > 0 and len(b.alarms) == 2 and set(b.alarms["device_id"]) == {WP}
    health_cols = [c for c in a.health.columns if c != "inputs_sha256"]   # the files differ, the numbers do not
    _frames_equal(b.health[health_cols], a.health[health_cols])
    _frames_equal(b.health_daily, a.health_daily)
    _frames_equal(b.alarms, a.alarms)
    _frames_equal(b.bad_readings, a.bad_readings)
    _frames_equal(b.anomalies, a.anomalies)
    xr.testing.assert_allclose(b.cube, a.cube)
    assert float(b.cube[next(iter(b.cube.data_vars))].count()) > 0


def test_good_readings_frame_has_field_names(cities):
    plain, mapped = cities
    devices = load_devices(mapped)
    p0, n_days = period_bounds(PERIOD)
    got = good_readings(catalog_reading_tasks(mapped, PERIOD), devices, p0, n_days).compute()
    ref = good_readings(catalog_reading_tasks(plain, PERIOD), devices, p0, n_days).compute()
    assert list(got.columns) == ["device_id", "ts", "value"] and len(got) > 0
    _frames_equal(got, ref)


def test_a_mapped_column_missing_from_a_file_is_named_by_its_source_name(cities, tmp_path):
    _, mapped = cities
    folder = tmp_path / "date=2024-09-03"
    folder.mkdir()
    table = pq.read_table(mapped["readings"].resolved_path / f"date={DAYS[0]}" / "part-0.parquet")
    pq.write_table(table.drop(["采集时间"]), folder / "part-0.parquet")
    task = catalog_reading_tasks(mapped, PERIOD)[0]
    spec = ScanSpec(device_ids=np.array([WP]), p0_ms=period_bounds(PERIOD)[0], n_days=30)
    res = scan_readings([ReadingTask("2024-09-03", (str(folder / "part-0.parquet"),), task.columns)], spec)
    assert res.failed["problem"].tolist() == ["缺少必需的列：采集时间（字段 ts）"]


def _finding_keys(result) -> list[tuple[str, str]]:
    f = result.findings
    return sorted(zip(f["record_id"].fillna("").astype(str), f["rule_id"].astype(str)))


def test_checks_on_mapped_readings_find_the_same_records(cities):
    plain, mapped = cities
    a = run_checks(plain, ["readings"], masked=False)
    b = run_checks(mapped, ["readings"], masked=False)
    keys = _finding_keys(b)
    assert keys == _finding_keys(a)
    assert {r for _, r in keys} >= {"RDG-001", "RDG-002", "RDG-003", "RDG-004"}
    assert {r for _, r in keys if r.startswith("SYS")} == {"SYS-004"}   # the row without ts; no type error
    assert not any(rid.startswith("WP01|") for rid, _ in keys)   # coded ids mapped before the rules


def test_postgis_day_partitions_with_department_names(cities, postgis_url, tmp_path):
    """A day-partitioned readings table with the department's column names, mapped in the catalog."""
    from cimlib.catalog import load_to_postgis

    plain, mapped = cities
    raw = _catalog_doc(mapped=True, readings={"format": "parquet", "path": str(mapped["readings"].resolved_path)})
    raw["entries"] = raw["entries"][1:]
    (tmp_path / "raw.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    loaded = load_to_postgis(Catalog.load(tmp_path / "raw.yaml"), postgis_url, tmp_path / "pg", schema="mapped",
                             replace=True)
    assert not loaded.problems, loaded.problems
    pg = yaml.safe_load(loaded.catalog_path.read_text(encoding="utf-8"))["entries"][0]
    assert pg["options"]["partition_column"] == "date"
    # the parts are copied in their own names, so cim load's catalog carries the mapping along
    assert pg["columns"] == READING_COLUMNS and pg["values"] == READING_VALUES
    doc = _catalog_doc(mapped=True, readings={k: pg[k] for k in ("format", "path", "options")})
    doc["entries"][1].update(columns=pg["columns"], values=pg["values"])
    doc["entries"][0]["path"] = str(mapped["devices"].resolved_path)
    (tmp_path / "pg.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    catalog = Catalog.load(tmp_path / "pg.yaml")
    tasks = catalog_reading_tasks(catalog, PERIOD)
    assert [t.label for t in tasks] == list(DAYS) and tasks[0].columns == READING_COLUMNS
    a = analyse_sensors(plain, PERIOD, anomalies=False, cube=False)
    b = analyse_sensors(catalog, PERIOD, anomalies=False, cube=False)
    assert b.problems[b.problems["dataset"] == "readings"].empty
    _frames_equal(b.health_daily, a.health_daily)
    _frames_equal(b.bad_readings, a.bad_readings)
