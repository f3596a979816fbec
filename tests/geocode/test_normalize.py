"""Tests of cimlib.geocode.normalize: one written form for addresses as people write them."""

import pandas as pd
import pytest

from cimlib.geocode import normalize_address
from cimlib.geocode.normalize import cn_to_int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # full width, spaces, punctuation
        ("随州市　曾都区，西城街道 先锋路１０１号", "随州市曾都区西城街道先锋路101号"),
        ("现代城Ａ座１２０１室", "现代城A栋1201室"),
        # Chinese numerals where they number something, names untouched
        ("三里路五号", "三里路5号"),
        ("十里家园八栋二单元三〇二", "十里家园8栋2单元302"),
        ("西关佳苑八号楼三单元二〇一室", "西关佳苑8栋3单元201室"),
        ("擂鼓路十二号", "擂鼓路12号"),
        ("五四街一百零二号", "五四街102号"),
        ("金桥苑两单元", "金桥苑2单元"),
        ("第三单元五楼", "3单元5楼"),
        # one form for the building
        ("北关公寓5幢", "北关公寓5栋"),
        ("北关公寓5座", "北关公寓5栋"),
        ("北关公寓5号楼", "北关公寓5栋"),
        ("店子佳苑7#2-501", "店子佳苑7栋2-501"),
        ("店子佳苑7#楼", "店子佳苑7栋"),
        ("银河公寓3楼2单元501", "银河公寓3栋2单元501"),
        # one form for the room (户/房/号 after unit or building)
        ("1单元501户", "1单元501室"),
        ("1单元501房", "1单元501室"),
        ("1单元501号房", "1单元501室"),
        ("8栋2单元501号", "8栋2单元501室"),
        ("2门501", "2单元501"),
        # door plate sub-numbers, dashes, floors below ground
        ("擂鼓路12号附3号", "擂鼓路12-3号"),
        ("擂鼓路12附3号", "擂鼓路12-3号"),
        ("擂鼓路十二号附三号", "擂鼓路12-3号"),
        ("北关东风新村3—1—501", "北关东风新村3-1-501"),
        ("北关东风新村3－1－501", "北关东风新村3-1-501"),
        ("七里水库苑8栋负一楼", "七里水库苑8栋-1楼"),
        # traditional characters, 中国 prefix
        ("東城街道山前路101號十里家園8棟", "东城街道山前路101号十里家园8栋"),
        ("中国湖北省随州市", "湖北省随州市"),
        # a field label or verb in front goes; words that only start like one stay
        ("住址：西关佳苑8栋1单元501室", "西关佳苑8栋1单元501室"),
        ("经营地址: 先锋路101号", "先锋路101号"),
        ("地址 西关佳苑8栋", "西关佳苑8栋"),
        ("住 101号西关佳苑3栋201室", "101号西关佳苑3栋201室"),
        ("家住西城街道西关佳苑8栋", "西城街道西关佳苑8栋"),
        ("现住：先锋路101号", "先锋路101号"),
        ("居住在先锋路101号", "先锋路101号"),
        ("住房保障局", "住房保障局"),
        ("现代城A座", "现代城A栋"),
        ("居住区8栋", "居住区8栋"),
        # a road and door plate in brackets after the place it numbers: moved before it
        ("西关佳苑（先锋路101号）8栋1单元501", "先锋路101号西关佳苑8栋1单元501"),
        ("西城街道民主社区西关佳苑(先锋路101号)8栋", "西城街道民主社区先锋路101号西关佳苑8栋"),
        ("先锋路西关佳苑（先锋路101号）8栋", "先锋路101号西关佳苑8栋"),
        ("曾都区东风小区（解放路12号）3栋", "曾都区解放路12号东风小区3栋"),
        ("随州市华联超市（解放路12-3号）", "随州市解放路12-3号华联超市"),
        ("擂鼓新华雅居(高庙大道106号)5栋", "高庙大道106号擂鼓新华雅居5栋"),
    ],
)
def test_written_forms(text, expected):
    out = normalize_address(pd.Series([text]))
    assert out.loc[0, "text"] == expected
    assert not out.loc[0, "junk"]


@pytest.mark.parametrize(
    ("text", "expected", "noise"),
    [
        ("西关佳苑8栋（出租屋）", "西关佳苑8栋", "出租屋"),
        ("西关佳苑8栋【暂住】", "西关佳苑8栋", "暂住"),
        ("东城街道湖滨街103号东风新村6栋对面", "东城街道湖滨街103号东风新村6栋", "对面"),
        ("先锋路101号附近的小卖部", "先锋路101号", "附近的小卖部"),
        ("曙光巷101号玉泉文峰新村1栋往东50米", "曙光巷101号玉泉文峰新村1栋", "往东50米"),
        ("擂鼓路109号旁边", "擂鼓路109号", "旁边"),
        ("先锋路与擂鼓路交叉口西北角", "先锋路与擂鼓路", "交叉口西北角"),
        ("北关公寓4栋一楼门面", "北关公寓4栋1楼", "门面"),
        # a bracket that holds address parts is kept, without its brackets
        ("先锋路101号(西关佳苑)8栋", "先锋路101号西关佳苑8栋", None),
    ],
)
def test_noise_set_aside(text, expected, noise):
    out = normalize_address(pd.Series([text]))
    assert out.loc[0, "text"] == expected
    if noise is None:
        assert pd.isna(out.loc[0, "noise"])
    else:
        assert out.loc[0, "noise"] == noise


@pytest.mark.parametrize("text", ["暂无", "同上", "不详", "无", "空", "见上", "-", "？", "N/A", "n/a", "  ", "/", "见户籍地址",
                                  "待核实", "——", "无地址", None])
def test_junk(text):
    out = normalize_address(pd.Series([text], dtype=object))
    assert bool(out.loc[0, "junk"])


@pytest.mark.parametrize("text", ["西关佳苑8栋", "先锋路101号", "民主社区", "8-1-501"])
def test_not_junk(text):
    assert not normalize_address(pd.Series([text])).loc[0, "junk"]


def test_aligned_to_index_and_repeats():
    texts = pd.Series(["同上", "西关佳苑八栋", None, "西关佳苑八栋"], index=[10, 3, 7, 5])
    out = normalize_address(texts)
    assert list(out.index) == [10, 3, 7, 5]
    assert list(out.columns) == ["text", "noise", "junk"]
    assert out["text"].tolist() == ["同上", "西关佳苑8栋", "", "西关佳苑8栋"]
    assert out["junk"].tolist() == [True, False, True, False]


def test_empty():
    out = normalize_address(pd.Series([], dtype="str"))
    assert len(out) == 0 and list(out.columns) == ["text", "noise", "junk"]


@pytest.mark.parametrize(("word", "value"), [("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("二十一", 21),
                                             ("一百零一", 101), ("二〇一", 201), ("三零二", 302), ("两", 2), ("一千二百", 1200)])
def test_cn_to_int(word, value):
    assert cn_to_int(word) == value
