"""The checks find exactly what the sample city injected: no false positives, no misses, per rule."""

import pandas as pd
import pytest

from cimlib import Catalog
from cimlib.demo._defects import DEFECT_RULES
from standards_checks import RULES, run_checks

CHECKED = sorted({d for d, _ in DEFECT_RULES})


@pytest.fixture(scope="module", params=[("small", 7), ("small", 11), ("medium", 7), ("medium", 11)], ids=lambda p: f"{p[0]}-{p[1]}")
def city_run(request, sample_cities):
    scale, seed = request.param
    city = sample_cities.medium(seed) if scale == "medium" else sample_cities.city(seed)
    result = run_checks(Catalog.load(city / "data_catalog.yaml"))
    truth = pd.read_csv(city / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    return city, result, truth


def test_findings_equal_truth_per_rule(city_run):
    _, result, truth = city_run
    f = result.findings
    got = f[f.dataset.isin(CHECKED)]
    expected = truth[truth.dataset.isin(CHECKED) & (truth.rule_id != "")]
    for rule_id in sorted(set(expected.rule_id) | set(got.rule_id)):
        g = set(got.loc[got.rule_id == rule_id, ["dataset", "record_id"]].itertuples(index=False, name=None))
        e = set(expected.loc[expected.rule_id == rule_id, ["dataset", "record_id"]].itertuples(index=False, name=None))
        assert g == e, f"{rule_id}: {len(g - e)} false positives e.g. {sorted(g - e)[:3]}, {len(e - g)} misses e.g. {sorted(e - g)[:3]}"


def test_clean_layers_have_no_findings(city_run):
    _, result, _ = city_run
    f = result.findings
    others = f[~f.dataset.isin(CHECKED)]
    assert others.empty, others.groupby(["dataset", "rule_id"]).size().to_dict()


def test_every_injected_rule_ran_and_summary_counts(city_run):
    _, result, truth = city_run
    s = result.summary.set_index(["dataset", "rule_id"])
    for (dataset, rule_id), grp in truth[truth.rule_id != ""].groupby(["dataset", "rule_id"]):
        assert s.loc[(dataset, rule_id), "failed"] == grp.record_id.nunique()
        assert s.loc[(dataset, rule_id), "checked"] > 0
    assert (s["rate"] <= 1).all()


def test_findings_columns_and_masking(city_run):
    _, result, _ = city_run
    f = result.findings
    assert list(f.columns) == ["dataset", "rule_id", "severity", "record_id", "column", "value", "message", "standard", "geometry"]
    ids = f.loc[f.rule_id == "PER-001", "value"].dropna()
    assert len(ids) and ids.str.contains(r"^\d{6}\*{8}[0-9X]{4}$", regex=True).all()
    assert set(f.severity) <= {"error", "warning"}
    assert f.rule_id.map(lambda r: r in RULES).all()
