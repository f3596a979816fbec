"""Display tables for the report notebooks: findings by rule and by area, metrics by area, indicators in Chinese."""

from __future__ import annotations

import numpy as np
import pandas as pd

BASE_LABELS = {
    "metric_id": "指标代码", "dataset": "数据集", "area_code": "区划代码", "area_level": "区划层级", "period": "统计期",
    "numerator": "分子", "denominator": "分母", "value": "数值", "name_zh": "名称", "area_name": "区划名称",
    "unit": "单位", "inputs_sha256": "输入指纹", "device_type": "设备类型", "rule_id": "规则编号", "severity": "级别",
    "record_id": "记录编号", "column": "字段", "message": "说明", "standard": "标准条款", "status": "状态",
    "device_id": "设备编号", "start": "开始", "end": "结束", "duration_min": "持续（分钟）", "peak": "峰值",
    "threshold": "阈值", "direction": "方向", "kind": "类型", "covered_km": "已覆盖（公里）", "road_km": "道路总长（公里）",
    "share": "覆盖比例", "devices": "设备数", "distance_m": "覆盖距离（米）", "rows": "行数", "description": "说明",
    "problem": "问题", "file": "文件", "indicator_id": "指标编号", "comparator": "比较", "target": "目标值",
    "deadline": "期限", "deadline_text": "期限原文", "evidence": "依据", "source": "来源文件", "clause": "条款原文",
    "projected_date": "预计达成日期",
    "projection_method": "预测方法", "metric": "监测项", "street_code": "街道代码", "clear_level": "解除值",
    "n_samples": "读数数", "ongoing": "持续中", "n_points": "异常点数", "peak_score": "最高异常分", "peak_value": "异常峰值",
}
"""Column -> Chinese header for columns shared by several tables (module ``LABELS`` add their own)."""


DATASET_TITLES = {
    "admin_areas": "行政区划", "central_area": "中心城区范围", "demo_zone": "CIM示范区范围", "buildings": "建筑白模", "roads": "道路中心线",
    "white_model_extent": "白模生产范围", "fine_model_extent": "精模生产范围", "dem": "数字高程模型",
    "addresses": "标准地址", "persons": "实有人口", "houses": "实有房屋", "units": "实有单位",
    "devices": "物联感知设备", "readings": "物联感知监测数据", "tasks": "工作任务清单",
    "address_pipeline": "增量地址生产流程记录",
}
"""Catalog entry name -> Chinese title, for saying which dataset a catalog lacks."""


def missing_note(names, consequence: str = "本节不适用") -> str:
    """The sentence a report shows for datasets the catalog lacks.

    Parameters
    ----------
    names : iterable of str
        Entry names missing from the catalog.
    consequence : str, default "本节不适用"
        What follows for the section or indicator.

    Returns
    -------
    str
        E.g. ``数据目录中没有 工作任务清单（tasks），本节不适用``; empty when ``names`` is empty.
    """
    names = list(names)
    if not names:
        return ""
    items = "、".join(f"{DATASET_TITLES.get(n, n)}（{n}）" for n in names)
    return f"数据目录中没有 {items}，{consequence}"


def column_labels(module: str | None = None) -> dict[str, str]:
    """Column -> Chinese header: :data:`BASE_LABELS`, overridden by the ``LABELS`` of one report module.

    Parameters
    ----------
    module : {"changes", "monthly", "store"}, optional
        The module whose table is shown (its labels win: e.g. ``status`` is 考评状态 in the task table).
    """
    out = dict(BASE_LABELS)
    if module:
        import importlib

        out.update(getattr(importlib.import_module(f"cimlib.reports.{module}"), "LABELS", {}))
    return out


def show(frame: pd.DataFrame, n: int | None = None, *, percent: tuple[str, ...] = (), drop: tuple[str, ...] = (),
         labels: str | None = None):
    """Display a table in a report: Chinese headers, no index, shares in percent, at most ``n`` rows.

    Parameters
    ----------
    frame : pandas.DataFrame
    n : int, optional
        Show the first ``n`` rows (and say how many there are).
    percent : tuple of str
        Columns holding shares (0-1) to show as percent.
    drop : tuple of str
        Columns to leave out (geometry is always left out).
    labels : str, optional
        Report module whose column labels apply (see :func:`column_labels`).
    """
    from IPython.display import Markdown, display

    if frame is None or len(frame) == 0:
        display(Markdown("（无）"))
        return
    out = pd.DataFrame(frame).drop(columns=["geometry", *drop], errors="ignore")
    total = len(out)
    if n is not None and total > n:
        out = out.head(n)
    for c in percent:
        if c in out:
            out[c] = out[c].map(lambda v: "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.2%}")
    labels = column_labels(labels)
    out = out.rename(columns={c: labels.get(c, c) for c in out.columns})
    display(out.style.hide(axis="index").format(precision=2, thousands=",", na_rep="—"))
    if n is not None and total > n:
        display(Markdown(f"（共 {total:,} 行，显示前 {n} 行；完整表格见 Excel 工作簿。）"))


INDICATOR_DISPLAY = {
    "indicator_id": "指标编号", "name_zh": "指标", "area_name": "区划", "comparator": "比较", "target": "目标值",
    "deadline": "期限", "deadline_text": "期限原文", "period": "取值期", "value": "数值", "numerator": "分子",
    "denominator": "分母", "status": "状态", "evidence": "依据", "source": "来源文件", "clause": "条款原文",
    "projected_date": "预计达成",
}


def findings_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings counted by dataset, rule and severity, largest first, with the rule's message and clause.

    Parameters
    ----------
    findings : pandas.DataFrame
        The findings table (``dataset, rule_id, severity, record_id, message, standard``).

    Returns
    -------
    pandas.DataFrame
        ``数据集, 规则, 级别, 问题数, 记录数, 说明, 标准条款``.
    """
    if findings is None or findings.empty:
        return pd.DataFrame(columns=["数据集", "规则", "级别", "问题数", "记录数", "说明", "标准条款"])
    g = findings.groupby(["dataset", "rule_id", "severity"], sort=False)
    out = pd.DataFrame({"问题数": g.size(), "记录数": g["record_id"].nunique(), "说明": g["message"].first(),
                        "标准条款": g["standard"].first()}).reset_index()
    out = out.rename(columns={"dataset": "数据集", "rule_id": "规则", "severity": "级别"})
    return out.sort_values(["问题数", "数据集", "规则"], ascending=[False, True, True]).reset_index(drop=True)


def findings_by_area(catalog, findings: pd.DataFrame, period: str | None, areas: pd.DataFrame) -> pd.DataFrame:
    """Error findings and records per street, for the datasets whose records carry a ``street_code``.

    Parameters
    ----------
    catalog : Catalog
    findings : pandas.DataFrame
    period : str or None
        Snapshot of the registers to read the records' street codes from.
    areas : pandas.DataFrame
        Admin areas (``area_code, name, level``).

    Returns
    -------
    pandas.DataFrame
        ``area_code, 街道, 记录数, 有错误的记录, 每千条记录问题数`` sorted worst first.
    """
    errors = findings[findings["severity"] == "error"] if len(findings) else findings
    parts, totals = [], []
    for name in sorted(set(errors["dataset"]) if len(errors) else ()):
        if name not in catalog:
            continue
        entry = catalog[name]
        if not entry.id_column:
            continue
        try:
            frame = catalog.read(name, period=period if entry.snapshots and period else None)
        except Exception:  # an unreadable dataset is already a finding of its own
            continue
        if "street_code" not in frame.columns or entry.id_column not in frame.columns:
            continue
        ids = pd.DataFrame({"record_id": frame[entry.id_column].astype(str).to_numpy(),
                            "area_code": frame["street_code"].astype(str).to_numpy()})
        totals.append(ids.groupby("area_code").size())
        bad = errors.loc[errors["dataset"] == name, "record_id"].astype(str).unique()
        parts.append(ids[ids["record_id"].isin(bad)].drop_duplicates("record_id").groupby("area_code").size())
    if not totals:
        return pd.DataFrame(columns=["area_code", "街道", "记录数", "有错误的记录", "每千条记录问题数"])
    total = pd.concat(totals, axis=1).sum(axis=1)
    bad = pd.concat(parts, axis=1).sum(axis=1).reindex(total.index, fill_value=0) if parts else total * 0
    names = areas.set_index(areas["area_code"].astype(str))["name"] if "name" in areas else pd.Series(dtype=str)
    out = pd.DataFrame({"area_code": total.index, "街道": names.reindex(total.index).fillna("（未知街道）").to_numpy(),
                        "记录数": total.to_numpy(dtype=np.int64), "有错误的记录": bad.to_numpy(dtype=np.int64)})
    out["每千条记录问题数"] = (1000 * out["有错误的记录"] / out["记录数"]).round(2)
    return out.sort_values("每千条记录问题数", ascending=False).reset_index(drop=True)


def metric_by_area(metrics: pd.DataFrame, metric_id: str, level: str, period: str,
                   dataset: str | None = None) -> pd.DataFrame:
    """One metric of one period at one area level: ``area_code, area_name, dataset, numerator, denominator, value``."""
    m = metrics[(metrics["metric_id"] == metric_id) & (metrics["area_level"] == level) & (metrics["period"] == period)]
    if dataset is not None:
        m = m[m["dataset"] == dataset]
    cols = [c for c in ("area_code", "area_name", "dataset", "numerator", "denominator", "value") if c in m]
    return m[cols].sort_values(["dataset", "value"] if "dataset" in cols else ["value"]).reset_index(drop=True)


def indicator_display(indicators: pd.DataFrame) -> pd.DataFrame:
    """Indicators with Chinese headers and readable values (shares in percent, km with one decimal)."""
    out = indicators.copy()
    ratio = out["unit"].isin(["比率", "%"]) if "unit" in out else pd.Series(True, index=out.index)

    def fmt(v, is_ratio, unit):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "—"
        return f"{v:.2%}" if is_ratio else f"{v:,.2f} {unit or ''}".strip()

    units = out["unit"] if "unit" in out else pd.Series("", index=out.index)
    out["value"] = [fmt(v, r, u) for v, r, u in zip(out["value"], ratio, units)]
    out["target"] = [fmt(v, r, u) for v, r, u in zip(out["target"], ratio, units)]
    for c in ("numerator", "denominator"):
        if c in out:
            out[c] = out[c].map(lambda v: "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:,.0f}")
    if "deadline" in out:  # a target without a date (the document sets none) shows as a dash
        out["deadline"] = out["deadline"].astype(object).where(out["deadline"].fillna("").astype(str) != "", "—")
    if "deadline_text" in out:
        out["deadline_text"] = out["deadline_text"].astype(object).where(
            out["deadline_text"].fillna("").astype(str) != "", "（文件未规定期限）")
    if "period" in out:   # months; none (no data for the indicator) shows as a dash, not "nan"
        out["period"] = out["period"].astype(object).where(out["period"].notna(), "—")
    if "projected_date" in out:
        out["projected_date"] = pd.to_datetime(out["projected_date"], errors="coerce").dt.strftime("%Y-%m-%d").fillna("—")
    keep = [c for c in INDICATOR_DISPLAY if c in out]
    return out[keep].rename(columns=INDICATOR_DISPLAY)
