"""Writing a match run: matches.parquet, matches.csv (UTF-8 with BOM) and summary.csv, atomically and masked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cimlib._io import atomic_path
from cimlib.geocode.run import MATCH_COLUMNS, SUMMARY_COLUMNS, mask_reason

_SCHEMA = pa.schema([("dataset", pa.string()), ("record_id", pa.string()), ("address_id", pa.string()),
                     ("status", pa.string()), ("match_level", pa.string()), ("score", pa.float64()),
                     ("candidates", pa.list_(pa.string())), ("reason", pa.string())])


def masked_matches(matches: pd.DataFrame) -> pd.DataFrame:
    """A copy of a matches table as it may leave the session: door plates and rooms quoted in ``reason`` masked.

    Parameters
    ----------
    matches : pandas.DataFrame
        :data:`cimlib.geocode.run.MATCH_COLUMNS` (masked or not: masking is idempotent).

    Returns
    -------
    pandas.DataFrame
    """
    out = matches[MATCH_COLUMNS].copy()
    out["reason"] = mask_reason(out["reason"])
    return out


def write_match_outputs(result, out_dir, masked: bool = True) -> dict:
    """Write a :class:`~cimlib.geocode.run.MatchResult` into ``out_dir``, every file atomically.

    Files: ``matches.parquet`` (``candidates`` a list of address ids), ``matches.csv`` (UTF-8 with BOM, for Excel;
    ``candidates`` joined with ``;``) and ``summary.csv`` (records per dataset, street, community and status).
    Files are always masked, even when the result kept raw values for an analyst's terminal.

    Parameters
    ----------
    result : MatchResult
    out_dir : path-like
    masked : bool, default True
        Must be True: files never hold unmasked values (raw values are shown only on the terminal by
        ``cim match --unmasked``).

    Returns
    -------
    dict
        ``{"files": [...], "counts": {status: records}}``.

    Raises
    ------
    ValueError
        If ``masked`` is False.
    """
    if not masked:
        raise ValueError("匹配结果文件一律脱敏：原值只在分析人员的终端中显示（cim match --unmasked），不写入文件")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    m = masked_matches(result.matches)
    table = pa.Table.from_pandas(m.astype({c: "object" for c in MATCH_COLUMNS if c != "score"}), schema=_SCHEMA,
                                 preserve_index=False)
    with atomic_path(out / "matches.parquet") as p:
        pq.write_table(table, p)
    joined = pc.binary_join(table.column("candidates"), ";").to_pandas()
    csv = m.assign(candidates=joined.fillna("").to_numpy())
    with atomic_path(out / "matches.csv") as p:
        csv.to_csv(p, index=False, encoding="utf-8-sig")
    with atomic_path(out / "summary.csv") as p:
        result.summary[SUMMARY_COLUMNS].to_csv(p, index=False, encoding="utf-8-sig")
    return {"files": [str(out / n) for n in ("matches.parquet", "matches.csv", "summary.csv")],
            "counts": result.counts()}
