"""The sample city loaded into PostGIS with ``cim load`` gives the same checks, metrics, sensors and report as its files."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from cimlib.catalog import Catalog
from cimlib.cli import main
from cimlib.demo import build_sample_city
from cimlib.metrics import compute_metrics
from cimlib.reports import acceptance
from cimlib.reports.changes import period_findings
from cimlib.reports.runner import run_report
from cimlib.reports.verify import verify_manifest
from cimlib.sensors import analyse_sensors
from standards_checks import run_checks

AS_OF = "2024-09-30"


@pytest.fixture(scope="module")
def both(postgis_url, tmp_path_factory):
    """(files catalog, PostGIS catalog) of the small sample city, loaded through the command line."""
    city = build_sample_city(tmp_path_factory.mktemp("pgcity") / "city", seed=7, scale="small", progress=False).parent
    out = city.parent / "pg"
    res = CliRunner().invoke(main, ["load", "--catalog", str(city / "data_catalog.yaml"), "--to", postgis_url,
                                    "--out", str(out), "--schema", "city", "--replace", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "仍为文件（栅格）：dem" in res.output
    return Catalog.load(city / "data_catalog.yaml"), Catalog.load(out / "data_catalog.yaml")


def test_every_vector_and_table_entry_is_a_table(both):
    files, pg = both
    assert [e.name for e in pg] == [e.name for e in files]
    assert {e.name for e in pg if e.format != "postgis"} == {"dem"}
    assert pg["persons"].snapshots.periods == tuple(files.periods("persons"))


def test_checks_find_the_same_problems(both):
    files, pg = both
    a, b = run_checks(files), run_checks(pg)
    key = ["dataset", "rule_id"]
    pd.testing.assert_frame_equal(a.summary.sort_values(key).reset_index(drop=True),
                                  b.summary.sort_values(key).reset_index(drop=True), check_dtype=False)
    cols = ["dataset", "rule_id", "record_id", "column", "value"]
    assert len(a.findings) == len(b.findings) > 0
    pd.testing.assert_frame_equal(a.findings[cols].astype(str).sort_values(cols).reset_index(drop=True),
                                  b.findings[cols].astype(str).sort_values(cols).reset_index(drop=True))


def test_metrics_are_the_same(both):
    files, pg = both
    key = ["metric_id", "dataset", "area_code", "area_level", "period"]
    a = compute_metrics(files, ["2024-06", "2024-09"]).metrics.sort_values(key).reset_index(drop=True)
    b = compute_metrics(pg, ["2024-06", "2024-09"]).metrics.sort_values(key).reset_index(drop=True)
    cols = [*key, "numerator", "denominator", "value"]
    assert len(a) > 1000
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert (a["inputs_sha256"] != b["inputs_sha256"]).all()  # the fingerprints name different sources


def test_sensor_analysis_is_the_same(both):
    files, pg = both
    a, b = analyse_sensors(files, "2024-09"), analyse_sensors(pg, "2024-09")
    for name in ("health", "health_daily", "alarms", "anomalies", "coverage", "bad_readings"):
        x, y = getattr(a, name), getattr(b, name)
        x, y = (f.drop(columns=[c for c in f if "sha256" in c]).reset_index(drop=True) for f in (x, y))
        pd.testing.assert_frame_equal(x, y, check_dtype=False, obj=name)
    assert b.rows_read == a.rows_read > 0 and b.problems.empty


def test_the_report_from_postgis_equals_the_files(both, tmp_path):
    files, pg = both
    run = run_report("acceptance", catalog=pg.path, as_of=AS_OF, out_root=tmp_path / "reports", progress=False)
    manifest = json.loads((run.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"] and all(k.startswith("postgis:") for k in manifest["inputs"] if "dem" not in k)
    reported = pd.DataFrame(manifest["indicators"]).set_index(["indicator_id", "area_code"]).sort_index()
    expected = acceptance(files, AS_OF).indicators.set_index(["indicator_id", "area_code"]).sort_index()
    from standards_checks.programmes import load_programme

    assert manifest["programme"]["id"] == "suizhou"   # the catalog's city 421303 (随州市曾都区)
    assert len(reported) == len(expected) == len(load_programme("suizhou").indicators)
    for col in ("value", "numerator", "denominator", "status"):
        pd.testing.assert_series_equal(reported[col], expected[col], check_dtype=False, check_names=False, obj=col)
    findings = pd.read_parquet(run.folder / "data" / "findings.parquet")
    counts = findings.groupby(["dataset", "rule_id"]).size()
    want = period_findings(files, "2024-09").groupby(["dataset", "rule_id"]).size()
    pd.testing.assert_series_equal(counts.sort_index(), want.sort_index())
    check = verify_manifest(run.folder / "manifest.json", recompute=False)
    assert check.ok, check.problems
