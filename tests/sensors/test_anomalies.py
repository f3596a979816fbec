"""Anomaly detection (cimlib.sensors.anomalies): truth of the sample city, synthetic series, pandas = Dask."""

import numpy as np
import pandas as pd
import pytest

from cimlib.catalog import Catalog
from cimlib.sensors.anomalies import DEFAULTS, anomaly_events, detect_anomalies

DAY = pd.Timedelta("1D")


# --------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=[7, 11], ids=["seed7", "seed11"])
def city(request, sample_cities):
    """A small sample city (shared), its readings (pandas), the detection result and the truth of sensor events."""
    seed = request.param
    catalog = sample_cities.city(seed) / "data_catalog.yaml"
    ddf = Catalog.load(catalog).read("readings")
    readings = ddf[["device_id", "ts", "value"]].compute()
    truth = pd.read_csv(catalog.parent / "truth" / "sensor_events.csv", parse_dates=["start", "end"])
    result = detect_anomalies(readings)
    return {"ddf": ddf, "readings": readings, "truth": truth, "result": result, "events": anomaly_events(result)}


def _series(days=7, interval="5min", amplitude=10.0, noise=1.0, seed=0, decimals=None, start="2024-09-01"):
    """One series: daily cosine cycle plus Gaussian noise, optionally quantized."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=int(days * DAY / pd.Timedelta(interval)), freq=interval)
    hours = (ts - ts.normalize()) / pd.Timedelta("1h")
    value = 50 + amplitude * np.cos(2 * np.pi * (np.asarray(hours) - 15) / 24) + noise * rng.standard_normal(len(ts))
    if decimals is not None:
        value = np.round(value, decimals)
    return pd.DataFrame({"device_id": "D1", "ts": ts, "value": value})


def _overlaps(events: pd.DataFrame, start, end) -> bool:
    """Whether any event (``start``, ``end`` inclusive) overlaps the interval ``[start, end)``."""
    return bool(((events["start"] < end) & (events["end"] >= start)).any())


def _hits(truth: pd.DataFrame, start, end) -> bool:
    """Whether the event ``[start, end]`` (inclusive) overlaps any truth interval ``[start, end)``."""
    return bool(((truth["start"] <= end) & (truth["end"] > start)).any())


# --------------------------------------------------------------------------------------------------
# The sample city against its truth
# --------------------------------------------------------------------------------------------------

def test_every_truth_spike_and_stuck_is_detected(city):
    truth, events = city["truth"], city["events"].assign(device_id=lambda e: e["device_id"].astype(str))
    wanted = truth[truth["kind"].isin(["spike", "stuck"])]
    assert len(wanted) >= 5
    missed = [(r.device_id, r.kind, r.start) for r in wanted.itertuples()
              if not _overlaps(events[events["device_id"] == r.device_id], r.start, r.end)]
    assert missed == []


def test_stuck_periods_are_flat_events_and_spikes_spike_events(city):
    truth, events = city["truth"], city["events"].assign(device_id=lambda e: e["device_id"].astype(str))
    for r in truth[truth["kind"].isin(["spike", "stuck"])].itertuples():
        ev = events[(events["device_id"] == r.device_id) & (events["start"] < r.end) & (events["end"] >= r.start)]
        assert ({"flat"} if r.kind == "stuck" else {"spike"}) & set(ev["kind"]), (r.device_id, r.kind)


def test_no_event_outside_the_truth(city):
    truth, events = city["truth"], city["events"].assign(device_id=lambda e: e["device_id"].astype(str))
    truth = truth[truth["kind"] != "offline"]
    outside = [(e.device_id, e.start) for e in events.itertuples()
               if not _hits(truth[truth["device_id"] == e.device_id], e.start, e.end)]
    assert outside == []
    # and the flagged readings are few: a flood is as useless as silence
    assert city["result"]["is_anomaly"].mean() < 0.002


def test_result_keeps_every_row_sorted(city):
    readings, result = city["readings"], city["result"]
    assert len(result) == len(readings)
    assert list(result.columns) == list(readings.columns) + ["score", "is_anomaly", "anomaly_kind", "anomaly_event"]
    assert result["score"].dtype == np.float64 and result["is_anomaly"].dtype == bool
    assert result["anomaly_event"].dtype == np.int64
    assert ((result["anomaly_event"] >= 0) == result["is_anomaly"]).all()
    keys = pd.DataFrame({"d": result["device_id"].astype(str).to_numpy(), "t": result["ts"].to_numpy()})
    assert keys.equals(keys.sort_values(["d", "t"], kind="stable").reset_index(drop=True))
    assert set(result["anomaly_kind"].unique()) <= {"", "spike", "level", "flat"}
    assert (result["anomaly_kind"] != "").equals(result["is_anomaly"])


def test_dask_equals_pandas(city):
    ddf = city["ddf"][["device_id", "ts", "value", "received_at"]]
    lazy = detect_anomalies(ddf)
    assert hasattr(lazy, "compute") and lazy.npartitions >= 1
    got = lazy.compute()
    want = detect_anomalies(city["ddf"].compute()[["device_id", "ts", "value", "received_at"]])
    key = ["device_id", "ts", "value", "received_at"]
    got = got.sort_values(key, kind="stable").reset_index(drop=True)
    want = want.sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_categorical=False)
    pd.testing.assert_frame_equal(anomaly_events(got), city["events"], check_categorical=False)


def test_runs_on_a_distributed_client(tmp_path_factory):
    distributed = pytest.importorskip("distributed")
    frame = pd.concat([_series(days=3, seed=s).assign(device_id=f"D{s}") for s in range(4)], ignore_index=True)
    frame.loc[[100, 1500], "value"] += 20
    import dask.dataframe as dd

    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None):
        got = detect_anomalies(dd.from_pandas(frame, npartitions=3)).compute()
    want = detect_anomalies(frame)
    got = got.sort_values(["device_id", "ts", "value"]).reset_index(drop=True)
    got["device_id"] = got["device_id"].astype(want["device_id"].dtype)   # the string NA flavour may differ
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True))
    assert got["is_anomaly"].sum() >= 2


# --------------------------------------------------------------------------------------------------
# Synthetic series: what must not raise alarms
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("interval", ["1min", "5min", "30min"])
@pytest.mark.parametrize("seed", [1, 2])
def test_noise_and_daily_cycle_give_no_event(interval, seed):
    df = _series(days=8, interval=interval, amplitude=15.0, seed=seed, decimals=2)
    events = anomaly_events(detect_anomalies(df))
    assert len(events) == 0, events


def test_seasonality_with_rush_hours_gives_no_event():
    rng = np.random.default_rng(5)
    ts = pd.date_range("2024-09-01", periods=14 * 288, freq="5min")
    h = np.asarray((ts - ts.normalize()) / pd.Timedelta("1h"))
    profile = 2 + 30 * np.exp(-((h - 8) ** 2) / 2) + 25 * np.exp(-((h - 18) ** 2) / 2)   # morning and evening peaks
    df = pd.DataFrame({"device_id": "R", "ts": ts, "value": np.round(profile + rng.standard_normal(len(ts)), 1)})
    assert len(anomaly_events(detect_anomalies(df))) == 0


def test_gaps_and_outages_are_not_anomalies():
    df = _series(days=10, interval="5min", amplitude=40.0, seed=3, decimals=1)   # large cycle: no straddling
    rng = np.random.default_rng(4)
    drop = rng.random(len(df)) < 0.01                                            # scattered missing samples
    outage = (df["ts"] >= "2024-09-04 07:00") & (df["ts"] < "2024-09-04 19:00")  # a 12-hour outage
    outage |= (df["ts"] >= "2024-09-07 02:00") & (df["ts"] < "2024-09-08 14:00")  # and one of 36 hours
    df = df[~drop & ~outage]
    result = detect_anomalies(df)
    assert len(anomaly_events(result)) == 0
    assert not result["is_anomaly"].any()


def test_flat_most_of_the_time_does_not_flood():
    """A waterlogging depth: 0 most of the time, a few rain events with noisy depths: no flat-line flood."""
    rng = np.random.default_rng(6)
    ts = pd.date_range("2024-09-01", periods=30 * 288, freq="5min")
    depth = np.zeros(len(ts))
    for day in (3, 9, 16, 24):                           # four rain events of 6 hours
        i0 = day * 288 + 100
        bump = 8 * np.sin(np.linspace(0, np.pi, 72))
        depth[i0:i0 + 72] = np.maximum(np.round(bump + 0.3 * rng.standard_normal(72), 1), 0)
    df = pd.DataFrame({"device_id": "WL", "ts": ts, "value": depth})
    result = detect_anomalies(df)
    events = anomaly_events(result)
    assert (events["kind"] == "flat").sum() == 0
    assert len(events) <= 4                      # at most the rain events themselves (level changes from 0)
    assert result["is_anomaly"].mean() < 0.05


def test_flat_series_judged_against_its_own_runs():
    """Two series: one at 0 with rare blips (long zero runs are normal), one noisy (a long run is a flat-line)."""
    quiet = pd.DataFrame({"device_id": "A", "ts": pd.date_range("2024-09-01", periods=8000, freq="5min"),
                          "value": 0.0})
    quiet.loc[::700, "value"] = 1.0
    noisy = _series(days=20, interval="5min", seed=8, decimals=2).assign(device_id="B")
    noisy.loc[2000:2060, "value"] = noisy.loc[2000, "value"]            # 5 hours stuck
    events = anomaly_events(detect_anomalies(pd.concat([quiet, noisy], ignore_index=True)))
    assert set(events.loc[events["kind"] == "flat", "device_id"]) == {"B"}
    b = events[events["device_id"] == "B"]
    assert len(b) == 1 and b["kind"].iloc[0] == "flat"
    assert b["start"].iloc[0] <= noisy.loc[2001, "ts"] and b["end"].iloc[0] >= noisy.loc[2060, "ts"]


# --------------------------------------------------------------------------------------------------
# Synthetic series: what must be found
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("interval", ["1min", "10min", "30min"])
def test_spikes_level_shift_and_stuck_are_found(interval):
    df = _series(days=10, interval=interval, amplitude=20.0, seed=9, decimals=2)
    n = len(df)
    spikes = [n // 7, n // 3, (2 * n) // 3]
    for i, sign in zip(spikes, (1, -1, 1)):
        df.loc[i, "value"] += sign * 8.5
    step = pd.Timedelta(interval)
    k = max(int(pd.Timedelta("4h") / step), 8)
    s0 = n // 2
    df.loc[s0:s0 + k - 1, "value"] = df.loc[s0, "value"]                 # stuck 4 h (at least 8 samples)
    e0 = (5 * n) // 6
    m = max(int(pd.Timedelta("90min") / step), 4)
    df.loc[e0:e0 + m - 1, "value"] += 25.0                                # an excursion
    events = anomaly_events(detect_anomalies(df))
    for i in spikes:
        assert _overlaps(events[events["kind"] == "spike"], df.loc[i, "ts"], df.loc[i, "ts"] + step)
    assert _overlaps(events[events["kind"] == "flat"], df.loc[s0, "ts"], df.loc[s0 + k - 1, "ts"])
    assert _overlaps(events, df.loc[e0, "ts"], df.loc[e0 + m - 1, "ts"])
    assert len(events) <= 6


def test_sustained_moderate_deviation_is_found():
    """Four hours at +2.5 noise units (no reading needs to be extreme): the evidence of the long windows flags it."""
    df = _series(days=8, interval="5min", amplitude=10.0, seed=21, decimals=2)
    i0 = 4 * 288 + 40
    df.loc[i0:i0 + 47, "value"] += 2.5
    result = detect_anomalies(df)
    events = anomaly_events(result)
    hit = events[(events["start"] <= df.loc[i0 + 47, "ts"]) & (events["end"] >= df.loc[i0, "ts"])]
    assert len(hit) == 1 and hit["kind"].iloc[0] == "level"
    assert hit["n_points"].iloc[0] >= 24                                  # most of the stretch, as one event
    assert len(events) == 1                                                # and nothing else
    # the same readings without the shift are not anomalous
    assert not detect_anomalies(_series(days=8, interval="5min", amplitude=10.0, seed=21, decimals=2))[
        "is_anomaly"].any()


@pytest.mark.parametrize("seed", [22, 23, 24])
def test_cluster_of_moderate_spikes_is_found_but_not_a_lone_one(seed):
    """Two readings at +5 noise units two samples apart are one anomaly (alone, each is usually below the
    threshold); a lone reading at +4 is not an anomaly."""
    df = _series(days=6, interval="5min", amplitude=10.0, seed=seed)
    i0 = 3 * 288 + 100
    df.loc[[i0, i0 + 2], "value"] += 5.0
    lone = 2 * 288 + 50
    df.loc[lone, "value"] += 4.0
    result = detect_anomalies(df)
    events = anomaly_events(result)
    assert len(events) == 1
    assert events["kind"].iloc[0] == "spike"
    assert events["start"].iloc[0] <= df.loc[i0 + 2, "ts"] and events["end"].iloc[0] >= df.loc[i0, "ts"]
    # the pair's evidence adds up: without it (cluster_window=1) each reading only has its own score
    alone = detect_anomalies(df, cluster_window=1)
    assert result.loc[[i0, i0 + 2], "score"].min() > alone.loc[[i0, i0 + 2], "score"].max()


def _weekly(weeks=5, holiday=None, seed=23):
    """Half-hourly demand with morning and evening peaks on weekdays and a late, lower hump on weekends."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2024-09-02", periods=weeks * 7 * 48, freq="30min")             # a Monday
    h = np.asarray((ts - ts.normalize()) / pd.Timedelta("1h"))
    weekday = 20 + 60 * np.exp(-((h - 8) ** 2) / 2) + 50 * np.exp(-((h - 18) ** 2) / 3)
    weekend = 20 + 35 * np.exp(-((h - 14) ** 2) / 8)
    is_weekend = np.asarray(ts.day_of_week >= 5)
    if holiday is not None:
        is_weekend |= np.asarray(ts.normalize() == pd.Timestamp(holiday))
    value = np.where(is_weekend, weekend, weekday) + 2.0 * rng.standard_normal(len(ts))
    return pd.DataFrame({"device_id": "TX", "ts": ts, "value": np.round(value, 1)})


def test_weekly_pattern_gives_no_weekend_events_and_finds_a_holiday():
    assert len(anomaly_events(detect_anomalies(_weekly()))) == 0
    # a Wednesday that looks like a Sunday (a holiday) is the only anomaly
    events = anomaly_events(detect_anomalies(_weekly(holiday="2024-09-25")))
    assert len(events) >= 1
    day = pd.Timestamp("2024-09-25")
    assert ((events["start"] < day + DAY) & (events["end"] >= day)).all()


def test_routine_daily_spike_is_not_an_event_but_an_unusual_one_is():
    """A nightly job lifts one reading around 03:00 every day: routine; a spike three times as large is not."""
    df = _series(days=14, interval="5min", amplitude=2.0, noise=0.2, seed=24, decimals=2)
    rng = np.random.default_rng(24)
    days = df["ts"].dt.normalize().drop_duplicates()
    for d in days:
        at = d + pd.Timedelta("3h") + pd.Timedelta(minutes=5 * int(rng.integers(0, 7)))
        df.loc[df["ts"] == at, "value"] += 6.0
    big = pd.Timestamp("2024-09-09 15:20")
    df.loc[df["ts"] == big, "value"] += 18.0
    events = anomaly_events(detect_anomalies(df))
    assert len(events) == 1 and events["start"].iloc[0] == big


def test_event_numbers_follow_each_series_sampling_interval():
    """compute.py passes only the flagged rows to anomaly_events: the numbers of detect_anomalies group them the way
    each series' own sampling interval says, where one fixed time gap cannot serve a 1-min and a 90-min series."""
    fast = _series(days=4, interval="1min", amplitude=10.0, seed=25, decimals=2).assign(device_id="FAST")
    f1, f2 = 2 * 1440 + 300, 2 * 1440 + 330                       # two spikes 30 min (30 samples) apart
    fast.loc[[f1, f2], "value"] += 12.0
    slow = _series(days=12, interval="90min", amplitude=10.0, seed=26, decimals=2).assign(device_id="SLOW")
    s0 = 100
    slow.loc[s0:s0 + 5, "value"] += 15.0                          # nine hours high: six readings 90 min apart
    result = detect_anomalies(pd.concat([fast, slow], ignore_index=True))
    assert result["anomaly_event"].dtype == np.int64
    assert (result.loc[~result["is_anomaly"], "anomaly_event"] == -1).all()
    flagged = result[result["is_anomaly"]]
    assert set(flagged.loc[flagged["device_id"] == "FAST", "anomaly_event"]) == {0, 1}
    assert set(flagged.loc[flagged["device_id"] == "SLOW", "anomaly_event"]) == {0}
    events = anomaly_events(flagged)
    pd.testing.assert_frame_equal(events, anomaly_events(result))
    assert events.groupby("device_id")["n_points"].size().to_dict() == {"FAST": 2, "SLOW": 1}
    assert events.loc[events["device_id"] == "SLOW", "n_points"].iloc[0] >= 5
    # without the numbers (or with an explicit max_gap) the events are grouped by time: one hour by default
    by_time = anomaly_events(flagged.drop(columns="anomaly_event"))
    pd.testing.assert_frame_equal(by_time, anomaly_events(result, max_gap="1h"))
    n_slow = int((flagged["device_id"] == "SLOW").sum())
    assert by_time.groupby("device_id")["n_points"].size().to_dict() == {"FAST": 1, "SLOW": n_slow}


def test_irregular_sampling_and_heavy_tails():
    """Irregular times and Student-t noise: the real spike is found, the heavy tail does not flood."""
    rng = np.random.default_rng(10)
    ts = pd.Timestamp("2024-09-01") + pd.to_timedelta(np.cumsum(rng.integers(3, 12, 6000)), unit="min")
    value = 40 + 3 * rng.standard_t(3, len(ts))
    value[3000] += 80
    df = pd.DataFrame({"device_id": "T", "ts": ts, "value": value})
    events = anomaly_events(detect_anomalies(df))
    assert _overlaps(events, ts[3000], ts[3000] + pd.Timedelta("1s"))
    assert len(events) <= 8                      # about one per thousand readings: Student-t(3) has real outliers


# --------------------------------------------------------------------------------------------------
# Robustness and the events table
# --------------------------------------------------------------------------------------------------

def test_nan_values_and_nat_times_are_kept_and_never_flagged():
    df = _series(days=4, seed=11)
    df.loc[[5, 100, 101, 700], "value"] = np.nan
    df["ts"] = df["ts"].astype("datetime64[ms]")
    df.loc[[50, 900], "ts"] = pd.NaT
    df = df.sample(frac=1.0, random_state=1)                             # any input order
    result = detect_anomalies(df)
    assert len(result) == len(df)
    bad = result["value"].isna() | result["ts"].isna()
    assert bad.sum() == 6
    assert result.loc[bad, "score"].isna().all() and not result.loc[bad, "is_anomaly"].any()
    assert result.loc[~bad, "score"].notna().all()
    assert (result.loc[bad, "anomaly_kind"] == "").all()


def test_duplicates_and_row_order_do_not_change_the_result():
    df = _series(days=5, seed=12, decimals=2)
    df.loc[1000, "value"] += 12
    dup = pd.concat([df, df.iloc[990:1010]], ignore_index=True).sample(frac=1.0, random_state=3)
    a = detect_anomalies(df).reset_index(drop=True)
    b = detect_anomalies(dup).drop_duplicates().reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert a["is_anomaly"].sum() >= 1


def test_by_none_is_one_series_and_works_on_dask():
    dd = pytest.importorskip("dask.dataframe")
    df = _series(days=4, seed=13, decimals=2).drop(columns="device_id")
    df.loc[300, "value"] -= 15
    got = detect_anomalies(dd.from_pandas(df, npartitions=4), by=None).compute()
    want = detect_anomalies(df, by=None)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    events = anomaly_events(want, by=None)
    pd.testing.assert_frame_equal(anomaly_events(detect_anomalies(dd.from_pandas(df, npartitions=2), by=None),
                                                 by=None), events)
    assert list(events.columns) == ["start", "end", "kind", "n_points", "peak_score", "peak_value"]
    assert len(events) == 1 and events["peak_value"].iloc[0] == df.loc[300, "value"]


def test_events_group_consecutive_flags_and_honour_max_gap():
    t0 = pd.Timestamp("2024-09-01")
    result = pd.DataFrame({
        "device_id": ["A"] * 6 + ["B"],
        "ts": [t0, t0 + pd.Timedelta("5min"), t0 + pd.Timedelta("10min"), t0 + pd.Timedelta("40min"),
               t0 + pd.Timedelta("3h"), t0 + pd.Timedelta("3h5min"), t0],
        "value": [1.0, 9.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "score": [7.0, 9.0, 6.0, 3.0, 8.0, 6.5, 6.0],
        "is_anomaly": [True, True, True, False, True, True, True],
        "anomaly_kind": ["level", "spike", "level", "", "flat", "flat", "spike"],
    })
    events = anomaly_events(result)
    assert list(events.columns) == ["device_id", "start", "end", "kind", "n_points", "peak_score", "peak_value"]
    assert events[["device_id", "n_points", "kind", "peak_value"]].values.tolist() == [
        ["A", 3, "spike", 9.0], ["A", 2, "flat", 4.0], ["B", 1, "spike", 6.0]]
    assert events["end"].iloc[0] == t0 + pd.Timedelta("10min")
    # only the flagged rows give the same events; a large max_gap merges, a tiny one splits
    pd.testing.assert_frame_equal(anomaly_events(result[result["is_anomaly"]]), events)
    assert len(anomaly_events(result, max_gap="4h")) == 2
    assert len(anomaly_events(result, max_gap="1min")) == 6
    empty = anomaly_events(result.assign(is_anomaly=False))
    assert len(empty) == 0 and list(empty.columns) == list(events.columns)


def test_parameters_are_checked():
    df = _series(days=2)
    with pytest.raises(TypeError, match="未知参数"):
        detect_anomalies(df, treshold=3)
    with pytest.raises(ValueError):
        detect_anomalies(df, window=1)
    with pytest.raises(KeyError):
        detect_anomalies(df, value="nope")
    with pytest.raises(ValueError):
        detect_anomalies(df.assign(score=0.0))
    for bad in ({"level_windows": 25}, {"level_windows": (0, 97)}, {"event_gap": 0}, {"routine_share": 0.0},
                {"level_min_samples": 0}):
        with pytest.raises(ValueError):
            detect_anomalies(df, **bad)
    # a list of windows is accepted like the tuple
    pd.testing.assert_frame_equal(detect_anomalies(df, level_windows=[25, 97]), detect_anomalies(df))
    # a stricter threshold flags a subset
    df.loc[100, "value"] += 9
    loose, strict = detect_anomalies(df, threshold=4.0), detect_anomalies(df, threshold=DEFAULTS.threshold * 2)
    assert strict["is_anomaly"].sum() <= loose["is_anomaly"].sum()
    assert not (strict["is_anomaly"] & ~loose["is_anomaly"]).any()
