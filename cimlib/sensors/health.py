"""Health of the sensing network (设备健康): online rate, completeness, duplicates, order and latency.

:func:`device_days` turns the partials of a scan into one row per registered device and day; :func:`health_metrics`
rolls it up into the metrics table of the acceptance metrics (``metric_id, dataset, area_code, area_level, period,
numerator, denominator, value``) by device, device type, street and county, per day and for the month. The
definitions (also in ``docs/sensors.md``):

- 在线率 ``online_rate``: a device is online in an hour when it reported at least once in that hour; N = online
  device-hours, D = 24 x installed device-days;
- 设备在线率 ``device_online_rate``: N = device-days with at least one reading, D = installed device-days;
- 数据完整率 ``completeness``: N = distinct timestamps received (at most the expected number per device-day),
  D = expected samples = 86 400 s / the device's declared interval, per installed device-day;
- 重复率 ``duplicate_rate``: N = extra copies of a (device, timestamp), D = good rows received;
- 乱序率 ``out_of_order_rate``: N = rows earlier than a reading of the same device that came before them in the
  file, D = good rows received;
- 迟报率 ``late_rate``: N = rows received more than ``late_s`` (default 300 s) after their timestamp, D = rows with
  a receive time; 平均上报时延 ``latency_mean_s``: N = total latency in seconds, D = rows with a receive time.

A device counts from its ``install_date`` (a device-day before it is not expected). Bad rows (unknown device,
invalid or out-of-period time, invalid value) are not received samples; they are counted separately.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cimlib.sensors.readings import ScanResult

HEALTH_METRICS = {
    # metric_id: (name_zh, numerator column, denominator column, unit)
    "online_rate": ("设备在线率（按小时）", "online_hours", "expected_hours", "比率"),
    "device_online_rate": ("设备日在线率", "online_day", "installed", "比率"),
    "completeness": ("数据完整率", "received_capped", "expected", "比率"),
    "duplicate_rate": ("数据重复率", "duplicates", "rows", "比率"),
    "out_of_order_rate": ("数据乱序率", "out_of_order", "rows", "比率"),
    "late_rate": ("迟报率", "late", "latency_n", "比率"),
    "latency_mean_s": ("平均上报时延", "latency_sum_s", "latency_n", "秒"),
}
"""Health metrics: id -> (Chinese name, numerator column, denominator column of :func:`device_days`, unit)."""

DAILY_COLUMNS = ["device_id", "date", "device_type", "street_code", "installed", "expected", "expected_hours",
                 "rows", "received", "received_capped", "duplicates", "out_of_order", "online_hours", "online_day",
                 "latency_n", "latency_sum_s", "late", "negative_latency"]

ALL_TYPES = "全部"
"""``device_type`` of rows rolled up over all device types."""


def device_days(scan: ScanResult, devices: pd.DataFrame, p0_ms: int, n_days: int) -> pd.DataFrame:
    """One row per registered device and day of the period, with what was expected and received.

    Parameters
    ----------
    scan : ScanResult
        From :func:`cimlib.sensors.readings.scan_readings` with the same device order as ``devices``.
    devices : pandas.DataFrame
        The device register sorted by ``device_id``: ``device_id, device_type, interval_s, install_date,
        street_code``.
    p0_ms, n_days : int
        Start of the period (epoch ms of local midnight) and its number of days.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DAILY_COLUMNS`; ``expected`` is NA for a device whose interval is missing or invalid.
    """
    n = len(devices)
    dates = (np.datetime64(int(p0_ms), "ms") + np.arange(n_days) * np.timedelta64(1, "D")).astype("datetime64[D]")
    interval = pd.to_numeric(devices["interval_s"], errors="coerce").to_numpy(dtype=np.float64)
    ok = np.isfinite(interval) & (interval > 0)
    per_day = np.where(ok, np.floor(86_400 / np.where(ok, interval, 1)), np.nan)
    install = pd.to_datetime(devices.get("install_date", pd.Series(pd.NaT, index=devices.index)), errors="coerce")
    install = install.to_numpy(dtype="datetime64[D]")
    grid_dev = np.repeat(np.arange(n), n_days)
    grid_day = np.tile(np.arange(n_days), n)
    installed = np.isnat(install)[grid_dev] | (install[grid_dev] <= dates[grid_day])
    out = pd.DataFrame({
        "device_id": devices["device_id"].astype(str).to_numpy()[grid_dev],
        "date": pd.Series(dates[grid_day].astype(str)),
        "device_type": devices["device_type"].astype(str).to_numpy()[grid_dev],
        "street_code": devices["street_code"].astype(str).to_numpy()[grid_dev],
        "installed": installed.astype(np.int64),
    })
    exp = np.where(installed, per_day[grid_dev], 0.0)
    out["expected"] = pd.array(np.where(np.isnan(exp), pd.NA, exp), dtype="Int64")
    out["expected_hours"] = installed.astype(np.int64) * 24
    d = scan.daily
    pos = d["dev"].to_numpy(np.int64) * n_days + d["day"].to_numpy(np.int64)
    for col in ("rows", "received", "duplicates", "out_of_order", "latency_n", "late", "negative_latency"):
        v = np.zeros(n * n_days, dtype=np.int64)
        v[pos] = d[col].to_numpy(np.int64)
        out[col] = v
    hours = np.zeros(n * n_days, dtype=np.int64)
    hours[pos] = np.bitwise_count(d["hour_mask"].to_numpy(np.int64).astype(np.uint64)).astype(np.int64)
    out["online_hours"] = hours
    out["online_day"] = (out["received"] > 0).astype(np.int64) * out["installed"]
    lat = np.zeros(n * n_days)
    lat[pos] = d["latency_sum_ms"].to_numpy(np.float64) / 1000.0
    out["latency_sum_s"] = lat
    out["received_capped"] = np.minimum(out["received"], out["expected"].fillna(0).astype(np.int64))
    return out[DAILY_COLUMNS]


def health_metrics(daily: pd.DataFrame, period: str, county_code: str | None = None,
                   fingerprint: str | None = None) -> pd.DataFrame:
    """Roll device-days up into the metrics table: by device (month), device type, street and county.

    Parameters
    ----------
    daily : pandas.DataFrame
        From :func:`device_days`.
    period : str
        ``YYYY-MM``, the month's ``period`` label; days are labelled ``YYYY-MM-DD``.
    county_code : str, optional
        Area code of the county rows (default: the first 6 digits of the street codes, one row per county).
    fingerprint : str, optional
        ``inputs_sha256`` of every row.

    Returns
    -------
    pandas.DataFrame
        ``metric_id, dataset, device_type, area_code, area_level, period, numerator, denominator, value, name_zh,
        unit, inputs_sha256``; ``area_level`` is ``device``, ``street`` or ``county``; ``device_type`` is a type code
        or ``全部``. Device rows are monthly only (the daily ones are the device-day table itself).
    """
    cols = sorted({c for _, n, d, _ in HEALTH_METRICS.values() for c in (n, d)})
    frame = daily[["device_id", "date", "device_type", "street_code"] + cols].copy()
    frame[cols] = frame[cols].astype(np.float64)
    frame["county"] = county_code or frame["street_code"].str[:6]
    parts = []
    for level, key in (("device", "device_id"), ("street", "street_code"), ("county", "county")):
        for by_type in (True, False):
            if level == "device" and not by_type:
                continue
            group = [key] + (["device_type"] if by_type else [])
            for per_day in (False, True):
                if level == "device" and per_day:
                    continue
                g = group + (["date"] if per_day else [])
                agg = frame.groupby(g, sort=True, observed=True)[cols].sum().reset_index()
                agg["period"] = agg["date"] if per_day else period
                if not by_type:
                    agg["device_type"] = ALL_TYPES
                agg = agg.rename(columns={key: "area_code"})
                agg["area_level"] = level
                parts.append(agg)
    wide = pd.concat(parts, ignore_index=True)
    rows = []
    for metric_id, (name_zh, num, den, unit) in HEALTH_METRICS.items():
        m = wide[["device_type", "area_code", "area_level", "period"]].copy()
        m.insert(0, "metric_id", metric_id)
        m.insert(1, "dataset", "readings")
        m["numerator"] = wide[num].to_numpy()
        m["denominator"] = wide[den].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            m["value"] = np.where(m["denominator"] > 0, m["numerator"] / m["denominator"].where(m["denominator"] > 0),
                                  np.nan)
        m["name_zh"] = name_zh
        m["unit"] = unit
        rows.append(m)
    out = pd.concat(rows, ignore_index=True)
    out["inputs_sha256"] = fingerprint
    return out


def online_share_by(daily: pd.DataFrame, key: str = "device_type") -> pd.DataFrame:
    """Month summary of online rate and completeness by ``key`` (for a compact printed table).

    Parameters
    ----------
    daily : pandas.DataFrame
        From :func:`device_days`.
    key : str, default "device_type"

    Returns
    -------
    pandas.DataFrame
        ``key, devices, online_rate, completeness`` sorted by ``key``.
    """
    g = daily.groupby(key, sort=True)
    out = pd.DataFrame({
        "devices": g["device_id"].nunique(),
        "online_rate": g["online_hours"].sum() / g["expected_hours"].sum().where(lambda s: s > 0),
        "completeness": g["received_capped"].sum() / g["expected"].sum().astype(float).where(lambda s: s > 0),
    })
    return out.reset_index()

