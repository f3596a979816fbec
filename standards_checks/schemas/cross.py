"""Cross-dataset code rules: a code means one entity in every dataset that carries it (编码唯一、制码用码一致)."""

from __future__ import annotations

import pandas as pd

from cimlib.lookup import isin
from standards_checks.api import frame_rule

CODE_CARRIERS = {"building_code": {"owner": ("buildings", "building_id"), "carriers": {"houses": "building_id"}}}
"""Codes carried by more than one dataset: the dataset that issues the code (制码) and the entity id column in each
dataset that uses it (用码)."""


def _ambiguous(frame, ctx, code: str, entity_col: str) -> pd.Series:
    spec = CODE_CARRIERS[code]
    owner, owner_id = spec["owner"]
    owner_frame = ctx.frame(owner)
    pairs = [owner_frame[[code, owner_id]].rename(columns={owner_id: "_entity"})]
    for name, col in spec["carriers"].items():
        other = ctx.frame(name)
        if code in other and col in other:
            pairs.append(other[[code, col]].rename(columns={col: "_entity"}))
    allp = pd.concat(pairs, ignore_index=True).dropna()
    allp = allp[isin(allp["_entity"], owner_frame[owner_id])]  # dangling links are the link rules' business
    n = allp.drop_duplicates().groupby(code)["_entity"].nunique()
    bad = n.index[n > 1]
    resolvable = isin(frame[entity_col], owner_frame[owner_id])
    return pd.Series(isin(frame[code], pd.Series(bad, dtype="str")) & resolvable, index=frame.index)


@frame_rule("buildings", "BLD-007", severity="error", standard="编码赋码：同一编码在所有数据集中只指向一个实体",
            message="建筑物编码在各部门数据中指向不同的建筑", column="building_code", needs=("houses",))
def building_code_ambiguous(frame, ctx) -> pd.Series:
    return _ambiguous(frame, ctx, "building_code", "building_id")


@frame_rule("houses", "HSE-007", severity="error", standard="编码赋码：同一编码在所有数据集中只指向一个实体（制码用码一致）",
            message="房屋所记建筑物编码在各部门数据中指向不同的建筑", column="building_code", needs=("buildings",), reads=("building_code", "building_id"))
def house_building_code_ambiguous(frame, ctx) -> pd.Series:
    return _ambiguous(frame, ctx, "building_code", "building_id")
