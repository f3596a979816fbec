"""Anomalies in sensor series: spikes, level shifts and flat-lines (stuck values), on pandas and Dask frames.

The method (see ``docs/anomalies.md``) scores every reading of every series with three robust, unit-free scores and
flags the readings whose largest score reaches ``threshold``:

- **spike** — the residual against a short centred rolling median (``window`` samples, so it follows the daily
  cycle), divided by a local robust scale of those residuals (clipped rolling mean of ``|residual|`` over
  ``scale_window`` samples, floored at a share of the series' own scale and at the value resolution). The spike
  threshold of each series is raised when its own residuals are heavy-tailed (``tail_quantile``, ``tail_factor``), so
  a noisy series does not flood.
- **level** — the short rolling median against the series' own profile over the time of day (median of each
  ``1/season_bins`` of a day over all days, when the series covers at least ``season_min_days`` days), divided by the
  series' robust scale of that difference: contextual anomalies and excursions that a short median absorbs.
- **flat** — the length of each run of exactly equal consecutive values, against what the series itself makes
  likely: the run must be longer than ``flat_min_samples``, than ``flat_factor`` times the series' typical long run
  (sample-weighted quantile ``flat_quantile`` of the run lengths, so a waterlogging depth at 0 most days does not
  flood), and than a run of that length would occur by chance once in ``1/flat_alpha`` series of that length given
  the series' share of equal consecutive values.

Rolling windows count samples, not time, so they adapt to each series' sampling interval (1 min to 30 min alike);
they never straddle a gap longer than ``gap_factor`` typical intervals (an outage is not an anomaly). Flagged runs
are grown with hysteresis (neighbours scoring at least ``hysteresis`` times the threshold join), so one anomaly gives
one run; :func:`anomaly_events` collapses runs into events.

Everything is vectorized over all series at once (no loop over devices or rows). On Dask the frame is shuffled so
that each series lives in one partition and the pandas implementation is mapped over the partitions.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

__all__ = ["AnomalyParams", "DEFAULTS", "KINDS", "detect_anomalies", "anomaly_events"]

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


DEFAULTS = AnomalyParams()
"""The default parameters (see :class:`AnomalyParams`)."""

DEFAULT_EVENT_GAP = pd.Timedelta("1h")
"""Default ``max_gap`` of :func:`anomaly_events`: flagged readings of a series less than this apart form one event."""

_MAD = 1.4826          # MAD -> standard deviation for Gaussian data
_MEAN_ABS = math.sqrt(math.pi / 2)   # mean |x| -> standard deviation for Gaussian data
_CLIP = 5.0            # |residual| clipped at this many overall scales in the local scale estimate
_TAIL_MIN_COUNT = 20   # samples a series keeps above its tail quantile
_DAY_NS = 86_400 * 10**9
_OUT_COLUMNS = ("score", "is_anomaly", "anomaly_kind")


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
        ``flat_quantile=0.9``, ``flat_alpha=0.001``, ``gap_factor=5``, ``hysteresis=0.5``).

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        The same kind of frame with every input row (pandas: sorted by ``by, time``; Dask: each series in one
        partition, sorted within it) and three added columns: ``score`` (float64, robust z-like, larger is more
        anomalous; NaN for rows without a value or time), ``is_anomaly`` (bool) and ``anomaly_kind`` (``"spike"``,
        ``"level"``, ``"flat"``, or ``""`` for readings not flagged).

    Notes
    -----
    Method: three scores per reading, the largest wins (see the module docstring and ``docs/anomalies.md``):
    the residual against a centred rolling median over a local robust scale (spike), the rolling median against
    the series' time-of-day profile over its robust scale (level), and the run length of exactly equal values
    against the series' own run lengths (flat). Rolling windows count samples and stop at gaps, so irregular
    sampling and outages do not make anomalies. Flagged runs are grown with hysteresis so that one anomaly is one
    run of flagged readings; exact duplicate rows get the score of their first copy.
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
        ``value`` by default, else the first float column that is not ``score``).
    time : str, default "ts"
        Time column.
    by : str or None, default "device_id"
        Series column; ``None`` if the frame is one series (the result then has no series column).
    max_gap : str or pandas.Timedelta, optional
        Flagged readings of one series at most this far apart belong to the same event. Default
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
    return p


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
    order = np.lexsort((v_all, t_all, codes))
    out = df.take(order)
    codes, t_all, v_all = codes[order], t_all[order], v_all[order]
    n = len(out)
    score = np.full(n, np.nan)
    flag = np.zeros(n, dtype=bool)
    kind = np.zeros(n, dtype=np.int8)   # 0 none, 1 spike, 2 level, 3 flat
    valid = np.isfinite(v_all) & (t_all != np.iinfo(np.int64).min) & (codes >= 0)
    iv = np.flatnonzero(valid)
    if len(iv):
        g, t, x = codes[iv], t_all[iv], v_all[iv]
        # exact duplicates (same series, time and value) are scored once, through their first copy
        dup = np.zeros(len(iv), dtype=bool)
        dup[1:] = (g[1:] == g[:-1]) & (t[1:] == t[:-1]) & (x[1:] == x[:-1])
        rep = np.cumsum(~dup) - 1
        keep = ~dup
        s_u, f_u, k_u = _score_series(g[keep], t[keep], x[keep], p)
        score[iv], flag[iv], kind[iv] = s_u[rep], f_u[rep], k_u[rep]
    names = np.array(["", "spike", "level", "flat"], dtype=object)
    out = out.assign(score=score, is_anomaly=flag,
                     anomaly_kind=pd.array(names[np.where(flag, kind, 0)].astype(str), dtype="str"))
    return out


def _score_series(g: np.ndarray, t: np.ndarray, x: np.ndarray, p: AnomalyParams, components: bool = False):
    """Scores of sorted, de-duplicated valid samples of many series at once (``g`` series code, ``t`` ns)."""
    n = len(x)
    new_g = np.ones(n, dtype=bool)
    new_g[1:] = g[1:] != g[:-1]
    gid = np.cumsum(new_g) - 1                      # dense series index 0..G-1
    n_groups = int(gid[-1]) + 1
    size = np.bincount(gid, minlength=n_groups)

    # typical step of each series and segments cut at long gaps
    dt = np.empty(n, dtype=np.float64)
    dt[0] = np.nan
    dt[1:] = (t[1:] - t[:-1]).astype(np.float64)
    dt[new_g] = np.nan
    step = _group_median(dt, gid, n_groups)
    step = np.where(np.isfinite(step) & (step > 0), step, np.nan)
    cut = new_g | (dt > p.gap_factor * step[gid])
    seg = np.cumsum(cut) - 1

    # value resolution of each series: smallest non-zero change between consecutive samples
    dx = np.empty(n)
    dx[0] = np.nan
    dx[1:] = np.abs(np.diff(x))
    dx[new_g] = np.nan
    gstarts = np.flatnonzero(new_g)
    magnitude = np.maximum.reduceat(np.abs(x), gstarts)
    tiny = 1e-9 * np.maximum(magnitude, 1.0)
    dxp = np.where(dx > tiny[gid], dx, np.inf)
    res = np.minimum.reduceat(dxp, gstarts)
    res = np.where(np.isfinite(res), res, 0.0)

    # runs of exactly equal consecutive values (within a series)
    same = np.zeros(n, dtype=bool)
    same[1:] = (x[1:] == x[:-1]) & ~new_g[1:]
    run_id = np.cumsum(~same) - 1
    length = np.bincount(run_id)[run_id].astype(np.float64)

    # ---- spike: residual against the short centred rolling median, over a local robust scale
    med = _neighbour_median(x, seg, p.window)
    r = x - med
    ar = np.abs(r)                                  # NaN for a sample alone in its segment
    mid, upper = _group_quantile(ar, gid, n_groups, (0.5, 0.9))
    # an intermittent series (flat most of the time) has a zero MAD: its upper residuals give the scale instead
    glob = np.maximum(np.maximum(_MAD * mid, upper / 1.6449), res)
    glob = np.where(glob > 0, glob, np.maximum(tiny, 1e-12))
    # the local scale leaves out flat runs: a stuck sensor's zero residuals would make its neighbours look wild
    clipped = np.where(length >= p.flat_min_samples, np.nan, np.minimum(ar, _CLIP * glob[gid]))
    local = _MEAN_ABS * _rolling_mean(clipped, seg, p.scale_window)
    scale = np.maximum(np.maximum(local, p.min_scale_fraction * glob[gid]), res[gid])
    scale = np.maximum(scale, tiny[gid])
    z_spike = ar / scale
    # heavy tails: the series' own upper quantile of z against the Gaussian one raises its spike threshold; the
    # quantile leaves at least _TAIL_MIN_COUNT samples above it, so a short series' few anomalies do not move it
    q_tail = np.clip(np.minimum(p.tail_quantile, 1.0 - _TAIL_MIN_COUNT / np.maximum(size, 1)), 0.5, None)
    tail = _group_quantile(z_spike, gid, n_groups, q_tail) / _gauss_abs_quantile(q_tail)
    stretch = np.maximum(1.0, p.tail_factor * np.nan_to_num(tail))
    z_spike = z_spike / stretch[gid]

    # ---- level: short median against the series' time-of-day profile, over the series' robust scale
    span_days = (np.maximum.reduceat(t, gstarts) - t[new_g]) / _DAY_NS
    seasonal = (span_days >= p.season_min_days)[gid]
    tod = (t % _DAY_NS) // (_DAY_NS // p.season_bins)
    key = gid * p.season_bins + tod
    prof, cnt = _keyed_median(med, key, gid, n_groups * p.season_bins)
    base_g = _group_median(med, gid, n_groups)
    use = seasonal & (cnt[key] >= 3)
    expect = np.where(use, prof[key], base_g[gid])
    d = med - expect
    d_center = _group_median(d, gid, n_groups)
    d_scale = _MAD * _group_median(np.abs(d - d_center[gid]), gid, n_groups)
    d_scale = np.maximum(np.maximum(d_scale, p.level_floor * glob), res)
    d_scale = np.where(d_scale > 0, d_scale, np.maximum(tiny, 1e-12))
    z_level = np.abs(d - d_center[gid]) / d_scale[gid]

    # ---- flat: runs of exactly equal consecutive values, against the series' own run lengths
    z_flat = _flat_scores(same, length, gid, n_groups, size, p)

    scores = np.vstack([z_spike, z_level, z_flat])
    scores = np.where(np.isfinite(scores), scores, 0.0)
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
        run_max = np.full(int(run_a.max()) + 1, -np.inf)
        np.maximum.at(run_max, run_a, grow[idx])
        flag[idx] |= run_max[run_a] >= p.threshold
    return total, flag, (best + 1).astype(np.int8)


def _gauss_abs_quantile(q):
    """Quantile ``q`` (scalar or array) of ``|z|`` for standard Gaussian ``z``."""
    from statistics import NormalDist

    q = np.asarray(q, dtype=np.float64)
    uq, inv = np.unique(q, return_inverse=True)    # a handful of distinct values
    ref = np.array([NormalDist().inv_cdf((1.0 + v) / 2.0) for v in uq])
    return ref[inv].reshape(q.shape)


def _flat_scores(same, length, gid, n_groups, size, p: AnomalyParams) -> np.ndarray:
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
    typical = _group_quantile(length, gid, n_groups, p.flat_quantile)
    limit = np.maximum(np.maximum(float(p.flat_min_samples), chance), p.flat_factor * typical)
    z = p.threshold * length / limit[gid]
    return np.where(length >= 2, z, 0.0)


# --------------------------------------------------------------------------------------------------
# Vectorized helpers (all series at once)
# --------------------------------------------------------------------------------------------------

def _group_median(a: np.ndarray, gid: np.ndarray, n_groups: int) -> np.ndarray:
    return _group_quantile(a, gid, n_groups, 0.5)


def _group_quantile(a: np.ndarray, gid: np.ndarray, n_groups: int, q):
    """Per-series quantile(s) ``q`` (linear interpolation) of ``a`` ignoring NaN; NaN for series without values.

    ``gid`` must be sorted (series contiguous). ``q`` is a scalar, an array of one quantile per series, or a tuple
    of scalars (then a list of arrays is returned).
    """
    return _label_quantile(a, gid, gid, n_groups, q)


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
        key = lab + 0.5 * ((av - lo[dn]) / span[dn])
        order = np.argsort(key)
        av, lab = av[order], lab[order]
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
    nb = np.empty((n, len(offsets)))
    for j, o in enumerate(offsets):          # a loop over the few window offsets, not over rows
        nb[:, j] = buf[pos + o]
    nb.sort(axis=1)                          # NaN (outside the segment) sort last
    k = np.isfinite(nb).sum(axis=1)
    lo = np.maximum((k - 1) // 2, 0)
    hi = np.maximum(k // 2, 0)
    rows = np.arange(n)
    med = 0.5 * (nb[rows, lo] + nb[rows, hi])
    return np.where(k > 0, med, np.nan)


def _rolling_mean(a: np.ndarray, seg: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling mean over ``window`` samples, truncated at segment boundaries, ignoring NaN (cumulative sums)."""
    n = len(a)
    half = window // 2
    idx = np.arange(n)
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    ends = np.r_[starts[1:], n]
    seg_start = np.repeat(starts, ends - starts)
    seg_end = np.repeat(ends, ends - starts)
    lo = np.maximum(idx - half, seg_start)
    hi = np.minimum(idx + half + 1, seg_end)
    ok = np.isfinite(a)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, a, 0.0))])
    ccnt = np.concatenate([[0], np.cumsum(ok)])
    cnt = ccnt[hi] - ccnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (csum[hi] - csum[lo]) / cnt, np.nan)
