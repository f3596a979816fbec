"""Normalize free-text addresses as people write them (STANDARDS.md §3, GB/T 35602-2017 elements).

:func:`normalize_address` turns a column of address texts into one written form that :func:`cimlib.geocode.parse.
parse_address` reads with plain regular expressions:

* NFKC (full-width digits, letters, brackets and spaces to half width), letters upper-cased, 號 -> 号, every dash
  (``—``, ``–``, ``－``, ``~`` …) -> ``-``, spaces and punctuation removed, a leading ``中国`` dropped;
* Chinese numerals to digits where they number a door plate, building, unit, floor or room (``三单元`` -> ``3单元``,
  ``八号楼`` -> ``8栋``, ``二〇一室`` -> ``201室``, ``十二号`` -> ``12号``, ``两单元`` -> ``2单元``), never inside a name
  (``三里路``, ``十里家园``, ``五四街`` stay as written);
* one form per element: ``栋`` for 栋/幢/号楼/座/#楼/# (and for ``楼`` directly before a unit: ``3楼2单元``),
  ``室`` for 室/户/房/房间/号房 and for ``号`` after a building, unit or floor (``2单元501号``), ``-`` for door-plate
  sub-numbers (``12号附3号``, ``12附3号``, ``12号之3`` -> ``12-3号``), ``-1楼`` for 负一楼/地下一层;
* noise set aside, not lost: bracketed remarks (``（出租屋）``) and everything from a remark word on (附近, 旁, 对面,
  周边, 隔壁, 后面, 往东100米, 门面 …) go to ``noise``; a bracket that holds address parts (``(西关佳苑)``) is kept
  without its brackets;
* junk (暂无, 同上, 不详, 无, 空, 见上, ``-``, ``？``, N/A … or nothing address-like) flagged in ``junk``.

Everything is vectorized over the column with pandas ``str`` methods and compiled regular expressions, on the
distinct texts only; Chinese numerals are converted through a table over the distinct numeral words found.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["normalize_address", "cn_to_int"]

_CN_DIGIT = {"零": 0, "〇": 0, "○": 0, "Ｏ": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4,
             "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
_CN_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_NUMERAL = "零〇○一壹二贰两三叁四肆五伍六陆七柒八捌九玖十拾百佰千仟"

# characters mapped one to one before anything else (after NFKC)
_TRANSLATE = str.maketrans({"號": "号", "—": "-", "–": "-", "‐": "-", "‑": "-", "‒": "-", "―": "-", "−": "-",
                            "﹣": "-", "~": "-", "〜": "-", "～": "-", "＿": "_", "棟": "栋", "單": "单", "層": "层",
                            "樓": "楼", "區": "区", "鎮": "镇", "鄉": "乡", "衛": "卫", "〔": "(",
                            "〕": ")", "【": "(", "】": ")", "[": "(", "]": ")", "{": "(", "}": ")", "［": "(",
                            "］": ")", "﹙": "(", "﹚": ")", "「": "(", "」": ")", "『": "(", "』": ")", "<": "(",
                            ">": ")", "《": "(", "》": ")", "〈": "(", "〉": ")"}
                           | dict(zip("東園門鎮鄉縣莊灣廣場華龍鳳興橋陽雲豐飛號樓層單幢棟區街賓館廈濱灣爲衛圍龍雙",
                                    "东园门镇乡县庄湾广场华龙凤兴桥阳云丰飞号楼层单幢栋区街宾馆厦滨湾为卫围龙双")))

_SPACE_PUNCT = re.compile(r"[\s,，。、;；:：!！'\"“”‘’`·•．…_*=+|\\^]+")
_DOTS = re.compile(r"(?<![0-9])\.|\.(?![0-9])")  # a dot that is not a decimal point
_CHINA = re.compile(r"^(?:中华人民共和国|中国)")

# remarks: a bracket, or everything from a remark word on (not at the very start: "对面" alone is junk)
_REMARK_WORDS = (r"附近|旁边|旁|对面|斜对面|周边|周围|隔壁|后面|后边|背后|对过|楼下|[东南西北]{1,2}(?:侧|面|边)(?:[0-9]+米)?"
                 r"|(?:往|向|朝)[东南西北]{1,2}(?:方向)?(?:约)?[0-9]*米?|[0-9]+米处?|一楼门面|临街门面|门面房?|商铺|"
                 r"交叉口|红绿灯|出租屋|租住|暂住|临时住所")
_TRAILING = re.compile(rf"(?<=.)((?:{_REMARK_WORDS}).*)$")
_BRACKET = re.compile(r"\(([^()]*)\)?")
# a bracket is address content (kept, brackets dropped) when it holds address parts and no remark word
_ADDRESS_PART = re.compile(r"[0-9一二三四五六七八九十]+(?:栋|幢|号楼|座|单元|室|户|号|楼|层)|小区|花园|苑|公寓|新村|家园|大厦|广场"
                           r"|社区|村|街道|镇|路|街|巷")
_REMARK_IN_BRACKET = re.compile(_REMARK_WORDS + r"|备注|注|电话|手机|已搬|搬走|空置|无人|未知|不详|待|出租|租|住|店|厂|公司")

_JUNK = re.compile(
    r"^(?:暂无|暂无地址|无|无地址|没有|空|空白|同上|同左|同户籍|同户籍地址|同居住地|见上|见上栏|详见上|详见户籍|见户籍|见户籍地址|"
    r"户籍地址|不详|附近|对面|旁边|地址不详|不清楚|未知|未填|未填写|待定|待核实|待查|待补充|核实中|[nN]/?[aA]|NULL|NONE|NAN|"
    r"[-/\\?？.。,，、_*#0]*)$", re.IGNORECASE)
_ADDRESS_LIKE = re.compile(r"[\u4e00-\u9fff]{2}|[0-9]+(?:号|栋|单元|室|-)")

# Chinese numerals that number something: followed by a number word (号/栋/单元/…), or after 附/之
_CN_BEFORE = re.compile(rf"第?([{_NUMERAL}]+)(?=号楼|号|栋|幢|座|单元|楼|层|室|户|房|组)")
_CN_AFTER_FU = re.compile(rf"(?<=[0-9号])([附之])([{_NUMERAL}]+)")
_CN_ROOM_SEQ = re.compile(rf"(?:(?<=单元)|(?<=[栋楼层]))([{_NUMERAL}]{{3,4}})(?![{_NUMERAL}])")  # 三单元二〇一 (no 室)

_FLOOR_NEG = re.compile(r"(?:负|地下|B)([0-9]+)(?:楼|层)")
_DOOR_SUB = re.compile(r"([0-9]+)号?(?:附|之)([0-9]+)号?")
_BUILDING = re.compile(r"(?<![0-9A-Z])([A-Z]?[0-9]+[A-Z]?|[A-Z])(?:号楼|#楼|#|幢|座|栋|号?座楼)")
_BUILDING_LOU = re.compile(r"(?<![0-9A-Z])([A-Z]?[0-9]+[A-Z]?)楼(?=[0-9]+单元)")
_ROOM_WORD = re.compile(r"([0-9]+)(?:号房间|号房|房间|房|户)")
_ROOM_HAO = re.compile(r"(?:(?<=单元)|(?<=[栋楼层]))([A-Z]?[0-9]+)号")
_UNIT_MEN = re.compile(r"(?<=[0-9])(?:单元门|门)(?=[0-9])")  # 2门501 (2单元501)
_REPEAT_DASH = re.compile(r"-{2,}")


def cn_to_int(word: str) -> int | None:
    """Value of a Chinese numeral word (``十二`` -> 12, ``二〇一`` -> 201, ``一百零一`` -> 101, ``两`` -> 2).

    Parameters
    ----------
    word : str
        Chinese numeral characters only.

    Returns
    -------
    int or None
        The value; ``None`` for an empty or malformed word.
    """
    if not word:
        return None
    if not any(c in _CN_UNIT for c in word):  # digit by digit: 二〇一, 三零二
        digits = [_CN_DIGIT.get(c) for c in word]
        if any(d is None for d in digits):
            return None
        return int("".join(str(d) for d in digits))
    total, current = 0, 0
    for c in word:
        if c in _CN_DIGIT:
            current = _CN_DIGIT[c]
        elif c in _CN_UNIT:
            total += (current or 1) * _CN_UNIT[c]
            current = 0
        else:
            return None
    return total + current


def _replace_numerals(s: pd.Series, pattern: re.Pattern, group: int, keep: str = "") -> pd.Series:
    """Replace the numeral words of ``pattern``'s ``group`` by digits through a table of the distinct words."""
    found = s.str.extractall(pattern)
    words = found[group - 1].unique() if len(found) else []
    table = {w: str(v) for w, v in ((w, cn_to_int(w)) for w in words) if v is not None}
    if not table:
        return s
    if keep:
        return s.str.replace(pattern, lambda m: m.group(1) + table.get(m.group(2), m.group(2)), regex=True)
    return s.str.replace(pattern, lambda m: table.get(m.group(1), m.group(0)), regex=True)


def _sub(s: pd.Series, pattern: re.Pattern, repl, trigger: str) -> pd.Series:
    """``s.str.replace(pattern, repl)`` on the rows where ``trigger`` (a plain regular expression, run by the string
    array's own engine) occurs: Python's ``re`` only sees the few texts that need it."""
    mask = s.str.contains(trigger, regex=True).to_numpy(dtype=bool)
    if not mask.any():
        return s
    s = s.copy()
    s[mask] = s[mask].str.replace(pattern, repl, regex=True).to_numpy(dtype=object)
    return s


def _normalize_distinct(raw: pd.Series) -> pd.DataFrame:
    """:func:`normalize_address` on distinct texts (no repeated values)."""
    s = raw.fillna("").astype("str").str.normalize("NFKC").str.translate(_TRANSLATE).str.upper()
    s = s.str.replace(_SPACE_PUNCT.pattern, "", regex=True)
    s = _sub(s, _DOTS, "", r"\.")
    s = s.str.replace(_CHINA.pattern, "", regex=True)

    # brackets: address content stays (brackets dropped), remarks go to noise
    noise_parts = []
    has_bracket = s.str.contains(r"[()]", regex=True).to_numpy(dtype=bool)
    if has_bracket.any():
        b = s[has_bracket]
        inner = b.str.extractall(_BRACKET)
        if len(inner):
            content = inner[0].fillna("")
            keep = content.str.contains(_ADDRESS_PART) & ~content.str.contains(_REMARK_IN_BRACKET)
            removed = content[~keep & (content != "")]
            if len(removed):
                noise_parts.append(removed.groupby(level=0).agg("；".join))
        b = b.str.replace(_BRACKET, lambda m: m.group(1) if _keep_bracket(m.group(1) or "") else "", regex=True)
        s = s.copy()
        s[has_bracket] = b.str.replace(r"[()]", "", regex=True).to_numpy(dtype=object)

    # Chinese numerals that number a door, building, unit, floor or room
    has_cn = s.str.contains(f"[{_NUMERAL}]", regex=True).to_numpy(dtype=bool)
    if has_cn.any():
        c = s[has_cn]
        c = _replace_numerals(c, _CN_BEFORE, 1)
        c = _replace_numerals(c, _CN_AFTER_FU, 2, keep="x")
        c = _replace_numerals(c, _CN_ROOM_SEQ, 1)
        s = s.copy()
        s[has_cn] = c.to_numpy(dtype=object)
    s = _sub(s, re.compile(r"第(?=[0-9])"), "", "第[0-9]")

    # one written form per element (plain patterns run by the string array's engine, the others gated)
    s = s.str.replace(_FLOOR_NEG.pattern, r"-\1楼", regex=True)
    s = s.str.replace(_DOOR_SUB.pattern, r"\1-\2号", regex=True)
    s = _sub(s, _BUILDING, r"\1栋", "号楼|#|幢|座")
    s = _sub(s, _BUILDING_LOU, r"\1栋", "楼[0-9]+单元")
    s = _sub(s, _UNIT_MEN, "单元", "[0-9]门[0-9]")
    s = s.str.replace(_ROOM_WORD.pattern, r"\1室", regex=True)
    s = _sub(s, _ROOM_HAO, r"\1室", "(?:单元|栋|楼|层)[A-Z]?[0-9]+号")
    s = s.str.replace(_REPEAT_DASH.pattern, "-", regex=True)

    # trailing remarks (after the address has started)
    has_tail = s.str.contains(f".(?:{_REMARK_WORDS})", regex=True).to_numpy(dtype=bool)
    if has_tail.any():
        tail = s[has_tail].str.extract(_TRAILING, expand=False)
        tail = tail[tail.notna() & (tail != "")]
        if len(tail):
            noise_parts.append(tail)
            s = s.copy()
            s[tail.index] = s[tail.index].str.replace(_TRAILING, "", regex=True).to_numpy(dtype=object)
    s = _sub(s, re.compile(r"^-+(?![0-9])|-+$"), "", "^-|-$")

    noise = pd.Series(pd.NA, index=raw.index, dtype="str")
    if noise_parts:
        joined = pd.concat(noise_parts).groupby(level=0).agg("；".join)
        noise.loc[joined.index] = joined.to_numpy(dtype=object)
    short = (s.str.len() <= 12).to_numpy(dtype=bool)
    junk = ~s.str.contains(_ADDRESS_LIKE.pattern, regex=True).to_numpy(dtype=bool)
    junk[short] |= s[short].str.fullmatch(_JUNK).to_numpy(dtype=bool)
    return pd.DataFrame({"text": s.astype("str"), "noise": noise, "junk": junk}, index=raw.index)


def _keep_bracket(content: str) -> bool:
    """True when a bracket's content is address parts (kept inline) rather than a remark (set aside)."""
    return bool(_ADDRESS_PART.search(content)) and not _REMARK_IN_BRACKET.search(content)


def normalize_address(texts: pd.Series) -> pd.DataFrame:
    """Normalize free-text addresses to one written form, setting remarks aside and flagging junk.

    Parameters
    ----------
    texts : pandas.Series
        Address texts as written (any dtype; missing values allowed).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``texts.index``:

        ``text`` (str)
            The normalized text: half width, upper-case letters, no spaces or punctuation, Chinese numerals as
            digits where they number a door plate, building, unit, floor or room, ``栋`` / ``室`` / ``-`` as the
            one form of the building, room and dash (see the module docstring). ``""`` for a missing text.
        ``noise`` (str or NA)
            What was set aside (bracketed remarks, text from 附近/旁/对面/周边/… on), joined with ``；``.
        ``junk`` (bool)
            True where the text says nothing address-like (暂无, 同上, 不详, 无, 空, ``-``, ``？`` …, or empty).

    Examples
    --------
    >>> normalize_address(pd.Series(["西关佳苑八号楼三单元二〇一户（出租屋）", "同上"]))
                text noise   junk
    0  西关佳苑8栋3单元201室   出租屋  False
    1             同上   NaN   True
    """
    texts = pd.Series(texts) if not isinstance(texts, pd.Series) else texts
    codes, uniques = pd.factorize(texts.astype("object").where(texts.notna(), None), use_na_sentinel=True)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    if not len(distinct):
        distinct = pd.Series([], dtype="str")
    part = _normalize_distinct(pd.concat([distinct, pd.Series([""], dtype="str")], ignore_index=True))
    take = np.where(codes >= 0, codes, len(distinct))  # missing texts -> the appended ""
    out = part.iloc[take].set_axis(texts.index)
    return out.astype({"text": "str", "noise": "str", "junk": "bool"})
