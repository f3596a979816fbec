"""The hourly ``device x time`` cube of the readings (xarray), for analysts in JupyterLab and for NetCDF/Zarr files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cimlib._io import atomic_path


def hourly_cube(hourly: pd.DataFrame, devices: pd.DataFrame, p0_ms: int, n_days: int) -> xr.Dataset:
    """Hourly statistics of every device as an ``xarray.Dataset`` with dims ``(device, time)``.

    Parameters
    ----------
    hourly : pandas.DataFrame
        ``dev, hour, count, sum, min, max`` (a scan's ``hourly`` partials; ``dev`` indexes ``devices``).
    devices : pandas.DataFrame
        The device register in the scan's order: ``device_id`` and, when present, ``device_type``, ``metric``,
        ``unit``, ``street_code`` (kept as coordinates along ``device``).
    p0_ms, n_days : int
        Start of the period (epoch ms of local midnight) and its number of days.

    Returns
    -------
    xarray.Dataset
        Variables ``mean``, ``min``, ``max`` (float64, NaN where no reading) and ``count`` (int32) of the good
        readings in each hour; ``time`` is the start of the hour (naive local time, Asia/Shanghai).
    """
    n_dev, n_hours = len(devices), n_days * 24
    count = np.zeros((n_dev, n_hours), dtype=np.int32)
    total = np.zeros((n_dev, n_hours))
    lo = np.full((n_dev, n_hours), np.nan)
    hi = np.full((n_dev, n_hours), np.nan)
    if len(hourly):
        d = hourly["dev"].to_numpy(np.int64)
        h = hourly["hour"].to_numpy(np.int64)
        count[d, h] = hourly["count"].to_numpy()
        total[d, h] = hourly["sum"].to_numpy()
        lo[d, h] = hourly["min"].to_numpy()
        hi[d, h] = hourly["max"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
    time = pd.to_datetime(p0_ms, unit="ms") + pd.to_timedelta(np.arange(n_hours), unit="h")
    coords = {"device": devices["device_id"].astype(str).to_numpy(), "time": time}
    for c in ("device_type", "metric", "unit", "street_code"):
        if c in devices:
            coords[c] = ("device", devices[c].astype(str).to_numpy())
    ds = xr.Dataset({"mean": (("device", "time"), mean), "min": (("device", "time"), lo),
                     "max": (("device", "time"), hi), "count": (("device", "time"), count)}, coords=coords)
    ds["mean"].attrs["long_name"] = "小时均值"
    ds["min"].attrs["long_name"] = "小时最小值"
    ds["max"].attrs["long_name"] = "小时最大值"
    ds["count"].attrs["long_name"] = "小时有效读数"
    ds.attrs["title"] = "物联感知监测数据小时立方体"
    ds.attrs["time_zone"] = "Asia/Shanghai (naive local time)"
    return ds


def save_cube(ds: xr.Dataset, path) -> Path:
    """Write the cube atomically as NetCDF (``.nc``) or Zarr (``.zarr``, a folder), chosen by the suffix.

    Parameters
    ----------
    ds : xarray.Dataset
    path : path-like
        Target ``*.nc`` file or ``*.zarr`` folder.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        For another suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".nc":
        with atomic_path(path) as tmp:
            ds.to_netcdf(tmp, engine="netcdf4")
        return path
    if suffix == ".zarr":
        import shutil
        import tempfile

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
        try:
            ds.to_zarr(tmp / "store.zarr", mode="w", consolidated=True)
            if path.exists():
                shutil.rmtree(path)
            (tmp / "store.zarr").rename(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return path
    raise ValueError(f"立方体文件应以 .nc 或 .zarr 结尾，得到 {path.name}")
