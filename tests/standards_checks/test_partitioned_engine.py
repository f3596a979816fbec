"""The partitioned engine gives the pandas engine's findings, row for row, on the sample city's registers."""

import warnings

import pandas as pd
import pytest

from cimlib import Catalog
from standards_checks.api import RULES, dataset_rules
from standards_checks.backends.pandas import Context, check_dataset
from standards_checks.backends.partitioned import check_partitioned, partitionable, row_source

REGISTERS = ["addresses", "persons", "houses", "units"]


@pytest.fixture(scope="module")
def catalog(sample_cities):
    return Catalog.load(sample_cities.city(7) / "data_catalog.yaml")


@pytest.mark.parametrize("name", REGISTERS)
@pytest.mark.parametrize("rows", [97, 250])
def test_partitioned_findings_equal_in_memory(catalog, name, rows):
    period = catalog.periods(name)[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole_applied, part_applied = [], []
        whole = check_dataset(Context(catalog, period=period, cache=None), name, whole_applied)
        source = row_source(catalog, name, period, rows)
        got = check_partitioned(Context(catalog, period=period, cache=None), name, source, part_applied)
    assert source.n > 1
    pd.testing.assert_frame_equal(got, whole)
    assert part_applied == whole_applied
    set_rules = {r.rule_id for r in dataset_rules(catalog[name].schema) if r.reads}
    assert set(whole["rule_id"]) & set_rules and set(whole["rule_id"]) - set_rules   # both kinds are compared


def test_set_rules_find_duplicates_across_partitions(catalog):
    """Duplicates whose records fall in different partitions are found (the set rules see the whole register)."""
    period = catalog.periods("persons")[-1]
    source = row_source(catalog, "persons", period, 97)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = check_partitioned(Context(catalog, period=period, cache=None), "persons", source)
    whole = catalog.read("persons", period).reset_index(drop=True)
    dup = found[found["rule_id"] == "PER-002"]
    assert len(dup)
    where = whole.reset_index().set_index("person_id")["index"]
    parts = (where.reindex(dup["record_id"]).to_numpy() // 97)
    values = dup.assign(part=parts).groupby("value")["part"].nunique()
    assert (values > 1).any()    # at least one repeated 公民身份号码 spans two partitions


def test_every_register_set_rule_declares_what_it_reads():
    for schema in REGISTERS:
        assert partitionable(schema)
        for rule in dataset_rules(schema):
            assert rule.per_record or rule.reads, rule.rule_id


def test_a_set_rule_without_reads_is_refused(catalog, monkeypatch):
    import dataclasses

    rule = RULES["PER-002"]
    monkeypatch.setitem(RULES, "PER-002", dataclasses.replace(rule, reads=None))
    assert not partitionable("persons")
    source = row_source(catalog, "persons", catalog.periods("persons")[-1], 1_000)
    with pytest.raises(ValueError, match="reads"):
        check_partitioned(Context(catalog, cache=None), "persons", source)
