"""Address-match proposals for the records a register does not link by code, and the 上图率 they would attain.

A text match is a proposal, not the register's state: 上图率 (``mapping_rate``) and the acceptance indicators keep
counting only the links the register carries. ``mapping_rate_attainable`` says what 上图率 would be if the
``matched`` proposals at building level or finer (建筑物, 单元, 户室) were accepted into the register.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cimlib.lookup import index_in

PROPOSAL_COLUMNS = ["proposed_address_id", "proposal_status", "proposal_score"]
"""Columns the evidence gains for every record without a code link (empty for linked records)."""

ACCEPTED_LEVELS = ("建筑物", "单元", "户室")
"""Match levels fine enough for a ``matched`` proposal to count in the attainable 上图率."""

TEXT_COLUMN = "address_text"


def no_proposals(n: int) -> pd.DataFrame:
    """Proposal columns for ``n`` records that were not matched (all empty)."""
    return pd.DataFrame({"proposed_address_id": pd.Series([None] * n, dtype=object),
                         "proposal_status": pd.Series([None] * n, dtype=object),
                         "proposal_score": np.full(n, np.nan)})


def propose(frame: pd.DataFrame, links: pd.DataFrame, library: pd.DataFrame, library_links: pd.DataFrame, *,
            target: str = "addresses", name: str = "", id_column: str | None = None, period: str | None = None):
    """Match the address texts of the records without a code link, and whether each proposal would be on the map.

    Parameters
    ----------
    frame : pandas.DataFrame
        Register records (persons, houses, units) in the order of ``links``.
    links : pandas.DataFrame
        Their links (:data:`cimlib.metrics.linking.LINK_COLUMNS`); records whose ``method`` is ``none`` are matched.
    library : pandas.DataFrame
        The standard addresses of the same period (every element, the admin chain included).
    library_links : pandas.DataFrame
        Links of ``library``'s rows to buildings (``on_map``, ``target_id``), row by row.
    target : {"addresses", "buildings"}
        What the register links to: a person or unit is on the map through an address that is itself on the map;
        a house through the building its address stands in.
    name, id_column, period : optional
        Dataset name, record id column and period recorded in the match result.

    Returns
    -------
    tuple of (pandas.DataFrame, cimlib.geocode.run.MatchResult) or None
        ``None`` when ``frame`` has no ``address_text`` column. Otherwise the proposals, aligned to ``frame``
        (positions): :data:`PROPOSAL_COLUMNS` (``proposal_status`` is the match status, ``no_text`` for an
        unlinked record without a text, empty for a linked record) and ``would_map`` (an accepted proposal puts it
        on the map); and the match run itself (:func:`cimlib.geocode.run.match_records`, reasons masked), which
        the reports' 治理工作清单 shows, so the work list and the attainable rate describe the same records.
    """
    if TEXT_COLUMN not in frame:
        return None
    from cimlib.geocode.run import NO_TEXT, match_records

    n = len(frame)
    unlinked = links["method"].to_numpy() == "none"
    id_column = id_column if id_column in frame else frame.columns[0]
    result = match_records(frame, library, name=name, linked=~unlinked, id_column=id_column,
                           text_column=TEXT_COLUMN, period=period)
    out = no_proposals(n)
    out["would_map"] = np.zeros(n, dtype=bool)
    sel = result.positions                   # the unlinked records with a text, as the match run saw them
    with_text = np.zeros(n, dtype=bool)
    with_text[sel] = True
    out.loc[unlinked & ~with_text, "proposal_status"] = NO_TEXT
    res = result.matches
    if not len(sel):
        return out, result
    proposed = res["address_id"].astype("string")
    status = res["status"].astype(str).to_numpy()
    out.loc[sel, "proposed_address_id"] = proposed.to_numpy(dtype=object)
    out.loc[sel, "proposal_status"] = status
    out.loc[sel, "proposal_score"] = pd.to_numeric(res["score"], errors="coerce").to_numpy(dtype=float)
    accepted = (status == "matched") & res["match_level"].isin(ACCEPTED_LEVELS).to_numpy()
    pos = index_in(proposed, library["address_id"].astype("string").reset_index(drop=True))
    ok = pos >= 0
    if target == "buildings":
        reach = library_links["target_id"].notna().to_numpy()
    else:
        reach = library_links["on_map"].to_numpy(dtype=bool)
    on = np.zeros(len(sel), dtype=bool)
    on[ok] = reach[pos[ok]]
    out.loc[sel, "would_map"] = accepted & on
    out["proposed_address_id"] = out["proposed_address_id"].where(out["proposed_address_id"].notna(), None)
    return out, result
