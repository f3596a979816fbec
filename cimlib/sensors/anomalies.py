"""Anomalies in sensor series: spikes, level shifts and flat-lines (stuck values), on pandas and Dask frames.

The method (see ``docs/anomalies.md``) scores every reading of every series with three robust, unit-free scores and
flags the readings whose largest score reaches ``threshold``:

- **spike** — the residual against a short centred rolling median (``window`` samples, so it follows the daily
  cycle), divided by a local robust scale of those residuals (clipped rolling mean of ``|residual|`` over
  ``scale_window`` samples, floored at a share of the series' own scale and at the value resolution). The spike
  threshold of each series is raised when its own residuals are heavy-tailed (``tail_quantile``, ``tail_factor``), so
  a noisy series does not flood. Moderately unusual readings close together add up (``cluster_k``,
  ``cluster_window``): two readings of 4.3 within the window weigh like one of 5.6. Spikes that recur at about the
  same time on most days (a nightly job) are measured against their own usual size (``routine_share``,
  ``routine_factor``).
- **level** — the deviation from the series' expected level: its profile over the time of day (median of each
  ``1/season_bins`` of a day over all days, when the series covers at least ``season_min_days`` days), or over the
  week when the series covers ``weekly_min_days`` and shows a weekly rhythm that repeats from week to week. The
  deviation is judged at several scales: the short rolling median, and the means over ``level_windows`` samples
  (readings clipped at ``level_clip`` scales), each against the series' own robust spread of that mean and rescaled
  for the smaller number of independent values a long mean has; a sustained deviation of a few noise units is then as
  significant as one wild reading. A level score is given only to readings that deviate themselves and where every
  shorter scale carries the deviation too, and a level run shorter than ``level_min_samples`` readings is not a level
  shift.
- **flat** — the length of each run of exactly equal consecutive values, against what the series itself makes
  likely: the run must be longer than ``flat_min_samples``, than ``flat_factor`` times the series' typical long run
  (sample-weighted quantile ``flat_quantile`` of the run lengths, so a waterlogging depth at 0 most days does not
  flood), and than a run of that length would occur by chance once in ``1/flat_alpha`` series of that length given
  the series' share of equal consecutive values.

Rolling windows count samples, not time, so they adapt to each series' sampling interval (1 min to 30 min alike);
they never straddle a gap longer than ``gap_factor`` typical intervals (an outage is not an anomaly). Flagged runs
are grown with hysteresis (neighbours scoring at least ``hysteresis`` times the threshold join), so one anomaly gives
one run. Flagged readings of a series at most ``event_gap`` of its own sampling intervals apart share an event
number (column ``anomaly_event``), which :func:`anomaly_events` uses to collapse them into events, also when it only
sees the flagged rows.

Everything is vectorized over all series at once (no loop over devices or rows). On Dask the frame is shuffled so
that each series lives in one partition and the pandas implementation is mapped over the partitions.

The scores are not local: each series is judged against statistics of all its readings (its robust scales and tail,
its time-of-day and weekday profiles, its run lengths, its sampling step), and runs, hysteresis and event numbers
follow the series from its first reading to its last. A day of readings therefore cannot be scored with a few hours
of overlap from the previous day and give the same result; what bounds the memory instead is scoring whole series a
batch of devices at a time: :func:`flagged_readings` takes a batch as arrays and returns only its flagged rows
(``cim sensors`` feeds it the rows its scan left on disk, grouped by device; see
:func:`cimlib.sensors.compute.analyse_sensors`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

__all__ = ["DEFAULTS", "KINDS", "AnomalyParams", "anomaly_events", "detect_anomalies", "flagged_readings"]

KINDS = ("spike", "level", "flat")
"""Values of ``anomaly_kind`` for flagged readings (``""`` for the others)."""


@dataclasses.dataclass(frozen=True)
class AnomalyParams:
    """Parameters of :func:`detect_anomalies` and their defaults (each can be passed as a keyword argument).

    Attributes
    ----------
    threshold : float, default 5.5
        Score at which a reading is an anomaly. Scores are robust z-like: for Gaussian noise the spike score is
        ``|residual| / std``, so 5.5 is exceeded by chance about once in 25 million readings, while the smallest
        anomaly worth a look (a one-sample jump of 8 noise units) still scores about 8.
    window : int, default 7
        Samples in the centred rolling median (the short baseline). Odd; 7 tolerates up to 3 outlying samples in a
        row and follows a daily cycle sampled every 1 to 30 min.
    scale_window : int, default 289
        Samples in the centred rolling mean of clipped ``|residual|`` (the local scale, for varying variance).
    min_scale_fraction : float, default 0.5
        The local scale is at least this share of the series' overall robust scale (quiet stretches stay calm).
    tail_quantile, tail_factor : float, default 0.99, 1.0
        Heavy tails: the spike scores of a series are divided by
        ``max(1, tail_factor * quantile(spike z, tail_quantile) / q_gauss)``, where ``q_gauss`` (2.58) is that
        quantile for Gaussian noise, so a heavy-tailed series needs a larger jump. The 0.99 quantile is not moved
        by the anomalies themselves as long as they are fewer than 1 % of the readings.
    season_bins : int, default 48
        Bins of the time-of-day profile (48 = half hours).
    season_min_days : float, default 3.0
        Days a series must cover for the time-of-day profile; shorter series are compared with their median.
    level_floor : float, default 1.0
        The level scale is at least this many times the series' noise scale.
    flat_min_samples : int, default 6
        Shortest run of equal values that can be a flat-line.
    flat_factor : float, default 2.0
        A flat-line is longer than this many times the series' typical long run.
    flat_quantile : float, default 0.9
        Sample-weighted quantile of run lengths that defines the typical long run.
    flat_alpha : float, default 0.001
        Chance level of the run-length test: expected number of chance runs that long per series.
    gap_factor : float, default 5.0
        A time step longer than this many median steps of the series cuts the rolling windows.
    hysteresis : float, default 0.5
        Neighbouring readings scoring at least ``hysteresis * threshold`` join a flagged run.
    weekly_min_days : float, default 21.0
        Days a series must cover before its expected level may be a profile over the week (weekday x time of day):
        three weeks give each weekday bin three values for its median. The weekly profile is used only when the
        series' weekly rhythm repeats (the even weeks' pattern correlates with the odd weeks', at least 0.5, and is
        at least half the residual spread) and leaves at most ``weekly_gain`` times the spread of the daily profile.
    weekly_gain : float, default 0.8
        The weekly profile must cut the level spread to this share of the daily profile's (a clear gain, not noise).
    level_windows : tuple of int, default (25, 97)
        Lengths (samples) of the long means of the deviation: about 2 h and 8 h at 5 min, 25 min and 1.6 h at 1 min,
        12 h and 2 days at 30 min. A day at 5 min (289) changed nothing on the evaluation series and the sample
        cities (see ``docs/anomalies.md``), so it is left out; windows not longer than ``window`` are ignored.
    level_clip : float, default 5.5
        Each reading's deviation is clipped at this many level scales before the long means: beyond the threshold a
        reading is an anomaly by itself, and its size must not carry a long mean (a reading at 5.5 moves a mean of
        25 by 0.2 scales).
    level_min_samples : int, default 4
        Shortest run of flagged readings that can be a level shift (half the short median's window plus one: fewer
        readings do not move that median); a shorter run is flagged only by its spike score.
    cluster_k, cluster_window : float, int, default 3.0, 7
        Cluster evidence: each reading's spike score above ``cluster_k`` is summed over ``cluster_window`` readings,
        and a reading beyond ``cluster_k`` scores at least ``cluster_k`` plus that sum (two readings of 4.3 or
        three of 3.9 within the window score like one of 5.6-5.7, which for Gaussian noise is rarer still).
    event_gap : float, default 6.0
        Flagged readings of a series at most this many of its own median sampling intervals apart share an event
        number (``anomaly_event``): half an hour at 5 min, 6 minutes at 1 min, 3 hours at 30 min.
    routine_share, routine_factor : float, default 0.5, 2.0
        A spike that recurs at about the same time of day (its bin of the day or a neighbouring one) on at least
        ``routine_share`` of the series' days (and on 3 days at least) is routine: its score is measured against
        the routine spikes' median score and reaches the threshold only at ``routine_factor`` times their usual
        size. ``routine_share=1`` switches this off.
    """

    threshold: float = 5.5
    window: int = 7
    scale_window: int = 289
    min_scale_fraction: float = 0.5
    tail_quantile: float = 0.99
    tail_factor: float = 1.0
    season_bins: int = 48
    season_min_days: float = 3.0
    level_floor: float = 1.0
    flat_min_samples: int = 6
    flat_factor: float = 2.0
    flat_quantile: float = 0.9
    flat_alpha: float = 0.001
    gap_factor: float = 5.0
    hysteresis: float = 0.5
    weekly_min_days: float = 21.0
    weekly_gain: float = 0.8
    level_windows: tuple = (25, 97)
    level_clip: float = 5.5
    level_min_samples: int = 4
    cluster_k: float = 3.0
    cluster_window: int = 7
    event_gap: float = 6.0
    routine_share: float = 0.5
    routine_factor: float = 2.0


DEFAULTS = AnomalyParams()
"""The default parameters (see :class:`AnomalyParams`)."""

DEFAULT_EVENT_GAP = pd.Timedelta("1h")
"""Time gap of :func:`anomaly_events` when the rows carry no ``anomaly_event`` numbers: flagged readings of a series
at most this far apart form one event."""

_MAD = 1.4826          # MAD -> standard deviation for Gaussian data
_MEAN_ABS = math.sqrt(math.pi / 2)   # mean |x| -> standard deviation for Gaussian data
_CLIP = 5.0            # |residual| clipped at this many overall scales in the local scale estimate
_TAIL_MIN_COUNT = 20   # samples a series keeps above its tail quantile
_DAY_NS = 86_400 * 10**9
_OUT_COLUMNS = ("score", "is_anomaly", "anomaly_kind", "anomaly_event")


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------

def detect_anomalies(df, value: str = "value", time: str = "ts", by: str | None = "device_id", **params):
    """Score every reading and flag spikes, level shifts and flat-lines, series by series.

    Parameters
    ----------
    df : pandas.DataFrame or dask.dataframe.DataFrame
        Readings, one row per sample, in any order. Rows with a missing value or time are kept and never flagged.
    value : str, default "value"
        Column of the numeric reading.
    time : str, default "ts"
        Column of the reading time (datetime64).
    by : str or None, default "device_id"
        Column identifying the series; ``None`` means the whole frame is one series.
    **params
        Any field of :class:`AnomalyParams` (``threshold=5.5``, ``window=7``, ``scale_window=289``,
        ``min_scale_fraction=0.5``, ``tail_quantile=0.99``, ``tail_factor=1``, ``season_bins=48``,
        ``season_min_days=3``, ``level_floor=1``, ``flat_min_samples=6``, ``flat_factor=2``,
        ``flat_quantile=0.9``, ``flat_alpha=0.001``, ``gap_factor=5``, ``hysteresis=0.5``,
        ``weekly_min_days=21``, ``weekly_gain=0.8``, ``level_windows=(25, 97)``, ``level_clip=5.5``,
        ``level_min_samples=4``, ``cluster_k=3``, ``cluster_window=7``, ``event_gap=6``, ``routine_share=0.5``,
        ``routine_factor=2``).

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        The same kind of frame with every input row (pandas: sorted by ``by, time``; Dask: each series in one
        partition, sorted within it) and four added columns: ``score`` (float64, robust z-like, larger is more
        anomalous; NaN for rows without a value or time), ``is_anomaly`` (bool), ``anomaly_kind`` (``"spike"``,
        ``"level"``, ``"flat"``, or ``""`` for readings not flagged) and ``anomaly_event`` (int64: the event number
        of a flagged reading within its series, 0, 1, 2, ... in time order; -1 for readings not flagged). Flagged
        readings of a series at most ``event_gap`` of its own sampling intervals apart share a number, so
        :func:`anomaly_events` groups them right also when it only receives the flagged rows.

    Notes
    -----
    Method: three scores per reading, the largest wins (see the module docstring and ``docs/anomalies.md``):
    the residual against a centred rolling median over a local robust scale, with the evidence of nearby moderate
    residuals added and routine daily spikes discounted (spike); the deviation from the series' time-of-day (or
    weekday) profile at the short median and over longer means, each over its own robust spread (level); and the
    run length of exactly equal values against the series' own run lengths (flat). Rolling windows count samples
    and stop at gaps, so irregular sampling and outages do not make anomalies. Flagged runs are grown with
    hysteresis so that one anomaly is one run of flagged readings; exact duplicate rows get the score of their
    first copy.
    """
    p = _params(params)
    _check_columns(df, value, time, by)
    if _is_dask(df):
        return _detect_dask(df, value, time, by, p)
    return _detect_frame(df, value, time, by, p)


def anomaly_events(result, time: str = "ts", by: str | None = "device_id", max_gap=None) -> pd.DataFrame:
    """Collapse flagged readings into events: consecutive flagged readings of one series, allowing small gaps.

    Parameters
    ----------
    result : pandas.DataFrame or dask.dataframe.DataFrame
        Output of :func:`detect_anomalies` (all rows, or only the flagged ones): needs ``time``, ``by``,
        ``score``, ``is_anomaly``, ``anomaly_kind`` and the value column (the one ``detect_anomalies`` scored;
        ``value`` by default, else the first float column that is not ``score``); uses ``anomaly_event`` when
        present.
    time : str, default "ts"
        Time column.
    by : str or None, default "device_id"
        Series column; ``None`` if the frame is one series (the result then has no series column).
    max_gap : str or pandas.Timedelta, optional
        Group by time instead: flagged readings of one series at most this far apart belong to the same event.
        By default (None) the ``anomaly_event`` numbers of :func:`detect_anomalies` are used (they follow each
        series' own sampling interval, see ``event_gap``); when that column is missing, or holds -1 for a flagged
        row (not numbered by ``detect_anomalies``), the readings are grouped by time with
        :data:`DEFAULT_EVENT_GAP` (one hour).

    Returns
    -------
    pandas.DataFrame
        One row per event, sorted by ``by, start``: ``by`` (the series), ``start`` and ``end`` (times of the first
        and last flagged reading, both inclusive), ``kind`` (kind of the highest-scoring reading), ``n_points``
        (flagged readings), ``peak_score`` and ``peak_value`` (score and value of the highest-scoring reading).
    """
    gap = DEFAULT_EVENT_GAP if max_gap is None else pd.Timedelta(max_gap)
    if gap < pd.Timedelta(0):
        raise ValueError(f"max_gap 不能为负：{max_gap!r}")
    if _is_dask(result):
        result = result[result["is_anomaly"]].compute()
    missing = [c for c in (time, "score", "is_anomaly", "anomaly_kind") + ((by,) if by is not None else ())
               if c not in result.columns]
    if missing:
        raise KeyError(f"结果表缺少列：{', '.join(missing)}（应为 detect_anomalies 的输出）")
    value_col = _value_column(result)
    flagged = result[result["is_anomaly"].to_numpy(dtype=bool)]
    cols = ([by] if by is not None else []) + ["start", "end", "kind", "n_points", "peak_score", "peak_value"]
    if len(flagged) == 0:
        out = pd.DataFrame({c: [] for c in cols})
        if by is not None:
            out[by] = out[by].astype(result[by].dtype)
        out["start"] = out["start"].astype(result[time].dtype)
        out["end"] = out["end"].astype(result[time].dtype)
        return out.astype({"n_points": np.int64, "peak_score": np.float64, "peak_value": np.float64})

    codes, uniques = _codes(flagged, by)
    t = _time_ns(flagged[time])
    order = np.lexsort((t, codes))
    codes, t = codes[order], t[order]
    score = flagged["score"].to_numpy(dtype=np.float64)[order]
    kind = flagged["anomaly_kind"].to_numpy(dtype=object)[order]
    val = flagged[value_col].to_numpy(dtype=np.float64)[order] if value_col is not None else np.full(len(t), np.nan)

    new = np.ones(len(t), dtype=bool)
    numbers = None
    if max_gap is None and "anomaly_event" in flagged.columns:
        numbers = flagged["anomaly_event"].to_numpy(dtype=np.int64)[order]
        if (numbers < 0).any():                 # not numbered by detect_anomalies: group by time instead
            numbers = None
    if numbers is not None:
        new[1:] = (codes[1:] != codes[:-1]) | (numbers[1:] != numbers[:-1])
    else:
        new[1:] = (codes[1:] != codes[:-1]) | ((t[1:] - t[:-1]) > gap.value)
    ev = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(t)] - 1
    # the peak of each event: highest score (first one on ties)
    peak_order = np.lexsort((-score, ev))
    first = np.r_[True, ev[peak_order][1:] != ev[peak_order][:-1]]
    peak = peak_order[first]
    tdtype = flagged[time].dtype
    out = pd.DataFrame({
        "start": pd.Series(t[starts]).astype("datetime64[ns]").astype(tdtype).to_numpy(),
        "end": pd.Series(t[ends]).astype("datetime64[ns]").astype(tdtype).to_numpy(),
        "kind": pd.array(kind[peak].astype(str), dtype="str"),
        "n_points": (ends - starts + 1).astype(np.int64),
        "peak_score": score[peak],
        "peak_value": val[peak],
    })
    if by is not None:
        out.insert(0, by, np.asarray(uniques.take(codes[starts])))
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------------------

def _detect_dask(ddf, value, time, by, p):
    meta = _detect_frame(ddf._meta, value, time, by, p)
    if by is None:
        ddf = ddf.repartition(npartitions=1)
    else:
        ddf = ddf.shuffle(on=by)
    return ddf.map_partitions(_detect_frame, value, time, by, p, meta=meta, align_dataframes=False)


def _is_dask(obj) -> bool:
    return type(obj).__module__.startswith("dask") and hasattr(obj, "map_partitions")


# --------------------------------------------------------------------------------------------------
# The pandas implementation
# --------------------------------------------------------------------------------------------------

def _params(params: dict) -> AnomalyParams:
    names = {f.name for f in dataclasses.fields(AnomalyParams)}
    unknown = sorted(set(params) - names)
    if unknown:
        raise TypeError(f"未知参数：{', '.join(unknown)}；可用参数：{', '.join(sorted(names))}")
    p = dataclasses.replace(DEFAULTS, **params)
    if p.window < 3:
        raise ValueError(f"window 至少为 3，得到 {p.window}")
    if p.scale_window < p.window:
        raise ValueError("scale_window 不能小于 window")
    if not p.threshold > 0:
        raise ValueError(f"threshold 必须为正数，得到 {p.threshold}")
    if not 0 < p.hysteresis <= 1:
        raise ValueError(f"hysteresis 应在 (0, 1] 之间，得到 {p.hysteresis}")
    if not 0 < p.flat_alpha < 1 or not 0 < p.flat_quantile < 1 or not 0 < p.tail_quantile < 1:
        raise ValueError("flat_alpha、flat_quantile、tail_quantile 应在 (0, 1) 之间")
    if p.season_bins < 1 or p.flat_min_samples < 2 or p.gap_factor <= 1:
        raise ValueError("season_bins ≥ 1、flat_min_samples ≥ 2、gap_factor > 1")
    try:
        windows = tuple(int(w) for w in p.level_windows)
    except TypeError:
        raise ValueError(f"level_windows 应为整数序列，得到 {p.level_windows!r}") from None
    if any(w < 1 for w in windows):
        raise ValueError(f"level_windows 中的窗口长度须 ≥ 1，得到 {p.level_windows!r}")
    if not (p.level_clip > 0 and p.event_gap > 0 and p.routine_factor > 0 and p.weekly_gain > 0
            and p.cluster_k >= 0 and 0 < p.routine_share <= 1):
        raise ValueError("level_clip、event_gap、routine_factor、weekly_gain 须为正数，cluster_k ≥ 0，"
                         "routine_share 应在 (0, 1] 之间")
    if p.level_min_samples < 1 or p.cluster_window < 1:
        raise ValueError("level_min_samples、cluster_window 须 ≥ 1")
    return dataclasses.replace(p, level_windows=windows)


def _check_columns(df, value, time, by) -> None:
    need = [value, time] + ([by] if by is not None else [])
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise KeyError(f"数据表缺少列：{', '.join(map(str, missing))}")
    for c in _OUT_COLUMNS:
        if c in df.columns:
            raise ValueError(f"数据表已有列 {c!r}：请先删除或改名（检测结果写入该列）")


def _codes(df: pd.DataFrame, by) -> tuple[np.ndarray, pd.Index]:
    """Integer series code of each row (-1 for a missing key) and the series keys, codes in sorted key order."""
    if by is None:
        return np.zeros(len(df), dtype=np.int64), pd.Index([])
    col = df[by]
    if isinstance(col.dtype, pd.CategoricalDtype):
        # category order, as pandas sorts a categorical column
        return col.cat.codes.to_numpy().astype(np.int64), pd.Index(col.cat.categories)
    codes, uniques = pd.factorize(col, sort=True)
    return codes.astype(np.int64), pd.Index(uniques)


def _time_ns(col: pd.Series) -> np.ndarray:
    """Time column as int64 nanoseconds (NaT as the int64 minimum); time zones are kept as wall time."""
    s = col
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = pd.to_datetime(s)
    return s.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _value_column(result: pd.DataFrame) -> str | None:
    if "value" in result.columns:
        return "value"
    for c in result.columns:
        if c != "score" and pd.api.types.is_float_dtype(result[c].dtype):
            return c
    return None


def _detect_frame(df: pd.DataFrame, value: str, time: str, by, p: AnomalyParams) -> pd.DataFrame:
    """The pandas implementation: sort, score the valid rows, map the results back."""
    codes, _ = _codes(df, by)
    t_all = _time_ns(df[time])
    v_all = pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    order, score, flag, kind, event = _detect_arrays(codes, t_all, v_all, p)
    out = df if bool((order[1:] > order[:-1]).all()) else df.take(order)    # already in order: no copy
    return out.assign(score=score, is_anomaly=flag, anomaly_kind=_kind_names(flag, kind), anomaly_event=event)


def _kind_names(flag: np.ndarray, kind: np.ndarray):
    """``anomaly_kind`` strings (``""`` where not flagged) from the kind codes (1 spike, 2 level, 3 flat)."""
    import pyarrow as pa

    names = pa.array(["", "spike", "level", "flat"])
    kinds = pa.DictionaryArray.from_arrays(pa.array(np.where(flag, kind, 0).astype(np.int8)), names)
    return pd.array(kinds.dictionary_decode(), dtype="str")


def _detect_arrays(codes: np.ndarray, t_all: np.ndarray, v_all: np.ndarray, p: AnomalyParams):
    """Score rows given as arrays (series code, -1 for none; time as int64 ns, ``INT64_MIN`` for none; value).

    Returns ``order`` (the rows sorted by series, time, value) and, in that order, the score, flag, kind code
    (0 none, 1 spike, 2 level, 3 flat) and event number of every row: the core of :func:`detect_anomalies`.
    """
    order = _sort_order(codes, t_all, v_all)
    codes, t_all, v_all = codes[order], t_all[order], v_all[order]
    n = len(order)
    valid = np.isfinite(v_all) & (t_all != np.iinfo(np.int64).min) & (codes >= 0)
    iv = None if valid.all() else np.flatnonzero(valid)    # (all valid, as from the scan: no copies)
    g, t, x = (codes, t_all, v_all) if iv is None else (codes[iv], t_all[iv], v_all[iv])
    del codes, t_all, v_all, valid
    # exact duplicates (same series, time and value) are scored once, through their first copy
    dup = np.zeros(len(g), dtype=bool)
    dup[1:] = (g[1:] == g[:-1]) & (t[1:] == t[:-1]) & (x[1:] == x[:-1])
    rep = None
    if dup.any():
        rep = np.cumsum(~dup) - 1
        g, t, x = g[~dup], t[~dup], x[~dup]
    del dup
    got = _score_series(g, t, x, p) if len(g) else (np.zeros(0), np.zeros(0, bool), np.zeros(0, np.int8),
                                                     np.zeros(0, np.int64))
    del g, t, x
    if rep is not None:
        got = tuple(a[rep] for a in got)
    if iv is None:
        score, flag, kind, event = got
    else:
        score = np.full(n, np.nan)
        flag = np.zeros(n, dtype=bool)
        kind = np.zeros(n, dtype=np.int8)   # 0 none, 1 spike, 2 level, 3 flat
        event = np.full(n, -1, dtype=np.int64)
        score[iv], flag[iv], kind[iv], event[iv] = got
    return order, score, flag, kind, event


def flagged_readings(codes: np.ndarray, ts, values: np.ndarray, ids, **params) -> pd.DataFrame:
    """The flagged readings of series given as arrays: what ``detect_anomalies(frame)`` flags, without the frame.

    For the frame ``device_id = Categorical.from_codes(codes, ids), ts, value`` this returns exactly the rows of
    ``detect_anomalies(frame)`` with ``is_anomaly`` true (same order, columns and values). Only the flagged rows
    are built as a frame, so a caller that feeds complete series in batches (see
    :func:`cimlib.sensors.compute.analyse_sensors`) holds the batch's arrays and little more.

    Parameters
    ----------
    codes : numpy.ndarray of int
        Series of each row: a position in ``ids`` (rows of one series may come in any order).
    ts : numpy.ndarray of datetime64
        Reading times (any unit; the result keeps it).
    values : numpy.ndarray of float
        Readings.
    ids : pandas.Index or sequence
        The series keys (categories of ``device_id`` in the result).
    **params
        Fields of :class:`AnomalyParams`.

    Returns
    -------
    pandas.DataFrame
        ``device_id, ts, value, score, is_anomaly, anomaly_kind, anomaly_event`` of the flagged rows.
    """
    p = _params(params)
    ts = np.asarray(ts)
    if not np.issubdtype(ts.dtype, np.datetime64):
        raise TypeError(f"ts 应为 datetime64 数组，得到 {ts.dtype}")
    t_ns = ts.astype("datetime64[ns]").view(np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    order, score, flag, kind, event = _detect_arrays(codes, t_ns, values, p)
    rows = order[flag]
    return pd.DataFrame({
        "device_id": pd.Categorical.from_codes(codes[rows], categories=pd.Index(ids)),
        "ts": ts[rows], "value": values[rows], "score": score[flag], "is_anomaly": flag[flag],
        "anomaly_kind": _kind_names(flag[flag], kind[flag]), "anomaly_event": event[flag]})


def _sort_order(codes: np.ndarray, t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The order of ``np.lexsort((v, t, codes))`` (series, time, value; stable), sorting by value only the rows that
    share their series and time (a three-key lexsort of all rows is several times slower)."""
    # two stable passes (time, then series) equal a two-key lexsort; the series pass on 16-bit codes is a radix sort
    order = np.argsort(t, kind="stable")
    c = codes[order]
    small = c.min(initial=0) >= -32768 and c.max(initial=0) < 32768
    order = order[np.argsort(c.astype(np.int16) if small else c, kind="stable")]
    c, tt = codes[order], t[order]
    tie = np.zeros(len(order), dtype=bool)
    tie[1:] = (c[1:] == c[:-1]) & (tt[1:] == tt[:-1])
    if tie.any():
        first = tie.copy()
        first[:-1] |= tie[1:]                       # every row of a tie group, including its first
        pos = np.flatnonzero(first)
        group = np.cumsum(~tie[pos])                # tie groups are runs of rows with equal series and time
        vv = v[order[pos]]
        order[pos] = order[pos[np.lexsort((vv, group))]]
    return order


def _score_series(g: np.ndarray, t: np.ndarray, x: np.ndarray, p: AnomalyParams, components: bool = False):
    """Scores of sorted, de-duplicated valid samples of many series at once (``g`` series code, ``t`` ns).

    Returns the score, the flag, the kind code (1 spike, 2 level, 3 flat) and the per-series event number (-1 where
    not flagged) of every sample; with ``components=True`` the stacked spike, level and flat scores instead.
    """
    n = len(x)
    new_g = np.ones(n, dtype=bool)
    new_g[1:] = g[1:] != g[:-1]
    gid = np.cumsum(new_g) - 1                      # dense series index 0..G-1
    n_groups = int(gid[-1]) + 1
    gstarts = np.flatnonzero(new_g)
    size = np.bincount(gid, minlength=n_groups)
    local = np.arange(n) - gstarts[gid]             # index of each sample within its series

    # typical step of each series and segments cut at long gaps
    dt = np.empty(n, dtype=np.float64)
    dt[0] = np.nan
    dt[1:] = (t[1:] - t[:-1]).astype(np.float64)
    dt[new_g] = np.nan
    step = _group_median(dt, gid, n_groups, _sub_index(local, 4, 1))
    step = np.where(np.isfinite(step) & (step > 0), step, np.nan)
    cut = new_g | (dt > p.gap_factor * step[gid])
    seg = np.cumsum(cut) - 1
    bounds = _segment_bounds(seg)
    del dt, cut                                     # (the large temporaries are dropped as soon as they are used)

    # value resolution of each series: smallest non-zero change between consecutive samples
    dx = np.empty(n)
    dx[0] = np.nan
    dx[1:] = np.abs(np.diff(x))
    dx[new_g] = np.nan
    magnitude = np.maximum.reduceat(np.abs(x), gstarts)
    tiny = 1e-9 * np.maximum(magnitude, 1.0)
    dxp = np.where(dx > tiny[gid], dx, np.inf)
    res = np.minimum.reduceat(dxp, gstarts)
    res = np.where(np.isfinite(res), res, 0.0)
    del dx, dxp

    # runs of exactly equal consecutive values (within a series)
    same = np.zeros(n, dtype=bool)
    same[1:] = (x[1:] == x[:-1]) & ~new_g[1:]
    run_id = np.cumsum(~same) - 1
    length = np.bincount(run_id)[run_id].astype(np.float64)
    del run_id

    # ---- spike: residual against the short centred rolling median, over a local robust scale
    med = _neighbour_median(x, seg, p.window)
    ar = np.abs(x - med)                            # NaN for a sample alone in its segment
    mid, upper = _group_quantile(ar, gid, n_groups, (0.5, 0.9), _sub_index(local, 2))   # every 2nd: plenty
    # an intermittent series (flat most of the time) has a zero MAD: its upper residuals give the scale instead
    glob = np.maximum(np.maximum(_MAD * mid, upper / 1.6449), res)
    glob = np.where(glob > 0, glob, np.maximum(tiny, 1e-12))
    # the local scale leaves out flat runs: a stuck sensor's zero residuals would make its neighbours look wild
    clipped = np.where(length >= p.flat_min_samples, np.nan, np.minimum(ar, _CLIP * glob[gid]))
    local_scale = _MEAN_ABS * _rolling_mean(clipped, seg, p.scale_window, bounds=bounds)
    scale = np.maximum(np.maximum(local_scale, p.min_scale_fraction * glob[gid]), res[gid])
    scale = np.maximum(scale, tiny[gid])
    del clipped, local_scale
    z_spike = _tail_stretch(ar / scale, gid, n_groups, size, p, local)
    del ar, scale
    # clusters of moderately unusual readings: the excess of each reading's spike score over ``cluster_k``, summed
    # over ``cluster_window`` readings, counts as evidence; a reading that is itself beyond ``cluster_k`` scores
    # ``cluster_k`` plus that sum (a lone reading keeps its own score; two readings of 4.3 or three of 3.9 within
    # the window score like one of 5.6-5.7, which for Gaussian noise is rarer still)
    if p.cluster_window > 1:
        excess = np.where(np.isfinite(z_spike), np.maximum(z_spike - p.cluster_k, 0.0), 0.0)
        em, ec = _rolling_mean(excess, seg, p.cluster_window, counts=True, bounds=bounds)
        evidence = p.cluster_k + em * ec
        z_spike = np.where(z_spike > p.cluster_k, np.maximum(z_spike, evidence), z_spike)
        del excess, em, ec, evidence

    if p.routine_share < 1:
        z_spike = _routine_spikes(z_spike, t, gid, n_groups, gstarts, p)

    # ---- level: the short median against the series' expected level (its profile over the time of day, or over
    # the week when that explains the series much better), at the short scale and averaged over longer windows
    expect = _expected_level(med, t, gid, n_groups, gstarts, size, local, p)
    d = med - expect
    del med
    d_center, d_scale = _robust_center_scale(d, gid, n_groups, local, 2)
    s1 = np.maximum(np.maximum(d_scale, p.level_floor * glob), res)
    s1 = np.where(s1 > 0, s1, np.maximum(tiny, 1e-12))
    dev1 = d - d_center[gid]
    del d
    # per-sample deviation from the expected level, clipped so that one wild reading cannot carry a long mean
    e = x - expect - d_center[gid]
    del expect
    e = np.clip(e, -p.level_clip * s1[gid], p.level_clip * s1[gid])
    # ... leaving out flat runs (a stuck stretch is the flat score's business: in a long mean it would flag its
    # normal neighbours)
    e_mean = np.where(length >= p.flat_min_samples, np.nan, e)
    # a level (short median or long mean) speaks only for the readings that themselves deviate the same way, by at
    # least one level scale: the flag neither spreads to the normal neighbours of a burst nor half a window beyond
    big = np.abs(e) >= s1[gid]
    z_level = np.where(big & (np.sign(e) == np.sign(dev1)), np.abs(dev1) / s1[gid], 0.0)
    # every shorter scale must carry the deviation too (below): a reading near an excursion but back to normal sees
    # the excursion in its long windows but not in its short ones, so the flag stays within the excursion
    inner = [dev1]
    for w in sorted(p.level_windows):
        if w <= p.window:
            continue
        m, cnt = _rolling_mean(e_mean, seg, w, counts=True, bounds=bounds)
        m = np.where(cnt >= w // 2, m, np.nan)      # a long mean needs at least half its window of readings
        stride = max(1, w // 4)                     # the long means are smooth: every few samples suffice
        c_w, sc_w = _robust_center_scale(m, gid, n_groups, local, stride)
        s_w = np.maximum(sc_w, s1 / math.sqrt(w))
        dev = m - c_w[gid]
        # a mean over w samples gives about one independent value per w samples: at the same false-alarm rate per
        # series its chance threshold is that of a w times more probable event (4.9, 4.6, 4.4 for 25, 97, 289 at
        # threshold 5.5), so the score is rescaled to put that threshold at ``threshold``
        # (a window cut short by the series' start or end or by a gap averages fewer readings: its mean is noisier)
        z_w = np.abs(dev) / (s_w[gid] * np.sqrt(w / np.maximum(cnt, 1))) * _window_gain(p.threshold, w)
        # ... and only where the reading itself and each shorter scale (its short median, the shorter means) carry
        # at least half of the long deviation, the short median at least one level scale
        own = big & (np.sign(e) == np.sign(dev)) & (np.abs(dev1) >= s1[gid])
        for short in inner:
            own &= (np.sign(short) == np.sign(dev)) & (np.abs(short) >= 0.5 * np.abs(dev))
        z_level = np.maximum(z_level, np.where(own, z_w, 0.0))
        inner.append(np.nan_to_num(dev))
        del m, cnt, dev, z_w, own
    del e, e_mean, big, inner, dev1

    # ---- flat: runs of exactly equal consecutive values, against the series' own run lengths
    z_flat = _flat_scores(same, length, gid, n_groups, size, p, local)

    scores = np.vstack([z_spike, z_level, z_flat])
    del z_spike, z_level, z_flat
    scores[~np.isfinite(scores)] = 0.0
    if components:                                  # for diagnostics
        return scores
    total = scores.max(axis=0)
    is_flat = scores[2] >= p.threshold
    best = np.where(is_flat, 2, np.argmax(scores[:2], axis=0))

    # ---- hysteresis on spike and level scores: runs (within a series) of readings above the low threshold that
    # reach the threshold are flagged whole; flat runs are flagged whole by their own score (a merely long run
    # next to an anomaly must not join it)
    grow = np.maximum(scores[0], scores[1])
    low = p.hysteresis * p.threshold
    above = grow >= low
    start = above & (new_g | ~np.r_[False, above[:-1]])
    run = np.cumsum(start) - 1
    flag = is_flat.copy()
    if above.any():
        idx = np.flatnonzero(above)
        run_a = run[idx]
        n_runs = int(run_a.max()) + 1
        spike_max = np.full(n_runs, -np.inf)
        level_max = np.full(n_runs, -np.inf)
        np.maximum.at(spike_max, run_a, scores[0][idx])
        np.maximum.at(level_max, run_a, scores[1][idx])
        run_len = np.bincount(run_a, minlength=n_runs)
        # a level anomaly is sustained: a run shorter than ``level_min_samples`` qualifies by its spike score only
        ok = (spike_max >= p.threshold) | ((level_max >= p.threshold) & (run_len >= p.level_min_samples))
        flag[idx] |= ok[run_a]

    # ---- events: flagged readings of a series at most ``event_gap`` sampling steps apart form one event
    event = np.full(n, -1, dtype=np.int64)
    fi = np.flatnonzero(flag)
    if len(fi):
        fg = gid[fi]
        gap = np.empty(len(fi))
        gap[0] = np.inf
        gap[1:] = (t[fi[1:]] - t[fi[:-1]]).astype(np.float64)
        limit = p.event_gap * np.where(np.isfinite(step[fg]), step[fg], np.inf)
        new_ev = np.r_[True, fg[1:] != fg[:-1]] | (gap > limit)
        ev = np.cumsum(new_ev) - 1
        first_of_series = np.r_[True, fg[1:] != fg[:-1]]
        series_first_ev = ev[first_of_series]
        event[fi] = ev - series_first_ev[np.cumsum(first_of_series) - 1]
    return total, flag, (best + 1).astype(np.int8), event


def _routine_spikes(z, t, gid, n_groups, gstarts, p: AnomalyParams):
    """Spikes that recur at about the same time of day on most days (a nightly job, a scheduled pump start) are part
    of the series' routine: where the spike candidates of a series fall, over its days, in the same hour of the day
    (a ``1/season_bins`` bin of the day and its two neighbours) on at least ``routine_share`` of its days (and on 3
    days at least), their scores are measured against the routine spikes' own median score: a routine spike scores
    ``threshold`` when it is ``routine_factor`` times as large as usual."""
    span_days = (np.maximum.reduceat(t, gstarts) - t[gstarts]) / _DAY_NS
    cand = np.flatnonzero((z >= p.threshold) & (span_days >= p.season_min_days)[gid])
    if len(cand) == 0:
        return z
    bins = p.season_bins
    cg = gid[cand]
    tod = (t[cand] % _DAY_NS) // (_DAY_NS // bins)
    day = t[cand] // _DAY_NS
    key = cg * bins + tod
    # distinct days with a candidate in each bin or its two neighbours (cyclic), per series
    day0 = day - int(day.min())
    n_day = int(day0.max()) + 1
    spread = np.concatenate([cg * bins + (tod + d) % bins for d in (-1, 0, 1)])
    uniq = np.unique(spread * n_day + np.tile(day0, 3))
    near = np.bincount(uniq // n_day, minlength=n_groups * bins).reshape(n_groups, bins)
    need = np.maximum(3.0, p.routine_share * np.floor(span_days))
    routine = near >= need[:, None]
    if not routine.any():
        return z
    med = _label_quantile(z[cand], key, cg, n_groups * bins, 0.5).reshape(n_groups, bins)
    ref = np.fmax(np.fmax(med, np.roll(med, 1, axis=1)), np.roll(med, -1, axis=1))
    is_r = routine[cg, tod]
    out = z.copy()
    rows = cand[is_r]
    out[rows] = z[rows] * p.threshold / (p.routine_factor * ref[cg[is_r], tod[is_r]])
    return out


def _tail_stretch(z, gid, n_groups, size, p: AnomalyParams, local, stride: int = 1):
    """Divide each series' scores by how much heavier than Gaussian its upper tail is (at least 1).

    The series' quantile ``tail_quantile`` of ``z`` is compared with the same quantile of ``|N(0, 1)|``; the quantile
    leaves at least ``_TAIL_MIN_COUNT`` samples above it, so a short series' few anomalies do not move it.
    """
    q_tail = np.clip(np.minimum(p.tail_quantile, 1.0 - _TAIL_MIN_COUNT / np.maximum(size, 1)), 0.5, None)
    tail = _group_quantile(z, gid, n_groups, q_tail, _sub_index(local, stride))
    stretch = np.maximum(1.0, p.tail_factor * np.nan_to_num(tail / _gauss_abs_quantile(q_tail)))
    return z / stretch[gid]


def _robust_center_scale(a, gid, n_groups, local, stride: int = 1):
    """Per-series median of ``a`` and a robust scale of the deviations from it: the larger of 1.4826 x their median
    absolute value and their 0.9 quantile / 1.645 (both equal the standard deviation for Gaussian data; the second
    is larger when the shoulders of the distribution are wide, as in a series with frequent excursions), computed on
    every ``stride``-th sample of each series."""
    idx = _sub_index(local, stride)
    if idx is not None:
        a, gid = a[idx], gid[idx]
    c = np.nan_to_num(_group_median(a, gid, n_groups))
    mid, upper = _group_quantile(np.abs(a - c[gid]), gid, n_groups, (0.5, 0.9))
    return c, np.nan_to_num(np.maximum(_MAD * mid, upper / 1.6449))


def _weekly_screen(resid, t, gid, n_groups, local, cand):
    """Which candidate series show a weekly pattern (on a thinned sample): after removing each day's median, the
    residuals of the daily profile, summarized as medians per (weekday, quarter of the day) block, repeat from the
    even weeks to the odd ones (correlation of the two 28-block patterns at least 0.5) and reach half the residuals'
    robust scale. Random day-to-day variations and slow drifts do not repeat that way; a weekly rhythm does.
    A dense series is thinned to about 48 samples a day (every 4th sample at least): blocks of a quarter day still
    get a dozen samples a day."""
    starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
    size = np.diff(np.r_[starts, len(gid)])
    span = np.maximum((np.maximum.reduceat(t, starts) - t[starts]) / _DAY_NS, 1e-9)
    stride = np.maximum(4, np.round(size / span / 48.0)).astype(np.int64)
    r4 = np.flatnonzero(cand[gid] & (local % stride[gid] == 0))
    g4, t4 = gid[r4], t[r4]
    day = t4 // _DAY_NS
    dense_day = day - day[np.r_[True, g4[1:] != g4[:-1]]][np.cumsum(np.r_[True, g4[1:] != g4[:-1]]) - 1]
    n_days = int(dense_day.max()) + 1
    res = resid[r4]
    res = res - _label_quantile(res, g4 * n_days + dense_day, g4, n_groups * n_days, 0.5)[g4 * n_days + dense_day]
    block = ((day + 3) % 7) * 4 + (t4 % _DAY_NS) // (_DAY_NS // 4)     # 1970-01-01 was a Thursday: Monday 0
    half = (((day + 3) // 7) % 2)
    key = (g4 * 2 + half) * 28 + block
    bmed = _label_quantile(res, key, g4, n_groups * 56, 0.5).reshape(n_groups, 2, 28)
    with np.errstate(invalid="ignore"):
        cnt = np.isfinite(bmed).sum(axis=2, keepdims=True)
        bmed = bmed - np.nansum(bmed, axis=2, keepdims=True) / np.maximum(cnt, 1)
    ok = np.isfinite(bmed).all(axis=(1, 2))
    b = np.nan_to_num(bmed)
    num = (b[:, 0] * b[:, 1]).sum(axis=1)
    den = np.sqrt((b[:, 0] ** 2).sum(axis=1) * (b[:, 1] ** 2).sum(axis=1))
    corr = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    _, rscale = _robust_center_scale(res, g4, n_groups, np.zeros(len(r4), dtype=np.int64))
    strength = np.max(np.abs(b).mean(axis=1), axis=1)
    return ok & (corr >= 0.5) & (strength >= 0.5 * np.where(rscale > 0, rscale, np.inf))


def _expected_level(med, t, gid, n_groups, gstarts, size, local, p: AnomalyParams):
    """Expected level of each sample: the median of the series' short medians in its bin of the day (when the
    series covers ``season_min_days``), or in its bin of the week (when it covers ``weekly_min_days`` and the weekly
    profile leaves at most ``weekly_gain`` times the spread of the daily one); else the series' median."""
    span_days = (np.maximum.reduceat(t, gstarts) - t[gstarts]) / _DAY_NS
    bins = p.season_bins
    tod = (t % _DAY_NS) // (_DAY_NS // bins)
    key = gid * bins + tod
    prof, cnt = _keyed_median(med, key, gid, n_groups * bins)
    base_g = _group_median(med, gid, n_groups, _sub_index(local, 4))
    use = (span_days >= p.season_min_days)[gid] & (cnt[key] >= 3)
    expect = np.where(use, prof[key], base_g[gid])
    weekly = span_days >= p.weekly_min_days
    if weekly.any():
        weekly &= _weekly_screen(med - expect, t, gid, n_groups, local, weekly)
    if not weekly.any():
        return expect
    rows = np.flatnonzero(weekly[gid])
    sub_gid = gid[rows]
    dense = np.cumsum(np.r_[True, sub_gid[1:] != sub_gid[:-1]]) - 1
    n_sub = int(dense[-1]) + 1
    dow = ((t[rows] // _DAY_NS) + 3) % 7            # 1970-01-01 was a Thursday: Monday is 0
    wkey = (dense * 7 + dow) * bins + tod[rows]
    wprof, wcnt = _keyed_median(med[rows], wkey, dense, n_sub * 7 * bins)
    expect_w = np.where(wcnt[wkey] >= 3, wprof[wkey], expect[rows])
    loc = local[rows]
    _, mad_d = _robust_center_scale(med[rows] - expect[rows], dense, n_sub, loc, 4)
    _, mad_w = _robust_center_scale(med[rows] - expect_w, dense, n_sub, loc, 4)
    better = mad_w <= p.weekly_gain * mad_d
    expect = expect.copy()
    expect[rows] = np.where(better[dense], expect_w, expect[rows])
    return expect


def _window_gain(threshold: float, w: int) -> float:
    """``threshold`` over the two-sided Gaussian quantile of a ``w`` times larger tail probability than its own."""
    from statistics import NormalDist

    tail = max(math.erfc(threshold / math.sqrt(2.0)), 1e-300)   # two-sided tail probability of ``threshold``
    return float(threshold / -NormalDist().inv_cdf(min(0.25, tail * w) / 2.0))


def _gauss_abs_quantile(q):
    """Quantile ``q`` (scalar or array) of ``|z|`` for standard Gaussian ``z``."""
    from statistics import NormalDist

    q = np.asarray(q, dtype=np.float64)
    uq, inv = np.unique(q, return_inverse=True)    # a handful of distinct values
    ref = np.array([NormalDist().inv_cdf((1.0 + v) / 2.0) for v in uq])
    return ref[inv].reshape(q.shape)


def _flat_scores(same, length, gid, n_groups, size, p: AnomalyParams, local=None) -> np.ndarray:
    """Flat-line score: ``threshold * run length / longest run the series makes plausible``.

    ``same`` marks samples equal to the previous one of the series, ``length`` is the length of each sample's run.
    """
    # share of equal consecutive values, and the run length expected once in 1/alpha series of that size
    eq = np.bincount(gid, weights=same.astype(np.float64), minlength=n_groups)
    pairs = np.maximum(size - 1, 0)
    p_eq = (eq + 0.5) / (pairs + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        chance = 1.0 + np.log(p.flat_alpha / np.maximum(size, 1)) / np.log(p_eq)
    chance = np.where(p_eq < 1, chance, np.inf)
    # (sample-weighted: every 2nd sample weighs the runs as well as all of them)
    sub = None if local is None else _sub_index(local, 2)
    typical = _group_quantile(length, gid, n_groups, p.flat_quantile, sub)
    limit = np.maximum(np.maximum(float(p.flat_min_samples), chance), p.flat_factor * typical)
    z = p.threshold * length / limit[gid]
    return np.where(length >= 2, z, 0.0)


# --------------------------------------------------------------------------------------------------
# Vectorized helpers (all series at once)
# --------------------------------------------------------------------------------------------------

def _group_median(a: np.ndarray, gid: np.ndarray, n_groups: int, idx=None) -> np.ndarray:
    return _group_quantile(a, gid, n_groups, 0.5, idx)


def _group_quantile(a: np.ndarray, gid: np.ndarray, n_groups: int, q, idx=None):
    """Per-series quantile(s) ``q`` (linear interpolation) of ``a`` ignoring NaN; NaN for series without values.

    ``gid`` must be sorted (series contiguous). ``q`` is a scalar, an array of one quantile per series, or a tuple
    of scalars (then a list of arrays is returned). ``idx`` (sorted positions) restricts the values to a subsample.
    """
    if idx is not None:
        a, gid = a[idx], gid[idx]
    return _label_quantile(a, gid, gid, n_groups, q)


def _sub_index(local: np.ndarray, stride: int, offset: int = 0):
    """Positions of every ``stride``-th sample of each series (from its ``offset``-th), or None for all samples."""
    if stride <= 1:
        return None
    return np.flatnonzero(local % stride == offset % stride)


def _label_quantile(a: np.ndarray, label: np.ndarray, gid: np.ndarray, n_labels: int, q):
    """Quantile(s) of ``a`` per integer ``label`` (any order), sorting once on a combined float key.

    The key is ``label + 0.5 * (a - min) / range`` with the minimum and range of ``a`` in the row's series ``gid``
    (contiguous), which orders values within each label as exactly as a two-key sort, several times faster.
    """
    single = np.isscalar(q) or (isinstance(q, np.ndarray) and q.ndim == 1 and len(q) == n_labels)
    qs = [q] if single else list(q)
    outs = [np.full(n_labels, np.nan) for _ in qs]
    ok = np.isfinite(a)
    if ok.any():
        starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduceat(a, starts)
            hi = np.fmax.reduceat(a, starts)
        dense = np.cumsum(np.r_[True, gid[1:] != gid[:-1]]) - 1
        span = np.where(hi > lo, hi - lo, 1.0)
        av, lab, dn = a[ok], label[ok], dense[ok]
        del dense
        key = lab + 0.5 * ((av - lo[dn]) / span[dn])
        del dn
        order = np.argsort(key)
        del key
        av, lab = av[order], lab[order]
        del order
        cnt = np.bincount(lab, minlength=n_labels)
        first = np.concatenate([[0], np.cumsum(cnt)[:-1]])
        has = cnt > 0
        for out, qq in zip(outs, qs):
            qq = qq[has] if isinstance(qq, np.ndarray) else qq     # per-label quantiles
            pos = qq * (cnt[has] - 1)
            i0 = np.floor(pos).astype(np.int64)
            i1 = np.minimum(i0 + 1, cnt[has] - 1)
            frac = pos - i0
            out[has] = av[first[has] + i0] * (1 - frac) + av[first[has] + i1] * frac
    return outs[0] if single else outs


def _keyed_median(a: np.ndarray, key: np.ndarray, gid: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``a`` per integer key (``gid * bins + bin``) and the count of values per key."""
    med = _label_quantile(a, key, gid, n_keys, 0.5)
    cnt = np.bincount(key[np.isfinite(a)], minlength=n_keys)
    return med, cnt


def _neighbour_median(x: np.ndarray, seg: np.ndarray, window: int) -> np.ndarray:
    """Median of the ``window - 1`` centred neighbours of each sample (itself left out), within its segment.

    Leaving the sample out makes ``x - median`` independent of ``x`` for noise, so its tail is that of the noise
    (a median that includes the sample shrinks ordinary residuals more than large ones, which fattens the tail).
    """
    half = window // 2
    n = len(x)
    pad = half
    pos = np.arange(n) + (seg + 1) * pad
    buf = np.full(n + (int(seg[-1]) + 2) * pad, np.nan)
    buf[pos] = x
    offsets = [o for o in range(-half, half + 1) if o != 0]
    cols = [buf[pos + o] for o in offsets]   # a loop over the few window offsets, not over rows
    full = np.ones(n, dtype=bool)
    for c in cols:
        full &= np.isfinite(c)
    med = np.full(n, np.nan)
    if len(cols) == 6:
        # all six neighbours present (almost every sample): a sorting network, branch-free and much faster than a
        # row-wise sort; the median is the mean of the 3rd and 4th values
        a = [c[full] for c in cols]
        for i, j in _NETWORK6:
            lo_, hi_ = np.minimum(a[i], a[j]), np.maximum(a[i], a[j])
            a[i], a[j] = lo_, hi_
        med[full] = 0.5 * (a[2] + a[3])
        rest = np.flatnonzero(~full)
    else:
        rest = np.arange(n)
    if len(rest):
        nb = np.column_stack([c[rest] for c in cols])
        nb.sort(axis=1)                      # NaN (outside the segment) sort last
        k = np.isfinite(nb).sum(axis=1)
        lo = np.maximum((k - 1) // 2, 0)
        hi = np.maximum(k // 2, 0)
        rows = np.arange(len(rest))
        m = 0.5 * (nb[rows, lo] + nb[rows, hi])
        med[rest] = np.where(k > 0, m, np.nan)
    return med


_NETWORK6 = ((0, 5), (1, 3), (2, 4), (1, 2), (3, 4), (0, 3), (2, 5), (0, 1), (2, 3), (4, 5), (1, 2), (3, 4))
"""An optimal sorting network for six values (12 compare-exchanges)."""


def _segment_bounds(seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each sample, the position of the first sample of its segment and one past the last."""
    n = len(seg)
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    ends = np.r_[starts[1:], n]
    return np.repeat(starts, ends - starts), np.repeat(ends, ends - starts)


def _rolling_mean(a: np.ndarray, seg: np.ndarray, window: int, counts: bool = False, bounds=None):
    """Centred rolling mean over ``window`` samples, truncated at segment boundaries, ignoring NaN (cumulative sums);
    with ``counts=True`` also the number of values it averaged. ``bounds`` caches :func:`_segment_bounds`."""
    n = len(a)
    half = window // 2
    idx = np.arange(n)
    seg_start, seg_end = _segment_bounds(seg) if bounds is None else bounds
    lo = np.maximum(idx - half, seg_start)
    hi = np.minimum(idx + half + 1, seg_end)
    ok = np.isfinite(a)
    if ok.all():                                    # no gaps in the values: the counts are the window lengths
        csum = np.concatenate([[0.0], np.cumsum(a)])
        cnt = hi - lo
    else:
        csum = np.concatenate([[0.0], np.cumsum(np.where(ok, a, 0.0))])
        ccnt = np.concatenate([[0], np.cumsum(ok)])
        cnt = ccnt[hi] - ccnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, (csum[hi] - csum[lo]) / cnt, np.nan)
    return (mean, cnt) if counts else mean
