"""Health metrics (online rate, completeness, duplicates, order) against the truth the sample city injected."""

import numpy as np
import pandas as pd
import pytest

from cimlib.sensors import HEALTH_METRICS, analyse_sensors, health_metrics


def test_device_days_equal_the_truth(sensor_run):
    _, _, truth, result = sensor_run
    got = result.health_daily.set_index(["device_id", "date"])
    want = truth["health"].astype({"date": str}).set_index(["device_id", "date"])
    assert got.index.sort_values().equals(want.index.sort_values())
    got = got.loc[want.index]
    for col in ("expected", "received", "duplicates", "online_hours"):
        np.testing.assert_array_equal(got[col].to_numpy(dtype=np.int64), want[col].to_numpy(dtype=np.int64), err_msg=col)


def test_offline_devices_have_nothing_online(sensor_run):
    _, _, truth, result = sensor_run
    d = truth["defects"]
    offline = set(d.loc[d["defect"] == "device_offline", "record_id"])
    assert offline
    days = result.health_daily.groupby("device_id")[["online_hours", "received"]].sum()
    assert set(days.index[days["received"] == 0]) == offline
    assert (days.loc[list(offline), "online_hours"] == 0).all()


def test_out_of_order_rows_per_device_day_equal_the_truth(sensor_run):
    _, _, truth, result = sensor_run
    d = truth["defects"]
    ooo = d.loc[d["defect"] == "out_of_order", "record_id"].str.split("|", expand=True)
    want = ooo.assign(date=ooo[1].str[:10]).groupby([0, "date"]).size()
    got = result.health_daily.set_index(["device_id", "date"])["out_of_order"]
    assert len(want) > 0
    assert got[got > 0].sort_index().to_dict() == want.sort_index().to_dict()


def test_bad_rows_are_counted_by_kind_and_sampled_with_file_and_row(sensor_run):
    _, _, truth, result = sensor_run
    d = truth["defects"]
    counts = dict(zip(result.bad_readings["kind"], result.bad_readings["rows"]))
    assert counts["unknown_device"] == (d["defect"] == "unknown_device").sum() > 0
    assert counts["ts_out_of_range"] == (d["defect"] == "ts_out_of_range").sum() > 0
    assert counts["value_invalid"] == counts["ts_invalid"] == 0
    s = result.bad_samples
    assert len(s) == counts["unknown_device"] + counts["ts_out_of_range"]
    assert s["file"].str.endswith(".parquet").all() and (s["row"] >= 0).all()
    unknown = set(d.loc[d["defect"] == "unknown_device", "record_id"].str.split("|").str[0])
    assert set(s.loc[s["kind"] == "unknown_device", "device_id"]) == unknown


@pytest.mark.parametrize("metric_id", list(HEALTH_METRICS))
def test_every_health_metric_carries_numerator_denominator_and_rolls_up(sensor_run, metric_id):
    _, _, _, result = sensor_run
    h = result.health[result.health["metric_id"] == metric_id]
    assert h["inputs_sha256"].str.len().eq(64).all()
    ok = h["denominator"] > 0
    np.testing.assert_allclose(h.loc[ok, "value"], h.loc[ok, "numerator"] / h.loc[ok, "denominator"])
    assert h.loc[~ok, "value"].isna().all()
    month = h[h["period"] == result.period]
    for col in ("numerator", "denominator"):
        county = month[(month["area_level"] == "county") & (month["device_type"] == "全部")][col].sum()
        streets = month[(month["area_level"] == "street") & (month["device_type"] == "全部")][col].sum()
        devices = month[month["area_level"] == "device"][col].sum()
        days = h[(h["area_level"] == "county") & (h["device_type"] == "全部") & (h["period"] != result.period)][col].sum()
        assert county == pytest.approx(streets) == pytest.approx(devices) == pytest.approx(days)


def test_online_rate_and_completeness_equal_the_truth_at_county_level(sensor_run):
    _, _, truth, result = sensor_run
    t = truth["health"]
    h = result.health.set_index(["metric_id", "area_level", "device_type", "period"])
    online = h.loc[("online_rate", "county", "全部", result.period)]
    assert online["numerator"] == t["online_hours"].sum()
    assert online["denominator"] == 24 * len(t)
    comp = h.loc[("completeness", "county", "全部", result.period)]
    assert comp["numerator"] == np.minimum(t["received"], t["expected"]).sum()
    assert comp["denominator"] == t["expected"].sum()
    dup = h.loc[("duplicate_rate", "county", "全部", result.period)]
    assert dup["numerator"] == t["duplicates"].sum()


def test_a_device_installed_mid_period_is_expected_only_from_its_install_date(sensor_run):
    root, catalog, _, result = sensor_run
    daily = result.health_daily.copy()
    devices = catalog.read("devices").sort_values("device_id").reset_index(drop=True)
    one = devices["device_id"].iloc[0]
    devices.loc[0, "install_date"] = f"{result.period}-15"
    from cimlib.sensors import device_days
    from cimlib.sensors.readings import ScanResult, period_bounds

    p0, n = period_bounds(result.period)
    fake = ScanResult(daily=pd.DataFrame(columns=["dev", "day", "rows", "received", "duplicates", "out_of_order",
                                                  "hour_mask", "latency_sum_ms", "latency_n", "late",
                                                  "negative_latency"]),
                      bad_counts=None, bad_samples=None, failed=None, alarm_rows=None, last_rows=None, hourly=None,
                      rows_read=0)
    got = device_days(fake, devices, p0, n)
    mine = got[got["device_id"] == one]
    assert (mine["installed"].to_numpy() == (mine["date"] >= f"{result.period}-15").to_numpy()).all()
    assert (mine.loc[mine["installed"] == 0, "expected"] == 0).all()
    assert len(daily) == len(got)


def test_health_metrics_levels_and_periods(sensor_run):
    _, _, _, result = sensor_run
    h = health_metrics(result.health_daily, result.period, fingerprint="x" * 64)
    assert set(h["area_level"]) == {"device", "street", "county"}
    assert not ((h["area_level"] == "device") & (h["period"] != result.period)).any()
    assert set(h.loc[h["area_level"] == "county", "period"]) == {result.period} | set(result.health_daily["date"])


def test_a_month_without_readings_is_a_clear_error(sensor_run):
    _, catalog, _, _ = sensor_run
    with pytest.raises(ValueError, match="2023-01"):
        analyse_sensors(catalog, "2023-01", anomalies=False)
    with pytest.raises(ValueError, match="YYYY-MM"):
        analyse_sensors(catalog, "2024-9", anomalies=False)
