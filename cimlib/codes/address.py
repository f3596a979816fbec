"""统一标准地址 (standard address) element types and vectorized tree rules.

**Provisional** (STANDARDS.md §3, "to verify"): the element type codes follow the GA-style code lists seen in
public police-system code and the 6-level element tree of Hubei DB42/T 2175-2024; the standard's own text was not
at hand. Everything that encodes these assumptions lives in :data:`ELEMENT_TYPES`, :data:`SAME_LEVEL_PARENTS`,
:data:`ROOM_INTERMEDIATES` and the ``*_DEFINING`` sets below, so a correction is made in one place.

The rule functions work on an address table with columns ``address_id, parent_id, element_type, level, name,
door_plate, full_address, street_code, community_code`` (as written by the sample city, ``cimlib.demo``). Each
returns a boolean Series aligned with the table's index, True where the row violates the rule. They are
vectorized: parents (and grandparents) are found with one ``pandas.Index.get_indexer`` per step, never by
recursion per row. If ``address_id`` repeats, a ``parent_id`` resolves to the first row carrying that id
(duplicates are a separate uniqueness rule). Missing values in text columns count as ``""``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Element types (provisional). ``level`` 1..6 is the tree level (the first digit of the code); ``address_type``
#: groups them as 行政区划 / 街路巷 / 院落 / 建筑物 / 单元 / 楼层 / 户室. The group codes 10, 20, 30, 40, 60 are
#: headings of the code list, not element types. 63 楼层 is included because STANDARDS.md §3 lists 楼层 among
#: the address types (a 户室 may hang under a floor); its code is an assumption.
ELEMENT_TYPES = pd.DataFrame(
    [("11", "省（自治区、直辖市）", 1, "行政区划"), ("12", "市（地区、州、盟）", 1, "行政区划"),
     ("13", "县（区、县级市、旗）", 1, "行政区划"),
     ("21", "乡", 2, "行政区划"), ("22", "镇", 2, "行政区划"), ("23", "街道", 2, "行政区划"),
     ("31", "社区", 3, "行政区划"), ("32", "居委会", 3, "行政区划"), ("33", "村委会", 3, "行政区划"),
     ("34", "组", 3, "行政区划"),
     ("41", "街路巷", 4, "街路巷"), ("42", "小区", 4, "院落"), ("43", "单位院", 4, "院落"), ("44", "自然村", 4, "院落"),
     ("50", "建筑物", 5, "建筑物"),
     ("61", "单元", 6, "单元"), ("62", "户室", 6, "户室"), ("63", "楼层", 6, "楼层")],
    columns=["code", "name_zh", "level", "address_type"],
).astype({"code": "str", "name_zh": "str", "level": "int64", "address_type": "str"})

#: (child type, parent type) pairs allowed although both are on the same level (provisional): the levels of 省/市/县
#: (all level 1), 组 under a 社区/居委会/村委会, and inside a building 单元 → 楼层 → 户室.
SAME_LEVEL_PARENTS = frozenset({
    ("12", "11"), ("13", "11"), ("13", "12"),
    ("34", "31"), ("34", "32"), ("34", "33"),
    ("62", "61"), ("62", "63"), ("63", "61"),
})
#: Element types allowed between a 户室 and its 建筑物 (provisional): 户室 → [楼层 →] [单元 →] 建筑物.
ROOM_INTERMEDIATES = frozenset({"61", "63"})
ROOM, BUILDING = "62", "50"
#: Admin element types that define (rather than inherit) ``street_code`` / ``community_code``.
STREET_DEFINING = frozenset({"21", "22", "23"})
COMMUNITY_DEFINING = frozenset({"31", "32", "33"})


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    """Column as ``str`` with missing values as ``""`` (a missing column is all ``""``)."""
    if col not in df.columns:
        return pd.Series("", index=df.index, dtype="str")
    s = df[col]
    if s.dtype != "str":
        s = s.astype("str")
    return s.fillna("")


def _types(df: pd.DataFrame) -> np.ndarray:
    return _text(df, "element_type").to_numpy(dtype=object)


def _type_index(df: pd.DataFrame) -> np.ndarray:
    """Row of :data:`ELEMENT_TYPES` for each row's type (-1 when unknown): integer codes for fast comparisons."""
    return pd.Index(ELEMENT_TYPES["code"].to_numpy(dtype=object)).get_indexer(_types(df))


def _type_ids(codes) -> np.ndarray:
    return pd.Index(ELEMENT_TYPES["code"].to_numpy(dtype=object)).get_indexer(list(codes))


def _levels(df: pd.DataFrame) -> np.ndarray:
    """Level per row as float (NaN when unknown); derived from element_type if there is no ``level`` column."""
    if "level" in df.columns:
        return pd.to_numeric(df["level"], errors="coerce").to_numpy(dtype="float64")
    lv = pd.Series(ELEMENT_TYPES["level"].to_numpy(), index=ELEMENT_TYPES["code"].to_numpy())
    return pd.Series(_types(df)).map(lv).to_numpy(dtype="float64")


_PARENTS: dict[int, tuple] = {}


def _parent_pos(df: pd.DataFrame) -> np.ndarray:
    """Row position of each row's parent (-1 when the parent id is empty or not found); computed once per table
    (the tree rules all walk it), again when its id columns are replaced."""
    import weakref

    from cimlib.lookup import index_in

    key = tuple(id(df[c].array) if c in df else None for c in ("address_id", "parent_id"))
    hit = _PARENTS.get(id(df))
    if hit is not None and hit[0]() is df and hit[1] == key and len(hit[2]) == len(df):
        return hit[2]
    ids = _text(df, "address_id").reset_index(drop=True)
    first = (~ids.duplicated() & (ids != "")).to_numpy()
    where = np.flatnonzero(first)
    pos = index_in(_text(df, "parent_id"), ids[first])
    out = np.where(pos >= 0, where[np.maximum(pos, 0)], -1)
    out.flags.writeable = False
    try:
        _PARENTS[id(df)] = (weakref.ref(df), key, out)
    except TypeError:
        pass
    for k in [k for k, v in _PARENTS.items() if v[0]() is None]:   # tables that are gone
        del _PARENTS[k]
    return out


def _up(pos: np.ndarray, ppos: np.ndarray) -> np.ndarray:
    """One more step up: parent position of each position (-1 stays -1)."""
    return np.where(pos >= 0, ppos[np.maximum(pos, 0)], -1)


def _take(values: np.ndarray, pos: np.ndarray, fill):
    return np.where(pos >= 0, values[np.maximum(pos, 0)], fill)


def _result(df: pd.DataFrame, mask: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(mask, dtype=bool), index=df.index)


def unknown_element_type(df: pd.DataFrame) -> pd.Series:
    """True where ``element_type`` is not a code of :data:`ELEMENT_TYPES` (incl. missing and group codes 10…60)."""
    return _result(df, _type_index(df) < 0)


def level_mismatch(df: pd.DataFrame) -> pd.Series:
    """True where ``level`` differs from the level of a known ``element_type`` (unknown types are not judged)."""
    lv = pd.Series(ELEMENT_TYPES["level"].to_numpy(dtype="float64"), index=ELEMENT_TYPES["code"].to_numpy())
    expected = pd.Series(_types(df)).map(lv).to_numpy(dtype="float64")
    return _result(df, ~np.isnan(expected) & (_levels(df) != expected))


def parent_missing(df: pd.DataFrame) -> pd.Series:
    """True where the parent is missing: an element below level 1 with an empty ``parent_id``, or any element whose
    non-empty ``parent_id`` is not the ``address_id`` of a row (a dangling reference).

    Level-1 elements (the root of the tree, e.g. the county) have an empty parent and are not flagged.
    """
    parent = _text(df, "parent_id").to_numpy(dtype=object)
    level = _levels(df)
    found = _parent_pos(df) >= 0
    empty = parent == ""
    return _result(df, (empty & ~(level == 1)) | (~empty & ~found))


def parent_level_invalid(df: pd.DataFrame) -> pd.Series:
    """True where the parent exists but is not on a higher level (a smaller ``level`` number) than the element.

    Same-level pairs of :data:`SAME_LEVEL_PARENTS` are allowed (户室 under 单元 or 楼层, 楼层 under 单元, 县 under
    市 under 省, 组 under 社区/村委会). Rows whose parent is missing (see :func:`parent_missing`) or whose levels are
    unknown are not judged here.
    """
    ppos = _parent_pos(df)
    level = _levels(df)
    plevel = _take(level, ppos, np.nan)
    t = _type_index(df)
    pt = _take(t, ppos, -1)
    table = np.zeros((len(ELEMENT_TYPES) + 1, len(ELEMENT_TYPES) + 1), dtype=bool)  # last row/column: unknown (-1)
    pairs = list(SAME_LEVEL_PARENTS)
    table[_type_ids(c for c, _ in pairs), _type_ids(p for _, p in pairs)] = True
    allowed = table[t, pt]
    judged = (ppos >= 0) & ~np.isnan(level) & ~np.isnan(plevel)
    return _result(df, judged & ~(plevel < level) & ~allowed)


def room_not_under_building(df: pd.DataFrame) -> pd.Series:
    """True where a 户室 (62) does not reach a 建筑物 (50) through its ancestors.

    Accepted chains (provisional): 户室 → 建筑物; 户室 → 单元 or 楼层 → 建筑物; 户室 → 楼层 → 单元 → 建筑物. So
    "within 2 steps", or 3 when both 单元 and 楼层 are present. A chain that breaks (a parent not found) before
    reaching a building is not judged here: the broken link is reported by :func:`parent_missing`.
    """
    t = _type_index(df)
    room, building, unit, floor = _type_ids([ROOM, BUILDING, "61", "63"])
    ppos = _parent_pos(df)
    p1 = ppos
    p2 = _up(p1, ppos)
    p3 = _up(p2, ppos)
    t1, t2, t3 = _take(t, p1, -1), _take(t, p2, -1), _take(t, p3, -1)
    mid1 = np.isin(t1, _type_ids(ROOM_INTERMEDIATES))
    floor_unit = (t1 == floor) & (t2 == unit)
    ok = (t1 == building) | (mid1 & (t2 == building)) | (floor_unit & (t3 == building))
    broken = (p1 < 0) | (mid1 & (p2 < 0)) | (floor_unit & (p3 < 0))
    return _result(df, (t == room) & ~ok & ~broken)


def full_address_mismatch(df: pd.DataFrame) -> pd.Series:
    """True where ``full_address != parent.full_address + door_plate + name`` (exact text, no trimming).

    Only rows whose parent is found are judged: the root's full address (e.g. 省+市+县 names) is not a
    concatenation of the tree, and a missing parent is reported by :func:`parent_missing`.
    """
    ppos = _parent_pos(df)
    full = _text(df, "full_address")
    pfull = pd.Series(_take(full.to_numpy(dtype=object), ppos, ""), dtype="str")
    expected = pfull + _text(df, "door_plate").reset_index(drop=True) + _text(df, "name").reset_index(drop=True)
    return _result(df, (ppos >= 0) & (full.to_numpy(dtype=object) != expected.to_numpy(dtype=object)))


def admin_code_mismatch(df: pd.DataFrame) -> pd.Series:
    """True where ``street_code`` / ``community_code`` disagree with the parent's.

    * Each code is inherited: where the parent carries a non-empty code, the element must carry the same one,
      except for the admin elements that define it — 乡/镇/街道 (21–23) carry their own ``street_code``, and
      社区/居委会/村委会 (31–33) their own ``community_code``.
    * A defining element must carry its own code (non-empty), and a community-level element's 12-digit
      ``community_code`` must start with its ``street_code`` (9 digits).

    Codes are compared as text; their validity is :func:`cimlib.codes.divisions.division_valid`'s job.
    """
    ppos = _parent_pos(df)
    t = _type_index(df)
    bad = np.zeros(len(df), dtype=bool)
    street = _text(df, "street_code").to_numpy(dtype=object)
    comm = _text(df, "community_code").to_numpy(dtype=object)
    for own, defining in ((street, STREET_DEFINING), (comm, COMMUNITY_DEFINING)):
        pv = _take(own, ppos, "")
        is_def = np.isin(t, _type_ids(defining))
        bad |= ~is_def & (pv != "") & (own != pv)
        bad |= is_def & (own == "")
    is_comm = np.isin(t, _type_ids(COMMUNITY_DEFINING))
    prefix = pd.Series(comm, dtype="str").str.slice(0, 9).to_numpy(dtype=object)
    bad |= is_comm & (comm != "") & (prefix != street)
    return _result(df, bad)
