"""The ``cim`` command line, run as a user runs it (click's runner over the real functions)."""

import json

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cimlib.cli import main
from standards_checks import SCHEMA_NAMES

ENTRY_NAMES = ["admin_areas", "central_area", "demo_zone", "control_lines", "dem", "buildings", "white_model_extent", "fine_model_extent",
               "roads", "addresses", "persons", "houses", "units", "devices", "readings", "address_pipeline", "tasks", "projects"]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "city"
    res = CliRunner().invoke(main, ["demo", "--seed", "5", "--scale", "small", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"], ["inventory", "--help"], ["metrics", "--help"],
                                  ["sensors", "--help"]])
def test_help_explains_in_chinese(args):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0
    assert any(w in res.output for w in ("样例城市", "数据资源清单", "验收指标", "物联感知"))


def test_demo_writes_catalog_and_truth(city):
    doc = yaml.safe_load((city / "data_catalog.yaml").read_text(encoding="utf-8"))
    assert doc["city_code"] == "421303"
    assert {e["schema"] for e in doc["entries"]} <= set(SCHEMA_NAMES)
    assert (city / "truth" / "defects.csv").exists()


def test_demo_rejects_unknown_county(tmp_path):
    res = CliRunner().invoke(main, ["demo", "--city", "999999", "--out", str(tmp_path / "x"), "--quiet"])
    assert res.exit_code != 0
    assert "999999" in res.output
    assert not (tmp_path / "x").exists()


def test_inventory_lists_every_entry(city, tmp_path):
    out = tmp_path / "inv"
    res = CliRunner().invoke(main, ["inventory", "--catalog", str(city / "data_catalog.yaml"), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    inv = pd.read_csv(out / "inventory.csv", encoding="utf-8-sig", dtype={"sha256": str})
    assert len(inv) == len(ENTRY_NAMES) and set(inv.status) == {"正常"}
    persons = inv.set_index("name").loc["persons"]
    assert persons.rows == len(pd.read_parquet(city / "snapshots/persons/period=2024-09/part-0.parquet"))
    assert len(persons.sha256) == 64
    assert "数据资源清单" in (out / "inventory.html").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["entries"] == len(ENTRY_NAMES) and manifest["inputs"]["persons"] == persons.sha256


def test_inventory_turns_a_broken_entry_into_an_error_row(city, tmp_path):
    doc = yaml.safe_load((city / "data_catalog.yaml").read_text(encoding="utf-8"))
    for e in doc["entries"]:
        e["path"] = str(city / e["path"])
        if "snapshots" in e:
            e["snapshots"]["path"] = str(city / e["snapshots"]["path"])
    by_name = {e["name"]: e for e in doc["entries"]}
    by_name["buildings"]["path"] = str(city / "data" / "missing.parquet")
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes((city / "data" / "address_pipeline.parquet").read_bytes()[:500])
    by_name["address_pipeline"]["path"] = str(truncated)
    cat = tmp_path / "data_catalog.yaml"
    cat.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    before = {p: p.read_bytes() for p in [truncated]}
    res = CliRunner().invoke(main, ["inventory", "--catalog", str(cat), "--out", str(tmp_path / "inv"), "--quiet"])
    assert res.exit_code == 0, res.output
    inv = pd.read_csv(tmp_path / "inv" / "inventory.csv", encoding="utf-8-sig").set_index("name")
    assert inv.loc["buildings", "status"] == "错误" and "missing.parquet" in inv.loc["buildings", "problem"]
    assert inv.loc["address_pipeline", "status"] == "错误"
    assert (inv.drop(["buildings", "address_pipeline"]).status == "正常").all()
    assert {p: p.read_bytes() for p in before} == before  # inputs are never modified


def test_inventory_of_a_malformed_catalog_is_a_clear_error(tmp_path):
    cat = tmp_path / "data_catalog.yaml"
    cat.write_text("version: 1\nentries:\n  - name: x\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["inventory", "--catalog", str(cat), "--out", str(tmp_path / "inv")])
    assert res.exit_code != 0
    assert "data_catalog.yaml" in res.output and "title_zh" in res.output


def test_metrics_writes_the_contract_files_and_a_summary(city, tmp_path):
    out = tmp_path / "metrics"
    res = CliRunner().invoke(main, ["metrics", "--catalog", str(city / "data_catalog.yaml"), "--period", "2024-09",
                                    "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    for name in ("metrics.parquet", "metrics.csv", "progress.csv", "evidence.parquet", "manifest.json"):
        assert (out / name).exists(), name
    m = pd.read_parquet(out / "metrics.parquet")
    assert list(m.columns[:8]) == ["metric_id", "dataset", "area_code", "area_level", "period", "numerator", "denominator", "value"]
    assert set(m.period) == {"2024-09"} and set(m.area_level) == {"county", "street", "community"}
    csv = pd.read_csv(out / "metrics.csv", encoding="utf-8-sig", dtype={"area_code": str})
    assert len(csv) == len(m)
    assert "实有人口上图率" in res.output and "2024-09" in res.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"] and manifest["periods"] == ["2024-09"]
    ev = pd.read_parquet(out / "evidence.parquet")
    assert not ev.columns.isin(["name", "id_number", "phone"]).any()  # no personal values in the evidence


def test_metrics_level_filter_and_bad_period(city, tmp_path):
    res = CliRunner().invoke(main, ["metrics", "--catalog", str(city / "data_catalog.yaml"), "--period", "2024-03",
                                    "--level", "street", "--out", str(tmp_path / "s"), "--quiet"])
    assert res.exit_code == 0, res.output
    assert set(pd.read_parquet(tmp_path / "s" / "metrics.parquet").area_level) == {"street"}
    res = CliRunner().invoke(main, ["metrics", "--catalog", str(city / "data_catalog.yaml"), "--period", "2030-01",
                                    "--out", str(tmp_path / "x"), "--quiet"])
    assert res.exit_code != 0 and "2030-01" in res.output and "可用期次" in res.output


def test_sensors_writes_health_alarms_anomalies_and_coverage(city, tmp_path):
    out = tmp_path / "sensors"
    res = CliRunner().invoke(main, ["sensors", "--catalog", str(city / "data_catalog.yaml"), "--out", str(out),
                                    "--quiet"])
    assert res.exit_code == 0, res.output
    for stem in ("health", "health_daily", "alarms", "anomalies", "coverage", "bad_readings"):
        assert (out / f"{stem}.parquet").exists() and (out / f"{stem}.csv").exists(), stem
    assert (out / "cube.nc").exists() and (out / "manifest.json").exists()
    assert not list(out.glob(".*partial"))
    h = pd.read_parquet(out / "health.parquet")
    assert list(h.columns[:9]) == ["metric_id", "dataset", "device_type", "area_code", "area_level", "period",
                                   "numerator", "denominator", "value"]
    truth = pd.read_csv(city / "truth" / "sensor_events.csv")
    alarms = pd.read_parquet(out / "alarms.parquet")
    assert len(alarms) == (truth["kind"] == "excursion").sum()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["period"] == "2024-09" and len(manifest["inputs"]["combined_sha256"]) == 64
    assert "在线率" in res.output and "道路感知覆盖" in res.output and "2024-09" in res.output


def test_sensors_bad_period_and_bad_rule_file_are_clear_errors(city, tmp_path):
    res = CliRunner().invoke(main, ["sensors", "--catalog", str(city / "data_catalog.yaml"), "--period", "2030-01",
                                    "--out", str(tmp_path / "x"), "--quiet", "--no-anomalies"])
    assert res.exit_code != 0 and "2030-01" in res.output and "2024-09" in res.output
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [{rule_id: A, device_type: WP, name_zh: 压力}]\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["sensors", "--catalog", str(city / "data_catalog.yaml"), "--alarm-rules", str(rules),
                                    "--out", str(tmp_path / "y"), "--quiet", "--no-anomalies"])
    assert res.exit_code != 0 and str(rules) in res.output and "above" in res.output


def test_cli_partitioned_check_and_metrics_write_the_same_files(sample_cities, tmp_path):
    """``--partition always`` (registers in partitions of 97 records) writes what the in-memory run writes."""
    cat = sample_cities.city(7) / "data_catalog.yaml"
    runner = CliRunner()
    out = {}
    for mode in ("never", "always"):
        base = ["--catalog", str(cat), "--quiet", "--no-cache", "--partition", mode, "--partition-rows", "97"]
        r = runner.invoke(main, ["check", *base, "--period", "2024-09", "--out", str(tmp_path / mode / "check")])
        assert r.exit_code == 0, r.output
        r = runner.invoke(main, ["metrics", *base, "--period", "2024-09", "--out", str(tmp_path / mode / "metrics")])
        assert r.exit_code == 0, r.output
        out[mode] = tmp_path / mode
    for f in ("check/findings.csv", "check/summary.csv", "metrics/metrics.csv", "metrics/links_summary.csv"):
        assert (out["always"] / f).read_bytes() == (out["never"] / f).read_bytes(), f
    pd.testing.assert_frame_equal(pd.read_parquet(out["always"] / "metrics/evidence.parquet"),
                                  pd.read_parquet(out["never"] / "metrics/evidence.parquet"))
    assert len(pd.read_csv(out["never"] / "check/findings.csv")) > 0
