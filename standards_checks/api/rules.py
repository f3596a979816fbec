"""Rule declarations: every rule has a ``rule_id``, a severity, the standard clause it implements and a Chinese message.

Two kinds, both declared once and run by any engine in :mod:`standards_checks.backends`:

- **column rules** are pandera checks on a schema's ``DataFrameModel`` (``@column_rule`` wraps ``pandera.check``,
  so the model is an ordinary pandera model and runs under pandera's own lazy validation); they see one column
  and return a boolean Series, True where the value passes;
- **frame rules** see the whole dataset and, for cross-dataset rules, the other datasets of the run (a
  :class:`Context`); they return a boolean Series aligned with the frame, True where the record fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandera.pandas as pa

FINDINGS_COLUMNS = ["dataset", "rule_id", "severity", "record_id", "column", "value", "message", "standard", "geometry"]
"""The findings table (DESIGN.md): one row per failing record × rule."""


@dataclass(frozen=True)
class Rule:
    """One rule of a standard, as reported in findings and summaries."""

    rule_id: str
    schema: str
    severity: str  # "error" | "warning"
    standard: str  # e.g. "GB 11643-1999 §5"
    message: str  # Chinese
    column: str | None = None
    kind: str = "column"  # column | frame | structure
    fn: Callable | None = field(default=None, compare=False, repr=False)
    needs: tuple[str, ...] = ()  # other datasets a frame rule reads
    provisional: bool = False
    per_record: bool = False  # a frame rule judging each record by itself (and fixed reference layers): cacheable
    reads: tuple[str, ...] | None = None  # a set rule's own fields: run once on these columns of the whole dataset


RULES: dict[str, Rule] = {}
"""Every rule by ``rule_id``: the one registry reports and summaries read."""


def _register(rule: Rule) -> None:
    if rule.severity not in ("error", "warning"):
        raise ValueError(f"{rule.rule_id}: severity must be error or warning")
    old = RULES.get(rule.rule_id)
    if old is not None and (old.schema, old.column, old.kind) != (rule.schema, rule.column, rule.kind):
        raise ValueError(f"rule_id {rule.rule_id} is declared twice")
    RULES[rule.rule_id] = rule


def column_rule(schema: str, column: str, rule_id: str, *, severity: str, standard: str, message: str,
                provisional: bool = False):
    """Declare a column rule on a pandera ``DataFrameModel`` method (a vectorized check: Series -> bool Series).

    Null values are not passed to the check (pandera drops them first); whether a column may be null is the
    column's own ``nullable`` setting or a separate rule.
    """
    _register(Rule(rule_id, schema, severity, standard, message, column=column, kind="column", provisional=provisional))
    return pa.check(column, name=rule_id, error=rule_id)


def frame_rule(schema: str, rule_id: str, *, severity: str, standard: str, message: str, column: str | None = None,
               needs: tuple[str, ...] = (), provisional: bool = False, per_record: bool = False,
               reads: tuple[str, ...] | None = None):
    """Declare a frame rule: ``fn(frame, ctx) -> bool Series`` (True = the record fails).

    ``per_record=True`` declares that the result for a record depends only on that record's own fields and on the
    datasets in ``needs`` (reference layers such as 行政区划 or 建筑白模), never on the other records of the same
    dataset: the engine may then check any subset of records and reuse a record's result wherever the same content
    recurs (:mod:`cimlib.cache`). Rules over the set (duplicates, links to another register, the address tree) leave
    it False.

    ``reads`` names, for a rule that is not ``per_record``, the fields of its own dataset it reads (absent ones are
    skipped). The partitioned engine (:mod:`standards_checks.backends.partitioned`) runs such a rule once on these
    columns of the whole dataset, read without the rest, and every other rule one partition at a time; a register
    with a set rule that does not declare ``reads`` is checked in memory.
    """

    def deco(fn):
        _register(Rule(rule_id, schema, severity, standard, message, column=column, kind="frame", fn=fn, needs=needs,
                       provisional=provisional, per_record=per_record, reads=tuple(reads) if reads else None))
        return fn

    return deco


def dataset_rules(schema: str) -> list[Rule]:
    """The frame rules of a schema, in declaration order."""
    return [r for r in RULES.values() if r.schema == schema and r.kind == "frame"]


# Structural problems found while reading or validating a dataset's shape (any schema).
_STRUCTURAL = {
    "unreadable": Rule("SYS-001", "*", "error", "数据交换约定（数据目录）", "数据集无法读取", kind="structure"),
    "missing_column": Rule("SYS-002", "*", "error", "CJJ/T 315-2022 数据字段约束（M 必填）", "缺少必填字段", kind="structure"),
    "dtype": Rule("SYS-003", "*", "error", "CJJ/T 315-2022 数据字段约束", "字段类型不符", kind="structure"),
    "null": Rule("SYS-004", "*", "error", "CJJ/T 315-2022 数据字段约束（M 必填）", "必填字段为空", kind="structure"),
    "duplicate_id": Rule("SYS-005", "*", "error", "数据目录 id_column 约定", "记录标识重复", kind="structure"),
    "rule_failed": Rule("SYS-006", "*", "warning", "数据目录 / 规则依赖", "规则无法执行（所需数据或字段不可用）", kind="structure"),
    "read_assumption": Rule("SYS-007", "*", "warning", "数据交换约定（UTF-8 编码、.prj 坐标系文件、单行表头）",
                            "读取时作了假定（编码、坐标系或表格结构）", kind="structure"),
    "extra_column": Rule("SYS-008", "*", "warning", "CJJ/T 315-2022 数据字段约束（字段表）", "字段不在该数据集的字段表中",
                         kind="structure"),
    "crs": Rule("GEO-005", "*", "error", "CJJ/T 315-2022：CGCS2000 坐标系（EPSG:4490）与目录声明一致",
                "文件坐标参考系与目录声明不一致", kind="structure"),
}
for _r in _STRUCTURAL.values():
    RULES[_r.rule_id] = _r


def structural_rule_id(kind: str) -> str:
    """rule_id of a structural problem: unreadable, missing_column, dtype, null, duplicate_id, rule_failed,
    read_assumption, extra_column, crs."""
    return _STRUCTURAL[kind].rule_id
