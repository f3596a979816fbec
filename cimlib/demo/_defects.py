"""Bookkeeping of injected defects: the truth the tests compare checks and metrics against."""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFECT_COLUMNS = ["dataset", "record_id", "defect", "rule_id"]

DEFECT_RULES = {
    ("buildings", "invalid_geometry"): ["GEO-001"],
    ("buildings", "missing_height"): ["BLD-001"],
    ("buildings", "height_floor_mismatch"): ["BLD-003"],
    ("buildings", "duplicate_code"): ["BLD-004", "BLD-007"],
    ("buildings", "overlapping_footprint"): ["BLD-005"],
    ("addresses", "missing_coordinates"): ["ADR-001"],
    ("addresses", "address_outside_street"): ["ADR-002"],
    ("addresses", "broken_parent"): ["ADR-003"],
    ("persons", "bad_check_digit"): ["PER-001"],
    ("persons", "duplicate_code"): ["PER-002"],
    ("persons", "person_no_address"): ["PER-003"],
    ("persons", "bad_phone"): ["PER-004"],
    ("houses", "bad_check_digit"): ["HSE-001"],
    ("houses", "missing_code"): ["HSE-002"],
    ("houses", "duplicate_code"): ["HSE-003"],
    ("houses", "house_no_building"): ["HSE-004"],
    ("houses", "bad_structure"): ["HSE-005"],
    ("houses", "ambiguous_building_code"): ["HSE-007"],
    ("units", "bad_check_digit"): ["UNT-001"],
    ("units", "duplicate_code"): ["UNT-002"],
    ("units", "unit_no_address"): ["UNT-003"],
    ("dem", "dem_nodata_hole"): ["DEM-001"],
    ("readings", "unknown_device"): ["RDG-001"],
    ("readings", "ts_out_of_range"): ["RDG-002"],
    ("readings", "duplicate"): ["RDG-004"],
    ("projects", "bad_project_code"): ["PRJ-001"],
    ("projects", "code_division_outside"): ["PRJ-002"],
    ("projects", "dates_out_of_order"): ["PRJ-003"],
    ("projects", "unreadable_date"): ["PRJ-003"],
    ("projects", "negative_area"): ["PRJ-004"],
    ("projects", "building_without_area"): ["PRJ-004"],
    ("projects", "unreadable_flag"): ["PRJ-005"],
    # 北斗网格码 (cimlib.demo._grid): a missing code is a warning, a malformed or wrong-location code an error
    ("buildings", "grid_code_malformed"): ["BLD-008"],
    ("buildings", "grid_code_wrong_location"): ["BLD-009"],
    ("buildings", "grid_code_missing"): ["BLD-010"],
    ("addresses", "grid_code_malformed"): ["ADR-010"],
    ("addresses", "grid_code_wrong_location"): ["ADR-011"],
    ("addresses", "grid_code_missing"): ["ADR-012"],
    ("houses", "grid_code_malformed"): ["HSE-008"],
    ("houses", "grid_code_wrong_location"): ["HSE-009"],
    ("houses", "grid_code_missing"): ["HSE-010"],
    ("devices", "grid_code_malformed"): ["DEV-004"],
    ("devices", "grid_code_wrong_location"): ["DEV-005"],
    ("devices", "grid_code_missing"): ["DEV-006"],
}
"""The rule(s) of ``standards_checks`` each injected defect must trigger (empty: no rule yet, e.g. sensor defects,
which the sensor analytics measure instead)."""


def n_defects(n: int, rate: float, minimum: int = 2) -> int:
    """How many records of ``n`` get a defect injected at ``rate`` (at least ``minimum`` when ``n`` allows)."""
    return int(min(n, max(minimum, round(n * rate))))


class Truth:
    """Collects ``(dataset, record_id, defect)`` rows while the city is generated."""

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []

    def add(self, dataset: str, record_ids, defect: str) -> None:
        ids = np.asarray(record_ids, dtype=object).astype(str)
        if len(ids):
            self._parts.append(pd.DataFrame({"dataset": dataset, "record_id": ids, "defect": defect}))

    def extend(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self._parts.append(frame[["dataset", "record_id", "defect"]].astype(str))

    def frame(self) -> pd.DataFrame:
        """One row per defect and rule it must trigger (``rule_id`` empty where no rule applies yet)."""
        if not self._parts:
            return pd.DataFrame(columns=DEFECT_COLUMNS, dtype=str)
        df = pd.concat(self._parts, ignore_index=True).drop_duplicates()
        rules = pd.DataFrame([(d, f, r) for (d, f), rs in DEFECT_RULES.items() for r in rs],
                             columns=["dataset", "defect", "rule_id"])
        df = df.merge(rules, on=["dataset", "defect"], how="left")
        df["rule_id"] = df["rule_id"].fillna("")
        return df.sort_values(DEFECT_COLUMNS, kind="stable").reset_index(drop=True)


def pick(rng: np.random.Generator, pool: np.ndarray, k: int, taken: np.ndarray | None = None) -> np.ndarray:
    """``k`` distinct positions from ``pool`` (an index array), avoiding positions already ``taken``."""
    if taken is not None and taken.any():
        pool = pool[~taken[pool]]
    k = min(k, len(pool))
    out = np.sort(rng.choice(pool, size=k, replace=False)) if k else np.array([], dtype=int)
    if taken is not None:
        taken[out] = True
    return out
