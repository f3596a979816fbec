"""The whole sensing-network analysis of a catalog and period (what ``cim sensors`` runs)."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cimlib._io import sha256_files
from cimlib.catalog import CatalogError
from cimlib.sensors.alarms import ALARM_COLUMNS, alarm_events, load_alarm_rules, rules_per_device
from cimlib.sensors.cluster import dask_client
from cimlib.sensors.cube import hourly_cube
from cimlib.sensors.health import device_days, health_metrics
from cimlib.sensors.readings import (ScanSpec, catalog_reading_tasks, of_period, period_bounds, periods_of,
                                     read_good_rows, release_memory, scan_readings)
from cimlib.sensors.spatial import DEFAULT_COVER_DISTANCE_M, grid_density, road_coverage, street_density

PROBLEM_COLUMNS = ["dataset", "file", "problem"]

ANOMALY_BATCH_ROWS = 1_000_000
"""Readings per batch of whole series in the anomaly detection: the working set of a batch is about 0.3 kB per
reading, 0.3 GB per batch (the large sample city's 82M readings are 80-odd batches)."""

ANOMALY_THREADS = 2
"""Batches scored at the same time (numpy releases the GIL): the peak memory grows with it, the time shrinks."""


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
        Run the anomaly detection. On the local scheduler the scan writes the good rows to a temporary folder
        (``$TMPDIR``, about 16 bytes a reading, removed at the end) and the series are scored a batch of devices at a
        time (:data:`ANOMALY_BATCH_ROWS`), so the memory stays bounded; on a ``dask.distributed`` cluster the
        readings are read again and shuffled by device.
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
    with dask_client(catalog, scheduler) as client, _spill_folder(anomalies and client is None) as spill:
        # on the local scheduler the scan also leaves each day's good rows on disk, grouped by device, and the
        # anomaly detection reads whole series back batch by batch; on a cluster (whose workers may not see a
        # local folder) the anomalies take the Dask path
        spec.spill_dir = spill
        scan = scan_readings(tasks, spec, progress=progress)
        cube_ds = hourly_cube(scan.hourly, devices, p0, n_days) if cube else None
        scan.hourly = None
        release_memory()
        if not anomalies:
            events = pd.DataFrame()
        elif spill is not None:
            events = _spilled_anomaly_events(scan.spilled, devices, p0, progress)
        else:
            events = _anomaly_events(tasks, devices, p0, n_days, progress)
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
    """Anomaly events through Dask: the good readings read again and shuffled by device (on a cluster)."""
    from cimlib.sensors.anomalies import detect_anomalies

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
    return _events_of(flagged, devices)


@contextlib.contextmanager
def _spill_folder(wanted: bool):
    """A temporary folder for the scan's spilled rows (removed afterwards), or None."""
    if not wanted:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="cim-sensors-") as folder:
        yield folder


def _spilled_anomaly_events(spilled, devices, p0_ms: int, progress: bool = False, batch_rows: int | None = None,
                            threads: int | None = None) -> pd.DataFrame:
    """Anomaly events of the rows the scan spilled, series batch by series batch (no shuffle, bounded memory).

    The detection judges each series against statistics of its whole month (its robust scales, its time-of-day
    profile, its run lengths, its tail), so a day cannot be scored with a few hours of overlap and give the same
    result; instead the devices are cut into batches of about ``batch_rows`` readings, and each batch reads the
    rows of its devices from every task's spill (contiguous slices) and scores those complete series exactly as
    :func:`~cimlib.sensors.anomalies.detect_anomalies` does. Only the flagged rows are kept.

    Parameters
    ----------
    spilled : list of SpilledRows
        From the scan (:attr:`~cimlib.sensors.readings.ScanResult.spilled`).
    devices : pandas.DataFrame
        The device register in the scan's order.
    p0_ms : int
        Start of the period (epoch ms), the origin of the spilled times.
    progress : bool, default False
        Progress bar over the batches.
    batch_rows : int, optional
        Readings per batch (default :data:`ANOMALY_BATCH_ROWS`).
    threads : int, optional
        Batches scored at once (default :data:`ANOMALY_THREADS`).

    Returns
    -------
    pandas.DataFrame
        One row per event (see :func:`~cimlib.sensors.anomalies.anomaly_events`) with the device's type, metric
        and street.
    """
    from concurrent.futures import ThreadPoolExecutor

    from cimlib.sensors.anomalies import flagged_readings

    ids = pd.Index(devices["device_id"].to_numpy(dtype=object))
    totals = np.zeros(len(ids), dtype=np.int64)
    for part in spilled:
        totals += part.counts
    edges = _batch_edges(totals, batch_rows or ANOMALY_BATCH_ROWS)
    threads = threads or ANOMALY_THREADS

    def score(first: int, stop: int) -> pd.DataFrame:
        parts = [part.read(first, stop) for part in spilled] or [(np.zeros(0, np.int64),) * 2 + (np.zeros(0),)]
        dev, rel, val = (np.concatenate([p[i] for p in parts]) for i in range(3))
        del parts
        rel += p0_ms
        flagged = flagged_readings(dev, rel.view("datetime64[ms]"), val, ids)
        del dev, rel, val
        release_memory()
        return flagged

    bounds = list(zip(edges[:-1].tolist(), edges[1:].tolist())) or [(0, 0)]
    with ThreadPoolExecutor(max(1, min(threads, len(bounds)))) as pool:
        futures = [pool.submit(score, a, b) for a, b in bounds]
        if progress:
            from concurrent.futures import as_completed

            from tqdm.auto import tqdm

            for _ in tqdm(as_completed(futures), total=len(futures), desc="异常检测", unit="批"):
                pass
        flagged = pd.concat([f.result() for f in futures], ignore_index=True)
    return _events_of(flagged, devices)


def _batch_edges(totals: np.ndarray, batch_rows: int) -> np.ndarray:
    """Device boundaries ``0 = e0 < e1 < ... = n`` of batches of consecutive devices with about ``batch_rows``
    readings each: a batch ends with the device whose readings reach the next multiple of ``batch_rows`` (so a
    batch holds at most ``batch_rows`` readings plus those of its last device)."""
    n = len(totals)
    if n == 0:
        return np.zeros(1, dtype=np.int64)
    cum = np.cumsum(totals)
    marks = np.arange(1, int(cum[-1] // max(batch_rows, 1)) + 1) * max(batch_rows, 1)
    cuts = np.searchsorted(cum, marks, side="left") + 1          # the device that reaches each mark ends a batch
    return np.unique(np.concatenate([[0], np.minimum(cuts, n), [n]])).astype(np.int64)


def _events_of(flagged: pd.DataFrame, devices: pd.DataFrame) -> pd.DataFrame:
    """Events of the flagged readings, with the device's type, metric and street."""
    from cimlib.sensors.anomalies import anomaly_events

    events = anomaly_events(flagged, time="ts", by="device_id")
    meta = devices[["device_id", "device_type"] + [c for c in ("metric", "street_code") if c in devices]]
    events["device_id"] = events["device_id"].astype(str)
    return events.merge(pd.DataFrame(meta), on="device_id", how="left")
