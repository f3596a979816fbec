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


def render() -> str:
    rows = []
    for r in sorted(RULES.values(), key=lambda r: r.rule_id):
        note = "（待核实）" if r.provisional else ""
        rows.append(f"| {r.rule_id} | {r.schema} | {r.severity} | {r.column or ''} | {r.message}{note} | {r.standard} |")
    return _HEAD + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(render(), end="")
