"""Tests of cimlib.geocode.parse: GB/T 35602-2017 elements of addresses as people write them."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

from cimlib.geocode import parse_address
from cimlib.geocode.parse import ELEMENTS

# (text, {element: value}); elements not named must be missing
CASES = [
    ("湖北省随州市曾都区西城街道民主社区先锋路101号西关佳苑8栋1单元501室",
     dict(province="湖北省", city="随州市", county="曾都区", street="西城街道", community="民主社区", road="先锋路",
          door_no="101", compound="西关佳苑", building="8", unit="1", floor="5", room="501")),
    # suffixes left out, spaces, full width, 街道办事处 / 居委会 written out
    ("湖北随州曾都区 西城街道办事处 民主社区居委会 擂鼓路１２号",
     dict(province="湖北", city="随州", county="曾都区", street="西城街道", community="民主社区", road="擂鼓路",
          door_no="12")),
    ("随州 曾都区 东城街道 清河社区 湖滨街１０３号 东风新村６幢２单元６０２",
     dict(city="随州", county="曾都区", street="东城街道", community="清河社区", road="湖滨街", door_no="103",
          compound="东风新村", building="6", unit="2", floor="6", room="602")),
    # compound only, Chinese numerals, 号楼 / 户 / remark in brackets
    ("西关佳苑八号楼三单元二〇一户（出租屋）", dict(compound="西关佳苑", building="8", unit="3", floor="2", room="201")),
    ("十里家园8栋二单元302号", dict(compound="十里家园", building="8", unit="2", floor="3", room="302")),
    # dash notation after a compound, after a door number, after a building, after a road
    ("北关东风新村3-1-501", dict(compound="北关东风新村", building="3", unit="1", floor="5", room="501")),
    ("北关公寓6-201号", dict(compound="北关公寓", building="6", floor="2", room="201")),
    ("先锋路107号北关公寓6-1-201", dict(road="先锋路", door_no="107", compound="北关公寓", building="6", unit="1",
                                   floor="2", room="201")),
    ("店子佳苑7#2-501", dict(compound="店子佳苑", building="7", unit="2", floor="5", room="501")),
    ("溪口胜利巷5-1-201", dict(road="溪口胜利巷", door_no="5", unit="1", floor="2", room="201")),
    # 号 after a compound is a building; 号 after a road is a door number
    ("幸福佳苑8号1单元", dict(compound="幸福佳苑", building="8", unit="1")),
    ("花园路2号1单元101室", dict(road="花园路", door_no="2", unit="1", floor="1", room="101")),
    ("擂鼓路12号附3号", dict(road="擂鼓路", door_no="12-3")),
    # villages, towns, groups; 新村 is a compound, not a village
    ("何店镇城南村花园路2号", dict(street="何店镇", community="城南村", road="花园路", door_no="2")),
    ("洛阳镇花园村3组", dict(street="洛阳镇", community="花园村", remainder="3组")),
    ("万店镇银河村委会光明大道4号", dict(street="万店镇", community="银河村", road="光明大道", door_no="4")),
    ("丰收青年新村5栋", dict(compound="丰收青年新村", building="5")),
    # development zones as streets
    ("随州市经济开发区团结村溪口胜利巷5号", dict(city="随州市", street="随州市经济开发区", community="团结村",
                                        road="溪口胜利巷", door_no="5")),
    ("湖北曾都经济开发区交通村白云十里街2号", dict(province="湖北", county="曾都", street="湖北曾都经济开发区",
                                         community="交通村", road="白云十里街", door_no="2")),
    # other cities, styles the sample city does not write
    ("恩施州利川市都亭街道解放路188号", dict(city="恩施州", county="利川市", street="都亭街道", road="解放路", door_no="188")),
    ("武汉市洪山区珞喻路1037号华中科技大学紫菘公寓12栋", dict(city="武汉市", county="洪山区", road="珞喻路", door_no="1037",
                                                compound="华中科技大学紫菘公寓", building="12")),
    ("北京市朝阳区建国路88号SOHO现代城A座1201", dict(province="北京市", county="朝阳区", road="建国路", door_no="88",
                                            compound="SOHO现代城", building="A", floor="12", room="1201")),
    ("东风路2巷12号", dict(road="东风路2巷", door_no="12")),
    ("解放路小区3栋2单元五楼501", dict(compound="解放路小区", building="3", unit="2", floor="5", room="501")),
    ("先锋路12号院3号楼", dict(road="先锋路", door_no="12", compound="12号院", building="3")),
    ("东城街道湖滨街103号东风新村6栋对面", dict(street="东城街道", road="湖滨街", door_no="103", compound="东风新村",
                                          building="6")),
    ("東城街道山前路101號十里家園8棟201室", dict(street="东城街道", road="山前路", door_no="101", compound="十里家园",
                                          building="8", floor="2", room="201")),
    ("北郊街道老屋社区太平路103号七里水库苑8栋负一楼", dict(street="北郊街道", community="老屋社区", road="太平路",
                                                door_no="103", compound="七里水库苑", building="8", floor="-1")),
    # one wrong character in a generic word: the structure is still read
    ("北郊街道烈山社区五四接103号金桥永安新村6栋", dict(street="北郊街道", community="烈山社区", road="五四接",
                                               door_no="103", compound="金桥永安新村", building="6")),
    ("东城街道白云社曲团结巷103号星光佳苑2栋", dict(street="东城街道", community="白云社曲", road="团结巷",
                                            door_no="103", compound="星光佳苑", building="2")),
    # a road-like word inside a compound name
    ("新街望城小区4栋", dict(compound="新街望城小区", building="4")),
    ("铁路新村3栋2单元", dict(compound="铁路新村", building="3", unit="2")),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_forms(text, expected):
    row = parse_address(pd.Series([text])).iloc[0]
    got = {k: row[k] for k in ELEMENTS if not pd.isna(row[k])}
    assert got == expected


def test_columns_order_alignment_and_junk():
    texts = pd.Series(["同上", "西关佳苑8栋", None, "暂无", "西关佳苑8栋"], index=[9, 4, 2, 1, 0])
    out = parse_address(texts)
    assert list(out.columns) == list(ELEMENTS)
    assert list(out.index) == [9, 4, 2, 1, 0]
    assert out.loc[[9, 2, 1]].isna().all(axis=None)
    assert out.loc[4, "compound"] == out.loc[0, "compound"] == "西关佳苑"
    assert out.loc[0, "building"] == "8"


def test_floor_written_wins_over_room():
    out = parse_address(pd.Series(["西关佳苑8栋1单元3楼501室", "西关佳苑8栋1单元1201室", "西关佳苑8栋1单元12室"]))
    assert out["floor"].tolist()[:2] == ["3", "12"]
    assert pd.isna(out.loc[2, "floor"])


# --------------------------------------------------------------------------- the sample city's delivered texts


def _true_elements(city) -> pd.DataFrame:
    """Road, door number, compound, building, unit and room of every standard address (by address_id), from the
    addresses snapshot the catalog points at; ``top`` is False where the chain does not reach the county."""
    catalog = yaml.safe_load((city / "data_catalog.yaml").read_text(encoding="utf-8"))
    entry = next(e for e in catalog["entries"] if e["name"] == "addresses")
    a = gpd.read_parquet(city / entry["path"])
    ids = a["address_id"].astype("str")
    ppos = pd.Index(ids).get_indexer(a["parent_id"].astype("str"))
    etype = a["element_type"].astype("str").to_numpy(dtype=object)
    name = a["name"].fillna("").astype("str").to_numpy(dtype=object)
    plate = a["door_plate"].fillna("").astype("str").to_numpy(dtype=object)
    n = len(a)
    parts = {k: np.full(n, "", dtype=object) for k in ("road", "plate", "compound", "building", "unit", "room")}
    top = np.zeros(n, dtype=bool)
    cur, alive = np.arange(n), np.ones(n, dtype=bool)
    for _ in range(12):
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        c = cur[idx]
        t = etype[c]
        for part, code in (("room", "62"), ("unit", "61"), ("building", "50"), ("road", "41"), ("compound", "42")):
            parts[part][idx[t == code]] = name[c[t == code]]
        parts["plate"][idx[t == "42"]] = plate[c[t == "42"]]
        top[idx[t == "13"]] = True
        nxt = ppos[c]
        alive[idx[nxt < 0]] = False
        cur[idx] = np.maximum(nxt, 0)
    out = pd.DataFrame(parts, index=ids.to_numpy())
    out["top"] = top
    plate_parts = out["plate"].str.extract(r"^(.*?)([0-9]+)号$")
    out["door_no"] = plate_parts[1]
    out["road"] = out["road"].where(plate_parts[0].isna(), plate_parts[0])
    road_building = (out["compound"] == "") & out["building"].str.endswith("号")  # 八角街2号: the door plate
    out.loc[road_building, "door_no"] = out.loc[road_building, "building"].str.slice(0, -1)
    out.loc[road_building, "building"] = ""
    for c in ("building", "unit", "room"):
        out[c] = out[c].str.extract(r"([A-Z]?[0-9]+)", expand=False)
    return out.replace("", np.nan)


@pytest.fixture(scope="module")
def sample(sample_cities):
    city = sample_cities.city(7)
    texts = pd.read_parquet(city / "truth" / "delivery_addresses.parquet")
    return texts, _true_elements(city)


# form -> elements the text writes
_WRITTEN = {
    "full": ("road", "door_no", "compound", "building", "unit", "room"),
    "no_province": ("road", "door_no", "compound", "building", "unit", "room"),
    "no_prefix": ("road", "door_no", "compound", "building", "unit", "room"),
    "no_community": ("road", "door_no", "compound", "building", "unit", "room"),
    "chinese_numerals": ("road", "door_no", "compound", "building", "unit", "room"),
    "fullwidth": ("road", "door_no", "compound", "building", "unit", "room"),
    "remark": ("road", "door_no", "compound", "building", "unit", "room"),
    "road_only": ("road", "door_no", "building", "unit", "room"),
    "compound_only": ("compound", "building", "unit", "room"),
    "dash": ("compound", "building", "unit", "room"),
    "variant": ("compound", "building", "unit", "room"),
    "typo": ("door_no", "building", "unit", "room"),
}


@pytest.mark.parametrize("form", list(_WRITTEN))
def test_sample_city_texts(sample, form):
    texts, truth = sample
    sel = texts[(texts["form"] == form) & texts["address_id"].isin(truth.index[truth["top"]])]
    assert len(sel) > 0
    got = parse_address(sel["text"]).reset_index(drop=True)
    true = truth.loc[sel["address_id"]].reset_index(drop=True)
    for col in _WRITTEN[form]:
        wrong = got[col].fillna("").to_numpy(dtype=object) != true[col].fillna("").to_numpy(dtype=object)
        if form in ("dash", "variant") and col == "compound":  # a road written instead of a compound
            wrong &= true[col].notna().to_numpy()
        assert not wrong.any(), (form, col, sel["text"].iloc[np.flatnonzero(wrong)[:5]].tolist())
    if form == "full":
        assert got["remainder"].isna().all()


def test_sample_city_junk(sample):
    texts, _ = sample
    junk = texts[texts["form"] == "junk"]
    assert len(junk) > 0
    assert parse_address(junk["text"]).drop(columns="remainder").isna().all(axis=None)
