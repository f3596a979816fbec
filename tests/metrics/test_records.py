"""政务数据新增条数 (records_added): records added in the year, from the catalog's snapshots."""

import pandas as pd
import pytest
import yaml

from cimlib.metrics.records import CATALOG_DATASET, base_period, records_added


def test_additions_equal_the_generators_entries(city_metrics):
    """On the sample city: the records whose generator entry month lies after the year's first snapshot and not after
    the month (``truth/lifecycle.parquet``), per register and in total."""
    city, _ = city_metrics
    life = pd.read_parquet(city / "truth" / "lifecycle.parquet")
    periods = sorted(life["entry_period"].unique())
    got = records_added(city / "data_catalog.yaml", periods)
    assert not got.attrs["problems"]
    first = periods[0]
    for period in periods:
        rows = got[got["period"] == period].set_index("dataset")
        total = 0
        for ds, rec in life.groupby("dataset"):
            n = int(((rec.entry_period > first) & (rec.entry_period <= period)).sum())
            d = int((rec.entry_period <= period).sum())
            assert (rows.loc[ds, "numerator"], rows.loc[ds, "denominator"]) == (n, d), (ds, period)
            assert rows.loc[ds, "value"] == n
            total += n
        assert rows.loc[CATALOG_DATASET, "value"] == total
        assert f"自 {first} 快照起" in rows.loc[CATALOG_DATASET, "name_zh"] and "下限" in rows.loc[CATALOG_DATASET, "name_zh"]
    assert got.loc[got["period"] == periods[-1], "value"].max() > 0


@pytest.mark.parametrize("periods, period, want", [
    (["2023-11", "2023-12", "2024-01", "2024-03"], "2024-03", ("2023-12", True)),
    (["2024-02", "2024-03", "2024-05"], "2024-05", ("2024-02", False)),
    (["2024-02", "2024-03"], "2024-02", ("2024-02", False)),
    (["2022-06", "2024-03"], "2024-03", ("2022-06", True)),
])
def test_base_period(periods, period, want):
    assert base_period(periods, period) == want


@pytest.fixture()
def two_year_catalog(tmp_path):
    """persons snapshots 2023-12, 2024-02, 2024-03: a 2023-12 snapshot makes 2024's count exact; a blank id and a
    repeated id are not new records; a record leaving is not a negative addition."""
    snaps = {"2023-12": ["A", "B", "C"], "2024-02": ["A", "B", "C", "D", "", None], "2024-03": ["B", "C", "D", "E", "E"]}
    for period, ids in snaps.items():
        d = tmp_path / "snap" / f"period={period}"
        d.mkdir(parents=True)
        pd.DataFrame({"person_id": ids, "name": "x"}).to_parquet(d / "part-0.parquet")
    pd.DataFrame({"person_id": ["E"], "name": "x"}).to_parquet(tmp_path / "now.parquet")
    doc = {"version": 1, "title_zh": "测试", "city_code": "421303", "entries": [
        {"name": "persons", "title_zh": "实有人口", "layer": "公共专题", "format": "parquet", "path": "now.parquet",
         "id_column": "person_id", "schema": "persons", "owner": "市公安局", "classification": "内部",
         "update_cycle": "每月", "snapshots": {"path": "snap", "periods": list(snaps)}}]}
    path = tmp_path / "data_catalog.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_a_snapshot_before_the_year_makes_the_count_exact(two_year_catalog):
    got = records_added(two_year_catalog, ["2024-02", "2024-03"]).set_index(["period", "dataset"])
    assert got.loc[("2024-02", "persons"), ["numerator", "denominator"]].tolist() == [1, 4]   # D is new
    assert got.loc[("2024-03", "persons"), ["numerator", "denominator"]].tolist() == [2, 4]   # D and E (once); A left
    assert "自 2023-12 快照起" in got.loc[("2024-03", CATALOG_DATASET), "name_zh"]
    assert "下限" not in got.loc[("2024-03", CATALOG_DATASET), "name_zh"]
    assert len(got.attrs["inputs"]) == 3


def test_a_month_without_a_snapshot_adds_nothing(two_year_catalog):
    assert records_added(two_year_catalog, ["2024-01"]).empty


def test_an_unreadable_snapshot_is_a_problem_not_a_crash(two_year_catalog):
    bad = two_year_catalog.parent / "snap" / "period=2024-03" / "part-0.parquet"
    bad.write_bytes(b"not parquet")
    got = records_added(two_year_catalog, ["2024-02", "2024-03"])
    assert set(got["period"]) == {"2024-02"}
    (period, entry, problem), = got.attrs["problems"]
    assert (period, entry) == ("2024-03", "persons") and "政务数据新增条数" in problem
