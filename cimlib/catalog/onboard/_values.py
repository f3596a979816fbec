"""What a column holds, judged from its values: detectors run vectorized on a sample of rows.

:func:`profile_column` computes, once per column, the share of sampled values passing each detector (GB 11643
ID numbers, GB 32100 credit codes, GB/T 37346 不动产单元代码, JGJ/T 246 房屋代码, GB/T 39409 北斗网格位置码, phone
numbers, division codes, dates, coordinates, addresses, person and organisation names, ...), plus uniqueness and the
dominant *shape* of the values (digits as ``9``, letters as ``A``), which links a column to another file's
identifier column.
:func:`value_fit` turns a profile into evidence for one kind of field (``[-1, 1]``, with a Chinese note).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ColumnProfile", "FitContext", "profile_column", "profile_frame", "value_fit", "as_text", "infer_city",
           "shape_of", "vocabularies", "isin"]

#: Common Chinese surnames (the first character of a 2–4 character person name); compound surnames separately.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪"
    "范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪"
    "庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣"
    "巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强"
    "帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯"
    "隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                     "夏侯", "令狐", "端木", "西门", "南宫")

_CJK = r"\u3400-\u9fff"
_RE = {
    "ric_shape": re.compile(r"\d{17}[\dXx]"),
    "uscc_shape": re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"),
    "bdcdyh_shape": re.compile(r"\d{12}[A-Z]{2}\d{5}[A-Z]\d{8}"),
    "mobile": re.compile(r"1[3-9]\d{9}"),
    "idlike": re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.:/#]{0,63}"),
    "cjk": re.compile(f"[{_CJK}]"),
    "person_name": re.compile(f"[{_CJK}]{{2,4}}|[{_CJK}]{{1,3}}·[{_CJK}]{{1,6}}"),
    "address": re.compile(r"(省|市|区|县|旗|镇|乡|街道|路|街|大道|巷|弄|胡同|村|组|社区|小区|花园|苑|庄园|公寓|大厦|广场|"
                          r"号|栋|幢|座|楼|单元|室|层|户|门)"),
    "address_number": re.compile(r"\d+\s*(号|栋|幢|座|单元|室|层|楼|组)"),
    "org_name": re.compile(r"(公司|有限|集团|厂|店|馆|中心|合作社|学校|小学|中学|大学|学院|幼儿园|医院|诊所|卫生院|委员会|"
                           r"局|办公室|所|站|部|行|社|院|工作室|超市|酒店|宾馆|餐厅|饭店|商行|经营部|门市|协会|基金会|银行|"
                           r"支行|分公司|事务所|研究所|车行|网吧|药房|药店|农场|工作站|服务队|联合会|商会|个体工商户)$"),
    "admin_name": re.compile(r"(省|自治区|市|地区|州|盟|区|县|旗|街道|镇|乡|苏木|社区|村|居委会|村委会|办事处|管委会|"
                             r"开发区|园区|林场|农场|新区|嘎查)$"),
    "road_name": re.compile(r"(路|街|大道|巷|道|大街|胡同|弄|里|线|公路|桥|隧道|环路|高架|快速路)$"),
    "door_plate": re.compile(r"[\d\-－之附甲乙丙]+号(院|楼|附\d+号)?|\d+(栋|幢|单元|室)"),
    "dept": re.compile(r"(局|委员会|委|办公室|办|中心|公司|院|所|厅|部|队|站|署|集团|政府)$"),
    "period": re.compile(r"\d{4}-(0[1-9]|1[0-2])|\d{4}年(0?[1-9]|1[0-2])月|\d{4}(0[1-9]|1[0-2])"),
    "date": re.compile(r"(19|20)\d{2}(?P<sep>[-/.])(0?[1-9]|1[0-2])(?P=sep)(0?[1-9]|[12]\d|3[01])"
                       r"|(19|20)\d{2}年(0?[1-9]|1[0-2])月(0?[1-9]|[12]\d|3[01])日"
                       r"|(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])"),
    "datetime": re.compile(r"(19|20)\d{2}[-/.年](0?[1-9]|1[0-2])[-/.月](0?[1-9]|[12]\d|3[01])日?[ T]\d{1,2}[:时]\d{2}"),
    "metric_name": re.compile(r"[A-Za-z][A-Za-z0-9_]*"),
    "unit_symbol": re.compile(r"[A-Za-z%°℃μ/³²·\-0-9]{1,8}|[米秒度升吨个次]"),
    "short_code": re.compile(r"[A-Za-z0-9\-#]{1,10}"),
    "beidou_shape": re.compile(r"[NSns]\d{2}[A-Va-v][0-9A-Fa-f]{0,16}"),
}
_BOOL_VALUES = frozenset({"是", "否", "y", "n", "yes", "no", "1", "0", "true", "false", "有", "无", "√", "×", "已", "未"})


# --------------------------------------------------------------------------------------------- text of a column


def as_text(series: pd.Series) -> pd.Series:
    """Values of a column as stripped strings, missing and blank values dropped (index kept).

    Integral floats are written without ``.0`` (``12.0`` -> ``12``), timestamps as ISO text, so that codes read
    as numbers by a driver still look like codes.

    Parameters
    ----------
    series : pandas.Series
        A column of the sample.

    Returns
    -------
    pandas.Series of str
    """
    s = series[series.notna()]
    if s.empty:
        return pd.Series([], dtype="str")
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s.dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "", regex=False)
    elif pd.api.types.is_float_dtype(s.dtype):
        values = s.to_numpy(dtype=float)
        integral = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 2**53)
        out = s.astype(str)
        out[integral] = values[integral].astype(np.int64).astype(str)
    elif pd.api.types.is_bool_dtype(s.dtype):
        out = s.map({True: "true", False: "false"}).astype(str)
    else:
        obj = s.to_numpy(dtype=object)
        out = s.astype(str).str.replace(r"[ T]00:00:00(\.0+)?$", "", regex=True)
        floats = np.fromiter((isinstance(v, float) for v in obj), dtype=bool, count=len(obj))
        if floats.any():
            vals = np.array([v if isinstance(v, float) else np.nan for v in obj], dtype=float)
            integral = floats & np.isfinite(vals) & (np.floor(vals) == vals) & (np.abs(vals) < 2**53)
            out[integral] = vals[integral].astype(np.int64).astype(str)
    out = out.astype(str).str.strip()
    return out[out != ""].astype("str")


def shape_of(values: pd.Series) -> pd.Series:
    """Shape of each value: digits as ``9``, upper-case letters as ``A``, lower-case as ``a``, CJK as ``汉``.

    Parameters
    ----------
    values : pandas.Series of str

    Returns
    -------
    pandas.Series of str
    """
    return (values.str.replace(r"\d", "9", regex=True)
            .str.replace(r"[A-Z]", "A", regex=True)
            .str.replace(r"[a-z]", "a", regex=True)
            .str.replace(f"[{_CJK}]", "汉", regex=True))


def _collapse(shape: str) -> str:
    """A shape with runs collapsed (``AA99999`` -> ``A9``), for identifiers of varying length."""
    return re.sub(r"(.)\1+", r"\1", shape)


@lru_cache(maxsize=256)
def _index_of(values: frozenset) -> pd.Index:
    return pd.Index(sorted(values), dtype=object)


def isin(values: pd.Series, allowed: frozenset) -> np.ndarray:
    """Membership of each value in a set, by one hash-table lookup over the whole array."""
    if not allowed or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    return _index_of(frozenset(allowed)).get_indexer(values.to_numpy(dtype=object)) >= 0


def _share(mask) -> float:
    mask = np.asarray(mask, dtype=bool)
    return float(mask.mean()) if mask.size else 0.0


def _full(values: pd.Series, key: str) -> np.ndarray:
    return values.str.fullmatch(_RE[key]).fillna(False).to_numpy(dtype=bool)


def _search(values: pd.Series, key: str) -> np.ndarray:
    return values.str.contains(_RE[key]).fillna(False).to_numpy(dtype=bool)


# --------------------------------------------------------------------------------------------- profiles


@dataclass
class ColumnProfile:
    """What the sampled values of one column look like.

    Attributes
    ----------
    name : str
        Column name (as the reader returns it).
    n : int
        Sampled rows.
    nonnull : int
        Non-blank values among them.
    unique_ratio : float
        Distinct / non-blank values.
    shares : dict of str to float
        Share of non-blank values passing each detector (``ric``, ``uscc``, ``phone``, ``street``, ...).
    shape, shape_share : str, float
        Dominant value shape and its share; ``shape_collapsed`` the same with runs collapsed.
    numeric : numpy.ndarray
        Values parsed as numbers (NaN where not numeric).
    prefixes : collections.Counter
        County codes (first 6 digits) of 9/12-digit division-like codes, and 6-digit county codes.
    top : list of str
        Most common values (up to 30).
    values : pandas.Series of str
        The non-blank sampled values as text.
    """

    name: str
    n: int
    nonnull: int
    unique_ratio: float
    shares: dict[str, float]
    shape: str
    shape_share: float
    shape_collapsed: str
    numeric: np.ndarray
    prefixes: Counter
    top: list[str]
    values: pd.Series = field(repr=False)
    lit_shape: str = ""
    lit_share: float = 0.0
    uniques: pd.Series = field(default_factory=lambda: pd.Series([], dtype="str"), repr=False)
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def nonnull_share(self) -> float:
        """Non-blank share of the sampled rows."""
        return self.nonnull / self.n if self.n else 0.0

    def share(self, key: str) -> float:
        """Share of a detector (0 when not computed)."""
        return self.shares.get(key, 0.0)


def _division_prefixes(values: pd.Series, lengths: np.ndarray, digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which values are division-like codes (6/9/12 digits under a valid division), and which of them name a
    county (first 6 digits a county-level code, not a city or province)."""
    from cimlib.codes.divisions import division_valid

    ok = digits & np.isin(lengths, (6, 9, 12))
    county_ok = np.zeros(len(values), dtype=bool)
    if not ok.any():
        return county_ok, county_ok.copy()
    head = values.str.slice(0, 6)
    idx = np.flatnonzero(ok)
    county_ok[idx] = division_valid(head.iloc[idx].to_numpy(dtype=object))
    return county_ok, county_ok & ~head.str.endswith("00").fillna(False).to_numpy(dtype=bool)


def profile_column(series: pd.Series, name: str | None = None) -> ColumnProfile:
    """Run every detector on one column of a sample.

    Parameters
    ----------
    series : pandas.Series
        The sampled values (any dtype).
    name : str, optional
        Column name (default: ``series.name``).

    Returns
    -------
    ColumnProfile
    """
    with warnings.catch_warnings():  # patterns with groups are used as plain tests (str.contains)
        warnings.simplefilter("ignore", UserWarning)
        return _profile_column(series, name)


def _profile_column(series: pd.Series, name: str | None) -> ColumnProfile:
    from cimlib.codes.beidou import valid as beidou_valid
    from cimlib.codes.ids import bdcdyh_valid, house_code_valid, phone_valid, ric_valid, uscc_valid

    n = len(series)
    values = as_text(series)
    m = len(values)
    shares: dict[str, float] = {}
    if m == 0:
        return ColumnProfile(str(name if name is not None else series.name), n, 0, 0.0, shares, "", 0.0, "",
                             np.array([], dtype=float), Counter(), [], values)
    vc = values.value_counts()
    u = pd.Series(vc.index.to_numpy(dtype=object), dtype="str")  # detectors run once per distinct value
    weight = vc.to_numpy(dtype=float) / m

    def share(mask) -> float:
        return round(float(weight[np.asarray(mask, dtype=bool)].sum()), 6)

    def full(key: str, texts: pd.Series = u) -> np.ndarray:
        return texts.str.fullmatch(_RE[key]).fillna(False).to_numpy(dtype=bool)

    def search(key: str, texts: pd.Series = u) -> np.ndarray:
        return texts.str.contains(_RE[key]).fillna(False).to_numpy(dtype=bool)

    lengths = u.str.len().to_numpy(dtype=np.int64)
    digits = u.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
    numeric = pd.to_numeric(u.str.replace(",", "", regex=False), errors="coerce").to_numpy(dtype=float)
    is_num = np.isfinite(numeric)
    integral = is_num & (np.floor(np.where(is_num, numeric, 0)) == np.where(is_num, numeric, 0.5))
    integral &= ~u.str.contains(r"\.\d*[1-9]").fillna(False).to_numpy(dtype=bool)
    cjk = search("cjk")
    shares["numeric"] = share(is_num)
    shares["integer"] = share(integral)
    shares["digits"] = share(digits)
    shares["cjk"] = share(cjk)
    shares["idlike"] = share(full("idlike") & ~(is_num & ~integral))
    has_digit = u.str.contains(r"\d").fillna(False).to_numpy(dtype=bool)
    if share(has_digit & (lengths == 18)) > 0.2:
        shares["ric_shape"] = share(full("ric_shape"))
        if shares["ric_shape"] > 0.2:
            shares["ric"] = share(ric_valid(u, allow_lowercase_x=True))
        shares["uscc_shape"] = share(full("uscc_shape"))
        if shares["uscc_shape"] > 0.2:
            shares["uscc"] = share(uscc_valid(u))
    if share(lengths == 28) > 0.2:
        shares["bdcdyh_shape"] = share(full("bdcdyh_shape"))
        if shares["bdcdyh_shape"] > 0.2:
            shares["bdcdyh"] = share(bdcdyh_valid(u))
    if share(digits & (lengths >= 20)) > 0.2:
        shares["house_code"] = share(house_code_valid(u))
        shares["house_code_shape"] = share(digits & (lengths == 23))
    if share(u.str.match(r"[NSns]\d\d").fillna(False).to_numpy(dtype=bool)) > 0.2:  # GB/T 39409 北斗网格位置码
        shares["beidou_shape"] = share(full("beidou_shape"))
        shares["beidou"] = share(beidou_valid(u.to_numpy(dtype=object)))
    if share(has_digit & (lengths >= 7) & (lengths <= 16)) > 0.2:
        shares["phone"] = share(phone_valid(u))
        shares["mobile"] = share(full("mobile"))
    division_like, prefix_mask = _division_prefixes(u, lengths, digits)
    prefixes: Counter = Counter()
    if division_like.any():
        heads = u.str.slice(0, 6).to_numpy(dtype=object)
        for head, w in zip(heads[prefix_mask], vc.to_numpy()[prefix_mask]):
            prefixes[head] += int(w)
    shares["division_like"] = share(division_like)
    for width in (6, 9, 12):
        shares[f"code{width}"] = share(division_like & (lengths == width))
    if shares["cjk"] > 0:
        text = u[cjk]
        wt = weight[cjk]
        tl = text.str.len().to_numpy()

        def tshare(mask) -> float:
            return round(float(wt[np.asarray(mask, dtype=bool)].sum()), 6)

        first = isin(text.str.slice(0, 1), SURNAMES) | isin(text.str.slice(0, 2), frozenset(COMPOUND_SURNAMES))
        shares["person_name"] = tshare(full("person_name", text) & first)
        marks = text.str.count(_RE["address"].pattern).to_numpy()
        shares["address"] = tshare((marks >= 2) & (tl >= 6))
        shares["address_number"] = tshare(search("address_number", text))
        shares["org_name"] = tshare(search("org_name", text) & (tl >= 3))
        shares["admin_name"] = tshare(search("admin_name", text))
        shares["road_name"] = tshare(search("road_name", text) & (tl <= 12))
        shares["dept"] = tshare(search("dept", text) & (tl <= 24))
        shares["door_plate"] = tshare(full("door_plate", text))
        shares["period"] = tshare(full("period", text) & (tl <= 8))
    if share(has_digit & ~is_num) > 0.2 or share(digits & (lengths == 8)) > 0.2:
        midnight = u.str.contains(r"[ T]0{1,2}:00(?::00)?$").fillna(False).to_numpy(dtype=bool)
        dated = full("date") | (u.str.match(_RE["date"]).fillna(False).to_numpy(dtype=bool) & midnight)
        shares["date"] = share(dated)
        shares["datetime"] = share(u.str.match(_RE["datetime"]).fillna(False).to_numpy(dtype=bool) & ~midnight)
        shares["period"] = max(shares.get("period", 0.0), share(full("period") & (lengths <= 8)))
    shares["bool"] = share(isin(u.str.lower(), _BOOL_VALUES))
    if shares["numeric"] < 0.98:
        shares["metric_name"] = share(full("metric_name"))
        shares["unit_symbol"] = share(full("unit_symbol"))
        shares["short_code"] = share(full("short_code"))
    else:
        shares["short_code"] = share(integral & (lengths <= 10))
    with np.errstate(invalid="ignore"):
        fractional = share(is_num & ~integral) > 0.5
        shares["lon"] = share(is_num & (numeric >= 73) & (numeric <= 136)) if fractional else 0.0
        shares["lat"] = share(is_num & (numeric >= 3) & (numeric <= 54)) if fractional else 0.0
        shares["easting_zone"] = share(is_num & (numeric >= 13_000_000) & (numeric < 46_000_000))
        shares["easting"] = share(is_num & (numeric >= 200_000) & (numeric <= 800_000))
        shares["northing"] = share(is_num & (numeric >= 300_000) & (numeric <= 6_000_000))
        shares["year"] = share(integral & (numeric >= 1900) & (numeric <= 2035))
    shape_u = shape_of(u)
    shapes = pd.Series(weight, index=shape_u.to_numpy()).groupby(level=0).sum().sort_values(ascending=False)
    collapsed = pd.Series(weight, index=shape_u.str.replace(r"(.)\1+", r"\1", regex=True).to_numpy()
                          ).groupby(level=0).sum()
    full_numeric = np.where(is_num, numeric, np.nan)
    lit = pd.Series(weight, index=u.str.replace(r"\d", "9", regex=True).to_numpy()).groupby(level=0).sum()
    return ColumnProfile(
        name=str(name if name is not None else series.name),
        n=n,
        nonnull=m,
        unique_ratio=len(vc) / m,
        shares=shares,
        shape=str(shapes.index[0]),
        shape_share=float(shapes.iloc[0]),
        shape_collapsed=str(collapsed.idxmax()),
        lit_shape=str(lit.idxmax()),
        lit_share=float(lit.max()),
        numeric=np.repeat(full_numeric, vc.to_numpy()),
        prefixes=prefixes,
        top=[str(v) for v in vc.index[:30]],
        values=values,
        uniques=u,
        weights=weight,
    )


def profile_frame(frame: pd.DataFrame) -> dict[str, ColumnProfile]:
    """Profiles of every non-geometry column of a sample.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    dict of str to ColumnProfile
        Keyed by column name (as text).
    """
    out: dict[str, ColumnProfile] = {}
    for i, column in enumerate(frame.columns):
        if str(column) == "geometry" or isinstance(frame.dtypes.iloc[i], getattr(pd, "GeometryDtype", ())):
            continue
        series = frame.iloc[:, i]
        if getattr(series.dtype, "name", "") == "geometry":
            continue
        out[str(column)] = profile_column(series, str(column))
    return out


def infer_city(profiles: list[dict[str, ColumnProfile]]) -> tuple[str | None, int]:
    """The county-level code most division-like codes of the delivery fall under.

    Parameters
    ----------
    profiles : list of dict
        Column profiles of every source.

    Returns
    -------
    (str or None, int)
        Six-digit code and the number of values supporting it.
    """
    counts: Counter = Counter()
    for columns in profiles:
        for p in columns.values():
            if p.share("division_like") >= 0.8 and p.share("ric_shape") < 0.5:
                counts.update(p.prefixes)
    if not counts:
        return None, 0
    code, n = counts.most_common(1)[0]
    return code, n


# --------------------------------------------------------------------------------------------- evidence per kind


@dataclass
class FitContext:
    """What :func:`value_fit` needs beyond the column: the city, linked identifiers and the code lists.

    Attributes
    ----------
    city : str or None
        Six-digit county-level code of the delivery.
    refs : dict
        ``(schema, field) -> (literal shape or "", shape, collapsed shape, set of sampled values)`` of the columns
        already assigned in other (or the same) files, for ``ref:`` kinds. The literal shape keeps letters
        (``421303A99999999``) when they are constant in the column.
    vocab : dict of str to set
        Code lists by name.
    """

    city: str | None = None
    refs: dict[tuple[str, str], tuple[str, str, str, frozenset]] = field(default_factory=dict)
    vocab: dict[str, frozenset] = field(default_factory=dict)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _under_city(p: ColumnProfile, city: str | None, lengths: tuple[int, ...], *, padded: bool | None = None) -> float:
    """Share of values that are digit codes of the given lengths under the city (any valid county if unknown)."""
    v = p.uniques
    ln = v.str.len().to_numpy()
    ok = v.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool) & np.isin(ln, lengths)
    if city:
        ok &= v.str.startswith(city).fillna(False).to_numpy(dtype=bool)
    else:
        ok &= isin(v.str.slice(0, 6), frozenset(p.prefixes))
    if padded is not None:
        pad = v.str.endswith("000").fillna(False).to_numpy(dtype=bool) & (ln == 12)
        ok &= pad if padded else ~pad
    return round(float(p.weights[ok].sum()), 6)


def _division_shares(p: ColumnProfile, city: str | None) -> tuple[float, float, float]:
    """Shares of 9-digit (or zero-padded 12-digit) street, 12-digit community and 6-digit county codes under the
    city, computed once per column."""
    key = ("division", city)
    if key not in p.cache:
        if p.share("division_like") == 0:
            p.cache[key] = (0.0, 0.0, 0.0)
        else:
            p.cache[key] = (_under_city(p, city, (9,)) + _under_city(p, city, (12,), padded=True),
                            _under_city(p, city, (12,), padded=False), _under_city(p, city, (6,)))
    return p.cache[key]


def value_fit(p: ColumnProfile, kind: str, ctx: FitContext, spec_range: tuple[float, float] | None = None
              ) -> tuple[float, bool, str]:
    """Evidence from the values that a column holds a field of the given kind (cached per column).

    Parameters
    ----------
    p : ColumnProfile
        The column.
    kind : str
        Field kind from the field-name table (``ric``, ``street``, ``ref:buildings.building_id``, ``vocab:...``).
    ctx : FitContext
        City, linked identifiers, code lists.
    spec_range : tuple of float, optional
        Plausible range of an ``int``/``float`` field.

    Returns
    -------
    (float, bool, str)
        Evidence in ``[-1, 1]`` (negative: the values contradict the kind), whether the evidence is *specific*
        (enough on its own to name the field), and a Chinese note for the catalog comment.
    """
    ref = ctx.refs.get(tuple(kind[4:].split(".", 1))) if kind.startswith("ref:") else None
    key = (kind, spec_range, ctx.city, id(ref))
    if key not in p.cache:
        p.cache[key] = _value_fit(p, kind, ctx, spec_range)
    return p.cache[key]


def _value_fit(p: ColumnProfile, kind: str, ctx: FitContext, spec_range: tuple[float, float] | None = None
               ) -> tuple[float, bool, str]:
    """:func:`value_fit` without the cache."""
    if p.nonnull == 0:
        return 0.0, False, "抽样中该列全为空"
    s = p.share
    if kind == "id":
        if p.unique_ratio < 0.95:
            return -0.8, False, f"值有重复（不同值占 {_pct(p.unique_ratio)}），不宜作记录标识"
        if p.nonnull_share < 0.9:
            return -0.5, False, f"空值占 {_pct(1 - p.nonnull_share)}，不宜作记录标识"
        if s("numeric") > 0.9 and s("integer") < 0.5:
            return -0.6, False, "值为小数，不是标识"
        if s("integer") >= 0.99 and p.nonnull >= 3:
            ints = np.sort(p.numeric[np.isfinite(p.numeric)])
            if ints.size and np.all(np.diff(ints) == 1) and ints[0] in (0, 1):
                return -0.5, False, "值为连续序号（行号），不是记录标识"
        if s("idlike") >= 0.9:
            return 0.6, False, "值唯一、无空值、形如编号"
        return 0.1, False, "值唯一"
    if kind.startswith("ref:"):
        target = kind[4:]
        schema, _, fname = target.partition(".")
        ref = ctx.refs.get((schema, fname))
        if ref is not None:
            lit, shape, collapsed, sample = ref
            overlap = float(p.weights[isin(p.uniques, sample)].sum()) if sample else 0.0
            seen = f"，{_pct(overlap)} 的值在其中出现" if overlap else ""
            if lit and p.lit_share >= 0.5:  # identifiers with constant letters: compare them literally
                if p.lit_shape == lit:
                    return min(1.0, 0.85 + overlap), True, f"值的形式与 {schema}.{fname} 相同（{lit}）{seen}"
                if overlap < 0.3:
                    return -0.5, False, f"值的形式（{p.lit_shape}）与 {schema}.{fname}（{lit}）不同"
            if p.shape == shape and p.shape_share >= 0.5:
                return min(1.0, 0.85 + overlap), True, f"值的形式与 {schema}.{fname} 相同（{shape}）{seen}"
            if overlap >= 0.3:
                return 0.85, True, f"{_pct(overlap)} 的值出现在 {schema}.{fname} 中"
            if p.shape_collapsed == collapsed and p.shape_share >= 0.5:
                return 0.5, True, f"值的形式与 {schema}.{fname} 相近"
            if s("idlike") >= 0.8:
                return -0.4, False, f"值的形式（{p.shape}）与 {schema}.{fname}（{shape}）不同"
            return -0.7, False, f"值不像 {schema}.{fname} 的编号"
        if s("idlike") >= 0.8 and s("cjk") < 0.2:
            return 0.3, False, "值形如编号"
        return -0.6 if s("cjk") > 0.5 else 0.0, False, "值不像编号" if s("cjk") > 0.5 else ""
    if kind in ("ric", "uscc", "bdcdyh", "house_code", "beidou"):
        label = {"ric": "GB 11643 公民身份号码校验", "uscc": "GB 32100 统一社会信用代码校验",
                 "bdcdyh": "GB/T 37346 不动产单元代码结构", "house_code": "JGJ/T 246 房屋代码结构与校验",
                 "beidou": "GB/T 39409 北斗网格位置码结构"}[kind]
        valid, shape = s(kind), s(f"{kind}_shape")
        if valid >= 0.5:
            return 1.0, True, f"{_pct(valid)} 的值通过 {label}"
        if shape >= 0.6:
            return 0.6, True, f"{_pct(shape)} 的值符合其位数与字符结构（通过校验 {_pct(valid)}）"
        return -1.0, False, f"值不符合 {label}"
    if kind == "phone":
        if s("phone") >= 0.6:
            return 1.0, True, f"{_pct(s('phone'))} 的值是有效电话号码（手机 {_pct(s('mobile'))}）"
        if s("phone") >= 0.3:
            return 0.4, False, f"{_pct(s('phone'))} 的值是有效电话号码"
        return -1.0, False, "值不是电话号码"
    if kind in ("street", "community", "county", "division"):
        where = f" {ctx.city} 之下" if ctx.city else "有效区县之下"
        street, community, county = _division_shares(p, ctx.city)
        if kind == "street":
            if street >= 0.7:
                return 1.0, True, f"{_pct(street)} 的值是{where}的 9 位街道（乡镇）代码"
            return (-0.5 if community >= 0.7 else -1.0), False, "值不是街道（乡镇）代码"
        if kind == "community":
            if community >= 0.7:
                return 1.0, True, f"{_pct(community)} 的值是{where}的 12 位社区（村）代码"
            return (-0.5 if street >= 0.7 else -1.0), False, "值不是社区（村）代码"
        if kind == "county":
            if county >= 0.7:
                return 1.0, True, f"{_pct(county)} 的值是 6 位区县代码"
            return -1.0, False, "值不是 6 位区县代码"
        total = street + community + county
        if total >= 0.8:
            mixed = sum(x > 0.02 for x in (street, community, county)) >= 2
            return (1.0 if mixed else 0.8), True, f"{_pct(total)} 的值是{where}的区划代码" + ("（含多级）" if mixed else "")
        if s("division_like") >= 0.8:
            return 0.6, True, f"{_pct(s('division_like'))} 的值是区划代码"
        return -1.0, False, "值不是区划代码"
    if kind in ("person_name", "org_name", "admin_name", "road_name", "address", "door_plate", "dept"):
        share = s(kind)
        label = {"person_name": "人名（2–4 个汉字、常见姓氏开头）", "org_name": "单位名称（以公司、店、中心等结尾）",
                 "admin_name": "行政区划名称（以区、街道、社区、村等结尾）", "road_name": "道路名称（以路、街、大道等结尾）",
                 "address": "地址文字（含路、街、号、栋、室等）", "door_plate": "门牌号（如 12号）",
                 "dept": "部门名称（以局、委、办、中心等结尾）"}[kind]
        if share >= 0.6:
            return 0.9, True, f"{_pct(share)} 的值像{label}"
        if share >= 0.3:
            return 0.4, False, f"{_pct(share)} 的值像{label}"
        if kind == "address" and s("address_number") >= 0.3:
            return 0.3, False, f"{_pct(s('address_number'))} 的值含门牌、楼栋或房号"
        if s("numeric") > 0.9:
            return -1.0, False, "值是数字"
        if kind == "door_plate":
            return -0.3, False, ""
        return (-0.2 if s("cjk") > 0.5 else -0.6), False, ""
    if kind == "code_digits":
        if s("digits") >= 0.9 and p.shape_share >= 0.8 and len(p.shape) >= 6:
            return 0.5, False, f"值为定长数字编码（{len(p.shape)} 位）"
        if s("idlike") >= 0.8:
            return 0.1, False, ""
        return -0.6, False, "值不是编码"
    if kind == "text":
        if s("numeric") > 0.9:
            return -0.6, False, "值是数字"
        return (0.3 if s("cjk") >= 0.5 else 0.0), False, ""
    if kind == "short_code":
        if s("short_code") >= 0.8:
            return 0.3, False, "值为短编号"
        return (-0.5 if s("cjk") > 0.5 else 0.0), False, ""
    if kind in ("int", "float", "year"):
        if s("numeric") < 0.9:
            return -1.0, False, "值不是数字"
        num = p.numeric[np.isfinite(p.numeric)]
        if kind == "year":
            return (0.8, True, f"{_pct(s('year'))} 的值是 1900–2035 的年份") if s("year") >= 0.9 else (
                -0.5, False, "值不是年份")
        if kind == "int" and s("integer") < 0.9:
            return -0.5, False, "值含小数，应为整数"
        if spec_range is not None and num.size:
            inside = _share((num >= spec_range[0]) & (num <= spec_range[1]))
            if inside < 0.9:
                return -0.4, False, f"只有 {_pct(inside)} 的值在合理范围 {spec_range[0]:g}–{spec_range[1]:g} 内"
            return 0.5, False, f"数值在合理范围 {spec_range[0]:g}–{spec_range[1]:g} 内"
        return 0.4, False, "值是数字"
    if kind in ("date", "datetime"):
        d, dt = s("date"), s("datetime")
        if kind == "date":
            if d >= 0.8:
                return 0.7, False, f"{_pct(d)} 的值是日期"
            if dt >= 0.8:
                return 0.2, False, "值是日期时间"
        else:
            if dt >= 0.8:
                return 0.8, False, f"{_pct(dt)} 的值是日期时间"
            if d >= 0.8:
                return 0.3, False, "值是日期（无时间）"
        return -1.0, False, "值不是日期"
    if kind == "period":
        return (0.9, True, f"{_pct(s('period'))} 的值是期次（年月）") if s("period") >= 0.8 else (-0.8, False, "")
    if kind == "bool":
        if s("bool") >= 0.9 and len(p.top) <= 4:
            return 0.6, False, "值为是/否"
        return -0.5, False, ""
    if kind in ("lon", "lat"):
        if s(kind) >= 0.9:
            return 1.0, True, f"{_pct(s(kind))} 的值是中国范围内的{'经度' if kind == 'lon' else '纬度'}"
        return -1.0, False, ""
    if kind == "gender":
        top = set(p.top)
        if top and top <= {"男", "女", "未知", "未说明", "未知的性别", "未说明的性别"}:
            return 1.0, True, "值为 男/女"
        codes = set(ctx.vocab.get("gender_codes", ()))
        if top and len(top) <= 4 and top <= codes | {"男", "女"}:
            return 0.9, True, f"值为性别代码（{'/'.join(sorted(top))}，GB/T 2261.1）"
        return -1.0, False, "值不是性别"
    if kind == "metric_name":
        return (0.4, False, "值为英文指标名") if s("metric_name") >= 0.8 else (0.1 if s("cjk") > 0.5 else -0.3, False, "")
    if kind == "unit_symbol":
        return (0.3, False, "值为计量单位符号") if s("unit_symbol") >= 0.8 else (-0.3, False, "")
    if kind.startswith("vocab:"):
        name = kind[6:]
        vocab = ctx.vocab.get(name, frozenset())
        share = float(p.weights[isin(p.uniques, vocab)].sum()) if vocab else 0.0
        if share >= 0.8:
            return 1.0, True, f"{_pct(share)} 的值属于{_VOCAB_LABELS.get(name, '代码表')}"
        if share >= 0.5:
            return 0.6, True, f"{_pct(share)} 的值属于{_VOCAB_LABELS.get(name, '代码表')}"
        codes = ctx.vocab.get(f"{name}_codes", frozenset())
        if codes and p.top and set(p.top) <= codes:
            return 0.2, False, "值为代码，按常见编码可对照（values:）"
        if len(p.top) <= 12 and len(p.top) < p.nonnull:
            return 0.0, False, "值为少量代码，可能需要值映射（values:）"
        return -0.5, False, ""
    return 0.0, False, ""


_VOCAB_LABELS = {
    "element_type": "地址要素类型代码", "address_type": "地址类型", "admin_level": "区划级别（区/街道/社区）",
    "admin_kind": "区划类型", "task_status": "任务状态", "pipeline_stage": "地址生产流程环节", "pipeline_result": "环节结论",
    "control_line_type": "城市控制线类型", "device_type": "设备类型代码", "device_type_name": "设备类型名称",
    "house_use": "房屋用途", "industry": "国民经济行业门类", "registration": "人口类型", "lod": "细节层次（LOD）",
    "model_level": "模型类型（白模/精模）", "road_class": "道路等级",
}


def vocabularies(table_vocab: dict[str, Any]) -> dict[str, frozenset]:
    """Code lists by name: those of the field-name table plus the ones the schemas define.

    Parameters
    ----------
    table_vocab : dict
        ``vocabularies`` of the field-name table.

    Returns
    -------
    dict of str to frozenset of str
    """
    from cimlib.codes.address import ELEMENT_TYPES
    from standards_checks.schemas.devices import DEVICE_CATEGORIES
    from standards_checks.schemas.planning import CONTROL_LINE_TYPES
    from standards_checks.schemas.work import PIPELINE_RESULTS, PIPELINE_STAGES, TASK_STATUSES

    out: dict[str, frozenset] = {}
    for key, value in table_vocab.items():
        if isinstance(value, dict):
            if key == "admin_level_synonyms":
                out["admin_level"] = frozenset(str(v) for vs in value.values() for v in vs)
            else:
                out[key] = frozenset(str(k) for k in value)
        elif isinstance(value, list):
            out[key] = frozenset(str(v) for v in value) | out.get(key, frozenset())
    out["element_type"] = frozenset(ELEMENT_TYPES["code"]) | frozenset(ELEMENT_TYPES["name_zh"])
    out["address_type"] = frozenset(ELEMENT_TYPES["address_type"])
    out["device_type"] = frozenset(DEVICE_CATEGORIES) | frozenset(DEVICE_CATEGORIES.values())
    out["device_type_name"] = frozenset(DEVICE_CATEGORIES.values())
    out["control_line_type"] = frozenset(CONTROL_LINE_TYPES)
    out["task_status"] = frozenset(TASK_STATUSES)
    out["pipeline_stage"] = frozenset(PIPELINE_STAGES)
    out["pipeline_result"] = frozenset(PIPELINE_RESULTS)
    return out
