"""实有房屋 (houses): 房屋代码 JGJ/T 246-2012, 不动产单元代码 GB/T 37346-2019, links to buildings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from cimlib.codes.ids import bdcdyh_valid, house_code_valid
from cimlib.lookup import index_in
from standards_checks.api import column_rule, frame_rule
from standards_checks.schemas._common import Model, repeated, unlinked
from standards_checks.schemas._grid import declare_grid_rules


class Houses(Model):
    """Columns of the 实有房屋 register."""

    house_id: Series[str]
    house_code: Series[str] = pa.Field(nullable=True)
    bdcdyh: Series[str] = pa.Field(nullable=True)
    building_id: Series[str] = pa.Field(nullable=True)
    building_code: Series[str] = pa.Field(nullable=True)

    @column_rule("houses", "house_code", "HSE-001", severity="error",
                 standard="JGJ/T 246-2012 房屋代码结构与校验码（校验表待核实）", message="房屋代码无效（结构或校验码错误）",
                 provisional=True)
    def house_code_valid(cls, s: Series[str]) -> Series[bool]:
        return pd.Series(house_code_valid(s), index=s.index)

    @column_rule("houses", "bdcdyh", "HSE-005", severity="error", standard="GB/T 37346-2019 不动产单元代码结构",
                 message="不动产单元代码结构错误")
    def bdcdyh_valid(cls, s: Series[str]) -> Series[bool]:
        return pd.Series(bdcdyh_valid(s), index=s.index)


@frame_rule("houses", "HSE-002", severity="error", standard="编码赋码：房屋应赋房屋代码", message="房屋未赋码（房屋代码为空）",
            column="house_code", per_record=True)
def code_missing(frame, ctx) -> pd.Series:
    return frame["house_code"].isna()


@frame_rule("houses", "HSE-003", severity="error", standard="JGJ/T 246-2012：房屋代码唯一", message="房屋代码重复",
            column="house_code", reads=("house_code",))
def code_duplicate(frame, ctx) -> pd.Series:
    return repeated(frame, "house_code")


@frame_rule("houses", "HSE-004", severity="error", standard="一标三实：实有房屋关联建筑物", message="实有房屋未关联到存在的建筑物",
            column="building_id", needs=("buildings",), per_record=True)
def no_building(frame, ctx) -> pd.Series:
    return unlinked(frame, "building_id", ctx, "buildings")


@frame_rule("houses", "HSE-006", severity="error", standard="制码用码一致：同一建筑在各部门数据中编码一致",
            message="房屋所记建筑物编码与建筑白模中该建筑的编码不一致", column="building_code", needs=("buildings",),
            per_record=True)
def building_code_consistent(frame, ctx) -> pd.Series:
    b = ctx.frame("buildings")
    pos = index_in(frame["building_id"], b["building_id"])
    expected = b["building_code"].to_numpy(dtype=object)[np.maximum(pos, 0)]
    has = (pos >= 0) & pd.notna(expected) & frame["building_code"].notna().to_numpy()
    return pd.Series(has & (frame["building_code"].to_numpy(dtype=object) != expected), index=frame.index)


# 北斗网格码 (optional grid_code): the code's cell must meet the footprint of the house's building
declare_grid_rules("houses", "HSE-008", "HSE-009", "HSE-010", location="building")
