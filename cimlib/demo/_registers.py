"""The 一标三实 registers of the sample city: standard addresses, 实有房屋, 实有人口, 实有单位.

Every register record carries its life cycle: the month it entered the register (``entry_period``) and the month
it was put on the map / linked / coded (``mapped_period``; empty when never). Monthly snapshots are cut from these,
so progress over the city's 9 months (2024-01..2024-09 on the reference timeline) is real data, not a typed series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cimlib.codes.divisions import reference_table, written_name
from cimlib.codes.ids import house_code_check_char, org_check_char, ric_check_char, uscc_check_char
from cimlib.demo._admin import AdminAreas
from cimlib.demo._defects import Truth, n_defects, pick
from cimlib.demo._geom import sample_points
from cimlib.demo._names import COMPOUND_SUFFIX, ORG_KIND, ORG_WORDS, ROAD_SUFFIX, person_names, phone_numbers, unique_place_names
from cimlib.demo._timeline import REFERENCE, Timeline

# share of the January backlog that is on the map (geocoded / linked / coded) by the end of each month
_PROGRESS = np.array([0.34, 0.41, 0.49, 0.56, 0.63, 0.72, 0.82, 0.91, 1.0])
_BACKLOG_SHARE = 0.75

ADDRESS_RATES = {"address_outside_street": 0.005, "missing_coordinates": 0.015, "broken_parent": 0.002}
PERSON_RATES = {"bad_check_digit": 0.005, "duplicate_code": 0.002, "person_no_address": 0.01, "bad_phone": 0.003}
HOUSE_RATES = {"bad_check_digit": 0.003, "duplicate_code": 0.002, "house_no_building": 0.005, "bad_structure": 0.003}
UNIT_RATES = {"bad_check_digit": 0.005, "duplicate_code": 0.002, "unit_no_address": 0.01}

ON_MAP_TYPES = ("院落", "建筑物", "单元", "户室")


@dataclass(frozen=True)
class Part:
    """One street of a city whose registers are generated street by street (:mod:`cimlib.demo._stream`).

    The admin elements (county, streets, communities) are written once, by :func:`admin_elements`; a part holds
    the street's roads, compounds, buildings, units and rooms, its houses, persons and units, numbered on from the
    ``*_start`` id numbers. Its persons' ID numbers take their 3-digit sequence from ``id_seqs`` and its
    organisation codes their first two digits from ``org_heads``, sets no other street draws from, so no two
    streets can draw the same number.
    """

    streets: tuple
    address_start: int
    house_start: int
    person_start: int
    unit_start: int
    id_seqs: tuple
    org_heads: tuple


@dataclass
class Registers:
    addresses: gpd.GeoDataFrame
    houses: pd.DataFrame
    persons: pd.DataFrame
    units: pd.DataFrame
    lifecycle: pd.DataFrame  # dataset, record_id, entry_period, mapped_period
    true_address: dict = field(default_factory=dict)  # persons/units -> address_id before defects were injected


def _lifecycle(rng: np.random.Generator, n: int, periods: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Entry and mapped period of ``n`` records among ``periods`` (mapped is never before entry)."""
    periods = np.array(periods)
    backlog = rng.random(n) < _BACKLOG_SHARE
    entry_i = np.where(backlog, 0, rng.integers(1, len(periods), n))
    mapped_backlog = np.searchsorted(_PROGRESS, rng.random(n), side="right")
    lag = rng.choice([0, 0, 0, 0, 0, 0, 0, 1, 1, 2], n)
    mapped_i = np.where(backlog, mapped_backlog, entry_i + lag)
    mapped_i = np.maximum(mapped_i, entry_i)
    mapped = np.where(mapped_i < len(periods), periods[np.minimum(mapped_i, len(periods) - 1)], "")
    return periods[entry_i], mapped


def _entry_after_parent(addresses: pd.DataFrame, entry: np.ndarray, periods: tuple) -> np.ndarray:
    """An address element cannot enter the register before its parent: push each entry to its parent's or later."""
    periods = np.array(periods)
    ei = np.searchsorted(periods, entry)
    pos = pd.Index(addresses["address_id"]).get_indexer(addresses["parent_id"])
    has = pos >= 0
    for _ in range(10):  # the tree is at most 8 levels deep
        new = ei.copy()
        new[has] = np.maximum(ei[has], ei[pos[has]])
        if (new == ei).all():
            break
        ei = new
    return periods[ei]


def _same_life(df: pd.DataFrame, rows: np.ndarray, key: np.ndarray, mapped_too: bool) -> None:
    """Records sharing a duplicated code enter (and, for codes that appear when mapped, get coded) together.

    A duplicate is a duplicate only once both records exist; aligning their periods makes the injected defect
    present from the month the records enter, so the truth holds for every monthly snapshot.
    """
    if not len(rows):
        return
    key = pd.Series(np.asarray(key, dtype=object))
    entry = pd.Series(df["entry_period"].to_numpy()[rows])
    entry = entry.groupby(key).transform("max").to_numpy()
    df.loc[rows, "entry_period"] = entry
    mapped = df["mapped_period"].to_numpy()[rows]
    if mapped_too:
        mapped = pd.Series(mapped).groupby(key).transform("max").to_numpy()
    mapped = np.where((mapped != "") & (mapped < entry), entry, mapped)
    df.loc[rows, "mapped_period"] = mapped


def _cat(*parts) -> np.ndarray:
    out = pd.Series(np.asarray(parts[0], dtype=object)).astype(str)
    return out.str.cat([pd.Series(np.asarray(p, dtype=object)).astype(str) for p in parts[1:]]).to_numpy()


def _ids(prefix: str, n: int, start: int = 1, width: int = 8) -> np.ndarray:
    return _cat(np.full(n, prefix), pd.Series(np.arange(start, start + n).astype(str)).str.zfill(width))


def build_registers(rng: np.random.Generator, admin: AdminAreas, buildings: gpd.GeoDataFrame, county_info: dict,
                    n_addresses: int, n_houses: int, n_persons: int, n_units: int, truth: Truth,
                    timeline: Timeline = REFERENCE, part: Part | None = None) -> Registers:
    """Generate the four registers consistently with the buildings and the admin areas, over ``timeline``'s months.

    With ``part``, the registers of that street only (``buildings`` its buildings, the counts its own; ``admin``
    stays the whole county: an address put in the wrong street lands in another street).
    """
    county_code = county_info["code"]
    periods = timeline.periods
    real = buildings[~buildings["building_id"].str.endswith("D")].reset_index(drop=True)
    houses = _houses(rng, real, county_code, n_houses, start=part.house_start if part else 1)
    addresses, house_addr = _addresses(rng, admin, real, houses, county_info, n_addresses, part)
    houses["address_id"] = house_addr
    persons = _persons(rng, houses, county_code, n_persons, timeline, start=part.person_start if part else 1,
                       seqs=part.id_seqs if part else None)
    units = _units(rng, real, addresses, county_code, n_units, start=part.unit_start if part else 1,
                   heads=part.org_heads if part else None)

    life = []
    on_map = addresses["address_type"].isin(ON_MAP_TYPES).to_numpy()
    entry, mapped = _lifecycle(rng, len(addresses), periods)
    entry[~on_map], mapped[~on_map] = periods[0], periods[0]
    entry = _entry_after_parent(addresses, entry, periods)
    # 增量地址 (buildings and rooms registered after the first month) come out of the production pipeline geocoded
    produced = addresses["address_type"].isin(["建筑物", "户室"]).to_numpy() & (entry > periods[0])
    mapped[produced] = entry[produced]
    mapped = np.where((mapped != "") & (mapped < entry), entry, mapped)
    addresses["entry_period"], addresses["mapped_period"] = entry, mapped
    for name, df in (("houses", houses), ("persons", persons), ("units", units)):
        e, m = _lifecycle(rng, len(df), periods)
        df["entry_period"], df["mapped_period"] = e, m

    addresses = _inject_addresses(rng, addresses, admin, truth, periods[-1])
    houses = _inject_houses(rng, houses, truth, periods[-1])
    # houses of buildings whose code was duplicated carry a code that now names two buildings
    dup_buildings = real.loc[real["building_code"].duplicated(keep=False), "building_id"]
    truth.add("houses", houses.loc[houses["building_id"].isin(dup_buildings), "house_id"].to_numpy(), "ambiguous_building_code")
    true_address = {"persons": persons["address_id"].copy(), "units": units["address_id"].copy()}
    persons = _inject_persons(rng, persons, truth)
    units = _inject_units(rng, units, truth)
    for name, df, id_col in (("addresses", addresses, "address_id"), ("houses", houses, "house_id"),
                             ("persons", persons, "person_id"), ("units", units, "unit_id")):
        life.append(pd.DataFrame({"dataset": name, "record_id": df[id_col].to_numpy(),
                                  "entry_period": df["entry_period"].to_numpy(), "mapped_period": df["mapped_period"].to_numpy()}))
    return Registers(addresses, houses, persons, units, pd.concat(life, ignore_index=True), true_address)


def _houses(rng, b: gpd.GeoDataFrame, county_code: str, n: int, start: int = 1) -> pd.DataFrame:
    res = (b["use"] == "住宅").to_numpy()
    floors = b["floors"].to_numpy()
    w = floors * np.where(res, 2.0, 0.6)
    counts = rng.multinomial(n, w / w.sum())
    bi = np.repeat(np.arange(len(b)), counts)
    j = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    fl = j % floors[bi] + 1
    k = j // floors[bi] + 1
    room = _cat(fl, pd.Series(k.astype(str)).str.zfill(2))
    body = _cat(b["building_code"].to_numpy()[bi], pd.Series((j + 1).astype(str)).str.zfill(5))
    code = _cat(body, house_code_check_char(body))
    comm = b["community_code"].to_numpy()[bi]
    # 不动产单元代码 GB/T 37346: county(6) 地籍区(3) 地籍子区(3) 宗地特征码(2) 宗地顺序号(5) 定着物特征码 F 幢(4) 户(4)
    bseq = pd.Series(b["building_code"].to_numpy()[bi]).str.slice(13, 17).to_numpy()
    zd = pd.Series(((bi * 7919) % 99999 + 1).astype(str)).str.zfill(5).to_numpy()
    # the 12-digit community code stands for county + 地籍区 (street) + 地籍子区 (community)
    bdcdyh = _cat(comm, np.full(n, "GB"), zd, np.full(n, "F"), bseq, pd.Series((j % 9999 + 1).astype(str)).str.zfill(4))
    return pd.DataFrame({
        "house_id": _ids(f"{county_code}H", n, start), "house_code": code, "bdcdyh": bdcdyh,
        "building_id": b["building_id"].to_numpy()[bi], "building_code": b["building_code"].to_numpy()[bi],
        "floor": fl.astype("int64"), "room_no": room, "area_m2": np.round(rng.gamma(6.0, 16.0, n) + 20, 2),
        "use": b["use"].to_numpy()[bi], "street_code": b["street_code"].to_numpy()[bi], "community_code": comm,
        "_b": bi, "_unit": ((j // floors[bi]) % np.clip(floors[bi] // 8 + 1, 1, 4)).astype("int64"),
    })


def _admin_rows(admin: AdminAreas, info: dict) -> tuple[dict, dict, dict, int]:
    """Level 1-3, the admin elements: their rows, address id and full address of each area code, their count."""
    county_code = info["code"]
    prefix = written_name(info)  # 湖北省随州市曾都区, 重庆市万州区 (no 市辖区), 湖北省仙桃市
    streets, comms = admin.level("街道"), admin.level("社区")
    etype_street = streets["kind"].map({"街道": "23", "镇": "22", "乡": "21"}).fillna("23").to_numpy()
    etype_comm = comms["kind"].map({"社区": "31", "村": "33"}).to_numpy()
    n_admin = 1 + len(streets) + len(comms)
    admin_ids = _ids(f"{county_code}A", n_admin)
    id_of_area = dict(zip(np.concatenate([[county_code], streets["area_code"], comms["area_code"]]), admin_ids))
    full_area = {county_code: prefix}
    full_area.update(dict(zip(streets["area_code"], _cat(np.full(len(streets), prefix), streets["name"]))))
    full_area.update(dict(zip(comms["area_code"], _cat([full_area[c[:9]] for c in comms["area_code"]], comms["name"]))))
    level_rows = {"address_id": admin_ids,
                  "parent_id": np.concatenate([[""], np.full(len(streets), id_of_area[county_code]), [id_of_area[c[:9]] for c in comms["area_code"]]]),
                  "element_type": np.concatenate([["13"], etype_street, etype_comm]),
                  "address_type": np.full(n_admin, "行政区划"),
                  "name": np.concatenate([[info["name"]], streets["name"], comms["name"]]),
                  "full_address": [full_area[c] for c in np.concatenate([[county_code], streets["area_code"], comms["area_code"]])],
                  "street_code": np.concatenate([[""], streets["area_code"], comms["area_code"].str.slice(0, 9)]),
                  "community_code": np.concatenate([[""], np.full(len(streets), ""), comms["area_code"]]),
                  "building_id": np.full(n_admin, ""), "x": np.full(n_admin, np.nan), "y": np.full(n_admin, np.nan)}
    return level_rows, id_of_area, full_area, n_admin


def _add(rows: dict, level_rows: dict) -> None:
    level_rows.setdefault("door_plate", np.full(len(level_rows["address_id"]), ""))
    for k, v in level_rows.items():
        rows.setdefault(k, []).append(np.asarray(v, dtype=object))


def _frame(rows: dict, county_code: str, crs) -> gpd.GeoDataFrame:
    df = pd.DataFrame({k: np.concatenate(v) for k, v in rows.items()})
    df.insert(3, "level", df["element_type"].str.slice(0, 1).astype("int64"))
    df["county_code"] = county_code
    x, y = df.pop("x").to_numpy(dtype="float64"), df.pop("y").to_numpy(dtype="float64")
    pts = shapely.points(x, y)
    pts[np.isnan(x) | np.isnan(y)] = None  # admin and road elements are areas and lines: no point of their own
    return gpd.GeoDataFrame(df, geometry=pts, crs=crs)


def admin_elements(admin: AdminAreas, info: dict) -> gpd.GeoDataFrame:
    """The address library's admin elements (county, streets, communities; ids 1..n), as :func:`build_registers`
    writes them first: what a city generated street by street writes once, before its streets."""
    rows = {}
    _add(rows, _admin_rows(admin, info)[0])
    return _frame(rows, info["code"], admin.areas.crs)


def _addresses(rng, admin: AdminAreas, b: gpd.GeoDataFrame, houses: pd.DataFrame, info: dict, n_target: int,
               part: Part | None = None):
    county_code = info["code"]
    comms = admin.level("社区")
    rows = {}

    def add(level_rows: dict):
        _add(rows, level_rows)

    level_rows, id_of_area, full_area, n_admin = _admin_rows(admin, info)
    if part is None:
        add(level_rows)
        next_id = first_id = n_admin + 1
    else:  # one street: the admin elements are written once, by admin_elements
        comms = comms[comms["area_code"].str.slice(0, 9).isin(part.streets).to_numpy()]
        next_id = first_id = part.address_start
    del level_rows

    # level 4: 街路巷 (3 per community) and 院落 (小区)
    k_roads = 3
    road_comm = np.repeat(comms["area_code"].to_numpy(), k_roads)
    road_names = unique_place_names(rng, len(road_comm), np.array(ROAD_SUFFIX)[rng.integers(0, 4, len(road_comm))])
    road_ids = _ids(f"{county_code}A", len(road_comm), next_id)
    next_id += len(road_comm)
    add({"address_id": road_ids, "parent_id": [id_of_area[c] for c in road_comm], "element_type": np.full(len(road_comm), "41"),
         "address_type": np.full(len(road_comm), "街路巷"), "name": road_names,
         "full_address": _cat([full_area[c] for c in road_comm], road_names),
         "street_code": pd.Series(road_comm).str.slice(0, 9).to_numpy(), "community_code": road_comm,
         "building_id": np.full(len(road_comm), ""), "x": np.full(len(road_comm), np.nan), "y": np.full(len(road_comm), np.nan)})

    nb = len(b)
    comm_index = pd.Index(comms["area_code"])
    ci = comm_index.get_indexer(b["community_code"])
    road_of_b = ci * k_roads + rng.integers(0, k_roads, nb)
    door = pd.Series(road_of_b).groupby(road_of_b).cumcount().to_numpy() * 2 + 1 + (road_of_b % 2)
    bounds = shapely.bounds(b.geometry.to_numpy())  # the footprint's centre, also for invalid (bow-tie) polygons
    cx, cy = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2

    res_urban = ((b["use"] == "住宅") & (comms["kind"].to_numpy()[ci] == "社区")).to_numpy()
    order = np.lexsort((np.arange(nb), road_of_b))
    grp_seq = np.zeros(nb, dtype=np.int64)
    sel = order[res_urban[order]]
    rank_in_road = pd.Series(road_of_b[sel]).groupby(road_of_b[sel]).cumcount().to_numpy()
    grp_seq[sel] = rank_in_road // 8
    compound_key = np.where(res_urban, road_of_b * 10_000 + grp_seq, -1)
    ckeys, cinv = np.unique(compound_key[res_urban], return_inverse=True)
    n_comp = len(ckeys)
    comp_ids = _ids(f"{county_code}A", n_comp, next_id)
    next_id += n_comp
    comp_road = ckeys // 10_000
    comp_names = unique_place_names(rng, n_comp, np.array(COMPOUND_SUFFIX)[rng.integers(0, len(COMPOUND_SUFFIX), n_comp)])
    # a door plate names one place on its road: buildings fronting the road take one side of the street (odd
    # numbers on even-numbered roads, even on odd), the compounds' gates the other side from 100 on
    comp_door = pd.Series(comp_road).groupby(comp_road).cumcount().to_numpy() * 2 + 100 + (comp_road % 2)
    # a 院落 hangs under its community (level 3); its door plate on the road is part of its address text
    comp_plate = _cat(road_names[comp_road], comp_door, np.full(n_comp, "号"))
    comp_full = _cat([full_area[c] for c in road_comm[comp_road]], comp_plate, comp_names)
    _, first = np.unique(cinv, return_index=True)  # a compound's point: its first building (always inside it)
    comp_x, comp_y = cx[res_urban][first], cy[res_urban][first]
    add({"address_id": comp_ids, "parent_id": [id_of_area[c] for c in road_comm[comp_road]], "element_type": np.full(n_comp, "42"),
         "address_type": np.full(n_comp, "院落"), "name": comp_names, "full_address": comp_full,
         "street_code": pd.Series(road_comm[comp_road]).str.slice(0, 9).to_numpy(), "community_code": road_comm[comp_road],
         "building_id": np.full(n_comp, ""), "x": comp_x, "y": comp_y, "door_plate": comp_plate})

    # level 5: 建筑物
    bid = _ids(f"{county_code}A", nb, next_id)
    next_id += nb
    comp_of_b = np.full(nb, -1)
    comp_of_b[res_urban] = cinv
    in_comp = comp_of_b >= 0
    bno = pd.Series(np.where(in_comp, comp_of_b, -1 - road_of_b)).groupby(np.where(in_comp, comp_of_b, -1)).cumcount().to_numpy() + 1
    b_name = np.where(in_comp, _cat(bno, np.full(nb, "栋")), _cat(door, np.full(nb, "号")))
    if not n_comp:  # a street without compounds (one street of a city generated street by street)
        comp_full = comp_ids = np.full(1, "", dtype=object)
    parent_full = np.where(in_comp, comp_full[np.maximum(comp_of_b, 0)],
                           _cat([full_area[c] for c in road_comm[road_of_b]], road_names[road_of_b]))
    b_full = _cat(parent_full, b_name)
    add({"address_id": bid, "parent_id": np.where(in_comp, comp_ids[np.maximum(comp_of_b, 0)], road_ids[road_of_b]),
         "element_type": np.full(nb, "50"), "address_type": np.full(nb, "建筑物"), "name": b_name, "full_address": b_full,
         "street_code": b["street_code"].to_numpy(), "community_code": b["community_code"].to_numpy(),
         "building_id": b["building_id"].to_numpy(), "x": cx, "y": cy})

    # level 6: 单元 (residential buildings of 4+ floors) and 户室 (as many houses as the budget allows)
    has_units = ((b["use"] == "住宅") & (b["floors"] >= 4)).to_numpy()
    n_units_b = np.where(has_units, np.clip(b["floors"].to_numpy() // 8 + 1, 1, 4), 0)
    ub = np.repeat(np.arange(nb), n_units_b)
    uk = np.arange(len(ub)) - np.repeat(np.cumsum(n_units_b) - n_units_b, n_units_b)
    uid = _ids(f"{county_code}A", len(ub), next_id)
    next_id += len(ub)
    u_name = _cat(uk + 1, np.full(len(ub), "单元"))
    add({"address_id": uid, "parent_id": bid[ub], "element_type": np.full(len(ub), "61"), "address_type": np.full(len(ub), "单元"),
         "name": u_name, "full_address": _cat(b_full[ub], u_name), "street_code": b["street_code"].to_numpy()[ub],
         "community_code": b["community_code"].to_numpy()[ub], "building_id": b["building_id"].to_numpy()[ub],
         "x": cx[ub], "y": cy[ub]})
    unit_start = np.cumsum(n_units_b) - n_units_b

    used = next_id - first_id + (n_admin if part is None else 0)
    budget = max(n_target - used, 0)
    hb = houses["_b"].to_numpy()
    eligible = np.flatnonzero(b["floors"].to_numpy()[hb] >= 2)
    room_h = np.sort(rng.choice(eligible, size=min(budget, len(eligible)), replace=False))
    rb = hb[room_h]
    rid = _ids(f"{county_code}A", len(room_h), next_id)
    r_name = _cat(houses["room_no"].to_numpy()[room_h], np.full(len(room_h), "室"))
    via_unit = has_units[rb]
    parent_idx = np.where(via_unit, unit_start[rb] + houses["_unit"].to_numpy()[room_h] % np.maximum(n_units_b[rb], 1), 0)
    parent = np.where(via_unit, uid[np.minimum(parent_idx, max(len(uid) - 1, 0))] if len(uid) else "", bid[rb])
    pfull = np.where(via_unit, _cat(b_full[rb], _cat(houses["_unit"].to_numpy()[room_h] % np.maximum(n_units_b[rb], 1) + 1, np.full(len(rb), "单元"))), b_full[rb])
    add({"address_id": rid, "parent_id": parent, "element_type": np.full(len(room_h), "62"), "address_type": np.full(len(room_h), "户室"),
         "name": r_name, "full_address": _cat(pfull, r_name), "street_code": b["street_code"].to_numpy()[rb],
         "community_code": b["community_code"].to_numpy()[rb], "building_id": b["building_id"].to_numpy()[rb],
         "x": cx[rb], "y": cy[rb]})

    house_addr = bid[hb].astype(object)
    house_addr[room_h] = rid
    return _frame(rows, county_code, b.crs), house_addr


def _persons(rng, houses: pd.DataFrame, county_code: str, n: int, timeline: Timeline = REFERENCE, start: int = 1,
             seqs: tuple | None = None) -> pd.DataFrame:
    res = np.flatnonzero((houses["use"] == "住宅").to_numpy())
    if len(res) == 0:
        res = np.arange(len(houses))
    h = res[rng.integers(0, len(res), n)]
    areas = reference_table("areas")["code"]
    areas = areas[areas.str.slice(4, 5) != "7"].to_numpy()  # xx7x 开发区 codes are statistical, not GB/T 2260
    local_code = county_code if county_code[4] != "7" else county_code[:4] + "01"
    local = rng.random(n) < 0.8
    birthplace = np.where(local, local_code, areas[rng.integers(0, len(areas), n)])
    # born 1940-01-01 … 2023-12-30 in the reference frame (nobody born after the registers' last month), moved
    # with the timeline
    days = rng.integers(0, (pd.Timestamp("2023-12-31") - pd.Timestamp("1940-01-01")).days, n)
    birth = timeline.dates((np.datetime64("1940-01-01") + days.astype("timedelta64[D]")).astype("datetime64[D]"))
    ymd = pd.Series(birth.astype(str)).str.replace("-", "", regex=False).to_numpy()
    own = None if seqs is None else np.asarray(seqs, dtype=np.int64)  # this street's sequences (both parities)
    seq = rng.integers(0, 1000, n) if own is None else own[rng.integers(0, len(own), n)]
    body = _cat(birthplace, ymd, pd.Series(seq.astype(str)).str.zfill(3))
    for _ in range(100):  # one number per person: redraw the sequence of collisions
        dup = pd.Series(body).duplicated().to_numpy()
        if not dup.any():
            break
        if own is None:  # keeping its parity (gender)
            seq[dup] = (seq[dup] + 2 * rng.integers(1, 500, int(dup.sum()))) % 1000
        else:
            seq[dup] = own[rng.integers(0, len(own), int(dup.sum()))]
        body[dup] = _cat(birthplace[dup], ymd[dup], pd.Series(seq[dup].astype(str)).str.zfill(3))
    else:
        if own is not None:
            raise ValueError("公民身份号码的顺序码不够用：该街道人口过密")
    idn = _cat(body, ric_check_char(body))
    return pd.DataFrame({
        "person_id": _ids(f"{county_code}P", n, start), "id_number": idn, "name": person_names(rng, n),
        "gender": np.where(seq % 2 == 1, "男", "女"), "birth_date": birth, "phone": phone_numbers(rng, n),
        "registration": np.where(local, "户籍人口", "流动人口"),
        "address_id": houses["address_id"].to_numpy()[h], "house_id": houses["house_id"].to_numpy()[h],
        "street_code": houses["street_code"].to_numpy()[h], "community_code": houses["community_code"].to_numpy()[h],
    })


def _units(rng, b: gpd.GeoDataFrame, addresses: gpd.GeoDataFrame, county_code: str, n: int, start: int = 1,
           heads: tuple | None = None) -> pd.DataFrame:
    baddr = addresses[addresses["element_type"] == "50"]
    nonres = np.flatnonzero((b["use"] != "住宅").to_numpy())
    pool = nonres if len(nonres) else np.arange(len(b))
    bi = np.where(rng.random(n) < 0.85, pool[rng.integers(0, len(pool), n)], rng.integers(0, len(b), n))
    addr_of_b = pd.Series(baddr["address_id"].to_numpy(), index=baddr["building_id"].to_numpy())
    kind = rng.choice(["91", "92", "12", "52", "N2", "Y1"], n, p=[0.68, 0.15, 0.05, 0.05, 0.05, 0.02])
    alphabet = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))

    def draw(k: int) -> np.ndarray:
        if heads is None:
            return _cat(*[alphabet[rng.integers(0, 10 if i < 2 else 31, k)] for i in range(8)])
        own = np.asarray(heads, dtype=object)  # this street's first two digits
        return _cat(own[rng.integers(0, len(own), k)], *[alphabet[rng.integers(0, 31, k)] for _ in range(6)])

    org8 = draw(n)
    for _ in range(100):  # organisation codes are unique
        dup = pd.Series(org8).duplicated().to_numpy()
        if not dup.any():
            break
        org8[dup] = draw(int(dup.sum()))
    org9 = _cat(org8, org_check_char(org8))
    body = _cat(kind, np.full(n, county_code), org9)
    uscc = _cat(body, uscc_check_char(body))
    names = _cat(np.full(n, "随"), np.array(ORG_WORDS)[rng.integers(0, len(ORG_WORDS), n)],
                 np.array(ORG_KIND)[rng.integers(0, len(ORG_KIND), n)])
    return pd.DataFrame({
        "unit_id": _ids(f"{county_code}U", n, start), "name": names, "uscc": uscc, "legal_rep": person_names(rng, n),
        "phone": phone_numbers(rng, n), "industry": rng.choice(["批发和零售业", "住宿和餐饮业", "制造业", "建筑业", "教育", "卫生和社会工作", "农、林、牧、渔业"], n),
        "employees": rng.integers(1, 300, n).astype("int64"),
        "address_id": addr_of_b.reindex(b["building_id"].to_numpy()[bi]).to_numpy(),
        "street_code": b["street_code"].to_numpy()[bi], "community_code": b["community_code"].to_numpy()[bi],
    })


def _wrong_char(rng, s: np.ndarray, pos: int, alphabet: str) -> np.ndarray:
    """Replace character ``pos`` of each string with a character of ``alphabet`` that differs from it."""
    ser = pd.Series(s, dtype=object).astype(str)
    cur = ser.str.slice(pos, pos + 1)
    idx = cur.map({c: i for i, c in enumerate(alphabet)}).fillna(0).to_numpy(dtype="int64")
    new = np.array(list(alphabet))[(idx + rng.integers(1, len(alphabet), len(s))) % len(alphabet)]
    return ser.str.slice(0, pos).str.cat([pd.Series(new, index=ser.index), ser.str.slice(pos + 1)]).to_numpy()


def _dup_pairs(rng, n: int, k: int, taken: np.ndarray) -> np.ndarray:
    return pick(rng, np.arange(n), 2 * k, taken).reshape(-1, 2) if n >= 4 * k else np.empty((0, 2), dtype=int)


def _inject_addresses(rng, a: gpd.GeoDataFrame, admin: AdminAreas, truth: Truth, last: str) -> gpd.GeoDataFrame:
    n = len(a)
    taken = np.zeros(n, dtype=bool)
    targets = np.flatnonzero(a["address_type"].isin(["建筑物", "户室"]).to_numpy())
    ids = a["address_id"].to_numpy()

    out = pick(rng, targets, n_defects(len(targets), ADDRESS_RATES["address_outside_street"]), taken)
    streets = admin.level("街道")
    codes = streets["area_code"].to_numpy()
    own = np.searchsorted(codes, a["street_code"].to_numpy()[out])
    other = (own + rng.integers(1, max(len(codes), 2), len(out))) % len(codes)
    if len(codes) > 1:
        pts = np.empty((len(out), 2))
        for k in np.unique(other):  # one sampling per street, not per record
            inner = shapely.buffer(streets.geometry.iloc[k], -30.0)  # well inside the other street
            pts[other == k] = sample_points(inner if inner.area > 0 else streets.geometry.iloc[k], int((other == k).sum()), rng)
        a.loc[out, "geometry"] = shapely.points(pts)
        a.loc[out, "mapped_period"] = a.loc[out, "mapped_period"].replace("", last).to_numpy()  # geocoded, wrongly
        truth.add("addresses", ids[out], "address_outside_street")

    miss = pick(rng, targets, n_defects(len(targets), ADDRESS_RATES["missing_coordinates"]), taken)
    a.loc[miss, "mapped_period"] = ""
    truth.add("addresses", ids[miss], "missing_coordinates")
    # not geocoded by the end of the last period: missing coordinates too
    never = np.flatnonzero(a["address_type"].isin(ON_MAP_TYPES).to_numpy() & (a["mapped_period"] == "").to_numpy())
    truth.add("addresses", ids[never], "missing_coordinates")
    a.loc[never, "geometry"] = None

    brk = pick(rng, targets, n_defects(len(targets), ADDRESS_RATES["broken_parent"]), taken)
    a.loc[brk, "parent_id"] = _cat(a["parent_id"].to_numpy()[brk], np.full(len(brk), "X"))
    truth.add("addresses", ids[brk], "broken_parent")
    return a


def _inject_persons(rng, p: pd.DataFrame, truth: Truth) -> pd.DataFrame:
    n = len(p)
    taken = np.zeros(n, dtype=bool)
    ids = p["person_id"].to_numpy()
    bad = pick(rng, np.arange(n), n_defects(n, PERSON_RATES["bad_check_digit"]), taken)
    p.loc[bad, "id_number"] = _wrong_char(rng, p["id_number"].to_numpy()[bad], 17, "0123456789X")
    truth.add("persons", ids[bad], "bad_check_digit")
    pairs = _dup_pairs(rng, n, n_defects(n, PERSON_RATES["duplicate_code"]), taken)
    p.loc[pairs[:, 1], "id_number"] = p.loc[pairs[:, 0], "id_number"].to_numpy()
    _same_life(p, pairs.ravel(), np.repeat(np.arange(len(pairs)), 2), mapped_too=False)
    truth.add("persons", ids[pairs.ravel()], "duplicate_code")
    noaddr = pick(rng, np.arange(n), n_defects(n, PERSON_RATES["person_no_address"]), taken)
    half = len(noaddr) // 2
    p.loc[noaddr[:half], "address_id"] = None
    p.loc[noaddr[half:], "address_id"] = _cat(p["address_id"].to_numpy()[noaddr[half:]], np.full(len(noaddr) - half, "9"))
    truth.add("persons", ids[noaddr], "person_no_address")
    ph = pick(rng, np.arange(n), n_defects(n, PERSON_RATES["bad_phone"]), taken)
    p.loc[ph, "phone"] = pd.Series(p["phone"].to_numpy()[ph]).str.slice(0, 10).to_numpy()
    truth.add("persons", ids[ph], "bad_phone")
    return p


def _inject_houses(rng, h: pd.DataFrame, truth: Truth, last: str) -> pd.DataFrame:
    n = len(h)
    taken = np.zeros(n, dtype=bool)
    ids = h["house_id"].to_numpy()
    bad = pick(rng, np.arange(n), n_defects(n, HOUSE_RATES["bad_check_digit"]), taken)
    h.loc[bad, "house_code"] = _wrong_char(rng, h["house_code"].to_numpy()[bad], 22, "0123456789X")
    truth.add("houses", ids[bad], "bad_check_digit")
    pairs = _dup_pairs(rng, n, n_defects(n, HOUSE_RATES["duplicate_code"]), taken)
    h.loc[pairs[:, 1], "house_code"] = h.loc[pairs[:, 0], "house_code"].to_numpy()
    truth.add("houses", ids[pairs.ravel()], "duplicate_code")
    # a duplicated building code (a buildings defect) carries over into the house codes of both buildings
    bcode = h["building_code"].to_numpy()
    dup_b = pd.Series(bcode).duplicated(keep=False).to_numpy() & ~taken & (pd.Series(h["building_id"]).groupby(bcode).transform("nunique") > 1).to_numpy()
    carried = np.flatnonzero(dup_b & pd.Series(h["house_code"]).duplicated(keep=False).to_numpy())
    truth.add("houses", ids[carried], "duplicate_code")
    coded = np.concatenate([bad, pairs.ravel(), carried])  # a wrong or duplicated code must be there at the last period
    h.loc[coded, "mapped_period"] = h.loc[coded, "mapped_period"].replace("", last).to_numpy()
    dups = np.concatenate([pairs.ravel(), carried])
    _same_life(h, dups, h["house_code"].to_numpy()[dups], mapped_too=True)
    nob = pick(rng, np.arange(n), n_defects(n, HOUSE_RATES["house_no_building"]), taken)
    half = len(nob) // 2
    h.loc[nob[:half], "building_id"] = None
    h.loc[nob[half:], "building_id"] = _cat(h["building_id"].to_numpy()[nob[half:]], np.full(len(nob) - half, "X"))
    h.loc[nob, "building_code"] = None  # no usable reference to a building at all (not even its code)
    truth.add("houses", ids[nob], "house_no_building")
    bs = pick(rng, np.arange(n), n_defects(n, HOUSE_RATES["bad_structure"]), taken)
    h.loc[bs, "bdcdyh"] = _wrong_char(rng, h["bdcdyh"].to_numpy()[bs], 19, "ABCDE")  # 定着物特征码 must be F/L/Q/W
    truth.add("houses", ids[bs], "bad_structure")
    return h.drop(columns=["_b", "_unit"])


def _inject_units(rng, u: pd.DataFrame, truth: Truth) -> pd.DataFrame:
    n = len(u)
    taken = np.zeros(n, dtype=bool)
    ids = u["unit_id"].to_numpy()
    bad = pick(rng, np.arange(n), n_defects(n, UNIT_RATES["bad_check_digit"]), taken)
    u.loc[bad, "uscc"] = _wrong_char(rng, u["uscc"].to_numpy()[bad], 17, "0123456789ABCDEFGHJKLMNPQRTUWXY")
    truth.add("units", ids[bad], "bad_check_digit")
    pairs = _dup_pairs(rng, n, n_defects(n, UNIT_RATES["duplicate_code"]), taken)
    u.loc[pairs[:, 1], "uscc"] = u.loc[pairs[:, 0], "uscc"].to_numpy()
    _same_life(u, pairs.ravel(), np.repeat(np.arange(len(pairs)), 2), mapped_too=False)
    truth.add("units", ids[pairs.ravel()], "duplicate_code")
    noaddr = pick(rng, np.arange(n), n_defects(n, UNIT_RATES["unit_no_address"]), taken)
    u.loc[noaddr, "address_id"] = None
    truth.add("units", ids[noaddr], "unit_no_address")
    return u


SMART_COMPOUND_SHARE = 0.4
"""Share of the 院落 (compounds) flagged as 智慧小区 in the standard address library."""


def flag_smart_compounds(rng: np.random.Generator, addresses: pd.DataFrame) -> np.ndarray:
    """The ``smart_compound`` column of the address library: ``是``/``否`` for every 院落, empty for other elements.

    A compound flagged 是 has been built as a 智慧小区 (重庆: 打造智慧小区100个以上); the flag is written as
    departments keep it, in words.
    """
    comp = (addresses["address_type"] == "院落").to_numpy()
    out = np.full(len(addresses), None, dtype=object)
    out[comp] = np.where(rng.random(int(comp.sum())) < SMART_COMPOUND_SHARE, "是", "否")
    return out

