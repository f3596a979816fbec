"""``cim demo --delivery``: the sample city in department layouts, its truth, and a lossless round trip."""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from cimlib.catalog import Catalog
from cimlib.demo._delivery import (DEPARTMENTS, _buildings, _dbf_name, delivery_catalog, gk3_zone_crs,
                                   gk6_cm_crs, write_delivery)
from cimlib.demo._texts import _JUNK, TEXT_TRUTH

FOUR = ["admin_areas", "buildings", "houses", "addresses"]


@pytest.fixture(scope="module")
def city(sample_cities) -> Path:
    """The small sample city (seed 7) with its delivery (shared), and the truth-built catalog saved beside it."""
    out = sample_cities.city(7)
    (out / "delivery_catalog.yaml").write_text(delivery_catalog(out), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def truth(city) -> dict:
    return json.loads((city / "truth" / "delivery.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalogs(city) -> tuple[Catalog, Catalog]:
    return Catalog.load(city / "data_catalog.yaml"), Catalog.load(city / "delivery_catalog.yaml")


def _file(truth: dict, dataset: str) -> dict:
    return next(f for f in truth["files"] if f["dataset"] == dataset)


def _needs_readers():
    from cimlib.catalog.readers import READERS

    missing = [f for f in ("filegdb", "geojson") if f not in READERS]
    if missing:
        pytest.skip(f"readers not registered yet: {missing}")


# --------------------------------------------------------------------------- layout and truth


def test_departments_and_truth_files(city, truth):
    assert sorted(p.name for p in (city / "delivery").iterdir()) == sorted(DEPARTMENTS)
    assert (truth["city"], truth["seed"], truth["scale"]) == ("421303", 7, "small")
    assert {f["dataset"] for f in truth["files"]} >= {*FOUR, "persons", "units"}
    keys = ["path", "layer", "format", "dataset", "schema", "period", "crs", "encoding", "options", "id_column",
            "columns", "values", "unmapped", "rows"]
    for f in truth["files"]:
        assert list(f) == keys
        assert (city / f["path"]).exists(), f["path"]
        assert f["id_column"] in f["columns"].values()
        assert not set(f["columns"]) & set(f["unmapped"])
        assert all(not c.isascii() or c.isupper() for c in f["columns"]), "department names, not the generator's"
    # the registers are the 2024-09 snapshot the plain catalog points at
    assert {f["dataset"]: f["period"] for f in truth["files"]}["houses"] == "2024-09"
    assert _file(truth, "buildings")["period"] is None


def test_filegdb_in_gauss_kruger_zone_with_prefix(city, truth):
    f = _file(truth, "buildings")
    assert f["format"] == "filegdb" and f["path"].endswith(".gdb") and f["crs"] == "EPSG:4526"
    info = pyogrio.read_info(city / f["path"], layer=f["layer"])
    assert info["driver"] == "OpenFileGDB"
    assert pyproj.CRS(info["crs"]).equals(pyproj.CRS("EPSG:4526"))
    assert info["total_bounds"][0] > 38_000_000  # zone number 38 in front of the easting
    assert set(f["columns"]) <= set(info["fields"]) and info["features"] == f["rows"]
    assert pyogrio.list_layers(city / f["path"])[:, 0].tolist() == ["JZW_建筑物"]


def test_shapefile_gbk_ten_byte_names_no_cpg(city, truth):
    f = _file(truth, "admin_areas")
    shp = city / f["path"]
    assert not shp.with_suffix(".cpg").exists()
    assert f["encoding"] == "gbk" and f["crs"] == "EPSG:4508"  # 6° zone without prefix: differs from the FileGDB
    raw = shp.with_suffix(".dbf").read_bytes()
    n_fields = (int.from_bytes(raw[8:10], "little") - 33) // 32
    names = [raw[32 + 32 * i:43 + 32 * i].split(b"\0")[0].decode("gbk") for i in range(n_fields)]
    assert "行政区划代" in names and "行政区划代" in f["columns"]  # 行政区划代码 cut to 10 GBK bytes
    assert all(len(n.encode("gbk")) <= 10 for n in names)
    assert set(f["columns"]) | set(f["unmapped"]) == set(names)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_dbf_name_never_cuts_a_character():
    assert _dbf_name("行政区划代码") == "行政区划代"
    assert _dbf_name("上级区划代码") == "上级区划代"
    assert _dbf_name("ABCDEFGHIJKL") == "ABCDEFGHIJ"
    assert _dbf_name("A行政区划代码") == "A行政区划"  # 9 bytes: half of 代 does not fit


def test_gauss_kruger_crs_helpers():
    assert gk3_zone_crs(113.3) == "EPSG:4526" and gk6_cm_crs(113.3) == "EPSG:4508"
    for lon in (75.2, 87.6, 101.0, 114.2, 121.2, 134.0):
        zone3 = pyproj.CRS(gk3_zone_crs(lon)).name
        assert zone3.endswith(f"zone {int(round(lon / 3))}"), (lon, zone3)
        cm = pyproj.CRS(gk6_cm_crs(lon)).name
        assert cm.endswith(f"CM {int(lon // 6) * 6 + 3}E"), (lon, cm)


def test_text_files_are_gbk_and_registers_have_no_address_id(city, truth):
    for dataset in ("addresses", "houses"):
        f = _file(truth, dataset)
        raw = (city / f["path"]).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        header = raw.decode("gbk").split("\n", 1)[0].split(f["options"].get("sep", ","))
        assert header == list(f["columns"]) + f["unmapped"]
    assert _file(truth, "houses")["options"]["sep"] == "|"
    assert "地址编码" in _file(truth, "houses")["columns"]  # 住建 keeps the address id
    for dataset in ("persons", "units"):
        f = _file(truth, dataset)
        assert f["format"] == "xlsx"
        assert "address_id" not in f["columns"].values()
        assert "address_text" in f["columns"].values()


def test_persons_workbook_has_title_row_and_coded_gender(city, truth):
    f = _file(truth, "persons")
    book = openpyxl.load_workbook(city / f["path"])
    ws = book[f["options"]["sheet"]]
    assert ws["A1"].value == "曾都区实有人口登记表（2024年9月）"
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:K1"]
    header = [c.value for c in ws[2]]
    assert sorted(header) == sorted([*f["columns"], *f["unmapped"]])
    assert f["options"]["header"] == 1 and ws.max_row == f["rows"] + 2
    gender_col = header.index("性别") + 1
    assert {ws.cell(r, gender_col).value for r in range(3, 50)} <= {1, 2}
    assert f["values"]["gender"] == {"1": "男", "2": "女"}


# --------------------------------------------------------------------------- free-text addresses


def test_free_text_truth(city, catalogs):
    plain, _ = catalogs
    t = pd.read_parquet(city / "truth" / "delivery_addresses.parquet")
    assert list(t.columns) == ["dataset", "record_id", "address_id", "text", "form"]
    persons = plain.read("persons")
    units = plain.read("units")
    houses = plain.read("houses")
    addresses = plain.read("addresses")
    p = t[t["dataset"] == "persons"].set_index("record_id")
    assert p.index.tolist() == persons["person_id"].tolist()
    assert t[t["dataset"] == "units"]["record_id"].tolist() == units["unit_id"].tolist()
    # the delivered persons and units keep the plain city's texts and their truth (one truth of where they live)
    own = pd.read_parquet(city / "truth" / TEXT_TRUTH)
    mine = t[t["dataset"].isin(["persons", "units"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, own.set_index(["dataset", "record_id"]).loc[
        list(zip(mine["dataset"], mine["record_id"]))].reset_index(), check_dtype=False)
    # houses get their own texts: plain forms of the address they carry
    h = t[t["dataset"] == "houses"].set_index("record_id")
    assert h.index.tolist() == houses["house_id"].tolist()
    assert set(h["form"]) <= {"full", "no_province", "no_prefix", "junk", "not_in_library"}
    full = addresses.set_index("address_id")["full_address"]
    sel = h["form"] == "full"
    assert (h.loc[sel, "text"] == full.reindex(h.loc[sel, "address_id"]).to_numpy()).all()
    valid = houses.set_index("house_id")["address_id"].isin(addresses["address_id"])
    assert (h["address_id"].notna() == valid.reindex(h.index)).all()
    assert h.loc[h["form"] == "junk", "text"].isin(_JUNK).all()
    assert (t["text"].str.len() > 0).all() and not t["text"].str.contains("|", regex=False).any()


def test_delivered_texts_are_the_truth(catalogs, city):
    _needs_readers()
    _, dl = catalogs
    t = pd.read_parquet(city / "truth" / "delivery_addresses.parquet")
    for dataset, id_col in (("persons", "person_id"), ("units", "unit_id"), ("houses", "house_id")):
        frame = dl.read(dataset)
        expected = t[t["dataset"] == dataset].set_index("record_id")["text"]
        assert frame["address_text"].tolist() == expected.reindex(frame[id_col]).tolist(), dataset


# --------------------------------------------------------------------------- lossless round trip


@pytest.mark.parametrize("dataset", FOUR + ["roads"])
def test_truth_catalog_reads_every_value_back(catalogs, dataset):
    _needs_readers()
    plain, dl = catalogs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = plain.read(dataset), dl.read(dataset)
    assert len(a) == len(b)
    assert set(a.columns) <= set(b.columns)
    for c in a.columns:
        if c == "geometry":
            ga, gb = a.geometry.to_numpy(), b.geometry.to_numpy()
            assert (shapely.is_missing(ga) == shapely.is_missing(gb)).all()
            assert (shapely.is_empty(ga) == shapely.is_empty(gb)).all()
            ok = ~shapely.is_missing(ga) & ~shapely.is_empty(ga)
            assert (shapely.is_valid(ga[ok]) == shapely.is_valid(gb[ok])).all()
            # within 1e-8 degrees (about a millimetre); the FileGDB grid is 0.1 mm
            assert np.nanmax(shapely.hausdorff_distance(ga[ok], gb[ok])) < 1e-8
            continue
        x = a[c].astype(object).where(a[c].notna(), None)
        y = b[c].astype(object).where(b[c].notna(), None)
        if dataset == "addresses":  # CSV: an empty text and a missing value are the same cell
            x, y = x.replace("", None), y.replace("", None)
        assert x.tolist() == y.tolist(), c
        assert a[c].dtype == b[c].dtype or str(a[c].dtype) == str(b[c].dtype), c


def test_checks_find_the_same_records(catalogs, sample_cities):
    """The acceptance criterion: (record_id, rule_id) of the four datasets equal on the plain and delivered city."""
    _needs_readers()
    from standards_checks import run_checks

    plain, dl = catalogs
    fa = sample_cities.findings(7)
    fb = run_checks(dl, FOUR).findings
    for name in FOUR:
        a = fa[(fa["dataset"] == name) & fa["record_id"].notna()]
        b = fb[(fb["dataset"] == name) & fb["record_id"].notna()]
        assert set(zip(a["record_id"], a["rule_id"])) == set(zip(b["record_id"], b["rule_id"])), name
    assert len(fa[fa["record_id"].notna()]) > 100  # the injected defects are there to be found
    # without a record: only the departments' own extra columns (SYS-008)
    extra = fb[fb["record_id"].isna() & fb["dataset"].isin(FOUR)]
    assert set(extra["rule_id"]) <= {"SYS-008"}


def test_metrics_of_houses_and_addresses_equal(catalogs, sample_cities):
    _needs_readers()
    from cimlib.metrics import compute_metrics

    plain, dl = catalogs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ma = sample_cities.metrics(7).metrics
        ma = ma[ma["period"] == "2024-09"]
        mb = compute_metrics(dl).metrics
    key = ["metric_id", "area_code", "area_level"]
    for ds in ("houses", "addresses"):
        x = ma[ma["dataset"] == ds].set_index(key)[["numerator", "denominator", "value"]].sort_index()
        # the delivered houses carry address texts (the plain city's do not): their attainable rate is extra
        y = mb[(mb["dataset"] == ds) & (mb["metric_id"] != "mapping_rate_attainable")]
        y = y.set_index(key)[["numerator", "denominator", "value"]].sort_index()
        assert len(x) > 0 and x.index.equals(y.index), ds
        pd.testing.assert_frame_equal(x, y, check_dtype=False)


# --------------------------------------------------------------------------- determinism and geometry handling


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_same_city_gives_the_same_bytes(city, tmp_path):
    from cimlib.codes.divisions import county

    copy = tmp_path / "again"
    shutil.copytree(city, copy, ignore=shutil.ignore_patterns("delivery", "delivery*.json", "delivery*.parquet"))
    write_delivery(copy, seed=7, scale="small", info=county("421303"))
    assert _digest(copy / "delivery") == _digest(city / "delivery")
    for name in ("delivery.json", "delivery_addresses.parquet"):
        assert (copy / "truth" / name).read_bytes() == (city / "truth" / name).read_bytes()


def _building_frame(geoms) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame({"building_id": [f"B{i}" for i in range(n)], "building_code": ["0421"] * n,
                             "name": ["1栋"] * n, "use": ["住宅"] * n, "floors": np.arange(1, n + 1, dtype="int64"),
                             "height": [3.0] * n, "year_built": [2000] * n, "street_code": ["421303001"] * n,
                             "community_code": ["421303001001"] * n, "model_level": ["白模"] * n, "lod": ["LOD1"] * n},
                            geometry=geoms, crs="EPSG:4490")


def test_filegdb_keeps_empty_null_and_invalid_geometries(tmp_path):
    bow_tie = shapely.Polygon([(113.30, 31.70), (113.31, 31.71), (113.31, 31.70), (113.30, 31.71)])
    square = shapely.box(113.30, 31.70, 113.301, 31.701)
    two_parts = shapely.MultiPolygon([square, shapely.box(113.4, 31.7, 113.401, 31.701)])
    geoms = [bow_tie, shapely.Polygon(), None, square, two_parts]
    f = _buildings(tmp_path, _building_frame(geoms), "EPSG:4526")
    back = pyogrio.read_dataframe(tmp_path / f["path"], layer=f["layer"]).to_crs("EPSG:4490")
    g = back.geometry.to_numpy()
    assert back["JZWBH"].tolist() == [f"B{i}" for i in range(5)]
    assert back["层数"].dtype == "int64" and back["BSM"].tolist() == [1, 2, 3, 4, 5]
    assert not shapely.is_valid(g[0]) and shapely.is_empty(g[1]) and g[2] is None
    for got, sent in zip(g[[0, 3, 4]], [bow_tie, square, geoms[4]]):  # same rings, on the FileGDB's 0.1 mm grid
        assert shapely.hausdorff_distance(got, sent) < 1e-8
        assert shapely.get_num_coordinates(got) == shapely.get_num_coordinates(sent)
    assert shapely.get_num_geometries(g[4]) == 2


def test_filegdb_refuses_a_point_rather_than_dropping_it(tmp_path):
    frame = _building_frame([shapely.Point(113.3, 31.7), shapely.box(113.30, 31.70, 113.301, 31.701)])
    with pytest.raises(ValueError, match="B0"):
        _buildings(tmp_path, frame, "EPSG:4526")
