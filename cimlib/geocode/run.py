"""Matching a register's address texts to the standard address library: the 治理工作清单 of one catalog entry.

:func:`match_dataset` is what ``cim match`` runs and what notebooks call: it reads a register (实有人口, 实有房屋,
实有单位) and the catalog's standard addresses, sets aside the records the register already links by code, matches
the address text of every other record with :func:`cimlib.geocode.match_addresses`, and counts the outcome per
street and community. A match is a *proposal* for the analyst, never a change to the register.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from cimlib.catalog import Catalog, CatalogError
from cimlib.lookup import index_in, isin

MATCH_COLUMNS = ["dataset", "record_id", "address_id", "status", "match_level", "score", "candidates", "reason"]
"""Columns of ``matches.parquet``/``matches.csv``: one row per record matched (no code link, an address text)."""

SUMMARY_COLUMNS = ["dataset", "street_code", "community_code", "status", "records"]
"""Columns of ``summary.csv``: records per area and status (the matched statuses plus ``linked`` and ``no_text``)."""

STATUSES = ("matched", "partial", "ambiguous", "unmatched")
"""Statuses of a text match (:func:`cimlib.geocode.match_addresses`)."""

LINKED = "linked"
"""Summary status of records the register already links to a standard address by code (not matched)."""

NO_TEXT = "no_text"
"""Summary status of records without a code link and without an address text (nothing to match)."""

SUMMARY_STATUSES = (*STATUSES, LINKED, NO_TEXT)

ZH_STATUS = {"matched": "确定匹配", "partial": "部分匹配", "ambiguous": "多个候选", "unmatched": "未匹配",
             LINKED: "已按编码关联", NO_TEXT: "无地址文本"}
"""Chinese labels of the statuses, for tables shown to people."""

CHUNK_ROWS = 200_000
"""Texts matched per call of :func:`cimlib.geocode.match_addresses` (one step of the progress bar)."""


@dataclass
class MatchResult:
    """What a match run produced.

    Attributes
    ----------
    matches : pandas.DataFrame
        :data:`MATCH_COLUMNS`, one row per record of the register without a code link that carries an address
        text, in register order. ``candidates`` holds a list of address ids: the tied candidates when
        ``ambiguous``, the returned address when ``matched``/``partial``, empty when ``unmatched``.
        ``reason`` is masked (digits of door plates, buildings, units and rooms replaced by ``*``) unless the run
        was asked for raw values.
    summary : pandas.DataFrame
        :data:`SUMMARY_COLUMNS`: records per dataset, street, community and status; ``linked`` (already linked by
        code) and ``no_text`` (no code link, no text) count the records that are not in ``matches``.
    dataset : str
        Catalog entry name.
    period : str or None
        Snapshot period read (``None`` for the current data).
    text_column : str
        Column of the register the texts were read from.
    records : int
        Records in the register.
    texts : pandas.Series or None
        Raw address texts of the rows of ``matches`` (same order), kept only by an unmasked run for an
        analyst's terminal; ``None`` otherwise. Never written to files.
    areas : pandas.DataFrame or None
        ``street_code, community_code`` of the rows of ``matches`` (same order; empty strings where unknown), as
        counted in ``summary``: what the report's 治理工作清单 groups reasons by.
    positions : numpy.ndarray or None
        Row positions in the register of the rows of ``matches`` (same order): the records without a code link
        that carry a text.
    """

    matches: pd.DataFrame
    summary: pd.DataFrame
    dataset: str
    period: str | None = None
    text_column: str = "address_text"
    records: int = 0
    texts: pd.Series | None = field(default=None, repr=False)
    areas: pd.DataFrame | None = field(default=None, repr=False)
    positions: np.ndarray | None = field(default=None, repr=False)

    def counts(self) -> dict[str, int]:
        """Records per summary status (every status of :data:`SUMMARY_STATUSES`, 0 when absent)."""
        c = self.summary.groupby("status")["records"].sum()
        return {s: int(c.get(s, 0)) for s in SUMMARY_STATUSES}


def address_entry(catalog: Catalog) -> str:
    """Name of the catalog entry holding the standard addresses (schema ``addresses``).

    Raises
    ------
    cimlib.catalog.CatalogError
        When the catalog has no such entry.
    """
    for e in catalog:
        if e.schema == "addresses":
            return e.name
    raise CatalogError("数据目录中没有标准地址数据集（schema: addresses）：地址匹配需要标准地址库；请在数据目录中加入该条目",
                       path=catalog.path)


def _read(catalog: Catalog, name: str, period: str | None):
    """Read an entry (its ``period`` snapshot when it has snapshots), quietly."""
    entry = catalog[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return catalog.read(name, period=period if entry.snapshots else None)


def _where(catalog: Catalog, name: str) -> str:
    entry = catalog[name]
    return f"数据集 {name}（文件 {entry.path}）" if getattr(entry, "path", None) else f"数据集 {name}"


def _check_schema(catalog: Catalog, name: str) -> None:
    """A clear error when the entry's schema has no ``address_text`` field (checked before anything is read)."""
    from standards_checks.schemas import field_table

    entry = catalog[name]
    if "address_text" not in (field_table(entry.schema) or ()):
        raise CatalogError(f"{_where(catalog, name)}的类型 {entry.schema} 没有地址文本字段 address_text：地址匹配只用于"
                           f"实有人口（persons）、实有房屋（houses）和实有单位（units）等带地址文本的登记数据；"
                           f"请用 --dataset 指定这类数据集", entry=name, path=catalog.path)


def _text_column(catalog: Catalog, name: str, frame: pd.DataFrame, text_column: str) -> str:
    """The frame column holding the address texts, or a clear error naming the entry, its file and what to do."""
    entry = catalog[name]
    where = _where(catalog, name)
    if text_column in frame.columns:
        return text_column
    source = entry.field_column(text_column) if hasattr(entry, "field_column") else text_column
    if source in frame.columns:
        return source
    raise CatalogError(f"{where}中没有地址文本列 {text_column}：请在数据目录该条目的 columns 中把源字段（如 居住地址、"
                       f"经营地址）映射为 address_text，或用 --text-column 指定数据中的列名",
                       entry=name, path=catalog.path)


def _strings(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as stripped strings with empty values as ``<NA>`` (all ``<NA>`` when the column is absent)."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    s = frame[column].astype("string").str.strip()
    return s.mask(s == "")


def area_codes(frame: pd.DataFrame, library: pd.DataFrame) -> pd.Series:
    """The area each record's own codes claim, as the library knows it: its community, else its street.

    Parameters
    ----------
    frame : pandas.DataFrame
        Register records, with ``community_code`` and/or ``street_code`` if they carry them.
    library : pandas.DataFrame
        Standard addresses (``street_code``, ``community_code``).

    Returns
    -------
    pandas.Series of str
        Aligned to ``frame``: a 12-digit community code or a 9-digit street code that occurs in the library,
        ``<NA>`` where the record claims no known area (such a record is matched against the whole library).
    """
    comm = _strings(frame, "community_code")
    street = _strings(frame, "street_code")
    known_c = isin(comm, _strings(library, "community_code").dropna().unique())
    known_s_all = _strings(library, "street_code").dropna().unique()
    comm = comm.where(comm.str.fullmatch(r"\d{12}").fillna(False).to_numpy() & known_c)
    street = street.where(street.notna(), _strings(frame, "community_code").str.slice(0, 9))
    street = street.where(street.str.fullmatch(r"\d{9}").fillna(False).to_numpy() & isin(street, known_s_all))
    return comm.fillna(street)


def _candidates(values: pd.Series) -> pd.Series:
    """Normalise candidates to lists of address-id strings (empty list where none)."""
    def as_list(v):
        if isinstance(v, (list, tuple, np.ndarray, pd.Series)):
            return [str(x) for x in v if x is not None and x == x]
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            return []
        if isinstance(v, str):
            return [x for x in v.split(";") if x]
        return [str(v)]
    return pd.Series([as_list(v) for v in values.to_numpy(dtype=object)], index=values.index, dtype=object)


_QUOTED = re.compile(r"(“[^”]*”|「[^」]*」|‘[^’]*’|『[^』]*』|\"[^\"]*\"|'[^']*'|《[^》]*》|【[^】]*】)")
_CN_NUMBER = re.compile(r"[〇零一二两三四五六七八九十百千]+(?=\s*(?:号楼|号|栋|幢|座|单元|室|户|房|层|楼|#|＃))")
_NUMBER = re.compile(r"([0-9０-９]+(?:\.[0-9]+)?)(\s*(?:个|条|项|处|米|%|％))?")


def _keep_or_mask(m: re.Match) -> str:
    """Keep counts (``3 个``), scores (``0.85``) and 9/12-digit area codes; mask any other number."""
    num = m.group(1)
    if m.group(2) or "." in num or len(num) in (9, 12):
        return m.group(0)
    return "*" * len(num)


def mask_reason(reason: pd.Series) -> pd.Series:
    """Mask door plates and rooms quoted in reasons (``先锋路113号`` → ``先锋路***号``), vectorized.

    Inside quoted text (“…”, 「…」, '…', …) every digit is replaced by ``*``. Elsewhere every number is masked
    except counts (a number before 个/条/处…), scores (``0.85``) and 9- or 12-digit area codes. Chinese numerals
    are masked where they number a door plate, building, unit, floor or room (``八号楼``), not inside names
    (``五四街``, ``十里大道``).
    Masking twice changes nothing.

    Parameters
    ----------
    reason : pandas.Series of str

    Returns
    -------
    pandas.Series of str
        Missing values stay missing.
    """
    s = reason.astype("string")
    s = s.str.replace(_QUOTED, lambda m: re.sub(r"[0-9０-９]", "*", m.group(0)), regex=True)
    s = s.str.replace(_NUMBER, _keep_or_mask, regex=True)
    s = s.str.replace(_CN_NUMBER, lambda m: "*" * len(m.group(0)), regex=True)
    return s.astype(object).where(s.notna(), None)


def _summary(dataset: str, status: pd.Series, street: pd.Series, community: pd.Series) -> pd.DataFrame:
    """Records per (street, community, status); missing codes are written as empty strings."""
    df = pd.DataFrame({"street_code": street.fillna("").astype(str).to_numpy(),
                       "community_code": community.fillna("").astype(str).to_numpy(),
                       "status": status.astype(str).to_numpy()})
    out = df.groupby(["street_code", "community_code", "status"], sort=False).size().rename("records").reset_index()
    return ordered_summary(out.assign(dataset=dataset))


def ordered_summary(counts: pd.DataFrame) -> pd.DataFrame:
    """``summary.csv`` rows from ``dataset, street_code, community_code, status, records`` counts: by area, then
    status in :data:`SUMMARY_STATUSES` order (also how the counts of a register matched in parts are joined)."""
    order = {s: k for k, s in enumerate(SUMMARY_STATUSES)}
    out = counts.assign(_o=counts["status"].map(order).fillna(len(order))).sort_values(
        ["street_code", "community_code", "_o"], kind="stable").drop(columns="_o")
    return out[SUMMARY_COLUMNS].reset_index(drop=True).astype({"records": "int64"})


def code_linked(frame: pd.DataFrame, schema: str, library: pd.DataFrame,
                buildings: pd.DataFrame | None = None) -> np.ndarray:
    """Whether each record is linked by code, as the metrics count it (the records an address match leaves alone).

    实有人口 and 实有单位 link to a standard address (``address_id``), 实有房屋 to a building (``building_id``, else
    ``building_code``), by the link keys of :data:`cimlib.metrics.CLASSES`; a key naming several targets does not
    link (:func:`cimlib.metrics.linking.code_link`).

    Parameters
    ----------
    frame : pandas.DataFrame
        Register records.
    schema : str
        Their schema (``persons``, ``houses``, ``units``; any other links by ``address_id``).
    library : pandas.DataFrame
        The standard addresses.
    buildings : pandas.DataFrame, optional
        The buildings (for a register that links to buildings; without them nothing links, as in the metrics).

    Returns
    -------
    numpy.ndarray of bool
    """
    from cimlib.metrics._spec import CLASSES
    from cimlib.metrics.linking import code_link

    cls = CLASSES.get(schema)
    if cls is not None and cls.link_target == "buildings":
        if buildings is None:
            return np.zeros(len(frame), dtype=bool)
        pos, _, _ = code_link(frame, buildings, cls.link_keys, "building_id")
    else:
        pos, _, _ = code_link(frame, library, (("address_id", "address_id"),), "address_id")
    return pos >= 0


def match_dataset(catalog, name: str, *, text_column: str = "address_text", period: str | None = None,
                  progress: bool = False, masked: bool = True) -> MatchResult:
    """Match the address texts of a register's unlinked records to the standard address library.

    Records the register already links by code, as the metrics count them (:func:`code_linked`: a person or unit
    by an ``address_id`` found in the library, a house by its building), are not matched: they are counted as
    ``linked``. Records without a code link and without an address text are counted as ``no_text``. Every other
    record is matched (:func:`cimlib.geocode.match_addresses`), narrowed to the area its own ``community_code``
    (else ``street_code``) claims when the library knows it (:func:`match_records`).

    Parameters
    ----------
    catalog : Catalog or path-like
        The data catalog (or its file).
    name : str
        Catalog entry of the register (a schema with ``address_text``: persons, houses, units).
    text_column : str, default "address_text"
        Schema field (or source column) holding the free-text address.
    period : str, optional
        ``YYYY-MM``: the monthly snapshot of the register and of the standard addresses (entries without
        snapshots are read as they are, as ``cim check`` does).
    progress : bool, default False
        Show a progress bar (one step per :data:`CHUNK_ROWS` texts).
    masked : bool, default True
        Mask door plates and rooms quoted in ``reason``. Only an analyst's interactive session passes False (the
        raw texts are then kept in :attr:`MatchResult.texts`); files are masked whatever this says.

    Returns
    -------
    MatchResult

    Raises
    ------
    cimlib.catalog.CatalogError
        When ``name`` is not in the catalog, its schema has no ``address_text`` field, the text column is not in
        the data, the catalog has no standard addresses, or a dataset cannot be read.
    """
    if not isinstance(catalog, Catalog):
        catalog = Catalog.load(catalog)
    entry = catalog[name]
    _check_schema(catalog, name)
    lib_name = address_entry(catalog)
    bar = tqdm(total=3, desc=f"地址匹配 {name}", unit="步", disable=not progress)
    frame = _read(catalog, name, period)
    col = _text_column(catalog, name, frame, text_column)
    library = _read(catalog, lib_name, period)
    buildings = None
    from cimlib.metrics._spec import CLASSES

    cls = CLASSES.get(entry.schema)
    if cls is not None and cls.link_target == "buildings":
        bname = next((e.name for e in catalog if e.schema == "buildings"), None)
        if bname is not None:
            buildings = _read(catalog, bname, period)
    bar.update(1)
    frame = frame.reset_index(drop=True)
    id_col = entry.id_column if entry.id_column in frame else frame.columns[0]
    linked = code_linked(frame, entry.schema, library, buildings)
    try:
        return match_records(frame, library, name=name, linked=linked, id_column=id_col, text_column=col,
                             period=period, masked=masked, bar=bar)
    finally:
        bar.close()


def match_records(frame: pd.DataFrame, library: pd.DataFrame, *, name: str, linked: np.ndarray, id_column: str,
                  text_column: str = "address_text", period: str | None = None, masked: bool = True,
                  bar=None) -> MatchResult:
    """Match the texts of the records not ``linked`` by code, and count every record's outcome per area.

    The one matching step behind ``cim match`` (:func:`match_dataset`) and the metrics' proposals
    (:func:`cimlib.metrics.proposals.propose`): both pass the records the metrics count as linked, so the work list
    and ``mapping_rate_attainable`` describe the same records.

    Parameters
    ----------
    frame : pandas.DataFrame
        Register records (any index; positions are used).
    library : pandas.DataFrame
        Standard addresses (every element, the admin chain included).
    name : str
        Dataset name written in the results.
    linked : numpy.ndarray of bool
        Per record, linked by code (:func:`code_linked`): counted as ``linked``, not matched.
    id_column, text_column : str
        Columns of ``frame`` with the record ids and the address texts (a missing text column: no texts).
    period : str, optional
        Recorded in the result.
    masked : bool, default True
        Mask door plates and rooms quoted in ``reason`` (:func:`mask_reason`).
    bar : tqdm, optional
        Progress bar advanced once per :data:`CHUNK_ROWS` texts and once at the end.

    Returns
    -------
    MatchResult
    """
    from cimlib.geocode.match import match_addresses

    frame = frame.reset_index(drop=True)
    linked = np.asarray(linked, dtype=bool)
    ids = frame[id_column].astype("string") if id_column in frame else pd.Series(
        np.arange(len(frame)).astype(str), dtype="string")
    lib_ids = _strings(library, "address_id")
    own = _strings(frame, "address_id")
    texts = _strings(frame, text_column)
    todo = ~linked & texts.notna().to_numpy()
    sel = np.flatnonzero(todo)
    codes = area_codes(frame.iloc[sel], library)   # the records to match only (aligned to ``sel``)

    parts = []
    starts = range(0, len(sel), CHUNK_ROWS)
    if bar is not None:
        bar.total = 2 + max(len(starts), 1)
        bar.refresh()
    for start in starts:
        idx = sel[start:start + CHUNK_ROWS]
        t = texts.iloc[idx]
        a = codes.iloc[start:start + CHUNK_ROWS]
        parts.append(match_addresses(t, library, area_codes=a if a.notna().any() else None))
        if bar is not None:
            bar.update(1)
    if not len(starts) and bar is not None:
        bar.update(1)
    res = pd.concat(parts) if parts else pd.DataFrame(columns=["address_id", "status", "match_level", "score",
                                                                "candidates", "reason"])
    matches = pd.DataFrame({
        "dataset": name, "record_id": ids.iloc[sel].to_numpy(dtype=object),
        "address_id": res["address_id"].astype("string").to_numpy(dtype=object),
        "status": res["status"].astype(str).to_numpy(dtype=object),
        "match_level": res["match_level"].astype("string").to_numpy(dtype=object),
        "score": pd.to_numeric(res["score"], errors="coerce").astype("float64").to_numpy(),
        "candidates": _candidates(res["candidates"]).to_numpy(),
        "reason": res["reason"].astype("string").fillna("").to_numpy(dtype=object),
    }, columns=MATCH_COLUMNS)
    for c in ("address_id", "match_level"):
        matches[c] = matches[c].where(pd.notna(matches[c]), None)
    if masked:
        matches["reason"] = mask_reason(matches["reason"])

    # the area of each record: its own codes, else those of the address it is linked or matched to
    status = pd.Series(np.where(linked, LINKED, NO_TEXT), dtype=object)
    status.iloc[sel] = matches["status"].to_numpy()
    address = own.where(pd.Series(linked)).astype(object)
    address.iloc[sel] = matches["address_id"].to_numpy()
    at = index_in(pd.Series(address.fillna("").to_numpy(dtype=object), dtype="str"), lib_ids.fillna(""))  # first row
    place = pd.DataFrame({c: pd.Series(np.where(at >= 0, _strings(library, f"{c}_code").to_numpy(dtype=object)[
        np.maximum(at, 0)] if len(library) else None, None), dtype="string") for c in ("street", "community")})
    own_c = _strings(frame, "community_code")
    own_s = _strings(frame, "street_code")
    own_s = own_s.fillna(own_c.str.slice(0, 9))
    has_own = (own_c.notna() | own_s.notna()).to_numpy()
    community = own_c.where(pd.Series(has_own), pd.Series(place["community"].to_numpy(), dtype="string"))
    street = own_s.where(pd.Series(has_own), pd.Series(place["street"].to_numpy(), dtype="string"))
    summary = _summary(name, status, street, community)
    if bar is not None:
        bar.update(1)
    raw = None if masked else pd.Series(texts.iloc[sel].to_numpy(dtype=object), index=matches.index, name=text_column)
    areas = pd.DataFrame({"street_code": street.iloc[sel].fillna("").astype(str).to_numpy(dtype=object),
                          "community_code": community.iloc[sel].fillna("").astype(str).to_numpy(dtype=object)})
    return MatchResult(matches.reset_index(drop=True), summary, name, period, text_column, len(frame), raw, areas, sel)
