"""On the sample city every metric, at every area level and for every month, equals the value the truth implies."""

import numpy as np
import pandas as pd
import pytest

from cimlib.demo import PERIODS
from truth_oracle import Truth, compare, sums

REGISTERS = ["addresses", "persons", "houses", "units"]


@pytest.fixture(scope="module")
def truth_run(city_metrics):
    city, result = city_metrics
    return Truth(city), result


@pytest.mark.parametrize("dataset", REGISTERS)
def test_governance_rate_equals_truth(truth_run, dataset):
    truth, result = truth_run
    for period in PERIODS:
        rec = truth.records(dataset, period)
        compare(result.metrics, sums(rec, rec.governed, np.ones(len(rec))), "governance_rate", dataset, period)


@pytest.mark.parametrize("dataset", REGISTERS)
def test_coding_rate_equals_truth(truth_run, dataset):
    truth, result = truth_run
    for period in PERIODS:
        rec = truth.records(dataset, period)
        compare(result.metrics, sums(rec, rec.coded, rec.governed), "coding_rate", dataset, period)


@pytest.mark.parametrize("dataset", REGISTERS)
def test_mapping_rate_equals_truth(truth_run, dataset):
    truth, result = truth_run
    for period in PERIODS:
        rec = truth.records(dataset, period)
        compare(result.metrics, sums(rec, rec.on_map, rec.governed), "mapping_rate", dataset, period)


def test_house_coding_rate_equals_truth(truth_run):
    truth, result = truth_run
    for period in PERIODS:
        rec = truth.records("houses", period)
        compare(result.metrics, sums(rec, rec.code_ok, np.ones(len(rec))), "house_coding_rate", "houses", period)


def _pipeline_truth(truth: Truth):
    log = pd.read_parquet(truth.city / "data" / "address_pipeline.parquet")
    last = log[(log.stage == "网格核验") & (log.result == "通过")].groupby("address_id")["completed_at"].min()
    start = log.groupby("address_id")["submitted_at"].min()
    prod = pd.DataFrame({"period": last.dt.strftime("%Y-%m"), "lead": (last - start.reindex(last.index)).dt.total_seconds() / 86400})
    failed_steps = truth.defects.loc[truth.defects.defect == "first_submission_failed", "record_id"]
    failed = failed_steps.str.rsplit("-", n=2).str[0]
    stage_of_fail = failed_steps.str.rsplit("-", n=2).str[1].astype(int)
    addr_defects = truth.defects[(truth.defects.dataset == "addresses") & (truth.defects.rule_id != "")]
    prod["qualified"] = ~prod.index.isin(failed) & ~prod.index.isin(addr_defects.record_id)
    for k in range(1, 7):
        prod[f"s{k}"] = ~prod.index.isin(failed[stage_of_fail == k])
    comm = truth.data["addresses"].set_index("address_id")["community_code"]
    prod["community_code"] = comm.reindex(prod.index).to_numpy()
    return prod


def test_address_qualification_and_stage_pass_rates_equal_truth(truth_run):
    truth, result = truth_run
    prod = _pipeline_truth(truth)
    assert (~prod.qualified).any() and prod.qualified.any()
    for period in PERIODS[1:]:
        p = prod[prod.period == period]
        compare(result.metrics, sums(p, p.qualified, np.ones(len(p))), "address_qualification_rate", "address_pipeline", period)
        for k in range(1, 7):
            compare(result.metrics, sums(p, p[f"s{k}"], np.ones(len(p))), f"stage_pass_rate_s{k}", "address_pipeline", period)


@pytest.mark.parametrize("metric_id,q", [("lead_time_median_days", 0.5), ("lead_time_p90_days", 0.9)])
def test_lead_time_quantiles_per_area(truth_run, metric_id, q):
    truth, result = truth_run
    prod = _pipeline_truth(truth)
    m = result.metrics[(result.metrics.metric_id == metric_id)]
    for period in PERIODS[1:]:
        p = prod[prod.period == period]
        groups = {("county", p.community_code.iloc[0][:6]): p.lead,
                  **{("street", s): g.lead for s, g in p.groupby(p.community_code.str.slice(0, 9))},
                  **{("community", c): g.lead for c, g in p.groupby("community_code")}}
        got = m[m.period == period].set_index(["area_level", "area_code"])
        for key, lead in groups.items():
            row = got.loc[key]
            expected = np.quantile(lead.to_numpy(), q)
            assert row.value == pytest.approx(expected, abs=1e-9), (period, key)
            assert row.denominator == len(lead) and row.numerator == (lead <= expected + 1e-12).sum()


def test_white_model_coverage_follows_the_delivery_batches(truth_run):
    truth, result = truth_run
    produced = truth.facts["white_model_produced_by"]
    m = result.metrics[result.metrics.metric_id == "white_model_coverage"]
    for period in PERIODS:
        comm = m[(m.period == period) & (m.area_level == "community")].set_index("area_code")
        assert set(comm.index) == set(produced)
        done = pd.Series({c: p <= period for c, p in produced.items()})
        np.testing.assert_allclose(comm.loc[done.index, "value"].to_numpy(dtype=float), done.astype(float).to_numpy(), atol=1e-9)
        county = m[(m.period == period) & (m.area_level == "county")].iloc[0]
        expected = comm.loc[done[done].index, "denominator"].sum() / comm["denominator"].sum()
        assert county.value == pytest.approx(expected, abs=1e-9)
        assert county.denominator == pytest.approx(comm["denominator"].sum())
    # the last batch came after the 2024-06-30 deadline
    assert m[(m.period == "2024-06") & (m.area_level == "county")].value.iloc[0] < 1
    assert m[(m.period == "2024-09") & (m.area_level == "county")].value.iloc[0] == pytest.approx(1.0)


def test_fine_model_coverage_of_the_central_area(truth_run):
    truth, result = truth_run
    m = result.metrics[(result.metrics.metric_id == "fine_model_coverage") & (result.metrics.area_level == "county")]
    s = m.set_index("period")["value"]
    assert s["2024-09"] == pytest.approx(truth.facts["fine_model_coverage_of_central_area"], abs=2e-4)
    assert (s.drop("2024-09") == 0).all()  # produced_by 2024-09: nothing before


def test_white_model_completeness_against_the_house_register(truth_run):
    truth, result = truth_run
    houses = truth.data["houses"].join(truth.life[truth.life.dataset == "houses"].set_index("record_id")[["entry_period"]],
                                       on="house_id")
    dangling = truth._has("houses", {"house_no_building"})
    for period in PERIODS:
        h = houses[(houses.entry_period <= period)]
        ref = h.building_id.where(h.building_id.notna(), h.building_code)
        h = h.assign(ref=ref)[ref.notna()].drop_duplicates(["community_code", "ref"])
        matched = ~h.house_id.isin(dangling)
        compare(result.metrics, sums(h, matched, np.ones(len(h))), "white_model_completeness", "buildings", period)


@pytest.mark.parametrize("dataset", REGISTERS)
def test_counts_are_monotone_over_the_months(truth_run, dataset):
    """The generator only adds records and maps them: every county numerator and denominator is non-decreasing."""
    _, result = truth_run
    m = result.metrics[(result.metrics.dataset == dataset) & (result.metrics.area_level == "county")]
    for metric_id, g in m.groupby("metric_id"):
        g = g.sort_values("period")
        assert g.period.tolist() == list(PERIODS)
        assert (np.diff(g.numerator) >= 0).all() and (np.diff(g.denominator) >= 0).all(), metric_id
    mapping = m[m.metric_id == "mapping_rate"].sort_values("period")
    assert mapping.numerator.iloc[-1] > mapping.numerator.iloc[0]


def test_upper_levels_are_sums_of_lower_levels(truth_run):
    _, result = truth_run
    m = result.metrics[~result.metrics.metric_id.str.startswith("lead_time")]
    comm = m[m.area_level == "community"].assign(parent=lambda d: d.area_code.str.slice(0, 9))
    street = m[m.area_level == "street"]
    county = m[m.area_level == "county"]
    keys = ["metric_id", "dataset", "period"]
    s = comm.groupby(keys + ["parent"])[["numerator", "denominator"]].sum()
    st = street.set_index(keys + ["area_code"])[["numerator", "denominator"]]
    st.index.names = keys + ["parent"]
    joined = st.join(s.rename(columns=lambda c: c + "_sum"), how="inner")
    assert len(joined) >= len(street) * 0.9
    np.testing.assert_allclose(joined.numerator, joined.numerator_sum, rtol=1e-9)
    np.testing.assert_allclose(joined.denominator, joined.denominator_sum, rtol=1e-9)
    c = street.groupby(keys)[["numerator", "denominator"]].sum().join(
        county.set_index(keys)[["numerator", "denominator"]].rename(columns=lambda c: c + "_county"))
    np.testing.assert_allclose(c.numerator, c.numerator_county, rtol=1e-9)
    np.testing.assert_allclose(c.denominator, c.denominator_county, rtol=1e-9)


def test_every_number_carries_numerator_denominator_and_fingerprint(truth_run):
    _, result = truth_run
    m = result.metrics
    assert list(m.columns[:8]) == ["metric_id", "dataset", "area_code", "area_level", "period", "numerator", "denominator", "value"]
    assert m[["numerator", "denominator"]].notna().all().all()
    assert m.inputs_sha256.str.fullmatch(r"[0-9a-f]{64}").all()
    assert set(m.area_level) == {"county", "street", "community"}
    # a month's fingerprint differs from another month's for the snapshotted registers, not for static layers
    fp = m[(m.metric_id == "mapping_rate") & (m.dataset == "persons")].groupby("period").inputs_sha256.first()
    assert fp.nunique() == len(PERIODS)
    assert result.inputs and all(len(v) == 64 for v in result.inputs.values())
