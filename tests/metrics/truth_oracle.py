"""The metrics a sample city must have, computed from what the generator recorded (truth/), not from the checks.

The oracle knows what each injected defect means (which of 治理/编码/上图 it spoils) and when each record entered
the register and was mapped (truth/lifecycle.parquet); from the data it takes only which area a record claims and
which address a person or unit names. It never runs a rule or a spatial join.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

GOV = {"addresses": {"broken_parent"}, "houses": {"bad_structure"}, "persons": set(), "units": set()}
CODE = {"addresses": set(), "persons": {"bad_check_digit", "duplicate_code"}, "units": {"bad_check_digit", "duplicate_code"},
        "houses": {"bad_check_digit", "duplicate_code", "ambiguous_building_code"}}
MAP = {"addresses": {"missing_coordinates", "address_outside_street"}, "persons": {"person_no_address"},
       "units": {"unit_no_address"}, "houses": {"house_no_building"}}
ID = {"addresses": "address_id", "persons": "person_id", "houses": "house_id", "units": "unit_id"}
PLACE_TYPES = ("院落", "建筑物", "单元", "户室")


class Truth:
    def __init__(self, city: Path):
        self.city = Path(city)
        self.life = pd.read_parquet(self.city / "truth" / "lifecycle.parquet")
        self.defects = pd.read_csv(self.city / "truth" / "defects.csv", dtype=str, keep_default_na=False)
        self.facts = json.loads((self.city / "truth" / "facts.json").read_text(encoding="utf-8"))
        snap = self.city / "snapshots"
        last = f"period={self.facts['periods'][-1]}"   # the city's last month (its timeline, truth/facts.json)
        self.data = {
            "addresses": pd.read_parquet(snap / "addresses" / last / "part-0.parquet",
                                         columns=["address_id", "address_type", "community_code"]),
            "persons": pd.read_parquet(snap / "persons" / last / "part-0.parquet",
                                       columns=["person_id", "address_id", "community_code"]),
            "houses": pd.read_parquet(snap / "houses" / last / "part-0.parquet",
                                      columns=["house_id", "building_id", "building_code", "community_code"]),
            "units": pd.read_csv(snap / "units" / last / "part-0.csv", encoding="gbk", dtype=str,
                                 usecols=["unit_id", "address_id", "community_code"]),
        }

    def _has(self, dataset: str, kinds: set) -> pd.Index:
        d = self.defects
        return pd.Index(d.loc[(d.dataset == dataset) & d.defect.isin(kinds), "record_id"].unique())

    def records(self, dataset: str, period: str) -> pd.DataFrame:
        """Per record present in ``period``: community, governed, coded, on_map (and, for houses, code_ok)."""
        life = self.life[self.life.dataset == dataset].set_index("record_id")
        df = self.data[dataset].copy()
        df["record_id"] = df[ID[dataset]].astype(str)
        df = df.join(life[["entry_period", "mapped_period"]], on="record_id")
        mapped = (df.mapped_period != "") & (df.mapped_period <= period)
        present = df.entry_period <= period
        gov = ~df.record_id.isin(self._has(dataset, GOV[dataset]))
        code_ok = ~df.record_id.isin(self._has(dataset, CODE[dataset]))
        map_ok = ~df.record_id.isin(self._has(dataset, MAP[dataset]))
        if dataset == "addresses":
            on_map = mapped & map_ok
            df["on_map_any"] = on_map  # on the map whatever its own governance (what persons and units reach)
            keep = df.address_type.isin(PLACE_TYPES)
        elif dataset in ("persons", "units"):
            addr = self.records("addresses", period).set_index("record_id")["on_map_any"]
            via = df.address_id.astype("string").map(addr).fillna(False).astype(bool)
            on_map = mapped & map_ok & via
            keep = pd.Series(True, index=df.index)
        else:  # houses: the link to the building is there from entry; the code appears when the house is coded
            on_map = map_ok
            code_ok = code_ok & mapped
            keep = pd.Series(True, index=df.index)
        df["governed"] = gov
        df["coded"] = gov & code_ok
        df["code_ok"] = code_ok
        df["on_map"] = gov & on_map
        return df[present & keep].reset_index(drop=True)


def sums(df: pd.DataFrame, num, den) -> pd.DataFrame:
    """Numerator and denominator per community, street (first 9 digits) and county (all)."""
    d = pd.DataFrame({"community": df.community_code.astype(str), "num": np.asarray(num, dtype=float),
                      "den": np.asarray(den, dtype=float)})
    d["street"] = d.community.str.slice(0, 9)
    out = [d.groupby("community")[["num", "den"]].sum().assign(area_level="community"),
           d.groupby("street")[["num", "den"]].sum().assign(area_level="street"),
           d[["num", "den"]].sum().to_frame().T.assign(area_level="county", _code=d.community.iloc[0][:6]).set_index("_code")]
    res = pd.concat(out)
    res.index.name = "area_code"
    return res.reset_index()


def compare(metrics: pd.DataFrame, expected: pd.DataFrame, metric_id: str, dataset: str, period: str) -> None:
    """Every area's numerator and denominator equal the expected ones; areas without records have zero."""
    got = metrics[(metrics.metric_id == metric_id) & (metrics.dataset == dataset) & (metrics.period == period)]
    assert len(got), f"no rows for {metric_id}/{dataset}/{period}"
    got = got.set_index(["area_level", "area_code"])[["numerator", "denominator", "value"]]
    exp = expected.set_index(["area_level", "area_code"])
    missing = exp.index.difference(got.index)
    assert missing.empty, f"{metric_id}/{dataset}/{period}: no row for {list(missing)[:3]}"
    g = got.loc[exp.index]
    bad = (g.numerator.to_numpy() != exp.num.to_numpy()) | (g.denominator.to_numpy() != exp.den.to_numpy())
    assert not bad.any(), (f"{metric_id}/{dataset}/{period}: {bad.sum()} areas differ, e.g. "
                           f"{g[bad].head(3).to_dict('index')} expected {exp[bad].head(3)[['num', 'den']].to_dict('index')}")
    rest = got.drop(index=exp.index)
    assert (rest.numerator == 0).all() and (rest.denominator == 0).all(), rest[rest.denominator != 0].head()
    with np.errstate(invalid="ignore"):
        v = np.where(g.denominator > 0, g.numerator / g.denominator.where(g.denominator > 0), np.nan)
    assert np.allclose(g.value.to_numpy(dtype=float), v, equal_nan=True)
