"""Bookkeeping of injected defects: the truth the tests compare checks and metrics against."""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFECT_COLUMNS = ["dataset", "record_id", "defect"]


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
            self._parts.append(frame[DEFECT_COLUMNS].astype(str))

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame(columns=DEFECT_COLUMNS, dtype=str)
        df = pd.concat(self._parts, ignore_index=True).drop_duplicates()
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
