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

    def __init__(self, catalog: Catalog, period: str | None = None):
        self.catalog = catalog
        self.period = period
        self._frames: dict[str, object] = {}
        self._schema_by_frame: dict[int, str] = {}
        self._projected: dict[int, tuple] = {}

    def frame(self, name: str):
        """The dataset called ``name`` (a catalog entry name or, failing that, the entry whose schema is ``name``)."""
        if name not in self._frames:
            entry = self._entry(name)
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

    def register(self, name: str, schema: str, frame) -> None:
        """Use ``frame`` as the dataset ``name`` (of schema ``schema``), e.g. an analyst's edited copy in a notebook.

        Parameters
        ----------
        name : str
            Catalog entry name.
        schema : str
            Its ``standards_checks`` schema.
        frame : pandas.DataFrame or geopandas.GeoDataFrame
        """
        self._frames[name] = frame
        self._schema_by_frame[id(frame)] = schema

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
    ctx.register(name, entry.schema, frame)
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
    missing_cols: set[str] = set()
    if model is not None:
        f, missing_cols = _run_pandera(name, model, frame, entry)
        parts.append(f)
        for check in _column_rule_ids(model):
            if RULES[check].column not in missing_cols:
                applied.append((name, check, len(frame)))
    rules = [RULES[r] for r in _GENERIC] if isinstance(frame, gpd.GeoDataFrame) else []
    rules += dataset_rules(entry.schema)
    for rule in rules:
        if rule.column and rule.column != "geometry" and rule.column in missing_cols:
            continue
        try:
            failed = rule.fn(frame, ctx)
        except CatalogError as exc:
            parts.append(_one(name, structural_rule_id("rule_failed"), None, rule.column, f"规则 {rule.rule_id} 所需数据不可用：{exc}"))
            continue
        except KeyError as exc:
            parts.append(_one(name, structural_rule_id("rule_failed"), None, rule.column, f"规则 {rule.rule_id} 缺少字段 {exc}"))
            continue
        except Exception as exc:  # a column of unexpected type or values: the rule cannot judge, the others still run
            parts.append(_one(name, structural_rule_id("rule_failed"), None, rule.column, rule_error(rule.rule_id, exc)))
            continue
        pos = np.flatnonzero(np.asarray(failed, dtype=bool))
        parts.append(_rows(name, rule.rule_id, frame, entry, pos, rule.column))
        applied.append((name, rule.rule_id, len(frame)))
    return pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty()


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
    """Lazy pandera validation of the model's columns and column rules -> findings."""
    schema = model.to_schema()
    try:
        schema.validate(frame, lazy=True)
        return _empty(), set()
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    except Exception as exc:  # pandera itself failed on unexpected data: report, let the frame rules run
        return _one(name, structural_rule_id("rule_failed"), None, None, rule_error("（字段约束）", exc)), set()
    parts = []
    missing = set(fc.loc[fc["check"] == "column_in_dataframe", "failure_case"].astype(str))
    for col in sorted(missing):
        parts.append(_one(name, structural_rule_id("missing_column"), None, col, f"缺少字段 {col}{_near(col, frame.columns)}"))
    for (col, check), grp in fc[fc["check"] != "column_in_dataframe"].groupby(["column", "check"], sort=True, dropna=False):
        check = str(check)
        index = grp["index"].dropna()
        if check in RULES:
            rule_id = check
        elif check == "not_nullable":
            rule_id = structural_rule_id("null")
        elif check.startswith("dtype("):
            parts.append(_one(name, structural_rule_id("dtype"), None, col, f"字段 {col} 类型应为 {check[6:-1]}"))
            continue
        else:
            rule_id = "SYS-003"
        pos = frame.index.get_indexer(pd.Index(index.unique()))
        parts.append(_rows(name, rule_id, frame, entry, pos[pos >= 0], col))
    return (pd.concat(parts, ignore_index=True) if parts else _empty()), missing


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
               progress: bool = False) -> CheckResult:
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
    ctx = Context(catalog, period=period)
    applied: list = []
    parts = [check_dataset(ctx, n, applied) for n in tqdm(names, desc="标准检查", unit="数据集", disable=not progress)]
    parts = [p for p in parts if len(p)]
    findings = pd.concat(parts, ignore_index=True) if parts else _empty()
    findings = findings.sort_values(["dataset", "rule_id", "record_id"], kind="stable", na_position="first")
    findings = findings.reset_index(drop=True)
    summary = _summary(findings, applied)
    return CheckResult(mask_findings(findings) if masked else findings, summary)


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
