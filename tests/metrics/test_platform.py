"""CIM基础平台在中心城区的覆盖率 (pilot_cim_coverage) and the 示范区 fine-model coverage, against the generator's files."""

import shutil

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml

from cimlib import Catalog
from cimlib.metrics import compute_metrics


def _expected_platform(city, period, mapped):
    """Central area ∩ communities whose white model was produced by ``period`` and that have an address on the map
    (``mapped``: community codes, from the addresses' 上图率 rows, themselves tested against the truth), in m² of
    the truth's CRS."""
    import json

    facts = json.loads((city / "truth" / "facts.json").read_text(encoding="utf-8"))
    crs = facts["projected_crs"]
    admin = gpd.read_file(city / "data" / "admin.gpkg", layer="admin_areas").to_crs(crs)
    central = gpd.read_file(city / "data" / "admin.gpkg", layer="central_area").to_crs(crs).union_all()
    comm = admin[admin.level == "社区"]
    white = gpd.read_parquet(city / "data" / "white_model_extent.parquet")
    done = set(white.loc[white.produced_by <= period, "area_code"])
    part = shapely.area(shapely.intersection(comm.geometry.to_numpy(), central))
    covered = part[(comm.area_code.isin(done) & comm.area_code.isin(mapped)).to_numpy()].sum()
    return covered, part.sum()


def test_platform_coverage_is_the_white_models_share_of_the_central_area(city_metrics):
    city, metrics = city_metrics
    m = metrics.metrics
    rows = m[(m.metric_id == "pilot_cim_coverage") & (m.area_level == "county")].set_index("period")
    addr = m[(m.metric_id == "mapping_rate") & (m.dataset == "addresses") & (m.area_level == "community")
             & (m.numerator > 0)]
    assert len(rows) == 9 and (rows["value"].diff().dropna() > -1e-9).all() and rows["value"].iloc[0] < 1
    for period, row in rows.iterrows():
        n, d = _expected_platform(city, period, set(addr.loc[addr.period == period, "area_code"]))
        assert row["denominator"] == pytest.approx(d, rel=1e-6)
        assert row["numerator"] == pytest.approx(n, rel=1e-6, abs=1.0), period
        assert row["dataset"] == "central_area" and row["unit"] == "比率"
    # street rows sum to the county: no border sliver rows of (almost) zero area
    last = m[(m.metric_id == "pilot_cim_coverage") & (m.period == rows.index[-1]) & (m.area_level == "street")]
    assert (last["denominator"] >= 1.0).all()
    assert last["denominator"].sum() == pytest.approx(rows["denominator"].iloc[-1], rel=1e-9)


@pytest.fixture(scope="module")
def platform_city(small_city, tmp_path_factory):
    """A copy of the small city (its latest snapshot only) to take layers away from."""
    dst = tmp_path_factory.mktemp("platform") / "city"
    shutil.copytree(small_city, dst, ignore=shutil.ignore_patterns("readings", "truth", "delivery"))
    return dst


def _with_catalog(city, tmp_path, drop=(), **extra):
    doc = yaml.safe_load((city / "data_catalog.yaml").read_text(encoding="utf-8"))
    doc["entries"] = [e for e in doc["entries"] if e["name"] not in drop] + list(extra.values())
    path = city / f"cat_{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Catalog.load(path)


def test_a_missing_basic_layer_means_no_coverage(platform_city, tmp_path):
    cat = _with_catalog(platform_city, tmp_path, drop=("roads", "control_lines"))
    res = compute_metrics(cat, ["2024-09"])
    m = res.metrics
    county = m[(m.metric_id == "pilot_cim_coverage") & (m.area_level == "county")]
    assert county["value"].tolist() == [0.0] and county["denominator"].iloc[0] > 0
    msg = res.problems.loc[res.problems["problem"].str.contains("CIM基础平台缺少"), "problem"].tolist()
    assert msg == ["CIM基础平台缺少基本要求的图层：roads、control_lines；平台覆盖率计为 0"]


def test_a_community_without_an_address_on_the_map_is_not_covered(platform_city, tmp_path):
    """Take the 2024-09 addresses of one central community off the map (no location): its part drops out."""
    src = platform_city / "snapshots" / "addresses" / "period=2024-09" / "part-0.parquet"
    addr = gpd.read_parquet(src)
    admin = gpd.read_file(platform_city / "data" / "admin.gpkg", layer="admin_areas")
    central = gpd.read_file(platform_city / "data" / "admin.gpkg", layer="central_area").union_all()
    comm = admin[(admin.level == "社区")]
    inner = comm[shapely.covered_by(comm.geometry.to_numpy(), central)].area_code.iloc[0]
    folder = tmp_path / "snap" / "period=2024-09"
    folder.mkdir(parents=True)
    off = addr["community_code"] == inner
    addr.loc[off, "geometry"] = None
    addr.loc[off, ["lon", "lat"]] = float("nan")
    addr.to_parquet(folder / "part-0.parquet")
    doc = yaml.safe_load((platform_city / "data_catalog.yaml").read_text(encoding="utf-8"))
    entry = next(e for e in doc["entries"] if e["name"] == "addresses")
    entry["snapshots"] = {"path": str(tmp_path / "snap"), "periods": ["2024-09"]}
    before = compute_metrics(Catalog.load(platform_city / "data_catalog.yaml"), ["2024-09"]).metrics
    cat = _with_catalog(platform_city, tmp_path)
    path = cat.path
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    after = compute_metrics(Catalog.load(path), ["2024-09"]).metrics

    def get(m, code):
        r = m[(m.metric_id == "pilot_cim_coverage") & (m.area_code == code)]
        return r[["numerator", "denominator"]].iloc[0].tolist()

    n0, d0 = get(before, inner)
    n1, d1 = get(after, inner)
    assert n0 == pytest.approx(d0) and n1 == 0 and d1 == d0
    county = before.loc[(before.metric_id == "pilot_cim_coverage") & (before.area_level == "county"), "numerator"].iloc[0]
    county1 = after.loc[(after.metric_id == "pilot_cim_coverage") & (after.area_level == "county"), "numerator"].iloc[0]
    assert county - county1 == pytest.approx(d0)
    assert pd.notna(county)
