"""北斗网格码 (BeiDou grid location codes, GB/T 39409-2020) of the sample city's entities, with injected defects.

武汉 2023 plan, 二、(二)1: “使用北斗网格划分关联实体，构建统一空间定位体系”. Every building, standard address (the
elements that are places: 院落/建筑物/单元/户室), house and sensing device gets a ``grid_code``: the level-10 2D
code (20 characters, 1/2048″ cells) of its location —

- a building: ``shapely.point_on_surface`` of its footprint in CGCS2000 lon/lat (a point inside the footprint, also
  for the injected bow-ties);
- an address: its point, once it is geocoded (an address without coordinates has no code);
- a house: its building's code (the true building, also for the houses whose building link was broken);
- a device: its ``lon``/``lat``.

Coding proceeds over the registers' months like geocoding does: a register record's code appears from its
``grid_period`` on (never before it entered the register, an address never before it was mapped); the monthly
snapshot blanks ``grid_code`` before that month (:func:`blank_uncoded`, called by the snapshot writer).
增量地址 (buildings and rooms produced after the first month) leave the production pipeline with a checked code
(its 网格核验 stage) the month they are produced, and never carry a grid defect. Buildings and devices are single
files: their codes are as delivered.

Defects (truth ``defects.csv``): ``grid_code_missing`` (no code by the last month), ``grid_code_malformed`` (last
character dropped, an octal digit 8/9, a lower-case hemisphere letter), ``grid_code_wrong_location`` (the code of a
point 1–3 km away). A malformed or wrong code is there from the record's ``grid_period`` on. The generator's own
count of valid, consistent codes per month is :func:`assign_grid_codes`' return value (``facts.json``
``beidou_grid_by_period``), computed from what it assigned, not by the rules.

Drawn from its own random stream, so every other column of the city is unchanged by it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from cimlib.codes import beidou
from cimlib.demo._defects import Truth, n_defects, pick
from cimlib.geo import CGCS2000

__all__ = ["assign_grid_codes", "blank_uncoded", "GRID_LEVEL", "GRID_RATES", "GRID_DEFECTS"]

GRID_LEVEL = 10
"""Level of the codes the generator writes (20 characters)."""

GRID_DEFECTS = ("grid_code_missing", "grid_code_malformed", "grid_code_wrong_location")

GRID_RATES = {
    "buildings": {"grid_code_missing": 0.04, "grid_code_malformed": 0.005, "grid_code_wrong_location": 0.005},
    "devices": {"grid_code_missing": 0.05, "grid_code_malformed": 0.01, "grid_code_wrong_location": 0.01},
    "addresses": {"grid_code_malformed": 0.004, "grid_code_wrong_location": 0.004},
    "houses": {"grid_code_malformed": 0.004, "grid_code_wrong_location": 0.004},
}
"""Share of records given each defect (registers: missing codes come from the coding progress, not a rate)."""

# share of the register records (not produced by the pipeline) coded by the end of each month; the rest are not
# coded within the span
_PROGRESS = np.array([0.22, 0.31, 0.41, 0.51, 0.61, 0.71, 0.80, 0.88, 0.95])
_PLACE_TYPES = ("院落", "建筑物", "单元", "户室")
_PRODUCED_TYPES = ("建筑物", "户室")


def _periods_of(reg) -> tuple[str, ...]:
    """The registers' months: every month from the earliest entry to the latest entry or mapping."""
    life = reg.lifecycle
    months = pd.concat([life["entry_period"], life["mapped_period"]])
    months = months[months.astype(str) != ""]
    rng = pd.period_range(months.min(), months.max(), freq="M")
    return tuple(str(p) for p in rng)


def _malformed(rng: np.random.Generator, codes: np.ndarray) -> np.ndarray:
    """Codes spoiled the ways they are mistyped: the last character dropped, an octal position holding 8 or 9, the
    hemisphere letter in lower case."""
    s = pd.Series(codes, dtype=object).astype(str)
    kind = rng.integers(0, 3, len(s))
    digit = np.where(rng.random(len(s)) < 0.5, "8", "9")
    out = np.where(kind == 0, s.str.slice(0, -1),
                   np.where(kind == 1, s.str.slice(0, -1) + digit, s.str.slice(0, 1).str.lower() + s.str.slice(1)))
    return out.astype(object)


def _far(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Level-10 codes of points 1–3 km (0.01–0.03°) away in a random direction: a cell far from the entity."""
    angle = rng.uniform(0, 2 * np.pi, len(x))
    dist = rng.uniform(0.01, 0.03, len(x))
    return beidou.encode(x + dist * np.cos(angle), y + dist * np.sin(angle), GRID_LEVEL).astype(object)


def _coding_month(rng: np.random.Generator, n: int) -> np.ndarray:
    """Month index (0-based; ``len(_PROGRESS)`` = not within the span) each record's code is assigned."""
    return np.searchsorted(_PROGRESS, rng.random(n), side="right")


def _static(rng, name: str, ids: np.ndarray, x: np.ndarray, y: np.ndarray, truth: Truth):
    """Codes of a single-file layer (buildings, devices) with its defects, and whether each is there, valid and right."""
    n = len(ids)
    codes = beidou.encode(x, y, GRID_LEVEL).astype(object)
    taken = np.zeros(n, dtype=bool)
    rates = GRID_RATES[name]
    miss = pick(rng, np.arange(n), n_defects(n, rates["grid_code_missing"]), taken)
    bad = pick(rng, np.arange(n), n_defects(n, rates["grid_code_malformed"]), taken)
    far = pick(rng, np.arange(n), n_defects(n, rates["grid_code_wrong_location"]), taken)
    codes[bad] = _malformed(rng, codes[bad])
    codes[far] = _far(rng, x[far], y[far])
    codes[miss] = None
    for rows, defect in ((miss, "grid_code_missing"), (bad, "grid_code_malformed"), (far, "grid_code_wrong_location")):
        truth.add(name, ids[rows], defect)
    return codes, ~taken


def _register(rng, name: str, df: pd.DataFrame, id_col: str, true_codes: np.ndarray, x: np.ndarray, y: np.ndarray,
              grid_i: np.ndarray, eligible: np.ndarray, scope: np.ndarray, last: int, truth: Truth):
    """Codes of a register with its defects (among ``eligible`` records coded within the span), and whether each
    record's code is valid and right once assigned."""
    n = len(df)
    ids = df[id_col].to_numpy()
    codes = true_codes.copy()
    taken = np.zeros(n, dtype=bool)
    pool = np.flatnonzero(eligible & (grid_i <= last))
    rates = GRID_RATES[name]
    bad = pick(rng, pool, n_defects(len(pool), rates["grid_code_malformed"]), taken)
    far = pick(rng, pool, n_defects(len(pool), rates["grid_code_wrong_location"]), taken)
    codes[bad] = _malformed(rng, codes[bad])
    codes[far] = _far(rng, x[far], y[far])
    never = scope & (grid_i > last)
    codes[grid_i > last] = None
    for rows, defect in ((np.flatnonzero(never), "grid_code_missing"), (bad, "grid_code_malformed"),
                         (far, "grid_code_wrong_location")):
        truth.add(name, ids[rows], defect)
    return codes, ~taken


def _month_names(month_i: np.ndarray, periods: tuple) -> np.ndarray:
    """``YYYY-MM`` of each month index, ``""`` beyond the last month."""
    names = np.array((*periods, ""), dtype=object)
    return names[np.minimum(month_i, len(periods))]


def _insert(df: pd.DataFrame, column: str, values) -> None:
    at = df.columns.get_loc("geometry") if "geometry" in df.columns else len(df.columns)
    df.insert(at, column, values)


def assign_grid_codes(rng: np.random.Generator, buildings, reg, devices, truth: Truth, periods=None) -> dict:
    """Give the buildings, addresses, houses and devices their ``grid_code`` (in place) and record the defects.

    Parameters
    ----------
    rng : numpy.random.Generator
        The stream of this step (``_rng(seed, 15)``).
    buildings : geopandas.GeoDataFrame
        Footprints in the projected CRS (as generated); gains ``grid_code`` (before ``geometry``).
    reg : cimlib.demo._registers.Registers
        ``addresses`` gains ``grid_code`` and ``grid_period``, ``houses`` too (``grid_period``: the month the code
        appears, empty when never; the snapshot writer blanks the code before it and drops the column).
    devices : geopandas.GeoDataFrame
        EPSG:4490 points with ``lon``/``lat``; gains ``grid_code``.
    truth : Truth
        Receives the ``grid_code_*`` defects.
    periods : sequence of str, optional
        The registers' months; default every month from the earliest entry to the latest entry or mapping.

    Returns
    -------
    dict
        ``{period: {dataset: [numerator, denominator]}}`` for ``buildings``, ``addresses``, ``houses``, ``devices``
        and ``entities`` (their sums): entities with a valid code consistent with their location / entities (the
        addresses that are places; houses and addresses present in the month's snapshot; a house whose building
        link is broken is never counted as consistent). What ``beidou_grid_rate`` must give.
    """
    periods = tuple(periods) if periods is not None else _periods_of(reg)
    static = grid_static(rng, buildings, devices, truth)
    return grid_facts(static, grid_registers(rng, reg, static, periods, truth), periods)


def grid_static(rng: np.random.Generator, buildings, devices, truth: Truth) -> dict:
    """The single-file layers' codes (buildings, devices; in place, with their defects) and what the registers'
    part (:func:`grid_registers`) needs of the buildings: the first half of :func:`assign_grid_codes`."""
    # buildings: a point on the footprint's surface, in lon/lat
    ll = buildings.geometry.to_crs(CGCS2000).to_numpy()
    pos = shapely.point_on_surface(ll)
    del ll
    bx, by = shapely.get_x(pos), shapely.get_y(pos)
    b_ids = buildings["building_id"].to_numpy()
    true_b = pd.Series(beidou.encode(bx, by, GRID_LEVEL).astype(object), index=b_ids)
    b_codes, b_ok = _static(rng, "buildings", b_ids, bx, by, truth)
    _insert(buildings, "grid_code", b_codes)

    # devices: their lon/lat as written
    dx, dy = devices["lon"].to_numpy(dtype=float), devices["lat"].to_numpy(dtype=float)
    d_codes, d_ok = _static(rng, "devices", devices["device_id"].astype(str).to_numpy(), dx, dy, truth)
    _insert(devices, "grid_code", d_codes)
    return {"b_ids": b_ids, "true_b": true_b, "bx": pd.Series(bx, index=b_ids), "by": pd.Series(by, index=b_ids),
            "buildings": [int((b_ok & pd.notna(b_codes)).sum()), len(b_codes)],
            "devices": [int((d_ok & pd.notna(d_codes)).sum()), len(d_codes)]}


def grid_registers(rng: np.random.Generator, reg, static: dict, periods, truth: Truth) -> dict:
    """The addresses' and houses' codes (in place, with their defects): the second half of
    :func:`assign_grid_codes`, for the whole registers or one street's (:mod:`cimlib.demo._stream`).

    Returns
    -------
    dict
        ``{"addresses": [[numerator, denominator] per period], "houses": [...]}``.
    """
    last = len(periods) - 1
    month = {p: i for i, p in enumerate(periods)}
    b_ids, true_b = static["b_ids"], static["true_b"]

    # addresses: the point, from the month it is geocoded and coded
    a = reg.addresses
    pts = a.geometry.to_crs(CGCS2000).to_numpy()
    has = ~shapely.is_missing(pts) & ~shapely.is_empty(pts)
    ax, ay = np.full(len(a), np.nan), np.full(len(a), np.nan)
    ax[has], ay[has] = shapely.get_x(pts[has]), shapely.get_y(pts[has])
    scope = a["address_type"].isin(_PLACE_TYPES).to_numpy()
    entry_i = a["entry_period"].map(month).to_numpy(dtype=np.int64)
    mapped = a["mapped_period"].to_numpy(dtype=object)
    mapped_i = np.array([month.get(m, last + 1) for m in mapped], dtype=np.int64)
    produced = a["address_type"].isin(_PRODUCED_TYPES).to_numpy() & (entry_i > 0)
    grid_i = np.maximum(np.maximum(mapped_i, entry_i), _coding_month(rng, len(a)))
    grid_i = np.where(produced, mapped_i, grid_i)   # 网格核验 in the production pipeline
    grid_i = np.where(scope & has, grid_i, last + 1)
    true_a = np.full(len(a), None, dtype=object)
    true_a[has] = beidou.encode(ax[has], ay[has], GRID_LEVEL)
    a_codes, a_ok = _register(rng, "addresses", a, "address_id", true_a, ax, ay, grid_i, scope & ~produced, scope,
                              last, truth)
    _insert(a, "grid_code", a_codes)
    _insert(a, "grid_period", _month_names(grid_i, periods))
    a_grid_i = grid_i

    # houses: their building's code (the true building: an address of the house names it)
    h = reg.houses
    addr_building = pd.Series(a["building_id"].to_numpy(dtype=object), index=a["address_id"].to_numpy())
    own_b = addr_building.reindex(h["address_id"].to_numpy()).to_numpy(dtype=object)
    true_h = true_b.reindex(own_b).to_numpy(dtype=object)
    linked = h["building_id"].isin(b_ids).to_numpy()
    h_entry = h["entry_period"].map(month).to_numpy(dtype=np.int64)
    h_grid = np.maximum(h_entry, _coding_month(rng, len(h)))
    h_grid = np.where(pd.notna(true_h), h_grid, last + 1)
    hx = static["bx"].reindex(own_b).to_numpy()
    hy = static["by"].reindex(own_b).to_numpy()
    h_codes, h_ok = _register(rng, "houses", h, "house_id", true_h, hx, hy, h_grid, linked,
                              np.ones(len(h), dtype=bool), last, truth)
    h["grid_code"] = h_codes
    h["grid_period"] = _month_names(h_grid, periods)

    counts = {"addresses": [], "houses": []}
    for i, p in enumerate(periods):
        a_in = scope & (entry_i <= i)
        h_in = h_entry <= i
        counts["addresses"].append([int((a_in & (a_grid_i <= i) & a_ok).sum()), int(a_in.sum())])
        counts["houses"].append([int((h_in & (h_grid <= i) & h_ok & linked).sum()), int(h_in.sum())])
    return counts


def grid_facts(static: dict, registers: dict, periods) -> dict:
    """``{period: {dataset: [numerator, denominator]}}`` from :func:`grid_static` and :func:`grid_registers`
    (whose counts may be sums over streets)."""
    facts = {}
    for i, p in enumerate(periods):
        counts = {"buildings": list(static["buildings"]), "addresses": list(registers["addresses"][i]),
                  "houses": list(registers["houses"][i]), "devices": list(static["devices"])}
        counts["entities"] = [sum(v[0] for v in counts.values()), sum(v[1] for v in counts.values())]
        facts[p] = counts
    return facts


def blank_uncoded(snapshot: pd.DataFrame, period: str) -> pd.DataFrame:
    """A register snapshot without the codes assigned after ``period`` (and without the ``grid_period`` column).

    Parameters
    ----------
    snapshot : pandas.DataFrame
        Records present in ``period`` with ``grid_code`` and ``grid_period``.
    period : str
        ``YYYY-MM``.

    Returns
    -------
    pandas.DataFrame
    """
    later = ((snapshot["grid_period"] == "") | (snapshot["grid_period"] > period)).to_numpy()
    out = snapshot.drop(columns="grid_period")
    out.loc[later, "grid_code"] = None
    return out
