"""What the metrics measure: the 一标三实 classes, the metric catalogue and the programme's dated targets.

Everything a metric depends on is declared here once, and ``docs/metrics.md`` states the same in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

METRICS_COLUMNS = ["metric_id", "dataset", "area_code", "area_level", "period", "numerator", "denominator", "value",
                   "name_zh", "area_name", "unit", "inputs_sha256"]
"""Columns of the metrics table: DESIGN.md's eight, then the Chinese name, area name, unit of ``value`` and the
fingerprint of the input files the number was computed from."""

LEVELS = ("county", "street", "community")
LEVEL_ZH = {"county": "区县", "street": "街道（乡镇）", "community": "社区（村）"}
LOCATION_COLUMNS = ("geometry", "lon", "lat", "x", "y")


@dataclass(frozen=True)
class RegisterClass:
    """One 一标三实 class: where its records are, what its identification code is, how it reaches the map.

    Attributes
    ----------
    schema : str
        Catalog schema of the register (the entry is found by schema, so a city may name it as it likes).
    name_zh : str
    code_column : str
        The identification code that 编码率 measures.
    code_rules : tuple of str
        Further rules about the code (besides every rule reported on ``code_column``).
    map_rules : tuple of str
        Rules about location and links, measured by 上图率 through the linking instead of by 治理率.
    link_keys : tuple of (str, str)
        ``(column here, column in the target)`` tried in order for the code link.
    link_target : str
        Schema of what the record is linked to (``buildings`` or ``addresses``).
    scope : tuple of str
        Values of ``address_type`` counted (addresses only: the elements that are places, not the admin chain).
    """

    schema: str
    name_zh: str
    code_column: str
    code_rules: tuple = ()
    map_rules: tuple = ()
    link_keys: tuple = ()
    link_target: str = ""
    scope: tuple = field(default=())


CLASSES = {
    "addresses": RegisterClass("addresses", "标准地址", "address_id", code_rules=("SYS-005",),
                               map_rules=("ADR-001", "ADR-002"),
                               link_keys=(("building_id", "building_id"), ("building_code", "building_code")),
                               link_target="buildings", scope=("院落", "建筑物", "单元", "户室")),
    "persons": RegisterClass("persons", "实有人口", "id_number", code_rules=("PER-001", "PER-002"), map_rules=("PER-003",),
                             link_keys=(("address_id", "address_id"),), link_target="addresses"),
    "houses": RegisterClass("houses", "实有房屋", "house_code", code_rules=("HSE-001", "HSE-002", "HSE-003", "HSE-006", "HSE-007"),
                            map_rules=("HSE-004",), link_keys=(("building_id", "building_id"), ("building_code", "building_code")),
                            link_target="buildings"),
    "units": RegisterClass("units", "实有单位", "uscc", code_rules=("UNT-001", "UNT-002"), map_rules=("UNT-003",),
                           link_keys=(("address_id", "address_id"),), link_target="addresses"),
}
"""The four classes of 一标三实 (standard addresses + actual population, houses, organisations)."""


@dataclass(frozen=True)
class MetricDef:
    """A metric of the catalogue: id, Chinese name template, unit of ``value``, unit of numerator and denominator."""

    metric_id: str
    name_zh: str
    unit: str = "比率"
    parts_unit: str = ""
    """Unit of ``numerator`` and ``denominator`` when they are not counts (``"m²"`` for area coverage)."""


METRICS = {m.metric_id: m for m in [
    MetricDef("governance_rate", "{cls}治理率"),
    MetricDef("coding_rate", "{cls}编码率"),
    MetricDef("mapping_rate", "{cls}上图率"),
    MetricDef("mapping_rate_attainable", "{cls}可达上图率（采纳地址匹配建议后，非登记现状）"),
    MetricDef("house_coding_rate", "房屋赋码率"),
    MetricDef("address_qualification_rate", "增量地址生产合格率"),
    *[MetricDef(f"stage_pass_rate_s{k}", f"{s}环节一次通过率") for k, s in
      enumerate(("自规提名", "住建加工", "民政确认", "不动产登记", "公安组装", "网格核验"), start=1)],
    MetricDef("lead_time_median_days", "增量地址生产周期中位数", unit="天"),
    MetricDef("lead_time_p90_days", "增量地址生产周期90分位数", unit="天"),
    MetricDef("white_model_coverage", "白模覆盖率（县域）", parts_unit="m²"),
    MetricDef("fine_model_coverage", "精模覆盖率（中心城区）", parts_unit="m²"),
    MetricDef("full_fine_model_coverage", "精模覆盖率（全域）", parts_unit="m²"),
    MetricDef("smart_compound_count", "智慧小区数", unit="个"),
    MetricDef("white_model_completeness", "白模完整率（对照实有房屋）"),
    MetricDef("digital_construction_pilots", "工程项目数字化建造试点数（累计）", unit="个"),
    MetricDef("integrated_project_area", "建筑工业化和信息化融合项目面积（累计）", unit="万平方米"),
    MetricDef("digital_construction_share", "当年批准工程项目采用数字化建造模式比例"),
    MetricDef("integrated_project_share", "当年批准新建建筑中融合项目面积比例"),
    MetricDef("beidou_grid_rate", "北斗网格码关联率"),
    MetricDef("facility_coding_rate", "设施赋码率{cls}"),
    MetricDef("sensor_access_count", "接入的感知设施数（截至月末）", unit="个"),
    MetricDef("entity_coding_rate", "万物标识编码赋码率{cls}"),
    MetricDef("records_added", "政务数据新增记录数", unit="条"),
    MetricDef("demo_zone_fine_model_coverage", "精模覆盖率（CIM示范区）", parts_unit="m²"),
    MetricDef("pilot_cim_coverage", "CIM基础平台覆盖率（中心城区）", parts_unit="m²"),
]}
"""Every metric the workbench computes (see ``docs/metrics.md`` for numerator, denominator and linking)."""

STAGES = ("自规提名", "住建加工", "民政确认", "不动产登记", "公安组装", "网格核验")


@dataclass(frozen=True)
class Target:
    """A dated target of the work plan: ``metric`` of ``dataset`` must reach ``target`` by ``deadline``."""

    target_id: str
    name_zh: str
    metric_id: str
    dataset: str
    target: float
    deadline: str  # YYYY-MM-DD
    comparator: str = ">="


def target_of(indicator) -> Target:
    """An acceptance indicator (:class:`standards_checks.programmes.Indicator`) as a :class:`Target`
    (``target_id`` = ``indicator_id``)."""
    return Target(indicator.indicator_id, indicator.name_zh, indicator.metric_id, indicator.dataset, indicator.target,
                  indicator.deadline, indicator.comparator)


class _TargetsFromIndicators(Sequence):
    """The dated targets of the metrics table, read from the default programme's file on first use.

    ``standards_checks/programmes/<id>.yaml`` is the one place where each target is defined; this sequence holds
    the computable entries of :data:`standards_checks.programmes.DEFAULT_PROGRAMME` whose metric is one of
    :data:`METRICS` and whose area is the county, as :class:`Target` (``target_id`` is the ``indicator_id``).
    """

    def __init__(self):
        self._items: tuple | None = None

    def _load(self) -> tuple:
        if self._items is None:
            from standards_checks.programmes import load_indicators

            self._items = tuple(target_of(i) for i in load_indicators()
                                if i.computable and i.metric_id in METRICS and i.area == "county")
        return self._items

    def __getitem__(self, index):
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"TARGETS({list(self._load())!r})"


TARGETS = _TargetsFromIndicators()
"""Targets of the default programme (随州, ``standards_checks/programmes/suizhou.yaml``) on the metrics of
:data:`METRICS` (the single source of targets and deadlines; see ``docs/metrics.md``)."""
