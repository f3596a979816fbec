"""The anomaly detection of ``cim sensors`` in bounded memory: the scan spills each day's good rows grouped by device,
and whole series are scored batch by batch. The events must equal those of the reference (``detect_anomalies`` on
the whole month as one pandas frame) and of the Dask path, also for anomalies that sit on a day boundary."""

import tempfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cimlib.sensors import analyse_sensors, good_readings, load_devices
from cimlib.sensors import anomalies, compute
from cimlib.sensors.anomalies import detect_anomalies, flagged_readings
from cimlib.sensors.readings import ScanSpec, catalog_reading_tasks, period_bounds, reading_tasks, scan_readings

EVENT_COLUMNS = ["device_id", "start", "end", "kind", "n_points", "peak_score", "peak_value"]


def _assert_same_events(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same events, row for row: every column identical, the peak score to 1e-9 relative.

    The scores use rolling means from cumulative sums over the series scored together, so their last bits depend
    on which series share a batch (as they did between the partitions of the Dask path); no flag depends on them.
    """
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    got, want = got.reset_index(drop=True), want.reset_index(drop=True)
    exact = [c for c in got.columns if c != "peak_score"]
    pd.testing.assert_frame_equal(got[exact], want[exact], check_exact=True)
    np.testing.assert_allclose(got["peak_score"].to_numpy(), want["peak_score"].to_numpy(), rtol=1e-9)


def _reference_events(frame: pd.DataFrame, devices: pd.DataFrame) -> pd.DataFrame:
    """The reference: the whole month's good readings scored as one pandas frame."""
    result = detect_anomalies(frame, value="value", time="ts", by="device_id")
    return compute._events_of(result[result["is_anomaly"]], devices)


# --------------------------------------------------------------------------------------------------
# The small sample city
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def city_reference(sensor_city):
    """The city's good readings (read straight from Parquet, not through the scan) and their reference events."""
    root, catalog, _ = sensor_city
    devices = load_devices(catalog)
    period = "2024-09"
    p0, n_days = period_bounds(period)
    tasks = catalog_reading_tasks(catalog, period)
    frame = good_readings(tasks, devices, p0, n_days).compute()
    return catalog, devices, tasks, frame, _reference_events(frame, devices)


def test_batches_equal_the_whole_month_on_the_small_city(city_reference, monkeypatch, tmp_path):
    catalog, devices, _, frame, want = city_reference
    assert len(want) >= 5
    batch = 20_000                                      # many batches, a few devices each
    monkeypatch.setattr(compute, "ANOMALY_BATCH_ROWS", batch)
    calls = []

    def counting(codes, *args, **kwargs):
        calls.append(len(np.unique(codes)))
        return flagged_readings(codes, *args, **kwargs)

    monkeypatch.setattr(anomalies, "flagged_readings", counting)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    got = analyse_sensors(catalog, "2024-09", cube=False).anomalies
    assert len(calls) >= 5 and max(calls) < len(devices) / 3       # the series come in several batches
    _assert_same_events(got, want)
    assert list(tmp_path.iterdir()) == []                # the spilled rows are removed


def test_the_dask_path_equals_the_batches(city_reference):
    catalog, devices, tasks, _, want = city_reference
    p0, n_days = period_bounds("2024-09")
    _assert_same_events(compute._anomaly_events(tasks, devices, p0, n_days, progress=False), want)


def test_a_distributed_client_takes_the_dask_path_with_the_same_events(city_reference):
    distributed = pytest.importorskip("distributed")
    catalog, _, _, _, want = city_reference
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None):
        got = analyse_sensors(catalog, "2024-09", cube=False).anomalies
    _assert_same_events(got, want)


def test_flagged_readings_are_the_flagged_rows_of_detect_anomalies(city_reference):
    _, devices, _, frame, _ = city_reference
    ids = pd.Index(devices["device_id"].to_numpy(dtype=object))
    shuffled = frame.sample(frac=1.0, random_state=3)                 # any row order
    got = flagged_readings(shuffled["device_id"].cat.codes.to_numpy(), shuffled["ts"].to_numpy(),
                           shuffled["value"].to_numpy(), ids)
    full = detect_anomalies(shuffled)
    want = full[full["is_anomaly"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert len(got) > 0


# --------------------------------------------------------------------------------------------------
# Anomalies on a day boundary
# --------------------------------------------------------------------------------------------------

P0 = pd.Timestamp("2024-09-01")
MIDNIGHT = pd.Timestamp("2024-09-04")


def _boundary_readings() -> pd.DataFrame:
    """Two devices at 5 min for six days (daily cycle and noise, two decimals). D1 is stuck from 22:00 on the 3rd to
    02:00 on the 4th (48 readings across midnight) and spikes at 00:00 on the 6th, the first reading of a day;
    D2 shifts its level by 6 noise units from 23:00 on the 4th to 01:00 on the 5th."""
    rng = np.random.default_rng(17)
    ts = pd.date_range(P0, periods=6 * 288, freq="5min")
    hours = (ts - ts.normalize()) / pd.Timedelta("1h")
    parts = []
    for dev in ("D1", "D2"):
        value = 50 + 10 * np.cos(2 * np.pi * (np.asarray(hours) - 15) / 24) + rng.standard_normal(len(ts))
        value = np.round(value, 2)
        if dev == "D1":
            stuck = (ts >= MIDNIGHT - pd.Timedelta("2h")) & (ts < MIDNIGHT + pd.Timedelta("2h"))
            value[stuck] = value[np.flatnonzero(stuck)[0]]
            value[ts == pd.Timestamp("2024-09-06")] += 25.0
        else:
            shift = (ts >= pd.Timestamp("2024-09-04 23:00")) & (ts < pd.Timestamp("2024-09-05 01:00"))
            value[shift] += 6.0
        parts.append(pd.DataFrame({"device_id": dev, "ts": ts, "value": value}))
    return pd.concat(parts, ignore_index=True).sort_values(["ts", "device_id"], kind="stable", ignore_index=True)


def _write_days(frame: pd.DataFrame, folder) -> list:
    """One ``date=`` partition per day, rows in time order (devices interleaved), as a department delivers them."""
    for day, rows in frame.groupby(frame["ts"].dt.strftime("%Y-%m-%d")):
        path = folder / f"date={day}" / "part-0.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), path)
    return reading_tasks(folder.rglob("*.parquet"), "2024-09")


def test_anomalies_across_midnight_equal_the_whole_series(tmp_path):
    frame = _boundary_readings()
    tasks = _write_days(frame, tmp_path / "readings")
    assert len(tasks) == 6
    devices = pd.DataFrame({"device_id": ["D1", "D2"], "device_type": ["T", "T"]})
    p0, n_days = period_bounds("2024-09")
    spill = tmp_path / "spill"
    spill.mkdir()
    spec = ScanSpec(device_ids=devices["device_id"].to_numpy(dtype=object), p0_ms=p0, n_days=n_days,
                    spill_dir=str(spill))
    scan = scan_readings(tasks, spec)
    assert len(scan.spilled) == 6
    got = compute._spilled_anomaly_events(scan.spilled, devices, p0, batch_rows=1)   # one device per batch

    whole = frame.assign(device_id=pd.Categorical(frame["device_id"], categories=devices["device_id"]),
                         ts=frame["ts"].astype("datetime64[ms]"))
    want = _reference_events(whole, devices)
    _assert_same_events(got, want)

    # the reference finds the boundary anomalies whole: the stuck run as one flat event across midnight, the spike
    # on the first reading of the 6th, the level shift across the next midnight
    d1, d2 = want[want["device_id"] == "D1"], want[want["device_id"] == "D2"]
    assert ((d1["kind"] == "flat") & (d1["start"] < MIDNIGHT) & (d1["end"] >= MIDNIGHT)).sum() == 1
    assert ((d1["start"] <= pd.Timestamp("2024-09-06")) & (d1["end"] >= pd.Timestamp("2024-09-06"))).any()
    assert ((d2["start"] < pd.Timestamp("2024-09-05")) & (d2["end"] >= pd.Timestamp("2024-09-05"))).any()

    # ... which scoring each day on its own does not: without the rest of the series the result differs, so the
    # equality above fails for any path that cuts the series at day boundaries
    days = [detect_anomalies(rows) for _, rows in whole.groupby(whole["ts"].dt.date)]
    per_day = compute._events_of(pd.concat([d[d["is_anomaly"]] for d in days], ignore_index=True), devices)
    assert not (len(per_day) == len(want) and per_day[EVENT_COLUMNS[:5]].equals(want[EVENT_COLUMNS[:5]]))
    # (cut at midnight, the level shift across it is lost: each day sees an hour of it, too little against its own
    # day; and the event numbers restart each day, so the stuck run and the spike two days later become one event)
    assert per_day[per_day["device_id"] == "D2"].empty
    assert len(per_day[per_day["device_id"] == "D1"]) < len(d1)


@pytest.mark.parametrize("totals, batch, edges", [
    ([5, 5, 5, 5], 10, [0, 2, 4]),
    ([5, 5, 5, 5], 7, [0, 2, 3, 4]),
    ([1, 30, 1, 1], 10, [0, 2, 4]),          # a large device ends its batch
    ([0, 0, 0], 10, [0, 3]),
    ([], 10, [0]),
])
def test_batch_edges_cover_every_device_once(totals, batch, edges):
    got = compute._batch_edges(np.array(totals, dtype=np.int64), batch)
    assert got.tolist() == edges
