"""增量地址生产: 合格率, per-stage first-pass rate and lead time, from the production pipeline log.

The log has one row per address × stage × attempt (``address_id, stage, attempt, submitted_at, completed_at,
result``). An address is *produced* in the month its last stage (网格核验) is passed; it is *qualified* (合格) when
no stage returned it on first submission and, in that month's snapshot of the standard addresses, it fails no
error-severity rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cimlib.metrics._spec import STAGES

PASS = "通过"


def produced_addresses(log: pd.DataFrame, stages=STAGES) -> pd.DataFrame:
    """One row per produced address: production period, lead time, first-pass result per stage.

    Parameters
    ----------
    log : pandas.DataFrame
        The pipeline log.
    stages : sequence of str
        Stage names in order; the last is the one whose pass makes the address produced.

    Returns
    -------
    pandas.DataFrame
        ``address_id, period (YYYY-MM), produced_at, lead_time_days, first_pass`` and ``s1_pass .. sN_pass``
        (``<NA>`` where the stage has no first attempt in the log).
    """
    df = log[["address_id", "stage", "attempt", "submitted_at", "completed_at", "result"]].copy()
    df["address_id"] = df["address_id"].astype(str)
    last = df[(df["stage"] == stages[-1]) & (df["result"] == PASS)]
    done = last.groupby("address_id")["completed_at"].min()
    start = df.groupby("address_id")["submitted_at"].min().reindex(done.index)
    out = pd.DataFrame({"address_id": done.index.to_numpy(), "produced_at": done.to_numpy()})
    out["period"] = pd.DatetimeIndex(out["produced_at"]).strftime("%Y-%m")
    out["lead_time_days"] = (done.to_numpy() - start.to_numpy()) / np.timedelta64(1, "D")
    first = df[df["attempt"] == df.groupby(["address_id", "stage"])["attempt"].transform("min")]
    ok = (first["result"] == PASS).groupby([first["address_id"], first["stage"]]).all().unstack()
    all_ok = np.ones(len(out), dtype=bool)
    for k, stage in enumerate(stages, start=1):
        col = ok[stage].reindex(out["address_id"]) if stage in ok else pd.Series(pd.NA, index=out["address_id"])
        out[f"s{k}_pass"] = col.astype("boolean").to_numpy()
        all_ok &= col.fillna(True).astype(bool).to_numpy()
    # a stage with no first attempt in the log counts as not passed for the address as a whole
    complete = np.column_stack([out[f"s{k}_pass"].notna().to_numpy() for k in range(1, len(stages) + 1)]).all(axis=1)
    out["first_pass"] = all_ok & complete
    return out


def quantile_row(values: np.ndarray, q: float) -> tuple[float, int, int]:
    """The ``q`` quantile (linear interpolation) with the count at or below it and the count: value, num, den."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return np.nan, 0, 0
    x = float(np.quantile(v, q))
    return x, int((v <= x + 1e-12).sum()), len(v)
