"""Reading the readings: bad rows and bad files become counts and problems, never a crash; the inputs are untouched;
the same numbers on a dask.distributed cluster as on the local scheduler."""

import hashlib
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cimlib import Catalog
from cimlib.sensors import analyse_sensors, reading_tasks


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def city_copy(base_city, tmp_path):
    dst = tmp_path / "city"
    shutil.copytree(base_city, dst, ignore=shutil.ignore_patterns("delivery"))
    return dst


def _day(city, day="2024-09-03"):
    return city / "data" / "readings" / f"date={day}" / "part-0.parquet"


def test_malformed_files_and_rows_are_reported_and_the_rest_completes(city_copy):
    base = analyse_sensors(Catalog.load(city_copy / "data_catalog.yaml"), anomalies=False, cube=False)
    # day 3: values as text with junk, two missing device ids and a tz-aware time column
    t = pq.read_table(_day(city_copy)).to_pandas()
    registered = set(Catalog.load(city_copy / "data_catalog.yaml").read("devices")["device_id"])
    rows = t.index[t["device_id"].astype(str).isin(registered)][:7]
    text = t["value"].map(repr).astype(object)
    text.loc[rows[:5]] = ["N/A", "", "abc", None, "1,5"]
    t["value"] = text
    t["device_id"] = t["device_id"].astype(object)
    t.loc[rows[5:7], "device_id"] = None
    t["ts"] = t["ts"].dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    pq.write_table(pa.Table.from_pandas(t, preserve_index=False), _day(city_copy))
    # day 4: truncated; day 5: no ts column
    raw = _day(city_copy, "2024-09-04").read_bytes()
    _day(city_copy, "2024-09-04").write_bytes(raw[: len(raw) // 2])
    t5 = pq.read_table(_day(city_copy, "2024-09-05")).drop(["ts"])
    pq.write_table(t5, _day(city_copy, "2024-09-05"))
    before = _digest(city_copy)

    r = analyse_sensors(Catalog.load(city_copy / "data_catalog.yaml"), anomalies=False, cube=False)
    assert _digest(city_copy) == before                      # inputs never written
    counts = dict(zip(r.bad_readings["kind"], r.bad_readings["rows"]))
    assert counts["value_invalid"] == 5
    base_unknown = base.bad_samples[base.bad_samples["kind"] == "unknown_device"]
    lost = base_unknown["file"].str.contains("2024-09-0[45]").sum()   # in the files that are now unreadable
    assert counts["unknown_device"] == len(base_unknown) - lost + 2
    probs = r.problems.set_index(r.problems["file"].str.extract(r"date=(\d{4}-\d{2}-\d{2})")[0])
    assert "无法读取" in probs.loc["2024-09-04", "problem"]
    assert "ts" in probs.loc["2024-09-05", "problem"]
    samples = r.bad_samples[r.bad_samples["kind"] == "value_invalid"]
    assert set(samples["value"].fillna("<NA>")) >= {"N/A", "abc", "1,5"}
    assert samples["file"].str.contains("2024-09-03").all()
    # day 3 still counts, with its time converted back to local time: same received as before, minus the bad rows
    d3 = r.health_daily[r.health_daily["date"] == "2024-09-03"]["received"].sum()
    b3 = base.health_daily[base.health_daily["date"] == "2024-09-03"]["received"].sum()
    assert b3 - 7 <= d3 <= b3 and d3 > 0
    # the unreadable days count as nothing received, and the rest is untouched
    for day in ("2024-09-04", "2024-09-05"):
        assert r.health_daily.loc[r.health_daily["date"] == day, "received"].sum() == 0
    other = ~r.health_daily["date"].isin(["2024-09-03", "2024-09-04", "2024-09-05"])
    pd.testing.assert_frame_equal(r.health_daily[other].reset_index(drop=True),
                                  base.health_daily[other].reset_index(drop=True))


def test_an_empty_day_file_and_an_unpartitioned_file(city_copy):
    t = pq.read_table(_day(city_copy))
    pq.write_table(t.slice(0, 0), _day(city_copy))
    r = analyse_sensors(Catalog.load(city_copy / "data_catalog.yaml"), anomalies=False, cube=False)
    assert r.problems.empty
    assert r.health_daily.loc[r.health_daily["date"] == "2024-09-03", "received"].sum() == 0
    tasks = reading_tasks([city_copy / "loose.parquet", _day(city_copy)], "2024-09")
    assert [len(t.paths) for t in tasks] == [1, 1]


def test_the_same_health_on_a_local_dask_cluster(sensor_run):
    distributed = pytest.importorskip("distributed")
    root, catalog, truth, local = sensor_run
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        remote = analyse_sensors(catalog, anomalies=False)
    pd.testing.assert_frame_equal(remote.health_daily, local.health_daily)
    pd.testing.assert_frame_equal(remote.health, local.health)
    pd.testing.assert_frame_equal(remote.alarms, local.alarms)
    assert remote.bad_readings.equals(local.bad_readings)


def test_a_configured_scheduler_that_is_down_is_a_clear_error(sensor_run, monkeypatch):
    _, catalog, _, _ = sensor_run
    monkeypatch.setenv("CIM_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    with pytest.raises(OSError, match="127.0.0.1:9"):
        analyse_sensors(catalog, anomalies=False)


def test_hourly_cube_matches_the_device_days(sensor_run):
    _, _, _, r = sensor_run
    cube = r.cube
    assert cube.sizes["time"] == 24 * r.health_daily["date"].nunique()
    per_device = cube["count"].sum("time").to_series()
    received = r.health_daily.groupby("device_id")["received"].sum()
    assert (per_device.reindex(received.index) == received).all()
    hours = (cube["count"] > 0).sum("time").to_series()
    assert (hours.reindex(received.index) == r.health_daily.groupby("device_id")["online_hours"].sum()).all()
    m = cube["mean"].values
    assert np.all((cube["min"].values <= m + 1e-12) | np.isnan(m)) and np.all((m <= cube["max"].values + 1e-12) | np.isnan(m))


@pytest.mark.parametrize("suffix", ["nc", "zarr"])
def test_cube_round_trips_through_netcdf_and_zarr(sensor_run, tmp_path, suffix):
    import xarray as xr

    from cimlib.sensors import save_cube

    _, _, _, r = sensor_run
    path = save_cube(r.cube, tmp_path / f"cube.{suffix}")
    back = xr.open_zarr(path) if suffix == "zarr" else xr.open_dataset(path, engine="netcdf4")
    xr.testing.assert_equal(back.load(), r.cube)
    assert not list(tmp_path.glob(".*partial"))
