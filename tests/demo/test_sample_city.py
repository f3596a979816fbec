"""The sample city: deterministic, real places, every entry readable, and a truth file that is true."""

import filecmp
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from stdnum.cn import uscc
from stdnum.iso7064 import mod_11_2

from cimlib import Catalog
from cimlib.codes.divisions import streets_of
from cimlib.demo import PERIODS, build_sample_city
from cimlib.demo._outline import county_outline

ENTRY_NAMES = ["admin_areas", "central_area", "demo_zone", "control_lines", "dem", "buildings", "white_model_extent", "fine_model_extent", "roads",
               "addresses", "persons", "houses", "units", "devices", "readings", "address_pipeline", "tasks", "projects"]


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _defects(city: Path, dataset: str, defect: str) -> set[str]:
    t = pd.read_csv(city / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    return set(t.loc[(t.dataset == dataset) & (t.defect == defect), "record_id"])


def test_same_seed_gives_byte_identical_folders(city_a, tmp_path):
    b = build_sample_city(tmp_path / "B", seed=7, scale="small", progress=False).parent
    assert _tree(city_a) == _tree(b)
    match, mismatch, errors = filecmp.cmpfiles(city_a, b, _tree(city_a), shallow=False)
    assert mismatch == [] and errors == []


def test_another_seed_differs(city_a, tmp_path):
    c = build_sample_city(tmp_path / "C", seed=8, scale="small", progress=False).parent
    _, mismatch, _ = filecmp.cmpfiles(city_a, c, ["data/buildings.parquet", "truth/defects.csv"], shallow=False)
    assert mismatch == ["data/buildings.parquet", "truth/defects.csv"]


def test_catalog_has_every_contract_entry_and_each_reads(city_a):
    cat = Catalog.load(city_a / "data_catalog.yaml")
    assert [e.name for e in cat] == ENTRY_NAMES
    for name in ENTRY_NAMES:
        obj = cat.read(name)
        n = obj.npartitions if hasattr(obj, "npartitions") else len(obj)
        assert n > 0, name
    for name in ("addresses", "persons", "houses", "units"):
        assert cat.periods(name) == list(PERIODS)
        assert len(cat.read(name, period="2024-01")) <= len(cat.read(name, period="2024-09"))


@pytest.mark.parametrize("fixture, code", [("city_a", "421303"), ("city_hanyang", "420105")])
def test_real_division_codes_and_street_names(request, fixture, code):
    city = request.getfixturevalue(fixture)
    areas = Catalog.load(city / "data_catalog.yaml").read("admin_areas")
    streets = areas[areas.level == "街道"].sort_values("area_code")
    ref = streets_of(code)
    assert streets["area_code"].tolist() == ref["code"].tolist()
    assert streets["name"].tolist() == ref["name"].tolist()
    assert areas.loc[areas.level == "区", "area_code"].tolist() == [code]
    comms = areas[areas.level == "社区"]
    assert comms["area_code"].str.len().eq(12).all()
    assert (comms["area_code"].str.slice(0, 9) == comms["parent_code"]).all()
    assert comms["parent_code"].isin(ref["code"]).all()


@pytest.mark.parametrize("fixture, code", [("city_a", "421303"), ("city_hanyang", "420105")])
def test_every_geometry_lies_inside_the_real_county_outline(request, fixture, code):
    city = request.getfixturevalue(fixture)
    outline = county_outline(code)
    assert outline.exact
    shapely.prepare(outline.geometry)
    cat = Catalog.load(city / "data_catalog.yaml")
    for name in ("admin_areas", "central_area", "demo_zone", "control_lines", "buildings", "white_model_extent", "fine_model_extent", "roads",
                 "addresses", "devices", "projects"):
        gdf = cat.read(name)
        assert str(gdf.crs.to_epsg()) == "4490", name
        xy = shapely.get_coordinates(gdf.geometry.dropna().to_numpy())
        assert len(xy) > 0, name
        # every vertex, also of the deliberately invalid footprints; 1e-9 degrees is about 0.1 mm
        inside = shapely.contains_xy(outline.geometry.buffer(1e-9), xy[:, 0], xy[:, 1])
        assert inside.all(), f"{name}: {int((~inside).sum())} vertices outside {code}"
    dem = cat.read("dem").squeeze()
    valid = dem.where(dem != -9999.0).notnull()
    yy, xx = np.meshgrid(dem["y"].to_numpy(), dem["x"].to_numpy(), indexing="ij")
    assert shapely.contains_xy(outline.geometry, xx[valid.to_numpy()], yy[valid.to_numpy()]).all()


def test_admin_partition_has_no_gaps_or_overlaps(city_a):
    areas = Catalog.load(city_a / "data_catalog.yaml").read("admin_areas").to_crs(4547)
    county = areas[areas.level == "区"].geometry.iloc[0]
    for level in ("街道", "社区"):
        parts = areas[areas.level == level].geometry
        union = shapely.union_all(parts.to_numpy())
        assert parts.area.sum() - union.area < 1.0  # m²: no overlaps
        gaps = shapely.get_parts(county.symmetric_difference(union))
        # no gap or spill-over one could see: only numerical slivers along the border (sub-millimetre wide)
        assert max((g.area for g in gaps), default=0.0) < 1.0
        assert sum(g.area for g in gaps) < 1e-7 * county.area


def test_defects_file_columns_and_ids_exist(city_a):
    t = pd.read_csv(city_a / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    assert list(t.columns) == ["dataset", "record_id", "defect", "rule_id"]
    assert not t.duplicated().any()
    assert (t.loc[t.dataset.isin(["buildings", "addresses", "persons", "houses", "units", "projects"]), "rule_id"] != "").all()
    cat = Catalog.load(city_a / "data_catalog.yaml")
    for dataset in ("buildings", "addresses", "persons", "houses", "units", "devices", "address_pipeline", "projects"):
        ids = set(cat.read(dataset)[cat[dataset].id_column].astype(str))
        assert set(t.loc[t.dataset == dataset, "record_id"]) <= ids, dataset


def test_truth_buildings(city_a):
    b = Catalog.load(city_a / "data_catalog.yaml").read("buildings").set_index("building_id")
    assert set(b.index[~b.geometry.is_valid]) == _defects(city_a, "buildings", "invalid_geometry")
    assert set(b.index[b.height.isna()]) == _defects(city_a, "buildings", "missing_height")
    dup = b.building_code.duplicated(keep=False)
    assert set(b.index[dup]) == _defects(city_a, "buildings", "duplicate_code")
    per_floor = b.height / b.floors
    assert set(b.index[per_floor > 8]) == _defects(city_a, "buildings", "height_floor_mismatch")
    proj = b[b.geometry.is_valid].to_crs(4547)
    left, right = proj.sindex.query(proj.geometry, predicate="overlaps")
    assert set(proj.index[np.unique(np.concatenate([left, right]))]) == _defects(city_a, "buildings", "overlapping_footprint")


def test_truth_persons_units_houses(city_a):
    cat = Catalog.load(city_a / "data_catalog.yaml")
    p = cat.read("persons").set_index("person_id")
    bad = ~p.id_number.map(mod_11_2.is_valid)  # the check digit alone (GB 11643 §5)
    dup = p.id_number.duplicated(keep=False)
    assert set(p.index[bad]) == _defects(city_a, "persons", "bad_check_digit")
    assert set(p.index[dup]) == _defects(city_a, "persons", "duplicate_code")
    addr_ids = set(cat.read("addresses").address_id)
    assert set(p.index[~p.address_id.isin(addr_ids)]) == _defects(city_a, "persons", "person_no_address")
    assert set(p.index[p.phone.str.len() != 11]) == _defects(city_a, "persons", "bad_phone")

    u = cat.read("units").set_index("unit_id")
    assert u.uscc.str.len().eq(18).all()
    valid = u.uscc.map(lambda c: uscc.is_valid(c) if c[:2].isdigit() else None)
    letter = valid.isna()
    assert letter.any(), "letter-prefixed codes (N2/Y1) exist"
    assert set(u.index[valid == False]) == _defects(city_a, "units", "bad_check_digit") - set(u.index[letter])  # noqa: E712
    assert set(u.index[u.address_id.isna()]) == _defects(city_a, "units", "unit_no_address")

    h = cat.read("houses").set_index("house_id")
    b_ids = set(cat.read("buildings").building_id)
    assert set(h.index[~h.building_id.isin(b_ids)]) == _defects(city_a, "houses", "house_no_building")
    assert set(h.index[h.house_code.isna()]) == _defects(city_a, "houses", "missing_code")
    assert set(h.index[h.bdcdyh.str.slice(19, 20) != "F"]) == _defects(city_a, "houses", "bad_structure")
    assert h.bdcdyh.str.len().eq(28).all()
    coded = h.house_code.dropna()
    assert set(coded.index[coded.duplicated(keep=False)]) == _defects(city_a, "houses", "duplicate_code")


def test_truth_addresses_outside_their_street(city_a):
    cat = Catalog.load(city_a / "data_catalog.yaml")
    a = cat.read("addresses")
    areas = cat.read("admin_areas")
    streets = areas[areas.level == "街道"].set_index("area_code").geometry
    onmap = a[a.address_type.isin(["建筑物", "户室"]) & a.geometry.notna()]
    claimed = streets.reindex(onmap.street_code).to_numpy()
    outside = ~shapely.covered_by(onmap.geometry.to_numpy(), claimed)
    assert set(onmap.address_id[outside]) == _defects(city_a, "addresses", "address_outside_street")
    missing = a.address_type.isin(["院落", "建筑物", "单元", "户室"]) & a.geometry.isna()
    assert set(a.address_id[missing]) == _defects(city_a, "addresses", "missing_coordinates")
    assert set(a.address_id[~a.parent_id.isin(set(a.address_id)) & (a.level > 1)]) == _defects(city_a, "addresses", "broken_parent")


def test_address_element_tree(city_a):
    a = Catalog.load(city_a / "data_catalog.yaml").read("addresses")
    assert set(a.address_type) == {"行政区划", "街路巷", "院落", "建筑物", "单元", "户室"}
    assert a.address_id.is_unique
    ok = a[a.parent_id.isin(set(a.address_id))]
    idx = a.set_index("address_id")
    parent_level = idx.level.reindex(ok.parent_id).to_numpy()
    room_in_unit = (ok.element_type == "62").to_numpy() & (idx.element_type.reindex(ok.parent_id).to_numpy() == "61")
    assert ((parent_level < ok.level.to_numpy()) | room_in_unit).all()  # a parent is of a higher level (户室 may hang under 单元)
    # the full address text is the parent's text plus the element's own door plate and name
    full_parent = idx.full_address.reindex(ok.parent_id).to_numpy()
    assert (ok.full_address.to_numpy() == full_parent + ok.door_plate.to_numpy() + ok.name.to_numpy()).all()
    rooms = a[a.address_type == "户室"]
    parents = a.set_index("address_id").address_type.reindex(rooms.parent_id).dropna()
    assert set(parents) <= {"建筑物", "单元"}


def test_truth_projects(city_a):
    """The project list: real places, the codes and flags it claims, its defects, and facts that are true."""
    cat = Catalog.load(city_a / "data_catalog.yaml")
    p = cat.read("projects").set_index("project_id")
    facts = json.loads((city_a / "truth" / "facts.json").read_text(encoding="utf-8"))
    assert len(p) == facts["counts"]["projects"] == facts["projects"]["count"] == 120
    assert cat["projects"].snapshots is None and cat["projects"].layer == "公共专题"
    # street and community codes are those of the community the point is in
    areas = cat.read("admin_areas")
    comm = areas[areas.level == "社区"].set_index("area_code").geometry
    assert shapely.covered_by(p.geometry.to_numpy(), comm.reindex(p.community_code).to_numpy()).all()
    assert (p.community_code.str.slice(0, 9) == p.street_code).all()
    # approvals 2019-01 … 2024-09; the share of 数字化建造 rises; pilots use it; only 房屋建筑 is integrated
    approval = pd.to_datetime(p.approval_date, errors="coerce", format="%Y-%m-%d")
    bad = {"unreadable_date": set(p.index[approval.isna()])}
    assert approval.min() >= pd.Timestamp("2019-01-01") and approval.max() <= pd.Timestamp("2024-09-30")
    year = approval.dt.year
    share = (p.digital_construction == "是").groupby(year).mean()
    assert share.loc[2023:2024].mean() > share.loc[2019:2020].mean()
    assert (p.loc[p.digital_pilot == "是", "digital_construction"] == "是").all()
    assert (p.loc[p.integrated == "是", "project_type"] == "房屋建筑").all()
    # the injected defects are exactly what is wrong in the file
    flags = p[["digital_pilot", "digital_construction", "integrated"]]
    bad["unreadable_flag"] = set(p.index[~flags.isin(["是", "否"]).all(axis=1)])
    bad["negative_area"] = set(p.index[p.building_area_m2 < 0])
    bad["building_without_area"] = set(p.index[(p.project_type == "房屋建筑") & (p.building_area_m2 == 0)])
    fmt = p.project_code.str.fullmatch(r"\d{4}-\d{6}-\d{2}-\d{2}-\d{6}")
    bad["bad_project_code"] = set(p.index[~fmt])
    division = p.project_code.str.slice(5, 11)
    bad["code_division_outside"] = set(p.index[fmt & ~division.isin(["421303", "421300"])])
    start = pd.to_datetime(p.start_date, format="%Y-%m-%d")
    done = pd.to_datetime(p.completion_date, format="%Y-%m-%d")
    bad["dates_out_of_order"] = set(p.index[(start < approval) | (done < start)])
    for defect, ids in bad.items():
        assert ids == _defects(city_a, "projects", defect) and len(ids) >= 2, defect
    assert set(facts["projects"]["excluded"]) == bad["unreadable_date"] | bad["unreadable_flag"] | bad["negative_area"]


def test_snapshots_progress_is_monotone(city_a):
    cat = Catalog.load(city_a / "data_catalog.yaml")
    counts, mapped = [], []
    for period in PERIODS:
        p = cat.read("persons", period=period)
        counts.append(len(p))
        mapped.append(p.address_id.notna().sum())
    assert counts == sorted(counts) and counts[0] < counts[-1]
    assert mapped == sorted(mapped) and mapped[0] < mapped[-1]
    life = pd.read_parquet(city_a / "truth" / "lifecycle.parquet")
    persons = life[life.dataset == "persons"]
    assert counts == [int((persons.entry_period <= m).sum()) for m in PERIODS]


def test_facts_record_the_outline_source(city_a):
    facts = json.loads((city_a / "truth" / "facts.json").read_text(encoding="utf-8"))
    assert "GCJ-02 -> CGCS2000" in facts["outline_source"]
    assert facts["city"]["name"] == "曾都区" and facts["seed"] == 7


def test_outline_fallback_for_a_development_zone():
    o = county_outline("130171")  # 石家庄高新技术产业开发区: no boundary of its own
    assert not o.exact and "130100" in o.source


def test_province_fallback_is_cut_to_county_size(tmp_path):
    from cimlib.demo._outline import FALLBACK_MAX_KM2, _area_km2

    o = county_outline("659011")  # 新星市: only the province (Xinjiang, 1.6 million km²) has an outline
    assert not o.exact and "650000" in o.source
    assert 0.9 * FALLBACK_MAX_KM2 < _area_km2(o.geometry) <= FALLBACK_MAX_KM2
    city = build_sample_city(tmp_path / "xx", seed=1, city="659011", progress=False).parent
    assert Catalog.load(city / "data_catalog.yaml").read("buildings").within(o.geometry.buffer(1e-9)).all()


def test_refuses_to_overwrite_a_foreign_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("x")
    with pytest.raises(ValueError, match="拒绝覆盖"):
        build_sample_city(tmp_path, seed=1, progress=False)
    assert (tmp_path / "mine.txt").exists()


@pytest.mark.parametrize("kwargs, match", [({"scale": "huge"}, "规模"), ({"city": "999999"}, "999999"),
                                          ({"city": "4213"}, "6 位")])
def test_bad_arguments_are_clear_errors(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_sample_city(tmp_path / "x", progress=False, **kwargs)
