"""政务数据新增条数 (``records_added``): records added to the catalog's registers in a calendar year, from snapshots.

泰州's 所辖市 plan (二、(二)3) sets “到2023年底,政务数据新增超2000万条”. The catalog's monthly snapshots are what shows
records arriving: a record is **added** by month ``P`` when its identifier (the entry's ``id_column``) is in the
snapshot of ``P`` and not in the **base** snapshot of ``P``'s year:

- the latest snapshot before the year (``YYYY-12`` of the year before, or earlier): then every record that arrived
  in the year up to ``P`` is counted (exact);
- otherwise the earliest snapshot within the year: records that arrived in the year before that snapshot cannot be
  told from older ones, so the count is a **lower bound** (the row's ``name_zh`` names the base month).

Rows (metrics-table format): one per snapshotted entry with an ``id_column`` (``dataset`` = the entry) and the
catalog total (``dataset`` ``catalog``), county level (the catalog's ``city_code``); **value = N** = records added,
D = records in the snapshot of ``P`` (so the share of the register that is new is N / D). Entries without snapshots
hold only their current state and add nothing here; the sensing readings are 物联感知数据, not 政务数据, and are never
snapshotted registers.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from cimlib._io import input_label, input_sha256
from cimlib.catalog import Catalog, CatalogError
from cimlib.metrics._spec import METRICS, METRICS_COLUMNS

__all__ = ["RECORDS_ADDED", "CATALOG_DATASET", "base_period", "records_added"]

RECORDS_ADDED = "records_added"
CATALOG_DATASET = "catalog"
"""``dataset`` of the total row (every snapshotted entry of the catalog)."""


def base_period(periods, period: str) -> tuple[str, bool]:
    """The snapshot a month's additions are counted from, and whether the count is exact.

    Parameters
    ----------
    periods : sequence of str
        The entry's snapshot periods (``YYYY-MM``).
    period : str
        The month measured.

    Returns
    -------
    (str, bool)
        The base period and ``True`` when it lies before the year (every addition of the year is seen).
    """
    year = period[:4]
    before = [p for p in periods if p < f"{year}-01"]
    if before:
        return max(before), True
    within = [p for p in periods if p[:4] == year and p <= period]
    return (min(within) if within else period), False


def records_added(catalog, periods) -> pd.DataFrame:
    """Records added since the base snapshot of each month's year, per snapshotted entry and in total.

    Parameters
    ----------
    catalog : Catalog or path-like
    periods : sequence of str
        Months (``YYYY-MM``) to measure; a month without a snapshot of an entry adds nothing for it.

    Returns
    -------
    pandas.DataFrame
        :data:`cimlib.metrics.METRICS_COLUMNS`; ``attrs["inputs"]`` maps the snapshot files read to their sha256 and
        ``attrs["problems"]`` lists ``(period, entry, problem)`` for entries that could not be read.

    Notes
    -----
    An identifier that is empty is not a record identity and is not counted; an identifier repeated within a
    snapshot counts once (SYS-005 reports the repetition).
    """
    catalog = catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)
    code = str(catalog.city_code or "")
    entries = [e for e in catalog if e.snapshots and e.id_column]
    ids: dict = {}
    sha: dict = {}
    problems: list = []

    def read_ids(entry, period):
        key = (entry.name, period)
        if key not in ids:
            try:
                df = catalog.read(entry.name, period, columns=[entry.id_column])
                for f in catalog.inputs(entry.name, period):
                    rel = input_label(f, catalog.path.parent)
                    sha.setdefault(rel, input_sha256(f))
                col = df[entry.id_column].astype("string").str.strip()
                ids[key] = pd.Index(col[col.notna() & (col != "")].unique())
            except (CatalogError, KeyError) as exc:
                problems.append((period, entry.name, f"政务数据新增条数：{exc}"))
                ids[key] = None
        return ids[key]

    rows = []
    for period in sorted(set(periods)):
        total_n = total_d = 0
        bases = set()
        exact_all = True
        fp = hashlib.sha256()
        for e in entries:
            have = catalog.periods(e.name)
            if period not in have:
                continue
            base, exact = base_period(have, period)
            now, then = read_ids(e, period), read_ids(e, base)
            if now is None or then is None:
                continue
            n = int((~now.isin(then)).sum()) if base != period else 0
            d = len(now)
            digest = _digest(catalog, e.name, period, base, sha)
            fp.update(digest.encode())
            rows.append(_row(e.name, code, period, n, d, base, exact, digest))
            total_n, total_d = total_n + n, total_d + d
            bases.add(base)
            exact_all &= exact
        if bases:
            base = min(bases) if len(bases) == 1 else "、".join(sorted(bases))
            rows.append(_row(CATALOG_DATASET, code, period, total_n, total_d, base, exact_all, fp.hexdigest()))
    out = pd.DataFrame(rows, columns=METRICS_COLUMNS)
    out["numerator"] = out["numerator"].astype("float64")
    out["denominator"] = out["denominator"].astype("float64")
    out["value"] = out["value"].astype("float64")
    out.attrs["inputs"] = dict(sorted((k, v) for k, v in sha.items() if v))
    out.attrs["problems"] = problems
    return out


def _digest(catalog: Catalog, name: str, period: str, base: str, sha: dict) -> str:
    h = hashlib.sha256()
    for p in sorted({period, base}):
        for f in catalog.inputs(name, p):
            rel = input_label(f, catalog.path.parent)
            h.update(f"{rel}\0{sha.get(rel)}\n".encode())
    return h.hexdigest()


def _row(dataset: str, code: str, period: str, n: int, d: int, base: str, exact: bool, sha: str) -> dict:
    m = METRICS[RECORDS_ADDED]
    year = period[:4]
    how = f"{year}年，自 {base} 快照起" + ("" if exact else "；该年更早的新增无法从快照得出，为下限")
    return {"metric_id": RECORDS_ADDED, "dataset": dataset, "area_code": code, "area_level": "county", "period": period,
            "numerator": float(n), "denominator": float(d), "value": float(n), "name_zh": f"{m.name_zh}（{how}）",
            "area_name": "", "unit": m.unit, "inputs_sha256": sha}
