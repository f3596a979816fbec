"""实有单位 (units): 统一社会信用代码 GB 32100-2015, links to standard addresses."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from cimlib.codes.ids import phone_valid, uscc_valid
from standards_checks.api import column_rule, frame_rule
from standards_checks.schemas._common import Model, repeated, unlinked


class Units(Model):
    """Columns of the 实有单位 register."""

    unit_id: Series[str]
    uscc: Series[str] = pa.Field(nullable=True)
    address_id: Series[str] = pa.Field(nullable=True)

    @column_rule("units", "uscc", "UNT-001", severity="error", standard="GB 32100-2015 §4 代码结构与校验码；GB 11714-1997 组织机构代码校验",
                 message="统一社会信用代码无效（结构或校验码错误）")
    def uscc_valid(cls, s: Series[str]) -> Series[bool]:
        return pd.Series(uscc_valid(s), index=s.index)


@frame_rule("units", "UNT-002", severity="error", standard="GB 32100-2015：统一社会信用代码唯一",
            message="统一社会信用代码重复", column="uscc", reads=("uscc",))
def uscc_duplicate(frame, ctx) -> pd.Series:
    return repeated(frame, "uscc")


@frame_rule("units", "UNT-003", severity="error", standard="一标三实：实有单位关联标准地址",
            message="实有单位未关联到存在的标准地址", column="address_id", needs=("addresses",), reads=("address_id",))
def no_address(frame, ctx) -> pd.Series:
    return unlinked(frame, "address_id", ctx, "addresses")


@frame_rule("units", "UNT-004", severity="warning", standard="YD/T 2376 号码格式", message="联系电话格式不正确",
            column="phone", per_record=True)
def phone_format(frame, ctx) -> pd.Series:
    s = frame["phone"] if "phone" in frame else pd.Series(pd.NA, index=frame.index)
    return s.notna() & ~pd.Series(phone_valid(s), index=frame.index)
