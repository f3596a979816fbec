"""实有人口 (persons): 公民身份号码 GB 11643-1999, links to standard addresses (一标三实)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from cimlib.codes.ids import phone_valid, ric_valid
from standards_checks.api import column_rule, frame_rule
from standards_checks.schemas._common import Model, repeated, unlinked


class Persons(Model):
    """Columns of the 实有人口 register."""

    person_id: Series[str]
    id_number: Series[str] = pa.Field(nullable=True)
    name: Series[str] = pa.Field(nullable=True)
    phone: Series[str] = pa.Field(nullable=True)
    address_id: Series[str] = pa.Field(nullable=True)

    @column_rule("persons", "id_number", "PER-001", severity="error", standard="GB 11643-1999 §4–§5 公民身份号码结构与校验码",
                 message="公民身份号码无效（长度、出生日期或校验码错误）")
    def id_number_valid(cls, s: Series[str]) -> Series[bool]:
        return pd.Series(ric_valid(s), index=s.index)

    @column_rule("persons", "phone", "PER-004", severity="warning", standard="YD/T 2376 号码格式（手机 11 位或区号+号码）",
                 message="联系电话格式不正确")
    def phone_format(cls, s: Series[str]) -> Series[bool]:
        return pd.Series(phone_valid(s), index=s.index)


@frame_rule("persons", "PER-002", severity="error", standard="GB 11643-1999：公民身份号码唯一",
            message="公民身份号码重复（多人使用同一号码）", column="id_number", reads=("id_number",))
def id_duplicate(frame, ctx) -> pd.Series:
    return repeated(frame, "id_number")


@frame_rule("persons", "PER-003", severity="error", standard="一标三实：实有人口关联标准地址",
            message="实有人口未关联到存在的标准地址", column="address_id", needs=("addresses",), reads=("address_id",))
def no_address(frame, ctx) -> pd.Series:
    return unlinked(frame, "address_id", ctx, "addresses")
