"""Time the sensing-network health metrics on the large sample city's month of readings (~82M rows, 10k devices)
against DuckDB computing the same per-device-day online rate and completeness from the same Parquet files.

Targets (issue 6, on this 2-core machine): health metrics <= 120 s wall and <= 4 GB peak memory; within 2x of DuckDB.

Each phase runs in a fresh subprocess, so that its wall time includes imports and reading, and its peak memory
(getrusage of that process: the exact high-water mark, not a sample) is its own:

  1. workbench health: ``cimlib.sensors`` scan of the period (Dask, local threaded scheduler, one task per day
     partition) -> device-days -> health metrics table (what ``cim sensors`` computes for health);
  2. DuckDB (2 threads): per device and day, distinct timestamps received and distinct hours with a reading, from
     the same files; expected samples from the device register (86 400 / interval); the same good-row filter
     (registered device, timestamp in the period, finite value);
  3. the full ``analyse_sensors`` without anomalies (health + alarms + hourly cube + coverage + density), and the
     anomaly detection alone (``detect_anomalies`` on the Dask frame of good readings), for information.

Then the ratio workbench / DuckDB and the agreement of the two on every device-day (received, online hours,
expected) are printed.

    .venv/bin/python benchmarks/bench_sensors.py --catalog data/large/data_catalog.yaml [--period 2024-09] [--skip-full]
    .venv/bin/cim demo --seed 7 --scale large --out data/large   # the large city, ~4 minutes, 1.5 GB
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TARGET_S = 120.0
TARGET_GB = 4.0
TARGET_RATIO = 2.0
GB = 1024 ** 3


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # KiB on Linux


def _phase_workbench(catalog_path: str, period: str, out: Path) -> dict:
    from cimlib import Catalog
    from cimlib.sensors import ScanSpec, device_days, health_metrics, load_devices, reading_tasks, scan_readings
    from cimlib.sensors.readings import period_bounds

    t0 = time.perf_counter()
    cat = Catalog.load(catalog_path)
    devices = load_devices(cat)
    p0, n_days = period_bounds(period)
    tasks = reading_tasks(cat.files("readings"), period)
    spec = ScanSpec(device_ids=devices["device_id"].to_numpy(dtype=object), p0_ms=p0, n_days=n_days)
    scan = scan_readings(tasks, spec)
    daily = device_days(scan, devices, p0, n_days)
    metrics = health_metrics(daily, period)
    wall = time.perf_counter() - t0
    daily[["device_id", "date", "expected", "received", "online_hours"]].to_parquet(out)
    return {"wall_s": wall, "peak_bytes": _peak_bytes(), "rows": scan.rows_read, "metric_rows": len(metrics),
            "files": sum(len(t.paths) for t in tasks)}


def _phase_duckdb(catalog_path: str, period: str, out: Path) -> dict:
    import duckdb

    from cimlib import Catalog
    from cimlib.sensors import load_devices, reading_tasks
    from cimlib.sensors.readings import period_bounds

    t0 = time.perf_counter()
    cat = Catalog.load(catalog_path)
    devices = pd.DataFrame(load_devices(cat)[["device_id", "interval_s"]])
    files = [p for t in reading_tasks(cat.files("readings"), period) for p in t.paths]
    p0, n_days = period_bounds(period)
    start = pd.Timestamp(p0, unit="ms")
    end = start + pd.Timedelta(days=n_days)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("devices", devices)
    con.execute("CREATE TEMP TABLE days AS SELECT CAST(range AS DATE) AS date FROM range(?::TIMESTAMP, ?::TIMESTAMP, "
                "INTERVAL 1 DAY)", [start.to_pydatetime(), end.to_pydatetime()])
    query = """
        WITH good AS (
            SELECT CAST(r.device_id AS VARCHAR) AS device_id, r.ts
            FROM read_parquet(?) r SEMI JOIN devices d ON CAST(r.device_id AS VARCHAR) = d.device_id
            WHERE r.ts >= ? AND r.ts < ? AND isfinite(r.value)
        ), per_day AS (
            SELECT device_id, CAST(ts AS DATE) AS date, count(DISTINCT ts) AS received,
                   count(DISTINCT hour(ts)) AS online_hours
            FROM good GROUP BY ALL
        )
        SELECT d.device_id, CAST(days.date AS VARCHAR) AS date, CAST(86400 // d.interval_s AS BIGINT) AS expected,
               coalesce(p.received, 0) AS received, coalesce(p.online_hours, 0) AS online_hours,
               least(coalesce(p.received, 0), 86400 // d.interval_s) / (86400 // d.interval_s) AS completeness,
               coalesce(p.online_hours, 0) / 24.0 AS online_rate
        FROM devices d CROSS JOIN days LEFT JOIN per_day p ON p.device_id = d.device_id AND p.date = days.date
    """
    res = con.execute(query, [files, start.to_pydatetime(), end.to_pydatetime()]).df()
    wall = time.perf_counter() - t0
    res[["device_id", "date", "expected", "received", "online_hours"]].to_parquet(out)
    return {"wall_s": wall, "peak_bytes": _peak_bytes(), "rows": len(res)}


def _phase_full(catalog_path: str, period: str, out: Path) -> dict:
    from cimlib import Catalog
    from cimlib.sensors import analyse_sensors

    t0 = time.perf_counter()
    r = analyse_sensors(Catalog.load(catalog_path), period, anomalies=False, cube=True)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "peak_bytes": _peak_bytes(), "alarms": len(r.alarms),
            "covered_km": float(r.coverage.iloc[0]["covered_km"]) if len(r.coverage) else None}


def _phase_anomalies(catalog_path: str, period: str, out: Path) -> dict:
    from cimlib import Catalog
    from cimlib.sensors import anomaly_events, detect_anomalies, good_readings, load_devices, reading_tasks
    from cimlib.sensors.readings import period_bounds

    t0 = time.perf_counter()
    cat = Catalog.load(catalog_path)
    devices = load_devices(cat)
    p0, n_days = period_bounds(period)
    frame = good_readings(reading_tasks(cat.files("readings"), period), devices, p0, n_days)
    flagged = detect_anomalies(frame)
    flagged = flagged[flagged["is_anomaly"]].compute()
    events = anomaly_events(flagged)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "peak_bytes": _peak_bytes(), "events": len(events), "flagged_rows": len(flagged)}


PHASES = {"workbench": _phase_workbench, "duckdb": _phase_duckdb, "full": _phase_full, "anomalies": _phase_anomalies}


def _run(phase: str, catalog: str, period: str, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--catalog", catalog, "--period", period, "--result", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", type=Path, default=Path("data/large/data_catalog.yaml"))
    ap.add_argument("--period", default="2024-09")
    ap.add_argument("--skip-full", action="store_true", help="only the health metrics and DuckDB")
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](str(args.catalog), args.period, args.result)))
        return 0
    if not args.catalog.exists():
        raise SystemExit(f"{args.catalog} not found: build the large city first (cim demo --scale large --out ...)")
    catalog = str(args.catalog.resolve())
    with tempfile.TemporaryDirectory() as tmp:
        wb_out, db_out = Path(tmp) / "wb.parquet", Path(tmp) / "db.parquet"
        wb = _run("workbench", catalog, args.period, wb_out)
        db = _run("duckdb", catalog, args.period, db_out)
        a = pd.read_parquet(wb_out).sort_values(["device_id", "date"]).reset_index(drop=True)
        b = pd.read_parquet(db_out).sort_values(["device_id", "date"]).reset_index(drop=True)
    print(f"sensing-network health, {args.period}, {wb['rows']:,} rows in {wb['files']} files; "
          f"{a['device_id'].nunique():,} devices x {a['date'].nunique()} days")
    print(f"  workbench health metrics   {wb['wall_s']:8.1f} s   peak {wb['peak_bytes'] / GB:5.2f} GB   "
          f"targets {TARGET_S:.0f} s / {TARGET_GB:.0f} GB: "
          f"{'MET' if wb['wall_s'] <= TARGET_S and wb['peak_bytes'] / GB <= TARGET_GB else 'MISSED'}")
    print(f"  DuckDB same per-device-day {db['wall_s']:8.1f} s   peak {db['peak_bytes'] / GB:5.2f} GB")
    ratio = wb["wall_s"] / db["wall_s"]
    print(f"  ratio workbench / DuckDB   {ratio:8.2f} x   target <= {TARGET_RATIO:.0f} x: "
          f"{'MET' if ratio <= TARGET_RATIO else 'MISSED'}")
    same = len(a) == len(b) and all(np.array_equal(a[c].to_numpy(np.int64), b[c].to_numpy(np.int64))
                                    for c in ("expected", "received", "online_hours")) \
        and (a["device_id"].to_numpy() == b["device_id"].to_numpy()).all()
    print(f"  agreement on {len(a):,} device-days (expected, received, online hours): {'identical' if same else 'DIFFERENT'}")
    if not args.skip_full:
        full = _run("full", catalog, args.period, Path("/dev/null"))
        print(f"  full analysis, no anomalies {full['wall_s']:7.1f} s   peak {full['peak_bytes'] / GB:5.2f} GB   "
              f"({full['alarms']:,} alarms, {full['covered_km']:.1f} km of road covered)")
        an = _run("anomalies", catalog, args.period, Path("/dev/null"))
        print(f"  anomaly detection alone    {an['wall_s']:8.1f} s   peak {an['peak_bytes'] / GB:5.2f} GB   "
              f"({an['events']:,} events from {an['flagged_rows']:,} flagged rows)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
