"""设施赋码率, 万物标识编码赋码率 and 感知设施接入数 (cimlib.metrics.facilities) against the generator's truth.

The expected numbers come from what the generator recorded and wrote — truth/defects.csv (which records had their
code spoiled), truth/lifecycle.parquet (when a record entered the register, when a house got its code),
truth/sensor_health.parquet (what each device sent) and the device, building and road files read directly — never
from a rule or the metric's own code. They are compared for every period, county and street, on the default city and
on a 武汉 city whose months span the programme's 2023-11-30 deadline.
"""

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from cimlib import Catalog
from cimlib.metrics import METRICS_COLUMNS
from cimlib.metrics.facilities import (ENTITIES, FACILITIES, FACILITY_CLASS_OF, FACILITY_CLASSES, coded_records,
                                       facility_metrics)
from cimlib.reports import acceptance, evaluate_indicators
from standards_checks.programmes import Indicator, load_programme

sys.path.insert(0, str(Path(__file__).resolve().parent))
from truth_oracle import CODE, ID, PLACE_TYPES  # noqa: E402  (which defect spoils a register's code)

WUHAN = "420105"   # 武汉市汉阳区: its sample city's months end at the programme's 2023-11 deadline
CODE_DEFECTS = {**CODE, "buildings": {"duplicate_code"}, "devices": set(), "roads": set()}
"""Injected defects that spoil an entity's own identification code (devices and roads get none)."""


class FacilityTruth:
    """Per period, every entity (coded or not, its street, its facility class) and every device (installed,
    connected), from the generator's files and truth."""

    def __init__(self, city: Path):
        self.city = Path(city)
        self.facts = json.loads((self.city / "truth" / "facts.json").read_text(encoding="utf-8"))
        self.life = pd.read_parquet(self.city / "truth" / "lifecycle.parquet").set_index(["dataset", "record_id"])
        d = pd.read_csv(self.city / "truth" / "defects.csv", dtype=str, keep_default_na=False)
        self.spoiled = {ds: set(d.loc[(d.dataset == ds) & d.defect.isin(kinds), "record_id"])
                        for ds, kinds in CODE_DEFECTS.items()}
        last = self.facts["periods"][-1]
        snap = self.city / "snapshots"
        self.registers = {
            "addresses": pd.read_parquet(snap / "addresses" / f"period={last}" / "part-0.parquet",
                                         columns=["address_id", "address_type", "community_code"]),
            "houses": pd.read_parquet(snap / "houses" / f"period={last}" / "part-0.parquet",
                                      columns=["house_id", "community_code"]),
            "units": pd.read_csv(snap / "units" / f"period={last}" / "part-0.csv", encoding="gbk", dtype=str,
                                 usecols=["unit_id", "community_code"]),
        }
        data = self.city / "data"
        admin = gpd.read_file(data / "admin.gpkg", layer="admin_areas")
        self.streets = sorted(admin.loc[admin.level == "街道", "area_code"].astype(str))
        self.county = str(admin.loc[admin.level == "区", "area_code"].iloc[0])
        b = gpd.read_parquet(data / "buildings.parquet")
        self.buildings = pd.DataFrame({"record_id": b.building_id.astype(str), "street": b.community_code.str[:9]})
        dev = pd.read_csv(data / "devices.csv", dtype=str)
        self.devices = dev
        roads = gpd.read_file(data / "roads.gpkg", layer="roads")
        mid = gpd.GeoDataFrame(geometry=shapely.line_interpolate_point(roads.geometry.to_numpy(), 0.5, normalized=True),
                               crs=roads.crs)
        hit = gpd.sjoin(mid, admin[admin.level == "街道"][["area_code", "geometry"]], predicate="within", how="left")
        hit = hit[~hit.index.duplicated()]
        self.roads = pd.DataFrame({"record_id": roads.road_id.astype(str),
                                   "street": hit["area_code"].reindex(roads.index).fillna("").astype(str).to_numpy()})
        health = pd.read_parquet(self.city / "truth" / "sensor_health.parquet")
        sent = health.groupby("device_id")["received"].sum()
        self.reported = set(sent.index[sent > 0].astype(str))

    def _register(self, ds: str, period: str) -> pd.DataFrame:
        df = self.registers[ds]
        ids = df[ID[ds]].astype(str)
        life = self.life.loc[ds].reindex(ids.to_numpy())
        present = (life.entry_period <= period).to_numpy()
        ok = ~ids.isin(self.spoiled[ds]).to_numpy()
        if ds == "houses":   # a house's code appears in the month it is coded
            ok &= ((life.mapped_period != "") & (life.mapped_period <= period)).to_numpy()
        keep = present & (df.address_type.isin(PLACE_TYPES).to_numpy() if ds == "addresses" else True)
        return pd.DataFrame({"record_id": ids.to_numpy(), "street": df.community_code.str[:9].to_numpy(),
                             "coded": ok, "facility_class": ""})[keep]

    def entities(self, period: str) -> pd.DataFrame:
        """``dataset, record_id, street, coded, facility_class`` of every entity present in ``period``."""
        parts = [self._register(ds, period).assign(dataset=ds) for ds in ("addresses", "houses", "units")]
        parts.append(self.buildings.assign(dataset="buildings", facility_class="",
                                           coded=~self.buildings.record_id.isin(self.spoiled["buildings"])))
        cls = [FACILITY_CLASS_OF.get(("devices", t), "other") for t in self.devices.device_type]
        parts.append(pd.DataFrame({"dataset": "devices", "record_id": self.devices.device_id,
                                   "street": self.devices.street_code, "facility_class": cls,
                                   "coded": ~self.devices.device_id.isin(self.spoiled["devices"])}))
        parts.append(self.roads.assign(dataset="roads", facility_class="transport",
                                       coded=~self.roads.record_id.isin(self.spoiled["roads"])))
        return pd.concat(parts, ignore_index=True)

    def access(self, period: str) -> pd.DataFrame:
        """``street, installed, connected`` of every device at the end of ``period``."""
        end = pd.Period(period, freq="M").end_time.normalize()
        installed = (pd.to_datetime(self.devices.install_date) <= end).to_numpy()
        connected = installed & (self.devices.device_id.isin(self.reported).to_numpy()
                                 if period == self.facts["sensor_period"] else True)
        return pd.DataFrame({"street": self.devices.street_code, "installed": installed, "connected": connected})

    def selection(self, metric_id: str, dataset: str, period: str) -> tuple[pd.Series, pd.Series, pd.Series]:
        """(street, numerator flag, denominator flag) of the records behind a metric row."""
        if metric_id == "sensor_access_count":
            a = self.access(period)
            return a.street, a.connected, a.installed
        e = self.entities(period)
        if metric_id == "facility_coding_rate":
            e = e[e.dataset.isin(["devices", "roads"])]
            if dataset != FACILITIES:
                e = e[e.facility_class == dataset.split(":", 1)[1]]
        elif dataset != ENTITIES:
            e = e[e.dataset == dataset]
        return e.street, e.coded, pd.Series(True, index=e.index)

    def county_numbers(self, metric_id: str, dataset: str, period: str) -> tuple[float, float, float]:
        """Numerator, denominator and value of the county row."""
        _, num, den = self.selection(metric_id, dataset, period)
        n, d = float(num.sum()), float(den.sum())
        if metric_id == "sensor_access_count":
            return n, d, n
        return n, d, (n / d if d else np.nan)

    def street_numbers(self, metric_id: str, dataset: str, period: str) -> pd.DataFrame:
        street, num, den = self.selection(metric_id, dataset, period)
        df = pd.DataFrame({"street": street.to_numpy(), "n": num.astype(float).to_numpy(),
                           "d": den.astype(float).to_numpy()})
        return df.groupby("street")[["n", "d"]].sum().reindex(self.streets, fill_value=0.0)


# --------------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wuhan_city(sample_cities):
    """A small 武汉 city (its months end at the 2023-11 deadline of the programme's facility targets; shared)."""
    return sample_cities.area(WUHAN)


@pytest.fixture(scope="module", params=["default", "wuhan"])
def measured(request, sample_cities):
    city = sample_cities.city(7) if request.param == "default" else request.getfixturevalue("wuhan_city")
    return city, FacilityTruth(city), facility_metrics(Catalog.load(city / "data_catalog.yaml"))


def _rows(m, metric_id, dataset, period, level):
    return m[(m.metric_id == metric_id) & (m.dataset == dataset) & (m.period == period) & (m.area_level == level)]


def _datasets(metric_id):
    if metric_id == "facility_coding_rate":
        return [FACILITIES, *(f"{FACILITIES}:{k}" for k in FACILITY_CLASSES if k != "other")]
    if metric_id == "entity_coding_rate":
        return [ENTITIES, "addresses", "houses", "units", "buildings", "devices", "roads"]
    return ["devices"]


# --------------------------------------------------------------------------------------------------
# the sample cities
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("metric_id", ["facility_coding_rate", "entity_coding_rate", "sensor_access_count"])
def test_every_period_county_and_street_equal_the_truth(measured, metric_id):
    city, truth, m = measured
    assert list(m.columns) == METRICS_COLUMNS and set(m.area_level) == {"county", "street"}
    assert sorted(m.loc[m.metric_id == metric_id, "period"].unique()) == truth.facts["periods"]
    for period in truth.facts["periods"]:
        for dataset in _datasets(metric_id):
            county = _rows(m, metric_id, dataset, period, "county")
            assert len(county) == 1 and county.area_code.iloc[0] == truth.county, (dataset, period)
            n, d, v = truth.county_numbers(metric_id, dataset, period)
            row = county.iloc[0]
            assert (row.numerator, row.denominator) == (n, d), (metric_id, dataset, period)
            assert row.value == pytest.approx(v, nan_ok=True)
            street = _rows(m, metric_id, dataset, period, "street").set_index("area_code")
            exp = truth.street_numbers(metric_id, dataset, period)
            got = street.reindex(exp.index)
            assert (got.numerator.to_numpy() == exp.n.to_numpy()).all(), (metric_id, dataset, period)
            assert (got.denominator.to_numpy() == exp.d.to_numpy()).all(), (metric_id, dataset, period)
            rest = street.drop(index=exp.index)   # no record outside the layer's streets
            assert (rest.denominator == 0).all()


def test_the_figures_have_a_trend_and_a_shortfall(measured):
    """The sample cities' houses are coded month by month, devices are connected over the years, and injected code
    defects keep the entity rate below 100 %."""
    city, truth, m = measured
    county = m[m.area_level == "county"]
    ent = county[(county.metric_id == "entity_coding_rate") & (county.dataset == ENTITIES)].sort_values("period")
    assert ent.value.is_monotonic_increasing and ent.value.iloc[0] < ent.value.iloc[-1] < 1.0
    acc = county[county.metric_id == "sensor_access_count"].sort_values("period")
    assert (acc.value == acc.numerator).all() and (acc.unit == "个").all()
    assert acc.denominator.is_monotonic_increasing and acc.denominator.iloc[0] < acc.denominator.iloc[-1]
    last = acc.iloc[-1]   # the readings' month: a silent device is registered but not connected
    assert last.period == truth.facts["sensor_period"] and last.numerator < last.denominator
    fac = county[(county.metric_id == "facility_coding_rate") & (county.dataset == FACILITIES)]
    classes = county[(county.metric_id == "facility_coding_rate") & (county.dataset != FACILITIES)]
    for period, g in classes.groupby("period"):   # the classes partition the facilities
        total = fac[fac.period == period].iloc[0]
        assert g.numerator.sum() == total.numerator and g.denominator.sum() == total.denominator
    assert {"城市公用设施", "交通设施", "水利设施"} <= {n.split("（")[-1].rstrip("）") for n in classes.name_zh}


def test_the_house_row_is_the_house_coding_rate(sample_cities):
    """万物标识 counts a house as 房屋赋码率 does (the same code rules, governed or not)."""
    city = sample_cities.city(7)
    m = facility_metrics(Catalog.load(city / "data_catalog.yaml"), ["2024-03", "2024-09"])
    hc = sample_cities.metrics(7).metrics
    for period in ("2024-03", "2024-09"):
        for level in ("county", "street"):
            a = _rows(m, "entity_coding_rate", "houses", period, level).set_index("area_code")
            b = _rows(hc, "house_coding_rate", "houses", period, level).set_index("area_code").reindex(a.index)
            assert (a.numerator.to_numpy() == b.numerator.to_numpy()).all()
            assert (a.denominator.to_numpy() == b.denominator.to_numpy()).all()


# --------------------------------------------------------------------------------------------------
# a city whose facility codes are broken
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def broken(sample_cities, tmp_path_factory):
    """A copy of the default city where two devices share a code, one device's category is unknown, one road has no
    code and the units register is missing; also the records touched."""
    src = sample_cities.city(7)
    root = tmp_path_factory.mktemp("broken") / "city"
    shutil.copytree(src, root, ignore=shutil.ignore_patterns("delivery"))
    dev = pd.read_csv(root / "data" / "devices.csv", dtype=str, keep_default_na=False)
    dup = dev.device_id.iloc[1]
    dev.loc[dev.index[2], "device_id"] = dup            # device 3 takes device 2's code: both lose it
    unknown = dev.device_id.iloc[5]
    dev.loc[dev.index[5], "device_type"] = "ZZ"         # a category the table does not know: class other
    dev.to_csv(root / "data" / "devices.csv", index=False)
    roads = gpd.read_file(root / "data" / "roads.gpkg", layer="roads")
    roads["road_id"] = roads["road_id"].astype(object)
    roads.loc[roads.index[0], "road_id"] = None         # a road without a code
    roads.to_file(root / "data" / "roads.gpkg", layer="roads", driver="GPKG")
    cat = yaml.safe_load((root / "data_catalog.yaml").read_text(encoding="utf-8").split("\n", 1)[1])
    cat["entries"] = [e for e in cat["entries"] if e["name"] != "units"]
    (root / "data_catalog.yaml").write_text(yaml.safe_dump(cat, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root, dev, dup, unknown


def test_broken_codes_lower_the_facility_and_entity_rates(broken, sample_cities):
    root, dev, dup, unknown = broken
    m = facility_metrics(root / "data_catalog.yaml", ["2024-09"])
    base = facility_metrics(sample_cities.city(7) / "data_catalog.yaml", ["2024-09"])

    def county(frame, metric_id, dataset):
        r = _rows(frame, metric_id, dataset, "2024-09", "county")
        return (r.numerator.iloc[0], r.denominator.iloc[0]) if len(r) else None

    n0, d0 = county(base, "facility_coding_rate", FACILITIES)
    assert county(m, "facility_coding_rate", FACILITIES) == (n0 - 3, d0)   # two repeated codes, one missing
    assert county(m, "entity_coding_rate", "devices") == (len(dev) - 2, len(dev))
    n, d = county(base, "entity_coding_rate", "roads")
    assert county(m, "entity_coding_rate", "roads") == (n - 1, d)
    assert county(m, "facility_coding_rate", f"{FACILITIES}:other") == (1, 1)
    assert county(m, "entity_coding_rate", "units") is None                 # not in the catalog: left out
    ne, de = county(base, "entity_coding_rate", ENTITIES)
    nu, du = county(base, "entity_coding_rate", "units")
    assert county(m, "entity_coding_rate", ENTITIES) == (ne - nu - 3, de - du)
    # a repeated device code is one device connected, not two
    na, da = county(base, "sensor_access_count", "devices")
    assert county(m, "sensor_access_count", "devices")[1] == da - 1
    rec = coded_records(root / "data_catalog.yaml", ["2024-09"])
    bad = rec[(rec.schema == "devices") & ~rec.coded]
    assert set(bad.record_id) == {dup}
    assert rec.loc[(rec.schema == "devices") & (rec.record_id == unknown), "facility_class"].tolist() == ["other"]


def test_an_unreadable_layer_is_a_problem_not_a_crash(broken, tmp_path):
    root, *_ = broken
    work = tmp_path / "city"
    shutil.copytree(root, work)
    (work / "data" / "roads.gpkg").write_bytes(b"not a geopackage")
    m = facility_metrics(work / "data_catalog.yaml", ["2024-09"])
    assert any(ds == "roads" for _, ds, _ in m.attrs["problems"])
    assert not (m.dataset == "roads").any()
    fac = _rows(m, "facility_coding_rate", FACILITIES, "2024-09", "county").iloc[0]
    dev = pd.read_csv(work / "data" / "devices.csv", dtype=str)
    assert fac.denominator == len(dev)                                       # the devices alone
    assert m[["numerator", "denominator"]].notna().all().all()


# --------------------------------------------------------------------------------------------------
# a dated task without a number (开展……, 提高接入数量)
# --------------------------------------------------------------------------------------------------

def _series(values, periods, metric_id="sensor_access_count", unit="个"):
    return pd.DataFrame({"metric_id": metric_id, "dataset": "devices", "area_code": "420105", "area_level": "county",
                         "period": periods, "numerator": values, "denominator": values, "value": values,
                         "name_zh": "x", "area_name": "汉阳区", "unit": unit, "inputs_sha256": "0" * 64})


def _task(deadline="2023-11-30"):
    return Indicator(indicator_id="sensors.sensor_access_count.x", name_zh="提高接入数量", metric_id="sensor_access_count",
                     dataset="devices", comparator="", target=float("nan"), deadline=deadline, unit="个",
                     source="某方案", clause="某条", deadline_text="2023年12月前")


def test_a_dated_task_without_a_number_lists_the_deadline_months_value():
    m = _series([30.0, 34.0, 37.0, 41.0], ["2023-09", "2023-10", "2023-11", "2023-12"])
    row = evaluate_indicators(m, [_task()], "2024-03-31").iloc[0]
    assert row.status == "无目标值" and row.period == "2023-11" and row.value == 37   # not the latest (41)
    assert "较 2023-09（30个）增加 7个" in row.evidence and row.evidence.startswith("2023-11：")
    before = evaluate_indicators(m, [_task()], "2023-10-31").iloc[0]               # the latest month up to the date
    assert before.status == "未到期" and before.period == "2023-10" and before.value == 34
    late = evaluate_indicators(m[m.period >= "2023-12"], [_task()], "2024-03-31").iloc[0]
    assert late.status == "无法判定" and np.isnan(late.value) and "2023-11-30" in late.evidence
    flat = evaluate_indicators(_series([1.0, 1.0], ["2023-10", "2023-11"], "facility_coding_rate", "比率"),
                               [replace(_task(), metric_id="facility_coding_rate", unit="比率")], "2023-12-31").iloc[0]
    assert flat.status == "无目标值" and "较 2023-10（100.0%）持平" in flat.evidence


def test_wuhan_acceptance_lists_the_facility_figures_of_the_deadline_month(wuhan_city, shared_acceptance):
    """The three rows of the 武汉 programme on a 武汉 city as of 2023-11-30, numbers from the truth."""
    truth = FacilityTruth(wuhan_city)
    run = acceptance(wuhan_city / "data_catalog.yaml", "2023-11-30", programme="wuhan")
    t = run.indicators.set_index("indicator_id")
    prog = {i.indicator_id: i for i in load_programme("wuhan").indicators}
    want = {"facilities.facility_coding_rate.start": "无目标值", "sensors.sensor_access_count.increase": "无目标值",
            "entities.entity_coding_rate.100": "未到期"}
    for ind_id, status in want.items():
        row, ind = t.loc[ind_id], prog[ind_id]
        assert row.status == status and row.period == "2023-11", (ind_id, row.status, row.evidence)
        n, d, v = truth.county_numbers(ind.metric_id, ind.dataset, "2023-11")
        assert (row.numerator, row.denominator) == (n, d) and row.value == pytest.approx(v)
        assert row.evidence.startswith("2023-11：")
        assert ("较 2023-03" in row.evidence) == (status == "无目标值")   # the change since the first month
    first = truth.county_numbers("sensor_access_count", "devices", "2023-03")[0]
    n = truth.county_numbers("sensor_access_count", "devices", "2023-11")[0]
    assert f"较 2023-03（{int(first)}个）增加 {int(n - first)}个" in t.loc["sensors.sensor_access_count.increase", "evidence"]
    assert not run.problems.dataset.isin(["devices", "roads", "entities", "facilities"]).any(), run.problems
