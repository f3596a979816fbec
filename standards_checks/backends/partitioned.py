"""The partitioned engine: a register checked one partition of rows at a time, its set rules once on few fields.

A register too large for memory (the 一标三实 registers of a 武汉-size city) is read as contiguous row ranges in file
order (:meth:`cimlib.catalog.Catalog.row_ranges`, following the Parquet row groups; a city's export written street
by street gives one street per group). The same rule declarations the pandas engine runs are split by what they need:

1. **record rules** — the pandera model (nulls, column rules) and the frame rules declared ``per_record`` (a record
   judged by its own fields and reference layers) — run on each partition, as a ``dask.delayed`` task: on the
   active ``dask.distributed`` cluster, else one partition at a time in this process (:func:`compute`);
2. **set rules** — duplicates, links to another register, the address tree — declare the fields of their own dataset
   they read (``reads``). They run once, in the calling process, on those columns of the whole register (an id, a
   code, the tree's codes and names: a small part of the records' weight), and their failing positions are handed
   to the partition tasks, which write the findings rows (values and locations) from the full records;
3. ``SYS-005`` (duplicate identifiers) is judged on the identifier column of the whole register, the same way.

The findings are the pandas engine's, row for row and in the same order: the items of each rule are concatenated in
partition (file) order and the rules sorted by their declaration order, as :func:`~standards_checks.backends.pandas.
check_dataset` does. A schema with a set rule that does not declare ``reads`` cannot be partitioned
(:func:`partitionable`); the record cache (:mod:`cimlib.cache`) is not used here.
"""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass, field
import dask
import geopandas as gpd
import numpy as np
import pandas as pd

from cimlib.catalog import CatalogError, CRSMismatchError
from cimlib.catalog.errors import CatalogWarning
from standards_checks.api import RULES, Rule, dataset_rules, structural_rule_id
from standards_checks.backends.pandas import (_GENERIC, Context, _empty, _extra_columns, _one, _outcome, _rows,
                                              _with_sources)
from standards_checks.schemas import MODELS

__all__ = ["RowSource", "check_partitioned", "compute", "partition_mode", "partitionable", "register_bytes",
           "row_source", "should_partition", "too_large"]


def compute(tasks: list) -> tuple:
    """Run partition tasks: on the active ``dask.distributed`` client when there is one, else one at a time in this
    process (the tasks hold the GIL most of the time; one partition in memory at a time is the point)."""
    try:
        from distributed import default_client

        default_client()
        return dask.compute(*tasks)
    except (ImportError, ValueError):
        return dask.compute(*tasks, scheduler="sync")


PARTITION_ENV = "CIM_PARTITION"
"""Environment variable: ``auto``, ``always`` or ``never``, the default of ``compute_metrics(partition=...)`` (what
``cim metrics --partition`` sets, inherited by a report's kernels)."""

MEMORY_SHARE_ENV = "CIM_MEMORY_SHARE"
"""Environment variable: the share of this machine's memory above which a register file is read in partitions."""


def register_bytes(catalog, name: str, period) -> int:
    """Estimated bytes of a register snapshot once read: twice its uncompressed Parquet size (from the footer), or
    five times the file size for other formats (0 when it cannot be found)."""
    try:
        files = catalog.files(name, period)
    except CatalogError:
        return 0
    total = 0
    for f in files:
        try:
            if f.suffix.lower() in (".parquet", ".pq", ".geoparquet"):
                import pyarrow.parquet as pq

                meta = pq.ParquetFile(f).metadata
                total += 2 * sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
            else:
                total += 5 * f.stat().st_size
        except (OSError, ValueError):
            continue
    return total


def _memory_bytes() -> int:
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def too_large(catalog, name: str, period) -> bool:
    """Whether an entry's file would take more than ``$CIM_MEMORY_SHARE`` (default 0.1) of this machine's memory."""
    import os

    share = float(os.environ.get(MEMORY_SHARE_ENV) or 0.1)
    return register_bytes(catalog, name, period) > share * _memory_bytes()


def partition_mode(mode: str | None = None) -> str:
    """``mode``, else ``$CIM_PARTITION``, else ``auto``; checked to be ``auto``, ``always`` or ``never``."""
    import os

    mode = mode or os.environ.get(PARTITION_ENV) or "auto"
    if mode not in ("auto", "always", "never"):
        raise ValueError(f"partition must be auto, always or never, not {mode!r}")
    return mode


def should_partition(catalog, name: str, period, mode: str | None = None) -> bool:
    """Whether to check an entry partition by partition: a register (一标三实) whose rules allow it, when ``mode``
    (:func:`partition_mode`) is ``always``, or ``auto`` and the file is :func:`too_large`."""
    from standards_checks.backends.pandas import CACHED_SCHEMAS

    entry = catalog[name]
    mode = partition_mode(mode)
    if mode == "never" or entry.schema not in CACHED_SCHEMAS or not partitionable(entry.schema):
        return False
    return mode == "always" or too_large(catalog, name, period)


def partitionable(schema: str) -> bool:
    """Whether every frame rule of ``schema`` is a record rule or declares the fields it reads (``reads``)."""
    return all(r.per_record or r.reads for r in dataset_rules(schema))


@dataclass
class RowSource:
    """A dataset as contiguous row ranges in file order: what a partition task reads.

    Attributes
    ----------
    catalog : cimlib.catalog.Catalog
    name : str
        Catalog entry.
    period : str or None
    ranges : list of (start, stop)
        Row positions of each partition.
    whole : pandas.DataFrame, optional
        The table read whole, for formats that cannot read a range of rows (CSV, Excel, GeoPackage, ...): partitions
        are then slices of it.
    """

    catalog: object
    name: str
    period: str | None
    ranges: list
    whole: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return len(self.ranges)

    def read(self, i: int, columns=None) -> pd.DataFrame:
        """Partition ``i`` (all fields, or ``columns``), indexed from 0."""
        start, stop = self.ranges[i]
        if self.whole is not None:
            part = self.whole.iloc[start:stop]
            if columns is not None:
                part = part[[c for c in part.columns if c in columns or c == getattr(part, "_geometry_column_name", None)]]
            return part.reset_index(drop=True)
        return self.catalog.read_rows(self.name, self.period, start, stop, columns=columns)

    def projection(self, columns) -> pd.DataFrame:
        """The chosen fields of the whole dataset, in file order, without geometry (read a partition at a time: a
        spatial layer's geometry is never decoded whole)."""
        wanted = set(columns)

        def narrow(frame):
            return pd.DataFrame({c: frame[c].reset_index(drop=True) for c in frame.columns if c in wanted})

        if self.whole is not None:
            return narrow(self.whole)
        parts = [narrow(self.read(i, columns=list(columns))) for i in range(self.n)]
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


PARTITION_ROWS = 500_000
"""Records per partition by default (``$CIM_PARTITION_ROWS`` overrides it)."""

PARTITION_ROWS_ENV = "CIM_PARTITION_ROWS"


def partition_rows(rows: int | None = None) -> int:
    """``rows``, else ``$CIM_PARTITION_ROWS``, else :data:`PARTITION_ROWS` (at least 1)."""
    import os

    return max(1, int(rows or os.environ.get(PARTITION_ROWS_ENV) or PARTITION_ROWS))


def row_source(catalog, name: str, period: str | None, rows: int | None = None) -> RowSource:
    """The partitions of an entry: row ranges of about ``rows`` records (default :func:`partition_rows`; the file's
    row groups for Parquet), or slices of the table read whole for a format that cannot read a range.

    Raises
    ------
    CatalogError
        As :meth:`cimlib.catalog.Catalog.read`.
    """
    rows = partition_rows(rows)
    ranges = catalog.row_ranges(name, period, rows=rows)
    if ranges is not None:
        return RowSource(catalog, name, period, ranges)
    whole = catalog.read(name, period)
    n = len(whole)
    ranges = [(a, min(a + rows, n)) for a in range(0, n, rows)] or [(0, 0)]
    return RowSource(catalog, name, period, ranges, whole.reset_index(drop=True))


@dataclass
class _Task:
    """What every partition task needs (shipped once per compute)."""

    name: str
    entry: object
    source: RowSource
    model: object
    rules: list[Rule]          # the full rule list (order keys are positions in it)
    ctx: Context
    marks: dict = field(default_factory=dict)   # order key -> (rule_id, column, global positions)
    dup: np.ndarray | None = None               # SYS-005 global positions


def _read(task: _Task, i: int):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        part = task.source.read(i)
    texts = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, CatalogWarning)))
    return part, texts


def _scan(task: _Task, i: int) -> dict:
    """One partition: the record rules' failures and the rows of the set rules' failures in it, as findings rows."""
    try:
        part, texts = _read(task, i)
    except CatalogError as exc:
        return {"error": exc}
    start, stop = task.source.ranges[i]
    if not part.index.is_unique:
        part = part.reset_index(drop=True)
    out = _outcome(task.ctx, task.name, task.entry, part, task.model, task.rules, per_record=True)
    entry = task.entry
    items = []
    seen: dict = {}
    for order, item in out.items:
        j = seen.get(order, 0)
        seen[order] = j + 1
        if isinstance(item, pd.DataFrame):
            items.append(((order, j), item, True))
        else:
            items.append(((order, j), _rows(task.name, item[0], part, entry, item[2], item[1]), False))
    for order, (rule_id, column, pos) in task.marks.items():
        local = pos[(pos >= start) & (pos < stop)] - start
        items.append(((order, 0), _rows(task.name, rule_id, part, entry, local, column), False))
    dup = None
    if task.dup is not None:
        local = task.dup[(task.dup >= start) & (task.dup < stop)] - start
        dup = _rows(task.name, structural_rule_id("duplicate_id"), part, entry, local, entry.id_column)
    return {"items": items, "ran": out.ran, "warnings": texts, "dup": dup, "n": len(part)}


def check_partitioned(ctx: Context, name: str, source: RowSource, applied: list | None = None) -> pd.DataFrame:
    """All findings of a catalog entry checked partition by partition; the same rows, in the same order, as
    :func:`standards_checks.backends.pandas.check_dataset` on the whole table.

    Parameters
    ----------
    ctx : standards_checks.backends.pandas.Context
        The run's context: the other datasets the rules need (``needs``) are taken from it.
    name : str
        Catalog entry name.
    source : RowSource
        The entry's partitions (:func:`row_source`).
    applied : list, optional
        Receives ``(dataset, rule_id, records checked)`` for every rule that ran.

    Returns
    -------
    pandas.DataFrame
        Findings (:data:`standards_checks.api.FINDINGS_COLUMNS`, values unmasked).

    Raises
    ------
    ValueError
        When the schema has a set rule without ``reads`` (:func:`partitionable`).
    """
    from standards_checks.backends.dask import _PartitionContext

    applied = applied if applied is not None else []
    entry = ctx.catalog[name]
    if not partitionable(entry.schema):
        raise ValueError(f"{entry.schema}: a set rule does not declare reads; check it in memory")
    try:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            meta = source.read(0) if source.whole is not None else ctx.catalog.read_rows(name, source.period, 0, 0)
    except CRSMismatchError as exc:
        return _one(name, structural_rule_id("crs"), None, None, str(exc))
    except CatalogError as exc:
        return _one(name, structural_rule_id("unreadable"), None, None, str(exc))
    id_col = entry.id_column
    if id_col and id_col not in meta:
        from standards_checks.backends.pandas import _near

        return _with_sources(entry, _one(name, structural_rule_id("missing_column"), None, id_col,
                                         f"缺少记录标识字段 {entry.field_label(id_col)}{_near(id_col, meta.columns)}"))
    model = MODELS.get(entry.schema)
    rules = [RULES[r] for r in _GENERIC] if isinstance(meta, gpd.GeoDataFrame) else []
    rules += dataset_rules(entry.schema)
    missing = set()
    if model is not None:
        missing = {c for c, col in model.to_schema().columns.items() if col.required and c not in meta.columns}

    # the set rules and SYS-005, once, on the fields they read of the whole register
    wanted = {id_col} if id_col else set()
    for rule in rules:
        if not rule.per_record:
            wanted |= set(rule.reads or ())
    proj = source.projection([c for c in meta.columns if c in wanted])
    marks, failed = {}, []
    dup = None
    if id_col:
        ids = proj[id_col]
        dup = np.flatnonzero(ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy())
    sctx = Context(ctx.catalog, period=ctx.period, cache=None)
    sctx._frames = dict(ctx._frames)
    sctx.register(name, entry.schema, proj)
    outcome = _outcome(sctx, name, entry, proj, None, rules, per_record=False, missing=missing)
    for order, item in outcome.items:
        if isinstance(item, pd.DataFrame):   # the rule could not run (data it needs, a field, unexpected values)
            failed.append((order, item))
        else:
            marks[order] = item
    ran_set = list(outcome.ran)
    del proj

    # the record rules, partition by partition
    pctx = _PartitionContext(ctx, entry.schema)
    record_rules = [r for r in rules if r.per_record]
    needs = {n for r in record_rules for n in r.needs}
    try:
        pctx.prefetch(needs)
    except CatalogError:
        pass   # a rule whose data is missing reports it when it runs
    task = _Task(name, entry, source, model, rules, pctx, marks, dup)
    task_d = dask.delayed(task, name=f"partitioned-task-{uuid.uuid4().hex}", traverse=False)
    results = compute([dask.delayed(_scan, pure=False)(task_d, i) for i in range(source.n)])
    for r in results:
        if "error" in r:
            exc = r["error"]
            rid = "crs" if isinstance(exc, CRSMismatchError) else "unreadable"
            return _one(name, structural_rule_id(rid), None, None, str(exc))

    total = sum(r["n"] for r in results)
    texts = list(dict.fromkeys(t for r in results for t in r["warnings"]))
    parts = [_one(name, structural_rule_id("read_assumption"), None, None, t) for t in texts]
    parts.append(_extra_columns(name, entry, meta, applied))   # field names only: the empty first range has them
    if id_col:
        parts += [r["dup"] for r in results]
        applied.append((name, structural_rule_id("duplicate_id"), total))
    # items of the same rule across partitions, in file order; a finding about the whole dataset once
    by_key: dict = {}
    whole_seen: set = set()
    for r in results:
        for key, frame, whole in r["items"]:
            if whole:
                sig = (key[0], tuple(frame[["rule_id", "column", "message"]].astype(str).iloc[0]))
                if sig in whole_seen:
                    continue
                whole_seen.add(sig)
            by_key.setdefault(key, []).append(frame)
    for key, frame in ((( order, 0), f) for order, f in failed):
        by_key.setdefault(key, []).append(frame)
    for key in sorted(by_key, key=lambda t: t[0]):
        pieces = [f for f in by_key[key] if len(f)]
        if len(pieces) > 1:   # one rule's rows: their values typed as one table of them would be
            merged = pd.concat(pieces, ignore_index=True)
            merged["value"] = pd.DataFrame({"value": merged["value"].astype(object).to_numpy()})["value"]
            pieces = [merged]
        parts += pieces
    ran = [rid for rid in results[0]["ran"] if all(rid in r["ran"] for r in results)] + ran_set
    applied += [(name, rule_id, total) for rule_id in _in_rule_order(ran, rules)]
    parts = [p for p in parts if p is not None and len(p)]
    found = pd.concat(parts, ignore_index=True) if parts else _empty()
    return _with_sources(entry, found)


def _in_rule_order(ran: list, rules: list[Rule]) -> list:
    """The pandas engine's order: the model's column checks, then the frame rules as declared."""
    order = {r.rule_id: k for k, r in enumerate(rules)}
    return sorted(ran, key=lambda r: order.get(r, -1))

