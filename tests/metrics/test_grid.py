"""北斗网格码关联率 (beidou_grid_rate): equal to the generator's own counts (truth/facts.json) for every month, per
dataset and combined; the streets add up to the county and, in the last month, equal what the injected defects imply;
the rules' findings and the metric agree; the semantics of the code test on hand-made records; 武汉's target on a
武汉 sample city."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cimlib import Catalog
from cimlib.codes import beidou
from cimlib.metrics import METRICS_COLUMNS
from cimlib.metrics.grid import ENTITIES, GRID_METRIC, GRID_SCHEMAS, grid_counts, grid_metrics
from cimlib.metrics.registers import finding_dimension
from cimlib.metrics._spec import CLASSES
from standards_checks.schemas._grid import MIN_LEVEL, building_footprints, grid_status

GRID_DEFECTS = {"grid_code_missing", "grid_code_malformed", "grid_code_wrong_location"}
RULES = {"buildings": ("BLD-008", "BLD-009", "BLD-010"), "addresses": ("ADR-010", "ADR-011", "ADR-012"),
         "houses": ("HSE-008", "HSE-009", "HSE-010"), "devices": ("DEV-004", "DEV-005", "DEV-006")}


@pytest.fixture(scope="module", params=[7, 11], ids=lambda s: f"seed{s}")
def city(request, sample_cities):
    seed = request.param
    root = sample_cities.city(seed)
    facts = json.loads((root / "truth" / "facts.json").read_text(encoding="utf-8"))["beidou_grid_by_period"]
    m = sample_cities.metrics(seed).metrics
    return seed, root, facts, m[m.metric_id == GRID_METRIC]


def test_county_rows_equal_the_facts_every_month_per_dataset_and_combined(city):
    _, root, facts, m = city
    cat = Catalog.load(root / "data_catalog.yaml")
    assert sorted(facts) == cat.periods("addresses") == sorted(m.period.unique())
    county = m[m.area_level == "county"].set_index(["period", "dataset"])
    assert set(county.index.get_level_values("dataset")) == {*GRID_SCHEMAS, ENTITIES}
    for period, by_dataset in facts.items():
        assert set(by_dataset) == {*GRID_SCHEMAS, ENTITIES}
        for dataset, (n, d) in by_dataset.items():
            row = county.loc[(period, dataset)]
            assert (row.numerator, row.denominator) == (n, d), (period, dataset)
            assert row.value == pytest.approx(n / d) and row.unit == "比率" and row.name_zh == "北斗网格码关联率"
        assert by_dataset[ENTITIES] == [sum(v[k] for s, v in by_dataset.items() if s != ENTITIES) for k in (0, 1)]
    # coding proceeds: the combined rate grows every month, and some entities are still not (well) coded at the end
    rates = [facts[p][ENTITIES][0] / facts[p][ENTITIES][1] for p in sorted(facts)]
    assert all(b > a for a, b in zip(rates, rates[1:])) and rates[-1] < 1.0
    # buildings and devices are single files: the same numbers every month
    for s in ("buildings", "devices"):
        assert len({tuple(facts[p][s]) for p in facts}) == 1


def test_levels_add_up_and_devices_sit_in_their_streets_unknown_community(city):
    _, root, _, m = city
    assert set(m.area_level) == {"county", "street", "community"}
    assert list(m.columns) == METRICS_COLUMNS and m.inputs_sha256.str.fullmatch(r"[0-9a-f]{64}").all()
    admin = Catalog.load(root / "data_catalog.yaml").read("admin_areas")
    streets = set(admin.loc[admin.level == "街道", "area_code"])
    communities = set(admin.loc[admin.level == "社区", "area_code"])
    for (period, dataset), g in m.groupby(["period", "dataset"]):
        s, c = g[g.area_level == "street"], g[g.area_level == "community"]
        assert set(s.area_code) == streets, (period, dataset)       # every street, none unknown
        county = g[g.area_level == "county"].iloc[0]
        assert (s.numerator.sum(), s.denominator.sum()) == (county.numerator, county.denominator)
        by_street = c.groupby(c.area_code.str.slice(0, 9))[["numerator", "denominator"]].sum()
        assert by_street.equals(s.set_index("area_code")[["numerator", "denominator"]].loc[by_street.index])
        unknown = c[c.area_code.str.endswith("-UNK")]
        assert set(c.area_code) - set(unknown.area_code) == communities
        if dataset == "devices":   # a device names its street only
            assert c[c.denominator > 0].area_code.str.endswith("-UNK").all()
        elif dataset != ENTITIES:
            assert unknown.denominator.sum() == 0


def test_last_month_by_street_is_what_the_injected_defects_imply(city):
    """Independent of the code test: an entity counts unless it has a grid defect (or is a house without its
    building); the street is the one its own codes claim."""
    _, root, facts, m = city
    cat = Catalog.load(root / "data_catalog.yaml")
    last = max(facts)
    defects = pd.read_csv(root / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    spoiled = defects[defects.defect.isin(GRID_DEFECTS | {"house_no_building"})]
    got = m[(m.period == last) & (m.area_level == "street")].set_index(["dataset", "area_code"])
    for schema in GRID_SCHEMAS:
        df = cat.read(schema)
        id_col = cat[schema].id_column
        if schema == "addresses":
            df = df[df.address_type.isin(CLASSES["addresses"].scope)]
        street = (df["community_code"].astype(str).str.slice(0, 9) if "community_code" in df else df["street_code"])
        ok = ~df[id_col].astype(str).isin(spoiled.loc[spoiled.dataset == schema, "record_id"])
        want = pd.DataFrame({"street": street.to_numpy(), "ok": ok.to_numpy(int), "n": 1}).groupby("street").sum()
        for code, row in want.iterrows():
            assert (got.loc[(schema, code), "numerator"], got.loc[(schema, code), "denominator"]) == (row.ok, row.n)


def test_the_rules_and_the_metric_agree(city, sample_cities):
    """Last month: counted = carrying a code − format errors − consistency errors (− houses whose building is not
    found, which the consistency rule cannot judge); not carrying one = the warning rule's records."""
    seed, root, facts, _ = city
    f = sample_cities.findings(seed)
    f = f[f.column == "grid_code"]
    cat = Catalog.load(root / "data_catalog.yaml")
    last = max(facts)
    for schema, (fmt, loc, miss) in RULES.items():
        df = cat.read(schema)
        if schema == "addresses":
            df = df[df.address_type.isin(CLASSES["addresses"].scope)]
        ids = df[cat[schema].id_column].astype(str)
        failed = {r: set(f.loc[(f.dataset == schema) & (f.rule_id == r), "record_id"]) for r in (fmt, loc, miss)}
        assert failed[fmt] and failed[loc] and failed[miss], schema            # each rule finds its defects
        assert not (failed[fmt] & failed[loc]) and not (failed[miss] & (failed[fmt] | failed[loc]))
        bad = set(ids) & (failed[fmt] | failed[loc] | failed[miss])
        if schema == "houses":
            bad |= set(ids[~df.building_id.isin(cat.read("buildings").building_id)])
        assert len(ids) - len(bad) == facts[last][schema][0] and len(ids) == facts[last][schema][1], schema
    assert set(f.severity[f.rule_id.isin([r[2] for r in RULES.values()])]) == {"warning"}
    assert set(f.severity[~f.rule_id.isin([r[2] for r in RULES.values()])]) == {"error"}


def test_grid_metrics_reads_a_catalog_to_the_same_numbers(city):
    _, root, _, m = city
    alone = grid_metrics(root / "data_catalog.yaml")
    assert alone.attrs["problems"] == []
    key = ["period", "dataset", "area_level", "area_code"]
    a = alone.sort_values(key).reset_index(drop=True)
    b = m.sort_values(key).reset_index(drop=True)
    cols = key + ["numerator", "denominator", "value"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_grid_findings_lower_no_register_metric():
    findings = pd.DataFrame({"rule_id": ["ADR-010", "ADR-011", "ADR-003", "ADR-001"],
                             "column": ["grid_code", "grid_code", "parent_id", "geometry"]})
    assert finding_dimension(findings, CLASSES["addresses"]).tolist() == ["grid", "grid", "gov", "map"]


# --------------------------------------------------------------------------------------------------
# the code test on hand-made records
# --------------------------------------------------------------------------------------------------

LON, LAT = 113.37, 31.72


def test_a_point_is_judged_at_its_codes_own_level():
    code = beidou.encode(LON, LAT, 10)
    far = beidou.encode(LON + 0.01, LAT, 10)
    codes = [code, code[:18], code[:14], code[:12], code[:19], far, "n" + code[1:], None, "", code]
    pts = [shapely.Point(LON, LAT)] * 9 + [None]
    s = grid_status(gpd.GeoDataFrame({"grid_code": codes}, geometry=pts, crs="EPSG:4490"))
    #              L10   L9    L7    L6 (coarse)  19 chars  far    lower n  None   blank  no location
    assert s.present.tolist() == [True] * 7 + [False, False, True]
    assert s.formed.tolist() == [True, True, True, False, False, True, False, False, False, True]
    assert s.malformed.tolist() == [False, False, False, True, True, False, True, False, False, False]
    assert s.misplaced.tolist() == [False] * 5 + [True] + [False] * 4
    assert s.ok.tolist() == [True, True, True] + [False] * 7
    assert MIN_LEVEL == 7 and beidou.level(code[:14]) == 7


def test_a_footprint_meets_the_cell_and_a_house_is_judged_by_its_building():
    foot = shapely.box(LON, LAT, LON + 0.0004, LAT + 0.0003)
    bowtie = shapely.Polygon([(LON, LAT), (LON + 0.0004, LAT + 0.0003), (LON + 0.0004, LAT), (LON, LAT + 0.0003)])
    inside = shapely.point_on_surface(foot)
    corner = beidou.encode(LON + 0.0004 + 1e-9, LAT + 0.0003 + 1e-9, 10)   # the cell at the far corner: it touches
    b = gpd.GeoDataFrame({"building_id": ["B1", "B2", "B3", "B4"],
                          "grid_code": [beidou.encode(inside.x, inside.y, 10), corner,
                                        beidou.encode(LON + 0.002, LAT, 10),
                                        beidou.encode(*shapely.point_on_surface(bowtie).coords[0], 10)]},
                         geometry=[foot, foot, foot, bowtie], crs="EPSG:4490")
    assert grid_status(b).ok.tolist() == [True, True, False, True]          # the invalid footprint is repaired
    houses = pd.DataFrame({"house_id": ["H1", "H2", "H3", "H4"], "building_id": ["B1", "B3", "BX", None],
                           "grid_code": [b.grid_code[0], b.grid_code[0], b.grid_code[0], b.grid_code[0]]})
    s = grid_status(houses, building_footprints(houses, b))
    assert s.ok.tolist() == [True, True, False, False]                       # no building, no consistency
    assert s.misplaced.tolist() == [False, False, False, False]              # and no finding either
    assert grid_status(houses).ok.tolist() == [False] * 4                    # without locations nothing is counted


def test_a_dataset_without_the_field_counts_as_not_coded():
    b = gpd.GeoDataFrame({"building_id": ["B1", "B2"], "community_code": ["421303001001"] * 2},
                         geometry=[shapely.box(LON, LAT, LON + 1e-4, LAT + 1e-4)] * 2, crs="EPSG:4490")
    counts = grid_counts("buildings", b, np.array(["421303001001"] * 2))
    assert counts.loc["421303001001"].tolist() == [0, 2]
    s = grid_status(b)
    assert not (s.present.any() or s.malformed.any() or s.misplaced.any())


# --------------------------------------------------------------------------------------------------
# 武汉's target on a 武汉 sample city
# --------------------------------------------------------------------------------------------------

def test_wuhans_target_on_a_wuhan_city(tmp_path_factory):
    """汉阳区 (420105): the city's months cover 武汉's 2023-11-30 deadline; the indicator is judged on the deadline
    month's combined row, which is the generator's count."""
    from cimlib.demo import build_sample_city
    from cimlib.reports import evaluate_indicators
    from standards_checks.programmes import load_programme

    root = build_sample_city(tmp_path_factory.mktemp("wuhan") / "hy", seed=5, scale="small", city="420105",
                             progress=False).parent
    ind = next(i for i in load_programme("wuhan").indicators if i.metric_id == GRID_METRIC)
    assert ind.computable and ind.dataset == ENTITIES and ind.target == 1.0 and ind.deadline == "2023-11-30"
    facts = json.loads((root / "truth" / "facts.json").read_text(encoding="utf-8"))["beidou_grid_by_period"]
    month = ind.deadline[:7]
    assert month in facts, sorted(facts)
    m = grid_metrics(root / "data_catalog.yaml")
    row = evaluate_indicators(m, [ind], ind.deadline).iloc[0]
    n, d = facts[month][ENTITIES]
    assert (row.period, row.numerator, row.denominator) == (month, n, d)
    assert row.status == ("达标" if n == d else "未达标")
    assert f"北斗网格码有效且与位置一致 {n:,}/实体 {d:,} 个" in row.evidence and "BLD-008" in row.evidence
