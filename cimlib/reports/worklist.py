"""治理工作清单 of the reports: per street and community, what the address matching proposes for the unlinked records.

The registers (实有人口, 实有房屋, 实有单位) whose data carry a free-text address are matched once, by the metrics
(:func:`cimlib.metrics.compute_metrics`, whose ``matches`` :func:`worklist_of` turns into the list): the records the
register already links by code, as the metrics count them, are left alone, so the list and ``mapping_rate_attainable``
describe the same records. :func:`match_registers` runs the same match on its own (:func:`cimlib.geocode.run.match_dataset`).
The report then shows, per street and community:

- 未关联记录: records without a code link to a standard address (= 确定匹配 + 多个候选 + 需现场核验 + 无地址文本);
- 确定匹配: ``matched``: the text's finest element found, one standard address (a proposal to write into the register);
- 多个候选: ``ambiguous``: several standard addresses tie, none chosen (the community or grid worker points it out);
- 需现场核验: ``partial`` (only a coarser standard address found: the library may lack it, or the text is wrong) and
  ``unmatched`` (no standard address fits, or the text is junk): 网格核验 on site;
- 无地址文本: no code link and no text (ask the delivering department, or collect on site);
- 常见原因: the three commonest reasons there, quoted names and numbers left out (``标准地址库中未找到街路巷“…”``);
- 上图率 and 可达上图率: the community's ``mapping_rate`` and ``mapping_rate_attainable`` of the metrics table
  (the register's own links, and what they would be with the building-level ``matched`` proposals accepted).

The per-record list (Excel sheet 治理工作清单) has the columns of ``cim match``'s files and is masked as they are:
record ids and address codes only, door plates, buildings, units and rooms quoted in reasons replaced by ``*``, no
address text, no name.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cimlib.catalog import Catalog, CatalogError
from cimlib.reports.labels import MODULE_HEADERS

REGISTERS = {"persons": "实有人口", "houses": "实有房屋", "units": "实有单位"}
"""Register schemas that carry an address text, with their Chinese names."""

AREA_COLUMNS = ["数据集", "街道", "社区", "未关联记录", "确定匹配", "多个候选", "需现场核验", "无地址文本", "常见原因",
                "上图率", "可达上图率"]
"""Columns of :func:`worklist_table` (Chinese: the table is shown as it is)."""

OVERVIEW_COLUMNS = ["数据集", "记录数", "已按编码关联", "未关联记录", "确定匹配", "多个候选", "需现场核验", "无地址文本",
                    "上图率", "可达上图率"]
"""Columns of :func:`worklist_overview` (one row per register, county level)."""

RECORD_COLUMNS = ["dataset", "record_id", "street_code", "community_code", "status", "status_zh", "match_level",
                  "address_id", "score", "candidates", "reason"]
"""Columns of :func:`worklist_records` (Chinese headers in :data:`LABELS`)."""

LABELS = MODULE_HEADERS["worklist"]
"""Column -> Chinese header of the per-record work list (Excel sheet 治理工作清单)."""

NO_TEXT_NOTE = ("数据目录中没有带地址文本（address_text）的登记数据：实有人口、实有房屋、实有单位均未提供地址文本，"
                "无法生成治理工作清单。部门交付的登记数据带有居住地址、经营地址等文本时，请在数据目录条目的 columns 中"
                "把该字段映射为 address_text（cim catalog init 会自动识别）。")
"""What the section says when no register carries an address text."""

ALL_LINKED_NOTE = "带地址文本的登记数据中，所有记录均已按编码关联到标准地址，没有需要治理的记录。"
"""What the section says when registers carry texts but every record is already linked by code."""

TOP_REASONS = 3
"""Reasons listed per area in 常见原因."""

_FIELD = ("partial", "unmatched")
_JUNK_PREFIX = "地址文本为空或无效"


@dataclass
class Worklist:
    """The 治理工作清单 of a catalog: the matched registers and the tables the report shows.

    Attributes
    ----------
    results : dict
        Catalog entry name -> :class:`cimlib.geocode.run.MatchResult` (registers carrying an address text).
    note : str or None
        Why there is no work list (Chinese), ``None`` when there is one.
    skipped : list of str
        Registers not matched and why (Chinese), e.g. no address text column.
    """

    results: dict = field(default_factory=dict)
    note: str | None = None
    skipped: list = field(default_factory=list)


def _register_period(catalog: Catalog, name: str, period: str | None) -> str | None:
    """The snapshot of ``name`` a report of ``period`` reads: the latest at or before it (``None``: current data)."""
    periods = catalog.periods(name) if catalog[name].snapshots else []
    if not periods or period is None:
        return None
    earlier = [p for p in periods if p <= period]
    return earlier[-1] if earlier else periods[0]


def match_registers(catalog, period: str | None = None) -> Worklist:
    """Match the address texts of every register of the catalog that carries them.

    Parameters
    ----------
    catalog : Catalog or path-like
    period : str, optional
        ``YYYY-MM`` of the report: each register's latest snapshot at or before it is read (registers without
        snapshots are read as they are).

    Returns
    -------
    Worklist
        ``note`` says (in Chinese) that no register carries an address text when none was matched.
    """
    from cimlib.geocode.run import match_dataset

    if not isinstance(catalog, Catalog):
        catalog = Catalog.load(catalog)
    out = Worklist()
    names = [e.name for e in catalog if e.schema in REGISTERS]
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.results[name] = match_dataset(catalog, name, period=_register_period(catalog, name, period))
        except CatalogError as exc:
            out.skipped.append(f"{name}：{exc}")
    if not out.results:
        out.note = NO_TEXT_NOTE
    return out


def worklist_of(matches: dict, catalog: Catalog | None = None, period: str | None = None) -> Worklist:
    """The work list of a metrics run: per register, the match behind its ``mapping_rate_attainable``.

    The reports build the 治理工作清单 from the match the metrics already ran (``compute_metrics``'
    ``matches``), so the list and the attainable rate count the same records and matching runs once.

    Parameters
    ----------
    matches : dict
        ``(dataset, period)`` -> :class:`cimlib.geocode.run.MatchResult` (:attr:`MetricsResult.matches`,
        :attr:`AcceptanceResult.matches`).
    catalog : Catalog, optional
        Registers of the catalog without a match (no address text) are listed in ``skipped``.
    period : str, optional
        ``YYYY-MM`` of the report: each register's latest matched period at or before it (the earliest when none is;
        the latest when ``period`` is not given).

    Returns
    -------
    Worklist
    """
    out = Worklist()
    by_dataset: dict = {}
    for (dataset, p), res in matches.items():
        by_dataset.setdefault(dataset, {})[str(p)] = res
    for dataset in sorted(by_dataset, key=lambda d: (list(REGISTERS).index(d) if d in REGISTERS else len(REGISTERS), d)):
        periods = sorted(by_dataset[dataset])
        earlier = [p for p in periods if period is None or p <= period]
        out.results[dataset] = by_dataset[dataset][earlier[-1] if earlier else periods[0]]
    if catalog is not None:
        for e in catalog:
            if e.schema in REGISTERS and e.name not in out.results:
                out.skipped.append(f"{e.name}：{REGISTERS[e.schema]}数据中没有地址文本（address_text），未做地址匹配")
    if not out.results:
        out.note = NO_TEXT_NOTE
    return out


def reason_kind(reason: pd.Series) -> pd.Series:
    """A reason without the names and numbers it quotes, to count reasons across records (vectorized).

    ``标准地址库中未找到街路巷“交通大道”，只匹配到街道一级`` → ``标准地址库中未找到街路巷“…”，只匹配到街道一级``;
    ``有3个同等的候选地址`` → ``有多个同等的候选地址``; the unreadable part after ``地址中有未能识别的部分：`` is left
    out. The reason for junk texts is kept as it is (its quotes are examples).

    Parameters
    ----------
    reason : pandas.Series of str

    Returns
    -------
    pandas.Series of str
        Empty reasons as ``<NA>``.
    """
    s = reason.astype("string").str.strip()
    s = s.mask(s == "")
    junk = s.str.startswith(_JUNK_PREFIX).fillna(False)
    g = s.str.replace(r"“[^”]*”", "“…”", regex=True)
    g = g.str.replace(r"有\d+个同等", "有多个同等", regex=True)
    g = g.str.replace(r"(地址中有未能识别的部分：)[^，]*", r"\1…", regex=True)
    return g.where(~junk, s)


def _frames(results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All matches (with their areas) and all summaries of ``results`` (a Worklist, dict or list of MatchResult)."""
    from cimlib.geocode.run import MATCH_COLUMNS, SUMMARY_COLUMNS

    if isinstance(results, Worklist):
        results = results.results
    if isinstance(results, dict):
        results = list(results.values())
    elif not isinstance(results, (list, tuple)):
        results = [results]
    matches, summaries = [], []
    for r in results:
        m = r.matches[MATCH_COLUMNS].reset_index(drop=True)
        areas = r.areas if r.areas is not None else pd.DataFrame({"street_code": [""] * len(m),
                                                                   "community_code": [""] * len(m)})
        matches.append(m.assign(street_code=areas["street_code"].to_numpy(dtype=object),
                                community_code=areas["community_code"].to_numpy(dtype=object)))
        summaries.append(r.summary[SUMMARY_COLUMNS])
    empty_m = pd.DataFrame(columns=[*MATCH_COLUMNS, "street_code", "community_code"])
    empty_s = pd.DataFrame(columns=SUMMARY_COLUMNS)
    return (pd.concat(matches, ignore_index=True) if matches else empty_m,
            pd.concat(summaries, ignore_index=True) if summaries else empty_s)


def _metric_period(metrics: pd.DataFrame, dataset: str, period: str | None) -> str | None:
    """The metrics period matching a report of ``period``: ``current`` for unsnapshotted data, else the latest ≤."""
    rows = metrics[(metrics["metric_id"] == "mapping_rate") & (metrics["dataset"] == dataset)]
    periods = sorted(set(rows["period"].astype(str)))
    months = [p for p in periods if p != "current" and (period is None or p <= period)]
    if months:
        return months[-1]
    return "current" if "current" in periods else None


def _rates(metrics: pd.DataFrame | None, datasets, level: str, period: str | None) -> pd.DataFrame:
    """``dataset, area_code, 上图率, 可达上图率`` at one area level (the rate each dataset's matching period has)."""
    cols = ["dataset", "area_code", "上图率", "可达上图率"]
    if metrics is None or not len(metrics):
        return pd.DataFrame(columns=cols)
    parts = []
    for ds in datasets:
        p = _metric_period(metrics, ds, period)
        m = metrics[(metrics["dataset"] == ds) & (metrics["area_level"] == level)
                    & (metrics["period"].astype(str) == p)]
        real = m[m["metric_id"] == "mapping_rate"].set_index(m.loc[m["metric_id"] == "mapping_rate", "area_code"]
                                                              .astype(str))["value"]
        att_rows = m[m["metric_id"] == "mapping_rate_attainable"]
        att = att_rows.set_index(att_rows["area_code"].astype(str))["value"]
        codes = real.index.union(att.index)
        parts.append(pd.DataFrame({"dataset": ds, "area_code": codes,
                                   "上图率": real.reindex(codes).astype("float64").to_numpy(),
                                   "可达上图率": att.reindex(codes).astype("float64").to_numpy()}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def _area_names(areas: pd.DataFrame | None) -> pd.Series:
    """Area code -> name (empty when the admin areas are not given)."""
    if areas is None or not len(areas) or "area_code" not in areas or "name" not in areas:
        return pd.Series(dtype=object)
    s = pd.Series(areas["name"].astype(str).to_numpy(), index=areas["area_code"].astype(str).to_numpy())
    return s[~s.index.duplicated()]


def _label(codes: pd.Series, names: pd.Series, unknown: str) -> np.ndarray:
    """``名称（代码）`` per code; the code alone when its name is unknown; ``unknown`` for an empty code."""
    c = codes.fillna("").astype(str)
    n = c.map(names).fillna("") if len(names) else pd.Series("", index=c.index)
    out = np.where(n != "", n + "（" + c + "）", c)
    return np.where(c == "", unknown, out).astype(object)


def _top_reasons(matches: pd.DataFrame, keys: list[str], n: int = TOP_REASONS) -> pd.DataFrame:
    """``keys + [常见原因]``: the ``n`` commonest reason kinds of each group, ``原因（记录数）`` joined by ``；``."""
    kind = reason_kind(matches["reason"]) if len(matches) else pd.Series([], dtype="string")
    ok = kind.notna().to_numpy() & (matches["status"] != "matched").to_numpy() if len(matches) else np.zeros(0, bool)
    df = matches.loc[ok, keys].assign(kind=kind[ok].astype(str).to_numpy())
    if not len(df):
        return pd.DataFrame(columns=[*keys, "常见原因"])
    c = df.groupby([*keys, "kind"], sort=False).size().rename("n").reset_index()
    c = c.sort_values([*keys, "n", "kind"], ascending=[True] * len(keys) + [False, True], kind="stable")
    c = c[c.groupby(keys, sort=False).cumcount() < n]
    c["text"] = c["kind"] + "（" + c["n"].astype(str) + "）"
    return c.groupby(keys, sort=False)["text"].agg("；".join).rename("常见原因").reset_index()


def _counts(summary: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Records per ``keys`` and summary status, as the columns of the work list."""
    wide = summary.pivot_table(index=keys, columns="status", values="records", aggfunc="sum", fill_value=0)
    get = lambda s: wide[s] if s in wide else pd.Series(0, index=wide.index)  # noqa: E731
    out = pd.DataFrame({
        "记录数": wide.sum(axis=1), "已按编码关联": get("linked"), "确定匹配": get("matched"),
        "多个候选": get("ambiguous"), "需现场核验": get("partial") + get("unmatched"), "无地址文本": get("no_text")},
        index=wide.index).astype("int64")
    out["未关联记录"] = out["记录数"] - out["已按编码关联"]
    return out.reset_index()


def worklist_table(results, metrics: pd.DataFrame | None = None, areas: pd.DataFrame | None = None,
                   period: str | None = None) -> pd.DataFrame:
    """The 治理工作清单 per register, street and community (Chinese columns, :data:`AREA_COLUMNS`).

    Parameters
    ----------
    results : Worklist, MatchResult, dict or list of MatchResult
        Match runs of the registers (:func:`match_registers`, :func:`cimlib.geocode.run.match_dataset`).
    metrics : pandas.DataFrame, optional
        The metrics table (``cim metrics`` / :meth:`ReportContext.metrics`): the community's ``mapping_rate``
        (上图率) and ``mapping_rate_attainable`` (可达上图率) of the report's period (``current`` for registers
        without snapshots). Without it the two columns are empty.
    areas : pandas.DataFrame, optional
        Admin areas (``area_code, name``): names shown with their codes (``民主社区（421303001001）``).
    period : str, optional
        ``YYYY-MM`` of the report (which metrics period to show).

    Returns
    -------
    pandas.DataFrame
        One row per register and area with at least one unlinked record, ordered by register, street and community
        code (records without an area last, as 未知街道/未知社区). Counts are records; 未关联记录 = 确定匹配 + 多个候选 +
        需现场核验 + 无地址文本. The rates are shares (0–1), empty where the metrics have no row for the community.
    """
    matches, summary = _frames(results)
    if not len(summary):
        return pd.DataFrame(columns=AREA_COLUMNS)
    keys = ["dataset", "street_code", "community_code"]
    summary = summary.assign(street_code=summary["street_code"].fillna("").astype(str),
                             community_code=summary["community_code"].fillna("").astype(str))
    t = _counts(summary, keys)
    t = t[t["未关联记录"] > 0]
    t = t.merge(_top_reasons(matches, keys), on=keys, how="left")
    rates = _rates(metrics, t["dataset"].unique(), "community", period).rename(columns={"area_code": "community_code"})
    t = t.merge(rates, on=["dataset", "community_code"], how="left")
    order = {n: k for k, n in enumerate(REGISTERS)}
    t = t.assign(_d=t["dataset"].map(order).fillna(len(order)), _s=t["street_code"] == "",
                 _c=t["community_code"] == "")
    t = t.sort_values(["_d", "dataset", "_s", "street_code", "_c", "community_code"], kind="stable")
    names = _area_names(areas)
    t["街道"] = _label(t["street_code"], names, "（未知街道）")
    t["社区"] = _label(t["community_code"], names, "（未知社区）")
    t["数据集"] = _dataset_label(t["dataset"])
    t["常见原因"] = t["常见原因"].astype(object).where(t["常见原因"].notna(), "")
    for c in ("上图率", "可达上图率"):
        t[c] = t[c].astype("float64") if c in t else np.nan
    return t[AREA_COLUMNS].reset_index(drop=True)


def _dataset_label(datasets: pd.Series) -> np.ndarray:
    """The register's Chinese name (实有人口, 实有房屋, 实有单位: :data:`cimlib.reports.labels.DATASET_TITLES`), the
    same whatever catalog was last opened in the process (a catalog's own ``title_zh`` is shown where its entries
    are listed, not here)."""
    from cimlib.reports.labels import DATASET_TITLES

    d = datasets.astype(str)
    return d.map(DATASET_TITLES).fillna(d).to_numpy(dtype=object)


def worklist_overview(results, metrics: pd.DataFrame | None = None, period: str | None = None) -> pd.DataFrame:
    """One row per matched register: its records by outcome and its county-level 上图率 beside the attainable one.

    Parameters
    ----------
    results : Worklist, MatchResult, dict or list of MatchResult
    metrics : pandas.DataFrame, optional
        The metrics table (county-level ``mapping_rate`` and ``mapping_rate_attainable``).
    period : str, optional
        ``YYYY-MM`` of the report.

    Returns
    -------
    pandas.DataFrame
        :data:`OVERVIEW_COLUMNS`; 记录数 = 已按编码关联 + 未关联记录.
    """
    _, summary = _frames(results)
    if not len(summary):
        return pd.DataFrame(columns=OVERVIEW_COLUMNS)
    t = _counts(summary, ["dataset"])
    rates = _rates(metrics, t["dataset"].unique(), "county", period)
    if len(rates):
        rates = rates.groupby("dataset")[["上图率", "可达上图率"]].first().reset_index()   # one county per catalog
    t = t.merge(rates, on="dataset", how="left") if len(rates) else t.assign(上图率=np.nan, 可达上图率=np.nan)
    t["数据集"] = _dataset_label(t["dataset"])
    order = {n: k for k, n in enumerate(REGISTERS)}
    t = t.assign(_d=t["dataset"].map(order).fillna(len(order))).sort_values(["_d", "dataset"], kind="stable")
    for c in ("上图率", "可达上图率"):
        t[c] = t[c].astype("float64")
    return t[OVERVIEW_COLUMNS].reset_index(drop=True)


def worklist_records(results, limit: int | None = None) -> pd.DataFrame:
    """The per-record work list as it may leave the session (masked as ``cim match``'s files).

    Parameters
    ----------
    results : Worklist, MatchResult, dict or list of MatchResult
    limit : int, optional
        Keep the first ``limit`` rows (an Excel sheet holds about a million).

    Returns
    -------
    pandas.DataFrame
        :data:`RECORD_COLUMNS` (headers in :data:`LABELS`), one row per unlinked record with an address text:
        ``candidates`` joined with ``;``, ``reason`` masked (door plates, buildings, units and rooms as ``*``),
        ``status_zh`` the Chinese status. Ordered by register, status (确定匹配, 部分匹配, 多个候选, 未匹配) and area.
    """
    from cimlib.geocode.outputs import masked_matches
    from cimlib.geocode.run import STATUSES, ZH_STATUS

    matches, _ = _frames(results)
    if not len(matches):
        return pd.DataFrame(columns=RECORD_COLUMNS)
    m = masked_matches(matches)
    m["street_code"] = matches["street_code"].to_numpy(dtype=object)
    m["community_code"] = matches["community_code"].to_numpy(dtype=object)
    m["candidates"] = [";".join(map(str, c)) if isinstance(c, (list, tuple, np.ndarray))
                       else ("" if c is None else str(c)) for c in m["candidates"].to_numpy(dtype=object)]
    m["status_zh"] = m["status"].map(ZH_STATUS).fillna(m["status"])
    m["reason"] = m["reason"].astype(object).where(m["reason"].notna(), "")
    order = {n: k for k, n in enumerate(REGISTERS)}
    status_order = {s: k for k, s in enumerate(STATUSES)}
    m = m.assign(_d=m["dataset"].map(order).fillna(len(order)), _st=m["status"].map(status_order).fillna(len(STATUSES)))
    m = m.sort_values(["_d", "dataset", "_st", "street_code", "community_code"], kind="stable")
    m = m[RECORD_COLUMNS].reset_index(drop=True)
    return m.head(limit) if limit is not None else m
