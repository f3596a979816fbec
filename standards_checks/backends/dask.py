"""The Dask engine: a schema's rules on an out-of-core table (a Dask frame, e.g. the date-partitioned readings).

The whole frame is never computed. The rules are the same declarations the pandas engine runs (pandera model,
frame rules ``fn(frame, ctx) -> bool Series``); here each runs on one pandas partition at a time:

1. **structure** (missing columns, dtypes) is judged once, on the frame's ``_meta`` (no data read);
2. **one pass** over the partitions (``to_delayed`` + ``dask.compute`` on whatever scheduler is configured: the local
   one by default, a ``dask.distributed`` cluster if a client is active) runs on each partition the model's row-level
   checks (nulls, column rules) and every frame rule, and returns only the failing rows as findings, the row count
   and, for rules that compare rows with each other, a few keys (below). The findings of the partitions are small;
   they are concatenated and made unique per ``(dataset, rule_id, record_id, column)``;
3. rules that compare rows (a ``key`` attribute on the rule function, e.g. ``RDG-004`` duplicate readings, and
   ``SYS-005`` duplicate identifiers) are first run within each partition; duplicates *across* partitions are then
   found without a shuffle:

   - if the rule declares its partitioning (``partition_column``, ``partition_of(frame)``: the partition value of
     each row, ``home_of(frame)``: the partition each row's key belongs in — for readings, the ``date`` partition
     and the day of ``ts``), a key can occur in two partitions only if one of its rows is outside its home ("stray",
     few: they also fail ``RDG-002``) or if the two partitions have the same partition value (a day split into
     several files or row groups). Pass 1 returns the strays' keys; partitions sharing a value are compared through
     the 64-bit hashes of their keys, one group at a time (``8 B`` per row of one day);
   - otherwise all partitions form one group (hashes of every key: bounded by ``8 B`` per row).

   A second, pruned pass reads (key columns only) the partitions that can hold those keys and returns their rows
   with such a key; exact duplicates among them are findings. Nothing is re-read when no stray's day has a partition
   and no stray key repeats (the usual case: clock resets, wrong years).

Frame rules other than key rules must be row-local (judge a row from its own values and small lookups such as
``ctx.ids("devices")``): a rule comparing rows must declare its ``key`` to be correct across partitions.

Record identifiers come from :data:`RECORD_IDS` for schemas whose records are identified by several columns
(readings: ``"{device_id}|{ts:%Y-%m-%dT%H:%M:%S}"``); otherwise from the catalog ``id_column``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable

import dask
import geopandas as gpd
import numpy as np
import pandas as pd
import pandera.pandas as pa

from cimlib.catalog import CatalogError
from standards_checks.api import RULES, Rule, dataset_rules, structural_rule_id
from standards_checks.backends.pandas import _GENERIC, Context, _column_rule_ids, _empty, _one, _rows, _run_pandera
from standards_checks.schemas import MODELS
from standards_checks.schemas import readings as _readings

RECORD_IDS: dict[str, tuple[Callable[[pd.DataFrame], pd.Series], tuple[str, ...]]] = {
    "readings": (_readings.record_ids, _readings.KEY),
}
"""Schema -> ``(record_ids(frame), columns it reads)`` for records identified by several columns. For these schemas
the catalog ``id_column`` is not a unique key (``SYS-005`` is not run; the schema has its own duplicate rule)."""

_UNIQUE = ["dataset", "rule_id", "record_id", "column"]


def is_dask_frame(obj) -> bool:
    """True for a Dask (or Dask-GeoPandas) DataFrame."""
    return dask.is_dask_collection(obj) and isinstance(getattr(obj, "_meta", None), pd.DataFrame)


class _PartitionContext(Context):
    """What a rule may ask of the run while it sees one partition: only the datasets its ``needs`` names, fetched
    beforehand in the calling process (so that it can be shipped to workers without the catalog)."""

    def __init__(self, ctx: Context, schema: str):
        super().__init__(catalog=None, period=ctx.period, cache=None)
        self._outer = ctx
        self._schema = schema
        self._ids: dict[str, pd.Index] = {}

    def prefetch(self, names) -> None:
        for n in names:
            if n in self._frames:
                continue
            frame = self._outer.frame(n)
            try:
                self._ids[n] = self._outer.ids(n)
            except KeyError:  # no id column: rules may still use the frame
                pass
            self._frames[n] = frame

    def frame(self, name: str):
        if name not in self._frames:
            raise CatalogError("规则未在 needs 中声明该数据集，分区执行时不可用", entry=name)
        return self._frames[name]

    def ids(self, name: str) -> pd.Index:
        if name not in self._ids:
            raise CatalogError("规则未在 needs 中声明该数据集（或其无记录标识字段），分区执行时不可用", entry=name)
        return self._ids[name]

    def schema_of(self, frame) -> str | None:
        return self._schema

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_outer"] = None
        state["_projected"] = {}
        return state


@dataclass
class _KeyRule:
    """A rule comparing rows by ``key``, with its partitioning when declared."""

    rule: Rule
    key: tuple[str, ...]
    partition_of: Callable | None = None
    home_of: Callable | None = None


@dataclass
class _Job:
    """Everything a partition task needs (shipped once per compute)."""

    dataset: str
    id_column: str | None
    record_ids: Callable | None
    schema: object | None  # pandera DataFrameSchema (row-level checks)
    rules: list[Rule]
    key_rules: list[_KeyRule]
    ctx: _PartitionContext
    not_nullable: list[str] | None = None  # row-level checks are only these null checks (no pandera run needed)
    id_entry: object = field(init=False)

    def __post_init__(self):
        self.id_entry = _IdEntry(self.id_column)

    def rows(self, i: int, rule_id: str, column: str | None, part: pd.DataFrame, pos: np.ndarray) -> pd.DataFrame:
        """Findings for the rows at positions ``pos`` of partition ``i``."""
        if len(pos) == 0:
            return _empty()
        sub = part.iloc[pos]
        out = _rows(self.dataset, rule_id, sub, self.id_entry, np.arange(len(sub)), column)
        if self.record_ids is not None:
            out["record_id"] = np.asarray(self.record_ids(sub), dtype=object)
        elif not self.id_column or self.id_column not in part:
            out["record_id"] = np.array([f"{i}:{p}" for p in pos], dtype=object)  # partition:row
        return out


@dataclass(frozen=True)
class _IdEntry:
    id_column: str | None


# --------------------------------------------------------------------------------------------------- entry point

def check_dask_dataset(ctx: Context, name: str, entry, frame, applied: list) -> pd.DataFrame:
    """All findings for a catalog entry read as a Dask frame, partition by partition.

    Parameters
    ----------
    ctx : standards_checks.backends.pandas.Context
    name : str
        Catalog entry name.
    entry : CatalogEntry
    frame : dask DataFrame or dask_geopandas GeoDataFrame
    applied : list
        Receives ``(dataset, rule_id, records checked)`` for every rule that ran.

    Returns
    -------
    pandas.DataFrame
        Findings with the columns of :data:`standards_checks.api.FINDINGS_COLUMNS` (values unmasked), one row per
        ``(dataset, rule_id, record_id, column)``.
    """
    ctx.register(name, entry.schema, frame)
    meta = frame._meta
    record_ids, record_cols = RECORD_IDS.get(entry.schema, (None, ()))
    id_col = entry.id_column
    if id_col and id_col not in meta.columns:
        return _one(name, structural_rule_id("missing_column"), None, id_col, f"缺少记录标识字段 {id_col}")
    parts: list[pd.DataFrame] = []
    model = MODELS.get(entry.schema)
    schema, missing, column_checks = None, set(), []
    if model is not None:
        structure, missing = _run_pandera(name, model, meta, entry)  # on _meta: missing columns and dtypes only
        parts.append(structure)
        schema = model.to_schema()
        column_checks = [c for c in _column_rule_ids(model) if RULES[c].column not in missing]

    pctx = _PartitionContext(ctx, entry.schema)
    rules = [RULES[r] for r in _GENERIC] if isinstance(meta, gpd.GeoDataFrame) else []
    runnable = []
    for rule in rules + dataset_rules(entry.schema):
        if rule.column and rule.column != "geometry" and rule.column in missing:
            continue
        try:
            pctx.prefetch(rule.needs)
        except CatalogError as exc:
            parts.append(_one(name, structural_rule_id("rule_failed"), None, rule.column, f"规则 {rule.rule_id} 所需数据不可用：{exc}"))
            continue
        runnable.append(rule)
    key_rules = []
    for rule in runnable:
        key = getattr(rule.fn, "key", None)
        if key is None or any(k not in meta.columns for k in key):
            continue
        partitioned = getattr(rule.fn, "partition_column", None) in meta.columns
        key_rules.append(_KeyRule(rule, tuple(key), rule.fn.partition_of if partitioned else None,
                                  rule.fn.home_of if partitioned else None))
    if record_ids is None and id_col:  # SYS-005 on the identifier column, across partitions
        key_rules.append(_KeyRule(RULES[structural_rule_id("duplicate_id")], (id_col,)))

    job = _Job(name, id_col, record_ids, schema, runnable, key_rules, pctx, _not_nullable(schema, meta))
    job_d = dask.delayed(job, name=f"standards-job-{uuid.uuid4().hex}", traverse=False)
    results = dask.compute(*[dask.delayed(_scan_partition, pure=False)(p, i, job_d)
                             for i, p in enumerate(frame.to_delayed())])
    n = int(sum(r["n"] for r in results))
    parts += [r["findings"] for r in results]

    errors: dict[str, str] = {}
    for r in results:
        for rule_id, msg in r["errors"].items():
            errors.setdefault(rule_id, msg)
    for rule in runnable:
        if rule.rule_id in errors:
            parts.append(_one(name, structural_rule_id("rule_failed"), None, rule.column, errors[rule.rule_id]))
        else:
            applied.append((name, rule.rule_id, n))
    for check in column_checks:
        applied.append((name, check, n))

    for kr in key_rules:
        if kr.rule.rule_id in errors:
            continue
        cols = [c for c in meta.columns
                if c in kr.key or c in record_cols or c in (kr.rule.column, id_col) or c == getattr(meta, "_geometry_column_name", None)]
        parts.append(_across_partitions(frame[cols], job, job_d, kr, [r["keys"].get(kr.rule.rule_id) for r in results]))
        if kr.rule.kind == "structure":
            applied.append((name, kr.rule.rule_id, n))

    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)
    return out.drop_duplicates(_UNIQUE, ignore_index=True)


# --------------------------------------------------------------------------------------------------- partition tasks

def _scan_partition(part: pd.DataFrame, i: int, job: _Job) -> dict:
    """Pass 1 on one partition: failing rows of every rule, row count, what the key rules need."""
    if not part.index.is_unique:
        part = part.reset_index(drop=True)
    found, errors, keys = [], {}, {}
    if job.schema is not None:
        found.append(_row_checks(i, job, part))
    for rule in job.rules:
        try:
            failed = rule.fn(part, job.ctx)
        except CatalogError as exc:
            errors[rule.rule_id] = f"规则 {rule.rule_id} 所需数据不可用：{exc}"
            continue
        except KeyError as exc:
            errors[rule.rule_id] = f"规则 {rule.rule_id} 缺少字段 {exc}"
            continue
        except Exception as exc:  # unexpected types or values in this partition
            from standards_checks.backends.pandas import rule_error

            errors[rule.rule_id] = rule_error(rule.rule_id, exc)
            continue
        found.append(job.rows(i, rule.rule_id, rule.column, part, np.flatnonzero(np.asarray(failed, dtype=bool))))
    for kr in job.key_rules:
        if kr.rule.rule_id in errors:
            continue
        valid = part[list(kr.key)].notna().all(axis=1).to_numpy()
        if kr.rule.kind == "structure":  # SYS-005 within the partition (frame rules did their own above)
            dup = valid & part[list(kr.key)].duplicated(keep=False).to_numpy()
            found.append(job.rows(i, kr.rule.rule_id, kr.key[0], part, np.flatnonzero(dup)))
        if kr.partition_of is None:
            keys[kr.rule.rule_id] = (None, None)
            continue
        try:
            where = pd.Series(kr.partition_of(part), index=part.index)
            home = pd.Series(kr.home_of(part), index=part.index)
        except KeyError as exc:
            errors[kr.rule.rule_id] = f"规则 {kr.rule.rule_id} 缺少字段 {exc}"
            continue
        stray = valid & ~(home == where).fillna(False).to_numpy(dtype=bool)
        strays = part.loc[stray, list(kr.key)].reset_index(drop=True)
        strays["_home"] = home[stray].to_numpy()
        keys[kr.rule.rule_id] = (where.dropna().drop_duplicates().tolist(), strays)
    nonempty = [f for f in found if len(f)]
    return {"n": len(part), "findings": pd.concat(nonempty, ignore_index=True) if nonempty else _empty(),
            "errors": errors, "keys": keys}


def _row_checks(i: int, job: _Job, part: pd.DataFrame) -> pd.DataFrame:
    """Row-level failures of the pandera model on one partition (nulls, column rules); structure is judged on
    ``_meta`` once, so missing columns and dtypes are skipped here."""
    if job.not_nullable is not None:  # the model checks nothing but nulls: the same findings, without pandera
        out = [job.rows(i, structural_rule_id("null"), c, part, np.flatnonzero(part[c].isna().to_numpy()))
               for c in job.not_nullable]
        out = [f for f in out if len(f)]
        return pd.concat(out, ignore_index=True) if out else _empty()
    try:
        job.schema.validate(part, lazy=True)
        return _empty()
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    check = fc["check"].astype(str)
    fc = fc[fc["index"].notna() & (check != "column_in_dataframe") & ~check.str.startswith("dtype(")]
    out = []
    for (col, chk), grp in fc.groupby(["column", "check"], sort=True, dropna=False):
        chk = str(chk)
        rule_id = chk if chk in RULES else structural_rule_id("null") if chk == "not_nullable" else structural_rule_id("dtype")
        pos = part.index.get_indexer(pd.Index(grp["index"].unique()))
        out.append(job.rows(i, rule_id, col, part, np.sort(pos[pos >= 0])))
    out = [f for f in out if len(f)]
    return pd.concat(out, ignore_index=True) if out else _empty()


def _not_nullable(schema, meta: pd.DataFrame) -> list[str] | None:
    """The non-nullable columns present, if null checks are all the model does per row; else None (run pandera)."""
    if schema is None or schema.checks or getattr(schema, "unique", None):
        return None
    cols = schema.columns.values()
    if any(c.checks or c.unique or c.regex for c in cols):
        return None
    return [c.name for c in cols if not c.nullable and c.name in meta.columns]


def _key_hash(frame: pd.DataFrame, key) -> np.ndarray:
    """64-bit hashes of the key columns (timestamps at one resolution, so that files may differ in unit)."""
    cols = {}
    for c in key:
        s = frame[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_datetime64_dtype(s):
            s = s.astype("datetime64[ns]")
        cols[c] = s.reset_index(drop=True)
    return pd.util.hash_pandas_object(pd.DataFrame(cols), index=False).to_numpy()


def _unique_hashes(part: pd.DataFrame, key) -> np.ndarray:
    sub = part[list(key)]
    sub = sub[sub.notna().all(axis=1).to_numpy()]
    return np.unique(_key_hash(sub, key))


def _match_partition(part: pd.DataFrame, i: int, job: _Job, rule_id: str, column, key, hashes: np.ndarray):
    """Pass 2 on one partition: rows whose key hash is among ``hashes`` (their keys and their findings)."""
    if not part.index.is_unique:
        part = part.reset_index(drop=True)
    valid = np.flatnonzero(part[list(key)].notna().all(axis=1).to_numpy())
    pos = valid[np.isin(_key_hash(part.iloc[valid], key), hashes)]
    keys = part.iloc[pos][list(key)].reset_index(drop=True)
    return keys, job.rows(i, rule_id, column, part, pos)


# --------------------------------------------------------------------------------------------------- across partitions

def _across_partitions(frame, job: _Job, job_d, kr: _KeyRule, per_part: list) -> pd.DataFrame:
    """Findings of a key rule for keys occurring in more than one partition (see the module docstring)."""
    key = list(kr.key)
    hashes: list[np.ndarray] = []
    targets: set[int] = set()
    groups: dict[object, list[int]] = {}
    if kr.partition_of is None:
        groups[None] = list(range(frame.npartitions))
    else:
        found = []
        for i, got in enumerate(per_part):
            if got is None:
                continue
            labels, strays = got
            for label in labels:
                groups.setdefault(label, []).append(i)
            if len(strays):
                found.append(pd.DataFrame({"h": _key_hash(strays, key), "part": i, "home": strays["_home"].to_numpy()}))
        if found:
            # a stray's key can be in another partition only if its home partition exists or another partition
            # has a stray with the same key (clock resets, wrong years: usually neither, and nothing is re-read)
            st = pd.concat(found, ignore_index=True)
            home_exists = st["home"].isin(list(groups)).to_numpy()
            elsewhere = (st.groupby("h")["part"].transform("nunique") > 1).to_numpy()
            st = st[home_exists | elsewhere]
            hashes.append(st["h"].to_numpy())
            targets.update(st["part"].tolist())
            targets.update(i for h in st["home"].dropna().drop_duplicates().tolist() for i in groups.get(h, ()))
    for members in groups.values():  # partitions sharing a partition value: compare key hashes, one group at a time
        if len(members) < 2:
            continue
        sub = frame.partitions[members][key]
        uniq = dask.compute(*[dask.delayed(_unique_hashes, pure=False)(p, key) for p in sub.to_delayed()])
        allh = np.concatenate(uniq) if uniq else np.zeros(0, np.uint64)
        values, counts = np.unique(allh, return_counts=True)
        shared = values[counts > 1]
        if len(shared):
            hashes.append(shared)
            targets.update(members)
    wanted = np.unique(np.concatenate(hashes)) if hashes else np.zeros(0, np.uint64)
    if not len(wanted) or not targets:
        return _empty()
    order = sorted(targets)
    col = kr.rule.column or kr.key[0]
    got = dask.compute(*[dask.delayed(_match_partition, pure=False)(p, i, job_d, kr.rule.rule_id, col, key, wanted)
                         for i, p in zip(order, frame.partitions[order].to_delayed())])
    keys = pd.concat([k for k, _ in got], ignore_index=True)
    found = pd.concat([f for _, f in got], ignore_index=True)
    if keys.empty:
        return _empty()
    dup = keys.duplicated(keep=False).to_numpy()  # every row of the targets was read once: exact counts
    return found[dup].reset_index(drop=True)
