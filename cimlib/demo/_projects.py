"""工程建设项目 (the project list): projects approved 2019-01 … 2024-09 across the county, with injected defects.

Dates are those of the reference timeline; on another timeline (:mod:`cimlib.demo._timeline`) every date moves with
it (approvals drawn in the reference frame, then moved; start and completion counted from the moved approval; the
last day is the timeline's), and the digital share by year follows the moved years.

A static dataset (no monthly snapshots): the approval, start and completion dates carry the history. Each project
is a point inside a community (street and community codes are those of the community the point falls in), with a
type (房屋建筑 60%, 市政基础设施 20%, 交通 12%, 水利 8%), a building area (房屋建筑: tens of thousands of m²; other
types mostly 0), the national 项目代码 (``YYYY-XXXXXX-XX-XX-XXXXXX``: the approval year or the one before, the county
or its city as approving authority, 47 房屋建筑业 / 48 土木工程建筑业, type 01–03, a unique serial) and three 是/否
flags: ``digital_pilot`` (about 15%), ``digital_construction`` (every pilot, and a share of the others rising from
10% of the 2019 approvals to 75% of the 2024 ones) and ``integrated`` (about 35% of 房屋建筑, never another type).

Injected defects (``truth/defects.csv``, ``cimlib.demo._defects.DEFECT_RULES``): ``bad_project_code`` (PRJ-001),
``code_division_outside`` (PRJ-002: a real county of another province), ``dates_out_of_order`` and
``unreadable_date`` (PRJ-003; the latter on the approval date), ``negative_area`` and ``building_without_area``
(PRJ-004), ``unreadable_flag`` (PRJ-005). One defect per record. Records whose approval date, a flag or the area
cannot be used (``unreadable_date``, ``unreadable_flag``, ``negative_area``) are left out of the metrics; the facts
(:func:`project_facts`) are computed from the generator's own arrays without them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cimlib.codes.divisions import MUNICIPALITIES, reference_table
from cimlib.codes.projects import YEAR_RANGE
from cimlib.demo._defects import Truth, n_defects, pick
from cimlib.demo._names import PLACE_WORDS
from cimlib.demo._timeline import REFERENCE, Timeline
from cimlib.geo import CGCS2000

FIRST_DAY = "2019-01-01"
LAST_DAY = "2024-09-30"
TYPES = np.array(["房屋建筑", "市政基础设施", "交通", "水利"])
TYPE_SHARES = np.array([0.60, 0.20, 0.12, 0.08])
INDUSTRY = {"房屋建筑": "47", "市政基础设施": "48", "交通": "48", "水利": "48"}
PILOT_SHARE = 0.15
INTEGRATED_SHARE = 0.35
DIGITAL_SHARE_BY_YEAR = {2019: 0.10, 2020: 0.20, 2021: 0.30, 2022: 0.45, 2023: 0.60, 2024: 0.75}
NAME_KINDS = {
    "房屋建筑": ["住宅小区", "安置房", "保障性住房", "商业综合体", "学校教学楼", "医院门诊楼", "产业园标准厂房", "养老服务中心"],
    "市政基础设施": ["路网改造", "雨污分流改造", "供水管网改造", "老旧小区改造配套", "地下综合管廊", "公园绿地提升"],
    "交通": ["大道快速化改造", "公交枢纽", "公共停车场", "跨河大桥", "道路拓宽改造"],
    "水利": ["河道综合整治", "防洪堤加固", "水库除险加固", "排涝泵站", "生态补水"],
}
BAD_FLAG_VALUES = ["待定", "不详", "√", "已申报"]
FLAG_COLUMNS = ("digital_pilot", "digital_construction", "integrated")

def fact_periods(timeline: Timeline = REFERENCE) -> tuple[str, ...]:
    """The months ``facts.json`` records the project metrics for: every December from the year of the first possible
    approval (:data:`FIRST_DAY` moved) before the registers' months, then those months."""
    first_year = int(timeline.date(FIRST_DAY)[:4])
    periods = timeline.periods
    decembers = tuple(f"{y:04d}-12" for y in range(first_year, int(periods[0][:4]) + 1) if f"{y:04d}-12" < periods[0])
    return decembers + tuple(periods)


FACT_PERIODS = fact_periods(REFERENCE)
"""The months of the reference timeline (every December 2019–2023, and 2024-01 … 2024-09)."""


def _digital_share(years: np.ndarray, timeline: Timeline) -> np.ndarray:
    """:data:`DIGITAL_SHARE_BY_YEAR` of each (moved) approval year: the reference year it stands for, clamped to
    the table's years."""
    ref = np.clip(np.asarray(years, dtype=np.int64) - timeline.years, min(DIGITAL_SHARE_BY_YEAR), max(DIGITAL_SHARE_BY_YEAR))
    return np.array([DIGITAL_SHARE_BY_YEAR[int(y)] for y in ref])


def _points_in(rng: np.random.Generator, polys: np.ndarray, which: np.ndarray) -> np.ndarray:
    """One random point inside ``polys[which[i]]`` for each i (rejection sampling in the bounding boxes)."""
    n = len(which)
    x, y = np.zeros(n), np.zeros(n)
    todo = np.arange(n)
    bounds = shapely.bounds(polys)
    for poly in polys:
        shapely.prepare(poly)
    for _ in range(200):
        if not len(todo):
            break
        b = bounds[which[todo]]
        cx = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
        cy = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
        inside = np.array([shapely.contains_xy(polys[w], px, py) for w, px, py in zip(which[todo], cx, cy)], dtype=bool)
        x[todo[inside]], y[todo[inside]] = cx[inside], cy[inside]
        todo = todo[~inside]
    if len(todo):  # a sliver community: its representative point
        rp = shapely.point_on_surface(polys[which[todo]])
        x[todo], y[todo] = shapely.get_x(rp), shapely.get_y(rp)
    return shapely.points(x, y)


def _approving(info: dict) -> tuple[str, str]:
    """The county's own division code and the other authority inside its scope (its city, or the 直辖市)."""
    code = info["code"]
    if code[:2] in MUNICIPALITIES:
        return code, code[:2] + "0000"
    return code, code[:4] + "00"


def _fmt(d: np.ndarray) -> np.ndarray:
    """datetime64[D] as ``YYYY-MM-DD`` text (None for NaT)."""
    out = np.full(len(d), None, dtype=object)
    ok = ~np.isnat(d)
    out[ok] = np.datetime_as_string(d[ok], unit="D").astype(object)
    return out


def build_projects(rng: np.random.Generator, areas_ll: gpd.GeoDataFrame, info: dict, n: int, truth: Truth,
                   timeline: Timeline = REFERENCE) -> tuple[gpd.GeoDataFrame, dict]:
    """The project list (EPSG:4490 points) and its facts.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator's own stream (``_rng(seed, 14)``): the rest of the city does not depend on it.
    areas_ll : geopandas.GeoDataFrame
        The admin layer as written (lon/lat, ``area_code, name, level, parent_code``).
    info : dict
        The county (:func:`cimlib.codes.divisions.county`).
    n : int
        Number of projects.
    truth : Truth
        Receives the injected defects.
    timeline : Timeline
        The city's months (default the reference: approvals 2019-01-01 … 2024-09-30).

    Returns
    -------
    (geopandas.GeoDataFrame, dict)
        The projects and :func:`project_facts`.
    """
    comm = areas_ll[areas_ll["level"] == "社区"].reset_index(drop=True)
    polys = comm.geometry.to_numpy()
    weight = shapely.area(polys)
    which = rng.choice(len(comm), size=n, p=weight / weight.sum())
    geom = _points_in(rng, polys, which)

    first, last = np.datetime64(FIRST_DAY, "D"), np.datetime64(LAST_DAY, "D")
    approval = np.sort(first + rng.integers(0, (last - first).astype(int) + 1, n).astype("timedelta64[D]"))
    approval = timeline.dates(approval)  # drawn in the reference frame, moved (monotone: still sorted)
    last = np.datetime64(timeline.date(LAST_DAY), "D")
    year = approval.astype("datetime64[Y]").astype(int) + 1970
    start = approval + rng.integers(20, 241, n).astype("timedelta64[D]")
    completion = start + rng.integers(240, 1001, n).astype("timedelta64[D]")
    start = np.where(start <= last, start, np.datetime64("NaT"))
    completion = np.where(~np.isnat(start) & (completion <= last), completion, np.datetime64("NaT"))

    ptype = TYPES[rng.choice(len(TYPES), size=n, p=TYPE_SHARES)]
    building = ptype == "房屋建筑"
    area = np.where(building, np.round(np.clip(rng.lognormal(np.log(25_000), 0.8, n), 1_500, 400_000), 1), 0.0)
    small = ~building & (rng.random(n) < 0.2)
    area[small] = np.round(rng.uniform(200, 3_000, int(small.sum())), 1)

    pilot = rng.random(n) < PILOT_SHARE
    digital = pilot | (rng.random(n) < _digital_share(year, timeline))
    integrated = building & (rng.random(n) < INTEGRATED_SHARE)

    own, other = _approving(info)
    division = np.where(rng.random(n) < 0.8, own, other)
    # the platform's codes begin in 2015: an older approval (a timeline far back) got its code then
    code_year = np.maximum(year - (rng.random(n) < 0.15), YEAR_RANGE[0])
    kind = rng.choice(["01", "02", "03"], size=n, p=[0.3, 0.1, 0.6])
    serial = rng.choice(1_000_000, size=n, replace=False)
    industry = np.array([INDUSTRY[t] for t in ptype])
    code = np.array([f"{y:04d}-{d}-{i}-{k}-{s:06d}" for y, d, i, k, s in zip(code_year, division, industry, kind, serial)],
                    dtype=object)

    place = np.array(PLACE_WORDS)[rng.integers(0, len(PLACE_WORDS), n)]
    what = np.array([NAME_KINDS[t][j % len(NAME_KINDS[t])] for t, j in zip(ptype, rng.integers(0, 1_000, n))])
    suffix = np.where(building, "项目", "工程")
    names = np.char.add(np.char.add(np.char.add(comm["name"].to_numpy(dtype=str)[which], place), what), suffix)

    ids = np.array([f"{info['code']}XM{i + 1:05d}" for i in range(n)], dtype=object)
    text = {"approval_date": _fmt(approval), "start_date": _fmt(start), "completion_date": _fmt(completion)}
    area_out = area.copy()
    flag_text = {c: np.where(v, "是", "否").astype(object) for c, v in
                 (("digital_pilot", pilot), ("digital_construction", digital), ("integrated", integrated))}

    # ---- injected defects, one per record
    taken = np.zeros(n, dtype=bool)
    everyone = np.arange(n)
    unusable = np.zeros(n, dtype=bool)

    bad = pick(rng, everyone, n_defects(n, 0.02), taken)
    for j, i in enumerate(bad):
        c = code[i]
        code[i] = [c[:4] + c[5:],                                 # a dash left out (23 characters)
                   c[:18] + c[18:22] + "O" + c[23:],              # a letter O for a zero in the serial
                   c[:4] + "－" + c[5:],                          # a full-width dash
                   c[2:4] + "-" + c[5:] + "00"][j % 4]            # a two-digit year
    truth.add("projects", ids[bad], "bad_project_code")

    outside = pick(rng, everyone, n_defects(n, 0.015), taken)
    counties = reference_table("areas")["code"]
    foreign = counties[(counties.str.slice(0, 2) != info["code"][:2]) & ~counties.str.slice(4, 6).isin(["00"])]
    foreign = foreign.sort_values().to_numpy()[rng.integers(0, len(foreign), len(outside))]
    for i, d in zip(outside, foreign):
        code[i] = code[i][:5] + d + code[i][11:]
    truth.add("projects", ids[outside], "code_division_outside")

    k = n_defects(n, 0.02)
    early = pick(rng, np.flatnonzero(~np.isnat(start)), (k + 1) // 2, taken)
    for i in early:  # started before it was approved
        text["start_date"][i] = _fmt(np.array([approval[i] - np.timedelta64(int(rng.integers(5, 60)), "D")]))[0]
    late = pick(rng, np.flatnonzero(~np.isnat(completion)), k // 2, taken)
    for i in late:  # completed before it started
        text["completion_date"][i] = _fmt(np.array([start[i] - np.timedelta64(int(rng.integers(5, 60)), "D")]))[0]
    truth.add("projects", ids[np.concatenate([early, late])], "dates_out_of_order")

    unread = pick(rng, everyone, n_defects(n, 0.015), taken)
    for j, i in enumerate(unread):
        y = int(year[i])
        text["approval_date"][i] = [f"{y}-02-30", "待补录", f"{y}.13.01", f"{y}年"][j % 4]
    unusable[unread] = True
    truth.add("projects", ids[unread], "unreadable_date")

    neg = pick(rng, everyone, n_defects(n, 0.015), taken)
    area_out[neg] = -np.where(area[neg] > 0, area[neg], 500.0)
    unusable[neg] = True
    truth.add("projects", ids[neg], "negative_area")

    zero = pick(rng, np.flatnonzero(building), n_defects(n, 0.015), taken)
    area_out[zero] = 0.0
    area[zero] = 0.0  # usable: counted with no area
    truth.add("projects", ids[zero], "building_without_area")

    flag_bad = pick(rng, everyone, n_defects(n, 0.02), taken)
    cols = rng.integers(0, len(FLAG_COLUMNS), len(flag_bad))
    for j, (i, c) in enumerate(zip(flag_bad, cols)):
        flag_text[FLAG_COLUMNS[c]][i] = BAD_FLAG_VALUES[j % len(BAD_FLAG_VALUES)]
    unusable[flag_bad] = True
    truth.add("projects", ids[flag_bad], "unreadable_flag")

    comm_code = comm["area_code"].to_numpy(dtype=object)[which]
    street_code = comm["parent_code"].to_numpy(dtype=object)[which]
    gdf = gpd.GeoDataFrame({
        "project_id": ids, "project_code": code, "name": names.astype(object), "project_type": ptype.astype(object),
        "building_area_m2": area_out, **flag_text, **text,
        "street_code": street_code, "community_code": comm_code,
    }, geometry=geom, crs=CGCS2000)
    facts = project_facts(ids, approval, building, area, pilot, digital, integrated, street_code, unusable, timeline)
    return gdf, facts


def project_facts(ids, approval, building, area, pilot, digital, integrated, street_code, unusable,
                  timeline: Timeline = REFERENCE) -> dict:
    """What the metrics must give, from the generator's own arrays (the records left out removed).

    ``by_period[YYYY-MM]`` (county level, at the month's end): ``approved`` and ``pilots`` (projects approved by
    then, those flagged pilot), ``building_area_m2`` and ``integrated_area_m2`` (房屋建筑 and integrated area
    approved by then, m²), ``year_projects`` and ``year_digital`` (approved in the calendar year up to the month's
    end, those using 数字化建造), ``year_building_area_m2`` and ``year_integrated_area_m2``, for every month of
    :func:`fact_periods`; ``approved_by_street`` at the timeline's last day (2024-09-30 on the reference);
    ``excluded``: the ids of the records left out; ``count``: all records.
    """
    keep = ~unusable
    out = {}
    for period in fact_periods(timeline):
        month = pd.Period(period, freq="M")
        end = np.datetime64(month.end_time.date(), "D")
        first = np.datetime64(f"{month.year:04d}-01-01", "D")
        by = keep & (approval <= end)
        yr = by & (approval >= first)
        out[period] = {
            "approved": int(by.sum()), "pilots": int((by & pilot).sum()),
            "building_area_m2": float(area[by & building].sum()), "integrated_area_m2": float(area[by & integrated].sum()),
            "year_projects": int(yr.sum()), "year_digital": int((yr & digital).sum()),
            "year_building_area_m2": float(area[yr & building].sum()),
            "year_integrated_area_m2": float(area[yr & integrated & building].sum()),
        }
    last = keep & (approval <= np.datetime64(timeline.date(LAST_DAY), "D"))
    streets = pd.Series(street_code[last]).value_counts().sort_index()
    return {"count": int(len(ids)), "excluded": sorted(str(i) for i in np.asarray(ids)[unusable]),
            "first_approval": str(approval.min()) if len(approval) else None,
            "by_period": out, "approved_by_street": {str(k): int(v) for k, v in streets.items()}}
