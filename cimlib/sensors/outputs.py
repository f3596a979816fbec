"""Writing a sensing-network run: health, alarms, anomalies, coverage (Parquet + CSV), the cube and a manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cimlib._io import atomic_path, sha256_file

TABLES = {
    # file stem: (SensorResult attribute, also as CSV)
    "health": ("health", True),
    "health_daily": ("health_daily", True),
    "alarms": ("alarms", True),
    "anomalies": ("anomalies", True),
    "coverage": ("coverage", True),
    "density_grid": ("density_grid", True),
    "density_street": ("density_street", True),
    "bad_readings": ("bad_readings", True),
    "bad_reading_samples": ("bad_samples", True),
    "problems": ("problems", True),
}
"""Output tables: ``<stem>.parquet`` and ``<stem>.csv`` (UTF-8 with BOM, for Excel) for each."""


def write_sensor_outputs(result, out_dir, *, catalog_path=None, cube_format: str = "nc", catalog=None,
                         reuse: dict | None = None) -> dict:
    """Write a :class:`~cimlib.sensors.SensorResult` into ``out_dir``, every file atomically.

    Parameters
    ----------
    result : SensorResult
    out_dir : path-like
    catalog_path : path-like, optional
        Recorded in the manifest.
    cube_format : {"nc", "zarr", "none"}, default "nc"
        Format of the hourly cube (``cube.nc`` or ``cube.zarr``).
    catalog : Catalog, optional
    reuse : dict, optional
        The analysis' options (:func:`cimlib.reuse.sensors_parameters`). With ``catalog``, the manifest gets a
        ``reuse`` section, so that a report of the same month reads the tables instead of analysing again.

    Returns
    -------
    dict
        ``{"files": [...]}``: the paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, (attr, csv) in TABLES.items():
        frame = getattr(result, attr)
        if frame is None:
            continue
        frame = pd.DataFrame(frame)
        for c in frame.columns:   # mixed object columns (e.g. raw bad values) as text for Parquet
            if frame[c].dtype == object:
                frame[c] = frame[c].astype("string")
        with atomic_path(out / f"{stem}.parquet") as p:
            frame.to_parquet(p, index=False)
        written.append(f"{stem}.parquet")
        if csv:
            with atomic_path(out / f"{stem}.csv") as p:
                frame.to_csv(p, index=False, encoding="utf-8-sig")
            written.append(f"{stem}.csv")
    if result.cube is not None and cube_format != "none":
        from cimlib.sensors.cube import save_cube

        save_cube(result.cube, out / f"cube.{cube_format}")
        written.append(f"cube.{cube_format}")
    manifest = {"kind": "sensors", "period": result.period, "catalog": str(catalog_path) if catalog_path else None,
                "rows_read": result.rows_read, "inputs": result.inputs,
                "bad_readings": dict(zip(result.bad_readings["kind"], result.bad_readings["rows"].astype(int))),
                "files": written}
    if catalog is not None and reuse is not None:
        from cimlib.reuse import write_sensors_reuse

        manifest["catalog_sha256"] = sha256_file(catalog.path)
        try:
            manifest["reuse"] = write_sensors_reuse(out, catalog, result, reuse)
        except Exception as exc:  # noqa: BLE001 - optional: without it a report analyses the readings itself
            import warnings

            warnings.warn(f"未写出供报告复用的记录（报告将重新分析）：{exc}", stacklevel=2)
    with atomic_path(out / "manifest.json") as p:
        p.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"files": [str(out / f) for f in written + ["manifest.json"]]}
