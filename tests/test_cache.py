"""The record cache (:mod:`cimlib.cache`): a record's rule results are reused wherever its content recurs, and the
findings, summaries and metrics are exactly those of checking every record."""

from __future__ import annotations

import dataclasses
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner

from cimlib.cache import RecordCache, record_hashes
from cimlib.catalog import Catalog
from standards_checks.api import RULES, dataset_rules
from standards_checks.backends.pandas import (
    _GENERIC,
    CACHED_SCHEMAS,
    Context,
    _pandera_outcome,
    check_dataset,
)
from standards_checks.schemas import MODELS


@pytest.fixture(scope="module")
def catalog(sample_cities) -> Catalog:
    return Catalog.load(sample_cities.city(7) / "data_catalog.yaml")


def _registers(catalog):
    return {e.schema: e.name for e in catalog if e.schema in CACHED_SCHEMAS}


def _check(catalog, period, name, cache, frames=None):
    ctx = Context(catalog, period, cache=cache)
    for key, (schema, frame) in (frames or {}).items():
        ctx.register(key, schema, frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check_dataset(ctx, name)


def test_hashes_follow_the_whole_content():
    df = pd.DataFrame({"a": pd.Series(["x", "x", "x", "y", None, ""], dtype="str"), "b": [1, 1, 2, 1, 1, 1]})
    h1, h2 = record_hashes(df)
    assert h1[0] == h1[1] and h2[0] == h2[1]
    assert len({(a, b) for a, b in zip(h1[1:], h2[1:])}) == 5          # a field changed, missing vs empty text
    g1, _ = record_hashes(df[["b", "a"]])
    assert (g1 != h1).all()                                            # fields are hashed in order
    mixed, _ = record_hashes(pd.DataFrame({"v": pd.Series([1, "1", 1.0, None], dtype=object)}))
    assert len(set(mixed)) == 4                                        # 1, "1", 1.0 and missing are different
    pts = gpd.GeoDataFrame({"id": ["p", "p", "p", "p"]},
                           geometry=[shapely.Point(114, 30), shapely.Point(114, 30), shapely.Point(114, 30.000001),
                                     shapely.Point(114, 30, 5)], crs=4490)
    gh, _ = record_hashes(pts)
    assert gh[0] == gh[1] and len(set(gh)) == 3                        # geometry (and its Z) is content


def test_cached_findings_equal_checking_every_record(catalog, tmp_path):
    regs = _registers(catalog)
    periods = catalog.periods(regs["persons"])
    cache = RecordCache(tmp_path)
    for period in (periods[0], periods[1], periods[0]):
        for name in regs.values():
            plain = _check(catalog, period, name, None)
            got = _check(catalog, period, name, cache)
            pd.testing.assert_frame_equal(plain, got)
    assert cache.hits > cache.misses > 0
    # a new process reads the same results from disk: the first month again is all hits
    again = RecordCache(tmp_path)
    for name in regs.values():
        pd.testing.assert_frame_equal(_check(catalog, periods[0], name, None), _check(catalog, periods[0], name, again))
    assert again.misses == 0 and again.hits > 0


def test_only_changed_records_are_checked_again(catalog, tmp_path):
    regs = _registers(catalog)
    period = catalog.periods(regs["persons"])[-1]
    persons = catalog.read(regs["persons"], period=period)
    cache = RecordCache(tmp_path)
    _check(catalog, period, regs["persons"], cache)
    edited = persons.copy()
    ok = np.flatnonzero(edited["phone"].notna().to_numpy())[:3]
    edited.loc[edited.index[ok], "phone"] = "12345"                   # three records changed: a bad phone number
    edited = pd.concat([edited, edited.iloc[[-1]]], ignore_index=True)  # and an unchanged record delivered twice
    before = cache.misses, cache.hits
    got = _check(catalog, period, regs["persons"], cache, {regs["persons"]: ("persons", edited)})
    assert cache.misses - before[0] == 3
    assert cache.hits - before[1] == len(edited) - 3
    plain = _check(catalog, period, regs["persons"], None, {regs["persons"]: ("persons", edited)})
    pd.testing.assert_frame_equal(plain, got)
    changed = set(edited["person_id"].iloc[ok])
    assert changed <= set(got.loc[got["rule_id"] == "PER-004", "record_id"])
    assert "SYS-005" in set(got["rule_id"])                            # the duplicate still found (a set rule)


def test_an_edited_reference_layer_is_not_cached(catalog, tmp_path):
    regs = _registers(catalog)
    period = catalog.periods(regs["houses"])[-1]
    buildings = catalog.read("buildings").iloc[::2].copy()             # half the buildings: links break
    cache = RecordCache(tmp_path)
    got = _check(catalog, period, regs["houses"], cache, {"buildings": ("buildings", buildings)})
    assert cache.hits == cache.misses == 0 and not any(tmp_path.rglob("seg-*.parquet"))
    plain = _check(catalog, period, regs["houses"], None, {"buildings": ("buildings", buildings)})
    pd.testing.assert_frame_equal(plain, got)
    # the delivered layer is cached, under another context: the edited layer's results are not reused for it
    pd.testing.assert_frame_equal(_check(catalog, period, regs["houses"], None), _check(catalog, period, regs["houses"], cache))


@pytest.mark.parametrize("schema", CACHED_SCHEMAS)
def test_per_record_rules_judge_each_record_by_itself(catalog, schema):
    """A ``per_record`` rule (and every pandera column check) gives each record the same result in any subset."""
    name = _registers(catalog)[schema]
    period = catalog.periods(name)[-1]
    ctx = Context(catalog, period, cache=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = ctx.frame(name)
        rng = np.random.default_rng(3)
        pick = np.sort(rng.choice(len(frame), len(frame) // 3, replace=False))[::-1]   # a third, in reverse
        sub = frame.iloc[pick]
        ctx.note_schema(sub, schema)
        rules = [RULES[r] for r in _GENERIC] if isinstance(frame, gpd.GeoDataFrame) else []
        rules = [r for r in rules + dataset_rules(schema) if r.per_record]
        assert rules or schema == "persons"
        for rule in rules:
            whole = np.asarray(rule.fn(frame, ctx), dtype=bool)[pick]
            part = np.asarray(rule.fn(sub, ctx), dtype=bool)
            assert (whole == part).all(), rule.rule_id
        full, _ = _pandera_outcome(name, MODELS[schema], frame)
        subset, _ = _pandera_outcome(name, MODELS[schema], sub)
        fails = {o: set(frame.index[it[2]]) for o, it in full if not isinstance(it, pd.DataFrame)}
        fails_sub = {o: set(sub.index[it[2]]) for o, it in subset if not isinstance(it, pd.DataFrame)}
        for order in fails.keys() | fails_sub.keys():
            assert fails.get(order, set()) & set(sub.index) == fails_sub.get(order, set()), order


def test_a_rule_that_cannot_run_leaves_nothing_in_the_cache(catalog, tmp_path, monkeypatch):
    regs = _registers(catalog)
    period = catalog.periods(regs["houses"])[-1]
    rule = RULES["HSE-006"]

    def broken(frame, ctx):
        raise ValueError("unexpected value")

    monkeypatch.setitem(RULES, "HSE-006", dataclasses.replace(rule, fn=broken))
    cache = RecordCache(tmp_path)
    got = _check(catalog, period, regs["houses"], cache)
    pd.testing.assert_frame_equal(_check(catalog, period, regs["houses"], None), got)
    assert "SYS-006" in set(got["rule_id"])
    assert not any(tmp_path.rglob("seg-*.parquet"))


def test_the_cache_holds_no_field_values(catalog, tmp_path):
    regs = _registers(catalog)
    period = catalog.periods(regs["persons"])[-1]
    _check(catalog, period, regs["persons"], RecordCache(tmp_path))
    files = list(tmp_path.rglob("seg-*.parquet"))
    assert files
    persons = catalog.read(regs["persons"], period=period)
    values = set(persons["id_number"].dropna()) | set(persons["name"].dropna()) | set(persons["phone"].dropna())
    for f in files:
        t = pq.read_table(f)
        assert t.column_names == ["h1", "h2", "fails"]
        text = " ".join(t.column("fails").to_pylist())
        assert not any(v in text for v in list(values)[:2000] if len(v) >= 5)
        assert "PER-001" in text                                        # the rule ids are there


def test_metrics_are_the_same_with_the_cache(sample_cities, tmp_path):
    from cimlib.metrics import compute_metrics

    cat = Catalog.load(sample_cities.city(7) / "data_catalog.yaml")
    periods = cat.periods(_registers(cat)["persons"])[-2:]
    plain = compute_metrics(cat, periods, cache=None)
    cache = RecordCache(tmp_path)
    cold = compute_metrics(cat, periods, cache=cache)
    warm = compute_metrics(cat, periods, cache=cache)
    assert cache.hits > 0
    for got in (cold, warm):
        pd.testing.assert_frame_equal(plain.metrics, got.metrics)
        pd.testing.assert_frame_equal(plain.evidence, got.evidence)


def test_cli_no_cache(sample_cities, tmp_path):
    from cimlib.cli import main

    cat = sample_cities.city(7) / "data_catalog.yaml"
    env = {"CIM_CACHE": str(tmp_path / "cache")}
    runner = CliRunner()
    args = ["check", "--catalog", str(cat), "--dataset", "persons", "--quiet"]
    first = runner.invoke(main, [*args, "--out", str(tmp_path / "a")], env=env)
    assert first.exit_code == 0, first.output
    assert "记录缓存" in first.output
    off = runner.invoke(main, [*args, "--no-cache", "--out", str(tmp_path / "b")], env=env)
    assert off.exit_code == 0, off.output
    assert "记录缓存" not in off.output
    assert (tmp_path / "a" / "findings.csv").read_bytes() == (tmp_path / "b" / "findings.csv").read_bytes()


@pytest.mark.parametrize("mixed", [True, False])
def test_a_malformed_register_gives_the_same_findings(catalog, tmp_path, mixed):
    """Numbers in a text column (mixed Python types: not cached), a missing field and records without an id: cold and
    warm equal the plain check."""
    regs = _registers(catalog)
    period = catalog.periods(regs["persons"])[-1]
    bad = catalog.read(regs["persons"], period=period).drop(columns=["phone"])
    if mixed:
        bad["id_number"] = bad["id_number"].astype(object)
        bad.loc[bad.index[:5], "id_number"] = 12345                    # numbers where text is expected
    bad.loc[bad.index[5:8], "person_id"] = None                        # records without an identifier
    frames = {regs["persons"]: ("persons", bad)}
    plain = _check(catalog, period, regs["persons"], None, frames)
    assert {"SYS-002", "SYS-004"} <= set(plain["rule_id"])
    cache = RecordCache(tmp_path)
    for _ in range(2):
        pd.testing.assert_frame_equal(plain, _check(catalog, period, regs["persons"], cache, frames))
    assert (cache.hits == 0) if mixed else (cache.hits >= len(bad) - 8)
