"""evidence.parquet is written in chunks for large runs, with the same contents and types as one write."""

import numpy as np
import pandas as pd
import pytest

from cimlib.metrics import outputs


def _evidence(n: int) -> pd.DataFrame:
    i = np.arange(n)
    return pd.DataFrame({
        "period": np.where(i < n // 2, "2024-01", "2024-02"), "dataset": "persons",
        "record_id": [f"P{k}" for k in i], "governed": i % 2 == 0, "distance_m": np.where(i % 3 == 0, np.nan, 1.5),
        "link_target": [None] * 10 + [f"A{k}" for k in range(n - 10)],   # the first chunk holds only nulls
        "reason": pd.Series([None] * n, dtype="str"),                      # no value anywhere
        "proposed_address_id": [None] * (n - 1) + ["A9"],                  # a value in the last chunk only
        "proposal_status": None, "proposal_score": np.nan, "link_key": "address_id"})


@pytest.mark.parametrize("chunk", [7, 10, 1000])
def test_chunked_evidence_equals_one_write(tmp_path, monkeypatch, chunk):
    ev = _evidence(25)
    outputs._write_evidence(ev, tmp_path / "whole.parquet")   # 25 rows: one write
    monkeypatch.setattr(outputs, "_EVIDENCE_CHUNK", chunk)
    outputs._write_evidence(ev, tmp_path / "chunked.parquet")
    whole = pd.read_parquet(tmp_path / "whole.parquet")
    chunked = pd.read_parquet(tmp_path / "chunked.parquet")
    pd.testing.assert_frame_equal(chunked, whole)
    assert whole["proposed_address_id"].iloc[-1] == "A9" and whole["reason"].isna().all()
