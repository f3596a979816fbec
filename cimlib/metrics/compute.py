"""Compute the metrics table of a catalog: every metric, at every area level, for every monthly snapshot.

``compute_metrics`` is what ``cim metrics`` and the report notebooks call. A month's metrics read only that month's
snapshot of the registers (and the layers that have no snapshots). A dataset that cannot be read becomes a problem
row and evidence, never a crash of the run.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm.auto import tqdm

from cimlib._io import input_label, input_sha256, release_memory
from cimlib.catalog import Catalog, CatalogError
from cimlib.metrics import pipeline as _pipeline
from cimlib.metrics._areas import Areas, roll_up
from cimlib.metrics._spec import CLASSES, METRICS, METRICS_COLUMNS, STAGES
from cimlib.metrics.compounds import smart_compound_counts
from cimlib.metrics.coverage import area_coverage, clip_to, completeness_counts, extent_as_of, project
from cimlib.metrics.linking import DEFAULT_TOLERANCE_M, link_addresses, link_records, projected_crs
from cimlib.metrics.proposals import PROPOSAL_COLUMNS, no_proposals, propose
from cimlib.lookup import isin
from cimlib.metrics.registers import DATASET_LEVEL_RULES, STATUS_COLUMNS, code_ok_any, record_status

PROBLEM_COLUMNS = ["period", "dataset", "problem"]
_KEPT_FINDING_COLUMNS = ("dataset", "rule_id", "severity", "record_id", "column", "message")
"""What ``compute_metrics(findings=...)`` keeps of a snapshot's error findings: what the facility metrics and the
reports' reuse read (:data:`cimlib.reuse.FINDING_COLUMNS`), not the values, clauses and locations, which would be
held for every register and month of the run."""
LINK_SUMMARY_COLUMNS = ["period", "dataset", "method", "on_map", "records"]


@dataclass
class MetricsResult:
    """What a metrics run produced.

    Attributes
    ----------
    metrics : pandas.DataFrame
        The metrics table (:data:`cimlib.metrics.METRICS_COLUMNS`).
    evidence : pandas.DataFrame
        Per record and period, the records that lower a register metric and why (:data:`STATUS_COLUMNS` + period),
        with the address-match proposal of every record without a code link (``proposed_address_id,
        proposal_status, proposal_score``, :mod:`cimlib.metrics.proposals`); record identifiers and codes of places
        only, no personal values.
    problems : pandas.DataFrame
        Datasets that could not be used (``period, dataset, problem``).
    link_summary : pandas.DataFrame
        Records per period, dataset, link method (code/spatial/none) and on-map status.
    inputs : dict
        Input file (relative to the catalog) -> sha256.
    matches : dict
        ``(dataset, period)`` (``current`` without snapshots) -> :class:`cimlib.geocode.run.MatchResult`: the
        address match of the records without a code link behind ``mapping_rate_attainable`` and the proposal
        columns (reasons masked), for every register carrying an ``address_text``; what the reports' 治理工作清单
        shows.
    """

    metrics: pd.DataFrame
    evidence: pd.DataFrame
    problems: pd.DataFrame
    link_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    inputs: dict = field(default_factory=dict)
    matches: dict = field(default_factory=dict)


def _too_large(run: "_Run", period) -> bool:
    """Whether one of the period's registers would take more than ``$CIM_MEMORY_SHARE`` of memory."""
    from standards_checks.backends.partitioned import too_large

    return any(too_large(run.catalog, run.names[s], period) for s in CLASSES if run.names.get(s))


def _entry_by_schema(catalog: Catalog, schema: str) -> str | None:
    for e in catalog:
        if e.schema == schema:
            return e.name
    return None


class _Run:
    """Reads and fingerprints shared by every period of one run."""

    def __init__(self, catalog: Catalog, tolerance_m: float, cache="auto"):
        self.catalog = catalog
        if cache == "auto":
            from cimlib.cache import default_cache

            cache = default_cache()
        self.cache = cache
        self.tolerance_m = tolerance_m
        self.names = {s: _entry_by_schema(catalog, s) for s in
                      ("admin_areas", "central_area", "buildings", "white_model_extent", "fine_model_extent",
                       "address_pipeline", "demo_zone", "devices", *PLATFORM_LAYERS, *CLASSES)}
        self._static: dict[str, object] = {}
        self._sha: dict[str, str] = {}
        self.problems: list[tuple] = []
        self.root = catalog.path.parent

    def periods(self) -> list[str | None]:
        found = sorted({p for s in CLASSES if self.names[s] for p in self.catalog.periods(self.names[s])})
        return found or [None]

    def static(self, schema: str):
        """A layer without snapshots, read once per run (``None`` and a problem if absent or unreadable)."""
        if schema not in self._static:
            name = self.names.get(schema)
            if name is None:
                self._static[schema] = None
            else:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        self._static[schema] = self.catalog.read(name)
                except CatalogError as exc:
                    self.problems.append((None, name, str(exc)))
                    self._static[schema] = None
        return self._static[schema]

    def fingerprint(self, schemas, period) -> str:
        """sha256 over the input files of ``schemas`` for ``period`` (file names relative to the catalog)."""
        import hashlib

        h = hashlib.sha256()
        for schema in sorted(schemas):
            name = self.names.get(schema)
            if not name:
                continue
            entry = self.catalog[name]
            try:
                files = self.catalog.inputs(name, period if entry.snapshots else None)
            except CatalogError:
                continue
            for f in files:
                rel = input_label(f, self.root)
                if rel not in self._sha:
                    try:
                        self._sha[rel] = input_sha256(f)
                    except CatalogError:  # database unreachable: already a problem of the run
                        self._sha[rel] = None
                h.update(f"{rel}\0{self._sha[rel]}\n".encode())
        return h.hexdigest()

    def cached(self, key, make):
        """A value computed once per run (projected layers)."""
        if key not in self._static:
            self._static[key] = make()
        return self._static[key]

    def projected_admin(self, admin):
        """Community codes, polygons in the projected CRS and that CRS (computed once per run)."""
        def make():
            comms = admin[admin["level"] == "社区"]
            if comms.empty:
                return None
            crs = projected_crs(admin.geometry.to_numpy())
            return comms["area_code"].astype(str).tolist(), project(comms, crs), crs
        return self.cached("projected_admin", make)

    @property
    def inputs(self) -> dict:
        return dict(sorted(self._sha.items()))


def compute_metrics(catalog: Catalog, periods=None, *, level: str | None = None, tolerance_m: float = DEFAULT_TOLERANCE_M,
                    progress: bool = False, findings: dict | None = None, cache="auto", partition: str | None = None,
                    partition_rows: int | None = None, scheduler: str | None = None) -> MetricsResult:
    """Compute every metric of the catalogue for the chosen periods.

    Parameters
    ----------
    catalog : Catalog
    periods : list of str, optional
        ``YYYY-MM`` periods; default every snapshot period of the registers (or the current state when the
        catalog has no snapshots).
    level : {"county", "street", "community"}, optional
        Keep only rows of this area level (all are computed: upper levels are sums of lower ones).
    tolerance_m : float, default 5.0
        Tolerance of the point-in-footprint link, metres.
    progress : bool, default False
    findings : dict, optional
        Receives, for every register snapshot the run checks, ``(entry, period)`` -> its error-severity findings
        (``period`` None for a catalog without snapshots; values unmasked), so that
        :func:`cimlib.metrics.facilities.facility_metrics` of the same run reuses them instead of checking the same
        snapshot again.
    cache : cimlib.cache.RecordCache or None, default "auto"
        Record-level rule results reused across the months and runs (:mod:`cimlib.cache`); ``"auto"``: the user's
        cache unless ``CIM_NO_CACHE`` is set; None: check every record of every month. Results are the same.
    partition : {"auto", "always", "never"}, optional
        Read, check and count the registers in partitions of rows (:mod:`cimlib.metrics._partitioned`) instead of
        whole: ``auto`` does it for a month when one of its register files would take more than
        ``$CIM_MEMORY_SHARE`` (default 0.1) of this machine's memory
        (:func:`standards_checks.backends.partitioned.too_large`). Default
        ``$CIM_PARTITION``, else ``auto``. Results are the same; partitioned months do not use the record cache.
    partition_rows : int, optional
        Records per partition (a Parquet file is cut at its row groups); default ``$CIM_PARTITION_ROWS``, else
        500000.
    scheduler : str, optional
        A ``dask.distributed`` scheduler address for the partition tasks (default ``$CIM_DASK_SCHEDULER``, else
        the local scheduler).

    Returns
    -------
    MetricsResult

    Raises
    ------
    cimlib.catalog.CatalogError
        When the catalog has no ``admin_areas`` layer or it cannot be read (no area can be counted without it),
        or a requested period is not a snapshot period of any register.
    """
    run = _Run(catalog, tolerance_m, cache)
    admin = run.static("admin_areas")
    if admin is None:
        problem = run.problems[-1][2] if run.problems else "数据目录中没有 admin_areas（行政区划）图层"
        raise CatalogError(f"无法计算指标：{problem}", path=catalog.path)
    areas = Areas(admin)
    all_periods = run.periods()
    if periods is None:
        periods = all_periods
    else:
        periods = list(periods)
        bad = [p for p in periods if p not in all_periods]
        if bad:
            raise CatalogError(f"期次 {'、'.join(bad)} 不是登记数据的快照期次；可用期次：{'、'.join(p for p in all_periods if p) or '（无）'}",
                               path=catalog.path)
    latest = all_periods[-1]
    from standards_checks.backends.partitioned import partition_mode

    partition = partition_mode(partition)
    split = {p: partition == "always" or (partition == "auto" and _too_large(run, p)) for p in periods}
    rows, evidence, links, matches = [], [], [], {}
    from cimlib.sensors.cluster import dask_client   # the partition tasks: an active or configured cluster, else here

    with dask_client(None, scheduler) if any(split.values()) else contextlib.nullcontext():
        for period in tqdm(periods, desc="计算指标", unit="期", disable=not progress):
            if split[period]:
                from cimlib.metrics._partitioned import one_period_partitioned

                r, e, s, m = one_period_partitioned(run, areas, admin, period, latest, findings, partition_rows)
            else:
                r, e, s, m = _one_period(run, areas, admin, period, latest, findings)
            release_memory()   # a month's temporaries are gone: give the heap back before the next month
            rows += r
            evidence += e
            links += s
            matches.update({(name, period or "current"): res for name, res in m.items()})
    metrics = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=METRICS_COLUMNS)
    metrics = metrics[METRICS_COLUMNS]
    if level:
        metrics = metrics[metrics["area_level"] == level]
    level_order = {"county": 0, "street": 1, "community": 2}
    metrics = metrics.assign(_l=metrics["area_level"].map(level_order)).sort_values(
        ["period", "dataset", "metric_id", "_l", "area_code"], kind="stable").drop(columns="_l").reset_index(drop=True)
    ev = (pd.concat(evidence, ignore_index=True) if evidence
          else pd.DataFrame(columns=["period", *STATUS_COLUMNS, *PROPOSAL_COLUMNS]))
    evidence.clear()   # the months' parts: not held beside the whole table any longer
    problems = pd.DataFrame(run.problems, columns=PROBLEM_COLUMNS).drop_duplicates()
    ls = (pd.concat(links, ignore_index=True)[LINK_SUMMARY_COLUMNS] if links
          else pd.DataFrame(columns=LINK_SUMMARY_COLUMNS))
    return MetricsResult(metrics, ev, problems, ls, run.inputs, matches)


def _frame(run: _Run, schema: str, period, ctx):
    name = run.names.get(schema)
    if not name:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ctx.frame(name)
    except CatalogError as exc:
        run.problems.append((period, name, str(exc)))
        return None


def _rows(metric_id: str, dataset: str, counts: pd.DataFrame, num: str, den: str, areas: Areas, period, sha: str,
          cls_zh: str = "") -> pd.DataFrame:
    table = roll_up(areas, counts, [num, den]) if len(counts) or True else None
    m = METRICS[metric_id]
    out = pd.DataFrame({
        "metric_id": metric_id, "dataset": dataset, "area_code": table["area_code"].astype(str), "area_level": table["area_level"],
        "period": period or "current", "numerator": table[num].astype("float64"), "denominator": table[den].astype("float64"),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        out["value"] = np.where(out["denominator"] > 0, out["numerator"] / out["denominator"].where(out["denominator"] > 0), np.nan)
    out["name_zh"] = m.name_zh.format(cls=cls_zh)
    out["area_name"] = out["area_code"].map(areas.name)
    out["unit"] = m.unit
    out["inputs_sha256"] = sha
    return out


def _one_period(run: _Run, areas: Areas, admin, period, latest, checked: dict | None = None):
    from standards_checks.backends.pandas import Context, check_dataset

    ctx = Context(run.catalog, period=period, cache=run.cache)
    buildings = run.static("buildings")
    for schema in ("admin_areas", "buildings"):
        if run.static(schema) is not None:
            ctx.register(run.names[schema], schema, run.static(schema), pristine=True)
    rows, evidence, summary = [], [], []
    statuses, frames, findings, matches = {}, {}, {}, {}
    base = {"admin_areas", "buildings"}

    # 标准地址 first: persons and units reach the map through on-map addresses
    addr_links = None
    addr_full = None  # the period's whole standard address library (admin chain included), for text matching
    for key in ("addresses", "persons", "houses", "units"):
        cls = CLASSES[key]
        name = run.names.get(key)
        if not name:
            continue
        frame = _frame(run, key, period, ctx)
        if frame is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = check_dataset(ctx, name)
        if checked is not None:
            checked[(name, period)] = f.loc[(f["severity"] == "error").to_numpy(), list(_KEPT_FINDING_COLUMNS)]
        id_col = run.catalog[name].id_column or frame.columns[0]
        if key == "addresses":
            if buildings is None:
                run.problems.append((period, name, "建筑白模（buildings）不可用：标准地址无法与建筑物关联"))
                bl = gpd.GeoDataFrame({"building_id": pd.Series([], dtype=str)}, geometry=[], crs=getattr(frame, "crs", None))
            else:
                bl = buildings
            links = link_addresses(frame, bl, admin, keys=cls.link_keys, id_column=id_col, tolerance_m=run.tolerance_m,
                                   crs=projected_crs(admin.geometry.to_numpy()))
            addr_links = (frame[id_col].astype(str).reset_index(drop=True), links)
            addr_full = frame
            scope = frame["address_type"].isin(cls.scope).to_numpy() if "address_type" in frame and cls.scope else np.ones(len(frame), bool)
            deps = base | {"addresses"}
        elif cls.link_target == "addresses":
            if addr_links is None:
                target, on = pd.DataFrame({"address_id": pd.Series([], dtype=str)}), np.zeros(0, bool)
            else:
                target, on = pd.DataFrame({"address_id": addr_links[0]}), addr_links[1]["on_map"].to_numpy()
            links = link_records(frame, target, keys=cls.link_keys, id_column=id_col, target_id="address_id", target_on_map=on,
                                 unavailable=addr_links is None)
            scope = np.ones(len(frame), bool)
            deps = base | {key, "addresses"}
        else:
            bl = buildings if buildings is not None else pd.DataFrame({"building_id": pd.Series([], dtype=str)})
            links = link_records(frame, bl, keys=cls.link_keys, id_column=id_col, target_id="building_id", target_name="建筑物",
                                 unavailable=buildings is None)
            scope = np.ones(len(frame), bool)
            deps = base | {key}
        fr = frame[scope]
        lk = links[scope].reset_index(drop=True)
        buckets = areas.bucket(fr)
        st = record_status(name, fr, f, lk, cls, id_col, buckets, run.catalog[name].field_label(cls.code_column))
        statuses[key], frames[key], findings[key] = st, fr, f
        sha = run.fingerprint(deps, period)
        c = st.assign(received=1).groupby("bucket")[["received", "governed", "coded", "on_map"]].sum()
        rows.append(_rows("governance_rate", name, c, "governed", "received", areas, period, sha, cls.name_zh))
        rows.append(_rows("coding_rate", name, c, "coded", "governed", areas, period, sha, cls.name_zh))
        rows.append(_rows("mapping_rate", name, c, "on_map", "governed", areas, period, sha, cls.name_zh))
        if key == "addresses":
            sc = smart_compound_counts(fr, buckets)
            if sc is not None:
                sc_rows = _rows("smart_compound_count", name, sc, "smart", "compounds", areas, period, sha)
                rows.append(sc_rows.assign(value=sc_rows["numerator"]))   # a count, not a share
        prop = None
        if key != "addresses" and addr_full is not None:
            prop = propose(fr, lk, addr_full, addr_links[1], target=cls.link_target, name=name, id_column=id_col,
                           period=period)
        if prop is None:
            st = st.assign(**{c: v.to_numpy() for c, v in no_proposals(len(st)).items()})
        else:
            prop, matches[name] = prop
            st = st.assign(**{c: prop[c].to_numpy() for c in PROPOSAL_COLUMNS})
            att = st["on_map"].to_numpy() | (st["governed"].to_numpy() & prop["would_map"].to_numpy())
            ca = pd.DataFrame({"bucket": buckets, "attainable": att.astype("int64"),
                               "governed": st["governed"].astype("int64").to_numpy()}).groupby("bucket").sum()
            rows.append(_rows("mapping_rate_attainable", name, ca, "attainable", "governed", areas, period,
                              run.fingerprint(deps | {"addresses"}, period), cls.name_zh))
        if key == "houses":
            ok = code_ok_any(fr, f, cls, id_col)
            hc = pd.DataFrame({"bucket": buckets, "coded_any": ok.astype("int64"), "received": 1}).groupby("bucket").sum()
            rows.append(_rows("house_coding_rate", name, hc, "coded_any", "received", areas, period, sha))
            if buildings is not None:
                cc = completeness_counts(fr, buildings, buckets, cls.link_keys)
                rows.append(_rows("white_model_completeness", run.names["buildings"], cc, "matched", "referenced", areas, period,
                                  run.fingerprint(base | {"houses"}, period)))
        summary.append(st.groupby(["link_method", "on_map"]).size().rename("records").reset_index()
                       .rename(columns={"link_method": "method"}).assign(period=period or "current", dataset=name))
        bad = ~(st["governed"] & st["coded"] & st["on_map"])
        evidence.append(st[bad.to_numpy()].assign(period=period or "current")[["period", *STATUS_COLUMNS, *PROPOSAL_COLUMNS]])

    rows += _pipeline_rows(run, areas, period, statuses.get("addresses"), frames.get("addresses"), findings.get("addresses"))
    rows += _coverage_rows(run, areas, admin, period, latest)
    rows += _platform_rows(run, areas, admin, period, latest, statuses.get("addresses"))
    rows += _grid_rows(run, areas, period, frames, buildings)
    return [r for r in rows if len(r)], evidence, summary, matches


def _grid_rows(run: _Run, areas: Areas, period, frames: dict, buildings, counted: dict | None = None) -> list[pd.DataFrame]:
    """北斗网格码关联率 (:mod:`cimlib.metrics.grid`) of the period: its address and house snapshots (in the registers'
    scope, as read above) with the buildings and devices as delivered; none when no entity dataset carries a
    ``grid_code`` field. ``counted``: schema -> ``(has a grid_code field, counts)`` of registers counted in parts."""
    from cimlib.metrics.grid import GRID_SCHEMAS, grid_counts, grid_rows, in_scope
    from standards_checks.schemas._grid import GRID_COLUMN

    parts, coded = {}, False
    for schema in GRID_SCHEMAS:
        if counted is not None and schema in counted:
            has, counts = counted[schema]
            coded |= has
            parts[schema] = (run.names[schema], counts)
            continue
        frame = frames.get(schema) if schema in CLASSES else run.static(schema)
        if frame is None or not run.names.get(schema):
            continue
        coded |= GRID_COLUMN in frame
        if schema in CLASSES:
            counts = grid_counts(schema, frame, areas.bucket(frame), buildings)
        else:  # a single file: the same counts every period
            counts = run.cached(("grid", schema), lambda: grid_counts(schema, in_scope(schema, frame),
                                                                      areas.bucket(in_scope(schema, frame))))
        parts[schema] = (run.names[schema], counts)
    if not coded:
        return []
    return [grid_rows(parts, areas, period, lambda deps: run.fingerprint(deps, period))]


def _pipeline_rows(run: _Run, areas: Areas, period, addr_status, addr_frame, addr_findings) -> list[pd.DataFrame]:
    log = run.static("address_pipeline")
    name = run.names.get("address_pipeline")
    if log is None or name is None or period is None:
        return []
    every = run.cached("produced_addresses", lambda: _pipeline.produced_addresses(log, STAGES))  # one log per run
    prod = every[(every["period"] == period).to_numpy()].reset_index(drop=True)
    sha = run.fingerprint({"address_pipeline", "addresses", "admin_areas", "buildings"}, period)
    if addr_frame is not None:
        from cimlib.lookup import index_in

        id_col = run.catalog[run.names["addresses"]].id_column
        ids = addr_frame[id_col] if id_col in addr_frame else pd.Series(pd.NA, index=addr_frame.index, dtype="str")
        pos = index_in(prod["address_id"], ids.astype("str"))   # the first record of each id, as delivered
        present = pos >= 0
        cols = [c for c in ("community_code", "street_code") if c in addr_frame]
        sub = addr_frame[cols].iloc[np.maximum(pos, 0)].reset_index(drop=True)
        if cols:
            sub.loc[~present, cols] = pd.NA
        buckets = areas.bucket(sub)
        errors = addr_findings[addr_findings["severity"] == "error"]
        whole = (errors["record_id"].isna() & errors["rule_id"].isin(DATASET_LEVEL_RULES)).any()
        rule_ok = ~isin(prod["address_id"], errors["record_id"].astype("str")) & ~whole
    else:
        buckets = areas.bucket(pd.DataFrame(index=range(len(prod))))
        rule_ok = np.zeros(len(prod), bool)
        present = np.zeros(len(prod), bool)
    qualified = prod["first_pass"].to_numpy() & rule_ok & present
    df = pd.DataFrame({"bucket": buckets, "produced": 1, "qualified": qualified.astype("int64")})
    for k in range(1, len(STAGES) + 1):
        s = prod[f"s{k}_pass"]
        df[f"s{k}_sub"] = s.notna().astype("int64").to_numpy()
        df[f"s{k}_ok"] = s.fillna(False).astype(bool).astype("int64").to_numpy()
    counts = df.groupby("bucket").sum(numeric_only=True)
    out = [_rows("address_qualification_rate", name, counts, "qualified", "produced", areas, period, sha)]
    for k in range(1, len(STAGES) + 1):
        out.append(_rows(f"stage_pass_rate_s{k}", name, counts, f"s{k}_ok", f"s{k}_sub", areas, period, sha))
    out += _lead_time_rows(name, prod, buckets, areas, period, sha)
    return out


def _lead_time_rows(name, prod, buckets, areas: Areas, period, sha) -> list[pd.DataFrame]:
    """Median and p90 lead time per area, from the records of the area (quantiles are not sums of parts)."""
    lt = prod["lead_time_days"].to_numpy(dtype=float)
    comm = pd.Index(buckets.astype(str))
    street = areas.street_of_bucket(comm)
    county = areas.county_of_bucket(pd.Index(street))
    out = []
    for metric_id, q in (("lead_time_median_days", 0.5), ("lead_time_p90_days", 0.9)):
        recs = []
        for lvl, keys, every in (("county", county, areas.counties), ("street", street, areas.all_streets()),
                                 ("community", comm.to_numpy(), areas.all_communities())):
            groups = pd.Series(lt).groupby(np.asarray(keys, dtype=object))
            codes = sorted(set(every) | set(groups.groups))
            for code in codes:
                vals = groups.get_group(code).to_numpy() if code in groups.groups else np.array([])
                v, num, den = _pipeline.quantile_row(vals, q)
                recs.append((code, lvl, num, den, v))
        t = pd.DataFrame(recs, columns=["area_code", "area_level", "numerator", "denominator", "value"])
        m = METRICS[metric_id]
        out.append(t.assign(metric_id=metric_id, dataset=name, period=period, name_zh=m.name_zh,
                            area_name=t["area_code"].map(areas.name), unit=m.unit, inputs_sha256=sha,
                            numerator=t["numerator"].astype("float64"), denominator=t["denominator"].astype("float64")))
    return out


def _coverage_rows(run: _Run, areas: Areas, admin, period, latest) -> list[pd.DataFrame]:
    out = []
    geo = run.projected_admin(admin)
    if geo is None:
        return out
    codes, comms, crs = geo
    for schema, metric_id, mask in (("white_model_extent", "white_model_coverage", None),
                                    ("fine_model_extent", "fine_model_coverage", "central_area"),
                                    ("fine_model_extent", "full_fine_model_coverage", None),
                                    ("fine_model_extent", "demo_zone_fine_model_coverage", "demo_zone")):
        extent = run.static(schema)
        if extent is None or (mask == "demo_zone" and not run.names.get(mask)):  # a city without a 示范区 layer
            continue
        keep = extent_as_of(extent, period, latest)
        if keep is None:
            continue
        deps = {schema, "admin_areas"}
        polys = comms
        if mask:
            polys = _masked(run, comms, crs, mask)
            if polys is None:
                what = {"central_area": "中心城区范围（central_area）", "demo_zone": "CIM示范区范围（demo_zone）"}[mask]
                run.problems.append((period, run.names[schema], f"{what}不可用：无法计算{METRICS[metric_id].name_zh}"))
                continue
            deps.add(mask)
        ext = run.cached(("extent", schema), lambda: project(extent, crs))[keep]
        cov = area_coverage(codes, polys, ext, ids=np.flatnonzero(keep), memo=run.cached(("memo", metric_id), dict))
        rows = _rows(metric_id, run.names[schema], cov, "covered_m2", "area_m2", areas, period, run.fingerprint(deps, period))
        if mask:  # areas outside the mask have nothing to cover
            rows = rows[rows["denominator"] > 0]
        out.append(rows)
    return out


SLIVER_M2 = 1.0
"""A community whose part inside a mask (中心城区, 示范区) is smaller than this (m²) is a sliver of round-off along the
mask's border, not part of the masked area."""


def _masked(run: _Run, comms: np.ndarray, crs, schema: str):
    """The communities clipped to a mask layer (中心城区, 示范区), projected, slivers dropped; None when the layer
    is unusable."""
    layer = run.static(schema)
    if layer is None:
        return None

    def clip():
        out = clip_to(comms, shapely.union_all(project(layer, crs)))
        out[shapely.area(out) < SLIVER_M2] = shapely.Polygon()
        return out

    return run.cached(("mask", schema, id(layer)), clip)


PLATFORM_LAYERS = ("dem", "roads", "control_lines")
"""Area-wide layers of the CIM basic platform's basic requirements (besides 行政区划, 房屋白模 and “一标三实”, which are
measured per area): 地形地貌 (``dem``), 基础设施 (``roads``), 城市控制线 (``control_lines``)."""


def _platform_rows(run: _Run, areas: Areas, admin, period, latest, addr_status) -> list[pd.DataFrame]:
    """``pilot_cim_coverage``: the share of the central urban area the CIM basic platform covers.

    湖北省实施方案 三、（二）: “实现CIM基础平台在试点地区中心城区的全覆盖”, the platform built to the basic
    requirements (行政区划、地形地貌、房屋白模、基础设施、“一标三实”、城市控制线). N = the part of the central urban area
    where the platform holds the white model (production extent delivered by the month) **and** whose community has
    at least one standard address on the map that month; D = the central urban area (within the communities). When
    an area-wide layer (:data:`PLATFORM_LAYERS`) is missing from the catalog, nothing is covered (N = 0) and the
    missing layers are reported as a problem.
    """
    central, white = run.static("central_area"), run.static("white_model_extent")
    geo = run.projected_admin(admin)
    if geo is None or central is None or white is None or addr_status is None:
        return []
    keep = extent_as_of(white, period, latest)
    if keep is None:
        return []
    codes, comms, crs = geo
    polys = _masked(run, comms, crs, "central_area")
    ext = run.cached(("extent", "white_model_extent"), lambda: project(white, crs))[keep]
    cov = area_coverage(codes, polys, ext, ids=np.flatnonzero(keep), memo=run.cached(("memo", "pilot_cim_coverage"), dict))
    mapped = set(addr_status.loc[addr_status["on_map"].to_numpy(bool), "bucket"].astype(str))
    cov.loc[~cov.index.isin(list(mapped)), "covered_m2"] = 0.0
    missing = [s for s in PLATFORM_LAYERS if not run.names.get(s)]
    if missing:
        cov["covered_m2"] = 0.0
        run.problems.append((period, run.names["central_area"], "CIM基础平台缺少基本要求的图层："
                             + "、".join(missing) + "；平台覆盖率计为 0"))
    deps = {"central_area", "white_model_extent", "admin_areas", "addresses", *PLATFORM_LAYERS}
    rows = _rows("pilot_cim_coverage", run.names["central_area"], cov, "covered_m2", "area_m2", areas, period,
                 run.fingerprint(deps, period))
    return [rows[rows["denominator"] > 0]]
