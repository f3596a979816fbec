"""Sensing network (物联感知) of the sample city: devices along the roads and a month of their readings.

The generator places IoT devices on the city's roads (:func:`make_devices`) and writes a month of
their readings as date-partitioned Parquet (:func:`write_readings`), with realistic defects injected
at known rates: whole-month offline devices, outages, missing samples, exact duplicates, rows out of
time order, spikes, flat-lines (stuck values), excursions outside the normal band, rows of unknown
devices and rows with timestamps outside the period. It returns the exact truth of what it wrote, so
the sensor analytics (online rate, completeness, duplicates, alarms, anomalies) can be tested against it.

Everything is drawn from the seed: the month plan (device parameters, events, bad rows) from
``np.random.default_rng([seed, 0])``, each day's samples from ``np.random.default_rng([seed, 1, day])``.
Days are generated and written one at a time, vectorized, so memory stays bounded at any scale.
"""

from __future__ import annotations

import calendar
import datetime as dt
import pathlib
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

# --------------------------------------------------------------------------------------------------
# Device types
# --------------------------------------------------------------------------------------------------

DEVICE_TYPES = pd.DataFrame(
    [
        # type_code, type_name_zh, metric, unit, interval_s, base, daily_amplitude, noise, low, high, owner
        ("WP", "供水压力", "pressure", "MPa", 300, 0.32, 0.04, 0.005, 0.20, 0.45, "市水务局"),
        ("WF", "供水流量", "flow", "m³/h", 300, 160.0, 55.0, 5.0, 20.0, 300.0, "市水务局"),
        ("DL", "排水液位", "water_level", "m", 300, 1.20, 0.15, 0.02, 0.30, 2.50, "市水务局"),
        ("WL", "内涝积水", "waterlogging_depth", "cm", 300, 4.0, 0.4, 0.25, 0.0, 15.0, "市城市管理执法局"),
        ("MC", "井盖位移", "tilt", "°", 600, 0.8, 0.1, 0.05, 0.0, 3.0, "市城市管理执法局"),
        ("GAS", "燃气浓度", "gas_concentration", "%LEL", 60, 1.5, 0.3, 0.08, 0.0, 10.0, "市住房和城乡建设局"),
        ("UTS", "管廊沉降", "settlement", "mm", 600, -2.0, 0.2, 0.15, -10.0, 10.0, "市城市综合管廊公司"),
        ("UTT", "管廊温度", "temperature", "°C", 600, 24.0, 1.5, 0.2, 5.0, 40.0, "市城市综合管廊公司"),
        ("UTH", "管廊湿度", "humidity", "%RH", 600, 70.0, 5.0, 1.0, 30.0, 90.0, "市城市综合管廊公司"),
        ("PK", "停车泊位", "occupancy_rate", "%", 300, 50.0, 22.0, 1.5, 5.0, 95.0, "市交通运输局"),
    ],
    columns=["type_code", "type_name_zh", "metric", "unit", "interval_s", "base", "daily_amplitude",
             "noise", "low", "high", "owner"],
)
"""One row per device type: code, Chinese name, metric and unit, declared sampling interval (s), the
signal model (``base`` level, ``daily_amplitude`` of the daily cycle, Gaussian ``noise`` scale) and the
normal operating band ``[low, high]`` that excursions leave; ``owner`` is the responsible department."""

# Internal per-type details (same order as DEVICE_TYPES): share of devices, hour of the daily peak,
# physical limits (excursions stay within them), reporting resolution (decimals).
_TYPE_SHARE = np.array([0.14, 0.08, 0.12, 0.10, 0.16, 0.03, 0.04, 0.04, 0.04, 0.25])
_PEAK_HOUR = np.array([3.0, 19.0, 20.0, 20.0, 15.0, 19.0, 15.0, 15.0, 5.0, 14.0])
_PHYS_MIN = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -np.inf, -40.0, 0.0, 0.0])
_PHYS_MAX = np.array([1.6, np.inf, np.inf, np.inf, 90.0, 100.0, np.inf, 100.0, 100.0, 100.0])
_DECIMALS = np.array([3, 1, 3, 1, 2, 2, 2, 2, 1, 1])
_TUNNEL_TYPES = ("UTS", "UTT", "UTH")  # placed only under the utility-tunnel corridor (longest roads)

# --------------------------------------------------------------------------------------------------
# Defect rates (each device / event drawn from the seed)
# --------------------------------------------------------------------------------------------------

OFFLINE_DEVICE_RATE = 0.03        # devices that report nothing for the whole period
OUTAGE_DEVICE_RATE = 0.05         # devices with one outage ...
OUTAGE_HOURS = (6.0, 72.0)        # ... of 6 h to 3 days
GAP_RATE = 0.005                  # scattered missing samples
DUPLICATE_RATE = 0.002            # rows written twice, identical
OUT_OF_ORDER_RATE = 1e-5          # rows written late in their day file (at least 2 per day)
SPIKES_PER_DEVICE = 0.2           # single-sample spikes per device and month
SPIKE_SIGMAS = (8.0, 20.0)        # spike size in units of the type's noise, either sign
STUCK_PER_DEVICE = 0.05           # flat-lines per device and month
STUCK_HOURS = (3.0, 12.0)
EXCURSIONS_PER_DEVICE = 1 / 15    # excursions outside [low, high] per device and month
EXCURSION_MINUTES = (20.0, 180.0)
UNKNOWN_DEVICE_ROWS = 6           # rows of unregistered device ids, per period
TS_OUT_OF_RANGE_ROWS = 6          # rows whose ts lies outside the period, per period
LATE_RATE = 0.003                 # rows received minutes (not seconds) after their ts
EVENT_GUARD_S = 3600              # no two defects of a device within this distance of each other

READINGS_SCHEMA = pa.schema([
    ("device_id", pa.dictionary(pa.int32(), pa.string())),
    ("ts", pa.timestamp("ms")),
    ("metric", pa.dictionary(pa.int32(), pa.string())),
    ("value", pa.float64()),
    ("quality", pa.int8()),
    ("received_at", pa.timestamp("ms")),
])
"""Arrow schema of the reading files (``ts`` and ``received_at`` naive local time, Asia/Shanghai)."""

_KIND_OFFLINE, _KIND_STUCK, _KIND_EXCURSION, _KIND_SPIKE = 0, 1, 2, 3
_KIND_NAMES = np.array(["offline", "stuck", "excursion", "spike"])
_DAY_S = 86_400


def _count(rate: float, n: int) -> int:
    """Number of items at ``rate`` among ``n`` (at least one once ``n`` reaches 10)."""
    k = int(round(rate * n))
    return max(k, 1) if n >= 10 else k


def _type_index(codes) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(DEVICE_TYPES["type_code"])}
    try:
        return np.array([lookup[c] for c in codes], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"未知的设备类型 {exc.args[0]!r}") from None


# --------------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------------

def make_devices(rng: np.random.Generator, roads: gpd.GeoDataFrame, streets: gpd.GeoDataFrame,
                 n_devices: int, county_code: str, projected_crs: str, timeline=None) -> gpd.GeoDataFrame:
    """Place ``n_devices`` sensing devices on the roads of the county.

    Each device's road is drawn with probability proportional to road length (utility-tunnel sensors
    only on the longest roads, the tunnel corridor), its position uniformly along the road, then it is
    moved 0-8 m sideways. Distances are computed in ``projected_crs``. Devices falling outside every
    street polygon are drawn again.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (the result is a function of its state).
    roads : geopandas.GeoDataFrame
        Road centre lines in EPSG:4490, columns ``road_id``, ``name``, ``road_class``, geometry.
    streets : geopandas.GeoDataFrame
        Street (街道) polygons in EPSG:4490 partitioning the county, columns ``area_code``, ``name``.
    n_devices : int
        Number of devices.
    county_code : str
        6-digit county code, the prefix of the device ids (``"421303-WP-000123"``).
    projected_crs : str
        Metric CRS for placement, e.g. ``"EPSG:4547"``.
    timeline : cimlib.demo._timeline.Timeline, optional
        The city's months (default the reference). Install dates are drawn between 2019-01-01 and 2024-08-31 (the
        month before the readings) in the reference frame and moved with it.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4490 points sorted by ``device_id``, columns ``device_id, device_type, type_name_zh,
        metric, unit, interval_s, road_id, street_code, install_date, owner, lon, lat, geometry``.
    """
    columns = ["device_id", "device_type", "type_name_zh", "metric", "unit", "interval_s", "road_id",
               "street_code", "install_date", "owner", "lon", "lat"]
    if n_devices <= 0:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs="EPSG:4490"))
    roads_p = roads.to_crs(projected_crs)
    keep = (roads_p.length.to_numpy() > 1.0) & ~roads_p.geometry.is_empty.to_numpy()
    lines = roads_p.geometry.to_numpy()[keep]
    road_ids = roads["road_id"].astype(str).to_numpy()[keep]
    if len(lines) == 0:
        raise ValueError("没有可布设设备的道路")
    lengths = shapely.length(lines)

    # how many devices of each type: one of each first (when there is room), the rest by share
    n_types = len(DEVICE_TYPES)
    counts = np.zeros(n_types, dtype=np.int64)
    if n_devices >= n_types:
        counts += 1
    counts += rng.multinomial(n_devices - counts.sum(), _TYPE_SHARE / _TYPE_SHARE.sum())
    type_idx = np.repeat(np.arange(n_types), counts)

    # road weights: all roads by length; tunnel corridor = longest roads making up >= 15 % of the length
    order = np.argsort(-lengths, kind="stable")
    corridor = np.zeros(len(lines), dtype=bool)
    corridor[order[: int(np.searchsorted(np.cumsum(lengths[order]), 0.15 * lengths.sum())) + 1]] = True
    w_all = lengths / lengths.sum()
    w_tunnel = np.where(corridor, lengths, 0.0) / lengths[corridor].sum()
    tunnel = np.isin(DEVICE_TYPES["type_code"].to_numpy()[type_idx], _TUNNEL_TYPES)

    street_geoms = streets.to_crs("EPSG:4490").geometry.to_numpy()
    street_codes = streets["area_code"].astype(str).to_numpy()
    tree = shapely.STRtree(street_geoms)

    n = n_devices
    road_idx = np.zeros(n, dtype=np.int64)
    lon = np.zeros(n)
    lat = np.zeros(n)
    street_idx = np.full(n, -1, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(100):
        m = len(todo)
        t_m = tunnel[todo]
        r = np.empty(m, dtype=np.int64)
        r[~t_m] = rng.choice(len(lines), size=int((~t_m).sum()), p=w_all)
        r[t_m] = rng.choice(len(lines), size=int(t_m.sum()), p=w_tunnel)
        along = rng.uniform(0.0, 1.0, m) * lengths[r]
        side = rng.choice([-1.0, 1.0], size=m) * rng.uniform(0.0, 8.0, m)
        g = lines[r]
        p0 = shapely.get_coordinates(shapely.line_interpolate_point(g, along))
        pa_ = shapely.get_coordinates(shapely.line_interpolate_point(g, np.maximum(along - 0.5, 0.0)))
        pb_ = shapely.get_coordinates(shapely.line_interpolate_point(g, np.minimum(along + 0.5, lengths[r])))
        tx, ty = (pb_ - pa_).T
        norm = np.hypot(tx, ty)
        norm[norm == 0] = 1.0
        x = p0[:, 0] - ty / norm * side
        y = p0[:, 1] + tx / norm * side
        geo = gpd.GeoSeries(shapely.points(x, y), crs=projected_crs).to_crs("EPSG:4490")
        xy = np.round(shapely.get_coordinates(geo.to_numpy()), 7)
        pts = shapely.points(xy)
        hit_pt, hit_street = tree.query(pts, predicate="within")
        first = np.full(m, -1, dtype=np.int64)
        srt = np.lexsort((hit_street, hit_pt))
        hp, hs = hit_pt[srt], hit_street[srt]
        is_first = np.r_[True, hp[1:] != hp[:-1]] if len(hp) else np.zeros(0, dtype=bool)
        first[hp[is_first]] = hs[is_first]
        ok = first >= 0
        done = todo[ok]
        road_idx[done] = r[ok]
        lon[done], lat[done] = xy[ok, 0], xy[ok, 1]
        street_idx[done] = first[ok]
        todo = todo[~ok]
        if len(todo) == 0:
            break
    else:
        raise ValueError(f"{len(todo)} 个设备无法落在任何街道范围内：道路与街道不相交？")

    types = DEVICE_TYPES.iloc[type_idx].reset_index(drop=True)
    seq = pd.Series(type_idx).groupby(type_idx).cumcount().to_numpy() + 1
    device_id = np.char.add(np.char.add(f"{county_code}-", types["type_code"].to_numpy().astype(str)),
                            np.char.add("-", np.char.zfill(seq.astype(str), 6)))
    first_day, last_day = dt.date(2019, 1, 1), dt.date(2024, 8, 31)
    offsets = rng.integers(0, (last_day - first_day).days + 1, n)
    install = np.datetime64(first_day) + offsets.astype("timedelta64[D]")
    if timeline is not None:
        install = timeline.dates(install)
    install = install.astype(object)
    out = gpd.GeoDataFrame(
        {
            "device_id": device_id.astype(object),
            "device_type": types["type_code"].to_numpy(),
            "type_name_zh": types["type_name_zh"].to_numpy(),
            "metric": types["metric"].to_numpy(),
            "unit": types["unit"].to_numpy(),
            "interval_s": types["interval_s"].to_numpy().astype(np.int64),
            "road_id": road_ids[road_idx],
            "street_code": street_codes[street_idx],
            "install_date": install,
            "owner": types["owner"].to_numpy(),
            "lon": lon,
            "lat": lat,
        },
        geometry=gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4490"),
    )
    return out.sort_values("device_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Readings
# --------------------------------------------------------------------------------------------------

def _period_bounds(period: str) -> tuple[int, int, list[dt.date]]:
    """Start (epoch seconds of naive local midnight), number of days and the dates of ``period``."""
    try:
        year, month = (int(p) for p in period.split("-"))
        n_days = calendar.monthrange(year, month)[1]
    except Exception:
        raise ValueError(f"period 应为 YYYY-MM，得到 {period!r}") from None
    start = int(np.datetime64(f"{year:04d}-{month:02d}-01T00:00:00", "s").astype(np.int64))
    return start, n_days, [dt.date(year, month, d + 1) for d in range(n_days)]


def _ts_strings(seconds: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.asarray(seconds, dtype=np.int64).astype("datetime64[s]"), unit="s")


def _record_ids(ids: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """``"{device_id}|{ts:%Y-%m-%dT%H:%M:%S}"`` for arrays of ids and epoch seconds."""
    if len(ids) == 0:
        return np.array([], dtype=object)
    return (pd.Series(ids, dtype=object).astype(str) + "|" + pd.Series(_ts_strings(seconds)).astype(str)).to_numpy(
        dtype=object)


class _Plan:
    """The month plan: per-device signal parameters, events (offline, stuck, excursion, spike) and bad rows."""

    def __init__(self, devices: pd.DataFrame, seed: int, period: str):
        rng = np.random.default_rng([seed, 0])
        self.p0, self.n_days, self.dates = _period_bounds(period)
        self.p1 = self.p0 + self.n_days * _DAY_S
        self.ids = devices["device_id"].astype(str).to_numpy()
        n = self.n = len(self.ids)
        self.t = _type_index(devices["device_type"].astype(str))
        self.iv = devices["interval_s"].to_numpy().astype(np.int64)
        if np.any(self.iv <= 0) or np.any(_DAY_S % self.iv):
            raise ValueError("interval_s 必须整除 86400")
        tp = DEVICE_TYPES
        t = self.t
        self.noise = tp["noise"].to_numpy()[t]
        self.low = tp["low"].to_numpy()[t]
        self.high = tp["high"].to_numpy()[t]
        self.scale = 10.0 ** _DECIMALS[t]
        self.res = 1.0 / self.scale
        self.nd = _DAY_S // self.iv
        self.off = (rng.random(n) * self.iv).astype(np.int64)           # phase of each device's grid
        self.base = tp["base"].to_numpy()[t] + np.clip(rng.standard_normal(n), -2, 2) * 0.5 * self.noise
        self.amp = tp["daily_amplitude"].to_numpy()[t] * rng.uniform(0.9, 1.1, n)
        self.peak = _PEAK_HOUR[t] + np.clip(rng.normal(0.0, 0.5, n), -1.5, 1.5)
        total_drift = np.clip(rng.normal(0.0, 0.8, n), -2.0, 2.0) * self.noise  # over the whole period
        self.drift = total_drift / self.n_days                                  # per day
        self._events(rng)
        self._bad_rows(rng)

    # signal without noise at absolute epoch seconds (device index arrays)
    def signal(self, d: np.ndarray, s: np.ndarray) -> np.ndarray:
        tod = (s - self.p0) % _DAY_S
        days = (s - self.p0) / _DAY_S
        season = np.cos(2 * np.pi * (tod / 3600.0 - self.peak[d]) / 24.0)
        return self.base[d] + self.amp[d] * season + self.drift[d] * days

    def _events(self, rng: np.random.Generator) -> None:
        n = self.n
        ev = {k: [] for k in ("dev", "kind", "start", "end", "value", "sigma", "dir")}

        def add(d, kind, start, end, value=np.nan, sigma=np.nan, direction=0):
            for k, v in zip(ev, (d, kind, start, end, value, sigma, direction)):
                ev[k].append(v)

        order = rng.permutation(n)
        n_off = _count(OFFLINE_DEVICE_RATE, n)
        self.offline = np.zeros(n, dtype=bool)
        self.offline[order[:n_off]] = True
        for d in np.sort(order[:n_off]):
            add(int(d), _KIND_OFFLINE, self.p0, self.p1)
        eligible = np.sort(order[n_off:])
        if len(eligible) == 0:
            self._finish_events(ev)
            return
        busy: dict[int, list[tuple[int, int]]] = {}
        guard = EVENT_GUARD_S

        def place(d: int, n_samples: int) -> int | None:
            iv = int(self.iv[d])
            g = -(-guard // iv)
            total = self.n_days * int(self.nd[d])
            lo, hi = g, total - n_samples - g
            if hi <= lo:
                return None
            for _ in range(50):
                start = self.p0 + int(self.off[d]) + int(rng.integers(lo, hi)) * iv
                end = start + n_samples * iv
                if all(end + guard <= a or start - guard >= b for a, b in busy.get(d, ())):
                    busy.setdefault(d, []).append((start, end))
                    return start
            return None

        # outages (one per chosen device)
        n_out = min(_count(OUTAGE_DEVICE_RATE, n), len(eligible))
        for d in np.sort(rng.choice(eligible, size=n_out, replace=False)):
            d = int(d)
            k = max(1, int(round(rng.uniform(*OUTAGE_HOURS) * 3600 / self.iv[d])))
            s = place(d, k)
            if s is not None:
                add(d, _KIND_OFFLINE, s, s + k * int(self.iv[d]))
        # excursions: level shift outside the band, within the physical limits
        for d in rng.choice(eligible, size=_count(EXCURSIONS_PER_DEVICE, n)):
            d = int(d)
            ti = self.t[d]
            k = max(1, int(round(rng.uniform(*EXCURSION_MINUTES) * 60 / self.iv[d])))
            s = place(d, k)
            room_up = _PHYS_MAX[ti] - self.high[d]
            room_dn = self.low[d] - _PHYS_MIN[ti]
            dirs = [x for x, room in ((1, room_up), (-1, room_dn)) if room > 4 * self.res[d]]
            direction = dirs[int(rng.integers(len(dirs)))]
            room = room_up if direction > 0 else room_dn
            shift = min(rng.uniform(3.0, 10.0) * self.noise[d], 0.6 * room)
            sigma = min(0.5 * self.noise[d], 0.1 * room)
            if s is not None:
                bound = self.high[d] if direction > 0 else self.low[d]
                add(d, _KIND_EXCURSION, s, s + k * int(self.iv[d]), bound + direction * shift, sigma, direction)
        # flat-lines: the value at the start, repeated exactly
        for d in rng.choice(eligible, size=_count(STUCK_PER_DEVICE, n)):
            d = int(d)
            k = max(2, int(round(rng.uniform(*STUCK_HOURS) * 3600 / self.iv[d])))
            s = place(d, k)
            z = float(np.clip(rng.standard_normal(), -3, 3))
            if s is not None:
                v = self.signal(np.array([d]), np.array([s]))[0] + z * self.noise[d]
                add(d, _KIND_STUCK, s, s + k * int(self.iv[d]), np.round(v * self.scale[d]) / self.scale[d])
        # spikes: one sample off by 8-20 x the type's noise, either sign
        for d in rng.choice(eligible, size=_count(SPIKES_PER_DEVICE, n)):
            d = int(d)
            s = place(d, 1)
            delta = rng.choice([-1.0, 1.0]) * rng.uniform(*SPIKE_SIGMAS) * self.noise[d]
            if s is not None:
                add(d, _KIND_SPIKE, s, s + int(self.iv[d]), delta)
        self._finish_events(ev)

    def _finish_events(self, ev: dict) -> None:
        o = np.lexsort((np.asarray(ev["start"], dtype=np.int64), np.asarray(ev["dev"], dtype=np.int64)))
        self.ev_dev = np.asarray(ev["dev"], dtype=np.int64)[o]
        self.ev_kind = np.asarray(ev["kind"], dtype=np.int64)[o]
        self.ev_start = np.asarray(ev["start"], dtype=np.int64)[o]
        self.ev_end = np.asarray(ev["end"], dtype=np.int64)[o]
        self.ev_value = np.asarray(ev["value"], dtype=np.float64)[o]
        self.ev_sigma = np.asarray(ev["sigma"], dtype=np.float64)[o]
        self.ev_dir = np.asarray(ev["dir"], dtype=np.int64)[o]
        self.ev_peak = np.full(len(o), np.nan)

    def _bad_rows(self, rng: np.random.Generator) -> None:
        """Rows of unregistered devices and rows with ts outside the period, with the day file they go to."""
        county = self.ids[0].split("-")[0] if self.n else "000000"
        known = set(self.ids.tolist())
        unknown = []
        while len(unknown) < 3:
            code = DEVICE_TYPES["type_code"].iloc[int(rng.integers(len(DEVICE_TYPES)))]
            cand = f"{county}-{code}-{int(rng.integers(900_000, 1_000_000)):06d}"
            if cand not in known and cand not in unknown:
                unknown.append(cand)
        self.unknown_ids = np.array(sorted(unknown))
        # dictionary space of the files: registered and unknown ids, sorted
        self.dict_ids = np.array(sorted(known | set(unknown)), dtype=object)
        pos = {v: i for i, v in enumerate(self.dict_ids)}
        self.dict_of_dev = np.array([pos[v] for v in self.ids], dtype=np.int64)
        live = np.flatnonzero(~self.offline)
        rows = []  # (day, dict_index, type_index, ts_s, tod_of_arrival, value, defect)
        for i in range(UNKNOWN_DEVICE_ROWS):
            uid = self.unknown_ids[i % len(self.unknown_ids)]
            ti = int(_type_index([uid.split("-")[1]])[0])
            day = int(rng.integers(self.n_days))
            tod = int(rng.integers(_DAY_S))
            v = DEVICE_TYPES["base"].iloc[ti] + rng.normal() * DEVICE_TYPES["noise"].iloc[ti]
            rows.append((day, pos[uid], ti, self.p0 + day * _DAY_S + tod, tod, v, "unknown_device"))
        for i in range(TS_OUT_OF_RANGE_ROWS if len(live) else 0):
            d = int(live[int(rng.integers(len(live)))])
            day = int(rng.integers(self.n_days))
            tod = int(rng.integers(_DAY_S))
            kind = i % 3
            if kind == 0:      # clock reset to the epoch
                ts = tod
            elif kind == 1:    # wrong year
                ts = self.p0 + (day - 366) * _DAY_S + tod
            else:              # clock running ahead into a later month
                ts = self.p1 + int(rng.integers(1, 40)) * _DAY_S + tod
            v = self.signal(np.array([d]), np.array([self.p0 + day * _DAY_S + tod]))[0]
            rows.append((day, int(self.dict_of_dev[d]), int(self.t[d]), ts, tod, v, "ts_out_of_range"))
        self.bad = pd.DataFrame(rows, columns=["day", "dict_idx", "type_idx", "ts", "tod", "value", "defect"])
        if len(self.bad):
            sc = 10.0 ** _DECIMALS[self.bad["type_idx"].to_numpy()]
            self.bad["value"] = np.round(self.bad["value"].to_numpy() * sc) / sc


def _write_table(table: pa.Table, path: pathlib.Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", compression_level=1, use_dictionary=["device_id", "metric", "ts"],
                   write_statistics=True, row_group_size=1 << 20, data_page_version="1.0",
                   store_schema=True)


def write_readings(devices: gpd.GeoDataFrame, out_dir: pathlib.Path, *, seed: int, period: str = "2024-09",
                   progress=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Write a month of readings of ``devices`` as date-partitioned Parquet, with injected defects.

    Files are ``out_dir/date=YYYY-MM-DD/part-0.parquet`` for every day of ``period``, columns
    ``device_id`` (dictionary), ``ts`` (timestamp[ms], naive Asia/Shanghai time), ``metric``
    (dictionary), ``value`` (float64), ``quality`` (int8, 0 = good), ``received_at`` (timestamp[ms]).
    Rows are in ``ts`` order except the injected out-of-order rows and the bad rows. The output is
    byte-identical for the same devices, seed and period.

    Parameters
    ----------
    devices : geopandas.GeoDataFrame
        Devices from :func:`make_devices` (uses ``device_id``, ``device_type``, ``interval_s``).
    out_dir : pathlib.Path
        Root of the partitioned dataset (created if missing).
    seed : int
        Seed of all randomness (non-negative).
    period : str, default "2024-09"
        Month ``YYYY-MM`` to generate.
    progress : callable or tqdm, optional
        Advanced by 1 per day written (``progress.update(1)`` or ``progress(1)``).

    Returns
    -------
    defects : pandas.DataFrame
        ``dataset, record_id, defect``: ``("devices", device_id, "device_offline")`` for devices silent
        all period; ``"readings"`` rows with ``record_id = "{device_id}|{ts:%Y-%m-%dT%H:%M:%S}"`` and
        defect ``outage`` / ``stuck`` / ``excursion`` (start ts of the event), ``spike``, ``gap`` (the
        missing sample), ``duplicate`` (one per extra copy), ``out_of_order``, ``unknown_device``,
        ``ts_out_of_range``.
    events : pandas.DataFrame
        ``device_id, kind (offline|stuck|excursion|spike), start, end, peak, detail``: exact intervals on
        the device's sample grid, ``end`` exclusive; ``peak`` is the most extreme value of an excursion
        and the value of a spike.
    health : pandas.DataFrame
        ``device_id, date, expected, received, duplicates, online_hours`` per device and day: samples
        the declared interval implies, distinct timestamps written (bad rows excluded), extra copies,
        and hours of the day with at least one reading.
    """
    out_dir = pathlib.Path(out_dir)
    devices = pd.DataFrame(devices).sort_values("device_id", kind="stable").reset_index(drop=True)
    plan = _Plan(devices, seed, period)
    n = plan.n
    metrics = DEVICE_TYPES["metric"].to_numpy().astype(object)

    # static row layout of a day: device blocks of nd samples on each device's grid
    nd = plan.nd
    block = np.concatenate([[0], np.cumsum(nd)])
    n_rows = int(block[-1])
    dev = np.repeat(np.arange(n, dtype=np.int64), nd)
    j = np.arange(n_rows, dtype=np.int64) - block[dev]
    tod = plan.off[dev] + j * plan.iv[dev]
    season = np.cos(2 * np.pi * (tod / 3600.0 - plan.peak[dev]) / 24.0)
    scale_r = plan.scale[dev]
    noise_r = plan.noise[dev]
    dict_r = plan.dict_of_dev[dev]
    type_r = plan.t[dev]
    del j
    n_dict = len(plan.dict_ids)
    guard = EVENT_GUARD_S

    gaps, dups, ooos = [], [], []
    health_parts = []
    pool = ThreadPoolExecutor(max_workers=1)
    pending = None
    try:
        for k in range(plan.n_days):
            rng = np.random.default_rng([seed, 1, k])
            day0 = plan.p0 + k * _DAY_S
            amp_day = plan.amp * rng.uniform(0.9, 1.1, n)
            z = np.clip(rng.standard_normal(n_rows), -6.0, 6.0)
            value = plan.base[dev] + amp_day[dev] * season + plan.drift[dev] * (k + tod / _DAY_S) + noise_r * z
            value = np.round(value * scale_r) / scale_r
            present = np.ones(n_rows, dtype=bool)
            protected = np.zeros(n_rows, dtype=bool)

            sel = np.flatnonzero((plan.ev_start - guard < day0 + _DAY_S) & (plan.ev_end + guard > day0))
            for e in sel:
                d = int(plan.ev_dev[e])
                iv, off, b, m = int(plan.iv[d]), int(plan.off[d]), int(block[d]), int(nd[d])
                js = -(-(int(plan.ev_start[e]) - day0 - off) // iv)   # first sample at/after start
                je = -(-(int(plan.ev_end[e]) - day0 - off) // iv)     # first sample at/after end
                r0, r1 = b + min(max(js, 0), m), b + min(max(je, 0), m)
                g0 = -(-(int(plan.ev_start[e]) - guard - day0 - off) // iv)
                g1 = -(-(int(plan.ev_end[e]) + guard - day0 - off) // iv)
                protected[b + min(max(g0, 0), m): b + min(max(g1, 0), m)] = True
                kind = plan.ev_kind[e]
                if kind == _KIND_OFFLINE:
                    present[r0:r1] = False
                elif kind == _KIND_STUCK:
                    sv = plan.ev_value[e]
                    value[r0:r1] = sv
                    for jj in (js - 1, je):  # the samples just outside must differ from the flat value
                        if 0 <= jj < m and value[b + jj] == sv:
                            value[b + jj] = sv + (plan.res[d] if sv < plan.base[d] else -plan.res[d])
                elif kind == _KIND_EXCURSION and r1 > r0:
                    v = plan.ev_value[e] + plan.ev_sigma[e] * z[r0:r1]
                    v = np.round(v * plan.scale[d]) / plan.scale[d]
                    ti = plan.t[d]
                    if plan.ev_dir[e] > 0:
                        v = np.minimum(np.maximum(v, plan.high[d] + plan.res[d]), _PHYS_MAX[ti])
                        pk = v.max()
                        plan.ev_peak[e] = pk if np.isnan(plan.ev_peak[e]) else max(plan.ev_peak[e], pk)
                    else:
                        v = np.maximum(np.minimum(v, plan.low[d] - plan.res[d]), _PHYS_MIN[ti])
                        pk = v.min()
                        plan.ev_peak[e] = pk if np.isnan(plan.ev_peak[e]) else min(plan.ev_peak[e], pk)
                    value[r0:r1] = v
                elif kind == _KIND_SPIKE and r1 > r0:
                    v = np.round((value[r0] + plan.ev_value[e]) * plan.scale[d]) / plan.scale[d]
                    value[r0] = v
                    plan.ev_peak[e] = v

            cand = present & ~protected
            gap = cand & (rng.random(n_rows) < GAP_RATE)
            present &= ~gap
            cand &= ~gap
            dup = cand & (rng.random(n_rows) < DUPLICATE_RATE)
            cand &= ~dup
            pool_idx = np.flatnonzero(cand)
            n_ooo = min(len(pool_idx), max(2, int(round(OUT_OF_ORDER_RATE * n_rows))))
            ooo = np.sort(rng.choice(pool_idx, size=n_ooo, replace=False)) if n_ooo else np.zeros(0, np.int64)
            latency_ms = np.round(rng.lognormal(np.log(1500.0), 0.7, n_rows))
            late = rng.random(n_rows) < LATE_RATE
            latency_ms[late] += np.round(rng.uniform(60.0, 900.0, int(late.sum())) * 1000)
            delay_s = rng.integers(600, 5400, len(ooo))
            key = tod.copy()
            key[ooo] += delay_s
            latency_ms[ooo] = delay_s * 1000 + latency_ms[ooo] % 1000

            # rows: present ones, then the duplicate copies, then the bad rows of the day
            idx = np.flatnonzero(present)
            didx = np.flatnonzero(dup)
            bad = plan.bad[plan.bad["day"] == k]
            nb = len(bad)
            r_dict = np.concatenate([dict_r[idx], dict_r[didx], bad["dict_idx"].to_numpy(np.int64)])
            r_type = np.concatenate([type_r[idx], type_r[didx], bad["type_idx"].to_numpy(np.int64)])
            ts_s = np.concatenate([day0 + tod[idx], day0 + tod[didx], bad["ts"].to_numpy(np.int64)])
            r_val = np.concatenate([value[idx], value[didx], bad["value"].to_numpy(np.float64)])
            bad_recv = (day0 + bad["tod"].to_numpy(np.int64)) * 1000 + 1500
            bad_recv = np.where(bad["defect"].to_numpy() == "unknown_device",
                                bad["ts"].to_numpy(np.int64) * 1000 + 1200, bad_recv)
            recv = np.concatenate([(day0 + tod[idx]) * 1000 + latency_ms[idx].astype(np.int64),
                                   (day0 + tod[didx]) * 1000 + latency_ms[didx].astype(np.int64), bad_recv])
            r_key = np.concatenate([key[idx], key[didx], bad["tod"].to_numpy(np.int64)])
            copy = np.concatenate([np.zeros(len(idx), np.int64), np.ones(len(didx), np.int64), np.zeros(nb, np.int64)])
            order = np.argsort((r_key * (n_dict + 1) + r_dict) * 2 + copy, kind="stable")

            used = np.bincount(r_dict, minlength=n_dict) > 0
            remap = (np.cumsum(used) - 1).astype(np.int32)
            tused = np.bincount(r_type, minlength=len(metrics)) > 0
            tremap = (np.cumsum(tused) - 1).astype(np.int32)
            table = pa.Table.from_arrays(
                [
                    pa.DictionaryArray.from_arrays(pa.array(remap[r_dict[order]], pa.int32()),
                                                   pa.array(plan.dict_ids[used].tolist(), pa.string())),
                    pa.array((ts_s[order] * 1000).view("datetime64[ms]"), pa.timestamp("ms")),
                    pa.DictionaryArray.from_arrays(pa.array(tremap[r_type[order]], pa.int32()),
                                                   pa.array(metrics[tused].tolist(), pa.string())),
                    pa.array(r_val[order], pa.float64()),
                    pa.array(np.zeros(len(order), np.int8), pa.int8()),
                    pa.array(recv[order].view("datetime64[ms]"), pa.timestamp("ms")),
                ],
                schema=READINGS_SCHEMA,
            )
            path = out_dir / f"date={plan.dates[k]:%Y-%m-%d}" / "part-0.parquet"
            if pending is not None:
                pending.result()
                _advance(progress)
            pending = pool.submit(_write_table, table, path)

            # truth of the day
            hours = np.bincount(dev[idx] * 24 + tod[idx] // 3600, minlength=24 * n).reshape(n, 24) > 0
            health_parts.append((np.bincount(dev[idx], minlength=n), np.bincount(dev[didx], minlength=n),
                                 hours.sum(axis=1)))
            gsel = np.flatnonzero(gap)
            gaps.append((dev[gsel], day0 + tod[gsel]))
            dups.append((dev[didx], day0 + tod[didx]))
            ooo = ooo[_out_of_order_for_device(ooo, idx, r_dict, ts_s, order)]
            ooos.append((dev[ooo], day0 + tod[ooo]))
        if pending is not None:
            pending.result()
            _advance(progress)
    finally:
        pool.shutdown(wait=True)

    # ---------------------------------------------------------------- truth tables
    ids = plan.ids
    parts = [pd.DataFrame({"dataset": "devices", "record_id": ids[plan.offline], "defect": "device_offline"})]
    for name, lst in (("gap", gaps), ("duplicate", dups), ("out_of_order", ooos)):
        d_all = np.concatenate([a for a, _ in lst]) if lst else np.zeros(0, np.int64)
        s_all = np.concatenate([b for _, b in lst]) if lst else np.zeros(0, np.int64)
        parts.append(pd.DataFrame({"dataset": "readings", "record_id": _record_ids(ids[d_all], s_all),
                                   "defect": name}))
    row_ev = ~((plan.ev_kind == _KIND_OFFLINE) & plan.offline[plan.ev_dev])
    ev_names = np.where(plan.ev_kind == _KIND_OFFLINE, "outage", _KIND_NAMES[plan.ev_kind])
    parts.append(pd.DataFrame({"dataset": "readings",
                               "record_id": _record_ids(ids[plan.ev_dev[row_ev]], plan.ev_start[row_ev]),
                               "defect": ev_names[row_ev]}))
    bad_ids = plan.dict_ids[plan.bad["dict_idx"].to_numpy(np.int64)] if len(plan.bad) else np.array([], object)
    parts.append(pd.DataFrame({"dataset": "readings",
                               "record_id": _record_ids(bad_ids, plan.bad["ts"].to_numpy(np.int64)),
                               "defect": plan.bad["defect"].to_numpy(dtype=object)}))
    defects = pd.concat(parts, ignore_index=True).astype(str)
    defects = defects.sort_values(["dataset", "record_id", "defect"], kind="stable").reset_index(drop=True)

    details = []
    for e in range(len(plan.ev_dev)):
        d, kind = int(plan.ev_dev[e]), plan.ev_kind[e]
        hours_ = (plan.ev_end[e] - plan.ev_start[e]) / 3600
        if kind == _KIND_OFFLINE:
            details.append("full_period" if plan.offline[d] else f"outage {hours_:.2f} h")
        elif kind == _KIND_STUCK:
            details.append(f"flat value {plan.ev_value[e]:g} for {hours_:.2f} h")
        elif kind == _KIND_EXCURSION:
            side = f"above high {plan.high[d]:g}" if plan.ev_dir[e] > 0 else f"below low {plan.low[d]:g}"
            details.append(f"{side}, level {plan.ev_value[e]:.4g} for {hours_ * 60:.0f} min")
        else:
            details.append(f"{plan.ev_value[e] / plan.noise[d]:+.1f} x noise {plan.noise[d]:g}")
    events = pd.DataFrame({
        "device_id": ids[plan.ev_dev].astype(object),
        "kind": _KIND_NAMES[plan.ev_kind].astype(object),
        "start": (plan.ev_start * 1000).view("datetime64[ms]"),
        "end": (plan.ev_end * 1000).view("datetime64[ms]"),
        "peak": plan.ev_peak,
        "detail": np.array(details, dtype=object),
    })

    nday = plan.n_days
    health = pd.DataFrame({
        "device_id": np.repeat(ids, nday).astype(object),
        "date": np.tile(np.array(plan.dates, dtype=object), n),
        "expected": np.repeat(nd, nday).astype(np.int32),
        "received": np.stack([h[0] for h in health_parts], axis=1).reshape(-1).astype(np.int32),
        "duplicates": np.stack([h[1] for h in health_parts], axis=1).reshape(-1).astype(np.int32),
        "online_hours": np.stack([h[2] for h in health_parts], axis=1).reshape(-1).astype(np.int8),
    }) if n else pd.DataFrame(columns=["device_id", "date", "expected", "received", "duplicates", "online_hours"])
    return defects, events, health


def _out_of_order_for_device(ooo: np.ndarray, idx: np.ndarray, r_dict: np.ndarray, ts_s: np.ndarray,
                             order: np.ndarray) -> np.ndarray:
    """Which delayed rows landed after a later reading of their own device in the day file (the truth).

    A delayed row that is still written before every later reading of its device (e.g. the device's last sample
    of the day, pushed to the end of the file) is in order for that device and is not an out-of-order defect.
    ``ooo`` are row numbers of the day layout, ``idx`` the present rows (the head of the written arrays),
    ``r_dict``/``ts_s`` the written rows' device and time before sorting, ``order`` the written order.
    """
    if len(ooo) == 0:
        return np.zeros(0, dtype=bool)
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    rows = np.searchsorted(idx, ooo)          # ooo rows are present, so they are in idx
    mine = np.isin(r_dict, r_dict[rows])
    cand = np.flatnonzero(mine)
    out = np.zeros(len(ooo), dtype=bool)
    for i, r in enumerate(rows):
        same = cand[r_dict[cand] == r_dict[r]]
        out[i] = bool(np.any((ts_s[same] > ts_s[r]) & (pos[same] < pos[r])))
    return out


def _advance(progress) -> None:
    if progress is None:
        return
    if hasattr(progress, "update"):
        progress.update(1)
    else:
        progress(1)
