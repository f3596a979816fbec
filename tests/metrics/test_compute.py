"""compute_metrics on modified copies of the sample city: one month's snapshot only, and bad records or files."""

import shutil

import geopandas as gpd
import pandas as pd
import pytest

from cimlib import Catalog
from cimlib.catalog import CatalogError
from cimlib.metrics import compute_metrics

PERIOD = "2024-09"


@pytest.fixture()
def city_copy(small_city, tmp_path):
    dst = tmp_path / "city"
    shutil.copytree(small_city, dst, ignore=shutil.ignore_patterns("delivery"))
    return dst


@pytest.fixture(scope="module")
def base(small_city):
    return compute_metrics(Catalog.load(small_city / "data_catalog.yaml"), [PERIOD])


def _addr_path(city, period=PERIOD):
    return city / "snapshots" / "addresses" / f"period={period}" / "part-0.parquet"


def _county(metrics, metric_id, dataset):
    row = metrics[(metrics.metric_id == metric_id) & (metrics.dataset == dataset) & (metrics.area_level == "county")]
    assert len(row) == 1
    return row.iloc[0]


def _on_map_address(result, city):
    """A building address that is on the map and has persons linked to it."""
    addr = gpd.read_parquet(_addr_path(city))
    persons = pd.read_parquet(city / "snapshots" / "persons" / f"period={PERIOD}" / "part-0.parquet")
    bad = set(result.evidence.loc[result.evidence.dataset == "addresses", "record_id"])
    cand = addr[(addr.address_type == "户室") & addr.geometry.notna() & ~addr.address_id.isin(bad)
                & addr.address_id.isin(persons.address_id)]
    return addr, cand.address_id.iloc[0]


def test_a_month_reads_only_its_own_snapshot(small_city, sample_cities, tmp_path):
    full = sample_cities.metrics(7)   # compute_metrics of every period on small_city, shared
    dst = tmp_path / "one_month"
    shutil.copytree(small_city, dst, ignore=shutil.ignore_patterns("delivery"))
    for folder in (dst / "snapshots").glob("*/period=*"):
        if not folder.name.endswith("2024-05"):
            shutil.rmtree(folder)
    only = compute_metrics(Catalog.load(dst / "data_catalog.yaml"), ["2024-05"])
    assert only.problems.empty, only.problems
    expected = full.metrics[full.metrics.period == "2024-05"].reset_index(drop=True)
    pd.testing.assert_frame_equal(only.metrics.reset_index(drop=True), expected)  # fingerprints included


def test_missing_coordinates_lower_the_address_mapping_rate(base, small_city, city_copy):
    addr, target = _on_map_address(base, small_city)
    addr.loc[addr.address_id == target, "geometry"] = None
    addr.to_parquet(_addr_path(city_copy))
    r = compute_metrics(Catalog.load(city_copy / "data_catalog.yaml"), [PERIOD])
    before, after = _county(base.metrics, "mapping_rate", "addresses"), _county(r.metrics, "mapping_rate", "addresses")
    assert after.numerator == before.numerator - 1 and after.denominator == before.denominator
    for metric in ("governance_rate", "coding_rate"):
        assert _county(r.metrics, metric, "addresses").numerator == _county(base.metrics, metric, "addresses").numerator
    ev = r.evidence[(r.evidence.dataset == "addresses") & (r.evidence.record_id == target)]
    assert len(ev) == 1 and "无坐标" in ev.reason.iloc[0] and not ev.on_map.iloc[0]
    # persons living there are no longer on the map either, and say why
    p_after = _county(r.metrics, "mapping_rate", "persons")
    assert p_after.numerator < _county(base.metrics, "mapping_rate", "persons").numerator
    assert r.evidence.reason.str.contains("关联的标准地址未上图").any()


def test_a_point_in_the_wrong_crs_lowers_the_mapping_rate(base, small_city, city_copy):
    addr, target = _on_map_address(base, small_city)
    pt = addr.loc[addr.address_id == target].geometry.iloc[0]
    projected = gpd.GeoSeries([pt], crs=4490).to_crs(4547).iloc[0]  # metres written into a degree layer
    addr.loc[addr.address_id == target, "geometry"] = projected
    addr.to_parquet(_addr_path(city_copy))
    r = compute_metrics(Catalog.load(city_copy / "data_catalog.yaml"), [PERIOD])
    after = _county(r.metrics, "mapping_rate", "addresses")
    assert after.numerator == _county(base.metrics, "mapping_rate", "addresses").numerator - 1
    assert _county(r.metrics, "governance_rate", "addresses").numerator == _county(base.metrics, "governance_rate", "addresses").numerator
    ev = r.evidence[(r.evidence.dataset == "addresses") & (r.evidence.record_id == target)]
    assert len(ev) == 1 and ev.reason.iloc[0].startswith("未上图")


def test_an_unknown_area_code_is_counted_in_an_unknown_bucket_and_shown(base, small_city, city_copy):
    persons_path = city_copy / "snapshots" / "persons" / f"period={PERIOD}" / "part-0.parquet"
    persons = pd.read_parquet(persons_path)
    county = persons.street_code.iloc[0][:6]
    persons.loc[0, ["street_code", "community_code"]] = ["999999001", "999999001001"]
    persons.to_parquet(persons_path)
    r = compute_metrics(Catalog.load(city_copy / "data_catalog.yaml"), [PERIOD])
    m = r.metrics[(r.metrics.dataset == "persons") & (r.metrics.metric_id == "governance_rate")]
    unk = m[m.area_code == f"{county}-UNK"]
    assert set(unk.area_level) == {"street", "community"} and (unk.denominator == 1).all()
    assert "未知" in unk.area_name.iloc[0] or "缺失" in unk.area_name.iloc[0]
    # the county still counts every record: its totals are unchanged
    assert _county(r.metrics, "governance_rate", "persons").denominator == _county(base.metrics, "governance_rate", "persons").denominator


def test_an_address_with_an_unknown_area_code_is_not_on_the_map(base, small_city, city_copy):
    addr, target = _on_map_address(base, small_city)
    addr.loc[addr.address_id == target, ["street_code", "community_code"]] = ["421303999", "421303999001"]
    addr.to_parquet(_addr_path(city_copy))
    r = compute_metrics(Catalog.load(city_copy / "data_catalog.yaml"), [PERIOD])
    ev = r.evidence[(r.evidence.dataset == "addresses") & (r.evidence.record_id == target)]
    assert len(ev) == 1 and ev.bucket.iloc[0] == "421303-UNK"
    assert not ev.on_map.iloc[0]
    gov = _county(r.metrics, "governance_rate", "addresses")
    mapping = _county(r.metrics, "mapping_rate", "addresses")
    # the code contradicts its parent element (ADR-008, a governance rule) or, if governed, cannot be placed
    assert (gov.numerator == _county(base.metrics, "governance_rate", "addresses").numerator - 1
            or mapping.numerator == _county(base.metrics, "mapping_rate", "addresses").numerator - 1)


def test_a_record_without_an_id_fails_alone(base, city_copy):
    """A house whose identifier is empty fails governance itself (SYS-004 on house_id, a finding without a record
    id); every other record keeps its status (not a dataset-level error that fails the whole register)."""
    path = city_copy / "snapshots" / "houses" / f"period={PERIOD}" / "part-0.parquet"
    houses = pd.read_parquet(path)
    bad = set(base.evidence.loc[base.evidence.dataset == "houses", "record_id"])
    row = houses.index[~houses.house_id.isin(bad)][0]   # a house that is governed, coded and on the map
    houses.loc[row, "house_id"] = None
    houses.to_parquet(path)
    r = compute_metrics(Catalog.load(city_copy / "data_catalog.yaml"), [PERIOD])
    gov, gov0 = _county(r.metrics, "governance_rate", "houses"), _county(base.metrics, "governance_rate", "houses")
    assert (gov.numerator, gov.denominator) == (gov0.numerator - 1, gov0.denominator)
    for metric in ("coding_rate", "mapping_rate"):   # of the governed: one fewer on both sides
        m, m0 = _county(r.metrics, metric, "houses"), _county(base.metrics, metric, "houses")
        assert (m.numerator, m.denominator) == (m0.numerator - 1, m0.denominator - 1), metric
    hc, hc0 = _county(r.metrics, "house_coding_rate", "houses"), _county(base.metrics, "house_coding_rate", "houses")
    assert (hc.numerator, hc.denominator) == (hc0.numerator, hc0.denominator)   # its code is still there
    ev = r.evidence[r.evidence.dataset == "houses"]
    assert len(ev) == len(base.evidence[base.evidence.dataset == "houses"]) + 1
    assert ev.record_id.isna().sum() == 1 and ev.loc[ev.record_id.isna(), "reason"].iloc[0].startswith("未通过治理：SYS-004")


def test_an_unreadable_dataset_is_a_problem_not_a_crash(base, city_copy):
    p = _addr_path(city_copy)
    p.write_bytes(b"this is not parquet")
    r = compute_metrics(Catalog.load(city_copy / "data_catalog.yaml"), [PERIOD])
    assert (r.problems.dataset == "addresses").any()
    assert not (r.metrics.dataset == "addresses").any()
    persons = _county(r.metrics, "mapping_rate", "persons")
    assert persons.numerator == 0 and persons.denominator == _county(base.metrics, "mapping_rate", "persons").denominator
    ev = r.evidence[(r.evidence.dataset == "persons") & r.evidence.coded]
    assert set(ev.reason) == {"未上图：标准地址数据集不可用，无法核验关联", "未上图：未关联标准地址"}
    # the other registers are untouched
    for ds in ("houses", "units"):
        assert _county(r.metrics, "coding_rate", ds).numerator == _county(base.metrics, "coding_rate", ds).numerator


def test_a_whole_file_in_the_wrong_crs_is_a_problem(base, city_copy):
    p = _addr_path(city_copy)
    addr = gpd.read_parquet(p)
    addr.to_crs(4547).to_parquet(p)
    r = compute_metrics(Catalog.load(city_copy / "data_catalog.yaml"), [PERIOD])
    assert r.problems.problem.str.contains("4547|坐标").any()
    assert _county(r.metrics, "mapping_rate", "persons").numerator == 0


def test_unknown_period_is_a_clear_error(small_city):
    with pytest.raises(CatalogError, match="2023-01"):
        compute_metrics(Catalog.load(small_city / "data_catalog.yaml"), ["2023-01"])


def test_level_filter_and_inputs_are_not_modified(small_city):
    before = {p: p.stat().st_mtime_ns for p in small_city.rglob("*") if p.is_file()}
    r = compute_metrics(Catalog.load(small_city / "data_catalog.yaml"), [PERIOD], level="street")
    assert set(r.metrics.area_level) == {"street"}
    assert {p: p.stat().st_mtime_ns for p in small_city.rglob("*") if p.is_file()} == before


def test_link_summary_counts_every_method(base):
    ls = base.link_summary
    addr = ls[ls.dataset == "addresses"].groupby("method")["records"].sum()
    assert addr.get("code", 0) > 0 and addr.get("spatial", 0) > 0  # 院落 carry no building code: linked by space
    total = ls.groupby("dataset")["records"].sum()
    received = base.metrics[(base.metrics.metric_id == "governance_rate") & (base.metrics.area_level == "county")]
    assert (total.reindex(received.dataset).to_numpy() == received.denominator.to_numpy()).all()
