"""The pandas engine: runs a schema's pandera model (lazily) and its frame rules, and turns failures into findings."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pandera.pandas as pa
import shapely
from tqdm.auto import tqdm

from cimlib.catalog import Catalog, CatalogError, CatalogWarning, CRSMismatchError
from cimlib.geo import gauss_kruger_crs, inside_china
from cimlib.lookup import index_in
from cimlib.privacy import PERSONAL_COLUMNS, mask_text, mask_values
from standards_checks.api import FINDINGS_COLUMNS, RULES, dataset_rules, structural_rule_id
from standards_checks.schemas import MODELS

_GENERIC = ("GEO-001", "GEO-002", "GEO-003", "GEO-004", "GEO-006")
DASK_SCHEMAS = ("readings",)
"""Schemas whose records are a stream keyed by (device, time), checked by the Dask engine however they are stored."""


class Context:
    """What frame rules may ask of the run: other datasets, the projected CRS, admin-area lookups.

    Datasets are read once through the catalog and cached; a dataset that cannot be read raises
    :class:`cimlib.catalog.CatalogError` to the rule that needs it (the engine turns that into a finding).
    """

    def __init__(self, catalog: Catalog, period: str | None = None, cache="auto"):
        self.catalog = catalog
        self.period = period
        self._frames: dict[str, object] = {}
        self._schema_by_frame: dict[int, str] = {}
        self._projected: dict[int, tuple] = {}
        self._edited: set[str] = set()
        if cache == "auto":
            from cimlib.cache import default_cache

            cache = default_cache()
        self.record_cache = cache

    def frame(self, name: str):
        """The dataset called ``name`` (a catalog entry name or, failing that, the entry whose schema is ``name``)."""
        if name not in self._frames:
            entry = self._entry(name)
            if entry.name in self._frames:  # asked by schema for a dataset already here under its entry name
                self._frames[name] = self._frames[entry.name]
                if entry.name in self._edited:
                    self._edited.add(name)
                return self._frames[name]
            period = self.period if entry.snapshots else None
            df = self.catalog.read(entry.name, period=period)
            self._frames[name] = df
            self._schema_by_frame[id(df)] = entry.schema
        return self._frames[name]

    def _entry(self, name: str):
        if name in self.catalog:
            return self.catalog[name]
        for e in self.catalog:
            if e.schema == name:
                return e
        raise CatalogError("数据目录中没有该数据集（规则需要它）", entry=name, path=self.catalog.path)

    def ids(self, name: str) -> pd.Series:
        """The record identifiers of a dataset (its catalog ``id_column``), for :func:`cimlib.lookup.isin`."""
        entry = self._entry(name)
        return self.frame(name)[entry.id_column]

    def schema_of(self, frame) -> str | None:
        return self._schema_by_frame.get(id(frame))

    def note_schema(self, frame, schema: str) -> None:
        """Let rules know ``frame`` (e.g. a subset of a dataset) is of ``schema``."""
        self._schema_by_frame[id(frame)] = schema

    def is_pristine(self, name: str) -> bool:
        """Whether the dataset ``name`` is (or will be) as read from the catalog, not an edited copy."""
        return name not in self._edited

    def register(self, name: str, schema: str, frame, pristine: bool = False) -> None:
        """Use ``frame`` as the dataset ``name`` (of schema ``schema``), e.g. an analyst's edited copy in a notebook.

        Parameters
        ----------
        name : str
            Catalog entry name.
        schema : str
            Its ``standards_checks`` schema.
        frame : pandas.DataFrame or geopandas.GeoDataFrame
        pristine : bool, default False
            True when ``frame`` is the dataset exactly as :meth:`cimlib.catalog.Catalog.read` gives it (record-level
            results over an edited copy are not cached).
        """
        self._frames[name] = frame
        self._schema_by_frame[id(frame)] = schema
        if pristine:
            self._edited.discard(name)
        else:
            self._edited.add(name)

    def projected(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``frame`` in the local CGCS2000 Gauss-Krüger zone (areas and distances in metres)."""
        key = id(frame)
        if key in self._projected and self._projected[key][0] is not frame:  # an id reused by a newer frame
            del self._projected[key]
        if key not in self._projected:
            g = frame.geometry
            ok = ~(g.isna() | g.is_empty)

            # densify first (about 20 m): a straight edge in lon/lat and the same edge in Gauss-Krüger then agree,
            # so shared borders with vertices on one side only (T-junctions) stay shared after projecting
            geoms = g.to_numpy().copy()
            # a record outside China (metres declared as degrees, swapped lon/lat) is GEO-004's finding; projected
            # (and densified) it would be nonsense of unbounded size, so the projected rules do not see it
            inside = inside_china(geoms)
            geoms[ok.to_numpy() & ~inside] = None
            ok = ok & inside
            poly = ok.to_numpy() & np.isin(shapely.get_type_id(geoms), [1, 2, 3, 5, 6])
            lon = float(np.nanmedian(shapely.get_x(shapely.centroid(geoms[ok.to_numpy()])))) if ok.any() else 114.0
            geoms[poly] = shapely.segmentize(geoms[poly], 0.0002)
            dense = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
            self._projected[key] = (frame, dense.to_crs(gauss_kruger_crs(min(max(lon, 73.5), 135.0))))
        return self._projected[key][1]

    def outside_claimed_area(self, frame: gpd.GeoDataFrame, code_col: str, level: str) -> pd.Series:
        """True where a record's location is not inside the admin area its ``code_col`` names.

        The location is the centre of the geometry's bounding box (a point stays itself; it is defined also for
        invalid polygons). Records with no geometry are not judged here (other rules report them); a code that
        names no area of that level fails.
        """
        areas = self.frame("admin_areas")
        areas = areas[areas["level"] == level]
        polys = pd.Series(areas.geometry.to_numpy(), index=areas["area_code"].to_numpy())
        polys = polys[~polys.index.duplicated()]
        shapely.prepare(polys.to_numpy())  # indexed point-in-polygon: areas have thousands of vertices
        g = frame.geometry.to_numpy()
        present = ~shapely.is_missing(g) & ~shapely.is_empty(g)
        b = np.full((len(g), 4), np.nan)
        b[present] = shapely.bounds(g[present])
        pts = shapely.points((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
        pos = index_in(frame[code_col], pd.Series(polys.index.to_numpy(dtype=object), dtype="str"))
        known = pos >= 0
        claimed = polys.to_numpy()[np.maximum(pos, 0)]
        inside = np.zeros(len(g), dtype=bool)
        sel = present & known
        inside[sel] = shapely.covers(claimed[sel], pts[sel])  # prepared polygon first: indexed test
        return pd.Series(present & ~inside, index=frame.index)


@dataclass
class CheckResult:
    """Findings of a run and the per dataset × rule summary."""

    findings: pd.DataFrame
    summary: pd.DataFrame


def check_dataset(ctx: Context, name: str, applied: list | None = None) -> pd.DataFrame:
    """All findings for one catalog entry (never raises for bad data: problems become findings).

    Parameters
    ----------
    ctx : Context
    name : str
        Catalog entry name.
    applied : list, optional
        Receives ``(dataset, rule_id, records checked)`` for every rule that ran.

    Returns
    -------
    pandas.DataFrame
        Findings with the columns of :data:`standards_checks.api.FINDINGS_COLUMNS`, values unmasked (the caller
        masks).
    """
    entry = ctx.catalog[name]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = ctx.frame(name)
    except CRSMismatchError as exc:
        return _one(name, structural_rule_id("crs"), None, None, str(exc))
    except CatalogError as exc:
        return _one(name, structural_rule_id("unreadable"), None, None, str(exc))
    texts = dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, CatalogWarning))
    assumed = [_one(name, structural_rule_id("read_assumption"), None, None, text) for text in texts]
    found = _checked(ctx, name, entry, frame, applied)
    if assumed:
        found = pd.concat([*assumed, found], ignore_index=True)
    return _with_sources(entry, found)


def _with_sources(entry, findings: pd.DataFrame) -> pd.DataFrame:
    """Name the source column beside the schema field in the messages of a mapped entry's findings.

    ``column`` stays the schema field (masking and reports key on it); the message gains
    ``（字段 id_number（源字段 公民身份号码））`` so an analyst finds the column in the department's own file.
    """
    if not entry.columns or not len(findings):
        return findings
    labels = {f: entry.field_label(f) for f in entry.columns.values()}
    column = findings["column"]
    sel = column.isin(list(labels)).to_numpy()
    if not sel.any():
        return findings
    findings = findings.copy()
    suffix = column[sel].map(lambda f: f"（字段 {labels[f]}）")
    findings.loc[sel, "message"] = findings.loc[sel, "message"].astype(str) + suffix
    return findings


def _checked(ctx: Context, name: str, entry, frame, applied: list | None) -> pd.DataFrame:
    """Findings of the rules on a dataset that could be read."""
    applied = applied if applied is not None else []
    if hasattr(frame, "rio") and hasattr(frame, "dims"):  # rasters: the raster rules of the schema
        return _raster_findings(ctx, name, entry, frame, applied)
    from standards_checks.backends.dask import check_dask_dataset, is_dask_frame

    if entry.schema in DASK_SCHEMAS and isinstance(frame, pd.DataFrame):  # a stream delivered as one file
        import dask.dataframe as dd

        frame = dd.from_pandas(frame, npartitions=max(1, len(frame) // 5_000_000))
    if not isinstance(frame, pd.DataFrame):  # rasters, cubes and out-of-core (Dask) tables have their own engines
        if is_dask_frame(frame):
            return check_dask_dataset(ctx, name, entry, frame, applied)
        return _empty()
    if not frame.index.is_unique:  # an analyst's concatenated copy: positions, not labels, identify records
        frame = frame.reset_index(drop=True)
    ctx.register(name, entry.schema, frame, pristine=ctx.is_pristine(name))
    parts = []
    id_col = entry.id_column
    if id_col and id_col not in frame:
        parts.append(_one(name, structural_rule_id("missing_column"), None, id_col,
                          f"缺少记录标识字段 {entry.field_label(id_col)}{_near(id_col, frame.columns)}"))
        return pd.concat(parts, ignore_index=True)
    parts.append(_extra_columns(name, entry, frame, applied))
    if id_col:
        dup = frame[id_col].duplicated(keep=False).to_numpy() & frame[id_col].notna().to_numpy()
        parts.append(_rows(name, structural_rule_id("duplicate_id"), frame, entry, np.flatnonzero(dup), id_col))
        applied.append((name, structural_rule_id("duplicate_id"), len(frame)))
    model = MODELS.get(entry.schema)
    rules = [RULES[r] for r in _GENERIC] if isinstance(frame, gpd.GeoDataFrame) else []
    rules += dataset_rules(entry.schema)
    out = None
    cache = ctx.record_cache if entry.schema in CACHED_SCHEMAS else None
    if cache is not None and len(frame):
        out = _cached_outcome(ctx, name, entry, frame, model, rules, cache)
    if out is None:
        out = _outcome(ctx, name, entry, frame, model, rules)
    for order, item in sorted(out.items, key=lambda t: t[0]):
        parts.append(item if isinstance(item, pd.DataFrame) else _rows(name, item[0], frame, entry, item[2], item[1]))
    applied += [(name, rule_id, len(frame)) for rule_id in out.ran]
    return pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty()


CACHED_SCHEMAS = ("addresses", "persons", "houses", "units")
"""The 一标三实 registers: monthly snapshots of mostly unchanged records, whose record-level rule results are cached
per record content (:mod:`cimlib.cache`)."""


@dataclass
class _Outcome:
    """What the rules found on one dataset, before it becomes findings rows.

    ``items``: ``(order, (rule_id, column, positions))`` for failing records, or ``(order, DataFrame)`` for a finding
    about the whole dataset; ``order`` sorts them as the rules ran (pandera's columns and checks, then the frame rules
    in declaration order). ``ran``: the rules that ran on every record. ``missing``: model columns absent."""

    items: list
    ran: list
    missing: set


def _outcome(ctx: Context, name: str, entry, frame, model, rules, per_record: bool | None = None,
             missing: set | None = None) -> _Outcome:
    """Run the pandera model and the frame rules on ``frame`` (``per_record`` True or False: only the cacheable ones,
    or only the others; the order keys stay those of ``rules``); without a model, ``missing`` names the model
    columns absent (their rules are skipped)."""
    items, ran, missing = [], [], set(missing or ())
    if model is not None:
        items, missing = _pandera_outcome(name, model, frame)
        ran += [c for c in _column_rule_ids(model) if RULES[c].column not in missing]
    for k, rule in enumerate(rules):
        if per_record is not None and rule.per_record != per_record:
            continue
        if rule.column and rule.column != "geometry" and rule.column in missing:
            continue
        order = ("1", k)
        try:
            failed = rule.fn(frame, ctx)
        except CatalogError as exc:
            items.append((order, _one(name, structural_rule_id("rule_failed"), None, rule.column,
                                      f"规则 {rule.rule_id} 所需数据不可用：{exc}")))
            continue
        except KeyError as exc:
            items.append((order, _one(name, structural_rule_id("rule_failed"), None, rule.column,
                                      f"规则 {rule.rule_id} 缺少字段 {exc}")))
            continue
        except Exception as exc:  # a column of unexpected type or values: the rule cannot judge, the others still run
            items.append((order, _one(name, structural_rule_id("rule_failed"), None, rule.column,
                                      rule_error(rule.rule_id, exc))))
            continue
        items.append((order, (rule.rule_id, rule.column, np.flatnonzero(np.asarray(failed, dtype=bool)))))
        ran.append(rule.rule_id)
    return _Outcome(items, ran, missing)


_COLUMN_LEVEL = frozenset({structural_rule_id("missing_column"), structural_rule_id("dtype")})
"""Findings about the whole dataset that depend only on its field names and types (part of a cache context)."""


def _cached_outcome(ctx: Context, name: str, entry, frame, model, rules, cache) -> _Outcome | None:
    """:func:`_outcome`, with the record-level rules run only on record contents the cache has not seen.

    The set-level rules run on the whole frame as always. Returns None (the caller runs everything uncached) when
    the context cannot be fingerprinted (a reference layer that cannot be read or was edited in memory), a field
    holds mixed Python types (``object``: its type check depends on the values), two contents share a hash, or a
    record-level rule could not run on the new records.
    """
    from cimlib.cache import decode_tokens, encode_tokens, frame_digest, record_hashes

    if any(frame[c].dtype == object for c in frame.columns):
        return None   # mixed Python types: pandera judges such a column by its values, not by its type alone
    context = {"schema": entry.schema, "id_column": entry.id_column,
               "fields": [[str(c), str(frame[c].dtype)] for c in frame.columns],
               "crs": str(frame.crs.to_wkt()) if isinstance(frame, gpd.GeoDataFrame) and frame.crs else None}
    needs = sorted({n for r in rules if r.per_record for n in r.needs})
    try:
        for need in needs:
            if not ctx.is_pristine(need):
                return None
            context[f"needs:{need}"] = frame_digest(ctx.frame(need))
    except CatalogError:
        return None
    store = cache.store(context)
    h1, h2 = record_hashes(frame)
    pos, fails = store.lookup(h1, h2)
    miss = np.flatnonzero(pos < 0)
    codes, uniq = pd.factorize(h1[miss])
    first = np.full(len(uniq), -1, dtype=np.int64)
    first[codes[::-1]] = miss[::-1]           # first record of each new content
    if len(miss) and (h2[first[codes]] != h2[miss]).any():
        return None                           # two contents with one 64-bit key: check everything directly
    sub = frame.iloc[first]
    ctx.note_schema(sub, entry.schema)
    sub_out = _outcome(ctx, name, entry, sub, model, rules, per_record=True)
    whole = [(o, it) for o, it in sub_out.items if isinstance(it, pd.DataFrame)]
    if any(not set(it["rule_id"]) <= _COLUMN_LEVEL for _, it in whole):
        return None                           # a record-level rule could not run: no partial results are kept
    tokens = {}
    for order, item in sub_out.items:
        if isinstance(item, pd.DataFrame):
            continue
        rule_id, column, p = item
        tok = f"P\x1f{order[2]}\x1f{order[3]}\x1f{rule_id}\x1f{column}" if order[0] == "0" else f"F\x1f{rule_id}"
        tokens[tok] = p
    new = np.full(len(first), "", dtype=object)
    if tokens:
        flat = pd.DataFrame({"pos": np.concatenate(list(tokens.values())),
                             "tok": np.repeat(np.array(list(tokens), dtype=object), [len(v) for v in tokens.values()])})
        joined = flat.groupby("pos", sort=True)["tok"].agg(encode_tokens)
        new[joined.index.to_numpy()] = joined.to_numpy()
    store.add(np.asarray(uniq, dtype=np.uint64), h2[first], new)
    cache.hits += len(frame) - len(miss)
    cache.misses += len(first)
    fails = fails.astype(object)
    fails[miss] = new[codes]
    failing = np.flatnonzero(fails != "")
    items = list(whole)
    if len(failing):
        parent, toks = decode_tokens(fails[failing])
        ex = pd.DataFrame({"pos": failing[parent], "tok": toks})
        order_of = {r.rule_id: ("1", k) for k, r in enumerate(rules)}
        for tok, grp in ex.groupby("tok", sort=False):
            f = tok.split("\x1f")
            if f[0] == "P":
                item = (("0", 1, f[1], f[2]), (f[3], None if f[4] == "None" else f[4], np.sort(grp["pos"].to_numpy())))
            else:
                item = (order_of[f[1]], (f[1], RULES[f[1]].column, np.sort(grp["pos"].to_numpy())))
            items.append(item)
    set_out = _outcome(ctx, name, entry, frame, None, rules, per_record=False, missing=sub_out.missing)
    return _Outcome(items + set_out.items, sub_out.ran + set_out.ran, sub_out.missing)


def _near(column: str, columns) -> str:
    """Chinese hint naming a file column that looks like the missing one (case, spaces, close spelling)."""
    import difflib

    names = [str(c) for c in columns]
    norm = {n.strip().lower().replace(" ", "_").replace("-", "_"): n for n in names}
    hit = norm.get(column) or next(iter(difflib.get_close_matches(column, names, n=1, cutoff=0.75)), None)
    return f"（文件中有相近字段 '{hit}'，可在数据目录该条目的 columns 中映射：{hit}: {column}）" if hit else ""


def _extra_columns(name: str, entry, frame, applied: list) -> pd.DataFrame:
    """SYS-008 warnings for columns outside the dataset's field table (model columns + optional fields)."""
    from standards_checks.schemas import OPTIONAL_COLUMNS

    model = MODELS.get(entry.schema)
    if model is None:
        return _empty()
    known = set(model.to_schema().columns) | set(OPTIONAL_COLUMNS.get(entry.schema, ())) | {"geometry"}
    known |= {entry.id_column, entry.options.get("x"), entry.options.get("y")} - {None}
    applied.append((name, structural_rule_id("extra_column"), len(frame.columns)))
    extra = [str(c) for c in frame.columns if c not in known]
    if not extra:
        return _empty()
    return pd.concat([_one(name, structural_rule_id("extra_column"), None, c,
                           f"字段 {c} 不在数据集 {entry.schema} 的字段表中（保留，规则不使用）") for c in extra],
                     ignore_index=True)


def _raster_findings(ctx, name, entry, array, applied) -> pd.DataFrame:
    """Run the raster rules of the entry's schema; each returns ``{record_id: value}`` of failing bands."""
    parts = []
    for rule in dataset_rules(entry.schema):
        try:
            failing = rule.fn(array, ctx)
        except CatalogError as exc:
            parts.append(_one(name, structural_rule_id("rule_failed"), None, rule.column, f"规则 {rule.rule_id} 所需数据不可用：{exc}"))
            continue
        applied.append((name, rule.rule_id, int(array.sizes.get("band", 1))))
        for record_id, value in failing.items():
            f = _one(name, rule.rule_id, record_id, rule.column, None)
            f["value"] = str(value)
            parts.append(f)
    return pd.concat(parts, ignore_index=True) if parts else _empty()


def _column_rule_ids(model) -> list[str]:
    schema = model.to_schema()
    return [c.name for col in schema.columns.values() for c in col.checks if c.name in RULES]


def _run_pandera(name, model, frame, entry) -> tuple[pd.DataFrame, set[str]]:
    """Lazy pandera validation of the model's columns and column rules -> findings and the missing model columns."""
    items, missing = _pandera_outcome(name, model, frame)
    parts = [it if isinstance(it, pd.DataFrame) else _rows(name, it[0], frame, entry, it[2], it[1])
             for _, it in sorted(items, key=lambda t: t[0])]
    parts = [p for p in parts if len(p)]
    return (pd.concat(parts, ignore_index=True) if parts else _empty()), missing


def _pandera_outcome(name, model, frame) -> tuple[list, set[str]]:
    """Lazy pandera validation -> :class:`_Outcome` items (ordered by column, then check) and missing columns."""
    schema = model.to_schema()
    try:
        schema.validate(frame, lazy=True)
        return [], set()
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    except Exception as exc:  # pandera itself failed on unexpected data: report, let the frame rules run
        return [(("0", 2, "", ""), _one(name, structural_rule_id("rule_failed"), None, None,
                                        rule_error("（字段约束）", exc)))], set()
    items = []
    missing = set(fc.loc[fc["check"] == "column_in_dataframe", "failure_case"].astype(str))
    for col in sorted(missing):
        items.append((("0", 0, col, ""), _one(name, structural_rule_id("missing_column"), None, col,
                                              f"缺少字段 {col}{_near(col, frame.columns)}")))
    for (col, check), grp in fc[fc["check"] != "column_in_dataframe"].groupby(["column", "check"], sort=True, dropna=False):
        check = str(check)
        order = ("0", 1, str(col), check)
        index = grp["index"].dropna()
        if check in RULES:
            rule_id = check
        elif check == "not_nullable":
            rule_id = structural_rule_id("null")
        elif check.startswith("dtype("):
            items.append((order, _one(name, structural_rule_id("dtype"), None, col, f"字段 {col} 类型应为 {check[6:-1]}")))
            continue
        else:
            rule_id = "SYS-003"
        pos = frame.index.get_indexer(pd.Index(index.unique()))
        items.append((order, (rule_id, col, np.sort(pos[pos >= 0]))))
    return items, missing


def _text(values: pd.Series) -> pd.Series:
    """Values as text for the findings table; bytes that are not UTF-8 are shown with replacement characters."""
    try:
        return values.astype(str)
    except (UnicodeDecodeError, TypeError, ValueError):
        return pd.Series([v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values],
                         index=values.index, dtype=object)


def _rows(dataset, rule_id, frame, entry, pos, column) -> pd.DataFrame:
    if len(pos) == 0:
        return _empty()
    rule = RULES[rule_id]
    rid = frame[entry.id_column].to_numpy()[pos] if entry.id_column in frame else pos.astype(str)
    if column and column != "geometry" and column in frame:
        value = pd.Series(frame[column].to_numpy()[pos], dtype=object).astype(object)
        value = value.where(value.isna(), _text(value))
    else:
        value = pd.Series([None] * len(pos), dtype=object)
    geometry = None
    if isinstance(frame, gpd.GeoDataFrame):
        g = frame.geometry.to_numpy()[pos]
        ok = ~shapely.is_missing(g) & ~shapely.is_empty(g)
        b = np.full((len(g), 4), np.nan)
        b[ok] = shapely.bounds(g[ok])
        ok &= np.isfinite(b).all(axis=1)  # coordinates impossible in the declared CRS come back infinite: no place
        wkt = shapely.to_wkt(shapely.points((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2), rounding_precision=7)
        geometry = np.where(ok, wkt, None)
    return pd.DataFrame({
        "dataset": dataset, "rule_id": rule_id, "severity": rule.severity, "record_id": _text(pd.Series(rid, dtype=object)).to_numpy(),
        "column": column, "value": value.to_numpy(), "message": rule.message, "standard": rule.standard, "geometry": geometry,
    }, columns=FINDINGS_COLUMNS)


def rule_error(rule_id: str, exc: BaseException) -> str:
    """Message of a rule that raised on unexpected data (personal values quoted by the library masked)."""
    return mask_text(f"规则 {rule_id} 无法执行（字段类型或取值异常）：{type(exc).__name__}: {str(exc)[:200]}")


def _one(dataset, rule_id, record_id, column, message) -> pd.DataFrame:
    rule = RULES[rule_id]
    return pd.DataFrame([{"dataset": dataset, "rule_id": rule_id, "severity": rule.severity, "record_id": record_id,
                          "column": column, "value": None, "message": mask_text(message) if message else rule.message,
                          "standard": rule.standard, "geometry": None}], columns=FINDINGS_COLUMNS)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDINGS_COLUMNS})


def mask_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Mask the ``value`` of findings on personal columns (by column name)."""
    out = findings.copy()
    for col, kind in PERSONAL_COLUMNS.items():
        sel = (out["column"] == col).to_numpy()
        if sel.any():
            out.loc[sel, "value"] = mask_values(out.loc[sel, "value"].to_numpy(), kind).to_numpy()
    return out


def run_checks(catalog: Catalog, datasets=None, *, period: str | None = None, masked: bool = True,
               progress: bool = False, cache="auto", partition: str | None = None) -> CheckResult:
    """Run every rule on the chosen datasets of a catalog (all by default): findings and summary.

    Parameters
    ----------
    catalog : Catalog
    datasets : list of str, optional
        Entry names; default every entry.
    period : str, optional
        ``YYYY-MM``: check that monthly snapshot of the registers instead of their current state.
    masked : bool, default True
        Mask personal values (身份证号, 姓名, 电话, 门牌). Only an analyst's interactive session should pass False.
    progress : bool, default False
    cache : cimlib.cache.RecordCache or None, default "auto"
        Where record-level rule results are reused from and kept (:mod:`cimlib.cache`); ``"auto"``: the user's
        cache (:func:`cimlib.cache.default_cache`, off when ``CIM_NO_CACHE`` is set); None: check every record.
        Findings are the same either way.
    partition : {"auto", "always", "never"}, optional
        Check the 一标三实 registers partition by partition (:mod:`standards_checks.backends.partitioned`):
        ``auto`` (default ``$CIM_PARTITION``, else auto) when a register file would take more than
        ``$CIM_MEMORY_SHARE`` of memory. Findings are the same; partitioned registers do not use the cache.

    Returns
    -------
    CheckResult
        ``findings`` (DESIGN.md columns, sorted by dataset, rule and record) and ``summary`` (per dataset × rule
        that ran: records checked, records failed, rate; rules with no failure are listed with 0).

    Raises
    ------
    cimlib.catalog.CatalogError
        If a requested dataset name is not in the catalog.
    """
    names = list(datasets) if datasets else [e.name for e in catalog]
    for n in names:
        catalog[n]  # unknown names: a clear error before any work
    ctx = Context(catalog, period=period, cache=cache)
    applied: list = []
    parts = [_check_one(ctx, n, applied, partition)
             for n in tqdm(names, desc="标准检查", unit="数据集", disable=not progress)]
    parts = [p for p in parts if len(p)]
    findings = pd.concat(parts, ignore_index=True) if parts else _empty()
    findings = findings.sort_values(["dataset", "rule_id", "record_id"], kind="stable", na_position="first")
    findings = findings.reset_index(drop=True)
    summary = _summary(findings, applied)
    return CheckResult(mask_findings(findings) if masked else findings, summary)


def _check_one(ctx: Context, name: str, applied: list, partition: str | None) -> pd.DataFrame:
    """:func:`check_dataset`, or the partitioned engine for a register too large for memory."""
    from standards_checks.backends.partitioned import check_partitioned, row_source, should_partition

    try:
        if should_partition(ctx.catalog, name, ctx.period, partition):
            return check_partitioned(ctx, name, row_source(ctx.catalog, name, ctx.period), applied)
    except CatalogError:
        pass   # unreadable: check_dataset reports it as a finding
    return check_dataset(ctx, name, applied)


def _summary(findings: pd.DataFrame, applied: list) -> pd.DataFrame:
    ran = pd.DataFrame(applied, columns=["dataset", "rule_id", "checked"]).drop_duplicates(["dataset", "rule_id"])
    failed = findings.groupby(["dataset", "rule_id"])["record_id"].nunique().rename("failed").reset_index()
    out = ran.merge(failed, on=["dataset", "rule_id"], how="outer")
    out["failed"] = out["failed"].fillna(0).astype("int64")
    out["checked"] = out["checked"].astype("Int64")
    out["rate"] = out["failed"] / out["checked"].astype("float64")
    out["severity"] = out["rule_id"].map(lambda r: RULES[r].severity)
    out["message"] = out["rule_id"].map(lambda r: RULES[r].message)
    out["standard"] = out["rule_id"].map(lambda r: RULES[r].standard)
    cols = ["dataset", "rule_id", "severity", "message", "standard", "checked", "failed", "rate"]
    return out[cols].sort_values(["dataset", "rule_id"]).reset_index(drop=True)
