"""Tests of the sensing-network generator: placement, truth of health and events, determinism."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from cimlib.demo import _sensors as sg

SEED = 20240901
PERIOD = "2024-09"
PROJ = "EPSG:4547"


@pytest.fixture(scope="module")
def city():
    """A few roads near 113.38 E, 31.72 N and three streets partitioning a box around them."""
    x0, y0 = 113.38, 31.72
    lines = [
        [(x0 - 0.020, y0 - 0.010), (x0 + 0.020, y0 - 0.010)],
        [(x0 - 0.020, y0 + 0.005), (x0 + 0.020, y0 + 0.006)],
        [(x0 - 0.015, y0 - 0.015), (x0 - 0.015, y0 + 0.015)],
        [(x0 + 0.002, y0 - 0.015), (x0 + 0.003, y0 + 0.015)],
        [(x0 - 0.018, y0 + 0.014), (x0 - 0.005, y0 + 0.010), (x0 + 0.010, y0 + 0.013), (x0 + 0.018, y0 - 0.002)],
    ]
    roads = gpd.GeoDataFrame(
        {"road_id": [f"R{i:03d}" for i in range(len(lines))], "name": [f"路{i}" for i in range(len(lines))],
         "road_class": ["主干路", "主干路", "次干路", "次干路", "支路"]},
        geometry=[shapely.LineString(c) for c in lines], crs="EPSG:4490")
    xs = [x0 - 0.03, x0 - 0.008, x0 + 0.008, x0 + 0.03]
    streets = gpd.GeoDataFrame(
        {"area_code": [f"42130300{i + 1}" for i in range(3)], "name": ["东城街道", "西城街道", "南郊街道"]},
        geometry=[shapely.box(xs[i], y0 - 0.03, xs[i + 1], y0 + 0.03) for i in range(3)], crs="EPSG:4490")
    devices = sg.make_devices(np.random.default_rng(7), roads, streets, 40, "421303", PROJ)
    return roads, streets, devices


@pytest.fixture(scope="module")
def written(city, tmp_path_factory):
    _, _, devices = city
    out = tmp_path_factory.mktemp("readings_a")
    calls = []
    defects, events, health = sg.write_readings(devices, out, seed=SEED, period=PERIOD, progress=calls.append)
    frames = []
    for f in sorted(out.glob("date=*/part-0.parquet")):
        t = pq.read_table(f).to_pandas()
        t["device_id"] = t["device_id"].astype(str)
        t["metric"] = t["metric"].astype(str)
        t["file_date"] = dt.date.fromisoformat(f.parent.name.split("=")[1])
        t["pos"] = np.arange(len(t))
        frames.append(t)
    rows = pd.concat(frames, ignore_index=True)
    rows["rid"] = _rid(rows)
    return out, defects, events, health, rows, calls


def _rid(df):
    if "rid" in df:
        return df["rid"]
    ts = np.datetime_as_string(df["ts"].to_numpy().astype("datetime64[s]"), unit="s")
    return df["device_id"].astype(str) + "|" + pd.Series(ts, index=df.index, dtype=str)


def _good_rows(devices, rows, defects):
    bad = set(defects.loc[defects["defect"].isin(["unknown_device", "ts_out_of_range"]), "record_id"])
    is_bad = _rid(rows).isin(bad)
    return rows[~is_bad], rows[is_bad]


def test_device_table(city):
    roads, streets, devices = city
    assert devices.crs.to_epsg() == 4490
    assert list(devices.columns) == ["device_id", "device_type", "type_name_zh", "metric", "unit", "interval_s",
                                     "road_id", "street_code", "install_date", "owner", "lon", "lat", "geometry"]
    assert len(devices) == 40 and devices["device_id"].is_unique
    assert devices["device_id"].str.fullmatch(r"421303-[A-Z]+-\d{6}").all()
    assert set(devices["device_type"]) <= set(sg.DEVICE_TYPES["type_code"])
    assert (devices["install_date"] < dt.date(2024, 9, 1)).all()
    # within 30 m of the road it was placed on, measured in metres
    dp = devices.to_crs(PROJ).geometry.to_numpy()
    rp = roads.set_index("road_id").to_crs(PROJ).geometry
    dist = shapely.distance(dp, rp.loc[devices["road_id"]].to_numpy())
    assert dist.max() < 30.0
    # inside the street it claims
    sp = streets.set_index("area_code").geometry
    assert shapely.within(devices.geometry.to_numpy(), sp.loc[devices["street_code"]].to_numpy()).all()
    assert np.allclose(devices.geometry.x, devices["lon"]) and np.allclose(devices.geometry.y, devices["lat"])
    # same rng state -> same devices
    again = sg.make_devices(np.random.default_rng(7), roads, streets, 40, "421303", PROJ)
    pd.testing.assert_frame_equal(pd.DataFrame(devices), pd.DataFrame(again))


def test_files_and_schema(city, written):
    out, defects, events, health, rows, calls = written
    files = sorted(out.glob("date=*/part-0.parquet"))
    assert [f.parent.name for f in files] == [f"date=2024-09-{d:02d}" for d in range(1, 31)]
    assert len(calls) == 30
    schema = pq.read_schema(files[0])
    assert schema.equals(sg.READINGS_SCHEMA)
    assert (rows["quality"] == 0).all()
    good, _ = _good_rows(city[2], rows, defects)
    lat = (good["received_at"] - good["ts"]).dt.total_seconds()
    assert (lat > 0).all() and lat.median() < 10 and lat.max() < 2 * 3600
    assert set(defects["defect"]) >= {"device_offline", "outage", "gap", "duplicate", "out_of_order", "spike",
                                      "stuck", "excursion", "unknown_device", "ts_out_of_range"}
    assert set(events["kind"]) == {"offline", "stuck", "excursion", "spike"}


def test_bad_rows(city, written):
    _, defects, _, _, rows, _ = written
    devices = city[2]
    good, bad = _good_rows(devices, rows, defects)
    n_unknown = (defects["defect"] == "unknown_device").sum()
    n_range = (defects["defect"] == "ts_out_of_range").sum()
    assert len(bad) == n_unknown + n_range
    assert (~rows["device_id"].isin(devices["device_id"])).sum() == n_unknown
    in_period = (rows["ts"] >= "2024-09-01") & (rows["ts"] < "2024-10-01")
    assert (~in_period).sum() == n_range
    assert good["device_id"].isin(devices["device_id"]).all()
    assert (good["ts"].dt.date == good["file_date"]).all()


def test_health_truth_matches_files(city, written):
    _, defects, _, health, rows, _ = written
    devices = city[2]
    good, _ = _good_rows(devices, rows, defects)
    g = good.assign(date=good["ts"].dt.date, hour=good["ts"].dt.hour).groupby(["device_id", "date"])
    got = pd.DataFrame({"received": g["ts"].nunique(), "rows": g.size(), "online_hours": g["hour"].nunique()})
    got["duplicates"] = got["rows"] - got["received"]
    h = health.set_index(["device_id", "date"])
    assert len(h) == 40 * 30
    got = got.reindex(h.index, fill_value=0)
    np.testing.assert_array_equal(got["received"].to_numpy(), h["received"].to_numpy())
    np.testing.assert_array_equal(got["duplicates"].to_numpy(), h["duplicates"].to_numpy())
    np.testing.assert_array_equal(got["online_hours"].to_numpy(), h["online_hours"].to_numpy())
    iv = devices.set_index("device_id")["interval_s"]
    assert (h["expected"].to_numpy() == (86400 // iv.loc[h.index.get_level_values(0)]).to_numpy()).all()
    # duplicates are exact copies, one defect row per extra copy
    exact = good.duplicated(["device_id", "ts", "value", "received_at"]).sum()
    assert exact == h["duplicates"].sum() == (defects["defect"] == "duplicate").sum()
    # gaps are missing samples and account for the shortfall together with outages and offline devices
    gap_ids = set(defects.loc[defects["defect"] == "gap", "record_id"])
    assert not _rid(good).isin(gap_ids).any()
    ev = _events_with_iv(written[2], devices)
    off = ev[ev["kind"] == "offline"]
    missing_off = ((off["end"] - off["start"]).dt.total_seconds() // off["interval_s"]).sum()
    assert (h["expected"] - h["received"]).sum() == len(gap_ids) + missing_off


def test_out_of_order(city, written):
    _, defects, _, _, rows, _ = written
    good, _ = _good_rows(city[2], rows, defects)
    ooo_ids = set(defects.loc[defects["defect"] == "out_of_order", "record_id"])
    assert len(ooo_ids) >= 2 * 30
    is_ooo = _rid(good).isin(ooo_ids)
    for _, day in good[~is_ooo].groupby("file_date"):
        assert day.groupby("device_id", observed=True)["ts"].agg(lambda s: s.is_monotonic_increasing).all()
    for _, day in good.groupby("file_date"):
        # out of order for its device: a later reading of the same device was written before it in the file
        running_max = day.groupby("device_id", observed=True)["ts"].transform(lambda s: s.cummax().shift(1))
        late = day["ts"] < running_max
        assert set(_rid(day[late])) == set(_rid(day[_rid(day).isin(ooo_ids)]))


def _events_with_iv(events, devices):
    return events.merge(devices[["device_id", "device_type", "interval_s"]], on="device_id")


def test_events_are_in_the_data(city, written):
    _, defects, events, _, rows, _ = written
    devices = city[2]
    good, _ = _good_rows(devices, rows, defects)
    good = good.drop_duplicates(["device_id", "ts"]).sort_values(["device_id", "ts"])
    by_dev = {k: v.set_index("ts")["value"] for k, v in good.groupby("device_id")}
    types = sg.DEVICE_TYPES.set_index("type_code")
    ev = _events_with_iv(events, devices)
    assert (ev["start"] < ev["end"]).all() and (ev["start"] >= "2024-09-01").all() and (ev["end"] <= "2024-10-01").all()
    in_event = pd.Series(False, index=pd.MultiIndex.from_frame(good[["device_id", "ts"]]))
    for e in ev.itertuples():
        s = by_dev.get(e.device_id, pd.Series([], index=pd.DatetimeIndex([], dtype="datetime64[ms]"), dtype=float))
        step = pd.Timedelta(seconds=int(e.interval_s))
        n = int((e.end - e.start) / step)
        win = s[(s.index >= e.start) & (s.index < e.end)]
        t = types.loc[e.device_type]
        before, after = s.get(e.start - step), s.get(e.end)
        if e.kind == "offline":
            assert len(win) == 0
            if e.detail == "full_period":
                assert len(s) == 0
            continue
        assert len(win) == n, e  # no gaps inside events
        assert before is not None and after is not None
        in_event.loc[[(e.device_id, ts) for ts in win.index]] = True
        if e.kind == "stuck":
            assert n * e.interval_s >= 3 * 3600 and win.nunique() == 1
            assert before != win.iloc[0] and after != win.iloc[0]
        elif e.kind == "excursion":
            above = (win > t["high"]).all()
            below = (win < t["low"]).all()
            assert above or below, e
            assert e.peak == (win.max() if above else win.min())
            assert t["low"] <= before <= t["high"] and t["low"] <= after <= t["high"]
            assert 20 * 60 <= n * e.interval_s <= 3 * 3600 + e.interval_s
        elif e.kind == "spike":
            assert n == 1 and win.iloc[0] == e.peak
            assert abs(e.peak - (before + after) / 2) > 5 * t["noise"], e
    # all other rows of registered devices lie inside the normal band (no false alarms)
    normal = good.loc[~in_event.to_numpy()].merge(devices[["device_id", "device_type"]], on="device_id")
    lo = types.loc[normal["device_type"], "low"].to_numpy()
    hi = types.loc[normal["device_type"], "high"].to_numpy()
    assert ((normal["value"] >= lo) & (normal["value"] <= hi)).all()
    # defects rows of events carry the start ts
    for kind, name in (("stuck", "stuck"), ("excursion", "excursion"), ("spike", "spike")):
        ids = set(_rid(ev.loc[ev["kind"] == kind].rename(columns={"start": "ts"})))
        assert ids == set(defects.loc[defects["defect"] == name, "record_id"])
    full = set(ev.loc[ev["detail"] == "full_period", "device_id"])
    assert full == set(defects.loc[defects["dataset"] == "devices", "record_id"]) and full


def test_events_do_not_overlap(city, written):
    ev = _events_with_iv(written[2], city[2])
    for _, g in ev.sort_values("start").groupby("device_id"):
        gap = (g["start"].iloc[1:].to_numpy() - g["end"].iloc[:-1].to_numpy()) if len(g) > 1 else []
        assert all(x >= np.timedelta64(sg.EVENT_GUARD_S, "s") for x in gap)


def test_deterministic(city, written, tmp_path):
    devices = city[2]
    out_a = written[0]
    out_b = tmp_path / "b"
    res_b = sg.write_readings(devices, out_b, seed=SEED, period=PERIOD)
    files_a = sorted(p.relative_to(out_a) for p in out_a.rglob("*.parquet"))
    files_b = sorted(p.relative_to(out_b) for p in out_b.rglob("*.parquet"))
    assert files_a == files_b
    for f in files_a:
        assert (out_a / f).read_bytes() == (out_b / f).read_bytes(), f
    for x, y in zip(written[1:4], res_b):
        pd.testing.assert_frame_equal(x, y)
    out_c = tmp_path / "c"
    sg.write_readings(devices, out_c, seed=SEED + 1, period=PERIOD)
    assert all((out_a / f).read_bytes() != (out_c / f).read_bytes() for f in files_a)
