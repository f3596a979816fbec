"""Render the rule catalogue (docs/checks.md) from the rule registry, so the document cannot drift from the code.

    .venv/bin/python -m standards_checks.rules_doc > docs/checks.md
"""

from __future__ import annotations

import standards_checks.schemas  # noqa: F401  (registers every rule)
from standards_checks.api import RULES

_HEAD = """# 标准检查规则 / Standard check rules

由 `python -m standards_checks.rules_doc` 从规则注册表生成（请勿手改）。每条规则：编号、适用数据集（`*` 为所有
数据集，GEO 规则适用于所有空间数据集）、级别（error 计入治理率，warning 仅提示；`grid_code` 字段上的北斗网格码规则只计入
北斗网格码关联率，不计入治理率）、依据的标准条款、中文说明。
标“待核实”的规则依据的条款尚未与标准原文逐字核对（见 ../shared/STANDARDS.md）。

Findings table (`findings.parquet` / `findings.csv`): `dataset, rule_id, severity, record_id, column, value (masked
if personal), message, standard, geometry` — one row per failing record × rule. `summary.csv`: per dataset × rule
that ran: `checked, failed, rate`.

| 编号 | 数据集 | 级别 | 字段 | 说明 | 依据 |
|---|---|---|---|---|---|
"""


_CACHE = """
## 记录缓存 / Record cache

一标三实登记数据（{schemas}）逐月快照中的大多数记录与上月相同。下列规则只看记录自身的字段（以及固定的参考图层：
行政区划、建筑白模），其结果按记录内容（全部字段与几何的哈希）保存在记录缓存中（`$CIM_CACHE`，默认
`~/.cache/cim-workbench`；见 `cimlib/cache.py`），同样内容的记录在任何月份、任何一次 `cim check`/`cim metrics`/`cim report`
中不再重复检查；规则集（程序代码）、字段名与类型、坐标系或参考图层内容任一变化即换用新的缓存。其余规则（重复、
登记数据之间的关联、地址要素树）每次对全部记录执行。缓存只存哈希和规则编号，不存字段值；可随时删除；
`--no-cache`（或环境变量 `CIM_NO_CACHE=1`）不使用缓存，结果完全相同（测试逐项比较）。

逐条缓存的规则：{rules}
"""


_PARTITIONED = """
## 分区检查 / Partitioned checking

登记数据文件大到不宜整表读入内存时（`--partition auto`：预计超过本机内存的 `$CIM_MEMORY_SHARE`，默认 0.1；或
`--partition always`），`cim check`、`cim metrics`、`cim report` 按行分区（Parquet 按行组切分，每区约
`--partition-rows` 条，默认 500000；按街道写出的文件即一街道一区）逐区检查（`standards_checks/backends/partitioned.py`）：
字段约束和上表“逐条缓存”的规则在每个分区上执行；比较记录之间的规则（重复、关联、地址要素树）声明它读取的字段，
在整个数据集的这几个字段上执行一次，再由各分区写出问题记录。问题表与整表检查逐行相同、顺序相同（测试逐项比较）。
分区任务在已连接的 dask.distributed 集群上运行（`--scheduler` 或 `$CIM_DASK_SCHEDULER`），否则在本进程中逐区执行。

| 规则 | 数据集 | 在整个数据集上读取的字段 |
|---|---|---|
{rows}
"""


def render() -> str:
    from standards_checks.backends.pandas import _GENERIC, CACHED_SCHEMAS

    rows = []
    for r in sorted(RULES.values(), key=lambda r: r.rule_id):
        note = "（待核实）" if r.provisional else ""
        rows.append(f"| {r.rule_id} | {r.schema} | {r.severity} | {r.column or ''} | {r.message}{note} | {r.standard} |")
    cached = sorted(r.rule_id for r in RULES.values()
                    if (r.schema in CACHED_SCHEMAS and (r.kind == "column" or r.per_record))
                    or (r.rule_id in _GENERIC and r.per_record))
    tail = _CACHE.format(schemas="、".join(CACHED_SCHEMAS), rules="、".join(cached) + "（GEO 规则用于其中的空间数据集）")
    sets = "\n".join(f"| {r.rule_id} | {r.schema} | {'、'.join(r.reads)} |"
                     for r in sorted(RULES.values(), key=lambda r: r.rule_id) if r.reads)
    return _HEAD + "\n".join(rows) + "\n" + tail + _PARTITIONED.format(rows=sets)


if __name__ == "__main__":
    print(render(), end="")
