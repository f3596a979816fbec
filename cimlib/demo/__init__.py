"""The embedded sample city: a real county with synthetic CIM and 一标三实 data and a record of injected defects.

``build_sample_city`` writes every layer the programme documents name, in the formats departments really deliver
(GeoParquet, GeoPackage, GBK Shapefile, GBK CSV, Excel, GeoTIFF, partitioned Parquet), a ``data_catalog.yaml``
describing them, and ``truth/`` with exactly what was injected, so tests can check that checks and metrics find it.
The 实有人口 and 实有单位 registers carry a free-text ``address_text`` written the ways people write addresses
(:mod:`cimlib.demo._texts`); ``truth/address_texts.parquet`` records the true standard address of every text.
The 工程建设项目 list (``data/projects.parquet``, :mod:`cimlib.demo._projects`) is drawn from its own random stream,
so adding it left every other file of a city unchanged; ``facts.json`` records what its metrics must give.

Every dated thing follows the city's :class:`~cimlib.demo._timeline.Timeline` (:mod:`cimlib.demo._timeline`): by
default the 9 months that cover the most computable deadlines of the programme governing the county
(:func:`~cimlib.demo._timeline.timeline_for`; 2024-01 … 2024-09 for 随州, 2021-04 … 2021-12 for 重庆), or the months
ending at ``until``. The generator draws in the reference frame (2024-01 … 2024-09) and moves the dates, so a city on
the reference timeline is byte-identical to one built before timelines existed.

The ``xlarge`` scale (14 million persons, for the scale benchmark) generates and writes its registers street by
street (:mod:`cimlib.demo._stream`), in bounded memory; it has snapshots of the timeline's 6th and 9th months only
and no readings unless asked for (``readings=True``). ``cim demo`` prints the city's disk use (:func:`disk_use`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from tqdm.auto import tqdm

from cimlib.codes.divisions import county, written_name
from cimlib.demo._admin import build_admin
from cimlib.demo._buildings import build_buildings, fine_model_extent
from cimlib.demo._defects import DEFECT_COLUMNS, Truth
from cimlib.demo._grid import assign_grid_codes, blank_uncoded, grid_facts, grid_static
from cimlib.demo._outline import county_outline
from cimlib.demo._planning import build_control_lines, build_dem, build_roads
from cimlib.demo._projects import build_projects
from cimlib.demo._registers import build_registers, flag_smart_compounds
from cimlib.demo._scale import PERIODS, SCALES, get_scale, snapshot_periods
from cimlib.demo._texts import TEXT_TRUTH, register_texts
from cimlib.demo._timeline import REFERENCE, REFERENCE_END, Timeline, timeline_for
from cimlib.demo._work import build_pipeline, build_tasks
from cimlib.demo._write import (FIXED_DATE, swap_in, write_csv, write_geoparquet, write_geotiff, write_gpkg,
                                write_parquet, write_shapefile, write_xlsx)
from cimlib.geo import CGCS2000, gauss_kruger_crs

__all__ = ["build_sample_city", "DEFAULT_CITY", "SCALES", "PERIODS", "GENERATOR_MARK", "Timeline", "timeline_for",
           "disk_use", "disk_use_lines",
           "entry_path"]

DEFAULT_CITY = "421303"
GENERATOR_MARK = "cim demo"

# name: (title_zh, layer, format, path, id_column, schema, owner, classification, update_cycle, options)
_ENTRIES = {
    "admin_areas": ("行政区划（区/街道/社区）", "时空基础", "gpkg", "data/admin.gpkg", "area_code", "admin_areas",
                    "市民政局", "公开", "每年", {"layer": "admin_areas"}),
    "central_area": ("中心城区范围", "时空基础", "gpkg", "data/admin.gpkg", "area_code", "central_area",
                     "市自然资源和规划局", "公开", "每年", {"layer": "central_area"}),
    "demo_zone": ("CIM示范区范围", "时空基础", "gpkg", "data/admin.gpkg", "area_code", "demo_zone",
                  "市自然资源和规划局", "公开", "每年", {"layer": "demo_zone"}),
    "control_lines": ("城市控制线", "规划管控", "shapefile", "data/control_lines/control_lines.shp", "line_id",
                      "control_lines", "市自然资源和规划局", "内部", "不定期", {}),
    "dem": ("数字高程模型", "时空基础", "geotiff", "data/dem.tif", None, "dem", "市自然资源和规划局", "内部", "每年", {}),
    "buildings": ("建筑白模", "时空基础", "geoparquet", "data/buildings.parquet", "building_id", "buildings",
                  "市自然资源和规划局", "内部", "季度", {}),
    "white_model_extent": ("白模生产范围（按批次）", "时空基础", "geoparquet", "data/white_model_extent.parquet", "extent_id",
                           "white_model_extent", "市自然资源和规划局", "内部", "季度", {}),
    "fine_model_extent": ("精模生产范围", "时空基础", "geoparquet", "data/fine_model_extent.parquet", "extent_id",
                          "fine_model_extent", "市自然资源和规划局", "内部", "季度", {}),
    "roads": ("道路中心线", "时空基础", "gpkg", "data/roads.gpkg", "road_id", "roads", "市住房和城乡建设局", "公开",
              "季度", {"layer": "roads"}),
    "addresses": ("标准地址", "公共专题", "geoparquet", "snapshots/addresses/period=2024-09/part-0.parquet",
                  "address_id", "addresses", "市公安局", "内部", "每月", {}),
    "persons": ("实有人口", "公共专题", "parquet", "snapshots/persons/period=2024-09/part-0.parquet", "person_id",
                "persons", "市公安局", "敏感", "每月", {}),
    "houses": ("实有房屋", "公共专题", "parquet", "snapshots/houses/period=2024-09/part-0.parquet", "house_id",
               "houses", "市住房和城乡建设局", "内部", "每月", {}),
    "units": ("实有单位", "公共专题", "csv", "snapshots/units/period=2024-09/part-0.csv", "unit_id", "units",
              "市市场监督管理局", "内部", "每月", {"dtype": ["uscc", "phone", "street_code", "community_code", "address_id"]}),
    "devices": ("物联感知设备", "物联感知", "csv", "data/devices.csv", "device_id", "devices", "市城市管理执法局",
                "内部", "每日", {"x": "lon", "y": "lat", "dtype": ["street_code", "road_id"]}),
    "readings": ("物联感知监测数据", "物联感知", "parquet", "data/readings", "device_id", "readings",
                 "市城市管理执法局", "内部", "实时", {}),
    "address_pipeline": ("增量地址生产流程记录", "公共专题", "parquet", "data/address_pipeline.parquet", "step_id",
                         "address_pipeline", "市民政局", "内部", "每日", {}),
    "tasks": ("工作任务清单", "工程建设项目", "xlsx", "data/tasks.xlsx", "task_id", "tasks", "市政务服务和大数据管理局",
              "内部", "每月", {"sheet": "任务清单"}),
    "projects": ("工程建设项目", "公共专题", "geoparquet", "data/projects.parquet", "project_id", "projects",
                 "市住房和城乡建设局", "内部", "每月", {}),
}
_SNAPSHOTTED = ("addresses", "persons", "houses", "units")
_SPATIAL = {"gpkg", "shapefile", "geoparquet", "geotiff"}


def entry_path(name: str, timeline: Timeline = REFERENCE) -> str:
    """The ``path`` of catalog entry ``name`` in a city on ``timeline`` (a register's: its last month's snapshot;
    :data:`_ENTRIES` holds the reference timeline's)."""
    path = _ENTRIES[name][3]
    if name in _SNAPSHOTTED:
        path = path.replace(f"period={REFERENCE_END}/", f"period={timeline.end}/")
    return path


def build_sample_city(out, *, seed: int = 7, scale: str = "small", city: str = DEFAULT_CITY, progress: bool = True,
                      delivery: bool = False, until: str | None = None, readings: bool | None = None,
                      _chunk_streets: int | None | bool = False) -> Path:
    """Build the sample city into ``out`` and return the path of its ``data_catalog.yaml``.

    The output is a pure function of ``(seed, scale, city, until)`` (``until`` defaulting as below, from the
    programme files): the same arguments give byte-identical folders.

    Parameters
    ----------
    out : path-like
        Output folder; replaced as a whole (built beside it, then renamed in). An existing folder that is not an
        earlier sample city is refused rather than overwritten.
    seed : int, default 7
    scale : {"small", "medium", "large", "xlarge"}, default "small"
        ``small`` for tests (seconds), ``medium`` a tenth of ``large``, ``large`` a city of 2 million people,
        ``xlarge`` one of 14 million for the scale benchmark: its registers are generated and written street by
        street in bounded memory (:mod:`cimlib.demo._stream`), snapshots of the timeline's 6th and 9th months only
        (2024-06 and 2024-09 for 421303), no readings by default.
    city : str, default "421303"
        Six-digit county-level division code (GB/T 2260) of any county in the packaged reference table.
    progress : bool, default True
        Show a progress bar.
    delivery : bool, default False
        Also write the city as the departments deliver it (``OUT/delivery/``, truth in ``OUT/truth/delivery.json``
        and ``OUT/truth/delivery_addresses.parquet``; see :mod:`cimlib.demo._delivery`).
    until : str, optional
        ``YYYY-MM``, the registers' last month (9 monthly snapshots end there; the readings are of that month; every
        other date moves with it). Default :func:`~cimlib.demo._timeline.timeline_for` of ``city``: the 9 months
        covering the most computable deadlines of the programme that governs it (2024-09 for 421303).
    readings : bool, optional
        Write the sensor readings (``data/readings``, its catalog entry and sensor truth). Default: yes, except for
        ``xlarge``. Without them the catalog has no ``readings`` entry.
    _chunk_streets : int or None, optional
        Private, for tests: generate the registers street by street as ``xlarge`` does, whatever the scale, writing
        this many streets per chunk (None: each file at once, the in-memory path). Default: ``xlarge`` streams one
        street per chunk, the other scales are generated whole.

    Returns
    -------
    pathlib.Path
        ``out/data_catalog.yaml``.

    Raises
    ------
    ValueError
        Unknown scale or division code, a malformed ``until``, ``delivery`` with a streamed city, or ``out`` holds
        something else.
    """
    sc = get_scale(scale)
    if _chunk_streets is False:
        _chunk_streets = 1 if sc.streamed else False
    if _chunk_streets is not False and delivery:
        raise ValueError(f"规模 {sc.name} 按街道流式生成，不支持 --delivery")
    readings = sc.readings if readings is None else bool(readings)
    info = county(city)
    timeline = timeline_for(info["code"]) if until is None else Timeline(until)
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()):
        cat = out / "data_catalog.yaml"
        if not cat.exists() or GENERATOR_MARK not in cat.read_text(encoding="utf-8").split("\n", 3)[0]:
            raise ValueError(f"输出目录 {out} 非空且不是 `cim demo` 生成的样例城市，拒绝覆盖")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        _build(tmp, seed, sc, info, progress, delivery, timeline, readings, _chunk_streets)
        swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "data_catalog.yaml"


def _rng(seed: int, part: int) -> np.random.Generator:
    return np.random.default_rng([seed, part])


def _build(root: Path, seed: int, sc, info: dict, progress: bool, delivery: bool = False,
           timeline: Timeline = REFERENCE, readings: bool = True, chunk_streets: int | None | bool = False) -> None:
    from cimlib.demo import _sensors

    streamed = chunk_streets is not False

    steps = ["边界与行政区划", "建筑白模", "道路与控制线", "数字高程模型", "标准地址与一标三实", "地址生产流程与任务",
             "物联感知设备", "物联感知监测数据", "工程建设项目",
             "写出数据与目录"]
    bar = tqdm(total=len(steps), desc=f"样例城市 {info['name']} ({sc.name})", unit="步", disable=not progress)
    truth = Truth()

    def step(i):
        bar.set_postfix_str(steps[i])

    step(0)
    outline = county_outline(info["code"])
    # short edges (about 20 m) before projecting: a straight edge in lon/lat and in Gauss-Krüger then coincide,
    # so what is clipped in one stays inside the other
    xmin, ymin, xmax, ymax = outline.geometry.bounds
    boundary = shapely.segmentize(outline.geometry, max(0.0002, (xmax - xmin + ymax - ymin) / 20_000))
    crs = gauss_kruger_crs(shapely.centroid(boundary).x)
    outline_proj = gpd.GeoSeries([boundary], crs=CGCS2000).to_crs(crs).iloc[0]
    admin = build_admin(_rng(seed, 1), info, outline_proj, crs, sc.communities_per_street)
    bar.update()

    step(1)
    fine = fine_model_extent(_rng(seed, 2), admin)
    buildings = build_buildings(_rng(seed, 3), admin, sc.buildings, info["code"], fine, truth, timeline,
                                first_year=sc.first_year, min_cell=sc.min_cell, max_cells=sc.max_cells,
                                pairs_in_street=streamed)
    bar.update()

    step(2)
    roads = build_roads(_rng(seed, 4), admin, info["code"])
    lines = build_control_lines(_rng(seed, 5), admin, roads, info["code"], timeline)
    bar.update()

    step(3)
    dem = build_dem(_rng(seed, 6), boundary, sc.dem_step_deg, truth)
    bar.update()

    step(4)
    if not streamed:  # a streamed city's registers are generated street by street while they are written
        reg = build_registers(_rng(seed, 7), admin, buildings, info, sc.addresses, sc.houses, sc.persons, sc.units,
                              truth, timeline)
        _unmapped_truth(reg, truth)
        texts = register_texts(_rng(seed, 12), reg.addresses, info, {"persons": reg.persons, "units": reg.units},
                               reg.true_address)
        reg.addresses.insert(reg.addresses.columns.get_loc("geometry"), "smart_compound",
                             flag_smart_compounds(_rng(seed, 13), reg.addresses))
        for name in ("persons", "units"):
            getattr(reg, name)["address_text"] = texts.loc[texts["dataset"] == name, "text"].to_numpy(dtype=object)
    bar.update()

    step(5)
    if not streamed:
        pipeline = build_pipeline(_rng(seed, 8), reg.addresses, truth, timeline.periods[0])
    tasks = build_tasks(_rng(seed, 9), info["code"], timeline)
    bar.update()

    step(6)
    areas_ll = _to_ll(admin.areas)  # the county is its outline; every street and community is cut by it
    areas_ll["geometry"] = shapely.intersection(areas_ll.geometry.to_numpy(), boundary)
    areas_ll.loc[areas_ll["level"] == "区", "geometry"] = boundary
    streets_ll = areas_ll[areas_ll["level"] == "街道"].rename(columns={})
    roads_ll = _to_ll(roads)
    roads_ll["geometry"] = shapely.intersection(roads_ll.geometry.to_numpy(), boundary)
    roads_ll = roads_ll[~roads_ll.geometry.is_empty & (roads_ll.geometry.geom_type == "LineString")].reset_index(drop=True)
    devices = _sensors.make_devices(_rng(seed, 10), roads_ll, streets_ll[["area_code", "name", "geometry"]], sc.devices,
                                    info["code"], crs, timeline)
    bar.update()

    step(7)
    if readings:
        days = pd.Period(timeline.sensor_period, freq="M").days_in_month
        with tqdm(total=days, desc="  监测数据（按日）", unit="天", leave=False, disable=not progress) as day_bar:
            sensor_defects, events, health = _sensors.write_readings(devices, root / "data" / "readings", seed=seed,
                                                                     period=timeline.sensor_period, progress=day_bar)
        truth.extend(sensor_defects)
    bar.update()

    step(8)
    projects, project_facts = build_projects(_rng(seed, 14), areas_ll, info, sc.projects, truth, timeline)
    bar.update()

    if streamed:  # 北斗网格码: the buildings' and devices' now, the registers' street by street
        static = grid_static(_rng(seed, 15), buildings, devices, truth)
    else:
        grid_by_period = assign_grid_codes(_rng(seed, 15), buildings, reg, devices, truth, timeline.periods)
    step(9)
    data = root / "data"
    stamp = timeline.date(FIXED_DATE)  # the date formats store (GeoPackage, .dbf header, Excel): the last day
    write_gpkg(areas_ll, data / "admin.gpkg", "admin_areas", stamp)
    central = gpd.GeoDataFrame({"area_code": [info["code"] + "-CA"], "name": [f"{info['name']}中心城区"]},
                               geometry=[shapely.intersection(_to_ll(gpd.GeoSeries([admin.central_area], crs=crs)).iloc[0],
                                                              boundary)], crs=CGCS2000)
    write_gpkg(central, data / "admin.gpkg", "central_area", stamp)
    zone = gpd.GeoDataFrame({"area_code": [info["code"] + "-DZ"], "name": [f"{info['name']}CIM示范区"]},
                            geometry=[shapely.intersection(_to_ll(gpd.GeoSeries([demo_zone(admin)], crs=crs)).iloc[0],
                                                           boundary)], crs=CGCS2000)
    write_gpkg(zone, data / "admin.gpkg", "demo_zone", stamp)
    write_shapefile(_clip_inside(_to_ll(lines), boundary), data / "control_lines" / "control_lines.shp", stamp=stamp)
    write_geotiff(dem, data / "dem.tif", CGCS2000, -9999.0)
    write_geoparquet(_clip_inside(_to_ll(buildings, densify=None), boundary), data / "buildings.parquet")
    fine_ll = gpd.GeoDataFrame({"extent_id": [f"{info['code']}-FM1"], "model_level": ["精模"], "produced_by": [timeline.end]},
                               geometry=[shapely.intersection(_to_ll(gpd.GeoSeries([fine], crs=crs)).iloc[0], boundary)],
                               crs=CGCS2000)
    write_geoparquet(fine_ll, data / "fine_model_extent.parquet")
    white = _white_model_batches(_rng(seed, 11), areas_ll, admin, timeline)
    write_geoparquet(white, data / "white_model_extent.parquet")
    write_gpkg(roads_ll, data / "roads.gpkg", "roads", stamp)
    dev = devices.drop(columns="geometry")
    write_csv(pd.DataFrame(dev), data / "devices.csv")
    if not streamed:
        write_parquet(pipeline, data / "address_pipeline.parquet")
    write_xlsx(tasks, data / "tasks.xlsx", "任务清单", stamp)
    write_geoparquet(projects, data / "projects.parquet")
    snap_periods = snapshot_periods(sc, timeline.periods)
    tdir = root / "truth"
    if streamed:
        from cimlib.demo._stream import write_streamed_registers

        reg_facts = write_streamed_registers(root, seed, admin, buildings, info, sc, truth, static, timeline,
                                             snap_periods, chunk_streets, progress)
        grid_by_period = grid_facts(static, reg_facts.pop("grid"), timeline.periods)
    else:
        _write_snapshots(root, reg, timeline)
        reg_facts = _register_facts(reg, timeline.periods)
        tdir.mkdir()
        write_parquet(reg.lifecycle, tdir / "lifecycle.parquet")
        write_parquet(texts, tdir / TEXT_TRUTH)

    defects = truth.frame()
    write_csv(defects[DEFECT_COLUMNS], tdir / "defects.csv")
    if readings:
        write_csv(events, tdir / "sensor_events.csv")
        write_parquet(health, tdir / "sensor_health.parquet")
    facts = _facts(seed, sc, info, outline, admin, fine, dem, buildings, reg_facts, devices, defects, timeline,
                   snap_periods)
    facts["white_model_produced_by"] = dict(zip(white["area_code"], white["produced_by"]))
    facts["counts"]["projects"] = len(projects)
    facts["projects"] = project_facts
    facts["beidou_grid_by_period"] = {p: grid_by_period[p] for p in snap_periods}
    (tdir / "facts.json").write_text(json.dumps(facts, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _write_catalog(root, info, seed, sc.name, timeline, snap_periods, readings)
    if delivery:
        from cimlib.demo._delivery import write_delivery

        write_delivery(root, seed=seed, scale=sc.name, info=info, timeline=timeline)
    bar.update()
    bar.close()


def demo_zone(admin) -> shapely.Geometry:
    """The CIM示范区 (a 泰州 plan's 示范区 for fine models): the central urban area within 0.8 of its equivalent
    radius of the city centre, projected; the fine model (whose core reaches 0.5) covers part of it."""
    central = admin.central_area
    r = float(np.sqrt(central.area / np.pi))
    return shapely.intersection(shapely.Point(admin.center).buffer(0.8 * r, quad_segs=32), central)


def _white_model_batches(rng: np.random.Generator, areas_ll: gpd.GeoDataFrame, admin, timeline: Timeline = REFERENCE
                         ) -> gpd.GeoDataFrame:
    """The white model's production extent: one polygon per community, delivered in monthly batches.

    Communities nearest the centre come first (the first month, 2024-01 on the reference timeline); the last few
    rural ones arrive in the seventh (2024-07), after 随州's 2024-06-30 deadline for 全市域白模, so the coverage
    series has something to show.
    """
    comm = areas_ll[areas_ll["level"] == "社区"].reset_index(drop=True)
    proj = admin.level("社区").set_index("area_code").reindex(comm["area_code"])
    c = shapely.centroid(proj.geometry.to_numpy())
    dist = np.hypot(shapely.get_x(c) - admin.center[0], shapely.get_y(c) - admin.center[1])
    rank = np.argsort(np.argsort(dist + rng.uniform(0, 0.15 * admin.radius, len(comm)), kind="stable"), kind="stable")
    share = (rank + 0.5) / max(len(comm), 1)
    batch = np.searchsorted([0.25, 0.5, 0.7, 0.85, 0.93, 0.97, 1.0], share, side="right")  # months 1 .. 7
    produced = np.array([timeline.periods[min(b, 6)] for b in batch])
    return gpd.GeoDataFrame({"extent_id": [f"{a}-WM" for a in comm["area_code"]], "area_code": comm["area_code"].to_numpy(),
                             "model_level": "白模", "batch": (batch + 1).astype("int64"), "produced_by": produced},
                            geometry=comm.geometry.to_numpy(), crs=CGCS2000)


def _to_ll(gdf, densify: float | None = 25.0):
    """Unproject to CGCS2000 lon/lat, densifying edges first (every 25 m) so that long straight edges and the
    T-junctions on them stay together: a partition stays a partition, to well under a square metre."""
    out = gdf.copy() if isinstance(gdf, gpd.GeoDataFrame) else gpd.GeoSeries(gdf)
    geom = out.geometry.to_numpy()
    polys = np.isin(shapely.get_type_id(geom), [3, 6])
    if densify and polys.any():
        geom = geom.copy()
        geom[polys] = shapely.segmentize(geom[polys], densify)
        out = out.set_geometry(geom) if isinstance(out, gpd.GeoDataFrame) else gpd.GeoSeries(geom, crs=out.crs)
    return out.to_crs(CGCS2000)


def _clip_inside(gdf: gpd.GeoDataFrame, outline) -> gpd.GeoDataFrame:
    """Make sure every geometry lies inside the outline after unprojection (float round-off at the border)."""
    geoms = gdf.geometry.to_numpy()
    ok = shapely.is_valid(geoms)
    fix = ok & ~shapely.covered_by(geoms, outline) & ~shapely.is_empty(geoms)
    if fix.any():
        geoms = geoms.copy()
        geoms[fix] = shapely.intersection(geoms[fix], outline)
    out = gdf.copy()
    out["geometry"] = geoms
    return out


def _unmapped_truth(reg, truth: Truth) -> None:
    """Records still not mapped/linked/coded at the last period fail a rule too: record them as defects."""
    never = {"persons": "person_no_address", "units": "unit_no_address", "houses": "missing_code"}
    for name, defect in never.items():
        df = getattr(reg, name)
        id_col = {"persons": "person_id", "units": "unit_id", "houses": "house_id"}[name]
        truth.add(name, df.loc[df["mapped_period"] == "", id_col].to_numpy(), defect)


def _snapshot(df: pd.DataFrame, period: str, blank: dict) -> pd.DataFrame:
    cur = df[df["entry_period"] <= period].copy()
    unmapped = (cur["mapped_period"] == "") | (cur["mapped_period"] > period)
    for col, value in blank.items():
        cur.loc[unmapped.to_numpy(), col] = value
    if "grid_period" in cur:  # a 北斗网格码 appears from its own month on (cimlib.demo._grid)
        cur = blank_uncoded(cur, period)
    return cur.drop(columns=["entry_period", "mapped_period"]).reset_index(drop=True)


def _write_snapshots(root: Path, reg, timeline: Timeline = REFERENCE) -> None:
    addr = reg.addresses
    lonlat = addr.geometry.to_crs(CGCS2000)
    addr = addr.to_crs(CGCS2000)
    addr.insert(len(addr.columns) - 1, "lon", shapely.get_x(lonlat.to_numpy()))
    addr.insert(len(addr.columns) - 1, "lat", shapely.get_y(lonlat.to_numpy()))
    for period in timeline.periods:
        d = root / "snapshots"
        a = _snapshot(addr, period, {"geometry": None, "lon": np.nan, "lat": np.nan})
        write_geoparquet(gpd.GeoDataFrame(a, geometry="geometry", crs=CGCS2000), d / "addresses" / f"period={period}" / "part-0.parquet")
        write_parquet(_snapshot(reg.persons, period, {"address_id": None}), d / "persons" / f"period={period}" / "part-0.parquet")
        write_parquet(_snapshot(reg.houses, period, {"house_code": None}), d / "houses" / f"period={period}" / "part-0.parquet")
        write_csv(_snapshot(reg.units, period, {"address_id": None}), d / "units" / f"period={period}" / "part-0.csv",
                  encoding="gbk")


def _register_facts(reg, periods) -> dict:
    """The registers' part of ``facts.json`` (:func:`_facts`): counts, 智慧小区 and 院落 by month."""
    a = reg.addresses
    return {"counts": {"addresses": len(a), "persons": len(reg.persons), "houses": len(reg.houses),
                       "units": len(reg.units)},
            "smart_compounds_by_period": {p: int(((a["smart_compound"] == "是") & (a["entry_period"] <= p)).sum())
                                          for p in periods},
            "compounds_by_period": {p: int(((a["address_type"] == "院落") & (a["entry_period"] <= p)).sum())
                                    for p in periods}}


def _facts(seed, sc, info, outline, admin, fine, dem, buildings, reg_facts, devices, defects,
           timeline: Timeline = REFERENCE, periods=None) -> dict:
    periods = timeline.periods if periods is None else tuple(periods)
    central = admin.central_area
    county_shape = shapely.union_all(admin.level("社区").geometry.to_numpy())  # the communities tile the county
    return {
        "generator": GENERATOR_MARK, "seed": seed, "scale": sc.name, "city": info,
        "outline_source": outline.source, "outline_exact": outline.exact,
        "projected_crs": str(admin.areas.crs.to_string()),
        "counts": {"buildings": len(buildings), **reg_facts["counts"], "devices": len(devices),
                   "streets": int((admin.areas["level"] == "街道").sum()),
                   "communities": int((admin.areas["level"] == "社区").sum())},
        "defects": {f"{k[0]}/{k[1]}": int(v) for k, v in
                    defects.drop_duplicates(["dataset", "record_id", "defect"]).groupby(["dataset", "defect"]).size().items()},
        "fine_model_coverage_of_central_area": round(float(shapely.intersection(fine, central).area / central.area), 6),
        "fine_model_coverage_of_demo_zone": round(float(shapely.intersection(fine, demo_zone(admin)).area
                                                        / demo_zone(admin).area), 6),
        "fine_model_coverage_of_county": round(float(shapely.intersection(fine, county_shape).area / county_shape.area), 6),
        "smart_compounds_by_period": {p: reg_facts["smart_compounds_by_period"][p] for p in periods},
        "compounds_by_period": {p: reg_facts["compounds_by_period"][p] for p in periods},
        "dem_nodata_share_inside": round(float(dem.attrs["_nodata_share_inside"]), 6),
        "periods": list(periods), "sensor_period": timeline.sensor_period,
        "timeline": {"end": timeline.end, "offset_months": timeline.offset},
    }


def _write_catalog(root: Path, info: dict, seed: int, scale: str, timeline: Timeline = REFERENCE,
                   periods: tuple | None = None, readings: bool = True) -> None:
    periods = timeline.periods if periods is None else periods
    entries = []
    for name, (title, layer, fmt, _, id_col, schema, owner, cls, cycle, options) in _ENTRIES.items():
        if name == "readings" and not readings:  # none were written: no entry pointing at a missing folder
            continue
        e = {"name": name, "title_zh": title, "layer": layer, "format": fmt, "path": entry_path(name, timeline)}
        if fmt in _SPATIAL or "x" in options:
            e["crs"] = CGCS2000
        if id_col:
            e["id_column"] = id_col
        e.update({"schema": schema, "owner": owner, "classification": cls, "update_cycle": cycle})
        if options:
            e["options"] = options
        if name in _SNAPSHOTTED:
            e["snapshots"] = {"path": f"snapshots/{name}", "periods": list(periods)}
        entries.append(e)
    doc = {"version": 1, "title_zh": f"{written_name(info)} CIM 样例城市",
           "city_code": info["code"], "crs": CGCS2000, "entries": entries}
    # the header is the command that rebuilds the city: --until whenever the months are not the reference ones
    until = f" --until {timeline.end}" if timeline.end != REFERENCE_END else ""
    until += "" if readings == get_scale(scale).readings else (" --readings" if readings else " --no-readings")
    head = (f"# {GENERATOR_MARK} --seed {seed} --scale {scale} --city {info['code']}{until}: generated sample city, "
            "do not edit\n")
    text = head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
    (root / "data_catalog.yaml").write_text(text, encoding="utf-8")


def disk_use(root) -> dict:
    """Bytes on disk of a sample city: ``{"total": n, folder or file: n, ...}`` for each top-level entry."""
    root = Path(root)
    out = {}
    for entry in sorted(root.iterdir()):
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        out[entry.name] = sum(p.stat().st_size for p in files)
    return {"total": sum(out.values()), **out}


def disk_use_lines(root) -> list[str]:
    """``磁盘占用：…`` and one line per top-level folder (largest first), for ``cim demo`` to print."""
    use = disk_use(root)
    total = use.pop("total")
    lines = [f"磁盘占用：{_size(total)}（{root}）"]
    for name, n in sorted(use.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {name + ('/' if (Path(root) / name).is_dir() else ''):<20} {_size(n):>10}")
    return lines


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"
