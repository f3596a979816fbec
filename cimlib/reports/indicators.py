"""Acceptance indicators (验收指标): the programme's dated targets evaluated on a catalog as of a date.

This is the one computation that the acceptance and progress reports and ``cim verify`` make:

- :func:`resolve_programme` picks the programme evaluated (``standards_checks/programmes/<id>.yaml``, read by
  :mod:`standards_checks.programmes`: by ``--programme``, else the one whose division prefixes cover the catalog's
  city; a city may supply its own file in the programme format). Those files are **the one place that defines each
  target**, each quoted verbatim from its document: :data:`cimlib.metrics.TARGETS` (the targets of ``cim metrics``'
  ``progress.csv``) is derived from the default one;
- :func:`indicator_metrics` computes every metric row an indicator needs, for every month up to the as-of date:
  the metrics table of :func:`cimlib.metrics.compute_metrics`, the smart-community coverage
  (:func:`smart_community_metrics`) and, from :func:`cimlib.sensors.analyse_sensors`, the county online rate
  (``online_rate``) and the road length covered by sensing devices (``road_coverage_km``, whose value is in
  kilometres, not a share);
- :func:`evaluate_indicators` gives each indicator its status with the rules of
  :func:`cimlib.metrics.target_status`: 未到期 before the deadline; after it, 达标 or 未达标 by the value of the
  deadline's month; 无法判定 without any month up to the deadline; 不可计算 when the catalog lacks a dataset the
  indicator needs (:data:`REQUIRED_DATASETS`; the evidence names it) or the programme file says the workbench cannot
  compute it (its reason); 仅为全市目标的一部分 for a whole-city count on a catalog covering part of the city;
  未规定期限 / 无目标值 where the document sets no date or no number (the value as of the date is listed);
- :func:`acceptance` does all three and is what the reports and ``cim verify`` call.

A month counts as of a date when it is not after the date's month (the 2024-09 snapshot counts as of 2024-09-30 and
as of 2024-09-15). The same inputs give identical tables: nothing depends on the clock or on the order of files.
``docs/metrics.md`` (验收指标清单) describes the file, the definitions and the status rules.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cimlib._io import input_label, input_sha256, sha256_file
from cimlib.catalog import Catalog, CatalogError
from cimlib.metrics._areas import Areas, roll_up
from cimlib.metrics._spec import CLASSES, LEVELS, METRICS_COLUMNS, target_of
from cimlib.metrics.progress import STATUS_MET, STATUS_MISSED, STATUS_PENDING, STATUS_UNKNOWN, target_status
from standards_checks.programmes import (DEFAULT_PROGRAMME, PROGRAMMES_DIR, Indicator,  # noqa: F401 (re-exported)
                                         IndicatorError, Programme, ProgrammeError, load_indicators, load_programme,
                                         programme_for)
from standards_checks.programmes import iso_date

INDICATORS_FILE = PROGRAMMES_DIR / f"{DEFAULT_PROGRAMME}.yaml"
"""The indicator list shipped with the workbench (the programme documents' targets, STANDARDS.md §5)."""

INDICATOR_COLUMNS = ["indicator_id", "name_zh", "metric_id", "dataset", "area_code", "area_name", "comparator", "target",
                     "deadline", "deadline_text", "period", "value", "numerator", "denominator", "unit", "status",
                     "evidence", "source", "clause", "projected_date", "projection_method"]
"""Columns of the indicator table (:func:`evaluate_indicators`)."""

PROBLEM_COLUMNS = ["period", "dataset", "problem"]
"""Columns of the problems table: datasets that could not be used (``period`` empty when not about one month)."""

SMART_COMMUNITY_COLUMN = "smart_community"
"""Column of the ``admin_areas`` layer telling whether a community has a smart-community platform."""

SMART_COMMUNITY_METRIC = "smart_community_coverage"
ROAD_COVERAGE_METRIC = "road_coverage_km"
ONLINE_RATE_METRIC = "online_rate"

STATUS_NOT_COMPUTABLE = "不可计算"

STATUS_NO_DEADLINE = "未规定期限"
"""Status of a target the document sets without a date, not met as of the evaluation date (met: 达标)."""

STATUS_NO_TARGET = "无目标值"
"""Status of a task the document states without a number (“推动……汇聚上图”): the value is listed as of the date."""

STATUS_CITY_PART = "仅为全市目标的一部分"
"""Status of a count target set for a whole city (``scope: city``) on a catalog that covers only part of the city:
the value is that part's contribution, not 达标 or 未达标."""
"""Status of an indicator whose dataset (or a dataset its metric needs) the catalog lacks."""

REQUIRED_DATASETS = {ROAD_COVERAGE_METRIC: ("devices", "readings"), ONLINE_RATE_METRIC: ("devices", "readings"),
                     "fine_model_coverage": ("central_area",), "demo_zone_fine_model_coverage": ("demo_zone",),
                     "pilot_cim_coverage": ("white_model_extent", "addresses")}
"""Metric -> datasets it needs besides the indicator's own ``dataset``."""

COMBINED_DATASETS = {"catalog": "数据目录中有月度快照的全部数据集", "entities": "各类城市实体（建筑、房屋、地址、设备等）",
                     "facilities": "各类城市设施（感知设备、道路）"}
"""``dataset`` values of rows that combine several catalog entries (not an entry name): an indicator on one of them
is never 不可计算 for lack of an entry of that name."""

_TRUE = {"true", "t", "1", "1.0", "yes", "y", "是", "有"}
_FALSE = {"false", "f", "0", "0.0", "no", "n", "否", "无"}
_MONTH = re.compile(r"\d{4}-\d{2}")


# --------------------------------------------------------------------------------------------------
# metrics the indicators need
# --------------------------------------------------------------------------------------------------


def _as_of(as_of) -> str:
    """``as_of`` checked and returned as ``YYYY-MM-DD``."""
    try:
        return iso_date(as_of)
    except ValueError:
        raise ValueError(f"截止日期 as_of 应为 YYYY-MM-DD，得到 {as_of!r}") from None


def _load_catalog(catalog) -> Catalog:
    return catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)


def _register_periods(catalog: Catalog) -> list[str]:
    names = [n for n in (catalog.entry_for(s) for s in CLASSES) if n]
    return sorted({p for n in names for p in catalog.periods(n)})


class _Inputs:
    """Input files (relative to the catalog folder) and their sha256, collected once per run."""

    def __init__(self, catalog: Catalog):
        self.root = catalog.path.parent.resolve()
        self.sha: dict[str, str] = {}

    def rel(self, path) -> str:
        return input_label(path, self.root)

    def fingerprint(self, files) -> str:
        """One sha256 over the files' relative names and sha256 (sorted), as ``compute_metrics`` does."""
        h = hashlib.sha256()
        for rel, path in sorted((self.rel(f), f) for f in files):
            if rel not in self.sha:
                self.sha[rel] = input_sha256(path)
            h.update(f"{rel}\0{self.sha[rel]}\n".encode())
        return h.hexdigest()

    def update(self, mapping: dict) -> None:
        self.sha.update(mapping)

    @property
    def inputs(self) -> dict:
        return dict(sorted(self.sha.items()))


def _flags(values: pd.Series, name: str, path) -> np.ndarray:
    """``smart_community`` values as booleans (missing = no platform); unrecognised values raise CatalogError."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).astype(bool).to_numpy()
    text = values.astype("string").str.strip().str.lower()
    bad = sorted(set(text.dropna()) - _TRUE - _FALSE)
    if bad:
        raise CatalogError(f"{SMART_COMMUNITY_COLUMN} 列的取值无法识别：{'、'.join(bad[:5])}（应为 是/否、true/false 或 1/0）",
                           entry=name, path=path)
    return text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)


def smart_community_metrics(catalog, periods=None) -> pd.DataFrame:
    """Smart-community platform coverage (智慧社区平台覆盖率) in the metrics-table shape.

    ``smart_community_coverage``: N = communities whose ``smart_community`` is true (是/true/1), D = communities
    (``level`` 社区 of the ``admin_areas`` layer); a missing value counts as no platform. One row for the county and
    one per street, for each period.

    Parameters
    ----------
    catalog : Catalog or path-like
    periods : list of str, optional
        ``YYYY-MM`` periods. Default: every snapshot period of the registers, or ``'current'`` when the catalog has
        none. The admin layer usually has no snapshots: every period then shows its one current state (the layer
        keeps no history of when a platform went live); when it has snapshots, a period present there reads that
        snapshot.

    Returns
    -------
    pandas.DataFrame
        :data:`cimlib.metrics.METRICS_COLUMNS` (``value`` = N / D, unit 比率).

    Raises
    ------
    CatalogError
        If the catalog has no ``admin_areas`` layer, it cannot be read, or it has no ``smart_community`` column or
        unrecognised values in it.
    """
    catalog = _load_catalog(catalog)
    return _smart_community(catalog, periods, _Inputs(catalog))


def _smart_community(catalog: Catalog, periods, inputs: _Inputs) -> pd.DataFrame:
    name = catalog.entry_for("admin_areas")
    if name is None:
        raise CatalogError("数据目录中没有 admin_areas（行政区划）图层，无法计算智慧社区覆盖率", path=catalog.path)
    entry = catalog[name]
    if periods is None:
        periods = _register_periods(catalog) or ["current"]
    own = set(catalog.periods(name))
    frames: dict = {}
    rows = []
    for period in periods:
        key = period if period in own else None
        if key not in frames:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                admin = catalog.read(name, period=key)
            if SMART_COMMUNITY_COLUMN not in admin.columns:
                raise CatalogError(f"行政区划图层没有 {SMART_COMMUNITY_COLUMN} 列（社区是否建有智慧社区平台），"
                                   "无法计算智慧社区覆盖率", entry=name, path=entry.resolved_path)
            areas = Areas(admin)
            comm = admin[admin["level"] == "社区"].drop_duplicates("area_code")
            flags = _flags(comm[SMART_COMMUNITY_COLUMN], name, entry.resolved_path)
            counts = pd.DataFrame({"platform": flags.astype("int64"), "communities": 1},
                                  index=pd.Index(comm["area_code"].astype(str)))
            table = roll_up(areas, counts, ["platform", "communities"])
            table = table[table["area_level"].isin(["county", "street"])].reset_index(drop=True)
            frames[key] = (table, areas, inputs.fingerprint(catalog.inputs(name, key)))
        table, areas, sha = frames[key]
        out = pd.DataFrame({"metric_id": SMART_COMMUNITY_METRIC, "dataset": name, "area_code": table["area_code"].astype(str),
                            "area_level": table["area_level"], "period": period,
                            "numerator": table["platform"].astype("float64"),
                            "denominator": table["communities"].astype("float64")})
        den = out["denominator"].where(out["denominator"] > 0)
        out["value"] = out["numerator"] / den
        out["name_zh"] = "智慧社区平台覆盖率"
        out["area_name"] = out["area_code"].map(areas.name)
        out["unit"] = "比率"
        out["inputs_sha256"] = sha
        rows.append(out)
    return pd.concat(rows, ignore_index=True)[METRICS_COLUMNS] if rows else pd.DataFrame(columns=METRICS_COLUMNS)


@dataclass
class _Collected:
    metrics: pd.DataFrame
    inputs: dict
    problems: pd.DataFrame
    evidence: pd.DataFrame
    matches: dict = field(default_factory=dict)


def indicator_metrics(catalog, as_of, *, progress: bool = False) -> tuple[pd.DataFrame, dict]:
    """Every metric row the indicators need, for every month up to ``as_of``.

    - the whole metrics table of :func:`cimlib.metrics.compute_metrics` (every area level) for the registers'
      snapshot periods not after the month of ``as_of`` (a catalog without snapshots gives its current state,
      labelled with the month of ``as_of``);
    - :func:`smart_community_metrics` for the same periods;
    - for each month of readings not after ``as_of``, from :func:`cimlib.sensors.analyse_sensors`: the county
      online rate (``online_rate``, all device types, ``dataset`` readings) and ``road_coverage_km`` (N = road km
      within the cover distance of a device that reported in the month, D = road km, **value = covered km**, unit
      公里; county and street rows, ``dataset`` roads).

    Parameters
    ----------
    catalog : Catalog or path-like
    as_of : str
        ``YYYY-MM-DD``.
    progress : bool, default False

    Returns
    -------
    metrics : pandas.DataFrame
        :data:`cimlib.metrics.METRICS_COLUMNS`, sorted by period, dataset, metric, level and area.
    inputs : dict
        Every input file (relative to the catalog folder) -> sha256, sorted.

    Notes
    -----
    A dataset that cannot be read is left out of the metrics (it never crashes the run); :func:`acceptance`
    returns those problems in its ``problems`` table.
    """
    got = _collect(_load_catalog(catalog), _as_of(as_of), progress)
    return got.metrics, got.inputs


def _collect(catalog: Catalog, as_of: str, progress: bool, reuse=None) -> _Collected:
    """``reuse``: optional main-run outputs (:class:`cimlib.reports.context.ReportContext`'s hooks): ``reuse.metrics
    (periods)`` -> ``(MetricsResult, register findings)`` or ``None``, ``reuse.sensors(month)`` -> an object with the
    sensor tables of the month or ``None``; each returned only for the same inputs (:mod:`cimlib.reuse`)."""
    from cimlib.metrics import compute_metrics

    month = as_of[:7]
    inputs = _Inputs(catalog)
    problems: list[tuple] = []
    parts: list[pd.DataFrame] = []
    evidence = pd.DataFrame()
    matches: dict = {}
    checked: dict = {}   # the register findings of compute_metrics, reused by the facility metrics

    all_periods = _register_periods(catalog)
    periods = [p for p in all_periods if p <= month]
    if all_periods and not periods:
        problems.append((None, "registers", f"没有 {month} 及以前的登记数据快照（最早一期为 {all_periods[0]}），登记类指标不计算"))
    else:
        try:
            got = reuse.metrics(periods or None) if reuse is not None else None
            if got is not None:
                res, found = got
                checked.update(found)
            else:
                res = compute_metrics(catalog, periods or None, progress=progress, findings=checked)
        except CatalogError as exc:
            problems.append((None, exc.entry or "admin_areas", str(exc)))
        else:
            m = res.metrics.copy()
            evidence = res.evidence.copy()
            matches = {(d, month if p == "current" and not all_periods else p): r for (d, p), r in res.matches.items()}
            if not all_periods:  # the current state of a catalog without snapshots stands for the as-of month
                m.loc[m["period"] == "current", "period"] = month
                if "period" in evidence:
                    evidence.loc[evidence["period"] == "current", "period"] = month
            parts.append(m)
            inputs.update(res.inputs)
            problems += [(p.period, p.dataset, p.problem) for p in res.problems.itertuples()]

    sc_periods = periods if all_periods else [month]
    if sc_periods:
        try:
            parts.append(_smart_community(catalog, sc_periods, inputs))
        except CatalogError as exc:
            problems.append((None, exc.entry or "admin_areas", str(exc)))

    parts += _project_rows(catalog, sc_periods, month, inputs, problems)
    parts += _records_added_rows(catalog, periods, inputs, problems)
    reported: dict = {}
    parts += _sensor_rows(catalog, month, inputs, problems, progress, reported, reuse)
    parts += _facility_rows(catalog, sc_periods, reported, inputs, problems, checked)

    parts = [p for p in parts if len(p)]
    metrics = pd.concat(parts, ignore_index=True)[METRICS_COLUMNS] if parts else pd.DataFrame(columns=METRICS_COLUMNS)
    order = {"county": 0, "street": 1, "community": 2}
    metrics = (metrics.assign(_l=metrics["area_level"].map(order).fillna(9))
               .sort_values(["period", "dataset", "metric_id", "_l", "area_code"], kind="stable")
               .drop(columns="_l").reset_index(drop=True))
    prob = pd.DataFrame(problems, columns=PROBLEM_COLUMNS).drop_duplicates().reset_index(drop=True)
    return _Collected(metrics, inputs.inputs, prob, evidence, matches)


def _project_rows(catalog: Catalog, periods, month: str, inputs: _Inputs, problems: list) -> list[pd.DataFrame]:
    """The 工程建设项目 metrics (:func:`cimlib.metrics.projects.project_metrics`) for the registers' months plus every
    December from the earliest approval year (重庆's 2021 targets), up to the as-of month."""
    if not catalog.entry_for("projects"):
        return []
    from cimlib.metrics.projects import project_metrics, project_periods

    try:
        pm = project_metrics(catalog, project_periods(catalog, periods or [month], until=month))
    except CatalogError as exc:
        problems.append((None, exc.entry or "projects", str(exc)))
        return []
    inputs.update(pm.attrs.get("inputs", {}))
    excluded = {k: int(v) for k, v in (pm.attrs.get("excluded") or {}).items() if k != "total" and int(v)}
    if excluded:
        problems.append((None, catalog.entry_for("projects"), "部分工程项目的批准日期、标识或面积无法使用，未计入项目指标："
                         + "，".join(f"{k} {v} 个" for k, v in excluded.items()) + "（见检查结果）"))
    return [pm]


def _records_added_rows(catalog: Catalog, periods, inputs: _Inputs, problems: list) -> list[pd.DataFrame]:
    """政务数据新增条数 (:func:`cimlib.metrics.records.records_added`) for the registers' months up to the as-of month."""
    if not periods:
        return []
    from cimlib.metrics.records import records_added

    ra = records_added(catalog, periods)
    problems += ra.attrs.get("problems", [])
    inputs.update(ra.attrs.get("inputs", {}))
    if len(ra):
        names, _ = _admin_names(catalog)
        ra["area_name"] = ra["area_code"].map(lambda c: names.get(c, c))
    return [ra]


def _facility_rows(catalog: Catalog, periods, reported: dict, inputs: _Inputs, problems: list,
                   checked: dict | None = None) -> list[pd.DataFrame]:
    """设施赋码率, 万物标识编码赋码率 and 感知设施接入数 (:func:`cimlib.metrics.facilities.facility_metrics`) for the
    registers' months up to the as-of month, plus the months of readings among them (``reported``: the devices that
    reported in each month, from :func:`_sensor_rows`; ``checked``: the register findings :func:`compute_metrics`
    computed for the same months, not computed again)."""
    if not periods:
        return []
    from cimlib.metrics.facilities import facility_metrics

    try:
        fm = facility_metrics(catalog, periods, reported=reported, findings=checked)
    except CatalogError as exc:
        problems.append((None, exc.entry or "admin_areas", str(exc)))
        return []
    problems += fm.attrs.get("problems", [])
    inputs.update(fm.attrs.get("inputs", {}))
    return [fm]


def _sensor_rows(catalog: Catalog, month: str, inputs: _Inputs, problems: list, progress: bool,
                 reported: dict | None = None, reuse=None) -> list[pd.DataFrame]:
    """Online rate and road coverage of each month of readings up to ``month``; ``reported`` receives, per month, the
    ids of the devices that reported at least once (``None`` when the month could not be analysed)."""
    from cimlib.sensors import analyse_sensors
    from cimlib.sensors.health import ALL_TYPES
    from cimlib.sensors.readings import catalog_reading_tasks, periods_of

    if "readings" not in catalog or "devices" not in catalog:
        missing = "、".join(n for n in ("readings", "devices") if n not in catalog)
        problems.append((None, "readings", f"数据目录中没有 {missing} 条目：设备在线率与道路感知覆盖不计算"))
        return []
    try:
        months = [m for m in periods_of(catalog_reading_tasks(catalog)) if m <= month]
    except CatalogError as exc:
        problems.append((None, "readings", str(exc)))
        return []
    names, county = _admin_names(catalog)
    out = []
    for m in months:
        try:
            res = reuse.sensors(m) if reuse is not None else None
            if res is None:
                res = analyse_sensors(catalog, m, anomalies=False, cube=False, progress=progress)
        except (CatalogError, ValueError) as exc:
            problems.append((m, "readings", str(exc)))
            if reported is not None:
                reported[m] = None
            continue
        problems += [(m, p.dataset, f"{p.file}：{p.problem}" if p.file else p.problem) for p in res.problems.itertuples()]
        if reported is not None:
            daily = res.health_daily
            reported[m] = set(daily.loc[daily["received"] > 0, "device_id"].astype(str))
        month_files = [p for t in catalog_reading_tasks(catalog, m) for p in t.paths] + _files(catalog, "devices")
        h = res.health
        on = h[(h["metric_id"] == ONLINE_RATE_METRIC) & (h["device_type"] == ALL_TYPES) & (h["area_level"] == "county")
               & (h["period"] == m)].drop(columns="device_type")
        if len(on):
            on = on.assign(area_code=on["area_code"].astype(str))
            on["area_name"] = on["area_code"].map(lambda c: names.get(c, c))
            on["inputs_sha256"] = inputs.fingerprint(month_files)
            out.append(on[METRICS_COLUMNS])
            county = county or str(on["area_code"].iloc[0])
        cov = res.coverage
        if len(cov):
            road_files = month_files + _files(catalog, "roads") + _files(catalog, "admin_areas")
            code = cov["area_code"].astype(str).where(cov["area_code"].astype(str) != "全部", county or "全部")
            r = pd.DataFrame({"metric_id": ROAD_COVERAGE_METRIC, "dataset": "roads", "area_code": code,
                              "area_level": cov["area_level"], "period": m,
                              "numerator": cov["covered_km"].astype("float64"),
                              "denominator": cov["road_km"].astype("float64"),
                              "value": cov["covered_km"].astype("float64")})
            r["name_zh"] = f"感知设备覆盖道路里程（{float(cov['distance_m'].iloc[0]):g} 米内）"
            r["area_name"] = r["area_code"].map(lambda c: names.get(c, c))
            r["unit"] = "公里"
            r["inputs_sha256"] = inputs.fingerprint(road_files)
            out.append(r[METRICS_COLUMNS])
    return out


def _files(catalog: Catalog, name: str) -> list:
    """The files of an entry, or none when the entry or its files are missing (already reported as a problem)."""
    try:
        return catalog.inputs(name) if name in catalog else []
    except CatalogError:
        return []


def _admin_names(catalog: Catalog) -> tuple[dict, str | None]:
    """Area code -> name, and the county code when the admin layer has exactly one county (else None)."""
    name = catalog.entry_for("admin_areas")
    if name is None:
        return {}, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            admin = catalog.read(name)
    except CatalogError:
        return {}, None  # compute_metrics has already reported it
    areas = Areas(admin)
    return dict(areas.names), (areas.counties[0] if len(areas.counties) == 1 else None)


# --------------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------------

_WHAT = {
    "governance_rate": "{cls}已治理 {n}/收到 {d} 条",
    "coding_rate": "{cls}已编码 {n}/已治理 {d} 条",
    "mapping_rate": "{cls}已上图 {n}/已治理 {d} 条",
    "house_coding_rate": "已赋码房屋 {n}/实有房屋 {d} 条",
    "address_qualification_rate": "当月产出的增量地址合格 {n}/产出 {d} 个",
    "white_model_coverage": "白模生产范围覆盖 {n_km2}/区域面积 {d_km2} 平方公里",
    "fine_model_coverage": "精模生产范围覆盖 {n_km2}/中心城区面积 {d_km2} 平方公里",
    "full_fine_model_coverage": "精模生产范围覆盖 {n_km2}/区域面积 {d_km2} 平方公里",
    "demo_zone_fine_model_coverage": "精模生产范围覆盖 {n_km2}/CIM示范区面积 {d_km2} 平方公里",
    "pilot_cim_coverage": "已有房屋白模且所在社区已有上图标准地址的中心城区 {n_km2}/中心城区面积 {d_km2} 平方公里",
    "smart_compound_count": "标记为智慧小区的院落 {n}/院落 {d} 个",
    "task_completion": "该节点已完成的任务 {n}/任务 {d} 项",
    "records_added": "当年新增的登记记录 {n}/月末快照共 {d} 条（起算快照及是否为下限见指标表 name_zh）",
    "digital_construction_pilots": "截至月末已批准的工程项目中列为数字化建造试点的 {n}/已批准项目 {d} 个",
    "integrated_project_area": "截至月末已批准的建筑工业化和信息化融合项目建筑面积 {n}/房屋建筑项目建筑面积 {d} 万平方米",
    "digital_construction_share": "当年（1月1日至月末）批准的工程项目中采用数字化建造模式的 {n}/批准项目 {d} 个",
    "integrated_project_share": "当年（1月1日至月末）批准的房屋建筑中融合项目建筑面积 {n}/新建建筑面积 {d} 万平方米",
    "facility_coding_rate": "编码有效的设施 {n}/设施 {d} 个（感知设备按所服务设施归入城市公用、交通、水利、信息基础设施，道路为交通设施）",
    "sensor_access_count": "截至月末接入的感知设施 {n} 个（台账中已安装 {d} 个；有监测数据的月份只计当月至少上报一次的设备）",
    "entity_coding_rate": "编码有效的实体 {n}/实体 {d} 个（标准地址、实有房屋、实有单位、建筑物、感知设备、道路；实有人口不计）",
    "beidou_grid_rate": "北斗网格码有效且与位置一致 {n}/实体 {d} 个（建筑物、标准地址、实有房屋、感知设备）",
    SMART_COMMUNITY_METRIC: "建有智慧社区平台的社区 {n}/社区 {d} 个",
    ONLINE_RATE_METRIC: "在线的设备·小时 {n}/应在线的设备·小时 {d}",
    ROAD_COVERAGE_METRIC: "感知设备覆盖道路 {n_km}/道路总长 {d_km} 公里",
}
_REGISTER_WHERE = "拉低指标的记录见 evidence.parquet（dataset={dataset}，period={period}）"
_WHERE = {
    "governance_rate": _REGISTER_WHERE, "coding_rate": _REGISTER_WHERE, "mapping_rate": _REGISTER_WHERE,
    "house_coding_rate": _REGISTER_WHERE,
    "address_qualification_rate": "各环节一次通过率见指标表 stage_pass_rate_s1…s6，未通过的流程记录见数据集 {dataset}",
    "white_model_coverage": "各社区覆盖率见指标表（metric_id={metric_id}，area_level=community）",
    "fine_model_coverage": "各社区覆盖率见指标表（metric_id={metric_id}，area_level=community）",
    "full_fine_model_coverage": "各社区覆盖率见指标表（metric_id={metric_id}，area_level=community）",
    "demo_zone_fine_model_coverage": "各社区覆盖率见指标表（metric_id={metric_id}，area_level=community）",
    "pilot_cim_coverage": "各社区覆盖率见指标表（metric_id={metric_id}，area_level=community）；未覆盖的社区或缺白模，"
                          "或没有上图的标准地址（见 evidence.parquet，dataset=addresses）",
    "smart_compound_count": "逐个院落见数据集 {dataset} 的 smart_compound 列（address_type=院落）",
    "task_completion": "逐项任务见工作任务清单的状态与完成日期",
    "records_added": "分数据集见指标表（metric_id=records_added）；逐条比对各数据集 {period} 与起算月快照的标识列",
    "digital_construction_pilots": "逐个项目见数据集 {dataset} 的 digital_pilot 列（approval_date 不晚于 {period} 月末）；"
                                   "分街道、社区见指标表（metric_id={metric_id}）",
    "integrated_project_area": "逐个项目见数据集 {dataset} 的 integrated、building_area_m2 列（approval_date 不晚于 {period} 月末）",
    "digital_construction_share": "逐个项目见数据集 {dataset} 的 digital_construction 列（approval_date 在 {period} 所在年份内"
                                  "且不晚于月末）",
    "integrated_project_share": "逐个项目见数据集 {dataset} 的 integrated、building_area_m2 列（project_type=房屋建筑，"
                                "approval_date 在 {period} 所在年份内且不晚于月末）",
    "facility_coding_rate": "分设施类别见指标表（metric_id={metric_id}，dataset=facilities:utilities/transport/water/"
                            "information）；未赋码或编码未通过检查的设施见 cim check 检查结果（devices 的 device_id、roads 的 "
                            "road_id）",
    "sensor_access_count": "逐台设备见设备台账 {dataset} 的 install_date 列与 cim sensors --period {period} 的 health_daily 表；"
                           "分街道见指标表（metric_id={metric_id}，area_level=street）",
    "entity_coding_rate": "分数据集见指标表（metric_id={metric_id}，dataset=各数据集）；编码问题见 cim check --period {period} "
                          "检查结果（各数据集编码字段上的错误级规则）",
    "beidou_grid_rate": "分数据集、分街道见指标表（metric_id={metric_id}，dataset=buildings/addresses/houses/devices）；"
                        "无效、与位置不一致、未赋码的记录见 cim check --period {period} 检查结果（grid_code 字段："
                        "BLD-008…010、ADR-010…012、HSE-008…010、DEV-004…006）",
    SMART_COMMUNITY_METRIC: "逐社区见 {dataset} 图层的 smart_community 列",
    ONLINE_RATE_METRIC: "逐设备逐日见 cim sensors --period {period} 的 health_daily 表",
    ROAD_COVERAGE_METRIC: "分街道见指标表（metric_id=road_coverage_km，area_level=street）与 cim sensors 的 coverage 表",
}


def _count(x: float) -> str:
    return f"{int(round(x)):,}" if abs(x - round(x)) < 1e-9 else f"{x:,.2f}"


def _evidence(ind: Indicator, row: dict, notes: list[str]) -> str:
    if row["period"] is None or pd.isna(row["numerator"]):
        text = (f"期限（{ind.deadline}）及以前没有该指标的数据" if row["status"] != STATUS_PENDING and ind.deadline
                else "截至统计日尚无该指标的数据")
    else:
        n, d = float(row["numerator"]), float(row["denominator"])
        cls = CLASSES[ind.dataset].name_zh if ind.dataset in CLASSES else ""
        what = _WHAT.get(ind.metric_id, "{name} {n}/{d}").format(
            cls=cls, n=_count(n), d=_count(d), n_km2=f"{n / 1e6:,.2f}", d_km2=f"{d / 1e6:,.2f}", n_km=f"{n:,.2f}",
            d_km=f"{d:,.2f}", name=ind.name_zh)
        where = _WHERE.get(ind.metric_id, "见指标表（metric_id={metric_id}）").format(
            dataset=ind.dataset, period=row["period"], metric_id=ind.metric_id)
        if where == _REGISTER_WHERE.format(dataset=ind.dataset, period=row["period"]) and n == d:
            where = "没有拉低该指标的记录"
        first = row.get("first")   # a dated task without a number: the change since the series' first month
        if first and pd.notna(first[1]) and pd.notna(row["value"]):
            change = float(row["value"]) - float(first[1])
            ratio = ind.unit in ("", "比率")
            was = f"{float(first[1]):.1%}" if ratio else f"{_count(float(first[1]))}{ind.unit}"
            by = f"{abs(change) * 100:.1f} 个百分点" if ratio else f"{_count(abs(change))}{ind.unit}"
            what += f"，较 {first[0]}（{was}）" + ("增加 " + by if change > 0 else "减少 " + by if change < 0 else "持平")
        text = f"{row['period']}：{what}；{where}"
    if notes:
        text += "；数据问题：" + "；".join(notes)
    return text


_SENSOR_INPUTS = {"readings", "devices", "roads"}
_PARTS = {"facility_coding_rate": {"devices", "roads"}, "sensor_access_count": {"readings"},
          "entity_coding_rate": {"addresses", "houses", "units", "buildings", "devices", "roads"}}
"""Datasets whose problems an indicator's evidence names besides its own (the entries a combined row is made of)."""


def _notes(problems: pd.DataFrame | None, ind: Indicator, period) -> list[str]:
    """Problems of the indicator's dataset (of its period or of no particular period), shortened.

    Without a period (no data for the indicator) the problems of what it depends on count too: the admin layer and
    the registers as a whole, and the sensor inputs for the sensor metrics.
    """
    if problems is None or not len(problems):
        return []
    related = {ind.dataset}
    if period is None:
        related |= {"registers", "admin_areas"}
        if ind.metric_id in (ONLINE_RATE_METRIC, ROAD_COVERAGE_METRIC):
            related |= _SENSOR_INPUTS
    if ind.metric_id == "beidou_grid_rate":  # the entities' own datasets
        related |= {"buildings", "addresses", "houses", "devices"}
    related |= _PARTS.get(ind.metric_id, set())
    p = problems[problems["dataset"].astype(str).isin(related)]
    if period is not None:
        p = p[p["period"].isna() | (p["period"].astype(str) == str(period))]
    out = []
    for text in dict.fromkeys(p["problem"].astype(str)):
        out.append(text if len(text) <= 120 else text[:117] + "…")
    return out[:3]


def evaluate_indicators(metrics: pd.DataFrame, indicators, as_of, *, problems: pd.DataFrame | None = None,
                        whole_city: bool = True, extra: dict | None = None) -> pd.DataFrame:
    """Status, value and evidence of each indicator as of a date.

    Only monthly rows (``period`` ``YYYY-MM``) not after the month of ``as_of`` are used. For each indicator the rows
    of its ``metric_id`` and ``dataset`` in its area (every county by default) go to
    :func:`cimlib.metrics.target_status`: 未到期 while the deadline is after ``as_of``; afterwards 达标 when the value
    of the deadline's month (the last month at or before the deadline) satisfies ``comparator target``, else 未达标;
    无法判定 without any month at or before the deadline. ``period``, ``value``, ``numerator`` and ``denominator``
    are those of that month (for 未到期: the latest month up to ``as_of``). An indicator without any row gets one
    row (per county of the table) with status 未到期 or 无法判定.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics table (:func:`indicator_metrics`).
    indicators : list of Indicator
    as_of : str
        ``YYYY-MM-DD``.
    problems : pandas.DataFrame, optional
        ``period, dataset, problem``: problems of an indicator's dataset are added to its evidence.
    extra : dict, optional
        Indicator id -> its own metric rows (a milestone measured from the task list, :func:`task_metrics`), used
        instead of the table's rows of its metric.
    whole_city : bool, default True
        Whether the metrics cover the whole city a programme governs. When not, a count target set for the whole
        city (``scope: city``) is shown as the part's contribution, status :data:`STATUS_CITY_PART`, instead of
        达标/未达标.

    Notes
    -----
    An indicator the workbench cannot compute (``computable: false``) gets one row per county, status 不可计算
    and its ``reason`` as evidence.

    Returns
    -------
    pandas.DataFrame
        :data:`INDICATOR_COLUMNS`, one row per indicator and area, in the order of ``indicators``.
    """
    as_of = _as_of(as_of)
    month = as_of[:7]
    period = metrics["period"].astype(str)
    m = metrics[period.str.fullmatch(_MONTH.pattern) & (period <= month)]
    counties = sorted(c for c in m.loc[m["area_level"] == "county", "area_code"].astype(str).unique() if "UNK" not in c)
    rows = []
    for ind in indicators:
        if not ind.computable:
            rows += [{**r, "evidence": f"不可计算：{ind.reason}"} for r in _empty_rows(
                ind, metrics, counties or [""], None, STATUS_NOT_COMPUTABLE, "本指标工作台尚不能计算，无法外推")]
            continue
        if extra and ind.indicator_id in extra:
            own = extra[ind.indicator_id]
            sub = own[own["period"].astype(str) <= month]
        else:
            sub = m[(m["metric_id"] == ind.metric_id) & (m["dataset"] == ind.dataset)]
        sub = sub[sub["area_level"] == ind.area] if ind.area in LEVELS else sub[sub["area_code"].astype(str) == ind.area]
        if not ind.deadline:   # no date in the document
            rows += _undated_rows(ind, sub, metrics, counties, problems)
            continue
        if ind.target != ind.target:   # a date but no number: the deadline month's value is listed
            rows += _no_target_rows(ind, sub, metrics, counties, problems, as_of)
            continue
        found = pd.DataFrame()
        if len(sub):
            found = target_status(sub, [target_of(ind)], as_of=as_of, levels=tuple(sorted(sub["area_level"].unique())))
        if not len(found):
            status = STATUS_PENDING if pd.Timestamp(ind.deadline) > pd.Timestamp(as_of) else STATUS_UNKNOWN
            rows += _empty_rows(ind, metrics, _areas_of(ind, counties), problems, status, "没有数据，无法外推")
            continue
        for p in found.itertuples(index=False):
            row = {"area_code": str(p.area_code), "area_name": p.area_name, "period": p.deadline_period,
                   "value": p.value_at_deadline, "numerator": p.numerator, "denominator": p.denominator,
                   "status": p.status, "projected_date": p.projected_date, "projection_method": p.projection_method}
            notes = _notes(problems, ind, p.deadline_period)
            if ind.scope == "city" and not whole_city and row["status"] in (STATUS_MET, STATUS_MISSED):
                row["status"] = STATUS_CITY_PART
                notes = [*notes, f"目标为全市合计（{_count(ind.target)}{ind.unit}），本数据目录只覆盖全市的一部分，"
                                 "数值为该部分的贡献，不判定达标"]
            rows.append(_row(ind, row, notes))
    out = pd.DataFrame(rows, columns=INDICATOR_COLUMNS)
    for col in ("target", "value", "numerator", "denominator"):
        out[col] = out[col].astype("float64")
    out["projected_date"] = pd.to_datetime(out["projected_date"])
    return out


def _areas_of(ind: Indicator, counties: list) -> list:
    """The areas an indicator without data gets a row for: every county, or its own area code."""
    return counties if ind.area == "county" and counties else [ind.area if ind.area not in LEVELS else ""]


def _empty_rows(ind: Indicator, metrics: pd.DataFrame, areas, problems, status: str, method: str) -> list[dict]:
    """One row without a value per area, with ``status`` and the projection note ``method``."""
    return [_row(ind, {"area_code": code, "area_name": _name_of(metrics, code), "period": None, "value": np.nan,
                       "numerator": np.nan, "denominator": np.nan, "status": status, "projected_date": pd.NaT,
                       "projection_method": method}, _notes(problems, ind, None) if problems is not None else [])
            for code in areas]


def _undated_rows(ind: Indicator, sub: pd.DataFrame, metrics: pd.DataFrame, counties: list, problems) -> list[dict]:
    """Rows of a target without a date or a number: the latest month's value per area, 达标 when a target is met,
    else :data:`STATUS_NO_DEADLINE` / :data:`STATUS_NO_TARGET`."""
    from cimlib.metrics.progress import _meets

    rows = []
    has_target = ind.target == ind.target
    if not len(sub):
        return _empty_rows(ind, metrics, _areas_of(ind, counties), problems, STATUS_UNKNOWN, "没有数据，无法外推")
    last = sub.sort_values("period", kind="stable").groupby(sub["area_code"].astype(str), sort=True).tail(1)
    for p in last.itertuples(index=False):
        value = float(p.value) if pd.notna(p.value) else np.nan
        if has_target and value == value and _meets(value, ind.target, ind.comparator):
            status = STATUS_MET
        else:
            status = STATUS_NO_DEADLINE if has_target else STATUS_NO_TARGET
        row = {"area_code": str(p.area_code), "area_name": p.area_name, "period": p.period, "value": value,
               "numerator": p.numerator, "denominator": p.denominator, "status": status, "projected_date": pd.NaT,
               "projection_method": "文件未规定期限" if not ind.deadline else "文件未规定目标值"}
        rows.append(_row(ind, row, _notes(problems, ind, p.period)))
    return rows


def _no_target_rows(ind: Indicator, sub: pd.DataFrame, metrics: pd.DataFrame, counties: list, problems,
                    as_of: str) -> list[dict]:
    """Rows of a dated task without a number (“开展……”, “提高接入数量”): per area the value of the deadline's month (the
    last month at or before the deadline), status :data:`STATUS_NO_TARGET`; before the deadline the latest month's
    value, status 未到期; 无法判定 for an area without any month up to the deadline. The evidence also gives the change
    since the first month of the series."""
    pending = pd.Timestamp(ind.deadline) > pd.Timestamp(as_of)
    if not len(sub):
        return _empty_rows(ind, metrics, _areas_of(ind, counties), problems,
                           STATUS_PENDING if pending else STATUS_UNKNOWN, "没有数据，无法外推")
    rows = []
    dead = ind.deadline[:7]
    for code, g in sub.sort_values("period", kind="stable").groupby(sub["area_code"].astype(str), sort=True):
        upto = g if pending else g[g["period"].astype(str) <= dead]
        if not len(upto):
            rows += _empty_rows(ind, metrics, [code], problems, STATUS_UNKNOWN, "期限及以前没有数据，无法外推")
            continue
        p, first = upto.iloc[-1], g.iloc[0]
        row = {"area_code": code, "area_name": p["area_name"], "period": p["period"],
               "value": float(p["value"]) if pd.notna(p["value"]) else np.nan, "numerator": p["numerator"],
               "denominator": p["denominator"], "status": STATUS_PENDING if pending else STATUS_NO_TARGET,
               "projected_date": pd.NaT, "projection_method": "文件未规定目标值",
               "first": (str(first["period"]), first["value"]) if first["period"] != p["period"] else None}
        rows.append(_row(ind, row, _notes(problems, ind, p["period"])))
    return rows


def _name_of(metrics: pd.DataFrame, code: str) -> str:
    if not code or "area_name" not in metrics:
        return code
    hit = metrics.loc[metrics["area_code"].astype(str) == code, "area_name"]
    return str(hit.iloc[0]) if len(hit) else code


def _row(ind: Indicator, row: dict, notes: list[str]) -> dict:
    return {"indicator_id": ind.indicator_id, "name_zh": ind.name_zh, "metric_id": ind.metric_id, "dataset": ind.dataset,
            "comparator": ind.comparator, "target": ind.target, "deadline": ind.deadline,
            "deadline_text": ind.deadline_text, "unit": ind.unit, "source": ind.source, "clause": ind.clause, **row,
            "evidence": _evidence(ind, row, notes)}


# --------------------------------------------------------------------------------------------------
# the one call
# --------------------------------------------------------------------------------------------------


@dataclass
class AcceptanceResult:
    """What :func:`acceptance` produced.

    Attributes
    ----------
    indicators : pandas.DataFrame
        :data:`INDICATOR_COLUMNS`, one row per indicator and area.
    metrics : pandas.DataFrame
        Every metric row behind it (:func:`indicator_metrics`).
    inputs : dict
        Input file (relative to the catalog folder) -> sha256.
    problems : pandas.DataFrame
        ``period, dataset, problem``: datasets that could not be used.
    as_of : str
        ``YYYY-MM-DD``.
    evidence : pandas.DataFrame
        The records that lower the register metrics, per period (``compute_metrics``' evidence: record identifiers
        and area codes only, no personal values); what ``evidence.parquet`` holds.
    indicators_file : str
        The indicator file used (absolute path).
    indicators_sha256 : str
        Its sha256.
    programme : standards_checks.programmes.Programme
        The programme evaluated (id, name, document; ``indicators_file`` is its file).
    matches : dict
        ``(dataset, period)`` -> :class:`cimlib.geocode.run.MatchResult`: the address match behind
        ``mapping_rate_attainable`` and the evidence's proposals (``compute_metrics``' ``matches``), which the
        治理工作清单 shows.
    """

    indicators: pd.DataFrame
    metrics: pd.DataFrame
    inputs: dict
    problems: pd.DataFrame
    as_of: str
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    indicators_file: str = ""
    indicators_sha256: str = ""
    matches: dict = field(default_factory=dict)
    programme: Programme | None = None


def resolve_datasets(catalog: Catalog, indicators) -> list[Indicator]:
    """Indicators with ``dataset`` mapped to the catalog's entry names.

    A ``dataset`` that is an entry name is kept; otherwise, when exactly one entry has that schema, the indicator
    takes that entry's name (so the shipped list works on a catalog whose entries are named differently).
    """
    out = []
    for ind in indicators:
        if ind.dataset not in catalog:
            hits = [e.name for e in catalog if e.schema == ind.dataset]
            if len(hits) == 1:
                ind = replace(ind, dataset=hits[0])
        out.append(ind)
    return out


def _not_computable(table: pd.DataFrame, catalog: Catalog, indicators) -> pd.DataFrame:
    """Rows without data of indicators whose datasets the catalog lacks: status 不可计算, the reason as evidence."""
    from cimlib.reports.tables import missing_note

    schemas = {e.schema for e in catalog}
    notes = {}
    for ind in indicators:
        if not ind.computable:  # already 不可计算, with its own reason
            continue
        need = (ind.dataset, *REQUIRED_DATASETS.get(ind.metric_id, ()))
        lacking = [n for n in dict.fromkeys(need) if n not in catalog and n not in schemas and n not in COMBINED_DATASETS]
        if lacking:
            notes[ind.indicator_id] = missing_note(lacking, "本指标不可计算")
    hit = table["indicator_id"].isin(list(notes)) & table["period"].isna()
    if hit.any():
        table = table.copy()
        table.loc[hit, "status"] = STATUS_NOT_COMPUTABLE
        table.loc[hit, "evidence"] = table.loc[hit, "indicator_id"].map(notes)
        table.loc[hit, "projection_method"] = "数据目录中没有所需数据，无法外推"
    return table


def task_metrics(catalog: Catalog, indicators, as_of: str) -> tuple[dict, dict, list]:
    """The ``task_completion`` rows of each milestone indicator, measured from the catalog's task list.

    For every computable indicator with ``metric_id: task_completion``, its tasks (``tasks:`` milestone and name
    pattern, :func:`cimlib.metrics.tasks.select_tasks`) give one county row per month, from the month of the
    earliest task start or indicator deadline to the month of ``as_of``.

    Returns
    -------
    extra : dict
        Indicator id -> metric rows (:func:`evaluate_indicators`' ``extra``).
    inputs : dict
        The task list's files -> sha256.
    problems : list of tuple
        ``(period, dataset, problem)``: no task list, unreadable, or an indicator selecting no task.
    """
    from cimlib.metrics.tasks import TASK_COMPLETION, select_tasks, task_completion_rows

    wanted = [i for i in indicators if i.computable and i.metric_id == TASK_COMPLETION]
    if not wanted:
        return {}, {}, []
    name = catalog.entry_for("tasks")
    if name is None:
        return {}, {}, [(None, "tasks", "数据目录中没有工作任务清单，节点任务完成率不可计算")]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tasks = catalog.read(name)
    except CatalogError as exc:
        return {}, {}, [(None, name, str(exc))]
    inputs = _Inputs(catalog)
    sha = inputs.fingerprint(_files(catalog, name))
    names, county = _admin_names(catalog)
    code = county or str(catalog.city_code or "")
    first = [d for d in pd.to_datetime(tasks.get("start_date", pd.Series(dtype=object)), errors="coerce").dropna()]
    first += [pd.Timestamp(i.deadline) for i in wanted if i.deadline]
    start = min(first) if first else pd.Timestamp(as_of)
    periods = [str(p) for p in pd.period_range(start.to_period("M"), pd.Timestamp(as_of).to_period("M"), freq="M")]
    extra, problems = {}, []
    for ind in wanted:
        sel = dict(ind.tasks)
        try:
            chosen = select_tasks(tasks, milestone=sel.get("milestone"), name=sel.get("name"))
        except ValueError as exc:
            problems.append((None, name, f"{ind.indicator_id}：{exc}"))
            continue
        if not len(chosen):
            problems.append((None, name, f"{ind.indicator_id}：任务清单中没有该节点的任务（{sel}）"))
        extra[ind.indicator_id] = task_completion_rows(chosen, periods, area_code=code, area_name=names.get(code, code),
                                                       dataset=ind.dataset, name_zh=ind.name_zh, sha=sha)
    return extra, inputs.inputs, problems


def resolve_programme(catalog: Catalog, programme=None, indicators_path=None) -> Programme:
    """The programme whose targets a catalog is evaluated against.

    ``indicators_path`` (a city's own file in the programme format) wins; then ``programme`` (an id of
    :func:`standards_checks.programmes.programme_ids`); otherwise the programme whose division prefixes cover the
    catalog's ``city_code`` (the longest prefix wins: a 武汉 district gets ``wuhan``, another 湖北 city
    ``hubei-cim``).

    Raises
    ------
    ProgrammeError
        An unknown id, or no programme for the catalog's city (the message lists the programmes).
    IndicatorError
        A malformed file.
    """
    if indicators_path:
        return load_programme(Path(indicators_path))
    if programme:
        return load_programme(str(programme))
    if not catalog.city_code:
        raise ProgrammeError(f"数据目录 {catalog.path} 没有 city_code（区划代码），无法确定适用的工作方案；"
                             "请在数据目录顶层写明 city_code，或用 --programme 指定工作方案")
    return programme_for(str(catalog.city_code))


def covers_whole_city(catalog: Catalog, programme: Programme) -> bool:
    """Whether the catalog's city is the whole area a programme governs.

    It is when its ``city_code`` is one of the programme's division prefixes, or shorter; or, for a programme that
    governs one county-level unit (``governs: county``, a 县级市's plan), when it is a county under a prefix. A
    county's catalog under a city's programme covers part of it.
    """
    code = str(catalog.city_code or "")
    if not programme.divisions:
        return True
    if programme.governs == "county" and len(code) >= 6 and any(code.startswith(p) for p in programme.divisions):
        return True
    return bool(code) and any(len(code) <= len(p) and p.startswith(code) for p in programme.divisions)


def acceptance(catalog, as_of, *, programme=None, indicators_path=None, progress: bool = False,
               reuse=None) -> AcceptanceResult:
    """Evaluate a programme's acceptance indicators on a catalog as of a date (what the reports and ``cim verify``
    call).

    Parameters
    ----------
    catalog : Catalog or path-like
    as_of : str
        ``YYYY-MM-DD``: months after its month are not read.
    programme : str, optional
        Programme id (``suizhou``, ``wuhan``, ``hubei-cim``, ``chongqing-xinchengjian``, ``taizhou-digital``);
        default the programme covering the catalog's ``city_code`` (:func:`resolve_programme`).
    indicators_path : path-like, optional
        A city's own indicator file in the programme format (wins over ``programme``).
    progress : bool, default False
    reuse : optional
        Main-run outputs to read instead of computing (what a report passes; see :func:`_collect`).

    Returns
    -------
    AcceptanceResult
        Deterministic: the same inputs give identical tables.

    Raises
    ------
    IndicatorError
        If the indicator file is malformed (:class:`ProgrammeError` for an unknown programme or a city no programme
        covers).
    ValueError
        If ``as_of`` is not ``YYYY-MM-DD``.
    """
    as_of = _as_of(as_of)
    catalog = _load_catalog(catalog)
    prog = resolve_programme(catalog, programme, indicators_path)
    indicators = resolve_datasets(catalog, list(prog.indicators))
    got = _collect(catalog, as_of, progress, reuse)
    extra, task_inputs, task_problems = task_metrics(catalog, indicators, as_of)
    problems = pd.concat([got.problems, pd.DataFrame(task_problems, columns=PROBLEM_COLUMNS)], ignore_index=True) \
        if task_problems else got.problems
    table = evaluate_indicators(got.metrics, indicators, as_of, problems=problems,
                                whole_city=covers_whole_city(catalog, prog), extra=extra)
    table = _not_computable(table, catalog, indicators)
    return AcceptanceResult(indicators=table, metrics=got.metrics, inputs=dict(sorted({**got.inputs, **task_inputs}.items())),
                            problems=problems, as_of=as_of,
                            evidence=got.evidence, indicators_file=str(prog.path.resolve()),
                            indicators_sha256=sha256_file(prog.path), matches=got.matches, programme=prog)
