"""工作任务清单 (tasks) and the 增量地址生产流程记录 (address pipeline log)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from standards_checks.api import column_rule, frame_rule
from standards_checks.schemas._common import Model

TASK_STATUSES = ("已完成", "进行中", "未开始", "逾期")
PIPELINE_STAGES = ("自规提名", "住建加工", "民政确认", "不动产登记", "公安组装", "网格核验")
PIPELINE_RESULTS = ("通过", "退回")


class Tasks(Model):
    """The programme's task list."""

    task_id: Series[str]
    task_name: Series[str]
    department: Series[str]
    deadline: Series[pd.Timestamp] = pa.Field(nullable=True)
    status: Series[str]

    @column_rule("tasks", "status", "TSK-001", severity="error", standard="工作方案任务清单：任务状态",
                 message=f"任务状态应为 {'/'.join(TASK_STATUSES)} 之一")
    def status_known(cls, s: Series[str]) -> Series[bool]:
        return s.isin(TASK_STATUSES)


@frame_rule("tasks", "TSK-002", severity="error", standard="工作方案任务清单：每项任务有完成时限", message="任务缺少截止日期",
            column="deadline")
def deadline_missing(frame, ctx) -> pd.Series:
    return frame["deadline"].isna()


@frame_rule("tasks", "TSK-003", severity="warning", standard="工作方案任务清单：完成状态与完成日期一致",
            message="任务状态与完成日期不一致（已完成须有完成日期，未完成不应有）", column="completed_date")
def completion_consistent(frame, ctx) -> pd.Series:
    done = frame["status"] == "已完成"
    has_date = frame["completed_date"].notna() if "completed_date" in frame else pd.Series(False, index=frame.index)
    return done != has_date


class AddressPipeline(Model):
    """One row per address × stage × attempt."""

    step_id: Series[str]
    address_id: Series[str]
    stage: Series[str]
    attempt: Series[int]
    submitted_at: Series[pd.Timestamp]
    completed_at: Series[pd.Timestamp] = pa.Field(nullable=True)
    result: Series[str] = pa.Field(nullable=True)

    @column_rule("address_pipeline", "stage", "PIP-001", severity="error",
                 standard="增量地址生产流程：自规提名→住建加工→民政确认→不动产登记→公安组装→网格核验", message="流程环节名称不在规定环节之内")
    def stage_known(cls, s: Series[str]) -> Series[bool]:
        return s.isin(PIPELINE_STAGES)

    @column_rule("address_pipeline", "result", "PIP-002", severity="error", standard="增量地址生产流程：环节结论",
                 message="环节结论应为 通过/退回")
    def result_known(cls, s: Series[str]) -> Series[bool]:
        return s.isin(PIPELINE_RESULTS)


@frame_rule("address_pipeline", "PIP-003", severity="error", standard="增量地址生产流程：办结时间不早于提交时间",
            message="环节办结时间早于提交时间", column="completed_at")
def time_order(frame, ctx) -> pd.Series:
    return frame["completed_at"].notna() & (frame["completed_at"] < frame["submitted_at"])
