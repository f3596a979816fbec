"""Device register and sensor-reading rules (DEV-*, RDG-*), and the Dask engine that runs the reading rules out of core."""

from pathlib import Path

import dask
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
import yaml
from dask.callbacks import Callback

from cimlib import Catalog
from standards_checks import FINDINGS_COLUMNS, RULES, run_checks
from standards_checks.backends.pandas import Context
from standards_checks.schemas import readings as rdg

SENSOR = ["devices", "readings"]
RDG = ["RDG-001", "RDG-002", "RDG-003", "RDG-004"]
META = {"title_zh": "测试", "owner": "测试部门", "classification": "内部", "update_cycle": "每日", "layer": "物联感知"}


def _triples(frame: pd.DataFrame) -> set:
    return set(frame[["dataset", "record_id", "rule_id"]].itertuples(index=False, name=None))


# ------------------------------------------------------------------------------------------- sample city

@pytest.fixture(scope="module")
def city(sample_cities):
    root = sample_cities.city(7)   # shared: tests must not change it
    truth = pd.read_csv(root / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    return root, Catalog.load(root / "data_catalog.yaml"), truth


def test_sample_city_findings_equal_truth(city):
    _, catalog, truth = city
    result = run_checks(catalog, SENSOR)
    f = result.findings
    assert list(f.columns) == FINDINGS_COLUMNS
    assert set(f.dataset) <= set(SENSOR)
    expected = _triples(truth[truth.dataset.isin(SENSOR) & (truth.rule_id != "")])
    # the stream's defects, and the devices' 北斗网格码 defects (cimlib.demo._grid)
    assert {r for _, _, r in expected} == {"RDG-001", "RDG-002", "RDG-004", "DEV-004", "DEV-005", "DEV-006"}
    assert _triples(f) == expected  # no misses, no other findings for devices and readings
    assert not f.duplicated(["dataset", "record_id", "rule_id"]).any()  # both copies of a duplicate: one finding

    s = result.summary.set_index(["dataset", "rule_id"])
    rows = pq.ParquetDataset(catalog["readings"].resolved_path).read(columns=["ts"]).num_rows
    for rule_id in RDG:
        assert s.loc[("readings", rule_id), "checked"] == rows
    assert s.loc[("readings", "RDG-003"), "failed"] == 0
    assert ("readings", "SYS-005") not in s.index  # device_id is not a key of the readings
    n_dev = len(pd.read_csv(catalog["devices"].resolved_path))
    for rule_id in ("DEV-001", "DEV-002", "DEV-003", "SYS-005"):
        assert s.loc[("devices", rule_id), "checked"] == n_dev
        assert s.loc[("devices", rule_id), "failed"] == 0
    assert RULES["DEV-002"].provisional  # the device categories are provisional


class _Largest(Callback):
    """Largest DataFrame any task of a compute produced."""

    def __init__(self):
        super().__init__()
        self.rows = 0

    def _posttask(self, key, result, dsk, state, id):
        if isinstance(result, pd.DataFrame):
            self.rows = max(self.rows, len(result))


def test_dask_engine_reads_partition_by_partition(city):
    _, catalog, _ = city
    frame = catalog.read("readings")
    biggest = max(frame.map_partitions(len).compute())
    with _Largest() as seen:
        result = run_checks(catalog, ["readings"])
    assert 0 < seen.rows <= biggest < len(frame) / 10  # no task ever held more than one partition
    assert len(result.findings) < 1000


def test_dask_engine_equals_rules_on_computed_frame(city):
    _, catalog, _ = city
    ctx = Context(catalog)
    pdf = catalog.read("readings").compute().reset_index(drop=True)
    expected = set()
    for rule_id in RDG:
        failed = np.asarray(RULES[rule_id].fn(pdf, ctx), dtype=bool)
        expected |= {("readings", r, rule_id) for r in rdg.record_ids(pdf[failed])}
    assert _triples(run_checks(catalog, ["readings"]).findings) == expected


# ------------------------------------------------------------------------------------------- hand-made folders

def _write_readings(folder: Path, days: dict) -> None:
    """days: "YYYY-MM-DD" -> list of files, each a list of (device_id, ts, value)."""
    for day, files in days.items():
        (folder / f"date={day}").mkdir(parents=True)
        for k, rows in enumerate(files):
            dev, ts, value = zip(*rows)
            table = pa.table({"device_id": pa.array(dev, pa.string()),
                              "ts": pa.array(pd.to_datetime(list(ts)).to_numpy().astype("datetime64[ms]")),
                              "value": pa.array(value)})
            pq.write_table(table, folder / f"date={day}" / f"part-{k}.parquet")


def _tiny_catalog(tmp_path: Path, days: dict) -> Catalog:
    _write_readings(tmp_path / "readings", days)
    pd.DataFrame({"device_id": ["A", "B"], "device_type": ["WP", "WP"]}).to_parquet(tmp_path / "devices.parquet")
    entries = [
        {"name": "devices", **META, "format": "parquet", "path": "devices.parquet", "id_column": "device_id", "schema": "devices"},
        {"name": "readings", **META, "format": "parquet", "path": "readings", "id_column": "device_id", "schema": "readings"},
    ]
    cat = tmp_path / "data_catalog.yaml"
    cat.write_text(yaml.safe_dump({"version": 1, "entries": entries}, allow_unicode=True), encoding="utf-8")
    return Catalog.load(cat)


NAN, INF = float("nan"), float("inf")
DAYS = {
    "2024-09-01": [[
        ("A", "2024-09-01 00:00:00", 1.0),
        ("A", "2024-09-01 00:05:00", NAN),        # RDG-003 NaN
        ("A", "2024-09-01 00:10:00", INF),        # RDG-003 inf
        ("A", "2024-09-01 00:15:00", None),       # RDG-003 null
        ("X", "2024-09-01 01:00:00", 2.0),        # RDG-001 unknown device
        ("A", "2024-09-01 02:00:00", 3.0),        # RDG-004 duplicate within the partition
        ("A", "2024-09-01 02:00:00", 3.0),
        ("B", "2024-09-02 03:00:00", 4.0),        # RDG-002 (next day's ts) and RDG-004 with the copy in 09-02
        ("A", "1970-01-01 00:00:01", 5.0),        # RDG-002 clock reset
        ("B", "2024-09-01 23:59:59", 6.0),
    ]],
    "2024-09-02": [[
        ("B", "2024-09-02 00:00:00", 7.0),
        ("B", "2024-09-02 03:00:00", 4.0),        # RDG-004 (copy of the stray row in 09-01)
        ("B", "2024-09-01 12:00:00", 8.0),        # RDG-002 (previous day's ts)
        ("X", "2024-09-02 04:00:00", -INF),       # RDG-001 and RDG-003
    ]],
}
EXPECTED = {
    ("A|2024-09-01T00:05:00", "RDG-003"), ("A|2024-09-01T00:10:00", "RDG-003"), ("A|2024-09-01T00:15:00", "RDG-003"),
    ("X|2024-09-01T01:00:00", "RDG-001"), ("A|2024-09-01T02:00:00", "RDG-004"),
    ("B|2024-09-02T03:00:00", "RDG-002"), ("B|2024-09-02T03:00:00", "RDG-004"),
    ("A|1970-01-01T00:00:01", "RDG-002"), ("B|2024-09-01T12:00:00", "RDG-002"),
    ("X|2024-09-02T04:00:00", "RDG-001"), ("X|2024-09-02T04:00:00", "RDG-003"),
}


def _got(result) -> set:
    f = result.findings
    return set(f.loc[f.rule_id.str.startswith("RDG"), ["record_id", "rule_id"]].itertuples(index=False, name=None))


def test_each_reading_rule_on_two_partitions(tmp_path):
    catalog = _tiny_catalog(tmp_path, DAYS)
    assert catalog.read("readings").npartitions == 2
    result = run_checks(catalog, ["readings"])
    assert _got(result) == EXPECTED
    assert set(result.findings.rule_id) == {"RDG-001", "RDG-002", "RDG-003", "RDG-004"}  # nothing structural
    f = result.findings.set_index(["record_id", "rule_id"])
    assert f.loc[("X|2024-09-01T01:00:00", "RDG-001"), "value"] == "X"
    assert f.loc[("A|2024-09-01T00:10:00", "RDG-003"), "column"] == "value"
    assert pd.isna(f.loc[("A|2024-09-01T00:15:00", "RDG-003"), "value"])
    assert set(f.loc[pd.IndexSlice[:, "RDG-001"], "severity"]) == {"error"}
    s = result.summary.set_index("rule_id")
    assert (s.loc[RDG, "checked"] == 14).all()
    assert s.loc["RDG-004", "failed"] == 2 and s.loc["RDG-003", "failed"] == 4


def test_reading_rules_equal_on_dask_and_pandas(tmp_path):
    catalog = _tiny_catalog(tmp_path, DAYS)
    pdf = catalog.read("readings").compute().reset_index(drop=True)
    ctx = Context(catalog)
    by_pandas = set()
    for rule_id in RDG:
        failed = np.asarray(RULES[rule_id].fn(pdf, ctx), dtype=bool)
        by_pandas |= {(r, rule_id) for r in rdg.record_ids(pdf[failed])}
    assert by_pandas == EXPECTED == _got(run_checks(catalog, ["readings"]))


def test_duplicates_across_files_of_one_day(tmp_path):
    """A day split into several files (several partitions with the same date): duplicates between them are found."""
    days = {"2024-09-01": [[("A", "2024-09-01 00:00:00", 1.0), ("A", "2024-09-01 00:05:00", 1.5)],
                           [("A", "2024-09-01 00:05:00", 1.5), ("B", "2024-09-01 00:05:00", 2.0)]],
            "2024-09-02": [[("A", "2024-09-02 00:05:00", 1.0)]]}
    catalog = _tiny_catalog(tmp_path, days)
    assert catalog.read("readings").npartitions == 3
    assert _got(run_checks(catalog, ["readings"])) == {("A|2024-09-01T00:05:00", "RDG-004")}


def test_duplicate_strays_without_home_partition(tmp_path):
    """The same clock-reset reading in two day files: both copies are strays, their day has no partition."""
    days = {"2024-09-01": [[("A", "2024-09-01 00:00:00", 1.0), ("A", "1970-01-01 00:00:01", 1.0)]],
            "2024-09-02": [[("A", "1970-01-01 00:00:01", 1.0), ("B", "1970-01-01 00:00:02", 1.0)]]}
    catalog = _tiny_catalog(tmp_path, days)
    assert _got(run_checks(catalog, ["readings"])) == {
        ("A|1970-01-01T00:00:01", "RDG-002"), ("A|1970-01-01T00:00:01", "RDG-004"), ("B|1970-01-01T00:00:02", "RDG-002")}


def test_non_numeric_values(tmp_path):
    """A value column written as text: the non-numeric and missing values fail RDG-003; the dtype is SYS-003."""
    folder = tmp_path / "readings"
    for day, values in (("2024-09-01", ["1.5", "abc", None]), ("2024-09-02", ["nan", "2", "-inf"])):
        (folder / f"date={day}").mkdir(parents=True)
        ts = pd.date_range(day, periods=3, freq="5min").to_numpy().astype("datetime64[ms]")
        pq.write_table(pa.table({"device_id": ["A"] * 3, "ts": pa.array(ts), "value": pa.array(values, pa.string())}),
                       folder / f"date={day}" / "part-0.parquet")
    catalog = _tiny_catalog(tmp_path, {})
    result = run_checks(catalog, ["readings"])
    assert _got(result) == {("A|2024-09-01T00:05:00", "RDG-003"), ("A|2024-09-01T00:10:00", "RDG-003"),
                            ("A|2024-09-02T00:00:00", "RDG-003"), ("A|2024-09-02T00:10:00", "RDG-003")}
    sys003 = result.findings[result.findings.rule_id == "SYS-003"]
    assert list(sys003.column) == ["value"] and sys003.record_id.isna().all()


def test_missing_device_register_is_reported_not_raised(tmp_path):
    catalog = _tiny_catalog(tmp_path, DAYS)
    (tmp_path / "devices.parquet").unlink()
    result = run_checks(catalog, ["readings"])
    f = result.findings
    assert "RDG-001" not in set(f.rule_id)
    assert f.loc[f.rule_id == "SYS-006", "message"].str.contains("RDG-001").any()
    assert _got(result) == {t for t in EXPECTED if t[1] != "RDG-001"}


def test_missing_partition_column(tmp_path):
    """Without ``date=`` folders RDG-002 cannot run (SYS-006); duplicates across files are still found."""
    folder = tmp_path / "readings"
    folder.mkdir()
    for k, rows in enumerate([[("A", "2024-09-01 00:00:00", 1.0)], [("A", "2024-09-01 00:00:00", 1.0)]]):
        dev, ts, value = zip(*rows)
        pq.write_table(pa.table({"device_id": list(dev), "ts": pa.array(pd.to_datetime(list(ts)).to_numpy()),
                                 "value": list(value)}), folder / f"part-{k}.parquet")
    catalog = _tiny_catalog(tmp_path, {})
    result = run_checks(catalog, ["readings"])
    assert _got(result) == {("A|2024-09-01T00:00:00", "RDG-004")}
    assert result.findings.loc[result.findings.rule_id == "SYS-006", "message"].str.contains("RDG-002").all()


def test_uses_the_configured_scheduler(tmp_path):
    catalog = _tiny_catalog(tmp_path, DAYS)
    with dask.config.set(scheduler="synchronous"):
        assert _got(run_checks(catalog, ["readings"])) == EXPECTED


# ------------------------------------------------------------------------------------------- devices

def test_device_rules(tmp_path):
    x0, y0 = 113.36, 31.70
    admin = gpd.GeoDataFrame(
        {"area_code": ["421303001", "421303002"], "name": ["西城街道", "东城街道"], "level": ["街道", "街道"]},
        geometry=[shapely.box(x0, y0, x0 + 0.01, y0 + 0.02), shapely.box(x0 + 0.01, y0, x0 + 0.02, y0 + 0.02)], crs=4490)
    admin.to_parquet(tmp_path / "admin.parquet")
    devices = gpd.GeoDataFrame({
        "device_id": ["D1", "D2", "D3", "D4", "D5"],
        "device_type": ["WP", "WP", "XX", "GAS", "PK"],
        "metric": ["pressure"] * 5,
        "interval_s": [300, 0, 300, 60, 300],
        "street_code": ["421303001", "421303001", "421303002", "421303001", "421303999"],
    }, geometry=shapely.points([(x0 + 0.005, y0 + 0.01), (x0 + 0.005, y0 + 0.01), (x0 + 0.015, y0 + 0.01),
                                (x0 + 0.015, y0 + 0.01), (x0 + 0.005, y0 + 0.01)]), crs=4490)
    devices.to_parquet(tmp_path / "devices.parquet")
    entries = [{"name": "admin_areas", **META, "layer": "时空基础", "format": "geoparquet", "path": "admin.parquet",
                "crs": "EPSG:4490", "id_column": "area_code", "schema": "admin_areas"},
               {"name": "devices", **META, "format": "geoparquet", "path": "devices.parquet", "crs": "EPSG:4490",
                "id_column": "device_id", "schema": "devices"}]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"version": 1, "entries": entries}, allow_unicode=True), encoding="utf-8")
    result = run_checks(Catalog.load(tmp_path / "c.yaml"), ["devices"])
    got = set(result.findings[["record_id", "rule_id"]].itertuples(index=False, name=None))
    assert got == {("D2", "DEV-001"), ("D3", "DEV-002"), ("D4", "DEV-003"), ("D5", "DEV-003")}


def test_readings_in_one_file_use_the_same_engine(tmp_path):
    """A readings table delivered as a single Parquet file gets the stream rules, not per-record id rules."""
    _tiny_catalog(tmp_path, DAYS)  # writes the partitioned folder and the catalog
    single = tmp_path / "readings_single.parquet"
    pd.concat([pd.read_parquet(p) for p in sorted((tmp_path / "readings").rglob("*.parquet"))]).to_parquet(single)
    doc = yaml.safe_load((tmp_path / "data_catalog.yaml").read_text(encoding="utf-8"))
    doc["entries"][1]["path"] = single.name
    (tmp_path / "data_catalog.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = run_checks(Catalog.load(tmp_path / "data_catalog.yaml"), ["readings"])
    f = result.findings
    assert "SYS-005" not in set(f.rule_id)  # device_id is not a record key of a stream
    # without day partitions RDG-002 cannot run; every other rule finds what it finds on the partitioned folder
    assert _got(result) == {t for t in EXPECTED if t[1] != "RDG-002"}
    assert f.loc[f.rule_id == "SYS-006", "message"].str.contains("RDG-002").all()
