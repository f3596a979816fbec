"""治理率, 编码率, 上图率 of the 一标三实 registers and the house coding rate, from findings and links.

Each error-severity finding of a record counts in exactly one dimension, so a defect lowers exactly one rate:

- 编码 (code): rules on the class's identification code (its column, or listed in ``code_rules``);
- 上图 (map): rules on location and links (``map_rules``, on a location column, or a missing link column),
  measured through the linking;
- 治理 (governance): every other error-severity rule.

Findings on ``grid_code`` (the 北斗网格码 rules) count in none of the three: they lower only ``beidou_grid_rate``
(:mod:`cimlib.metrics.grid`).

A record is *governed* when it has no governance error; *coded* when governed, its code is present and it has no
code error; *on the map* when governed, linked (see :mod:`cimlib.metrics.linking`) and it has no map error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cimlib.lookup import index_in
from cimlib.metrics._spec import LOCATION_COLUMNS, RegisterClass
from standards_checks.api import structural_rule_id
from standards_checks.schemas._grid import GRID_COLUMN

STATUS_COLUMNS = ["dataset", "record_id", "bucket", "governed", "coded", "on_map", "link_method", "link_key",
                  "link_target", "distance_m", "reason"]
"""Per-record status, the evidence behind the register metrics (record identifiers only, no personal values)."""

DATASET_LEVEL_RULES = frozenset(structural_rule_id(k) for k in ("unreadable", "missing_column", "dtype", "rule_failed",
                                                                "read_assumption", "extra_column", "crs"))
"""Rules whose findings without a record id are about the whole dataset (unreadable, a required column missing or
of the wrong type, ...). Any other finding without a record id is about a record whose own identifier is empty
(SYS-004 on the id column, or another rule failing on that record): it fails that record only. (SYS-003 also
reports single values of a wrong type; on a record without an identifier it stays a dataset-level error.)"""


def finding_dimension(findings: pd.DataFrame, cls: RegisterClass) -> np.ndarray:
    """The dimension (``gov``, ``code``, ``map``, or ``grid`` for the 北斗网格码 rules, which none of the register
    metrics counts) each finding of ``cls``'s dataset counts in."""
    rule = findings["rule_id"].astype(str)
    col = findings["column"].astype("string").fillna("")
    code = rule.isin(cls.code_rules) | (col == cls.code_column)
    # a register delivered without its link column (SYS-002 on address_id / building_id) carries no link: that is
    # a 上图 gap of every record, not a governance failure (real 实有人口 registers often carry only an address text)
    missing_link = (rule == "SYS-002") & col.isin([k for k, _ in cls.link_keys])
    where = rule.isin(cls.map_rules) | col.isin(LOCATION_COLUMNS) | missing_link
    grid = col == GRID_COLUMN
    return np.select([grid.to_numpy(), code.to_numpy(), where.to_numpy()], ["grid", "code", "map"], "gov")


def _failing(ids: pd.Series, findings: pd.DataFrame, dims: np.ndarray, dim: str,
             no_id: np.ndarray | None = None) -> tuple[np.ndarray, pd.Series]:
    """Whether each record has an error of ``dim``, and the first such message (for the evidence); ``no_id``: the
    records whose identifier is empty, which the findings without a record id that are not dataset-level
    (:data:`DATASET_LEVEL_RULES`) are about."""
    f = findings[(dims == dim)]
    unnamed = f["record_id"].isna()
    whole = unnamed & f["rule_id"].isin(DATASET_LEVEL_RULES)
    if whole.any():  # a dataset-level error (e.g. a required column missing) applies to every record
        msg = f.loc[whole, "rule_id"].iloc[0] + " " + f.loc[whole, "message"].iloc[0]
        return np.ones(len(ids), dtype=bool), pd.Series(msg, index=ids.index)
    first = f[~unnamed].drop_duplicates("record_id")
    pos = index_in(ids, first["record_id"].astype("str"))
    fail = pos >= 0
    texts = (first["rule_id"].astype(str) + " " + first["message"].astype(str)).to_numpy(dtype=object)
    msg = pd.Series(np.where(fail, texts[np.maximum(pos, 0)] if len(texts) else None, None), index=ids.index,
                    dtype=object)
    if no_id is not None and unnamed.any() and no_id.any():
        fail = fail | no_id
        msg = msg.astype(object)
        msg[no_id] = f.loc[unnamed, "rule_id"].iloc[0] + " " + f.loc[unnamed, "message"].iloc[0]
    return fail, msg


def _no_id(frame: pd.DataFrame, id_column: str) -> np.ndarray:
    """Records whose identifier is missing (their findings carry no record id)."""
    if id_column not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[id_column].isna().to_numpy()


def record_status(dataset: str, frame: pd.DataFrame, findings: pd.DataFrame, links: pd.DataFrame, cls: RegisterClass,
                  id_column: str, buckets: np.ndarray, code_label: str | None = None) -> pd.DataFrame:
    """Governed / coded / on-map status of every record of a register snapshot.

    Parameters
    ----------
    dataset : str
        Catalog entry name.
    frame : pandas.DataFrame
        The snapshot, already restricted to the class's scope.
    findings : pandas.DataFrame
        Findings of ``standards_checks`` for this dataset and snapshot.
    links : pandas.DataFrame
        Links table (:data:`cimlib.metrics.linking.LINK_COLUMNS`) aligned with ``frame``.
    cls : RegisterClass
    id_column : str
    buckets : numpy.ndarray
        Community-level bucket of each record (:meth:`cimlib.metrics._areas.Areas.bucket`).
    code_label : str, optional
        How reasons name the code field (``house_code（源字段 房屋代码）`` for a mapped catalog entry); default
        the field name.

    Returns
    -------
    pandas.DataFrame
        :data:`STATUS_COLUMNS`, one row per record.
    """
    ids = frame[id_column].astype(str).reset_index(drop=True)
    f = findings[(findings["severity"] == "error")].copy()
    dims = finding_dimension(f, cls)
    no_id = _no_id(frame, id_column)
    gov_fail, gov_msg = _failing(ids, f, dims, "gov", no_id)
    code_fail, code_msg = _failing(ids, f, dims, "code", no_id)
    map_fail, map_msg = _failing(ids, f, dims, "map", no_id)
    code = frame[cls.code_column].astype("string") if cls.code_column in frame else pd.Series(pd.NA, index=frame.index, dtype="string")
    has_code = (code.notna() & (code.fillna("").str.strip() != "")).to_numpy()
    governed = ~gov_fail
    coded = governed & has_code & ~code_fail
    linked = links["on_map"].to_numpy(dtype=bool)
    on_map = governed & linked & ~map_fail
    link_reason = links["reason"].astype(object).to_numpy()
    reason = np.select(
        [~governed, ~has_code & governed, code_fail & governed, ~on_map & governed & (link_reason != ""), ~on_map & governed],
        [("未通过治理：" + gov_msg.fillna("")).to_numpy(), np.full(len(ids), f"未赋码（{code_label or cls.code_column} 为空）"),
         ("编码问题：" + code_msg.fillna("")).to_numpy(), ("未上图：" + pd.Series(link_reason)).to_numpy(),
         ("未上图：" + map_msg.fillna("")).to_numpy()], "")
    return pd.DataFrame({"dataset": dataset, "record_id": ids.to_numpy(), "bucket": buckets, "governed": governed,
                         "coded": coded, "on_map": on_map, "link_method": links["method"].to_numpy(),
                         "link_key": links["key"].to_numpy(), "link_target": links["target_id"].to_numpy(),
                         "distance_m": links["distance_m"].to_numpy(), "reason": reason})


def register_counts(status: pd.DataFrame) -> pd.DataFrame:
    """Per community bucket: received, governed, coded (of governed), on map (of governed), code present (of all).

    Parameters
    ----------
    status : pandas.DataFrame
        From :func:`record_status`.

    Returns
    -------
    pandas.DataFrame
        Indexed by bucket with ``received, governed, coded, on_map, coded_any``.
    """
    s = status.assign(received=1, governed=status["governed"].astype("int64"), coded=status["coded"].astype("int64"),
                      on_map=status["on_map"].astype("int64"))
    return s.groupby("bucket")[["received", "governed", "coded", "on_map"]].sum()


def code_ok_any(frame: pd.DataFrame, findings: pd.DataFrame, cls: RegisterClass, id_column: str) -> np.ndarray:
    """Whether each record carries a present code with no code error, governed or not (the 房屋赋码率 numerator)."""
    ids = frame[id_column].astype(str).reset_index(drop=True)
    f = findings[findings["severity"] == "error"]
    dims = finding_dimension(f, cls)
    fail, _ = _failing(ids, f, dims, "code", _no_id(frame, id_column))
    code = frame[cls.code_column].astype("string") if cls.code_column in frame else pd.Series(pd.NA, index=frame.index, dtype="string")
    return (code.notna() & (code.fillna("").str.strip() != "")).to_numpy() & ~fail
