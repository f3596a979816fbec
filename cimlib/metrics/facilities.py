"""设施赋码率, 感知设施接入数 and 万物标识编码赋码率: 武汉's facility and entity coding targets.

武汉市城市数字公共基础设施建设工作方案 (2023) asks to 开展城市公用、交通、水利、信息基础等设施的编码赋码工作 and
大力推进城市影像(视频监控)、物联感知设施数据接入,提高接入数量 by 2023年12月, and to 完成万物标识编码赋码工作 by
2024年12月. From the data a sample city (or a city's catalog) holds, for each period ``YYYY-MM``:

- ``facility_coding_rate`` (比率): the facilities are the records of the sensing-device register (``devices``, each
  device in the class of the facility it serves, :data:`FACILITY_CLASS_OF`) and of the road centre lines
  (``roads``, 交通). N = facilities whose identification code (``device_id``, ``road_id``) is present and on which no
  error-severity rule about that code fails (:func:`cimlib.metrics.registers.code_ok_any` on the findings of
  :mod:`standards_checks`: a repeated code SYS-005, an empty one SYS-004); D = all facilities. One row per class
  (``dataset`` ``facilities:<class>``, e.g. ``facilities:utilities``) and the combined row (``dataset``
  ``facilities``).
- ``entity_coding_rate`` (比率, 万物标识编码赋码): the entities are the standard addresses that are places
  (院落/建筑物/单元/户室, ``address_id``), houses (``house_code``), organisations (``uscc``), buildings
  (``building_code``), sensing devices (``device_id``) and roads (``road_id``) — :data:`ENTITY_CLASSES`. N =
  entities whose code is present and passes the code rules of its class (the rules on the code column and the
  class's ``code_rules``, the same as 编码率 and 房屋赋码率: a house's row here equals ``house_coding_rate``); D =
  all entities. One row per catalog entry (``dataset`` = the entry) and the combined row (``dataset``
  ``entities``). Persons (实有人口) are people, not 物: they are left out.
- ``sensor_access_count`` (个, ``dataset`` = the device register's entry): the sensing devices connected (接入) by
  the month's end. D = devices of the register whose ``install_date`` (安装/接入日期) is on or before the month's
  last day (a device without a readable date counts as connected from the start, as the online rate does); N = D
  for a month without readings, and for a month with readings the devices among them that reported at least one
  valid reading in that month (:func:`cimlib.sensors.analyse_sensors`' ``health_daily``, ``received`` > 0):
  connected means the data arrives. **value = N.**

The registers are read at each period's snapshot; layers without snapshots (buildings, devices, roads) as they are,
in every period (buildings are checked again each period: BLD-007 compares their codes with that month's houses).
Rows for the county and every street (:class:`cimlib.metrics._areas.Areas`: a record counts in the street its
``community_code``/``street_code`` claims; a road, which claims none, in the street holding the midpoint of its
line), in the metrics-table format (:data:`cimlib.metrics.METRICS_COLUMNS`). A dataset that is missing or cannot
be read is left out and reported in ``attrs["problems"]`` (``period, dataset, problem``), never a crash.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from cimlib._io import input_label, input_sha256
from cimlib.catalog import Catalog, CatalogError
from cimlib.metrics._areas import Areas, metric_rows
from cimlib.metrics._spec import CLASSES, METRICS, METRICS_COLUMNS, RegisterClass
from cimlib.metrics.registers import code_ok_any

__all__ = ["FACILITY_METRICS", "FACILITIES", "ENTITIES", "FACILITY_CLASSES", "FACILITY_CLASS_OF", "FACILITY_SCHEMAS",
           "ENTITY_CLASSES", "CODED_COLUMNS", "coded_records", "facility_metrics", "reporting_devices"]

FACILITY_METRICS = ("facility_coding_rate", "sensor_access_count", "entity_coding_rate")
FACILITIES = "facilities"
"""``dataset`` of the combined facility row (not a catalog entry: the facilities of several entries)."""
ENTITIES = "entities"
"""``dataset`` of the combined entity row (not a catalog entry: the entities of several entries)."""

FACILITY_CLASSES = {"utilities": "城市公用设施", "transport": "交通设施", "water": "水利设施",
                    "information": "信息基础设施", "other": "未分类设施"}
"""The facility classes the programme names (城市公用、交通、水利、信息基础), and ``other`` for a device whose
category is not in the table (DEV-002 reports it); class rows carry ``dataset`` ``facilities:<key>``."""

FACILITY_CLASS_OF = {
    ("devices", "WP"): "utilities",    # 供水压力: the water-supply network (供水), a 市政公用设施
    ("devices", "WF"): "utilities",    # 供水流量: idem
    ("devices", "DL"): "utilities",    # 排水液位: the drainage network's pipes and wells (排水), 市政公用
    ("devices", "MC"): "utilities",    # 井盖位移: manhole covers belong to the pipe networks under them
    ("devices", "GAS"): "utilities",   # 燃气浓度: the gas network (燃气), 市政公用
    ("devices", "UTS"): "utilities",   # 管廊沉降: the utility tunnel (综合管廊) carries the 公用 networks
    ("devices", "UTT"): "utilities",   # 管廊温度: idem
    ("devices", "UTH"): "utilities",   # 管廊湿度: idem
    ("devices", "WL"): "water",        # 内涝积水: waterlogging at low points, 城市防洪排涝 (水利/水务)
    ("devices", "PK"): "transport",    # 停车泊位: parking spaces, 城市交通设施 (静态交通)
    ("roads", "*"): "transport",       # 道路中心线: every road is a 交通设施
}
"""Facility class of each facility record: ``(schema, device category)`` for the device register
(:data:`standards_checks.schemas.devices.DEVICE_CATEGORIES`), ``(schema, "*")`` for a layer all of whose records are
one class.

Reasoning. A sensing device is coded and counted once, in the class of the facility it is installed on and
serves: the 物联感知 terminal is the part of that facility that reports (供水压力 of the water network, 井盖位移 of the
pipe network's wells); 城市公用设施 here are the 市政公用 networks (供水、排水、燃气 and the 综合管廊 that carries them),
水利 the flood-control side of 水务 (内涝积水 at low points), 交通 the roads and parking. 信息基础设施 (communication,
video, computing facilities) would take a category such as 视频监控 or 通信基站 when the programme adds one to the
device categories; none of today's categories serves one, so its row has no records (0/0). The alternative reading
— every sensing device is itself an 信息基础设施 (物联感知设施) — would put all devices in one class and leave
城市公用 and 水利 empty; the programme lists the four classes as facilities to be coded, so the served facility is
the better key. A device category missing here counts in ``other``."""

FACILITY_SCHEMAS = ("devices", "roads")
"""Catalog schemas whose records are facilities (:data:`FACILITY_CLASS_OF`)."""

ENTITY_CLASSES = {
    "addresses": CLASSES["addresses"],
    "houses": CLASSES["houses"],
    "units": CLASSES["units"],
    "buildings": RegisterClass("buildings", "建筑物", "building_code"),
    "devices": RegisterClass("devices", "感知设备", "device_id"),
    "roads": RegisterClass("roads", "道路", "road_id"),
}
"""The entity classes of 万物标识编码赋码 and their identification code (``code_column``) with the further code
rules (``code_rules``; every error-severity rule reported on ``code_column`` counts too). Persons are not 物 and are
left out; the addresses keep the scope of the register metrics (the places: 院落、建筑物、单元、户室)."""

CODED_COLUMNS = ["period", "dataset", "schema", "record_id", "bucket", "facility_class", "coded"]
"""Columns of :func:`coded_records`: one row per entity and period; ``facility_class`` empty for a non-facility."""

_LEVELS = ("county", "street")
_ORDER = {"county": 0, "street": 1}


def _load(catalog) -> Catalog:
    return catalog if isinstance(catalog, Catalog) else Catalog.load(catalog)


def _register_periods(catalog: Catalog) -> list[str]:
    names = [n for n in (catalog.entry_for(s) for s in CLASSES) if n]
    return sorted({p for n in names for p in catalog.periods(n)})


@dataclass
class _Run:
    """Catalog, admin areas, the read layers, input fingerprints and problems of one computation."""

    catalog: Catalog
    areas: Areas
    admin: object
    admin_name: str | None
    problems: list = field(default_factory=list)
    sha: dict = field(default_factory=dict)
    static: dict = field(default_factory=dict)
    coded: dict = field(default_factory=dict)
    """Entry -> its coded records, for layers without snapshots (checked once per run, shared by every period)."""

    def __post_init__(self):
        self.root = self.catalog.path.parent.resolve()
        self.snapshots = bool(_register_periods(self.catalog))

    def files(self, name: str, period: str | None) -> list:
        """Input files of an entry for a period (its snapshot when it has snapshots), [] when unavailable."""
        entry = self.catalog[name]
        try:
            return self.catalog.inputs(name, period if entry.snapshots and period != "current" else None)
        except CatalogError:
            return []

    def fingerprint(self, files) -> str:
        h = hashlib.sha256()
        for rel, f in sorted((input_label(f, self.root), f) for f in files):
            if rel not in self.sha:
                try:
                    self.sha[rel] = input_sha256(f)
                except CatalogError:
                    self.sha[rel] = None
            h.update(f"{rel}\0{self.sha[rel]}\n".encode())
        return h.hexdigest()

    def key(self, name: str, period: str) -> tuple[bool, str | None]:
        """Whether an entry can be read for ``period``, and the snapshot to read (None: its current data)."""
        entry = self.catalog[name]
        if not entry.snapshots:
            return True, None
        if period in self.catalog.periods(name):
            return True, period
        if period == "current" or not self.snapshots:
            return True, None
        self.problems.append((period, name, f"没有 {period} 期快照，未计入设施与实体赋码指标"))
        return False, None

    def layer(self, name: str):
        """A layer without snapshots, read once (None and a problem when it cannot be read)."""
        if name not in self.static:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.static[name] = self.catalog.read(name)
            except CatalogError as exc:
                self.problems.append((None, name, str(exc)))
                self.static[name] = None
        return self.static[name]


def _make_run(catalog: Catalog, areas: Areas | None) -> _Run:
    admin_name = catalog.entry_for("admin_areas")
    if admin_name is None:
        raise CatalogError("数据目录中没有 admin_areas（行政区划）图层，无法按区划统计设施与实体赋码", path=catalog.path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        admin = catalog.read(admin_name)
    return _Run(catalog, areas if areas is not None else Areas(admin), admin, admin_name)


def _periods(catalog: Catalog, periods) -> list[str]:
    if periods is None:
        return _register_periods(catalog) or ["current"]
    return sorted({str(p) for p in periods})


def _road_streets(roads, admin) -> np.ndarray:
    """The street whose polygon holds the midpoint of each road's line ("" where none does)."""
    streets = admin[admin["level"] == "街道"]
    out = np.full(len(roads), "", dtype=object)
    if not len(streets) or not hasattr(roads, "geometry"):
        return out
    g = roads.geometry.to_numpy()
    ok = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    linear = ok & np.isin(shapely.get_type_id(g), [1, 2, 5])
    mid = np.full(len(g), None, dtype=object)
    mid[linear] = shapely.line_interpolate_point(g[linear], 0.5, normalized=True)
    other = ok & ~linear
    mid[other] = shapely.point_on_surface(g[other])
    has = np.array([m is not None for m in mid], dtype=bool)
    polys = streets.geometry.to_numpy()
    tree = shapely.STRtree(polys)
    pt, poly = tree.query(mid[has], predicate="within")
    codes = streets["area_code"].astype(str).to_numpy()
    first = pd.DataFrame({"pt": pt, "poly": poly}).sort_values(["pt", "poly"]).drop_duplicates("pt")
    idx = np.flatnonzero(has)[first["pt"].to_numpy()]
    out[idx] = codes[first["poly"].to_numpy()]
    return out


def _buckets(run: _Run, schema: str, name: str, frame) -> np.ndarray:
    if schema == "roads":   # a layer without snapshots: located once per run
        key = ("road_streets", name)
        if key not in run.static or len(run.static[key]) != len(frame):
            run.static[key] = _road_streets(frame, run.admin)
        return run.areas.bucket(pd.DataFrame({"street_code": run.static[key]}))
    return run.areas.bucket(frame)


def _facility_class(schema: str, frame) -> np.ndarray:
    if schema not in FACILITY_SCHEMAS:
        return np.full(len(frame), "", dtype=object)
    whole = FACILITY_CLASS_OF.get((schema, "*"))
    if whole:
        return np.full(len(frame), whole, dtype=object)
    cat = frame["device_type"].astype("string") if "device_type" in frame else pd.Series(pd.NA, index=frame.index,
                                                                                        dtype="string")
    table = {k: v for (s, k), v in FACILITY_CLASS_OF.items() if s == schema}
    return cat.map(table).fillna("other").to_numpy(dtype=object)


def _coded_period(run: _Run, period: str, files: dict, checked=None) -> list[pd.DataFrame]:
    """Per entity of every class: bucket, facility class and whether it is coded, for one period (``files``
    receives each entry's input files; ``checked``: findings already computed, as :func:`facility_metrics`)."""
    from standards_checks.api import structural_rule_id
    from standards_checks.backends.pandas import Context, check_dataset

    ctx = Context(run.catalog, period=period if run.snapshots and period != "current" else None)
    if run.admin_name:
        ctx.register(run.admin_name, "admin_areas", run.admin)
    names = {s: run.catalog.entry_for(s) for s in ENTITY_CLASSES}
    readable = {}
    for schema, name in names.items():   # layers without snapshots: read once per run, shared by every period
        if name is None:
            continue
        ok, key = run.key(name, period)
        if ok and key is None:
            frame = run.layer(name)
            if frame is not None:
                ctx.register(name, schema, frame)
                readable[schema] = (frame, key)
        elif ok:
            readable[schema] = (None, key)
    parts = []
    for schema, (frame, key) in readable.items():
        cls, name = ENTITY_CLASSES[schema], names[schema]
        entry = run.catalog[name]
        if frame is not None and name in run.coded:
            parts.append(run.coded[name].assign(period=period))
            files[name] = run.files(name, key)
            continue
        if frame is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    frame = ctx.frame(name)
            except CatalogError as exc:
                run.problems.append((period, name, str(exc)))
                continue
        findings = checked.get((name, ctx.period)) if checked else None
        if findings is None:   # not checked yet in this run
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                findings = check_dataset(ctx, name)
        id_col = entry.id_column if entry.id_column in frame else cls.code_column
        if cls.code_column not in frame:
            run.problems.append((period, name, f"缺少编码字段 {entry.field_label(cls.code_column)}：全部记录按未赋码计"))
        # a record whose identifier is empty gets a finding without a record id (SYS-004 on the id column), which
        # would read as a dataset-level error of every record; such a record has no code anyway
        own = (findings["record_id"].isna() & (findings["rule_id"] == structural_rule_id("null"))
               & (findings["column"] == id_col))
        coded = code_ok_any(frame, findings[~own.to_numpy()], cls, id_col)
        scope = np.ones(len(frame), dtype=bool)
        if cls.scope and "address_type" in frame:
            scope = frame["address_type"].isin(cls.scope).to_numpy()
        sub = frame[scope]
        ids = (sub[id_col].astype("string").fillna("") if id_col in sub else pd.Series([""] * len(sub)))
        part = pd.DataFrame({
            "period": period, "dataset": name, "schema": schema, "record_id": ids.to_numpy(dtype=object),
            "bucket": _buckets(run, schema, name, sub), "facility_class": _facility_class(schema, sub),
            "coded": coded[scope]}, columns=CODED_COLUMNS)
        if key is None:
            run.coded[name] = part
        parts.append(part)
        files[name] = run.files(name, key)
    return parts


def coded_records(catalog, periods=None, *, areas: Areas | None = None) -> pd.DataFrame:
    """Whether each entity (and facility) carries a valid identification code, per period.

    Parameters
    ----------
    catalog : Catalog or path-like
    periods : iterable of str, optional
        ``YYYY-MM`` periods (the registers' snapshots; layers without snapshots are read as they are). Default every
        snapshot period of the registers, or ``current`` when the catalog has none.
    areas : Areas, optional
        Default the catalog's ``admin_areas`` layer.

    Returns
    -------
    pandas.DataFrame
        :data:`CODED_COLUMNS`. ``attrs["problems"]``: ``(period, dataset, problem)`` of datasets left out.

    Raises
    ------
    cimlib.catalog.CatalogError
        No ``admin_areas`` layer or it cannot be read.
    """
    catalog = _load(catalog)
    run = _make_run(catalog, areas)
    parts = []
    for period in _periods(catalog, periods):
        parts += _coded_period(run, period, {})
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CODED_COLUMNS)
    out.attrs["problems"] = list(dict.fromkeys(run.problems))
    return out


def reporting_devices(catalog, period: str) -> set[str]:
    """Ids of the registered devices that reported at least one valid reading in ``period`` (``YYYY-MM``).

    What :func:`cimlib.sensors.analyse_sensors` (without anomalies and cube) counts as received in its
    ``health_daily`` table.

    Raises
    ------
    cimlib.catalog.CatalogError, ValueError
        As :func:`cimlib.sensors.analyse_sensors` (no readings for the month, unreadable register).
    """
    from cimlib.sensors import analyse_sensors

    res = analyse_sensors(_load(catalog), period, anomalies=False, cube=False)
    daily = res.health_daily
    return set(daily.loc[daily["received"] > 0, "device_id"].astype(str))


def _rows(metric_id: str, dataset: str, counts: pd.DataFrame, num: str, den: str, areas: Areas, period: str,
          sha: str, cls: str = "", is_count: bool = False) -> pd.DataFrame:
    m = METRICS[metric_id]
    return metric_rows(metric_id, dataset, counts, num, den, areas, period, sha, name_zh=m.name_zh.format(cls=cls),
                       unit=m.unit, is_count=is_count, levels=_LEVELS)


def _counts(rec: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"bucket": rec["bucket"].to_numpy(), "coded": rec["coded"].astype("float64").to_numpy(),
                         "records": 1.0}).groupby("bucket").sum()


def _coding_rows(run: _Run, period: str, rec: pd.DataFrame, files: dict) -> list[pd.DataFrame]:
    areas, out = run.areas, []
    admin = run.files(run.admin_name, None)
    ent_files = [f for fs in files.values() for f in fs] + admin
    sha = run.fingerprint(ent_files)
    for name, grp in rec.groupby("dataset", sort=True):
        zh = f"（{ENTITY_CLASSES[grp['schema'].iloc[0]].name_zh}）"
        out.append(_rows("entity_coding_rate", name, _counts(grp), "coded", "records", areas, period,
                         run.fingerprint(files[name] + admin), zh))
    out.append(_rows("entity_coding_rate", ENTITIES, _counts(rec), "coded", "records", areas, period, sha))
    fac = rec[rec["schema"].isin(FACILITY_SCHEMAS)]
    fac_names = [n for n in files if n in set(fac["dataset"])]
    fsha = run.fingerprint([f for n in fac_names for f in files[n]] + admin)
    if len(fac_names):
        for key, zh in FACILITY_CLASSES.items():
            sub = fac[fac["facility_class"] == key]
            if key == "other" and not len(sub):
                continue
            out.append(_rows("facility_coding_rate", f"{FACILITIES}:{key}", _counts(sub) if len(sub) else
                             pd.DataFrame({"coded": [], "records": []}, index=pd.Index([], dtype=object)),
                             "coded", "records", areas, period, fsha, f"（{zh}）"))
        out.append(_rows("facility_coding_rate", FACILITIES, _counts(fac), "coded", "records", areas, period, fsha))
    return out


def _access_rows(run: _Run, periods: list[str], reported) -> list[pd.DataFrame]:
    """``sensor_access_count`` rows (module docstring)."""
    from cimlib.sensors.readings import catalog_reading_tasks, periods_of

    name = run.catalog.entry_for("devices")
    if name is None:
        return []
    devices = run.layer(name)
    if devices is None:
        return []
    entry = run.catalog[name]
    id_col = entry.id_column if entry.id_column in devices else "device_id"
    if id_col not in devices:
        run.problems.append((None, name, f"设备台账缺少设备编号字段 {entry.field_label('device_id')}，无法统计接入设备数"))
        return []
    dev = devices[devices[id_col].notna()]
    dev = dev[~dev[id_col].astype(str).duplicated()]
    ids = dev[id_col].astype(str).to_numpy()
    if "install_date" in dev:
        install = pd.to_datetime(dev["install_date"], errors="coerce").to_numpy(dtype="datetime64[D]")
    else:
        install = np.full(len(dev), np.datetime64("NaT"), dtype="datetime64[D]")
    undated = int(np.isnat(install).sum())
    if undated:
        run.problems.append((None, name, f"{undated} 个设备没有可识别的安装（接入）日期（install_date），按各月均已接入计"))
    buckets = run.areas.bucket(dev)
    reading_tasks = {}
    if reported is None:
        reported = {}
        if run.catalog.entry_for("readings") == "readings" and name == "devices":
            try:
                months = set(periods_of(catalog_reading_tasks(run.catalog)))
            except CatalogError as exc:
                run.problems.append((None, "readings", str(exc)))
                months = set()
            for p in periods:
                if p in months:
                    try:
                        reported[p] = reporting_devices(run.catalog, p)
                    except (CatalogError, ValueError) as exc:
                        run.problems.append((p, "readings", str(exc)))
                        reported[p] = None
    dev_files = run.files(name, None)
    out = []
    last = max(p for p in periods if p != "current") if any(p != "current" for p in periods) else None
    months = sorted(set(periods) | {m for m in reported if last and m <= last})
    for p in months:
        if p == "current":
            installed = np.ones(len(dev), dtype=bool)
        else:
            end = np.datetime64(pd.Period(p, freq="M").end_time.date(), "D")
            installed = np.isnat(install) | (install <= end)
        seen = reported.get(p)
        files = list(dev_files)
        if seen is None:
            connected = installed
        else:
            connected = installed & np.isin(ids, np.array(sorted(seen), dtype=object))
            if p not in reading_tasks:
                try:
                    reading_tasks[p] = [f for t in catalog_reading_tasks(run.catalog, p) for f in t.paths]
                except CatalogError:
                    reading_tasks[p] = []
            files += reading_tasks[p]
        counts = pd.DataFrame({"bucket": buckets, "connected": connected.astype("float64"),
                               "installed": installed.astype("float64")}).groupby("bucket").sum()
        out.append(_rows("sensor_access_count", name, counts, "connected", "installed", run.areas, p,
                         run.fingerprint(files + run.files(run.admin_name, None)), is_count=True))
    return out


def facility_metrics(catalog, periods=None, *, reported: dict | None = None,
                     areas: Areas | None = None, findings=None) -> pd.DataFrame:
    """``facility_coding_rate``, ``entity_coding_rate`` and ``sensor_access_count`` for each period, by area.

    Parameters
    ----------
    catalog : Catalog or path-like
    periods : iterable of str, optional
        ``YYYY-MM``: the registers' snapshot months (layers without snapshots as they are). Default every snapshot
        period of the registers, or ``current`` when the catalog has none.
    reported : dict, optional
        ``YYYY-MM`` -> set of device ids that reported at least once in the month (``None``: the month's readings
        could not be used), for the months with readings; what an acceptance run has already computed. Default:
        computed here (:func:`reporting_devices`) for the periods that have readings. A month missing from the
        dict, or ``None``, counts the devices of the register (its install dates) only. ``sensor_access_count`` is
        also given for the months of the dict that are not among ``periods`` (up to the last period).
    areas : Areas, optional
        Default the catalog's ``admin_areas`` layer.
    findings : mapping, optional
        ``(entry, period)`` -> the findings (at least the error-severity ones) of that register snapshot, already
        computed in the same run on the same catalog (what :func:`cimlib.metrics.compute_metrics` gives its
        ``findings`` argument; ``period`` None for a catalog without snapshots); the snapshots found there are not
        checked again. Default: every entity dataset is checked here.

    Returns
    -------
    pandas.DataFrame
        :data:`cimlib.metrics.METRICS_COLUMNS`, county and street rows, sorted by period, metric, dataset, level
        and area. ``attrs``: ``problems`` (``(period, dataset, problem)`` of datasets left out) and ``inputs``
        (input file relative to the catalog folder -> sha256).

    Raises
    ------
    cimlib.catalog.CatalogError
        No ``admin_areas`` layer or it cannot be read.
    """
    catalog = _load(catalog)
    run = _make_run(catalog, areas)
    periods = _periods(catalog, periods)
    parts = []
    for period in periods:
        files: dict = {}
        got = _coded_period(run, period, files, findings)
        if got:
            parts += _coding_rows(run, period, pd.concat(got, ignore_index=True), files)
    parts += _access_rows(run, periods, reported)
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True)[METRICS_COLUMNS] if parts else pd.DataFrame(columns=METRICS_COLUMNS)
    out = (out.assign(_l=out["area_level"].map(_ORDER))
           .sort_values(["period", "metric_id", "dataset", "_l", "area_code"], kind="stable")
           .drop(columns="_l").reset_index(drop=True))
    out.attrs["problems"] = list(dict.fromkeys(run.problems))
    out.attrs["inputs"] = {k: v for k, v in sorted(run.sha.items()) if v is not None}
    return out
