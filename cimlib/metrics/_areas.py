"""Area levels: which community a record counts in, and summing communities up to streets and the county.

A record counts in the area its own codes claim (``community_code``, else ``street_code``). Codes that name no area
of the admin layer go to an *unknown* bucket under the nearest known parent (``<street>-UNK`` at community level,
``<county>-UNK`` at street and community level), so that a street's numerator and denominator are always the sums
of its communities' and the county's the sums of its streets'.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cimlib.lookup import index_in

UNKNOWN = "-UNK"
UNKNOWN_NAME = "（区划代码缺失或不在行政区划图层中）"


class Areas:
    """The admin hierarchy of a catalog's ``admin_areas`` layer (区 / 街道 / 社区).

    Parameters
    ----------
    admin : pandas.DataFrame
        With ``area_code, name, level`` (区/街道/社区) and optionally ``parent_code``.
    """

    def __init__(self, admin: pd.DataFrame):
        a = pd.DataFrame(admin.drop(columns="geometry", errors="ignore")).copy()
        a["area_code"] = a["area_code"].astype(str)
        self.counties = a.loc[a["level"] == "区", "area_code"].drop_duplicates().tolist()
        self.streets = a.loc[a["level"] == "街道", "area_code"].drop_duplicates().reset_index(drop=True)
        self.communities = a.loc[a["level"] == "社区", "area_code"].drop_duplicates().reset_index(drop=True)
        self.names = dict(zip(a["area_code"], a["name"].astype(str)))
        self.default_county = self.counties[0] if len(self.counties) == 1 else "UNK"
        parent = dict(zip(a["area_code"], a.get("parent_code", pd.Series([None] * len(a))).astype(object)))
        # a community's street and a street's county: the declared parent, else the code prefix
        self.street_of = {c: (parent.get(c) if parent.get(c) in set(self.streets) else c[:9]) for c in self.communities}
        self.county_of = {s: (parent.get(s) if parent.get(s) in set(self.counties) else self._county_by_prefix(s[:6]))
                          for s in self.streets}
        self._memo: dict = {}   # street/county of each bucket seen: every metric of a run rolls up the same ones

    def _county_by_prefix(self, prefix: str) -> str:
        return prefix if prefix in self.counties else self.default_county

    def bucket(self, frame: pd.DataFrame) -> np.ndarray:
        """The community-level bucket of each record (a community code, ``<street>-UNK`` or ``<county>-UNK``).

        Parameters
        ----------
        frame : pandas.DataFrame
            Records with ``community_code`` and/or ``street_code``.

        Returns
        -------
        numpy.ndarray of str
        """
        n = len(frame)
        comm = frame["community_code"].astype("string").fillna("") if "community_code" in frame else pd.Series([""] * n, dtype="string")
        street = frame["street_code"].astype("string").fillna("") if "street_code" in frame else pd.Series([""] * n, dtype="string")
        out = np.full(n, "", dtype=object)
        known_c = index_in(comm, self.communities) >= 0
        out[known_c] = comm.to_numpy(dtype=object)[known_c]
        # else the street the record claims, or the street its community code starts with
        s_claim = np.where(street.to_numpy(dtype=object) != "", street.to_numpy(dtype=object), comm.str.slice(0, 9).to_numpy(dtype=object))
        known_s = index_in(pd.Series(s_claim, dtype="string"), self.streets) >= 0
        sel = ~known_c & known_s
        out[sel] = pd.Series(s_claim[sel], dtype=object).astype(str).add(UNKNOWN).to_numpy()
        rest = ~known_c & ~known_s
        if rest.any():
            prefix = pd.Series(np.where(comm.to_numpy(dtype=object) != "", comm.to_numpy(dtype=object), s_claim)[rest]).astype(str).str.slice(0, 6)
            out[rest] = prefix.map(self._county_by_prefix).add(UNKNOWN).to_numpy()
        return out

    def street_of_bucket(self, buckets: pd.Index) -> np.ndarray:
        """The street-level bucket of community-level buckets."""
        return self._memoized("street", buckets, self._street_of_bucket)

    def county_of_bucket(self, street_buckets: pd.Index) -> np.ndarray:
        """The county of street-level buckets."""
        return self._memoized("county", street_buckets, self._county_of_bucket)

    def _memoized(self, kind: str, buckets, compute) -> np.ndarray:
        """``compute`` (element-wise) of ``buckets``, each distinct bucket computed once per :class:`Areas`."""
        b = pd.Index(buckets).astype(str)
        known = self._memo.setdefault(kind, {})
        new = [x for x in b.unique() if x not in known]
        if new:
            known.update(zip(new, compute(pd.Index(new, dtype=object))))
        return np.array([known[x] for x in b], dtype=object)

    def _street_of_bucket(self, buckets: pd.Index) -> np.ndarray:
        b = pd.Series(buckets.astype(str))
        unk = b.str.endswith(UNKNOWN)
        base = b.str.slice(0, -len(UNKNOWN))
        out = b.map(self.street_of)
        is_county_unk = unk & ~base.isin(self.streets)
        out[unk & ~is_county_unk] = base[unk & ~is_county_unk]
        out[is_county_unk] = b[is_county_unk]
        return out.fillna(self.default_county + UNKNOWN).to_numpy(dtype=object)

    def _county_of_bucket(self, street_buckets: pd.Index) -> np.ndarray:
        b = pd.Series(street_buckets.astype(str))
        unk = b.str.endswith(UNKNOWN)
        out = b.map(self.county_of)
        out[unk] = b[unk].str.slice(0, -len(UNKNOWN))
        return out.fillna(self.default_county).to_numpy(dtype=object)

    def name(self, code: str) -> str:
        """Chinese name of an area code or bucket."""
        if code.endswith(UNKNOWN):
            parent = code[: -len(UNKNOWN)]
            return f"{self.names.get(parent, parent)}{UNKNOWN_NAME}"
        return self.names.get(code, code)

    def all_communities(self) -> list[str]:
        return self.communities.tolist()

    def all_streets(self) -> list[str]:
        return self.streets.tolist()


def roll_up(areas: Areas, counts: pd.DataFrame, value_cols: list[str]) -> pd.DataFrame:
    """Sum per-community counts up to streets and the county.

    Parameters
    ----------
    areas : Areas
    counts : pandas.DataFrame
        Indexed by community-level bucket, one column per additive quantity.
    value_cols : list of str

    Returns
    -------
    pandas.DataFrame
        ``area_code, area_level`` and ``value_cols`` for every community and street of the layer (zero where no
        record), every unknown bucket that has records, and the county.
    """
    comm_index = pd.Index(areas.all_communities()).union(counts.index[counts.index.str.endswith(UNKNOWN)] if len(counts) else pd.Index([]))
    comm = counts.reindex(comm_index, fill_value=0)[value_cols]
    street_key = areas.street_of_bucket(comm.index)
    street = comm.groupby(street_key).sum()
    street = street.reindex(pd.Index(areas.all_streets()).union(street.index), fill_value=0)
    county = street.groupby(areas.county_of_bucket(street.index)).sum()
    parts = []
    for level, df in (("county", county), ("street", street), ("community", comm)):
        d = df.reset_index(names="area_code")
        d.insert(1, "area_level", level)
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def metric_rows(metric_id: str, dataset: str, counts: pd.DataFrame, num: str, den: str, areas: Areas, period: str,
                sha: str, *, name_zh: str, unit: str, is_count: bool = False, levels=None) -> pd.DataFrame:
    """Rows of the metrics table (:data:`cimlib.metrics.METRICS_COLUMNS`) from per-community counts.

    Parameters
    ----------
    metric_id, dataset : str
    counts : pandas.DataFrame
        Indexed by community-level bucket, with the columns ``num`` and ``den``.
    num, den : str
    areas : Areas
    period : str
    sha : str
        Fingerprint of the inputs.
    name_zh, unit : str
    is_count : bool, default False
        ``value`` = N (a count or an area) instead of N / D.
    levels : collection of str, optional
        Area levels kept (default every level).

    Returns
    -------
    pandas.DataFrame
        Every area of :func:`roll_up`; ``value`` NaN where D is 0 (for a share).
    """
    table = roll_up(areas, counts, [num, den])
    if levels is not None:
        table = table[table["area_level"].isin(list(levels))]
    out = pd.DataFrame({"metric_id": metric_id, "dataset": dataset, "area_code": table["area_code"].astype(str),
                        "area_level": table["area_level"], "period": period,
                        "numerator": table[num].astype("float64"), "denominator": table[den].astype("float64")})
    if is_count:
        out["value"] = out["numerator"]
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            out["value"] = out["numerator"] / out["denominator"].where(out["denominator"] > 0)
    out["name_zh"] = name_zh
    out["area_name"] = out["area_code"].map(areas.name)
    out["unit"] = unit
    out["inputs_sha256"] = sha
    return out.reset_index(drop=True)
