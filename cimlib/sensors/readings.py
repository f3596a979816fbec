"""Reading the sensor readings (物联感知监测数据) out-of-core: one Dask task per day partition, one pass over the data.

The readings are date-partitioned Parquet (``date=YYYY-MM-DD/part-*.parquet``; columns ``device_id, ts, metric,
value, quality`` and optionally ``received_at``). :func:`scan_readings` reads them with Dask, one task per day
partition (or per file where the files are not partitioned by day), on the local scheduler or on a
``dask.distributed`` cluster (:mod:`cimlib.sensors.cluster`). Each task reads its files with pyarrow, sorts out
the bad rows and reduces the good ones to small partial tables:

- per device and day: rows, distinct timestamps, duplicates, out-of-order rows, the hours with a reading (a 24-bit
  mask) and latency sums — what :mod:`cimlib.sensors.health` turns into health metrics;
- rows beyond an alarm threshold, with their predecessor — what :mod:`cimlib.sensors.alarms` turns into events;
- optionally, per device and hour: count, sum, min, max — the hourly cube (:mod:`cimlib.sensors.cube`).

Only these partials travel back; the raw rows never leave their task, except that for the anomaly detection a
task may also write its good rows to a local folder, grouped by device (:attr:`ScanSpec.spill_dir`,
:class:`SpilledRows`), so that whole series can be read back a batch of devices at a time without a second pass
over the Parquet files or a shuffle. Bad rows are counted by kind, with a sample
of each (file, row number, values), and never silently dropped: ``unknown_device`` (a device id not in the device
register, or missing), ``ts_invalid`` (missing or unparseable time), ``ts_out_of_range`` (outside the period),
``value_invalid`` (missing, non-numeric or not finite). A file that cannot be read at all becomes a failed-input
row naming the file; the rest of the run completes.

A department may deliver the readings under its own column names (``设备编号, 采集时间, 监测值, 接收时间``): the
catalog entry's ``columns:`` mapping (source name -> schema field) travels with each task
(:func:`catalog_reading_tasks`), a task asks its files for the source names of the fields it needs and renames the
Arrow columns to the field names right after reading (no copy); ``values:`` of those fields (coded values) are
mapped on each column's distinct values. The scan never reads a column it does not use (``metric``, ``quality``).

Timestamps are naive local time (Asia/Shanghai), the convention of the reading files; tz-aware columns are
converted. Distinct timestamps and duplicates are counted within a task (a day partition): two copies of one reading
in files of different days are not paired here (``standards_checks`` rule RDG-004 finds them).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cimlib._io import is_remote, release_memory
from cimlib.catalog.errors import CatalogError

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
BAD_KINDS = {
    "unknown_device": "设备编号不在设备台账中（或为空）",
    "ts_invalid": "时间戳缺失或无法解析",
    "ts_out_of_range": "时间戳不在统计期内",
    "value_invalid": "监测值缺失、非数值或非有限值",
}
"""Kinds of bad readings, in the order a row is judged (a row counts once, under its first failing kind)."""

BAD_SAMPLE_ROWS = 20
"""Bad rows kept as examples per kind and task (all are counted)."""

SCAN_FIELDS = ("device_id", "ts", "value")
"""Schema fields of the readings every scan needs (``received_at`` is read too where the source has it)."""

_DATE_DIR = re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2})(?:/|$)")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ReadingTask:
    """The files one Dask task reads: all files of one ``date=`` partition, or one unpartitioned file.

    Attributes
    ----------
    label : str
        ``YYYY-MM-DD`` of a day partition, else the file (or database source) name.
    paths : tuple
        Parquet files, or one database table source.
    columns : dict of str to str
        The readings entry's column mapping, source name -> schema field (empty: the source uses the field names).
    values : dict of str to dict
        The entry's coded values per schema field (source value as text -> value).
    """

    label: str
    paths: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict, hash=False)
    values: dict[str, dict] = field(default_factory=dict, hash=False)


@dataclass
class ScanSpec:
    """What each task needs to know (picklable, shipped to workers without the catalog).

    Attributes
    ----------
    device_ids : numpy.ndarray
        Registered device ids (sorted, str); a row's device index is its position here.
    p0_ms : int
        Start of the period, epoch milliseconds of naive local midnight.
    n_days : int
        Days in the period.
    hi_trig, hi_clear, lo_trig, lo_clear : numpy.ndarray
        Per device: the upper threshold that starts an alarm and the level below which it clears; the lower
        threshold and the level above which it clears (NaN where no rule applies).
    late_ms : int
        A reading received more than this after its timestamp is late.
    cube : bool
        Also return hourly partials for the cube.
    spill_dir : str, optional
        Folder where each task also writes its good rows grouped by device (:class:`SpilledRows`), for the
        anomaly detection to assemble whole series batch by batch without holding the month in memory; the
        folder must be visible to the tasks (local scheduler). None: nothing is written.
    """

    device_ids: np.ndarray
    p0_ms: int
    n_days: int
    hi_trig: np.ndarray | None = None
    hi_clear: np.ndarray | None = None
    lo_trig: np.ndarray | None = None
    lo_clear: np.ndarray | None = None
    late_ms: int = 300_000
    cube: bool = False
    spill_dir: str | None = None

    @property
    def alarms(self) -> bool:
        return self.hi_trig is not None


@dataclass
class ScanResult:
    """The combined partials of a scan (see the module docstring).

    Attributes
    ----------
    daily : pandas.DataFrame
        ``dev, day, rows, received, duplicates, out_of_order, hour_mask, latency_sum_ms, latency_n, late,
        negative_latency`` for every device-day with at least one good row.
    bad_counts : pandas.DataFrame
        ``kind, rows, description`` for every kind of :data:`BAD_KINDS` (zero rows included).
    bad_samples : pandas.DataFrame
        ``kind, file, row, device_id, ts, value``: example bad rows.
    failed : pandas.DataFrame
        ``file, problem``: files that could not be read.
    alarm_rows : pandas.DataFrame
        Rows beyond a clear level with their predecessor (see :mod:`cimlib.sensors.alarms`).
    last_rows : pandas.DataFrame
        Last good row of each device in each task: ``dev, rel_ms, still_hi, still_lo``.
    hourly : pandas.DataFrame or None
        ``dev, hour, count, sum, min, max`` per device and hour of the period.
    rows_read : int
        All rows read, good and bad.
    files : list of str
        The files of the scan.
    spilled : list of SpilledRows
        Each task's good rows on disk (only when :attr:`ScanSpec.spill_dir` was given).
    """

    daily: pd.DataFrame
    bad_counts: pd.DataFrame
    bad_samples: pd.DataFrame
    failed: pd.DataFrame
    alarm_rows: pd.DataFrame
    last_rows: pd.DataFrame
    hourly: pd.DataFrame | None
    rows_read: int
    files: list[str] = field(default_factory=list)
    spilled: list = field(default_factory=list)


@dataclass(frozen=True)
class SpilledRows:
    """The good rows of one task on disk, grouped by device: what the anomaly detection reads back in batches.

    Two raw files of equal length, ``rel_ms`` (int64, ms since the period's start) and ``value`` (float64); the
    rows of device ``d`` (its position in :attr:`ScanSpec.device_ids`) are the ``counts[d]`` rows after those of
    the devices before it, in file order.

    Attributes
    ----------
    rel_path, value_path : str
        The two files.
    counts : numpy.ndarray
        Rows of each registered device (int64, one per device).
    """

    rel_path: str
    value_path: str
    counts: np.ndarray = field(hash=False)

    def read(self, first: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows of devices ``first .. stop - 1``: ``(device index, rel_ms, value)`` arrays."""
        start = int(self.counts[:first].sum())
        n = int(self.counts[first:stop].sum())
        dev = np.repeat(np.arange(first, stop, dtype=np.int64), self.counts[first:stop])
        rel = np.fromfile(self.rel_path, dtype=np.int64, count=n, offset=start * 8)
        val = np.fromfile(self.value_path, dtype=np.float64, count=n, offset=start * 8)
        return dev, rel, val


# --------------------------------------------------------------------------------------------------
# periods and tasks
# --------------------------------------------------------------------------------------------------

def period_bounds(period: str) -> tuple[int, int]:
    """Start (epoch ms of naive local midnight) and number of days of a ``YYYY-MM`` period.

    Raises
    ------
    ValueError
        If ``period`` is not ``YYYY-MM``.
    """
    m = re.fullmatch(r"(\d{4})-(\d{2})", str(period))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"统计期应为 YYYY-MM，得到 {period!r}")
    year, month = int(m.group(1)), int(m.group(2))
    start = int(np.datetime64(f"{year:04d}-{month:02d}-01", "ms").astype(np.int64))
    return start, calendar.monthrange(year, month)[1]


def reading_tasks(files, period: str | None = None) -> list[ReadingTask]:
    """Group reading files into tasks: one per ``date=YYYY-MM-DD`` partition, one per other file.

    Parameters
    ----------
    files : iterable of path-like
        Parquet files of the readings (``Catalog.files("readings")``).
    period : str, optional
        ``YYYY-MM``: keep only partitions of that month (unpartitioned files are always kept; their rows are
        filtered by time).

    Returns
    -------
    list of ReadingTask
        Sorted by label.
    """
    by_label: dict[str, list[str]] = {}
    for f in sorted(str(Path(p)) for p in files):
        if not f.lower().endswith((".parquet", ".pq")):
            continue
        m = _DATE_DIR.search(Path(f).as_posix())
        by_label.setdefault(m.group(1) if m else f, []).append(f)
    return of_period([ReadingTask(label, tuple(paths)) for label, paths in sorted(by_label.items())], period)


def catalog_reading_tasks(catalog, period: str | None = None, name: str = "readings") -> list[ReadingTask]:
    """The reading tasks of a catalog entry: files grouped by :func:`reading_tasks`, or database days.

    A ``postgis`` entry with ``options.partition_column`` gives one task per day of that column (a task reads
    its rows with one query); without it, the whole table is one task. Each task carries the entry's ``columns``
    and ``values`` mapping, so that it reads the department's column names as schema fields.

    Parameters
    ----------
    catalog : Catalog
    period : str, optional
        ``YYYY-MM``: keep only that month's days (undated tasks are always kept).
    name : str, default "readings"
        Entry name.

    Returns
    -------
    list of ReadingTask

    Raises
    ------
    CatalogError
        If the entry is missing or its source cannot be reached.
    """
    entry = catalog[name]
    inputs = catalog.inputs(name)
    remote = [s for s in inputs if is_remote(s)]
    if not remote:
        tasks = reading_tasks(inputs, period)
    else:
        from cimlib.catalog.readers.postgis import day_sources

        column = entry.options.get("partition_column")
        column = entry.source_column(column) if column else None  # the field name or the source name
        parts = day_sources(remote[0], column) if column else [(remote[0].label, remote[0])]
        tasks = of_period([ReadingTask(label, (src,)) for label, src in parts], period)
    if entry.columns or entry.values:
        mapping = {"columns": dict(entry.columns), "values": {f: dict(v) for f, v in entry.values.items()}}
        tasks = [replace(t, **mapping) for t in tasks]
    return tasks


def of_period(tasks: list[ReadingTask], period: str | None) -> list[ReadingTask]:
    """The tasks of one ``YYYY-MM`` month: day tasks of other months dropped, tasks that are not a day kept
    (their rows are filtered by time). All tasks when ``period`` is ``None``."""
    if not period:
        return list(tasks)
    return [t for t in tasks if not (_DAY.fullmatch(t.label) and not t.label.startswith(period))]


def periods_of(tasks: list[ReadingTask]) -> list[str]:
    """The ``YYYY-MM`` months that the tasks' ``date=`` partitions cover (sorted)."""
    return sorted({t.label[:7] for t in tasks if _DAY.fullmatch(t.label)})


# --------------------------------------------------------------------------------------------------
# one task
# --------------------------------------------------------------------------------------------------

def _epoch_ms(column, name: str) -> np.ndarray:
    """A time column as int64 epoch ms of naive local time; ``INT64_MIN`` where missing or unparseable."""
    import pyarrow as pa

    nat = np.iinfo(np.int64).min
    typ = column.type
    if pa.types.is_timestamp(typ):
        s = column.to_pandas()
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    elif pa.types.is_date(typ) or pa.types.is_string(typ) or pa.types.is_large_string(typ) \
            or pa.types.is_dictionary(typ):
        s = pd.to_datetime(column.to_pandas().astype(object), errors="coerce", format="mixed")
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    elif pa.types.is_integer(typ) or pa.types.is_floating(typ):
        v = column.to_numpy(zero_copy_only=False).astype(np.float64)
        unit = "s" if np.nanmax(np.abs(v), initial=0) < 1e11 else "ms"  # epoch seconds or milliseconds
        s = pd.to_datetime(v, unit=unit, errors="coerce")
    else:
        raise TypeError(f"列 {name} 的类型 {typ} 不是时间")
    out = s.to_numpy(dtype="datetime64[ms]").astype(np.int64)
    out[pd.isna(s).to_numpy()] = nat
    return out


def _values(column) -> tuple[np.ndarray, np.ndarray]:
    """``value`` as float64 (NaN where missing or non-numeric) and the raw text where it was not numeric."""
    import pyarrow as pa

    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_decimal(column.type):
        return column.to_pandas().to_numpy(dtype=np.float64, na_value=np.nan), None
    raw = column.to_pandas().astype(object)
    return pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan), raw.to_numpy()


def _device_index(column, device_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each row's device in ``device_ids`` (-1 if unknown or missing) and the raw ids as text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    universe = pd.Index(device_ids)
    idx_parts, raw_parts = [], []
    for chunk in column.chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = pc.dictionary_encode(pc.cast(chunk, pa.string()))
        words = pc.cast(chunk.dictionary, pa.string()).to_numpy(zero_copy_only=False).astype(object)
        pos = universe.get_indexer(words) if len(words) else np.zeros(0, np.int64)
        codes = chunk.indices.to_numpy(zero_copy_only=False)
        valid = chunk.is_valid().to_numpy(zero_copy_only=False)
        codes = np.where(valid, codes, 0).astype(np.int64)
        idx_parts.append(np.where(valid, pos[codes] if len(words) else -1, -1))
        raw_parts.append((words, codes, valid))
    idx = np.concatenate(idx_parts) if idx_parts else np.zeros(0, np.int64)
    return idx.astype(np.int64), raw_parts


def _raw_ids(raw_parts, rows: np.ndarray) -> np.ndarray:
    """Raw device id text of the given row numbers (for bad-row samples)."""
    out = np.empty(len(rows), dtype=object)
    start = 0
    for words, codes, valid in raw_parts:
        n = len(codes)
        sel = (rows >= start) & (rows < start + n)
        r = rows[sel] - start
        out[sel] = np.where(valid[r], words[codes[r]] if len(words) else None, None)
        start += n
    return out


def _source_names(columns: dict[str, str] | None) -> dict[str, str]:
    """Source column of each field the scan reads (the field name itself where it is not mapped)."""
    reverse = {t: s for s, t in (columns or {}).items()}
    return {f: reverse.get(f, f) for f in (*SCAN_FIELDS, "received_at")}


def _label(field_name: str, source: str) -> str:
    """``device_id`` or, when mapped, ``设备编号（字段 device_id）`` (for messages: the name the file has)."""
    return field_name if source == field_name else f"{source}（字段 {field_name}）"


def _map_coded(table, values: dict[str, dict] | None):
    """``table`` with the coded values of its fields mapped (``values:`` of the catalog entry).

    Each column is dictionary-encoded and only its distinct values are mapped (as :meth:`Catalog.read` maps them:
    compared as text, unlisted values kept), then taken back to the rows: vectorized, whatever the row count.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from cimlib.catalog._conform import _map_series

    for name in [f for f in (values or {}) if f in table.column_names]:
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        encoded = pc.dictionary_encode(column.combine_chunks())
        words = encoded.dictionary.to_pandas()
        mapped = _map_series(words, values[name])
        if mapped is words:
            continue
        try:
            dictionary = pa.array(mapped, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers and text mixed: all as text
            dictionary = pa.array([None if pd.isna(v) else str(v) for v in mapped], pa.string())
        table = table.set_column(table.column_names.index(name), name, pc.take(dictionary, encoded.indices))
    return table


def _empty_partial(label: str) -> dict:
    return {"daily": None, "bad_counts": dict.fromkeys(BAD_KINDS, 0), "bad_samples": [], "failed": [],
            "alarm_rows": None, "last_rows": None, "hourly": None, "rows_read": 0, "label": label, "spilled": None}


def read_good_rows(paths, spec: ScanSpec, result: dict | None = None, *, receive_time: bool = True,
                   columns: dict[str, str] | None = None, values: dict[str, dict] | None = None):
    """Read files and keep their good rows; bad rows are counted and sampled, unreadable files recorded.

    Parameters
    ----------
    paths : sequence of str
        Parquet files.
    spec : ScanSpec
        The device register and the period (only ``device_ids``, ``p0_ms``, ``n_days`` are used).
    result : dict, optional
        Partial to record ``rows_read``, ``bad_counts``, ``bad_samples`` and ``failed`` into (a new one if omitted).
    receive_time : bool, default True
        Also read ``received_at`` where the file has it.
    columns : dict of str to str, optional
        Column mapping of the readings entry, source name -> schema field (:attr:`ReadingTask.columns`): the files
        are asked for the source names and the columns renamed to the fields right after reading.
    values : dict of str to dict, optional
        Coded values per schema field (:attr:`ReadingTask.values`), mapped on the fields read.

    Returns
    -------
    tuple
        ``(dev, rel_ms, value, recv_ms, result)``: arrays of the good rows in file order (device index, ms since
        the period's start, value, epoch ms received or ``INT64_MIN``) and the partial.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    result = result if result is not None else _empty_partial("")
    source = _source_names(columns)
    labels = {f: _label(f, s) for f, s in source.items()}
    parts = []
    for path in paths:
        remote = is_remote(path)
        try:
            table = path.read_arrow() if remote else None
            names = table.column_names if remote else pq.read_schema(path).names
            missing = [labels[f] for f in SCAN_FIELDS if source[f] not in names]
            if missing:
                result["failed"].append((str(path), f"缺少必需的列：{', '.join(missing)}"))
                continue
            fields = [*SCAN_FIELDS] + (["received_at"] if receive_time and source["received_at"] in names else [])
            wanted = [source[f] for f in fields]
            table = table.select(wanted) if remote else pq.read_table(path, columns=wanted)
            if wanted != fields:
                table = table.rename_columns(fields)  # schema field names from here on (no copy)
            table = _map_coded(table, values)
        except (OSError, pa.ArrowException) as exc:
            result["failed"].append((str(path), f"无法读取 Parquet 文件：{exc}"))
            continue
        except CatalogError as exc:
            result["failed"].append((str(path), exc.problem))
            continue
        path = str(path)
        try:
            got = _decode(table, path, spec, result, labels)
        except (TypeError, ValueError, pa.ArrowException) as exc:
            result["failed"].append((path, f"列类型无法识别：{exc}"))
            continue
        if got is not None and len(got[0]):
            parts.append(got)
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), empty, result
    dev, rel, val, recv = (np.concatenate([p[i] for p in parts]) for i in range(4))
    return dev, rel, val, recv, result


def scan_task(task: ReadingTask, spec: ScanSpec) -> dict:
    """Read one task's files and reduce them to partials (see the module docstring).

    Parameters
    ----------
    task : ReadingTask
    spec : ScanSpec

    Returns
    -------
    dict
        ``daily, bad_counts, bad_samples, failed, alarm_rows, last_rows, hourly, rows_read, label``.
    """
    dev, rel, val, recv, result = read_good_rows(task.paths, spec, _empty_partial(task.label),
                                                 columns=task.columns, values=task.values)
    if len(dev):
        _reduce(dev, rel, val, recv, spec, result)
    del dev, rel, val, recv
    release_memory()
    return result






def _spill(order, dev, rel, val, spec: ScanSpec) -> SpilledRows:
    """Write a task's good rows in ``order`` (grouped by device: the scan's device and time order) to two raw
    files."""
    import uuid

    base = Path(spec.spill_dir) / uuid.uuid4().hex
    rel_path, value_path = f"{base}.rel", f"{base}.value"
    np.asarray(rel[order], dtype=np.int64).tofile(rel_path)
    np.asarray(val[order], dtype=np.float64).tofile(value_path)
    return SpilledRows(rel_path, value_path, np.bincount(dev, minlength=len(spec.device_ids)).astype(np.int64))


def _decode(table, path: str, spec: ScanSpec, result: dict, labels: dict[str, str] | None = None):
    """Good rows of one file (columns named by schema field) as arrays ``(dev, rel_ms, value, recv_ms)``; bad rows
    counted and sampled. ``labels`` names the columns in messages (source names of a mapped entry)."""
    labels = labels or {}
    n = table.num_rows
    result["rows_read"] += n
    if n == 0:
        return None
    dev, raw_parts = _device_index(table.column("device_id"), spec.device_ids)
    ts = _epoch_ms(table.column("ts"), labels.get("ts", "ts"))
    val, raw_val = _values(table.column("value"))
    recv = (_epoch_ms(table.column("received_at"), labels.get("received_at", "received_at"))
            if "received_at" in table.column_names else None)
    nat = np.iinfo(np.int64).min
    p1 = spec.p0_ms + spec.n_days * DAY_MS
    bad = np.zeros(n, dtype=np.int8)  # 0 good, else 1 + index of the kind
    checks = (dev < 0, ts == nat, (ts != nat) & ((ts < spec.p0_ms) | (ts >= p1)), ~np.isfinite(val))
    for k, mask in enumerate(checks):
        bad[(bad == 0) & mask] = k + 1
    for k, kind in enumerate(BAD_KINDS):
        rows = np.flatnonzero(bad == k + 1)
        result["bad_counts"][kind] += len(rows)
        take = rows[:BAD_SAMPLE_ROWS]
        if len(take):
            ids = _raw_ids(raw_parts, take)
            ts_text = [None if t == nat else str(np.datetime64(int(t), "ms")) for t in ts[take]]
            vals = raw_val[take] if raw_val is not None else val[take]
            result["bad_samples"].extend(
                (kind, path, int(r), i, t, None if v is None else str(v)) for r, i, t, v in zip(take, ids, ts_text, vals))
    good = bad == 0
    recv_good = recv[good] if recv is not None else np.full(int(good.sum()), nat)
    return dev[good], ts[good] - spec.p0_ms, val[good], recv_good


def _reduce(dev, rel, val, recv, spec: ScanSpec, result: dict) -> None:
    """Partials of the good rows of one task (arrays in file order)."""
    n_days = spec.n_days
    key = (dev << 32) | rel
    # out of order: earlier than a reading of the same device already seen in file order. Device order first
    # (a radix sort when the ids fit in 16 bits), then time order within devices: the files are nearly in time
    # order, so the stable (tim)sort of the grouped keys is close to linear.
    small = np.int16 if len(spec.device_ids) < np.iinfo(np.int16).max else np.int64
    o = np.argsort(dev.astype(small), kind="stable")
    k_file = key[o]
    running = np.maximum.accumulate(k_file)
    ooo = np.zeros(len(key), dtype=bool)
    ooo[o[1:]] = k_file[1:] < running[:-1]
    del running
    t = o[np.argsort(k_file, kind="stable")]         # time order; duplicates are adjacent
    del o, k_file
    ks = key[t]
    del key
    if spec.spill_dir is not None:
        result["spilled"] = _spill(t, dev, rel, val, spec)
    first = np.ones(len(ks), dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    u = t[first]                                     # one row per distinct (device, ts), in time order
    hour = (rel[u] % DAY_MS) // HOUR_MS
    gs = (ks >> 32) * n_days + (ks & 0xFFFFFFFF) // DAY_MS   # (device, day) of each row, sorted
    new_group = np.ones(len(gs), dtype=bool)
    new_group[1:] = gs[1:] != gs[:-1]
    groups = gs[new_group]
    inv_s = np.cumsum(new_group) - 1                 # group of each row in time order
    del gs, ks, new_group
    m = len(groups)
    rows = np.bincount(inv_s, minlength=m)
    received = np.bincount(inv_s[first], minlength=m)
    mask = np.zeros(m, dtype=np.int64)
    np.bitwise_or.at(mask, inv_s[first], np.left_shift(1, hour).astype(np.int64))
    has_recv = (recv != np.iinfo(np.int64).min)[t]
    lat = np.where(has_recv, recv[t] - (rel[t] + spec.p0_ms), 0)
    ooo = ooo[t]
    inverse = inv_s
    result["daily"] = pd.DataFrame({
        "dev": (groups // n_days).astype(np.int64),
        "day": (groups % n_days).astype(np.int64),
        "rows": rows.astype(np.int64),
        "received": received.astype(np.int64),
        "out_of_order": np.bincount(inverse[ooo], minlength=m).astype(np.int64),
        "hour_mask": mask,
        "latency_sum_ms": np.bincount(inverse, weights=lat.astype(np.float64), minlength=m),
        "latency_n": np.bincount(inverse[has_recv], minlength=m).astype(np.int64),
        "late": np.bincount(inverse[has_recv & (lat > spec.late_ms)], minlength=m).astype(np.int64),
        "negative_latency": np.bincount(inverse[has_recv & (lat < 0)], minlength=m).astype(np.int64),
    })
    del inverse, inv_s, lat, has_recv, ooo, t
    du, ru, vu = dev[u], rel[u], val[u]
    del u
    if spec.alarms:
        _alarm_partials(du, ru, vu, spec, result)
    if spec.cube:
        hidx = ru // HOUR_MS
        gh = du * (n_days * 24) + hidx
        starts = np.flatnonzero(np.r_[True, gh[1:] != gh[:-1]])
        result["hourly"] = pd.DataFrame({     # (32-bit indexes and counts: a month has 7M device-hours)
            "dev": du[starts].astype(np.int32), "hour": hidx[starts].astype(np.int32),
            "count": np.diff(np.r_[starts, len(gh)]).astype(np.int32),
            "sum": np.add.reduceat(vu, starts), "min": np.minimum.reduceat(vu, starts),
            "max": np.maximum.reduceat(vu, starts),
        })


def _alarm_partials(dev, rel, val, spec: ScanSpec, result: dict) -> None:
    """Rows beyond a clear level (with their predecessor) and each device's last row, from rows in time order."""
    with np.errstate(invalid="ignore"):
        still_hi = val > spec.hi_clear[dev]
        trig_hi = val > spec.hi_trig[dev]
        still_lo = val < spec.lo_clear[dev]
        trig_lo = val < spec.lo_trig[dev]
    same = np.r_[False, dev[1:] == dev[:-1]]          # the previous row is of the same device
    prev_rel = np.where(same, np.r_[0, rel[:-1]], -1)
    prev_hi = same & np.r_[False, still_hi[:-1]]
    prev_lo = same & np.r_[False, still_lo[:-1]]
    sel = np.flatnonzero(still_hi | still_lo)
    result["alarm_rows"] = pd.DataFrame({
        "dev": dev[sel], "rel_ms": rel[sel], "value": val[sel], "trig_hi": trig_hi[sel], "still_hi": still_hi[sel],
        "trig_lo": trig_lo[sel], "still_lo": still_lo[sel], "prev_rel_ms": prev_rel[sel],
        "prev_still_hi": prev_hi[sel], "prev_still_lo": prev_lo[sel],
    })
    last = np.flatnonzero(np.r_[dev[1:] != dev[:-1], True])
    result["last_rows"] = pd.DataFrame({"dev": dev[last], "rel_ms": rel[last], "still_hi": still_hi[last],
                                        "still_lo": still_lo[last]})


# --------------------------------------------------------------------------------------------------
# the whole scan
# --------------------------------------------------------------------------------------------------

def scan_readings(tasks: list[ReadingTask], spec: ScanSpec, *, progress: bool = False) -> ScanResult:
    """Run :func:`scan_task` over all tasks with Dask and combine the partials.

    Runs on the active ``dask.distributed`` client if there is one (see :func:`cimlib.sensors.dask_client`),
    else on the local threaded scheduler (pyarrow and numpy release the GIL).

    Parameters
    ----------
    tasks : list of ReadingTask
    spec : ScanSpec
    progress : bool, default False
        Show a progress bar (tasks done).

    Returns
    -------
    ScanResult
    """
    import dask

    partials = _compute([dask.delayed(scan_task, pure=True)(t, spec) for t in tasks], progress)
    result = _combine(partials, spec, [p for t in tasks for p in t.paths])
    del partials
    release_memory()
    return result


def _compute(delayed, progress: bool) -> list:
    import dask

    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        client = None
    if client is not None:
        futures = client.compute(delayed)
        if progress:
            from distributed import as_completed
            from tqdm.auto import tqdm

            for _ in tqdm(as_completed(futures), total=len(futures), desc="读取监测数据", unit="日"):
                pass
        return client.gather(futures)
    if progress:
        from dask.diagnostics import Callback
        from tqdm.auto import tqdm

        bar = tqdm(total=len(delayed), desc="读取监测数据", unit="日")

        class _Bar(Callback):
            def _posttask(self, key, result, dsk, state, id):
                if isinstance(key, tuple) or str(key).startswith("scan_task"):
                    bar.update(1)

        with _Bar():
            out = dask.compute(*delayed, scheduler="threads")
        bar.close()
        return list(out)
    return list(dask.compute(*delayed, scheduler="threads"))


def _cat(frames, columns) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _combine(partials: list[dict], spec: ScanSpec, files: list[str]) -> ScanResult:
    daily_cols = ["dev", "day", "rows", "received", "out_of_order", "hour_mask", "latency_sum_ms", "latency_n",
                  "late", "negative_latency"]
    daily = _cat([p["daily"] for p in partials], daily_cols)
    if len(daily) and daily.duplicated(["dev", "day"]).any():   # a device-day in several tasks: add up, OR the hours
        daily = daily.sort_values(["dev", "day"], kind="stable")
        masks = daily.groupby(["dev", "day"], sort=True)["hour_mask"].agg(lambda s: np.bitwise_or.reduce(s.to_numpy()))
        daily = daily.drop(columns="hour_mask").groupby(["dev", "day"], as_index=False, sort=True).sum()
        daily["hour_mask"] = masks.to_numpy()
    daily = daily.astype({c: np.int64 for c in daily_cols if c != "latency_sum_ms"})
    daily["duplicates"] = daily["rows"] - daily["received"]
    counts = {k: sum(p["bad_counts"][k] for p in partials) for k in BAD_KINDS}
    bad_counts = pd.DataFrame({"kind": list(BAD_KINDS), "rows": [counts[k] for k in BAD_KINDS],
                               "description": list(BAD_KINDS.values())})
    samples = pd.DataFrame([s for p in partials for s in p["bad_samples"]],
                           columns=["kind", "file", "row", "device_id", "ts", "value"])
    failed = pd.DataFrame([f for p in partials for f in p["failed"]], columns=["file", "problem"])
    hourly = None
    if spec.cube:
        hourly = _cat([p.pop("hourly") for p in partials], ["dev", "hour", "count", "sum", "min", "max"])
        key = hourly["dev"].to_numpy(np.int64) * (spec.n_days * 24) + hourly["hour"].to_numpy(np.int64)
        if len(hourly) and np.bincount(key, minlength=len(spec.device_ids) * spec.n_days * 24).max() > 1:
            hourly = hourly.groupby(["dev", "hour"], as_index=False, sort=True).agg(
                count=("count", "sum"), sum=("sum", "sum"), min=("min", "min"), max=("max", "max"))
    alarm_cols = ["dev", "rel_ms", "value", "trig_hi", "still_hi", "trig_lo", "still_lo", "prev_rel_ms",
                  "prev_still_hi", "prev_still_lo"]
    return ScanResult(
        daily=daily, bad_counts=bad_counts, bad_samples=samples, failed=failed,
        alarm_rows=_cat([p["alarm_rows"] for p in partials], alarm_cols),
        last_rows=_cat([p["last_rows"] for p in partials], ["dev", "rel_ms", "still_hi", "still_lo"]),
        hourly=hourly, rows_read=int(sum(p["rows_read"] for p in partials)), files=files,
        spilled=[p["spilled"] for p in partials if p.get("spilled") is not None])
