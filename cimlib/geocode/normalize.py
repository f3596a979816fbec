"""Normalize free-text addresses as people write them (STANDARDS.md §3, GB/T 35602-2017 elements).

:func:`normalize_address` turns a column of address texts into one written form that :func:`cimlib.geocode.parse.
parse_address` reads with plain regular expressions:

* NFKC (full-width digits, letters, brackets and spaces to half width), 繁体 characters of place names and address
  words to 简体 (``西關佳苑8棟`` -> ``西关佳苑8栋``), letters upper-cased, 號 -> 号, every dash
  (``—``, ``–``, ``－``, ``~`` …) -> ``-``, spaces and punctuation removed, a leading ``中国`` dropped, and so is a
  leading field label or verb (``住址：``, ``经营地址：``, ``地址 ``, ``现住``, ``家住``, ``居住在``, ``住 ``);
* a road and door plate in a bracket after the name of the place it numbers moved before the name, where the
  address order puts it (``西关佳苑（先锋路101号）8栋`` -> ``先锋路101号西关佳苑8栋``);
* Chinese numerals to digits where they number a door plate, building, unit, floor or room (``三单元`` -> ``3单元``,
  ``八号楼`` -> ``8栋``, ``二〇一室`` -> ``201室``, ``五0一室`` -> ``501室``, ``十二号`` -> ``12号``, ``两单元`` -> ``2单元``),
  never inside a name
  (``三里路``, ``十里家园``, ``五四街`` stay as written);
* one form per element: ``栋`` for 栋/幢/号楼/座/#楼/# (and for ``楼`` directly before a unit: ``3楼2单元``),
  ``室`` for 室/户/房/房间/号房/铺 and for ``号`` after a building, unit or floor (``2单元501号``), ``单元`` for ``门``
  after a building (``8栋1门501``, ``8栋2门``), ``号`` after a door number written without it before a name
  (``先锋路101西关佳苑`` -> ``先锋路101号西关佳苑``), ``-`` for door-plate
  sub-numbers (``12号附3号``, ``12附3号``, ``12号之3`` -> ``12-3号``), ``-1楼`` for 负一楼/地下一层;
* noise set aside, not lost: bracketed remarks (``（出租屋）``) and everything from a remark word on (附近, 旁, 对面,
  周边, 隔壁, 后面, 往东100米, 门面 …) and a phone number with what follows it (``电话：139…``, ``0722-…``) go to
  ``noise``; a bracket that holds address parts or one name ending in a compound or area word (``(西关佳苑)``,
  ``（擂鼓新华雅居）``) is kept without its brackets;
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

# traditional characters of place names, roads, compounds and address words -> simplified (character by character:
# names are short and their characters unambiguous; a register written in 繁体 reads like one written in 简体)
_T2S_TRAD = (
       "區縣鎮鄉號樓層單棟廳賓館廈濱為衛圍雙進樂開發經濟書紅勝寶義麗時務長湯滿實錦嶺綠蘭聖萬鋼鐵銅銀鑼崗壩灘涇隨漢陽紙廠電車馬鳥"
       "魚龍鳳凱運達連遠郵報協會億靈閣蒼風觀順頤廟應壽廬鐘鍾鴻紡織業產農貿寧烏韓齊魯陳張劉楊趙吳孫鄭羅謝許鄧馮蔣瀋韋葉蕭嚴錢聶賀"
       "頭邊園爾態術歡亞處強歸當後匯紀線組結統絲總雞鳴鶴島峽嵐東門關華灣廣場莊興橋豐飛員環項燈煙礦鄰舊滬蘇瀏潤澤湧溝滄濕灑瀾淵漁"
       "樹橫檔櫻楓機權槍棲欄穀殼際陰陸隊階隱險閘閩闊問間閒閱聞貴賢資質賣買貨費財貝負貢賽軍軒輝輪轉較載輕衚衕醫療藥養護學師範氣體"
       "動勞塢壇墻牆壓塊堅墊墳壯聲壺嶽峯崙嶼巖巒幣帶幫彎彥徑從復徵憶懷戶擴擁擇據撫擬斷於曉暢曆曬條楨榮標檢櫃歐歲殘溫潔澗濤濰爐營"
       "燦牽獅獨獲猶現瑪璽畫疊盤盧監盡碼磚礎確禮禪禦稅種穩積窩竇競築簡節籃約納級細終絡給維網綜緣編練縫纜習聯聽職腦臺臨與艙藝蔭蘆"
       "蘋藍薑蓮蔥蝦螢補裝製複見規視親覺計記設訪評詩話誠語說課調論諾講證識議讓變貓躍軌辦遷選遺還邁釀針釣鈴銘鋒鋪錄鍋鎖鏡鑽鑄閏陣"
       "隴雖雜離難雲霧靜韻響頁頂須預領頻額顏顧顯題類颱飄飯飲饒駐騰驛驗驢驚髮鬧鮮鯉鯨鴨鵝鵬鶯鷹鸞鹵鹼鹽麥黃點黨齒龜佈來倉個們偉傳"
       "僑價儀優儲兒內兩冊劃劍劑勁勢勵卻厲參叢啟喬團圓圖國堯夢夥奪奮婦審寫寬對導將專尋屬岡峴崢嶄帥幹庫廂廢彌恆惡愛慶憲戲戰數敵晉"
       "朧棗棧構檯歷決沒滅災無煉熱爭狀獎瑯畝畢盃眾祿稱窯竊筆籌糧紐純絕緊縱繩繼續纖罷肅腳臥萊葦蓋薈薊薩蘊虛蠶衝裏裡褲覽觸訂詢該誌"
       "誼謀豎趕跡蹤迴這過違遞適遲遼鄒酈醬釋鑒閃閉閬闕陝隸雋雛靄頃頌頓頗顆颯餘馳駕駱騎驅鬱鳩鵲齋龐灣")
_T2S_SIMP = (
       "区县镇乡号楼层单栋厅宾馆厦滨为卫围双进乐开发经济书红胜宝义丽时务长汤满实锦岭绿兰圣万钢铁铜银锣岗坝滩泾随汉阳纸厂电车马鸟"
       "鱼龙凤凯运达连远邮报协会亿灵阁苍风观顺颐庙应寿庐钟钟鸿纺织业产农贸宁乌韩齐鲁陈张刘杨赵吴孙郑罗谢许邓冯蒋沈韦叶萧严钱聂贺"
       "头边园尔态术欢亚处强归当后汇纪线组结统丝总鸡鸣鹤岛峡岚东门关华湾广场庄兴桥丰飞员环项灯烟矿邻旧沪苏浏润泽涌沟沧湿洒澜渊渔"
       "树横档樱枫机权枪栖栏谷壳际阴陆队阶隐险闸闽阔问间闲阅闻贵贤资质卖买货费财贝负贡赛军轩辉轮转较载轻胡同医疗药养护学师范气体"
       "动劳坞坛墙墙压块坚垫坟壮声壶岳峰仑屿岩峦币带帮弯彦径从复征忆怀户扩拥择据抚拟断于晓畅历晒条桢荣标检柜欧岁残温洁涧涛潍炉营"
       "灿牵狮独获犹现玛玺画叠盘卢监尽码砖础确礼禅御税种稳积窝窦竞筑简节篮约纳级细终络给维网综缘编练缝缆习联听职脑台临与舱艺荫芦"
       "苹蓝姜莲葱虾萤补装制复见规视亲觉计记设访评诗话诚语说课调论诺讲证识议让变猫跃轨办迁选遗还迈酿针钓铃铭锋铺录锅锁镜钻铸闰阵"
       "陇虽杂离难云雾静韵响页顶须预领频额颜顾显题类台飘饭饮饶驻腾驿验驴惊发闹鲜鲤鲸鸭鹅鹏莺鹰鸾卤碱盐麦黄点党齿龟布来仓个们伟传"
       "侨价仪优储儿内两册划剑剂劲势励却厉参丛启乔团圆图国尧梦伙夺奋妇审写宽对导将专寻属冈岘峥崭帅干库厢废弥恒恶爱庆宪戏战数敌晋"
       "胧枣栈构台历决没灭灾无炼热争状奖琅亩毕杯众禄称窑窃笔筹粮纽纯绝紧纵绳继续纤罢肃脚卧莱苇盖荟蓟萨蕴虚蚕冲里里裤览触订询该志"
       "谊谋竖赶迹踪回这过违递适迟辽邹郦酱释鉴闪闭阆阙陕隶隽雏霭顷颂顿颇颗飒余驰驾骆骑驱郁鸠鹊斋庞湾")

# characters mapped one to one before anything else (after NFKC)
_TRANSLATE = str.maketrans({"號": "号", "—": "-", "–": "-", "‐": "-", "‑": "-", "‒": "-", "―": "-", "−": "-",
                            "﹣": "-", "~": "-", "〜": "-", "～": "-", "＿": "_", "棟": "栋", "單": "单", "層": "层",
                            "樓": "楼", "區": "区", "鎮": "镇", "鄉": "乡", "衛": "卫", "〔": "(",
                            "〕": ")", "【": "(", "】": ")", "[": "(", "]": ")", "{": "(", "}": ")", "［": "(",
                            "］": ")", "﹙": "(", "﹚": ")", "「": "(", "」": ")", "『": "(", "』": ")", "<": "(",
                            ">": ")", "《": "(", "》": ")", "〈": "(", "〉": ")"}
                           | dict(zip("東園門鎮鄉縣莊灣廣場華龍鳳興橋陽雲豐飛號樓層單幢棟區街賓館廈濱灣爲衛圍龍雙",
                                    "东园门镇乡县庄湾广场华龙凤兴桥阳云丰飞号楼层单幢栋区街宾馆厦滨湾为卫围龙双"))
                           | dict(zip(_T2S_TRAD, _T2S_SIMP)))

_SPACE_PUNCT = re.compile(r"[\s,，。、;；:：!！'\"“”‘’`·•．…_*=+|\\^]+")
_DOTS = re.compile(r"(?<![0-9])\.|\.(?![0-9])")  # a dot that is not a decimal point
_CHINA = re.compile(r"^(?:中华人民共和国|中国)")
# a leading label or verb of the form's field (住址：, 现住, 家住, 居住在, 经营地址：…), dropped: a label followed by a
# colon or a space; a verb of two characters or more directly; 住 alone only before a colon or a space
_LABEL = re.compile(r"^\s*(?:(?:(?:现|户籍|居住|经营|注册|联系|通讯|通信|办公|家庭|单位|详细)?地址|住址|住所地?|经营场所|现住址|"
                    r"现住|现居住|现居|居住|家住|暂住|住)(?:在|于)?(?:\s*[:：]\s*|\s+)|(?:现住址|现住|现居住|现居|家住|住在|"
                    r"住于|居住在|居住于|暂住在|暂住于)\s*)")
# a road and door plate written in a bracket after the name of the place it numbers (西关佳苑（先锋路101号）8栋):
# moved before the name, where the address order puts it (先锋路101号西关佳苑8栋)
_BRACKET_PLATE = re.compile(r"([\u4e00-\u9fffA-Z0-9]*?)\(([\u4e00-\u9fff]{1,12}?(?:大道|大街|路|街|巷|弄)[0-9]+(?:-[0-9]+)?号?)\)")
# the admin part before that name: up to the last 省/市/区/县/街道/镇/乡/社区 (not 小区, 园区, 超市 … which end names;
# not 村, which ends 新村 as often as a village)
_AREA_END = re.compile(r"^(.*(?:省|自治区|(?<![超菜夜集门])市|(?<![小园校厂景营])区|县|街道|镇|乡|社区|村委会|居委会))")

# remarks: a bracket, or everything from a remark word on (not at the very start: "对面" alone is junk)
_REMARK_WORDS = (r"附近|旁边|旁|对面|斜对面|周边|周围|隔壁|后面|后边|背后|对过|楼下|[东南西北]{1,2}(?:侧|面|边)(?:[0-9]+米)?"
                 r"|(?:往|向|朝)[东南西北]{1,2}(?:方向)?(?:约)?[0-9]*米?|[0-9]+米处?|一楼门面|临街门面|门面房?|商铺|"
                 r"交叉口|红绿灯|出租屋|租住|暂住|临时住所")
_TRAILING = re.compile(rf"(?<=.)((?:{_REMARK_WORDS}).*)$")
_BRACKET = re.compile(r"\(([^()]*)\)?")
# a bracket is address content (kept, brackets dropped) when it holds address parts and no remark word
_ADDRESS_PART = re.compile(r"[0-9一二三四五六七八九十]+(?:栋|幢|号楼|座|单元|室|户|号|楼|层)|小区|花园|苑|公寓|新村|家园|大厦|广场"
                           r"|社区|村|街道|镇|路|街|巷")
# a bracket that holds one name ending in a compound or area word is address content even when its name has a
# character of the remark list (（擂鼓新华雅居）, （何店社区）), unless it says where someone stays
_NAME_IN_BRACKET = re.compile(r"[\u4e00-\u9fffA-Z0-9]{2,14}(?:小区|花园|公寓|新村|家园|苑|华府|公馆|山庄|雅居|广场|大厦|大楼|中心"
                              r"|城|庭|院|府|园|居|邸|墅|湾|阁|轩|宿舍|社区|村|街道|镇|乡|路|街|巷|大道|[0-9]+号)")
_STAY_IN_BRACKET = re.compile(r"出租|租住|暂住|借住|亲戚|朋友|家里|附近|旁|对面|电话|手机|备注|已搬|搬走")
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
_UNIT_MEN_END = re.compile(r"(?<=[栋号])([0-9]{1,2})门$")  # 8栋2门 (the unit, nothing after)
_SHOP = re.compile(r"([0-9]+)(?:号铺|铺面|铺位|铺)")  # 市场监管: 101铺 is the room (shop) 101
# a door number written without 号 after a road's generic word, before a name (先锋路101西关佳苑): not a sub-lane
# (东风路2巷), a building or any other numbered element
_DOOR_NO_HAO = re.compile(r"((?:大道|大街|路|街|巷)[0-9]{1,5})(?=[\u4e00-\u9fff])(?!巷|弄|条|胡同|号|栋|幢|座|单元|楼|层|室|户"
                          r"|房|门|期|区|组|队|米|附|之)")
# digit runs written half in Chinese numerals (五0一室, 1〇2): every character a digit, digit by digit
_MIXED_DIGITS = re.compile(r"(?:(?<=[栋幢座号楼层元门室#-])|^)[0-9零〇○一二三四五六七八九]*(?:[0-9][零〇○一二三四五六七八九]|[零〇○一二三四五六七八九][0-9])"
                           r"[0-9零〇○一二三四五六七八九]*(?=室|号|户|房|楼|层|栋|幢|座|单元|$)")
_MIXED_TABLE = str.maketrans("零〇○一二三四五六七八九", "00012345678" "9")
# a phone number and what follows it (联系人/电话 before it included), set aside before spaces are removed
_PHONE = re.compile(r"(?:[(]?(?:联系人|联系电话|联系方式|电话|手机|TEL|PHONE)[^0-9]{0,8})?(?<![0-9])"
                    r"(?:1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})(?![0-9]).*$", re.IGNORECASE)
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
    noise_parts = []
    has_phone = s.str.contains(r"[0-9]{7}", regex=True).to_numpy(dtype=bool)
    if has_phone.any():  # phone numbers: before spaces go (a room and a phone must not run together)
        phone = s[has_phone].str.extract(f"({_PHONE.pattern})", flags=re.IGNORECASE, expand=False)
        phone = phone[phone.notna() & (phone.str.len() < s[has_phone].str.len())]  # an address must remain
        if len(phone):
            noise_parts.append(phone.str.replace(_SPACE_PUNCT.pattern, "", regex=True))
            s = s.copy()
            s[phone.index] = s[phone.index].str.replace(_PHONE, "", regex=True).to_numpy(dtype=object)
    s = _sub(s, _LABEL, "", "^\\s*(?:现|户籍|居住|经营|注册|联系|通讯|通信|办公|家庭|单位|详细|地址|住|家住|暂住)")
    s = s.str.replace(_SPACE_PUNCT.pattern, "", regex=True)
    s = _sub(s, _DOTS, "", r"\.")
    s = s.str.replace(_CHINA.pattern, "", regex=True)
    s = _sub(s, _BRACKET_PLATE, _plate_first, r"\([^()]*(?:路|街|巷|弄|大道)[0-9]")

    # brackets: address content stays (brackets dropped), remarks go to noise
    has_bracket = s.str.contains(r"[()]", regex=True).to_numpy(dtype=bool)
    if has_bracket.any():
        b = s[has_bracket]
        inner = b.str.extractall(_BRACKET)
        if len(inner):
            content = inner[0].fillna("")
            keep = (content.str.contains(_ADDRESS_PART) & ~content.str.contains(_REMARK_IN_BRACKET)) | (
                content.str.fullmatch(_NAME_IN_BRACKET) & ~content.str.contains(_STAY_IN_BRACKET))
            removed = content[~keep & (content != "")]
            if len(removed):
                noise_parts.append(removed.groupby(level=0).agg("；".join))
        b = b.str.replace(_BRACKET, lambda m: m.group(1) if _keep_bracket(m.group(1) or "") else "", regex=True)
        s = s.copy()
        s[has_bracket] = b.str.replace(r"[()]", "", regex=True).to_numpy(dtype=object)

    # Chinese numerals that number a door, building, unit, floor or room
    has_cn = s.str.contains(f"[{_NUMERAL}]", regex=True).to_numpy(dtype=bool)
    if has_cn.any():
        c = _sub(s[has_cn], _MIXED_DIGITS, lambda m: m.group(0).translate(_MIXED_TABLE),
                 "[0-9][零〇○一二三四五六七八九]|[零〇○一二三四五六七八九][0-9]")
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
    s = _sub(s, _UNIT_MEN_END, r"\1单元", "[栋号][0-9]{1,2}门$")
    s = _sub(s, _SHOP, r"\1室", "[0-9](?:号铺|铺)")
    s = _sub(s, _DOOR_NO_HAO, r"\1号", "(?:路|街|巷|道)[0-9]+[\u4e00-\u9fff]")
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


def _plate_first(m: re.Match) -> str:
    """``西关佳苑(先锋路101号)`` -> ``先锋路101号西关佳苑``, after the admin part before the name (see _BRACKET_PLATE)."""
    before, plate = m.group(1), m.group(2)
    head = _AREA_END.match(before)
    head = head.group(1) if head else ""
    name = before[len(head):]
    road = re.match(r"[\u4e00-\u9fff]+?(?:大道|大街|路|街|巷|弄)", plate).group(0)
    if name.startswith(road):  # 先锋路西关佳苑(先锋路101号): the road is written once
        name = name[len(road):]
    return head + plate + name


def _keep_bracket(content: str) -> bool:
    """True when a bracket's content is address parts (kept inline) rather than a remark (set aside)."""
    if _NAME_IN_BRACKET.fullmatch(content) and not _STAY_IN_BRACKET.search(content):
        return True
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
