"""Issue 13's held-out acceptance: ``cim catalog init`` on deliveries laid out with *other* departments' conventions.

The plain sample city is delivered again by :mod:`alt_delivery` in three sets of conventions none of which the sample
delivery (:mod:`cimlib.demo._delivery`) uses: **A** (a GeoPackage with two layers in the 3° zone without prefix, a
UTF-8 shapefile with ``.cpg`` in the 6° zone with prefix, a two-row-header workbook under a title row with a 填表说明
sheet, a tab-separated address table with projected 横坐标/纵坐标, a ``;``-separated UTF-8-BOM CSV with pinyin
initials, a workbook with a field-dictionary sheet and a 合计 row), **B** (flat numbered files: a GeoJSON with 级别
codes 3/4/5, an ArcGIS-style GBK shapefile in Xi'an 1980, a GBK CSV whose ``X`` is the northing, Excel's UTF-16
"Unicode 文本", a sheet under a title and a 填报单位 row, a CSV under a title line, an Excel lock file and a zip) and
**C** (header cells broken over lines and spaced out, a blank row under the title, empty Sheet2/Sheet3, camelCase
platform headers, lower-case pinyin, ``中文(拼音)`` headers, a shapefile without ``.prj``); extra columns and shuffled
order throughout, and A again for a county in another Gauss-Krüger zone.
:func:`cimlib.catalog.onboard.scaffold_catalog` must give every file its schema and every required field its true
source column with no hand edit; the catalog it writes must load, and checks with it must find, for admin areas,
buildings, houses and addresses, exactly the (record_id, rule_id) set of the plain city.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import pytest

from alt_delivery import truth_catalog, write_alt_delivery
from cimlib.catalog import Catalog
from standards_checks.schemas import required_fields

CASES = [("421303", 7, "A"), ("421303", 7, "B"), ("421303", 7, "C"), ("510104", 3, "A")]
"""(county, seed, conventions): the default county of the sample city, and a county in another Gauss-Krüger zone
(成都市锦江区, 104°E) where the zones without prefix must be found from the city's own location."""
DEFAULT_COUNTY = "421303"
FOUR = ("admin_areas", "buildings", "houses", "addresses")


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class _Plain:
    """Plain sample cities and their findings: the shared session ones for the default county, others built here."""

    def __init__(self, sample_cities, factory):
        self._sample, self._factory, self._other = sample_cities, factory, {}

    def city(self, county: str, seed: int) -> Path:
        if county == DEFAULT_COUNTY:
            return self._sample.city(seed)
        if (county, seed) not in self._other:
            from cimlib.demo import build_sample_city
            from standards_checks import run_checks

            out = self._factory.mktemp(f"plain{county}_{seed}") / "city"
            catalog = build_sample_city(out, seed=seed, scale="small", city=county, progress=False)
            self._other[(county, seed)] = (out, run_checks(Catalog.load(catalog)).findings)
        return self._other[(county, seed)][0]

    def findings(self, county: str, seed: int):
        if county == DEFAULT_COUNTY:
            return self._sample.findings(seed)
        self.city(county, seed)
        return self._other[(county, seed)][1]


@pytest.fixture(scope="module")
def plain(sample_cities, tmp_path_factory) -> _Plain:
    return _Plain(sample_cities, tmp_path_factory)


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-seed{c[1]}-{c[2]}")
def alt(request, plain, tmp_path_factory):
    """A held-out delivery of a plain city, its truth and the truth's own catalog (the control)."""
    county, seed, variant = request.param
    city = plain.city(county, seed)
    base = tmp_path_factory.mktemp(f"heldout{county}{variant}")
    delivery = base / "交付"
    truth = write_alt_delivery(city, delivery, variant=variant, seed=seed)
    control = base / "truth_catalog.yaml"
    control.write_text(truth_catalog(truth, delivery), encoding="utf-8")
    return {"base": base, "delivery": delivery, "truth": truth, "control": Catalog.load(control),
            "plain": plain.findings(county, seed)}


@pytest.fixture(scope="module")
def heldout(alt):
    """:func:`scaffold_catalog` run on the held-out delivery (no city given) and the catalog it writes."""
    from cimlib.catalog.onboard import scaffold_catalog

    delivery = alt["delivery"]
    before = _digest(delivery)
    scaffold = scaffold_catalog(delivery)  # the city is found from the division codes in the data
    out = alt["base"] / "catalog" / "data_catalog.yaml"
    out.parent.mkdir()
    out.write_text(scaffold.to_yaml(base=out.parent), encoding="utf-8")
    assert _digest(delivery) == before  # inputs are only read
    return {**alt, "scaffold": scaffold, "catalog": Catalog.load(out)}


def _entry_for(catalog: Catalog, delivery: Path, file: dict):
    """The catalog entry reading the truth's file (and its layer or sheet)."""
    target = (delivery / file["path"]).resolve()
    hits = [e for e in catalog if e.resolved_path == target]
    layer = file.get("layer")
    if layer is not None:
        hits = [e for e in hits if layer in (e.options.get("layer"), e.options.get("sheet"))]
    assert len(hits) == 1, f"{file['path']} [{layer}]：应有 1 个目录条目，实际 {len(hits)} 个"
    return hits[0]


def _by_schema(catalog: Catalog) -> dict[str, str]:
    names: dict[str, str] = {}
    for e in catalog:
        names.setdefault(e.schema, e.name)
    return names


def test_the_truth_catalog_finds_what_the_plain_city_has(alt):
    """Control: the fixture is lossless for the four datasets (a failure below is the inference's)."""
    from standards_checks import run_checks

    catalog = alt["control"]
    got = run_checks(catalog, list(FOUR)).findings
    plain = alt["plain"]
    for schema in FOUR:
        a = plain[(plain["dataset"] == schema) & plain["record_id"].notna()]
        b = got[(got["dataset"] == schema) & got["record_id"].notna()]
        assert set(zip(a["record_id"], a["rule_id"])) == set(zip(b["record_id"], b["rule_id"])), schema


def test_every_file_gets_its_schema_and_every_required_field_its_source(heldout):
    catalog, delivery, truth = heldout["catalog"], heldout["delivery"], heldout["truth"]
    for file in truth["files"]:
        entry = _entry_for(catalog, delivery, file)
        where = f"{file['path']} [{file['layer']}] → {entry.name}"
        assert entry.schema == file["schema"], where
        assert entry.format == file["format"], where
        true_source = {field: source for source, field in file["columns"].items()}
        for field in required_fields(file["schema"]):
            if field in true_source:
                assert entry.source_column(field) == true_source[field], f"{where}: {field}"
        assert entry.id_column == file["id_column"], where
        wrong = {s: f for s, f in entry.columns.items() if file["columns"].get(s) != f}
        assert not wrong, f"{where}: 与真值不符的映射 {wrong}"


def test_sheets_layers_coordinates_and_crs(heldout):
    from cimlib.catalog.readers._util import crs_equal

    catalog, delivery, truth = heldout["catalog"], heldout["delivery"], heldout["truth"]
    for file in truth["files"]:
        entry = _entry_for(catalog, delivery, file)
        where = f"{file['path']} [{file['layer']}]"
        for key in ("sheet", "layer", "header", "x", "y"):
            if key in file["options"]:
                assert entry.options.get(key) == file["options"][key], f"{where}: options.{key}"
        if file["options"].get("sep"):
            assert entry.options.get("sep", ",") == file["options"]["sep"], where
        if file["crs"]:
            assert entry.crs is not None and crs_equal(entry.crs, file["crs"]), f"{where}: crs {entry.crs}"


def test_optional_fields_are_found_too(heldout):
    """Beyond the required fields: at least nine in ten of every file's mapped columns are found."""
    catalog, delivery, truth = heldout["catalog"], heldout["delivery"], heldout["truth"]
    for file in truth["files"]:
        entry = _entry_for(catalog, delivery, file)
        missed = {s: f for s, f in file["columns"].items() if s != f and entry.columns.get(s) != f}
        assert len(missed) <= 0.1 * len(file["columns"]), f"{file['path']}: 未映射 {missed}"


def test_coded_values_are_mapped(heldout):
    catalog, delivery, truth = heldout["catalog"], heldout["delivery"], heldout["truth"]
    for file in truth["files"]:
        entry = _entry_for(catalog, delivery, file)
        for field, table in file["values"].items():
            assert entry.values.get(field) == table, f"{file['path']}: values of {field}"


def test_sheets_and_files_that_are_not_data_get_no_entry(heldout):
    catalog, delivery, truth = heldout["catalog"], heldout["delivery"], heldout["truth"]
    expected = {((delivery / f["path"]).resolve(), f["layer"]) for f in truth["files"]}
    extra = [(e.name, str(e.resolved_path.name), e.options.get("sheet", e.options.get("layer"))) for e in catalog
             if (e.resolved_path, e.options.get("sheet", e.options.get("layer"))) not in expected]
    assert not extra, f"不是数据的工作表或文件被登记为数据集：{extra}"


def test_the_written_catalog_reads_every_record(heldout):
    catalog, delivery, truth = heldout["catalog"], heldout["delivery"], heldout["truth"]
    for file in truth["files"]:
        entry = _entry_for(catalog, delivery, file)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = catalog.read(entry.name)
        assert len(frame) == file["rows"], file["path"]  # the 合计 row at the foot of 法人单位 is left out
        ids = frame[entry.id_column]
        assert ids.notna().all() and ids.is_unique, file["path"]


def test_checks_find_exactly_what_the_plain_city_has(heldout):
    from standards_checks import run_checks

    catalog = heldout["catalog"]
    names = _by_schema(catalog)
    got = run_checks(catalog, [names[s] for s in FOUR]).findings
    plain = heldout["plain"]
    for schema in FOUR:
        a = plain[(plain["dataset"] == schema) & plain["record_id"].notna()]
        b = got[(got["dataset"] == names[schema]) & got["record_id"].notna()]
        assert len(a) > 0 or schema == "admin_areas"
        assert set(zip(a["record_id"], a["rule_id"])) == set(zip(b["record_id"], b["rule_id"])), schema


@pytest.mark.parametrize(("column", "schema", "field"), [
    ("roomNo", "houses", "room_no"), ("houseCode", "houses", "house_code"), ("buildArea", "houses", "area_m2"),
    ("BUILDING-ID", "houses", "building_id"), ("communityCode", "buildings", "community_code"),
])
def test_english_names_match_whatever_their_case_and_separators(column, schema, field):
    from cimlib.catalog.onboard import load_field_names, name_score

    spec = load_field_names().schemas[schema].fields[field]
    assert name_score(column, spec).score >= 0.9


def test_header_cells_broken_over_lines_are_written_as_valid_yaml():
    import yaml

    from cimlib.catalog.onboard._write import _scalar

    for value in ("公民身份\n号码", ["人员\n编号", "姓\u3000名"], "单 位 名 称"):
        text = _scalar(value)
        assert "\n" not in text
        assert yaml.safe_load(f"entry:\n  key: {text}\n") == {"entry": {"key": value}}
        if isinstance(value, str):  # as a source column name in ``columns:``
            assert yaml.safe_load(f"columns:\n  {text}: id_number\n") == {"columns": {value: "id_number"}}
