"""The address production pipeline log (增量地址生产) and the programme's task list."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cimlib.demo._defects import Truth
from cimlib.demo._timeline import REFERENCE, Timeline

STAGES = [
    ("自规提名", "市自然资源和规划局"),
    ("住建加工", "市住房和城乡建设局"),
    ("民政确认", "市民政局"),
    ("不动产登记", "市不动产登记中心"),
    ("公安组装", "市公安局"),
    ("网格核验", "区社会治理网格中心"),
]
RETURN_REASONS = ["地址要素缺失", "门牌号重复", "坐标偏离建筑物", "行政区划代码不一致", "名称不规范"]
FIRST_FAIL_RATE = 0.04


def build_pipeline(rng: np.random.Generator, addresses: pd.DataFrame, truth: Truth, first_period: str = REFERENCE.periods[0]
                   ) -> pd.DataFrame:
    """One row per address × stage × attempt for the addresses produced after ``first_period`` (the registers'
    first month: 2024-02..2024-09 on the reference timeline), finished inside the month they entered the register.

    A share of addresses is returned (退回) at one stage on first submission and passes on the second; these are
    the ones that fail 增量地址生产合格率 (defect ``first_submission_failed``).
    """
    new = addresses[addresses["address_type"].isin(["建筑物", "户室"]) & (addresses["entry_period"] > first_period)]
    n = len(new)
    ids = new["address_id"].to_numpy()
    month_start = pd.to_datetime(new["entry_period"].to_numpy(), format="%Y-%m").to_numpy()
    finish = month_start + (rng.uniform(1, 27, n) * 86400).astype("timedelta64[s]")
    fail = rng.random(n) < FIRST_FAIL_RATE
    fail_stage = rng.integers(0, len(STAGES), n)
    dur = (rng.lognormal(np.log(20), 0.7, (n, len(STAGES))) * 3600).astype("int64")  # seconds per stage
    rework = np.where(fail, (rng.lognormal(np.log(30), 0.5, n) * 3600).astype("int64"), 0)

    frames = []
    end = finish.copy()  # walk back from the finish time: later stages end later
    per_stage = []
    for k in range(len(STAGES) - 1, -1, -1):
        start = end - dur[:, k].astype("timedelta64[s]")
        redo = fail & (fail_stage == k)
        # the second attempt occupies [start, end]; the first attempt ended with 退回 before rework
        first_end = start - rework.astype("timedelta64[s]")
        first_start = first_end - dur[:, k].astype("timedelta64[s]")
        per_stage.append((k, np.where(redo, first_start, start), start, end, redo, first_end))
        end = np.where(redo, first_start, start)
    for k, s0, s1, e1, redo, e0 in per_stage:
        stage, dept = STAGES[k]
        frames.append(pd.DataFrame({"address_id": ids, "stage_order": k + 1, "stage": stage, "department": dept,
                                    "attempt": 1, "submitted_at": s0, "completed_at": np.where(redo, e0, e1),
                                    "result": np.where(redo, "退回", "通过"),
                                    "reason": np.where(redo, np.array(RETURN_REASONS)[rng.integers(0, 5, n)], "")}))
        if redo.any():
            frames.append(pd.DataFrame({"address_id": ids[redo], "stage_order": k + 1, "stage": stage, "department": dept,
                                        "attempt": 2, "submitted_at": s1[redo], "completed_at": e1[redo],
                                        "result": "通过", "reason": ""}))
    df = pd.concat(frames, ignore_index=True)
    df["period"] = pd.Series(new["entry_period"].to_numpy(), index=ids).reindex(df["address_id"]).to_numpy()
    df = df.sort_values(["address_id", "stage_order", "attempt"], kind="stable").reset_index(drop=True)
    df.insert(0, "step_id", df["address_id"] + "-" + df["stage_order"].astype(str) + "-" + df["attempt"].astype(str))
    df["submitted_at"] = df["submitted_at"].astype("datetime64[s]")
    df["completed_at"] = df["completed_at"].astype("datetime64[s]")
    # the record that fails is the returned first submission of the stage
    truth.add("address_pipeline", ids[fail] + "-" + (fail_stage[fail] + 1).astype(str) + "-1", "first_submission_failed")
    return df


TASKS = [
    ("底座平台建设：CIM平台", "市住房和城乡建设局", "2024-03-31"),
    ("底座平台建设：一标三实管理系统", "市公安局", "2024-03-31"),
    ("底座平台建设：编码赋码系统", "市政务服务和大数据管理局", "2024-03-31"),
    ("一标三实增量地址生产流水线建设", "市民政局", "2024-03-31"),
    ("CIM空间与一标三实数据治理启动", "市自然资源和规划局", "2024-03-31"),
    ("制度规则标准规范本地化建设启动", "市政务服务和大数据管理局", "2024-03-31"),
    ("一标三实数据治理：实有人口上图率达到50%", "市公安局", "2024-06-30"),
    ("一标三实数据治理：实有人口上图率达到100%", "市公安局", "2024-09-30"),
    ("一标三实数据治理：实有房屋编码率达到50%", "市住房和城乡建设局", "2024-06-30"),
    ("一标三实数据治理：实有房屋编码率达到100%", "市住房和城乡建设局", "2024-09-30"),
    ("一标三实数据治理：实有单位上图率达到100%", "市市场监督管理局", "2024-09-30"),
    ("标准地址库建设：增量地址生产合格率100%", "市民政局", "2024-09-30"),
    ("标准地址库建设：存量地址治理完成", "市公安局", "2024-08-31"),
    ("全市域三维白模建设", "市自然资源和规划局", "2024-06-30"),
    ("中心城区精模建设", "市自然资源和规划局", "2024-09-30"),
    ("CIM基础平台上线运行", "市住房和城乡建设局", "2024-05-31"),
    ("城市控制线数据入库", "市自然资源和规划局", "2024-04-30"),
    ("房屋编码赋码全覆盖", "市住房和城乡建设局", "2024-09-30"),
    ("不动产单元代码关联", "市不动产登记中心", "2024-07-31"),
    ("物联感知设备接入（道路覆盖不少于10公里）", "市城市管理执法局", "2024-08-31"),
    ("供水管网压力监测点位建设", "市水务局", "2024-07-31"),
    ("排水防涝积水监测点位建设", "市水务局", "2024-06-15"),
    ("燃气管网监测设备接入", "市城市管理执法局", "2024-09-30"),
    ("智慧社区平台覆盖30%社区", "市民政局", "2024-09-30"),
    ("网格化核验机制建立", "区社会治理网格中心", "2024-03-31"),
    ("数据分类分级与安全管理制度", "市政务服务和大数据管理局", "2024-04-30"),
    ("城市数字公共基础设施标准体系编制", "市政务服务和大数据管理局", "2024-06-30"),
    ("统一身份与编码赋码平台建设", "市政务服务和大数据管理局", "2024-08-31"),
]


MILESTONES = ("2024-03-31", "2024-06-30", "2024-09-30")
"""The programme's nodes in the reference frame: a task belongs to the first node on or after its deadline."""


def build_tasks(rng: np.random.Generator, county_code: str, timeline: Timeline = REFERENCE, as_of: str | None = None
                ) -> pd.DataFrame:
    """The programme's task list (任务清单) with department, deadline, status and completion date.

    Deadlines and the milestone nodes are :data:`TASKS` and :data:`MILESTONES` moved to ``timeline``; a milestone
    is named from its moved date (``2024年3月节点`` on the reference timeline, ``2021年6月节点`` on one ending 2021-12).
    ``as_of`` (default the timeline's last day) decides what is done, in progress or not started.
    """
    n = len(TASKS)
    name, dept, deadline = (np.array(c) for c in zip(*TASKS))
    deadline = pd.to_datetime([timeline.date(d) for d in deadline])
    as_of = as_of or timeline.date(MILESTONES[-1])
    nodes = [pd.Timestamp(timeline.date(d)) for d in MILESTONES]
    start = deadline - pd.to_timedelta(rng.integers(60, 200, n), unit="D")
    done = rng.random(n) < 0.7
    late = rng.integers(-20, 25, n)
    completed = pd.Series(deadline + pd.to_timedelta(late, unit="D")).where(done & (deadline + pd.to_timedelta(late, unit="D") <= pd.Timestamp(as_of)))
    status = np.where(completed.notna(), "已完成", np.where(start <= pd.Timestamp(as_of), "进行中", "未开始"))
    progress = np.where(status == "已完成", 100, np.where(status == "进行中", rng.integers(10, 95, n), 0))
    return pd.DataFrame({
        "task_id": [f"{county_code}T{i + 1:03d}" for i in range(n)], "task_name": name, "department": dept,
        "start_date": start.date, "deadline": deadline.date, "status": status, "progress_pct": progress.astype("int64"),
        "completed_date": [d.date() if pd.notna(d) else None for d in completed],
        "milestone": np.select([deadline <= nodes[0], deadline <= nodes[1]],
                               [f"{t.year}年{t.month}月节点" for t in nodes[:2]], f"{nodes[2].year}年{nodes[2].month}月节点"),
    })
