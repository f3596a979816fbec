"""The one label table: Chinese names for what a person reads (column headers, codes, kinds, levels).

English stays in the column names and codes of the files other programs read (Parquet, CSV, manifest.json); every
table, chart, map tooltip and index page a person reads takes its words from here.

- :func:`header` — a column's Chinese header (a report module may give a column its own header, e.g. ``status`` is
  考评状态 in the task table);
- :func:`value_label` — a code's Chinese name (device types, anomaly kinds, severities, report kinds, area levels,
  dataset names);
- :func:`label_codes` — a table whose code columns hold Chinese names (for charts and pivots);
- :func:`use_catalog` — the catalog whose entry titles (``title_zh``) and area names the labels use.

The module ``LABELS`` dicts of :mod:`~cimlib.reports.changes`, :mod:`~cimlib.reports.monthly`,
:mod:`~cimlib.reports.store`, :mod:`~cimlib.reports.worklist` and ``INVENTORY_LABELS`` of
:mod:`~cimlib.reports.inventory` are the sections of :data:`MODULE_HEADERS` under other names.
"""

from __future__ import annotations

import pandas as pd

HEADERS: dict[str, str] = {
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
    "community_code": "社区代码", "parent_code": "上级区划代码", "name": "名称", "level": "区划层级",
    "area_km2": "面积（平方公里）", "count": "数量", "records": "记录数", "department": "责任部门", "note": "说明",
    "entry": "数据资源", "reason": "原因", "geometry": "位置", "fix_rate": "整改率", "on_time_rate": "按期完成率",
    "street": "街道", "community": "社区", "street_name": "街道", "findings": "问题记录数", "type_name_zh": "设备类型",
    "road_id": "道路编号",
}
"""Column -> Chinese header for columns shared by several tables (a module's section of :data:`MODULE_HEADERS`
wins)."""

MODULE_HEADERS: dict[str, dict[str, str]] = {
    "changes": {
        # detail
        "change": "整改状态", "note": "说明", "dataset": "数据集", "department": "责任部门", "rule_id": "规则编号",
        "severity": "级别", "record_id": "记录标识", "column": "字段", "value": "本期取值（已脱敏）",
        "value_previous": "上期取值（已脱敏）", "message": "问题说明", "standard": "依据标准", "geometry": "位置",
        "in_previous": "上期存在", "in_current": "本期存在",
        # summary and per-dataset table
        "previous": "上期问题数", "current": "本期问题数", "new": "新增", "open": "未整改", "fixed": "已整改",
        "not_comparable_previous": "无法比较（上期问题）", "not_comparable_current": "无法比较（本期问题）",
        "fix_rate": "整改率", "records_previous": "上期记录数", "records_current": "本期记录数",
        "checked_previous": "上期已检查", "checked_current": "本期已检查", "comparison": "比较情况",
    },
    "monthly": {
        # task_status
        "task_id": "任务编号", "task_name": "任务名称", "department": "责任部门", "start_date": "开始日期",
        "deadline": "截止日期", "completed_date": "完成日期", "milestone": "节点", "status_reported": "填报状态",
        "progress_pct": "填报进度（%）", "status": "考评状态", "status_code": "状态代码", "due": "已到期",
        "completed": "已完成", "on_time": "按期完成", "days_overdue": "逾期天数", "days_late": "逾期完成天数",
        "progress_as_of": "截至考评日进度（%）", "note": "说明", "as_of": "考评日期",
        # department_progress
        "tasks": "任务数", "tasks_due": "到期任务数", "tasks_completed": "已完成", "tasks_on_time": "按期完成",
        "tasks_late": "逾期完成", "tasks_overdue": "逾期未完成", "tasks_in_progress": "进行中",
        "tasks_not_started": "未开始", "on_time_rate": "按期完成率", "mean_progress": "平均进度（%）",
        "progress_unknown": "进度不详任务数",
        # department_scores
        "progress_rate": "进度得分率（按期完成/到期任务）", "overdue": "逾期未完成任务数", "datasets": "负责数据集",
        "records": "记录数", "open_errors": "未整改错误问题数（本期存在）", "carried_errors": "其中上期遗留",
        "error_rate": "问题率（问题数/记录数）", "quality_rate": "质量得分率", "unreadable": "无法读取的数据集",
        "score_progress": "进度分", "score_quality": "质量分", "overdue_deduction": "逾期扣分", "score": "综合得分",
        "score_previous": "上月得分", "score_change": "环比变化", "rank": "排名", "rank_previous": "上月排名",
    },
    "store": {"run_id": "运行编号", "kind": "报告类型", "period": "统计期", "created": "生成时间（UTC）",
              "tables": "数据表"},
    "worklist": {"dataset": "数据集", "record_id": "记录编号", "street_code": "街道代码", "community_code": "社区代码",
                 "status": "匹配状态代码", "status_zh": "匹配状态", "match_level": "匹配级别",
                 "address_id": "建议标准地址编码", "score": "匹配得分", "candidates": "候选标准地址编码",
                 "reason": "原因"},
    "inventory": {
        "name": "条目名称", "title_zh": "数据名称", "layer": "数据分类", "format": "格式", "owner": "责任部门",
        "classification": "安全等级", "update_cycle": "更新周期", "schema": "适用标准检查", "rows": "记录数",
        "rows_basis": "记录数口径", "n_columns": "字段数", "crs_declared": "声明坐标系", "crs": "文件坐标系", "crs_matches": "坐标系一致",
        "crs_workbench": "工作坐标系",
        "geometry_type": "几何类型", "n_periods": "月度快照期数", "n_files": "文件数", "size_bytes": "大小（字节）",
        "sha256": "指纹（SHA-256）", "status": "状态", "problem": "问题", "path": "路径",
    },
    "indicators": {
        "indicator_id": "指标编号", "name_zh": "指标", "area_name": "区划", "comparator": "比较", "target": "目标值",
        "deadline": "期限", "deadline_text": "期限原文", "period": "取值期", "value": "数值", "numerator": "分子",
        "denominator": "分母", "status": "状态", "evidence": "依据", "source": "来源文件", "clause": "条款原文",
        "projected_date": "预计达成",
    },
}
"""Report module -> its own column headers (``status`` is 考评状态 in the task table, 匹配状态代码 in the work list).
The ``indicators`` section is also the column order of :func:`cimlib.reports.tables.indicator_display`."""

DATASET_TITLES: dict[str, str] = {
    "admin_areas": "行政区划", "central_area": "中心城区范围", "demo_zone": "CIM示范区范围", "buildings": "建筑白模",
    "roads": "道路中心线", "white_model_extent": "白模生产范围", "fine_model_extent": "精模生产范围",
    "dem": "数字高程模型", "addresses": "标准地址", "persons": "实有人口", "houses": "实有房屋", "units": "实有单位",
    "devices": "物联感知设备", "readings": "物联感知监测数据", "tasks": "工作任务清单",
    "address_pipeline": "增量地址生产流程记录", "control_lines": "城市控制线", "projects": "工程建设项目",
}
"""Catalog entry name -> Chinese title, when the catalog in use (:func:`use_catalog`) has no ``title_zh`` for it
(e.g. for saying which dataset a catalog lacks)."""

VALUES: dict[str, dict[str, str]] = {
    "severity": {"error": "错误", "warning": "警告", "info": "提示"},
    "anomaly_kind": {"spike": "突变", "level": "水平偏移", "flat": "数值停滞"},
    "report_kind": {"monthly": "月度综合考评报告", "acceptance": "验收评价报告", "inventory": "数据资源清单",
                    "check": "标准检查", "metrics": "指标计算", "sensors": "物联感知分析", "delivery": "部门交付数据",
                    "match": "地址匹配"},
    "area_level": {"province": "省", "city": "市", "county": "区县", "street": "街道", "community": "社区",
                   "device": "设备"},
}
"""Kind -> code -> Chinese name (device types and dataset titles come from their sources, see :func:`value_label`)."""

CODE_COLUMNS: dict[str, str] = {"severity": "severity", "kind": "anomaly_kind", "device_type": "device_type",
                                "dataset": "dataset", "area_level": "area_level", "level": "area_level",
                                "report_kind": "report_kind", "anomaly_kind": "anomaly_kind"}
"""Column -> the kind of code it holds: a displayed table shows these columns' codes by their Chinese names."""

MODULE_CODE_COLUMNS: dict[str, dict[str, str | None]] = {"store": {"kind": "report_kind"}}
"""Report module -> its own code columns (``None``: the column holds no code there)."""

AREA_NAME_HEADERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "area_code": ("区划名称", ("area_name", "name", "街道", "社区", "区划", "区划名称", "名称")),
    "street_code": ("街道", ("street_name", "街道", "街道名称")),
    "community_code": ("社区", ("community_name", "社区", "社区名称")),
    "parent_code": ("上级区划", ("parent_name", "上级区划")),
}
"""Area-code column -> (header of the name column shown beside it, columns that already hold the names)."""

PERCENT_COLUMNS: frozenset[str] = frozenset({"fix_rate", "on_time_rate", "share", "progress_rate", "quality_rate",
                                             "error_rate", "上图率", "可达上图率"})
"""Columns holding shares (0–1), shown as percentages."""

KM2_COLUMNS: frozenset[str] = frozenset({"area_km2"})
"""Columns holding areas in square kilometres."""

MISSING = "—"
"""What a table shows for a missing value."""

_STATE: dict[str, object] = {"titles": {}, "catalog": None, "areas": None}


def use_catalog(catalog) -> None:
    """Take dataset titles (``title_zh``) and area names from ``catalog`` (a report context calls this).

    Parameters
    ----------
    catalog : Catalog or None
        ``None`` forgets the catalog (titles fall back to :data:`DATASET_TITLES`, area codes show no names).
    """
    titles = {}
    for entry in (catalog or ()):
        if getattr(entry, "title_zh", None):
            titles[entry.name] = str(entry.title_zh)
    for entry in (catalog or ()):   # findings of an entry named otherwise may carry its schema's name
        if getattr(entry, "schema", None) and entry.schema not in titles and entry.name in titles:
            titles[entry.schema] = titles[entry.name]
    _STATE.update(titles=titles, catalog=catalog, areas=None)


def dataset_title(name) -> str:
    """The Chinese title of a catalog entry: its ``title_zh`` in the catalog in use, else :data:`DATASET_TITLES`,
    else the name itself."""
    name = str(name)
    return _STATE["titles"].get(name) or DATASET_TITLES.get(name, name)


def area_names() -> dict[str, str]:
    """Area code -> name of the admin areas of the catalog in use (empty without one or without ``admin_areas``)."""
    if _STATE["areas"] is None:
        names: dict[str, str] = {}
        catalog = _STATE["catalog"]
        if catalog is not None and "admin_areas" in catalog:
            try:
                areas = catalog.read("admin_areas")
            except Exception:  # noqa: BLE001 — an unreadable layer is reported elsewhere; codes then show alone
                areas = None
            if areas is not None and {"area_code", "name"} <= set(areas.columns):
                names = dict(zip(areas["area_code"].astype(str), areas["name"].astype(str)))
        _STATE["areas"] = names
    return _STATE["areas"]


def _device_types() -> dict[str, str]:
    from standards_checks.schemas.devices import DEVICE_CATEGORIES

    return {**DEVICE_CATEGORIES, "全部": "全部", "all": "全部"}


def value_table(kind: str) -> dict[str, str]:
    """Code -> Chinese name of one kind (see :func:`value_label`).

    Raises
    ------
    KeyError
        If the kind is unknown.
    """
    if kind == "device_type":
        return _device_types()
    if kind == "dataset":
        return {**DATASET_TITLES, **_STATE["titles"]}
    return VALUES[kind]


def value_label(kind: str, code) -> str:
    """The Chinese name of ``code`` of ``kind`` (the code itself when the table has no name for it).

    Parameters
    ----------
    kind : str
        A key of :data:`VALUES`, ``"device_type"`` (:data:`standards_checks.schemas.devices.DEVICE_CATEGORIES`) or
        ``"dataset"`` (:func:`dataset_title`).
    code : object

    Returns
    -------
    str
    """
    if kind == "dataset":
        return dataset_title(code)
    return value_table(kind).get(str(code), str(code))


def column_labels(module: str | None = None) -> dict[str, str]:
    """Column -> Chinese header: :data:`HEADERS`, overridden by one module's section of :data:`MODULE_HEADERS`.

    Parameters
    ----------
    module : str, optional
        A key of :data:`MODULE_HEADERS` (``changes``, ``monthly``, ``store``, ``worklist``, ``inventory``,
        ``indicators``).

    Raises
    ------
    KeyError
        If the module has no section.
    """
    return {**HEADERS, **(MODULE_HEADERS[module] if module else {})}


def header(column: str, module: str | None = None) -> str:
    """The Chinese header of ``column`` (the column name itself when the table has none).

    Parameters
    ----------
    column : str
    module : str, optional
        A report module whose own headers win (see :func:`column_labels`).

    Returns
    -------
    str
    """
    own = MODULE_HEADERS[module] if module else {}
    return own.get(column) or HEADERS.get(column, column)


def code_kind(column: str, module: str | None = None) -> str | None:
    """The kind of code a column holds (a key for :func:`value_label`), or ``None``."""
    own = MODULE_CODE_COLUMNS.get(module or "", {})
    return own[column] if column in own else CODE_COLUMNS.get(column)


def label_codes(frame: pd.DataFrame, columns=None, module: str | None = None) -> pd.DataFrame:
    """A copy of ``frame`` whose code columns hold Chinese names (device types, datasets, severities, ...).

    Column names stay as they are (charts and pivots then take the Chinese values); unknown codes stay.

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : iterable of str, optional
        The columns to label (default every column of :data:`CODE_COLUMNS` present).
    module : str, optional
        A report module whose own code columns apply (:data:`MODULE_CODE_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
    """
    out = frame.copy()
    for c in (columns if columns is not None else out.columns):
        kind = code_kind(c, module)
        if kind is None or c not in out:
            continue
        table = value_table(kind)
        text = out[c].astype(str)
        named = text.map(table)
        out[c] = named.where(named.notna(), text).astype(object).where(out[c].notna(), None)
    return out


def add_area_names(frame: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with a Chinese name column beside each area-code column that has none yet.

    Parameters
    ----------
    frame : pandas.DataFrame
    names : dict, optional
        Area code -> name (default :func:`area_names` of the catalog in use).

    Returns
    -------
    pandas.DataFrame
        The name columns are headed in Chinese (:data:`AREA_NAME_HEADERS`); codes without a name show as :data:`MISSING`.
    """
    names = area_names() if names is None else names
    out = frame
    if not names:
        return out
    for code, (title, existing) in AREA_NAME_HEADERS.items():
        if code not in out.columns or any(c in out.columns for c in existing) or title in out.columns:
            continue
        shown = out[code].astype(str).map(names).astype(object).where(out[code].notna(), None)
        if shown.isna().all():
            continue
        out = out.copy() if out is frame else out
        out.insert(list(out.columns).index(code) + 1, title, shown)
    return out
