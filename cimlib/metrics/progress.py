"""Progress over time: month-by-month series, target status (达标/未达标/未到期) and a projected date of reaching it.

Status as of a date: a target whose deadline has not passed is 未到期; otherwise it is 达标 when the value of the
deadline's month (the last period at or before the deadline) meets it, else 未达标; without any month at or before the
deadline it is 无法判定. A target compares with ``>=``, ``<=``, ``==``, ``>`` or ``<`` (values within 1e-12 of the
target count as equal). The projection extends the least-squares linear trend of the last ``window`` monthly values
from the latest one (a falling trend for targets to stay at or below); the method is stated in every row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cimlib.metrics._spec import TARGETS, Target

PROGRESS_COLUMNS = ["target_id", "name_zh", "metric_id", "dataset", "area_code", "area_name", "area_level", "target",
                    "comparator", "deadline", "as_of", "deadline_period", "value_at_deadline", "numerator", "denominator",
                    "latest_value", "status", "met_period", "slope_per_month", "projected_date", "projection_method"]

STATUS_MET, STATUS_MISSED, STATUS_PENDING = "达标", "未达标", "未到期"
STATUS_UNKNOWN = "无法判定"
"""Status when the metrics hold no month at or before the deadline (e.g. a run of a later month only)."""


def series(metrics: pd.DataFrame, metric_id: str, dataset: str | None = None, area_code: str | None = None) -> pd.DataFrame:
    """The month-by-month series of one metric (numerator, denominator, value per period).

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics table.
    metric_id : str
    dataset : str, optional
        Required when the metric exists for several datasets.
    area_code : str, optional
        Default the county (the only row at county level).

    Returns
    -------
    pandas.DataFrame
        ``period, numerator, denominator, value`` sorted by period.
    """
    m = metrics[metrics["metric_id"] == metric_id]
    if dataset is not None:
        m = m[m["dataset"] == dataset]
    if area_code is None:
        m = m[m["area_level"] == "county"]
    else:
        m = m[m["area_code"] == area_code]
    if m["dataset"].nunique() > 1:
        raise ValueError(f"指标 {metric_id} 存在于多个数据集（{', '.join(sorted(m['dataset'].unique()))}），请指定 dataset")
    return m.sort_values("period")[["period", "numerator", "denominator", "value"]].reset_index(drop=True)


def _month_end(period: str) -> pd.Timestamp:
    return pd.Period(period, freq="M").end_time.normalize()


COMPARATORS = (">=", "<=", "==", ">", "<")
"""Comparators of a target; values within 1e-12 of the target count as equal to it."""


def _meets(value: float, target: float, comparator: str) -> bool:
    if value is None or np.isnan(value):
        return False
    eps = 1e-12
    if comparator == ">=":
        return value >= target - eps
    if comparator == "<=":
        return value <= target + eps
    if comparator == "==":
        return abs(value - target) <= eps
    if comparator == ">":
        return value > target + eps
    if comparator == "<":
        return value < target - eps
    raise ValueError(f"未知的比较符 {comparator!r}（可用：{'、'.join(COMPARATORS)}）")


def project(periods, values, target: float, window: int = 3) -> tuple[float, pd.Timestamp | None]:
    """Slope per month of the last ``window`` values and the date the trend reaches ``target``.

    Returns
    -------
    slope : float
    date : pandas.Timestamp or None
        None when the trend does not rise (the target is not reached at the current pace).
    """
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    p = [periods[i] for i in np.flatnonzero(ok)][-window:]
    v = v[ok][-window:]
    if len(v) < 2:
        return np.nan, None
    x = np.array([pd.Period(q, freq="M").ordinal for q in p], dtype=float)
    slope = float(np.polyfit(x, v, 1)[0])
    if slope <= 1e-9:
        return slope, None
    months = (target - v[-1]) / slope
    if months > 1200:  # a century away: not reached at this pace in any sense that matters
        return slope, None
    end = _month_end(p[-1])
    if months <= 0:    # the last value already reaches the target
        return slope, end
    return slope, (end + pd.Timedelta(days=float(months) * 365.25 / 12)).normalize()


def target_status(metrics: pd.DataFrame, targets=None, *, as_of: str | None = None, levels=("county",),
                  window: int = 3) -> pd.DataFrame:
    """Status and projection of each dated target for each area of the chosen levels.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics table with several periods.
    targets : list of Target, optional
        Default :data:`cimlib.metrics.TARGETS` (derived from the default programme, ``standards_checks/programmes/suizhou.yaml``).
    as_of : str, optional
        ``YYYY-MM-DD``; default the end of the latest period in ``metrics``.
    levels : sequence of str
        Area levels to evaluate (default the county).
    window : int, default 3
        Months in the trend used for the projection.

    Returns
    -------
    pandas.DataFrame
        :data:`PROGRESS_COLUMNS`.
    """
    targets = TARGETS if targets is None else targets
    m = metrics[metrics["area_level"].isin(levels) & (metrics["period"] != "current")]
    if m.empty:
        return pd.DataFrame(columns=PROGRESS_COLUMNS)
    as_of_ts = pd.Timestamp(as_of) if as_of else _month_end(m["period"].max())
    method = f"近{window}个月数值的最小二乘线性趋势，自最近一期外推至达到目标值的日期（按每月 365.25/12 天折算）"
    rows = []
    for t in targets:
        sub = m[(m["metric_id"] == t.metric_id) & (m["dataset"].map(lambda d: _dataset_matches(d, t)))]
        for (area, level), g in sub.groupby(["area_code", "area_level"], sort=True):
            rows.append(_one(t, g.sort_values("period"), area, level, as_of_ts, window, method))
    return pd.DataFrame(rows, columns=PROGRESS_COLUMNS)


def _dataset_matches(dataset: str, t: Target) -> bool:
    return dataset == t.dataset


def _one(t: Target, g: pd.DataFrame, area, level, as_of_ts, window, method) -> dict:
    periods = g["period"].tolist()
    values = g["value"].to_numpy(dtype=float)
    deadline = pd.Timestamp(t.deadline)
    upto = [i for i, p in enumerate(periods) if _month_end(p) <= deadline + pd.offsets.MonthEnd(0)]
    i_dead = upto[-1] if upto else len(periods) - 1
    met = [p for p, v in zip(periods, values) if _meets(v, t.target, t.comparator)]
    if deadline > as_of_ts:
        status = STATUS_PENDING
    elif not upto:
        status = STATUS_UNKNOWN
    else:
        status = STATUS_MET if _meets(values[i_dead], t.target, t.comparator) else STATUS_MISSED
    # a target to stay below (or to come down to) is reached by a falling trend: project the mirrored series
    falling = t.comparator in ("<=", "<") or (t.comparator == "==" and values[-1] > t.target)
    sign = -1.0 if falling else 1.0
    slope, when = project(periods, sign * values, sign * t.target, window)
    slope = sign * slope
    if _meets(values[-1], t.target, t.comparator):
        projected, note = _month_end(met[0]), method + "；已达成，取首次达成期末"
    elif np.isnan(slope):
        projected, note = pd.NaT, method + "；有效数值不足两期，无法外推"
    elif when is None:
        projected, note = pd.NaT, method + ("；趋势不下降" if falling else "；趋势不上升") + "，按当前进度无法达成"
    else:
        projected, note = when, method
    return {"target_id": t.target_id, "name_zh": t.name_zh, "metric_id": t.metric_id, "dataset": t.dataset,
            "area_code": area, "area_name": g["area_name"].iloc[0] if "area_name" in g else area, "area_level": level,
            "target": t.target, "comparator": t.comparator, "deadline": t.deadline, "as_of": as_of_ts.date().isoformat(),
            "deadline_period": periods[i_dead] if upto else None, "value_at_deadline": values[i_dead] if upto else np.nan,
            "numerator": g["numerator"].iloc[i_dead] if upto else np.nan,
            "denominator": g["denominator"].iloc[i_dead] if upto else np.nan,
            "latest_value": values[-1], "status": status, "met_period": met[0] if met else None,
            "slope_per_month": slope, "projected_date": projected, "projection_method": note}
