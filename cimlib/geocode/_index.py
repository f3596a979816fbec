"""The standard address library as a matching index: one row per address with its chain, name keys, blocking tables.

:class:`AddressIndex` flattens the element tree of the standard-address table (schema ``addresses``; element types
of :mod:`cimlib.codes.address`) into one row per address carrying the positions of its ancestors — 街道, 社区/村,
街路巷, 院落 (小区), 建筑物, 单元, 楼层 — found with one vectorized parent lookup per tree level, never by recursion
per row. From the chain it derives the keys a free-text address is compared with (normalized names, door numbers,
building/unit/room numbers) and the blocking tables the matcher joins on:

* names per kind (``street``, ``community``, ``road``, ``compound``) -> elements, with a symmetric-deletion key
  index over the distinct full names for one wrong character (verified with ``rapidfuzz`` Levenshtein distance);
* ``(road, door_no)`` -> the 院落 whose door plate it is, or the 建筑物 that carries it as its name (``八角街2号``);
* ``(compound, building)``, ``(building, unit)`` and ``(building, room)`` -> elements.

Everything is computed once per library; the matcher (:mod:`cimlib.geocode.match`) only joins against it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist

from cimlib.lookup import index_in

__all__ = ["AddressIndex", "name_key", "number_key", "FUZZY_MIN_CHARS"]

FUZZY_MIN_CHARS = 3
"""Names shorter than this (in characters) are never matched with a wrong character (too many near neighbours)."""

KINDS = ("street", "community", "road", "compound")
"""Kinds of names a text is compared with."""

_STREET_TYPES = ("21", "22", "23")
_COMMUNITY_TYPES = ("31", "32", "33", "34")
_ROAD_TYPES = ("41",)
_COMPOUND_TYPES = ("42", "43", "44")

#: Generic suffixes dropped from a name to form its key (a name written with or without them is the same name).
_SUFFIX = {
    "street": r"(?:街道办事处|街道办|办事处|街道|镇|乡)$",
    "community": r"(?:社区居民委员会|社区居委会|居民委员会|村民委员会|社区居委|居委会|村委会|社区|村)$",
    "road": None,  # 先锋路 and 先锋街 are different roads: the generic part is part of the name
    "compound": r"(?:小区)$",
}
_SPACE = re.compile(r"[\s\u3000·•．.、,，]+")
#: Generic words a compound's name may be written without (``交通杏林`` for ``交通杏林小区``, ``紫阳五四`` for
#: ``紫阳五四花园``): the rest is the compound's *stem*.
_COMPOUND_GENERIC = re.compile(r"(?:小区|花园|公寓|新村|家园|佳苑|雅苑|名苑|华苑|苑|华府|公馆|山庄|雅居|广场|大厦|城|庭|院|府|里"
                               r"|园|居)$")


def _str(values, index=None) -> pd.Series:
    """``values`` as a ``str`` Series with missing values as ``""``."""
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object), index=index)
    return s.astype("str").fillna("") if s.dtype != "str" else s.fillna("")


def _on_distinct(s: pd.Series, fn) -> pd.Series:
    """``fn`` applied to the distinct values of ``s`` only (names and numbers repeat a lot), mapped back."""
    s = _str(s)
    codes, uniques = pd.factorize(s)
    if len(uniques) * 2 > len(s):
        return fn(s)
    done = fn(pd.Series(np.asarray(uniques, dtype=object), dtype="str")).to_numpy(dtype=object)
    return pd.Series(np.where(codes >= 0, done[np.maximum(codes, 0)], ""), index=s.index, dtype="str")


def _clean_all(s: pd.Series) -> pd.Series:
    return s.str.normalize("NFKC").str.replace(_SPACE.pattern, "", regex=True).str.upper()


def _clean(s: pd.Series) -> pd.Series:
    """NFKC (full-width to half-width), spaces and light punctuation removed, Latin letters upper-cased."""
    return _on_distinct(s, _clean_all)


def name_key(names: pd.Series, kind: str) -> pd.Series:
    """Normalized key of names of one kind: cleaned, with the kind's generic suffix dropped.

    ``西城街道`` and ``西城`` share the key ``西城``; ``民主社区``, ``民主社区居委会`` and ``民主`` share ``民主``;
    ``白云小区`` and ``白云`` share ``白云``. Road names keep their generic part (``先锋路`` is not ``先锋街``). A
    suffix is dropped only when at least two characters remain (``新村`` stays ``新村``).

    Parameters
    ----------
    names : pandas.Series
        Names as written (missing values allowed).
    kind : str
        One of :data:`KINDS`.

    Returns
    -------
    pandas.Series
        ``str`` keys aligned to ``names`` (``""`` for missing names).
    """
    pattern = _SUFFIX[kind]

    def key(s):
        s = _clean_all(s)
        if pattern is None:
            return s
        stripped = s.str.replace(pattern, "", regex=True)
        return stripped.where(stripped.str.len() >= 2, s)

    return _on_distinct(names, key)


def number_key(values: pd.Series, suffix: str = "") -> pd.Series:
    """Key of a number-like element (door number, building, unit, floor, room): cleaned, ``suffix`` (a regex of
    generic words such as ``栋|幢|号楼``) dropped, leading zeros of a pure number dropped (``0501`` -> ``501``).

    Parameters
    ----------
    values : pandas.Series
    suffix : str, optional
        Regular expression of generic trailing words to drop.

    Returns
    -------
    pandas.Series
        ``str`` keys (``""`` where missing).
    """
    def key(s):
        s = _clean_all(s)
        if suffix:
            s = s.str.replace(f"(?:{suffix})$", "", regex=True)
        digits = s.str.fullmatch(r"\d+")
        return s.where(~digits, s.str.lstrip("0").where(s.str.lstrip("0") != "", "0"))

    return _on_distinct(values, key)


_BUILDING_SUFFIX = r"号楼|栋|幢|座|#楼|#|楼|号"
_UNIT_SUFFIX = r"单元|门"
_FLOOR_SUFFIX = r"层|楼"
_ROOM_SUFFIX = r"室|户|房间|房|号"
_DOOR = re.compile(r"^(?P<road>.*?)(?P<door>\d+(?:[-之]\d+)?)号?$")


def _deletion_keys(names: pd.Series) -> pd.DataFrame:
    """Symmetric-deletion keys of ``names`` (each name itself and every form with one character deleted).

    Two names within Levenshtein distance 1 share at least one key. Vectorized over the names: one string slice
    per character position.

    Returns
    -------
    pandas.DataFrame
        ``row`` (position in ``names``) and ``key``.
    """
    s = _str(names).reset_index(drop=True)
    n = s.str.len().to_numpy()
    parts = [pd.DataFrame({"row": np.arange(len(s)), "key": s.to_numpy(dtype=object)})]
    for i in range(int(n.max()) if len(n) else 0):
        sel = np.flatnonzero(n > i)
        sub = s.iloc[sel]
        parts.append(pd.DataFrame({"row": sel, "key": (sub.str.slice(0, i) + sub.str.slice(i + 1)).to_numpy(dtype=object)}))
    out = pd.concat(parts, ignore_index=True)
    return out.drop_duplicates()


def _take(values, pos, fill=""):
    """``values[pos]`` where ``pos >= 0``, else ``fill``."""
    values = np.asarray(values, dtype=object)
    return np.where(pos >= 0, values[np.maximum(pos, 0)], fill)


def _repair_parents(ppos: np.ndarray, etype: np.ndarray, a: pd.DataFrame, name: pd.Series,
                    plate: pd.Series) -> np.ndarray:
    """Attach elements whose parent is missing (ADR-003) by their full address.

    The full address of an element is its parent's full address followed by its door plate and name (ADR-007), so
    an orphan's parent is the one element whose full address is the orphan's without that tail. Elements of the top
    level (the county) and orphans whose parent cannot be found that way stay orphans.
    """
    if "full_address" not in a:
        return ppos
    orphan = (ppos < 0) & ~np.isin(etype, ("11", "12", "13"))
    if not orphan.any():
        return ppos
    full = _str(a["full_address"])
    tail = pd.Series((plate + name).to_numpy(dtype=object)[orphan], dtype="str")
    own = pd.Series(full.to_numpy(dtype=object)[orphan], dtype="str")
    lens = tail.str.len().to_numpy()
    parent_full = pd.Series("", index=own.index, dtype="str")
    for k in np.unique(lens[lens > 0]):  # one vectorized slice per distinct tail length
        sel = lens == k
        cut = own[sel].str.slice(0, -int(k))
        parent_full[sel] = cut.where(own[sel].str.slice(-int(k)) == tail[sel], "")
    unique_full = ~full.duplicated(keep=False) & (full != "")
    where = np.flatnonzero(unique_full.to_numpy())
    pos = index_in(parent_full.where(parent_full != ""), full.iloc[where])
    out = ppos.copy()
    found = pos >= 0
    out[np.flatnonzero(orphan)[found]] = where[pos[found]]
    return out


class _NameTable:
    """Elements of one kind by name: exact keys and a deletion index of full names for one wrong character."""

    def __init__(self, kind: str, pos: np.ndarray, names: pd.Series):
        self.kind = kind
        full = _clean(names).to_numpy(dtype=object)
        key = name_key(pd.Series(full), kind).to_numpy(dtype=object)
        keep = key != ""
        self.elements = pd.DataFrame({"pos": pos[keep], "key": key[keep], "full": full[keep]})
        # distinct full names, each with its key, for the fuzzy lookup
        fulls = self.elements.drop_duplicates("full")[["full", "key"]].reset_index(drop=True)
        fulls = fulls[fulls["full"].str.len() >= FUZZY_MIN_CHARS].reset_index(drop=True)
        self.fulls = fulls
        dk = _deletion_keys(fulls["full"])
        self.deletions = dk.rename(columns={"row": "lib_row"})
        self.stems = self._stems() if kind == "compound" else pd.Series([], dtype=object)

    def _stems(self) -> pd.Series:
        """Key of the one compound each stem denotes (index: the stem).

        A stem is a full name without its generic word (:data:`_COMPOUND_GENERIC`) when at least two characters
        remain. It is kept only when exactly one distinct full name has it and it is no compound's full name or key
        (``花园`` of ``花园小区`` and ``花园新村`` names neither).
        """
        fulls = self.elements.drop_duplicates("full")[["full", "key"]].reset_index(drop=True)
        stem = fulls["full"].str.replace(_COMPOUND_GENERIC.pattern, "", regex=True)
        ok = (stem.str.len() >= 2) & (stem != fulls["full"])
        table = pd.DataFrame({"stem": stem[ok].to_numpy(dtype=object), "key": fulls["key"][ok].to_numpy(dtype=object)})
        taken = pd.Index(pd.unique(np.r_[fulls["full"].to_numpy(dtype=object), fulls["key"].to_numpy(dtype=object)]))
        table = table[~table["stem"].duplicated(keep=False).to_numpy()
                      & (taken.get_indexer(table["stem"].to_numpy(dtype=object)) < 0)]
        return pd.Series(table["key"].to_numpy(dtype=object), index=pd.Index(table["stem"].to_numpy(dtype=object)))

    def resolve(self, names: pd.Series, fuzzy_factor: float, stem_factor: float | None = None) -> pd.DataFrame:
        """Keys of library names that ``names`` denote: exactly (by key), else by a compound's stem (the name
        written without its generic word, when ``stem_factor`` is given), else with one wrong character.

        Parameters
        ----------
        names : pandas.Series
            Names as written, one per text (index = text id); missing or empty names are skipped.
        fuzzy_factor : float
            Agreement factor given to a name reached with one wrong character (an exact key gets 1.0).
        stem_factor : float, optional
            Agreement factor given to a compound reached by its stem (see :meth:`_stems`); ``None``: stems unused.

        Returns
        -------
        pandas.DataFrame
            ``tid`` (index label of ``names``), ``key`` (library key) and ``factor``; one row per distinct pair
            with the best factor. Work is done on the distinct names, not per text.
        """
        s = _clean(names)
        s = s[s != ""]
        if not len(s):
            return pd.DataFrame({"tid": np.array([], dtype=np.int64), "key": np.array([], dtype=object),
                                 "factor": np.array([], dtype=float)})
        distinct = pd.Series(pd.unique(s.to_numpy(dtype=object)))
        dkey = name_key(distinct, self.kind)
        lib_keys = pd.Index(pd.unique(self.elements["key"].to_numpy(dtype=object)))
        exact = lib_keys.get_indexer(dkey.to_numpy(dtype=object)) >= 0
        rows = [pd.DataFrame({"name": distinct[exact].to_numpy(dtype=object), "key": dkey[exact].to_numpy(dtype=object),
                              "factor": 1.0})]
        if stem_factor is not None and len(self.stems):
            at = self.stems.index.get_indexer(dkey.to_numpy(dtype=object))
            stem = ~exact & (at >= 0)
            rows.append(pd.DataFrame({"name": distinct[stem].to_numpy(dtype=object),
                                      "key": self.stems.to_numpy(dtype=object)[at[stem]], "factor": stem_factor}))
            exact = exact | stem  # a stem hit is not looked for with a wrong character
        # one wrong character: deletion keys of the distinct names joined with the library's, verified by distance
        # (only for names the library does not hold exactly: 东城街道 is not a misspelt 西城街道)
        long = distinct[~exact & (distinct.str.len() >= FUZZY_MIN_CHARS).to_numpy()].reset_index(drop=True)
        if len(long) and len(self.fulls):
            qk = _deletion_keys(long).rename(columns={"row": "q_row"})
            pairs = qk.merge(self.deletions, on="key")[["q_row", "lib_row"]].drop_duplicates()
            if len(pairs):
                q = long.to_numpy(dtype=object)[pairs["q_row"].to_numpy()]
                lib = self.fulls["full"].to_numpy(dtype=object)[pairs["lib_row"].to_numpy()]
                dist = cpdist(list(q), list(lib), scorer=Levenshtein.distance, workers=1)
                ok = (dist <= 1) & (q != lib)
                rows.append(pd.DataFrame({"name": q[ok], "key": self.fulls["key"].to_numpy(dtype=object)[
                    pairs["lib_row"].to_numpy()[ok]], "factor": fuzzy_factor}))
        found = pd.concat(rows, ignore_index=True)
        found = found.sort_values("factor", ascending=False).drop_duplicates(["name", "key"])
        per_text = pd.DataFrame({"tid": s.index.to_numpy(), "name": s.to_numpy(dtype=object)})
        out = per_text.merge(found, on="name")[["tid", "key", "factor"]]
        return out.sort_values("factor", ascending=False).drop_duplicates(["tid", "key"]).reset_index(drop=True)


class AddressIndex:
    """The standard-address element table flattened for matching (build once, match many times).

    Parameters
    ----------
    addresses : pandas.DataFrame
        Standard-address element table (schema ``addresses``): ``address_id, parent_id, element_type, name,
        street_code, community_code`` and optionally ``door_plate``, ``full_address``. Extra columns are ignored.

    Attributes
    ----------
    flat : pandas.DataFrame
        One row per address (row ``i`` is the ``i``-th row of ``addresses``): ``address_id, etype, full_address,
        street_code, community_code``, ancestor positions ``street_pos, community_pos, road_pos, compound_pos,
        building_pos, unit_pos, floor_pos`` (-1 when none; an element is its own ancestor of its type) and the keys
        ``street_key, community_key, road_key, door_no, compound_key, building_no, unit_no, floor_no, room_no``.
    names : dict of str to _NameTable
        Elements by name per kind (:data:`KINDS`).
    doors : pandas.DataFrame
        ``road_key, door_no, pos``: 院落 by their door plate and 建筑物 named by a door number on a road.
    buildings, units, rooms, floors : pandas.DataFrame
        Children tables for the descent: ``parent, no, pos`` (``rooms`` also ``unit_no``, ``floor_no``).
    """

    def __init__(self, addresses: pd.DataFrame):
        a = addresses.reset_index(drop=True)
        n = len(a)
        ids = _str(a["address_id"])
        etype = _str(a["element_type"]).to_numpy(dtype=object)
        name = _str(a["name"]) if "name" in a else pd.Series("", index=a.index)
        plate = _str(a["door_plate"]) if "door_plate" in a else pd.Series("", index=a.index)
        ppos = index_in(_str(a["parent_id"]) if "parent_id" in a else pd.Series("", index=a.index), ids)
        ppos = np.where(ppos == np.arange(n), -1, ppos)  # a self-parent is no parent
        ppos = _repair_parents(ppos, etype, a, name, plate)

        slots = {"street": _STREET_TYPES, "community": _COMMUNITY_TYPES, "road": _ROAD_TYPES,
                 "compound": _COMPOUND_TYPES, "building": ("50",), "unit": ("61",), "floor": ("63",), "room": ("62",)}
        kind_of = np.full(n, "", dtype=object)
        for slot, types in slots.items():
            kind_of[np.isin(etype, types)] = slot
        anc = {slot: np.full(n, -1, dtype=np.int64) for slot in slots}
        cur = np.arange(n, dtype=np.int64)
        alive = np.ones(n, dtype=bool)
        for _ in range(16):  # level by level up the tree; a cycle stops after 16 steps
            idx = np.flatnonzero(alive)
            if not len(idx):
                break
            c = cur[idx]
            k = kind_of[c]
            for slot in slots:
                sel = (k == slot) & (anc[slot][idx] < 0)
                anc[slot][idx[sel]] = c[sel]
            nxt = ppos[c]
            alive[idx[nxt < 0]] = False
            cur[idx] = np.maximum(nxt, 0)

        # own keys of each element
        door_m = _clean(plate).str.extract(_DOOR)
        own_plate_road = name_key(door_m["road"].fillna(""), "road").to_numpy(dtype=object)
        own_plate_door = number_key(door_m["door"].fillna("")).to_numpy(dtype=object)
        bname = number_key(name, _BUILDING_SUFFIX).to_numpy(dtype=object)
        is_building = etype == "50"
        # a building named by a door number on a road (八角街2号): its name is a door number, not a building number
        door_building = is_building & (anc["compound"] < 0) & (anc["road"] >= 0) & \
            _clean(name).str.fullmatch(r"\d+(?:[-之]\d+)?号").to_numpy()
        door_building |= is_building & (anc["compound"] < 0) & (own_plate_door != "")

        keys = {kind: name_key(name, kind).to_numpy(dtype=object) for kind in KINDS}
        flat = pd.DataFrame({"address_id": ids.to_numpy(dtype=object), "etype": etype})
        flat["full_address"] = (_str(a["full_address"]) if "full_address" in a else name).to_numpy(dtype=object)
        for c in ("street_code", "community_code"):
            flat[c] = (_str(a[c]) if c in a else pd.Series("", index=a.index)).to_numpy(dtype=object)
        for slot in slots:
            if slot != "room":
                flat[f"{slot}_pos"] = anc[slot]
        flat["street_key"] = _take(keys["street"], anc["street"])
        flat["community_key"] = _take(keys["community"], anc["community"])
        # road of an address: its 街路巷 ancestor, else the road of its 院落's (or its building's) door plate
        road_own = np.where(kind_of == "road", keys["road"], own_plate_road)
        road_own = np.where(door_building & (road_own == ""), _take(keys["road"], anc["road"]), road_own)
        door_own = np.where(door_building & (own_plate_door == ""), number_key(name, "号").to_numpy(dtype=object),
                            own_plate_door)
        door_holder = np.where(anc["compound"] >= 0, anc["compound"],
                               np.where(door_building[np.maximum(anc["building"], 0)] & (anc["building"] >= 0),
                                        anc["building"], -1))
        plate_road = _take(road_own, door_holder)
        flat["road_key"] = np.where(plate_road != "", plate_road, _take(keys["road"], anc["road"]))
        flat["door_no"] = _take(door_own, door_holder)
        flat["compound_key"] = _take(keys["compound"], anc["compound"])
        flat["building_no"] = np.where(door_building[np.maximum(anc["building"], 0)], "",
                                       _take(bname, anc["building"]))
        flat["unit_no"] = _take(number_key(name, _UNIT_SUFFIX).to_numpy(dtype=object), anc["unit"])
        room_no = number_key(name, _ROOM_SUFFIX).to_numpy(dtype=object)
        flat["room_no"] = _take(room_no, anc["room"])
        floor_own = number_key(name, _FLOOR_SUFFIX).to_numpy(dtype=object)
        floor_from_room = pd.Series(flat["room_no"]).str.extract(r"^(\d+)\d\d$", expand=False).fillna("")
        floor_from_room = number_key(floor_from_room).to_numpy(dtype=object)
        flat["floor_no"] = np.where(anc["floor"] >= 0, _take(floor_own, anc["floor"]), floor_from_room)
        flat["door_building"] = door_building
        self.flat = flat
        self.kind = kind_of
        self.n = n

        # ------------------------------------------------------------------ blocking tables
        pos = np.arange(n)
        self.names = {kind: _NameTable(kind, pos[np.isin(etype, slots[kind])], name[np.isin(etype, slots[kind])])
                      for kind in KINDS}
        holders = (kind_of == "compound") | door_building
        doors = pd.DataFrame({"road_key": road_own[holders], "door_no": door_own[holders], "pos": pos[holders]})
        # a building under a road inherits the road's name; a 院落 names its road in its door plate
        doors = doors[(doors["road_key"] != "") & (doors["door_no"] != "")]
        self.doors = doors.reset_index(drop=True)
        b = is_building & ~door_building & (anc["compound"] >= 0)
        self.buildings = pd.DataFrame({"parent": anc["compound"][b], "no": bname[b], "pos": pos[b]})
        u = etype == "61"
        self.units = pd.DataFrame({"parent": anc["building"][u], "no": flat["unit_no"].to_numpy()[u], "pos": pos[u]})
        r = etype == "62"
        self.rooms = pd.DataFrame({"parent": anc["building"][r], "no": room_no[r], "pos": pos[r],
                                   "unit_no": flat["unit_no"].to_numpy()[r],
                                   "floor_no": flat["floor_no"].to_numpy()[r]})
        f = etype == "63"
        self.floors = pd.DataFrame({"parent": anc["building"][f], "no": floor_own[f], "pos": pos[f],
                                    "unit_no": flat["unit_no"].to_numpy()[f]})
        self.has_floors = bool(f.any())
