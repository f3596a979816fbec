"""The onboarding path as a new user runs it: ``cim catalog init`` on a delivery folder → ``cim check`` → ``cim metrics``.

Issue 13's acceptance, on two seeds of the sample city delivered in department layouts (``cim demo --delivery``):
``catalog init`` gives every file its schema and every required field its source column with no hand edit; checks
with that catalog find, for admin areas, buildings, houses and addresses, exactly the (record_id, rule_id) set of the
plain city; metrics of houses and addresses are equal.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cimlib.catalog import Catalog
from cimlib.cli import main
from standards_checks.schemas import required_fields

FOUR = ("admin_areas", "buildings", "houses", "addresses")


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", params=[7, 11], ids=lambda s: f"seed{s}")
def onboarded(request, sample_cities, tmp_path_factory):
    """A delivered city, the catalog ``cim catalog init`` wrote for it (no hand edit), the truth and the CLI output."""
    seed = request.param
    city = sample_cities.city(seed)
    delivery = city / "delivery"
    before = _digest(delivery)
    out = tmp_path_factory.mktemp(f"onboard{seed}") / "data_catalog.yaml"
    args = ["catalog", "init", str(delivery), "--out", str(out)]
    if seed == 7:  # seed 11 lets init find the city from the division codes in the data
        args += ["--city", "421303"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert _digest(delivery) == before  # nothing written into (or changed in) the delivery folder
    truth = json.loads((city / "truth" / "delivery.json").read_text(encoding="utf-8"))
    return city, Catalog.load(out), truth, result.output


def _entry_for(catalog: Catalog, city: Path, file: dict):
    """The catalog entry that reads the truth's file (and layer or sheet)."""
    target = (city / file["path"]).resolve()
    hits = [e for e in catalog if e.resolved_path == target]
    layer = file.get("layer")
    if layer is not None and len(hits) > 1:
        hits = [e for e in hits if layer in (e.options.get("layer"), e.options.get("sheet"))]
    assert len(hits) == 1, f"{file['path']} {layer}: {len(hits)} entries"
    return hits[0]


def _by_schema(catalog: Catalog) -> dict[str, str]:
    return {e.schema: e.name for e in catalog}


def test_every_file_gets_its_schema_and_every_required_field_its_source(onboarded):
    city, catalog, truth, output = onboarded
    assert len(truth["files"]) >= 7
    for file in truth["files"]:
        entry = _entry_for(catalog, city, file)
        where = f"{file['path']} → {entry.name}"
        assert entry.schema == file["schema"], where
        assert entry.format == file["format"] or {entry.format, file["format"]} == {"filegdb", "gdb"}, where
        true_source = {field: source for source, field in file["columns"].items()}
        for field in required_fields(file["schema"]):
            if field in true_source:
                assert entry.source_column(field) == true_source[field], f"{where}: {field}"
        assert entry.id_column == file["id_column"], where
        wrong = {s: f for s, f in entry.columns.items() if file["columns"].get(s) != f}
        assert not wrong, f"{where}: mapped against the truth {wrong}"
        for field, table in file["values"].items():
            assert entry.values.get(field) == table, f"{where}: values of {field}"
        assert Path(file["path"]).name in output  # the printed table lists every file


def test_checks_find_exactly_what_the_plain_city_has(onboarded, sample_cities):
    from standards_checks import run_checks

    city, catalog, truth, _ = onboarded
    seed = truth["seed"]
    names = _by_schema(catalog)
    got = run_checks(catalog, [names[s] for s in FOUR]).findings
    plain = sample_cities.findings(seed)
    for schema in FOUR:
        a = plain[(plain["dataset"] == schema) & plain["record_id"].notna()]
        b = got[(got["dataset"] == names[schema]) & got["record_id"].notna()]
        assert len(a) > 0 or schema == "admin_areas"
        assert set(zip(a["record_id"], a["rule_id"])) == set(zip(b["record_id"], b["rule_id"])), schema


def test_metrics_of_houses_and_addresses_are_equal(onboarded, sample_cities):
    from cimlib.metrics import compute_metrics

    city, catalog, truth, _ = onboarded
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compute_metrics(catalog)
    got = result.metrics
    plain = sample_cities.metrics(truth["seed"]).metrics
    plain = plain[plain["period"] == "2024-09"]
    names = _by_schema(catalog)
    key = ["metric_id", "area_code", "area_level"]
    for schema in ("houses", "addresses"):
        x = plain[plain["dataset"] == schema].set_index(key)[["numerator", "denominator", "value"]].sort_index()
        # the delivered houses carry address texts (the plain city's do not): their attainable rate is extra
        y = got[(got["dataset"] == names[schema]) & (got["metric_id"] != "mapping_rate_attainable")]
        y = y.set_index(key)[["numerator", "denominator", "value"]].sort_index()
        assert len(x) > 0 and x.index.equals(y.index), schema
        pd.testing.assert_frame_equal(x, y, check_dtype=False)
    # the evidence names the department's column beside the field: 未赋码（house_code（源字段 房屋代码） 为空）
    houses = _entry_for(catalog, city, next(f for f in truth["files"] if f["schema"] == "houses"))
    reasons = result.evidence.loc[result.evidence["dataset"] == houses.name, "reason"].astype(str)
    uncoded = reasons[reasons.str.startswith("未赋码")]
    assert len(uncoded) > 0 and uncoded.str.contains(f"源字段 {houses.source_column('house_code')}").all()
