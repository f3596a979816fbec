"""The whole sensing-network analysis of a catalog and period (what ``cim sensors`` runs)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from cimlib._io import sha256_files
from cimlib.catalog import CatalogError
from cimlib.sensors.alarms import ALARM_COLUMNS, alarm_events, load_alarm_rules, rules_per_device
from cimlib.sensors.cluster import dask_client
from cimlib.sensors.cube import hourly_cube
from cimlib.sensors.health import device_days, health_metrics
from cimlib.sensors.readings import (ScanSpec, catalog_reading_tasks, of_period, period_bounds, periods_of,
                                     read_good_rows, scan_readings)
from cimlib.sensors.spatial import DEFAULT_COVER_DISTANCE_M, grid_density, road_coverage, street_density

PROBLEM_COLUMNS = ["dataset", "file", "problem"]


@dataclass
class SensorResult:
    """Everything :func:`analyse_sensors` computes (each table documented in ``docs/sensors.md``)."""

    period: str
    health: pd.DataFrame
    health_daily: pd.DataFrame
    alarms: pd.DataFrame
    anomalies: pd.DataFrame
    coverage: pd.DataFrame
    density_grid: pd.DataFrame
    density_street: pd.DataFrame
    bad_readings: pd.DataFrame
    bad_samples: pd.DataFrame
    problems: pd.DataFrame
    cube: object = None
    inputs: dict = field(default_factory=dict)
    rows_read: int = 0


def load_devices(catalog) -> pd.DataFrame:
    """The device register sorted by ``device_id`` (one row per id: a repeated id keeps its first row).

    Raises
    ------
    CatalogError
        If the ``devices`` entry cannot be read or lacks ``device_id``/``device_type``.
    """
    devices = catalog.read("devices")
    missing = [c for c in ("device_id", "device_type") if c not in devices.columns]
    if missing:
        raise CatalogError(f"设备台账缺少列：{', '.join(missing)}", entry="devices", path=catalog["devices"].resolved_path)
    devices = devices[devices["device_id"].notna()].copy()
    devices["device_id"] = devices["device_id"].astype(str)
    for c in ("street_code", "interval_s", "install_date", "metric"):
        if c not in devices.columns:
            devices[c] = pd.NA
    return devices.drop_duplicates("device_id").sort_values("device_id", kind="stable").reset_index(drop=True)


def analyse_sensors(catalog, period: str | None = None, *, alarm_rules=None, cover_distance_m: float =
                    DEFAULT_COVER_DISTANCE_M, anomalies: bool = True, cube: bool = True, late_s: float = 300.0,
                    progress: bool = False, scheduler: str | None = None) -> SensorResult:
    """Health, alarms, anomalies, road coverage, density and the hourly cube of one month of readings.

    Parameters
    ----------
    catalog : Catalog
        With entries ``devices`` and ``readings`` (``roads`` and ``admin_areas`` for coverage and density).
    period : str, optional
        ``YYYY-MM``; default the latest month of the readings' ``date=`` partitions.
    alarm_rules : path-like, optional
        Alarm rule file (default ``standards_checks/sensor_alarms.yaml``).
    cover_distance_m : float, default 50
        Road coverage distance (metres).
    anomalies : bool, default True
        Run the anomaly detection (one more pass over the readings).
    cube : bool, default True
        Build the hourly ``device x time`` cube.
    late_s : float, default 300
        A reading received more than this many seconds after its timestamp is late.
    progress : bool, default False
        Progress bars on the long parts.
    scheduler : str, optional
        ``dask.distributed`` scheduler address (else ``$CIM_DASK_SCHEDULER``, the catalog's
        ``readings.options.scheduler``, or the local scheduler).

    Returns
    -------
    SensorResult

    Raises
    ------
    CatalogError
        If the device register or the readings entry cannot be used at all (missing, unreadable).
    ValueError
        If ``period`` is malformed or there are no readings for it.
    """
    devices = load_devices(catalog)
    all_tasks = catalog_reading_tasks(catalog)
    if period is None:
        months = periods_of(all_tasks)
        if not months:
            raise ValueError("监测数据没有 date=YYYY-MM-DD 分区，请用 --period 指定统计月份")
        period = months[-1]
    p0, n_days = period_bounds(period)
    tasks = of_period(all_tasks, period)
    if not tasks:
        raise ValueError(f"统计期 {period} 没有监测数据文件（可用月份：{'、'.join(periods_of(all_tasks)) or '无'}）")
    rules = load_alarm_rules(alarm_rules)
    per_device = rules_per_device(rules, devices)
    spec = ScanSpec(device_ids=devices["device_id"].to_numpy(dtype=object), p0_ms=p0, n_days=n_days,
                    hi_trig=per_device["hi_trig"].to_numpy(), hi_clear=per_device["hi_clear"].to_numpy(),
                    lo_trig=per_device["lo_trig"].to_numpy(), lo_clear=per_device["lo_clear"].to_numpy(),
                    late_ms=int(late_s * 1000), cube=cube)
    input_files = [p for t in tasks for p in t.paths]
    readings_sha, devices_sha = sha256_files(input_files), sha256_files(catalog.inputs("devices"))
    fingerprint = hashlib.sha256(f"readings:{readings_sha}\ndevices:{devices_sha}\n".encode()).hexdigest()
    problems = []
    with dask_client(catalog, scheduler):
        scan = scan_readings(tasks, spec, progress=progress)
        events = _anomaly_events(tasks, devices, p0, n_days, progress) if anomalies else pd.DataFrame()
    problems += [("readings", r.file, r.problem) for r in scan.failed.itertuples()]
    daily = device_days(scan, devices, p0, n_days)
    health = health_metrics(daily, period, fingerprint=fingerprint)
    alarms = alarm_events(scan, devices, rules, per_device, p0) if len(rules) else pd.DataFrame(columns=ALARM_COLUMNS)

    coverage = density_grid = density_street = pd.DataFrame()
    online_ids = set(daily.loc[daily["received"] > 0, "device_id"])
    located = devices[devices["device_id"].isin(online_ids)]
    streets = _read_optional(catalog, "admin_areas", problems)
    if streets is not None and "level" in streets:
        streets = streets[streets["level"].astype(str).isin(["street", "街道", "2"])]
    roads = _read_optional(catalog, "roads", problems)
    if roads is not None and hasattr(devices, "geometry"):
        coverage = road_coverage(roads, located, distance_m=cover_distance_m, streets=streets)
    if hasattr(devices, "geometry"):
        density_grid = grid_density(devices)
        if streets is not None:
            density_street = street_density(devices, streets)
    cube_ds = hourly_cube(scan.hourly, devices, p0, n_days) if cube else None
    inputs = {"readings": {"files": len(input_files), "sha256": readings_sha}, "devices": {"sha256": devices_sha},
              "combined_sha256": fingerprint}
    return SensorResult(period=period, health=health, health_daily=daily, alarms=alarms, anomalies=events,
                        coverage=coverage, density_grid=density_grid, density_street=density_street,
                        bad_readings=scan.bad_counts, bad_samples=scan.bad_samples,
                        problems=pd.DataFrame(problems, columns=PROBLEM_COLUMNS), cube=cube_ds, inputs=inputs,
                        rows_read=scan.rows_read)


def _read_optional(catalog, name: str, problems: list):
    if name not in catalog:
        problems.append((name, "", "数据目录中没有该条目，相关指标不计算"))
        return None
    try:
        return catalog.read(name)
    except CatalogError as exc:
        problems.append((name, str(getattr(exc, "path", "") or ""), f"无法读取，相关指标不计算：{exc}"))
        return None


def good_readings(tasks, devices: pd.DataFrame, p0_ms: int, n_days: int):
    """The good readings of the tasks' files as a Dask frame ``device_id, ts, value`` (for the anomaly detection).

    Rows of unknown devices, with a missing or out-of-period time, or with a non-finite value are left out (the
    scan counts them). ``device_id`` is categorical over the register's ids. Each task's files are read with its
    column mapping (:attr:`~cimlib.sensors.readings.ReadingTask.columns`), so the frame has the schema's field names.
    """
    import dask
    import dask.dataframe as dd

    ids = pd.Index(devices["device_id"].to_numpy(dtype=object))
    parts = [dask.delayed(_good_part, pure=True)(t.paths, ids, p0_ms, n_days, t.columns, t.values) for t in tasks]
    meta = _good_part([], ids, p0_ms, n_days)
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _good_part(paths, ids: pd.Index, p0_ms: int, n_days: int, columns: dict | None = None,
               values: dict | None = None) -> pd.DataFrame:
    spec = ScanSpec(device_ids=ids.to_numpy(), p0_ms=p0_ms, n_days=n_days)
    dev, rel, val, _, _ = read_good_rows(paths, spec, receive_time=False, columns=columns, values=values)
    return pd.DataFrame({"device_id": pd.Categorical.from_codes(dev, categories=ids),
                         "ts": (rel + p0_ms).astype("datetime64[ms]"), "value": val})


def _anomaly_events(tasks, devices, p0_ms, n_days, progress):
    from cimlib.sensors.anomalies import anomaly_events, detect_anomalies

    frame = good_readings(tasks, devices, p0_ms, n_days)
    flagged = detect_anomalies(frame, value="value", time="ts", by="device_id")
    if hasattr(flagged, "compute"):
        flagged = flagged[flagged["is_anomaly"]]
        if progress:
            from dask.diagnostics import ProgressBar

            with ProgressBar(minimum=5):
                flagged = flagged.compute()
        else:
            flagged = flagged.compute()
    events = anomaly_events(flagged, time="ts", by="device_id")
    meta = devices[["device_id", "device_type"] + [c for c in ("metric", "street_code") if c in devices]]
    events["device_id"] = events["device_id"].astype(str)
    return events.merge(pd.DataFrame(meta), on="device_id", how="left")
