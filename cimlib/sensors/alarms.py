"""Threshold alarms (阈值告警) with minimum duration and hysteresis: one excursion gives one alarm event.

Rules come from a YAML file (default ``standards_checks/sensor_alarms.yaml``; a city supplies its own). A rule
applies to the devices of one ``device_type`` (optionally one ``metric``) and has an upper threshold ``above``, a
lower threshold ``below``, or both, a ``hysteresis`` and a ``min_duration``. For the upper side (the lower one is its
mirror), in each device's readings in time order:

1. a reading **above** ``above`` starts (or continues) an alarm;
2. the alarm goes on while readings stay above ``above - hysteresis`` and no two consecutive readings are more than
   ``max_gap`` apart (default three times the device's declared interval);
3. it ends at the first reading at or below ``above - hysteresis`` (or at a longer gap, or at the end of the data);
4. it is kept when the time from its first reading above ``above`` to its last reading in alarm is at least
   ``min_duration`` (a single-sample spike is an anomaly, not an alarm).

Event times: ``start`` is the first reading above the threshold, ``end`` the last reading in alarm plus the
device's declared interval (the end of the interval it represents, exclusive), ``peak`` the most extreme value.
Rows beyond a clear level are collected during the scan (:mod:`cimlib.sensors.readings`); an alarm that continues
from one day partition into the next is joined through each partition's last reading of the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from cimlib._io import load_yaml_document
from cimlib.sensors.readings import ScanResult

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "standards_checks" / "sensor_alarms.yaml"
"""The rule file shipped with the workbench (the sample city's operating bands)."""

ALARM_COLUMNS = ["rule_id", "name_zh", "severity", "device_id", "device_type", "metric", "street_code", "direction",
                 "threshold", "clear_level", "start", "end", "duration_min", "n_samples", "peak", "ongoing",
                 "standard", "message"]


class AlarmRuleError(ValueError):
    """A problem in an alarm rule file (the message names the file, the rule and the key)."""


@dataclass(frozen=True)
class AlarmRule:
    """One threshold rule (see the module docstring)."""

    rule_id: str
    device_type: str
    name_zh: str
    above: float | None = None
    below: float | None = None
    hysteresis: float = 0.0
    min_duration: pd.Timedelta = pd.Timedelta(minutes=5)
    max_gap: pd.Timedelta | None = None
    metric: str | None = None
    unit: str = ""
    severity: str = "warning"
    standard: str = ""


def _duration(value, where: str) -> pd.Timedelta:
    try:
        td = pd.Timedelta(value)
    except (ValueError, TypeError):
        raise AlarmRuleError(f"{where}：时长 {value!r} 无法解析（示例：5min、30s、1h）") from None
    if td < pd.Timedelta(0):
        raise AlarmRuleError(f"{where}：时长不能为负（{value!r}）")
    return td


def load_alarm_rules(path=None) -> list[AlarmRule]:
    """Read and validate an alarm rule file.

    Parameters
    ----------
    path : path-like, optional
        YAML file; default :data:`DEFAULT_RULES`.

    Returns
    -------
    list of AlarmRule

    Raises
    ------
    AlarmRuleError
        If the file is missing or malformed; the message names the file, the rule and the key.
    """
    path = Path(path) if path else DEFAULT_RULES
    doc = load_yaml_document(path, "告警规则文件", "rules", AlarmRuleError)
    defaults = doc.get("defaults") or {}
    known = {"rule_id", "device_type", "metric", "name_zh", "unit", "above", "below", "hysteresis", "min_duration",
             "max_gap", "severity", "standard"}
    rules, seen = [], set()
    for i, raw in enumerate(doc["rules"], start=1):
        where = f"告警规则文件 {path} 第 {i} 条规则"
        if not isinstance(raw, dict):
            raise AlarmRuleError(f"{where}：应为映射")
        raw = {**{k: v for k, v in defaults.items() if k in known}, **raw}
        where = f"{where}（{raw.get('rule_id', '?')}）"
        unknown = sorted(set(raw) - known)
        if unknown:
            raise AlarmRuleError(f"{where}：未知的键 {', '.join(unknown)}")
        for key in ("rule_id", "device_type", "name_zh"):
            if not raw.get(key):
                raise AlarmRuleError(f"{where}：缺少 {key}")
        if raw.get("above") is None and raw.get("below") is None:
            raise AlarmRuleError(f"{where}：above 与 below 至少给出一个")
        try:
            above = None if raw.get("above") is None else float(raw["above"])
            below = None if raw.get("below") is None else float(raw["below"])
            hyst = float(raw.get("hysteresis", 0.0))
        except (TypeError, ValueError):
            raise AlarmRuleError(f"{where}：above、below、hysteresis 应为数值") from None
        if hyst < 0:
            raise AlarmRuleError(f"{where}：hysteresis 不能为负")
        if above is not None and below is not None and below >= above:
            raise AlarmRuleError(f"{where}：下限 below（{below}）应小于上限 above（{above}）")
        if raw.get("severity", "warning") not in ("error", "warning"):
            raise AlarmRuleError(f"{where}：severity 应为 error 或 warning")
        key = (str(raw["device_type"]), raw.get("metric"))
        if key in seen or str(raw["rule_id"]) in {r.rule_id for r in rules}:
            raise AlarmRuleError(f"{where}：与前面的规则重复（同一 rule_id 或同一设备类型与指标）")
        seen.add(key)
        rules.append(AlarmRule(
            rule_id=str(raw["rule_id"]), device_type=str(raw["device_type"]), name_zh=str(raw["name_zh"]),
            above=above, below=below, hysteresis=hyst,
            min_duration=_duration(raw.get("min_duration", "5min"), where),
            max_gap=_duration(raw["max_gap"], where) if raw.get("max_gap") is not None else None,
            metric=raw.get("metric"), unit=str(raw.get("unit", "")), severity=str(raw.get("severity", "warning")),
            standard=str(raw.get("standard", ""))))
    return rules


def rules_per_device(rules: list[AlarmRule], devices: pd.DataFrame) -> pd.DataFrame:
    """The rule that applies to each device (by ``device_type`` and, where the rule names one, ``metric``).

    Parameters
    ----------
    rules : list of AlarmRule
    devices : pandas.DataFrame
        ``device_type``, optionally ``metric`` and ``interval_s``, in the scan's device order.

    Returns
    -------
    pandas.DataFrame
        Per device (same order): ``rule`` (index into ``rules`` or -1), ``hi_trig, hi_clear, lo_trig, lo_clear``
        (NaN where the side does not apply), ``min_duration_ms``, ``max_gap_ms``, ``interval_ms``.
    """
    n = len(devices)
    rule = np.full(n, -1, dtype=np.int64)
    dtype_ = devices["device_type"].astype(str).to_numpy()
    metric = devices["metric"].astype(str).to_numpy() if "metric" in devices else np.full(n, None, dtype=object)
    for i, r in enumerate(rules):   # a rule naming the metric wins over one that does not
        hit = (dtype_ == r.device_type) & ((metric == r.metric) if r.metric else (rule < 0))
        rule[hit] = i
    interval = pd.to_numeric(devices.get("interval_s", pd.Series(np.nan, index=devices.index)), errors="coerce")
    interval_ms = (interval.to_numpy(dtype=np.float64) * 1000.0)
    out = pd.DataFrame({"rule": rule})

    def side(attr, sign):
        vals = np.array([np.nan if getattr(r, attr) is None else getattr(r, attr) for r in rules] + [np.nan])
        hyst = np.array([r.hysteresis for r in rules] + [0.0])
        return vals[rule], vals[rule] - sign * hyst[rule]

    out["hi_trig"], out["hi_clear"] = side("above", 1)
    out["lo_trig"], out["lo_clear"] = side("below", -1)
    mind = np.array([r.min_duration / pd.Timedelta(milliseconds=1) for r in rules] + [0.0])
    gap = np.array([np.nan if r.max_gap is None else r.max_gap / pd.Timedelta(milliseconds=1) for r in rules]
                   + [np.nan])
    out["min_duration_ms"] = mind[rule]
    out["max_gap_ms"] = np.where(np.isnan(gap[rule]), 3 * interval_ms, gap[rule])
    out["interval_ms"] = interval_ms
    return out


def alarm_events(scan: ScanResult, devices: pd.DataFrame, rules: list[AlarmRule], per_device: pd.DataFrame,
                 p0_ms: int) -> pd.DataFrame:
    """Alarm events from the rows a scan collected beyond the clear levels.

    Parameters
    ----------
    scan : ScanResult
        From a scan whose spec carried the thresholds of ``per_device``.
    devices : pandas.DataFrame
        The device register in the scan's order (``device_id, device_type, street_code``, optionally ``metric``).
    rules : list of AlarmRule
    per_device : pandas.DataFrame
        From :func:`rules_per_device`.
    p0_ms : int
        Start of the period (epoch ms), the origin of the scan's relative times.

    Returns
    -------
    pandas.DataFrame
        One row per event, columns :data:`ALARM_COLUMNS`, sorted by ``device_id, start``.
    """
    rows = scan.alarm_rows
    parts = []
    last_of_device = scan.last_rows.groupby("dev")["rel_ms"].max() if len(scan.last_rows) else pd.Series(dtype=float)
    for side, sign in (("hi", 1), ("lo", -1)):
        r = rows[rows[f"still_{side}"].astype(bool)].sort_values(["dev", "rel_ms"], kind="stable")
        if r.empty:
            continue
        r = r.reset_index(drop=True)
        prev_rel = r["prev_rel_ms"].to_numpy(np.int64).copy()
        prev_still = r[f"prev_still_{side}"].to_numpy(bool).copy()
        unknown = prev_rel < 0
        if unknown.any() and len(scan.last_rows):   # the first row of a device in its task: ask the earlier tasks
            lasts = scan.last_rows.sort_values("rel_ms", kind="stable")
            q = r.loc[unknown, ["dev", "rel_ms"]].reset_index().sort_values("rel_ms", kind="stable")
            hit = pd.merge_asof(q, lasts[["dev", "rel_ms", f"still_{side}"]].rename(
                columns={"rel_ms": "last_rel", f"still_{side}": "last_still"}), left_on="rel_ms", right_on="last_rel",
                by="dev", allow_exact_matches=False, direction="backward")
            hit = hit.set_index("index").reindex(np.flatnonzero(unknown))
            found = hit["last_rel"].notna().to_numpy()
            idx = np.flatnonzero(unknown)[found]
            prev_rel[idx] = hit["last_rel"].to_numpy()[found].astype(np.int64)
            prev_still[idx] = hit["last_still"].to_numpy()[found].astype(bool)
        dev = r["dev"].to_numpy(np.int64)
        rel = r["rel_ms"].to_numpy(np.int64)
        gap_ok = (prev_rel >= 0) & (rel - prev_rel <= per_device["max_gap_ms"].to_numpy()[dev])
        # a row continues a run when its predecessor (then also a collected row, just before it) was in alarm too
        new_run = ~(prev_still & gap_ok) | np.r_[True, dev[1:] != dev[:-1]]
        run = np.cumsum(new_run)
        trig = r[f"trig_{side}"].to_numpy(bool)
        pos = np.arange(len(r))
        first_trig = pd.Series(np.where(trig, pos, np.iinfo(np.int64).max)).groupby(run).transform("min").to_numpy()
        keep = pos >= first_trig
        if not keep.any():
            continue
        k = pd.DataFrame({"run": run[keep], "dev": dev[keep], "rel": rel[keep],
                          "value": r["value"].to_numpy()[keep] * sign})
        ev = k.groupby("run", sort=True).agg(dev=("dev", "first"), start=("rel", "min"), last=("rel", "max"),
                                             n_samples=("rel", "size"), peak=("value", "max"))
        ev["peak"] *= sign
        d = ev["dev"].to_numpy(np.int64)
        ev = ev[(ev["last"] - ev["start"]).to_numpy() >= per_device["min_duration_ms"].to_numpy()[d]]
        d = ev["dev"].to_numpy(np.int64)
        interval = np.nan_to_num(per_device["interval_ms"].to_numpy()[d])
        out = pd.DataFrame({
            "rule": per_device["rule"].to_numpy()[d],
            "device_id": devices["device_id"].astype(str).to_numpy()[d],
            "device_type": devices["device_type"].astype(str).to_numpy()[d],
            "metric": devices["metric"].astype(str).to_numpy()[d] if "metric" in devices else "",
            "street_code": devices["street_code"].astype(str).to_numpy()[d] if "street_code" in devices else "",
            "direction": "above" if sign > 0 else "below",
            "threshold": per_device[f"{side}_trig"].to_numpy()[d],
            "clear_level": per_device[f"{side}_clear"].to_numpy()[d],
            "start": pd.to_datetime(ev["start"].to_numpy() + p0_ms, unit="ms"),
            "end": pd.to_datetime(ev["last"].to_numpy() + p0_ms + interval.astype(np.int64), unit="ms"),
            "duration_min": (ev["last"].to_numpy() - ev["start"].to_numpy() + interval) / 60_000.0,
            "n_samples": ev["n_samples"].to_numpy(),
            "peak": ev["peak"].to_numpy(),
            "ongoing": ev["last"].to_numpy() >= last_of_device.reindex(d).to_numpy(),
        })
        parts.append(out)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if out.empty:
        return pd.DataFrame(columns=ALARM_COLUMNS)
    meta = pd.DataFrame([{"rule_id": r.rule_id, "name_zh": r.name_zh, "severity": r.severity, "unit": r.unit,
                          "standard": r.standard} for r in rules])
    out = out.join(meta, on="rule")
    word = np.where(out["direction"] == "above", "高于上限", "低于下限")
    out["message"] = (out["name_zh"] + "：" + word + " " + out["threshold"].map("{:g}".format) + " " + out["unit"]
                      + "，峰值 " + out["peak"].map("{:g}".format) + "，持续 " + out["duration_min"].map("{:.0f}".format)
                      + " 分钟")
    return out[ALARM_COLUMNS].sort_values(["device_id", "start"], kind="stable").reset_index(drop=True)
