"""The sample city as departments deliver it (``cim demo --delivery``): their folders, formats, names and codes.

After the sample city is written, :func:`write_delivery` reads its current state back (the files the catalog
entries point at; registers: the snapshot of the city's last month, ``period=2024-09`` on the reference timeline)
and writes it again under ``OUT/delivery/`` the way
each department sends it, with the truth of every file in ``OUT/truth/delivery.json`` (the true catalog mapping)
and of every free-text address in ``OUT/truth/delivery_addresses.parquet``. It is a pure function of the written
city, so the same ``(seed, scale, city)`` gives the same bytes.

=========================  ===========================================================================================
``市自然资源和规划局/``    ``自然资源数据.gdb`` (Esri File Geodatabase, GDAL OpenFileGDB), layer ``JZW_建筑物``:
                           buildings in the CGCS2000 3° Gauss-Krüger zone **with** zone prefix (EPSG:4513–4554, e.g.
                           4526 for 114°E), pinyin-abbreviation and Chinese field names (``JZWBH``, ``建筑高度``, …)
``市民政局/``              ``行政区划.shp``: admin areas, GBK ``.dbf`` **without** ``.cpg``, field names cut to 10 GBK
                           bytes as an ArcGIS export cuts them (``行政区划代码`` → ``行政区划代``), CGCS2000 6°
                           Gauss-Krüger zone **without** prefix (EPSG:4502–4512, "CM 111E")
``市公安局/``              ``标准地址.csv`` (GBK, ``经度``/``纬度`` in EPSG:4490 at full float precision) and
                           ``实有人口.xlsx`` (title row 某某实有人口登记表（2024年9月，the city's last
                           month）above the header, 性别 coded 1/2,
                           人员类别 coded 户籍/流动, a free-text ``居住地址`` and no standard address id)
``市住房和城乡建设局/``    ``实有房屋.csv`` (GBK, ``|``-separated, keeps ``地址编码`` and a ``房屋地址`` text) and
                           ``道路中心线.geojson`` (EPSG:4490)
``市市场监督管理局/``      ``实有单位.xlsx`` (统一社会信用代码, 单位名称, 法定代表人, a free-text ``经营地址``, no address id)
=========================  ===========================================================================================

Lossless by construction for admin areas, buildings, houses and addresses (every record, every value; code columns
written as text; floats at full precision; nulls kept as nulls), with these faithful substitutions:

- **FileGDB geometry.** An Esri polygon feature class holds polygons and multipolygons alike, and GDAL reads every
  feature of it back as ``MultiPolygon``: a one-part ``Polygon`` of the plain city comes back as a one-part
  ``MultiPolygon`` with the same rings (outer rings clockwise, as Esri stores them). Invalid polygons keep their
  vertex sequence (the injected bow-ties stay invalid); empty geometries are written as empty shapes
  (``OGR_OPENFILEGDB_WRITE_EMPTY_GEOMETRY``), nulls as null shapes. Coordinates are on the File Geodatabase's
  default grid (0.1 mm in Gauss-Krüger metres), so after the transformation back to EPSG:4490 a vertex lies within
  a tenth of a millimetre of the original (not bit-identical). A feature class has one geometry type: a
  non-polygonal geometry in the buildings (none is injected today) would make :func:`write_delivery` raise rather
  than drop or reshape the record. Integers are written as 64-bit fields (``TARGET_ARCGIS_VERSION=
  ARCGIS_PRO_3_2_OR_LATER``; older File Geodatabases hold 32 bits and GDAL would write doubles).
- **Shapefile.** Rings are reoriented as the format requires and read back equal as geometries; coordinates pass
  through the 6° zone and back (nanometre differences). A shapefile polygon does not say whether it was a
  ``Polygon`` or a one-part ``MultiPolygon``: the admin areas of a county whose plain layer holds multipolygons
  (e.g. 420105) read back as ``Polygon`` where they have one part (the format's own limit; both are the type the
  admin layer expects).
- **CSV.** An empty text and a missing value are the same empty cell: the addresses' empty ``parent_id``,
  ``street_code``, ``door_plate`` … of the plain city read back as missing, which every rule treats as empty.
- **Excel** registers (persons, units) are not among the lossless four: they drop the address id (the next issue
  matches their texts) and some optional fields (house, street and community codes) as the departments do. A sheet
  holds at most 1,048,576 rows: a register longer than that (persons at scale ``large``) is delivered as GBK CSV
  with the same columns (``format: csv`` in the truth).

Free-text addresses (``居住地址``, ``经营地址``, ``房屋地址``) are composed from the true standard address in the
forms people write (full, without 省/市/区, without the community, 小区-only, ``8-1-501``, Chinese numerals,
full-width digits, 幢/号楼/座 and 户 variants, remarks, one wrong character, junk); a record without a valid link
gets junk or an address that is not in the library. ``delivery_addresses.parquet`` has ``dataset, record_id,
address_id`` (the true address, null when there is none), ``text`` and ``form``.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import yaml

from cimlib.codes.divisions import MUNICIPALITIES, written_name
from cimlib.demo._timeline import REFERENCE, Timeline
from cimlib.demo._write import FIXED_DATE, write_csv, write_parquet, write_shapefile, zip_date_time
from cimlib.demo._texts import _HOUSE_FORMS, TEXT_TRUTH, _AddressContext, _truth_texts
from cimlib.geo import CGCS2000, gauss_kruger_crs

__all__ = ["write_delivery", "delivery_catalog", "DEPARTMENTS", "gk3_zone_crs", "gk6_cm_crs"]

PERIOD = REFERENCE.end
"""The delivered registers' month on the reference timeline (a city's own: its timeline's ``end``)."""
EXCEL_MAX_ROWS = 1_048_576
DEPARTMENTS = ("市自然资源和规划局", "市民政局", "市公安局", "市住房和城乡建设局", "市市场监督管理局")
"""Delivery folders under ``OUT/delivery/``, one per department."""



# --------------------------------------------------------------------------- CRS


def gk3_zone_crs(lon: float) -> str:
    """CGCS2000 3-degree Gauss-Krüger zone **with** the zone number in front of the easting (EPSG:4513–4533).

    Parameters
    ----------
    lon : float
        Longitude (degrees) inside the zone.

    Returns
    -------
    str
        ``"EPSG:NNNN"``, e.g. ``EPSG:4526`` (zone 38, 114°E) for 113.3°E.
    """
    return gauss_kruger_crs(lon, zone_prefix=True)


def gk6_cm_crs(lon: float) -> str:
    """CGCS2000 6-degree Gauss-Krüger zone **without** zone prefix ("CM nnnE", EPSG:4502–4512).

    Parameters
    ----------
    lon : float
        Longitude (degrees) inside the zone.

    Returns
    -------
    str
        ``"EPSG:NNNN"``, e.g. ``EPSG:4508`` (CM 111°E) for 113.3°E.
    """
    return gauss_kruger_crs(lon, width=6)


# --------------------------------------------------------------------------- entry point


def write_delivery(root: Path, *, seed: int, scale: str, info: dict, timeline: Timeline | None = None) -> dict:
    """Write ``root/delivery/`` and its truth from the sample city already written in ``root``.

    Parameters
    ----------
    root : pathlib.Path
        Sample city folder (``data_catalog.yaml``, ``data/``, ``snapshots/``, ``truth/`` written).
    seed : int
        The city's seed (free-text address forms are drawn from it).
    scale : str
        The city's scale name (recorded in the truth).
    info : dict
        County record of :func:`cimlib.codes.divisions.county` (``code``, ``name``, ``province_name``,
        ``city_name``).
    timeline : Timeline, optional
        The city's months; default: read from the city (its latest ``snapshots/addresses/period=YYYY-MM``).

    Returns
    -------
    dict
        The truth written to ``root/truth/delivery.json``.

    Raises
    ------
    ValueError
        A building geometry that a File Geodatabase polygon feature class cannot hold (not a polygon).
    """
    timeline = timeline or city_timeline(root)
    period, stamp = timeline.end, timeline.date(FIXED_DATE)
    src = _read_city(root, timeline)
    lon = float(shapely.centroid(src["admin_areas"].loc[src["admin_areas"]["level"] == "区"].geometry.union_all()).x)
    rng = np.random.default_rng([seed, 31])
    ctx = _AddressContext(src["addresses"], info)
    files = [
        _buildings(root, src["buildings"], gk3_zone_crs(lon)),
        _admin_areas(root, src["admin_areas"], gk6_cm_crs(lon), stamp),
        _addresses(root, src["addresses"], period),
    ]
    own = _register_texts(root)  # persons and units keep the texts of the plain city (truth/address_texts.parquet)
    texts = []
    entry, t = _persons(root, src["persons"], own, info, src["admin_areas"], period, stamp)
    files.append(entry)
    texts.append(t)
    entry, t = _houses(root, src["houses"], ctx, rng, period)
    files.append(entry)
    texts.append(t)
    files.append(_roads(root, src["roads"]))
    entry, t = _units(root, src["units"], own, rng, info, period, stamp)
    files.append(entry)
    texts.append(t)
    truth = {"city": info["code"], "seed": int(seed), "scale": scale, "files": files}
    tdir = root / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    (tdir / "delivery.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_parquet(pd.concat(texts, ignore_index=True), tdir / "delivery_addresses.parquet")
    return truth


def city_timeline(root: Path) -> Timeline:
    """The timeline of the sample city in ``root``: its last register month (``snapshots/addresses/period=…``)."""
    periods = sorted(p.name.split("=", 1)[1] for p in (Path(root) / "snapshots" / "addresses").glob("period=*"))
    if not periods:
        raise ValueError(f"{root} 中没有样例城市的月度快照（snapshots/addresses/period=YYYY-MM）")
    return Timeline(periods[-1])


def _read_city(root: Path, timeline: Timeline = REFERENCE) -> dict:
    """The current state of the datasets delivered, read back from the files the catalog entries point at."""
    from cimlib.demo import _ENTRIES, entry_path

    def path(name):
        return root / entry_path(name, timeline)

    units_dtype = dict.fromkeys(_ENTRIES["units"][9]["dtype"] + ["unit_id"], str)
    return {
        "admin_areas": pyogrio.read_dataframe(path("admin_areas"), layer="admin_areas"),
        "buildings": gpd.read_parquet(path("buildings")),
        "roads": pyogrio.read_dataframe(path("roads"), layer="roads"),
        "addresses": gpd.read_parquet(path("addresses")),
        "persons": pd.read_parquet(path("persons")),
        "houses": pd.read_parquet(path("houses")),
        "units": pd.read_csv(path("units"), encoding="gbk", dtype=units_dtype),
    }


def _file(path: str, dataset: str, fmt: str, *, layer=None, period=None, crs=None, encoding=None, options=None,
          id_column: str, columns: dict, values=None, unmapped=(), rows: int) -> dict:
    """One ``files`` record of ``delivery.json`` (the keys of the contract, in its order)."""
    return {"path": path, "layer": layer, "format": fmt, "dataset": dataset, "schema": dataset, "period": period,
            "crs": crs, "encoding": encoding, "options": options or {}, "id_column": id_column,
            "columns": {s: f for s, f in columns.items() if f is not None}, "values": values or {},
            "unmapped": [s for s, f in columns.items() if f is None] + list(unmapped), "rows": int(rows)}


def _rename(df: pd.DataFrame, columns: dict, *, lossless: bool = True) -> pd.DataFrame:
    """The frame with the delivered columns in order: source name -> field (``None``: a column made up here).

    With ``lossless`` every column of the plain dataset must be delivered: a field the generator gains later and
    this module does not know is an error here, not a column silently left out.
    """
    fields = {f for f in columns.values() if f is not None}
    left_out = [c for c in df.columns if c not in fields and c not in columns and c != "geometry"]
    if lossless and left_out:
        raise ValueError(f"交付数据遗漏了字段 {left_out}：请在 cimlib/demo/_delivery.py 的字段表中为其指定部门字段名")
    return df.rename(columns={f: s for s, f in columns.items() if f is not None})[list(columns)]


_OPTIONAL_FIELDS = ("grid_code",)
"""Fields delivered only when the plain city has them (北斗网格码: ``cimlib.demo._grid``)."""


def _carried(columns: dict, df: pd.DataFrame, text: list | None = None):
    """The field table without the optional fields the frame does not have (a city written before it had them);
    with ``text``, also that list of text columns restricted to the columns carried."""
    out = {s: f for s, f in columns.items() if f not in _OPTIONAL_FIELDS or f in df.columns}
    return out if text is None else (out, [c for c in text if c in out])


# --------------------------------------------------------------------------- 自规: FileGDB


_BUILDING_COLUMNS = {"BSM": None, "JZWBH": "building_id", "JZWBM": "building_code", "JZWMC": "name", "建筑用途": "use",
                     "层数": "floors", "建筑高度": "height", "建成年代": "year_built", "SZJD": "street_code",
                     "SZSQ": "community_code", "MXJB": "model_level", "LOD": "lod", "北斗网格码": "grid_code",
                     "BZ": None}


def _buildings(root: Path, b: gpd.GeoDataFrame, crs: str) -> dict:
    geom = b.geometry.to_numpy()
    present = ~shapely.is_missing(geom) & ~shapely.is_empty(geom)
    odd = present & ~np.isin(shapely.get_type_id(geom), [3, 6])
    if odd.any():
        raise ValueError(f"建筑物 {b['building_id'].iloc[int(np.flatnonzero(odd)[0])]} 的几何不是面，File Geodatabase 面要素类"
                         "无法原样保存；请扩展 cimlib.demo._delivery 的交付方式")
    out = b.copy()
    out["BSM"] = np.arange(1, len(b) + 1, dtype="int64")
    out["BZ"] = pd.Series([None] * len(b), dtype="str")
    columns = _carried(_BUILDING_COLUMNS, b)
    out = gpd.GeoDataFrame(_rename(out.drop(columns="geometry"), columns), geometry=b.geometry.to_numpy(),
                           crs=b.crs).to_crs(crs)
    rel = "delivery/市自然资源和规划局/自然资源数据.gdb"
    layer = "JZW_建筑物"
    path = root / rel
    if path.exists():  # a File Geodatabase written into would keep the old layer's tables: start afresh
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = ("OPENFILEGDB_REPRODUCIBLE_UUID", "OGR_OPENFILEGDB_WRITE_EMPTY_GEOMETRY")  # same bytes; empties kept
    pyogrio.set_gdal_config_options(dict.fromkeys(config, "YES"))
    try:
        pyogrio.write_dataframe(out, path, layer=layer, driver="OpenFileGDB", geometry_type="MultiPolygon",
                                layer_options={"TARGET_ARCGIS_VERSION": "ARCGIS_PRO_3_2_OR_LATER"})
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(config))
    return _file(rel, "buildings", "filegdb", layer=layer, crs=crs, options={"layer": layer}, id_column="building_id",
                 columns=columns, rows=len(out))


# --------------------------------------------------------------------------- 民政: GBK shapefile, 10-byte names


def _dbf_name(name: str) -> str:
    """A field name as an ArcGIS export to a GBK ``.dbf`` leaves it: at most 10 bytes, never half a character."""
    out = ""
    for ch in name:
        if len((out + ch).encode("gbk")) > 10:
            break
        out += ch
    return out


_ADMIN_COLUMNS = {"行政区划代码": "area_code", "行政区划名称": "name", "区划级别": "level", "上级区划代码": "parent_code",
                  "区划类型": "kind", "智慧社区": "smart_community", "面积（平方公里）": None}


def _admin_areas(root: Path, areas: gpd.GeoDataFrame, crs: str, stamp: str) -> dict:
    proj = areas.to_crs(crs)
    df = areas.drop(columns="geometry").copy()
    df["面积（平方公里）"] = np.round(shapely.area(proj.geometry.to_numpy()) / 1e6, 4)
    df = _rename(df, _ADMIN_COLUMNS)
    short = {c: _dbf_name(c) for c in df.columns}
    gdf = gpd.GeoDataFrame(df.rename(columns=short), geometry=proj.geometry.to_numpy(), crs=crs)
    rel = "delivery/市民政局/行政区划.shp"
    write_shapefile(gdf, root / rel, encoding="GBK", stamp=stamp)
    return _file(rel, "admin_areas", "shapefile", crs=crs, encoding="gbk", options={"encoding": "gbk"},
                 id_column="area_code", columns={short[s]: f for s, f in _ADMIN_COLUMNS.items()}, rows=len(gdf))


# --------------------------------------------------------------------------- 公安: standard addresses (GBK CSV)


_ADDRESS_COLUMNS = {"地址编码": "address_id", "上级地址编码": "parent_id", "要素类型": "element_type", "层级": "level",
                    "地址类型": "address_type", "地址名称": "name", "标准地址": "full_address", "街道代码": "street_code",
                    "社区代码": "community_code", "建筑物编号": "building_id", "门牌号": "door_plate",
                    "区县代码": "county_code", "经度": "lon", "纬度": "lat", "智慧小区": "smart_compound",
                    "北斗网格码": "grid_code", "地址状态": None}
_ADDRESS_TEXT = ["地址编码", "上级地址编码", "要素类型", "地址名称", "标准地址", "街道代码", "社区代码", "建筑物编号", "门牌号", "智慧小区",
                 "区县代码", "北斗网格码"]


def _addresses(root: Path, a: gpd.GeoDataFrame, period: str) -> dict:
    df = pd.DataFrame(a.drop(columns="geometry"))
    g = a.geometry.to_numpy()
    has = ~shapely.is_missing(g) & ~shapely.is_empty(g)
    if not np.array_equal(np.isfinite(df["lon"].to_numpy(dtype=float)), has):
        raise ValueError("标准地址的经纬度列与几何不一致，无法以经度/纬度列交付")
    df["地址状态"] = "有效"
    columns, text = _carried(_ADDRESS_COLUMNS, df, _ADDRESS_TEXT)
    df = _rename(df, columns)
    rel = "delivery/市公安局/标准地址.csv"
    write_csv(df, root / rel, encoding="gbk")
    options = {"encoding": "gbk", "x": "经度", "y": "纬度", "dtype": text}
    return _file(rel, "addresses", "csv", period=period, crs=CGCS2000, encoding="gbk", options=options,
                 id_column="address_id", columns=columns, rows=len(df))


# --------------------------------------------------------------------------- 公安: 实有人口 (Excel, title row)


_PERSON_COLUMNS = {"序号": None, "人员编号": "person_id", "姓名": "name", "性别": "gender", "公民身份号码": "id_number",
                   "出生日期": "birth_date", "联系电话": "phone", "人员类别": "registration", "居住地址": "address_text",
                   "所属街道": None, "所属派出所": None}
_PERSON_VALUES = {"gender": {"1": "男", "2": "女"}, "registration": {"1": "户籍人口", "2": "流动人口"}}


def _persons(root: Path, p: pd.DataFrame, own: pd.DataFrame, info: dict, areas: gpd.GeoDataFrame, period: str,
             stamp: str):
    texts = _own_texts(own, "persons", p["person_id"])
    street = pd.Series(areas["name"].to_numpy(), index=areas["area_code"].to_numpy())
    street = street[~street.index.duplicated()]
    street_name = street.reindex(p["street_code"].to_numpy()).to_numpy(dtype=object)
    df = p.copy()
    df["序号"] = np.arange(1, len(p) + 1, dtype="int64")
    df["gender"] = _code(p["gender"], _PERSON_VALUES["gender"]).astype("int64")
    df["registration"] = _code(p["registration"], _PERSON_VALUES["registration"]).astype("int64")
    df["birth_date"] = pd.to_datetime(p["birth_date"]).dt.date
    df["address_text"] = texts["text"].to_numpy()
    df["所属街道"] = street_name
    df["所属派出所"] = pd.Series(street_name, dtype="str").str.replace(r"(街道|镇|乡)$", "", regex=True) + "派出所"
    df = _rename(df, _PERSON_COLUMNS, lossless=False)  # no address id, house or area codes: as 公安 keeps it
    title = f"{info['name']}实有人口登记表（{period[:4]}年{int(period[5:])}月）"
    rel, fmt, options = _register_file(root, "市公安局/实有人口", df, "实有人口", title,
                                       ["人员编号", "公民身份号码", "联系电话"], stamp)
    entry = _file(rel, "persons", fmt, layer=options.get("sheet"), period=period,
                  encoding="gbk" if fmt == "csv" else None, options=options, id_column="person_id",
                  columns=_PERSON_COLUMNS, values=_PERSON_VALUES, rows=len(df))
    return entry, _truth_texts("persons", p["person_id"], texts)


def _code(values: pd.Series, table: dict) -> pd.Series:
    """Values coded back to the department's codes (``table``: code -> value)."""
    inverse = {v: int(k) for k, v in table.items()}
    return values.map(inverse)


# --------------------------------------------------------------------------- 住建: 实有房屋 (GBK CSV, |)


_HOUSE_COLUMNS = {"房屋编号": "house_id", "房屋代码": "house_code", "不动产单元号": "bdcdyh", "楼栋编号": "building_id",
                  "楼栋编码": "building_code", "所在楼层": "floor", "房号": "room_no", "建筑面积(平方米)": "area_m2",
                  "房屋用途": "use", "街道代码": "street_code", "社区代码": "community_code", "地址编码": "address_id",
                  "房屋地址": "address_text", "北斗网格码": "grid_code", "产权类型": None}
_HOUSE_TEXT = ["房屋编号", "房屋代码", "不动产单元号", "楼栋编号", "楼栋编码", "房号", "街道代码", "社区代码", "地址编码",
               "北斗网格码"]


def _houses(root: Path, h: pd.DataFrame, ctx, rng, period: str):
    texts = ctx.texts(h["address_id"], rng, _HOUSE_FORMS, [], street_code=h["street_code"])
    df = h.copy()
    df["address_text"] = texts["text"].to_numpy()
    df["产权类型"] = np.array(["商品房", "房改房", "自建房", "公租房", "安置房"])[
        rng.choice(5, len(h), p=[0.55, 0.12, 0.2, 0.05, 0.08])]
    columns, text = _carried(_HOUSE_COLUMNS, df, _HOUSE_TEXT)
    df = _rename(df, columns)
    rel = "delivery/市住房和城乡建设局/实有房屋.csv"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, sep="|", encoding="gbk", lineterminator="\n")
    options = {"encoding": "gbk", "sep": "|", "dtype": text}
    entry = _file(rel, "houses", "csv", period=period, encoding="gbk", options=options, id_column="house_id",
                  columns=columns, rows=len(df))
    return entry, _truth_texts("houses", h["house_id"], texts)


# --------------------------------------------------------------------------- 住建: 道路中心线 (GeoJSON)


_ROAD_COLUMNS = {"道路编码": "road_id", "道路名称": "name", "道路等级": "road_class", "红线宽度": "width_m", "管理单位": None}


def _roads(root: Path, r: gpd.GeoDataFrame) -> dict:
    df = pd.DataFrame(r.drop(columns="geometry"))
    df["管理单位"] = "市政设施管理处"
    gdf = gpd.GeoDataFrame(_rename(df, _ROAD_COLUMNS), geometry=r.geometry.to_numpy(), crs=r.crs)
    rel = "delivery/市住房和城乡建设局/道路中心线.geojson"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gdf, path, driver="GeoJSON", layer="道路中心线",
                            layer_options={"WRITE_NAME": "YES"})  # GDAL's default precision round-trips exactly
    return _file(rel, "roads", "geojson", crs=CGCS2000, encoding="utf-8", id_column="road_id", columns=_ROAD_COLUMNS,
                 rows=len(gdf))


# --------------------------------------------------------------------------- 市场监管: 实有单位 (Excel)


_UNIT_COLUMNS = {"主体身份代码": "unit_id", "统一社会信用代码": "uscc", "单位名称": "name", "法定代表人": "legal_rep",
                 "联系电话": "phone", "所属行业": "industry", "从业人数": "employees", "经营地址": "address_text",
                 "登记机关": None, "登记状态": None}


def _units(root: Path, u: pd.DataFrame, own: pd.DataFrame, rng, info: dict, period: str, stamp: str):
    texts = _own_texts(own, "units", u["unit_id"])
    df = u.copy()
    df["employees"] = pd.to_numeric(df["employees"]).astype("int64")
    df["address_text"] = texts["text"].to_numpy()
    # the county's own bureau, named from the city down (随州市曾都区, 仙桃市); a 直辖市 is its own city (重庆市万州区)
    df["登记机关"] = f"{written_name(info, province=str(info['code'])[:2] in MUNICIPALITIES)}市场监督管理局"
    df["登记状态"] = np.array(["存续（在营、开业、在册）", "存续（在营、开业、在册）", "存续（在营、开业、在册）", "迁出"])[
        rng.integers(0, 4, len(u))]
    df = _rename(df, _UNIT_COLUMNS, lossless=False)  # no address id or area codes: as 市场监管 keeps it
    rel, fmt, options = _register_file(root, "市市场监督管理局/实有单位", df, "市场主体", None,
                                       ["主体身份代码", "统一社会信用代码", "联系电话"], stamp)
    entry = _file(rel, "units", fmt, layer=options.get("sheet"), period=period,
                  encoding="gbk" if fmt == "csv" else None, options=options, id_column="unit_id",
                  columns=_UNIT_COLUMNS, rows=len(df))
    return entry, _truth_texts("units", u["unit_id"], texts)


def _register_file(root: Path, stem: str, df: pd.DataFrame, sheet: str, title: str | None, text: list[str],
                   stamp: str = FIXED_DATE):
    """Write a register as Excel (GBK CSV when a sheet cannot hold it); return ``(path, format, options)``."""
    if len(df) + 2 > EXCEL_MAX_ROWS:
        rel = f"delivery/{stem}.csv"
        write_csv(df, root / rel, encoding="gbk")
        return rel, "csv", {"encoding": "gbk", "dtype": text}
    rel = f"delivery/{stem}.xlsx"
    _write_workbook(df, root / rel, sheet, title, stamp)
    options = {"sheet": sheet}
    if title:
        options["header"] = 1
    options["dtype"] = text
    return rel, "xlsx", options


def _write_workbook(df: pd.DataFrame, path: Path, sheet: str, title: str | None, stamp: str = FIXED_DATE) -> None:
    """An Excel workbook as an office exports it (optional merged title row above the header), byte-reproducible."""
    import datetime as dt

    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    if title:
        ws.append([title])
        ws.merged_cells.add(f"A1:{openpyxl.utils.get_column_letter(len(df.columns))}1")
    ws.append([str(c) for c in df.columns])
    cols = []
    for c in df.columns:  # plain Python values: missing -> empty cell
        s = df[c]
        values = s.astype(object).where(s.notna(), None).to_numpy(dtype=object)
        if pd.api.types.is_integer_dtype(s.dtype):
            values = [int(v) for v in s.to_numpy()]
        cols.append(values)
    for row in zip(*cols):
        ws.append(row)
    book.properties.created = book.properties.modified = dt.datetime.fromisoformat(stamp)
    book.properties.creator = book.properties.lastModifiedBy = "cim demo"
    buf = io.BytesIO()
    book.save(buf)
    _fixed_zip(buf.getvalue(), path, stamp)


def _fixed_zip(data: bytes, path: Path, stamp: str = FIXED_DATE) -> None:
    """Rewrite a workbook's zip with fixed member dates and a fixed ``modified`` stamp (as ``_write.write_xlsx``)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            member = zipfile.ZipInfo(info.filename, date_time=zip_date_time(stamp))
            member.compress_type = zipfile.ZIP_DEFLATED
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                modified = rb"\g<1>" + stamp.encode() + rb"T00:00:00Z\2"
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", modified, body)
            dst.writestr(member, body)


# --------------------------------------------------------------------------- free-text addresses


def _register_texts(root: Path) -> pd.DataFrame:
    """The plain city's address texts with their truth (``truth/address_texts.parquet``)."""
    return pd.read_parquet(root / "truth" / TEXT_TRUTH)


def _own_texts(own: pd.DataFrame, dataset: str, ids: pd.Series) -> pd.DataFrame:
    """``address_id, text, form`` of the plain city's texts of ``dataset``, in the order of ``ids``.

    Raises
    ------
    ValueError
        A record without a text in the truth (the city was not written by this version of the generator).
    """
    t = own[own["dataset"] == dataset].set_index("record_id").reindex(ids.astype("str").to_numpy())
    if t["text"].isna().any():
        raise ValueError(f"样例城市的 truth/{TEXT_TRUTH} 缺少 {dataset} 的地址文本：请用 cim demo 重新生成样例城市")
    out = t[["address_id", "text", "form"]].reset_index(drop=True).astype(object)
    return out.where(out.notna(), None)


# --------------------------------------------------------------------------- catalog from the truth


_TITLES = {"admin_areas": ("行政区划（区/街道/社区）", "时空基础", "公开", "每年"),
           "buildings": ("建筑白模", "时空基础", "内部", "季度"),
           "roads": ("道路中心线", "时空基础", "公开", "季度"),
           "addresses": ("标准地址", "公共专题", "内部", "每月"),
           "persons": ("实有人口", "公共专题", "敏感", "每月"),
           "houses": ("实有房屋", "公共专题", "内部", "每月"),
           "units": ("实有单位", "公共专题", "内部", "每月")}


def delivery_catalog(out_dir) -> str:
    """YAML text of the correct data catalog of a delivered sample city, built from ``truth/delivery.json``.

    Paths are relative to ``out_dir``: save the text as ``out_dir/<name>.yaml`` to load it.

    Parameters
    ----------
    out_dir : path-like
        Sample city built with ``cim demo --delivery``.

    Returns
    -------
    str
        Catalog (version 1) with one entry per delivered file: format, path, CRS, ``id_column``, ``columns``,
        ``values`` and ``options`` as the truth records them.
    """
    out_dir = Path(out_dir)
    truth = json.loads((out_dir / "truth" / "delivery.json").read_text(encoding="utf-8"))
    entries = []
    for f in truth["files"]:
        title, layer, cls, cycle = _TITLES[f["dataset"]]
        owner = Path(f["path"]).parts[1]
        e = {"name": f["dataset"], "title_zh": f"{title}（{owner}交付）", "layer": layer, "format": f["format"],
             "path": f["path"]}
        if f["crs"]:
            e["crs"] = f["crs"]
        e.update({"id_column": f["id_column"], "schema": f["schema"], "owner": owner, "classification": cls,
                  "update_cycle": cycle, "columns": f["columns"]})
        if f["values"]:
            e["values"] = f["values"]
        if f["options"]:
            e["options"] = f["options"]
        entries.append(e)
    doc = {"version": 1, "title_zh": f"样例城市部门交付数据（{truth['city']}，seed {truth['seed']}）",
           "city_code": truth["city"], "crs": CGCS2000, "entries": entries}
    head = "# built from truth/delivery.json (cim demo --delivery): the true mapping of every delivered file\n"
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
