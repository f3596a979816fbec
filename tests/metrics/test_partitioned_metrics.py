"""Metrics with the registers read in partitions equal the in-memory path: the medium city, locally and on a
two-worker dask.distributed LocalCluster."""

import warnings

import numpy as np
import pandas as pd
import pytest

from cimlib import Catalog
from cimlib.metrics import compute_metrics
from cimlib.metrics import compute as _compute

PERIODS = ["2024-08", "2024-09"]
ROWS = 30_000   # the medium city's 200k persons in 7 partitions


@pytest.fixture(scope="module")
def medium(sample_cities):
    return Catalog.load(sample_cities.medium(7) / "data_catalog.yaml")


def _run(catalog, periods, **kw):
    findings = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compute_metrics(catalog, periods, cache=None, findings=findings, **kw)
    return result, findings


@pytest.fixture(scope="module")
def in_memory(medium):
    return _run(medium, PERIODS, partition="never")


def _assert_same(a, fa, b, fb):
    pd.testing.assert_frame_equal(b.metrics, a.metrics)
    pd.testing.assert_frame_equal(b.evidence, a.evidence)
    pd.testing.assert_frame_equal(b.problems, a.problems)
    pd.testing.assert_frame_equal(b.link_summary, a.link_summary)
    assert b.inputs == a.inputs
    assert fb.keys() == fa.keys()
    for key in fa:
        pd.testing.assert_frame_equal(fb[key].reset_index(drop=True), fa[key].reset_index(drop=True))
    assert b.matches.keys() == a.matches.keys() and a.matches
    for key, x in a.matches.items():
        y = b.matches[key]
        pd.testing.assert_frame_equal(y.matches, x.matches)
        pd.testing.assert_frame_equal(y.summary, x.summary)
        pd.testing.assert_frame_equal(y.areas, x.areas)
        assert (y.records, y.period, y.dataset) == (x.records, x.period, x.dataset)
        assert np.array_equal(y.positions, x.positions)


def test_partitioned_metrics_equal_in_memory(medium, in_memory):
    a, fa = in_memory
    b, fb = _run(medium, PERIODS, partition="always", partition_rows=ROWS)
    _assert_same(a, fa, b, fb)
    assert len(a.evidence) and {"mapping_rate_attainable", "white_model_completeness"} <= set(a.metrics["metric_id"])


def test_partitioned_metrics_on_a_two_worker_cluster(medium, in_memory):
    distributed = pytest.importorskip("distributed")
    a, fa = in_memory
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
            b, fb = _run(medium, PERIODS[-1:], partition="always", partition_rows=ROWS, scheduler=cluster.scheduler_address)
            assert len(client.scheduler_info()["workers"]) == 2
    ran = {t["key"][0] if isinstance(t["key"], tuple) else t["key"] for t in stream.data}
    workers = {t["worker"] for t in stream.data}
    assert any(str(k).startswith("run-") or "_scan" in str(k) for k in ran) and len(workers) == 2   # on both workers
    one = {k: v for k, v in fa.items() if k[1] == PERIODS[-1]}
    keep = lambda df: df[df["period"] == PERIODS[-1]].reset_index(drop=True)   # noqa: E731
    a1 = type(a)(keep(a.metrics), keep(a.evidence), a.problems, keep(a.link_summary), a.inputs,
                  {k: v for k, v in a.matches.items() if k[1] == PERIODS[-1]})
    b1 = type(b)(b.metrics, b.evidence, b.problems, b.link_summary, b.inputs, b.matches)
    a1.inputs = {k: v for k, v in a.inputs.items() if k in b.inputs}
    _assert_same(a1, one, b1, fb)


def test_auto_partitions_a_register_above_the_memory_share(medium, monkeypatch):
    period = PERIODS[-1]
    from standards_checks.backends import partitioned as P

    persons = P.register_bytes(medium, "persons", period)
    assert persons > 0
    monkeypatch.setenv(P.MEMORY_SHARE_ENV, str(persons / P._memory_bytes() * 0.5))
    assert _compute._too_large(_compute._Run(medium, 5.0, None), period)
    monkeypatch.setenv(P.MEMORY_SHARE_ENV, "0.9")
    assert not _compute._too_large(_compute._Run(medium, 5.0, None), period)
    assert P.should_partition(medium, "persons", period, "always") and not P.should_partition(medium, "admin_areas", period, "always")
    monkeypatch.setenv(P.PARTITION_ENV, "never")
    assert P.partition_mode() == "never" and not P.should_partition(medium, "persons", period)
    with pytest.raises(ValueError, match="partition"):
        compute_metrics(medium, [period], cache=None, partition="sometimes")
