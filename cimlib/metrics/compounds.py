"""智慧小区 (smart compounds) in the standard address library: how many compounds are flagged as built.

重庆's work plan (渝府办发〔2021〕140号, 一、（三）) sets 打造智慧小区100个以上 for the whole city. The address library's
院落 elements carry ``smart_compound`` (是/否, as departments keep it); ``smart_compound_count`` counts the flagged
compounds of each area and month (N = flagged 院落, D = 院落; **value = N, a count**, unit 个).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SMART_COMPOUND_COLUMN", "TRUE_WORDS", "smart_compound_counts"]

SMART_COMPOUND_COLUMN = "smart_compound"
"""Column of the ``addresses`` schema flagging a 院落 as a 智慧小区."""

TRUE_WORDS = frozenset({"是", "有", "已建成", "true", "t", "1", "1.0", "yes", "y"})
"""Values read as flagged (case-insensitive, stripped); anything else, empty included, is not."""


def smart_compound_counts(frame: pd.DataFrame, buckets: np.ndarray) -> pd.DataFrame | None:
    """Flagged and all compounds (院落) per area bucket.

    Parameters
    ----------
    frame : pandas.DataFrame
        Standard addresses of one month (``address_type``, ``smart_compound``).
    buckets : numpy.ndarray
        The area bucket of each row (:meth:`cimlib.metrics._areas.Areas.bucket`).

    Returns
    -------
    pandas.DataFrame or None
        Indexed by bucket: ``smart`` (flagged compounds) and ``compounds``; ``None`` when the library has no
        ``smart_compound`` column (the metric is then not computed).
    """
    if SMART_COMPOUND_COLUMN not in frame or "address_type" not in frame:
        return None
    comp = (frame["address_type"].astype("string") == "院落").fillna(False).to_numpy(dtype=bool)
    flag = frame[SMART_COMPOUND_COLUMN].astype("string").str.strip().str.lower().isin(TRUE_WORDS)
    flag = flag.fillna(False).to_numpy(dtype=bool) & comp
    df = pd.DataFrame({"bucket": np.asarray(buckets)[comp], "smart": flag[comp].astype("int64"),
                       "compounds": np.ones(int(comp.sum()), dtype="int64")})
    return df.groupby("bucket")[["smart", "compounds"]].sum()
