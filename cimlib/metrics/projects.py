"""工程建设项目 metrics: 重庆's 数字化建造 and 建筑工业化和信息化融合 targets (渝府办发〔2021〕140号 一、（三）).

The project list (schema ``projects``) is a static dataset: it has no monthly snapshots, its dates carry the
history. A period ``YYYY-MM`` is the state at the end of that month (its last day, inclusive):

- ``digital_construction_pilots`` (个): N = projects flagged ``digital_pilot`` approved by then, D = projects
  approved by then; **value = N**;
- ``integrated_project_area`` (万平方米): N = ``building_area_m2`` of ``integrated`` projects approved by then, D =
  building area of all 房屋建筑 projects approved by then (both in 万平方米); **value = N**;
- ``digital_construction_share`` (比率): among projects approved in the month's calendar year up to its end, N = those
  with ``digital_construction``, D = all; value = N / D;
- ``integrated_project_share`` (比率): among 房屋建筑 projects approved in the calendar year up to the month's end,
  N = area of the ``integrated`` ones, D = area of all (新建建筑面积), both in 万平方米; value = N / D.

Rows for the county, every street and every community (:class:`cimlib.metrics._areas.Areas`: a project counts in
the area its ``community_code``/``street_code`` claim; streets and the county are sums), in the metrics-table
format (:data:`cimlib.metrics.METRICS_COLUMNS`), ``inputs_sha256`` over the project list and the admin layer.

**Records left out.** A record with a value the metrics cannot use is left out of all four metrics and counted:
an approval date that is missing or cannot be read (PRJ-003 / SYS-004), a flag that is empty or not 是/否,
true/false, 1/0 (PRJ-005), a building area that is negative or not a number, or missing for a 房屋建筑 project
(PRJ-004). Records failing a rule without an unusable value (dates out of order, a 房屋建筑 with area 0, a code in
the wrong format or place) are counted as they are. :func:`read_projects` returns both parts; the metrics table
carries the count in ``attrs["excluded"]`` (by rule) and the record ids in ``attrs["excluded_records"]``.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cimlib._io import input_label, input_sha256
from cimlib.catalog import Catalog, CatalogError
from cimlib.codes.projects import BUILDING_TYPE, read_areas, read_dates, read_flags
from cimlib.metrics._areas import Areas, metric_rows
from cimlib.metrics._spec import METRICS, METRICS_COLUMNS

__all__ = ["PROJECT_METRICS", "PROJECTS_SCHEMA", "EXCLUDED_COLUMNS", "ProjectRecords", "read_projects",
           "project_periods", "project_metrics", "project_inputs"]

PROJECTS_SCHEMA = "projects"
PROJECT_METRICS = ("digital_construction_pilots", "integrated_project_area", "digital_construction_share",
                   "integrated_project_share")
EXCLUDED_COLUMNS = ["record_id", "rule_id", "column", "reason"]
FLAGS = ("digital_pilot", "digital_construction", "integrated")
_WAN = 10_000.0  # m² per 万平方米
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass
class ProjectRecords:
    """The project list read for the metrics.

    Attributes
    ----------
    name : str
        Catalog entry.
    frame : pandas.DataFrame
        Usable records: ``record_id, street_code, community_code, approval`` (datetime64[D]), ``building``
        (房屋建筑), ``area_m2`` (0 where a non-building project gives none), ``pilot``, ``digital``,
        ``integrated`` (bool).
    excluded : pandas.DataFrame
        Left-out records (:data:`EXCLUDED_COLUMNS`): the first unusable value of each, with the rule that
        reports it.
    """

    name: str
    frame: pd.DataFrame
    excluded: pd.DataFrame


def _load(catalog) -> Catalog:
    return catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)


def _projects_entry(catalog: Catalog) -> str:
    name = catalog.entry_for(PROJECTS_SCHEMA)
    if name is None:
        raise CatalogError("数据目录中没有 projects（工程建设项目）条目，无法计算数字化建造与融合项目指标", path=catalog.path)
    return name


def read_projects(catalog) -> ProjectRecords:
    """Read the catalog's project list and split it into usable and left-out records.

    Parameters
    ----------
    catalog : Catalog or path-like

    Returns
    -------
    ProjectRecords

    Raises
    ------
    cimlib.catalog.CatalogError
        No ``projects`` entry, it cannot be read, or it lacks a field the metrics need.
    """
    catalog = _load(catalog)
    name = _projects_entry(catalog)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = catalog.read(name)
    entry = catalog[name]
    need = ["approval_date", "project_type", "building_area_m2", *FLAGS]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise CatalogError(f"工程建设项目清单缺少字段 {'、'.join(entry.field_label(c) for c in missing)}，无法计算项目指标",
                           entry=name, path=entry.resolved_path)
    id_col = entry.id_column if entry.id_column in df.columns else None
    ids = (df[id_col].astype("string").fillna("") if id_col else pd.Series(np.arange(len(df)).astype(str))).to_numpy(
        dtype=object)
    approval, present, ok_date = read_dates(df["approval_date"])
    area, area_present, area_ok = read_areas(df["building_area_m2"])
    building = (df["project_type"].astype("string") == BUILDING_TYPE).fillna(False).to_numpy(dtype=bool)
    flags, flag_ok = {}, {}
    for col in FLAGS:
        flags[col], flag_ok[col] = read_flags(df[col])

    # the first unusable value of each record, with the rule that reports it
    checks = [(~present, "SYS-004", "approval_date", "批准日期为空"),
              (present & ~ok_date, "PRJ-003", "approval_date", "批准日期无法识别")]
    checks += [(~flag_ok[c], "PRJ-005", c, f"{c} 取值为空或无法识别") for c in FLAGS]
    with np.errstate(invalid="ignore"):
        checks += [(area_present & ~area_ok, "PRJ-004", "building_area_m2", "建筑面积不是数值"),
                   (area_ok & (area < 0), "PRJ-004", "building_area_m2", "建筑面积为负数"),
                   (building & ~area_present, "PRJ-004", "building_area_m2", "房屋建筑项目缺少建筑面积")]
    rule = np.full(len(df), "", dtype=object)
    column = np.full(len(df), "", dtype=object)
    reason = np.full(len(df), "", dtype=object)
    for mask, rid, col, text in checks:
        sel = np.asarray(mask, dtype=bool) & (rule == "")
        rule[sel], column[sel], reason[sel] = rid, col, text
    bad = rule != ""
    excluded = pd.DataFrame({"record_id": ids[bad], "rule_id": rule[bad], "column": column[bad], "reason": reason[bad]},
                            columns=EXCLUDED_COLUMNS)
    keep = ~bad

    def text(col):
        if col not in df:
            return np.full(int(keep.sum()), None, dtype=object)
        return df[col].astype("string").to_numpy(dtype=object, na_value=None)[keep]

    frame = pd.DataFrame({
        "record_id": ids[keep], "street_code": text("street_code"), "community_code": text("community_code"),
        "approval": approval[keep], "building": building[keep],
        "area_m2": np.where(np.isnan(area), 0.0, area)[keep],
        "pilot": flags["digital_pilot"][keep], "digital": flags["digital_construction"][keep],
        "integrated": flags["integrated"][keep],
    })
    return ProjectRecords(name, frame, excluded)


def _check_periods(periods) -> list[str]:
    out = []
    for p in periods:
        p = str(p)
        if not _PERIOD.fullmatch(p):
            raise ValueError(f"期次应为 YYYY-MM，得到 {p!r}")
        out.append(p)
    return sorted(set(out))


def project_periods(catalog, months=(), *, until: str | None = None) -> list[str]:
    """The periods the project metrics are computed for: ``months`` plus every December from the year of the
    earliest approval.

    Parameters
    ----------
    catalog : Catalog or path-like
    months : iterable of str, optional
        ``YYYY-MM`` months to include (e.g. the registers' snapshot months); none given, the month of the latest
        approval.
    until : str, optional
        ``YYYY-MM``: no December after it. Default: the latest of ``months``.

    Returns
    -------
    list of str
        Sorted, unique; ``months`` are kept even when later than ``until``. Without any readable approval date,
        ``months`` alone.

    Raises
    ------
    cimlib.catalog.CatalogError
        As :func:`read_projects`.
    """
    months = _check_periods(months)
    rec = read_projects(catalog)
    dates = rec.frame["approval"].dropna()
    if dates.empty:
        return months
    first_year = int(str(dates.min())[:4])
    if not months and until is None:
        months = [str(dates.max())[:7]]
    if until is None:
        until = months[-1]
    until = _check_periods([until])[0]
    decembers = [f"{y}-12" for y in range(first_year, int(until[:4]) + 1) if f"{y}-12" <= until]
    return sorted(set(months) | set(decembers))


def _fingerprint(catalog: Catalog, names) -> tuple[str, dict]:
    """sha256 over the input files of the entries (relative names and their sha256, sorted), and the files."""
    root = catalog.path.parent.resolve()
    files = {}
    for name in names:
        if name is None:
            continue
        for f in catalog.inputs(name):
            files[input_label(f, root)] = f
    sha = {rel: input_sha256(f) for rel, f in sorted(files.items())}
    h = hashlib.sha256()
    for rel, digest in sha.items():
        h.update(f"{rel}\0{digest}\n".encode())
    return h.hexdigest(), sha


def project_inputs(catalog) -> dict:
    """Input files of the project metrics (relative to the catalog folder) -> sha256: the project list and the
    admin layer (for a manifest; :func:`project_metrics` puts the same in ``attrs["inputs"]``)."""
    catalog = _load(catalog)
    return _fingerprint(catalog, [_projects_entry(catalog), catalog.entry_for("admin_areas")])[1]


def project_metrics(catalog, periods=None, *, areas: Areas | None = None) -> pd.DataFrame:
    """The four 工程建设项目 metrics for each period, by area (module docstring for N, D and value).

    Parameters
    ----------
    catalog : Catalog or path-like
    periods : iterable of str, optional
        ``YYYY-MM``: the state at each month's end (approval date on or before its last day). Default
        :func:`project_periods` of the catalog (every December from the earliest approval, and the month of the
        latest approval). Acceptance runs pass the registers' months plus those Decembers, so that e.g. 2021-12
        exists for the 2021 targets.
    areas : Areas, optional
        The admin hierarchy; default the catalog's ``admin_areas`` layer.

    Returns
    -------
    pandas.DataFrame
        :data:`cimlib.metrics.METRICS_COLUMNS`, sorted by period, metric, level and area; county, street and
        community rows. ``value`` is N for the two counts (个, 万平方米) and N / D for the two shares (empty when
        D is 0). ``attrs``: ``excluded`` (left-out records by rule id, and ``total``), ``excluded_records``
        (their ids, sorted) and ``inputs`` (input file -> sha256).

    Raises
    ------
    cimlib.catalog.CatalogError
        No ``projects`` entry or it cannot be read; no admin layer when ``areas`` is not given.
    ValueError
        A period is not ``YYYY-MM``.
    """
    catalog = _load(catalog)
    rec = read_projects(catalog)
    admin_name = catalog.entry_for("admin_areas")
    if areas is None:
        if admin_name is None:
            raise CatalogError("数据目录中没有 admin_areas（行政区划）图层，无法按区划统计工程建设项目", path=catalog.path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            areas = Areas(catalog.read(admin_name))
    periods = project_periods(catalog) if periods is None else _check_periods(periods)
    sha, inputs = _fingerprint(catalog, [rec.name, admin_name])

    f = rec.frame
    buckets = areas.bucket(f) if len(f) else np.array([], dtype=object)
    approval = f["approval"].to_numpy(dtype="datetime64[D]")
    area = f["area_m2"].to_numpy(dtype="float64")
    building, pilot = f["building"].to_numpy(dtype=bool), f["pilot"].to_numpy(dtype=bool)
    digital, integrated = f["digital"].to_numpy(dtype=bool), f["integrated"].to_numpy(dtype=bool)

    parts = []
    for period in periods:
        month = pd.Period(period, freq="M")
        end = np.datetime64(month.end_time.date(), "D")
        start = np.datetime64(f"{month.year:04d}-01-01", "D")
        approved = approval <= end
        year = approved & (approval >= start)
        counts = pd.DataFrame({
            "bucket": buckets,
            "pilots": (pilot & approved).astype("float64"), "approved": approved.astype("float64"),
            "int_area": np.where(integrated & approved, area, 0.0) / _WAN,
            "bld_area": np.where(building & approved, area, 0.0) / _WAN,
            "digital": (digital & year).astype("float64"), "year": year.astype("float64"),
            "int_year": np.where(integrated & building & year, area, 0.0) / _WAN,
            "bld_year": np.where(building & year, area, 0.0) / _WAN,
        }).groupby("bucket").sum()
        for metric_id, num, den, is_count in (("digital_construction_pilots", "pilots", "approved", True),
                                              ("integrated_project_area", "int_area", "bld_area", True),
                                              ("digital_construction_share", "digital", "year", False),
                                              ("integrated_project_share", "int_year", "bld_year", False)):
            parts.append(_rows(metric_id, rec.name, counts, num, den, areas, period, sha, is_count))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=METRICS_COLUMNS)
    order = {"county": 0, "street": 1, "community": 2}
    out = (out.assign(_l=out["area_level"].map(order)).sort_values(["period", "metric_id", "_l", "area_code"], kind="stable")
           .drop(columns="_l").reset_index(drop=True))[METRICS_COLUMNS]
    by_rule = rec.excluded["rule_id"].value_counts().sort_index()
    out.attrs["excluded"] = {**{str(k): int(v) for k, v in by_rule.items()}, "total": int(len(rec.excluded))}
    out.attrs["excluded_records"] = tuple(sorted(rec.excluded["record_id"].astype(str)))
    out.attrs["inputs"] = inputs
    return out


def _rows(metric_id: str, dataset: str, counts: pd.DataFrame, num: str, den: str, areas: Areas, period: str, sha: str,
          is_count: bool) -> pd.DataFrame:
    m = METRICS[metric_id]
    return metric_rows(metric_id, dataset, counts, num, den, areas, period, sha, name_zh=m.name_zh, unit=m.unit,
                       is_count=is_count)
