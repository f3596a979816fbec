"""Reports reuse the main run: ``cim metrics`` and ``cim sensors`` outputs that a report may read instead of
computing the same tables again.

``cim metrics --out DIR`` and ``cim sensors --out DIR`` write, besides their documented files, a ``reuse`` section
in ``DIR/manifest.json`` (and, for metrics, ``DIR/reuse/``: the register findings and address matches the report
needs besides the metrics table). The section records everything the result depends on:

- ``code``: one sha256 over the source and rule files of ``cimlib`` and ``standards_checks`` (:func:`code_fingerprint`);
  a different version of the workbench, or an edited rule, never reuses;
- ``catalog``: the sha256 of the catalog file and of every file it includes (:func:`catalog_fingerprint`);
- ``parameters``: the run's options (metrics: ``level``, ``tolerance_m``; sensors: period, alarm rule file's sha256,
  cover distance, lateness, anomalies);
- ``entry_inputs``: the sha256 of every input file the run could read (metrics: every entry but the readings, for
  every snapshot period; sensors: the month's readings, devices, roads and admin areas);
- ``files``: the sha256 of each file the report would read back.

:func:`reusable_metrics` and :func:`reusable_sensors` check all of it against the catalog as it is now (the input
files are fingerprinted again) and return the tables only when everything is equal: any difference, a missing
field, an older manifest, a file that cannot be read -> ``None`` and the reason, and the report computes. The
report's manifest names what it reused (``reused``), from where and with which sha256 (:mod:`cimlib.reports.runner`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import pandas as pd

from cimlib._io import atomic_path, input_label, input_sha256, sha256_file

REUSE_FORMAT = 1
"""Version of the ``reuse`` section; a manifest of another version is not reused."""

METRICS_REUSE_FILES = ("metrics.parquet", "evidence.parquet", "reuse/problems.parquet",
                       "reuse/register_findings.parquet", "reuse/matches.parquet", "reuse/match_summaries.parquet")
"""Files of a ``cim metrics`` output that a report reads back (relative to the output folder)."""

SENSOR_TABLES = ("health", "health_daily", "alarms", "anomalies", "coverage", "bad_readings", "problems")
"""Tables of a ``cim sensors`` output that a report reads back (``<name>.parquet``)."""

FINDING_COLUMNS = ("dataset", "period", "rule_id", "severity", "record_id", "column", "message")
"""What is kept of a register snapshot's error findings (no values: nothing personal; messages as in findings.csv)."""


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the relative names and contents of every file of the ``cimlib`` and ``standards_checks``
    packages (sorted; bytecode caches left out): the code, rules and reference tables a result depends on."""
    import cimlib
    import standards_checks

    h = hashlib.sha256()
    for pkg in (cimlib, standards_checks):
        root = Path(pkg.__file__).resolve().parent
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix != ".pyc")
        for p in files:
            h.update(f"{root.name}/{p.relative_to(root).as_posix()}\0{sha256_file(p)}\n".encode())
    return h.hexdigest()


def catalog_fingerprint(catalog) -> dict:
    """``{file: sha256}`` of the catalog file (``<catalog>``) and of every file it includes (named relative to the
    catalog's folder, as input files are: a catalog folder moved with its data and outputs stays the same)."""
    root = Path(catalog.path).parent.resolve()
    out = {"<catalog>": sha256_file(catalog.path)}
    for p in getattr(catalog, "includes", ()):
        out[input_label(Path(p), root)] = sha256_file(p)
    return out


def fingerprint_entries(catalog, names, periods, known: dict | None = None) -> dict:
    """``{input label: sha256}`` of the files of ``names`` (snapshot entries: of each of ``periods``); ``known``:
    fingerprints the same run has just computed (not computed again).

    Raises whatever :meth:`Catalog.inputs` or reading a file raises (the caller treats it as "cannot reuse").
    """
    from cimlib.catalog import CatalogError

    root = catalog.path.parent.resolve()
    out = {}
    for name in names:
        snap = bool(catalog[name].snapshots)
        for period in (periods if snap else [None]):
            try:
                files = list(catalog.inputs(name, period))
            except CatalogError as exc:   # recorded as such: the same state later compares equal, any change not
                out[f"<{name}{' ' + period if period else ''}>"] = f"unavailable: {exc}"
                continue
            for f in files:
                label = input_label(f, root)
                if label not in out:
                    out[label] = (known or {}).get(label) or input_sha256(f)
    return dict(sorted(out.items()))


def _metrics_entries(catalog) -> list[str]:
    """Every entry ``compute_metrics`` could read: all of the catalog but the readings (strict on purpose)."""
    return [e.name for e in catalog if e.schema != "readings"]


def _register_periods(catalog) -> list:
    from cimlib.metrics.compute import _Run

    return [p for p in _Run(catalog, 0.0).periods() if p]


# ---------------------------------------------------------------------------------------------------------- writing

def write_metrics_reuse(out: Path, catalog, *, findings: dict, matches: dict, problems: pd.DataFrame,
                        parameters: dict, inputs: dict | None = None, metrics: pd.DataFrame | None = None,
                        evidence: pd.DataFrame | None = None) -> dict:
    """Write ``out/reuse/`` and return the manifest's ``reuse`` section (after metrics.parquet and evidence.parquet
    are written). ``findings``: ``(entry, period)`` -> the register snapshot's error findings
    (:func:`cimlib.metrics.compute_metrics`' ``findings`` argument); ``matches``: :attr:`MetricsResult.matches`;
    ``inputs``: :attr:`MetricsResult.inputs` (fingerprints the run computed, not computed again); ``metrics``,
    ``evidence``: the tables as computed (their column types are recorded)."""
    sub = out / "reuse"
    sub.mkdir(parents=True, exist_ok=True)
    parts = [f.assign(dataset=name, period=period or "")[list(FINDING_COLUMNS)]
             for (name, period), f in findings.items()]
    reg = (pd.concat(parts, ignore_index=True) if parts
           else pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS}))
    reg = reg.astype({c: "object" for c in FINDING_COLUMNS})
    with atomic_path(sub / "register_findings.parquet") as p:
        reg.to_parquet(p, index=False)
    rows, summaries = [], []
    for (dataset, period), res in matches.items():
        m = res.matches.reset_index(drop=True).copy()
        m["_period"] = str(period)
        m["_result_dataset"] = res.dataset
        m["_result_period"] = "" if res.period is None else str(res.period)
        m["_text_column"] = res.text_column
        m["_records"] = int(res.records)
        m["_position"] = (pd.Series(res.positions, dtype="int64") if res.positions is not None
                          else pd.Series(pd.NA, index=m.index, dtype="Int64"))
        areas = res.areas if res.areas is not None else pd.DataFrame(index=m.index)
        for c in ("street_code", "community_code"):
            m[f"_area_{c}"] = areas[c].to_numpy(dtype=object) if c in areas else None
        m["_key"] = f"{dataset}\0{period}"
        rows.append(m)
        summaries.append(res.summary.assign(_key=f"{dataset}\0{period}"))
    # one row per match result with no matched record, so that it comes back too
    keys = pd.DataFrame({"_key": [f"{d}\0{p}" for d, p in matches],
                         "_dtypes": [dtypes_of(r.matches) for r in matches.values()],
                         "_summary_dtypes": [dtypes_of(r.summary) for r in matches.values()],
                         "_period": [str(p) for _, p in matches],
                         "_result_dataset": [r.dataset for r in matches.values()],
                         "_result_period": ["" if r.period is None else str(r.period) for r in matches.values()],
                         "_text_column": [r.text_column for r in matches.values()],
                         "_records": [int(r.records) for r in matches.values()],
                         "_has_areas": [r.areas is not None for r in matches.values()],
                         "_has_positions": [r.positions is not None for r in matches.values()]})
    mt = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    with atomic_path(sub / "matches.parquet") as p:
        _pickle_frame(mt).to_parquet(p, index=False)
    sm = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    with atomic_path(sub / "match_summaries.parquet") as p:
        _pickle_frame(sm).to_parquet(p, index=False)
    with atomic_path(sub / "match_results.json") as p:
        p.write_text(keys.to_json(orient="records", force_ascii=False), encoding="utf-8")
    with atomic_path(sub / "problems.parquet") as p:
        problems.astype(object).to_parquet(p, index=False)
    periods = _register_periods(catalog)
    return {
        "format": REUSE_FORMAT, "code": code_fingerprint(), "catalog": catalog_fingerprint(catalog),
        "parameters": parameters, "findings_keys": [[name, period] for name, period in findings],
        "dtypes": {"metrics.parquet": dtypes_of(metrics) if metrics is not None else {},
                   "evidence.parquet": dtypes_of(evidence) if evidence is not None else {},
                   "reuse/problems.parquet": dtypes_of(problems),
                   "reuse/register_findings.parquet": dtypes_of(next(iter(findings.values()))) if findings else {}},
        "entry_inputs": fingerprint_entries(catalog, _metrics_entries(catalog), periods, known=inputs),
        "files": {f: sha256_file(out / f) for f in (*METRICS_REUSE_FILES, "reuse/match_results.json")},
    }


def dtypes_of(frame: pd.DataFrame) -> dict:
    """``{column: dtype name}``: what Parquet does not keep exactly (an ``object`` column of text comes back as
    ``str``), recorded so that :func:`restore_dtypes` gives the table as it was computed."""
    return {str(c): str(t) for c, t in frame.dtypes.items()}


def restore_dtypes(frame: pd.DataFrame, dtypes: dict | None) -> pd.DataFrame:
    """The columns of ``frame`` in the recorded ``dtypes`` (``object`` columns with ``None`` where missing)."""
    frame = frame.copy()
    for c, want in (dtypes or {}).items():
        if c not in frame or str(frame[c].dtype) == want:
            continue
        if want == "object":
            col = frame[c].astype(object)
            frame[c] = col.where(col.notna(), None)
        else:
            frame[c] = frame[c].astype(want)
    return frame


def _pickle_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding lists/arrays (``candidates``) as JSON text, so that Parquet keeps them exactly."""
    import numpy as np

    frame = frame.copy()
    for c in list(frame.columns):
        if frame[c].dtype == object and frame[c].map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
            frame[c] = frame[c].map(lambda v: json.dumps({"list": np.asarray(v, dtype=object).tolist()},
                                                         ensure_ascii=False)
                                    if isinstance(v, (list, tuple, np.ndarray)) else None)
            frame = frame.rename(columns={c: f"{c}__json"})
    return frame


def _unpickle_frame(frame: pd.DataFrame) -> pd.DataFrame:
    for c in list(frame.columns):
        if c.endswith("__json"):
            frame[c] = frame[c].map(lambda v: json.loads(v)["list"] if isinstance(v, str) else v)
            frame = frame.rename(columns={c: c[: -len("__json")]})
    return frame


def sensors_parameters(alarm_rules, cover_distance_m: float, late_s: float, anomalies: bool) -> dict:
    """The options of a sensor analysis that its tables depend on (the alarm rule file by content)."""
    from cimlib.sensors.alarms import DEFAULT_RULES

    rules = Path(alarm_rules) if alarm_rules else Path(DEFAULT_RULES)
    return {"alarm_rules_sha256": sha256_file(rules), "cover_distance_m": float(cover_distance_m),
            "late_s": float(late_s), "anomalies": bool(anomalies)}


def _sensor_entry_inputs(catalog, period: str) -> dict:
    from cimlib.sensors.readings import catalog_reading_tasks

    root = catalog.path.parent.resolve()
    out = fingerprint_entries(catalog, [n for n in ("devices", "roads", "admin_areas") if n in catalog], [])
    for t in catalog_reading_tasks(catalog, period):
        for f in t.paths:
            out[input_label(f, root)] = input_sha256(f)
    return dict(sorted(out.items()))


def write_sensors_reuse(out: Path, catalog, result, parameters: dict) -> dict:
    """The ``reuse`` section of a ``cim sensors`` manifest (after the tables of ``result``, a
    :class:`~cimlib.sensors.SensorResult`, are written; their column types as computed are recorded)."""
    period = result.period
    return {"format": REUSE_FORMAT, "code": code_fingerprint(), "catalog": catalog_fingerprint(catalog),
            "parameters": {"period": period, **parameters},
            "dtypes": {t: dtypes_of(pd.DataFrame(getattr(result, t))) for t in SENSOR_TABLES
                       if getattr(result, t, None) is not None},
            "entry_inputs": _sensor_entry_inputs(catalog, period),
            "files": {f"{t}.parquet": sha256_file(out / f"{t}.parquet") for t in SENSOR_TABLES
                      if (out / f"{t}.parquet").exists()}}


# ---------------------------------------------------------------------------------------------------------- reading

def _manifest(folder: Path, kind: str):
    path = folder / "manifest.json"
    if not path.is_file():
        return None, f"{path} 不存在"
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"{path} 无法读取：{exc}"
    if m.get("kind") != kind:
        return None, f"{path} 不是 {kind} 的输出"
    reuse = m.get("reuse")
    if not isinstance(reuse, dict) or reuse.get("format") != REUSE_FORMAT:
        return None, f"{path} 没有可复用的记录（较早版本的输出）"
    return m, None


def _common_checks(folder: Path, reuse: dict, catalog) -> str | None:
    if reuse.get("code") != code_fingerprint():
        return "计算时的程序或规则版本与当前不同"
    if reuse.get("catalog") != catalog_fingerprint(catalog):
        return "数据目录文件不同"
    for rel, sha in (reuse.get("files") or {}).items():
        p = folder / rel
        if not p.is_file() or sha256_file(p) != sha:
            return f"输出文件 {rel} 已变更或缺失"
    return None


def _same_inputs(stored: dict, now: dict) -> str | None:
    for label, sha in now.items():
        if stored.get(label) != sha:
            return f"输入文件 {label} 已变更" if label in stored else f"输入文件 {label} 不在当时的输入中"
    return None


def reusable_metrics(folder, catalog, periods, *, tolerance_m: float):
    """The ``compute_metrics`` result of ``periods`` from a ``cim metrics`` output, if it is valid for them.

    Parameters
    ----------
    folder : path-like
        The output folder (``<out_root>/metrics``).
    catalog : Catalog
    periods : list of str or None
        The periods the report needs (``None`` or empty: the current state of a catalog without snapshots).
    tolerance_m : float
        The link tolerance the report computes with.

    Returns
    -------
    (MetricsResult, dict, dict) or (None, str, None)
        The result restricted to ``periods`` (``metrics, evidence, problems, inputs, matches``; ``link_summary``
        empty), the register findings for :func:`cimlib.metrics.facilities.facility_metrics` and the record for
        the report's manifest; or ``None`` and why not.
    """
    from cimlib.catalog import CatalogError
    from cimlib.metrics import MetricsResult

    folder = Path(folder)
    m, why = _manifest(folder, "metrics")
    if m is None:
        return None, why, None
    reuse = m["reuse"]
    try:
        why = _common_checks(folder, reuse, catalog)
        if why:
            return None, why, None
        params = reuse.get("parameters") or {}
        if params.get("level") is not None or params.get("tolerance_m") != float(tolerance_m):
            return None, f"计算参数不同（{params}）", None
        all_periods = _register_periods(catalog)
        wanted = list(periods) if periods else []
        if not all_periods:
            if wanted:
                return None, "数据目录没有月度快照", None
            keys = ["current"]
        else:
            keys = wanted or list(all_periods)
        if not set(keys) <= set(m.get("periods") or []):
            return None, f"输出中没有全部所需期次（需要 {'、'.join(keys)}）", None
        now = fingerprint_entries(catalog, _metrics_entries(catalog), [p for p in keys if p != "current"])
        why = _same_inputs(reuse.get("entry_inputs") or {}, now)
        if why:
            return None, why, None
        dtypes = reuse.get("dtypes") or {}
        metrics = pd.read_parquet(folder / "metrics.parquet")
        metrics = restore_dtypes(metrics[metrics["period"].isin(keys)].reset_index(drop=True),
                                 dtypes.get("metrics.parquet"))
        evidence = pd.read_parquet(folder / "evidence.parquet")
        if "period" in evidence:
            evidence = evidence[evidence["period"].isin(keys)].reset_index(drop=True)
        evidence = restore_dtypes(evidence, dtypes.get("evidence.parquet"))
        problems = pd.read_parquet(folder / "reuse/problems.parquet")
        problems = problems[problems["period"].isna() | problems["period"].isin(keys)].reset_index(drop=True)
        problems = restore_dtypes(problems, dtypes.get("reuse/problems.parquet"))
        inputs = {k: v for k, v in (m.get("inputs") or {}).items() if k in now}
        reg = pd.read_parquet(folder / "reuse/register_findings.parquet")
        groups = {k: f for k, f in reg.groupby(["dataset", "period"], sort=False)}
        findings = {}
        for name, period in reuse.get("findings_keys") or []:   # a snapshot without errors: no rows, still known
            if (period or "current") in keys:
                f = groups.get((name, period or ""), reg.iloc[0:0])
                findings[(name, period)] = restore_dtypes(f.drop(columns="period").reset_index(drop=True),
                                                          dtypes.get("reuse/register_findings.parquet"))
        matches = _read_matches(folder, keys)
    except (OSError, ValueError, TypeError, KeyError, CatalogError) as exc:
        return None, f"无法复用：{exc}", None
    record = {"from": str(folder.resolve()), "periods": keys,
              "files": {rel: reuse["files"][rel] for rel in METRICS_REUSE_FILES if rel in reuse["files"]}}
    return MetricsResult(metrics, evidence, problems, pd.DataFrame(), inputs, matches), findings, record


def _read_matches(folder: Path, keys) -> dict:
    from cimlib.geocode.run import MatchResult

    meta = json.loads((folder / "reuse/match_results.json").read_text(encoding="utf-8"))
    mt = _unpickle_frame(pd.read_parquet(folder / "reuse/matches.parquet"))
    sm = _unpickle_frame(pd.read_parquet(folder / "reuse/match_summaries.parquet"))
    out = {}
    for r in meta:
        if r["_period"] not in keys:
            continue
        rows = mt[mt["_key"] == r["_key"]].reset_index(drop=True) if len(mt) else mt
        cols = [c for c in rows.columns if not c.startswith("_")]
        areas = None
        if r["_has_areas"]:
            areas = pd.DataFrame({c: rows[f"_area_{c}"].to_numpy(dtype=object) if f"_area_{c}" in rows else []
                                  for c in ("street_code", "community_code")})
        positions = rows["_position"].to_numpy(dtype="int64") if r["_has_positions"] and len(rows) else (
            pd.Series([], dtype="int64").to_numpy() if r["_has_positions"] else None)
        summary = sm[sm["_key"] == r["_key"]].drop(columns="_key").reset_index(drop=True) if len(sm) else sm
        dataset, period = r["_key"].split("\0", 1)
        out[(dataset, period)] = MatchResult(matches=restore_dtypes(rows[cols], r.get("_dtypes")),
                                             summary=restore_dtypes(summary, r.get("_summary_dtypes")),
                                             dataset=r["_result_dataset"],
                                             period=r["_result_period"] or None, text_column=r["_text_column"],
                                             records=int(r["_records"]), areas=areas, positions=positions)
    return out


class MainRun:
    """The main run's outputs under one root (``<root>/metrics``, ``<root>/sensors``), offered to a report run.

    What :func:`cimlib.reports.indicators.acceptance` takes as ``reuse``: :meth:`metrics` and :meth:`sensors`
    return a table set only when it was computed from the same inputs (else ``None``: the report computes).
    ``reused`` records what was taken (for the report's manifest), ``not_reused`` why an output was not.
    """

    def __init__(self, root, catalog):
        self.root = Path(root)
        self.catalog = catalog
        self.reused: dict = {}
        self.not_reused: dict = {}
        self._sensors: dict = {}

    def metrics(self, periods):
        """``(MetricsResult, register findings)`` of ``periods`` from ``<root>/metrics``, or ``None``."""
        from cimlib.metrics.linking import DEFAULT_TOLERANCE_M

        res, findings, record = reusable_metrics(self.root / "metrics", self.catalog, periods,
                                                 tolerance_m=DEFAULT_TOLERANCE_M)
        if res is None:
            self.not_reused["metrics"] = findings
            return None
        self.reused["metrics"] = {**record, "used_for": ["metrics", "evidence", "problems", "inputs", "worklist",
                                                         "facility_coding_findings"]}
        return res, findings

    def sensors(self, month: str, anomalies: bool = False):
        """The sensor tables of ``month`` from ``<root>/sensors`` (``anomalies``: the report shows them too), as an
        object with one attribute per table of :data:`SENSOR_TABLES` and ``period``; or ``None``."""
        from types import SimpleNamespace

        from cimlib.sensors.spatial import DEFAULT_COVER_DISTANCE_M

        if month not in self._sensors:
            params = sensors_parameters(None, DEFAULT_COVER_DISTANCE_M, 300.0, False)
            self._sensors[month] = reusable_sensors(self.root / "sensors", self.catalog, month, params)
        tables, record = self._sensors[month]
        if tables is None:
            self.not_reused[f"sensors {month}"] = record
            return None
        if anomalies and not record["anomalies"]:
            self.not_reused[f"sensors {month}"] = "输出未做异常检测"
            return None
        used = self.reused.setdefault(f"sensors {month}", {**record, "used_for": []})
        for t in (("health", "coverage", "health_daily", "problems") if not anomalies else SENSOR_TABLES):
            if t not in used["used_for"]:
                used["used_for"].append(t)
        return SimpleNamespace(period=month, **{t: v.copy() for t, v in tables.items()})


def reusable_sensors(folder, catalog, period: str, parameters: dict):
    """The sensor tables of ``period`` from a ``cim sensors`` output, if computed from the same inputs and options.

    ``parameters``: :func:`sensors_parameters` of the analysis the report would run; an output with anomalies
    serves a report that needs none (the other tables do not depend on it), not the other way round.

    Returns
    -------
    (dict, dict) or (None, str)
        ``{table: DataFrame}`` (:data:`SENSOR_TABLES`) and the record for the report's manifest; or ``None`` and
        why not.
    """
    from cimlib.catalog import CatalogError

    folder = Path(folder)
    m, why = _manifest(folder, "sensors")
    if m is None:
        return None, why
    reuse = m["reuse"]
    try:
        why = _common_checks(folder, reuse, catalog)
        if why:
            return None, why
        stored = dict(reuse.get("parameters") or {})
        if stored.get("period") != period:
            return None, f"输出为 {stored.get('period')} 的分析，需要 {period}"
        want = dict(parameters)
        if not want.get("anomalies"):   # anomalies are an extra table; the others do not depend on them
            stored.pop("anomalies", None)
            want.pop("anomalies", None)
        stored.pop("period", None)
        if stored != want:
            return None, f"分析参数不同（{stored} / {want}）"
        why = _same_inputs(reuse.get("entry_inputs") or {}, _sensor_entry_inputs(catalog, period))
        if why:
            return None, why
        missing = [t for t in SENSOR_TABLES if f"{t}.parquet" not in (reuse.get("files") or {})]
        if missing:
            return None, f"输出中缺少 {'、'.join(missing)}"
        dtypes = reuse.get("dtypes") or {}
        tables = {t: restore_dtypes(pd.read_parquet(folder / f"{t}.parquet"), dtypes.get(t)) for t in SENSOR_TABLES}
    except (OSError, ValueError, TypeError, KeyError, CatalogError) as exc:
        return None, f"无法复用：{exc}"
    record = {"from": str(folder.resolve()), "period": period, "anomalies": bool((reuse.get("parameters") or {}).get("anomalies")),
              "files": {f"{t}.parquet": reuse["files"][f"{t}.parquet"] for t in SENSOR_TABLES}}
    return tables, record
