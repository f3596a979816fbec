"""Matching free-text addresses to the standard address library (地址匹配): statuses, levels, scores and reasons.

Method (vectorized; the work is done once per *distinct* normalized text and area code):

1. **Normalize and parse** the texts (:mod:`cimlib.geocode.normalize`, :mod:`cimlib.geocode.parse`) into the
   elements of GB/T 35602: street, community, road, door number, compound, building, unit, floor, room. Junk texts
   (暂无, 同上, 不详 ...) are ``unmatched`` and never reach the library.
2. **Resolve names** of the street, community, road and compound against the library's names of that kind
   (:class:`cimlib.geocode._index.AddressIndex`): exactly by normalized key (``西城街道`` = ``西城``), else with one
   wrong character (Levenshtein distance 1, names of at least 3 characters, symmetric-deletion blocking). A
   compound written without its generic word (``紫阳五四`` for ``紫阳五四花园``) is found by its stem when the stem
   belongs to one compound only (:data:`STEM_FACTOR`); a street or community written into the road (``东城湖滨街``)
   is split off when the rest is exactly a road of the library.
3. **Candidates** are joined from the blocking tables: 院落 by name, 院落 or door-plate 建筑物 by ``(road, door
   number)``, 街路巷 by name, 社区 and 街道 by name. A candidate is dropped when it contradicts the text: a 院落 of
   another name than the one written, a street or community (recognised in the library) other than the one
   written, or an area code (``area_codes``) other than its own.
4. **Score** each candidate by element agreement (weights :data:`WEIGHTS`; an exact name counts 1, a name with one
   wrong character :data:`FUZZY_FACTOR`); the best candidates are kept. **Several best candidates are a tie**:
   the text is ``ambiguous`` and no address is chosen.
5. **Descend** from the chosen 院落 or door-plate building by ``(院落, 栋)``, ``(建筑物, 单元)``, ``(建筑物, 室)``.
   The address found is ``matched`` when it is the finest element the text describes, else ``partial`` with the
   element that was not found as the reason. Two rooms of the same number in different units of the building when
   the text names no unit are again ``ambiguous``.

``score`` is the weighted share of the elements the text gives that agree with the returned address (0..1).
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from cimlib.geocode._index import (_BUILDING_SUFFIX, _FLOOR_SUFFIX, _ROOM_SUFFIX, _UNIT_SUFFIX, AddressIndex, _clean,
                                   _str, number_key)

__all__ = ["match_addresses", "match_parsed", "MATCH_LEVELS", "STATUSES", "WEIGHTS", "FUZZY_FACTOR", "STEM_FACTOR",
           "PARSED_COLUMNS"]

STATUSES = ("matched", "partial", "ambiguous", "unmatched")
"""Statuses of a match, from sure to none."""

MATCH_LEVELS = ("户室", "单元", "建筑物", "院落", "门牌", "街路巷", "社区", "街道")
"""Levels of the returned address, finest first."""

PARSED_COLUMNS = ("province", "city", "county", "street", "community", "road", "door_no", "compound", "building",
                  "unit", "floor", "room", "remainder")
"""Columns of :func:`cimlib.geocode.parse.parse_address` the matcher reads."""

WEIGHTS = {"street": 0.5, "community": 0.5, "road": 1.0, "door_no": 1.0, "compound": 2.0, "building": 1.5,
           "unit": 1.0, "room": 1.5, "remainder": 0.5}
"""Weight of each element in the score (a non-empty unparsed remainder counts against the score)."""

FUZZY_FACTOR = 0.8
"""Agreement credited to a name matched with one wrong character (an exact name gets 1)."""

STEM_FACTOR = 0.9
"""Agreement credited to a compound written without its generic word (``紫阳五四`` for ``紫阳五四花园``), when that stem
belongs to one compound only."""

# rank of what a text describes / what an element is (higher = finer)
_R_STREET, _R_COMMUNITY, _R_ROAD, _R_DOOR, _R_BUILDING, _R_UNIT, _R_ROOM = 2, 3, 4, 5, 6, 7, 8
_ELEMENT_ZH = {"street": "街道（乡镇）", "community": "社区（村）", "road": "街路巷", "door_no": "门牌号", "compound": "小区（院落）",
               "building": "楼栋", "unit": "单元", "room": "户室"}
_EMPTY = pd.DataFrame({"tid": np.array([], dtype=np.int64), "key": np.array([], dtype=object),
                       "factor": np.array([], dtype=float)})

_cache: list = []  # one (weakref to the addresses frame, AddressIndex): match_dataset calls us per chunk


def _index_for(addresses) -> AddressIndex:
    """The :class:`AddressIndex` of ``addresses`` (built once per frame object and reused while it lives)."""
    if isinstance(addresses, AddressIndex):
        return addresses
    if _cache:
        ref, n, index = _cache[0]
        if ref() is addresses and n == len(addresses):
            return index
    index = AddressIndex(addresses)
    try:
        _cache[:] = [(weakref.ref(addresses), len(addresses), index)]
    except TypeError:  # not weak-referenceable: no cache
        _cache.clear()
    return index


# --------------------------------------------------------------------------- public


def match_addresses(texts: pd.Series, addresses, *, area_codes: pd.Series | None = None) -> pd.DataFrame:
    """Match free-text addresses to the standard address library.

    Parameters
    ----------
    texts : pandas.Series
        Free-text addresses as people write them (missing values allowed).
    addresses : pandas.DataFrame or AddressIndex
        Standard-address element table (schema ``addresses``: ``address_id, parent_id, element_type, name,
        street_code, community_code, door_plate ...``), or an index built from one with
        :class:`cimlib.geocode._index.AddressIndex` (reuse it for many calls).
    area_codes : pandas.Series, optional
        Aligned to ``texts``: a 9-digit street (乡镇街道) or 12-digit community (社区/村) code per text, e.g. the
        register's own area code. Only addresses inside that area are candidates. Other values are ignored.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``texts.index``: ``address_id`` (NA unless matched or partial), ``status`` (:data:`STATUSES`),
        ``match_level`` (:data:`MATCH_LEVELS`, level of ``address_id``; NA otherwise), ``score`` (0..1),
        ``candidates`` (list of address ids: the tied candidates when ambiguous, else the returned id or empty) and
        ``reason`` (Chinese, for partial, ambiguous and unmatched).

    Examples
    --------
    >>> m = match_addresses(persons["address_text"], addresses)          # doctest: +SKIP
    >>> m["status"].value_counts()                                        # doctest: +SKIP
    """
    from cimlib.geocode.normalize import normalize_address
    from cimlib.geocode.parse import parse_address

    texts = texts if isinstance(texts, pd.Series) else pd.Series(texts)
    index = _index_for(addresses)
    # distinct raw texts first (registers repeat addresses): normalization runs on them, not on every record
    raw = texts.astype("object").where(texts.notna(), None).to_numpy(dtype=object)
    raw_codes, raw_uniques = pd.factorize(raw, use_na_sentinel=False)
    norm = normalize_address(pd.Series(np.asarray(raw_uniques, dtype=object), dtype=object))
    # distinct (normalized text, area code, junk) as integer codes: a record is a code, no string keys per record
    text_codes, text_uniques = pd.factorize(_str(norm["text"]).to_numpy(dtype=object))
    junk_u = norm["junk"].fillna(False).astype(bool).to_numpy()
    area = _area(area_codes, texts.index).to_numpy(dtype=object)
    area_codes_i, area_uniques = pd.factorize(area)
    junk_r = junk_u[raw_codes]
    area_codes_i = np.where(junk_r, -1, area_codes_i) + 1  # a junk text has no area; "" may already be a code
    key = (text_codes[raw_codes].astype(np.int64) * 2 + junk_r) * (len(area_uniques) + 1) + area_codes_i
    codes, first = pd.factorize(key)  # groups in the order of their first record
    # position of the first record of each group: codes are numbered in order of first appearance
    seen = np.maximum.accumulate(codes) if len(codes) else codes
    at = np.flatnonzero(np.r_[len(codes) > 0, seen[1:] > seen[:-1]]) if len(codes) else np.zeros(0, dtype=np.int64)
    d_text = np.asarray(text_uniques, dtype=object)[text_codes[raw_codes[at]]]
    d_area = np.where(junk_r[at], "", area[at])
    junk = junk_r[at] | (d_text == "")
    parsed = pd.DataFrame(index=pd.RangeIndex(len(first)), columns=list(PARSED_COLUMNS), dtype="str")
    live = np.flatnonzero(~junk)
    if len(live):
        p = parse_address(pd.Series(d_text[live], index=live), normalized=True)
        parsed.loc[live, [c for c in PARSED_COLUMNS if c in p]] = p[[c for c in PARSED_COLUMNS if c in p]]
    res = match_parsed(parsed, index, area_codes=pd.Series(d_area, dtype=object), junk=junk)
    out = res.iloc[codes].set_axis(texts.index)
    return out


def match_parsed(parsed: pd.DataFrame, index: AddressIndex, *, area_codes: pd.Series | None = None,
                 junk: np.ndarray | None = None) -> pd.DataFrame:
    """Match parsed addresses (the engine of :func:`match_addresses`).

    Parameters
    ----------
    parsed : pandas.DataFrame
        Columns of :data:`PARSED_COLUMNS` (missing columns count as empty), one row per text.
    index : AddressIndex
        The standard address library index.
    area_codes : pandas.Series, optional
        Street (9-digit) or community (12-digit) code per row (positionally aligned to ``parsed``).
    junk : numpy.ndarray of bool, optional
        Rows known to be junk (never matched).

    Returns
    -------
    pandas.DataFrame
        As :func:`match_addresses`, aligned to ``parsed.index``.
    """
    m = len(parsed)
    t = _text_keys(parsed)
    area = _area(area_codes, pd.RangeIndex(m)).to_numpy(dtype=object) if area_codes is not None else \
        np.full(m, "", dtype=object)
    junk = np.zeros(m, dtype=bool) if junk is None else np.asarray(junk, dtype=bool)
    t.loc[junk, :] = ""
    _split_area_prefix(t, index)
    resolved = {k: (index.names[k].resolve(t[k].where(t[k] != "").dropna(), FUZZY_FACTOR,
                                           STEM_FACTOR if k == "compound" else None) if (t[k] != "").any()
                    else _EMPTY) for k in ("street", "community", "road", "compound")}
    # road + compound read as one compound name, where the compound alone is not found
    alone = np.isin(np.arange(m), resolved["compound"]["tid"].to_numpy())
    jt = t["joint"].where((t["joint"] != "") & ~alone)
    if jt.notna().any():
        j = index.names["compound"].resolve(jt.dropna(), FUZZY_FACTOR, STEM_FACTOR)
        if len(j):
            resolved["compound"] = pd.concat([resolved["compound"], j], ignore_index=True)
            t.loc[j["tid"].unique(), "compound"] = t["joint"]
            t.loc[j["tid"].unique(), "road"] = ""
    cand = _candidates(t, resolved, index)
    cand = _score_candidates(cand, t, resolved, index, area)
    best = _best(cand)
    found = _descend(best, t, index)
    return _outcome(found, t, index, junk, parsed.index)


# --------------------------------------------------------------------------- steps


def _area(area_codes, index) -> pd.Series:
    """Area codes as ``str``: 9 or 12 digits kept, anything else ``""``."""
    if area_codes is None:
        return pd.Series("", index=index, dtype="str")
    a = area_codes if isinstance(area_codes, pd.Series) else pd.Series(np.asarray(area_codes, dtype=object))
    a = _str(a).str.strip()
    a = a.where(a.str.fullmatch(r"\d{9}|\d{12}"), "")
    return pd.Series(a.to_numpy(dtype=object), index=index, dtype="str")


def _col(parsed: pd.DataFrame, c: str) -> pd.Series:
    if c not in parsed:
        return pd.Series("", index=parsed.index, dtype="str")
    return _str(parsed[c]).str.strip()


def _text_keys(parsed: pd.DataFrame) -> pd.DataFrame:
    """Per text: the names as written (cleaned later by the name tables) and number keys; ``""`` when absent."""
    # plain object columns of Python strings: the matcher reads them as arrays many times, without conversions
    cols = {k: _col(parsed, k).to_numpy(dtype=object) for k in ("street", "community", "road", "compound", "county",
                                                                  "city", "province")}
    cols["remainder"] = _col(parsed, "remainder").str.replace(r"[\s\-—_,，。;；:：()（）\[\]【】]+", "",
                                                               regex=True).to_numpy(dtype=object)
    for k, suffix in (("door_no", "号"), ("building", _BUILDING_SUFFIX), ("unit", _UNIT_SUFFIX),
                      ("floor", _FLOOR_SUFFIX), ("room", _ROOM_SUFFIX)):
        cols[k] = number_key(_col(parsed, k), suffix).to_numpy(dtype=object)
    order = ("street", "community", "road", "compound", "remainder", "county", "city", "province", "door_no",
             "building", "unit", "floor", "room")
    t = pd.DataFrame({k: pd.Series(cols[k], dtype=object) for k in order}, index=pd.RangeIndex(len(parsed)))
    # 溪口胜利巷5-1-201, 八角街5栋: a number after a road with no door number and no compound numbers the door
    as_door = (t["road"] != "") & (t["door_no"] == "") & (t["compound"] == "") & (t["building"] != "")
    t.loc[as_door, "door_no"] = t.loc[as_door, "building"]
    t.loc[as_door, "building"] = ""
    # a compound named after a road (新街望城小区) that the parser split into road 新街 and compound 望城小区
    joint = (t["road"] != "") & (t["door_no"] == "") & (t["compound"] != "")
    t["joint"] = pd.Series(np.where(joint.to_numpy(), (t["road"] + t["compound"]).to_numpy(dtype=object), ""),
                           dtype=object)
    return t


def _split_area_prefix(t: pd.DataFrame, index: AddressIndex) -> None:
    """Read a street or community written into the road (``东城湖滨街``, ``北郊高庙大道``) as that area and the road.

    Where a text names no street and its road is not a road of the library, a first two (else three) characters
    that are exactly the key of a street (else of a community, when the text names none) of the library, followed
    by exactly a road of the library, are moved to the street (community). Works on the distinct roads; ``t`` is
    changed in place (``road``, ``street``, ``community`` and ``joint``).
    """
    road = t["road"].to_numpy(dtype=object)
    at = np.flatnonzero((road != "") & (t["street"].to_numpy(dtype=object) == ""))
    if not len(at):
        return
    cache = index.__dict__.setdefault("_match_codes", {})
    if "area_keys" not in cache:  # exact keys of roads, streets and communities, once per index
        cache["area_keys"] = {k: pd.Index(pd.unique(index.names[k].elements["key"].to_numpy(dtype=object)))
                              for k in ("road", "street", "community")}
    keys = cache["area_keys"]
    codes, uniques = pd.factorize(road[at])
    u = _clean(pd.Series(np.asarray(uniques, dtype=object), dtype="str"))
    pending = keys["road"].get_indexer(u.to_numpy(dtype=object)) < 0
    new_road = np.full(len(u), "", dtype=object)
    head_of = np.full(len(u), "", dtype=object)
    as_street = np.zeros(len(u), dtype=bool)
    for k in (2, 3):
        head = u.str.slice(0, k).to_numpy(dtype=object)
        rest = u.str.slice(k).to_numpy(dtype=object)
        street = keys["street"].get_indexer(head) >= 0
        community = keys["community"].get_indexer(head) >= 0
        hit = pending & (street | community) & (keys["road"].get_indexer(rest) >= 0)
        new_road[hit], head_of[hit], as_street[hit] = rest[hit], head[hit], street[hit]
        pending &= ~hit
    found = new_road[codes] != ""
    street_r = as_street[codes]
    community_r = ~street_r & (t["community"].to_numpy(dtype=object)[at] == "")
    ok = found & (street_r | community_r)
    if not ok.any():
        return
    rows = at[ok]
    t.loc[rows, "road"] = new_road[codes][ok]
    s_rows, c_rows = rows[street_r[ok]], rows[~street_r[ok]]
    t.loc[s_rows, "street"] = head_of[codes][ok][street_r[ok]]
    t.loc[c_rows, "community"] = head_of[codes][ok][~street_r[ok]]
    joint = t["joint"].to_numpy(dtype=object)[rows] != ""
    t.loc[rows[joint], "joint"] = (t["road"] + t["compound"]).to_numpy(dtype=object)[rows[joint]]


def _candidates(t: pd.DataFrame, resolved: dict, index: AddressIndex) -> pd.DataFrame:
    """Candidate elements per text: ``tid, pos`` (院落 by name, 院落/门牌建筑 by road and door number, 街路巷, 社区,
    街道 by name), distinct."""
    cache = index.__dict__.setdefault("_match_codes", {})
    parts = []
    for kind in ("compound", "road", "community", "street"):
        r = resolved[kind]
        if len(r):
            if ("names", kind) not in cache:  # the library's keys of this kind as integer codes, once per index
                e = index.names[kind].elements
                codes, uniques = pd.factorize(e["key"].to_numpy(dtype=object))
                cache[("names", kind)] = (pd.DataFrame({"k": codes.astype(np.int64), "pos": e["pos"].to_numpy()}),
                                          pd.Index(np.asarray(uniques, dtype=object)))
            e, uniques = cache[("names", kind)]
            left = pd.DataFrame({"tid": r["tid"].to_numpy(), "k": uniques.get_indexer(r["key"].to_numpy(dtype=object))})
            parts.append(left.merge(e, on="k")[["tid", "pos"]])
    r = resolved["road"]
    if len(r) and len(index.doors):
        if "doors" not in cache:  # (road, door number) of the door table as one integer code
            road_c, road_u = pd.factorize(index.doors["road_key"].to_numpy(dtype=object))
            door_c, door_u = pd.factorize(index.doors["door_no"].to_numpy(dtype=object))
            width = np.int64(len(door_u) + 1)
            cache["doors"] = (pd.DataFrame({"k": road_c.astype(np.int64) * width + door_c,
                                            "pos": index.doors["pos"].to_numpy()}),
                              pd.Index(np.asarray(road_u, dtype=object)), pd.Index(np.asarray(door_u, dtype=object)),
                              width)
        doors, road_u, door_u, width = cache["doors"]
        tid = r["tid"].to_numpy()
        rc = road_u.get_indexer(r["key"].to_numpy(dtype=object)).astype(np.int64)
        dc = door_u.get_indexer(t["door_no"].to_numpy(dtype=object)).astype(np.int64)[tid]
        ok = (rc >= 0) & (dc >= 0)
        left = pd.DataFrame({"tid": tid[ok], "k": rc[ok] * width + dc[ok]})
        parts.append(left.merge(doors, on="k")[["tid", "pos"]])
    if not parts:
        return pd.DataFrame({"tid": np.array([], dtype=np.int64), "pos": np.array([], dtype=np.int64)})
    cand = pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)
    return cand.astype({"tid": "int64", "pos": "int64"})


def _codes(index: AddressIndex, col: str) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of a key column of ``index.flat`` and the distinct keys they number (computed once per index)."""
    cache = index.__dict__.setdefault("_match_codes", {})
    if col not in cache:
        codes, uniques = pd.factorize(index.flat[col].to_numpy(dtype=object))
        cache[col] = (codes.astype(np.int64), pd.Index(np.asarray(uniques, dtype=object)))
    return cache[col]


def _agreement(tid: np.ndarray, lib_code: np.ndarray, resolved: pd.DataFrame, uniques: pd.Index) -> np.ndarray:
    """Factor of agreement of each candidate's name with the text's resolved names (0 where none agrees).

    ``lib_code`` is the candidate's key as a code of ``uniques``; the resolved ``(tid, key)`` pairs (distinct) are
    coded the same way and looked up as one sorted ``int64`` key, no string join.
    """
    if not len(tid) or not len(resolved):
        return np.zeros(len(tid))
    r_code = uniques.get_indexer(resolved["key"].to_numpy(dtype=object)).astype(np.int64)
    ok = r_code >= 0
    width = np.int64(len(uniques) + 1)
    r_key = resolved["tid"].to_numpy().astype(np.int64)[ok] * width + r_code[ok]
    if not len(r_key):
        return np.zeros(len(tid))
    order = np.argsort(r_key, kind="stable")
    r_key = r_key[order]
    r_factor = resolved["factor"].to_numpy(dtype=float)[ok][order]
    c_key = tid.astype(np.int64) * width + lib_code
    i = np.minimum(np.searchsorted(r_key, c_key), len(r_key) - 1)
    hit = (r_key[i] == c_key) & (lib_code >= 0)
    return np.where(hit, r_factor[i], 0.0)


def _score_candidates(cand: pd.DataFrame, t: pd.DataFrame, resolved: dict, index: AddressIndex,
                      area: np.ndarray) -> pd.DataFrame:
    """Anchor score of each candidate; candidates that contradict the text (or its area code) are dropped."""
    f = index.flat
    tid, p = cand["tid"].to_numpy(), cand["pos"].to_numpy()
    kind = index.kind[p]
    door_building = f["door_building"].to_numpy()[p]
    score = np.zeros(len(cand))
    keep = np.ones(len(cand), dtype=bool)
    penalty = np.zeros(len(cand), dtype=bool)
    for k, col in (("street", "street_key"), ("community", "community_key"), ("road", "road_key"),
                   ("compound", "compound_key")):
        given = (t[k].to_numpy(dtype=object) != "")[tid]
        if len(resolved[k]):
            has = np.zeros(len(t), dtype=bool)
            has[resolved[k]["tid"].to_numpy()] = True
            known = has[tid]
        else:
            known = np.zeros(len(cand), dtype=bool)
        codes, uniques = _codes(index, col)
        lib_code = codes[p]
        agree = _agreement(tid, lib_code, resolved[k], uniques)
        score += WEIGHTS[k] * agree
        if k == "compound":
            inexact_compound = given & (agree > 0) & (agree < 1)  # found by its stem or with a wrong character
        empty = uniques.get_indexer([""])[0]
        contra = given & (agree == 0) & (lib_code != empty)
        if k in ("street", "community"):
            keep &= ~(contra & known)  # a street/community the library knows, other than the candidate's
        elif k == "road":
            # a 院落 found by name on another road than written: kept, the road counts against it
            keep &= ~(contra & known & (kind != "compound"))
            penalty |= contra & known & (kind == "compound")
        else:
            keep &= ~contra  # another 院落 than the one written
            keep &= ~(given & door_building)  # the text names a 院落 where the library has a door-plate building
    # door numbers compared as codes of the library's door numbers (a text's number the library lacks: -1)
    d_codes, d_uniques = _codes(index, "door_no")
    t_door = t["door_no"].to_numpy(dtype=object)
    t_code = d_uniques.get_indexer(t_door).astype(np.int64)
    tdoor_given = (t_door != "")[tid]
    ldoor = d_codes[p]
    l_empty = d_uniques.get_indexer([""])[0]
    has_door = (kind == "compound") | door_building
    door_ok = has_door & tdoor_given & (t_code[tid] == ldoor)
    score += WEIGHTS["door_no"] * door_ok
    penalty |= has_door & tdoor_given & (ldoor != l_empty) & (t_code[tid] != ldoor)
    # a 院落 named only approximately whose road or door number also disagrees with the text: two weak signals
    # are a guess, not a match (the text falls back to what it names exactly)
    keep &= ~(penalty & inexact_compound)
    # area code: the candidate's own street (and community, for a 12-digit code) must be the text's
    a = area[tid]
    has_area = a != ""
    if has_area.any():
        sc = f["street_code"].to_numpy(dtype=object)[p]
        cc = f["community_code"].to_numpy(dtype=object)[p]
        a_street = pd.Series(a, dtype="str").str.slice(0, 9).to_numpy(dtype=object)
        in_area = (sc == a_street) & ((pd.Series(a, dtype="str").str.len().to_numpy() == 9) | (cc == a) | (cc == ""))
        keep &= ~has_area | in_area
    exact_door = door_building & door_ok & (t["compound"].to_numpy(dtype=object) == "")[tid]
    out = cand.assign(score=score, penalty=penalty, exact_door=exact_door)[keep].reset_index(drop=True)
    return out


def _best(cand: pd.DataFrame) -> pd.DataFrame:
    """Candidates with the best anchor score of their text (a tie keeps several).

    Among equal scores an element that *is* the door plate written (a 建筑物 named ``101号`` on the road) goes
    before a 院落 that only carries it as its door plate, when the text names no 院落: the text says exactly that
    门牌 and nothing more. Any other tie stays a tie.
    """
    if not len(cand):
        return cand.assign(n_best=np.zeros(0, dtype=np.int64))
    top = cand.groupby("tid")["score"].transform("max").to_numpy()
    best = cand[cand["score"].to_numpy() >= top - 1e-9].reset_index(drop=True)
    first = best.groupby("tid")["exact_door"].transform("max").to_numpy()
    best = best[best["exact_door"].to_numpy() >= first].reset_index(drop=True)
    best["n_best"] = best.groupby("tid")["pos"].transform("size").to_numpy()
    return best


def _lookup(left: pd.DataFrame, table: pd.DataFrame, parent: str, no: str, extra: tuple = ()) -> pd.DataFrame:
    """Rows of ``left`` joined with the children ``table`` on ``(parent, no)``; unmatched rows kept with -1."""
    cols = ["parent", "no", "pos", *extra]
    right = table[cols].rename(columns={"parent": parent, "no": no, "pos": "child",
                                        **{e: f"child_{e}" for e in extra}})
    out = left.merge(right, on=[parent, no], how="left")
    out["child"] = out["child"].fillna(-1).astype("int64")
    return out


def _descend(best: pd.DataFrame, t: pd.DataFrame, index: AddressIndex) -> pd.DataFrame:
    """From each best candidate down to the building, unit and room the text names (as far as the library goes).

    Returns one row per (text, anchor, finest element found): ``tid, anchor, pos, score, n_best, penalty`` and the
    flags ``building_found, unit_found, room_found``.
    """
    f = index.flat
    d = best.rename(columns={"pos": "anchor"}).copy()
    tid = d["tid"].to_numpy()
    anchor = d["anchor"].to_numpy()
    is_comp = index.kind[anchor] == "compound"
    tb = t["building"].to_numpy(dtype=object)[tid]
    # building
    d["bkey"] = np.where(is_comp, anchor, -2)
    d["tb"] = tb
    d = _lookup(d, index.buildings, "bkey", "tb")
    # a door-plate building is its own building: a building number written after it is not found
    d["bpos"] = np.where(f["door_building"].to_numpy()[d["anchor"].to_numpy()], d["anchor"].to_numpy(),
                         d["child"].to_numpy())
    d["building_found"] = (d["child"].to_numpy() >= 0)
    d = d.drop(columns=["child", "bkey", "tb"])
    tid = d["tid"].to_numpy()
    # unit
    d["tu"] = t["unit"].to_numpy(dtype=object)[tid]
    d = _lookup(d, index.units, "bpos", "tu")
    d["upos"] = np.where(d["bpos"].to_numpy() >= 0, d["child"].to_numpy(), -1)
    d = d.drop(columns=["child"])
    # room (its unit must be the one written, when one is written)
    d["tr"] = t["room"].to_numpy(dtype=object)[d["tid"].to_numpy()]
    d = _lookup(d, index.rooms, "bpos", "tr", extra=("unit_no", "floor_no"))
    tu = d["tu"].to_numpy(dtype=object)
    tf = t["floor"].to_numpy(dtype=object)[d["tid"].to_numpy()]
    ok = (d["child"].to_numpy() >= 0) & (d["bpos"].to_numpy() >= 0)
    ok &= (tu == "") | (d["child_unit_no"].fillna("").to_numpy(dtype=object) == tu)
    ok &= (tf == "") | (d["child_floor_no"].fillna("").to_numpy(dtype=object) == "") | \
        (d["child_floor_no"].fillna("").to_numpy(dtype=object) == tf)
    d["rpos"] = np.where(ok, d["child"].to_numpy(), -1)
    d = d.drop(columns=["child", "child_unit_no", "child_floor_no"])
    # a room that did not pass leaves one row per anchor/unit (not one per non-matching room)
    d = d.sort_values("rpos", ascending=False).drop_duplicates(["tid", "anchor", "upos", "rpos"])
    has_room = d.groupby(["tid", "anchor"])["rpos"].transform("max").to_numpy() >= 0
    d = d[(d["rpos"].to_numpy() >= 0) | ~has_room]
    has_unit = d.groupby(["tid", "anchor"])["upos"].transform("max").to_numpy() >= 0
    d = d[(d["upos"].to_numpy() >= 0) | ~has_unit | (d["rpos"].to_numpy() >= 0)]
    bp, up, rp = d["bpos"].to_numpy(), d["upos"].to_numpy(), d["rpos"].to_numpy()
    d["pos"] = np.where(rp >= 0, rp, np.where(up >= 0, up, np.where(bp >= 0, bp, d["anchor"].to_numpy())))
    d["unit_found"] = up >= 0
    d["room_found"] = rp >= 0
    d = d.drop_duplicates(["tid", "pos"]).reset_index(drop=True)
    return d


def _rank_of(index: AddressIndex, pos: np.ndarray) -> np.ndarray:
    """Rank of the elements at ``pos`` (finer = higher; :data:`MATCH_LEVELS` order reversed)."""
    kind = index.kind[pos]
    door_b = index.flat["door_building"].to_numpy()[pos]
    rank = np.select([kind == "room", kind == "unit", kind == "floor", (kind == "building") & ~door_b,
                      door_b | (kind == "compound"), kind == "road", kind == "community", kind == "street"],
                     [_R_ROOM, _R_UNIT, _R_UNIT, _R_BUILDING, _R_DOOR, _R_ROAD, _R_COMMUNITY, _R_STREET], 0)
    return rank


def _level_of(index: AddressIndex, pos: np.ndarray) -> np.ndarray:
    """Chinese match level of the elements at ``pos``."""
    kind = index.kind[pos]
    door_b = index.flat["door_building"].to_numpy()[pos]
    return np.select([kind == "room", kind == "unit", kind == "floor", (kind == "building") & ~door_b, door_b,
                      kind == "compound", kind == "road", kind == "community", kind == "street"],
                     ["户室", "单元", "单元", "建筑物", "门牌", "院落", "街路巷", "社区", "街道"], "")


def _text_rank(t: pd.DataFrame) -> np.ndarray:
    """Finest element each text describes (0: nothing below the county)."""
    g = {k: t[k].to_numpy(dtype=object) != "" for k in ("street", "community", "road", "door_no", "compound",
                                                         "building", "unit", "room")}
    return np.select([g["room"], g["unit"], g["building"], (g["door_no"] & g["road"]) | g["compound"], g["road"],
                      g["community"], g["street"]],
                     [_R_ROOM, _R_UNIT, _R_BUILDING, _R_DOOR, _R_ROAD, _R_COMMUNITY, _R_STREET], 0)


def _outcome(d: pd.DataFrame, t: pd.DataFrame, index: AddressIndex, junk: np.ndarray, out_index) -> pd.DataFrame:
    """Statuses, levels, scores, candidates and reasons per text."""
    m = len(t)
    ids = index.flat["address_id"].to_numpy(dtype=object)
    # total weight of what each text gives
    w_total = np.zeros(m)
    for k in ("street", "community", "road", "door_no", "compound", "building", "unit", "room", "remainder"):
        w_total += WEIGHTS[k] * (t[k].to_numpy(dtype=object) != "")
    trank = _text_rank(t)

    status = np.full(m, "unmatched", dtype=object)
    address = np.full(m, None, dtype=object)
    level = np.full(m, None, dtype=object)
    score = np.zeros(m)
    reason = np.full(m, "", dtype=object)
    cands = np.empty(m, dtype=object)

    if len(d):
        tid = d["tid"].to_numpy()
        pos = d["pos"].to_numpy()
        s = d["score"].to_numpy() + WEIGHTS["building"] * (d["building_found"].to_numpy() &
                                                           (t["building"].to_numpy(dtype=object)[tid] != "")) \
            + WEIGHTS["unit"] * d["unit_found"].to_numpy() + WEIGHTS["room"] * d["room_found"].to_numpy()
        s = np.clip(s / np.maximum(w_total[tid], 1e-9), 0, 1)
        d = d.assign(final=s, id=ids[pos])
        n = d.groupby("tid")["pos"].transform("size").to_numpy()
        one = d[n == 1]
        many = d[n > 1]
        # unique result
        ut = one["tid"].to_numpy()
        up = one["pos"].to_numpy()
        rank = _rank_of(index, up)
        full = rank >= trank[ut]
        status[ut] = np.where(full, "matched", "partial")
        address[ut] = one["id"].to_numpy(dtype=object)
        level[ut] = _level_of(index, up)
        score[ut] = one["final"].to_numpy()
        reason[ut] = _partial_reason(one, t, index, full)
        # a remainder the parser could not read that carries digits may describe a finer element
        rem = t["remainder"].to_numpy(dtype=object)[ut]
        digits = np.zeros(len(ut), dtype=bool)
        some = np.flatnonzero(rem != "")
        digits[some] = pd.Series(rem[some], dtype="str").str.contains(r"\d").to_numpy(dtype=bool)
        unread = full & digits & (status[ut] == "matched")
        status[ut[unread]] = "partial"
        reason[ut[unread]] = "地址中有未能识别的部分：" + pd.Series(rem[unread], dtype="str") + "，已匹配到可识别的最细一级"
        # ties
        if len(many):
            g = many.sort_values(["tid", "id"]).groupby("tid")
            lists = g["id"].agg(list)
            mt = lists.index.to_numpy()
            status[mt] = "ambiguous"
            score[mt] = g["final"].max().to_numpy()
            cands[mt] = lists.to_numpy()
            lv = pd.DataFrame({"tid": many["tid"].to_numpy(), "lv": _level_of(index, many["pos"].to_numpy())})
            lv = lv.drop_duplicates().sort_values(["tid", "lv"])  # the distinct levels of each text's candidates
            kinds = lv.groupby("tid")["lv"].agg("、".join).reindex(mt)
            reason[mt] = ("有" + g["pos"].size().astype(str).to_numpy(dtype=object) + "个同等的候选地址（"
                          + kinds.to_numpy(dtype=object) + "），无法确定；请补充街道、社区或门牌，或提供区划代码")
    single = np.flatnonzero((status == "matched") | (status == "partial"))
    _set_lists(cands, single, address[single].reshape(-1, 1).tolist())
    none_ = np.flatnonzero(status == "unmatched")
    _set_lists(cands, none_, [[] for _ in none_])
    none = status == "unmatched"
    reason[none & junk] = "地址文本为空或无效（如“暂无”“同上”“不详”），无法匹配，需核实"
    nothing = none & ~junk & (trank == 0)
    reason[nothing] = "未识别出街道、社区、街路巷或小区等地址要素，无法匹配，需核实"
    rest = none & ~junk & (trank > 0)
    reason[rest] = _unmatched_reason(t, rest)
    out = pd.DataFrame({"address_id": pd.array(address, dtype="string"), "status": status,
                        "match_level": pd.array(level, dtype="string"), "score": score.round(3),
                        "candidates": cands, "reason": pd.array(np.where(reason == "", None, reason), dtype="string")},
                       index=out_index)
    return out


def _set_lists(target: np.ndarray, where: np.ndarray, lists: list) -> None:
    """Put one list per position into an object array (numpy would broadcast a list of lists into a 2-D array)."""
    if len(lists):
        target[where] = pd.Series(lists, dtype=object).to_numpy()


def _first_missing(t: pd.DataFrame, tid: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first element finer than ``rank`` the text gives: (element name, value as written)."""
    order = [("compound", _R_DOOR), ("door_no", _R_DOOR), ("building", _R_BUILDING), ("unit", _R_UNIT),
             ("room", _R_ROOM), ("road", _R_ROAD), ("community", _R_COMMUNITY)]
    el = np.full(len(tid), "", dtype=object)
    val = np.full(len(tid), "", dtype=object)
    for k, r in sorted(order, key=lambda x: x[1]):
        v = t[k].to_numpy(dtype=object)[tid]
        sel = (el == "") & (v != "") & (r > rank)
        el[sel] = k
        val[sel] = v[sel]
    return el, val


def _partial_reason(one: pd.DataFrame, t: pd.DataFrame, index: AddressIndex, full: np.ndarray) -> np.ndarray:
    """Chinese reason per unique result: the element not found (partial), or a note on disagreeing parts."""
    part_at = np.flatnonzero(~np.asarray(full, dtype=bool))  # the reason text is built for partial results only
    tid = one["tid"].to_numpy()[part_at]
    pos = one["pos"].to_numpy()[part_at]
    rank = _rank_of(index, pos)
    el, val = _first_missing(t, tid, rank)
    suffix = {"door_no": "号", "building": "栋", "unit": "单元", "room": "室"}
    label = pd.Series(el, dtype="str").map(_ELEMENT_ZH).fillna("地址要素").to_numpy(dtype=object)
    shown = pd.Series(val, dtype="str") + pd.Series(el, dtype="str").map(suffix).fillna("")
    level = _level_of(index, pos)
    part = ("标准地址库中未找到" + pd.Series(label, dtype="str") + "“" + shown + "”，只匹配到" + pd.Series(level, dtype="str")
            + "一级").to_numpy(dtype=object)
    out = np.where(one["penalty"].to_numpy(), "小区名称匹配，但所写街路巷或门牌号与标准地址不一致，请核实", "").astype(object)
    out[part_at] = part
    return out


def _unmatched_reason(t: pd.DataFrame, sel: np.ndarray) -> np.ndarray:
    """Reason for texts with address elements none of which the library holds (or all contradict each other)."""
    idx = np.flatnonzero(sel)
    parts = []
    for k in ("street", "community", "road", "compound"):
        v = pd.Series(t[k].to_numpy(dtype=object)[idx], dtype="str")
        parts.append(("" + _ELEMENT_ZH[k] + "“" + v + "”").where(v != "", ""))
    names = parts[0]
    for p in parts[1:]:
        names = names.where(p == "", names.where(names == "", names + "、") + p)
    return ("标准地址库中找不到与所写" + names + "一致的地址（或所写要素相互矛盾），需实地核验").to_numpy(dtype=object)
