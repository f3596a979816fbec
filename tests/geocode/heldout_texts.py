"""Held-out address texts: how real registers write addresses, in styles the sample-city generator does not use.

The sample city's generator (:mod:`cimlib.demo._delivery`) writes full, prefix-less, community-less, compound-only,
``8-1-501``, ``三单元``, full-width-digit, 幢/号楼/座 and remark forms. The matcher is tuned on those, so this module
writes the *same* standard addresses the way other departments' registers do, to judge whether it generalizes:

============== ==========================================================================================
style          example (for 先锋路101号西关佳苑8栋1单元501室 in 西城街道民主社区)
============== ==========================================================================================
gongan         ``湖北省随州市曾都区西城街道办事处民主社区居民委员会先锋路101号西关佳苑8幢1单元501`` (公安 实有人口)
shichang       ``随州市曾都区先锋路101号（西关佳苑）8栋1单元501铺`` (市场监管 经营地址)
spaced         ``曾都区 西城 先锋路 101号 西关佳苑 8栋 1单元 501室`` (every element apart, street without 街道)
hash           ``西关佳苑8#楼1-501`` / ``西关佳苑8#1单元501``
haolou         ``西关佳苑8号楼1单元501号`` / ``8座``
men            ``西关佳苑8栋1门501``
cn_mixed       ``西关佳苑八号楼第一单元五0一室`` (mixed 〇/零/0 room numerals)
floor_room     ``西关佳苑8栋1单元5楼501`` / ``5层501室``
reversed       ``西关佳苑8栋1单元501室 先锋路101号`` (compound first, road and door after)
no_hao         ``先锋路101西关佳苑8栋1单元501室`` (door number without 号)
traditional    ``西關佳苑8棟1單元501室`` (繁體)
mixed_width    ``西关佳苑８栋１单元５０１室`` with full-width letters, brackets and ideographic spaces
phone          ``西关佳苑8栋1单元501室 13907221234`` (a phone number after the address)
xiaoqu         ``西关佳苑小区8栋1单元501室`` (小区 appended to the name)
generic_drop   ``西关8栋1单元501室`` (the compound's generic word left out; only where that stem is unique)
street_no_jd   ``西城先锋路101号西关佳苑8栋1单元501室`` (the street without 街道)
label          ``住址：西关佳苑8栋1单元501室`` / ``家住…`` / ``现住 …`` (the form's field label or verb in front)
bracket_plate  ``西城街道西关佳苑（先锋路101号）8栋1单元501室`` (road and door plate in brackets after the name)
landmark       ``先锋路101号旁`` / ``对面`` (near a door plate: precision only)
typo           one wrong character in the road or compound name, from a table unlike the generator's
junk           ``详见户籍``, ``无固定住所``, ``——``, ``0``, ``不清楚`` ... (never matched)
============== ==========================================================================================

Compound-only heads are used only where the compound name is unique in the library (else a street or the road and
door number is written before it), so every full-detail text names exactly one standard address.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

FULL_DETAIL_STYLES = ("gongan", "shichang", "spaced", "hash", "haolou", "men", "cn_mixed", "floor_room", "reversed",
                      "no_hao", "traditional", "mixed_width", "phone", "xiaoqu", "generic_drop", "street_no_jd",
                      "label", "bracket_plate")
"""Styles that name the address completely (recall to the exact address is measured on them)."""

JUNK_TEXTS = ("详见户籍", "无固定住所", "——", "0", "不清楚", "查无此地址", "户籍所在地", "外出务工", "无此人", "？？",
              "已迁出", "居无定所", "NULL", "…", "同户主", "xx", "空号", "未登记", "0000", "流动")
"""Junk as other registers write it (none of these is in the generator's junk list)."""

_S2T = dict(zip("区县镇乡街道社居民委员会村门关阳华东园龙凤兴桥湾广场庄丰飞号楼层单栋幢厅宾馆厦滨为卫围双进乐开发经济书红胜宝义丽时务长汤满实锦岭绿兰圣"
                "万钢铁铜银锣岗坝湖滩泾涢随汉县阳纸厂电车站马鸟鱼龙凤凯运达连远邮报协会亿灵凤阁苍风观顺颐庙应寿庐钟鸿纺织业产农林"
                "贸宁乌韩齐鲁陈张刘杨赵吴孙郑罗梁谢宋许邓冯蒋沈韦杨叶肖严钱汪孔蒋聂贺"
                "头边园尔态术欢亚严处强归当后楼汇汉纪线组经结统丝绿总鸡鸣鹤岛峡峰岚",
                "區縣鎮鄉街道社居民委員會村門關陽華東園龍鳳興橋灣廣場莊豐飛號樓層單棟幢廳賓館廈濱為衛圍雙進樂開發經濟書紅勝寶義麗時務長湯滿實錦嶺綠蘭聖"
                "萬鋼鐵銅銀鑼崗壩湖灘涇溳隨漢縣陽紙廠電車站馬鳥魚龍鳳凱運達連遠郵報協會億靈鳳閣蒼風觀順頤廟應壽廬鐘鴻紡織業產農林"
                "貿寧烏韓齊魯陳張劉楊趙吳孫鄭羅梁謝宋許鄧馮蔣瀋韋楊葉蕭嚴錢汪孔蔣聶賀"
                "頭邊園爾態術歡亞嚴處強歸當後樓匯漢紀線組經結統絲綠總雞鳴鶴島峽峰嵐"))
_TO_FULL = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ()-#"}
_CN = "零一二三四五六七八九"
# one wrong character, unlike the generator's table: look-alike or same-sound characters
_TYPO = {"锋": "峰", "鼓": "古", "佳": "嘉", "苑": "宛", "府": "甫", "庭": "廷", "居": "局", "雅": "娅", "园": "元",
         "湾": "塆", "关": "观", "阳": "杨", "明": "鸣", "光": "洸", "华": "骅", "河": "合", "桥": "侨", "龙": "笼",
         "山": "杉", "水": "氺", "平": "坪", "东": "冬", "西": "栖", "南": "楠", "北": "贝", "新": "欣", "城": "诚",
         "花": "桦", "金": "锦", "林": "霖", "家": "嘉", "景": "井", "江": "汀", "中": "忠", "安": "按", "乐": "洛",
         "福": "富", "兴": "星", "泉": "权", "清": "晴", "湖": "瑚", "红": "虹", "岗": "刚", "门": "闷", "溪": "西"}
_COMPOUND_GENERIC = r"(?:小区|花园|公寓|新村|家园|佳苑|雅苑|名苑|华苑|苑|华府|公馆|山庄|雅居|广场|大厦|城|庭|院|府|里|园|居)$"


def _chains(addresses: pd.DataFrame) -> pd.DataFrame:
    """Per address: its ancestors' positions by element kind (``-1`` when none)."""
    ids = addresses["address_id"].astype("str").to_numpy(dtype=object)
    parent = addresses["parent_id"].astype("str").fillna("").to_numpy(dtype=object)
    etype = addresses["element_type"].astype("str").to_numpy(dtype=object)
    ppos = pd.Index(ids).get_indexer(parent)
    n = len(ids)
    kinds = {"street": ("21", "22", "23"), "community": ("31", "32", "33", "34"), "road": ("41",),
             "compound": ("42", "43", "44"), "building": ("50",), "unit": ("61",), "room": ("62",),
             "county": ("13",)}
    out = {k: np.full(n, -1) for k in kinds}
    cur = np.arange(n)
    alive = np.ones(n, dtype=bool)
    for _ in range(12):
        for k, types in kinds.items():
            sel = alive & np.isin(etype[np.maximum(cur, 0)], types) & (out[k] < 0)
            out[k][sel] = cur[sel]
        cur = np.where(alive, ppos[np.maximum(cur, 0)], -1)
        alive &= cur >= 0
        if not alive.any():
            break
    return pd.DataFrame(out)


def ancestors(addresses: pd.DataFrame) -> pd.DataFrame:
    """``(address_id, ancestor)`` pairs: every address with itself and each of its ancestors by parent links."""
    ids = addresses["address_id"].astype("str").to_numpy(dtype=object)
    parent = addresses["parent_id"].astype("str").fillna("").to_numpy(dtype=object)
    pos = pd.Index(ids).get_indexer(parent)
    rows = [pd.DataFrame({"address_id": ids, "ancestor": ids})]
    cur = np.arange(len(ids))
    for _ in range(12):
        cur = np.where(cur >= 0, pos[np.maximum(cur, 0)], -1)
        ok = cur >= 0
        if not ok.any():
            break
        rows.append(pd.DataFrame({"address_id": ids[ok], "ancestor": ids[cur[ok]]}))
    return pd.concat(rows, ignore_index=True)


def _cn_digits(number: str, rng) -> str:
    """``501`` as 五〇一 / 五零一 / 五0一 (digit by digit, zeros written as people do)."""
    zero = ("〇", "零", "0")[rng.integers(3)]
    return "".join(zero if c == "0" else _CN[int(c)] for c in number)


def _cn_value(number: str) -> str:
    """``12`` as 十二, ``3`` as 三 (numbers below 100)."""
    n = int(number)
    if not 0 < n < 100:
        return number
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else _CN[tens] + "十")) + (_CN[ones] if ones else "")


def heldout_texts(addresses: pd.DataFrame, *, seed: int = 0, per_style: int = 60) -> pd.DataFrame:
    """Texts of a random sample of standard addresses in held-out styles, with their true address.

    Parameters
    ----------
    addresses : pandas.DataFrame
        The standard-address element table (schema ``addresses``).
    seed : int
        Seed of the sample and of the choices inside a style.
    per_style : int
        Addresses drawn per style (fewer where a style applies to fewer addresses).

    Returns
    -------
    pandas.DataFrame
        ``address_id`` (true address, NA for junk), ``text``, ``style`` and ``full_detail`` (bool).
    """
    rng = np.random.default_rng(seed)
    a = addresses.reset_index(drop=True)
    name = a["name"].astype("str").fillna("").to_numpy(dtype=object)
    plate = a["door_plate"].astype("str").fillna("").to_numpy(dtype=object)
    etype = a["element_type"].astype("str").to_numpy(dtype=object)
    full = a["full_address"].astype("str").fillna("").to_numpy(dtype=object)
    ids = a["address_id"].astype("str").to_numpy(dtype=object)
    ch = _chains(a)
    comp_names = pd.Series(name[np.isin(etype, ["42", "43", "44"])])
    unique_comp = set(comp_names[~comp_names.duplicated(keep=False)])
    stems = comp_names.str.replace(_COMPOUND_GENERIC, "", regex=True)
    stem_ok = (stems.str.len() >= 2) & (stems != comp_names)
    # a stem is usable alone when no other compound (or road) name starts with it
    all_names = pd.Series(name[np.isin(etype, ["41", "42", "43", "44"])])
    starts = {s: int(all_names.str.startswith(s).sum()) for s in stems[stem_ok]}
    unique_stem = {c: s for c, s in zip(comp_names[stem_ok], stems[stem_ok]) if starts[s] == 1 and c in unique_comp}

    # addresses with a complete chain: county, street, community and a road or compound
    sample_types = np.isin(etype, ["42", "50", "61", "62"])
    comp_pos, road_pos = ch["compound"].to_numpy(), ch["road"].to_numpy()
    ok = sample_types & (ch["county"].to_numpy() >= 0) & (ch["street"].to_numpy() >= 0) & \
        (ch["community"].to_numpy() >= 0) & ((comp_pos >= 0) | (road_pos >= 0))
    pool = np.flatnonzero(ok)

    def parts(i: int) -> dict | None:
        c = ch.iloc[i]
        p = {"id": ids[i], "county": name[c["county"]], "street": name[c["street"]],
             "community": name[c["community"]], "prefix": full[c["county"]]}
        p["prov_city"] = p["prefix"][: len(p["prefix"]) - len(p["county"])]
        if c["compound"] >= 0:
            k = c["compound"]
            dp = pd.Series([plate[k]]).str.extract(r"^(.+?(?:路|街|巷|大道|道))([0-9]+)号$").iloc[0]
            if dp.isna().any():
                return None
            p.update(road=dp[0], door=dp[1], compound=name[k], building=None, door_id=ids[k])
            if c["building"] >= 0:
                b = pd.Series([name[c["building"]]]).str.extract(r"^([0-9]+)栋$").iloc[0, 0]
                if pd.isna(b):
                    return None
                p["building"] = b
        else:
            if c["building"] < 0:
                return None
            d = pd.Series([name[c["building"]]]).str.extract(r"^([0-9]+)号$").iloc[0, 0]
            if pd.isna(d):
                return None
            p.update(road=name[c["road"]], door=d, compound="", building=None, door_id=ids[c["building"]])
        p["unit"] = pd.Series([name[c["unit"]]]).str.extract(r"^([0-9]+)单元$").iloc[0, 0] if c["unit"] >= 0 else None
        p["room"] = pd.Series([name[c["room"]]]).str.extract(r"^([0-9]+)室$").iloc[0, 0] if c["room"] >= 0 else None
        if (c["unit"] >= 0 and pd.isna(p["unit"])) or (c["room"] >= 0 and pd.isna(p["room"])):
            return None
        composed = p["prefix"] + p["street"] + p["community"] + (
            f"{p['road']}{p['door']}号{p['compound']}" if p["compound"] else f"{p['road']}{p['door']}号")
        composed += (f"{p['building']}栋" if p["building"] else "") + (f"{p['unit']}单元" if p["unit"] else "") + \
            (f"{p['room']}室" if p["room"] else "")
        return p if composed == full[i] else None  # parts compose the full address (no broken links)

    def head(p: dict, style_rng) -> str:
        """Compound alone (unique names only), street + compound, or road + door + compound."""
        if not p["compound"]:
            return f"{p['road']}{p['door']}号"
        r = style_rng.random()
        if p["compound"] in unique_comp and r < 0.4:
            return p["compound"]
        if r < 0.7:
            return f"{p['street']}{p['compound']}"
        return f"{p['road']}{p['door']}号{p['compound']}"

    def tail(p: dict, b: str = "栋", u: str = "单元", r: str = "室") -> str:
        return (f"{p['building']}{b}" if p["building"] else "") + (f"{p['unit']}{u}" if p["unit"] else "") + \
            (f"{p['room']}{r}" if p["room"] else "")

    def short(street: str) -> str:
        return pd.Series([street]).str.replace(r"(?:街道|镇|乡)$", "", regex=True).iloc[0]

    def style_text(style: str, p: dict) -> str | None:
        R = rng.random
        if style == "gongan":
            st = p["street"][:-2] + "街道办事处" if p["street"].endswith("街道") else p["street"]
            cm = (p["community"][:-2] + "社区居民委员会" if p["community"].endswith("社区") else
                  p["community"][:-1] + "村民委员会" if p["community"].endswith("村") else p["community"])
            return p["prefix"] + st + cm + f"{p['road']}{p['door']}号{p['compound']}" + tail(p, "幢", "单元", "")
        if style == "shichang":
            comp = f"（{p['compound']}）" if p["compound"] else ""
            return re.sub(r"^.+?省", "", p["prefix"]) + f"{p['road']}{p['door']}号{comp}" + tail(
                p, "栋", "单元", ("铺", "号", "室")[rng.integers(3)])
        if style == "spaced":
            sep = (" ", "\u3000", "  ")[rng.integers(3)]
            bits = [p["county"], short(p["street"]), p["road"], f"{p['door']}号", p["compound"],
                    f"{p['building']}栋" if p["building"] else "", f"{p['unit']}单元" if p["unit"] else "",
                    f"{p['room']}室" if p["room"] else ""]
            return sep.join(b for b in bits if b)
        if not p["building"] and not p["unit"] and not p["room"] and style in (
                "hash", "haolou", "men", "cn_mixed", "floor_room", "generic_drop"):
            return None
        if style == "hash":
            if not p["building"]:
                return None
            if p["unit"] and p["room"] and R() < 0.5:
                return head(p, rng) + f"{p['building']}#楼{p['unit']}-{p['room']}"
            return head(p, rng) + tail(p, "#", "单元", "")
        if style == "haolou":
            if not p["building"]:
                return None
            return head(p, rng) + tail(p, ("号楼", "座")[rng.integers(2)], "单元", ("号", "")[rng.integers(2)])
        if style == "men":
            if not p["unit"]:
                return None
            return head(p, rng) + tail(p, "栋", "门", "")
        if style == "cn_mixed":
            b = f"{_cn_value(p['building'])}号楼" if p["building"] else ""
            u = f"第{_cn_value(p['unit'])}单元" if p["unit"] else ""
            r = f"{_cn_digits(p['room'], rng)}室" if p["room"] else ""
            return head(p, rng) + b + u + r
        if style == "floor_room":
            if not p["room"] or len(p["room"]) < 3:
                return None
            floor = str(int(p["room"][:-2]))
            fl = f"{floor}{('楼', '层')[rng.integers(2)]}"
            return head(p, rng) + (f"{p['building']}栋" if p["building"] else "") + \
                (f"{p['unit']}单元" if p["unit"] else "") + fl + p["room"] + ("室", "")[rng.integers(2)]
        if style == "reversed":
            if not p["compound"]:
                return None
            sep = ("", " ", "，")[rng.integers(3)]
            return p["compound"] + tail(p) + sep + f"{p['road']}{p['door']}号"
        if style == "no_hao":
            if not p["compound"]:
                return None
            return f"{p['street']}{p['road']}{p['door']}{p['compound']}" + tail(p)
        if style == "traditional":
            text = f"{p['street']}{p['community']}{p['road']}{p['door']}号{p['compound']}" + tail(p)
            return text.translate(str.maketrans(_S2T))
        if style == "mixed_width":
            text = f"{p['street']}（{p['community']}）{p['road']}{p['door']}号{p['compound']}" + tail(p)
            chars = [(_TO_FULL.get(c, c) if R() < 0.5 else c) for c in text]
            return "".join(chars).replace("（", ("（", "(")[rng.integers(2)])
        if style == "phone":
            phone = ("1" + "".join(str(x) for x in rng.integers(0, 10, 10)))
            noise = (f" {phone}", f"，电话：{phone}", f"(联系人李先生{phone})", f"  0722-{phone[-7:]}")[rng.integers(4)]
            return head(p, rng) + tail(p) + noise
        if style == "xiaoqu":
            if not p["compound"] or p["compound"].endswith("小区"):
                return None
            return head(p, rng).replace(p["compound"], p["compound"] + "小区") + tail(p)
        if style == "generic_drop":
            stem = unique_stem.get(p["compound"])
            if not stem:
                return None
            return stem + tail(p)
        if style == "street_no_jd":
            return short(p["street"]) + f"{p['road']}{p['door']}号{p['compound']}" + tail(p)
        if style == "label":
            word = ("住址：", "现住址:", "家住", "现住 ", "居住地址：", "住 ", "地址 ", "居住在")[rng.integers(8)]
            return word + head(p, rng) + tail(p)
        if style == "bracket_plate":
            if not p["compound"]:
                return None
            before = (p["street"], p["street"] + p["community"], p["county"], "")[rng.integers(4)]
            if not before and p["compound"] not in unique_comp:
                before = p["street"]
            return before + p["compound"] + ("（", "(")[rng.integers(2)] + f"{p['road']}{p['door']}号" + \
                ("）", ")")[rng.integers(2)] + tail(p)
        if style == "landmark":
            return f"{p['road']}{p['door']}号" + ("旁", "对面", "附近", "旁边小卖部")[rng.integers(4)]
        if style == "typo":
            target = ("road", "compound")[rng.integers(2)] if p["compound"] else "road"
            nm = p[target]
            spots = [k for k, c in enumerate(nm[:-1]) if c in _TYPO]
            if not spots:
                return None
            k = spots[rng.integers(len(spots))]
            wrong = nm[:k] + _TYPO[nm[k]] + nm[k + 1:]
            q = dict(p, **{target: wrong})
            return f"{q['street']}{q['road']}{q['door']}号{q['compound']}" + tail(q)
        raise ValueError(style)

    rows = []
    for style in FULL_DETAIL_STYLES + ("landmark", "typo"):
        order = rng.permutation(pool)
        got = 0
        for i in order:
            if got >= per_style:
                break
            p = parts(int(i))
            if p is None:
                continue
            text = style_text(style, p)
            if text is None:
                continue
            true = p["door_id"] if style == "landmark" else p["id"]
            rows.append((true, text, style, style in FULL_DETAIL_STYLES))
            got += 1
    for j in JUNK_TEXTS:
        rows.append((None, j, "junk", False))
    df = pd.DataFrame(rows, columns=["address_id", "text", "style", "full_detail"])
    return df.astype({"address_id": "object", "text": "str", "style": "str", "full_detail": "bool"})


def judge(texts: pd.DataFrame, result: pd.DataFrame, addresses: pd.DataFrame) -> pd.DataFrame:
    """Per text: ``got`` (returned id), ``status``, ``on_chain`` (returned address lies on the true address's chain)
    and ``exact`` (returned = true)."""
    chains = ancestors(addresses)
    df = texts.reset_index(drop=True).assign(got=result["address_id"].to_numpy(dtype=object),
                                             status=result["status"].to_numpy(dtype=object))
    on = df.merge(chains, left_on=["address_id", "got"], right_on=["address_id", "ancestor"], how="left")["ancestor"]
    # as in test_match: an element whose full address begins the true address's (a door-plate building at the
    # door of a compound, or under a broken parent link) also lies on its chain
    full = addresses.drop_duplicates("address_id").set_index("address_id")["full_address"].astype("str")
    got_full, true_full = df["got"].map(full), df["address_id"].map(full)
    prefix = np.array([isinstance(g, str) and isinstance(t, str) and t.startswith(g)
                       for g, t in zip(got_full, true_full)], dtype=bool)
    df["on_chain"] = on.notna().to_numpy() | prefix
    df["exact"] = (df["got"] == df["address_id"]).fillna(False).astype(bool).to_numpy()
    return df


def figures(judged: pd.DataFrame) -> pd.DataFrame:
    """Per style: texts, returned, precision (returned on chain), recall (exact)."""
    df = judged.assign(returned=judged["got"].notna())
    g = df.groupby("style", sort=False)
    out = pd.DataFrame({"texts": g.size(), "returned": g["returned"].sum(),
                        "precision": df[df["returned"]].groupby("style", sort=False)["on_chain"].mean(),
                        "recall": g["exact"].mean()})
    return out.fillna({"precision": 1.0})
