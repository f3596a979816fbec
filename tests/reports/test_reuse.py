"""Reports reuse the main run (issue 17 item 5): the outputs of ``cim metrics`` and ``cim sensors`` computed from the
same inputs, options and code are read instead of computed, and give the same tables; a changed input, catalog or
code means computing again."""

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from cimlib.catalog import Catalog
from cimlib.cli import main
from cimlib.reports.context import ReportContext

TABLES = ["indicators", "metrics", "inputs", "problems", "worklist", "worklist_overview", "worklist_records",
          "sensors"]


@pytest.fixture(scope="module")
def main_run(city, tmp_path_factory):
    """``cim metrics`` and ``cim sensors`` on the shared city, as the README's main job runs them."""
    out = tmp_path_factory.mktemp("main") / "reports"
    cat = str(city / "data_catalog.yaml")
    for args in (["metrics"], ["sensors", "--cube", "none"]):
        res = CliRunner().invoke(main, [*args, "--catalog", cat, "--out", str(out / args[0]), "--quiet"])
        assert res.exit_code == 0, res.output
    return out


def _tables(ctx: ReportContext) -> None:
    for name in TABLES:
        getattr(ctx, name)()


def _same_folders(a, b) -> None:
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    assert "metrics.parquet" in names
    for rel in names:
        if rel.endswith(".parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(a / rel), pd.read_parquet(b / rel), obj=rel)
        else:
            assert json.loads((a / rel).read_text(encoding="utf-8")) == json.loads((b / rel).read_text(encoding="utf-8")), rel


@pytest.mark.parametrize("when", [{"as_of": "2024-09-30"}, {"period": "2024-06"}], ids=["acceptance", "monthly"])
def test_reused_tables_equal_computed_ones(city, main_run, tmp_path, shared_acceptance, when):
    cat = city / "data_catalog.yaml"
    reused = ReportContext(cat, cache_dir=tmp_path / "reused", reuse_dir=main_run, **when)
    _tables(reused)
    got = reused.reused
    assert got["from"] == str(main_run.resolve())
    assert set(got["tables"]) >= {"metrics"}, got["not_reused"]
    record = got["tables"]["metrics"]
    assert record["from"] == str((main_run / "metrics").resolve())
    assert record["files"]["metrics.parquet"] == _sha(main_run / "metrics" / "metrics.parquet")
    if "as_of" in when:      # the readings are of 2024-09: the acceptance report shows them, the June one does not
        assert "sensors 2024-09" in got["tables"], got["not_reused"]
        assert set(got["tables"]["sensors 2024-09"]["used_for"]) >= {"health", "anomalies", "coverage"}
    else:
        assert record["periods"] == [f"2024-0{m}" for m in range(1, 7)]
    computed = ReportContext(cat, cache_dir=tmp_path / "computed", **when)
    _tables(computed)
    assert computed.reused == {}
    _same_folders(tmp_path / "reused", tmp_path / "computed")


def _sha(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def moved(city, main_run, tmp_path):
    """A copy of the city and of its main run's outputs, to change."""
    shutil.copytree(city, tmp_path / "city", ignore=shutil.ignore_patterns("delivery", "truth"))
    shutil.copytree(main_run, tmp_path / "reports")
    return tmp_path / "city", tmp_path / "reports"


def test_a_changed_input_catalog_or_code_means_computing_again(moved, monkeypatch):
    from cimlib import reuse

    city, out = moved
    cat = Catalog.load(city / "data_catalog.yaml")
    all_months = [f"2024-0{m}" for m in range(1, 10)]
    res, findings, record = reuse.reusable_metrics(out / "metrics", cat, all_months, tolerance_m=5.0)
    assert res is not None, findings      # moved with its data: the same inputs
    assert set(res.metrics["period"]) == set(all_months) and findings and res.matches
    tables, why = reuse.reusable_sensors(out / "sensors", cat, "2024-09",
                                         reuse.sensors_parameters(None, 50.0, 300.0, False))
    assert tables is not None, why
    # other options are not the same analysis
    assert reuse.reusable_metrics(out / "metrics", cat, all_months, tolerance_m=10.0)[0] is None
    assert reuse.reusable_sensors(out / "sensors", cat, "2024-09", reuse.sensors_parameters(None, 80.0, 300.0, False))[0] is None

    # one snapshot file of March changed: no month from March on is reused, earlier ones still are
    victim = city / "snapshots" / "persons" / "period=2024-03" / "part-0.parquet"
    frame = pd.read_parquet(victim)
    frame.loc[0, "name"] = "改动"
    frame.to_parquet(victim, index=False)
    res, why, _ = reuse.reusable_metrics(out / "metrics", cat, all_months, tolerance_m=5.0)
    assert res is None and "period=2024-03" in why and "已变更" in why
    assert reuse.reusable_metrics(out / "metrics", cat, ["2024-01", "2024-02"], tolerance_m=5.0)[0] is not None

    # a report on the changed city computes the metrics (the reused copy would be wrong) and says why
    import cimlib.metrics

    class Computed(Exception):
        pass

    def compute(*args, **kwargs):
        raise Computed

    monkeypatch.setattr(cimlib.metrics, "compute_metrics", compute)
    ctx = ReportContext(cat, as_of="2024-09-30", reuse_dir=out)
    with pytest.raises(Computed):
        ctx.indicators()
    assert "metrics" not in ctx.reused["tables"] and "period=2024-03" in ctx.reused["not_reused"]["metrics"]

    # a changed reading file, a changed catalog, other code: nothing is reused
    part = sorted((city / "data" / "readings").rglob("*.parquet"))[-1]
    pd.read_parquet(part).iloc[:-1].to_parquet(part, index=False)
    tables, why = reuse.reusable_sensors(out / "sensors", cat, "2024-09", reuse.sensors_parameters(None, 50.0, 300.0, False))
    assert tables is None and "readings" in why
    with open(city / "data_catalog.yaml", "a", encoding="utf-8") as fh:
        fh.write("\n# 改动\n")
    cat = Catalog.load(city / "data_catalog.yaml")
    assert "数据目录" in reuse.reusable_metrics(out / "metrics", cat, ["2024-01"], tolerance_m=5.0)[1]
    monkeypatch.setattr(reuse, "code_fingerprint", lambda: "0" * 64)
    assert "程序" in reuse.reusable_sensors(out / "sensors", cat, "2024-09",
                                            reuse.sensors_parameters(None, 50.0, 300.0, False))[1]


def test_a_report_without_a_main_run_says_what_it_did_not_reuse(acceptance_run):
    _, _, run, _ = acceptance_run
    m = run.manifest["reuse"]
    assert m["tables"] == {} and "manifest.json" in m["not_reused"]["metrics"]
