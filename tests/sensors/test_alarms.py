"""Threshold alarms: one event per injected excursion, with minimum duration and hysteresis; rule file errors."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cimlib.sensors import AlarmRule, AlarmRuleError, alarm_events, load_alarm_rules
from cimlib.sensors.alarms import rules_per_device
from cimlib.sensors.readings import ScanSpec, period_bounds, reading_tasks, scan_readings


def test_alarms_equal_the_injected_excursions(sensor_run):
    _, _, truth, result = sensor_run
    ev = truth["events"]
    exc = ev[ev["kind"] == "excursion"][["device_id", "start", "end", "peak"]]
    assert len(exc) > 0
    got = result.alarms[["device_id", "start", "end", "peak"]]
    m = exc.merge(got, on=["device_id", "start"], how="outer", suffixes=("_truth", ""), indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    assert (m["end"] == m["end_truth"]).all()
    np.testing.assert_allclose(m["peak"], m["peak_truth"])
    assert result.alarms["message"].str.contains("持续").all()


def test_the_shipped_rule_file_covers_every_device_type():
    from cimlib.demo._sensors import DEVICE_TYPES

    rules = load_alarm_rules()
    assert {r.device_type for r in rules} == set(DEVICE_TYPES["type_code"])
    assert all(r.standard for r in rules)


# ---------------------------------------------------------------- hand-made series

P0, NDAYS = period_bounds("2024-09")
IV = 300


def _write_days(folder: Path, values_by_day: dict[int, list[float]], device="D1", start_s=0):
    """One device, 5-minute samples; ``values_by_day[d]`` are the values of day ``d`` from ``start_s`` on."""
    for day, values in values_by_day.items():
        ts = P0 + day * 86_400_000 + (start_s + np.arange(len(values)) * IV) * 1000
        table = pa.table({"device_id": pa.array([device] * len(values)), "ts": pa.array(ts.astype("datetime64[ms]")),
                          "value": pa.array(np.asarray(values, dtype=float))})
        path = folder / f"date=2024-09-{day + 1:02d}" / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)


def _alarms(folder: Path, rule: AlarmRule):
    devices = pd.DataFrame({"device_id": ["D1"], "device_type": ["X"], "interval_s": [IV], "street_code": ["s"]})
    per = rules_per_device([rule], devices)
    spec = ScanSpec(device_ids=np.array(["D1"], dtype=object), p0_ms=P0, n_days=NDAYS,
                    hi_trig=per["hi_trig"].to_numpy(), hi_clear=per["hi_clear"].to_numpy(),
                    lo_trig=per["lo_trig"].to_numpy(), lo_clear=per["lo_clear"].to_numpy())
    scan = scan_readings(reading_tasks(folder.rglob("*.parquet")), spec)
    return alarm_events(scan, devices, [rule], per, P0)


RULE = AlarmRule(rule_id="T", device_type="X", name_zh="测试", above=10.0, below=0.0, hysteresis=1.0,
                 min_duration=pd.Timedelta("10min"))


def test_chatter_around_the_threshold_is_one_alarm_thanks_to_hysteresis(tmp_path):
    values = [5] * 10 + [10.5, 9.5, 10.6, 9.2, 10.8, 9.4, 11.0] + [5] * 10
    _write_days(tmp_path, {0: values})
    a = _alarms(tmp_path, RULE)
    assert len(a) == 1
    assert a["n_samples"].iloc[0] == 7 and a["peak"].iloc[0] == 11.0
    assert a["start"].iloc[0] == pd.Timestamp("2024-09-01 00:50:00")
    assert a["end"].iloc[0] == pd.Timestamp("2024-09-01 01:25:00")


def test_dropping_below_the_clear_level_ends_the_alarm(tmp_path):
    values = [5] * 5 + [11, 11, 11, 8.9, 11, 11, 11] + [5] * 5
    _write_days(tmp_path, {0: values})
    a = _alarms(tmp_path, RULE)
    assert len(a) == 2


def test_a_single_sample_spike_is_not_an_alarm(tmp_path):
    _write_days(tmp_path, {0: [5] * 10 + [50] + [5] * 10})
    assert _alarms(tmp_path, RULE).empty


def test_a_long_gap_splits_an_alarm(tmp_path):
    values = [5] * 5 + [11] * 4 + [np.nan] * 6 + [11] * 4 + [5] * 5   # NaN rows: invalid values, i.e. a gap
    _write_days(tmp_path, {0: values})
    a = _alarms(tmp_path, RULE)
    assert len(a) == 2


def test_an_alarm_across_midnight_is_one_event(tmp_path):
    late = [5] * 280 + [12] * 8              # day 0: 23:20 .. 23:55 above
    early = [12] * 6 + [5] * 10               # day 1: 00:00 .. 00:25 above
    _write_days(tmp_path, {0: late, 1: early})
    a = _alarms(tmp_path, RULE)
    assert len(a) == 1
    assert a["start"].iloc[0] == pd.Timestamp("2024-09-01 23:20:00")
    assert a["end"].iloc[0] == pd.Timestamp("2024-09-02 00:30:00")
    assert a["n_samples"].iloc[0] == 14


def test_low_side_and_ongoing_alarm(tmp_path):
    _write_days(tmp_path, {0: [5] * 5 + [-1, -2, -3, -0.5]})
    a = _alarms(tmp_path, RULE)
    assert len(a) == 1 and a["direction"].iloc[0] == "below" and a["peak"].iloc[0] == -3
    assert bool(a["ongoing"].iloc[0])


@pytest.mark.parametrize("text, problem", [
    ("rules: [{rule_id: A, device_type: X, name_zh: a}]", "above 与 below"),
    ("rules: [{rule_id: A, device_type: X, name_zh: a, above: 1, min_duration: soon}]", "无法解析"),
    ("rules: [{rule_id: A, device_type: X, name_zh: a, above: 1, colour: red}]", "未知的键"),
    ("rules: [{rule_id: A, device_type: X, name_zh: a, above: 1}, {rule_id: A, device_type: Y, name_zh: b, above: 2}]",
     "重复"),
    ("rules: [{rule_id: A, device_type: X, name_zh: a, above: 1, below: 2}]", "应小于"),
    ("rules: {a: 1}", "rules 列表"),
    ("rules: [", "YAML"),
])
def test_rule_file_errors_name_the_file_and_rule(tmp_path, text, problem):
    f = tmp_path / "rules.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(AlarmRuleError, match=problem) as info:
        load_alarm_rules(f)
    assert str(f) in str(info.value)
