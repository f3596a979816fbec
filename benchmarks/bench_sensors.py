"""Time the sensing-network analysis on the large sample city's month of readings (~82M rows, 10k devices) against
DuckDB computing the same from the same Parquet files, each as a whole subprocess.

Targets (on this 2-core machine):

- issue 17 item 4: the whole ``cim sensors`` command (health, alarms, hourly cube, coverage, density and the anomaly
  detection, outputs written) with peak memory <= 2 GB and wall time within 2x of DuckDB (2 threads) computing the
  same health metrics plus a rolling z-score over every series (per device, in time order, the centred window of
  ``scale_window`` = 289 samples that the workbench's local scale uses);
- issue 6: the health metrics alone <= 120 s wall and <= 4 GB peak, within 2x of DuckDB computing the same
  per-device-day online rate and completeness.

Each phase runs in a fresh subprocess, so that its wall time includes imports and reading, and its peak memory
(getrusage of that process: the exact high-water mark, not a sample) is its own:

  1. ``cim sensors``: the command itself (``--quiet``, outputs to a temporary folder); peak = its ``ru_maxrss``;
  2. DuckDB (2 threads), health + rolling z: per device and day, distinct timestamps received and distinct hours
     with a reading (expected samples from the device register, 86 400 / interval, the same good-row filter:
     registered device, timestamp in the period, finite value), then ``(value - mean) / std`` over the centred
     window of 289 rows of each device ordered by time, with the readings at ``|z| >= 5.5`` counted per device;
  3. workbench health alone: ``cimlib.sensors`` scan of the period -> device-days -> health metrics table;
  4. DuckDB, the per-device-day health alone;
  5. with ``--parts``: the full ``analyse_sensors`` without anomalies, and the anomaly detection alone through the
     Dask path (``detect_anomalies`` on the Dask frame of good readings, shuffled by device: what a cluster runs).

Then the ratios workbench / DuckDB and the agreement of the two on every device-day (received, online hours,
expected) are printed.

    .venv/bin/python benchmarks/bench_sensors.py --catalog data/large/data_catalog.yaml [--period 2024-09] \
        [--skip-health] [--parts]
    .venv/bin/cim demo --seed 7 --scale large --out data/large   # the large city, ~4 minutes, 1.5 GB
"""

from __future__ import annotations

import argparse
import json
import os
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
TARGET_SENSORS_GB = 2.0
Z_WINDOW = 289          # AnomalyParams.scale_window: the centred window of the local scale
Z_THRESHOLD = 5.5       # AnomalyParams.threshold
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


_GOOD_SQL = """
        SELECT CAST(r.device_id AS VARCHAR) AS device_id, r.ts, r.value
        FROM read_parquet(?) r SEMI JOIN devices d ON CAST(r.device_id AS VARCHAR) = d.device_id
        WHERE r.ts >= ? AND r.ts < ? AND isfinite(r.value)
"""
"""The good readings (registered device, inside the period, finite value), as the workbench counts them."""

_HEALTH_SQL = """
        WITH good AS ({good}), per_day AS (
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
"""Per device and day: received, online hours, expected samples, completeness, online rate (``{good}``: the good rows)."""


def _duckdb_session(catalog_path: str, period: str, temp_dir: Path | None = None):
    """A 2-thread DuckDB connection with the device register (``devices``) and the period's days (``days``), the
    period's reading files and its bounds."""
    import duckdb

    from cimlib import Catalog
    from cimlib.sensors import load_devices, reading_tasks
    from cimlib.sensors.readings import period_bounds

    cat = Catalog.load(catalog_path)
    devices = pd.DataFrame(load_devices(cat)[["device_id", "interval_s"]])
    files = [p for t in reading_tasks(cat.files("readings"), period) for p in t.paths]
    p0, n_days = period_bounds(period)
    start = pd.Timestamp(p0, unit="ms")
    end = start + pd.Timedelta(days=n_days)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    if temp_dir is not None:
        con.execute(f"SET temp_directory = '{temp_dir}'")
    con.register("devices", devices)
    con.execute("CREATE TEMP TABLE days AS SELECT CAST(range AS DATE) AS date FROM range(?::TIMESTAMP, ?::TIMESTAMP, "
                "INTERVAL 1 DAY)", [start.to_pydatetime(), end.to_pydatetime()])
    return con, files, start, end


def _phase_duckdb(catalog_path: str, period: str, out: Path) -> dict:
    t0 = time.perf_counter()
    con, files, start, end = _duckdb_session(catalog_path, period)
    query = _HEALTH_SQL.format(good=_GOOD_SQL)
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


def _phase_cli(catalog_path: str, period: str, out: Path) -> dict:
    """The whole ``cim sensors`` command as a child process; its own wall time and ``ru_maxrss`` (wait4)."""
    cim = Path(sys.executable).with_name("cim")
    cmd = [str(cim), "sensors", "--catalog", catalog_path, "--period", period, "--out", str(out), "--quiet"]
    log = out.with_name("cli.log")
    t0 = time.perf_counter()
    with open(log, "w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)          # the child's own rusage: its exact peak
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"cim sensors failed:\n{log.read_text()[-3000:]}")
    anomalies = pd.read_parquet(out / "anomalies.parquet")
    return {"wall_s": wall, "peak_bytes": usage.ru_maxrss * 1024, "events": len(anomalies),
            "alarms": len(pd.read_parquet(out / "alarms.parquet"))}


def _phase_duckdb_z(catalog_path: str, period: str, out: Path) -> dict:
    """DuckDB (2 threads): the per-device-day health and a rolling z-score over every series."""
    t0 = time.perf_counter()
    con, files, start, end = _duckdb_session(catalog_path, period, temp_dir=out.parent / "duckdb.tmp")
    good = _GOOD_SQL
    health = _HEALTH_SQL.format(good=_GOOD_SQL)
    half = Z_WINDOW // 2
    zscore = f"""
        WITH good AS ({good}), z AS (
            SELECT device_id, (value - avg(value) OVER w) / nullif(stddev_pop(value) OVER w, 0) AS z
            FROM good
            WINDOW w AS (PARTITION BY device_id ORDER BY ts ROWS BETWEEN {half} PRECEDING AND {half} FOLLOWING)
        )
        SELECT device_id, count(*) AS readings, count(*) FILTER (WHERE abs(z) >= {Z_THRESHOLD}) AS flagged,
               max(abs(z)) AS max_abs_z
        FROM z GROUP BY device_id
    """
    args = [files, start.to_pydatetime(), end.to_pydatetime()]
    res = con.execute(health, args).df()
    z = con.execute(zscore, args).df()
    wall = time.perf_counter() - t0
    res[["device_id", "date", "expected", "received", "online_hours"]].to_parquet(out)
    return {"wall_s": wall, "peak_bytes": _peak_bytes(), "rows": len(res), "z_readings": int(z["readings"].sum()),
            "z_flagged": int(z["flagged"].sum())}


PHASES = {"workbench": _phase_workbench, "duckdb": _phase_duckdb, "full": _phase_full, "anomalies": _phase_anomalies,
          "cli": _phase_cli, "duckdb_z": _phase_duckdb_z}


def _run(phase: str, catalog: str, period: str, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--catalog", catalog, "--period", period, "--result", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _same_days(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two per-device-day tables agree on every device-day (expected, received, online hours)."""
    a = a.sort_values(["device_id", "date"]).reset_index(drop=True)
    b = b.sort_values(["device_id", "date"]).reset_index(drop=True)
    return len(a) == len(b) and (a["device_id"].to_numpy() == b["device_id"].to_numpy()).all() \
        and (a["date"].astype(str).to_numpy() == b["date"].astype(str).to_numpy()).all() \
        and all(np.array_equal(a[c].to_numpy(np.int64), b[c].to_numpy(np.int64))
                for c in ("expected", "received", "online_hours"))


def _met(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", type=Path, default=Path("data/large/data_catalog.yaml"))
    ap.add_argument("--period", default="2024-09")
    ap.add_argument("--skip-health", action="store_true", help="skip the health-only comparison (issue 6)")
    ap.add_argument("--parts", action="store_true",
                    help="also time analyse_sensors without anomalies and the Dask anomaly path alone")
    ap.add_argument("--skip-full", action="store_true", help=argparse.SUPPRESS)   # the former name of the default
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](str(args.catalog), args.period, args.result)))
        return 0
    if not args.catalog.exists():
        raise SystemExit(f"{args.catalog} not found: build the large city first (cim demo --scale large --out ...)")
    catalog = str(args.catalog.resolve())
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cli = _run("cli", catalog, args.period, tmp / "sensors")
        dz = _run("duckdb_z", catalog, args.period, tmp / "dz.parquet")
        same = _same_days(pd.read_parquet(tmp / "sensors" / "health_daily.parquet"),
                          pd.read_parquet(tmp / "dz.parquet"))
        ok &= same
        ratio = cli["wall_s"] / dz["wall_s"]
        peak = cli["peak_bytes"] / GB
        print(f"cim sensors, {args.period}: whole command against DuckDB (health + rolling z-score, window {Z_WINDOW})")
        print(f"  cim sensors (whole)        {cli['wall_s']:8.1f} s   peak {peak:5.2f} GB   "
              f"({cli['events']:,} anomaly events, {cli['alarms']:,} alarms)")
        print(f"  DuckDB health + rolling z  {dz['wall_s']:8.1f} s   peak {dz['peak_bytes'] / GB:5.2f} GB   "
              f"({dz['z_readings']:,} readings scored, {dz['z_flagged']:,} at |z| >= {Z_THRESHOLD})")
        print(f"  ratio cim sensors / DuckDB {ratio:8.2f} x   target <= {TARGET_RATIO:.0f} x: "
              f"{_met(ratio <= TARGET_RATIO)}")
        print(f"  peak memory of cim sensors {peak:8.2f} GB  target <= {TARGET_SENSORS_GB:.0f} GB: "
              f"{_met(peak <= TARGET_SENSORS_GB)}")
        print("  agreement on the device-days (expected, received, online hours): "
              f"{'identical' if same else 'DIFFERENT'}")
        if not args.skip_health:
            wb_out, db_out = tmp / "wb.parquet", tmp / "db.parquet"
            wb = _run("workbench", catalog, args.period, wb_out)
            db = _run("duckdb", catalog, args.period, db_out)
            a, b = pd.read_parquet(wb_out), pd.read_parquet(db_out)
            same = _same_days(a, b)
            ok &= same
            print(f"sensing-network health, {args.period}, {wb['rows']:,} rows in {wb['files']} files; "
                  f"{a['device_id'].nunique():,} devices x {a['date'].nunique()} days")
            print(f"  workbench health metrics   {wb['wall_s']:8.1f} s   peak {wb['peak_bytes'] / GB:5.2f} GB   "
                  f"targets {TARGET_S:.0f} s / {TARGET_GB:.0f} GB: "
                  f"{_met(wb['wall_s'] <= TARGET_S and wb['peak_bytes'] / GB <= TARGET_GB)}")
            print(f"  DuckDB same per-device-day {db['wall_s']:8.1f} s   peak {db['peak_bytes'] / GB:5.2f} GB")
            ratio = wb["wall_s"] / db["wall_s"]
            print(f"  ratio workbench / DuckDB   {ratio:8.2f} x   target <= {TARGET_RATIO:.0f} x: "
                  f"{_met(ratio <= TARGET_RATIO)}")
            print(f"  agreement on {len(a):,} device-days (expected, received, online hours): "
                  f"{'identical' if same else 'DIFFERENT'}")
    if args.parts:
        full = _run("full", catalog, args.period, Path("/dev/null"))
        print(f"  full analysis, no anomalies {full['wall_s']:7.1f} s   peak {full['peak_bytes'] / GB:5.2f} GB   "
              f"({full['alarms']:,} alarms, {full['covered_km']:.1f} km of road covered)")
        an = _run("anomalies", catalog, args.period, Path("/dev/null"))
        print(f"  anomalies, Dask path alone {an['wall_s']:8.1f} s   peak {an['peak_bytes'] / GB:5.2f} GB   "
              f"({an['events']:,} events from {an['flagged_rows']:,} flagged rows)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
