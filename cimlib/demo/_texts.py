"""Free-text addresses written the ways people write them, from the true standard address (sample city truth).

The 实有人口 and 实有单位 registers of the sample city carry an ``address_text`` (居住地址, 经营地址), and the
delivered 实有房屋 a ``房屋地址``: each is composed from the record's true standard address in one of the forms of
:data:`FORMS`: full; without 省 (``no_province``); without 省市区 (``no_prefix``); without the community; the 小区
alone with building, unit and room (``compound_only``; ``road_only`` when the address is on a road); ``8-1-501``
(``dash``); Chinese numerals (``三单元``, ``八栋``); full-width digits; 幢/号楼/座 for 栋 and 户 or nothing for 室
(``variant``); a remark (附近, （出租屋）…); one wrong character in the community, road or 小区 name (``typo``);
``junk`` (暂无, 同上 …); and ``not_in_library``, a plausible address on a real road in a 小区 that does not exist.
The truth of each text is its true standard address (``address_id``; null for junk written for a record without one
and for ``not_in_library``) and its ``form``, so tests measure the precision and recall of address matching.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cimlib.codes.divisions import written_name
from cimlib.demo._names import PLACE_WORDS
from cimlib.lookup import index_in

FORMS = ("full", "no_province", "no_prefix", "no_community", "compound_only", "road_only", "dash", "chinese_numerals",
         "fullwidth", "variant", "remark", "typo", "junk", "not_in_library")
"""Labels of the free-text address forms (``form`` of ``truth/address_texts.parquet`` and ``truth/delivery_addresses.parquet``)."""

_PERSON_FORMS = {"full": 0.14, "no_province": 0.08, "no_prefix": 0.14, "no_community": 0.08, "compound_only": 0.10,
                 "dash": 0.08, "chinese_numerals": 0.07, "fullwidth": 0.06, "variant": 0.08, "remark": 0.07,
                 "typo": 0.06, "junk": 0.04}
_UNIT_FORMS = {"full": 0.22, "no_province": 0.12, "no_prefix": 0.16, "no_community": 0.08, "compound_only": 0.10,
               "chinese_numerals": 0.04, "fullwidth": 0.05, "variant": 0.05, "remark": 0.10, "typo": 0.05, "junk": 0.03}
_HOUSE_FORMS = {"full": 0.55, "no_province": 0.25, "no_prefix": 0.20}
_PERSON_REMARKS = ["附近", "（出租屋）", "旁", "对面", "（租住）", "后面", "（暂住）"]
_UNIT_REMARKS = ["一楼门面", "（门面房）", "附近", "二楼", "临街门面", "负一楼"]
_JUNK = ["暂无", "同上", "不详", "无", "/", "见户籍地址", "待核实", "-"]
_FAKE_SUFFIX = ["华府", "名都", "御景园", "锦城", "书香苑", "尚品"]  # not among the generator's compound suffixes
_TYPO = {"苑": "园", "佳": "家", "雅": "亚", "华": "化", "园": "圆", "城": "成", "阳": "扬", "湾": "弯", "龙": "隆",
         "凤": "风", "兴": "星", "桥": "乔", "林": "琳", "泉": "全", "源": "原", "明": "名", "光": "广", "星": "兴",
         "岗": "冈", "庙": "妙", "店": "点", "关": "官", "门": "们", "里": "理", "清": "青", "新": "心", "花": "华",
         "金": "今", "银": "印", "松": "送", "山": "三", "河": "何", "湖": "胡", "路": "露", "街": "接", "村": "材",
         "区": "曲", "社": "杜"}
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_CN_DIGITS = "零一二三四五六七八九"


def _truth_texts(dataset: str, ids: pd.Series, texts: pd.DataFrame) -> pd.DataFrame:
    """Truth rows of one register's texts (``dataset, record_id, address_id, text, form``; a missing true address
    stays missing)."""
    out = pd.DataFrame({"dataset": dataset, "record_id": ids.to_numpy(dtype=object)})
    for c in ("address_id", "text", "form"):
        out[c] = texts[c].to_numpy(dtype=object)
    return out.astype("string")


def _s(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object)).fillna("").astype(str)


def _cn_number(match: re.Match) -> str:
    """``3`` -> ``三``, ``12`` -> ``十二``, ``20`` -> ``二十`` (1..99; larger numbers are left as digits)."""
    n = int(match.group(1))
    if not 0 < n < 100:
        return match.group(0)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")) + (_CN_DIGITS[ones] if ones else "")
    return text + match.group(2)


class _AddressContext:
    """The standard-address library broken into its parts, to write the texts people write for an address.

    For every address the chain of parents gives: ``prefix`` (省市区, the county element's full address), street,
    community, the level-4 element (街路巷 name, or 院落 door plate + name), building, unit and room names. The parts
    compose the ``full_address`` again; where they do not (a broken parent link), only the full address and its
    prefix-less form are used.
    """

    def __init__(self, addresses: pd.DataFrame, info: dict):
        a = addresses
        self.ids = a["address_id"].astype("str")
        n = len(a)
        etype = _s(a["element_type"]).to_numpy(dtype=object)
        name = _s(a["name"]).to_numpy(dtype=object)
        plate = _s(a["door_plate"]).to_numpy(dtype=object)
        full = _s(a["full_address"]).to_numpy(dtype=object)
        ppos = index_in(a["parent_id"].astype("str"), self.ids)
        keys = ("street", "community", "l4", "l4name", "building", "unit", "room")
        parts = {k: np.full(n, "", dtype=object) for k in keys}
        compound = np.zeros(n, dtype=bool)
        county = np.full(n, -1)
        cur = np.arange(n)
        alive = np.ones(n, dtype=bool)
        for _ in range(12):
            idx = np.flatnonzero(alive)
            if not len(idx):
                break
            c = cur[idx]
            t = etype[c]
            head = pd.Series(t, dtype="str").str.slice(0, 1).to_numpy(dtype=object)
            for part, sel in (("room", t == "62"), ("unit", t == "61"), ("building", t == "50"),
                              ("street", head == "2"), ("community", head == "3")):
                parts[part][idx[sel]] = name[c[sel]]
            road, comp = t == "41", t == "42"
            parts["l4"][idx[road]] = name[c[road]]
            parts["l4"][idx[comp]] = plate[c[comp]] + name[c[comp]]
            parts["l4name"][idx[road | comp]] = name[c[road | comp]]
            compound[idx[comp]] = True
            top = t == "13"
            county[idx[top]] = c[top]
            nxt = ppos[c]
            alive[idx[top | (nxt < 0)]] = False
            cur[idx] = np.maximum(nxt, 0)
        prefix = np.where(county >= 0, full[np.maximum(county, 0)], "")
        composed = (_s(prefix) + _s(parts["street"]) + _s(parts["community"]) + _s(parts["l4"]) + _s(parts["building"])
                    + _s(parts["unit"]) + _s(parts["room"])).to_numpy(dtype=object)
        self.ok = (county >= 0) & (composed == full)
        self.full = full
        self.parts = parts
        self.compound = compound
        self.county_full = written_name(info)  # as the library writes it: no placeholder city level (市辖区)
        self.city_county = written_name(info, province=False)  # 随州市曾都区; 万州区 in a 直辖市
        streets = np.isin(etype, ["21", "22", "23"])
        self.street_of_code = pd.Series(name[streets], index=_s(a["street_code"]).to_numpy(dtype=object)[streets])
        self.street_of_code = self.street_of_code[~self.street_of_code.index.duplicated()]
        self.roads = name[etype == "41"]

    # -- one record set ---------------------------------------------------------------------------------------------

    def texts(self, address_id: pd.Series, rng: np.random.Generator, weights: dict, remarks: list,
              street_code: pd.Series, not_in_library: np.ndarray | None = None) -> pd.DataFrame:
        """Free-text addresses of records linked to ``address_id``: ``address_id`` (true or null), ``text``, ``form``.

        A form that does not apply to an address falls back to a near one (``dash`` without a room -> ``variant``,
        ``variant`` with nothing to vary -> ``no_prefix`` ...); ``form`` records what was written. A record without
        a valid ``address_id`` gets junk or an address that is not in the library (true address null); the records
        ``not_in_library`` marks get the latter.
        """
        n = len(address_id)
        pos = index_in(address_id.astype("str"), self.ids)
        if not_in_library is not None:
            pos = np.where(np.asarray(not_in_library, dtype=bool), -1, pos)
        linked = pos >= 0
        ok = linked & self.ok[np.maximum(pos, 0)]
        names = np.array(list(weights), dtype=object)
        p = np.array(list(weights.values()), dtype=float)
        form = names[rng.choice(len(names), n, p=p / p.sum())] if n else np.array([], dtype=object)
        d = rng.random((n, 4))  # per-record choices inside a form (variant kind, remark, junk word, typo position)
        form[~linked] = np.where(d[~linked, 0] < 0.5, "junk", "not_in_library")
        if not_in_library is not None:
            form[np.asarray(not_in_library, dtype=bool)] = "not_in_library"
        broken = linked & ~ok & (form != "junk")  # parts do not compose the full address: only the plain forms
        form[broken] = np.where(d[broken, 1] < 0.5, "full", "no_prefix")
        text = np.full(n, "", dtype=object)

        i = np.flatnonzero(ok & (form != "junk"))
        f, out = self._compose(pos[i], form[i], d[i], remarks)
        form[i], text[i] = f, out
        b = np.flatnonzero(broken)
        full = _s(self.full[pos[b]])
        stripped = full.str.slice(len(self.county_full)).where(full.str.startswith(self.county_full), full)
        text[b] = np.where(form[b] == "full", full.to_numpy(dtype=object), stripped.to_numpy(dtype=object))
        j = form == "junk"
        text[j] = np.array(_JUNK, dtype=object)[np.minimum((d[j, 3] * len(_JUNK)).astype(int), len(_JUNK) - 1)]
        k = np.flatnonzero(form == "not_in_library")
        text[k] = self._not_in_library(rng, len(k), _s(street_code.to_numpy(dtype=object)[k]))
        true_id = np.where(linked, address_id.astype(object).to_numpy(), None)
        return pd.DataFrame({"address_id": true_id, "text": text, "form": form})

    def _compose(self, pos: np.ndarray, f: np.ndarray, d: np.ndarray, remarks: list) -> tuple[np.ndarray, np.ndarray]:
        """Texts of the forms ``f`` for the addresses at ``pos`` (all with a complete chain of parts)."""
        comp = self.compound[pos]
        has_room = self.parts["room"][pos] != ""
        has_unit = self.parts["unit"][pos] != ""
        f = np.asarray(f, dtype=object).copy()
        # forms that do not apply fall back to a near one
        f = np.where((f == "compound_only") & ~comp, "road_only", f)
        f = np.where((f == "dash") & ~has_room, "variant", f)
        f = np.where((f == "chinese_numerals") & ~(has_unit | comp), "fullwidth", f)
        f = np.where((f == "variant") & ~(comp | has_room), "no_prefix", f)
        f = np.where((f == "remark") & (len(remarks) == 0), "no_prefix", f)
        out = np.full(len(f), "", dtype=object)
        for name in np.unique(f):
            sel = np.flatnonzero(f == name)
            out[sel] = self._form(name, pos[sel], d[sel], remarks).to_numpy(dtype=object)
        return f, out

    def _form(self, form: str, pos: np.ndarray, d: np.ndarray, remarks: list) -> pd.Series:
        """The texts of one form for the addresses at ``pos``."""
        P = {k: _s(v[pos]) for k, v in self.parts.items()}
        comp = pd.Series(self.compound[pos])
        tail = P["building"] + P["unit"] + P["room"]
        no_prefix = P["street"] + P["community"] + P["l4"] + tail
        head = P["l4name"].where(comp, P["l4"])  # 小区 name alone, or the road with its number
        if form == "full":
            return _s(self.full[pos])
        if form == "no_province":
            return self.city_county + no_prefix
        if form == "no_community":
            return P["street"] + P["l4"] + tail
        if form in ("compound_only", "road_only"):
            return head + tail
        if form == "dash":  # 8-1-501: building, unit, room numbers
            num = {k: P[k].str.extract(r"(\d+)", expand=False).fillna("") for k in ("building", "unit", "room")}
            return head + num["building"] + "-" + (num["unit"] + "-").where(num["unit"] != "", "") + num["room"]
        if form == "chinese_numerals":  # 三单元, and 八栋 when there is no unit (or by chance)
            has_unit = (P["unit"] != "").to_numpy()
            bld = P["building"].where(~comp | (has_unit & (d[:, 1] < 0.5)),
                                      P["building"].str.replace(r"(\d+)(栋)", _cn_number, regex=True))
            return P["street"] + P["l4"] + bld + P["unit"].str.replace(r"(\d+)(单元)", _cn_number, regex=True) + P["room"]
        if form == "fullwidth":
            return no_prefix.str.translate(_FULLWIDTH)
        if form == "variant":  # 栋 -> 幢/号楼/座, 室 -> 户 or nothing
            bvar = pd.Series(np.array(["幢", "号楼", "座"], dtype=object)[np.minimum((d[:, 1] * 3).astype(int), 2)])
            rvar = pd.Series(np.where(d[:, 2] < 0.5, "户", ""), dtype=object)
            bld = P["building"].where(~P["building"].str.endswith("栋"), P["building"].str.slice(0, -1) + bvar)
            room = P["room"].where(~P["room"].str.endswith("室"), P["room"].str.slice(0, -1) + rvar)
            return head + bld + P["unit"] + room
        if form == "remark":
            k = len(remarks)
            return no_prefix + pd.Series(np.array(remarks, dtype=object)[np.minimum((d[:, 3] * k).astype(int), k - 1)])
        if form == "typo":
            return P["street"] + self._typo(P["community"] + P["l4"], d[:, 2]) + tail
        return no_prefix

    def _typo(self, region: pd.Series, u: np.ndarray) -> pd.Series:
        """One character of ``region`` replaced by a similar-sounding or similar-looking one (the first, from a
        per-record starting point in :data:`_TYPO`, that the text contains; the community's 社区/村 always offers one)."""
        region = region.reset_index(drop=True)
        keys = np.array(list(_TYPO), dtype=object)
        k = len(keys)
        if not len(region):
            return region
        has = np.column_stack([region.str.contains(c, regex=False).to_numpy() for c in keys])
        order = ((u * k).astype(int)[:, None] + np.arange(k)[None, :]) % k
        rotated = np.take_along_axis(has, order, axis=1)
        chosen = np.where(rotated.any(axis=1), order[np.arange(len(region)), rotated.argmax(axis=1)], -1)
        out = region.copy()
        for j in np.unique(chosen[chosen >= 0]):
            sel = chosen == j
            out[sel] = region[sel].str.replace(keys[j], _TYPO[keys[j]], n=1, regex=False)
        return out

    def _not_in_library(self, rng: np.random.Generator, n: int, street_code: pd.Series) -> np.ndarray:
        """Plausible addresses that are not standard addresses: a 小区 that does not exist, on a real road."""
        if n == 0:
            return np.array([], dtype=object)
        street = _s(self.street_of_code.reindex(street_code.to_numpy()).to_numpy(dtype=object))
        road = self.roads[rng.integers(0, len(self.roads), n)] if len(self.roads) else np.full(n, "中心大道", dtype=object)
        words = np.array(PLACE_WORDS, dtype=object)
        fake = (pd.Series(words[rng.integers(0, len(words), n)]) + pd.Series(np.array(_FAKE_SUFFIX, dtype=object)[
            rng.integers(0, len(_FAKE_SUFFIX), n)]))
        door = pd.Series(rng.integers(1, 400, n) * 2).astype(str)
        def num(lo, hi):
            return pd.Series(rng.integers(lo, hi, n)).astype(str)

        tail = num(1, 30) + "栋" + num(1, 5) + "单元" + num(1, 19) + "0" + num(1, 5) + "室"
        return (street + pd.Series(road) + door + "号" + fake + tail).to_numpy(dtype=object)


# --------------------------------------------------------------------------- the registers' texts

TEXT_TRUTH = "address_texts.parquet"
"""The truth of the registers' texts under ``OUT/truth/`` (:func:`register_texts`)."""

NOT_IN_LIBRARY_SHARE = 0.15
"""Share of the records without a standard-address link at the last period whose text names a 小区 the library
does not hold (the library lacks their address: 网格核验 on site)."""

REGISTER_FORMS = {"persons": ("person_id", _PERSON_FORMS, _PERSON_REMARKS),
                  "units": ("unit_id", _UNIT_FORMS, _UNIT_REMARKS)}
"""Registers of the sample city that carry an ``address_text``: id column, form weights, remarks."""


def register_texts(rng: np.random.Generator, addresses: pd.DataFrame, info: dict, registers: dict,
                   true_address: dict) -> pd.DataFrame:
    """The free-text address of every record of the persons and units registers, with its truth.

    Parameters
    ----------
    rng : numpy.random.Generator
        The texts' own stream (the rest of the city does not depend on it).
    addresses : pandas.DataFrame
        The standard address library as written (defects included: a broken parent chain gets plain forms only).
    info : dict
        County record (``name``, ``province_name``, ``city_name``); the prefix is its written name
        (:func:`cimlib.codes.divisions.written_name`).
    registers : dict
        ``persons`` and ``units`` frames as written (``address_id`` with its injected defects, ``mapped_period``).
    true_address : dict
        Register name -> the true ``address_id`` of every record (before defects were injected), in frame order.

    Returns
    -------
    pandas.DataFrame
        ``dataset, record_id, address_id, text, form`` (strings; ``address_id`` the true standard address the text
        describes, ``None`` for ``not_in_library``), persons first, each register in frame order.
    """
    ctx = _AddressContext(addresses, info)
    lib = addresses["address_id"].astype("str")
    parts = []
    for name, (id_col, weights, remarks) in REGISTER_FORMS.items():
        df = registers[name]
        own = df["address_id"].astype("str")
        unlinked = (index_in(own, lib) < 0) | (df["mapped_period"] == "").to_numpy()
        fake = unlinked & (rng.random(len(df)) < NOT_IN_LIBRARY_SHARE)
        t = ctx.texts(true_address[name].reset_index(drop=True), rng, weights, remarks,
                      street_code=df["street_code"].reset_index(drop=True), not_in_library=fake)
        parts.append(_truth_texts(name, df[id_col], t))
    return pd.concat(parts, ignore_index=True)
