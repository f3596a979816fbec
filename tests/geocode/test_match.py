"""Matching free-text addresses to the standard address library (cimlib.geocode.match, cimlib.geocode._index)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cimlib.geocode._index import AddressIndex
from cimlib.geocode.match import match_addresses, match_parsed
from heldout_texts import ancestors

# --------------------------------------------------------------------------- a hand-made library

_ROWS = [  # address_id, parent_id, element_type, name, door_plate, street_code, community_code
    ("C", "", "13", "曾都区", "", "", ""),
    ("S1", "C", "23", "西城街道", "", "421303001", ""),
    ("S2", "C", "23", "东城街道", "", "421303002", ""),
    ("M1", "S1", "31", "民主社区", "", "421303001", "421303001001"),
    ("M2", "S2", "31", "团结社区", "", "421303002", "421303002001"),
    ("R1", "M1", "41", "先锋路", "", "421303001", "421303001001"),
    ("R2", "M2", "41", "八角街", "", "421303002", "421303002001"),
    ("P1", "M1", "42", "西关佳苑", "先锋路101号", "421303001", "421303001001"),
    ("P2", "M2", "42", "西关佳苑", "解放路8号", "421303002", "421303002001"),  # same name, other community
    ("P3", "M1", "42", "龙门雅居", "先锋路103号", "421303001", "421303001001"),
    ("B1", "P1", "50", "8栋", "", "421303001", "421303001001"),
    ("B2", "P2", "50", "8栋", "", "421303002", "421303002001"),
    ("B3", "P3", "50", "2栋", "", "421303001", "421303001001"),
    ("U1", "B1", "61", "1单元", "", "421303001", "421303001001"),
    ("H1", "U1", "62", "501室", "", "421303001", "421303001001"),
    ("H2", "B3", "62", "301室", "", "421303001", "421303001001"),
    ("D1", "R2", "50", "2号", "", "421303002", "421303002001"),  # a building named by its door plate
]


@pytest.fixture(scope="module")
def library() -> pd.DataFrame:
    df = pd.DataFrame(_ROWS, columns=["address_id", "parent_id", "element_type", "name", "door_plate", "street_code",
                                      "community_code"])
    ids = df.set_index("address_id")
    full = {}
    for row in df.itertuples():  # rows are listed parents first
        full[row.address_id] = (full.get(row.parent_id, "湖北省随州市") if row.parent_id else "湖北省随州市") + \
            row.door_plate + row.name
    df["full_address"] = df["address_id"].map(full)
    df["level"] = df["element_type"].str.slice(0, 1).astype(int)
    assert ids.index.is_unique
    return df


@pytest.fixture(scope="module")
def index(library) -> AddressIndex:
    return AddressIndex(library)


def _match(index, rows, area=None):
    parsed = pd.DataFrame(rows).reindex(columns=["province", "city", "county", "street", "community", "road", "door_no",
                                                 "compound", "building", "unit", "floor", "room", "remainder"])
    return match_parsed(parsed, index, area_codes=None if area is None else pd.Series(area))


def test_index_flattens_the_chain(index):
    f = index.flat.set_index("address_id")
    assert f.loc["H1", ["street_key", "community_key", "road_key", "door_no", "compound_key", "building_no",
                        "unit_no", "room_no", "floor_no"]].tolist() == ["西城", "民主", "先锋路", "101", "西关佳苑", "8",
                                                                          "1", "501", "5"]
    assert f.loc["D1", "door_building"] and f.loc["D1", "door_no"] == "2" and f.loc["D1", "road_key"] == "八角街"
    assert not f.loc["B1", "door_building"]


def test_exact_match_to_room(index):
    r = _match(index, [dict(street="西城街道", community="民主社区", road="先锋路", door_no="101", compound="西关佳苑",
                            building="8", unit="1", room="501")]).iloc[0]
    assert (r["status"], r["address_id"], r["match_level"], r["score"]) == ("matched", "H1", "户室", 1.0)
    assert r["candidates"] == ["H1"] and pd.isna(r["reason"])


def test_door_plate_building_and_compound_by_door(index):
    r = _match(index, [dict(road="八角街", door_no="2"), dict(road="先锋路", door_no="103", building="2", room="301")])
    assert r["address_id"].tolist() == ["D1", "H2"]
    assert r["match_level"].tolist() == ["门牌", "户室"]
    assert (r["status"] == "matched").all()


def test_partial_when_room_not_in_library(index):
    r = _match(index, [dict(street="西城街道", compound="龙门雅居", building="2", room="902")]).iloc[0]
    assert (r["status"], r["address_id"], r["match_level"]) == ("partial", "B3", "建筑物")
    assert "902" in r["reason"] and "户室" in r["reason"]
    assert r["score"] < 1


def test_two_compounds_of_one_name_are_ambiguous_without_area(index):
    r = _match(index, [dict(compound="西关佳苑", building="8")]).iloc[0]
    assert r["status"] == "ambiguous" and pd.isna(r["address_id"]) and pd.isna(r["match_level"])
    assert sorted(r["candidates"]) == ["B1", "B2"]
    assert "2个" in r["reason"]


@pytest.mark.parametrize("area, expected", [("421303001", "B1"), ("421303002001", "B2")])
def test_area_code_resolves_the_tie(index, area, expected):
    r = _match(index, [dict(compound="西关佳苑", building="8")], area=[area]).iloc[0]
    assert (r["status"], r["address_id"]) == ("matched", expected)


def test_written_community_resolves_the_tie_and_contradiction_is_not_matched(index):
    r = _match(index, [dict(community="团结社区", compound="西关佳苑", building="8"),
                       dict(street="东城街道", compound="龙门雅居", building="2")])
    assert r["address_id"].iloc[0] == "B2" and r["status"].iloc[0] == "matched"
    # 龙门雅居 is in 西城街道: the written 东城街道 contradicts it, so only the street is returned
    assert (r["status"].iloc[1], r["address_id"].iloc[1], r["match_level"].iloc[1]) == ("partial", "S2", "街道")


def test_one_wrong_character_in_a_name(index):
    r = _match(index, [dict(street="西城街道", compound="龙门亚居", building="2"),      # 雅 -> 亚
                       dict(street="西城街道", community="民主杜区", road="先峰路", door_no="101", compound="西关佳苑",
                            building="8", unit="1", room="501")])
    assert r["address_id"].tolist() == ["B3", "H1"]
    assert (r["status"] == "matched").all()
    assert (r["score"] < 1).all() and (r["score"] > 0.8).all()


def test_an_approximate_compound_with_a_contradicting_door_is_no_match(index):
    # 龙门雅居 is at 先锋路103号: written with one wrong character it is still found; written with one wrong
    # character AND another door number, the two weak signals make a guess, and the workbench does not guess
    r = _match(index, [dict(road="先锋路", door_no="103", compound="龙门亚居", building="2"),
                       dict(road="先锋路", door_no="999", compound="龙门亚居", building="2"),
                       dict(road="先锋路", door_no="999", compound="龙门雅居", building="2")])
    assert r["address_id"].iloc[0] == "B3" and r["status"].iloc[0] == "matched"
    assert r["address_id"].iloc[1] != "B3" and r["status"].iloc[1] != "matched"
    # the exact name with a wrong door number is still found, with the contradiction in the reason
    assert r["address_id"].iloc[2] == "B3" and "不一致" in r["reason"].iloc[2]


def test_an_existing_name_is_not_read_as_a_typo_of_another(index):
    # 东城街道 exists: it is not a misspelt 西城街道 (one character apart)
    r = _match(index, [dict(street="东城街道", compound="龙门雅居")]).iloc[0]
    assert r["address_id"] != "P3"


def test_not_found_and_junk_are_unmatched(index):
    parsed = pd.DataFrame({"compound": ["金色华府", "西关佳苑", ""], "building": ["3", "8", ""]})
    r = match_parsed(parsed, index, junk=np.array([False, True, True]))
    assert (r["status"] == "unmatched").all() and r["address_id"].isna().all()
    assert r["candidates"].map(len).eq(0).all()
    assert "暂无" in r["reason"].iloc[1]


def test_match_addresses_texts_end_to_end(library):
    pytest.importorskip("cimlib.geocode.parse")
    texts = pd.Series(["西城街道民主社区先锋路101号西关佳苑8栋1单元501室", "暂无", "同上", "西关佳苑八栋",
                       "龙门雅居2-301", "八角街2号（出租屋）"], index=[10, 11, 12, 13, 14, 15])
    r = match_addresses(texts, library)
    assert r.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert r["status"].tolist() == ["matched", "unmatched", "unmatched", "ambiguous", "matched", "matched"]
    assert r["address_id"].tolist()[:1] == ["H1"] and r.loc[14, "address_id"] == "H2" and r.loc[15, "address_id"] == "D1"
    assert list(r.columns) == ["address_id", "status", "match_level", "score", "candidates", "reason"]
    area = pd.Series([None, None, None, "421303002", None, None], index=texts.index)
    assert match_addresses(texts, library, area_codes=area).loc[13, "address_id"] == "B2"


def test_shuffled_and_duplicated_texts_give_the_same_result_per_record(library):
    """Work is done once per distinct (text, area): order and repetition of the records change nothing."""
    pytest.importorskip("cimlib.geocode.parse")
    texts = pd.Series(["西城街道民主社区先锋路101号西关佳苑8栋1单元501室", "暂无", "西关佳苑八栋", "龙门雅居2-301",
                       "八角街2号（出租屋）", None, "西关佳苑8栋", "先锋路101号"], index=list("abcdefgh"))
    area = pd.Series([None, "421303001", "421303002", None, None, None, None, "421303001"], index=texts.index)
    ref = match_addresses(texts, library, area_codes=area)
    rng = np.random.default_rng(3)
    order = rng.permutation(np.repeat(np.arange(len(texts)), 3))  # every record three times, shuffled
    many = pd.Series(texts.to_numpy(dtype=object)[order], index=np.arange(len(order)) * 7)
    got = match_addresses(many, library, area_codes=pd.Series(area.to_numpy(dtype=object)[order], index=many.index))
    assert got.index.tolist() == many.index.tolist()
    expected = ref.iloc[order].set_axis(many.index)
    pd.testing.assert_frame_equal(got.drop(columns="candidates"), expected.drop(columns="candidates"))
    assert got["candidates"].tolist() == expected["candidates"].tolist()
    # the same text under another area code is another record: the area narrows it, the plain text stays a tie
    assert ref.loc["c", "address_id"] == "B2" and ref.loc["g", "status"] == "ambiguous"


# --------------------------------------------------------------------------- the sample city's texts

FULL_DETAIL = ("full", "no_province", "no_prefix", "no_community", "fullwidth", "chinese_numerals", "variant",
               "remark", "dash", "compound_only")



def _measure(city):
    from cimlib.catalog import Catalog

    addresses = Catalog.load(city / "data_catalog.yaml").read("addresses")
    truth = pd.read_parquet(city / "truth" / "delivery_addresses.parquet")
    res = match_addresses(truth["text"], addresses)
    true = truth["address_id"].where(~truth["address_id"].isin(["None", "nan", ""]))
    df = truth.assign(true=true, got=res["address_id"].to_numpy(dtype=object), status=res["status"].to_numpy())
    chains = ancestors(addresses)
    # a library element whose parent link is broken (ADR-003) still lies under the elements its full address
    # starts with
    full = addresses.set_index("address_id")["full_address"]
    on = df.merge(chains, left_on=["true", "got"], right_on=["address_id", "ancestor"], how="left",
                  suffixes=("", "_c"))["ancestor"].notna().to_numpy()
    got_full = df["got"].map(full)
    true_full = df["true"].map(full)
    prefix = np.array([isinstance(g, str) and isinstance(t, str) and t.startswith(g) for g, t in
                       zip(got_full, true_full)])
    df["on_chain"] = on | prefix
    df["exact"] = (df["got"] == df["true"]).fillna(False).astype(bool)
    return df, addresses


@pytest.mark.parametrize("seed", [7, 11])
def test_acceptance_on_the_sample_city(sample_cities, seed):
    df, addresses = _measure(sample_cities.city(seed))
    returned = df["got"].notna() & df["true"].notna()
    precision = df.loc[returned, "on_chain"].mean()
    assert precision >= 0.995, precision
    # full-detail texts whose exact address can honestly be reached: compound_only only where the compound
    # name is unique in the library (two compounds of one name must come out ambiguous)
    comp = addresses[addresses["element_type"].astype(str).isin(["42", "43", "44"])]
    dup_names = set(comp["name"][comp["name"].duplicated(keep=False)])
    only = df["form"] == "compound_only"
    dup = only & df["text"].map(lambda t: any(t.startswith(n) for n in dup_names))
    full = df["form"].isin(FULL_DETAIL) & df["true"].notna() & ~dup
    recall = df.loc[full, "exact"].mean()
    assert recall >= 0.97, recall
    typo = df["form"] == "typo"
    assert df.loc[typo, "exact"].mean() >= 0.85
    junk = df["form"] == "junk"
    assert junk.any() and (df.loc[junk, "status"] == "unmatched").all() and df.loc[junk, "got"].isna().all()
    amb = df["status"] == "ambiguous"
    assert df.loc[amb, "got"].isna().all()  # ambiguous never carries (or counts as) a match
    # texts of addresses not in the library never reach a building or finer element
    nil = df["form"] == "not_in_library"
    assert not df.loc[nil, "status"].eq("matched").any()
