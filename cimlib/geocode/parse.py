"""Parse free-text addresses into the elements of GB/T 35602-2017 and the standard-address element tree.

:func:`parse_address` normalizes the texts (:func:`cimlib.geocode.normalize.normalize_address`) and reads them with
one compiled regular expression (``pandas.Series.str.extract`` over the distinct normalized texts), element by
element in the order of the standard:

=============  =====================================================================================================
``province``   省/自治区/直辖市 as written (``湖北省``, or ``湖北`` directly before a city or county)
``city``       市/地区/州/盟 (``随州市``; ``随州`` or ``恩施州`` directly before a county or a 乡镇街道)
``county``     区/县/县级市/旗 (``曾都区``; ``曾都`` directly before a 乡镇街道). Names come from the packaged division
               tables (:mod:`cimlib.codes.divisions`), so a road or compound is never read as a county.
``street``     乡镇街道: 街道/街道办(事处)/镇/乡/苏木, 开发区/经济(技术)开发区/高新区/工业园区/管委会/农场/林场.
               ``…街道办事处`` is reported as ``…街道``; a zone written without a name of its own (``随州市经济开发区``)
               keeps the admin names written before it.
``community``  社区/村 (``…居委会``, ``…村委会``, ``…社区居民委员会`` reported as ``…社区`` / ``…村``; ``新村`` is a
               compound, not a village)
``road``       街路巷: 路/街/大道/大街/巷/胡同, and 道/弄/里/条 when a door number follows; a sub-lane (``东风路2巷``)
               is part of the road. A name before a door number (``五四接103号金桥苑``) is read as the road even when
               its generic word is misspelt.
``door_no``    门牌号 ``号`` after the road (``101``; ``12-3`` for 12号附3号)
``compound``   小区/院落: the longest name ending in a compound word (小区, 花园, 苑, 佳苑, 家园, 公寓, 新村, 华府, 广场,
               大厦, 城, 庭, 院, 公馆, 山庄, 雅居, 府, 里 …, with a phase 二期/东区), or any name directly before a building
               or unit number (``市供电局3栋``)
``building``   ``8`` from 8栋 (8幢/8号楼/8座/8#), ``8`` from ``XX小区8号`` (号 after a compound is a building), ``A``
``unit``       ``1`` from 1单元
``floor``      ``5`` from 5楼/5层 (``-1`` for 负一楼); from the room (501 -> 5, 1201 -> 12) when not written
``room``       ``501`` from 501室/户/房/号
``remainder``  what is left unread (``NA`` when nothing)
=============  =====================================================================================================

Dash notation after a compound or a door number: ``8-1-501`` is building-unit-room, ``8-501`` building-room, and
``8栋1-501`` unit-room. Prefixes may be left out (``西关佳苑8栋1单元501室``). The road and door number may follow the
compound and its numbers (``西关佳苑8栋1单元501室 先锋路101号``), and a compound may be written before its road
(``五里公寓北关街101号``: a name ending in a compound word of two or more characters, or 苑, then a road name of at
least three characters, with nothing after the door number).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from cimlib.geocode.normalize import normalize_address

__all__ = ["parse_address", "ELEMENTS"]

ELEMENTS = ("province", "city", "county", "street", "community", "road", "door_no", "compound", "building", "unit",
            "floor", "room", "remainder")
"""Output columns of :func:`parse_address`, in the order of GB/T 35602-2017."""

_HAN = r"[\u4e00-\u9fff]"
_ADMIN_SUFFIX = "省市区县州盟旗"
_STREET_WORDS = (r"街道办事处|街道办|街道|苏木|经济技术开发区|高新技术产业开发区|高新技术开发区|经济开发区|高新区|开发区|"
                 r"工业园区|产业园区|工业园|管理委员会|管委会|管理区|农场|林场")
_ZONE_ONLY = re.compile(r"^(?:经济技术开发区|高新技术产业开发区|高新技术开发区|经济开发区|高新区|开发区|工业园区|产业园区|工业园"
                        r"|管理委员会|管委会|管理区)$")
_COMPOUND_WORDS = ("小区", "花园", "公寓", "新村", "家园", "佳苑", "雅苑", "名苑", "华苑", "苑", "华府", "公馆", "山庄", "雅居",
                   "广场", "大厦", "大楼", "中心", "新城", "花城", "城", "庭", "院", "大院", "家属院", "家属区", "宿舍", "宿舍区",
                   "府", "里", "园", "居", "邸", "墅", "别墅", "湾", "阁", "轩", "苑区", "住宅区", "生活区", "小镇", "国际",
                   "名都", "首府", "天地", "郡", "台", "坊", "港", "湾畔")
_PHASE = r"(?:[0-9一二三四五六七八九十]+期|[东西南北中][区苑院]|[A-Z]区)?"


def _trie(words) -> str:
    """A regular expression matching any of ``words`` (longest first), as a character trie."""
    root: dict = {}
    for w in words:
        node = root
        for c in w:
            node = node.setdefault(c, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(c) + build(child) for c, child in sorted(node.items()) if c]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return "(?:" + build(root) + ")"


_ETHNIC = ("蒙古|藏|回|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|东乡|纳西|景颇|柯尔克孜|土|"
           "达斡尔|仫佬|羌|撒拉|毛南|仡佬|锡伯|塔吉克|裕固|鄂温克|鄂伦春|普米|怒|独龙|保安|门巴|珞巴|基诺|阿昌|布朗|德昂|京|"
           "俄罗斯|乌孜别克|塔塔尔|赫哲|高山|各")


def _short(names: pd.Series, suffix: str) -> pd.Series:
    """Names without their generic suffix (``随州市`` -> ``随州``, ``恩施土家族苗族自治州`` -> ``恩施``), kept when at
    least two characters remain and the name changed."""
    auto = names.str.extract(rf"^(.{{2,}}?)(?:(?:{_ETHNIC})族)+自治(?:州|县|旗)$", expand=False)
    s = auto.fillna(names.str.replace(f"(?:{suffix})$", "", regex=True))
    return s[(s.str.len() >= 2) & (s != names)]


@lru_cache(maxsize=1)
def _pattern() -> tuple[re.Pattern, str]:
    """The one regular expression of :func:`parse_address` (built once from the packaged division tables), and the
    alternation of compound words."""
    from cimlib.codes.divisions import reference_table

    prov = reference_table("provinces")["name"].astype("str")
    prov = pd.concat([prov, pd.Series(["香港特别行政区", "澳门特别行政区", "台湾省"])], ignore_index=True)
    city = reference_table("cities")["name"].astype("str")
    city = city[~city.str.contains("市辖区|直辖|^县$", regex=True)]
    county = reference_table("areas")["name"].astype("str")
    county = county[~county.isin(["城区", "郊区", "矿区", "市辖区"])]
    prov_short = _short(prov, "省|市|特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区")
    city_short = _short(city, "市|地区|盟|自治州")
    city_zhou = city_short[city.loc[city_short.index].str.endswith("自治州")] + "州"  # 恩施州
    county_short = _short(county, "区|县|市|旗|自治县|自治旗")
    county_short = county_short[~county_short.isin(city_short)]

    not_suffix = f"(?![{_ADMIN_SUFFIX}路街巷道村镇乡里弄号])"
    street = (rf"{_HAN}{{1,8}}?(?:{_STREET_WORDS}|(?:镇|乡)"
              rf"(?!社区|村|居委|路|街|巷|大道|(?:花园|小区|公寓|苑|家园|新村|广场|大厦|山庄|城)(?!{_HAN})))")
    county_any = f"(?:{_trie(county)}|{_trie(county_short)}{not_suffix}(?={street}))"
    city_any = f"(?:{_trie(pd.concat([city, city_zhou]))}|{_trie(city_short)}{not_suffix}(?={county_any}|{street}))"
    prov_any = f"(?:{_trie(prov)}|{_trie(prov_short)}{not_suffix}(?={city_any}|{county_any}))"

    comm_char = rf"(?:(?!路|巷|大道|大街){_HAN})"
    community = (rf"{comm_char}{{1,10}}?(?:社区居民委员会|社区居委会|社区|居民委员会|居委会|村民委员会|村委会|(?<!新)村"
                 rf"(?!委|民委))")
    group = r"(?:[0-9一二三四五六七八九十]+(?:组|队))?"
    sub_lane = r"(?:[0-9一二三四五六七八九十]+(?:巷|弄|条|胡同))?"
    door_ahead = r"[0-9]+(?:-[0-9]+)?号"
    road_main = (rf"{_HAN}{{1,10}}?(?:大道|大街|胡同|路|街|巷|(?:道|弄|里|条)(?={door_ahead}))(?!路|街|巷|大道|大街)"
                 rf"(?!{_HAN}{{1,2}}{door_ahead}){sub_lane}")
    # a name directly before a door number is the road even when its generic word is misspelt (五四接103号)
    road = rf"{road_main}|{_HAN}{{2,10}}(?={door_ahead}(?:{_HAN}|[0-9]|$))"
    # 社区 with one wrong character (白云社曲, 民主杜区), only when a road with a door number follows
    community += (rf"|{comm_char}{{2,8}}?(?:社{_HAN}|(?![小城新园市县校厂矿营开发])[一-鿿]区)"
                  rf"(?={_HAN}{{1,10}}?(?:大道|大街|路|街|巷){door_ahead})")
    compound_word = "|".join(sorted(_COMPOUND_WORDS, key=len, reverse=True))
    name = rf"(?:{_HAN}|[A-Z])"
    # a whole name directly before a building or unit number first (河湾溪口1栋: not 河湾 + a remainder)
    compound = (rf"{_HAN}{name}{{1,15}}(?=[A-Z]?[0-9]+[A-Z]?栋|[0-9]+-[0-9]|[0-9]+单元)"
                rf"|{name}{{0,15}}(?:{compound_word}){_PHASE}")
    bno = r"[A-Z]?[0-9]+[A-Z]?|[A-Z]"
    tail = (rf"(?:(?P<d3b>[0-9]+)-(?P<d3u>[0-9]+)-(?P<d3r>[0-9]+)[室号]?"
            rf"|(?P<d2b>[0-9]+)-(?P<d2r>[0-9]+)[室号]?"
            rf"|(?:(?P<building>{bno})(?:栋|号(?![0-9]*院)))?"
            rf"(?:(?P<dur_u>[0-9]+)-(?P<dur_r>[0-9]+)[室号]?"
            rf"|(?:(?P<unit>[0-9]+)单元)?(?:(?P<floor>-?[0-9]+)[楼层])?(?:(?P<room>[A-Z]?[0-9]+[A-Z]?)室?)?))")
    full = (rf"^(?P<province>{prov_any})?(?P<city>{city_any})?(?P<county>{county_any})?(?P<street>{street})?"
            rf"(?P<community>{community})?(?P<group>{group})(?P<road>{road})?(?:(?P<door_no>[0-9]+(?:-[0-9]+)?)号)?"
            rf"(?P<compound>{compound})?{tail}(?P<remainder>.*)$")
    # written after the compound and its numbers (西关佳苑8栋1单元501室 先锋路101号): the road and door number
    after = re.compile(rf"^(?P<road>{road_main})(?P<door_no>[0-9]+(?:-[0-9]+)?)号?$")
    # a compound written before its road (五里公寓北关街101号): a name ending in a compound word of two or more
    # characters (or 苑), then a road name of at least three characters
    multi = "|".join(sorted((w for w in _COMPOUND_WORDS if len(w) >= 2 or w == "苑"), key=len, reverse=True))
    before = re.compile(rf"^(?P<compound>{_HAN}{{2,12}}?(?:{multi})){_PHASE}(?P<road>{_HAN}{{2,10}}(?:大道|大街|路|街|巷))$")
    return re.compile(full), compound_word, after, before


def _na(s: pd.Series) -> pd.Series:
    """Empty strings as missing, dtype ``str``."""
    s = s.astype("str")
    return s.where(s.notna() & (s != ""))


def _parse_distinct(text: pd.Series) -> pd.DataFrame:
    """Elements of distinct normalized texts."""
    pattern, compound_word, after, before = _pattern()
    m = text.str.extract(pattern)
    m = m.apply(_na) if len(m.columns) else m  # column-wise (13 + 7 columns), not per record
    out = pd.DataFrame(index=text.index)
    for c in ("province", "city", "county", "street", "community", "road", "door_no", "compound"):
        out[c] = m[c]
    out["building"] = m["d3b"].fillna(m["d2b"]).fillna(m["building"])
    out["unit"] = m["d3u"].fillna(m["dur_u"]).fillna(m["unit"])
    out["floor"] = m["floor"]
    out["room"] = m["d3r"].fillna(m["d2r"]).fillna(m["dur_r"]).fillna(m["room"])
    out["remainder"] = _na(m["group"].fillna("") + m["remainder"].fillna(""))

    # canonical names: 街道办事处 -> 街道, 社区居委会 -> 社区, 村委会 -> 村
    out["street"] = _na(out["street"].str.replace(r"(街道)办(?:事处)?$", r"\1", regex=True))
    out["community"] = _na(out["community"].str.replace(r"(社区)(?:居民委员会|居委会)$|(村)(?:民委员会|委会)$",
                                                        lambda g: g.group(1) or g.group(2), regex=True))
    # a zone without a name of its own is named by the admin names written before it
    zone = out["street"].str.fullmatch(_ZONE_ONLY).fillna(False).astype(bool)
    if zone.any():
        admin = out.loc[zone, ["province", "city", "county"]].fillna("")
        bare = admin.apply(lambda col: col.where(~col.str.contains(f"[{_ADMIN_SUFFIX}]$", regex=True), ""))
        bare_names = bare["province"] + bare["city"] + bare["county"]
        last = admin["county"].where(admin["county"] != "", admin["city"].where(admin["city"] != "", admin["province"]))
        out.loc[zone, "street"] = bare_names.where(bare_names != "", last) + out.loc[zone, "street"]
    # the road and door number written after the compound and its numbers
    late = out["road"].isna() & out["door_no"].isna() & out["compound"].notna() & out["remainder"].notna()
    if late.any():
        rd = out.loc[late, "remainder"].str.extract(after)
        rd = rd[rd["road"].notna()]
        out.loc[rd.index, ["road", "door_no"]] = rd[["road", "door_no"]].to_numpy(dtype=object)
        out.loc[rd.index, "remainder"] = pd.NA
    # the compound written before its road, nothing after the door number
    early = out["road"].notna() & out["door_no"].notna() & out[["compound", "building", "unit", "room"]].isna().all(
        axis=1) & out["remainder"].isna()
    if early.any():
        cr = out.loc[early, "road"].str.extract(before)
        cr = cr[cr["road"].notna()]
        out.loc[cr.index, ["compound", "road"]] = cr[["compound", "road"]].to_numpy(dtype=object)
    # a bare compound word after a road: 铁路新村 (no door number) or 12号院 (door number)
    words = pd.Series(True, index=list(_COMPOUND_WORDS))
    bare = out["compound"].isin(words.index) & out["road"].notna()
    no_door = bare & out["door_no"].isna()
    out.loc[no_door, "compound"] = out.loc[no_door, "road"] + out.loc[no_door, "compound"]
    out.loc[no_door, "road"] = pd.NA
    with_door = bare & out["door_no"].notna()
    out.loc[with_door, "compound"] = out.loc[with_door, "door_no"] + "号" + out.loc[with_door, "compound"]
    # dash notation right after a road: the first number is the door number (溪口胜利巷5-1-201)
    dash_door = (m["d3b"].notna() | m["d2b"].notna()) & out["road"].notna() & out["door_no"].isna()
    dash_door &= out["compound"].isna()
    out.loc[dash_door, "door_no"] = out.loc[dash_door, "building"]
    out.loc[dash_door, "building"] = pd.NA
    # a compound read as a misspelt road: XX小区8号 (号 after a compound is a building)
    comp_road = out["road"].notna() & out["door_no"].notna() & out["compound"].isna() & out["building"].isna()
    comp_road[comp_road] = out.loc[comp_road, "road"].str.contains(f"(?:{compound_word})$", regex=True)
    number = out.loc[comp_road, "door_no"].str.extract(r"^([0-9]+)(?:-([0-9]+))?$")
    ok = number[0].notna() & (out.loc[comp_road, "unit"].isna() | number[1].isna())
    comp_road[comp_road] = ok.to_numpy(dtype=bool)
    number = number[ok]
    out.loc[comp_road, "compound"] = out.loc[comp_road, "road"]
    out.loc[comp_road, "building"] = number[0]
    out.loc[comp_road, "room"] = out.loc[comp_road, "room"].fillna(number[1])
    out.loc[comp_road, ["road", "door_no"]] = pd.NA
    # a one-character road name with no door number directly before a compound is part of its name (新街望城小区)
    short_road = (out["road"].str.len() == 2) & out["door_no"].isna() & out["compound"].notna()
    short_road &= out[["street", "community"]].isna().all(axis=1)
    out.loc[short_road, "compound"] = out.loc[short_road, "road"] + out.loc[short_road, "compound"]
    out.loc[short_road, "road"] = pd.NA
    # numbers without leading zeros; floor from the room when not written (501 -> 5, 1201 -> 12)
    for c in ("building", "unit"):
        out[c] = out[c].str.replace(r"^0+(?=[0-9])", "", regex=True)
    digits = out["room"].str.fullmatch(r"[0-9]{3,5}").fillna(False).astype(bool)
    derived = out["room"].str.slice(0, -2).str.replace(r"^0+", "", regex=True)
    out["floor"] = out["floor"].where(out["floor"].notna() | ~digits, _na(derived))
    return out[list(ELEMENTS)]


def parse_address(texts: pd.Series, *, normalized: bool = False) -> pd.DataFrame:
    """Parse free-text addresses into GB/T 35602-2017 address elements.

    Parameters
    ----------
    texts : pandas.Series
        Address texts as written (any dtype; missing values allowed). They are normalized with
        :func:`cimlib.geocode.normalize.normalize_address` first; junk texts (暂无, 同上 …) give all-missing rows.
    normalized : bool, default False
        ``True`` when ``texts`` are already the ``text`` column of
        :func:`cimlib.geocode.normalize.normalize_address` with junk texts removed or blanked (the matcher's case):
        normalization is skipped and missing or empty texts give all-missing rows.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``texts.index`` with the columns of :data:`ELEMENTS` (``str``, missing as NA): names kept with
        their generic word as written (``擂鼓路``, ``店子佳苑``, ``西城街道``, ``民主社区``), numbers as digit strings
        (``door_no`` ``101``, ``building`` ``8``, ``unit`` ``1``, ``floor`` ``5``, ``room`` ``501``) and the
        ``remainder`` left unread. See the module docstring for the forms read.

    Examples
    --------
    >>> parse_address(pd.Series(["西关佳苑八号楼1单元501室"]))[["compound", "building", "unit", "floor", "room"]]
      compound building unit floor room
    0     西关佳苑        8    1     5  501
    """
    texts = pd.Series(texts) if not isinstance(texts, pd.Series) else texts
    if normalized:
        text = texts.astype("object").where(texts.notna(), "")
    else:
        norm = normalize_address(texts)
        text = norm["text"].where(~norm["junk"], "")
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    parsed = _parse_distinct(distinct) if len(distinct) else pd.DataFrame(columns=list(ELEMENTS), dtype="str")
    out = parsed.iloc[codes].set_axis(texts.index)
    return out.astype("str")
