"""物联感知监测数据 (readings): sensor readings, date-partitioned Parquet (``date=YYYY-MM-DD/``) read as a Dask frame.

A reading is identified by its device and timestamp: ``record_id = "{device_id}|{ts:%Y-%m-%dT%H:%M:%S}"``
(:func:`record_ids`), so both copies of a duplicated reading share one ``record_id``. The catalog ``id_column``
(``device_id``) is therefore not a unique key here: uniqueness of ``(device_id, ts)`` is ``RDG-004``.

Each rule is an ordinary frame rule (``fn(frame, ctx) -> bool Series``, True = fails) that gives the same answer
on the whole (computed) table and, run by :mod:`standards_checks.backends.dask`, partition by partition:

- ``RDG-001`` reading of a device not in the device register (``devices``);
- ``RDG-002`` timestamp not on the day of its ``date`` partition (so also outside the period the files cover);
- ``RDG-003`` value missing, non-numeric or not finite;
- ``RDG-004`` more than one reading of a device at the same timestamp. The only rule that needs other rows: it
  carries ``key``, ``partition_column``, ``partition_of`` and ``home_of`` so that the Dask engine finds duplicates
  across partitions without a shuffle (a reading can only share its key with a reading of another partition if
  one of the two lies outside its own day, i.e. fails ``RDG-002``).

Stream properties (order, gaps, spikes, flat-lines, excursions, outages, offline devices) are measured by the sensor
analytics (:mod:`cimlib.sensors`), not by these data rules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from standards_checks.api import frame_rule
from standards_checks.schemas._common import Model

KEY = ("device_id", "ts")
"""Columns identifying a reading."""

PARTITION_COLUMN = "date"
"""Hive partition column of the reading files (``date=YYYY-MM-DD``), exposed as a column by the Parquet reader."""

_STD = "物联感知监测数据接入约定（待核实）"
_DAY = np.timedelta64(1, "D")


class Readings(Model):
    """Columns of the reading files (``metric``, ``quality``, ``received_at`` are optional here)."""

    device_id: Series[str]
    ts: Series[pd.Timestamp]
    value: Series[float] = pa.Field(nullable=True)  # missing values are RDG-003, not a structural null


def record_ids(frame: pd.DataFrame) -> pd.Series:
    """``"{device_id}|{ts:%Y-%m-%dT%H:%M:%S}"`` per row, as the sample city's truth writes it (empty parts if null)."""
    dev = frame["device_id"].astype(object).where(frame["device_id"].notna(), "").astype(str)
    ts = _naive(frame["ts"])
    text = ts.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object).where(ts.notna(), "")
    return (dev + "|" + text.astype(str)).astype(object)


def _naive(ts: pd.Series) -> pd.Series:
    """Timestamps as naive local time (Asia/Shanghai), the convention of the reading files."""
    if not pd.api.types.is_datetime64_any_dtype(ts):
        ts = pd.to_datetime(ts, errors="coerce")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    return ts


def partition_of(frame: pd.DataFrame) -> pd.Series:
    """The day of each row's ``date`` partition (NaT where the label is not a date)."""
    d = frame[PARTITION_COLUMN]
    if isinstance(d.dtype, pd.CategoricalDtype):  # hive partitions: a few labels, parse each once
        cats = pd.to_datetime(pd.Index(d.cat.categories.astype(str)), errors="coerce", format="mixed").normalize()
        cats = np.append(cats.to_numpy().astype("datetime64[ns]"), np.datetime64("NaT", "ns"))
        codes = d.cat.codes.to_numpy()
        return pd.Series(cats[np.where(codes >= 0, codes, len(cats) - 1)], index=frame.index)
    if pd.api.types.is_datetime64_any_dtype(d):
        return _naive(d).dt.normalize()
    return pd.to_datetime(d.astype(str), errors="coerce", format="mixed").dt.normalize()


def home_of(frame: pd.DataFrame) -> pd.Series:
    """The day (partition) each row belongs in: the day of its timestamp."""
    return _naive(frame["ts"]).dt.floor("D")


def outside_partition_day(frame: pd.DataFrame) -> pd.Series:
    """True where a reading with a timestamp lies outside the day of its partition (or the label is not a date)."""
    ts = _naive(frame["ts"])
    day = partition_of(frame)
    inside = (ts >= day) & (ts < day + _DAY)
    return ts.notna() & ~inside.fillna(False).astype(bool)


@frame_rule("readings", "RDG-001", severity="error", standard=f"{_STD}：监测数据应来自设备登记表中的设备",
            message="监测数据的设备编号不在设备登记表中（未登记设备）", column="device_id", needs=("devices",))
def unknown_device(frame, ctx) -> pd.Series:
    dev = frame["device_id"]
    return dev.notna() & ~dev.isin(ctx.ids("devices"))


@frame_rule("readings", "RDG-002", severity="error", standard=f"{_STD}：采集时间位于所在日分区（统计期）内",
            message="采集时间不在其日期分区当天（时钟错误或超出统计期）", column="ts")
def ts_out_of_partition(frame, ctx) -> pd.Series:
    return outside_partition_day(frame)


@frame_rule("readings", "RDG-003", severity="error", standard=f"{_STD}：监测值为有限数值（M 必填）",
            message="监测值缺失、非数值或非有限数", column="value")
def value_invalid(frame, ctx) -> pd.Series:
    v = frame["value"]
    if not (pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v)):
        v = pd.to_numeric(v.astype(object), errors="coerce")
    num = v.to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(~np.isfinite(num), index=frame.index)


@frame_rule("readings", "RDG-004", severity="error", standard=f"{_STD}：同一设备同一采集时间仅一条记录",
            message="监测数据重复（同一设备同一采集时间多条记录）", column="ts")
def duplicate_reading(frame, ctx) -> pd.Series:
    key = frame[list(KEY)]
    return key.notna().all(axis=1) & key.duplicated(keep=False)


# what the Dask engine needs to find duplicates across partitions (see the module docstring)
duplicate_reading.key = KEY
duplicate_reading.partition_column = PARTITION_COLUMN
duplicate_reading.partition_of = partition_of
duplicate_reading.home_of = home_of
